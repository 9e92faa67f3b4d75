//! `lc-mock serve` as a deployed test environment: keys from the official engines'
//! variables, the refusal of the default keys on an address other machines reach, and
//! the JSON access log with request ids.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Every variable that would give the server keys, removed, so the test sets its own.
const KEY_VARS: [&str; 8] = [
    "LC_MOCK_APP_ID",
    "LC_MOCK_APP_KEY",
    "LC_MOCK_MASTER_KEY",
    "LC_MOCK_HOOK_KEY",
    "LEANCLOUD_APP_ID",
    "LEANCLOUD_APP_KEY",
    "LEANCLOUD_APP_MASTER_KEY",
    "LEANCLOUD_APP_HOOK_KEY",
];

fn lc_mock(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lc-mock"));
    command
        .args(args)
        .env_remove("LC_MOCK_ENGINE")
        .env_remove("LC_MOCK_FIXTURES")
        .env_remove("LC_MOCK_DATA")
        .env_remove("LC_MOCK_HOST")
        .env_remove("LC_MOCK_LOG");
    for var in KEY_VARS {
        command.env_remove(var);
    }
    command
}

#[test]
fn the_default_keys_are_refused_on_an_address_other_machines_reach() {
    // Refused before anything is bound.
    let output = lc_mock(&["serve", "--host", "0.0.0.0", "--port", "0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "no URL is printed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to serve on 0.0.0.0 with the default master key and hook key"),
        "{stderr}"
    );
    // The master key alone set: the hook key is still the default one.
    let output = lc_mock(&["serve", "--host", "0.0.0.0", "--port", "0"])
        .env("LEANCLOUD_APP_MASTER_KEY", "a-real-master-key")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("with the default hook key:"), "{stderr}");
}

#[tokio::test]
async fn keys_come_from_the_engines_variables_and_requests_are_logged_as_json() {
    let mut child = lc_mock(&["serve", "--port", "0", "--log", "json"])
        .env("LEANCLOUD_APP_ID", "team-app")
        .env("LEANCLOUD_APP_KEY", "team-key")
        .env("LEANCLOUD_APP_MASTER_KEY", "team-master")
        .env("LC_MOCK_MASTER_KEY", "mock-master")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let url = url.trim().to_string();
    let stderr = child.stderr.take().unwrap();
    // Lines of the log as they come, read on a thread of their own.
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Kill(child);

    let http = reqwest::Client::new();
    let create = |id: &str, key: &str| {
        http.post(format!("{url}/1.1/classes/Note"))
            .header("x-lc-id", id)
            .header("x-lc-key", key)
            .json(&serde_json::json!({"text": "hi"}))
            .send()
    };
    // The default keys are not this app's.
    let refused = create("lc-mock-app", "lc-mock-key").await.unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let made = create("team-app", "team-key").await.unwrap();
    assert_eq!(made.status().as_u16(), 201);
    let generated = made.headers()["x-request-id"].to_str().unwrap().to_string();
    let master = http
        .get(format!("{url}/__mock/health"))
        .header("x-lc-id", "team-app")
        .header("x-lc-key", "mock-master,master")
        .header("x-request-id", "qa-run-7")
        .send()
        .await
        .unwrap();
    assert_eq!(master.status().as_u16(), 200);
    assert_eq!(master.headers()["x-request-id"], "qa-run-7");
    // LC_MOCK_MASTER_KEY wins over the engines' LEANCLOUD_APP_MASTER_KEY.
    let health = |key: &str| {
        http.get(format!("{url}/__mock/health"))
            .header("x-lc-id", "team-app")
            .header("x-lc-key", format!("{key},master"))
            .send()
    };
    assert_eq!(health("team-master").await.unwrap().status().as_u16(), 401);

    let mut logged: Vec<Value> = Vec::new();
    while logged.len() < 4 {
        let line = lines_rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("only {} lines: {logged:?}", logged.len()));
        // Lines of the start-up (plain text) come first.
        if let Ok(value) = serde_json::from_str::<Value>(&line) {
            logged.push(value);
        }
    }
    let by_id = |id: &str| {
        logged
            .iter()
            .find(|l| l["requestId"] == id)
            .unwrap_or_else(|| panic!("no line for {id}: {logged:?}"))
            .clone()
    };
    let line = by_id(&generated);
    assert_eq!(
        (
            &line["method"],
            &line["path"],
            &line["status"],
            &line["level"]
        ),
        (
            &Value::from("POST"),
            &Value::from("/1.1/classes/Note"),
            &Value::from(201),
            &Value::from("info")
        ),
        "{line}"
    );
    assert!(line["ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{line}");
    assert!(
        leancloud::value::parse_date(line["time"].as_str().unwrap()).is_some(),
        "{line}"
    );
    assert_eq!(by_id("qa-run-7")["path"], "/__mock/health");
    assert_eq!(logged[0]["status"], 401, "{logged:?}");
}
