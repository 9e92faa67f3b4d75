//! `where` logic (`$or`, `$and`, dot paths) and subqueries (`$inQuery`, `$select`, `$relatedTo`).

use super::*;

// ---- where: logic and paths -----------------------------------------------------------

#[test]
fn or_and_and_combine_nested_conditions() {
    let s = scores();
    assert_eq!(
        matching(
            &s,
            "GameScore",
            r#"{"$or":[{"name":"alice"},{"score":{"$gte":30}}]}"#
        ),
        these(&[1, 2])
    );
    assert_eq!(
        matching(
            &s,
            "GameScore",
            r#"{"$and":[{"score":{"$gt":150}},{"cheat":true}]}"#
        ),
        these(&[])
    );
    let nested = r#"{"$or":[{"$and":[{"score":{"$gte":10}},{"score":{"$lt":30}}]},{"name":"erin"}],"name":{"$ne":"carol"}}"#;
    assert_eq!(matching(&s, "GameScore", nested), these(&[1, 5]));
}

#[test]
fn an_array_where_is_an_implicit_and() {
    let s = scores();
    assert_eq!(
        matching(
            &s,
            "GameScore",
            r#"[{"score":{"$gte":10}},{"score":{"$lt":30}}]"#
        ),
        these(&[1, 3])
    );
}

#[test]
fn dot_paths_reach_into_object_fields() {
    let mut s = store();
    put(
        &mut s,
        "U",
        1,
        json!({"occupation": {"profession": "Other", "level": 3}}),
    );
    put(
        &mut s,
        "U",
        2,
        json!({"occupation": {"profession": "Dev", "level": 5}}),
    );
    put(&mut s, "U", 3, json!({"occupation": "Other"}));
    assert_eq!(
        matching(&s, "U", r#"{"occupation.profession":"Other"}"#),
        these(&[1])
    );
    assert_eq!(
        matching(&s, "U", r#"{"occupation.level":{"$gt":4}}"#),
        these(&[2])
    );
    assert_eq!(
        matching(&s, "U", r#"{"occupation.level":{"$exists":false}}"#),
        these(&[3])
    );
}

// ---- where: subqueries ----------------------------------------------------------------

fn blog() -> Store {
    let mut s = store();
    put(
        &mut s,
        "Post",
        1,
        json!({"image": "a.png", "author": "ann"}),
    );
    put(&mut s, "Post", 2, json!({"author": "ben"}));
    put(
        &mut s,
        "Post",
        3,
        json!({"image": "c.png", "author": "cid"}),
    );
    put(
        &mut s,
        "Comment",
        11,
        json!({"post": pointer("Post", 1), "by": "ann"}),
    );
    put(
        &mut s,
        "Comment",
        12,
        json!({"post": pointer("Post", 2), "by": "zed"}),
    );
    put(
        &mut s,
        "Comment",
        13,
        json!({"post": pointer("Post", 3), "by": "cid"}),
    );
    put(&mut s, "Comment", 14, json!({"by": "ben"}));
    put(
        &mut s,
        "Comment",
        15,
        json!({"post": pointer("Other", 1), "by": "ann"}),
    );
    s
}

#[test]
fn in_query_matches_pointers_to_the_subquery_rows_and_not_in_query_the_others() {
    let s = blog();
    let w = r#"{"post":{"$inQuery":{"where":{"image":{"$exists":true}},"className":"Post"}}}"#;
    assert_eq!(matching(&s, "Comment", w), these(&[11, 13]));
    let w = r#"{"post":{"$notInQuery":{"where":{"image":{"$exists":true}},"className":"Post"}}}"#;
    assert_eq!(matching(&s, "Comment", w), these(&[12, 14, 15]));
}

#[test]
fn select_and_dont_select_compare_with_a_key_of_the_subquery_rows() {
    let s = blog();
    let w = r#"{"by":{"$select":{"query":{"className":"Post","where":{"image":{"$exists":true}}},"key":"author"}}}"#;
    assert_eq!(matching(&s, "Comment", w), these(&[11, 13, 15]));
    let w = r#"{"by":{"$dontSelect":{"query":{"className":"Post","where":{"image":{"$exists":true}}},"key":"author"}}}"#;
    assert_eq!(matching(&s, "Comment", w), these(&[12, 14]));
    let w = r#"{"objectId":{"$select":{"query":{"className":"Comment","where":{"by":"zed"}},"key":"objectId"}}}"#;
    assert_eq!(matching(&s, "Comment", w), these(&[12]));
}

#[test]
fn subqueries_accept_where_as_json_text_and_an_unknown_class_selects_nothing() {
    let s = blog();
    let w = r#"{"post":{"$inQuery":{"where":"{\"author\":\"ben\"}","className":"Post"}}}"#;
    assert_eq!(matching(&s, "Comment", w), these(&[12]));
    let w = r#"{"post":{"$inQuery":{"where":{},"className":"Nope"}}}"#;
    assert_eq!(matching(&s, "Comment", w), these(&[]));
}

#[test]
fn subqueries_obey_their_own_limit_skip_order_and_the_default_of_100() {
    let mut s = store();
    for n in 1..=150 {
        put(&mut s, "Post", n, json!({"rank": n}));
        put(
            &mut s,
            "Comment",
            1000 + n,
            json!({"post": pointer("Post", n)}),
        );
    }
    let all = |w: &str| ids(&s, "Comment", &[("where", w), ("limit", "1000")]).len();
    assert_eq!(
        all(r#"{"post":{"$inQuery":{"className":"Post","where":{}}}}"#),
        100
    );
    assert_eq!(
        all(r#"{"post":{"$inQuery":{"className":"Post","where":{},"limit":1000}}}"#),
        150
    );
    assert_eq!(
        all(r#"{"post":{"$inQuery":{"className":"Post","where":{},"limit":5000}}}"#),
        100
    );
    let top = ids(
        &s,
        "Comment",
        &[(
            "where",
            r#"{"post":{"$inQuery":{"className":"Post","order":"-rank","limit":2,"skip":1}}}"#,
        )],
    );
    assert_eq!(top, these(&[1148, 1149]));
}

#[test]
fn subqueries_see_only_rows_the_caller_may_see() {
    let s = blog();
    let hide_post_1 = |class: &str, obj: &StoredObject| !(class == "Post" && obj.id == id(1));
    let w =
        json!({"post": {"$inQuery": {"className": "Post", "where": {"image": {"$exists": true}}}}});
    let params = FindParams {
        r#where: w,
        ..FindParams::from_query(&[]).unwrap()
    };
    let found = query::find(&s, "Comment", &params, &hide_post_1).unwrap();
    let got: Vec<&str> = found
        .results
        .iter()
        .map(|r| r["objectId"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![id(13)]);
}

#[test]
fn related_to_selects_the_targets_of_a_relation() {
    let mut s = blog();
    put(
        &mut s,
        "Person",
        21,
        json!({"likes": {"__type": "Relation", "className": "Post"}}),
    );
    s.relations.insert(
        ("Person".into(), id(21), "likes".into()),
        [id(1), id(3)].into_iter().collect(),
    );
    let rel = json!({"$relatedTo": {"object": pointer("Person", 21), "key": "likes"}}).to_string();
    assert_eq!(matching(&s, "Post", &rel), these(&[1, 3]));
    let found = try_find(
        &s,
        "Post",
        &[("where", &rel), ("limit", "0"), ("count", "1")],
    )
    .unwrap();
    assert_eq!((found.results.len(), found.count), (0, Some(2)));
    let none = json!({"$relatedTo": {"object": pointer("Person", 21), "key": "hates"}}).to_string();
    assert_eq!(matching(&s, "Post", &none), these(&[]));
    let with_more =
        json!({"$relatedTo": {"object": pointer("Person", 21), "key": "likes"}, "author": "cid"});
    assert_eq!(matching(&s, "Post", &with_more.to_string()), these(&[3]));
    let bad = r#"{"$relatedTo":{"object":"x","key":"likes"}}"#;
    assert_eq!(
        find_error(&s, "Post", &[("where", bad)]).code,
        code::INVALID_QUERY
    );
}
