//! `lc-mock`: the LeanCloud emulator as a program.
//!
//! - `lc-mock serve`: a standalone emulator on 127.0.0.1; prints its URL when ready.
//!   `--fixtures DIR` loads a database-settings folder first (and stops, naming the
//!   file and the problem, when it is broken). Its data lives in memory, unless
//!   `--data DIR` keeps every acknowledged write on disk across restarts.
//! - `lc-mock replay FILE`: replay recorded exchanges and score the emulator on them.
//! - `lc-mock record --upstream URL --out FILE`: a proxy that records a real app's
//!   traffic as such exchanges.
//!
//! The emulator, the recorder and the replay are the `mock-server` library; this file
//! only turns the command line into their options, and names the built-in clouds
//! (`lc_mock::clouds`).

use clap::{Parser, Subcommand};
use lc_mock::clouds;
use mock_server::api::cloud::HookTimeouts;
use mock_server::api::trace;
use mock_server::api::{Api, AppConfig};
use mock_server::http::standalone;
use mock_server::record::{self, RecorderConfig};
use mock_server::replay::{self, ReplayOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
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
    /// Serve an emulated LeanCloud app over HTTP. Its data lives in memory, and on disk
    /// too with --data.
    #[command(
        after_help = "Without --data, data lives in memory only: everything written is \
                            gone when the process ends (however it ends), and --fixtures \
                            loads the same starting data on every start. With --data DIR, \
                            every acknowledged write is kept in DIR (SQLite) and survives \
                            restarts and kill -9; --fixtures then seeds a new DIR only."
    )]
    Serve(ServeArgs),
    /// Replay a recordings file against a fresh emulator per test case and score it.
    Replay(ReplayArgs),
    /// Forward requests to a LeanCloud API and record every exchange for replay.
    Record(RecordArgs),
    /// Read LeanCloud's data export (a folder of <Class>.jsonl or <Class>.json files)
    /// into a database-settings folder or a new --data folder. Exported users keep their
    /// passwords.
    Import(ImportArgs),
    /// Write the app kept in a --data folder out as LeanCloud's export format or as a
    /// database-settings folder.
    Export(ExportArgs),
}

#[derive(clap::Args, Debug)]
struct ImportArgs {
    /// The export's folder.
    #[arg(required_unless_present = "from_app", conflicts_with = "from_app")]
    export: Option<PathBuf>,
    /// Read a live app instead, over its REST API with the master key: its schemas, each
    /// class walked with the scan API, and its relations' members (e.g.
    /// https://abcd1234.lc-cn-n1-shared.com). Users' password hashes and files' bytes are
    /// not in the REST API: export `_User` from the console to keep passwords.
    #[arg(long, value_name = "URL")]
    from_app: Option<String>,
    /// The live app's id (also LEANCLOUD_APP_ID).
    #[arg(long, env = "LC_MOCK_APP_ID", requires = "from_app")]
    app_id: Option<String>,
    /// The live app's master key (also LEANCLOUD_APP_MASTER_KEY).
    #[arg(
        long,
        env = "LC_MOCK_MASTER_KEY",
        hide_env_values = true,
        requires = "from_app"
    )]
    master_key: Option<String>,
    /// Write a database-settings folder (new or empty) for `serve --fixtures`.
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "data",
        conflicts_with = "data"
    )]
    settings: Option<PathBuf>,
    /// Write straight into a new --data folder for `serve --data`.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct ExportArgs {
    /// The --data folder the app is kept in.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Where to write (a new or empty folder).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// `leancloud` (<Class>.jsonl files, as LeanCloud's console exports) or `settings`
    /// (a database-settings folder).
    #[arg(long, default_value = "leancloud", value_parser = ["leancloud", "settings"])]
    format: String,
}

fn import(args: ImportArgs) -> ExitCode {
    use mock_server::leancloud_export::Export;
    let read = match (&args.export, &args.from_app) {
        (Some(dir), _) => Export::read(dir).map_err(|e| e.to_string()),
        (None, Some(url)) => fetch_app(url, &args),
        (None, None) => unreachable!("clap requires an export or --from-app"),
    };
    let export = match read {
        Ok(export) => export,
        Err(e) => {
            eprintln!("lc-mock: cannot read the export: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rows: usize = export.classes.values().map(Vec::len).sum();
    let result = match (&args.settings, &args.data) {
        (Some(out), _) => export
            .write_settings_folder(out)
            .map(|_| out)
            .map_err(|e| e.to_string()),
        (None, Some(dir)) => import_data(&export, dir).map(|_| dir),
        (None, None) => unreachable!("clap requires one target"),
    };
    match result {
        Ok(out) => {
            eprintln!(
                "lc-mock: imported {} classes and {rows} objects into {}",
                export.classes.len(),
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lc-mock: cannot import: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `lc-mock import --from-app URL`: the live app read over its REST API.
fn fetch_app(
    url: &str,
    args: &ImportArgs,
) -> Result<mock_server::leancloud_export::Export, String> {
    let need = |given: &Option<String>, flag: &str, var: &str| {
        given_or_engine_var(given.clone(), var)
            .ok_or_else(|| format!("--from-app needs {flag} (or {var})"))
    };
    let app_id = need(&args.app_id, "--app-id", "LEANCLOUD_APP_ID")?;
    let master_key = need(&args.master_key, "--master-key", "LEANCLOUD_APP_MASTER_KEY")?;
    let transport = Arc::new(leancloud::transport::HttpTransport::new(url));
    let client = leancloud::client::Client::new(transport, app_id, String::new())
        .with_master_key(master_key);
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(mock_server::leancloud_export::Export::fetch(&client, url))
}

fn import_data(
    export: &mock_server::leancloud_export::Export,
    dir: &std::path::Path,
) -> Result<(), String> {
    let settings = export.to_settings().map_err(|e| e.to_string())?;
    let durable = mock_server::durable::Durable::open(dir)?;
    if !durable.is_new()? {
        return Err(format!(
            "{}: already holds an app; import into a new folder",
            dir.display()
        ));
    }
    let api = Api::with_settings(AppConfig::default(), &settings).map_err(|e| e.to_string())?;
    api.attach_data(durable)?;
    Ok(())
}

fn export(args: ExportArgs) -> ExitCode {
    let file = args.data.join(mock_server::durable::DATA_FILE);
    if !file.is_file() {
        eprintln!("lc-mock: {}: no app is kept there", file.display());
        return ExitCode::FAILURE;
    }
    let api = Api::new(AppConfig::default());
    let written = mock_server::durable::Durable::open(&args.data)
        .and_then(|d| api.attach_data(d))
        .and_then(|_| {
            let store = api.read_store();
            if args.format == "settings" {
                mock_server::export::settings_folder(&store, &args.out).map(|e| (e.classes, e.rows))
            } else {
                mock_server::leancloud_export::write(&store, &args.out).map_err(|e| e.to_string())
            }
        });
    match written {
        Ok((classes, rows)) => {
            eprintln!(
                "lc-mock: wrote {classes} classes and {rows} objects to {}",
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lc-mock: cannot export: {e}");
            ExitCode::FAILURE
        }
    }
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Port on 127.0.0.1; 0 picks any free port.
    #[arg(long, env = "LC_MOCK_PORT", default_value_t = 8080)]
    port: u16,
    /// Address to bind.
    #[arg(long, env = "LC_MOCK_HOST", default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The app's id [default: lc-mock-app; also read from LEANCLOUD_APP_ID, the
    /// official engines' name, when LC_MOCK_APP_ID is not set].
    #[arg(long, env = "LC_MOCK_APP_ID")]
    app_id: Option<String>,
    /// The app key [default: lc-mock-key; also LEANCLOUD_APP_KEY].
    #[arg(long, env = "LC_MOCK_APP_KEY", hide_env_values = true)]
    app_key: Option<String>,
    /// The master key [default: lc-mock-master; also LEANCLOUD_APP_MASTER_KEY].
    #[arg(long, env = "LC_MOCK_MASTER_KEY", hide_env_values = true)]
    master_key: Option<String>,
    /// The hook key cloud engines sign hook calls with [default: lc-mock-hook; also
    /// LEANCLOUD_APP_HOOK_KEY].
    #[arg(long, env = "LC_MOCK_HOOK_KEY", hide_env_values = true)]
    hook_key: Option<String>,
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
    /// Keep the app in this folder (created if need be): every acknowledged write is on
    /// disk before its answer, and a restart starts from what the folder holds.
    #[arg(long, env = "LC_MOCK_DATA", value_name = "DIR")]
    data: Option<std::path::PathBuf>,
    /// Connections served at once; further ones wait until one closes.
    #[arg(long, env = "LC_MOCK_MAX_CONNECTIONS", default_value_t = standalone::MAX_CONNECTIONS as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
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
    /// `json`: one JSON line per request on standard error (time, level, request id,
    /// method, path, status, ms), and the request id back in `X-Request-Id`.
    #[arg(long, env = "LC_MOCK_LOG", value_enum, default_value_t = LogFormat::Off)]
    log: LogFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    Off,
    Json,
}

/// The keys `lc-mock serve` uses when none is given: fine on a loopback address, where
/// only this machine reaches the server; refused on any other.
const DEFAULT_KEYS: KeyDefaults = KeyDefaults {
    app_id: "lc-mock-app",
    app_key: "lc-mock-key",
    master_key: "lc-mock-master",
    hook_key: "lc-mock-hook",
};

struct KeyDefaults {
    app_id: &'static str,
    app_key: &'static str,
    master_key: &'static str,
    hook_key: &'static str,
}

/// A key from its option (or `LC_MOCK_*` variable), else the official engines' variable
/// of the same meaning, else the default.
fn key(given: Option<String>, engine_var: &str, default: &str) -> String {
    given_or_engine_var(given, engine_var).unwrap_or_else(|| default.to_string())
}

/// A value given by option (or `LC_MOCK_*` variable), else the official engines'
/// variable of the same meaning when it is set and not empty.
fn given_or_engine_var(given: Option<String>, engine_var: &str) -> Option<String> {
    given.or_else(|| std::env::var(engine_var).ok().filter(|v| !v.is_empty()))
}

/// The app's keys, or why the server must not start with them: on an address other
/// machines reach, the master and hook keys must not be the well-known defaults (anyone
/// could then read and change everything).
fn app_config(args: &ServeArgs) -> Result<AppConfig, String> {
    let config = AppConfig {
        app_id: key(args.app_id.clone(), "LEANCLOUD_APP_ID", DEFAULT_KEYS.app_id),
        app_key: key(
            args.app_key.clone(),
            "LEANCLOUD_APP_KEY",
            DEFAULT_KEYS.app_key,
        ),
        master_key: key(
            args.master_key.clone(),
            "LEANCLOUD_APP_MASTER_KEY",
            DEFAULT_KEYS.master_key,
        ),
        hook_key: key(
            args.hook_key.clone(),
            "LEANCLOUD_APP_HOOK_KEY",
            DEFAULT_KEYS.hook_key,
        ),
    };
    if !args.host.is_loopback() {
        let defaults: Vec<&str> = [
            ("master key", &config.master_key, DEFAULT_KEYS.master_key),
            ("hook key", &config.hook_key, DEFAULT_KEYS.hook_key),
        ]
        .into_iter()
        .filter(|(_, key, default)| key == default)
        .map(|(name, _, _)| name)
        .collect();
        if !defaults.is_empty() {
            return Err(format!(
                "refusing to serve on {} with the default {}: anyone who can reach it could \
                 read and change everything. Set --master-key and --hook-key (or \
                 LC_MOCK_MASTER_KEY and LC_MOCK_HOOK_KEY, or the engines' \
                 LEANCLOUD_APP_MASTER_KEY and LEANCLOUD_APP_HOOK_KEY)",
                args.host,
                defaults.join(" and ")
            ));
        }
    }
    Ok(config)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Replay(args) => replay(args),
        Command::Record(args) => record(args),
        Command::Import(args) => import(args),
        Command::Export(args) => export(args),
    }
}

/// The program's allocator. Every request allocates and frees dozens of small blocks;
/// with mimalloc in place of glibc's malloc, `lc-mock serve` spends about a quarter less
/// CPU per GET under load and answers 10-30% more requests per second
/// (`BENCH_BASELINE=<a glibc build> cargo bench -p lc-mock --bench http`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`: its place in mimalloc's option enum (the same in
/// its v2 and v3; a test checks it by its documented default).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed memory stays with the process before it goes back to the system, in
/// milliseconds: none. Request bodies up to 20 MB pass through the server; with
/// mimalloc's default delay (1 s), 60 refused creates of a 15 MiB key left the server at
/// 175 MiB resident, peaking at 201 MiB. Returned at once, it ends at 46 MiB and peaks
/// at 142 MiB (`cargo bench -p lc-mock --bench trace_memory`).
const PURGE_DELAY_MS: std::ffi::c_long = 0;

fn release_freed_memory() {
    // SAFETY: mi_option_set only sets one of the allocator's tuning options, which
    // mimalloc reads atomically.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) }
}

fn serve(args: ServeArgs) -> ExitCode {
    release_freed_memory();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lc-mock: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = match app_config(&args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("lc-mock: {e}");
            return ExitCode::FAILURE;
        }
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
    if let Some(dir) = &args.data {
        let started = std::time::Instant::now();
        match mock_server::durable::Durable::open(dir).and_then(|d| api.attach_data(d)) {
            Ok(rows) => eprintln!(
                "lc-mock: data in {} ({rows} objects read in {:.2} s)",
                dir.display(),
                started.elapsed().as_secs_f64()
            ),
            Err(e) => {
                eprintln!("lc-mock: cannot use the data folder: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
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
        let Some(registry) = clouds::named(name) else {
            eprintln!(
                "lc-mock: no built-in cloud named {name:?} (there are: {})",
                clouds::NAMES.join(", ")
            );
            return ExitCode::FAILURE;
        };
        if let Err(e) = api.attach_registry_with(registry(), timeouts) {
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
        let limits = standalone::Limits {
            max_connections: args.max_connections as usize,
            log_requests: args.log == LogFormat::Json,
            ..standalone::Limits::default()
        };
        match standalone::serve_with(listener, api, limits, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("lc-mock: server error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

#[derive(clap::Args, Debug)]
struct ReplayArgs {
    /// A recordings file (JSON lines of exchanges and seeds; the format is in
    /// mock-server/RECORDINGS.md).
    file: PathBuf,
    /// Replay only this suite (repeat the option for several).
    #[arg(long = "suite", value_name = "NAME")]
    suites: Vec<String>,
    /// End standard output with one line of JSON: per suite its counts.
    #[arg(long)]
    json: bool,
    /// A JSON file of per-suite floors, e.g. {"Objects":{"l1":0.9}} (ratios of
    /// replayable exchanges); exit 1 when one is not met.
    #[arg(long, value_name = "FILE")]
    floors: Option<PathBuf>,
    /// Also list the exchanges that need pre-existing data, with the reasons.
    #[arg(long)]
    list_preexisting: bool,
    /// The built-in cloud code each fresh app runs (`none` for no cloud code). The
    /// default is the recorded app's (`conformance`), which the `hooks` and `AV.Cloud`
    /// exchanges need.
    #[arg(long, value_name = "NAME", default_value = "conformance")]
    cloud: String,
    /// A database-settings folder (one folder per class: schema.json, indexes.json,
    /// permissions.json; format in fixtures/database_settings/README.md) whose columns,
    /// indexes and permissions every fresh app gets before the case's seeds. Its
    /// population.json rows are NOT loaded: a case's data comes from its seed lines,
    /// which join the classes the settings describe. Its classes count as existing, so
    /// exchanges on them are scored.
    #[arg(long, value_name = "DIR")]
    settings: Option<PathBuf>,
}

/// `lc-mock replay`: the named cloud resolved, then the library's replay.
fn replay(args: ReplayArgs) -> ExitCode {
    let cloud = match args.cloud.as_str() {
        "none" => None,
        name => match clouds::named(name) {
            Some(registry) => Some(registry),
            None => {
                eprintln!(
                    "lc-mock replay: no built-in cloud named {name:?} (there are: {}, none)",
                    clouds::NAMES.join(", ")
                );
                return ExitCode::from(replay::EXIT_USAGE);
            }
        },
    };
    let options = ReplayOptions {
        file: args.file,
        suites: args.suites,
        json: args.json,
        floors: args.floors,
        list_preexisting: args.list_preexisting,
        cloud,
        settings: args.settings,
    };
    let code = replay::run(
        &options,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(code)
}

#[derive(clap::Args, Debug)]
struct RecordArgs {
    /// The API to forward to, e.g. https://<app>.api.lncldglobal.com or
    /// http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    upstream: String,
    /// Where clients reach the recorder.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// The recordings file; appended to (created when missing).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The suite of cases that do not name their own (`X-LC-Record-Suite`).
    #[arg(long, value_name = "NAME", default_value = "recorded")]
    suite: String,
    /// Start a new automatic case after this many quiet seconds (0: never).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    gap_secs: f64,
    /// The app's master key, for fetching pre-existing objects as seeds. Without it no
    /// seeds are written, and replay lists the exchanges that need them.
    #[arg(long, env = "LC_RECORD_MASTER_KEY", hide_env_values = true)]
    master_key: Option<String>,
    /// The app id for those fetches (default: the `X-LC-Id` clients send).
    #[arg(long, env = "LC_RECORD_APP_ID", hide_env_values = true)]
    app_id: Option<String>,
    /// How long the upstream may take to answer before the client gets 504.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    upstream_timeout_secs: u64,
    /// No line per exchange on standard error (the summary is still printed).
    #[arg(long)]
    quiet: bool,
}

/// `lc-mock record`: the arguments checked, then the library's recorder until Ctrl-C.
fn record(args: RecordArgs) -> ExitCode {
    let upstream = args.upstream.trim_end_matches('/');
    if !(upstream.starts_with("http://") || upstream.starts_with("https://")) {
        eprintln!(
            "lc-mock record: --upstream must be an http:// or https:// URL, not {:?}",
            args.upstream
        );
        return ExitCode::from(record::EXIT_USAGE);
    }
    if !(args.gap_secs.is_finite() && args.gap_secs >= 0.0) {
        eprintln!("lc-mock record: --gap-secs must be a number of seconds, 0 or more");
        return ExitCode::from(record::EXIT_USAGE);
    }
    let config = RecorderConfig {
        upstream: upstream.to_string(),
        suite: args.suite,
        gap: (args.gap_secs > 0.0).then(|| Duration::from_secs_f64(args.gap_secs)),
        master_key: args.master_key.filter(|k| !k.is_empty()),
        app_id: args.app_id.filter(|k| !k.is_empty()),
        upstream_timeout: Duration::from_secs(args.upstream_timeout_secs.max(1)),
        progress: !args.quiet,
    };
    ExitCode::from(record::run(config, args.listen, &args.out))
}

#[cfg(test)]
mod tests {
    use super::MI_OPTION_PURGE_DELAY;

    #[test]
    fn the_purge_delay_option_is_mimallocs() {
        // The purge delay's default is 10 ms in mimalloc v2 and 1000 ms in v3 (their
        // src/options.c); the options around it default to neither.
        // SAFETY: reading an option has no precondition.
        let delay = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert!([10, 1000].contains(&delay), "{delay}");
    }
}
