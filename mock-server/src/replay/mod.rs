//! Replay of recorded exchanges (`lc-mock replay FILE`): each recorded test case runs in
//! order against a fresh emulator and every exchange is scored at L0/L1/L2, as the
//! conformance README specifies.
//!
//! - [`record`]: the JSON-lines format (`mock-server/RECORDINGS.md`), read leniently:
//!   exchanges and seeds; grouping into test cases.
//! - [`seeds`]: a case's seed rows loaded into its fresh app before its first exchange.
//! - [`mapping`]: generated values (objectIds, dates, tokens) and the recorded ->
//!   replayed mapping learned from answers and written into later requests.
//! - [`classify`]: which exchanges need data the recorded app had before the case.
//! - [`score`]: the three levels and the normalised bodies.
//! - [`report`]: outcomes, per-suite counts, the human report, `--json`, floors.

pub mod classify;
pub mod mapping;
pub mod record;
pub mod report;
pub mod score;
pub mod seeds;

pub use record::{
    Auth, Case, ParseError, Record, Recordings, Seed, SeedKind, group_cases, parse_recordings,
};
pub use report::{ExchangeOutcome, Report, SuiteSummary, check_floors};
pub use seeds::SeedProblem;

use crate::api::{Api, AppConfig};
use crate::settings::Settings;
use classify::Known;
use leancloud::cloud::Registry;
use mapping::Mapping;
use serde_json::Value;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;

/// What `lc-mock replay` is asked to do. The program's command line fills it in; tests
/// build it directly.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// A recordings file (JSON lines of exchanges and seeds; the format is in
    /// mock-server/RECORDINGS.md).
    pub file: PathBuf,
    /// Replay only these suites (all when empty).
    pub suites: Vec<String>,
    /// End the output with one line of JSON: per suite its counts.
    pub json: bool,
    /// A JSON file of per-suite floors, e.g. {"Objects":{"l1":0.9}} (ratios of
    /// replayable exchanges); the run fails ([`EXIT_FLOOR_NOT_MET`]) when one is not met.
    pub floors: Option<PathBuf>,
    /// Also list the exchanges that need pre-existing data, with the reasons.
    pub list_preexisting: bool,
    /// The cloud code each fresh app runs, as the function that makes its registry
    /// (`None`: no cloud code). The recorded app's hooks must run for the hook chains
    /// to match.
    pub cloud: Option<fn() -> Registry>,
    /// A database-settings folder (one folder per class: schema.json, indexes.json,
    /// permissions.json; format in fixtures/database_settings/README.md) whose columns,
    /// indexes and permissions every fresh app gets before the case's seeds. Its
    /// population.json rows are NOT loaded: a case's data comes from its seed lines,
    /// which join the classes the settings describe. Its classes count as existing, so
    /// exchanges on them are scored.
    pub settings: Option<PathBuf>,
}

/// Exit codes of `lc-mock replay`.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FLOOR_NOT_MET: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

/// A fresh app with the default keys, running the cloud code `cloud` makes, if any.
///
/// # Panics
/// When the registry cannot be attached, which a fresh app always takes.
pub fn fresh_app(cloud: Option<fn() -> Registry>) -> Arc<Api> {
    let api = Arc::new(Api::new(AppConfig::default()));
    if let Some(registry) = cloud {
        api.attach_registry(registry())
            .expect("a fresh app takes cloud code");
    }
    api
}

/// The whole command: read, replay each case against a fresh app ([`fresh_app`] with
/// the options' cloud), report, check floors. Returns the exit code ([`EXIT_OK`],
/// [`EXIT_FLOOR_NOT_MET`], [`EXIT_USAGE`]). Output errors are ignored.
pub fn run(args: &ReplayOptions, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(
                err,
                "lc-mock replay: cannot read recordings file {}: {e}",
                args.file.display()
            );
            return EXIT_USAGE;
        }
    };
    let floors = match &args.floors {
        None => None,
        Some(path) => match read_floors(path) {
            Ok(f) => Some(f),
            Err(message) => {
                let _ = writeln!(err, "lc-mock replay: {message}");
                return EXIT_USAGE;
            }
        },
    };
    let settings = match &args.settings {
        None => None,
        Some(dir) => match load_settings(dir) {
            Ok(s) => Some(s),
            Err(message) => {
                let _ = writeln!(err, "lc-mock replay: {message}");
                return EXIT_USAGE;
            }
        },
    };
    let mut recordings = parse_recordings(&text);
    for e in &recordings.errors {
        let _ = writeln!(err, "lc-mock replay: {}: {e}", args.file.display());
    }
    if !args.suites.is_empty() {
        let mut available: Vec<&str> = recordings
            .records
            .iter()
            .map(|r| r.exchange.suite.as_str())
            .collect();
        available.sort_unstable();
        available.dedup();
        let missing: Vec<&String> = args
            .suites
            .iter()
            .filter(|s| !available.contains(&s.as_str()))
            .collect();
        if !missing.is_empty() {
            let _ = writeln!(
                err,
                "lc-mock replay: no exchanges of suite {} in {} (suites: {})",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                args.file.display(),
                available.join(", ")
            );
            return EXIT_USAGE;
        }
        recordings.retain_suites(&args.suites);
    }

    let make = || {
        let api = fresh_app(args.cloud);
        if let Some(settings) = &settings {
            // Checked on an empty store by `load_settings`; without rows nothing else can
            // refuse them.
            let _ = settings.apply_to(&mut api.store());
        }
        api
    };
    let report = replay_seeded(&recordings.records, &recordings.seeds, &make);

    for problem in &report.seed_problems {
        let _ = writeln!(err, "lc-mock replay: {}: {problem}", args.file.display());
    }
    let _ = write!(out, "{}", report.render_failures());
    let unanswered = report.render_unanswered();
    if !unanswered.is_empty() {
        let _ = writeln!(out, "{unanswered}");
    }
    if args.list_preexisting {
        let _ = writeln!(out, "{}", report.render_preexisting());
    }
    let _ = write!(out, "{}", report.render_table());
    if !recordings.errors.is_empty() {
        let _ = writeln!(
            out,
            "({} unreadable line(s) skipped)",
            recordings.errors.len()
        );
    }
    if !report.seed_problems.is_empty() {
        let _ = writeln!(
            out,
            "({} seed line(s) not loaded; their cases were replayed without them)",
            report.seed_problems.len()
        );
    }
    if args.json {
        let _ = writeln!(out, "{}", report.to_json());
    }
    let _ = out.flush();

    let Some(floors) = floors else {
        return EXIT_OK;
    };
    let selected = (!args.suites.is_empty()).then_some(args.suites.as_slice());
    match check_floors(&report, &floors, selected) {
        Err(message) => {
            let _ = writeln!(err, "lc-mock replay: bad floors file: {message}");
            EXIT_USAGE
        }
        Ok(unmet) if unmet.is_empty() => EXIT_OK,
        Ok(unmet) => {
            for m in unmet {
                let _ = writeln!(err, "lc-mock replay: {m}");
            }
            EXIT_FLOOR_NOT_MET
        }
    }
}

/// A settings folder without its rows, checked by applying it to an empty store.
fn load_settings(dir: &std::path::Path) -> Result<Settings, String> {
    let settings = Settings::load(dir)
        .map_err(|e| format!("bad settings folder: {e}"))?
        .without_population();
    settings
        .apply_to(&mut lc_model::Store::default())
        .map_err(|e| format!("bad settings folder: {e}"))?;
    Ok(settings)
}

fn read_floors(path: &std::path::Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read floors file {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("floors file {} is not JSON: {e}", path.display()))
}

/// Replay recorded exchanges, each test case in order against a fresh app from
/// `make_api`. Outcomes come case by case, in order of first appearance.
pub fn replay(records: &[Record], make_api: &dyn Fn() -> Arc<Api>) -> Report {
    replay_seeded(records, &[], make_api)
}

/// [`replay`], each case's fresh app first given the case's seeds (seeds of cases with
/// no exchange are ignored). Seeds that cannot be loaded are reported in
/// [`Report::seed_problems`] and their cases replayed without them.
pub fn replay_seeded(
    records: &[Record],
    seeds: &[Seed],
    make_api: &dyn Fn() -> Arc<Api>,
) -> Report {
    let mut report = Report::default();
    for case in group_cases(records, seeds) {
        let replayed = replay_case(&case, &make_api());
        report.outcomes.extend(replayed.outcomes);
        report.seed_problems.extend(replayed.seed_problems);
    }
    report
}

/// What replaying one case found.
#[derive(Debug, Clone, Default)]
pub struct CaseReplay {
    /// One per exchange, in order.
    pub outcomes: Vec<ExchangeOutcome>,
    /// The case's seeds that could not be loaded.
    pub seed_problems: Vec<SeedProblem>,
}

/// The outcomes, one per exchange.
impl IntoIterator for CaseReplay {
    type Item = ExchangeOutcome;
    type IntoIter = std::vec::IntoIter<ExchangeOutcome>;

    fn into_iter(self) -> Self::IntoIter {
        self.outcomes.into_iter()
    }
}

/// How long a replay waits for after-hooks before the next exchange.
const AFTER_HOOKS_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Replay one test case against `api` (a fresh app): its seeds first, then its
/// exchanges in order. Exchanges the upstream did not answer are neither sent nor scored.
pub fn replay_case(case: &Case<'_>, api: &Api) -> CaseReplay {
    let config = api.config();
    let keys = record::Keys {
        app_id: config.app_id.clone(),
        app_key: config.app_key.clone(),
        master_key: config.master_key.clone(),
        hook_key: config.hook_key.clone(),
    };
    let mut mapping = Mapping::default();
    let mut known = Known::default();
    // What the case has before its first exchange: the fresh app's classes (built-in,
    // and any given by settings), then its seeds, kept as recorded.
    let loaded = {
        let mut store = api.store();
        store
            .classes
            .keys()
            .for_each(|c| known.add_class(c.clone()));
        seeds::load(&case.seeds, &mut store)
    };
    for value in loaded.ids.iter().chain(&loaded.tokens) {
        known.add_value(value.clone());
        mapping.pin(value);
    }
    loaded
        .classes
        .iter()
        .for_each(|c| known.add_class(c.clone()));
    let mut outcomes = Vec::with_capacity(case.exchanges.len());
    for (index, rec) in case.exchanges.iter().enumerate() {
        let request = record::to_request(
            rec,
            mapping.map_text(&rec.exchange.request.path),
            rec.exchange
                .request
                .query
                .iter()
                .map(|(k, v)| (k.clone(), mapping.map_text(v)))
                .collect(),
            rec.exchange
                .request
                .session
                .as_deref()
                .map(|s| mapping.map_text(s)),
            &mapping.map_value(&rec.exchange.request.body.value()),
            &keys,
        );
        // An exchange the upstream never answered has nothing to compare with.
        let scored = match rec.exchange.upstream_error {
            Some(_) => Scored::default(),
            None => replay_exchange(api, rec, &request, &mut mapping, &mut known),
        };
        outcomes.push(ExchangeOutcome {
            suite: rec.exchange.suite.clone(),
            test: rec.exchange.test.clone(),
            index,
            line: rec.line,
            method: rec.exchange.request.method.clone(),
            path: rec.exchange.request.path.clone(),
            request,
            preexisting: !scored.reasons.is_empty(),
            reasons: scored.reasons,
            upstream_error: rec.exchange.upstream_error.clone(),
            l0: scored.levels.l0,
            l1: scored.levels.l1,
            l2: scored.levels.l2,
            expected_status: rec.exchange.status,
            actual_status: scored.status,
            expected: rec.exchange.response.value(),
            actual: scored.actual,
            expected_normalised: scored.expected_normalised,
            actual_normalised: scored.actual_normalised,
        });
    }
    CaseReplay {
        outcomes,
        seed_problems: loaded.problems,
    }
}

/// What one exchange's replay gives (nothing, for one the upstream never answered).
#[derive(Default)]
struct Scored {
    /// Why it needs pre-existing data (empty: it does not).
    reasons: Vec<String>,
    levels: score::Levels,
    status: u16,
    actual: Value,
    expected_normalised: Value,
    actual_normalised: Value,
}

/// Send one (mapped) recorded request, learn from its answer, and score it.
fn replay_exchange(
    api: &Api,
    rec: &Record,
    request: &leancloud::Request,
    mapping: &mut Mapping,
    known: &mut Known,
) -> Scored {
    // The recorded client's next request came after the previous one's after-hooks
    // had run (their effects are visible in the recordings).
    api.idle_blocking(AFTER_HOOKS_WAIT);
    let mut reasons = known.request_reasons(rec);
    let (actual_status, actual, actual_text) = send(api, request);
    let introduced = if rec.exchange.response.is_raw() {
        Vec::new()
    } else {
        mapping.learn(&rec.exchange.response.value(), &actual)
    };
    reasons.extend(known.answer_reasons(rec, &introduced));
    known.absorb(rec, &introduced);
    let (levels, expected_normalised, actual_normalised) = if rec.exchange.response.is_raw() {
        score::score_raw(
            rec.exchange.status,
            rec.exchange.response.value().as_str().unwrap_or_default(),
            actual_status,
            &actual_text,
        )
    } else {
        score::score(
            rec.exchange.status,
            &rec.exchange.response.value(),
            actual_status,
            &actual,
            classify::is_batch(&rec.exchange.request.path),
            mapping,
        )
    };
    let actual = if rec.exchange.response.is_raw() {
        Value::String(actual_text)
    } else {
        actual
    };
    Scored {
        reasons,
        levels,
        status: actual_status,
        actual,
        expected_normalised,
        actual_normalised,
    }
}

/// Ask the emulator: the status, the body as JSON (its text when it is not JSON) and the
/// body's text. A panic in it is an answer too (status 0), so one bug does not stop the
/// replay of everything else.
fn send(api: &Api, request: &leancloud::Request) -> (u16, Value, String) {
    match catch_unwind(AssertUnwindSafe(|| api.handle(request))) {
        Ok(response) => {
            let text = String::from_utf8_lossy(&response.body).into_owned();
            let body = response
                .body_json()
                .unwrap_or_else(|_| Value::String(text.clone()));
            (response.status, body, text)
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            let body = serde_json::json!({ "emulator panicked": message });
            let text = body.to_string();
            (0, body, text)
        }
    }
}
