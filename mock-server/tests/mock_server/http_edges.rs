//! The standalone front's HTTP edges, over raw sockets: bodies shorter than announced,
//! heads never finished, too many connections, broken chunked encoding, heads too large;
//! and what a browser and an SDK expect of the service's HTTP: CORS (on both fronts) and
//! gzip. After every refused request the server still answers, and nothing was stored.

use leancloud::error::code;
use mock_server::MockLeanCloud;
use mock_server::api::{Api, AppConfig};
use mock_server::http::cors;
use mock_server::http::standalone::{self, Limits, Standalone};
use serde_json::{Value, json};
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longer than any limit a test sets: a test that waits this long has failed.
const GUARD: Duration = Duration::from_secs(20);

const KEYS: &str = "x-lc-id: lc-mock-app\r\nx-lc-key: lc-mock-key\r\n";

/// Short limits, so the timeouts are seen quickly.
fn short() -> Limits {
    Limits {
        header_read_timeout: Duration::from_millis(300),
        body_read_timeout: Duration::from_millis(300),
        ..Limits::default()
    }
}

async fn start(limits: Limits) -> Standalone {
    let api = Arc::new(Api::new(AppConfig::default()));
    Standalone::start_with("127.0.0.1:0".parse().unwrap(), api, limits)
        .await
        .unwrap()
}

/// An answer read from a raw socket up to its end: the server closed the connection.
#[derive(Debug)]
struct Raw {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\n{}",
                self.head,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Everything the server writes on `tcp` until it closes the connection.
async fn read_to_close(tcp: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    tokio::time::timeout(GUARD, async {
        let mut buf = [0u8; 8192];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the server closes the connection");
    out
}

fn parse(bytes: &[u8]) -> Raw {
    let text_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no answer head in {:?}", String::from_utf8_lossy(bytes)));
    let head = String::from_utf8_lossy(&bytes[..text_end]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Raw {
        status,
        head,
        body: bytes[text_end + 4..].to_vec(),
    }
}

/// Send `bytes` on a fresh connection, keep the write side open, and read the answer up
/// to the server's close.
async fn exchange(addr: SocketAddr, bytes: &[u8]) -> Raw {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    // A server that closes early may refuse the rest; what it answered is what counts.
    let _ = tcp.write_all(bytes).await;
    parse(&read_to_close(&mut tcp).await)
}

/// A request that must be answered normally: the server is still serving.
async fn still_serves(addr: SocketAddr) {
    let request = format!("GET /1.1/date HTTP/1.1\r\nhost: x\r\n{KEYS}connection: close\r\n\r\n");
    let answer = exchange(addr, request.as_bytes()).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["__type"], "Date");
}

/// How many `Post` objects the app holds (0 when the class does not exist).
async fn posts(addr: SocketAddr) -> u64 {
    let request = format!(
        "GET /1.1/classes/Post?count=1&limit=0 HTTP/1.1\r\nhost: x\r\n{KEYS}connection: close\r\n\r\n"
    );
    let answer = exchange(addr, request.as_bytes()).await;
    match answer.status {
        200 => answer.json()["count"].as_u64().unwrap(),
        404 => 0,
        _ => panic!("{answer:?}"),
    }
}

fn post(body_head: &str, body: &str) -> Vec<u8> {
    format!("POST /1.1/classes/Post HTTP/1.1\r\nhost: x\r\n{KEYS}content-type: application/json\r\n{body_head}\r\n{body}").into_bytes()
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_times_out_with_408_and_a_close() {
    let server = start(short()).await;
    let answer = exchange(
        server.addr,
        &post("content-length: 100\r\n", r#"{"title":"#),
    )
    .await;
    assert_eq!(answer.status, 408, "{answer:?}");
    assert_eq!(
        answer.json(),
        json!({"code": 124, "error": "The request timed out on the server."})
    );
    assert_eq!(answer.header("connection"), Some("close"));
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    assert_eq!(posts(server.addr).await, 0);
    still_serves(server.addr).await;
}

#[tokio::test]
async fn a_body_announced_over_the_limit_is_413_at_once() {
    // The body never comes: the answer must not wait for it (nor for the body timeout).
    let limits = Limits {
        body_read_timeout: GUARD * 2,
        ..short()
    };
    let server = start(limits).await;
    let answer = exchange(server.addr, &post("content-length: 999999999\r\n", "{")).await;
    assert_eq!(answer.status, 413, "{answer:?}");
    assert_eq!(answer.json()["code"], code::REQUEST_TOO_LARGE);
    assert_eq!(posts(server.addr).await, 0);
    still_serves(server.addr).await;
}

#[tokio::test]
async fn broken_chunked_encoding_is_400_with_code_107() {
    let server = start(short()).await;
    for broken in [
        "zz\r\n{}\r\n0\r\n\r\n",                   // not a chunk size
        "5\r\n{\"a\":1}\r\n0\r\n\r\n",             // a chunk longer than its size
        "ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n", // a size that overflows
    ] {
        let answer = exchange(server.addr, &post("transfer-encoding: chunked\r\n", broken)).await;
        assert_eq!(answer.status, 400, "{broken:?}: {answer:?}");
        assert_eq!(answer.json()["code"], code::INVALID_JSON, "{broken:?}");
        assert_eq!(posts(server.addr).await, 0);
    }
    // A well-formed chunked body is taken.
    let ok = post(
        "transfer-encoding: chunked\r\nconnection: close\r\n",
        "2\r\n{}\r\n0\r\n\r\n",
    );
    assert_eq!(exchange(server.addr, &ok).await.status, 201);
    assert_eq!(posts(server.addr).await, 1);
    still_serves(server.addr).await;
}

#[tokio::test]
async fn unfinished_and_idle_heads_are_closed_after_the_header_timeout() {
    let server = start(short()).await;
    for partial in ["", "GET /1.1/date HTTP/1.1\r\nhost: x\r\n", "GET /1.1/da"] {
        let mut tcp = TcpStream::connect(server.addr).await.unwrap();
        tcp.write_all(partial.as_bytes()).await.unwrap();
        let got = read_to_close(&mut tcp).await;
        assert!(
            got.is_empty(),
            "{partial:?}: {:?}",
            String::from_utf8_lossy(&got)
        );
    }
    // A keep-alive connection left idle after its answer is closed too.
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    let request = format!("GET /1.1/date HTTP/1.1\r\nhost: x\r\n{KEYS}\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let answer = parse(&read_to_close(&mut tcp).await);
    assert_eq!(answer.status, 200);
    still_serves(server.addr).await;
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    let limits = Limits {
        max_connections: 3,
        header_read_timeout: GUARD * 2,
        ..short()
    };
    let server = start(limits).await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        let mut tcp = TcpStream::connect(server.addr).await.unwrap();
        tcp.write_all(b"GET /1.1/da").await.unwrap();
        idle.push(tcp);
    }
    // The fourth is not served while the three hold every slot...
    let waiting = tokio::spawn(still_serves(server.addr));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "served over the cap");
    // ...and is as soon as one of them goes.
    drop(idle.pop());
    tokio::time::timeout(GUARD, waiting).await.unwrap().unwrap();
}

#[tokio::test]
async fn many_unfinished_heads_do_not_keep_the_server_from_serving() {
    // The attack of issue 13: far more half-open connections than the cap.
    let limits = Limits {
        max_connections: 20,
        ..short()
    };
    let server = start(limits).await;
    let mut held = Vec::new();
    for _ in 0..100 {
        let mut tcp = TcpStream::connect(server.addr).await.unwrap();
        let _ = tcp
            .write_all(b"GET /1.1/date HTTP/1.1\r\nhost: x\r\n")
            .await;
        held.push(tcp);
    }
    still_serves(server.addr).await;
    drop(held);
}

#[tokio::test]
async fn heads_over_the_limits_get_a_leancloud_shaped_answer() {
    let server = start(short()).await;
    let long_uri = format!(
        "GET /1.1/classes/Post?where={} HTTP/1.1\r\nhost: x\r\n{KEYS}\r\n",
        "a".repeat(standalone::MAX_URI_BYTES + 1)
    );
    let big_header = format!(
        "GET /1.1/date HTTP/1.1\r\nhost: x\r\n{KEYS}x-big: {}\r\n\r\n",
        "a".repeat(standalone::MAX_HEAD_BYTES)
    );
    let many_headers = format!(
        "GET /1.1/date HTTP/1.1\r\nhost: x\r\n{KEYS}{}\r\n",
        (0..standalone::MAX_HEADERS)
            .map(|i| format!("x-h{i}: 1\r\n"))
            .collect::<String>()
    );
    let bad_line = "G@T /1.1/date HTTP/1.1\r\nhost: x\r\n\r\n".to_string();
    for (request, status, message) in [
        (long_uri, 414, "Request-URI too long."),
        (big_header, 431, "Request header fields too large."),
        (many_headers, 431, "Request header fields too large."),
        (bad_line, 400, "Malformed request line or headers."),
    ] {
        let answer = exchange(server.addr, request.as_bytes()).await;
        assert_eq!(answer.status, status, "{answer:?}");
        assert_eq!(answer.json(), json!({"code": 1, "error": message}));
        assert_eq!(
            answer.header("content-type"),
            Some("application/json;charset=utf-8")
        );
        still_serves(server.addr).await;
    }
    // Just under the limits, the api answers.
    let under = format!(
        "GET /1.1/date?x={} HTTP/1.1\r\nhost: x\r\n{KEYS}connection: close\r\n\r\n",
        "a".repeat(standalone::MAX_URI_BYTES - 200)
    );
    assert_eq!(exchange(server.addr, under.as_bytes()).await.status, 200);
}

// ---- CORS, on both fronts ---------------------------------------------------------------

async fn cors_as_the_service(base: String) {
    let http = reqwest::Client::new();
    let origin = "http://app.example";
    // A preflight: no keys, answered with what a browser needs to send the SDK's request.
    let pre = http
        .request(reqwest::Method::OPTIONS, format!("{base}/1.1/classes/Post"))
        .header("origin", origin)
        .header("access-control-request-method", "PUT")
        .header(
            "access-control-request-headers",
            "x-lc-id,x-lc-sign,x-lc-session,content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 200);
    let h = |name: &str| {
        pre.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    assert_eq!(h("access-control-allow-origin").as_deref(), Some(origin));
    assert_eq!(h("access-control-max-age").as_deref(), Some("86400"));
    let methods = h("access-control-allow-methods").unwrap();
    for m in ["GET", "POST", "PUT", "DELETE"] {
        assert!(methods.split(", ").any(|x| x == m), "{methods}");
    }
    let allowed = h("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for wanted in [
        "x-lc-id",
        "x-lc-key",
        "x-lc-sign",
        "x-lc-session",
        "x-lc-prod",
        "x-lc-ua",
        "x-lc-hook-key",
        "content-type",
    ] {
        assert!(
            allowed.split(", ").any(|x| x == wanted),
            "{wanted} in {allowed}"
        );
    }
    assert!(pre.bytes().await.unwrap().is_empty());

    // Every answer of the API carries the origin, errors included.
    let keyed = |req: reqwest::RequestBuilder| {
        req.header("x-lc-id", "lc-mock-app")
            .header("x-lc-key", "lc-mock-key")
    };
    let created = keyed(http.post(format!("{base}/1.1/classes/Post")))
        .header("origin", origin)
        .json(&json!({"title": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["access-control-allow-origin"], origin);
    let refused = http
        .get(format!("{base}/1.1/classes/Post"))
        .header("origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["access-control-allow-origin"], origin);
    let no_origin = keyed(http.get(format!("{base}/1.1/nowhere")))
        .send()
        .await
        .unwrap();
    assert_eq!(no_origin.status(), 404);
    assert_eq!(no_origin.headers()["access-control-allow-origin"], "*");

    // The emulator's extras stay closed to browser pages.
    let pre = http
        .request(reqwest::Method::OPTIONS, format!("{base}/__mock/reset"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_ne!(pre.status(), 200);
    let mastered = http
        .get(format!("{base}/__mock/traces"))
        .header("x-lc-id", "lc-mock-app")
        .header("x-lc-key", "lc-mock-master,master")
        .header("origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(mastered.status(), 200);
    for answer in [pre.headers(), mastered.headers()] {
        assert!(
            answer
                .keys()
                .all(|k| !k.as_str().starts_with("access-control-")),
            "{answer:?}"
        );
    }
    // The preflights stored nothing: the one object is the one created.
    let count = keyed(http.get(format!("{base}/1.1/classes/Post?count=1&limit=0")))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(count["count"], 1);
}

#[tokio::test]
async fn cors_on_the_standalone_front() {
    let server = start(Limits::default()).await;
    cors_as_the_service(server.uri()).await;
}

#[tokio::test]
async fn cors_on_the_wiremock_front() {
    let lc = MockLeanCloud::start().await;
    cors_as_the_service(lc.uri()).await;
}

#[test]
fn the_preflight_allows_the_headers_sdks_send() {
    for header in [
        "X-LC-Id",
        "X-LC-Key",
        "X-LC-Sign",
        "X-LC-Session",
        "X-LC-Prod",
    ] {
        assert!(cors::ALLOW_HEADERS.split(", ").any(|h| h == header));
    }
}

// ---- gzip ------------------------------------------------------------------------------

#[tokio::test]
async fn answers_are_gzipped_when_asked_and_decode_to_the_same_json() {
    let server = start(Limits::default()).await;
    let lc = leancloud::client::Client::new(
        Arc::new(leancloud::transport::HttpTransport::new(&server.uri())),
        "lc-mock-app",
        "lc-mock-key",
    );
    for i in 0..40 {
        lc.create(
            "Post",
            &json!({"title": format!("post number {i}"), "n": i}),
        )
        .await
        .unwrap();
    }
    let http = reqwest::Client::new();
    let get = |path: &str, gzip: bool| {
        let mut req = http
            .get(format!("{}{path}", server.uri()))
            .header("x-lc-id", "lc-mock-app")
            .header("x-lc-key", "lc-mock-key");
        if gzip {
            req = req.header("accept-encoding", "gzip, deflate");
        }
        req.send()
    };
    let plain = get("/1.1/classes/Post?order=n", false).await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain: Value = plain.json().await.unwrap();
    assert_eq!(plain["results"].as_array().unwrap().len(), 40);

    let zipped = get("/1.1/classes/Post?order=n", true).await.unwrap();
    assert_eq!(zipped.status(), 200);
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert_eq!(zipped.headers()["access-control-allow-origin"], "*");
    let bytes = zipped.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(bytes.len() < text.len());
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), plain);

    // A small answer is not worth compressing.
    let small = get("/1.1/date", true).await.unwrap();
    assert!(small.headers().get("content-encoding").is_none());
    assert_eq!(small.json::<Value>().await.unwrap()["__type"], "Date");
}
