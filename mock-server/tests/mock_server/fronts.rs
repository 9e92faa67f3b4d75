//! HTTP-level behaviour of the emulator, run once against each front: the in-process
//! wiremock front and the standalone server. The bodies are the same; only the start
//! differs.

use leancloud::error::code;
use mock_server::MockLeanCloud;
use mock_server::api::{Api, AppConfig};
use mock_server::http::standalone::Standalone;
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;

/// What a test body gets: a base URL and the app's keys.
struct Target {
    base: String,
    cfg: AppConfig,
    http: reqwest::Client,
}

#[derive(Clone, Copy)]
enum Auth {
    None,
    App,
    Master,
    Sign,
}

struct Answer {
    status: u16,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

impl Target {
    async fn send(&self, method: &str, target: &str, body: Option<Value>, auth: Auth) -> Answer {
        self.send_raw(
            method,
            target,
            body.map(|b| b.to_string().into_bytes()),
            auth,
            "application/json",
        )
        .await
    }

    async fn send_raw(
        &self,
        method: &str,
        target: &str,
        body: Option<Vec<u8>>,
        auth: Auth,
        content_type: &str,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{}", self.base, target))
            .header("content-type", content_type);
        match auth {
            Auth::None => {}
            Auth::App => {
                req = req
                    .header("x-lc-id", &self.cfg.app_id)
                    .header("x-lc-key", &self.cfg.app_key)
            }
            Auth::Master => {
                req = req
                    .header("x-lc-id", &self.cfg.app_id)
                    .header("x-lc-key", format!("{},master", self.cfg.master_key))
            }
            Auth::Sign => {
                let ts = chrono::Utc::now().timestamp_millis();
                req = req.header("x-lc-id", &self.cfg.app_id).header(
                    "x-lc-sign",
                    leancloud::sign::header_value(&self.cfg.app_key, ts, false),
                )
            }
        }
        if let Some(body) = body {
            req = req.body(body);
        }
        let resp = req.send().await.expect("the emulator answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "every answer is JSON, got {status}: {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        Answer {
            status,
            body,
            headers,
        }
    }

    async fn create(&self, class: &str, body: Value) -> String {
        let a = self
            .send(
                "POST",
                &format!("/1.1/classes/{class}"),
                Some(body),
                Auth::App,
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        a.body["objectId"].as_str().unwrap().to_string()
    }

    async fn get(&self, class: &str, id: &str) -> Value {
        let a = self
            .send(
                "GET",
                &format!("/1.1/classes/{class}/{id}"),
                None,
                Auth::App,
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }
}

async fn on_wiremock<F, Fut>(body: F)
where
    F: FnOnce(Target) -> Fut,
    Fut: Future<Output = ()>,
{
    let lc = MockLeanCloud::start().await;
    let target = Target {
        base: lc.uri(),
        cfg: lc.config().clone(),
        http: reqwest::Client::new(),
    };
    body(target).await;
}

async fn on_standalone<F, Fut>(body: F)
where
    F: FnOnce(Target) -> Fut,
    Fut: Future<Output = ()>,
{
    let cfg = AppConfig::default();
    let server = Standalone::start(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(Api::new(cfg.clone())),
    )
    .await
    .unwrap();
    let target = Target {
        base: server.uri(),
        cfg,
        http: reqwest::Client::new(),
    };
    body(target).await;
}

/// One test body, run against both fronts as two tests.
macro_rules! on_both_fronts {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn on_wiremock() {
                super::on_wiremock($body).await;
            }
            #[tokio::test]
            async fn on_standalone() {
                super::on_standalone($body).await;
            }
        }
    };
}

fn is_object_id(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 24
            && s.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    })
}

fn is_iso_date(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 24
            && s.ends_with('Z')
            && s.as_bytes()[19] == b'.'
            && leancloud::value::parse_date(s).is_some()
    })
}

on_both_fronts!(
    create_answers_201_with_id_date_and_location,
    |t: Target| async move {
        let a = t
            .send(
                "POST",
                "/1.1/classes/Post",
                Some(json!({"title": "hi", "n": 1})),
                Auth::App,
            )
            .await;
        assert_eq!(a.status, 201);
        let keys: Vec<&String> = a.body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["createdAt", "objectId"]);
        assert!(is_object_id(&a.body["objectId"]), "{}", a.body);
        assert!(is_iso_date(&a.body["createdAt"]), "{}", a.body);
        let id = a.body["objectId"].as_str().unwrap();
        assert_eq!(
            a.headers["location"].to_str().unwrap(),
            format!("/1.1/classes/Post/{id}")
        );
        assert_eq!(
            a.headers["content-type"].to_str().unwrap(),
            "application/json;charset=utf-8"
        );
        let got = t.get("Post", id).await;
        assert_eq!(got["title"], "hi");
        assert_eq!(got["n"], 1);
        assert_eq!(got["objectId"], id);
        assert_eq!(got["createdAt"], a.body["createdAt"]);
        assert_eq!(got["updatedAt"], a.body["createdAt"]);
        assert!(got.get("ACL").is_none(), "ACL only with returnACL: {got}");
    }
);

on_both_fronts!(
    missing_objects_and_classes_answer_like_the_service,
    |t: Target| async move {
        t.create("Post", json!({})).await;
        let a = t
            .send("GET", "/1.1/classes/Post/123", None, Auth::App)
            .await;
        assert_eq!((a.status, a.body), (200, json!({})));
        let a = t
            .send("GET", "/1.1/classes/Nope/123", None, Auth::App)
            .await;
        assert_eq!(
            (a.status, a.body),
            (
                404,
                json!({"code": 101, "error": "Class or object doesn't exists."})
            )
        );
        let a = t.send("GET", "/1.1/classes/Nope", None, Auth::App).await;
        assert_eq!(a.status, 404);
        assert_eq!(a.body["code"], code::OBJECT_NOT_FOUND);
    }
);

on_both_fronts!(
    update_applies_operations_and_fetch_when_save_shows_new_values,
    |t: Target| async move {
        let id = t
            .create("Post", json!({"n": 1, "tags": ["a"], "keep": true}))
            .await;
        let a = t
        .send(
            "PUT",
            &format!("/1.1/classes/Post/{id}?new=true"),
            Some(json!({"n": {"__op": "Increment", "amount": 2}, "tags": {"__op": "Add", "objects": ["b"]}})),
            Auth::App,
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["n"], 3);
        assert_eq!(a.body["tags"], json!(["a", "b"]));
        assert_eq!(a.body["objectId"], id.as_str());
        assert!(is_iso_date(&a.body["updatedAt"]));
        assert!(
            a.body.get("keep").is_none(),
            "only changed keys: {}",
            a.body
        );
        let plain = t
            .send(
                "PUT",
                &format!("/1.1/classes/Post/{id}"),
                Some(json!({"x": 1})),
                Auth::App,
            )
            .await;
        let keys: Vec<&String> = plain.body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["objectId", "updatedAt"]);
        let got = t.get("Post", &id).await;
        assert_eq!(
            (got["n"].clone(), got["keep"].clone(), got["x"].clone()),
            (json!(3), json!(true), json!(1))
        );
    }
);

on_both_fronts!(
    a_conditional_update_that_does_not_match_is_305_and_changes_nothing,
    |t: Target| async move {
        let id = t.create("Post", json!({"n": 1})).await;
        let cond = percent_encode(r#"{"n":{"$gt":5}}"#);
        let a = t
            .send(
                "PUT",
                &format!("/1.1/classes/Post/{id}?where={cond}"),
                Some(json!({"n": 9})),
                Auth::App,
            )
            .await;
        assert_eq!(
            (a.status, a.body),
            (
                400,
                json!({"code": 305, "error": "No effect on updating/deleting a document."})
            )
        );
        assert_eq!(t.get("Post", &id).await["n"], 1);
        let cond = percent_encode(r#"{"n":1}"#);
        let a = t
            .send(
                "DELETE",
                &format!("/1.1/classes/Post/{id}?where={cond}"),
                None,
                Auth::App,
            )
            .await;
        assert_eq!((a.status, a.body), (200, json!({})));
        assert_eq!(t.get("Post", &id).await, json!({}));
    }
);

on_both_fronts!(
    batch_runs_items_in_order_and_fails_them_one_by_one,
    |t: Target| async move {
        let id = t.create("Post", json!({"n": 1})).await;
        let a = t
        .send(
            "POST",
            "/1.1/batch",
            Some(json!({"requests": [
                {"method": "POST", "path": "/1.1/classes/Post", "body": {"n": 2}},
                {"method": "PUT", "path": "/1.1/classes/Post/fakeid", "body": {"n": 3}},
                {"method": "GET", "path": format!("/1.1/classes/Post/{id}")},
                {"method": "GET", "path": "/1.1/classes/Post/000000000000000000000000"},
                {"method": "GET", "path": "/1.1/classes/Nope/x"},
                {"method": "PUT", "path": format!("/1.1/classes/Post/{id}"), "body": {"n": {"__op": "Increment", "amount": 1}}, "params": {"fetchWhenSave": true}}
            ]})),
            Auth::App,
        )
        .await;
        assert_eq!(a.status, 200);
        let items = a.body.as_array().unwrap();
        assert_eq!(items.len(), 6);
        assert!(is_object_id(&items[0]["success"]["objectId"]));
        assert_eq!(
            items[1],
            json!({"error": {"code": 1, "error": "Could not find object by id 'fakeid' for class 'Post'."}})
        );
        assert_eq!(items[2]["success"]["n"], 1);
        assert_eq!(items[3], json!({"success": null}));
        assert_eq!(items[4]["error"]["code"], code::OBJECT_NOT_FOUND);
        assert_eq!(items[5]["success"]["n"], 2);
    }
);

on_both_fronts!(
    queries_filter_order_limit_and_count,
    |t: Target| async move {
        for (name, score) in [("a", 5), ("b", 9), ("c", 1), ("d", 7)] {
            t.create("Score", json!({"name": name, "score": score}))
                .await;
        }
        let where_ = percent_encode(r#"{"score":{"$gte":5}}"#);
        let a = t
            .send(
                "GET",
                &format!("/1.1/classes/Score?where={where_}&order=-score&limit=2&count=1"),
                None,
                Auth::App,
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        let names: Vec<&str> = a.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["b", "d"]);
        assert_eq!(a.body["count"], 3);
        let a = t
            .send("GET", "/1.1/classes/Score?limit=0&count=1", None, Auth::App)
            .await;
        assert_eq!(a.body, json!({"results": [], "count": 4}));
    }
);

on_both_fronts!(
    requests_without_valid_keys_are_401,
    |t: Target| async move {
        let unauthorized = json!({"code": 401, "error": "Unauthorized."});
        let a = t.send("GET", "/1.1/date", None, Auth::None).await;
        assert_eq!((a.status, a.body), (401, unauthorized.clone()));
        let a = t
            .http
            .get(format!("{}/1.1/date", t.base))
            .header("x-lc-id", &t.cfg.app_id)
            .header("x-lc-key", "wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(a.status().as_u16(), 401);
        assert_eq!(a.json::<Value>().await.unwrap(), unauthorized);
        for auth in [Auth::App, Auth::Master, Auth::Sign] {
            let a = t.send("GET", "/1.1/date", None, auth).await;
            assert_eq!(a.status, 200);
            assert_eq!(a.body["__type"], "Date");
            assert!(is_iso_date(&a.body["iso"]), "{}", a.body);
        }
    }
);

on_both_fronts!(
    bad_input_gets_the_real_code_and_stores_nothing,
    |t: Target| async move {
        t.create("Post", json!({"n": 1})).await;
        let cases: Vec<(&str, Vec<u8>, i64)> = vec![
            (
                "/1.1/classes/Post",
                b"{not json".to_vec(),
                code::INVALID_JSON,
            ),
            ("/1.1/classes/Post", b"[1,2]".to_vec(), code::INVALID_JSON),
            (
                "/1.1/classes/1Post",
                b"{}".to_vec(),
                code::INVALID_CLASS_NAME,
            ),
            (
                "/1.1/classes/Post",
                br#"{"bad-key": 1}"#.to_vec(),
                code::INVALID_KEY_NAME,
            ),
            (
                "/1.1/classes/Post",
                br#"{"a.b": 1}"#.to_vec(),
                code::INVALID_KEY_NAME,
            ),
            (
                "/1.1/classes/Post",
                br#"{"p": {"__type": "Pointer", "className": "X"}}"#.to_vec(),
                code::INVALID_POINTER,
            ),
            (
                "/1.1/classes/Post",
                br#"{"n": {"__op": "Explode"}}"#.to_vec(),
                code::GENERIC,
            ),
            (
                "/1.1/classes/Post",
                br#"{"ACL": {"*": {"read": 1}}}"#.to_vec(),
                code::INVALID_ACL,
            ),
        ];
        for (path, body, expected) in cases {
            let a = t
                .send_raw(
                    "POST",
                    path,
                    Some(body.clone()),
                    Auth::App,
                    "application/json",
                )
                .await;
            assert_eq!(
                a.status,
                400,
                "{} -> {}",
                String::from_utf8_lossy(&body),
                a.body
            );
            assert_eq!(
                a.body["code"],
                expected,
                "{} -> {}",
                String::from_utf8_lossy(&body),
                a.body
            );
            assert!(a.body["error"].as_str().is_some_and(|m| !m.is_empty()));
        }
        let a = t
            .send("GET", "/1.1/classes/Post?limit=0&count=1", None, Auth::App)
            .await;
        assert_eq!(a.body["count"], 1, "nothing else was stored");
    }
);

on_both_fronts!(oversized_bodies_are_refused, |t: Target| async move {
    let big = vec![b' '; mock_server::api::MAX_BODY_BYTES + 10];
    let a = t
        .send_raw(
            "POST",
            "/1.1/classes/Post",
            Some(big),
            Auth::App,
            "application/json",
        )
        .await;
    assert_eq!(a.status, 413);
    assert_eq!(a.body["code"], code::REQUEST_TOO_LARGE);
});

on_both_fronts!(
    an_unknown_route_names_its_method_and_path,
    |t: Target| async move {
        let a = t.send("PATCH", "/1.1/nothing/here", None, Auth::App).await;
        assert_eq!(a.status, 404);
        let msg = a.body["error"].as_str().unwrap();
        assert!(msg.contains("PATCH /1.1/nothing/here"), "{msg}");
    }
);

on_both_fronts!(
    reset_needs_the_master_key_and_empties_the_app,
    |t: Target| async move {
        t.create("Post", json!({})).await;
        let a = t.send("POST", "/__mock/reset", None, Auth::App).await;
        assert_eq!(a.status, 400);
        assert_eq!(a.body["code"], code::GENERIC);
        let a = t.send("POST", "/__mock/reset", None, Auth::Master).await;
        assert_eq!(a.status, 200);
        let a = t.send("GET", "/1.1/classes/Post", None, Auth::App).await;
        assert_eq!(a.status, 404, "the class is gone: {}", a.body);
    }
);

on_both_fronts!(
    browsers_may_send_method_and_keys_in_a_text_plain_body,
    |t: Target| async move {
        let id = t.create("Post", json!({"n": 1})).await;
        let body = json!({
            "_method": "PUT", "_ApplicationId": t.cfg.app_id, "_ApplicationKey": t.cfg.app_key,
            "n": 5, "__keep": "flag"
        });
        let a = t
            .send_raw(
                "POST",
                &format!("/1.1/classes/Post/{id}"),
                Some(body.to_string().into_bytes()),
                Auth::None,
                // Any case, with parameters, as browsers and SDKs send it.
                "Text/Plain;charset=UTF-8",
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        let got = t.get("Post", &id).await;
        assert_eq!(got["n"], 5);
        assert!(
            got.get("_method").is_none() && got.get("__keep").is_none(),
            "{got}"
        );
    }
);

on_both_fronts!(
    delete_accepts_a_comma_separated_list_of_ids,
    |t: Target| async move {
        let a = t.create("Post", json!({})).await;
        let b = t.create("Post", json!({})).await;
        let c = t.create("Post", json!({})).await;
        let r = t
        .send("POST", "/1.1/batch", Some(json!({"requests": [{"method": "DELETE", "path": format!("/1.1/classes/Post/{a},{b}")}]})), Auth::App)
        .await;
        assert_eq!(r.body, json!([{"success": {}}]));
        assert_eq!(t.get("Post", &a).await, json!({}));
        assert_eq!(t.get("Post", &b).await, json!({}));
        assert_eq!(t.get("Post", &c).await["objectId"], c.as_str());
    }
);

on_both_fronts!(
    scan_pages_through_a_class_with_a_cursor_for_the_master_key_only,
    |t: Target| async move {
        let mut ids = Vec::new();
        for n in 0..7 {
            ids.push(t.create("Log", json!({"n": n})).await);
        }
        let a = t
            .send("GET", "/1.1/scan/classes/Log", None, Auth::App)
            .await;
        assert_eq!(
            (a.status, a.body),
            (
                400,
                json!({"code": 1, "error": "The request must be signed by master key."})
            )
        );
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut target = "/1.1/scan/classes/Log?limit=3".to_string();
            if let Some(c) = &cursor {
                target.push_str(&format!("&cursor={c}"));
            }
            let a = t.send("GET", &target, None, Auth::Master).await;
            assert_eq!(a.status, 200, "{}", a.body);
            for row in a.body["results"].as_array().unwrap() {
                seen.push(row["objectId"].as_str().unwrap().to_string());
            }
            match &a.body["cursor"] {
                Value::Null => break,
                Value::String(c) => cursor = Some(c.clone()),
                other => panic!("cursor is a string or null: {other}"),
            }
            assert!(seen.len() <= 7, "the scan ends");
        }
        let mut by_id = ids.clone();
        by_id.sort();
        assert_eq!(seen, by_id, "every object once, in objectId order");
        let a = t
            .send(
                "GET",
                "/1.1/scan/classes/Log?scan_key=-n&limit=2",
                None,
                Auth::Master,
            )
            .await;
        let ns: Vec<&Value> = a.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["n"])
            .collect();
        assert_eq!(ns, [&json!(6), &json!(5)]);
        // `keys` and `returnACL` as for a query: the JavaScript SDK's scan sends them.
        for (params, has_acl, has_n) in [
            ("returnACL=true", true, true),
            ("keys=objectId", false, false),
            ("", false, true),
        ] {
            let target = format!("/1.1/scan/classes/Log?limit=1&{params}");
            let a = t.send("GET", &target, None, Auth::Master).await;
            let row = &a.body["results"][0];
            assert_eq!(
                (row.get("ACL").is_some(), row.get("n").is_some()),
                (has_acl, has_n),
                "{params}: {row}"
            );
        }
    }
);

fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A test can answer over the emulator with its own wiremock mock: a one-shot 503 at
/// priority 1, after which the emulator answers again. The journal shows all three.
#[tokio::test]
async fn a_mounted_one_shot_fault_answers_over_the_emulator_once() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let lc = MockLeanCloud::start().await;
    Mock::given(method("POST"))
        .and(path("/1.1/classes/Todo"))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"code": 503, "error": "injected"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(lc.server())
        .await;
    let t = Target {
        base: lc.uri(),
        cfg: lc.config().clone(),
        http: reqwest::Client::new(),
    };
    let first = t
        .send(
            "POST",
            "/1.1/classes/Todo",
            Some(json!({"a": 1})),
            Auth::App,
        )
        .await;
    assert_eq!(first.status, 503);
    t.create("Todo", json!({"a": 2})).await;
    t.create("Todo", json!({"a": 3})).await;
    let count = t
        .send("GET", "/1.1/classes/Todo?limit=0&count=1", None, Auth::App)
        .await;
    assert_eq!(
        count.body["count"], 2,
        "the faulted request never reached the emulator"
    );
    let journal = lc.received_requests().await;
    assert_eq!(journal.len(), 4);
    assert_eq!(journal[0].url.path(), "/1.1/classes/Todo");
}

/// wiremock verifies a server on drop with a nested `block_on`; in one task that has
/// started many emulators that used to spin forever. Run on its own thread so that a
/// regression fails here instead of hanging the suite.
#[test]
fn many_emulators_start_and_stop_in_one_task() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            for _ in 0..300 {
                let lc = MockLeanCloud::start().await;
                assert!(lc.uri().starts_with("http://127.0.0.1:"));
            }
        });
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("300 emulators started and dropped within a minute");
}
