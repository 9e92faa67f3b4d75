//! Coverage of the app's behaviour (`GET`/`DELETE /__mock/coverage`, `Api::coverage`):
//! the functions and hooks that ran and how, the class-permission and ACL decisions,
//! the error codes clients received, and what the app defines but nothing reached,
//! listed first.

use leancloud::cloud::{CloudError, FunctionRequest, Registry};
use mock_server::api::faults::Fault;
use mock_server::api::{Api, AppConfig};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// `Post` with a beforeSave refusing an empty title, an afterSave and a beforeDelete
/// nothing fires here; `hello` and `bye`. Anyone may create a Post, no one but the master
/// key may delete one.
fn app() -> Arc<Api> {
    let mut r = Registry::new();
    r.before_save("Post", |req| async move {
        if req.object.get("title") == Some(&json!("")) {
            return Err(CloudError::new("a post needs a title"));
        }
        Ok(req.object)
    });
    r.after_save("Post", |_req| async move { Ok(()) });
    r.before_delete("Post", |_req| async move { Ok(()) });
    r.define(
        "hello",
        |_req: FunctionRequest| async move { Ok(json!("hi")) },
    );
    r.define(
        "bye",
        |_req: FunctionRequest| async move { Ok(json!("bye")) },
    );
    let api = Arc::new(Api::new(AppConfig::default()));
    api.store().class_mut("Post").settings.permissions =
        lc_model::access::ClassPermissions::from_json(&json!({
            "create": {"*": true}, "find": {"*": true}, "get": {"*": true},
            "update": {"*": true}, "delete": {}, "add_fields": {"*": true}
        }))
        .unwrap();
    api.attach_registry(r).unwrap();
    api
}

/// As the master key or anonymously (the app key).
fn send(api: &Api, master: bool, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let who = if master {
        leancloud::Caller::Master
    } else {
        leancloud::Caller::Anonymous
    };
    crate::support::send(api, &who, method, path, body.as_ref())
}

fn coverage(api: &Api) -> Value {
    assert!(api.idle_blocking(Duration::from_secs(10)));
    let (status, body) = send(api, true, "GET", "/__mock/coverage", None);
    assert_eq!(status, 200, "{body}");
    body
}

#[test]
fn a_run_shows_what_ran_how_it_ended_and_what_nothing_reached_first() {
    let api = app();
    let (_, post) = send(
        &api,
        false,
        "POST",
        "/1.1/classes/Post",
        Some(json!({"title": "a"})),
    );
    let id = post["objectId"].as_str().unwrap();
    send(
        &api,
        false,
        "POST",
        "/1.1/classes/Post",
        Some(json!({"title": ""})),
    );
    send(
        &api,
        false,
        "DELETE",
        &format!("/1.1/classes/Post/{id}"),
        None,
    );
    send(&api, false, "POST", "/1.1/functions/hello", Some(json!({})));
    api.add_fault(Fault::function("hello").unreachable().once())
        .unwrap();
    send(&api, false, "POST", "/1.1/functions/hello", Some(json!({})));
    // A private object: its ACL refuses a client's read.
    let (_, private) = send(
        &api,
        true,
        "POST",
        "/1.1/classes/Post",
        Some(json!({"title": "p", "ACL": {}})),
    );
    let private = private["objectId"].as_str().unwrap();
    send(
        &api,
        false,
        "GET",
        &format!("/1.1/classes/Post/{private}"),
        None,
    );
    send(&api, false, "GET", "/1.1/classes/Post", None);

    let report = coverage(&api);
    let keys: Vec<&String> = report.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["neverReached", "seen"],
        "what nothing reached comes first"
    );
    assert_eq!(report["neverReached"]["functions"], json!(["bye"]));
    assert_eq!(
        report["neverReached"]["hooks"],
        json!(["Post.beforeDelete"])
    );
    let unreached_ops = report["neverReached"]["permissions"].as_array().unwrap();
    assert!(
        unreached_ops.contains(&json!("Post.update")),
        "{unreached_ops:?}"
    );
    assert!(
        !unreached_ops.contains(&json!("Post.create")),
        "{unreached_ops:?}"
    );
    assert_eq!(
        report["seen"]["hooks"]["Post.beforeSave"],
        json!({"accepted": 2, "refused": {"1": 1}, "failed": {}}),
        "the clients' two and the master key's one"
    );
    assert_eq!(report["seen"]["hooks"]["Post.afterSave"]["accepted"], 2);
    assert_eq!(
        report["seen"]["functions"]["hello"],
        json!({"accepted": 1, "refused": {}, "failed": {"unreachable": 1}})
    );
    // The master key's writes decide nothing; the clients' do.
    assert_eq!(
        report["seen"]["permissions"]["Post"]["create"],
        json!({"allowed": 2, "refused": 0})
    );
    assert_eq!(
        report["seen"]["permissions"]["Post"]["delete"],
        json!({"allowed": 0, "refused": 1})
    );
    assert_eq!(
        report["seen"]["acl"]["Post"]["read"]["refused"], 2,
        "{}",
        report["seen"]["acl"]
    );
    assert_eq!(
        report["seen"]["acl"]["Post"]["read"]["allowed"], 1,
        "{}",
        report["seen"]["acl"]
    );
    // 142 (the refused beforeSave), 403 (delete), 503 (the unreachable engine), 403 (read).
    assert_eq!(
        report["seen"]["errors"],
        json!({"142": 1, "403": 2, "503": 1})
    );

    send(&api, true, "DELETE", "/__mock/coverage", None);
    let fresh = coverage(&api);
    assert_eq!(fresh["neverReached"]["functions"], json!(["bye", "hello"]));
    assert_eq!(fresh["seen"]["errors"], json!({}));
    let run = mock_server::api::coverage::run().report();
    assert!(
        run.seen.functions.contains_key("hello"),
        "the run's tally keeps it"
    );
}

#[test]
fn coverage_takes_the_master_key_and_renders_a_page() {
    let api = app();
    let (status, body) = send(&api, false, "GET", "/__mock/coverage", None);
    assert_eq!((status, body["code"].clone()), (400, json!(1)));
    send(&api, false, "POST", "/1.1/functions/hello", Some(json!({})));
    let page = api.coverage().to_html("a run");
    assert!(page.contains("<li class=\"none\">bye</li>"), "{page}");
    assert!(page.contains("<td>hello</td><td>1</td>"), "{page}");
    let dir = std::env::temp_dir().join(format!("lc-mock-coverage-{}", std::process::id()));
    let (json_path, html_path) =
        mock_server::api::coverage::write_report(&api.coverage(), &dir, "test").unwrap();
    let written: Value = serde_json::from_slice(&std::fs::read(json_path).unwrap()).unwrap();
    assert_eq!(written["seen"]["functions"]["hello"]["accepted"], 1);
    assert!(
        std::fs::read_to_string(html_path)
            .unwrap()
            .starts_with("<!doctype html>")
    );
    std::fs::remove_dir_all(dir).unwrap();
}
