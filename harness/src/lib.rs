//! # harness
//!
//! What test code imports: one [`TestApp`] per test or scenario, on the target the
//! environment names, requests sent as a chosen caller ([`Caller`], `leancloud`'s), answers checked with
//! [`Answer::assert_error`], after-hooks waited for ([`TestApp::idle`],
//! [`eventually`]), what the run created deleted at the end ([`TestApp::cleanup`],
//! [`TestApp::leftovers`]), and the shared insta settings ([`redactions`]) that hide
//! generated values so snapshots are stable.
//!
//! # Which app, and where
//!
//! The harness knows no app. A crate that does describes it once with
//! [`TestApp::builder`] (its cloud code as a registry, its database settings, the engine
//! program the `stack` target runs; see [`Builder`]) and starts every `TestApp` from
//! that: the system suite's is `system::app()`, the app's own tests have theirs in
//! `cloud/tests/support`. [`Builder::start`] reads `LC_TARGET` unless
//! [`Builder::target`] names one:
//!
//! | `LC_TARGET` | what runs | requests | after-hooks ([`TestApp::idle`]) | [`TestApp::traces`] |
//! |---|---|---|---|---|
//! | `mock` (default) | the emulator in this process with the builder's registry on its settings; fresh per `TestApp` | in-process, no socket ([`Builder::over_http`]: over wiremock's HTTP front) | waited for in-process | the emulator's |
//! | `stack` | `lc-mock serve` and the builder's engine program as two processes on 127.0.0.1, wired by the real hook protocol (see below) | HTTP | `POST /__mock/idle` | `GET /__mock/traces` |
//! | `remote` | a deployed LeanCloud-compatible app (see `harness/README.md`: variables, profiles file, production guard) | HTTP | nothing to wait on: returns at once; use [`eventually`] | `None` |
//!
//! Requests go out as a chosen caller: raw with [`TestApp::send`], or typed with
//! [`TestApp::client`] (a [`leancloud::client::Client`] on the same route). An unknown
//! `LC_TARGET` stops the test with the list of targets. Mock-only steps use
//! [`TestApp::mock`] (an `Option`) or [`TestApp::emulator`] (panics elsewhere, naming the
//! target).
//!
//! ## The stack target
//!
//! The first `TestApp` of a test process builds both programs (`cargo build -p lc-mock
//! --bin lc-mock -p <package> --bin <engine>`, the engine the builder names, e.g. `-p
//! cloud --bin cloud-engine`, quietly; the executables are the ones cargo reports, so
//! `CARGO_TARGET_DIR` is respected; `LC_STACK_BIN_DIR=<dir>` takes `<dir>/lc-mock` and
//! `<dir>/<engine>` as they are). Then the engine starts with
//! `LEANCLOUD_APP_ID`/`_KEY`/`_MASTER_KEY`/`_HOOK_KEY`, `LEANCLOUD_APP_PORT=0` and
//! `LEANCLOUD_API_SERVER` pointing at a free port, and is ready when it answers `GET
//! /__engine/1/ping`; then `lc-mock serve --port <that port> --engine <engine URL>
//! --fixtures <settings>`, ready when it prints its URL. Each wait is bounded by
//! `LC_STACK_STARTUP_TIMEOUT` seconds (default 30) and fails naming the program with the
//! end of its stderr. Both processes stop when their owner is dropped and never outlive
//! the test process (a watchdog per process ends it when the test process ends, whatever
//! the way). Without an engine program the stack is `lc-mock serve` alone.
//!
//! `LC_STACK` chooses how stacks are shared:
//!
//! - `fresh` (default): every `TestApp` starts its own stack, so every test or scenario
//!   begins on the fixtures, exactly as on `mock`, and scenarios may run concurrently.
//!   Measured on the 2-core machine CI uses, with the programs built: 75 ms per stack
//!   one after another, 8 stacks started at once in 0.33 s (an in-process `mock` app:
//!   27 ms); the first stack of a process adds cargo's up-to-date check, about 0.2 s.
//! - `shared`: one stack per test process (and app description), started by the first
//!   `TestApp`; runs are kept apart by their prefix and cleanup only, as on a remote
//!   app. There is no reset between tests: `POST /__mock/reset` would wipe the data of
//!   tests running at the same time (the Gherkin runner runs 8 scenarios at once). Only
//!   tests written for a shared app pass there: a test that changes or counts the
//!   fixtures' rows sees the other tests' changes, as it would on a remote app.
//!
//! # A run's own data
//!
//! Every `TestApp` has a [`prefix`](TestApp::prefix) (`t` + 8 hex digits + `_`) for the
//! usernames, role names and other names it makes ([`TestApp::name`]), so that runs
//! sharing an app neither collide nor see each other's rows. Every object the run
//! creates through the `TestApp` is recorded: a `201` with an `objectId` to `POST
//! /1.1/classes/<C>`, `/1.1/users` or `/1.1/roles`, and such items of `/1.1/batch`.
//! Objects made another way (by a cloud function, say) can be added with
//! [`TestApp::track`]. [`TestApp::cleanup`] deletes them all with the master key, newest
//! first (so hooks see a consistent app: a review goes before its author), plus every
//! user and role whose name starts with the prefix; [`TestApp::leftovers`] lists what of
//! the run still exists. On a shared target (`remote`, `stack` with `LC_STACK=shared`)
//! dropping a `TestApp` that wrote anything runs the cleanup too, so a failing test
//! cleans up after itself; on `mock` and a fresh stack the whole app goes away instead.
//!
//! # Waiting for after-hooks
//!
//! After-hooks run after the answer. On `mock` and `stack` [`TestApp::idle`] waits until
//! every after-hook, and everything it caused, has finished. A deployed app has no such
//! call, so on `remote` `idle` is a documented no-op (it does not sleep): a check that
//! depends on an after-hook goes through [`eventually`], which polls it until it holds or
//! a deadline passes, and works on every target.
//!
//! # Keys
//!
//! Keys never appear in what this crate prints: [`RemoteConfig`]'s `Debug` and `Display`
//! show `[redacted]` ([`Secret`]), `TestApp`'s `Debug` shows the target, URL and prefix,
//! and no message or panic of this crate includes a key.

mod builder;
mod remote;
mod stack;
mod track;

pub use builder::{Builder, EngineProgram};
pub use leancloud::Caller;
pub use mock_server::api::faults::Fault;
pub use remote::{DEFAULT_PROFILE, PRODUCTION, RemoteConfig, Secret, vars};

use leancloud::client::Client;
use leancloud::error::code;
use leancloud::transport::HttpTransport;
use leancloud::{LcError, Request, Resource, Transport};
use mock_server::MockLeanCloud;
use serde_json::{Value, json};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use track::{Ledger, Tracking};

/// An HTTP answer: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The LeanCloud error this answer carries, if it is one.
    pub fn error(&self) -> Option<LcError> {
        if self.status < 400 {
            return None;
        }
        LcError::from_json(self.status, &self.body)
    }

    /// Panic, with the answer, unless it is the LeanCloud error `code` with exactly
    /// `message`.
    #[track_caller]
    pub fn assert_error(&self, code: i64, message: &str) {
        match self.error() {
            Some(e) if e.code == code && e.message == message => {}
            Some(e) => panic!(
                "expected LeanCloud error {code} {message:?}\n     got error {} {:?} (HTTP {})",
                e.code, e.message, self.status
            ),
            None => panic!(
                "expected LeanCloud error {code} {message:?}\n     got HTTP {} {}",
                self.status, self.body
            ),
        }
    }

    /// Panic, with the answer, unless it is a LeanCloud error with `code` (any message).
    #[track_caller]
    pub fn assert_error_code(&self, code: i64) {
        match self.error() {
            Some(e) if e.code == code => {}
            Some(e) => panic!(
                "expected LeanCloud error {code}\n     got error {} {:?} (HTTP {})",
                e.code, e.message, self.status
            ),
            None => panic!(
                "expected LeanCloud error {code}\n     got HTTP {} {}",
                self.status, self.body
            ),
        }
    }

    /// Panic, with the answer, unless its status is `status`.
    #[track_caller]
    pub fn assert_status(&self, status: u16) {
        assert!(
            self.status == status,
            "expected HTTP {status}\n     got HTTP {} {}",
            self.status,
            self.body
        );
    }

    /// The `objectId` of the answer; panics, with the answer, when there is none.
    #[track_caller]
    pub fn object_id(&self) -> String {
        match self.body["objectId"].as_str() {
            Some(id) => id.to_string(),
            None => panic!(
                "expected an answer with an objectId\n     got HTTP {} {}",
                self.status, self.body
            ),
        }
    }
}

/// Where tests run (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The in-process emulator.
    Mock,
    /// `lc-mock serve` and `cloud-engine` as processes.
    Stack,
    /// A deployed LeanCloud-compatible app.
    Remote,
}

impl Target {
    /// The target `LC_TARGET` names (unset or empty: `mock`).
    pub fn from_env() -> Result<Target, StartError> {
        Target::from_vars(|name| std::env::var(name).ok())
    }

    /// [`Target::from_env`] over any source of variables.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Target, StartError> {
        match var("LC_TARGET") {
            None => Ok(Target::Mock),
            Some(name) if name.trim().is_empty() => Ok(Target::Mock),
            Some(name) => Target::parse(&name),
        }
    }

    /// A target by name.
    pub fn parse(name: &str) -> Result<Target, StartError> {
        match name.trim() {
            "mock" => Ok(Target::Mock),
            "stack" => Ok(Target::Stack),
            "remote" => Ok(Target::Remote),
            other => Err(StartError::UnknownTarget(other.to_string())),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Target::Mock => "mock",
            Target::Stack => "stack",
            Target::Remote => "remote",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a target could not be started or reached. Its text never contains a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// `LC_TARGET` names no target.
    UnknownTarget(String),
    /// `LC_STACK` names no way of sharing stacks.
    UnknownStackMode(String),
    /// The remote settings are missing, wrong or refused (production).
    Config(String),
    /// The stack could not be built or started.
    Stack(String),
    /// The in-process emulator could not be set up.
    Mock(String),
    /// The remote app does not answer or refuses the keys.
    Unreachable(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::UnknownTarget(name) => write!(
                f,
                "LC_TARGET={name:?} is not a target; use `mock` (the default: the in-process \
                 emulator), `stack` (lc-mock serve and cloud-engine as processes) or `remote` \
                 (a deployed app: see harness/README.md)"
            ),
            StartError::UnknownStackMode(name) => write!(
                f,
                "LC_STACK={name:?} is not a way of sharing stacks; use `fresh` (the default: \
                 one stack per TestApp) or `shared` (one per test process)"
            ),
            StartError::Config(text) => write!(f, "LC_TARGET=remote: {text}"),
            StartError::Stack(text) => write!(f, "LC_TARGET=stack: {text}"),
            StartError::Mock(text) => write!(f, "LC_TARGET=mock: {text}"),
            StartError::Unreachable(text) => write!(f, "LC_TARGET=remote: {text}"),
        }
    }
}

impl std::error::Error for StartError {}

/// How stack targets are shared within a test process (`LC_STACK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackMode {
    /// One stack per `TestApp` (default).
    Fresh,
    /// One stack per test process.
    Shared,
}

impl StackMode {
    /// The mode `LC_STACK` names (unset or empty: `fresh`).
    pub fn from_env() -> Result<StackMode, StartError> {
        match std::env::var("LC_STACK").ok().as_deref().map(str::trim) {
            None | Some("") | Some("fresh") => Ok(StackMode::Fresh),
            Some("shared") => Ok(StackMode::Shared),
            Some(other) => Err(StartError::UnknownStackMode(other.to_string())),
        }
    }
}

/// One object of a run that still exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub class: String,
    pub object_id: String,
}

impl fmt::Display for Leftover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.class, self.object_id)
    }
}

/// The keys requests are sent with.
#[derive(Clone)]
struct Keys {
    app_id: String,
    app_key: Secret,
    master_key: Secret,
}

/// How a [`Wire`]'s requests reach the target.
#[derive(Clone)]
enum Route {
    /// Over HTTP to this base URL.
    Http(String),
    /// Straight into the emulator's api, without a socket (`mock`).
    InProcess(Arc<mock_server::Api>),
}

impl Route {
    fn transport(&self) -> Arc<dyn Transport> {
        match self {
            Route::Http(base_url) => Arc::new(HttpTransport::new(base_url)),
            Route::InProcess(api) => Arc::new(mock_server::api::InProcess(api.clone())),
        }
    }
}

/// How requests reach the target.
#[derive(Clone)]
struct Wire {
    base_url: String,
    route: Route,
    keys: Keys,
    /// The route's transport, recording what the run creates.
    transport: Arc<dyn Transport>,
    /// The recorder case requests are filed under ([`TestApp::record_case`]).
    case: Arc<Mutex<Option<String>>>,
}

impl Wire {
    fn new(base_url: &str, route: Route, keys: Keys, ledger: &Arc<Mutex<Ledger>>) -> Wire {
        Wire::in_case(base_url, route, keys, ledger, Arc::default())
    }

    fn in_case(
        base_url: &str,
        route: Route,
        keys: Keys,
        ledger: &Arc<Mutex<Ledger>>,
        case: Arc<Mutex<Option<String>>>,
    ) -> Wire {
        Wire {
            base_url: base_url.to_string(),
            keys,
            transport: Arc::new(InCase {
                inner: Arc::new(Tracking {
                    inner: route.transport(),
                    ledger: ledger.clone(),
                }),
                case: Arc::clone(&case),
            }),
            route,
            case,
        }
    }

    /// The same wire over a new transport, for use on another runtime (connections
    /// pooled by an HTTP client belong to the runtime that opened them).
    fn renewed(&self, ledger: &Arc<Mutex<Ledger>>) -> Wire {
        Wire::in_case(
            &self.base_url,
            self.route.clone(),
            self.keys.clone(),
            ledger,
            self.case.clone(),
        )
    }

    fn sign(&self, who: &Caller, request: Request) -> Request {
        let keys = &self.keys;
        who.sign(
            request,
            &leancloud::caller::Keys {
                app_id: &keys.app_id,
                app_key: keys.app_key.expose(),
                master_key: keys.master_key.expose(),
            },
        )
    }

    async fn exchange(&self, who: &Caller, request: Request) -> Result<Answer, LcError> {
        let response = self.transport.send(self.sign(who, request)).await?;
        Ok(Answer {
            status: response.status,
            body: response
                .body_json()
                .unwrap_or_else(|e| Value::String(e.message)),
        })
    }

    /// A master-key query of `class` (at most 1000 rows); none when the class does not
    /// exist.
    async fn find(&self, class: &str, r#where: &Value, keys: &str) -> Result<Vec<Value>, String> {
        let request = Request::new("GET", &Resource::collection(class).path())
            .with_query("where", r#where.to_string())
            .with_query("keys", keys)
            .with_query("limit", "1000");
        let answer = self
            .exchange(&Caller::Master, request)
            .await
            .map_err(|e| format!("querying {class}: {e}"))?;
        match answer.error() {
            None if answer.status == 200 => Ok(answer.body["results"]
                .as_array()
                .cloned()
                .unwrap_or_default()),
            Some(e) if e.code == code::OBJECT_NOT_FOUND => Ok(Vec::new()),
            _ => Err(format!(
                "querying {class} answered HTTP {} {}",
                answer.status, answer.body
            )),
        }
    }

    /// Users and roles whose name starts with `prefix`: (class, id).
    async fn prefixed(&self, prefix: &str) -> Result<Vec<(String, String)>, String> {
        let mut found = Vec::new();
        for (class, field) in [("_User", "username"), ("_Role", "name")] {
            let starts = json!({field: {"$regex": format!("^{prefix}")}});
            for row in self.find(class, &starts, field).await? {
                if let Some(id) = row["objectId"].as_str() {
                    found.push((class.to_string(), id.to_string()));
                }
            }
        }
        Ok(found)
    }

    /// Delete what `ledger` holds, newest first, then the prefix's users and roles.
    async fn cleanup(&self, ledger: &Mutex<Ledger>, prefix: &str) -> Result<usize, String> {
        let pending: Vec<(String, String)> = {
            let ledger = ledger.lock().unwrap_or_else(|e| e.into_inner());
            ledger.pending.iter().rev().cloned().collect()
        };
        let mut deleted = 0;
        let mut failed = Vec::new();
        let mut delete = async |class: &str, id: &str| -> Result<(), String> {
            let request = Request::new("DELETE", &Resource::object(class, id).path());
            let answer = self
                .exchange(&Caller::Master, request)
                .await
                .map_err(|e| format!("{class} {id}: {e}"))?;
            // 101: no such object; 211: no such user.
            let gone = answer.status == 404
                || answer.error().is_some_and(|e| {
                    e.code == code::OBJECT_NOT_FOUND || e.code == code::USER_NOT_FOUND
                });
            if answer.status == 200 || gone {
                ledger
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .deleted(class, id);
                if answer.status == 200 {
                    deleted += 1;
                }
                Ok(())
            } else {
                Err(format!(
                    "{class} {id}: HTTP {} {}",
                    answer.status, answer.body
                ))
            }
        };
        for (class, id) in &pending {
            if let Err(e) = delete(class, id).await {
                failed.push(e);
            }
        }
        match self.prefixed(prefix).await {
            Ok(found) => {
                for (class, id) in found {
                    if let Err(e) = delete(&class, &id).await {
                        failed.push(e);
                    }
                }
            }
            Err(e) => failed.push(e),
        }
        if failed.is_empty() {
            ledger.lock().unwrap_or_else(|e| e.into_inner()).wrote = false;
            Ok(deleted)
        } else {
            Err(format!(
                "the cleanup deleted {deleted} objects but not these:\n  {}",
                failed.join("\n  ")
            ))
        }
    }

    /// `POST /__mock/idle` (the stack's lc-mock).
    async fn mock_idle(&self) -> Result<(), String> {
        let answer = self
            .exchange(&Caller::Master, Request::new("POST", "/__mock/idle"))
            .await
            .map_err(|e| format!("POST /__mock/idle: {e}"))?;
        if answer.status == 200 {
            Ok(())
        } else {
            Err(format!(
                "after-hooks were still running when POST /__mock/idle gave up: HTTP {} {}",
                answer.status, answer.body
            ))
        }
    }
}

enum Backend {
    Mock(MockLeanCloud),
    Stack {
        stack: Arc<stack::Stack>,
        shared: bool,
    },
    Remote(RemoteConfig),
}

/// The header that names an `lc-mock record` case.
const RECORD_CASE_HEADER: &str = "x-lc-record-case";

/// Files every request under the recorder case of [`TestApp::record_case`], whether
/// [`TestApp::send`] or a [`TestApp::client`] sends it.
struct InCase {
    inner: Arc<dyn Transport>,
    case: Arc<Mutex<Option<String>>>,
}

impl Transport for InCase {
    fn send(
        &self,
        mut request: Request,
    ) -> futures::future::BoxFuture<'static, Result<leancloud::Response, LcError>> {
        let case = self.case.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(case) = case {
            request = request.with_header(RECORD_CASE_HEADER, case);
        }
        self.inner.send(request)
    }
}

/// A target for one test or scenario (see the crate docs).
pub struct TestApp {
    target: Target,
    backend: Backend,
    wire: Wire,
    prefix: String,
    ledger: Arc<Mutex<Ledger>>,
    started_in: Duration,
}

impl fmt::Debug for TestApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestApp")
            .field("target", &self.target)
            .field("uri", &self.wire.base_url)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// A new run prefix: `t` and 8 hex digits, then `_`.
fn new_prefix() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(now.as_nanos());
    }
    format!("t{:08x}_", hasher.finish() as u32)
}

/// Run `future` to its end on a runtime of its own, on another thread, from synchronous
/// code that may itself be running on a runtime.
fn block_on_own_runtime<T: Send>(future: impl Future<Output = T> + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime starts")
                    .block_on(future)
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

impl TestApp {
    /// Describe the app to start and where (see [`Builder`]): its cloud code, database
    /// settings and engine program, the target (default: `LC_TARGET`'s).
    pub fn builder() -> Builder {
        Builder::default()
    }

    fn assemble(
        target: Target,
        backend: Backend,
        base_url: &str,
        route: Route,
        keys: Keys,
        began: Instant,
    ) -> TestApp {
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        TestApp {
            target,
            backend,
            wire: Wire::new(base_url, route, keys, &ledger),
            prefix: new_prefix(),
            ledger,
            started_in: began.elapsed(),
        }
    }

    /// Connect to a deployed app. Checks that it answers and takes the master key
    /// (`GET /1.1/users?limit=0`), so wrong settings fail here, not in the first step.
    pub async fn connect(config: RemoteConfig) -> Result<TestApp, StartError> {
        let began = Instant::now();
        let keys = Keys {
            app_id: config.app_id.clone(),
            app_key: config.app_key.clone(),
            master_key: config.master_key.clone(),
        };
        let url = config.server_url.clone();
        let described = config.to_string();
        let route = Route::Http(url.clone());
        let app = TestApp::assemble(
            Target::Remote,
            Backend::Remote(config),
            &url,
            route,
            keys,
            began,
        );
        let probe = Request::from_target("GET", "/1.1/users?limit=0");
        match app.wire.exchange(&Caller::Master, probe).await {
            Ok(answer) if answer.status == 200 => Ok(app),
            Ok(answer) => Err(StartError::Unreachable(format!(
                "{described} refused the master key: HTTP {} {}",
                answer.status, answer.body
            ))),
            Err(e) => Err(StartError::Unreachable(format!(
                "{described} does not answer: {}",
                e.message
            ))),
        }
    }

    /// Which target this is.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The base URL requests go to.
    pub fn server_url(&self) -> &str {
        &self.wire.base_url
    }

    /// How long starting or connecting took. On `stack` the first `TestApp` of a process
    /// includes cargo's build (or up-to-date check); on a shared stack that is already
    /// running it is next to nothing.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The cloud engine's URL, on the `stack` target (for requests straight to it, as
    /// the hook protocol makes them).
    pub fn engine_url(&self) -> Option<&str> {
        match &self.backend {
            Backend::Stack { stack, .. } => stack.engine_url.as_deref(),
            _ => None,
        }
    }

    /// The remote settings, on the remote target (keys redacted when printed).
    pub fn remote_config(&self) -> Option<&RemoteConfig> {
        match &self.backend {
            Backend::Remote(config) => Some(config),
            _ => None,
        }
    }

    /// The in-process emulator, on the `mock` target only.
    pub fn mock(&self) -> Option<&MockLeanCloud> {
        match &self.backend {
            Backend::Mock(lc) => Some(lc),
            _ => None,
        }
    }

    /// The in-process emulator behind this app, for steps that only make sense there.
    ///
    /// # Panics
    /// On any other target, naming it; use [`TestApp::mock`] to branch instead.
    #[track_caller]
    pub fn emulator(&self) -> &MockLeanCloud {
        match &self.backend {
            Backend::Mock(lc) => lc,
            _ => panic!(
                "this needs the in-process emulator (LC_TARGET=mock), but the target is {}",
                self.target
            ),
        }
    }

    /// This run's name prefix, e.g. `t3fa90c1b_`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `base` under this run's prefix: the name to give a user, role or other named
    /// thing the run creates.
    pub fn name(&self, base: &str) -> String {
        format!("{}{base}", self.prefix)
    }

    /// Record an object the run caused to exist without creating it through
    /// [`TestApp::send`] (e.g. made by a cloud function), so that the cleanup deletes it.
    pub fn track(&self, class: &str, object_id: &str) {
        self.ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .created(class, object_id);
    }

    /// The objects the run created and has not deleted, oldest first: (class, id).
    pub fn tracked(&self) -> Vec<(String, String)> {
        self.ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pending
            .clone()
    }

    /// File this app's requests from now on under the test case `name` of an
    /// `lc-mock record` proxy standing in front of the target (header
    /// `X-LC-Record-Case`; the proxy takes it out, and the emulator ignores it). The
    /// Gherkin runner names each scenario's case `<feature>: <scenario>`.
    pub fn record_case(&self, name: &str) {
        const KEEP: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'%');
        let encoded = percent_encoding::utf8_percent_encode(name, KEEP).to_string();
        *self.wire.case.lock().unwrap_or_else(|e| e.into_inner()) = Some(encoded);
    }

    /// A typed REST client ([`leancloud::client::Client`]) sending as `who`, over the
    /// same way as [`TestApp::send`] (in-process on `mock`), so what it creates is
    /// tracked for the cleanup. It knows the master key (`client.as_master()`), whoever
    /// it sends as.
    ///
    /// # Panics
    /// For [`Caller::Nobody`]: a client always sends the app's keys; send keyless requests
    /// with [`TestApp::send`].
    #[track_caller]
    pub fn client(&self, who: &Caller) -> Client {
        let keys = &self.wire.keys;
        let client = Client::new(
            self.wire.transport.clone(),
            &keys.app_id,
            keys.app_key.expose(),
        )
        .with_master_key(keys.master_key.expose());
        if *who == Caller::Nobody {
            panic!(
                "a Client always sends the app's keys; send keyless requests with \
                 TestApp::send(&Caller::Nobody, ..)"
            );
        }
        client.as_caller(who)
    }

    /// Send `method target` (a path with an optional `?query`) with a JSON body.
    pub async fn send(
        &self,
        who: &Caller,
        method: &str,
        target: &str,
        body: Option<&Value>,
    ) -> Answer {
        let mut request = Request::from_target(method, target);
        if let Some(body) = body {
            request = request.with_json(body);
        }
        self.request(who, request).await
    }

    /// Send a prepared request (e.g. with query parameters added by
    /// [`Request::with_query`], which encodes them) as `who`.
    pub async fn request(&self, who: &Caller, request: Request) -> Answer {
        let line = format!("{} {}", request.method, request.target());
        self.wire
            .exchange(who, request)
            .await
            .unwrap_or_else(|e| panic!("the target did not answer {line}: {}", e.message))
    }

    /// Arm a fault in the hook chain or storage (`mock_server::api::faults`): a hook or
    /// function that fails, answers late, hangs or is unreachable, or a class's writes
    /// that fail. On `mock` and `stack` (through `POST /__mock/faults`); a deployed app
    /// cannot be bent, so on `remote` it is an error the caller shows (a step skips).
    pub async fn fault(&self, fault: &mock_server::api::faults::Fault) -> Result<Value, String> {
        if let Backend::Remote(_) = &self.backend {
            return Err(format!(
                "faults need the emulator (LC_TARGET=mock or stack), not {}",
                self.target
            ));
        }
        let answer = self
            .send(
                &Caller::Master,
                "POST",
                "/__mock/faults",
                Some(&fault.to_json()),
            )
            .await;
        if answer.status == 200 {
            Ok(answer.body)
        } else {
            Err(format!(
                "POST /__mock/faults answered HTTP {} {}",
                answer.status, answer.body
            ))
        }
    }

    /// Wait until every after-hook the target is running has finished (and everything
    /// they caused). On `remote` this returns at once: a deployed app cannot say, so
    /// checks that depend on after-hooks use [`eventually`].
    pub async fn idle(&self) {
        match &self.backend {
            Backend::Mock(lc) => lc.idle().await,
            Backend::Stack { .. } => {
                if let Err(e) = self.wire.mock_idle().await {
                    panic!("{e}");
                }
            }
            Backend::Remote(_) => {}
        }
    }

    /// The traces of the last requests (what each ran: hooks, their input and output,
    /// nested requests), when the target keeps them: the emulator's on `mock`, `GET
    /// /__mock/traces` on `stack` (a shared stack's include other tests' requests),
    /// `None` on `remote`.
    pub fn traces(&self) -> Option<Vec<Value>> {
        match &self.backend {
            Backend::Mock(lc) => Some(lc.traces()),
            Backend::Stack { .. } => {
                let wire = self.wire.renewed(&self.ledger);
                let answer = block_on_own_runtime(async move {
                    wire.exchange(&Caller::Master, Request::new("GET", "/__mock/traces"))
                        .await
                });
                match answer {
                    Ok(answer) if answer.status == 200 => Some(
                        answer.body["results"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default(),
                    ),
                    Ok(answer) => panic!(
                        "GET /__mock/traces answered HTTP {} {}",
                        answer.status, answer.body
                    ),
                    Err(e) => panic!("GET /__mock/traces: {}", e.message),
                }
            }
            Backend::Remote(_) => None,
        }
    }

    /// Delete everything the run created (see the crate docs) with the master key; the
    /// number of objects deleted. On `mock` and `stack` it then waits for the after-hooks
    /// the deletes fired. An error lists what could not be deleted; those stay recorded,
    /// so a later cleanup tries them again.
    pub async fn cleanup(&self) -> Result<usize, String> {
        let deleted = self.wire.cleanup(&self.ledger, &self.prefix).await;
        match &self.backend {
            Backend::Mock(lc) => lc.idle().await,
            Backend::Stack { .. } => self.wire.mock_idle().await?,
            Backend::Remote(_) => {}
        }
        deleted
    }

    /// What of the run still exists: every object it created (deleted or not, it is
    /// looked up) and every user and role under its prefix. Panics when the target
    /// cannot be asked.
    pub async fn leftovers(&self) -> Vec<Leftover> {
        let all: Vec<(String, String)> = self
            .ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .all
            .clone();
        let mut classes: Vec<&str> = Vec::new();
        for (class, _) in &all {
            if !classes.contains(&class.as_str()) {
                classes.push(class);
            }
        }
        let mut left = Vec::new();
        for class in classes {
            let ids: Vec<&str> = all
                .iter()
                .filter(|(c, _)| c == class)
                .map(|(_, id)| id.as_str())
                .collect();
            for chunk in ids.chunks(100) {
                let rows = self
                    .wire
                    .find(class, &json!({"objectId": {"$in": chunk}}), "objectId")
                    .await
                    .unwrap_or_else(|e| panic!("counting leftovers: {e}"));
                for row in rows {
                    if let Some(id) = row["objectId"].as_str() {
                        left.push(Leftover {
                            class: class.to_string(),
                            object_id: id.to_string(),
                        });
                    }
                }
            }
        }
        let prefixed = self
            .wire
            .prefixed(&self.prefix)
            .await
            .unwrap_or_else(|e| panic!("counting leftovers: {e}"));
        for (class, object_id) in prefixed {
            let item = Leftover { class, object_id };
            if !left.contains(&item) {
                left.push(item);
            }
        }
        left
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let shared = match &self.backend {
            Backend::Remote(_) => true,
            Backend::Stack { shared, .. } => *shared,
            Backend::Mock(_) => false,
        };
        let wrote = self.ledger.lock().unwrap_or_else(|e| e.into_inner()).wrote;
        if !shared || !wrote {
            return;
        }
        // The test's own runtime may be the one this drop blocks, so the cleanup runs on
        // a runtime and an HTTP client of its own. It never panics: this may run while a
        // failed test unwinds.
        let wire = self.wire.renewed(&self.ledger);
        let ledger = self.ledger.clone();
        let prefix = self.prefix.clone();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            block_on_own_runtime(async move { wire.cleanup(&ledger, &prefix).await })
        }));
        match outcome {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("harness: cleanup of run {}: {e}", self.prefix),
            Err(_) => eprintln!("harness: cleanup of run {} failed", self.prefix),
        }
    }
}

/// Poll `check` until it answers `Ok`, at growing intervals (from 20 ms up to 500 ms),
/// and return its value; panic once `timeout` has passed, with the last `Err` it gave.
/// For checks that depend on after-hooks on a target without [`TestApp::idle`]:
///
/// ```no_run
/// # async fn example(app: &harness::TestApp) {
/// use harness::Caller;
/// use std::time::Duration;
///
/// let path = "/1.1/classes/Business/65cba6a06c63004400000005";
/// let count = harness::eventually(Duration::from_secs(10), || async {
///     let business = app.send(&Caller::Master, "GET", path, None).await;
///     match business.body["ratingCount"].as_i64() {
///         Some(n) if n > 0 => Ok(n),
///         other => Err(format!("ratingCount is {other:?}, expected more than 0")),
///     }
/// })
/// .await;
/// assert!(count > 0);
/// # }
/// ```
pub async fn eventually<T, E, F, Fut>(timeout: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: fmt::Display,
{
    match try_eventually(timeout, check).await {
        Ok(value) => value,
        Err(e) => panic!("{e}"),
    }
}

/// [`eventually`], with the timeout as an error: `still not so after <timeout> (<n>
/// tries): <last Err>`.
pub async fn try_eventually<T, E, F, Fut>(timeout: Duration, mut check: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: fmt::Display,
{
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(20);
    let mut tries = 0u32;
    loop {
        tries += 1;
        let last = match check().await {
            Ok(value) => return Ok(value),
            Err(e) => e.to_string(),
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(format!(
                "still not so after {timeout:?} ({tries} tries): {last}"
            ));
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

/// Shared insta settings: generated values are replaced by placeholders and maps are
/// sorted, so the same behaviour gives the same snapshot on every target.
pub fn redactions() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_sort_maps(true);
    s.add_redaction(".**.objectId", "[objectId]");
    s.add_redaction(".**.createdAt", "[date]");
    s.add_redaction(".**.updatedAt", "[date]");
    s.add_redaction(".**.sessionToken", "[token]");
    s.add_redaction(".**.iso", "[date]");
    // Traces: how long a hook took, and object ids inside request lines.
    s.add_redaction(".**.duration_us", "[us]");
    s.add_redaction(
        ".**.request",
        insta::dynamic_redaction(|value, _path| match value.as_str() {
            Some(line) => insta::internals::Content::from(redact_ids(line)),
            None => value,
        }),
    );
    // Run prefixes in any string (usernames, names), so runs snapshot alike.
    s.add_redaction(
        ".**",
        insta::dynamic_redaction(|value, _path| redact_content(value)),
    );
    s
}

/// `value` with [`redact_prefixes`] applied to every string in it.
fn redact_content(value: insta::internals::Content) -> insta::internals::Content {
    use insta::internals::Content;
    match value {
        Content::String(s) => Content::String(redact_prefixes(&s)),
        Content::Seq(items) => Content::Seq(items.into_iter().map(redact_content).collect()),
        Content::Map(entries) => Content::Map(
            entries
                .into_iter()
                .map(|(k, v)| (redact_content(k), redact_content(v)))
                .collect(),
        ),
        other => other,
    }
}

/// `text` with every object id (24 lowercase hex digits) replaced by `[objectId]`.
pub fn redact_ids(text: &str) -> String {
    static ID: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let id = ID.get_or_init(|| regex::Regex::new(r"\b[0-9a-f]{24}\b").expect("a valid regex"));
    id.replace_all(text, "[objectId]").into_owned()
}

/// `text` with every run prefix ([`TestApp::prefix`]) replaced by `[prefix]_`.
pub fn redact_prefixes(text: &str) -> String {
    static PREFIX: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let prefix =
        PREFIX.get_or_init(|| regex::Regex::new(r"\bt[0-9a-f]{8}_").expect("a valid regex"));
    prefix.replace_all(text, "[prefix]_").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_test_app_answers_as_each_caller() {
        let app = TestApp::builder().target(Target::Mock).start().await;
        let created = app
            .send(
                &Caller::Anonymous,
                "POST",
                "/1.1/classes/Note",
                Some(&json!({"text": "hi"})),
            )
            .await;
        assert_eq!(created.status, 201);
        let denied = app
            .send(&Caller::Nobody, "GET", "/1.1/classes/Note", None)
            .await;
        assert_eq!(
            denied.error(),
            Some(LcError::unauthorized()),
            "no keys: {denied:?}"
        );
        denied.assert_error(code::UNAUTHORIZED, "Unauthorized.");
        let reset = app
            .send(&Caller::Master, "POST", "/__mock/reset", None)
            .await;
        assert_eq!(reset.status, 200);
    }

    #[test]
    fn redactions_hide_generated_values() {
        let value = json!({"objectId": "5d8307fd17b54d0068f1aa87", "n": 1,
            "nested": {"createdAt": "2019-09-19T04:45:49.090Z", "sessionToken": "abc"},
            "users": [{"username": "t0a1b2c3d_anna"}, {"username": "anna.schmidt"}]});
        redactions().bind(|| {
            insta::assert_json_snapshot!(value, @r#"
            {
              "n": 1,
              "nested": {
                "createdAt": "[date]",
                "sessionToken": "[token]"
              },
              "objectId": "[objectId]",
              "users": [
                {
                  "username": "[prefix]_anna"
                },
                {
                  "username": "anna.schmidt"
                }
              ]
            }
            "#);
        });
    }

    #[test]
    fn prefixes_are_fresh_and_redactable() {
        let a = new_prefix();
        let b = new_prefix();
        assert_ne!(a, b);
        assert_eq!(a.len(), 10, "{a}");
        assert_eq!(redact_prefixes(&format!("{a}anna")), "[prefix]_anna");
        assert_eq!(redact_prefixes("t0123456789_x"), "t0123456789_x");
    }

    #[test]
    fn test_apps_can_live_in_a_world() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<TestApp>();
    }
}
