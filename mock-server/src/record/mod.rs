//! `lc-mock record`: a forwarding proxy that records a real app's traffic in the
//! recordings format (`mock-server/RECORDINGS.md`), for `lc-mock replay` to hold the
//! emulator to later.
//!
//! Clients (SDKs, an app's test suite, a browser) point at the recorder instead of the
//! API host. Each request is forwarded unchanged (bodies byte for byte, content encoding
//! included; hop-by-hop headers are the proxy's own) and its exchange appended to the
//! file, one flushed line each, so stopping the recorder at any moment loses nothing
//! already answered.
//!
//! - [`cases`]: which test case an exchange belongs to (header, marker, quiet gaps).
//! - [`seeds`]: which objects an exchange names that its case did not produce; with a
//!   master key the recorder fetches them from the upstream and writes seed lines.
//! - `proxy`: the forwarding itself, decoding, the upstream's failures.
//!
//! Control requests, answered by the recorder and never forwarded or recorded:
//! `POST /__record/case` with `{"test": "<name>", "suite": "<optional>"}` names the case
//! of the requests that follow (`{"test": null}` goes back to automatic cases), and
//! `GET /__record/summary` answers what has been written so far.

pub mod cases;
mod proxy;
pub mod seeds;

use cases::{CaseKey, CaseNamer};
use leancloud::recording::{Summary, Writer};
use seeds::ObjectRef;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The header that names an exchange's test case.
pub const CASE_HEADER: &str = "x-lc-record-case";
/// The header that names an exchange's suite (default: `--suite`).
pub const SUITE_HEADER: &str = "x-lc-record-suite";

/// How a recorder runs.
#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// Scheme and authority (and optional prefix) of the API; no trailing `/`.
    pub upstream: String,
    pub suite: String,
    pub gap: Option<Duration>,
    pub master_key: Option<String>,
    pub app_id: Option<String>,
    pub upstream_timeout: Duration,
    /// A line per exchange on standard error.
    pub progress: bool,
}

impl RecorderConfig {
    /// Forward to `upstream`; cases in suite `recorded`, no gap, no seeds, 30 s timeout,
    /// no progress lines.
    pub fn new(upstream: &str) -> Self {
        RecorderConfig {
            upstream: upstream.trim_end_matches('/').to_string(),
            suite: "recorded".into(),
            gap: None,
            master_key: None,
            app_id: None,
            upstream_timeout: Duration::from_secs(30),
            progress: false,
        }
    }
}

/// What the recorder knows about one case.
#[derive(Debug, Default)]
struct CaseState {
    /// Exchanges written.
    order: u64,
    /// Objects the case created, and those seeded or found absent.
    known: HashSet<ObjectRef>,
    /// Session tokens the case obtained or seeded.
    tokens: HashSet<String>,
    /// Classes whose rows the case has seeded whole (on its first query of them).
    snapshots: HashSet<String>,
}

#[derive(Debug)]
struct State {
    namer: CaseNamer,
    cases: HashMap<CaseKey, CaseState>,
    /// For seed fetches: `--app-id`, else the first `X-LC-Id` seen.
    app_id: Option<String>,
}

/// A running recorder's shared parts.
#[derive(Debug)]
pub struct Recorder {
    config: RecorderConfig,
    client: reqwest::Client,
    writer: Writer,
    out: PathBuf,
    state: Mutex<State>,
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What has been written so far.
    pub fn summary(&self) -> Summary {
        self.writer.summary()
    }
}

/// The (suite, test) of every readable line already in `path`.
fn cases_in(path: &Path) -> HashSet<CaseKey> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashSet::new();
    };
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|v| {
            Some((
                v.get("suite")?.as_str()?.to_string(),
                v.get("test")?.as_str()?.to_string(),
            ))
        })
        .collect()
}

/// A recorder serving on a socket.
#[derive(Debug)]
pub struct RunningRecorder {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    recorder: Arc<Recorder>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningRecorder {
    /// What has been written so far.
    pub fn summary(&self) -> Summary {
        self.recorder.summary()
    }

    /// Stop accepting requests, let those under way finish (5 s at most), and return
    /// what was written.
    pub async fn stop(mut self) -> Summary {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
        self.recorder.summary()
    }
}

/// Start a recorder on `listen` (port 0: any free port), appending to `out`.
pub async fn start(
    config: RecorderConfig,
    listen: SocketAddr,
    out: &Path,
) -> std::io::Result<RunningRecorder> {
    let writer = Writer::append(out)?;
    if let Some(key) = &config.master_key {
        writer.add_secret(key);
    }
    if let Some(id) = &config.app_id {
        writer.add_secret(id);
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.upstream_timeout)
        .build()
        .map_err(std::io::Error::other)?;
    let recorder = Arc::new(Recorder {
        state: Mutex::new(State {
            namer: CaseNamer::new(&config.suite, config.gap, cases_in(out)),
            cases: HashMap::new(),
            app_id: config.app_id.clone(),
        }),
        config,
        client,
        writer,
        out: out.to_path_buf(),
    });
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = proxy::router(recorder.clone());
    let task = tokio::spawn(async move {
        axum::serve(crate::http::standalone::no_delay(listener), router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(RunningRecorder {
        url,
        recorder,
        stop: Some(stop),
        task,
    })
}

/// Exit codes of `lc-mock record`.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

/// `lc-mock record`: record on `listen` into `out` until Ctrl-C (or SIGTERM), printing
/// the recorder's URL on standard output when it is ready and, at the end, what it wrote
/// on standard error. Returns the exit code ([`EXIT_OK`], [`EXIT_FAILURE`]).
pub fn run(config: RecorderConfig, listen: SocketAddr, out: &Path) -> u8 {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lc-mock record: cannot start the runtime: {e}");
            return EXIT_FAILURE;
        }
    };
    runtime.block_on(async move {
        let upstream = config.upstream.clone();
        let seeds = config.master_key.is_some();
        let running = match start(config, listen, out).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!(
                    "lc-mock record: cannot record to {} on {listen}: {e}",
                    out.display(),
                );
                return EXIT_FAILURE;
            }
        };
        // Listen for Ctrl-C and SIGTERM before anyone can know where to send requests.
        let stop = leancloud::engine::stop_signal();
        println!("{}", running.url);
        let _ = std::io::Write::flush(&mut std::io::stdout());
        eprintln!(
            "lc-mock record: forwarding {} to {upstream}, appending to {}{}",
            running.url,
            out.display(),
            if seeds {
                ""
            } else {
                " (no --master-key: pre-existing objects are not fetched as seeds)"
            }
        );
        stop.await;
        let summary = running.stop().await;
        eprintln!("lc-mock record: wrote {summary} to {}", out.display());
        EXIT_OK
    })
}
