//! The app's registry: `normalizePhone` in-process, over the engine protocol, and served
//! by the `cloud-engine` program.

use cloud::errors::invalid;
use cloud::registry;
use futures::executor::block_on;
use leancloud::cloud::{CloudError, FunctionRequest};
use leancloud::engine::{EngineConfig, start};
use leancloud::error::code;
use leancloud::transport::HttpTransport;
use leancloud::{Request, Transport};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

fn normalize(params: Value) -> Result<Value, CloudError> {
    block_on(registry().call_function("normalizePhone", FunctionRequest::new(params)))
}

#[test]
fn the_registry_lists_the_apps_functions_first() {
    assert_eq!(
        registry().metadata_names()[..4],
        [
            "normalizePhone",
            "nearbyBusinesses",
            "businessSummary",
            "moderateBusiness"
        ]
    );
}

#[test]
fn normalize_phone_answers_the_e164_form() {
    assert_eq!(
        normalize(json!({"phone": "138 0013 8000", "country": "CN"})),
        Ok(json!("+8613800138000"))
    );
    assert_eq!(
        normalize(json!({"phone": "030 1234567", "country": "de"})),
        Ok(json!("+49301234567"))
    );
    // An international number needs no country.
    assert_eq!(
        normalize(json!({"phone": "+33 1 23 45 67 89"})),
        Ok(json!("+33123456789"))
    );
}

#[test]
fn normalize_phone_refuses_with_the_rules_message_as_a_validation_failure() {
    assert_eq!(
        normalize(json!({"phone": "12ab", "country": "CN"})),
        Err(invalid(
            "The phone number \"12ab\" may contain only digits, spaces, dashes, dots, parentheses and a leading +."
        ))
    );
    assert_eq!(
        normalize(json!({"country": "CN"})),
        Err(invalid("Please enter a phone number."))
    );
    let err = normalize(json!({"phone": "138 0013 8000"})).unwrap_err();
    assert_eq!((err.status, err.code), (400, code::VALIDATION_ERROR));
    assert!(
        err.message.starts_with("Give the phone number's country"),
        "{}",
        err.message
    );
    assert_eq!(
        normalize(json!({"phone": 138})),
        Err(invalid("phone must be a string."))
    );
}

fn app_request(path: &str, body: &Value) -> Request {
    Request::new("POST", path)
        .with_header("x-lc-id", "app")
        .with_header("x-lc-key", "key")
        .with_json(body)
}

#[tokio::test]
async fn normalize_phone_answers_over_the_engine_protocol() {
    let engine = start(registry(), EngineConfig::new("app", "key", "master"))
        .await
        .unwrap();
    let http = HttpTransport::new(&engine.uri());
    let ok = http
        .send(app_request(
            "/1.1/functions/normalizePhone",
            &json!({"phone": "(415) 555-2671", "country": "US"}),
        ))
        .await
        .unwrap();
    assert_eq!(
        (ok.status, ok.body_json().unwrap()),
        (200, json!({"result": "+14155552671"}))
    );
    let refused = http
        .send(app_request(
            "/1.1/functions/normalizePhone",
            &json!({"phone": "", "country": "US"}),
        ))
        .await
        .unwrap();
    assert_eq!(
        (refused.status, refused.body_json().unwrap()),
        (
            400,
            json!({"code": 142, "error": "Please enter a phone number."})
        )
    );
}

/// The program, killed when the test ends.
struct Program(Child);

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_cloud_engine_program_prints_its_url_and_serves_the_registry() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloud-engine"))
        .env("LEANCLOUD_APP_ID", "app")
        .env("LEANCLOUD_APP_KEY", "key")
        .env("LEANCLOUD_APP_MASTER_KEY", "master")
        .env("LEANCLOUD_APP_HOOK_KEY", "hook")
        .env("LEANCLOUD_APP_PORT", "0")
        .env_remove("LEANCLOUD_API_SERVER")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let program = Program(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");

    let http = HttpTransport::new(&url);
    let ping = http
        .send(Request::new("GET", "/__engine/1/ping"))
        .await
        .unwrap();
    assert_eq!(ping.status, 200);
    assert!(
        ping.body_json().unwrap()["runtime"]
            .as_str()
            .unwrap()
            .starts_with("rust-")
    );
    let answer = http
        .send(app_request(
            "/1.1/functions/normalizePhone",
            &json!({"phone": "03-1234-5678", "country": "JP"}),
        ))
        .await
        .unwrap();
    assert_eq!(
        answer.body_json().unwrap(),
        json!({"result": "+81312345678"})
    );
    let metadata = http
        .send(
            Request::new("GET", "/1.1/functions/_ops/metadatas")
                .with_header("x-lc-id", "app")
                .with_header("x-lc-key", "master,master"),
        )
        .await
        .unwrap();
    assert_eq!(
        metadata.body_json().unwrap()["result"],
        json!(registry().metadata_names())
    );
    drop(program);
}

#[test]
fn the_cloud_engine_program_says_which_variable_is_missing() {
    let output = Command::new(env!("CARGO_BIN_EXE_cloud-engine"))
        .env_remove("LEANCLOUD_APP_ID")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "cloud-engine: LEANCLOUD_APP_ID is not set"
    );
}
