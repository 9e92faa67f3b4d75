//! Runs every feature under `features/` on the target `LC_TARGET` names (default: the
//! in-process emulator). A JUnit report is written to `target/cucumber/junit-<target>.xml`,
//! and each scenario's outcome to `target/cucumber/outcomes-<target>.json` (what the
//! parity check between targets compares: `cargo run -p system --bin parity`).
//!
//! - Undefined and skipped steps fail the run (`@allow.skipped` does not exempt them).
//! - Tags select scenarios: `cargo test -p system --test features -- --tags @smoke`.
//! - Some tags say where their scenarios run (the table `RUNS_ONLY`): `@mock-only` ones
//!   need the emulator (traces, fault injection) and run on `mock` only; `@fresh-app`
//!   ones need an app of their own that starts from the fixtures (they change fixture
//!   rows, or check values other scenarios could change), so they are left out where the
//!   whole run shares one app: `remote`, and `stack` with `LC_STACK=shared`. The run
//!   lists what it leaves out, and why, at the start.
//! - A failing step prints the last request, its answer and its hook trace (the
//!   World's report, shown for failed steps).
//! - The wall time of the run is printed at the end.
//! - The coverage of the app's behaviour (what its functions, hooks, class permissions
//!   and ACLs did, the error codes clients received, the catalogue's steps used, what
//!   nothing reached first) goes to `target/cucumber/coverage-<target>.json` and `.html`.
//!   The emulator's part is the in-process emulator's: on `stack` and `remote` only the
//!   steps are counted.
//!
//! `cargo test` passes libtest arguments (filters, `--nocapture`) to every test binary;
//! those are dropped here, so cucumber's own options (`--tags`, `--name`) still work.
//! cargo-nextest lists the binary's tests first: the suite lists as one test, `features`.

use cucumber::cli::{self, Parser as _};
use cucumber::event::ScenarioFinished;
use cucumber::feature::Ext as _;
use cucumber::gherkin::{Feature, Rule, Scenario};
use cucumber::tag::Ext as _;
use cucumber::writer::{self, Verbosity};
use cucumber::{World as _, WriterExt as _};
use futures::FutureExt as _;
use harness::{StackMode, Target};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;
use system::World;

#[path = "features_support/step_coverage.rs"]
mod step_coverage;

/// libtest's flags that cucumber does not know.
const LIBTEST_FLAGS: &[&str] = &[
    "--nocapture",
    "--show-output",
    "--quiet",
    "-q",
    "--ignored",
    "--include-ignored",
    "--exact",
];

fn cucumber_args() -> Vec<String> {
    let mut out = Vec::new();
    let mut args = std::env::args();
    out.extend(args.next());
    let mut passthrough = false;
    let mut takes_value = false;
    for arg in args {
        if takes_value {
            out.push(arg);
            takes_value = false;
        } else if arg.starts_with('-') {
            if LIBTEST_FLAGS.contains(&arg.as_str())
                || arg.starts_with("--test-threads")
                || arg.starts_with("--format")
            {
                continue;
            }
            passthrough = true;
            takes_value = !arg.contains('=')
                && matches!(
                    arg.as_str(),
                    "--tags" | "-t" | "--name" | "-n" | "--input" | "-i" | "--concurrency" | "-c"
                );
            out.push(arg);
        } else if passthrough {
            out.push(arg);
        }
        // A bare word before any cucumber flag is a libtest name filter: dropped.
    }
    out
}

/// A scenario's name in the outcomes file: its feature file, line (an outline's example
/// rows are scenarios of their own) and name.
fn scenario_key(feature: &Feature, scenario: &Scenario) -> String {
    let file = feature
        .path
        .as_deref()
        .and_then(|p| {
            let p = p.to_string_lossy();
            p.split_once("features/").map(|(_, rest)| rest.to_string())
        })
        .unwrap_or_else(|| feature.name.clone());
    format!("{file}:{}: {}", scenario.position.line, scenario.name)
}

fn tags<'a>(
    feature: &'a Feature,
    rule: Option<&'a Rule>,
    scenario: &'a Scenario,
) -> impl Iterator<Item = &'a String> + Clone {
    feature
        .tags
        .iter()
        .chain(rule.into_iter().flat_map(|r| &r.tags))
        .chain(scenario.tags.iter())
}

/// Where this run's scenarios go, as far as the tags that limit where scenarios run care.
#[derive(Debug, Clone, Copy)]
struct RunOn {
    target: Target,
    /// Every scenario of the run works on one app: `remote`, and `stack` with
    /// `LC_STACK=shared`. Otherwise each scenario gets an app of its own on the fixtures.
    shared: bool,
}

impl RunOn {
    /// From `LC_TARGET` and `LC_STACK`, read as the harness reads them.
    fn from_env() -> Result<RunOn, harness::StartError> {
        let target = Target::from_env()?;
        let shared = match target {
            Target::Mock => false,
            Target::Stack => StackMode::from_env()? == StackMode::Shared,
            Target::Remote => true,
        };
        Ok(RunOn { target, shared })
    }
}

impl std::fmt::Display for RunOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LC_TARGET={}", self.target)?;
        if self.target == Target::Stack {
            let mode = if self.shared { "shared" } else { "fresh" };
            write!(f, " LC_STACK={mode}")?;
        }
        Ok(())
    }
}

/// A tag whose scenarios run only on some targets.
struct RunsOnly {
    /// The tag, without its `@`.
    tag: &'static str,
    /// Completes "runs only when ...": where the scenarios run, and why, for the notice.
    when: &'static str,
    /// Whether the scenarios run on this target.
    holds: fn(RunOn) -> bool,
}

/// The tags that keep scenarios off some targets: tag -> "runs only when ...". Where the
/// predicate does not hold, a scenario with the tag is left out, and the run lists it at
/// the start (under the first rule that left it out).
const RUNS_ONLY: &[RunsOnly] = &[
    RunsOnly {
        tag: "mock-only",
        when: "the target is the in-process emulator (LC_TARGET=mock): it reads hook traces \
               or injects faults",
        holds: |on| on.target == Target::Mock,
    },
    RunsOnly {
        tag: "emulator-only",
        when: "the target is the emulator (LC_TARGET=mock or stack): it arms faults, which a \
               deployed app does not take",
        holds: |on| on.target != Target::Remote,
    },
    RunsOnly {
        tag: "fresh-app",
        when: "each scenario has an app of its own that starts from the fixtures (mock, or \
               stack with LC_STACK=fresh): it changes fixture rows, or checks values that \
               scenarios sharing the app could change",
        holds: |on| !on.shared,
    },
];

/// The first rule of [`RUNS_ONLY`] that keeps a scenario with these tags off `on`.
fn left_out_by<'a>(
    tags: impl Iterator<Item = &'a String> + Clone,
    on: RunOn,
) -> Option<&'static RunsOnly> {
    RUNS_ONLY
        .iter()
        .find(|rule| !(rule.holds)(on) && tags.clone().any(|t| t == rule.tag))
}

/// Every scenario (an outline's example rows one by one, as they run) of the feature files
/// under `dir` that the tag and name filters select and a rule of [`RUNS_ONLY`] leaves
/// out on `on`, by rule, for the notice.
fn left_out_scenarios(
    dir: &std::path::Path,
    on: RunOn,
    selected: impl Fn(&Feature, Option<&Rule>, &Scenario) -> bool,
) -> Vec<(&'static RunsOnly, Vec<String>)> {
    let mut found: Vec<(&'static RunsOnly, Vec<String>)> =
        RUNS_ONLY.iter().map(|rule| (rule, Vec::new())).collect();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "feature")
                && let Ok(feature) =
                    Feature::parse_path(&path, cucumber::gherkin::GherkinEnv::default())
                && let Ok(feature) = feature.expand_examples()
            {
                let scenarios = feature.scenarios.iter().map(|s| (None, s)).chain(
                    feature
                        .rules
                        .iter()
                        .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s))),
                );
                for (rule, scenario) in scenarios {
                    if let Some(by) = left_out_by(tags(&feature, rule, scenario), on)
                        && selected(&feature, rule, scenario)
                        && let Some((_, list)) = found.iter_mut().find(|(r, _)| r.tag == by.tag)
                    {
                        list.push(scenario_key(&feature, scenario));
                    }
                }
            }
        }
    }
    for (_, list) in &mut found {
        list.sort_by(|a, b| natural_key(a).cmp(&natural_key(b)));
    }
    found.retain(|(_, list)| !list.is_empty());
    found
}

/// A scenario key sorted by file, then line as a number.
fn natural_key(key: &str) -> (&str, usize) {
    let (file, rest) = key.split_once(':').unwrap_or((key, ""));
    let line = rest
        .split_once(':')
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0);
    (file, line)
}

/// The one test this runner is to a test runner that lists tests first (cargo-nextest
/// runs `<binary> --list --format terse`, then `<binary> features --exact --nocapture`):
/// the whole suite, which runs its scenarios concurrently itself.
const LISTED_AS: &str = "features";

/// Answer a listing of the binary's tests, if that is what was asked: `features: test`,
/// or nothing when only ignored tests are listed (none are).
fn answer_listing() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--list") {
        return false;
    }
    if !args.iter().any(|a| a == "--ignored") {
        println!("{LISTED_AS}: test");
    }
    true
}

#[tokio::main]
async fn main() {
    if answer_listing() {
        return;
    }
    let started = Instant::now();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let features = root.join("features");
    let report_dir = root.join("target").join("cucumber");
    std::fs::create_dir_all(&report_dir).expect("target/cucumber is writable");
    let target = World::target_name();
    let junit_path = report_dir.join(format!("junit-{target}.xml"));
    let junit = std::fs::File::create(&junit_path).expect("the JUnit report is writable");
    let outcomes: Rc<RefCell<BTreeMap<String, &'static str>>> = Rc::default();
    let recorded = outcomes.clone();
    let steps_used: step_coverage::Used = Rc::default();

    // The name and tag filters are applied here, together with the target's own filter
    // (cucumber would otherwise let `--tags` replace it).
    let mut opts = cli::Opts::<_, _, _, cli::Empty>::parse_from(cucumber_args());
    let name_filter = opts.re_filter.take();
    let tag_filter = opts.tags_filter.take();
    let selected = move |feature: &Feature, rule: Option<&Rule>, scenario: &Scenario| {
        tag_filter
            .as_ref()
            .is_none_or(|f| f.eval(tags(feature, rule, scenario)))
            && name_filter
                .as_ref()
                .is_none_or(|re| re.is_match(&scenario.name))
    };
    let on = RunOn::from_env().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    let left_out = left_out_scenarios(&features, on, &selected);
    let count: usize = left_out.iter().map(|(_, list)| list.len()).sum();
    if count > 0 {
        println!("{on}: skipping {count} scenario(s):");
        for (rule, list) in &left_out {
            println!(
                "  @{} ({}): runs only when {}",
                rule.tag,
                list.len(),
                rule.when
            );
            for key in list {
                println!("    - {key}");
            }
        }
    } else if on.target != Target::Mock {
        println!("{on}: every selected scenario runs here");
    }
    let filter = move |feature: &Feature, rule: Option<&Rule>, scenario: &Scenario| {
        left_out_by(tags(feature, rule, scenario), on).is_none()
            && selected(feature, rule, scenario)
    };

    let writer = World::cucumber()
        .max_concurrent_scenarios(8)
        .before(|feature, rule, scenario, world| {
            // Steps that need a tag (e.g. trace steps need @mock-only) read them here.
            world.tags = tags(feature, rule, scenario).cloned().collect();
            // Behind `lc-mock record`, each scenario is a test case of its own.
            world
                .app
                .record_case(&format!("{}: {}", feature.name, scenario.name));
            async {}.boxed_local()
        })
        .after(move |feature, _rule, scenario, finished, _world| {
            let outcome = match finished {
                ScenarioFinished::StepPassed => "passed",
                ScenarioFinished::StepSkipped => "skipped",
                ScenarioFinished::StepFailed(..) | ScenarioFinished::BeforeHookFailed(_) => {
                    "failed"
                }
            };
            recorded
                .borrow_mut()
                .insert(scenario_key(feature, scenario), outcome);
            async {}.boxed_local()
        })
        .with_writer(
            writer::Basic::new(
                std::io::stdout(),
                writer::Coloring::Auto,
                Verbosity::ShowWorld,
            )
            .summarized()
            .tee::<World, _>(writer::JUnit::for_tee(junit, Verbosity::ShowWorld))
            .tee::<World, _>(
                step_coverage::StepUse(steps_used.clone())
                    .discard_stats_writes()
                    .discard_arbitrary_writes(),
            )
            .normalized(),
        )
        .fail_on_skipped_with(|_, _, _| true)
        .with_cli(opts)
        .filter_run(features, filter)
        .await;
    let outcomes_path = report_dir.join(format!("outcomes-{target}.json"));
    let outcomes_json =
        serde_json::to_string_pretty(&*outcomes.borrow()).expect("outcomes serialise");
    std::fs::write(&outcomes_path, outcomes_json + "\n").expect("the outcomes are writable");
    let coverage = step_coverage::write(
        &report_dir,
        &target,
        &root.join("system").join("src").join("steps"),
        &steps_used,
    );
    println!("Coverage of the app's behaviour: {coverage}");
    println!(
        "Suite wall time on {target}: {:.2} s (reports: {}, {})",
        started.elapsed().as_secs_f64(),
        junit_path
            .strip_prefix(&root)
            .unwrap_or(&junit_path)
            .display(),
        outcomes_path
            .strip_prefix(&root)
            .unwrap_or(&outcomes_path)
            .display()
    );
    use cucumber::writer::Stats as _;
    if writer.execution_has_failed() {
        eprintln!(
            "The suite failed: {} step(s) failed, {} parsing error(s), {} hook error(s)",
            writer.failed_steps(),
            writer.parsing_errors(),
            writer.hook_errors()
        );
        std::process::exit(1);
    }
}
