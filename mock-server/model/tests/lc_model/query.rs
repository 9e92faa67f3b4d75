//! `where` operators, order, limit/skip/count, on a store filled directly.

use crate::support::*;
use lc_model::query::{self, FindParams, Matcher, OrderKey};
use lc_model::{Store, StoredObject};
use leancloud::LcError;
use leancloud::error::code;
use serde_json::{Value, json};

fn scores() -> Store {
    let mut s = store();
    put(
        &mut s,
        "GameScore",
        1,
        json!({"name": "alice", "score": 10, "cheat": false}),
    );
    put(
        &mut s,
        "GameScore",
        2,
        json!({"name": "bob", "score": 30, "cheat": true}),
    );
    put(
        &mut s,
        "GameScore",
        3,
        json!({"name": "carol", "score": 20.0}),
    );
    put(
        &mut s,
        "GameScore",
        4,
        json!({"name": "dave", "score": "20"}),
    );
    put(&mut s, "GameScore", 5, json!({"name": "erin"}));
    s
}

// ---- where: equality ------------------------------------------------------------------

#[test]
fn an_empty_or_absent_where_matches_every_row_in_creation_order() {
    let s = scores();
    let all = these(&[1, 2, 3, 4, 5]);
    assert_eq!(ids(&s, "GameScore", &[]), all);
    assert_eq!(matching(&s, "GameScore", ""), all);
    assert_eq!(matching(&s, "GameScore", "{}"), all);
    assert_eq!(matching(&s, "GameScore", "null"), all);
}

#[test]
fn equality_on_a_scalar_matches_exactly_and_numbers_compare_by_value() {
    let s = scores();
    assert_eq!(matching(&s, "GameScore", r#"{"name":"bob"}"#), these(&[2]));
    assert_eq!(matching(&s, "GameScore", r#"{"score":20}"#), these(&[3]));
    assert_eq!(matching(&s, "GameScore", r#"{"score":"20"}"#), these(&[4]));
    assert_eq!(matching(&s, "GameScore", r#"{"cheat":false}"#), these(&[1]));
    assert_eq!(
        matching(&s, "GameScore", r#"{"name":"bob","cheat":false}"#),
        these(&[])
    );
}

#[test]
fn equality_with_null_also_matches_rows_without_the_field() {
    let mut s = scores();
    put(
        &mut s,
        "GameScore",
        6,
        json!({"name": "fay", "score": null}),
    );
    assert_eq!(
        matching(&s, "GameScore", r#"{"score":null}"#),
        these(&[5, 6])
    );
}

#[test]
fn equality_on_an_array_field_matches_rows_whose_array_contains_the_value() {
    let mut s = store();
    put(&mut s, "T", 1, json!({"arr": ["arr1", "arr2"]}));
    put(&mut s, "T", 2, json!({"arr": ["arr3"]}));
    put(&mut s, "T", 3, json!({"arr": "arr1"}));
    assert_eq!(matching(&s, "T", r#"{"arr":"arr1"}"#), these(&[1, 3]));
}

#[test]
fn equality_with_an_array_value_matches_the_whole_array() {
    let mut s = store();
    put(&mut s, "T", 1, json!({"arr": [1, 2]}));
    put(&mut s, "T", 2, json!({"arr": [2, 1]}));
    put(&mut s, "T", 3, json!({"arr": [1, 2, 3]}));
    put(&mut s, "T", 4, json!({"arr": [[1, 2], 5]}));
    assert_eq!(matching(&s, "T", r#"{"arr":[1,2.0]}"#), these(&[1, 4]));
}

#[test]
fn equality_with_a_plain_object_compares_the_whole_object() {
    let mut s = store();
    put(&mut s, "T", 1, json!({"o": {"a": 1, "b": [1]}}));
    put(&mut s, "T", 2, json!({"o": {"a": 1}}));
    assert_eq!(matching(&s, "T", r#"{"o":{"b":[1],"a":1}}"#), these(&[1]));
}

#[test]
fn pointer_equality_compares_class_name_and_object_id() {
    let mut s = store();
    let p =
        |class: &str, id: &str| json!({"__type": "Pointer", "className": class, "objectId": id});
    put(&mut s, "Comment", 1, json!({"post": p("Post", "a")}));
    put(&mut s, "Comment", 2, json!({"post": p("Post", "b")}));
    put(&mut s, "Comment", 3, json!({"post": p("Other", "a")}));
    put(
        &mut s,
        "Comment",
        4,
        json!({"post": [p("Post", "a"), p("Post", "c")]}),
    );
    let w = json!({"post": p("Post", "a")}).to_string();
    assert_eq!(matching(&s, "Comment", &w), these(&[1, 4]));
}

// ---- where: dates and built-ins -------------------------------------------------------

fn date(iso: &str) -> Value {
    json!({"__type": "Date", "iso": iso})
}

#[test]
fn dates_compare_by_time_whatever_their_iso_spelling() {
    let mut s = store();
    put(
        &mut s,
        "E",
        1,
        json!({"at": date("2015-06-21T18:02:52.249Z")}),
    );
    put(
        &mut s,
        "E",
        2,
        json!({"at": date("2015-06-22T00:00:00.000+08:00")}),
    );
    put(&mut s, "E", 3, json!({"at": date("2015-06-29T00:00:00Z")}));
    put(&mut s, "E", 4, json!({"at": "2015-06-29T00:00:00.000Z"}));
    let eq = json!({"at": date("2015-06-21T16:00:00.000Z")}).to_string();
    assert_eq!(matching(&s, "E", &eq), these(&[2]));
    let range = json!({"at": {"$gt": date("2015-06-21T18:02:52.249Z"), "$lte": date("2015-06-29T00:00:00.000Z")}});
    assert_eq!(matching(&s, "E", &range.to_string()), these(&[3]));
}

#[test]
fn created_at_compares_with_date_operands_and_iso_strings() {
    let s = scores();
    // Object n was created n seconds after T0 (2023-11-14T22:13:20.000Z).
    let w = json!({"createdAt": {"$gte": date("2023-11-14T22:13:22.000Z"), "$lt": date("2023-11-14T22:13:24.000Z")}});
    assert_eq!(matching(&s, "GameScore", &w.to_string()), these(&[2, 3]));
    let w = json!({"createdAt": "2023-11-14T22:13:25.000Z"});
    assert_eq!(matching(&s, "GameScore", &w.to_string()), these(&[5]));
    let w = json!({"updatedAt": {"$lte": "2023-11-14T22:13:21.000Z"}});
    assert_eq!(matching(&s, "GameScore", &w.to_string()), these(&[1]));
}

#[test]
fn an_invalid_date_operand_is_an_invalid_query() {
    let s = scores();
    let w = json!({"createdAt": {"$gt": date("yesterday")}}).to_string();
    assert_eq!(
        find_error(&s, "GameScore", &[("where", &w)]).code,
        code::INVALID_QUERY
    );
}

#[test]
fn object_id_is_queryable_like_any_string() {
    let s = scores();
    let w = json!({"objectId": id(3)}).to_string();
    assert_eq!(matching(&s, "GameScore", &w), these(&[3]));
    let w = json!({"objectId": {"$in": [id(1), id(4), "nope"]}}).to_string();
    assert_eq!(matching(&s, "GameScore", &w), these(&[1, 4]));
    let w = json!({"objectId": {"$gt": id(3)}}).to_string();
    assert_eq!(matching(&s, "GameScore", &w), these(&[4, 5]));
    assert_eq!(
        matching(&s, "GameScore", r#"{"objectId":{"$exists":true}}"#),
        these(&[1, 2, 3, 4, 5])
    );
}

// ---- where: comparison operators ------------------------------------------------------

#[test]
fn comparisons_never_match_missing_fields_or_other_types() {
    let s = scores();
    assert_eq!(
        matching(&s, "GameScore", r#"{"score":{"$gt":10}}"#),
        these(&[2, 3])
    );
    assert_eq!(
        matching(&s, "GameScore", r#"{"score":{"$gte":10}}"#),
        these(&[1, 2, 3])
    );
    assert_eq!(
        matching(&s, "GameScore", r#"{"score":{"$lt":20}}"#),
        these(&[1])
    );
    assert_eq!(
        matching(&s, "GameScore", r#"{"score":{"$lte":20}}"#),
        these(&[1, 3])
    );
    assert_eq!(
        matching(&s, "GameScore", r#"{"score":{"$gt":"1"}}"#),
        these(&[4])
    );
    assert_eq!(
        matching(&s, "GameScore", r#"{"score":{"$gt":10,"$lt":30}}"#),
        these(&[3])
    );
    assert_eq!(
        matching(&s, "GameScore", r#"{"name":{"$lt":"c"}}"#),
        these(&[1, 2])
    );
}

#[test]
fn comparisons_on_arrays_match_when_any_element_does() {
    let mut s = store();
    put(&mut s, "T", 1, json!({"v": [1, 50]}));
    put(&mut s, "T", 2, json!({"v": [1, 2]}));
    assert_eq!(matching(&s, "T", r#"{"v":{"$gt":10}}"#), these(&[1]));
}

#[test]
fn ordering_operators_reject_objects_and_arrays() {
    let s = scores();
    for w in [
        r#"{"score":{"$gt":[1]}}"#,
        r#"{"score":{"$lt":{"a":1}}}"#,
        r#"{"score":{"$gte":null}}"#,
    ] {
        assert_eq!(
            find_error(&s, "GameScore", &[("where", w)]).code,
            code::INVALID_QUERY,
            "{w}"
        );
    }
}

#[test]
fn ne_and_nin_match_rows_missing_the_field() {
    let s = scores();
    assert_eq!(
        matching(&s, "GameScore", r#"{"score":{"$ne":20}}"#),
        these(&[1, 2, 4, 5])
    );
    assert_eq!(
        matching(&s, "GameScore", r#"{"score":{"$nin":[10,30]}}"#),
        these(&[3, 4, 5])
    );
    assert_eq!(
        matching(&s, "GameScore", r#"{"cheat":{"$ne":true}}"#),
        these(&[1, 3, 4, 5])
    );
}

#[test]
fn in_and_nin_on_array_fields_look_at_every_element() {
    let mut s = store();
    put(&mut s, "T", 1, json!({"tags": ["a", "b"]}));
    put(&mut s, "T", 2, json!({"tags": ["c"]}));
    put(&mut s, "T", 3, json!({"tags": []}));
    put(&mut s, "T", 4, json!({"tags": "b"}));
    assert_eq!(
        matching(&s, "T", r#"{"tags":{"$in":["b","z"]}}"#),
        these(&[1, 4])
    );
    assert_eq!(
        matching(&s, "T", r#"{"tags":{"$nin":["b","z"]}}"#),
        these(&[2, 3])
    );
    assert_eq!(matching(&s, "T", r#"{"tags":{"$in":[]}}"#), these(&[]));
    assert_eq!(
        matching(&s, "T", r#"{"tags":{"$in":[["c"]]}}"#),
        these(&[2])
    );
}

#[test]
fn all_needs_every_value_in_the_array() {
    let mut s = store();
    put(&mut s, "T", 1, json!({"a": [2, 3, 4, 5]}));
    put(&mut s, "T", 2, json!({"a": [2, 3]}));
    put(&mut s, "T", 3, json!({"other": 1}));
    assert_eq!(matching(&s, "T", r#"{"a":{"$all":[2,3,4]}}"#), these(&[1]));
    assert_eq!(matching(&s, "T", r#"{"a":{"$all":[3,2]}}"#), these(&[1, 2]));
    assert_eq!(matching(&s, "T", r#"{"a":{"$all":[]}}"#), these(&[]));
}

#[test]
fn exists_distinguishes_present_and_missing_fields() {
    let s = scores();
    assert_eq!(
        matching(&s, "GameScore", r#"{"cheat":{"$exists":true}}"#),
        these(&[1, 2])
    );
    assert_eq!(
        matching(&s, "GameScore", r#"{"cheat":{"$exists":false}}"#),
        these(&[3, 4, 5])
    );
    assert_eq!(
        find_error(&s, "GameScore", &[("where", r#"{"cheat":{"$exists":1}}"#)]).code,
        code::INVALID_QUERY
    );
}

#[test]
fn size_matches_the_array_length() {
    let mut s = store();
    put(&mut s, "T", 1, json!({"a": [1, 2, 3]}));
    put(&mut s, "T", 2, json!({"a": [1]}));
    put(&mut s, "T", 3, json!({"a": "abc"}));
    assert_eq!(matching(&s, "T", r#"{"a":{"$size":3}}"#), these(&[1]));
    assert_eq!(
        find_error(&s, "T", &[("where", r#"{"a":{"$size":-1}}"#)]).code,
        code::INVALID_QUERY
    );
    assert_eq!(
        find_error(&s, "T", &[("where", r#"{"a":{"$size":"3"}}"#)]).code,
        code::INVALID_QUERY
    );
}

// ---- where: regex ---------------------------------------------------------------------

fn titles() -> Store {
    let mut s = store();
    put(
        &mut s,
        "Post",
        1,
        json!({"title": "Single line description."}),
    );
    put(
        &mut s,
        "Post",
        2,
        json!({"title": "First line\nSecond line"}),
    );
    put(
        &mut s,
        "Post",
        3,
        json!({"title": "Many spaces before     line"}),
    );
    put(
        &mut s,
        "Post",
        4,
        json!({"title": "Multiple\nline description"}),
    );
    put(&mut s, "Post", 5, json!({"title": "abc123"}));
    put(&mut s, "Post", 6, json!({"title": "a.b*c (1)"}));
    put(&mut s, "Post", 7, json!({"title": 42}));
    s
}

#[test]
fn regex_options_follow_the_documented_examples() {
    let s = titles();
    let q = |re: &str, opt: &str| json!({"title": {"$regex": re, "$options": opt}}).to_string();
    assert_eq!(matching(&s, "Post", &q("single", "i")), these(&[1]));
    assert_eq!(matching(&s, "Post", &q("single", "")), these(&[]));
    assert_eq!(matching(&s, "Post", &q("^S", "m")), these(&[1, 2]));
    assert_eq!(matching(&s, "Post", &q("^S", "")), these(&[1]));
    assert_eq!(
        matching(&s, "Post", &q("abc #category code\n123 #item number", "x")),
        these(&[5])
    );
    assert_eq!(matching(&s, "Post", &q("m.*line", "si")), these(&[3, 4]));
    assert_eq!(matching(&s, "Post", &q("m.*line", "sixm")), these(&[3, 4]));
}

#[test]
fn regex_without_options_and_on_non_strings() {
    let s = titles();
    assert_eq!(
        matching(&s, "Post", r#"{"title":{"$regex":"^abc\\d+$"}}"#),
        these(&[5])
    );
    assert_eq!(
        matching(&s, "Post", r#"{"title":{"$regex":"42"}}"#),
        these(&[])
    );
}

#[test]
fn quoted_regex_text_matches_literally_as_the_javascript_sdk_sends_it() {
    let s = titles();
    // startsWith("a.b*c (") and endsWith("(1)") as the JavaScript SDK encodes them.
    assert_eq!(
        matching(&s, "Post", r#"{"title":{"$regex":"^\\Qa.b*c (\\E"}}"#),
        these(&[6])
    );
    assert_eq!(
        matching(&s, "Post", r#"{"title":{"$regex":"\\Q(1)\\E$"}}"#),
        these(&[6])
    );
    assert_eq!(
        matching(&s, "Post", r#"{"title":{"$regex":"^\\Qa.b\\E"}}"#),
        these(&[6])
    );
    assert_eq!(
        matching(&s, "Post", r#"{"title":{"$regex":"^\\Qabc\\E"}}"#),
        these(&[5])
    );
}

#[test]
fn a_bad_regex_or_option_is_an_invalid_query() {
    let s = titles();
    for w in [
        r#"{"title":{"$regex":"("}}"#,
        r#"{"title":{"$regex":"a","$options":"z"}}"#,
        r#"{"title":{"$regex":5}}"#,
        r#"{"title":{"$options":"i"}}"#,
    ] {
        let e = find_error(&s, "Post", &[("where", w)]);
        assert_eq!(e.code, code::INVALID_QUERY, "{w}: {e}");
    }
}

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

// ---- where: geo -----------------------------------------------------------------------

fn geo(lat: f64, lng: f64) -> Value {
    json!({"__type": "GeoPoint", "latitude": lat, "longitude": lng})
}

/// Points due east of (0, 0) along the equator: 1° of longitude is 111.19 km there.
fn places() -> Store {
    let mut s = store();
    put(
        &mut s,
        "Place",
        1,
        json!({"name": "far", "loc": geo(0.0, 3.0)}),
    );
    put(
        &mut s,
        "Place",
        2,
        json!({"name": "near", "loc": geo(0.0, 1.0)}),
    );
    put(
        &mut s,
        "Place",
        3,
        json!({"name": "here", "loc": geo(0.0, 0.0)}),
    );
    put(
        &mut s,
        "Place",
        4,
        json!({"name": "mid", "loc": geo(0.0, 2.0)}),
    );
    put(&mut s, "Place", 5, json!({"name": "nowhere"}));
    s
}

fn near(extra: Value) -> String {
    let mut cond = json!({"$nearSphere": {"__type": "GeoPoint", "latitude": 0, "longitude": 0}});
    if let (Some(c), Value::Object(e)) = (cond.as_object_mut(), extra) {
        c.extend(e);
    }
    json!({ "loc": cond }).to_string()
}

#[test]
fn near_sphere_returns_points_nearest_first() {
    let s = places();
    assert_eq!(
        matching(&s, "Place", &near(json!({}))),
        these(&[3, 2, 4, 1])
    );
    assert_eq!(
        ids(&s, "Place", &[("where", &near(json!({}))), ("limit", "2")]),
        these(&[3, 2])
    );
}

#[test]
fn near_sphere_distance_limits_in_radians_kilometres_and_miles() {
    let s = places();
    let deg = 1f64.to_radians();
    assert_eq!(
        matching(&s, "Place", &near(json!({"$maxDistance": 1.5 * deg}))),
        these(&[3, 2])
    );
    assert_eq!(
        matching(
            &s,
            "Place",
            &near(json!({"$maxDistanceInRadians": 2.5 * deg}))
        ),
        these(&[3, 2, 4])
    );
    assert_eq!(
        matching(
            &s,
            "Place",
            &near(json!({"$maxDistanceInKilometers": 120.0}))
        ),
        these(&[3, 2])
    );
    assert_eq!(
        matching(
            &s,
            "Place",
            &near(json!({"$maxDistanceInKilometers": 110.0}))
        ),
        these(&[3])
    );
    // 1° ≈ 69.09 miles.
    assert_eq!(
        matching(&s, "Place", &near(json!({"$maxDistanceInMiles": 140.0}))),
        these(&[3, 2, 4])
    );
    assert_eq!(
        matching(
            &s,
            "Place",
            &near(json!({"$minDistance": 0.5 * deg, "$maxDistanceInMiles": 140.0}))
        ),
        these(&[2, 4])
    );
    assert_eq!(
        matching(
            &s,
            "Place",
            &near(json!({"$minDistanceInKilometers": 300.0}))
        ),
        these(&[1])
    );
}

#[test]
fn an_explicit_order_overrides_distance_ordering() {
    let s = places();
    assert_eq!(
        ids(
            &s,
            "Place",
            &[("where", &near(json!({}))), ("order", "name")]
        ),
        these(&[1, 3, 4, 2])
    );
}

#[test]
fn near_sphere_inside_or_filters_without_sorting() {
    let s = places();
    let w = json!({"$or": [
        {"loc": {"$nearSphere": geo(0.0, 0.0), "$maxDistanceInKilometers": 120.0}},
        {"name": "far"}
    ]});
    assert_eq!(matching(&s, "Place", &w.to_string()), these(&[1, 2, 3]));
}

#[test]
fn within_box_selects_points_inside_the_box() {
    let mut s = store();
    put(&mut s, "Post", 1, json!({"loc": geo(39.98, 116.35)}));
    put(&mut s, "Post", 2, json!({"loc": geo(39.96, 116.35)}));
    put(&mut s, "Post", 3, json!({"loc": geo(39.98, 116.38)}));
    put(&mut s, "Post", 4, json!({"loc": geo(0.0, 179.5)}));
    put(&mut s, "Post", 5, json!({"loc": geo(0.0, -179.5)}));
    let b = |sw: Value, ne: Value| json!({"loc": {"$within": {"$box": [sw, ne]}}}).to_string();
    assert_eq!(
        matching(&s, "Post", &b(geo(39.97, 116.33), geo(39.99, 116.37))),
        these(&[1])
    );
    // A box whose west edge is east of its east edge crosses the antimeridian.
    assert_eq!(
        matching(&s, "Post", &b(geo(-1.0, 179.0), geo(1.0, -179.0))),
        these(&[4, 5])
    );
    let upside_down = b(geo(40.0, 116.33), geo(39.0, 116.37));
    assert_eq!(
        find_error(&s, "Post", &[("where", &upside_down)]).code,
        code::INVALID_QUERY
    );
}

#[test]
fn malformed_geo_queries_are_rejected() {
    let s = places();
    let cases = [
        (r#"{"loc":{"$nearSphere":[0,0]}}"#, code::INVALID_QUERY),
        (
            r#"{"loc":{"$nearSphere":{"latitude":"0","longitude":0}}}"#,
            code::INVALID_QUERY,
        ),
        (
            r#"{"loc":{"$nearSphere":{"latitude":91,"longitude":0}}}"#,
            code::INVALID_GEOPOINT,
        ),
        (r#"{"loc":{"$maxDistance":1}}"#, code::INVALID_QUERY),
        (
            r#"{"loc":{"$within":{"$polygon":[]}}}"#,
            code::INVALID_QUERY,
        ),
        (
            r#"{"loc":{"$within":{"$box":[{"latitude":0,"longitude":0}]}}}"#,
            code::INVALID_QUERY,
        ),
    ];
    for (w, expected) in cases {
        assert_eq!(
            find_error(&s, "Place", &[("where", w)]).code,
            expected,
            "{w}"
        );
    }
}

// ---- where: errors --------------------------------------------------------------------

#[test]
fn invalid_json_is_code_107() {
    let s = scores();
    for w in ["{", "{'a':1}", "5", "\"text\"", "true"] {
        assert_eq!(
            find_error(&s, "GameScore", &[("where", w)]),
            LcError::invalid_json(),
            "{w}"
        );
    }
}

#[test]
fn wrong_operator_shapes_and_unknown_operators_are_code_102() {
    let s = scores();
    for w in [
        r#"{"score":{"$in":5}}"#,
        r#"{"score":{"$nin":"a"}}"#,
        r#"{"score":{"$all":{}}}"#,
        r#"{"score":{"$foo":1}}"#,
        r#"{"score":{"$gt":1,"plain":2}}"#,
        r#"{"$foo":[]}"#,
        r#"{"$or":{}}"#,
        r#"{"$or":[]}"#,
        r#"{"$and":[1]}"#,
        r#"[1]"#,
        r#"{"post":{"$inQuery":{"where":{}}}}"#,
        r#"{"post":{"$inQuery":5}}"#,
        r#"{"post":{"$select":{"query":{"className":"A"}}}}"#,
        r#"{"post":{"$inQuery":{"className":"A","where":{"x":{"$bad":1}}}}}"#,
    ] {
        let e = find_error(&s, "GameScore", &[("where", w)]);
        assert_eq!(e.code, code::INVALID_QUERY, "{w}: {e}");
        assert_eq!(e.status, 400);
    }
}

#[test]
fn deeply_nested_queries_are_refused_not_overflowed() {
    let s = scores();
    let mut w = json!({"name": "x"});
    // 40 levels: within what the JSON parser accepts, beyond what a query may nest.
    for _ in 0..40 {
        w = json!({"$or": [w]});
    }
    assert_eq!(
        find_error(&s, "GameScore", &[("where", &w.to_string())]).code,
        code::INVALID_QUERY
    );
}

#[test]
fn odd_inputs_never_panic() {
    let s = places();
    let odd = [
        r#"{"":1}"#,
        r#"{"a..b":1}"#,
        r#"{".":{"$exists":true}}"#,
        r#"{"loc.latitude":{"$gt":-1}}"#,
        r#"{"loc":{"$regex":"\\Q"}}"#,
        r#"{"loc":{"$regex":"\\"}}"#,
        r#"{"name":{"$size":18446744073709551615}}"#,
        r#"{"name":{"$in":[null,{"__type":"Pointer"},{"__type":"Date"}]}}"#,
        r#"{"name":{"__type":"Date","iso":"2020-01-01T00:00:00.000Z"}}"#,
        r#"{"name":{"$gt":1e308}}"#,
        r#"{"loc":{"$nearSphere":{"latitude":0,"longitude":0},"$maxDistance":-1}}"#,
    ];
    for w in odd {
        let _ = try_find(&s, "Place", &[("where", w), ("order", "loc,-name,,-")]);
    }
    let _ = try_find(
        &s,
        "Place",
        &[("skip", "99999999999999999999"), ("limit", "1e400")],
    );
}

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
