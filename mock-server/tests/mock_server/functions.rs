//! Cloud functions through the emulator: `/1.1/functions` and `/1.1/call` reach the app's
//! cloud code (in-process, or a remote engine over HTTP), with the caller's session.

use leancloud::cloud::{CloudError, FunctionRequest, Registry};
use leancloud::engine::{EngineConfig, serve};
use leancloud::error::code;
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
                .with_code(code::VALIDATION_ERROR)
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
    assert_eq!(b["code"], code::USER_NOT_FOUND);
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

// ---- an engine that fails: the client gets the platform's error, never a 200 ----------------

use futures::future::BoxFuture;
use leancloud::transport::HttpTransport;
use leancloud::{LcError, Request, Response, Transport};
use mock_server::api::cloud::HookTimeouts;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How an engine stand-in answers a cloud function (the hook list it answers properly:
/// 404, no hooks).
#[derive(Debug, Clone, Copy)]
enum Engine {
    /// Reads the request, then closes the connection without a word.
    ClosesBeforeAnswering,
    /// Starts a 200 answer, then closes the connection halfway through its body.
    ClosesMidAnswer,
    NotJson,
    EmptyBody,
    Null,
    /// An error body with 200, which SDKs would take for a success.
    ErrorWith200,
    /// A proxy's HTML error page.
    HtmlError,
    /// Never answers.
    Silent,
    /// A function's own error, as the Node engine sends it.
    FunctionError,
}

/// A whole HTTP answer with `body`.
fn http(status_line: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status_line}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

impl Engine {
    fn reply(self) -> Option<String> {
        let json = "application/json";
        Some(match self {
            Engine::ClosesBeforeAnswering => String::new(),
            // Says 40 bytes, sends 6.
            Engine::ClosesMidAnswer => {
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"resu".into()
            }
            Engine::NotJson => http("200 OK", "text/plain", "hello"),
            Engine::EmptyBody => http("200 OK", json, ""),
            Engine::Null => http("200 OK", json, "null"),
            Engine::ErrorWith200 => http("200 OK", json, r#"{"code":107,"error":"malformed"}"#),
            Engine::HtmlError => http("502 Bad Gateway", "text/html", "<h1>Bad Gateway</h1>"),
            Engine::Silent => return None,
            Engine::FunctionError => http(
                "400 Bad Request",
                json,
                r#"{"code":1,"error":"custom failure"}"#,
            ),
        })
    }
}

/// Read one HTTP request off `sock`: its request line.
async fn read_request(sock: &mut TcpStream) -> String {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = sock.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if raw.len() >= end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&raw)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

/// An engine stand-in on 127.0.0.1 that misbehaves as `engine` says: its URL.
async fn engine_stand_in(engine: Engine) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let line = read_request(&mut sock).await;
                let reply = if line.contains("/_ops/metadatas") {
                    http("404 Not Found", "application/json", "{}")
                } else {
                    match engine.reply() {
                        Some(reply) => reply,
                        None => {
                            // Hold the connection open, answering nothing.
                            tokio::time::sleep(Duration::from_secs(60)).await;
                            return;
                        }
                    }
                };
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    url
}

/// A URL nothing listens on: the connection is refused.
async fn engine_down() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// `lc-mock serve`'s topology: the standalone server, its cloud code at `engine_url`,
/// a function waited for 500 ms.
async fn storage_with_engine(engine_url: &str) -> Standalone {
    let api = Arc::new(Api::new(AppConfig::default()));
    api.attach_cloud_waiting(
        Arc::new(HttpTransport::new(engine_url)),
        HookTimeouts::default(),
        Duration::from_millis(500),
    )
    .unwrap();
    Standalone::start("127.0.0.1:0".parse().unwrap(), api)
        .await
        .unwrap()
}

/// POST `body` to `path`: the status and the raw body, whatever it is.
async fn post_raw(base: &str, path: &str) -> (u16, Vec<u8>) {
    let cfg = AppConfig::default();
    let resp = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("x-lc-id", &cfg.app_id)
        .header("x-lc-key", &cfg.app_key)
        .json(&json!({"a": 1}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.bytes().await.unwrap().to_vec())
}

/// Both routes to a function answer `(status, code)` with a LeanCloud-shaped body, and
/// the server still serves afterwards.
async fn both_routes_answer(base: &str, status: u16, code: i64) {
    for path in ["/1.1/functions/fn", "/1.1/call/fn"] {
        let (s, body) = post_raw(base, path).await;
        let body: Value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| panic!("{path}: not JSON: {}", String::from_utf8_lossy(&body)));
        assert_eq!((s, &body["code"]), (status, &json!(code)), "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    let cfg = AppConfig::default();
    let date = reqwest::Client::new()
        .get(format!("{base}/1.1/date"))
        .header("x-lc-id", &cfg.app_id)
        .header("x-lc-key", &cfg.app_key)
        .send()
        .await
        .unwrap();
    assert_eq!(date.status(), 200, "the server keeps serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_whose_engine_is_down_is_503_code_503_never_200() {
    let storage = storage_with_engine(&engine_down().await).await;
    both_routes_answer(&storage.uri(), 503, code::ENGINE_UNAVAILABLE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_whose_engine_closes_the_connection_before_or_during_its_answer_is_524() {
    for engine in [Engine::ClosesBeforeAnswering, Engine::ClosesMidAnswer] {
        let storage = storage_with_engine(&engine_stand_in(engine).await).await;
        both_routes_answer(&storage.uri(), 524, code::ENGINE_NO_VALID_ANSWER).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_whose_engine_answers_something_that_is_no_function_answer_is_524() {
    for engine in [
        Engine::NotJson,
        Engine::EmptyBody,
        Engine::Null,
        Engine::ErrorWith200,
        Engine::HtmlError,
    ] {
        let storage = storage_with_engine(&engine_stand_in(engine).await).await;
        both_routes_answer(&storage.uri(), 524, code::ENGINE_NO_VALID_ANSWER).await;
        let (_, body) = post_raw(&storage.uri(), "/1.1/functions/fn").await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert!(
            body["error"].as_str().unwrap().contains("HTTP "),
            "{engine:?}: the message says what the engine answered: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_whose_engine_never_answers_is_503_code_124() {
    let storage = storage_with_engine(&engine_stand_in(Engine::Silent).await).await;
    both_routes_answer(&storage.uri(), 503, code::TIMEOUT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_error_the_engine_answered_passes_through_with_its_status_and_body() {
    let storage = storage_with_engine(&engine_stand_in(Engine::FunctionError).await).await;
    for path in ["/1.1/functions/fn", "/1.1/call/fn"] {
        let (s, body) = post_raw(&storage.uri(), path).await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (s, body),
            (400, json!({"code": 1, "error": "custom failure"})),
            "{path}"
        );
    }
}

/// An engine reached without a socket, answering every function call with `answer`.
struct InProcessEngine(Result<Response, LcError>);

impl Transport for InProcessEngine {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
        let answer = if request.path.ends_with("/_ops/metadatas") {
            Ok(Response::json(404, &json!({})))
        } else {
            self.0.clone()
        };
        Box::pin(std::future::ready(answer))
    }
}

/// An engine whose answer to a function never comes.
struct PendingEngine;

impl Transport for PendingEngine {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
        if request.path.ends_with("/_ops/metadatas") {
            return Box::pin(std::future::ready(Ok(Response::json(404, &json!({})))));
        }
        Box::pin(futures::future::pending())
    }
}

fn raw(status: u16, body: &str) -> Result<Response, LcError> {
    Ok(Response {
        status,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_engine_failures_get_the_same_answers_on_both_routes() {
    let cases: Vec<(Arc<dyn Transport>, u16, i64)> = vec![
        (
            Arc::new(InProcessEngine(Err(LcError::connection_failed("refused")))),
            503,
            503,
        ),
        (
            Arc::new(InProcessEngine(Err(LcError::connection_lost("reset")))),
            524,
            524,
        ),
        (
            Arc::new(InProcessEngine(raw(200, ""))),
            524,
            code::ENGINE_NO_VALID_ANSWER,
        ),
        (
            Arc::new(InProcessEngine(raw(200, "null"))),
            524,
            code::ENGINE_NO_VALID_ANSWER,
        ),
        (
            Arc::new(InProcessEngine(raw(201, "[1]"))),
            524,
            code::ENGINE_NO_VALID_ANSWER,
        ),
        (
            Arc::new(InProcessEngine(raw(500, "{\"code\":7}"))),
            524,
            524,
        ),
        (
            Arc::new(InProcessEngine(raw(
                418,
                "{\"code\":418,\"error\":\"teapot\"}",
            ))),
            418,
            418,
        ),
        (Arc::new(PendingEngine), 503, code::TIMEOUT),
    ];
    for (engine, status, code) in cases {
        let api = Api::new(AppConfig::default());
        api.attach_cloud_waiting(engine, HookTimeouts::default(), Duration::from_millis(100))
            .unwrap();
        for path in ["/1.1/functions/fn", "/1.1/call/fn"] {
            let request = Request::new("POST", path)
                .with_header("x-lc-id", "lc-mock-app")
                .with_header("x-lc-key", "lc-mock-key")
                .with_json(&json!({}));
            let answer = api.handle(&request);
            let body = answer.body_json().unwrap();
            assert_eq!(
                (answer.status, &body["code"]),
                (status, &json!(code)),
                "{path}: {body}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_over_the_engines_own_timeout_is_its_503_code_124_on_both_routes() {
    let mut registry = Registry::new();
    registry.set_timeout(Duration::from_millis(50));
    registry.define("slow", |_req: FunctionRequest| async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(json!("late"))
    });
    let lc = MockLeanCloud::start_with_cloud(Api::new(AppConfig::default()), registry)
        .await
        .unwrap();
    for path in ["/1.1/functions/slow", "/1.1/call/slow"] {
        let (s, b) = post(&lc.uri(), lc.config(), path, json!({}), None).await;
        assert_eq!(
            (s, b),
            (
                503,
                json!({"code": 124, "error": "The request timed out on the server."})
            ),
            "{path}"
        );
    }
}
