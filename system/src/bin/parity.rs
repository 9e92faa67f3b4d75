//! `parity`: compare the scenario outcomes of the system suite on two targets.
//!
//! ```sh
//! cargo test -p system --test features                       # writes outcomes-mock.json
//! LC_TARGET=stack cargo test -p system --test features       # writes outcomes-stack.json
//! cargo run -p system --bin parity -- target/cucumber/outcomes-mock.json target/cucumber/outcomes-stack.json
//! ```
//!
//! Every scenario must have the same outcome on both. The one intended difference:
//! scenarios tagged `@mock-only` (traces, fault injection) run on the emulator only, so a
//! scenario the first run has and the second lacks is allowed when its feature file
//! marks it `@mock-only`; it is listed. Exit 0 when the runs agree, 1 when they do not,
//! 2 on a usage or file problem.

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

/// Whether the scenario at `key` (`<file>:<line>: <name>`) is tagged `@mock-only` in its
/// feature file (on the scenario, or on the whole feature).
fn is_mock_only(features: &Path, key: &str) -> bool {
    let Some((file, rest)) = key.split_once(':') else {
        return false;
    };
    let Some(line) = rest
        .split_once(':')
        .and_then(|(n, _)| n.trim().parse::<usize>().ok())
    else {
        return false;
    };
    let Ok(text) = std::fs::read_to_string(features.join(file)) else {
        return false;
    };
    let lines: Vec<&str> = text.lines().collect();
    let feature_tagged = lines
        .iter()
        .take_while(|l| !l.trim_start().starts_with("Feature:"))
        .any(|l| l.contains("@mock-only"));
    // Tags sit on the lines just above the scenario (an outline's rows are below its
    // `Scenario Outline:` line, so walk up to it first).
    let mut i = line.saturating_sub(1).min(lines.len());
    while i > 0 && !lines[i - 1].trim_start().starts_with("Scenario") {
        i -= 1;
    }
    let mut j = i.saturating_sub(1);
    let mut scenario_tagged = false;
    while j > 0 && lines[j - 1].trim_start().starts_with('@') {
        scenario_tagged |= lines[j - 1].contains("@mock-only");
        j -= 1;
    }
    feature_tagged || scenario_tagged
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
    let mut intended = Vec::new();
    for (key, outcome) in &a {
        match b.get(key) {
            Some(other) if other == outcome => {}
            Some(other) => differences.push(format!("{key}: {outcome} vs {other}")),
            None if is_mock_only(&features, key) => intended.push(key.clone()),
            None => differences.push(format!("{key}: {outcome} vs not run")),
        }
    }
    for key in b.keys().filter(|k| !a.contains_key(*k)) {
        differences.push(format!("{key}: not run vs {}", b[key]));
    }
    let same = a.keys().filter(|k| b.contains_key(*k)).count();
    println!(
        "parity: {same} scenario(s) with the same outcome on both; {} @mock-only scenario(s) run on the first only (intended)",
        intended.len()
    );
    for key in &intended {
        println!("  mock-only: {key}");
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
