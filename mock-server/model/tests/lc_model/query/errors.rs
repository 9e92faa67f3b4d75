//! `where` that is not one: bad JSON, wrong operator shapes, depth, odd inputs.

use super::geo::places;
use super::*;

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
