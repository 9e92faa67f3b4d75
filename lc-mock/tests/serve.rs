//! `lc-mock serve` as a program: what its help says, and the README's first command (the
//! app's cloud code by name, on its fixtures) serving the app.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

#[test]
fn serve_help_says_the_data_lives_in_memory_only() {
    let output = Command::new(env!("CARGO_BIN_EXE_lc-mock"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success());
    assert!(help.contains("in memory only"), "{help}");
    assert!(help.contains("gone when the process ends"), "{help}");
}

/// Ends the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_runs_the_app_by_name_on_its_fixtures() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/database_settings");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lc-mock"))
        .args([
            "serve",
            "--port",
            "0",
            "--cloud",
            "app",
            "--fixtures",
            fixtures,
        ])
        .env_remove("LC_MOCK_ENGINE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let server = Server(child);
    let mut url = String::new();
    stdout.read_line(&mut url).unwrap();
    let url = url.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");

    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{url}{path}"))
            .header("x-lc-id", "lc-mock-app")
            .header("x-lc-key", "lc-mock-key")
            .json(&body)
            .send()
    };
    // The app's cloud function, in-process.
    let answer = post(
        "/1.1/functions/normalizePhone",
        serde_json::json!({"phone": "138 0013 8000", "country": "CN"}),
    )
    .await
    .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["result"], "+8613800138000");
    // The fixtures' users log in with `<username>-pass`.
    let login = post(
        "/1.1/login",
        serde_json::json!({"username": "anna.schmidt", "password": "anna.schmidt-pass"}),
    )
    .await
    .unwrap();
    assert_eq!(login.status().as_u16(), 200);
    drop(server);
}

#[test]
#[cfg(unix)]
fn lc_mock_serve_takes_the_trace_limits_as_flags_and_environment_variables() {
    let mut child = Server(
        Command::new(env!("CARGO_BIN_EXE_lc-mock"))
            .args(["serve", "--port", "0", "--trace-body-bytes", "100"])
            .env("LC_MOCK_TRACE_REQUESTS", "2")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut url = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let url = url.trim().to_string();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let traces = runtime.block_on(async {
        let http = reqwest::Client::new();
        for i in 0..3 {
            let resp = http
                .post(format!("{url}/1.1/classes/Big"))
                .header("x-lc-id", "lc-mock-app")
                .header("x-lc-key", "lc-mock-key")
                .json(&serde_json::json!({"text": "y".repeat(1000), "i": i}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 201);
        }
        let resp = http
            .get(format!("{url}/__mock/traces"))
            .header("x-lc-id", "lc-mock-app")
            .header("x-lc-key", "lc-mock-master,master")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        resp.json::<serde_json::Value>().await.unwrap()["results"].clone()
    });
    drop(child);
    let traces = traces.as_array().unwrap();
    assert_eq!(traces.len(), 2, "{traces:?}");
    let text = traces[0]["body"]["text"].as_str().unwrap();
    assert!(text.len() < 150 && text.contains("…[cut: "), "{text}");
}
