//! The `stack` target: `lc-mock serve` and the app's engine program (e.g. `cloud-engine`)
//! as two processes on 127.0.0.1, wired by the real hook protocol, as the app is
//! deployed, on one machine. Which engine, and which database settings, the `TestApp`'s
//! [`Builder`](crate::Builder) says; without an engine it is `lc-mock serve` alone.
//!
//! - The binaries are built once per test process and engine (`cargo build -p lc-mock
//!   --bin lc-mock -p <package> --bin <engine>`, quietly) and found from cargo's own
//!   report of what it built, so `CARGO_TARGET_DIR` and a configured target dir are
//!   respected. `LC_STACK_BIN_DIR=<dir>` uses `<dir>/lc-mock` and `<dir>/<engine>` as
//!   they are instead (e.g. release builds made beforehand).
//! - The engine starts first (`LEANCLOUD_APP_PORT=0`, so it picks its own port), pointed
//!   at a free port reserved for lc-mock; it is ready when it prints its URL and answers
//!   `GET /__engine/1/ping`. Then `lc-mock serve --port P --engine <engine>
//!   --fixtures <settings>`, ready when it prints its URL. Each wait is bounded
//!   (`LC_STACK_STARTUP_TIMEOUT` seconds, default 30); a port taken in between is
//!   retried with another.
//! - Neither process outlives its owner, nor the test process: each runs under a small
//!   `sh` watchdog, in a process group of its own, whose standard input is a pipe from
//!   this process. Dropping the [`Stack`] closes the pipe, and so does the end of the
//!   test process however it ends (a panic, `process::exit`, a signal); the watchdog then
//!   stops its process and anything that process started. (Unix only, as `sh` is.)

use crate::StartError;
use crate::builder::{EngineProgram, StackSpec};
use leancloud::transport::HttpTransport;
use leancloud::{Request, Transport};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The keys both processes are started with (`lc-mock serve`'s defaults).
pub(crate) const APP_ID: &str = "lc-mock-app";
pub(crate) const APP_KEY: &str = "lc-mock-key";
pub(crate) const MASTER_KEY: &str = "lc-mock-master";
pub(crate) const HOOK_KEY: &str = "lc-mock-hook";

/// Runs its arguments as a command in the background and, when this script's standard
/// input ends, stops it and anything it started: the script runs in a process group of
/// its own, which `kill 0` signals (the script itself ignores the signal). Only the
/// command keeps the stdout and stderr pipes, so they end when the command does.
const WATCHDOG: &str = r#""$@" </dev/null &
child=$!
exec >/dev/null 2>&1
while read -r _; do :; done
trap '' TERM
kill -TERM 0
wait "$child""#;

/// The built programs.
#[derive(Debug, Clone)]
pub(crate) struct Binaries {
    pub lc_mock: PathBuf,
    pub engine: Option<PathBuf>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness/ sits in the workspace")
        .to_path_buf()
}

/// Build `lc-mock` and the engine program (once per process and engine) and say where
/// they are.
pub(crate) fn binaries(engine: Option<&EngineProgram>) -> Result<Binaries, StartError> {
    /// What each build gave, by engine program.
    type Built = HashMap<Option<EngineProgram>, Result<Binaries, String>>;
    static BUILT: Mutex<Option<Built>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    let found = built
        .entry(engine.cloned())
        .or_insert_with(|| build(engine))
        .clone();
    found.map_err(StartError::Stack)
}

/// What `cargo build` is asked for, as a command line for messages.
fn build_command(engine: Option<&EngineProgram>) -> String {
    let mut command = "cargo build -p lc-mock --bin lc-mock".to_string();
    if let Some(engine) = engine {
        command.push_str(&format!(" -p {} --bin {}", engine.package, engine.bin));
    }
    command
}

fn build(engine: Option<&EngineProgram>) -> Result<Binaries, String> {
    if let Some(dir) = std::env::var_os("LC_STACK_BIN_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        let found = Binaries {
            lc_mock: dir.join("lc-mock"),
            engine: engine.map(|e| dir.join(&e.bin)),
        };
        for program in std::iter::once(&found.lc_mock).chain(&found.engine) {
            if !program.is_file() {
                return Err(format!(
                    "LC_STACK_BIN_DIR={}: there is no {}",
                    dir.display(),
                    program.display()
                ));
            }
        }
        return Ok(found);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = workspace_root();
    let mut command = Command::new(&cargo);
    command.current_dir(&root).args([
        "build",
        "--quiet",
        "--message-format=json-render-diagnostics",
        "-p",
        "lc-mock",
        "--bin",
        "lc-mock",
    ]);
    if let Some(engine) = engine {
        command.args(["-p", &engine.package, "--bin", &engine.bin]);
    }
    let output = command
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {cargo} to build the stack's programs: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{}` failed ({}):\n{}",
            build_command(engine),
            output.status,
            tail(&String::from_utf8_lossy(&output.stderr), 40)
        ));
    }
    let mut lc_mock = None;
    let mut engine_path = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let Some(executable) = message["executable"].as_str() else {
            continue;
        };
        let name = message["target"]["name"].as_str();
        if name == Some("lc-mock") {
            lc_mock = Some(PathBuf::from(executable));
        } else if name.is_some() && name == engine.map(|e| e.bin.as_str()) {
            engine_path = Some(PathBuf::from(executable));
        }
    }
    match (lc_mock, engine_path, engine) {
        (Some(lc_mock), engine_path, None) | (Some(lc_mock), engine_path @ Some(_), Some(_)) => {
            Ok(Binaries {
                lc_mock,
                engine: engine_path,
            })
        }
        _ => Err(format!(
            "`{}` built its programs but did not say where",
            build_command(engine)
        )),
    }
}

/// The last `n` lines of `text`, indented, for an error message.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    let shown: Vec<String> = lines[start..].iter().map(|l| format!("  | {l}")).collect();
    if shown.is_empty() {
        "  | (nothing)".into()
    } else {
        shown.join("\n")
    }
}

fn startup_timeout() -> Duration {
    std::env::var("LC_STACK_STARTUP_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(30), Duration::from_secs)
}

/// One program under its watchdog.
struct Watched {
    name: String,
    watchdog: Child,
    /// Held open for the program's life; closing it stops the program.
    lifeline: Option<ChildStdin>,
    /// The program's stderr so far (the last 64 KiB).
    stderr: Arc<Mutex<String>>,
    /// The program's first stdout line, once printed; `None` when stdout ended first.
    first_line: Option<tokio::sync::oneshot::Receiver<Option<String>>>,
}

impl Watched {
    fn spawn(
        name: &str,
        program: &Path,
        configure: impl FnOnce(&mut Command),
    ) -> Result<Watched, String> {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(program)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        configure(&mut command);
        let mut watchdog = command
            .spawn()
            .map_err(|e| format!("cannot start {name} ({}): {e}", program.display()))?;
        let lifeline = watchdog.stdin.take();
        let stdout = watchdog.stdout.take().expect("stdout is piped");
        let stderr_pipe = watchdog.stderr.take().expect("stderr is piped");
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name(format!("{name}-stdout"))
            .spawn(move || {
                let mut reader = BufReader::new(stdout);
                let mut line = String::new();
                let first = match reader.read_line(&mut line) {
                    Ok(n) if n > 0 => Some(line.trim().to_string()),
                    _ => None,
                };
                let _ = tx.send(first);
                // Keep reading so the program never blocks on a full pipe.
                let _ = std::io::copy(&mut reader, &mut std::io::sink());
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::Builder::new()
            .name(format!("{name}-stderr"))
            .spawn(move || {
                let mut pipe = stderr_pipe;
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let mut text = sink.lock().unwrap_or_else(|e| e.into_inner());
                    text.push_str(&String::from_utf8_lossy(&buf[..n]));
                    if text.len() > 64 * 1024 {
                        let cut = text.len() - 32 * 1024;
                        let cut = (cut..text.len())
                            .find(|&i| text.is_char_boundary(i))
                            .unwrap_or(text.len());
                        text.drain(..cut);
                    }
                }
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        Ok(Watched {
            name: name.to_string(),
            watchdog,
            lifeline,
            stderr,
            first_line: Some(rx),
        })
    }

    fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The first line the program prints (its URL), within `timeout`.
    async fn url(&mut self, timeout: Duration) -> Result<String, String> {
        let rx = self.first_line.take().expect("the URL is read once");
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(Some(line))) if line.starts_with("http://") => Ok(line),
            Ok(Ok(Some(line))) => Err(format!(
                "{} printed {line:?} instead of its URL; its stderr:\n{}",
                self.name,
                tail(&self.stderr(), 40)
            )),
            Ok(_) => {
                // Let the stderr reader catch up with the program's last words.
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(format!(
                    "{} exited before printing its URL; its stderr:\n{}",
                    self.name,
                    tail(&self.stderr(), 40)
                ))
            }
            Err(_) => Err(format!(
                "{} printed no URL within {} s (LC_STACK_STARTUP_TIMEOUT); its stderr:\n{}",
                self.name,
                timeout.as_secs(),
                tail(&self.stderr(), 40)
            )),
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        // End of input: the watchdog stops the program and waits for it.
        drop(self.lifeline.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match self.watchdog.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

/// A running stack: lc-mock at [`Stack::url`], with the engine at [`Stack::engine_url`]
/// when there is one. Dropping it stops both.
pub(crate) struct Stack {
    pub url: String,
    pub engine_url: Option<String>,
    // Dropped in this order: lc-mock first, so it sends nothing to a stopped engine.
    _lc_mock: Watched,
    _engine: Option<Watched>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("url", &self.url)
            .field("engine_url", &self.engine_url)
            .finish()
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))
}

impl Stack {
    /// Build if needed, start the programs `spec` names, wait until they are ready.
    pub async fn start(spec: &StackSpec) -> Result<Stack, StartError> {
        let engine = spec.engine.clone();
        let bins = tokio::task::spawn_blocking(move || binaries(engine.as_ref()))
            .await
            .map_err(|e| StartError::Stack(format!("the build task failed: {e}")))??;
        let timeout = startup_timeout();
        let mut last = String::new();
        for _ in 0..3 {
            match Stack::start_once(spec, &bins, timeout).await {
                Ok(stack) => return Ok(stack),
                // Another process took the reserved port in between: try another.
                Err(e) if e.contains("cannot bind") => last = e,
                Err(e) => return Err(StartError::Stack(e)),
            }
        }
        Err(StartError::Stack(last))
    }

    async fn start_once(
        spec: &StackSpec,
        bins: &Binaries,
        timeout: Duration,
    ) -> Result<Stack, String> {
        let port = free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        let engine = match (&spec.engine, &bins.engine) {
            (Some(program), Some(path)) => {
                let mut engine = Watched::spawn(&program.bin, path, |c| {
                    c.env("LEANCLOUD_APP_ID", APP_ID)
                        .env("LEANCLOUD_APP_KEY", APP_KEY)
                        .env("LEANCLOUD_APP_MASTER_KEY", MASTER_KEY)
                        .env("LEANCLOUD_APP_HOOK_KEY", HOOK_KEY)
                        .env("LEANCLOUD_APP_PORT", "0")
                        .env("LEANCLOUD_API_SERVER", &url);
                })?;
                let engine_url = engine.url(timeout).await?;
                wait_for_ping(&engine, &engine_url, timeout).await?;
                Some((engine, engine_url))
            }
            _ => None,
        };
        let mut lc_mock = Watched::spawn("lc-mock", &bins.lc_mock, |c| {
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with("LC_MOCK_") {
                    c.env_remove(name);
                }
            }
            c.args(["serve", "--host", "127.0.0.1", "--port"])
                .arg(port.to_string())
                .args(["--app-id", APP_ID, "--app-key", APP_KEY])
                .args(["--master-key", MASTER_KEY, "--hook-key", HOOK_KEY]);
            if let Some((_, engine_url)) = &engine {
                c.arg("--engine").arg(engine_url);
            }
            if let Some(settings) = &spec.settings {
                c.arg("--fixtures").arg(settings);
            }
        })?;
        let printed = lc_mock.url(timeout).await?;
        if printed != url {
            return Err(format!("lc-mock printed {printed}, expected {url}"));
        }
        let (engine, engine_url) = engine.unzip();
        Ok(Stack {
            url,
            engine_url,
            _lc_mock: lc_mock,
            _engine: engine,
        })
    }
}

async fn wait_for_ping(
    engine: &Watched,
    engine_url: &str,
    timeout: Duration,
) -> Result<(), String> {
    let transport = HttpTransport::new(engine_url);
    let deadline = Instant::now() + timeout;
    loop {
        let answer = transport
            .send(Request::new("GET", "/__engine/1/ping"))
            .await;
        if matches!(answer, Ok(ref r) if r.status == 200) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{} at {engine_url} did not answer GET /__engine/1/ping within {} s \
                 (last: {}); its stderr:\n{}",
                engine.name,
                timeout.as_secs(),
                match answer {
                    Ok(r) => format!("HTTP {}", r.status),
                    Err(e) => e.message,
                },
                tail(&engine.stderr(), 40)
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
