//! # harness
//!
//! What test code imports. [`TestApp::start`] gives a fresh LeanCloud target (today the
//! in-process emulator; the target switch grows here), [`TestApp::send`] sends a raw
//! request as a chosen principal, and [`redactions`] are the shared insta settings that
//! hide generated values (ids, dates, tokens) so snapshots are stable.

use leancloud::{LcError, Request, Transport};
use mock_server::MockLeanCloud;
use serde_json::Value;
use std::sync::Arc;

/// Who sends a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum As {
    /// No credentials at all.
    Nobody,
    /// The app key.
    App,
    /// The master key.
    Master,
    /// The app key with a user's session token.
    Session(String),
}

/// An HTTP answer: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The LeanCloud error this answer carries, if it is one.
    pub fn error(&self) -> Option<LcError> {
        if self.status < 400 {
            return None;
        }
        LcError::from_json(self.status, &self.body)
    }
}

/// A fresh target for one test or scenario.
pub struct TestApp {
    lc: MockLeanCloud,
    transport: Arc<dyn Transport>,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("uri", &self.lc.uri())
            .finish()
    }
}

impl TestApp {
    /// Start the target named by `LC_TARGET` (default and, for now, only: `mock`, the
    /// in-process emulator running the app's cloud code on its fixtures). Panics with the
    /// reason when the target cannot be started.
    pub async fn start() -> TestApp {
        match std::env::var("LC_TARGET").as_deref() {
            Ok("mock") | Err(_) => {}
            Ok(other) => panic!(
                "LC_TARGET={other}: only the `mock` target exists so far; unset LC_TARGET to use it"
            ),
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/database_settings");
        let settings = mock_server::settings::Settings::load(&dir)
            .unwrap_or_else(|e| panic!("the app's fixtures do not load: {e}"));
        let api = Arc::new(
            mock_server::Api::with_settings(mock_server::AppConfig::default(), &settings)
                .unwrap_or_else(|e| panic!("the app's fixtures do not apply: {e}")),
        );
        api.attach_registry(cloud::registry())
            .unwrap_or_else(|e| panic!("the app's cloud code does not attach: {e}"));
        let lc = MockLeanCloud::start_shared(api).await;
        let transport = Arc::new(leancloud::transport::HttpTransport::new(&lc.uri()));
        TestApp { lc, transport }
    }

    /// Wait until every after-hook the target is running has finished (and everything
    /// they caused).
    pub async fn idle(&self) {
        self.lc.idle().await;
    }

    /// The traces of the last requests (what each ran: hooks, their input and output,
    /// nested requests), when the target keeps them.
    pub fn traces(&self) -> Option<Vec<Value>> {
        Some(self.lc.traces())
    }

    /// The emulator behind this app.
    pub fn emulator(&self) -> &MockLeanCloud {
        &self.lc
    }

    /// Send `method target` (a path with an optional `?query`) with a JSON body.
    pub async fn send(&self, who: &As, method: &str, target: &str, body: Option<&Value>) -> Answer {
        let cfg = self.lc.config();
        let mut req = Request::from_target(method, target);
        if let Some(body) = body {
            req = req.with_json(body);
        }
        req = match who {
            As::Nobody => req,
            As::App => req
                .with_header("x-lc-id", &cfg.app_id)
                .with_header("x-lc-key", &cfg.app_key),
            As::Master => req
                .with_header("x-lc-id", &cfg.app_id)
                .with_header("x-lc-key", format!("{},master", cfg.master_key)),
            As::Session(token) => req
                .with_header("x-lc-id", &cfg.app_id)
                .with_header("x-lc-key", &cfg.app_key)
                .with_header("x-lc-session", token),
        };
        match self.transport.send(req).await {
            Ok(resp) => Answer {
                status: resp.status,
                body: resp
                    .body_json()
                    .unwrap_or_else(|e| Value::String(e.message)),
            },
            Err(e) => panic!("the target did not answer {method} {target}: {e}"),
        }
    }
}

/// Shared insta settings: generated values are replaced by placeholders and maps are
/// sorted, so the same behaviour gives the same snapshot on every target.
pub fn redactions() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_sort_maps(true);
    s.add_redaction(".**.objectId", "[objectId]");
    s.add_redaction(".**.createdAt", "[date]");
    s.add_redaction(".**.updatedAt", "[date]");
    s.add_redaction(".**.sessionToken", "[token]");
    s.add_redaction(".**.iso", "[date]");
    // Traces: how long a hook took, and object ids inside request lines.
    s.add_redaction(".**.duration_us", "[us]");
    s.add_redaction(
        ".**.request",
        insta::dynamic_redaction(|value, _path| match value.as_str() {
            Some(line) => insta::internals::Content::from(redact_ids(line)),
            None => value,
        }),
    );
    s
}

/// `text` with every object id (24 lowercase hex digits) replaced by `[objectId]`.
pub fn redact_ids(text: &str) -> String {
    static ID: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let id = ID.get_or_init(|| regex::Regex::new(r"\b[0-9a-f]{24}\b").expect("a valid regex"));
    id.replace_all(text, "[objectId]").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_test_app_answers_as_each_principal() {
        let app = TestApp::start().await;
        let created = app
            .send(
                &As::App,
                "POST",
                "/1.1/classes/Note",
                Some(&json!({"text": "hi"})),
            )
            .await;
        assert_eq!(created.status, 201);
        let denied = app
            .send(&As::Nobody, "GET", "/1.1/classes/Note", None)
            .await;
        assert_eq!(
            denied.error(),
            Some(LcError::unauthorized()),
            "no keys: {denied:?}"
        );
        let reset = app.send(&As::Master, "POST", "/__mock/reset", None).await;
        assert_eq!(reset.status, 200);
    }

    #[test]
    fn redactions_hide_generated_values() {
        let value = json!({"objectId": "5d8307fd17b54d0068f1aa87", "n": 1,
            "nested": {"createdAt": "2019-09-19T04:45:49.090Z", "sessionToken": "abc"}});
        redactions().bind(|| {
            insta::assert_json_snapshot!(value, @r#"
            {
              "n": 1,
              "nested": {
                "createdAt": "[date]",
                "sessionToken": "[token]"
              },
              "objectId": "[objectId]"
            }
            "#);
        });
    }
}
