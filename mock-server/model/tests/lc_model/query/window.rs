//! order, limit, skip and count, and how query parameters parse.

use super::*;

// ---- order ----------------------------------------------------------------------------

#[test]
fn order_by_several_keys_each_with_its_direction() {
    let mut s = store();
    put(&mut s, "T", 1, json!({"a": 1, "b": "x"}));
    put(&mut s, "T", 2, json!({"a": 2, "b": "y"}));
    put(&mut s, "T", 3, json!({"a": 1, "b": "z"}));
    put(&mut s, "T", 4, json!({"a": 2, "b": "x"}));
    assert_eq!(ids(&s, "T", &[("order", "a,-b")]), these(&[3, 1, 2, 4]));
    assert_eq!(ids(&s, "T", &[("order", "-a,b")]), these(&[4, 2, 1, 3]));
    assert_eq!(ids(&s, "T", &[("order", "b, a")]), these(&[1, 4, 2, 3]));
    assert_eq!(
        ids(&s, "T", &[("order", "-createdAt")]),
        these(&[4, 3, 2, 1])
    );
    assert_eq!(
        ids(&s, "T", &[("order", "-objectId")]),
        these(&[4, 3, 2, 1])
    );
}

#[test]
fn equal_sort_keys_keep_creation_order() {
    let mut s = store();
    for n in 1..=6 {
        put(&mut s, "T", n, json!({"g": n % 2}));
    }
    assert_eq!(ids(&s, "T", &[("order", "g")]), these(&[2, 4, 6, 1, 3, 5]));
    assert_eq!(ids(&s, "T", &[("order", "-g")]), these(&[1, 3, 5, 2, 4, 6]));
}

#[test]
fn missing_values_sort_first_ascending_and_mixed_types_have_a_fixed_order() {
    let mut s = store();
    put(&mut s, "T", 1, json!({"v": "b"}));
    put(&mut s, "T", 2, json!({"v": 3}));
    put(&mut s, "T", 3, json!({}));
    put(&mut s, "T", 4, json!({"v": true}));
    put(
        &mut s,
        "T",
        5,
        json!({"v": {"__type": "Date", "iso": "2020-01-01T00:00:00.000Z"}}),
    );
    put(&mut s, "T", 6, json!({"v": [1]}));
    put(&mut s, "T", 7, json!({"v": {"k": 1}}));
    put(&mut s, "T", 8, json!({"v": null}));
    put(&mut s, "T", 9, json!({"v": -1.5}));
    put(&mut s, "T", 10, json!({"v": "a"}));
    let asc = these(&[3, 8, 9, 2, 10, 1, 7, 6, 4, 5]);
    assert_eq!(ids(&s, "T", &[("order", "v")]), asc);
    assert_eq!(
        ids(&s, "T", &[("order", "-v")]),
        these(&[5, 4, 6, 7, 1, 10, 2, 9, 3, 8])
    );
}

#[test]
fn order_by_a_dotted_path() {
    let mut s = store();
    put(&mut s, "T", 1, json!({"o": {"k": 2}}));
    put(&mut s, "T", 2, json!({"o": {"k": 1}}));
    assert_eq!(ids(&s, "T", &[("order", "o.k")]), these(&[2, 1]));
}

#[test]
fn partial_selection_returns_the_same_window_as_a_full_sort() {
    let mut s = store();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for n in 1..=2000 {
        let a = next() % 50;
        let b = next() % 7;
        put(&mut s, "T", n, json!({"a": a, "b": b}));
    }
    let data = &s.classes["T"].objects;
    let mut expected: Vec<&StoredObject> = data
        .values()
        .filter(|o| o.to_map()["b"] != json!(0))
        .collect();
    expected.sort_by(|x, y| {
        let k = |o: &StoredObject, f: &str| o.to_map()[f].as_u64().unwrap();
        k(y, "a")
            .cmp(&k(x, "a"))
            .then(k(x, "b").cmp(&k(y, "b")))
            .then(x.id.cmp(&y.id))
    });
    for (skip, limit) in [
        (0, 1),
        (0, 100),
        (37, 250),
        (1500, 1000),
        (1700, 10),
        (0, 1000),
    ] {
        let got = ids(
            &s,
            "T",
            &[
                ("where", r#"{"b":{"$ne":0}}"#),
                ("order", "-a,b"),
                ("skip", &skip.to_string()),
                ("limit", &limit.to_string()),
            ],
        );
        let want: Vec<String> = expected
            .iter()
            .skip(skip)
            .take(limit)
            .map(|o| o.id.to_string())
            .collect();
        assert_eq!(got, want, "skip {skip} limit {limit}");
    }
}

// ---- limit, skip, count ---------------------------------------------------------------

fn many(n: u32) -> Store {
    let mut s = store();
    for i in 1..=n {
        put(&mut s, "T", i, json!({"i": i}));
    }
    s
}

#[test]
fn limit_defaults_to_100_and_out_of_range_values_become_100() {
    let s = many(1200);
    assert_eq!(ids(&s, "T", &[]).len(), 100);
    assert_eq!(ids(&s, "T", &[("limit", "1")]).len(), 1);
    assert_eq!(ids(&s, "T", &[("limit", "1000")]).len(), 1000);
    assert_eq!(ids(&s, "T", &[("limit", "1001")]).len(), 100);
    assert_eq!(ids(&s, "T", &[("limit", "-5")]).len(), 100);
    assert_eq!(ids(&s, "T", &[("limit", "0")]).len(), 0);
    assert_eq!(ids(&s, "T", &[("limit", " 7 ")]).len(), 7);
}

#[test]
fn a_limit_or_skip_that_is_not_an_integer_is_an_invalid_query() {
    let s = many(3);
    for q in [("limit", "ten"), ("limit", "2.5"), ("skip", "x")] {
        let e = find_error(&s, "T", &[q]);
        assert_eq!(e.code, code::INVALID_QUERY, "{q:?}");
    }
}

#[test]
fn skip_offsets_the_window_and_negative_skip_is_zero() {
    let s = many(10);
    assert_eq!(ids(&s, "T", &[("skip", "7")]), these(&[8, 9, 10]));
    assert_eq!(
        ids(&s, "T", &[("skip", "3"), ("limit", "2")]),
        these(&[4, 5])
    );
    assert_eq!(
        ids(&s, "T", &[("skip", "-3"), ("limit", "2")]),
        these(&[1, 2])
    );
    assert_eq!(ids(&s, "T", &[("skip", "20")]), these(&[]));
    assert_eq!(
        ids(&s, "T", &[("skip", "2"), ("limit", "3"), ("order", "-i")]),
        these(&[8, 7, 6])
    );
}

#[test]
fn count_counts_every_match_whatever_the_limit_and_skip() {
    let s = many(250);
    let found = try_find(
        &s,
        "T",
        &[
            ("count", "1"),
            ("limit", "0"),
            ("where", r#"{"i":{"$gt":10}}"#),
        ],
    )
    .unwrap();
    assert_eq!(found.results, Vec::<Value>::new());
    assert_eq!(found.count, Some(240));
    let found = try_find(
        &s,
        "T",
        &[
            ("count", "1"),
            ("skip", "5"),
            ("limit", "3"),
            ("order", "i"),
        ],
    )
    .unwrap();
    assert_eq!((found.results.len(), found.count), (3, Some(250)));
    let found = try_find(&s, "T", &[("count", "1"), ("skip", "249")]).unwrap();
    assert_eq!((found.results.len(), found.count), (1, Some(250)));
    let found = try_find(&s, "T", &[("limit", "3")]).unwrap();
    assert_eq!(found.count, None);
    let found = try_find(&s, "T", &[("count", "0")]).unwrap();
    assert_eq!(found.count, None);
}

#[test]
fn rows_the_caller_may_not_see_are_gone_before_skip_limit_and_count() {
    let s = many(10);
    let even = |_: &str, o: &StoredObject| o.to_map()["i"].as_u64().is_some_and(|i| i % 2 == 0);
    let params =
        FindParams::from_query(&params(&[("count", "1"), ("skip", "1"), ("limit", "2")])).unwrap();
    let found = query::find(&s, "T", &params, &even).unwrap();
    let got: Vec<&str> = found
        .results
        .iter()
        .map(|r| r["objectId"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![id(4), id(6)]);
    assert_eq!(found.count, Some(5));
    let params = FindParams {
        order: vec![OrderKey {
            key: "i".into(),
            descending: true,
        }],
        ..params
    };
    let found = query::find(&s, "T", &params, &even).unwrap();
    let got: Vec<&str> = found
        .results
        .iter()
        .map(|r| r["objectId"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![id(8), id(6)]);
}

#[test]
fn a_class_that_does_not_exist_has_no_rows() {
    let s = store();
    let found = try_find(&s, "Nope", &[("count", "1")]).unwrap();
    assert_eq!((found.results.len(), found.count), (0, Some(0)));
}

// ---- parameters -----------------------------------------------------------------------

#[test]
fn query_parameters_parse_into_find_params() {
    let p = FindParams::from_query(&params(&[
        ("where", r#"{"a":1}"#),
        ("order", "-createdAt, name"),
        ("limit", "20"),
        ("skip", "40"),
        ("count", "1"),
        ("keys", "a,-b"),
        ("include", "post, post.author"),
        ("returnACL", "true"),
        ("limit", "999"),
    ]))
    .unwrap();
    assert_eq!(p.r#where, json!({"a": 1}));
    assert_eq!(
        p.order,
        vec![
            OrderKey {
                key: "createdAt".into(),
                descending: true
            },
            OrderKey {
                key: "name".into(),
                descending: false
            },
        ]
    );
    assert_eq!((p.limit, p.skip, p.count), (20, 40, true));
    assert_eq!(p.view.keys, Some(vec!["a".to_string(), "-b".to_string()]));
    assert_eq!(
        p.view.include,
        vec![
            vec!["post".to_string()],
            vec!["post".to_string(), "author".to_string()]
        ]
    );
    assert!(p.view.return_acl);
}

#[test]
fn batch_params_take_a_where_object_and_json_numbers() {
    let m = json!({"where": {"i": {"$lte": 2}}, "limit": 1, "count": true, "order": "-i"});
    let p = FindParams::from_json(m.as_object().unwrap()).unwrap();
    assert_eq!((p.limit, p.count), (1, true));
    let s = many(5);
    let found = query::find(&s, "T", &p, &everyone).unwrap();
    assert_eq!(found.results[0]["objectId"], json!(id(2)));
    assert_eq!(found.count, Some(2));
    let text = json!({"where": "{\"i\":3}"});
    let p = FindParams::from_json(text.as_object().unwrap()).unwrap();
    assert_eq!(p.r#where, json!({"i": 3}));
    let bad = json!({"where": 5});
    assert_eq!(
        FindParams::from_json(bad.as_object().unwrap()).unwrap_err(),
        LcError::invalid_json()
    );
}

#[test]
fn a_compiled_matcher_tests_single_objects() {
    let s = scores();
    let m = Matcher::compile(
        &s,
        "GameScore",
        &json!({"score": {"$gte": 20}, "name": {"$regex": "^c"}}),
    )
    .unwrap();
    let objects = &s.classes["GameScore"].objects;
    let hits: Vec<&str> = objects
        .values()
        .filter(|o| m.matches(o))
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(hits, vec![id(3)]);
    let e = Matcher::compile(&s, "GameScore", &json!({"score": {"$nope": 1}})).unwrap_err();
    assert_eq!(e, LcError::invalid_query("unknown operator: $nope"));
}

#[test]
fn a_large_class_gives_the_same_answers_as_a_row_by_row_check() {
    // Large enough for the scan to be split across threads on a machine with cores to spare.
    let mut s = store();
    for n in 1..=40_000u32 {
        put(&mut s, "T", n, json!({"a": n % 97, "b": n % 5}));
    }
    let visible = |_: &str, o: &StoredObject| o.to_map()["a"].as_u64().is_some_and(|a| a % 2 == 0);
    let shown = |o: &StoredObject| visible("T", o) && o.to_map()["b"] != json!(0);
    let mut expected: Vec<&StoredObject> = s.classes["T"]
        .objects
        .values()
        .filter(|o| shown(o))
        .collect();
    let a = |o: &StoredObject| o.to_map()["a"].as_u64().unwrap_or(0);
    expected.sort_by(|x, y| a(y).cmp(&a(x)).then(x.id.cmp(&y.id)));

    let params = FindParams::from_query(&params(&[
        ("where", r#"{"b":{"$ne":0}}"#),
        ("order", "-a"),
        ("skip", "10"),
        ("limit", "50"),
        ("count", "1"),
    ]))
    .unwrap();
    let found = query::find(&s, "T", &params, &visible).unwrap();
    let got: Vec<&str> = found
        .results
        .iter()
        .map(|r| r["objectId"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = expected
        .iter()
        .skip(10)
        .take(50)
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(got, want);
    assert_eq!(found.count, Some(expected.len()));

    let natural = FindParams {
        order: Vec::new(),
        ..params
    };
    let found = query::find(&s, "T", &natural, &visible).unwrap();
    let got: Vec<&str> = found
        .results
        .iter()
        .map(|r| r["objectId"].as_str().unwrap())
        .collect();
    let mut in_order = expected.clone();
    in_order.sort_by(|x, y| x.id.cmp(&y.id));
    let want: Vec<&str> = in_order
        .iter()
        .skip(10)
        .take(50)
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(got, want);
    assert_eq!(found.count, Some(expected.len()));
}

/// The matcher decides most rows from values without reading field names; a value under
/// another name of the same length must never count.
#[test]
fn a_field_is_never_confused_with_another_of_the_same_name_length() {
    let mut s = store();
    put(&mut s, "T", 1, json!({"abc": 5}));
    put(&mut s, "T", 2, json!({"xyz": 5}));
    put(&mut s, "T", 3, json!({"abc": 5, "xyz": 6}));
    put(&mut s, "T", 4, json!({"abc": 6, "xyz": 5}));
    assert_eq!(matching(&s, "T", r#"{"xyz":5}"#), these(&[2, 4]));
    assert_eq!(matching(&s, "T", r#"{"xyz":{"$ne":5}}"#), these(&[1, 3]));
    assert_eq!(
        matching(&s, "T", r#"{"xyz":{"$exists":false}}"#),
        these(&[1])
    );
    assert_eq!(
        matching(&s, "T", r#"{"xyz":{"$gte":5},"abc":{"$lt":6}}"#),
        these(&[3])
    );
    assert_eq!(
        matching(&s, "T", r#"{"$or":[{"xyz":6},{"abc":6}]}"#),
        these(&[3, 4])
    );
}
