//! Traces (`GET /__mock/traces`): free of passwords and session tokens, and bounded in
//! memory (each body cut to a size, a total, a count), configurable on `Api` (and as
//! `lc-mock serve` flags, tested with the program). The memory they hold is measured in `trace_memory.rs`.

use leancloud::cloud::{CloudError, Registry};
use mock_server::MockLeanCloud;
use mock_server::api::trace::{REDACTED, TRACE_BODY_BYTES, TraceLimits};
use mock_server::api::{Api, AppConfig};
use serde_json::{Value, json};

/// A cloud whose hooks see the requesting user, session token included, and hand it on:
/// `Post` beforeSave stores who saved it (the user's JSON, token and all) and makes a
/// request of its own with the token in the body; onLogin accepts everyone.
fn cloud() -> Registry {
    let mut r = Registry::new();
    r.before_save("Post", |req| async move {
        let mut post = req.object.clone();
        post["by"] = req.user.clone().unwrap_or(Value::Null);
        req.client()
            .create(
                "Audit",
                &json!({"seen": {"sessionToken": req.user.as_ref()
                .and_then(|u| u.get("sessionToken")).cloned()}}),
            )
            .await
            .map_err(CloudError::from_lc)?;
        Ok(post)
    });
    r.on_login(|_req| async move { Ok(()) });
    r
}

struct Wire {
    base: String,
    http: reqwest::Client,
}

impl Wire {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        session: Option<&str>,
        body: Value,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-lc-id", "lc-mock-app")
            .header("x-lc-key", key)
            .json(&body);
        if let Some(token) = session {
            req = req.header("x-lc-session", token);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, session: Option<&str>, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, "lc-mock-key", session, body)
            .await
    }

    async fn traces(&self) -> Value {
        let (status, body) = self
            .send(
                reqwest::Method::GET,
                "/__mock/traces",
                "lc-mock-master,master",
                None,
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["results"].clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_or_session_token_ever_reaches_the_traces() {
    let lc = MockLeanCloud::start_with_cloud(Api::new(AppConfig::default()), cloud())
        .await
        .unwrap();
    let wire = Wire {
        base: lc.uri(),
        http: reqwest::Client::new(),
    };
    let mut secrets: Vec<String> = vec![
        "pw-signup-secret".into(),
        "pw-classes-secret".into(),
        "pw-wrong-secret".into(),
        "pw-new-secret".into(),
        "pw-batch-secret".into(),
        "pw-unauthorised-secret".into(),
    ];

    let (s, ann) = wire
        .post(
            "/1.1/users",
            None,
            json!({"username": "ann", "password": "pw-signup-secret"}),
        )
        .await;
    assert_eq!(s, 201, "{ann}");
    let (s, bob) = wire
        .post(
            "/1.1/classes/_User",
            None,
            json!({"username": "bob", "password": "pw-classes-secret"}),
        )
        .await;
    assert_eq!(s, 201, "{bob}");
    let (s, login) = wire
        .post(
            "/1.1/login",
            None,
            json!({"username": "ann", "password": "pw-signup-secret"}),
        )
        .await;
    assert_eq!(s, 200, "{login}");
    let (s, _) = wire
        .post(
            "/1.1/login",
            None,
            json!({"username": "ann", "password": "pw-wrong-secret"}),
        )
        .await;
    assert_eq!(s, 400);
    let id = ann["objectId"].as_str().unwrap();
    let (s, changed) = wire
        .send(
            reqwest::Method::PUT,
            &format!("/1.1/users/{id}/updatePassword"),
            "lc-mock-key",
            ann["sessionToken"].as_str(),
            json!({"old_password": "pw-signup-secret", "new_password": "pw-new-secret"}),
        )
        .await;
    assert_eq!(s, 200, "{changed}");
    let token = changed["sessionToken"].as_str().unwrap().to_string();
    // The hook gets the user with this token, stores it in the post, and sends it on.
    let (s, post) = wire
        .post("/1.1/classes/Post", Some(&token), json!({"title": "t"}))
        .await;
    assert_eq!(s, 201, "{post}");
    let (s, _) = wire
        .post(
            "/1.1/classes/Note",
            Some(&token),
            json!({"meta": [{"sessionToken": token}]}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = wire
        .post(
            "/1.1/batch",
            None,
            json!({"requests": [{"method": "POST", "path": "/1.1/users",
                "body": {"username": "cy", "password": "pw-batch-secret"}}]}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = wire
        .send(
            reqwest::Method::POST,
            "/1.1/users",
            "not-the-key",
            None,
            json!({"username": "dee", "password": "pw-unauthorised-secret"}),
        )
        .await;
    assert_eq!(s, 401);
    // A browser form sends its session in the body.
    let form = wire
        .http
        .post(format!("{}/1.1/classes/Note", wire.base))
        .header("content-type", "text/plain")
        .body(
            json!({"_ApplicationId": "lc-mock-app", "_ApplicationKey": "lc-mock-key",
                "_SessionToken": token, "n": 1})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 201);
    lc.idle().await;

    for answer in [&ann, &bob, &login] {
        secrets.push(answer["sessionToken"].as_str().unwrap().to_string());
    }
    secrets.push(token.clone());
    let traces = wire.traces().await;
    let text = traces.to_string();
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{secret} is in the traces: {text}"
        );
    }
    // The traces still say what happened, with the secrets' places marked.
    assert!(text.contains("\"username\":\"ann\""), "{text}");
    assert!(text.contains(REDACTED), "{text}");
    let post_trace = traces
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["request"] == "POST /1.1/classes/Post")
        .unwrap();
    let hook = &post_trace["hooks"][0];
    assert_eq!(hook["hook"], "beforeSave");
    assert_eq!(hook["output"]["by"]["sessionToken"], REDACTED, "{hook}");
    assert_eq!(hook["output"]["by"]["username"], "ann");
    assert_eq!(
        hook["requests"][0]["body"]["seen"]["sessionToken"], REDACTED,
        "{hook}"
    );
    // What the app stored is the app's business: the post keeps the token the hook put.
    let stored = lc
        .api()
        .store()
        .object("Post", post["objectId"].as_str().unwrap())
        .cloned()
        .unwrap();
    assert_eq!(stored.to_map()["by"]["sessionToken"], token.as_str());
}

#[test]
fn a_body_over_the_cut_size_is_kept_cut_with_a_marker_and_the_limits_are_configurable() {
    let api = Api::new(AppConfig::default());
    assert_eq!(api.trace_limits(), TraceLimits::default());
    assert_eq!(api.trace_limits().body_bytes, TRACE_BODY_BYTES);
    api.set_trace_limits(TraceLimits {
        requests: 5,
        body_bytes: 200,
        total_bytes: 1 << 20,
    });
    let long = "x".repeat(5000);
    for i in 0..8 {
        let req = leancloud::Request::new("POST", &format!("/1.1/classes/C{i}"))
            .with_header("x-lc-id", "lc-mock-app")
            .with_header("x-lc-key", "lc-mock-key")
            .with_json(&json!({"text": long, "n": i}));
        assert_eq!(api.handle(&req).status, 201);
    }
    let traces = api.traces();
    assert_eq!(traces.len(), 5, "the count limit holds");
    assert_eq!(traces[0]["request"], "POST /1.1/classes/C3");
    let body = &traces[0]["body"];
    let text = body["text"].as_str().unwrap();
    let (kept, marker) = text.split_once('…').unwrap();
    assert!(kept.len() < 200 && !kept.is_empty(), "{}", kept.len());
    assert_eq!(marker, format!("[cut: {} bytes]", 5000 - kept.len()));
    // What the store holds is not cut: only the trace is.
    let store = api.store();
    let stored = store.class("C3").unwrap().objects.values().next().unwrap();
    assert_eq!(stored.to_map()["text"].as_str().unwrap().len(), 5000);
    drop(store);

    api.set_trace_limits(TraceLimits {
        requests: 5,
        body_bytes: 200,
        total_bytes: 700,
    });
    let kept = api.traces();
    assert!(
        kept.len() < 5,
        "the byte limit drops the oldest: {}",
        kept.len()
    );
    assert_eq!(kept.last().unwrap()["request"], "POST /1.1/classes/C7");
    assert!(api.trace_bytes() <= 700);
}
