//! Database settings end to end: the example folder loads, broken folders are refused
//! with the file and the problem named, `/1.1/schemas` shows what was loaded, the loaded
//! column and class rules hold over HTTP on both fronts, and a unique index holds under
//! concurrent creates. The example lives in `tests/fixtures/settings_example`; the app's
//! own settings (`fixtures/database_settings`) are checked for rows that agree with each
//! other and for logins with the documented passwords.

mod app_settings;
mod loading;
mod over_http;
mod unique_and_reset;

use crate::support::keys;
use lc_model::settings::{ClassFiles, ClassSpec};
use lc_model::store::Val;
use leancloud::Caller;
use leancloud::error::code;
use leancloud::value::pointer;
use mock_server::MockLeanCloud;
use mock_server::api::{Api, AppConfig};
use mock_server::http::standalone::Standalone;
use mock_server::settings::{LoadError, Settings};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const ALICE: &str = "65a0f1c2e4b0a1b2c3d4e501";
const ALICE_SESSION: &str = "alicesessiontoken00000001";
const BOB: &str = "65a0f1c2e4b0a1b2c3d4e502";
const CAFE: &str = "65a0f1c2e4b0a1b2c3d4e601";
const NOODLES: &str = "65a0f1c2e4b0a1b2c3d4e602";
const REVIEW: &str = "65a0f1c2e4b0a1b2c3d4e701";

/// The example settings folder (`tests/fixtures/settings_example`), which the snapshot
/// tests load too.
pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/settings_example")
}

fn example() -> Settings {
    Settings::load(example_dir()).unwrap_or_else(|e| panic!("the example loads: {e}"))
}

// ---- an app on either front, for the submodules -------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Front {
    Wiremock,
    Standalone,
}

/// A running emulator on one front; keeps it alive.
enum Running {
    Wiremock(MockLeanCloud),
    Standalone(Standalone),
}

impl Running {
    async fn start(front: Front, api: Api) -> Running {
        match front {
            Front::Wiremock => Running::Wiremock(MockLeanCloud::start_with(api).await),
            Front::Standalone => Running::Standalone(
                Standalone::start("127.0.0.1:0".parse().unwrap(), Arc::new(api))
                    .await
                    .unwrap(),
            ),
        }
    }

    fn uri(&self) -> String {
        match self {
            Running::Wiremock(lc) => lc.uri(),
            Running::Standalone(s) => s.uri(),
        }
    }

    fn api(&self) -> &Arc<Api> {
        match self {
            Running::Wiremock(lc) => lc.api(),
            Running::Standalone(s) => &s.api,
        }
    }
}

/// Send one request with its own client (its own connection).
async fn send(
    base: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    who: Caller<&str>,
) -> (u16, Value) {
    let cfg = AppConfig::default();
    let http = reqwest::Client::new();
    let mut req = http
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{base}{path}"),
        )
        .header("content-type", "application/json");
    for (name, value) in who.headers(&keys(&cfg)) {
        req = req.header(name, value);
    }
    if let Some(body) = body {
        req = req.body(body.to_string());
    }
    let resp = req.send().await.expect("the emulator answers");
    let status = resp.status().as_u16();
    let body = resp.json().await.expect("every answer is JSON");
    (status, body)
}

fn err(e: leancloud::LcError) -> (u16, Value) {
    (e.status, e.to_json())
}

async fn example_app(front: Front) -> Running {
    let api = Api::with_settings(AppConfig::default(), &example()).unwrap();
    Running::start(front, api).await
}

const FRONTS: [Front; 2] = [Front::Wiremock, Front::Standalone];
