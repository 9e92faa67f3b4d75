//! No request can overflow the stack or hold the store for long (issue 13, findings 1 and
//! 2): inputs far past every nesting limit and queries far past the work budget get their
//! LeanCloud-shaped error, the app answers the next request, and nothing stored changes.
//!
//! Every request here runs through `Api::handle` on a thread with a 2 MiB stack, a tokio
//! worker's, in a debug build, whose frames are larger than a release build's: a walk that
//! recursed once per segment or level would overflow here and abort the test binary. The
//! limits are those of `lc_model::limits`, listed in the README's "Limits" table.

use crate::support::{error, request, send};
use lc_model::limits::{
    MAX_INCLUDE_DEPTH, MAX_OBJECT_DEPTH, MAX_PATH_SEGMENTS, MAX_QUERY_BRANCHES, MAX_QUERY_DEPTH,
    MAX_SUBQUERIES,
};
use lc_model::{Store, StoredObject};
use leancloud::error::code;
use leancloud::{Caller, LcError, Request};
use mock_server::api::{Api, AppConfig};
use mock_server::http::standalone::Standalone;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A tokio worker's stack.
const STACK: usize = 2 * 1024 * 1024;

/// Run `f` on a thread with a tokio worker's stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .expect("a thread")
        .join()
        .expect("the thread ends without panicking")
}

/// A class's rows by id: fields and update time.
type Rows<'a> = BTreeMap<&'a str, (Map<String, Value>, i64)>;

/// Everything the app holds, in a stable order, to compare before and after.
fn dump(api: &Api) -> String {
    let store = api.read_store();
    let classes: BTreeMap<&String, Rows<'_>> = store
        .classes
        .iter()
        .map(|(name, data)| {
            let rows = data
                .objects
                .iter()
                .map(|(id, o)| (id.as_str(), (o.to_map(), o.updated_at)))
                .collect();
            (name, rows)
        })
        .collect();
    let relations: BTreeMap<_, _> = store.relations.iter().collect();
    format!("{classes:?}\n{relations:?}\n{}", store.sessions.len())
}

/// `n` rows of `class` put straight into the store (far quicker than n creates).
fn seed(store: &mut Store, class: &str, n: usize, fields: impl Fn(usize) -> Value) {
    let now = store.clock.now_ms();
    for i in 0..n {
        let id = store.ids.object_id(now);
        let Value::Object(fields) = fields(i) else {
            panic!("rows are objects")
        };
        store.insert_object(class, StoredObject::new(id, now, now, &fields));
    }
}

fn dotted(n: usize) -> String {
    let mut path = String::from("name");
    for _ in 1..n {
        path.push_str(".a");
    }
    path
}

fn app_with_business() -> (Arc<Api>, String) {
    let api = Arc::new(Api::new(AppConfig::default()));
    let (status, created) = send(
        &api,
        &Caller::Anonymous,
        "POST",
        "/1.1/classes/Business",
        Some(&json!({"name": "Cafe", "address": {"city": "Paris"}})),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["objectId"].as_str().unwrap().to_string();
    (api, id)
}

/// The app still answers, and answers right: the Business row reads back.
fn still_serves(api: &Api, id: &str) {
    let (status, got) = send(
        api,
        &Caller::Anonymous,
        "GET",
        &format!("/1.1/classes/Business/{id}"),
        None,
    );
    assert_eq!((status, &got["name"]), (200, &json!("Cafe")), "{got}");
}

#[test]
fn keys_and_include_of_twenty_thousand_segments_are_invalid_queries_and_the_app_keeps_serving() {
    on_small_stack(|| {
        let (api, id) = app_with_business();
        let before = dump(&api);
        let path = dotted(20_000);
        for param in ["keys", "include"] {
            for target in [
                "/1.1/classes/Business?limit=1".to_string(),
                format!("/1.1/classes/Business/{id}"),
            ] {
                let req = Request::from_target("GET", &target).with_query(param, &path);
                let (status, body) = request(&api, &Caller::Anonymous, req, None);
                let e = error(status, &body);
                assert_eq!(
                    (e.status, e.code),
                    (400, code::INVALID_QUERY),
                    "{param} {target}: {body}"
                );
                let what = match param {
                    "keys" => "20000 segments".to_string(),
                    _ => "follows 20000 pointers".to_string(),
                };
                assert!(e.message.contains(&what), "{}", e.message);
            }
            // The same in a batch item's params.
            let batch = json!({"requests": [{"method": "GET", "path": "/1.1/classes/Business",
                "params": {param: path.clone()}}]});
            let (status, body) = send(&api, &Caller::Anonymous, "POST", "/1.1/batch", Some(&batch));
            assert_eq!(status, 200);
            assert_eq!(
                body[0]["error"]["code"],
                code::INVALID_QUERY,
                "{param}: {body}"
            );
        }
        // `order` and `where` keys are paths too.
        let req = Request::from_target("GET", "/1.1/classes/Business").with_query("order", &path);
        let (status, body) = request(&api, &Caller::Anonymous, req, None);
        assert_eq!(error(status, &body).code, code::INVALID_QUERY, "{body}");
        let r#where = json!({path.clone(): "Cafe"}).to_string();
        let req = Request::from_target("GET", "/1.1/classes/Business").with_query("where", r#where);
        let (status, body) = request(&api, &Caller::Anonymous, req, None);
        assert_eq!(error(status, &body).code, code::INVALID_QUERY, "{body}");

        // At the limit a path is fine: it names nothing here, so nothing is shown of it.
        let req = Request::from_target("GET", "/1.1/classes/Business")
            .with_query("keys", dotted(MAX_PATH_SEGMENTS));
        let (status, body) = request(&api, &Caller::Anonymous, req, None);
        assert_eq!(status, 200, "{body}");
        still_serves(&api, &id);
        assert_eq!(dump(&api), before);
    });
}

#[test]
fn an_update_whose_body_key_has_nine_thousand_segments_is_refused_and_changes_nothing() {
    on_small_stack(|| {
        let (api, id) = app_with_business();
        let before = dump(&api);
        let key = dotted(9_000).replacen("name", "address", 1);
        let target = format!("/1.1/classes/Business/{id}");
        let (status, body) = send(
            &api,
            &Caller::Anonymous,
            "PUT",
            &target,
            Some(&json!({key.clone(): 1})),
        );
        let e = error(status, &body);
        assert_eq!((e.status, e.code), (400, code::GENERIC), "{body}");
        assert!(e.message.contains("9000 segments"), "{}", e.message);
        // The master key, an operation, a batch item: the same.
        let op = json!({key.clone(): {"__op": "Increment", "amount": 1}});
        let (status, body) = send(&api, &Caller::Master, "PUT", &target, Some(&op));
        assert_eq!(error(status, &body).code, code::GENERIC, "{body}");
        let batch = json!({"requests": [{"method": "PUT", "path": target, "body": {key: 1}}]});
        let (_, body) = send(&api, &Caller::Anonymous, "POST", "/1.1/batch", Some(&batch));
        assert_eq!(body[0]["error"]["code"], code::GENERIC, "{body}");
        still_serves(&api, &id);
        assert_eq!(dump(&api), before);
    });
}

/// `{"v": {"v": ... 1}}`, `levels` objects deep.
fn nested(levels: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..levels {
        v = json!({"v": v});
    }
    v
}

#[test]
fn an_object_nested_past_a_hundred_levels_is_refused_whether_created_or_built_by_dot_paths() {
    on_small_stack(|| {
        let (api, id) = app_with_business();
        // The object itself is the first level, as MongoDB counts.
        let (status, body) = send(
            &api,
            &Caller::Anonymous,
            "POST",
            "/1.1/classes/Deep",
            Some(&json!({"v": nested(MAX_OBJECT_DEPTH - 1)})),
        );
        assert_eq!(status, 201, "{body}");
        let before = dump(&api);
        let (status, body) = send(
            &api,
            &Caller::Anonymous,
            "POST",
            "/1.1/classes/Deep",
            Some(&json!({"v": nested(MAX_OBJECT_DEPTH)})),
        );
        let e = error(status, &body);
        assert_eq!((e.status, e.code), (400, code::GENERIC), "{body}");
        assert!(e.message.contains("101 levels"), "{}", e.message);

        // A path at the limit whose value nests further.
        let key = dotted(MAX_PATH_SEGMENTS).replacen("name", "address", 1);
        let target = format!("/1.1/classes/Business/{id}");
        let (status, body) = send(
            &api,
            &Caller::Anonymous,
            "PUT",
            &target,
            Some(&json!({key: nested(20)})),
        );
        assert_eq!(error(status, &body).code, code::GENERIC, "{body}");
        still_serves(&api, &id);
        assert_eq!(dump(&api), before);
    });
}

#[test]
fn bodies_and_wheres_nested_twenty_thousand_levels_are_malformed_json() {
    on_small_stack(|| {
        let (api, id) = app_with_business();
        let before = dump(&api);
        let deep = format!("{}1{}", "[".repeat(20_000), "]".repeat(20_000));
        let body = format!("{{\"name\": {deep}}}");
        let mut req = Request::from_target("POST", "/1.1/classes/Business");
        req.body = body.into_bytes();
        let (status, answer) = request(&api, &Caller::Anonymous, req, None);
        assert_eq!(error(status, &answer).code, code::INVALID_JSON, "{answer}");
        let mut or = String::from("{\"name\":\"Cafe\"}");
        for _ in 0..20_000 {
            or = format!("{{\"$or\":[{or}]}}");
        }
        let req = Request::from_target("GET", "/1.1/classes/Business").with_query("where", or);
        let (status, answer) = request(&api, &Caller::Anonymous, req, None);
        assert_eq!(error(status, &answer).code, code::INVALID_JSON, "{answer}");
        still_serves(&api, &id);
        assert_eq!(dump(&api), before);
    });
}

/// `{"$or": [{"$or": [... {"name": "Cafe"}]}]}`, `levels` deep.
fn nested_or(levels: usize) -> Value {
    let mut w = json!({"name": "Cafe"});
    for _ in 0..levels {
        w = json!({"$or": [w]});
    }
    w
}

/// A pointer field matched by `$inQuery` on Business, `levels` subqueries deep.
fn nested_in_query(levels: usize) -> Value {
    let mut w = json!({"name": "Cafe"});
    for _ in 0..levels {
        w = json!({"self": {"$inQuery": {"className": "Business", "where": w}}});
    }
    w
}

fn find(api: &Api, who: &Caller<&str>, class: &str, r#where: &Value) -> (u16, Value) {
    let req = Request::from_target("GET", &format!("/1.1/classes/{class}"))
        .with_query("where", r#where.to_string());
    request(api, who, req, None)
}

#[test]
fn or_and_subqueries_nested_past_the_depth_limit_are_invalid_queries() {
    on_small_stack(|| {
        let (api, id) = app_with_business();
        let (status, body) = find(
            &api,
            &Caller::Anonymous,
            "Business",
            &nested_or(MAX_QUERY_DEPTH),
        );
        assert_eq!(
            (status, body["results"].as_array().map(Vec::len)),
            (200, Some(1)),
            "{body}"
        );
        for r#where in [
            nested_or(MAX_QUERY_DEPTH + 1),
            nested_or(60),
            nested_in_query(40),
        ] {
            let (status, body) = find(&api, &Caller::Anonymous, "Business", &r#where);
            let e = error(status, &body);
            assert_eq!((e.status, e.code), (400, code::INVALID_QUERY), "{body}");
            assert!(
                e.message.contains("nested more than 32 deep"),
                "{}",
                e.message
            );
        }
        still_serves(&api, &id);
    });
}

#[test]
fn a_pointer_to_itself_included_four_thousand_four_hundred_deep_is_refused_and_a_hundred_deep_is_shown()
 {
    on_small_stack(|| {
        let (api, id) = app_with_business();
        let target = format!("/1.1/classes/Business/{id}");
        let me = json!({"__type": "Pointer", "className": "Business", "objectId": id});
        let (status, body) = send(
            &api,
            &Caller::Anonymous,
            "PUT",
            &target,
            Some(&json!({"next": me})),
        );
        assert_eq!(status, 200, "{body}");
        let before = dump(&api);
        let chain = |n: usize| vec!["next"; n].join(".");
        let req = Request::from_target("GET", &target).with_query("include", chain(4_400));
        let (status, body) = request(&api, &Caller::Anonymous, req, None);
        let e = error(status, &body);
        assert_eq!((e.status, e.code), (400, code::INVALID_QUERY), "{body}");
        assert!(e.message.contains("more than 100"), "{}", e.message);

        let req = Request::from_target("GET", "/1.1/classes/Business")
            .with_query("include", chain(MAX_INCLUDE_DEPTH));
        let (status, body) = request(&api, &Caller::Anonymous, req, None);
        assert_eq!(status, 200, "{body}");
        let mut at = &body["results"][0];
        for level in 0..MAX_INCLUDE_DEPTH {
            at = &at["next"];
            assert_eq!(at["name"], "Cafe", "level {level} is expanded");
        }
        assert_eq!(at["next"], me, "the last pointer stays a pointer");
        still_serves(&api, &id);
        assert_eq!(dump(&api), before);
    });
}

#[test]
fn includes_that_multiply_past_the_work_budget_time_out() {
    on_small_stack(|| {
        let (api, id) = app_with_business();
        let target = format!("/1.1/classes/Business/{id}");
        let me = json!({"__type": "Pointer", "className": "Business", "objectId": id});
        let many: Vec<Value> = (0..100).map(|_| me.clone()).collect();
        let blob = "x".repeat(512 * 1024);
        let body = json!({"all": many, "blob": blob});
        let (status, body) = send(&api, &Caller::Anonymous, "PUT", &target, Some(&body));
        assert_eq!(status, 200, "{body}");
        let before = dump(&api);
        // 100 × 100 × 100 copies of an object of half a megabyte, asked in 30 bytes.
        for include in ["all.all.all", "all.all"] {
            let req = Request::from_target("GET", &target).with_query("include", include);
            let (status, body) = request(&api, &Caller::Anonymous, req, None);
            let e = error(status, &body);
            assert_eq!((e.status, e.code), (503, code::TIMEOUT), "{body}");
            assert_eq!(e, LcError::request_timeout());
        }
        // Within the budget (a hundred copies), the include is answered.
        let req = Request::from_target("GET", "/1.1/classes/Business")
            .with_query("include", "all")
            .with_query("keys", "all.name");
        let (status, body) = request(&api, &Caller::Anonymous, req, None);
        assert_eq!(status, 200);
        assert_eq!(body["results"][0]["all"][99]["name"], "Cafe");
        still_serves(&api, &id);
        assert_eq!(dump(&api), before);
    });
}

/// An app with `Big`, a class of `rows` rows `{n: i, tag: "t<i % 10>"}`, beside Business.
fn app_with_big(rows: usize) -> (Arc<Api>, String) {
    let (api, id) = app_with_business();
    seed(
        &mut api.store(),
        "Big",
        rows,
        |i| json!({"n": i, "tag": format!("t{}", i % 10), "ACL": {"*": {"read": true, "write": true}}}),
    );
    (api, id)
}

#[test]
fn an_or_of_forty_thousand_select_branches_over_twenty_thousand_rows_times_out_at_once() {
    on_small_stack(|| {
        let (api, id) = app_with_big(20_000);
        let before = dump(&api);
        // Written as text: building 40,000 `Value`s would cost the test more than the
        // request costs the app.
        let branch = r#"{"name":{"$select":{"query":{"className":"Big","where":{}},"key":"tag"}}}"#;
        let r#where = format!(r#"{{"$or":[{}]}}"#, vec![branch; 40_000].join(","));
        let batch = format!(
            r#"{{"requests":[{{"method":"GET","path":"/1.1/classes/Business","params":{{"where":{where}}}}}]}}"#
        );
        let mut req = Request::from_target("POST", "/1.1/batch");
        req.body = batch.into_bytes();
        let (status, body) = request(&api, &Caller::Anonymous, req, None);
        assert_eq!(status, 200);
        assert_eq!(
            body[0]["error"],
            LcError::request_timeout().to_json(),
            "{body}"
        );
        still_serves(&api, &id);
        assert_eq!(dump(&api), before);
    });
}

#[test]
fn more_subqueries_or_branches_than_allowed_time_out_and_the_limits_themselves_pass() {
    on_small_stack(|| {
        let (api, id) = app_with_big(10);
        let in_query = json!({"self": {"$inQuery": {"className": "Big", "where": {"tag": "t1"}}}});
        let ok = find(
            &api,
            &Caller::Anonymous,
            "Business",
            &json!({"$or": vec![in_query.clone(); MAX_SUBQUERIES]}),
        );
        assert_eq!(ok.0, 200, "{}", ok.1);
        let over = find(
            &api,
            &Caller::Anonymous,
            "Business",
            &json!({"$or": vec![in_query; MAX_SUBQUERIES + 1]}),
        );
        assert_eq!(error(over.0, &over.1), LcError::request_timeout());

        let eq = json!({"name": "Cafe"});
        let ok = find(
            &api,
            &Caller::Anonymous,
            "Business",
            &json!({"$or": vec![eq.clone(); MAX_QUERY_BRANCHES]}),
        );
        assert_eq!(
            (ok.0, ok.1["results"].as_array().map(Vec::len)),
            (200, Some(1))
        );
        // `$and` items count too, and so does the implicit `$and` of a where array.
        for r#where in [
            json!({"$and": vec![eq.clone(); MAX_QUERY_BRANCHES + 1]}),
            json!(vec![eq.clone(); MAX_QUERY_BRANCHES + 1]),
            json!({"$or": [{"$and": vec![eq.clone(); 600]}, {"$or": vec![eq; 600]}]}),
        ] {
            let (status, body) = find(&api, &Caller::Anonymous, "Business", &r#where);
            assert_eq!(error(status, &body), LcError::request_timeout());
        }
        still_serves(&api, &id);
    });
}

#[test]
fn a_scan_that_costs_more_than_the_work_budget_times_out_and_a_cheaper_one_answers() {
    on_small_stack(|| {
        let (api, id) = app_with_big(5_000);
        let before = dump(&api);
        // 5,000 rows × 3,000 conditions each: more than the budget. A scan of the whole
        // class (to order or to count) is refused before it starts.
        let branches: Vec<Value> = (0..1000)
            .map(|i| json!({"n": -1 - i, "tag": "t1", "m": 0}))
            .collect();
        let r#where = json!({"$or": branches});
        for (param, value) in [("order", "n"), ("count", "1")] {
            let req = Request::from_target("GET", "/1.1/classes/Big")
                .with_query("where", r#where.to_string())
                .with_query(param, value);
            let (status, body) = request(&api, &Caller::Anonymous, req, None);
            assert_eq!(error(status, &body), LcError::request_timeout(), "{param}");
        }
        // A conditional write's subqueries are held to the same budget.
        let costly = json!({"self": {"$inQuery": {"className": "Big", "where": r#where,
            "order": "n"}}});
        let req = Request::from_target("PUT", &format!("/1.1/classes/Business/{id}"))
            .with_query("where", costly.to_string());
        let (status, body) = request(
            &api,
            &Caller::Anonymous,
            req,
            Some(&json!({"name": "Gone"})),
        );
        assert_eq!(error(status, &body), LcError::request_timeout());

        // A whole-class count with a few conditions is well within it.
        let req = Request::from_target("GET", "/1.1/classes/Big")
            .with_query("where", json!({"tag": "t3", "n": {"$gte": 0}}).to_string())
            .with_query("count", "1")
            .with_query("limit", "0");
        let (status, body) = request(&api, &Caller::Anonymous, req, None);
        assert_eq!((status, &body["count"]), (200, &json!(500)), "{body}");
        still_serves(&api, &id);
        assert_eq!(dump(&api), before);
    });
}

/// Over a socket, on the standalone server's tokio workers: the inputs of the issue do not
/// take the process down, and it answers afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standalone_server_answers_the_issues_inputs_and_keeps_serving() {
    let (api, id) = app_with_business();
    let server = Standalone::start("127.0.0.1:0".parse().unwrap(), api.clone())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let cfg = api.config().clone();
    let send = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut req = client
            .request(method, format!("{}{path}", server.uri()))
            .header("x-lc-id", &cfg.app_id)
            .header("x-lc-key", &cfg.app_key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        async move {
            let resp = req.send().await.expect("an answer");
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.expect("JSON"))
        }
    };
    let target = format!("/1.1/classes/Business/{id}");
    let me = json!({"__type": "Pointer", "className": "Business", "objectId": id});
    let (status, _) = send(
        reqwest::Method::PUT,
        target.clone(),
        Some(json!({"next": me})),
    )
    .await;
    assert_eq!(status, 200);
    let key = dotted(9_000).replacen("name", "address", 1);
    let (status, body) = send(reqwest::Method::PUT, target.clone(), Some(json!({key: 1}))).await;
    assert_eq!(error(status, &body).code, code::GENERIC);
    let chain = vec!["next"; 4_400].join(".");
    let (status, body) = send(
        reqwest::Method::GET,
        format!("{target}?include={chain}"),
        None,
    )
    .await;
    assert_eq!(error(status, &body).code, code::INVALID_QUERY);
    let (status, body) = send(reqwest::Method::GET, target, None).await;
    assert_eq!((status, &body["name"]), (200, &json!("Cafe")));
}

#[test]
fn a_regex_of_twenty_thousand_nested_groups_is_an_invalid_query() {
    on_small_stack(|| {
        let (api, id) = app_with_business();
        let pattern = format!("{}a{}", "(".repeat(20_000), ")".repeat(20_000));
        let (status, body) = find(
            &api,
            &Caller::Anonymous,
            "Business",
            &json!({"name": {"$regex": pattern}}),
        );
        assert_eq!(error(status, &body).code, code::INVALID_QUERY, "{body}");
        still_serves(&api, &id);
    });
}

#[test]
fn an_answer_nested_two_hundred_levels_deep_is_written_whole() {
    on_small_stack(|| {
        let (api, id) = app_with_business();
        let target = format!("/1.1/classes/Business/{id}");
        let me = json!({"__type": "Pointer", "className": "Business", "objectId": id});
        let body = json!({"next": me, "v": nested(MAX_OBJECT_DEPTH - 2)});
        let (status, answer) = send(&api, &Caller::Anonymous, "PUT", &target, Some(&body));
        assert_eq!(status, 200, "{answer}");
        // Each of the 100 included copies carries the 98 levels of `v`: deeper than a
        // serde_json reader takes (128), so the text is checked as text.
        let chain = vec!["next"; MAX_INCLUDE_DEPTH].join(".");
        let req = Request::from_target("GET", &format!("{target}?include={chain}"))
            .with_header("x-lc-id", &api.config().app_id)
            .with_header("x-lc-key", &api.config().app_key);
        let resp = api.handle(&req);
        assert_eq!(resp.status, 200);
        let text = String::from_utf8(resp.body).unwrap();
        assert_eq!(
            text.matches(r#""name":"Cafe""#).count(),
            MAX_INCLUDE_DEPTH + 1
        );
        assert!(text.ends_with('}'));
        still_serves(&api, &id);
    });
}
