//! The round trip: a scripted session (sign-up and log-in, errors, a batch with a failing
//! item, the app's review hook chain on pre-existing data) recorded through
//! `lc-mock record` in front of an emulator serving the app, then replayed against
//! fresh emulators: every exchange must reach L2, and no key may be in the file.

use leancloud::error::code;
use mock_server::api::{Api, AppConfig};
use mock_server::record::{RecorderConfig, start};
use mock_server::settings::Settings;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/database_settings");

/// Keys unlike anything else in the file, so finding one there means it leaked.
fn upstream_keys() -> AppConfig {
    AppConfig {
        app_id: "RoundTripAppId7f3a9c2e".into(),
        app_key: "RoundTripAppKey51d0b8e4".into(),
        master_key: "RoundTripMasterKey9e6c1a77".into(),
        hook_key: "RoundTripHookKey2b4d6f80".into(),
    }
}

/// The app with its fixtures and cloud code, on a socket.
async fn upstream() -> (String, Arc<Api>) {
    let settings = Settings::load(FIXTURES).unwrap();
    let api = Arc::new(Api::with_settings(upstream_keys(), &settings).unwrap());
    api.attach_registry(cloud::registry()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = api.clone();
    tokio::spawn(async move { mock_server::http::standalone::serve(listener, served).await });
    (url, api)
}

/// A client of the recorder that signs as the app's real clients do.
struct Script {
    http: reqwest::Client,
    base: String,
    keys: AppConfig,
    case: Option<String>,
    session: Option<String>,
}

struct Answer {
    status: u16,
    body: Value,
}

impl Script {
    async fn send(&self, method: &str, path: &str, body: Option<Value>, master: bool) -> Answer {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .header("x-lc-id", &self.keys.app_id);
        // Signatures, as the JS SDK sends them, for app and master alike.
        let key = if master {
            &self.keys.master_key
        } else {
            &self.keys.app_key
        };
        let sign =
            leancloud::sign::header_value(key, chrono::Utc::now().timestamp_millis(), master);
        request = request.header("x-lc-sign", sign);
        if let Some(case) = &self.case {
            request = request.header("x-lc-record-case", case);
        }
        if let Some(token) = &self.session {
            request = request.header("x-lc-session", token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        Answer { status, body }
    }

    async fn mark(&self, test: &str) {
        let response = self
            .http
            .post(format!("{}/__record/case", self.base))
            .body(json!({"test": test}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
}

fn pointer(class: &str, id: &str) -> Value {
    json!({"__type": "Pointer", "className": class, "objectId": id})
}

/// Record the scripted session into `file`. Returns the number of exchanges sent.
async fn record_session(file: &Path) -> usize {
    let (upstream_url, upstream_api) = upstream().await;
    let keys = upstream_keys();
    let mut config = RecorderConfig::new(&upstream_url);
    config.master_key = Some(keys.master_key.clone());
    let recorder = start(config, "127.0.0.1:0".parse().unwrap(), file)
        .await
        .unwrap();
    let mut s = Script {
        http: reqwest::Client::new(),
        base: recorder.url.clone(),
        keys,
        case: Some("a new customer".into()),
        session: None,
    };
    let mut sent = 0;
    let mut check = |answer: &Answer, status: u16| {
        sent += 1;
        assert_eq!(answer.status, status, "{}", answer.body);
    };

    // Case 1 (named by header): a sign-up, log-ins, the user's own updates.
    let signup = s
        .send(
            "POST",
            "/1.1/users",
            Some(json!({"username": "round.trip", "password": "round-trip-pass", "displayName": "Round Trip"})),
            false,
        )
        .await;
    check(&signup, 201);
    let user_id = signup.body["objectId"].as_str().unwrap().to_string();
    let wrong = s
        .send(
            "POST",
            "/1.1/login",
            Some(json!({"username": "round.trip", "password": "not-it"})),
            false,
        )
        .await;
    check(&wrong, 400);
    let login = s
        .send(
            "POST",
            "/1.1/login",
            Some(json!({"username": "round.trip", "password": "round-trip-pass"})),
            false,
        )
        .await;
    check(&login, 200);
    s.session = login.body["sessionToken"].as_str().map(str::to_string);
    check(&s.send("GET", "/1.1/users/me", None, false).await, 200);
    let path = format!("/1.1/users/{user_id}");
    let rename = s
        .send("PUT", &path, Some(json!({"displayName": "R. Trip"})), false)
        .await;
    check(&rename, 200);
    let promote = s
        .send("PUT", &path, Some(json!({"role": "owner"})), false)
        .await;
    check(&promote, 400);
    assert_eq!(
        promote.body["code"],
        code::READ_ONLY_KEY,
        "{}",
        promote.body
    );
    // A session the app never issued: recorded as an absent `_Session` seed, so the
    // replay scores the refusal too.
    s.session = Some("0000000000notissuedbyapp0".into());
    let stranger = s.send("GET", "/1.1/users/me", None, false).await;
    check(&stranger, 400);
    assert_eq!(
        stranger.body["code"],
        code::USER_NOT_FOUND,
        "{}",
        stranger.body
    );
    s.session = None;

    // Case 2 (named by a marker): a fixture customer reviews a fixture business.
    s.case = None;
    s.mark("a review and its chain").await;
    let login = s
        .send(
            "POST",
            "/1.1/login",
            Some(json!({"username": "mei.lin", "password": "mei.lin-pass"})),
            false,
        )
        .await;
    check(&login, 200);
    let mei = login.body["objectId"].as_str().unwrap().to_string();
    s.session = login.body["sessionToken"].as_str().map(str::to_string);
    let business = "65bfc1286c63004400000002";
    let business_path = format!("/1.1/classes/Business/{business}");
    let before = s.send("GET", &business_path, None, false).await;
    check(&before, 200);
    let review = s
        .send(
            "POST",
            "/1.1/classes/Review",
            Some(json!({"business": pointer("Business", business), "stars": 4, "text": "Crisp dumplings, kind staff."})),
            false,
        )
        .await;
    check(&review, 201);
    let review_id = review.body["objectId"].as_str().unwrap().to_string();
    // The recorded client's next request came after the after-hooks had run.
    upstream_api.idle().await;
    let after = s.send("GET", &business_path, None, false).await;
    check(&after, 200);
    assert_eq!(
        after.body["ratingCount"].as_i64(),
        before.body["ratingCount"].as_i64().map(|n| n + 1)
    );
    check(&s.send("GET", "/1.1/users/me", None, false).await, 200);
    let six = s
        .send(
            "POST",
            "/1.1/classes/Review",
            Some(
                json!({"business": pointer("Business", business), "stars": 6, "text": "Too good"}),
            ),
            false,
        )
        .await;
    check(&six, 400);
    let again = s
        .send(
            "POST",
            "/1.1/classes/Review",
            Some(json!({"business": pointer("Business", business), "stars": 3, "text": "Second visit"})),
            false,
        )
        .await;
    check(&again, 400);
    let batch = s
        .send(
            "POST",
            "/1.1/batch",
            Some(json!({"requests": [
                {"method": "PUT", "path": format!("/1.1/classes/Review/{review_id}"), "body": {"stars": 5}},
                {"method": "PUT", "path": format!("/1.1/classes/Review/{review_id}"), "body": {"business": pointer("Business", "65bfc1286c63004400000003")}},
                {"method": "POST", "path": "/1.1/classes/Review", "body": {"business": pointer("Business", business), "stars": 0}}
            ]})),
            false,
        )
        .await;
    check(&batch, 200);
    upstream_api.idle().await;
    let missing = s
        .send(
            "GET",
            "/1.1/classes/Review/0123456789abcdef01234567",
            None,
            false,
        )
        .await;
    // The service answers a missing object with an empty one.
    check(&missing, 200);
    assert_eq!(missing.body, json!({}));
    // Reviews are deleted by staff (class permissions), with the master key.
    let delete = s
        .send(
            "DELETE",
            &format!("/1.1/classes/Review/{review_id}"),
            None,
            true,
        )
        .await;
    check(&delete, 200);
    upstream_api.idle().await;
    check(&s.send("GET", &business_path, None, false).await, 200);
    check(
        &s.send("GET", &format!("/1.1/users/{mei}"), None, false)
            .await,
        200,
    );
    s.session = None;

    // The master key reads what the app keeps from clients.
    check(
        &s.send(
            "GET",
            &format!(
                "/1.1/classes/Review?where={}&order=-createdAt&limit=2",
                percent_encoding::utf8_percent_encode(
                    &json!({"business": pointer("Business", business)}).to_string(),
                    percent_encoding::NON_ALPHANUMERIC
                )
            ),
            None,
            true,
        )
        .await,
        200,
    );

    let summary = recorder.stop().await;
    assert_eq!(summary.exchanges, sent);
    assert_eq!(summary.cases, 2);
    sent
}

struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_file(name: &str) -> TempFile {
    let path = std::env::temp_dir().join(format!("lc-{name}-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    TempFile(path)
}

/// Replay `file` against fresh emulators running the app, with the app's schema and
/// permissions; the per-suite counts and the printed report.
fn replay(file: &Path, settings: Option<&str>) -> (Value, String) {
    let options = mock_server::replay::ReplayOptions {
        file: file.to_path_buf(),
        json: true,
        list_preexisting: true,
        cloud: Some(cloud::registry),
        settings: settings.map(PathBuf::from),
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = mock_server::replay::run(&options, &mut out, &mut err);
    let out = String::from_utf8_lossy(&out).into_owned();
    let err = String::from_utf8_lossy(&err).into_owned();
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.is_empty(), "replay complained: {err}");
    let summary = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    (summary, out)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_session_replays_at_l2_against_a_fresh_emulator() {
    let file = temp_file("roundtrip");
    let sent = record_session(&file.0).await;
    let (summary, report) = tokio::task::spawn_blocking({
        let path = file.0.clone();
        move || replay(&path, Some(FIXTURES))
    })
    .await
    .unwrap();
    let recorded = &summary["recorded"];
    assert_eq!(recorded["exchanges"], sent, "{report}");
    // Every exchange is scored: the seeds brought the fixture user, business, address
    // and reviews, and the absent id is known to be absent.
    assert_eq!(recorded["replayable"], sent, "{report}");
    assert_eq!(recorded["l2"], sent, "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_its_seeds_the_session_cannot_be_scored_whole() {
    let file = temp_file("roundtrip-unseeded");
    record_session(&file.0).await;
    let text = std::fs::read_to_string(&file.0).unwrap();
    let exchanges: String = text
        .lines()
        .filter(|l| !l.contains(r#""seed":"#))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(exchanges.len() < text.len(), "the recording has seeds");
    std::fs::write(&file.0, exchanges).unwrap();
    let (summary, report) = tokio::task::spawn_blocking({
        let path = file.0.clone();
        move || replay(&path, Some(FIXTURES))
    })
    .await
    .unwrap();
    let preexisting = summary["recorded"]["preexisting"].as_u64().unwrap();
    assert!(preexisting >= 5, "{report}");
    assert!(
        report.contains("names unknown objectId 65bfc1286c63004400000002"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_session_holds_no_key() {
    let file = temp_file("roundtrip-secrets");
    record_session(&file.0).await;
    let text = std::fs::read_to_string(&file.0).unwrap();
    let keys = upstream_keys();
    for key in [
        &keys.app_id,
        &keys.app_key,
        &keys.master_key,
        &keys.hook_key,
    ] {
        assert!(!text.contains(key.as_str()), "{key} is in the recording");
    }
    // Nor any header: no signature, no key names.
    for header in ["x-lc-sign", "x-lc-key", "x-lc-id", "X-LC-Sign"] {
        assert!(!text.contains(header), "{header} is in the recording");
    }
    println!("{text}");
}
