//! `lc-mock`: the LeanCloud emulator as a program.
//!
//! - `lc-mock serve`: a standalone emulator on 127.0.0.1; prints its URL when ready.
//!   `--fixtures DIR` loads a database-settings folder first (and stops, naming the
//!   file and the problem, when it is broken).
//! - `lc-mock replay FILE`: replay recorded exchanges and score the emulator on them.
//! - `lc-mock record --upstream URL --out FILE`: a proxy that records a real app's
//!   traffic as such exchanges.

use clap::{Parser, Subcommand};
use mock_server::api::cloud::HookTimeouts;
use mock_server::api::trace;
use mock_server::api::{Api, AppConfig};
use mock_server::http::standalone;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(name = "lc-mock", version, about = "A LeanCloud emulator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve an emulated LeanCloud app over HTTP.
    Serve(ServeArgs),
    /// Replay a recordings file against a fresh emulator per test case and score it.
    Replay(mock_server::replay::ReplayArgs),
    /// Forward requests to a LeanCloud API and record every exchange for replay.
    Record(mock_server::record::RecordArgs),
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Port on 127.0.0.1; 0 picks any free port.
    #[arg(long, env = "LC_MOCK_PORT", default_value_t = 8080)]
    port: u16,
    /// Address to bind.
    #[arg(long, env = "LC_MOCK_HOST", default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    #[arg(long, env = "LC_MOCK_APP_ID", default_value = "lc-mock-app")]
    app_id: String,
    #[arg(long, env = "LC_MOCK_APP_KEY", default_value = "lc-mock-key")]
    app_key: String,
    #[arg(long, env = "LC_MOCK_MASTER_KEY", default_value = "lc-mock-master")]
    master_key: String,
    #[arg(long, env = "LC_MOCK_HOOK_KEY", default_value = "lc-mock-hook")]
    hook_key: String,
    /// A cloud engine (e.g. `cloud-engine`, or an official LeanCloud engine) that serves
    /// the app's cloud functions, e.g. http://127.0.0.1:3000.
    #[arg(long, env = "LC_MOCK_ENGINE", conflicts_with = "cloud")]
    engine: Option<String>,
    /// Built-in cloud code to run in-process: `app` (this project's app, crate `cloud`)
    /// or `conformance` (the recorded app's hooks and functions).
    #[arg(long, env = "LC_MOCK_CLOUD", value_name = "NAME")]
    cloud: Option<String>,
    /// How long a before-hook (beforeSave, beforeUpdate, beforeDelete, onLogin) may take
    /// before the write fails with 141, in milliseconds.
    #[arg(long, env = "LC_MOCK_BEFORE_HOOK_TIMEOUT_MS", default_value_t = 10_000)]
    before_hook_timeout_ms: u64,
    /// How long an after-hook may take before it is given up, in milliseconds.
    #[arg(long, env = "LC_MOCK_AFTER_HOOK_TIMEOUT_MS", default_value_t = 3_000)]
    after_hook_timeout_ms: u64,
    /// A database-settings folder (one folder per class: schema.json, indexes.json,
    /// permissions.json, population.json) to load before serving.
    #[arg(long, env = "LC_MOCK_FIXTURES", value_name = "DIR")]
    fixtures: Option<std::path::PathBuf>,
    /// How many top-level requests `GET /__mock/traces` keeps, at most.
    #[arg(long, env = "LC_MOCK_TRACE_REQUESTS", default_value_t = trace::KEPT)]
    trace_requests: usize,
    /// How many bytes of each body, error, and hook input or output a trace keeps; the
    /// rest is cut, with a marker saying how much.
    #[arg(long, env = "LC_MOCK_TRACE_BODY_BYTES", default_value_t = trace::TRACE_BODY_BYTES)]
    trace_body_bytes: usize,
    /// How many bytes all traces keep together, at most; the oldest go first.
    #[arg(long, env = "LC_MOCK_TRACE_BYTES", default_value_t = trace::TRACE_BYTES)]
    trace_bytes: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Replay(args) => mock_server::replay::main(args),
        Command::Record(args) => mock_server::record::main(args),
    }
}

/// Blocks at least this large are mapped from the system for each allocation and given
/// back when freed, instead of coming from malloc's arenas.
///
/// Request bodies up to 20 MB pass through the server. Once glibc's malloc has freed a
/// mapped block that large it raises its threshold (up to 32 MiB) and serves the next
/// ones from its arenas, which keep the memory after the request: in issue 13's finding
/// 3 (60 refused creates of a 15 MiB key) the server stayed at 181 MiB resident, peaking
/// at 226 MiB, with 2 MiB of it in use. With the threshold fixed it ends at 16 MiB and
/// peaks at 101 MiB (`cargo bench -p mock-server --bench trace_memory`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD_BYTES: i32 = 1024 * 1024;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_large_blocks() {
    // SAFETY: mallopt only sets a tuning parameter of the allocator; it is called once,
    // before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_large_blocks() {}

fn serve(args: ServeArgs) -> ExitCode {
    release_large_blocks();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lc-mock: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = AppConfig {
        app_id: args.app_id,
        app_key: args.app_key,
        master_key: args.master_key,
        hook_key: args.hook_key,
    };
    let api = match &args.fixtures {
        None => Api::new(config),
        Some(dir) => match mock_server::settings::Settings::load(dir)
            .and_then(|settings| Ok((Api::with_settings(config, &settings)?, settings)))
        {
            Ok((api, settings)) => {
                let objects: usize = settings.classes.iter().map(|c| c.population.len()).sum();
                eprintln!(
                    "lc-mock: loaded {} classes and {objects} objects from {}",
                    settings.classes.len(),
                    dir.display()
                );
                api
            }
            Err(e) => {
                eprintln!("lc-mock: cannot load the fixtures: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    api.set_trace_limits(trace::TraceLimits {
        requests: args.trace_requests,
        body_bytes: args.trace_body_bytes,
        total_bytes: args.trace_bytes,
    });
    let api = Arc::new(api);
    let timeouts = HookTimeouts {
        before: Duration::from_millis(args.before_hook_timeout_ms),
        after: Duration::from_millis(args.after_hook_timeout_ms),
    };
    if let Some(engine) = &args.engine {
        let transport = Arc::new(leancloud::transport::HttpTransport::new(engine));
        if let Err(e) = api.attach_cloud_with(transport, timeouts) {
            eprintln!("lc-mock: cannot attach the engine {engine}: {}", e.message);
            return ExitCode::FAILURE;
        }
        match api.cloud().and_then(|c| c.hook_names()) {
            Some(names) => eprintln!(
                "lc-mock: cloud code at {engine} ({} functions and hooks)",
                names.len()
            ),
            None => eprintln!(
                "lc-mock: cloud code at {engine}, which does not answer yet; its hooks \
                 are asked for again on the next writes"
            ),
        }
    }
    if let Some(name) = &args.cloud {
        let Some(registry) = mock_server::clouds::named(name) else {
            eprintln!(
                "lc-mock: no built-in cloud named {name:?} (there are: {})",
                mock_server::clouds::NAMES.join(", ")
            );
            return ExitCode::FAILURE;
        };
        if let Err(e) = api.attach_registry_with(registry, timeouts) {
            eprintln!("lc-mock: cannot attach the cloud {name}: {}", e.message);
            return ExitCode::FAILURE;
        }
        eprintln!("lc-mock: cloud code {name}, in-process");
    }
    let addr = SocketAddr::new(args.host, args.port);
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("lc-mock: cannot bind {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let local = listener
            .local_addr()
            .expect("a bound listener has an address");
        println!("http://{local}");
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match axum::serve(standalone::no_delay(listener), standalone::router(api))
            .with_graceful_shutdown(shutdown)
            .await
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("lc-mock: server error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
