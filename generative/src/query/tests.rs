//! Unit tests of `query`.

use super::*;

fn row(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn the_reference_reads_the_documented_operators() {
    let r = row(json!({"n": 2, "arr": [1, 3], "s": "aB.", "o": {"x": 1},
        "d": date(DATE_BASE_MS), "p": pointer(TARGET, TARGET_IDS[0]),
        "createdAt": "2020-09-13T12:26:40.000Z", "objectId": "x"}));
    assert!(matches(
        &r,
        &json!({"arr": 3, "n": {"$gte": 2, "$lt": 2.5}})
    ));
    assert!(matches(&r, &json!({"missing": null, "n": {"$ne": null}})));
    assert!(matches(&r, &json!({"o.x": 1, "o.y": {"$exists": false}})));
    assert!(matches(&r, &json!({"s": {"$regex": "^\\QaB.\\E"}})));
    assert!(matches(
        &r,
        &json!({"s": {"$regex": "b\\.$", "$options": "i"}})
    ));
    assert!(!matches(&r, &json!({"s": {"$regex": "b\\.$"}})));
    assert!(matches(
        &r,
        &json!({"d": date(DATE_BASE_MS), "p": pointer(TARGET, TARGET_IDS[0])})
    ));
    assert!(!matches(&r, &json!({"p": pointer("Other", TARGET_IDS[0])})));
    assert!(matches(
        &r,
        &json!({"createdAt": {"$lt": date(DATE_BASE_MS + 1)}})
    ));
    assert!(matches(
        &r,
        &json!([{"arr": {"$all": [1, 3], "$size": 2}}, {"$or": [{"n": 9}, {"b": {"$nin": [true]}}]}])
    ));
}

#[test]
fn order_ranks_types_and_keeps_creation_order_on_ties() {
    let rows: Vec<_> = [
        json!({"m": "a"}),
        json!({}),
        json!({"m": 1}),
        json!({"m": true}),
        json!({"m": 1.0}),
    ]
    .into_iter()
    .map(row)
    .collect();
    let all = json!({});
    let asc = find(&rows, &all, &[("m".into(), false)], Limit::Absent, None);
    assert_eq!(asc.rows, vec![1, 2, 4, 0, 3]);
    let desc = find(&rows, &all, &[("m".into(), true)], Limit::Given(2), Some(1));
    assert_eq!((desc.rows, desc.count), (vec![0, 2], 5));
}
