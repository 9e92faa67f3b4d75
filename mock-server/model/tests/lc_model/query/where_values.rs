//! `where` on values: equality, dates and built-in fields, comparison operators.

use super::*;

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
