//! `lc-mock record` in front of upstreams that misbehave: no answer in time, a reset
//! connection, an answer that is not JSON, gzip and chunked bodies. Each is forwarded as
//! it came (or as a gateway error when nothing came), recorded, and the recorder goes on.

use mock_server::record::{RecorderConfig, RunningRecorder, start};
use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A fake upstream: every connection gets `behaviour(request_head)`'s bytes (or is
/// dropped / held open, depending on what it returns).
enum Reply {
    Bytes(Vec<u8>),
    Drop,
    Hang,
}

async fn fake_upstream(behaviour: fn(&str) -> Reply) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let head = read_request(&mut socket).await;
                match behaviour(&head) {
                    Reply::Bytes(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                        let _ = socket.shutdown().await;
                    }
                    Reply::Drop => {
                        // Close with unread data pending: the peer sees a reset.
                        let _ = socket.set_zero_linger();
                        drop(socket);
                    }
                    Reply::Hang => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                    }
                }
            });
        }
    });
    url
}

/// The request head and body as text (enough to route on; bodies are small here).
async fn read_request(socket: &mut TcpStream) -> String {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match tokio::time::timeout(Duration::from_millis(200), socket.read(&mut buf)).await
        {
            Ok(Ok(n)) if n > 0 => n,
            _ => break,
        };
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&data).into_owned()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn route(head: &str) -> Reply {
    let line = head.lines().next().unwrap_or_default();
    if line.contains("/hang") {
        Reply::Hang
    } else if line.contains("/reset") {
        Reply::Drop
    } else if line.contains("/moved") {
        Reply::Bytes(
            b"HTTP/1.1 302 Found\r\nLocation: /1.1/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .to_vec(),
        )
    } else if line.contains("/html") {
        let body = "<html><body>502 Bad Gateway</body></html>";
        Reply::Bytes(
            format!(
                "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    } else if line.contains("/gzip-chunked") {
        let body =
            gzip(br#"{"results":[{"objectId":"0123456789abcdef01234567","title":"zipped"}]}"#);
        let (first, second) = body.split_at(body.len() / 2);
        let mut out = b"HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=utf-8\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
        for chunk in [first, second] {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        Reply::Bytes(out)
    } else {
        // Echo: the request body the upstream got, as JSON.
        let body = head.split("\r\n\r\n").nth(1).unwrap_or_default();
        let echo = json!({"got": body}).to_string();
        Reply::Bytes(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{echo}",
                echo.len()
            )
            .into_bytes(),
        )
    }
}

struct Setup {
    recorder: RunningRecorder,
    _dir: TempDir,
    file: std::path::PathBuf,
}

/// A folder removed when the test ends.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("lc-record-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn setup(name: &str) -> Setup {
    let upstream = fake_upstream(route).await;
    let dir = TempDir::new(name);
    let file = dir.0.join("recorded.jsonl");
    let mut config = RecorderConfig::new(&upstream);
    config.upstream_timeout = Duration::from_millis(500);
    let recorder = start(config, "127.0.0.1:0".parse().unwrap(), &file)
        .await
        .unwrap();
    Setup {
        recorder,
        _dir: dir,
        file,
    }
}

fn lines(file: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upstream_that_never_answers_gets_the_client_a_504_and_is_recorded() {
    let s = setup("hang").await;
    let response = client()
        .get(format!("{}/1.1/hang", s.recorder.url))
        .header("x-lc-id", "app-id-hang")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 504);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("timeout"),
        "{body}"
    );
    let recorded = lines(&s.file);
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["status"], 504);
    assert!(
        recorded[0]["upstream_error"]
            .as_str()
            .unwrap()
            .starts_with("timeout"),
        "{}",
        recorded[0]
    );
    // Still recording.
    let ok = client()
        .post(format!("{}/1.1/classes/Post", s.recorder.url))
        .body(r#"{"title":"after"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(lines(&s.file).len(), 2);
    s.recorder.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reset_connection_gets_the_client_a_502_and_is_recorded() {
    let s = setup("reset").await;
    let response = client()
        .delete(format!("{}/1.1/reset/x", s.recorder.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 502);
    let recorded = lines(&s.file);
    assert_eq!(recorded[0]["status"], 502);
    assert_eq!(recorded[0]["method"], "DELETE");
    assert!(recorded[0]["upstream_error"].is_string(), "{}", recorded[0]);
    let summary = s.recorder.stop().await;
    assert_eq!((summary.cases, summary.exchanges), (1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_that_is_not_json_is_forwarded_as_it_came_and_kept_as_text() {
    let s = setup("html").await;
    let response = client()
        .get(format!("{}/1.1/html", s.recorder.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 502);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/html"
    );
    assert_eq!(
        response.text().await.unwrap(),
        "<html><body>502 Bad Gateway</body></html>"
    );
    let recorded = lines(&s.file);
    assert_eq!(recorded[0]["resp_raw"], true);
    assert_eq!(
        recorded[0]["resp_body"],
        "<html><body>502 Bad Gateway</body></html>"
    );
    // The upstream did answer: this is its answer, not a gap in the record.
    assert!(recorded[0].get("upstream_error").is_none());
    s.recorder.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chunked_gzip_answer_reaches_the_client_compressed_and_the_file_decoded() {
    let s = setup("gzip").await;
    let response = client()
        .get(format!("{}/1.1/gzip-chunked", s.recorder.url))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-encoding"].to_str().unwrap(),
        "gzip"
    );
    let raw = response.bytes().await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&raw[..]), &mut text).unwrap();
    assert!(text.contains("zipped"), "{text}");
    let recorded = lines(&s.file);
    assert_eq!(recorded[0]["resp_body"]["results"][0]["title"], "zipped");
    s.recorder.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chunked_gzip_request_is_forwarded_unchanged_and_recorded_decoded() {
    let s = setup("chunked-request").await;
    let body = gzip(br#"{"title":"sent in chunks"}"#);
    let addr = s.recorder.url.trim_start_matches("http://").to_string();
    let mut socket = TcpStream::connect(&addr).await.unwrap();
    let mut request = format!(
        "POST /1.1/classes/Post HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nX-LC-Record-Case: chunked%20upload\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(7) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    socket.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let recorded = lines(&s.file);
    assert_eq!(recorded[0]["test"], "chunked upload");
    assert_eq!(recorded[0]["req_body"], json!({"title": "sent in chunks"}));
    // The upstream got the compressed bytes it was sent, not the decoded JSON.
    let got = recorded[0]["resp_body"]["got"].as_str().unwrap();
    assert!(!got.contains("sent in chunks"), "{got}");
    assert_eq!(got.len(), String::from_utf8_lossy(&body).len());
    s.recorder.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_reaches_the_client_as_it_came() {
    let s = setup("redirect").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(format!("{}/1.1/moved", s.recorder.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(response.headers()["location"], "/1.1/elsewhere");
    assert_eq!(lines(&s.file)[0]["status"], 302);
    s.recorder.stop().await;
}

/// The control requests: the marker names (and `{"test": null}` unnames) the case of
/// the requests that follow, the summary answers the counts; neither is forwarded or
/// recorded. A case name an earlier recording in the file used gets ` (2)`.
#[tokio::test(flavor = "multi_thread")]
async fn markers_and_the_summary_are_answered_by_the_recorder() {
    let s = setup("control").await;
    let http = client();
    let post = |path: &str, body: Value| {
        http.post(format!("{}{path}", s.recorder.url))
            .body(body.to_string())
            .send()
    };
    let marked: Value = post("/__record/case", json!({"test": "checkout"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(marked, json!({"suite": "recorded", "test": "checkout"}));
    post("/1.1/classes/Post", json!({"n": 1})).await.unwrap();
    post("/__record/case", json!({"test": null})).await.unwrap();
    post("/1.1/classes/Post", json!({"n": 2})).await.unwrap();
    let summary: Value = http
        .get(format!("{}/__record/summary", s.recorder.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(summary["cases"], 2);
    assert_eq!(summary["exchanges"], 2);
    let tests: Vec<Value> = lines(&s.file).iter().map(|l| l["test"].clone()).collect();
    assert_eq!(tests, [json!("checkout"), json!("session 1")]);
    s.recorder.stop().await;

    // A second run on the same file: the names already there are not reused.
    let mut config = RecorderConfig::new(&fake_upstream(route).await);
    config.upstream_timeout = Duration::from_millis(500);
    let again = start(config, "127.0.0.1:0".parse().unwrap(), &s.file)
        .await
        .unwrap();
    http.post(format!("{}/1.1/classes/Post", again.url))
        .header("x-lc-record-case", "checkout")
        .body("{}")
        .send()
        .await
        .unwrap();
    http.post(format!("{}/1.1/classes/Post", again.url))
        .body("{}")
        .send()
        .await
        .unwrap();
    again.stop().await;
    let tests: Vec<Value> = lines(&s.file).iter().map(|l| l["test"].clone()).collect();
    assert_eq!(
        tests,
        [
            json!("checkout"),
            json!("session 1"),
            json!("checkout (2)"),
            json!("session 2")
        ]
    );
}
