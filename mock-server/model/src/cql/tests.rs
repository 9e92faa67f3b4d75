//! What each form of the CQL guide compiles to, and how bad statements are refused.

use super::*;
use serde_json::json;

const NOW: i64 = 1_700_000_000_000;

fn params(cql: &str) -> Value {
    params_with(cql, &[])
}

fn params_with(cql: &str, pvalues: &[Value]) -> Value {
    let q = compile(cql, pvalues, NOW).unwrap_or_else(|e| panic!("{cql}: {e:?}"));
    let mut m = q.params;
    m.insert("_class".into(), Value::String(q.class));
    Value::Object(m)
}

fn error(cql: &str) -> LcError {
    compile(cql, &[], NOW).expect_err(cql)
}

#[test]
fn a_plain_select_is_a_find_of_the_class() {
    assert_eq!(
        params("select * from GameScore"),
        json!({"_class": "GameScore"})
    );
    assert_eq!(
        params("SELECT name, score FROM GameScore"),
        json!({"_class": "GameScore", "keys": "name,score"})
    );
}

#[test]
fn comparisons_merge_into_one_where_as_a_client_would_write_it() {
    assert_eq!(
        params("select * from GameScore where name is exists and score > 80 and score <= 100")["where"],
        json!({"name": {"$exists": true}, "score": {"$gt": 80, "$lte": 100}})
    );
    assert_eq!(
        params("select * from T where a = 1 and a != 2")["where"],
        json!({"$and": [{"a": 1}, {"a": {"$ne": 2}}]}),
        "an equality and an operator on one key cannot share an object"
    );
    assert_eq!(
        params("select * from T where a <> 'x' and b < -1.5 and c >= 3")["where"],
        json!({"a": {"$ne": "x"}, "b": {"$lt": -1.5}, "c": {"$gte": 3}})
    );
}

#[test]
fn and_binds_tighter_than_or_and_parentheses_group() {
    let flat = params("select * from GameScore where score>80 and score<=100 or score=0");
    let grouped = params("select * from GameScore where (score>80 and score<=100) or score=0");
    assert_eq!(flat, grouped);
    assert_eq!(
        flat["where"],
        json!({"$or": [{"score": {"$gt": 80, "$lte": 100}}, {"score": 0}]})
    );
    assert_eq!(
        params("select * from T where a=1 and (b=2 or c=3)")["where"],
        json!({"a": 1, "$or": [{"b": 2}, {"c": 3}]})
    );
}

#[test]
fn like_is_anchored_sql_matching_and_regexp_is_a_pattern() {
    assert_eq!(
        params("select * from T where name like 'den_is%'")["where"],
        json!({"name": {"$regex": "^den.is.*$"}})
    );
    assert_eq!(
        params("select * from T where name like 'a.b%'")["where"],
        json!({"name": {"$regex": "^a\\.b.*$"}}),
        "regex characters in a like pattern are literal"
    );
    assert_eq!(
        params("select * from T where name not regexp 'dennis.*'")["where"],
        json!({"name": {"$not": {"$regex": "dennis.*"}}})
    );
}

#[test]
fn lists_arrays_and_sizes() {
    assert_eq!(
        params("select * from T where name in ('dennis','catty') and x not in (1, 2)")["where"],
        json!({"name": {"$in": ["dennis", "catty"]}, "x": {"$nin": [1, 2]}})
    );
    assert_eq!(
        params("select * from T where scores all (100,100) and size(tags) = 2")["where"],
        json!({"scores": {"$all": [100, 100]}, "tags": {"$size": 2}})
    );
    assert_eq!(
        params("select * from T where scores = 100")["where"],
        json!({"scores": 100})
    );
}

#[test]
fn subqueries_select_keys_or_rows() {
    assert_eq!(
        params("select * from Player where name in (select name from GameScore where score>80)")["where"],
        json!({"name": {"$select": {"query": {"className": "GameScore", "where": {"score": {"$gt": 80}}}, "key": "name"}}})
    );
    assert_eq!(
        params("select * from Player where name !=(select name from GameScore where score<=80)")["where"],
        json!({"name": {"$dontSelect": {"query": {"className": "GameScore", "where": {"score": {"$lte": 80}}}, "key": "name"}}})
    );
    assert_eq!(
        params("select * from Comment where post in (select * from Post where image is exists)")["where"],
        json!({"post": {"$inQuery": {"className": "Post", "where": {"image": {"$exists": true}}}}})
    );
    assert_eq!(
        params("select * from Comment where post not in (select * from Post)")["where"],
        json!({"post": {"$notInQuery": {"className": "Post"}}})
    );
}

#[test]
fn functions_and_json_literals_make_typed_values() {
    let w = &params(
        "select * from Comment where post=pointer('Post','51e3') and createdAt < date('2011-08-20T02:06:57.931Z') and f = file('f1') and b = base64('AQI=') and t < current_timestamp()",
    )["where"];
    assert_eq!(
        w["post"],
        json!({"__type": "Pointer", "className": "Post", "objectId": "51e3"})
    );
    assert_eq!(
        w["createdAt"],
        json!({"$lt": {"__type": "Date", "iso": "2011-08-20T02:06:57.931Z"}})
    );
    assert_eq!(w["f"], json!({"__type": "File", "id": "f1"}));
    assert_eq!(w["b"], json!({"__type": "Bytes", "base64": "AQI="}));
    assert_eq!(
        w["t"]["$lt"]["iso"],
        json!(leancloud::value::format_date(NOW))
    );
    assert_eq!(
        params(
            "select * from Comment where post={className:'Post', objectId:'x',__type:'Pointer'}"
        )["where"],
        json!({"post": {"className": "Post", "objectId": "x", "__type": "Pointer"}})
    );
}

#[test]
fn geo_conditions_take_points_and_distances_in_units() {
    let point = json!({"__type": "GeoPoint", "latitude": 39.9, "longitude": 116.4});
    assert_eq!(
        params("select * from Player where location near [116.4, 39.9]")["where"],
        json!({"location": {"$nearSphere": point}})
    );
    assert_eq!(
        params(
            "select * from Player where location near geopoint(116.4, 39.9) min 0.5 km max 1 km"
        )["where"],
        json!({"location": {"$nearSphere": point, "$minDistanceInKilometers": 0.5, "$maxDistanceInKilometers": 1}})
    );
    assert_eq!(
        params("select * from Player where location near geopoint(116.4, 39.9) max 2")["where"]["location"]
            ["$maxDistanceInRadians"],
        json!(2),
        "a distance without a unit is in radians"
    );
    assert_eq!(
        params("select * from Player where location within [116.33, 39.97] and [116.37, 39.99]")["where"],
        json!({"location": {"$within": {"$box": [
            {"__type": "GeoPoint", "latitude": 39.97, "longitude": 116.33},
            {"__type": "GeoPoint", "latitude": 39.99, "longitude": 116.37}
        ]}}})
    );
}

#[test]
fn relations_include_count_limit_and_order() {
    assert_eq!(
        params("select * from _User where related likes to pointer('Post', 'p1')")["where"],
        json!({"$relatedTo": {"object": {"__type": "Pointer", "className": "Post", "objectId": "p1"}, "key": "likes"}})
    );
    assert_eq!(
        params("select include post.category, include author, * from Comment"),
        json!({"_class": "Comment", "include": "post.category,author"})
    );
    assert_eq!(
        params("select count(*) from GameScore where score>60"),
        json!({"_class": "GameScore", "where": {"score": {"$gt": 60}}, "count": true, "limit": 0})
    );
    assert_eq!(
        params("select *,count(objectId) from GameScore limit 10"),
        json!({"_class": "GameScore", "count": true, "limit": 10})
    );
    assert_eq!(
        params("select * from Comment limit 100,10"),
        json!({"_class": "Comment", "skip": 100, "limit": 10})
    );
    for (cql, order) in [
        ("select * from T order by score desc", "-score"),
        ("select * from T order by -score,name", "-score,name"),
        ("select * from T order by score,+name desc", "-score,name"),
        ("select * from T order by -score,name asc", "-score,name"),
    ] {
        assert_eq!(params(cql)["order"], json!(order), "{cql}");
    }
}

#[test]
fn placeholders_take_pvalues_in_order_including_limits() {
    let date = json!({"__type": "Date", "iso": "2015-01-01T00:00:00.000Z"});
    assert_eq!(
        params_with(
            "select * from GameScore where name=? and at>? limit ?,?",
            &[json!("dennis"), date.clone(), json!(5), json!(20)]
        ),
        json!({"_class": "GameScore", "where": {"name": "dennis", "at": {"$gt": date}}, "skip": 5, "limit": 20})
    );
    let e = compile("select * from T where a=? and b=?", &[json!(1)], NOW).unwrap_err();
    assert_eq!(e.code, code::CQL_SYNTAX_ERROR);
    assert!(
        e.message.contains("placeholder 2 has no value"),
        "{}",
        e.message
    );
}

#[test]
fn syntax_errors_are_code_300_naming_what_and_where() {
    // Recorded (leancloud/javascript-sdk, `Queries/#cloudQuery/should return syntax
    // error.`): the service's parser also lists whitespace among the alternatives.
    let e = error("select * GameScore limit 10");
    assert_eq!((e.status, e.code), (400, code::CQL_SYNTAX_ERROR));
    let recorded_prefix = "CQL syntax error.Detail: Parse error at line 1, column 10:\nselect * GameScore limit 10\n         ^\nExpected one of:\nfrom\n";
    assert!(e.message.starts_with(recorded_prefix), "{:?}", e.message);
    assert_eq!(
        error("select *\nfrom T where a ~ 1").message,
        "CQL syntax error.Detail: Parse error at line 2, column 16:\nfrom T where a ~ 1\n               ^\nunexpected character '~'\n"
    );
    for bad in [
        "",
        "select",
        "select * from",
        "select * from T where",
        "select * from T where a",
        "select * from T where a = ",
        "select * from T where (a = 1",
        "select * from T order by a limit 1",
        "select * from T where a not exists",
        "select * from T where a near 3",
        "select * from T where d = date('yesterday')",
        "select * from T where p = pointer('C')",
        "select * from T where x = nope(1)",
        "select * from T limit 'ten'",
        "select count(name) from T",
        "insert into T(a) values(1)",
    ] {
        let e = error(bad);
        assert_eq!(
            (e.status, e.code),
            (400, code::CQL_SYNTAX_ERROR),
            "{bad}: {e:?}"
        );
        assert!(e.message.starts_with("CQL syntax error.Detail: "), "{bad}");
    }
}

#[test]
fn statements_past_the_limits_are_refused_without_recursing() {
    let long = format!("select * from T where a = '{}'", "x".repeat(MAX_CQL_BYTES));
    assert_eq!(error(&long).code, code::CQL_SYNTAX_ERROR);
    let deep = format!(
        "select * from T where {}a=1{}",
        "(".repeat(MAX_CQL_DEPTH + 1),
        ")".repeat(MAX_CQL_DEPTH + 1)
    );
    assert!(error(&deep).message.contains("nested deeper"));
    let deep_list = format!(
        "select * from T where a = {}1{}",
        "[".repeat(2000),
        "]".repeat(2000)
    );
    assert_eq!(error(&deep_list).code, code::CQL_SYNTAX_ERROR);
}
