//! Emulator benchmark: prints figures, asserts nothing.
//!
//! `cargo bench -p lc-mock --bench emulator` (release build). Measures:
//! - start of a fresh in-process emulator (`MockLeanCloud::start`), median;
//! - sequential create+get pairs per second through the standalone server, the wiremock
//!   front, and the api in-process. The HTTP client is a minimal keep-alive HTTP/1.1
//!   client on a plain socket, so that the figure is the server's cost, not a client
//!   library's;
//! - a `where` + `order` + `limit 100` query over 10,000 and 100,000 objects, in-process;
//! - the latency of a GET by id on one class while other requests scan a million rows of
//!   another, one after the other, in-process (reads share the store; the goal is 5 ms);
//! - a create that fires a beforeSave (which changes a field) and an afterSave (which
//!   counts): per-create latency in-process (`Api::handle`, the cloud code an attached
//!   `Registry`), against the issue's target of 100 µs, and a create on a class without
//!   hooks of the same app; the throughput when the after-hooks are waited for too
//!   (`Api::idle_blocking`); and the latency through a remote engine (our engine server
//!   over HTTP, `leancloud::engine::start`) behind the standalone server, with reqwest.
//!   The in-process figure includes a round trip between threads (the hook runs on the
//!   app's cloud-code runtime while the request's thread waits); a bare one is printed
//!   for reference, since it differs much between machines (two threads that share a CPU,
//!   or wake one another across CPUs of a virtual machine).
//!
//! - the same create+get pairs through `lc-mock record` in front of the standalone
//!   server, without and with a master key (seed lookups), and the bytes written per
//!   exchange.
//!
//! - the store at size (`store`): an equality on an indexed column, a class count and a
//!   `$gte` + `$in` + `order` + `limit 10` over 100,000 rows; loading the app's settings
//!   with 20,000 reviews under their unique index; the app's hook-firing review create at
//!   20,000 reviews against 60; bytes per object (counted by this benchmark's allocator)
//!   created and loaded from settings, and for a million; snapshot, restore, reset and
//!   fork at 100,000 objects, and what the first write to a fork copies;
//! - `lc-mock serve` from spawn to its ready line.
//!
//! Each figure is printed with its goal where the issue set one. The machine is shared
//! and noisy: figures are medians, and ratios are printed where a figure depends on it.
//!
//! `BENCH_QUICK=1` shrinks the counts (for a smoke run in a debug build);
//! `BENCH_ONLY=store` prints the start figures and the store's only.

mod store;

/// Every allocation is counted, for the memory figures.
#[global_allocator]
static ALLOCATOR: store::Counting = store::Counting;

use lc_model::Principal;
use lc_model::objects::{self, Changes};
use leancloud::Request;
use leancloud::cloud::Registry;
use leancloud::engine::{EngineConfig, start as start_engine};
use leancloud::transport::HttpTransport;
use mock_server::MockLeanCloud;
use mock_server::api::{Api, AppConfig};
use mock_server::http::standalone::Standalone;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// The goal for a GET by id while another request scans a million rows.
const GET_DURING_SCAN_GOAL: Duration = Duration::from_millis(5);

/// GETs by id on a one-row class, `gets` of them spaced by a millisecond, while a thread
/// keeps scanning `rows` rows of another class (a count over a `where`, one request after
/// the other). Returns the latencies of the GETs made while a scan was running (a scan
/// was under way when each started and when it ended), the GETs' latency with no scan,
/// and the median scan.
fn get_during_scan(rows: usize, gets: usize) -> (Latencies, Latencies, Duration) {
    let api = Arc::new(Api::new(AppConfig::default()));
    let id = {
        let mut store = api.store();
        let now = store.clock.now_ms();
        let insert = |store: &mut lc_model::Store, class: &str, fields: Value| {
            let id = store.ids.object_id(now);
            let obj =
                lc_model::StoredObject::new(id.clone(), now, now, fields.as_object().unwrap());
            store.insert_object(class, obj);
            id
        };
        for i in 0..rows {
            insert(
                &mut store,
                "Scanned",
                json!({"n": i, "tag": format!("t{}", i % 10)}),
            );
        }
        insert(&mut store, "Other", json!({"name": "cafe"}))
    };
    let cfg = api.config().clone();
    let get = Request::new("GET", &format!("/1.1/classes/Other/{id}"))
        .with_header("x-lc-id", &cfg.app_id)
        .with_header("x-lc-key", &cfg.app_key);
    let time_gets = |during: Option<&std::sync::atomic::AtomicBool>| {
        let mut times = Vec::with_capacity(gets);
        while times.len() < gets {
            std::thread::sleep(Duration::from_millis(1));
            let scanning = during.is_none_or(|s| s.load(Ordering::SeqCst));
            let start = Instant::now();
            let resp = api.handle(&get);
            let took = start.elapsed();
            assert_eq!(resp.status, 200);
            if scanning && during.is_none_or(|s| s.load(Ordering::SeqCst)) {
                times.push(took);
            }
        }
        Latencies::of(times)
    };
    let alone = time_gets(None);

    let scan = Request::new("GET", "/1.1/classes/Scanned")
        .with_header("x-lc-id", &cfg.app_id)
        .with_header("x-lc-key", &cfg.app_key)
        .with_query("where", r#"{"tag":"t3","n":{"$gte":0}}"#)
        .with_query("count", "1")
        .with_query("limit", "0");
    let scanning = std::sync::atomic::AtomicBool::new(false);
    let done = std::sync::atomic::AtomicBool::new(false);
    let (during, scans) = std::thread::scope(|scope| {
        let scanner = scope.spawn(|| {
            let mut scans = Vec::new();
            while !done.load(Ordering::SeqCst) {
                scanning.store(true, Ordering::SeqCst);
                let start = Instant::now();
                let resp = api.handle(&scan);
                scans.push(start.elapsed());
                scanning.store(false, Ordering::SeqCst);
                let count = resp.body_json().unwrap()["count"].as_u64();
                assert_eq!(count, Some(rows as u64 / 10), "the scan ran whole");
            }
            scans
        });
        while !scanning.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        let during = time_gets(Some(&scanning));
        done.store(true, Ordering::SeqCst);
        (during, scanner.join().unwrap())
    });
    (during, alone, median(scans))
}

/// Median, p90, p99 and mean of a set of latencies.
struct Latencies {
    median: Duration,
    p90: Duration,
    p99: Duration,
    mean: Duration,
    count: usize,
}

impl Latencies {
    fn of(mut xs: Vec<Duration>) -> Latencies {
        xs.sort();
        let at = |q: f64| xs[((xs.len() as f64 * q) as usize).min(xs.len() - 1)];
        Latencies {
            median: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            mean: xs.iter().sum::<Duration>() / xs.len() as u32,
            count: xs.len(),
        }
    }

    fn show(&self) -> String {
        self.show_as("creates")
    }

    fn show_as(&self, what: &str) -> String {
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        format!(
            "median {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, mean {:.1} µs ({} {what})",
            us(self.median),
            us(self.p90),
            us(self.p99),
            us(self.mean),
            self.count
        )
    }
}

/// The class whose creates fire hooks, and one of the same app without any.
const HOOKED: &str = "Hooked";
const PLAIN: &str = "Plain";

/// The issue's target for an in-process create that fires a before and an after hook.
const HOOKED_CREATE_TARGET: Duration = Duration::from_micros(100);

/// Cloud code with beforeSave (sets `checked`, answers the object) and afterSave (counts
/// its calls into `after_saves`) on [`HOOKED`].
fn hook_registry(after_saves: &Arc<AtomicUsize>) -> Registry {
    let mut r = Registry::new();
    r.before_save(HOOKED, |req| async move {
        let mut object = req.object;
        object["checked"] = json!(true);
        Ok(object)
    });
    let count = after_saves.clone();
    r.after_save(HOOKED, move |_req| {
        count.fetch_add(1, Ordering::Relaxed);
        async move { Ok(()) }
    });
    r
}

fn create_request(cfg: &AppConfig, class: &str) -> Request {
    Request::new("POST", &format!("/1.1/classes/{class}"))
        .with_header("x-lc-id", &cfg.app_id)
        .with_header("x-lc-key", &cfg.app_key)
        .with_json(&json!({"title": "bench", "n": 1, "tags": ["a", "b"]}))
}

/// Each of `creates` sequential in-process creates on `class`, timed as its caller sees
/// it (after-hooks run on in the background), after `warm_up` untimed ones.
fn create_latencies_in_process(
    api: &Api,
    class: &str,
    warm_up: usize,
    creates: usize,
) -> Latencies {
    let req = create_request(api.config(), class);
    for _ in 0..warm_up {
        assert_eq!(api.handle(&req).status, 201);
    }
    let mut times = Vec::with_capacity(creates);
    for _ in 0..creates {
        let start = Instant::now();
        let resp = api.handle(&req);
        times.push(start.elapsed());
        assert_eq!(resp.status, 201);
    }
    Latencies::of(times)
}

/// Sequential in-process creates on `class` per second, counting until every after-hook
/// they fired has finished.
fn creates_per_second_until_idle(api: &Api, class: &str, creates: usize) -> f64 {
    let req = create_request(api.config(), class);
    assert!(api.idle_blocking(Duration::from_secs(30)));
    let start = Instant::now();
    for _ in 0..creates {
        assert_eq!(api.handle(&req).status, 201);
    }
    assert!(
        api.idle_blocking(Duration::from_secs(30)),
        "the after-hooks finish"
    );
    creates as f64 / start.elapsed().as_secs_f64()
}

/// Each of `creates` sequential creates on `class` through the standalone server at
/// `base`, over one keep-alive reqwest connection, after `warm_up` untimed ones.
async fn create_latencies_over_http(
    base: &str,
    cfg: &AppConfig,
    class: &str,
    warm_up: usize,
    creates: usize,
) -> Latencies {
    let client = reqwest::Client::new();
    let url = format!("{base}/1.1/classes/{class}");
    let body = br#"{"title":"bench","n":1,"tags":["a","b"]}"#.as_slice();
    let create = || {
        client
            .post(&url)
            .header("x-lc-id", &cfg.app_id)
            .header("x-lc-key", &cfg.app_key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for _ in 0..warm_up {
        let resp = create().await.unwrap();
        assert_eq!(resp.status(), 201);
        resp.bytes().await.unwrap();
    }
    let mut times = Vec::with_capacity(creates);
    for _ in 0..creates {
        let start = Instant::now();
        let resp = create().await.unwrap();
        let status = resp.status();
        resp.bytes().await.unwrap();
        times.push(start.elapsed());
        assert_eq!(status, 201);
    }
    Latencies::of(times)
}

/// The median round trip between two threads (a request over one channel, the answer
/// over another): what `CloudCode::call` pays on top of the hook's own work, since the
/// hook runs on the app's cloud-code runtime while the request's thread waits.
fn thread_round_trip(runs: usize) -> Duration {
    let (ask, asked) = std::sync::mpsc::channel::<std::sync::mpsc::Sender<()>>();
    let other = std::thread::spawn(move || {
        for reply in asked {
            let _ = reply.send(());
        }
    });
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (reply, answer) = std::sync::mpsc::channel();
        let start = Instant::now();
        ask.send(reply).unwrap();
        answer.recv().unwrap();
        times.push(start.elapsed());
    }
    drop(ask);
    other.join().unwrap();
    median(times)
}

/// The object the last create of [`HOOKED`] stored carries what beforeSave set.
fn assert_before_save_ran(api: &Api) {
    let cfg = api.config();
    let req = Request::new("GET", &format!("/1.1/classes/{HOOKED}"))
        .with_header("x-lc-id", &cfg.app_id)
        .with_header("x-lc-key", &cfg.app_key)
        .with_query("limit", "1");
    let found = api.handle(&req).body_json().unwrap();
    assert_eq!(found["results"][0]["checked"], true, "{found}");
}

/// The store's figures (see `store`), on a blocking thread: the app's cloud code waits
/// on its own runtime.
async fn store_figures(q: bool) {
    tokio::task::spawn_blocking(move || {
        store::indexed_queries(q);
        store::loading(q);
        store::hooked_review_creates(q);
        store::memory_snapshots_forks(q);
    })
    .await
    .unwrap();
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

    // 1b. The standalone server, from spawn to ready.
    tokio::task::spawn_blocking(move || store::standalone_ready(q))
        .await
        .unwrap();
    if std::env::var("BENCH_ONLY").is_ok_and(|v| v == "store") {
        store_figures(q).await;
        return;
    }

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

    // 3a. The store at size: indexes, the kept count, loading, memory, snapshots, forks.
    store_figures(q).await;

    // 3b. A GET by id while other requests scan a million rows.
    let (rows, gets) = if q { (100_000, 50) } else { (1_000_000, 300) };
    let (during, alone, scan) = tokio::task::spawn_blocking(move || get_during_scan(rows, gets))
        .await
        .unwrap();
    println!(
        "GET by id while another request scans {rows} rows (one scan: median {:.1} ms): {}",
        scan.as_secs_f64() * 1e3,
        during.show_as("GETs during scans")
    );
    println!(
        "  goal <= {} ms: {} by p99; the same GET with no scan: {}",
        GET_DURING_SCAN_GOAL.as_millis(),
        if during.p99 <= GET_DURING_SCAN_GOAL {
            "met"
        } else {
            "MISSED"
        },
        alone.show_as("GETs")
    );

    // 4. A create that fires beforeSave and afterSave, in-process.
    let (warm_up, creates) = if q { (50, 300) } else { (500, 5000) };
    let after_saves = Arc::new(AtomicUsize::new(0));
    let api = Arc::new(Api::new(AppConfig::default()));
    api.attach_registry(hook_registry(&after_saves))
        .expect("the cloud attaches");
    let app = api.clone();
    let (hooked, plain, hooked_rate, plain_rate, hop) = tokio::task::spawn_blocking(move || {
        let hooked = create_latencies_in_process(&app, HOOKED, warm_up, creates);
        let plain = create_latencies_in_process(&app, PLAIN, warm_up, creates);
        let hooked_rate = creates_per_second_until_idle(&app, HOOKED, creates);
        let plain_rate = creates_per_second_until_idle(&app, PLAIN, creates);
        let hop = thread_round_trip(creates);
        (hooked, plain, hooked_rate, plain_rate, hop)
    })
    .await
    .unwrap();
    assert_eq!(after_saves.load(Ordering::Relaxed), warm_up + 2 * creates);
    assert_before_save_ran(&api);
    println!(
        "create firing beforeSave + afterSave, api in-process: {}",
        hooked.show()
    );
    let verdict = |d: Duration| {
        if d <= HOOKED_CREATE_TARGET {
            "met"
        } else {
            "MISSED"
        }
    };
    println!(
        "  target <= {} µs per create: {} by the median, {} by p90, {} by the mean",
        HOOKED_CREATE_TARGET.as_micros(),
        verdict(hooked.median),
        verdict(hooked.p90),
        verdict(hooked.mean)
    );
    println!(
        "create on a class without hooks, same app: {}",
        plain.show()
    );
    println!(
        "sequential creates/s until every afterSave finished: {hooked_rate:.0} with hooks, {plain_rate:.0} without ({creates} creates)"
    );
    println!(
        "  for reference, a bare round trip between two threads (what waiting for a hook on the cloud-code runtime costs at least): median {:.1} µs",
        hop.as_secs_f64() * 1e6
    );

    // 5. The same through a remote engine: our engine server over HTTP behind the
    //    standalone server, which the engine's storage calls would come back to.
    let (warm_up, creates) = if q { (20, 200) } else { (200, 2000) };
    let cfg = AppConfig::default();
    let api = Arc::new(Api::new(cfg.clone()));
    let server = Standalone::start("127.0.0.1:0".parse().unwrap(), api.clone())
        .await
        .unwrap();
    let after_saves = Arc::new(AtomicUsize::new(0));
    let engine = start_engine(
        hook_registry(&after_saves),
        EngineConfig::new(&cfg.app_id, &cfg.app_key, &cfg.master_key)
            .with_hook_key(&cfg.hook_key)
            .with_port(0)
            .with_api_server(server.uri()),
    )
    .await
    .unwrap();
    api.attach_cloud(Arc::new(HttpTransport::new(&engine.uri())))
        .unwrap();
    let base = server.uri();
    let hooked = create_latencies_over_http(&base, &cfg, HOOKED, warm_up, creates).await;
    let plain = create_latencies_over_http(&base, &cfg, PLAIN, warm_up, creates).await;
    api.idle().await;
    assert_eq!(after_saves.load(Ordering::Relaxed), warm_up + creates);
    assert_before_save_ran(&api);
    println!(
        "create firing beforeSave + afterSave, remote engine behind the standalone server: {}",
        hooked.show()
    );
    println!(
        "create on a class without hooks, same server: {}",
        plain.show()
    );

    // 5. The same pairs through `lc-mock record` in front of the standalone server:
    // without a master key (forwarding and writing only) and with one (every GET's object
    // is known to its case, so no seed is fetched after the first request).
    let file = std::env::temp_dir().join(format!("lc-bench-record-{}.jsonl", std::process::id()));
    for master_key in [None, Some(cfg.master_key.clone())] {
        let _ = std::fs::remove_file(&file);
        let upstream = Standalone::start(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(Api::new(cfg.clone())),
        )
        .await
        .unwrap();
        let mut config = mock_server::record::RecorderConfig::new(&upstream.uri());
        config.master_key = master_key.clone();
        let recorder = mock_server::record::start(config, "127.0.0.1:0".parse().unwrap(), &file)
            .await
            .unwrap();
        let base = recorder.url.clone();
        let c = cfg.clone();
        let rate = tokio::task::spawn_blocking(move || pairs_over_http(&base, &c, pairs))
            .await
            .unwrap();
        let summary = recorder.stop().await;
        println!(
            "through lc-mock record ({}): {rate:.0} sequential create+get pairs/s ({pairs} pairs); \
             {:.0} bytes per exchange written",
            if master_key.is_some() {
                "with seeds"
            } else {
                "no master key"
            },
            summary.bytes as f64 / summary.exchanges.max(1) as f64
        );
    }
    let _ = std::fs::remove_file(&file);
}
