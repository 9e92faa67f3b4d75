//! An engine that records: every request it receives and its answer become one line of
//! the recordings format, written before the answer leaves, without the app's keys.

use crate::support::send;
use futures::FutureExt;
use futures::future::BoxFuture;
use leancloud::cloud::{CloudError, Registry};
use leancloud::engine::{Engine, EngineConfig, RECORDING_SUITE, RunningEngine, start_recording};
use leancloud::error::code;
use leancloud::recording::{REDACTED, Writer};
use leancloud::{LcError, Request, Response, Transport};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

const APP_ID: &str = "recAppId-0123456789";
const APP_KEY: &str = "recAppKey-abcdef";
const MASTER_KEY: &str = "recMasterKey-ghijkl";
const HOOK_KEY: &str = "recHookKey-mnopqr";
const WRONG_HOOK_KEY: &str = "wrongHookKey-stuvwx";
const SESSION: &str = "rec-session-token-1";

/// The storage server behind the engine: `GET /1.1/users/me` knows one session.
struct FakeStorage;

impl Transport for FakeStorage {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
        let response = match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/1.1/users/me") if request.header("x-lc-session") == Some(SESSION) => {
                Response::json(
                    200,
                    &json!({"objectId": "u1", "username": "alice", "sessionToken": SESSION}),
                )
            }
            ("GET", "/1.1/users/me") => Response::error(&LcError::user_not_found()),
            (method, path) => Response::error(&LcError::route_not_found(method, path)),
        };
        async move { Ok(response) }.boxed()
    }
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.define("whoami", |req| async move {
        let user = req.current_user.unwrap_or_default();
        Ok(json!({"username": user["username"], "params": req.params}))
    });
    // Cloud code that echoes every key it can see: the recording must not.
    r.define("leak", |_req| async move {
        Ok(json!({"keys": [APP_ID, APP_KEY, MASTER_KEY, HOOK_KEY], "note": format!("master={MASTER_KEY}")}))
    });
    r.before_save("Review", |req| async move {
        let mut review = req.object;
        if review["stars"].as_i64().unwrap_or(0) > 5 {
            return Err(CloudError::new("stars must be 1 to 5").with_code(code::VALIDATION_ERROR));
        }
        review["checked"] = json!(true);
        Ok(review)
    });
    r.on_login(|_req| async move { Ok(()) });
    r
}

fn config() -> EngineConfig {
    EngineConfig::new(APP_ID, APP_KEY, MASTER_KEY)
        .with_hook_key(HOOK_KEY)
        .with_storage_transport(Arc::new(FakeStorage))
}

/// A fresh recordings file for one test (removed when dropped).
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("lc-engine-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.jsonl"));
        let _ = std::fs::remove_file(&path);
        TempFile(path)
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.0).unwrap_or_default()
    }

    fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str(line).expect("every line is JSON"))
            .collect()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn recording_engine(file: &TempFile) -> (RunningEngine, Arc<Writer>) {
    let writer = Arc::new(Writer::append(&file.0).unwrap());
    let engine = start_recording(registry(), config(), writer.clone())
        .await
        .unwrap();
    (engine, writer)
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Request {
    let mut request = headers
        .iter()
        .fold(Request::new(method, path), |r, (k, v)| r.with_header(k, *v));
    request.body = body.as_bytes().to_vec();
    request
}

const JSON: (&str, &str) = ("content-type", "application/json");
const ID: (&str, &str) = ("x-lc-id", APP_ID);
const KEY: (&str, &str) = ("x-lc-key", APP_KEY);
const HOOK: (&str, &str) = ("x-lc-hook-key", HOOK_KEY);

/// The fields of a line that say which case it is and what was sent and answered.
fn summary(line: &Value) -> Value {
    json!({
        "suite": line["suite"], "test": line["test"], "order": line["order"],
        "method": line["method"], "path": line["path"], "auth": line["auth"],
        "hook_key": line["hook_key"], "session": line["session"],
        "req_body": line["req_body"], "status": line["status"], "resp_body": line["resp_body"],
    })
}

#[tokio::test]
async fn every_request_and_its_answer_become_one_line_without_the_keys() {
    let file = TempFile::new("every-request");
    let (engine, writer) = recording_engine(&file).await;
    let hook = "/1.1/functions/Review/beforeSave";

    let answers = vec![
        send(&engine, request("GET", "/__engine/1/ping", &[], "")).await,
        send(
            &engine,
            request(
                "POST",
                hook,
                &[ID, KEY, HOOK, JSON],
                r#"{"object":{"stars":4,"text":"good"},"user":{"objectId":"u1"}}"#,
            ),
        )
        .await,
        send(
            &engine,
            request(
                "POST",
                hook,
                &[ID, KEY, HOOK, JSON],
                r#"{"object":{"stars":9}}"#,
            ),
        )
        .await,
        send(
            &engine,
            request(
                "POST",
                "/1.1/functions/whoami",
                &[ID, KEY, JSON, ("x-lc-session", SESSION)],
                r#"{"a":1}"#,
            ),
        )
        .await,
        send(
            &engine,
            request(
                "POST",
                hook,
                &[ID, KEY, ("x-lc-hook-key", WRONG_HOOK_KEY), JSON],
                r#"{"object":{"stars":1}}"#,
            ),
        )
        .await,
        send(
            &engine,
            request(
                "POST",
                "/1.1/functions/whoami",
                &[ID, KEY, JSON],
                "not json",
            ),
        )
        .await,
        send(
            &engine,
            request(
                "GET",
                "/1.1/functions/_ops/metadatas",
                &[ID, ("x-lc-key", &format!("{MASTER_KEY},master"))],
                "",
            ),
        )
        .await,
        send(
            &engine,
            request("POST", "/1.1/functions/leak", &[ID, KEY, JSON], "{}"),
        )
        .await,
        // A browser's form: the keys and the session travel in the body.
        send(
            &engine,
            request(
                "POST",
                "/1.1/call/whoami",
                &[("content-type", "text/plain")],
                &json!({
                    "_ApplicationId": APP_ID, "_ApplicationKey": APP_KEY,
                    "_SessionToken": SESSION, "b": 2
                })
                .to_string(),
            ),
        )
        .await,
        send(
            &engine,
            request(
                "POST",
                "/1.1/functions/_User/onLogin",
                &[ID, KEY, HOOK, JSON],
                r#"{"object":{"objectId":"u1","username":"alice"}}"#,
            ),
        )
        .await,
    ];
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(statuses, [200, 200, 400, 200, 401, 400, 200, 200, 200, 200]);

    let text = file.text();
    for secret in [APP_ID, APP_KEY, MASTER_KEY, HOOK_KEY, WRONG_HOOK_KEY] {
        assert!(
            !text.contains(secret),
            "{secret} is in the recording:\n{text}"
        );
    }
    let lines = file.lines();
    assert_eq!(lines.len(), answers.len(), "{text}");
    // Each line's answer is the one the client got (before redaction, for `leak`).
    for (line, (status, body)) in lines
        .iter()
        .zip(&answers)
        .filter(|(l, _)| l["test"] != "functions/leak")
    {
        assert_eq!(
            (&line["status"], &line["resp_body"]),
            (&json!(status), body)
        );
    }
    let expected = [
        json!({
            "suite": "engine", "test": "ping", "order": 0, "method": "GET",
            "path": "/__engine/1/ping", "auth": "none", "hook_key": false, "session": null,
            "req_body": null, "status": 200, "resp_body": answers[0].1,
        }),
        json!({
            "suite": "engine", "test": "Review/beforeSave", "order": 0, "method": "POST",
            "path": hook, "auth": "app", "hook_key": true, "session": null,
            "req_body": {"object": {"stars": 4, "text": "good"}, "user": {"objectId": "u1"}},
            "status": 200, "resp_body": {"stars": 4, "text": "good", "checked": true},
        }),
        json!({
            "suite": "engine", "test": "Review/beforeSave", "order": 1, "method": "POST",
            "path": hook, "auth": "app", "hook_key": true, "session": null,
            "req_body": {"object": {"stars": 9}},
            "status": 400, "resp_body": {"code": 142, "error": "stars must be 1 to 5"},
        }),
        json!({
            "suite": "engine", "test": "functions/whoami", "order": 0, "method": "POST",
            "path": "/1.1/functions/whoami", "auth": "app", "hook_key": false,
            "session": SESSION, "req_body": {"a": 1},
            "status": 200, "resp_body": {"result": {"username": "alice", "params": {"a": 1}}},
        }),
        json!({
            "suite": "engine", "test": "Review/beforeSave", "order": 2, "method": "POST",
            "path": hook, "auth": "app", "hook_key": true, "session": null,
            "req_body": {"object": {"stars": 1}},
            "status": 401,
            "resp_body": {"code": 401, "error": "Hook key check failed, request from 127.0.0.1"},
        }),
        json!({
            "suite": "engine", "test": "functions/whoami", "order": 1, "method": "POST",
            "path": "/1.1/functions/whoami", "auth": "app", "hook_key": false,
            "session": null, "req_body": "not json",
            "status": 400, "resp_body": answers[5].1,
        }),
        json!({
            "suite": "engine", "test": "metadatas", "order": 0, "method": "GET",
            "path": "/1.1/functions/_ops/metadatas", "auth": "master", "hook_key": false,
            "session": null, "req_body": null,
            "status": 200, "resp_body": {"result": registry().metadata_names()},
        }),
        json!({
            "suite": "engine", "test": "functions/leak", "order": 0, "method": "POST",
            "path": "/1.1/functions/leak", "auth": "app", "hook_key": false,
            "session": null, "req_body": {},
            "status": 200,
            "resp_body": {"result": {
                "keys": [REDACTED, REDACTED, REDACTED, REDACTED],
                "note": format!("master={REDACTED}"),
            }},
        }),
        json!({
            "suite": "engine", "test": "call/whoami", "order": 0, "method": "POST",
            "path": "/1.1/call/whoami", "auth": "app", "hook_key": false,
            "session": SESSION, "req_body": {"b": 2},
            "status": 200, "resp_body": {"result": {"username": "alice", "params": {"b": 2}}},
        }),
        json!({
            "suite": "engine", "test": "_User/onLogin", "order": 0, "method": "POST",
            "path": "/1.1/functions/_User/onLogin", "auth": "app", "hook_key": true,
            "session": null, "req_body": {"object": {"objectId": "u1", "username": "alice"}},
            "status": 200, "resp_body": {"result": "ok"},
        }),
    ];
    for (i, (line, expected)) in lines.iter().zip(&expected).enumerate() {
        assert_eq!(&summary(line), expected, "line {i}: {line}");
    }
    assert_eq!(answers[5].1["code"], code::GENERIC, "{}", answers[5].1);
    // The body that was not JSON is kept as text, with its content type.
    assert_eq!(
        (&lines[5]["req_raw"], &lines[5]["req_content_type"]),
        (&json!(true), &json!("application/json"))
    );
    for line in &lines {
        assert_eq!(line["suite"], RECORDING_SUITE);
        assert!(line["elapsed_ms"].is_u64(), "{line}");
        assert!(line.get("upstream_error").is_none(), "{line}");
    }
    let written = writer.summary();
    assert_eq!(
        (written.cases, written.exchanges, written.seeds),
        (7, 10, 0)
    );
    assert_eq!(written.bytes, text.len() as u64);
}

#[tokio::test]
async fn each_exchange_is_in_the_file_before_the_engine_stops() {
    let file = TempFile::new("before-stop");
    let (engine, _writer) = recording_engine(&file).await;
    assert!(file.text().is_empty());
    let call = || {
        request(
            "POST",
            "/1.1/functions/whoami",
            &[ID, KEY, JSON],
            r#"{"n":1}"#,
        )
    };
    assert_eq!(send(&engine, call()).await.0, 200);
    // The engine is still serving: the line was appended and flushed with the answer.
    let lines = file.lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (&lines[0]["test"], &lines[0]["order"]),
        (&json!("functions/whoami"), &json!(0))
    );
    assert_eq!(send(&engine, call()).await.0, 200);
    let lines = file.lines();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["order"], 1);
    assert!(file.text().ends_with('\n'));
    drop(engine);
}

#[tokio::test]
async fn orders_follow_the_file_under_concurrent_requests() {
    let file = TempFile::new("concurrent");
    let (engine, _writer) = recording_engine(&file).await;
    let calls = (0..16).map(|n| {
        send(
            &engine,
            request(
                "POST",
                "/1.1/functions/whoami",
                &[ID, KEY, JSON],
                &json!({"n": n}).to_string(),
            ),
        )
    });
    for (status, _) in futures::future::join_all(calls).await {
        assert_eq!(status, 200);
    }
    let lines = file.lines();
    let orders: Vec<u64> = lines.iter().map(|l| l["order"].as_u64().unwrap()).collect();
    assert_eq!(orders, (0..16).collect::<Vec<u64>>());
    let mut sent: Vec<i64> = lines
        .iter()
        .map(|l| l["req_body"]["n"].as_i64().unwrap())
        .collect();
    sent.sort_unstable();
    assert_eq!(sent, (0..16).collect::<Vec<i64>>());
}

#[tokio::test]
async fn an_engine_called_in_process_records_too() {
    let file = TempFile::new("in-process");
    let writer = Arc::new(Writer::append(&file.0).unwrap());
    let engine = Engine::new(registry(), config()).with_recorder(writer.clone());
    assert!(Arc::ptr_eq(engine.recorder().unwrap(), &writer));
    assert!(Engine::new(registry(), config()).recorder().is_none());
    let response = engine
        .clone()
        .send(request(
            "POST",
            "/1.1/functions/Review/beforeSave",
            &[ID, KEY, HOOK, JSON],
            r#"{"object":{"stars":2}}"#,
        ))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    // The configured keys are secrets from the start: the master key and the hook key
    // are kept out even when no request has carried them yet.
    let fresh = TempFile::new("in-process-fresh");
    let leaky = Engine::new(registry(), config())
        .with_recorder(Arc::new(Writer::append(&fresh.0).unwrap()));
    let leaked = leaky
        .send(request(
            "POST",
            "/1.1/functions/leak",
            &[ID, KEY, JSON],
            "{}",
        ))
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&leaked.body).contains(MASTER_KEY));
    let text = fresh.text();
    assert_eq!(text.lines().count(), 1);
    for secret in [APP_ID, APP_KEY, MASTER_KEY, HOOK_KEY] {
        assert!(!text.contains(secret), "{secret} is in {text}");
    }
    let lines = file.lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (
            &lines[0]["test"],
            &lines[0]["hook_key"],
            &lines[0]["resp_body"]
        ),
        (
            &json!("Review/beforeSave"),
            &json!(true),
            &json!({"stars": 2, "checked": true})
        )
    );
}

/// `/dev/full` accepts the open and refuses every write: the answers must not notice.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_recording_that_cannot_be_written_leaves_the_answers_alone() {
    let Ok(writer) = Writer::append("/dev/full") else {
        eprintln!("no writable /dev/full here; skipped");
        return;
    };
    let writer = Arc::new(writer);
    let engine = start_recording(registry(), config(), writer.clone())
        .await
        .unwrap();
    for _ in 0..2 {
        let (status, body) = send(
            &engine,
            request(
                "POST",
                "/1.1/functions/Review/beforeSave",
                &[ID, KEY, HOOK, JSON],
                r#"{"object":{"stars":3}}"#,
            ),
        )
        .await;
        assert_eq!((status, body), (200, json!({"stars": 3, "checked": true})));
    }
    assert_eq!(writer.summary().exchanges, 0);
}
