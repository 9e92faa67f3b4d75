//! The memory of `lc-mock serve` in issue 13's finding 3: prints figures, asserts nothing.
//!
//! `cargo bench -p lc-mock --bench trace_memory` (Linux: it reads the server's
//! `/proc/<pid>/status`). Starts the `lc-mock` program, sends 60 creates whose body is
//! a 15 MiB key (each refused with 105, the error naming the key), then
//! `GET /__mock/traces`, and prints the server's resident memory before, after, and at
//! its peak (`VmHWM`), and the size of the traces' answer. Before the traces were
//! bounded, the same run grew the server from 17 MB to 1.8 GB and the answer was 944 MB.
//!
//! `BENCH_QUICK=1` sends 6 creates instead of 60.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

const MIB: usize = 1024 * 1024;

/// `VmRSS` and `VmHWM` of process `pid`, in MiB.
fn memory(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// One HTTP/1.1 request on a fresh connection: the status and the body's length.
fn exchange(host: &str, method: &str, path: &str, key: &str, body: &[u8]) -> (u16, usize) {
    let mut sock = TcpStream::connect(host).expect("the server listens");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nX-LC-Id: lc-mock-app\r\nX-LC-Key: {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    sock.write_all(head.as_bytes()).unwrap();
    sock.write_all(body).unwrap();
    let mut answer = Vec::new();
    sock.read_to_end(&mut answer).unwrap();
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let status = std::str::from_utf8(&answer[9..12])
        .unwrap()
        .parse()
        .unwrap();
    (status, answer.len() - end - 4)
}

/// The server process, stopped however the run ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v != "0");
    let creates = if quick { 6 } else { 60 };
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_lc-mock"))
            .args(["serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("lc-mock starts"),
    );
    let pid = server.0.id();
    let mut url = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let host = url.trim().trim_start_matches("http://").to_string();
    let Some((start_rss, _)) = memory(pid) else {
        println!("trace memory: no /proc/{pid}/status here; nothing measured");
        return;
    };

    let mut body = b"{\"".to_vec();
    body.resize(body.len() + 15 * MIB, b'k');
    body.extend_from_slice(b"\":1}");
    for _ in 0..creates {
        let (status, _) = exchange(&host, "POST", "/1.1/classes/Big", "lc-mock-key", &body);
        assert_eq!(status, 400);
    }
    let (after_rss, _) = memory(pid).unwrap();
    let (status, traces_len) =
        exchange(&host, "GET", "/__mock/traces", "lc-mock-master,master", b"");
    assert_eq!(status, 200);
    let (end_rss, peak) = memory(pid).unwrap();
    drop(server);

    println!(
        "trace memory ({creates} refused creates of a 15 MiB key, lc-mock serve): resident \
         {start_rss:.1} MiB at start, {after_rss:.1} MiB after the creates, {end_rss:.1} MiB \
         after GET /__mock/traces ({:.2} MiB answered); peak {peak:.1} MiB (goal: under 200 MB)",
        traces_len as f64 / MIB as f64
    );
}
