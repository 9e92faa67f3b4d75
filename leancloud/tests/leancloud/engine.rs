//! The engine server answers the requests of the official engines' transcripts as the
//! Node engine (leanengine 3.8.0) answered them, and survives the faults around them.
//!
//! The transcript cases are hard-coded below ([`transcript_cases`]); when
//! `../shared/examples/leanengine-3.8.0-curl-transcript.md` exists beside the workspace,
//! [`every_request_of_the_node_transcript_gets_the_node_engines_answer`] also replays the
//! file itself and checks that the hard-coded table still says the same.

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

// ---- the Node transcript, hard-coded ----------------------------------------------------------

#[allow(clippy::too_many_arguments)]
fn case(
    title: &str,
    method: &str,
    path: &str,
    headers: &[&str],
    body: Option<&str>,
    status: u16,
    answer: &str,
) -> Case {
    let mut headers: Vec<(String, String)> = headers
        .iter()
        .map(|h| {
            let (k, v) = h.split_once(": ").unwrap();
            (k.to_ascii_lowercase(), v.to_string())
        })
        .collect();
    headers.sort();
    Case {
        title: title.into(),
        method: method.into(),
        path: path.into(),
        headers,
        body: body.map(str::to_string),
        status,
        answer: serde_json::from_str(answer).unwrap(),
    }
}

/// Every request of `leanengine-3.8.0-curl-transcript.md`, with the Node engine's answer.
fn transcript_cases() -> Vec<Case> {
    let fx = |name: &str| format!("/1.1/functions/{name}");
    let master = &[
        "X-LC-Id: testAppId-MdYXbMMI",
        "X-LC-Key: testMasterKey,master",
        "Content-Type: application/json",
    ];
    let typed = r#"{"obj":{"__type":"Object","className":"Post","objectId":"p1","title":"t"},"when":{"__type":"Date","iso":"2020-01-02T03:04:05.000Z"}}"#;
    let typed_untitled = r#"{"obj":{"__type":"Object","className":"Post","objectId":"p1"},"when":{"__type":"Date","iso":"2020-01-02T03:04:05.000Z"}}"#;
    let typed_fields = r#"{"title":"t","when":{"__type":"Date","iso":"2020-01-02T03:04:05.000Z"},"author":{"__type":"Pointer","className":"_User","objectId":"u1"},"geo":{"__type":"GeoPoint","latitude":1,"longitude":2},"ACL":{"*":{"read":true}}}"#;
    vec![
        case(
            "health check (no auth)",
            "GET",
            "/__engine/1/ping",
            &[],
            None,
            200,
            r#"{"runtime":"nodejs-v20.20.2","version":"3.8.0"}"#,
        ),
        case(
            "function list needs master key",
            "GET",
            &fx("_ops/metadatas"),
            master,
            None,
            200,
            r#"{"result":["hello","echo","whoami","cloudError","cloudErrorStatus","plainThrow","rejectString","slow","internalOnly","noFetchUser","rpcObject","rpcEchoTypes","__before_save_for_Post","__after_save_for_Post","__before_update_for_Post","__after_update_for_Post","__before_delete_for_Post","__after_delete_for_Post","__before_save_for_Legacy","__on_login__User","__on_verified_sms","__on_authdata__User"]}"#,
        ),
        case(
            "function list with app key -> 401",
            "GET",
            &fx("_ops/metadatas"),
            APP,
            None,
            401,
            r#"{"code":401,"error":"Unauthorized."}"#,
        ),
        case(
            "run with X-LC-Key",
            "POST",
            &fx("hello"),
            APP,
            Some(r#"{"name":"LeanCloud"}"#),
            200,
            r#"{"result":"Hello LeanCloud"}"#,
        ),
        case(
            "run with X-LC-Sign (md5(ts+appKey),ts)",
            "POST",
            &fx("hello"),
            &[
                "X-LC-Id: testAppId-MdYXbMMI",
                "X-LC-Sign: 61a2a38a983220ed5b24463f21b62427,1795471649520",
                "Content-Type: application/json",
            ],
            Some(r#"{"name":"signed"}"#),
            200,
            r#"{"result":"Hello signed"}"#,
        ),
        case(
            "run with master X-LC-Sign (md5(ts+masterKey),ts,master)",
            "POST",
            &fx("hello"),
            &[
                "X-LC-Id: testAppId-MdYXbMMI",
                "X-LC-Sign: 4d1575ade25ded686bfde5c1716d5ead,1795471649520,master",
                "Content-Type: application/json",
            ],
            Some("{}"),
            200,
            r#"{"result":"Hello world"}"#,
        ),
        case(
            "API version 1 path also routed",
            "POST",
            "/1/functions/hello",
            APP,
            Some("{}"),
            200,
            r#"{"result":"Hello world"}"#,
        ),
        case(
            "no X-LC-Id -> 401",
            "POST",
            &fx("hello"),
            &["Content-Type: application/json"],
            Some("{}"),
            401,
            r#"{"code":401,"error":"Unauthorized."}"#,
        ),
        case(
            "wrong key -> 401",
            "POST",
            &fx("hello"),
            &[
                "X-LC-Id: testAppId-MdYXbMMI",
                "X-LC-Key: nope",
                "Content-Type: application/json",
            ],
            Some("{}"),
            401,
            r#"{"code":401,"error":"Unauthorized."}"#,
        ),
        case(
            "unknown function -> 404",
            "POST",
            &fx("nope"),
            APP,
            Some("{}"),
            404,
            r#"{"code":1,"error":"No such cloud function 'nope'"}"#,
        ),
        case(
            "AV.Cloud.Error(code 142) -> 400",
            "POST",
            &fx("cloudError"),
            APP,
            Some("{}"),
            400,
            r#"{"code":142,"error":"custom failure"}"#,
        ),
        case(
            "AV.Cloud.Error with status 418",
            "POST",
            &fx("cloudErrorStatus"),
            APP,
            Some("{}"),
            418,
            r#"{"code":418,"error":"teapot"}"#,
        ),
        case(
            "plain Error thrown -> 500",
            "POST",
            &fx("plainThrow"),
            APP,
            Some("{}"),
            500,
            r#"{"code":1,"error":"unexpected crash"}"#,
        ),
        case(
            "rejected with a string -> 400",
            "POST",
            &fx("rejectString"),
            APP,
            Some("{}"),
            400,
            r#"{"code":1,"error":"just a string"}"#,
        ),
        case(
            "internal function with app key -> 401",
            "POST",
            &fx("internalOnly"),
            APP,
            Some("{}"),
            401,
            r#"{"code":401,"error":"Internal cloud function, request from 127.0.0.1"}"#,
        ),
        case(
            "internal function with hook key",
            "POST",
            &fx("internalOnly"),
            HOOK,
            Some("{}"),
            200,
            r#"{"result":"secret"}"#,
        ),
        case(
            "text/plain body with _ApplicationId/_ApplicationKey (browser form)",
            "POST",
            &fx("echo"),
            &["Content-Type: text/plain"],
            Some(
                r#"{"_ApplicationId":"testAppId-MdYXbMMI","_ApplicationKey":"testAppKey","a":1,"__keep":2}"#,
            ),
            200,
            r#"{"result":{"params":{"a":1,"__keep":2},"user":null,"meta":{"remoteAddress":"127.0.0.1"}}}"#,
        ),
        case(
            "session token -> engine calls GET {API}/1.1/users/me",
            "POST",
            &fx("whoami"),
            &with(APP, &["X-LC-Session: fake-session-token-x"]),
            Some("{}"),
            200,
            r#"{"result":{"id":"u1","username":"me"}}"#,
        ),
        case(
            "fetchUser:false -> no users/me call",
            "POST",
            &fx("noFetchUser"),
            &with(APP, &["X-LC-Session: tok123"]),
            Some("{}"),
            200,
            r#"{"result":{"sessionToken":"tok123","hasUser":false}}"#,
        ),
        case(
            "rpc (/1.1/call) returns encoded AV.Object",
            "POST",
            "/1.1/call/rpcObject",
            APP,
            Some("{}"),
            200,
            r#"{"result":{"title":"from rpc","when":{"__type":"Date","iso":"2020-01-02T03:04:05.000Z"},"author":{"__type":"Pointer","className":"_User","objectId":"u1"},"objectId":"5d8308019c9235000886c4ce","__type":"Object","className":"Post"}}"#,
        ),
        case(
            "rpc decodes typed params",
            "POST",
            "/1.1/call/rpcEchoTypes",
            APP,
            Some(typed),
            200,
            r#"{"result":{"isObject":true,"className":"Post","isDate":true}}"#,
        ),
        case(
            "functions (not call) does NOT decode typed params",
            "POST",
            &fx("rpcEchoTypes"),
            APP,
            Some(typed_untitled),
            200,
            r#"{"result":{"isObject":false,"className":"Post","isDate":false}}"#,
        ),
        case(
            "beforeSave ok: returns the (modified) object",
            "POST",
            &fx("Post/beforeSave"),
            HOOK,
            Some(
                r#"{"object":{"title":"a very long title here","n":1},"user":{"objectId":"u1","username":"alice","sessionToken":"fake-session-token-x","createdAt":"2020-01-01T00:00:00.000Z","updatedAt":"2020-01-01T00:00:00.000Z"}}"#,
            ),
            200,
            r#"{"n":1,"title":"a very lon…","byBeforeSave":true}"#,
        ),
        case(
            "beforeSave without X-LC-Hook-Key -> 401",
            "POST",
            &fx("Post/beforeSave"),
            APP,
            Some(r#"{"object":{"title":"x"}}"#),
            401,
            r#"{"code":401,"error":"Hook key check failed, request from 127.0.0.1"}"#,
        ),
        case(
            "beforeSave rejects -> 400 {code,error}",
            "POST",
            &fx("Post/beforeSave"),
            HOOK,
            Some(r#"{"object":{"n":1}}"#),
            400,
            r#"{"code":142,"error":"title is required"}"#,
        ),
        case(
            "afterSave -> {result:ok}",
            "POST",
            &fx("Post/afterSave"),
            HOOK,
            Some(
                r#"{"object":{"objectId":"p1","title":"x","createdAt":"2020-01-01T00:00:00.000Z","updatedAt":"2020-01-01T00:00:00.000Z"}}"#,
            ),
            200,
            r#"{"result":"ok"}"#,
        ),
        case(
            "beforeUpdate with _updatedKeys",
            "POST",
            &fx("Post/beforeUpdate"),
            HOOK,
            Some(r#"{"object":{"objectId":"p1","title":"new","_updatedKeys":["title"]}}"#),
            200,
            r#"{"title":"new","_updatedKeys":["title"],"byBeforeUpdate":true,"objectId":"p1"}"#,
        ),
        case(
            "beforeUpdate rejects when locked in _updatedKeys",
            "POST",
            &fx("Post/beforeUpdate"),
            HOOK,
            Some(r#"{"object":{"objectId":"p1","locked":true,"_updatedKeys":["locked"]}}"#),
            400,
            r#"{"code":142,"error":"locked may not be changed"}"#,
        ),
        case(
            "afterUpdate",
            "POST",
            &fx("Post/afterUpdate"),
            HOOK,
            Some(r#"{"object":{"objectId":"p1","title":"new","_updatedKeys":["title"]}}"#),
            200,
            r#"{"result":"ok"}"#,
        ),
        case(
            "beforeDelete ok -> {}",
            "POST",
            &fx("Post/beforeDelete"),
            HOOK,
            Some(r#"{"object":{"objectId":"p1"}}"#),
            200,
            r#"{"objectId":"p1"}"#,
        ),
        case(
            "beforeDelete rejects",
            "POST",
            &fx("Post/beforeDelete"),
            HOOK,
            Some(r#"{"object":{"objectId":"p1","protected":true}}"#),
            400,
            r#"{"code":142,"error":"protected post"}"#,
        ),
        case(
            "afterDelete",
            "POST",
            &fx("Post/afterDelete"),
            HOOK,
            Some(r#"{"object":{"objectId":"p1"}}"#),
            200,
            r#"{"result":"ok"}"#,
        ),
        case(
            "hook for class without hook -> 404",
            "POST",
            &fx("Comment/beforeSave"),
            HOOK,
            Some(r#"{"object":{}}"#),
            404,
            r#"{"code":1,"error":"No beforeSave hook of 'Comment'"}"#,
        ),
        case(
            "legacy (req,res) beforeSave ok",
            "POST",
            &fx("Legacy/beforeSave"),
            HOOK,
            Some(r#"{"object":{"a":1}}"#),
            200,
            r#"{"a":1,"legacy":true}"#,
        ),
        case(
            "legacy (req,res) beforeSave response.error(string)",
            "POST",
            &fx("Legacy/beforeSave"),
            HOOK,
            Some(r#"{"object":{"bad":true}}"#),
            400,
            r#"{"code":1,"error":"legacy says no"}"#,
        ),
        case(
            "beforeSave body with typed fields (Date/Pointer/GeoPoint)",
            "POST",
            &fx("Post/beforeSave"),
            HOOK,
            Some(&format!(r#"{{"object":{typed_fields}}}"#)),
            200,
            r#"{"title":"t","when":{"__type":"Date","iso":"2020-01-02T03:04:05.000Z"},"author":{"__type":"Pointer","className":"_User","objectId":"u1"},"geo":{"__type":"GeoPoint","latitude":1,"longitude":2},"ACL":{"*":{"read":true}},"byBeforeSave":true}"#,
        ),
        case(
            "onLogin ok",
            "POST",
            &fx("_User/onLogin"),
            HOOK,
            Some(r#"{"object":{"objectId":"u1","username":"alice"}}"#),
            200,
            r#"{"result":"ok"}"#,
        ),
        case(
            "onLogin rejects",
            "POST",
            &fx("_User/onLogin"),
            HOOK,
            Some(r#"{"object":{"objectId":"u2","username":"banned"}}"#),
            400,
            r#"{"code":142,"error":"banned user"}"#,
        ),
        case(
            "onVerified sms",
            "POST",
            &fx("onVerified/sms"),
            HOOK,
            Some(r#"{"object":{"objectId":"u1","username":"alice"}}"#),
            200,
            r#"{"result":"ok"}"#,
        ),
        case(
            "onAuthData",
            "POST",
            &fx("_User/onAuthData"),
            HOOK,
            Some(
                r#"{"object":{"objectId":"u1"},"authData":{"weixin":{"openid":"o1","access_token":"t"}}}"#,
            ),
            200,
            r#"{"result":{"weixin":{"openid":"o1","access_token":"t"}}}"#,
        ),
    ]
}

/// Our ping names Rust where Node names itself; the shape is the same.
fn is_ping(case: &Case) -> bool {
    case.path == "/__engine/1/ping"
}

async fn check_case(engine: &RunningEngine, case: &Case) -> Result<(), String> {
    let (status, body) = send(engine, case.request()).await;
    let matches = if is_ping(case) {
        status == case.status
            && body["runtime"]
                .as_str()
                .is_some_and(|r| r.starts_with("rust-"))
            && body["version"] == env!("CARGO_PKG_VERSION")
            && body.as_object().map(|m| m.len()) == Some(2)
    } else {
        (status, &body) == (case.status, &case.answer)
    };
    if matches {
        Ok(())
    } else {
        Err(format!(
            "{}: {} {}\n  node: {} {}\n  ours: {} {}",
            case.title, case.method, case.path, case.status, case.answer, status, body
        ))
    }
}

#[tokio::test]
async fn the_engine_answers_every_transcript_request_as_the_node_engine_did() {
    let (engine, _storage) = engine().await;
    let mut failures = Vec::new();
    for case in transcript_cases() {
        if let Err(failure) = check_case(&engine, &case).await {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- the transcript file itself ---------------------------------------------------------------

/// The cases of a transcript in the Node transcript's format: `### title`, then a fenced
/// block with the curl line, `=> HTTP <status>` and the answer.
fn parse_transcript(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut title = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(t) = line.strip_prefix("### ") {
            title = t.trim().to_string();
            continue;
        }
        let Some(command) = line.strip_prefix("curl ") else {
            continue;
        };
        let status_line = lines.next().expect("a status line after the curl line");
        let status = status_line
            .strip_prefix("=> HTTP ")
            .expect("=> HTTP <status>")
            .trim()
            .parse()
            .unwrap();
        let answer = serde_json::from_str(lines.next().expect("an answer line")).unwrap();
        let words = transcripts::shell_words(command);
        let (mut method, mut url, mut headers, mut body) = (None, None, Vec::new(), None);
        let mut i = 0;
        while i < words.len() {
            match words[i].as_str() {
                "-X" => {
                    method = Some(words[i + 1].clone());
                    i += 1;
                }
                "-H" => {
                    let (k, v) = words[i + 1].split_once(':').unwrap();
                    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    i += 1;
                }
                "-d" => {
                    body = Some(words[i + 1].clone());
                    i += 1;
                }
                other => url = Some(other.to_string()),
            }
            i += 1;
        }
        headers.sort();
        let url = url.expect("a URL");
        let path = url.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap();
        cases.push(Case {
            title: title.clone(),
            method: method.unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.into()),
            path,
            headers,
            body,
            status,
            answer,
        });
    }
    cases
}

#[test]
fn shell_words_split_like_a_shell() {
    assert_eq!(
        transcripts::shell_words(r#"-X POST http://h/x -H 'A: b c' -d '{"a": 1}' ''"#),
        [
            "-X",
            "POST",
            "http://h/x",
            "-H",
            "A: b c",
            "-d",
            r#"{"a": 1}"#,
            ""
        ]
    );
}

#[tokio::test]
async fn every_request_of_the_node_transcript_gets_the_node_engines_answer() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/examples/leanengine-3.8.0-curl-transcript.md");
    let Ok(text) = std::fs::read_to_string(&file) else {
        eprintln!(
            "{} not found: the hard-coded cases stand in for it",
            file.display()
        );
        return;
    };
    let parsed = parse_transcript(&text);
    assert!(parsed.len() >= 40, "parsed only {} cases", parsed.len());
    let (engine, _storage) = engine().await;
    let known: BTreeMap<String, Case> = transcript_cases()
        .into_iter()
        .map(|c| (c.title.clone(), c))
        .collect();
    let mut failures = Vec::new();
    for case in &parsed {
        match known.get(&case.title) {
            Some(hard_coded) if hard_coded == case => {}
            Some(hard_coded) => failures.push(format!(
                "the hard-coded case differs from the transcript:\n  file: {case:?}\n  code: {hard_coded:?}"
            )),
            None => failures.push(format!("no hard-coded case for {:?}", case.title)),
        }
        if let Err(failure) = check_case(&engine, case).await {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- what the transcript shows only in part ---------------------------------------------------

#[tokio::test]
async fn a_session_token_resolves_the_user_through_storage_once() {
    let (engine, storage) = engine().await;
    let request = post(
        "/1.1/functions/echo",
        &with(APP, &["X-LC-Session: fake-session-token-x"]),
        "{}",
    );
    let (status, body) = send(&engine, request).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["user"]["objectId"], "u1");
    let calls = storage.requests();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].method.as_str(), calls[0].path.as_str()),
        ("GET", "/1.1/users/me")
    );
    assert_eq!(calls[0].header("x-lc-session"), Some(SESSION));
    assert_eq!(calls[0].header("x-lc-id"), Some(APP_ID));
}

#[tokio::test]
async fn a_function_without_fetch_user_never_asks_storage() {
    let (engine, storage) = engine().await;
    let request = post(
        "/1.1/functions/noFetchUser",
        &with(APP, &["X-LC-Session: tok123"]),
        "{}",
    );
    assert_eq!(send(&engine, request).await.0, 200);
    assert!(storage.requests().is_empty());
}

#[tokio::test]
async fn an_invalid_session_token_is_401_code_211() {
    let (engine, _storage) = engine().await;
    let request = post(
        "/1.1/functions/whoami",
        &with(APP, &["X-LC-Session: expired"]),
        "{}",
    );
    assert_eq!(
        send(&engine, request).await,
        (
            401,
            json!({"code": 211, "error": "Verify sessionToken failed, maybe login expired: Could not find user."})
        )
    );
}

#[tokio::test]
async fn an_invalid_session_token_can_be_ignored() {
    let storage = Arc::new(FakeStorage::default());
    let config = config(&storage).ignoring_invalid_session_tokens();
    let engine = start(transcript_registry(), config).await.unwrap();
    let request = post(
        "/1.1/functions/whoami",
        &with(APP, &["X-LC-Session: expired"]),
        "{}",
    );
    assert_eq!(
        send(&engine, request).await,
        (200, json!({"result": {"id": null, "username": null}}))
    );
}

#[tokio::test]
async fn without_a_storage_server_the_user_lookup_fails_naming_the_variable() {
    let config = EngineConfig::new(APP_ID, APP_KEY, MASTER_KEY).with_hook_key(HOOK_KEY);
    let engine = start(transcript_registry(), config).await.unwrap();
    let request = post(
        "/1.1/functions/whoami",
        &with(APP, &["X-LC-Session: x"]),
        "{}",
    );
    let (status, body) = send(&engine, request).await;
    assert_eq!((status, &body["code"]), (401, &json!(211)));
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("LEANCLOUD_API_SERVER"),
        "{body}"
    );
}

#[tokio::test]
async fn the_master_key_opens_internal_functions_and_the_metadata_list() {
    let (engine, _storage) = engine().await;
    let sign = leancloud::sign::header_value(MASTER_KEY, 1_700_000_000_000, true);
    let signed = [
        "X-LC-Id: testAppId-MdYXbMMI",
        "Content-Type: application/json",
    ];
    let mut request = post("/1.1/functions/internalOnly", &signed, "{}");
    request = request.with_header("x-lc-sign", sign.clone());
    assert_eq!(
        send(&engine, request).await,
        (200, json!({"result": "secret"}))
    );
    let request = Request::new("GET", "/1.1/functions/_ops/metadatas")
        .with_header("x-avoscloud-application-id", APP_ID)
        .with_header("x-avoscloud-master-key", MASTER_KEY);
    let (status, body) = send(&engine, request).await;
    assert_eq!(
        (status, body["result"].as_array().unwrap().len()),
        (200, 22)
    );
}

#[tokio::test]
async fn legacy_avoscloud_headers_authenticate_and_hooks_check_the_hook_key() {
    let (engine, _storage) = engine().await;
    let request = Request::new("POST", "/1.1/functions/Post/afterSave")
        .with_header("x-avoscloud-application-id", APP_ID)
        .with_header("x-avoscloud-application-key", APP_KEY)
        .with_header("x-lc-hook-key", HOOK_KEY)
        .with_json(&json!({"object": {"objectId": "p1"}}));
    assert_eq!(send(&engine, request).await, (200, json!({"result": "ok"})));
}

#[tokio::test]
async fn both_api_versions_and_the_engine_namespace_route_functions_and_calls() {
    let (engine, _storage) = engine().await;
    for path in [
        "/1/call/hello",
        "/__engine/1.1/functions/hello",
        "/__engine/1/call/hello",
    ] {
        assert_eq!(
            send(&engine, post(path, APP, "{}")).await,
            (200, json!({"result": "Hello world"})),
            "{path}"
        );
    }
    let (status, body) = send(&engine, Request::new("GET", "/__engine/1.1/ping")).await;
    assert_eq!(
        (status, body["version"].as_str()),
        (200, Some(env!("CARGO_PKG_VERSION")))
    );
}

#[tokio::test]
async fn hook_code_saving_its_object_skips_the_hooks_and_sends_the_hook_key() {
    let storage = Arc::new(FakeStorage::default());
    let mut registry = Registry::new();
    registry.after_update("Post", |req| async move {
        req.save_object(&json!({"views": 1})).await?;
        Ok(())
    });
    let engine = start(registry, config(&storage)).await.unwrap();
    let body = r#"{"object":{"objectId":"p1","title":"t","_updatedKeys":["title"]}}"#;
    let request = post("/1.1/functions/Post/afterUpdate", HOOK, body);
    assert_eq!(send(&engine, request).await, (200, json!({"result": "ok"})));
    let writes = storage.requests();
    assert_eq!(writes.len(), 1);
    assert_eq!(
        (writes[0].method.as_str(), writes[0].path.as_str()),
        ("PUT", "/1.1/classes/Post/p1")
    );
    assert_eq!(writes[0].header("x-lc-hook-key"), Some(HOOK_KEY));
    assert_eq!(
        serde_json::from_slice::<Value>(&writes[0].body).unwrap(),
        json!({"views": 1, "__ignore_hooks": ["afterSave", "afterUpdate", "afterDelete"]})
    );
}

#[tokio::test]
async fn hooks_see_the_requesting_user_and_the_client_address() {
    let mut registry = Registry::new();
    registry.before_save("Post", |req| async move {
        let mut object = req.object.clone();
        object["by"] = json!(req.user.as_ref().map(|u| u["objectId"].clone()));
        object["token"] = json!(req.session_token());
        object["from"] = json!(req.meta.remote_address);
        Ok(object)
    });
    let storage = Arc::new(FakeStorage::default());
    let engine = start(registry, config(&storage)).await.unwrap();
    let body = r#"{"object":{"n":1},"user":{"objectId":"u1","sessionToken":"tok"}}"#;
    let request = post("/1.1/functions/Post/beforeSave", HOOK, body)
        .with_header("x-forwarded-for", "203.0.113.7, 10.0.0.1");
    assert_eq!(
        send(&engine, request).await,
        (
            200,
            json!({"n": 1, "by": "u1", "token": "tok", "from": "203.0.113.7"})
        )
    );
}

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
