//! CQL over HTTP (`GET`/`POST /1.1/cloudQuery`): the recorded answer's shape, the same
//! permissions and column rules as `GET /1.1/classes/<Class>`, includes, geo queries and
//! the syntax-error answer. What each statement compiles to is tested in
//! `lc_model::cql`; that CQL and `where` agree on random data, in
//! `generative/tests/generative/cql_diff.rs`.

use crate::support::send as send_as;
use leancloud::Caller;
use leancloud::error::code;
use mock_server::api::{Api, AppConfig};
use mock_server::settings::Settings;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use std::path::PathBuf;

fn example_app() -> Api {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/settings_example");
    let settings = Settings::load(dir).expect("the example loads");
    Api::with_settings(AppConfig::default(), &settings).expect("the example applies")
}

/// As the master key or anonymously (the app key).
fn send(api: &Api, master: bool, method: &str, target: &str, body: Option<Value>) -> (u16, Value) {
    let who = if master {
        Caller::Master
    } else {
        Caller::Anonymous
    };
    send_as(api, &who, method, target, body.as_ref())
}

fn cql(api: &Api, master: bool, statement: &str) -> (u16, Value) {
    let target = format!(
        "/1.1/cloudQuery?cql={}",
        utf8_percent_encode(statement, NON_ALPHANUMERIC)
    );
    send(api, master, "GET", &target, None)
}

fn names(body: &Value) -> Vec<&str> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("?"))
        .collect()
}

#[test]
fn a_select_with_count_answers_rows_the_class_and_the_total_as_recorded() {
    // Recorded: `select *,count(objectId) from GameScore limit 10` answered ten rows,
    // `"className": "GameScore"` and the class's whole count.
    let api = example_app();
    for i in 0..12 {
        let (status, _) = send(
            &api,
            true,
            "POST",
            "/1.1/classes/GameScore",
            Some(json!({"score": i})),
        );
        assert_eq!(status, 201);
    }
    let (status, body) = cql(
        &api,
        false,
        "select *,count(objectId) from GameScore limit 10",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"].as_array().unwrap().len(), 10);
    assert_eq!(body["className"], "GameScore");
    assert_eq!(body["count"], 12);
    let (_, body) = cql(&api, false, "select * from GameScore limit 10");
    assert!(
        body.get("count").is_none(),
        "no count unless selected: {body}"
    );
    let (_, body) = cql(
        &api,
        false,
        "select count(*) from GameScore where score >= 10",
    );
    assert_eq!(
        (body["count"].clone(), body["results"].clone()),
        (json!(2), json!([]))
    );
}

#[test]
fn placeholders_come_from_the_query_string_or_the_json_body() {
    let api = example_app();
    let statement = "select name from Business where name like ? order by -name";
    let target = format!(
        "/1.1/cloudQuery?cql={}&pvalues={}",
        utf8_percent_encode(statement, NON_ALPHANUMERIC),
        utf8_percent_encode(r#"["%o%"]"#, NON_ALPHANUMERIC)
    );
    let (status, by_get) = send(&api, false, "GET", &target, None);
    assert_eq!(status, 200, "{by_get}");
    assert_eq!(names(&by_get), ["Night Noodles", "Blue Door Cafe"]);
    assert!(
        by_get["results"][0].get("category").is_none(),
        "keys select columns"
    );
    let body = json!({"cql": statement, "pvalues": ["%o%"]});
    let (status, by_post) = send(&api, false, "POST", "/1.1/cloudQuery", Some(body));
    assert_eq!((status, &by_post), (200, &by_get));

    let (status, body) = send(
        &api,
        false,
        "GET",
        "/1.1/cloudQuery?cql=select%20*%20from%20T&pvalues=%5B",
        None,
    );
    assert_eq!((status, body["code"].clone()), (400, json!(107)), "{body}");
    let (status, body) = send(&api, false, "GET", "/1.1/cloudQuery", None);
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!(code::CQL_SYNTAX_ERROR)),
        "{body}"
    );
}

#[test]
fn cql_keeps_the_class_permissions_acls_and_hidden_columns_of_a_find() {
    let api = example_app();
    // `_User`'s find permission is nobody's: CQL is refused exactly as the find is.
    let (status, body) = cql(&api, false, "select * from _User");
    let (find_status, find_body) = send(&api, false, "GET", "/1.1/classes/_User", None);
    assert_eq!(status, 403, "{body}");
    assert_eq!((status, &body), (find_status, &find_body));
    let (status, _) = cql(&api, true, "select * from _User");
    assert_eq!(status, 200, "the master key may");

    // A hidden column is neither shown nor matched for a client.
    let (_, body) = cql(&api, false, "select * from Review");
    assert_eq!(body["results"].as_array().unwrap().len(), 1);
    assert!(body["results"][0].get("moderatorNote").is_none(), "{body}");
    let (_, body) = cql(
        &api,
        false,
        "select count(*) from Review where moderatorNote = 'checked'",
    );
    assert_eq!(body["count"], 0, "a hidden column cannot be probed: {body}");
    let (_, body) = cql(
        &api,
        true,
        "select count(*) from Review where moderatorNote = 'checked'",
    );
    assert_eq!(body["count"], 1);

    // A row its ACL hides is not found.
    let (status, _) = send(
        &api,
        true,
        "POST",
        "/1.1/classes/Business",
        Some(json!({"name": "Secret Bar", "ACL": {}})),
    );
    assert_eq!(status, 201);
    let (_, client) = cql(
        &api,
        false,
        "select * from Business where name regexp 'Bar'",
    );
    let (_, master) = cql(&api, true, "select * from Business where name regexp 'Bar'");
    assert_eq!(
        (names(&client).len(), names(&master)),
        (0, vec!["Secret Bar"])
    );
}

#[test]
fn includes_pointers_and_geo_queries_answer_as_their_find_does() {
    let api = example_app();
    let (status, body) = cql(
        &api,
        false,
        "select include business, * from Review where business = pointer('Business', '65a0f1c2e4b0a1b2c3d4e601')",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["results"][0]["business"]["name"], "Blue Door Cafe",
        "{body}"
    );

    let (_, near) = cql(
        &api,
        false,
        "select * from Business where location near geopoint(121.47, 31.23) max 5 km",
    );
    assert_eq!(names(&near), ["Blue Door Cafe"]);
    let (_, far) = cql(
        &api,
        false,
        "select * from Business where location near [0, 0] max 5 km",
    );
    assert_eq!(names(&far), Vec::<&str>::new());
    let (_, boxed) = cql(
        &api,
        false,
        "select * from Business where location within [121, 31] and [122, 32]",
    );
    assert_eq!(names(&boxed), ["Blue Door Cafe"]);
}

#[test]
fn a_statement_that_does_not_parse_is_code_300_with_where_and_what_was_expected() {
    let api = example_app();
    let (status, body) = cql(&api, false, "select * form Business");
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"code": 300, "error": "CQL syntax error.Detail: Parse error at line 1, column 10:\nselect * form Business\n         ^\nExpected one of:\nfrom\n,\n\n"})
    );
    let (status, body) = cql(&api, false, "select * from Bad-Name");
    assert_eq!(status, 400, "{body}");
}

#[test]
fn the_python_sdks_twice_encoded_pvalues_and_legacy_box_corners_are_understood() {
    let api = example_app();
    // `Query.do_cloud_query(cql, ["x"])` sends pvalues as the JSON text of the JSON text.
    let twice =
        serde_json::to_string(&serde_json::to_string(&json!(["Blue Door Cafe"])).unwrap()).unwrap();
    let target = format!(
        "/1.1/cloudQuery?cql={}&pvalues={}",
        utf8_percent_encode("select * from Business where name = ?", NON_ALPHANUMERIC),
        utf8_percent_encode(&twice, NON_ALPHANUMERIC)
    );
    let (status, body) = send(&api, false, "GET", &target, None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(names(&body), ["Blue Door Cafe"]);
    // `within_geo_box("location", (lng, lat), (lng, lat))` sends MongoDB's legacy pairs.
    let r#where = json!({"location": {"$within": {"$box": [[121.0, 31.0], [122.0, 32.0]]}}});
    let target = format!(
        "/1.1/classes/Business?where={}",
        utf8_percent_encode(&r#where.to_string(), NON_ALPHANUMERIC)
    );
    let (status, body) = send(&api, false, "GET", &target, None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(names(&body), ["Blue Door Cafe"]);
}
