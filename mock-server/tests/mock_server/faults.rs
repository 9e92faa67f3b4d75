//! Faults in the hook chain (`POST`/`GET`/`DELETE /__mock/faults`, `Api::add_fault`): a
//! named hook or function fails, answers late, never answers or cannot be reached; a
//! storage write of a class fails; for the next N calls or a time on the app's clock,
//! and never after a reset.

use leancloud::cloud::{CloudError, FunctionRequest, Registry};
use mock_server::api::cloud::HookTimeouts;
use mock_server::api::faults::Fault;
use mock_server::api::{Api, AppConfig};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `Post`: beforeSave marks it checked; afterSave writes a `Log` row (a cascade).
/// `hello` answers `hi`.
fn app() -> Arc<Api> {
    let mut r = Registry::new();
    r.before_save("Post", |req| async move {
        let mut post = req.object;
        post["checked"] = json!(true);
        Ok(post)
    });
    r.after_save("Post", |req| async move {
        req.client()
            .create("Log", &json!({"post": req.object_id()}))
            .await
            .map_err(CloudError::from_lc)?;
        Ok(())
    });
    r.define(
        "hello",
        |_req: FunctionRequest| async move { Ok(json!("hi")) },
    );
    let api = Arc::new(Api::new(AppConfig::default()));
    let timeouts = HookTimeouts {
        before: Duration::from_millis(300),
        after: Duration::from_millis(300),
    };
    api.attach_registry_with(r, timeouts).unwrap();
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

fn create_post(api: &Api) -> (u16, Value) {
    send(
        api,
        false,
        "POST",
        "/1.1/classes/Post",
        Some(json!({"title": "t"})),
    )
}

/// How many rows `class` holds, once every after-hook has finished.
fn count(api: &Api, class: &str) -> usize {
    assert!(api.idle_blocking(Duration::from_secs(10)));
    api.read_store().class(class).map_or(0, |c| c.objects.len())
}

fn fault(api: &Api, body: Value) -> Value {
    let (status, answer) = send(api, true, "POST", "/__mock/faults", Some(body));
    assert_eq!(status, 200, "{answer}");
    answer
}

#[test]
fn a_before_hook_that_fails_once_refuses_one_write_with_its_message_then_runs_again() {
    let api = app();
    let armed = fault(
        &api,
        json!({"class": "Post", "hook": "beforeSave", "fail": {"code": 1, "error": "no posts today"}, "times": 1}),
    );
    assert_eq!(armed["left"], 1);
    assert_eq!(armed["fired"], 0);
    let (status, body) = create_post(&api);
    assert_eq!(
        (status, body),
        (
            400,
            json!({"code": 142, "error": "Cloud Code validation failed. Error detail : no posts today"})
        )
    );
    assert_eq!(count(&api, "Post"), 0, "nothing stored");
    let (_, listed) = send(&api, true, "GET", "/__mock/faults", None);
    assert_eq!(listed, json!({"results": []}), "used up");
    let (status, body) = create_post(&api);
    assert_eq!(status, 201, "{body}");
    assert_eq!(count(&api, "Post"), 1);
}

#[test]
fn a_failing_after_save_leaves_the_object_without_its_cascade() {
    let api = app();
    api.add_fault(
        Fault::hook("Post", "afterSave")
            .fails(1, "cascade broke")
            .once(),
    )
    .unwrap();
    let (status, _) = create_post(&api);
    assert_eq!(status, 201, "the client never hears of an after-hook");
    assert_eq!((count(&api, "Post"), count(&api, "Log")), (1, 0));
    let traced = api.traces();
    let hook = &traced[0]["hooks"][1];
    assert_eq!(hook["hook"], "afterSave", "{hook}");
    assert_eq!(hook["error"]["error"], "cascade broke", "{hook}");
    create_post(&api);
    assert_eq!((count(&api, "Post"), count(&api, "Log")), (2, 1));
}

#[test]
fn a_failing_storage_write_inside_the_cascade_stops_it_there() {
    let api = app();
    api.add_fault(Fault::write("Log").fails(600, "disk full").only("create"))
        .unwrap();
    create_post(&api);
    assert_eq!((count(&api, "Post"), count(&api, "Log")), (1, 0));
    // A client's own write of the class gets the code, and nothing is stored.
    let (status, body) = send(&api, true, "POST", "/1.1/classes/Log", Some(json!({})));
    assert_eq!(
        (status, body),
        (400, json!({"code": 600, "error": "disk full"}))
    );
    assert_eq!(count(&api, "Log"), 0);
    // Only creates: another class, and an update of the class, go through.
    let (status, _) = send(&api, true, "POST", "/1.1/classes/Other", Some(json!({})));
    assert_eq!(status, 201);
}

#[test]
fn a_late_hook_is_waited_for_and_one_past_the_wait_or_hanging_is_141() {
    let api = app();
    api.add_fault(
        Fault::hook("Post", "beforeSave")
            .delays(Duration::from_millis(100))
            .once(),
    )
    .unwrap();
    let began = Instant::now();
    let (status, body) = create_post(&api);
    assert_eq!(status, 201, "{body}");
    assert!(began.elapsed() >= Duration::from_millis(100));
    for late in [
        json!({"class": "Post", "hook": "beforeSave", "delayMs": 2_000, "times": 1}),
        json!({"class": "Post", "hook": "beforeSave", "hang": true, "times": 1}),
    ] {
        fault(&api, late);
        let (status, body) = create_post(&api);
        assert_eq!((status, body["code"].clone()), (400, json!(141)), "{body}");
    }
    assert_eq!(count(&api, "Post"), 1);
}

#[test]
fn an_unreachable_engine_refuses_a_before_hook_and_a_function_as_the_platform_does() {
    let api = app();
    fault(
        &api,
        json!({"class": "Post", "hook": "beforeSave", "unreachable": true, "times": 1}),
    );
    let (status, body) = create_post(&api);
    assert_eq!((status, body["code"].clone()), (400, json!(142)), "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{body}"
    );
    fault(
        &api,
        json!({"function": "hello", "unreachable": true, "times": 1}),
    );
    let (status, body) = send(&api, false, "POST", "/1.1/functions/hello", Some(json!({})));
    assert_eq!((status, body["code"].clone()), (503, json!(503)), "{body}");
    let (status, body) = send(&api, false, "POST", "/1.1/functions/hello", Some(json!({})));
    assert_eq!((status, body), (200, json!({"result": "hi"})));
}

#[test]
fn a_failing_function_answers_its_code_message_and_status_for_n_calls() {
    let api = app();
    api.add_fault(Fault::function("hello").fails(7, "try later").times(2))
        .unwrap();
    for _ in 0..2 {
        let (status, body) = send(&api, false, "POST", "/1.1/call/hello", Some(json!({})));
        assert_eq!(
            (status, body),
            (400, json!({"code": 7, "error": "try later"}))
        );
    }
    let (status, _) = send(&api, false, "POST", "/1.1/call/hello", Some(json!({})));
    assert_eq!(status, 200);
    fault(
        &api,
        json!({"function": "hello", "fail": {"code": 1, "status": 502}}),
    );
    let (status, _) = send(&api, false, "POST", "/1.1/call/hello", Some(json!({})));
    assert_eq!(status, 502);
}

#[test]
fn a_fault_for_a_time_ends_when_the_app_clock_passes_it() {
    let api = app();
    api.clock().freeze();
    let armed = fault(
        &api,
        json!({"function": "hello", "fail": {"code": 1, "error": "down"}, "forMs": 60_000}),
    );
    assert_eq!(armed["left"], json!(null));
    assert!(armed["until"].is_string(), "{armed}");
    for _ in 0..3 {
        let (status, _) = send(&api, false, "POST", "/1.1/call/hello", Some(json!({})));
        assert_eq!(status, 400);
    }
    api.clock().advance(60_000);
    let (status, _) = send(&api, false, "POST", "/1.1/call/hello", Some(json!({})));
    assert_eq!(status, 200);
    assert!(api.faults().is_empty());
}

#[test]
fn reset_and_delete_disarm_every_fault() {
    let api = app();
    api.add_fault(Fault::hook("Post", "beforeSave")).unwrap();
    api.add_fault(Fault::function("hello")).unwrap();
    let (_, listed) = send(&api, true, "GET", "/__mock/faults", None);
    assert_eq!(listed["results"].as_array().unwrap().len(), 2);
    assert_eq!(listed["results"][0]["fail"]["error"], "injected fault");
    api.reset();
    assert_eq!(create_post(&api).0, 201);
    api.add_fault(Fault::hook("Post", "beforeSave")).unwrap();
    let (status, _) = send(&api, true, "DELETE", "/__mock/faults", None);
    assert_eq!(status, 200);
    assert_eq!(create_post(&api).0, 201);
}

#[test]
fn faults_take_the_master_key_and_refuse_what_they_cannot_do() {
    let api = app();
    let (status, body) = send(
        &api,
        false,
        "POST",
        "/__mock/faults",
        Some(json!({"function": "hello", "hang": true})),
    );
    assert_eq!((status, body["code"].clone()), (400, json!(1)), "{body}");
    for bad in [
        json!({}),
        json!({"function": "hello"}),
        json!({"function": "hello", "hang": true, "unreachable": true}),
        json!({"class": "Post", "fail": {"code": 1}}),
        json!({"function": "hello", "write": "Post", "hang": true}),
        json!({"write": "Post", "hang": true}),
        json!({"write": "Post", "op": "read", "fail": {"code": 1}}),
        json!({"function": "hello", "op": "create", "fail": {"code": 1}}),
        json!({"function": "hello", "fail": {"code": "one"}}),
        json!({"function": "hello", "fail": {"code": 1, "status": 200}}),
        json!({"function": "hello", "delayMs": 3_600_000}),
        json!({"function": "hello", "hang": true, "times": 0}),
        json!({"function": "hello", "hang": true, "forMs": -5}),
        json!({"function": "", "hang": true}),
        json!({"function": "hello", "hang": true, "often": 2}),
    ] {
        let (status, body) = send(&api, true, "POST", "/__mock/faults", Some(bad.clone()));
        assert_eq!(
            (status, body["code"].clone()),
            (400, json!(107)),
            "{bad}: {body}"
        );
    }
    assert!(api.faults().is_empty(), "nothing armed");
    for _ in 0..mock_server::api::faults::MAX_FAULTS {
        api.add_fault(Fault::function("other")).unwrap();
    }
    let (status, body) = send(
        &api,
        true,
        "POST",
        "/__mock/faults",
        Some(json!({"function": "hello", "hang": true})),
    );
    assert_eq!((status, body["code"].clone()), (400, json!(1)), "{body}");
}
