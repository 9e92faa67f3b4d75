//! `lc-mock record` as a program: the URL on standard output, a line per exchange and a
//! summary on standard error, and nothing lost when it is stopped with Ctrl-C (SIGINT).

use leancloud::error::code;
use mock_server::api::{Api, AppConfig};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

const LC_MOCK: &str = env!("CARGO_BIN_EXE_lc-mock");

async fn upstream() -> String {
    let api = Arc::new(Api::new(AppConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { mock_server::http::standalone::serve(listener, api).await });
    url
}

#[cfg(unix)]
/// Start `lc-mock record` in front of `upstream`, writing `file`: the child and the URL
/// it printed.
fn start_recorder(upstream: &str, file: &Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(LC_MOCK)
        .args(["record", "--upstream", upstream, "--listen", "127.0.0.1:0"])
        .arg("--out")
        .arg(file)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    (child, url.trim().to_string())
}

#[cfg(unix)]
/// Send `signal` (`INT`, `TERM`) to the recorder, check that it exited cleanly, and
/// answer what it wrote to standard error.
fn stop_with(mut child: Child, signal: &str) -> String {
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    stderr
}

#[tokio::test(flavor = "multi_thread")]
#[cfg(unix)]
async fn ctrl_c_stops_the_recorder_with_a_summary_and_every_exchange_written() {
    let upstream = upstream().await;
    let file = std::env::temp_dir().join(format!("lc-record-cli-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let (child, url) = start_recorder(
        &upstream,
        &file,
        &["--gap-secs", "0", "--master-key", "lc-mock-master"],
    );
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let http = reqwest::Client::new();
    let keys = AppConfig::default();
    let send = |method: reqwest::Method, path: &str, body: Option<&str>| {
        let mut request = http
            .request(method, format!("{url}{path}"))
            .header("x-lc-id", &keys.app_id)
            .header("x-lc-key", &keys.app_key);
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        request.send()
    };
    let created = send(
        reqwest::Method::POST,
        "/1.1/classes/Note",
        Some(r#"{"text":"kept"}"#),
    )
    .await
    .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["objectId"]
        .as_str()
        .unwrap()
        .to_string();
    let fetched = send(
        reqwest::Method::GET,
        &format!("/1.1/classes/Note/{id}"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(fetched.status().as_u16(), 200);
    let bad = send(
        reqwest::Method::POST,
        "/1.1/classes/Note",
        Some("{not json"),
    )
    .await
    .unwrap();
    assert_eq!(bad.status().as_u16(), 400);

    let stderr = stop_with(child, "INT");
    assert!(
        stderr.contains("recorded/session 1 #0 POST /1.1/classes/Note -> 201"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    // The exchanges; the seeds (the app's roles, none here) are lines of their own.
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l.get("seed").is_none())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[2]["req_raw"], true);
    assert_eq!(lines[2]["req_body"], "{not json");
    assert_eq!(lines[2]["resp_body"]["code"], code::INVALID_JSON);
    assert!(
        stderr.contains(&format!(
            "wrote 1 case, 3 exchanges, 1 seed, {} bytes",
            text.len()
        )),
        "{stderr}"
    );
}

#[test]
fn an_upstream_that_is_not_a_url_is_a_usage_error() {
    let output = Command::new(LC_MOCK)
        .args([
            "record",
            "--upstream",
            "api.example.com",
            "--out",
            "/dev/null",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--upstream must be an http:// or https:// URL"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[cfg(unix)]
async fn sigterm_stops_the_recorder_with_a_summary() {
    let upstream = upstream().await;
    let file = std::env::temp_dir().join(format!("lc-record-term-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let (child, url) = start_recorder(&upstream, &file, &[]);
    // No keys: the emulator refuses it, and the refusal is recorded.
    let answer = reqwest::get(format!("{url}/1.1/classes/Note"))
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 401);
    let stderr = stop_with(child, "TERM");
    let text = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        stderr.contains(&format!(
            "wrote 1 case, 1 exchange, 0 seeds, {} bytes",
            text.len()
        )),
        "{stderr}"
    );
}
