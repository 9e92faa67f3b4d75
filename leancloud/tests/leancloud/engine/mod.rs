//! The engine server answers the requests of the official engines' transcripts as the
//! Node engine (leanengine 3.8.0) answered them, and survives the faults around them.
//!
//! The transcript cases are hard-coded below (`transcript::transcript_cases`); when
//! `../shared/examples/leanengine-3.8.0-curl-transcript.md` exists beside the workspace,
//! `transcript::every_request_of_the_node_transcript_gets_the_node_engines_answer` also replays the
//! file itself and checks that the hard-coded table still says the same.

mod faults;
mod sessions_and_routes;
mod transcript;

use crate::support::send;
use crate::transcripts;

use futures::FutureExt;
use futures::future::BoxFuture;
use leancloud::cloud::{CloudError, FunctionOptions, Registry, VerifyType};
use leancloud::engine::{Engine, EngineConfig, RunningEngine, start};
use leancloud::error::code;
use leancloud::transport::HttpTransport;
use leancloud::value::{Date, LcValue, Object, Pointer};
use leancloud::{LcError, Request, Response, Transport};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const APP_ID: &str = "testAppId-MdYXbMMI";
const APP_KEY: &str = "testAppKey";
const MASTER_KEY: &str = "testMasterKey";
const HOOK_KEY: &str = "testHookKey";
const SESSION: &str = "fake-session-token-x";
/// How long the test registry lets a handler run (`slow` runs longer).
const TIMEOUT: Duration = Duration::from_millis(500);

// ---- a fake storage server ----------------------------------------------------------------

/// The storage server the engine calls back: `GET /1.1/users/me` knows one session;
/// writes are recorded and answered like the real service.
#[derive(Default)]
struct FakeStorage {
    requests: Mutex<Vec<Request>>,
}

impl FakeStorage {
    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Transport for FakeStorage {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
        self.requests.lock().unwrap().push(request.clone());
        let response = match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/1.1/users/me") => match request.header("x-lc-session") {
                Some(SESSION) => Response::json(
                    200,
                    &json!({
                        "objectId": "u1", "username": "me", "sessionToken": SESSION,
                        "createdAt": "2020-01-01T00:00:00.000Z",
                        "updatedAt": "2020-01-01T00:00:00.000Z"
                    }),
                ),
                _ => Response::error(&LcError::user_not_found()),
            },
            ("PUT", path) if path.starts_with("/1.1/classes/") => Response::json(
                200,
                &json!({"objectId": path.rsplit('/').next(), "updatedAt": "2020-01-02T00:00:00.000Z"}),
            ),
            (method, path) => Response::error(&LcError::route_not_found(method, path)),
        };
        async move { Ok(response) }.boxed()
    }
}

// ---- the transcript's cloud code, in Rust ---------------------------------------------------

/// The functions and hooks the Node transcript's engine ran, in the order it defined them
/// (the metadata list shows that order).
fn transcript_registry() -> Registry {
    let mut r = Registry::new().with_timeout(TIMEOUT);
    r.define("hello", |req| async move {
        let name = req.params["name"].as_str().unwrap_or("world").to_string();
        Ok(json!(format!("Hello {name}")))
    });
    r.define("echo", |req| async move {
        Ok(json!({"params": req.params, "user": req.current_user, "meta": req.meta}))
    });
    r.define("whoami", |req| async move {
        let user = req.current_user.unwrap_or_default();
        Ok(json!({"id": user["objectId"], "username": user["username"]}))
    });
    r.define("cloudError", |_req| async move {
        Err::<Value, _>(CloudError::new("custom failure").with_code(code::VALIDATION_ERROR))
    });
    r.define("cloudErrorStatus", |_req| async move {
        Err::<Value, _>(CloudError::new("teapot").with_code(418).with_status(418))
    });
    r.define("plainThrow", |_req| async move {
        if true {
            panic!("unexpected crash");
        }
        Ok(json!(null))
    });
    r.define("rejectString", |_req| async move {
        Err::<Value, _>("just a string".into())
    });
    r.define("slow", |_req| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(json!("too late"))
    });
    r.define_with(
        "internalOnly",
        FunctionOptions::internal(),
        |_req| async move { Ok(json!("secret")) },
    );
    r.define_with(
        "noFetchUser",
        FunctionOptions::default().without_user(),
        |req| async move {
            Ok(json!({"sessionToken": req.session_token, "hasUser": req.current_user.is_some()}))
        },
    );
    r.define("rpcObject", |_req| async move {
        let post = Object::new("Post")
            .with("title", LcValue::String("from rpc".into()))
            .with(
                "when",
                Date::from_iso("2020-01-02T03:04:05.000Z").unwrap().into(),
            )
            .with("author", Pointer::new("_User", "u1").into())
            .with(
                "objectId",
                LcValue::String("5d8308019c9235000886c4ce".into()),
            );
        Ok(post.to_json())
    });
    r.define("rpcEchoTypes", |req| async move {
        Ok(json!({
            "isObject": matches!(req.typed_param("obj"), Some(LcValue::Object(_))),
            "className": req.params["obj"]["className"],
            "isDate": matches!(req.typed_param("when"), Some(LcValue::Date(_))),
        }))
    });
    r.before_save("Post", |req| async move {
        let mut post = req.object;
        let Some(title) = post["title"].as_str() else {
            return Err(CloudError::new("title is required").with_code(code::VALIDATION_ERROR));
        };
        if title.chars().count() > 10 {
            post["title"] = json!(format!("{}…", title.chars().take(10).collect::<String>()));
        }
        post["byBeforeSave"] = json!(true);
        Ok(post)
    });
    r.after_save("Post", |_req| async move { Ok(()) });
    r.before_update("Post", |req| async move {
        if req.is_updated("locked") {
            return Err(
                CloudError::new("locked may not be changed").with_code(code::VALIDATION_ERROR)
            );
        }
        let mut post = req.object;
        post["byBeforeUpdate"] = json!(true);
        Ok(post)
    });
    r.after_update("Post", |_req| async move { Ok(()) });
    r.before_delete("Post", |req| async move {
        if req.object["protected"] == json!(true) {
            return Err(CloudError::new("protected post").with_code(code::VALIDATION_ERROR));
        }
        Ok(())
    });
    r.after_delete("Post", |_req| async move { Ok(()) });
    // The transcript's `Legacy` class used the old `(request, response)` style; the
    // answers are those of an ordinary beforeSave.
    r.before_save("Legacy", |req| async move {
        if req.object["bad"] == json!(true) {
            return Err(CloudError::new("legacy says no"));
        }
        let mut object = req.object;
        object["legacy"] = json!(true);
        Ok(object)
    });
    r.on_login(|req| async move {
        if req.object["username"] == "banned" {
            return Err(CloudError::new("banned user").with_code(code::VALIDATION_ERROR));
        }
        Ok(())
    });
    r.on_verified(VerifyType::Sms, |_req| async move { Ok(()) });
    r.on_auth_data(|req| async move { Ok(req.auth_data.unwrap_or_default()) });
    r
}

fn config(storage: &Arc<FakeStorage>) -> EngineConfig {
    EngineConfig::new(APP_ID, APP_KEY, MASTER_KEY)
        .with_hook_key(HOOK_KEY)
        .with_storage_transport(storage.clone())
}

/// The transcript's engine on a free port, with its storage.
async fn engine() -> (RunningEngine, Arc<FakeStorage>) {
    let storage = Arc::new(FakeStorage::default());
    let running = start(transcript_registry(), config(&storage))
        .await
        .unwrap();
    (running, storage)
}

// ---- requests ---------------------------------------------------------------------------------

/// One request of a transcript and the Node engine's answer.
#[derive(Debug, Clone, PartialEq)]
struct Case {
    title: String,
    method: String,
    path: String,
    /// `(lowercase name, value)`, sorted.
    headers: Vec<(String, String)>,
    body: Option<String>,
    status: u16,
    answer: Value,
}

impl Case {
    fn request(&self) -> Request {
        let mut request = Request::new(&self.method, &self.path);
        for (name, value) in &self.headers {
            request = request.with_header(name, value.clone());
        }
        if let Some(body) = &self.body {
            request.body = body.as_bytes().to_vec();
        }
        request
    }
}

fn post(path: &str, headers: &[&str], body: &str) -> Request {
    let mut request = Request::new("POST", path);
    for header in headers {
        let (name, value) = header.split_once(": ").unwrap();
        request = request.with_header(name, value);
    }
    request.body = body.as_bytes().to_vec();
    request
}

const APP: &[&str] = &[
    "X-LC-Id: testAppId-MdYXbMMI",
    "X-LC-Key: testAppKey",
    "Content-Type: application/json",
];
const HOOK: &[&str] = &[
    "X-LC-Id: testAppId-MdYXbMMI",
    "X-LC-Key: testAppKey",
    "X-LC-Hook-Key: testHookKey",
    "Content-Type: application/json",
];

fn with(base: &[&'static str], extra: &[&'static str]) -> Vec<&'static str> {
    base.iter().chain(extra).copied().collect()
}
