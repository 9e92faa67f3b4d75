//! Emulator benchmark: prints figures, asserts nothing.
//!
//! `cargo bench -p mock-server --bench emulator` (release build). Measures:
//! - start of a fresh in-process emulator (`MockLeanCloud::start`), median;
//! - sequential create+get pairs per second through the standalone server, the wiremock
//!   front, and the api in-process. The HTTP client is a minimal keep-alive HTTP/1.1
//!   client on a plain socket, so that the figure is the server's cost, not a client
//!   library's;
//! - a `where` + `order` + `limit 100` query over 10,000 and 100,000 objects, in-process.
//!
//! `BENCH_QUICK=1` shrinks the counts (for a smoke run in a debug build).

use lc_model::Principal;
use lc_model::objects::{self, Changes};
use leancloud::Request;
use mock_server::MockLeanCloud;
use mock_server::api::{Api, AppConfig};
use mock_server::http::standalone::Standalone;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn quick() -> bool {
    std::env::var("BENCH_QUICK").is_ok_and(|v| v != "0")
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// A keep-alive HTTP/1.1 connection that sends one request at a time.
struct RawClient {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    host: String,
    cfg: AppConfig,
}

impl RawClient {
    fn connect(base: &str, cfg: &AppConfig) -> RawClient {
        let host = base.trim_start_matches("http://").to_string();
        let stream = TcpStream::connect(&host).expect("the server listens");
        stream.set_nodelay(true).unwrap();
        RawClient {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
            host,
            cfg: cfg.clone(),
        }
    }

    fn send(&mut self, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\nx-lc-id: {}\r\nx-lc-key: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            self.host,
            self.cfg.app_id,
            self.cfg.app_key,
            body.len()
        );
        let mut msg = head.into_bytes();
        msg.extend_from_slice(body);
        self.writer.write_all(&msg).unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let mut length = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).unwrap();
        (status, body)
    }
}

fn pairs_over_http(base: &str, cfg: &AppConfig, pairs: usize) -> f64 {
    let mut client = RawClient::connect(base, cfg);
    let body = br#"{"title":"bench","n":1,"tags":["a","b"]}"#;
    // Warm up the connection and the class.
    client.send("POST", "/1.1/classes/Bench", body);
    let start = Instant::now();
    for _ in 0..pairs {
        let (status, created) = client.send("POST", "/1.1/classes/Bench", body);
        assert_eq!(status, 201);
        let created: Value = serde_json::from_slice(&created).unwrap();
        let id = created["objectId"].as_str().unwrap();
        let (status, _) = client.send("GET", &format!("/1.1/classes/Bench/{id}"), b"");
        assert_eq!(status, 200);
    }
    pairs as f64 / start.elapsed().as_secs_f64()
}

fn pairs_in_process(api: &Api, pairs: usize) -> f64 {
    let cfg = api.config().clone();
    let body = json!({"title": "bench", "n": 1, "tags": ["a", "b"]});
    let start = Instant::now();
    for _ in 0..pairs {
        let req = Request::new("POST", "/1.1/classes/Bench")
            .with_header("x-lc-id", &cfg.app_id)
            .with_header("x-lc-key", &cfg.app_key)
            .with_json(&body);
        let created = api.handle(&req).body_json().unwrap();
        let id = created["objectId"].as_str().unwrap();
        let req = Request::new("GET", &format!("/1.1/classes/Bench/{id}"))
            .with_header("x-lc-id", &cfg.app_id)
            .with_header("x-lc-key", &cfg.app_key);
        assert_eq!(api.handle(&req).status, 200);
    }
    pairs as f64 / start.elapsed().as_secs_f64()
}

fn seeded_api(n: usize) -> Api {
    let api = Api::new(AppConfig::default());
    {
        let mut store = api.store();
        let categories = ["cafe", "bar", "shop", "gym"];
        for i in 0..n {
            let body = json!({
                "name": format!("item {i}"),
                "category": categories[i % categories.len()],
                "score": (i * 7919) % 1000,
                "active": i % 3 != 0,
            });
            let changes = Changes::parse(body.as_object().unwrap(), false).unwrap();
            objects::create(&mut store, "Item", &changes, &Principal::master()).unwrap();
        }
    }
    api
}

fn query_median(api: &Api, runs: usize) -> (Duration, usize) {
    let cfg = api.config().clone();
    let req = Request::new("GET", "/1.1/classes/Item")
        .with_header("x-lc-id", &cfg.app_id)
        .with_header("x-lc-key", &cfg.app_key)
        .with_query(
            "where",
            r#"{"category":"cafe","active":true,"score":{"$gte":100}}"#,
        )
        .with_query("order", "-score,name")
        .with_query("limit", "100");
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let resp = api.handle(&req);
        times.push(start.elapsed());
        rows = resp.body_json().unwrap()["results"]
            .as_array()
            .map_or(0, Vec::len);
    }
    (median(times), rows)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let q = quick();
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "emulator benchmark ({build} build{})",
        if q { ", quick" } else { "" }
    );

    // 1. Start of a fresh in-process emulator.
    let runs = if q { 20 } else { 300 };
    let first = Instant::now();
    drop(MockLeanCloud::start().await);
    let first = first.elapsed();
    let mut starts = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let lc = MockLeanCloud::start().await;
        starts.push(t.elapsed());
        drop(lc);
    }
    println!(
        "fresh in-process emulator: median {:.3} ms over {runs} starts (first start in the process: {:.3} ms)",
        median(starts).as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e3
    );

    // 2. Sequential create+get pairs.
    let pairs = if q { 200 } else { 5000 };
    let cfg = AppConfig::default();
    let server = Standalone::start(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(Api::new(cfg.clone())),
    )
    .await
    .unwrap();
    let base = server.uri();
    let c = cfg.clone();
    let rate = tokio::task::spawn_blocking(move || pairs_over_http(&base, &c, pairs))
        .await
        .unwrap();
    println!("standalone server: {rate:.0} sequential create+get pairs/s ({pairs} pairs)");

    let lc = MockLeanCloud::start().await;
    let base = lc.uri();
    let c = lc.config().clone();
    let rate = tokio::task::spawn_blocking(move || pairs_over_http(&base, &c, pairs))
        .await
        .unwrap();
    println!("wiremock front: {rate:.0} sequential create+get pairs/s ({pairs} pairs)");

    let api = Api::new(AppConfig::default());
    println!(
        "api in-process: {:.0} sequential create+get pairs/s ({pairs} pairs)",
        pairs_in_process(&api, pairs)
    );

    // 3. Query over 10k and 100k objects.
    for n in [10_000, 100_000] {
        let n = if q { n / 100 } else { n };
        let api = seeded_api(n);
        let (t, rows) = query_median(&api, if q { 3 } else { 21 });
        println!(
            "where + order + limit 100 over {n} objects: median {:.3} ms ({rows} rows returned)",
            t.as_secs_f64() * 1e3
        );
    }
}
