//! `parity`: compare the scenario outcomes of the system suite on two targets.
//!
//! ```sh
//! cargo test -p system --test features                       # writes outcomes-mock.json
//! LC_TARGET=stack cargo test -p system --test features       # writes outcomes-stack.json
//! cargo run -p system --bin parity -- target/cucumber/outcomes-mock.json target/cucumber/outcomes-stack.json
//! ```
//!
//! Every scenario must have the same outcome on both. The one intended difference: a
//! scenario the first run has and the second lacks is allowed when its feature file tags
//! it (on the scenario, its Examples, its rule or the whole feature) with a tag that keeps
//! scenarios off some targets: `@mock-only` (traces, fault injection: the emulator only)
//! or `@fresh-app` (needs an app of its own on the fixtures: not on a shared app, i.e.
//! `remote` or `stack` with `LC_STACK=shared`). Such scenarios are listed with their tags.
//! Exit 0 when the runs agree, 1 when they do not, 2 on a usage or file problem.

use cucumber::feature::Ext as _;
use cucumber::gherkin::{Feature, GherkinEnv};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn read(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let map = value
        .as_object()
        .ok_or_else(|| format!("{} is not a JSON object", path.display()))?;
    Ok(map
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("?").to_string()))
        .collect())
}

/// The tags that keep scenarios off some targets (the runner's `RUNS_ONLY` table): a
/// scenario with one of them may be missing from the second run.
const LEFT_OUT_SOMEWHERE: [&str; 2] = ["mock-only", "fresh-app"];

/// The tags of the scenario at `key` (`<file>:<line>: <name>`, as the runner writes it):
/// its feature's, its rule's and its own, with its Examples' for an outline's row. `None`
/// when the feature file has no such scenario (any more).
fn scenario_tags(features: &Path, key: &str) -> Option<Vec<String>> {
    let (file, rest) = key.split_once(':')?;
    let (line, name) = rest.split_once(':')?;
    let line: usize = line.trim().parse().ok()?;
    let name = name.strip_prefix(' ').unwrap_or(name);
    let feature = Feature::parse_path(features.join(file), GherkinEnv::default())
        .ok()?
        .expand_examples()
        .ok()?;
    let mut scenarios = feature.scenarios.iter().map(|s| (None, s)).chain(
        feature
            .rules
            .iter()
            .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s))),
    );
    let (rule, scenario) = scenarios.find(|(_, s)| s.position.line == line && s.name == name)?;
    Some(
        feature
            .tags
            .iter()
            .chain(rule.into_iter().flat_map(|r| &r.tags))
            .chain(&scenario.tags)
            .cloned()
            .collect(),
    )
}

/// Which of [`LEFT_OUT_SOMEWHERE`] the scenario at `key` has (empty: none, or no such
/// scenario).
fn left_out_tags(features: &Path, key: &str) -> Vec<&'static str> {
    let tags = scenario_tags(features, key).unwrap_or_default();
    LEFT_OUT_SOMEWHERE
        .into_iter()
        .filter(|tag| tags.iter().any(|t| t == tag))
        .collect()
}

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [first, second] = args.as_slice() else {
        eprintln!("usage: parity OUTCOMES_A.json OUTCOMES_B.json");
        return ExitCode::from(2);
    };
    let (a, b) = match (read(first), read(second)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("parity: {e}");
            return ExitCode::from(2);
        }
    };
    let features = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../features");
    let mut differences = Vec::new();
    let mut intended: Vec<(Vec<&str>, &str)> = Vec::new();
    for (key, outcome) in &a {
        match b.get(key) {
            Some(other) if other == outcome => {}
            Some(other) => differences.push(format!("{key}: {outcome} vs {other}")),
            None => match left_out_tags(&features, key) {
                tags if !tags.is_empty() => intended.push((tags, key)),
                _ => differences.push(format!("{key}: {outcome} vs not run")),
            },
        }
    }
    for key in b.keys().filter(|k| !a.contains_key(*k)) {
        differences.push(format!("{key}: not run vs {}", b[key]));
    }
    let same = a.keys().filter(|k| b.contains_key(*k)).count();
    let by_tag: Vec<String> = LEFT_OUT_SOMEWHERE
        .into_iter()
        .map(|tag| {
            let n = intended
                .iter()
                .filter(|(tags, _)| tags.contains(&tag))
                .count();
            format!("@{tag}: {n}")
        })
        .collect();
    println!(
        "parity: {same} scenario(s) with the same outcome on both; {} scenario(s) run on the first only, as their tags intend ({})",
        intended.len(),
        by_tag.join(", ")
    );
    for (tags, key) in &intended {
        println!("  {}: {key}", tags.join(", "));
    }
    if differences.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("parity: {} difference(s):", differences.len());
        for d in &differences {
            eprintln!("  {d}");
        }
        ExitCode::FAILURE
    }
}
