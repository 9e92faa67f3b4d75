//! Model-based test of the app (crate `cloud`) on the target `LC_TARGET` names: random
//! sequences of user actions ([`generative::app::arb_step`]) are sent through
//! `harness::TestApp`, and after every step the app is compared with the reference
//! model ([`generative::app::AppModel`]):
//!
//! - the answer: accepted or refused as the model predicts, with its status and error
//!   code (who may change what: owners, authors, `Moderators`, the master key);
//! - every object the step touched, read after the after-hooks (`idle()` on mock and
//!   stack, polled with `eventually` on remote): the fields the model knows, including
//!   each business's rating counters and each user's `reviewCount`;
//! - a refused step changed nothing: the touched objects read back exactly as before;
//! - the app agrees with itself: each touched business's counters are what its stored
//!   reviews say, and no user has two reviews of one business.
//!
//! At the start of a case, every [`FULL_EVERY`] steps and at its end, every object of the
//! model is checked that way, with the ACLs of businesses and reviews.
//!
//! A failing case is shrunk, then written as a Gherkin scenario of the system suite to
//! `features/generated/<name>.feature` (see `generative/README.md`). Cases: 128 on mock,
//! 8 on stack, 3 on remote; `GENERATIVE_CASES` (or `PROPTEST_CASES`) sets the number,
//! `GENERATIVE_STEPS` the longest sequence (30).

use generative::app::{
    self, AppModel, AppState, Cell, Expect, ObjRef, Outcome, Request, Step, Who, expectation,
};
use generative::values::{pointer, same_value};
use harness::{Answer, Caller, Target, TestApp};
use leancloud::Resource;
use proptest::test_runner::{Config, FileFailurePersistence, TestError, TestRunner};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use serde_json::{Value, json};
use std::cell::Cell as StdCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Once};
use std::time::{Duration, Instant};

mod gherkin;
mod sut;

use sut::{Sut, apply_step, start};

/// Steps between two checks of every object of the model.
const FULL_EVERY: usize = 10;

/// Where failing seeds are kept (committed, so every run replays them first).
const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/app_model.txt"
);

/// Where a failing sequence is written as a feature.
const GENERATED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../features/generated");

/// How long a remote target may take to show an after-hook's effect.
const REMOTE_WAIT: Duration = Duration::from_secs(15);

static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
});

/// Steps applied, and the time spent in them (sending, waiting, checking).
static STEPS: AtomicUsize = AtomicUsize::new(0);
static STEP_NANOS: AtomicU64 = AtomicU64::new(0);

/// Per kind of step: how many the app accepted and refused (what the run covered).
static COVERAGE: Mutex<Vec<(&'static str, usize, usize)>> = Mutex::new(Vec::new());

fn covered(step: &Step, accepted: bool) {
    let kind = kind_of(step);
    let mut table = COVERAGE.lock().unwrap_or_else(|e| e.into_inner());
    let row = match table.iter().position(|(k, ..)| *k == kind) {
        Some(i) => &mut table[i],
        None => {
            table.push((kind, 0, 0));
            table.last_mut().expect("just pushed")
        }
    };
    if accepted {
        row.1 += 1;
    } else {
        row.2 += 1;
    }
}

fn kind_of(step: &Step) -> &'static str {
    match step {
        Step::SignUp { .. } => "sign up",
        Step::CreateAddress { .. } => "create address",
        Step::MoveAddress { .. } => "move address",
        Step::CreateBusiness { .. } => "create business",
        Step::EditBusiness { .. } => "edit business",
        Step::Moderate { .. } => "moderateBusiness",
        Step::WriteReview { .. } => "write review",
        Step::EditReview { .. } => "edit review",
        Step::DeleteReview { .. } => "delete review",
        Step::DeleteBusiness { .. } => "delete business",
    }
}

/// The app a run's cases share where each case may have the app to itself (mock, a
/// fresh stack): reset to the fixtures between cases instead of started anew.
static POOL: Mutex<Option<Arc<TestApp>>> = Mutex::new(None);

thread_local! {
    /// While set, panics on this thread are not printed: proptest catches them, and a
    /// shrinking run panics hundreds of times.
    static QUIET: StdCell<bool> = const { StdCell::new(false) };
}

fn quiet_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(StdCell::get) {
                default(info);
            }
        }));
    });
}

fn env_number(name: &str) -> Option<u32> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn target_name() -> String {
    match std::env::var("LC_TARGET") {
        Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
        _ => "mock".into(),
    }
}

/// Cases per run: `GENERATIVE_CASES`, else `PROPTEST_CASES`, else by target.
fn cases() -> u32 {
    env_number("GENERATIVE_CASES")
        .or_else(|| env_number("PROPTEST_CASES"))
        .unwrap_or(match target_name().as_str() {
            "mock" => 128,
            "stack" => 8,
            _ => 3,
        })
}

fn max_steps() -> usize {
    env_number("GENERATIVE_STEPS").map_or(30, |n| n.max(1) as usize)
}

struct AppTest;

impl StateMachineTest for AppTest {
    type SystemUnderTest = Sut;
    type Reference = AppModel;

    fn init_test(model: &AppState) -> Sut {
        RT.block_on(start(model))
    }

    fn apply(mut sut: Sut, after: &AppState, step: Step) -> Sut {
        let began = Instant::now();
        RT.block_on(apply_step(&mut sut, after, &step));
        sut.steps += 1;
        STEPS.fetch_add(1, Ordering::Relaxed);
        STEP_NANOS.fetch_add(began.elapsed().as_nanos() as u64, Ordering::Relaxed);
        sut
    }

    fn teardown(mut sut: Sut, model: AppState) {
        RT.block_on(async {
            if !sut.steps.is_multiple_of(FULL_EVERY) {
                sut.full_check(&model).await;
            }
            if model.shared {
                if let Err(e) = sut.app.cleanup().await {
                    panic!("cleaning up after the case: {e}");
                }
                let left = sut.app.leftovers().await;
                assert!(left.is_empty(), "the cleanup left {left:?}");
            }
            drop(sut);
        });
    }
}

/// The failing sequence as a feature of the system suite; its path.
fn write_feature(reason: &str, initial: &AppState, steps: &[Step]) -> std::io::Result<String> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    format!("{steps:?}").hash(&mut hasher);
    let name = format!("app-model-{:08x}", hasher.finish() as u32);
    let last_lines: String = reason
        .lines()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    let note = format!(
        "Found on LC_TARGET={}; the model-based test failed with:\n{last_lines}",
        target_name()
    );
    let text = app::feature(&name, &note, initial, steps);
    std::fs::create_dir_all(GENERATED)?;
    let path = format!("{GENERATED}/{name}.feature");
    std::fs::write(&path, text)?;
    Ok(path)
}

#[test]
fn the_app_behaves_as_its_model_says() {
    quiet_panics();
    let cases = cases();
    let config = Config {
        cases,
        max_shrink_iters: 4096,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        source_file: Some(file!()),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config.clone());
    let strategy = AppModel::sequential_strategy(1..=max_steps());
    let began = Instant::now();
    let result = runner.run(&strategy, |(initial, steps, seen)| {
        QUIET.with(|q| q.set(true));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            AppTest::test_sequential(config.clone(), initial, steps, seen)
        }));
        QUIET.with(|q| q.set(false));
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
        Ok(())
    });
    let elapsed = began.elapsed();
    let steps = STEPS.load(Ordering::Relaxed);
    let in_steps = Duration::from_nanos(STEP_NANOS.load(Ordering::Relaxed));
    let over = match std::env::var("GENERATIVE_HTTP") {
        Ok(v) if v.trim() == "1" => " over HTTP",
        _ => "",
    };
    eprintln!(
        "app model on {}{over}: {cases} cases, {steps} steps in {:.2} s ({:.0} steps/s; {:.2} s in steps alone: {:.0} steps/s)",
        target_name(),
        elapsed.as_secs_f64(),
        steps as f64 / elapsed.as_secs_f64(),
        in_steps.as_secs_f64(),
        steps as f64 / in_steps.as_secs_f64().max(1e-9),
    );
    let table = COVERAGE.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for (kind, accepted, refused) in table {
        eprintln!("  {kind:<16} accepted {accepted:>5}, refused {refused:>5}");
    }
    // What the app's rules did in this run, beside the Gherkin run's JUnit report.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/cucumber");
    let name = format!("generative-{}", target_name());
    match mock_server::api::coverage::write_report(
        &mock_server::api::coverage::run().report(),
        &dir,
        &name,
    ) {
        Ok((json, html)) => eprintln!(
            "coverage of the app's behaviour: {}, {}",
            json.display(),
            html.display()
        ),
        Err(e) => eprintln!("(the coverage report could not be written: {e})"),
    }
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, (initial, steps, _))) => {
            let written = match write_feature(reason.message(), &initial, &steps) {
                Ok(path) => format!("written as a feature of the system suite: {path}"),
                Err(e) => format!("(the feature could not be written: {e})"),
            };
            panic!(
                "the app and its model disagree.\n{}\n\nshrunk sequence ({} steps) from {initial:?}:\n{steps:#?}\n\n{written}",
                reason.message(),
                steps.len()
            );
        }
        Err(TestError::Abort(why)) => panic!("the run stopped: {why}"),
    }
}
