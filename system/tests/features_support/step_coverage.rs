//! The Gherkin run's coverage report: the app's behaviour as the emulator saw it
//! (`mock_server::api::coverage::run`, every app of this process) with the steps of the
//! catalogue (`system/src/steps/`) each scenario used, written beside the JUnit report as
//! `coverage-<target>.json` and `.html`.

use cucumber::event::{self, Cucumber};
use cucumber::{Event, Writer, cli, parser, writer};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;
use system::World;

/// Step use by definition: `<file>:<line>` -> times a step matched it.
pub type Used = Rc<RefCell<BTreeMap<String, u64>>>;

/// A writer beside the others that counts which step definition each step matched.
pub struct StepUse(pub Used);

fn key(loc: &cucumber::step::Location) -> String {
    let file = Path::new(loc.path)
        .file_name()
        .map_or(loc.path.into(), |f| f.to_string_lossy());
    format!("{file}:{}", loc.line)
}

impl Writer<World> for StepUse {
    type Cli = cli::Empty;

    async fn handle_event(
        &mut self,
        event: parser::Result<Event<Cucumber<World>>>,
        _cli: &Self::Cli,
    ) {
        let Ok(event) = event else { return };
        let scenario = match event.value {
            Cucumber::Feature(_, event::Feature::Scenario(_, s))
            | Cucumber::Feature(_, event::Feature::Rule(_, event::Rule::Scenario(_, s))) => s.event,
            _ => return,
        };
        let step = match scenario {
            event::Scenario::Step(_, step) | event::Scenario::Background(_, step) => step,
            _ => return,
        };
        let loc = match step {
            event::Step::Passed(_, Some(loc)) => loc,
            event::Step::Failed(_, Some(loc), ..) => loc,
            _ => return,
        };
        *self.0.borrow_mut().entry(key(&loc)).or_default() += 1;
    }
}

impl writer::NonTransforming for StepUse {}

/// Every step definition of the catalogue: `<file>:<line>` (the attribute's line, as
/// cucumber reports it) -> `<file>:<line> <keyword> <pattern>`.
pub fn catalogue(steps_dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(steps_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    for path in files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            for keyword in ["given", "when", "then"] {
                if let Some(rest) = line.strip_prefix(&format!("#[{keyword}(")) {
                    let pattern = rest.trim_end_matches(")]");
                    let key = format!("{name}:{}", i + 1);
                    out.insert(key.clone(), format!("{key} {keyword} {pattern}"));
                }
            }
        }
    }
    out
}

/// Write the run's report to `dir`; the paths, for the run's last line.
pub fn write(dir: &Path, target: &str, steps_dir: &Path, used: &Used) -> String {
    let catalogue = catalogue(steps_dir);
    let used: BTreeMap<String, u64> = used
        .borrow()
        .iter()
        .map(|(k, n)| (catalogue.get(k).cloned().unwrap_or_else(|| k.clone()), *n))
        .collect();
    let defined: Vec<String> = catalogue.into_values().collect();
    let report = mock_server::api::coverage::run()
        .report()
        .with_steps(&defined, &used);
    match mock_server::api::coverage::write_report(&report, dir, target) {
        Ok((json, html)) => format!("{}, {}", json.display(), html.display()),
        Err(e) => format!("(the coverage report could not be written: {e})"),
    }
}
