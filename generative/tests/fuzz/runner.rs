//! Running one case: the apps, the ids and tokens placeholders resolve to, each step
//! sent in-process and checked.

use crate::check::{self, Binding, Problem, Property};
use crate::faults::Faulty;
use crate::fingerprint;
use generative::fuzz::{App, Case, Resolve, Step, Target, expand, truncate};
use leancloud::engine::{Engine, EngineConfig};
use leancloud::{Request, Response};
use mock_server::api::cloud::HookTimeouts;
use mock_server::api::{Api, AppConfig, InProcess};
use mock_server::settings::Settings;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The stack of the thread each case runs on: what a tokio worker (`lc-mock serve`'s
/// request threads) and a test thread get. A request that overflows it aborts the test
/// process, which is how a stack overflow shows up (see the suite's docs).
pub const CASE_STACK_BYTES: usize = 2 * 1024 * 1024;

/// How long after-hooks may take to finish after a step before the case fails.
const IDLE_WAIT: Duration = Duration::from_secs(30);

/// One app under test, with an engine serving the app's registry as the platform would
/// call it (its storage calls come back to the app in-process).
pub struct Subject {
    pub api: Arc<Api>,
    pub engine: Engine,
}

impl Subject {
    pub fn new(api: Arc<Api>) -> Subject {
        Subject {
            engine: engine_for(&api),
            api,
        }
    }
}

/// The apps, made once per process and reset before each case.
pub struct Apps {
    pub plain: Subject,
    pub cloud: Subject,
    pub faulty: Subject,
    faults: Arc<Faulty>,
}

fn fixtures() -> Settings {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/database_settings");
    Settings::load(&dir).expect("the app's fixtures load")
}

fn engine_for(api: &Arc<Api>) -> Engine {
    let cfg = api.config();
    let config = EngineConfig::new(
        cfg.app_id.clone(),
        cfg.app_key.clone(),
        cfg.master_key.clone(),
    )
    .with_hook_key(cfg.hook_key.clone())
    .with_storage_transport(Arc::new(InProcess(api.clone())));
    Engine::new(cloud::registry(), config)
}

impl Apps {
    pub fn get() -> &'static Apps {
        static APPS: OnceLock<Apps> = OnceLock::new();
        APPS.get_or_init(|| {
            let settings = fixtures();
            let plain = Arc::new(
                Api::with_settings(AppConfig::default(), &settings).expect("fixtures apply"),
            );
            let cloud = Arc::new(
                Api::with_settings(AppConfig::default(), &settings).expect("fixtures apply"),
            );
            cloud
                .attach_registry(cloud::registry())
                .expect("the cloud code attaches");
            let faulty = Arc::new(
                Api::with_settings(AppConfig::default(), &settings).expect("fixtures apply"),
            );
            let faults = Arc::new(Faulty {
                engine: engine_for(&faulty),
                case: AtomicU32::new(0),
            });
            faulty
                .attach_cloud_with(faults.clone(), HookTimeouts::default())
                .expect("the faulty engine attaches");
            Apps {
                plain: Subject::new(plain),
                cloud: Subject::new(cloud),
                faulty: Subject::new(faulty),
                faults,
            }
        })
    }

    /// The app a case runs on (for `App::Faulty`, its faults set for the case).
    pub fn of(&self, app: App) -> &Subject {
        match app {
            App::Plain => &self.plain,
            App::Cloud => &self.cloud,
            App::Faulty(n) => {
                self.faults.case.store(n, Ordering::SeqCst);
                &self.faulty
            }
        }
    }
}

/// What placeholders resolve to, read from the store (see `generative::fuzz`).
struct Pool {
    config: AppConfig,
    by_class: BTreeMap<String, Vec<String>>,
    all: Vec<String>,
    /// `(id, username)`
    users: Vec<(String, String)>,
    /// `(user id, token)`, by user.
    sessions: Vec<(String, String)>,
}

impl Pool {
    fn of(api: &Api) -> Pool {
        let store = api.store();
        let mut by_class = BTreeMap::new();
        for (class, data) in &store.classes {
            by_class.insert(
                class.clone(),
                data.objects
                    .keys()
                    .map(|id| id.to_string())
                    .collect::<Vec<_>>(),
            );
        }
        let all = by_class.values().flatten().cloned().collect();
        let users = store
            .class("_User")
            .map(|c| {
                c.objects
                    .values()
                    .map(|o| {
                        let name = o
                            .val("username")
                            .and_then(|v| v.as_str())
                            .unwrap_or("nobody");
                        (o.id.to_string(), name.to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut sessions: Vec<(String, String)> = store
            .sessions
            .iter()
            .map(|(t, u)| (u.clone(), t.clone()))
            .collect();
        sessions.sort();
        Pool {
            config: api.config().clone(),
            by_class,
            all,
            users,
            sessions,
        }
    }

    /// What traces must never hold: the session tokens, and the passwords of the users
    /// who hold one (they signed up or logged in with it; passwords are
    /// `<username>-pass`, as in the fixtures and generated sign-ups).
    fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = self.sessions.iter().map(|(_, t)| t.clone()).collect();
        for (user, _) in &self.sessions {
            if let Some((_, name)) = self.users.iter().find(|(id, _)| id == user) {
                out.push(format!("{name}-pass"));
            }
        }
        out
    }
}

fn pick<'a, T>(items: &'a [T], n: &str) -> Option<&'a T> {
    let n: usize = n.parse().ok()?;
    (!items.is_empty()).then(|| &items[n % items.len()])
}

impl Resolve for Pool {
    fn resolve(&self, kind: &str, args: &[&str]) -> Option<String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let cfg = &self.config;
        let none = || "000000000000000000000000".to_string();
        Some(match (kind, args) {
            ("id", []) => cfg.app_id.clone(),
            ("key", []) => cfg.app_key.clone(),
            ("master", []) => cfg.master_key.clone(),
            ("hook", []) => cfg.hook_key.clone(),
            ("sign", ["app"]) => leancloud::sign::header_value(&cfg.app_key, now, false),
            ("sign", ["master"]) => leancloud::sign::header_value(&cfg.master_key, now, true),
            ("sign", ["wrong"]) => leancloud::sign::header_value("wrong-key", now, false),
            ("obj", ["*", n]) => pick(&self.all, n).cloned().unwrap_or_else(none),
            ("obj", [class, n]) => self
                .by_class
                .get(*class)
                .and_then(|ids| pick(ids, n))
                .cloned()
                .unwrap_or_else(none),
            ("user", [n]) => pick(&self.users, n)
                .map(|u| u.0.clone())
                .unwrap_or_else(none),
            ("name", [n]) => pick(&self.users, n)
                .map(|u| u.1.clone())
                .unwrap_or_default(),
            ("pass", [n]) => pick(&self.users, n)
                .map(|u| format!("{}-pass", u.1))
                .unwrap_or_default(),
            ("token", [n]) => pick(&self.sessions, n)
                .map(|s| s.1.clone())
                .unwrap_or_else(|| "r:no-session-yet".into()),
            _ => return None,
        })
    }
}

/// The request a step sends, placeholders resolved.
fn request(step: &Step, pool: &Pool) -> Request {
    Request {
        method: step.method.clone(),
        path: expand(&step.path, pool),
        query: step
            .query
            .iter()
            .map(|(k, v)| (k.clone(), expand(v, pool)))
            .collect(),
        headers: step
            .headers
            .iter()
            .map(|(k, v)| (k.clone().into(), expand(v, pool).into()))
            .collect(),
        body: step.body.render(pool),
    }
}

/// Panics seen on the threads that run cases and cloud code, since the last look.
pub struct Panics {
    count: AtomicU64,
    last: Mutex<Option<String>>,
}

impl Panics {
    /// Install the hook (once): panics on a case's thread or the cloud-code runtime are
    /// counted and kept quiet (the case reports them); any other thread's go to the
    /// default hook.
    pub fn get() -> &'static Panics {
        static PANICS: OnceLock<Panics> = OnceLock::new();
        PANICS.get_or_init(|| {
            let default = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let thread = std::thread::current();
                let name = thread.name().unwrap_or_default();
                if name.starts_with("fuzz-case") || name.starts_with("lc-mock-cloud") {
                    let p = Panics::get();
                    p.count.fetch_add(1, Ordering::SeqCst);
                    *p.last.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(format!("{info} (thread {name})"));
                } else {
                    default(info);
                }
            }));
            Panics {
                count: AtomicU64::new(0),
                last: Mutex::new(None),
            }
        })
    }

    fn count(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    fn last(&self) -> String {
        self.last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_default()
    }
}

/// Figures of a run.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub cases: u64,
    pub cloud_cases: u64,
    pub faulty_cases: u64,
    pub api_requests: u64,
    pub engine_requests: u64,
    pub statuses: [u64; 6],
    pub refused: u64,
    pub reads: u64,
    pub batches_all_failed: u64,
    pub exempt: u64,
    pub written_by_cloud_code: u64,
    pub slowest: Option<(Duration, String)>,
    /// Open finding -> (times, an example).
    pub known: BTreeMap<u32, (u64, String)>,
    /// `METHOD pattern` of the route a request reached (or `engine`, `no route`) ->
    /// answers by status class (1xx..5xx).
    pub routes: BTreeMap<String, [u64; 6]>,
}

impl Stats {
    pub fn requests(&self) -> u64 {
        self.api_requests + self.engine_requests
    }

    pub fn merge(&mut self, other: &Stats) {
        self.cases += other.cases;
        self.cloud_cases += other.cloud_cases;
        self.faulty_cases += other.faulty_cases;
        self.api_requests += other.api_requests;
        self.engine_requests += other.engine_requests;
        for (a, b) in self.statuses.iter_mut().zip(other.statuses) {
            *a += b;
        }
        self.refused += other.refused;
        self.reads += other.reads;
        self.batches_all_failed += other.batches_all_failed;
        self.exempt += other.exempt;
        self.written_by_cloud_code += other.written_by_cloud_code;
        if let Some((t, s)) = &other.slowest
            && self.slowest.as_ref().is_none_or(|(mine, _)| t > mine)
        {
            self.slowest = Some((*t, s.clone()));
        }
        for (f, (n, example)) in &other.known {
            let entry = self.known.entry(*f).or_insert((0, example.clone()));
            entry.0 += n;
        }
        for (route, counts) in &other.routes {
            let mine = self.routes.entry(route.clone()).or_default();
            for (a, b) in mine.iter_mut().zip(counts) {
                *a += b;
            }
        }
    }

    fn known(&mut self, problem: &Problem, at: &str) {
        if let Some(f) = problem.finding {
            let entry = self
                .known
                .entry(f)
                .or_insert((0, format!("{at}: {}", problem.detail)));
            entry.0 += 1;
        }
    }
}

/// A case that broke a property: at which step, and how.
#[derive(Debug, Clone)]
pub struct Failure {
    pub step: usize,
    pub problem: Problem,
    pub request: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "step {} ({}): {:?}: {}",
            self.step, self.request, self.problem.property, self.problem.detail
        )
    }
}

fn send(
    target: &Subject,
    step: &Step,
    req: &Request,
    runtime: &mut Option<tokio::runtime::Runtime>,
) -> Response {
    match step.to {
        Target::Api => target.api.handle(req),
        Target::Engine => {
            let rt = runtime.get_or_insert_with(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for engine calls")
            });
            rt.block_on(target.engine.handle(req.clone(), None))
        }
    }
}

/// Which route a request reached, for the figures: `METHOD pattern` from the routes
/// table, else `no route`; engine calls by their first segments.
fn route_of(target: Target, req: &Request) -> String {
    if target == Target::Engine {
        let head: Vec<&str> = req.path.split('/').take(4).collect();
        return format!("engine {} {}", req.method, head.join("/"));
    }
    let path = req.path.strip_suffix('/').unwrap_or(&req.path);
    let segments: Vec<&str> = path.split('/').collect();
    mock_server::api::routes::ROUTES
        .iter()
        .find(|(method, pattern, _)| {
            let pat: Vec<&str> = pattern.split('/').collect();
            *method == req.method
                && pat.len() == segments.len()
                && pat
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p == s || (p.starts_with(':') && !s.is_empty()))
        })
        .map_or_else(|| "no route".to_string(), |(m, p, _)| format!("{m} {p}"))
}

/// The request every case ends with: the app must still answer it.
/// (`_User`, which every app has; with the master key, since the fixtures close its
/// `find` to clients.)
fn plain_find(api: &Api) -> Result<(), String> {
    let cfg = api.config();
    let req = Request::from_target("GET", "/1.1/classes/_User?limit=1")
        .with_header("x-lc-id", &cfg.app_id)
        .with_header("x-lc-key", format!("{},master", cfg.master_key));
    let resp = api.handle(&req);
    let fine = resp.status == 200
        && resp
            .body_json()
            .is_ok_and(|b| b.get("results").is_some_and(|r| r.is_array()));
    fine.then_some(()).ok_or_else(|| {
        format!(
            "{} {}",
            resp.status,
            truncate(&String::from_utf8_lossy(&resp.body), 200)
        )
    })
}

/// Run `case` on this thread; the first problem not attributed to an open finding (or
/// attributed to `strict`, the finding a corpus case reproduces) ends it. `stats` gets
/// its figures either way.
pub fn run_case(
    apps: &Apps,
    case: &Case,
    stats: &mut Stats,
    strict: Option<u32>,
) -> Result<(), Failure> {
    run_case_on(apps.of(case.app), case, stats, strict)
}

/// [`run_case`] on a given app (`case.app` only says whether it has cloud code).
pub fn run_case_on(
    target: &Subject,
    case: &Case,
    stats: &mut Stats,
    strict: Option<u32>,
) -> Result<(), Failure> {
    let excused = |p: &Problem| p.finding.is_some() && p.finding != strict;
    let api = &target.api;
    let panics = Panics::get();
    api.idle_blocking(IDLE_WAIT);
    api.reset();
    api.clear_traces();
    stats.cases += 1;
    match case.app {
        App::Plain => {}
        App::Cloud => stats.cloud_cases += 1,
        App::Faulty(_) => stats.faulty_cases += 1,
    }
    let mut pool = Pool::of(api);
    let mut print = fingerprint::of(&api.store());
    let mut runtime = None;
    let plain_app = case.app == App::Plain;
    for (i, step) in case.steps.iter().enumerate() {
        let req = request(step, &pool);
        let shown = step.summary();
        let fail = |problem: Problem| Failure {
            step: i,
            problem,
            request: shown.clone(),
        };
        let panics_before = panics.count();
        in_flight(Some(format!("step {i}: {shown}")));
        let started = Instant::now();
        let answered =
            std::panic::catch_unwind(AssertUnwindSafe(|| send(target, step, &req, &mut runtime)));
        let took = started.elapsed();
        in_flight(None);
        match step.to {
            Target::Api => stats.api_requests += 1,
            Target::Engine => stats.engine_requests += 1,
        }
        if stats.slowest.as_ref().is_none_or(|(t, _)| took > *t) {
            stats.slowest = Some((took, shown.clone()));
        }
        let resp = match answered {
            Ok(resp) => resp,
            Err(_) => return Err(fail(Problem::new(Property::Panic, panics.last()))),
        };
        if !api.idle_blocking(IDLE_WAIT) {
            return Err(fail(Problem::new(
                Property::NotIdle,
                format!("after-hooks still running after {IDLE_WAIT:?}"),
            )));
        }
        if panics.count() != panics_before {
            return Err(fail(Problem::new(Property::Panic, panics.last())));
        }
        let class = usize::from(resp.status / 100).min(5);
        stats.statuses[class] += 1;
        stats.routes.entry(route_of(step.to, &req)).or_default()[class] += 1;
        for problem in check::answer(step.to, plain_app, &req, &resp) {
            if !excused(&problem) {
                return Err(fail(problem));
            }
            stats.known(&problem, &shown);
        }
        let binding = check::binding(step.to, &req, &resp);
        let after = fingerprint::of(&api.store());
        let held = match binding {
            Binding::Accepted => false,
            Binding::Exempt => {
                stats.exempt += 1;
                false
            }
            Binding::Read => {
                stats.reads += 1;
                true
            }
            Binding::Refused => {
                stats.refused += 1;
                if resp.status < 400 {
                    stats.batches_all_failed += 1;
                }
                true
            }
        };
        if held && after != print {
            let line = format!("{} {}", req.method, req.path);
            let wrote = check::cloud_code_wrote(&api.traces(), &line);
            if step.to == Target::Api && wrote {
                stats.written_by_cloud_code += 1;
            } else {
                let diff = after.diff(&print, &api.store());
                let answer = truncate(&String::from_utf8_lossy(&resp.body), 200);
                return Err(fail(Problem::new(
                    Property::StoreChanged,
                    format!("answered {} {answer}, yet {diff}", resp.status),
                )));
            }
        }
        if after != print {
            pool = Pool::of(api);
            print = after;
        }
    }
    let end = |problem: Problem| Failure {
        step: case.steps.len(),
        problem,
        request: "after the case".into(),
    };
    plain_find(api).map_err(|e| end(Problem::new(Property::NoAnswer, e)))?;
    // Rendering the traces costs: only when there is a secret to look for.
    let secrets = pool.secrets();
    let traces = if secrets.is_empty() {
        String::new()
    } else {
        serde_json::to_string(&api.traces()).unwrap_or_default()
    };
    if let Some(secret) = secrets.into_iter().find(|s| traces.contains(s.as_str())) {
        let problem = Problem {
            property: Property::SecretInTraces,
            detail: format!("the traces hold {}", truncate(&secret, 12)),
            finding: generative::fuzz::is_open(3).then_some(3),
        };
        if !excused(&problem) {
            return Err(end(problem));
        }
        stats.known(&problem, "traces");
    }
    Ok(())
}

/// A regression case as kept in `fuzz-corpus/`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Kept {
    /// What the case shows.
    pub note: String,
    /// The open finding of issue 13 it reproduces, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<u32>,
    pub case: Case,
}

/// Where each case is written (in the corpus format) before it runs: after an abort
/// (a stack overflow), it holds the case that caused it.
pub fn running_case_file() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-running-case.json")
}

/// The request in flight, for the watchdog.
struct InFlight {
    since: Instant,
    what: String,
    told: bool,
}

static IN_FLIGHT: Mutex<Option<InFlight>> = Mutex::new(None);

fn in_flight(what: Option<String>) {
    *IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner()) = what.map(|what| InFlight {
        since: Instant::now(),
        what,
        told: false,
    });
}

/// Start (once) a thread that says when one request has run longer than `limit`: a
/// stall is then visible in the log before an outer `timeout` kills the run. It fails
/// nothing (speed is not a property here).
pub fn watchdog(limit: Duration) {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let _ = std::thread::Builder::new()
            .name("fuzz-watchdog".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                    let mut slot = IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(f) = slot
                        .as_mut()
                        .filter(|f| !f.told && f.since.elapsed() > limit)
                    {
                        f.told = true;
                        crate::say(&format!(
                            "a request has run for over {} s: {} (its case: {})",
                            limit.as_secs(),
                            f.what,
                            running_case_file().display()
                        ));
                    }
                }
            });
    });
}

/// [`run_case`] on a thread of its own with a [`CASE_STACK_BYTES`] stack.
pub fn run_on_thread(case: &Case, strict: Option<u32>) -> (Stats, Result<(), Failure>) {
    let case = case.clone();
    let running = Kept {
        note: "The case that was running when the fuzz run stopped.".into(),
        finding: None,
        case: case.clone(),
    };
    if let Ok(text) = serde_json::to_vec(&running) {
        let _ = std::fs::write(running_case_file(), text);
    }
    let handle = std::thread::Builder::new()
        .name("fuzz-case".into())
        .stack_size(CASE_STACK_BYTES)
        .spawn(move || {
            let mut stats = Stats::default();
            let result = run_case(Apps::get(), &case, &mut stats, strict);
            (stats, result)
        })
        .expect("a thread for the case");
    match handle.join() {
        Ok(out) => out,
        Err(_) => (
            Stats::default(),
            Err(Failure {
                step: 0,
                problem: Problem::new(Property::Panic, Panics::get().last()),
                request: "the case runner".into(),
            }),
        ),
    }
}
