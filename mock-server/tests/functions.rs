//! Cloud functions through the emulator: `/1.1/functions` and `/1.1/call` reach the app's
//! cloud code (in-process, or a remote engine over HTTP), with the caller's session.

use leancloud::cloud::{CloudError, FunctionRequest, Registry};
use leancloud::engine::{EngineConfig, serve};
use mock_server::MockLeanCloud;
use mock_server::api::{Api, AppConfig};
use mock_server::http::standalone::Standalone;
use serde_json::{Value, json};
use std::sync::Arc;

fn registry() -> Registry {
    let mut r = Registry::new();
    r.define("hello", |req: FunctionRequest| async move {
        Ok(json!({"hello": req.params["name"].clone()}))
    });
    r.define("whoami", |req: FunctionRequest| async move {
        Ok(req
            .current_user
            .as_ref()
            .and_then(|u| u.get("username").cloned())
            .unwrap_or(Value::Null))
    });
    r.define("refuse", |_req: FunctionRequest| async move {
        Err::<Value, _>(
            CloudError::new("Nope, not today.")
                .with_code(142)
                .with_status(400),
        )
    });
    // Cloud code talks to storage through the same REST client as everyone else.
    r.define("countPosts", |req: FunctionRequest| async move {
        let client = req.client();
        client
            .query("Post")
            .count()
            .await
            .map(Value::from)
            .map_err(CloudError::from_lc)
    });
    r
}

async fn post(
    base: &str,
    cfg: &AppConfig,
    path: &str,
    body: Value,
    session: Option<&str>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("x-lc-id", &cfg.app_id)
        .header("x-lc-key", &cfg.app_key)
        .json(&body);
    if let Some(token) = session {
        req = req.header("x-lc-session", token);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn functions_run_in_process_with_the_callers_session_and_storage() {
    let lc = MockLeanCloud::start_with_cloud(Api::new(AppConfig::default()), registry())
        .await
        .unwrap();
    let (base, cfg) = (lc.uri(), lc.config().clone());
    let (s, b) = post(
        &base,
        &cfg,
        "/1.1/functions/hello",
        json!({"name": "LeanCloud"}),
        None,
    )
    .await;
    assert_eq!((s, b), (200, json!({"result": {"hello": "LeanCloud"}})));

    let (s, user) = post(
        &base,
        &cfg,
        "/1.1/users",
        json!({"username": "ann", "password": "pw"}),
        None,
    )
    .await;
    assert_eq!(s, 201, "{user}");
    let token = user["sessionToken"].as_str().unwrap();
    let (_, b) = post(&base, &cfg, "/1.1/functions/whoami", json!({}), Some(token)).await;
    assert_eq!(b, json!({"result": "ann"}));
    let (_, b) = post(&base, &cfg, "/1.1/call/whoami", json!({}), None).await;
    assert_eq!(b, json!({"result": null}));

    for _ in 0..3 {
        post(&base, &cfg, "/1.1/classes/Post", json!({"t": 1}), None).await;
    }
    let (_, b) = post(&base, &cfg, "/1.1/functions/countPosts", json!({}), None).await;
    assert_eq!(b, json!({"result": 3}));
}

#[tokio::test]
async fn function_errors_and_unknown_functions_answer_as_the_engine_does() {
    let lc = MockLeanCloud::start_with_cloud(Api::new(AppConfig::default()), registry())
        .await
        .unwrap();
    let (base, cfg) = (lc.uri(), lc.config().clone());
    let (s, b) = post(&base, &cfg, "/1.1/functions/refuse", json!({}), None).await;
    assert_eq!(
        (s, b),
        (400, json!({"code": 142, "error": "Nope, not today."}))
    );
    let (s, b) = post(&base, &cfg, "/1.1/functions/nope", json!({}), None).await;
    assert_eq!(
        (s, b),
        (
            404,
            json!({"code": 1, "error": "No such cloud function 'nope'"})
        )
    );
    let (s, b) = post(
        &base,
        &cfg,
        "/1.1/functions/whoami",
        json!({}),
        Some("notatoken0000000000000000"),
    )
    .await;
    assert_eq!(
        s, 401,
        "an unknown session fails the engine's user check: {b}"
    );
    assert_eq!(b["code"], 211);
}

#[tokio::test]
async fn an_app_without_cloud_code_has_no_functions() {
    let lc = MockLeanCloud::start().await;
    let (s, b) = post(
        &lc.uri(),
        lc.config(),
        "/1.1/functions/hello",
        json!({}),
        None,
    )
    .await;
    assert_eq!(
        (s, b),
        (
            404,
            json!({"code": 1, "error": "No such cloud function 'hello'"})
        )
    );
}

/// The deployed topology on one machine: storage (the standalone server) and a remote
/// engine over HTTP, each calling the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_engine_serves_functions_and_calls_storage_back_over_http() {
    let cfg = AppConfig::default();
    let api = Arc::new(Api::new(cfg.clone()));
    let storage = Standalone::start("127.0.0.1:0".parse().unwrap(), api.clone())
        .await
        .unwrap();
    let engine_config = EngineConfig::new(
        cfg.app_id.clone(),
        cfg.app_key.clone(),
        cfg.master_key.clone(),
    )
    .with_hook_key(cfg.hook_key.clone())
    .with_api_server(storage.uri());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let engine_url = format!("http://{}", listener.local_addr().unwrap());
    let engine = tokio::spawn(serve(listener, registry(), engine_config));
    api.attach_cloud(Arc::new(leancloud::transport::HttpTransport::new(
        &engine_url,
    )))
    .unwrap();

    post(
        &storage.uri(),
        &cfg,
        "/1.1/classes/Post",
        json!({"t": 1}),
        None,
    )
    .await;
    let (s, b) = post(
        &storage.uri(),
        &cfg,
        "/1.1/functions/countPosts",
        json!({}),
        None,
    )
    .await;
    assert_eq!((s, b), (200, json!({"result": 1})));
    let (s, b) = post(
        &storage.uri(),
        &cfg,
        "/1.1/functions/hello",
        json!({"name": "remote"}),
        None,
    )
    .await;
    assert_eq!((s, b), (200, json!({"result": {"hello": "remote"}})));
    engine.abort();
}
