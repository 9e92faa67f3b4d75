//! Faults around the requests: malformed params and hook bodies, wrong hook keys, the
//! preflight, the engine as a transport, its config, a storage server that never answers.

use super::transcript::{is_ping, transcript_cases};
use super::*;

// ---- faults ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_panicking_function_or_hook_is_a_500_and_the_engine_keeps_serving() {
    let mut registry = transcript_registry();
    registry.after_delete("Crash", |_req| async move {
        let items: Vec<u8> = Vec::new();
        let _ = items[3];
        Ok(())
    });
    let storage = Arc::new(FakeStorage::default());
    let engine = start(registry, config(&storage)).await.unwrap();
    for _ in 0..3 {
        let crash = post("/1.1/functions/plainThrow", APP, "{}");
        assert_eq!(
            send(&engine, crash).await,
            (500, json!({"code": 1, "error": "unexpected crash"}))
        );
    }
    let crash = post(
        "/1.1/functions/Crash/afterDelete",
        HOOK,
        r#"{"object":{"objectId":"c"}}"#,
    );
    let (status, body) = send(&engine, crash).await;
    assert_eq!((status, &body["code"]), (500, &json!(1)));
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("index out of bounds"),
        "{body}"
    );
    let hello = post("/1.1/functions/hello", APP, "{}");
    assert_eq!(
        send(&engine, hello).await,
        (200, json!({"result": "Hello world"}))
    );
}

#[tokio::test]
async fn a_hanging_function_times_out_with_503_code_124_and_others_still_answer() {
    let (engine, _storage) = engine().await;
    let started = Instant::now();
    let slow = send(&engine, post("/1.1/functions/slow", APP, "{}"));
    let hello = send(&engine, post("/1.1/functions/hello", APP, "{}"));
    let (slow, hello) = futures::join!(slow, hello);
    assert_eq!(
        slow,
        (
            503,
            json!({"code": 124, "error": "The request timed out on the server."})
        )
    );
    assert_eq!(hello, (200, json!({"result": "Hello world"})));
    let took = started.elapsed();
    assert!(
        took >= TIMEOUT && took < Duration::from_secs(10),
        "{took:?}"
    );
}

#[tokio::test]
async fn garbage_bodies_are_400_before_the_credentials_are_read() {
    let (engine, _storage) = engine().await;
    for (body, headers) in [
        ("{not json", APP),
        ("\"a string\"", APP),
        ("{not json", &["Content-Type: application/json"][..]),
    ] {
        let (status, answer) = send(&engine, post("/1.1/functions/hello", headers, body)).await;
        assert_eq!(
            (status, &answer["code"]),
            (400, &json!(1)),
            "{body}: {answer}"
        );
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .starts_with("Malformed JSON body: ")
        );
    }
}

#[tokio::test]
async fn malformed_typed_params_of_an_rpc_call_are_refused() {
    let (engine, _storage) = engine().await;
    let body = r#"{"when":{"__type":"Date","iso":"yesterday"}}"#;
    let (status, answer) = send(&engine, post("/1.1/call/rpcEchoTypes", APP, body)).await;
    assert_eq!((status, &answer["code"]), (400, &json!(111)), "{answer}");
    // The same params are only JSON to /functions.
    let (status, _) = send(&engine, post("/1.1/functions/rpcEchoTypes", APP, body)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn non_object_params_reach_the_function_as_they_are() {
    let (engine, _storage) = engine().await;
    let (status, answer) = send(&engine, post("/1.1/functions/echo", APP, "[1,2]")).await;
    assert_eq!((status, &answer["result"]["params"]), (200, &json!([1, 2])));
    let form = [
        "X-LC-Id: testAppId-MdYXbMMI",
        "X-LC-Key: testAppKey",
        "Content-Type: application/x-www-form-urlencoded",
    ];
    let (status, answer) = send(&engine, post("/1.1/functions/hello", &form, "name=form")).await;
    assert_eq!((status, answer), (200, json!({"result": "Hello form"})));
}

#[tokio::test]
async fn hook_bodies_without_an_object_are_refused_clearly() {
    let (engine, _storage) = engine().await;
    for body in ["{}", r#"{"object":[1]}"#, "[1]"] {
        let (status, answer) =
            send(&engine, post("/1.1/functions/Post/beforeSave", HOOK, body)).await;
        assert_eq!(
            (status, &answer["code"]),
            (400, &json!(1)),
            "{body}: {answer}"
        );
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .starts_with("Invalid hook request: ")
        );
    }
}

#[tokio::test]
async fn missing_or_wrong_keys_are_401_whatever_the_route() {
    let (engine, _storage) = engine().await;
    let unauthorized = (401, json!({"code": 401, "error": "Unauthorized."}));
    for request in [
        post(
            "/1.1/functions/Post/beforeSave",
            &["X-LC-Hook-Key: testHookKey"],
            r#"{"object":{}}"#,
        ),
        post(
            "/1.1/call/hello",
            &["X-LC-Id: other", "X-LC-Key: testAppKey"],
            "{}",
        ),
        post(
            "/1.1/functions/hello",
            &["X-LC-Id: testAppId-MdYXbMMI", "X-LC-Key: testAppKey,master"],
            "{}",
        ),
        post(
            "/1.1/functions/hello",
            &["X-LC-Id: testAppId-MdYXbMMI", "X-LC-Sign: 0,1"],
            "{}",
        ),
        post(
            "/1.1/functions/echo",
            &["Content-Type: text/plain"],
            r#"{"_ApplicationId":"testAppId-MdYXbMMI","_ApplicationKey":"nope"}"#,
        ),
        Request::new("GET", "/1.1/functions/_ops/metadatas"),
    ] {
        assert_eq!(
            send(&engine, request.clone()).await,
            unauthorized,
            "{request:?}"
        );
    }
}

#[tokio::test]
async fn a_wrong_hook_key_fails_every_hook_even_undefined_ones() {
    let (engine, _storage) = engine().await;
    let wrong = with(APP, &["X-LC-Hook-Key: wrong"]);
    for path in [
        "/1.1/functions/Post/beforeSave",
        "/1.1/functions/Comment/afterSave",
        "/1.1/functions/_User/onLogin",
        "/1.1/functions/onVerified/email",
        "/1.1/functions/_User/onAuthData",
    ] {
        let request = post(path, &wrong, r#"{"object":{}}"#).with_header("x-real-ip", "192.0.2.1");
        assert_eq!(
            send(&engine, request).await,
            (
                401,
                json!({"code": 401, "error": "Hook key check failed, request from 192.0.2.1"})
            ),
            "{path}"
        );
    }
}

#[tokio::test]
async fn undefined_user_hooks_and_unknown_hook_names_are_404() {
    let storage = Arc::new(FakeStorage::default());
    let engine = start(Registry::new(), config(&storage)).await.unwrap();
    for (path, message) in [
        ("/1.1/functions/_User/onLogin", "No such hook: onLogin"),
        (
            "/1.1/functions/onVerified/email",
            "No such hook: onVerified",
        ),
        ("/1.1/functions/onVerified/fax", "No such hook: onVerified"),
        (
            "/1.1/functions/Post/onSomething",
            "No onSomething hook of 'Post'",
        ),
    ] {
        assert_eq!(
            send(&engine, post(path, HOOK, r#"{"object":{}}"#)).await,
            (404, json!({"code": 1, "error": message})),
            "{path}"
        );
    }
}

#[tokio::test]
async fn paths_outside_the_protocol_get_a_loud_404() {
    let (engine, _storage) = engine().await;
    let (status, body) = send(&engine, post("/1.1/classes/Post", APP, "{}")).await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"code": 1, "error": "The cloud engine does not serve POST /1.1/classes/Post: no such route."})
        )
    );
    let (status, body) = send(&engine, post("/1.1/functions", APP, "{}")).await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"code": 1, "error": "No function name or class name: /1.1/functions"})
        )
    );
}

#[tokio::test]
async fn a_body_over_20_mb_is_413() {
    let (engine, _storage) = engine().await;
    let mut body = vec![b' '; 20 * 1024 * 1024];
    body.extend_from_slice(b"{}");
    let mut request = post("/1.1/functions/hello", APP, "");
    request.body = body;
    assert_eq!(
        send(&engine, request).await,
        (413, json!({"code": 1, "error": "request entity too large"}))
    );
}

#[tokio::test]
async fn the_preflight_advertises_the_hook_key_header() {
    let (engine, _storage) = engine().await;
    let request =
        Request::new("OPTIONS", "/1.1/functions/hello").with_header("origin", "http://a.example");
    let response = HttpTransport::new(&engine.uri())
        .send(request)
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("http://a.example")
    );
    assert!(
        response
            .header("access-control-allow-headers")
            .unwrap()
            .contains("X-LC-Hook-Key")
    );
}

#[tokio::test]
async fn the_engine_is_a_transport_that_answers_in_process_as_over_http() {
    let storage = Arc::new(FakeStorage::default());
    let engine = Engine::new(transcript_registry(), config(&storage));
    let over_http = start(transcript_registry(), config(&storage))
        .await
        .unwrap();
    for case in transcript_cases().into_iter().filter(|c| !is_ping(c)) {
        let in_process = engine.send(case.request()).await.unwrap();
        let answer = (in_process.status, in_process.body_json().unwrap());
        assert_eq!(
            answer,
            send(&over_http, case.request()).await,
            "{}",
            case.title
        );
    }
}

#[test]
fn the_config_reads_the_real_engines_variables() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let config = EngineConfig::from_vars(vars(&[
        ("LEANCLOUD_APP_ID", "id"),
        ("LEANCLOUD_APP_KEY", "key"),
        ("LEANCLOUD_APP_MASTER_KEY", "master"),
        ("LEANCLOUD_APP_HOOK_KEY", "hook"),
        ("LEANCLOUD_APP_PORT", "3001"),
        ("LEANCLOUD_API_SERVER", "http://127.0.0.1:8080"),
    ]))
    .unwrap();
    assert_eq!(
        (
            config.app_id.as_str(),
            config.app_key.as_str(),
            config.master_key.as_str()
        ),
        ("id", "key", "master")
    );
    assert_eq!(config.hook_key.as_deref(), Some("hook"));
    assert_eq!(config.port, 3001);
    assert_eq!(config.api_server.as_deref(), Some("http://127.0.0.1:8080"));

    let defaults = EngineConfig::from_vars(vars(&[
        ("LEANCLOUD_APP_ID", "id"),
        ("LEANCLOUD_APP_KEY", "key"),
        ("LEANCLOUD_APP_MASTER_KEY", "master"),
        ("LC_API_SERVER", "http://old"),
    ]))
    .unwrap();
    assert_eq!((defaults.port, defaults.hook_key), (3000, None));
    assert_eq!(defaults.api_server.as_deref(), Some("http://old"));

    assert_eq!(
        EngineConfig::from_vars(vars(&[("LEANCLOUD_APP_ID", "id")])).unwrap_err(),
        "LEANCLOUD_APP_KEY is not set"
    );
    let bad_port = EngineConfig::from_vars(vars(&[
        ("LEANCLOUD_APP_ID", "id"),
        ("LEANCLOUD_APP_KEY", "key"),
        ("LEANCLOUD_APP_MASTER_KEY", "master"),
        ("LEANCLOUD_APP_PORT", "http"),
    ]));
    assert!(bad_port.unwrap_err().contains("LEANCLOUD_APP_PORT"));
}

/// A storage server that never answers.
struct SilentStorage;

impl Transport for SilentStorage {
    fn send(&self, _request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
        futures::future::pending().boxed()
    }
}

#[tokio::test]
async fn a_storage_server_that_never_answers_the_user_lookup_times_out_too() {
    let config = EngineConfig::new(APP_ID, APP_KEY, MASTER_KEY)
        .with_storage_transport(Arc::new(SilentStorage));
    let engine = start(transcript_registry(), config).await.unwrap();
    let request = post(
        "/1.1/functions/whoami",
        &with(APP, &["X-LC-Session: fake-session-token-x"]),
        "{}",
    );
    assert_eq!(
        send(&engine, request).await,
        (
            503,
            json!({"code": 124, "error": "The request timed out on the server."})
        )
    );
}

#[test]
fn the_engine_answers_in_process_without_a_tokio_runtime() {
    let storage = Arc::new(FakeStorage::default());
    let engine = Engine::new(transcript_registry(), config(&storage));
    let request = post(
        "/1.1/functions/whoami",
        &with(APP, &["X-LC-Session: fake-session-token-x"]),
        "{}",
    );
    let response = futures::executor::block_on(engine.send(request)).unwrap();
    assert_eq!(
        (response.status, response.body_json().unwrap()),
        (200, json!({"result": {"id": "u1", "username": "me"}}))
    );
    let save = post(
        "/1.1/functions/Post/beforeSave",
        HOOK,
        r#"{"object":{"title":"t"}}"#,
    );
    let response = futures::executor::block_on(engine.send(save)).unwrap();
    assert_eq!(response.status, 200);
}
