//! HTTP throughput benchmark: prints figures, asserts nothing.
//!
//! `cargo bench -p lc-mock --bench http` (release build). Starts two servers as child
//! processes on 127.0.0.1, each with its own runtime as a deployment would run it:
//! - `lc-mock serve --port 0`, the release program;
//! - a minimal server on the same stack (axum's router on hyper's http1 connections,
//!   the tokio multi-thread runtime), answering every request with a fixed JSON body:
//!   for each operation the very bytes lc-mock answered it with, so both send the same.
//!   It is this benchmark's own binary, started again with [`MINIMAL_ENV`] set.
//!
//! and drives both with its own load generator: a fixed number of keep-alive HTTP/1.1
//! connections (16, then 64) on a tokio runtime in this process, each sending one request
//! at a time for a bounded time, as wrk does. The client is a few lines over a socket
//! rather than a client library, so that its own cost stays small beside the servers'.
//! For each operation (a GET of an object by id, a query with `where` and `limit`, a
//! create) and each connection count it prints requests per second, p50 and p99 latency
//! of each server, and lc-mock's throughput as a ratio of the minimal server's, with the
//! issue's goals (gets at least 0.8x, creates at least 0.6x, p99 at most 3 ms at 64
//! connections). The two servers run one after the other in the same run, on a machine
//! that may be busy: the ratios are the figures to compare across runs.
//!
//! `BENCH_BASELINE=path/to/lc-mock` measures another build of the program too, in the
//! same run (a before and after that share the machine's load).
//!
//! `BENCH_DATA=DIR` (a new folder) also serves lc-mock with `--data DIR` and measures it
//! beside the in-memory one, in the same run: the durable store's throughput and its ratio
//! to memory (issue 19's goal: creates at least 0.5).
//! `BENCH_MINIMAL=plain` makes the minimal server answer through a plain hyper service
//! (`hyper::service::service_fn`) instead of axum's router, as lc-mock's own front does
//! since it left axum's router: the cheapest server on the stack.
//! `BENCH_SECS` sets the seconds each measurement lasts (default 3); `BENCH_QUICK=1`
//! makes it half a second (a smoke run). `BENCH_OPS=get,create` and
//! `BENCH_CONNECTIONS=64` measure only those (for a profiler attached to one server).

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Set in the environment of the child that serves as the minimal server; its value is
/// the answers it gives, as JSON: `{"get": ..., "query": ..., "create": ...}`.
const MINIMAL_ENV: &str = "LC_MOCK_BENCH_MINIMAL";
/// Set (to anything) in that child's environment when it serves with a plain hyper
/// service rather than axum's router (`BENCH_MINIMAL=plain`).
const PLAIN_ENV: &str = "LC_MOCK_BENCH_MINIMAL_PLAIN";
/// Connection counts measured.
const CONNECTIONS: [usize; 2] = [16, 64];
/// Rows of the class queried.
const ROWS: usize = 1000;
/// Requests before each measurement, not counted (connections, caches, allocator).
const WARMUP: Duration = Duration::from_millis(300);

const APP_ID: &str = "lc-mock-app";
const APP_KEY: &str = "lc-mock-key";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Get,
    Query,
    Create,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Query => "query",
            Op::Create => "create",
        }
    }
}

// ---- the minimal server ------------------------------------------------------------------

/// The cheapest server on this stack: a fixed answer per operation, told apart by method
/// and target only; through axum's router, or with `plain` a bare hyper service.
fn minimal_server(answers: &str, plain: bool) {
    let answers: serde_json::Value = serde_json::from_str(answers).expect("answers are JSON");
    let answer = |op: &str| Bytes::from(answers[op].as_str().expect("an answer").to_string());
    let (get, query, create) = (answer("get"), answer("query"), answer("create"));
    // The answer to a request with this method and target; its body read first, as any
    // server that answers a create does.
    let respond = move |post: bool, is_query: bool| {
        let (status, body) = if post {
            (StatusCode::CREATED, create.clone())
        } else if is_query {
            (StatusCode::OK, query.clone())
        } else {
            (StatusCode::OK, get.clone())
        };
        let mut response = axum::http::Response::new(Body::from(body));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        response
    };
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("http://{}", listener.local_addr().unwrap());
        let respond = Arc::new(respond);
        let app = {
            let respond = respond.clone();
            axum::Router::new().fallback(move |request: axum::extract::Request| {
                let respond = respond.clone();
                async move {
                    let post = request.method() == axum::http::Method::POST;
                    let is_query = request.uri().query().is_some();
                    let _ = axum::body::to_bytes(request.into_body(), 1 << 20).await;
                    respond(post, is_query)
                }
            })
        };
        let routed = TowerToHyperService::new(app);
        let bare = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let respond = respond.clone();
            async move {
                let post = request.method() == axum::http::Method::POST;
                let is_query = request.uri().query().is_some();
                let _ = request.into_body().collect().await;
                Ok::<_, std::convert::Infallible>(respond(post, is_query))
            }
        });
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let http = hyper::server::conn::http1::Builder::new();
            if plain {
                tokio::spawn(http.serve_connection(TokioIo::new(tcp), bare.clone()));
            } else {
                tokio::spawn(http.serve_connection(TokioIo::new(tcp), routed.clone()));
            }
        }
    });
}

// ---- the load generator ------------------------------------------------------------------

/// One keep-alive connection that sends one request at a time.
struct Connection {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    async fn open(addr: &str) -> Connection {
        let tcp = TcpStream::connect(addr).await.expect("the server listens");
        tcp.set_nodelay(true).unwrap();
        Connection {
            tcp,
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    /// Send `request` (a whole HTTP/1.1 request) and read the answer: its status and body.
    async fn exchange(&mut self, request: &[u8]) -> (u16, Vec<u8>) {
        self.tcp
            .write_all(request)
            .await
            .expect("the request is sent");
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some((status, head, length)) = parse_head(&self.buf)
                && self.buf.len() >= head + length
            {
                let body = self.buf[head..head + length].to_vec();
                self.buf.drain(..head + length);
                return (status, body);
            }
            let n = self.tcp.read(&mut chunk).await.expect("the answer is read");
            assert!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// The status, the length of the head and the body's length, once the head is complete.
fn parse_head(buf: &[u8]) -> Option<(u16, usize, usize)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..end]).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.trim().parse().expect("a length"))
        .expect("answers carry a content-length");
    Some((status, end, length))
}

fn request_bytes(method: &str, target: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} {target} HTTP/1.1\r\nhost: 127.0.0.1\r\nx-lc-id: {APP_ID}\r\nx-lc-key: {APP_KEY}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

struct Figures {
    rate: f64,
    /// CPU time the server spent per request (user and system), when it could be read.
    cpu: Option<Duration>,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

/// `connections` connections send `request` for `length`, after a warm-up; the
/// expected status tells answers from errors.
async fn drive(
    server: &Server,
    request: Arc<Vec<u8>>,
    expected: u16,
    connections: usize,
    length: Duration,
) -> Figures {
    let start = Instant::now() + WARMUP;
    let stop = start + length;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let mut conn = Connection::open(&server.addr).await;
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(64 * 1024);
            let mut errors = 0;
            loop {
                let t = Instant::now();
                if t >= stop {
                    break;
                }
                let (status, _) = conn.exchange(&request).await;
                if t >= start {
                    latencies.push(t.elapsed());
                    errors += usize::from(status != expected);
                }
            }
            (latencies, errors)
        }));
    }
    tokio::time::sleep_until(start.into()).await;
    let cpu_before = server.cpu();
    tokio::time::sleep_until(stop.into()).await;
    let cpu_after = server.cpu();
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (latencies, e) = task.await.unwrap();
        all.extend(latencies);
        errors += e;
    }
    all.sort();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    let cpu = cpu_before
        .zip(cpu_after)
        .map(|(b, a)| a.saturating_sub(b) / all.len().max(1) as u32);
    Figures {
        rate: all.len() as f64 / length.as_secs_f64(),
        cpu,
        p50: at(0.50),
        p99: at(0.99),
        errors,
    }
}

// ---- the run -------------------------------------------------------------------------------

/// A child server and its address; killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(mut command: Command) -> Server {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("http://")
            .expect("a ready line with the server's URL")
            .to_string();
        Server { child, addr }
    }
}

impl Server {
    /// The CPU time the server has used so far (user and system), from /proc (Linux).
    fn cpu(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // Fields after the command name (which may hold spaces), from the 3rd on:
        // utime and stime are the 14th and 15th, in clock ticks of 1/100 s.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(Duration::from_millis(ticks * 10))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn us(cpu: Option<Duration>) -> String {
    cpu.map_or("?".into(), |d| {
        format!("{:.0} us/req", d.as_secs_f64() * 1e6)
    })
}

fn main() {
    if let Ok(answers) = std::env::var(MINIMAL_ENV) {
        minimal_server(&answers, std::env::var_os(PLAIN_ENV).is_some());
        return;
    }
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v != "0");
    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 0.5 } else { 3.0 });
    let length = Duration::from_secs_f64(secs.clamp(0.1, 60.0));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(length));
}

/// A server started with its data, and the requests of each operation with the status
/// each should answer.
type Served = (Server, Vec<(Op, Vec<u8>, u16)>);

/// Start `lc-mock serve` from `program` and give it the data: [`ROWS`] objects to query;
/// the requests of each operation (the GET asks for one of those objects), with the
/// status each should answer.
async fn lc_mock(program: &std::ffi::OsStr, data: Option<&std::ffi::OsStr>) -> Served {
    let mut serve = Command::new(program);
    serve.args(["serve", "--port", "0"]);
    if let Some(dir) = data {
        serve.arg("--data").arg(dir);
    }
    let server = Server::start(serve);
    let mut conn = Connection::open(&server.addr).await;
    let mut id = String::new();
    for i in 0..ROWS {
        let body = format!(r#"{{"title":"Row {i}","tag":"t{}","score":{i}}}"#, i % 100);
        let (status, answer) = conn
            .exchange(&request_bytes("POST", "/1.1/classes/Bench", &body))
            .await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
        if i == ROWS / 2 {
            let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
            id = answer["objectId"].as_str().unwrap().to_string();
        }
    }
    // A selective query: 10 of the ROWS rows match.
    let query = format!(
        "/1.1/classes/Bench?where={}&limit=10",
        percent_encode(r#"{"tag":"t7"}"#)
    );
    let requests = vec![
        (
            Op::Get,
            request_bytes("GET", &format!("/1.1/classes/Bench/{id}"), ""),
            200,
        ),
        (Op::Query, request_bytes("GET", &query, ""), 200),
        (
            Op::Create,
            request_bytes(
                "POST",
                "/1.1/classes/Bench",
                r#"{"title":"Created","tag":"new","score":1}"#,
            ),
            201,
        ),
    ];
    (server, requests)
}

fn show(name: &str, f: &Figures) -> String {
    format!(
        "{name} {:>7.0} req/s p50 {} p99 {} cpu {}",
        f.rate,
        ms(f.p50),
        ms(f.p99),
        us(f.cpu)
    )
}

async fn run(length: Duration) {
    let program: &std::ffi::OsStr = env!("CARGO_BIN_EXE_lc-mock").as_ref();
    let (lc, requests) = lc_mock(program, None).await;
    // The same program with `--data` (`BENCH_DATA=<new folder>`), beside the in-memory one.
    let durable = match std::env::var_os("BENCH_DATA") {
        Some(dir) => Some(lc_mock(program, Some(&dir)).await),
        None => None,
    };
    // Another build of the program (`BENCH_BASELINE=path/to/lc-mock`), measured beside
    // this one in the same run: a before and after that share the machine's noise.
    let baseline = match std::env::var_os("BENCH_BASELINE") {
        Some(program) => Some(lc_mock(&program, None).await),
        None => None,
    };

    // The minimal server answers with what lc-mock answers.
    let mut answers = serde_json::Map::new();
    let mut conn = Connection::open(&lc.addr).await;
    for (op, request, expected) in &requests {
        let (status, body) = conn.exchange(request).await;
        assert_eq!(status, *expected, "{}", String::from_utf8_lossy(&body));
        answers.insert(op.name().into(), String::from_utf8(body).unwrap().into());
    }
    drop(conn);
    let mut minimal = Command::new(std::env::current_exe().unwrap());
    minimal.env(MINIMAL_ENV, serde_json::Value::Object(answers).to_string());
    let plain = std::env::var("BENCH_MINIMAL").is_ok_and(|v| v == "plain");
    if plain {
        minimal.env(PLAIN_ENV, "1");
    }
    let min = Server::start(minimal);

    println!(
        "HTTP throughput: lc-mock serve against a minimal {} server with the same answers, \
         {:.1} s per measurement, keep-alive connections, one request at a time each",
        if plain {
            "hyper (plain service)"
        } else {
            "axum/hyper"
        },
        length.as_secs_f64()
    );
    println!("machine: {}", load_average());
    let ops = std::env::var("BENCH_OPS").unwrap_or_default();
    let counts = std::env::var("BENCH_CONNECTIONS").unwrap_or_default();
    let chosen = |list: &str, name: &str| list.is_empty() || list.split(',').any(|x| x == name);
    for connections in CONNECTIONS {
        if !chosen(&counts, &connections.to_string()) {
            continue;
        }
        for (i, (op, request, expected)) in requests.iter().enumerate() {
            if !chosen(&ops, op.name()) {
                continue;
            }
            let request = Arc::new(request.clone());
            let m = drive(&min, request.clone(), *expected, connections, length).await;
            let l = drive(&lc, request, *expected, connections, length).await;
            let ratio = l.rate / m.rate;
            let goal = match op {
                Op::Get => Some(0.8),
                Op::Create => Some(0.6),
                Op::Query => None,
            };
            let mut line = format!(
                "{:>6} x{connections:<3} {} | {} | ratio {ratio:.2}",
                op.name(),
                show("lc-mock", &l),
                show("minimal", &m),
            );
            if let Some(goal) = goal {
                line += &format!(" (goal >= {goal}: {})", verdict(ratio >= goal));
            }
            if connections == 64 {
                line += &format!(
                    ", p99 (goal <= 3 ms: {})",
                    verdict(l.p99 <= Duration::from_millis(3))
                );
            }
            let mut errors = l.errors + m.errors;
            if let Some(other) = &baseline {
                let b = beside(other, i, connections, length).await;
                line += &format!(
                    "\n{:>11} {} | ratio {:.2} | this build / baseline {:.2}",
                    "",
                    show("baseline", &b),
                    b.rate / m.rate,
                    l.rate / b.rate
                );
                errors += b.errors;
            }
            if let Some(other) = &durable {
                let d = beside(other, i, connections, length).await;
                line += &format!(
                    "\n{:>11} {} | to in memory {:.2}",
                    "",
                    show("--data ", &d),
                    d.rate / l.rate
                );
                if matches!(op, Op::Create) {
                    line += &format!(" (goal >= 0.5: {})", verdict(d.rate / l.rate >= 0.5));
                }
                errors += d.errors;
            }
            if errors > 0 {
                line += &format!(" [{errors} answers with an unexpected status]");
            }
            println!("{line}");
        }
    }
    println!("machine after: {}", load_average());
}

/// Another server measured beside lc-mock (a baseline build, or lc-mock with `--data`):
/// its figures for the `i`th operation.
async fn beside(
    (server, requests): &Served,
    i: usize,
    connections: usize,
    length: Duration,
) -> Figures {
    let (_, request, expected) = &requests[i];
    drive(
        server,
        Arc::new(request.clone()),
        *expected,
        connections,
        length,
    )
    .await
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The load averages, for the reader to judge how busy the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| {
            let f: Vec<&str> = s.split_whitespace().take(3).collect();
            format!("load average {} (1, 5, 15 min)", f.join(" "))
        })
        .unwrap_or_else(|_| "load average unknown".into())
}
