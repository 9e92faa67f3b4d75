//! What the emulator's tests share: a request to an app in-process as a [`Caller`], the
//! error an answer carries, the fresh app each replayed case runs in, and `lc-mock
//! replay` run in-process.

use leancloud::caller::Keys;
use leancloud::{Caller, LcError, Request};
use mock_server::api::{Api, AppConfig};
use mock_server::replay::{self, ExchangeOutcome, ReplayOptions, Report};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The keys of an app's config, to sign requests with.
pub fn keys(config: &AppConfig) -> Keys<'_> {
    Keys {
        app_id: &config.app_id,
        app_key: &config.app_key,
        master_key: &config.master_key,
    }
}

/// `request` with a JSON `body`, sent to `api` in-process as `who` (a user by their
/// session token): (status, JSON body).
pub fn request(
    api: &Api,
    who: &Caller<&str>,
    request: Request,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = who.sign(request, &keys(api.config()));
    if let Some(body) = body {
        request = request.with_json(body);
    }
    let response = api.handle(&request);
    (
        response.status,
        response.body_json().expect("every answer is JSON"),
    )
}

/// `method target` (a path with an optional `?query`) with a JSON `body`, sent to `api`
/// in-process as `who`.
pub fn send(
    api: &Api,
    who: &Caller<&str>,
    method: &str,
    target: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    request(api, who, Request::from_target(method, target), body)
}

/// The LeanCloud error an answer carries; panics, with the answer, when it carries none.
#[track_caller]
pub fn error(status: u16, body: &Value) -> LcError {
    LcError::from_json(status, body).unwrap_or_else(|| panic!("not an error: {status} {body}"))
}

/// A scratch path of its own for `name` (nothing is made there), under the system's temp
/// directory: unique to this process and call, since the tests of a binary run at once.
pub fn temp_path(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("lc-mock-test-{}-{n}-{name}", std::process::id()))
}

/// A scratch file holding `contents` (see [`temp_path`]).
pub fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path = temp_path(name);
    std::fs::write(&path, contents).expect("the temp dir is writable");
    path
}

/// The outcome of exchange `index` of case `test` in a replay's report.
#[track_caller]
pub fn outcome<'r>(report: &'r Report, test: &str, index: usize) -> &'r ExchangeOutcome {
    report
        .outcomes
        .iter()
        .find(|o| o.test == test && o.index == index)
        .unwrap_or_else(|| panic!("no exchange #{index} in test {test:?}"))
}

/// A fresh app without cloud code, as `lc-mock replay` builds for each case.
pub fn fresh() -> Arc<Api> {
    replay::fresh_app(None)
}

/// Run `lc-mock replay` in-process: (exit code, stdout, stderr).
pub fn run(args: &ReplayOptions) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = replay::run(args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).expect("stdout is UTF-8"),
        String::from_utf8(err).expect("stderr is UTF-8"),
    )
}

/// A clock a test moves by hand: the app reads it through `Store::new`.
#[derive(Debug, Clone)]
pub struct ManualClock(pub std::sync::Arc<std::sync::atomic::AtomicI64>);

impl ManualClock {
    pub fn at(ms: i64) -> ManualClock {
        ManualClock(std::sync::Arc::new(std::sync::atomic::AtomicI64::new(ms)))
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// An app on this clock (its ids seeded).
    pub fn app(&self) -> Api {
        let store = lc_model::Store::new(
            std::sync::Arc::new(self.clone()),
            Box::new(lc_model::SeededIds::new(7)),
        );
        Api::with_store(AppConfig::default(), store)
    }
}

impl lc_model::Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}
