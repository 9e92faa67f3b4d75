//! `lc-mock replay` as a program (its options, output and exit codes), and replay with
//! the built-in `conformance` cloud.

use lc_mock::clouds::conformance;
use mock_server::replay::{self, Record};
use serde_json::{Value, json};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/recordings")
        .join(name)
}

fn records(name: &str) -> Vec<Record> {
    let path = fixture(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    let recordings = replay::parse_recordings(&text);
    assert!(
        recordings.errors.is_empty() && recordings.seeds.is_empty(),
        "fixture {name} has bad lines: {:?}",
        recordings.errors
    );
    recordings.records
}

/// A scratch path unique to this process and name.
fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("lc-mock-replay-{}-{name}", std::process::id()))
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path = temp_path(name);
    std::fs::write(&path, contents).expect("the temp dir is writable");
    path
}

fn json_line(out: &str) -> Value {
    serde_json::from_str(out.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("the last line is not JSON ({e}):\n{out}"))
}

#[test]
fn the_program_replays_a_file_and_ends_with_the_json_line() {
    let floors = temp_file("floors-bin.json", r#"{"Wrong":{"l1":0.9}}"#);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lc-mock"))
        .args(["replay", "--json", "--floors"])
        .arg(&floors)
        .arg(fixture("wrong.jsonl"))
        .output()
        .expect("lc-mock runs");
    let _ = std::fs::remove_file(floors);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("last line is not JSON ({e}):\n{stdout}"));
    assert_eq!(json["Wrong"]["l1"], 4);
    assert!(String::from_utf8_lossy(&output.stderr).contains("suite Wrong l1"));
}

/// A settings folder with one class, `Business`, and one row that replay must not load.
fn settings_dir(name: &str) -> PathBuf {
    let dir = temp_path(name);
    let class = dir.join("Business");
    std::fs::create_dir_all(&class).expect("the temp dir is writable");
    std::fs::write(
        class.join("schema.json"),
        r#"{"columns": {"name": {"type": "String"}, "secret": {"type": "String", "hidden": true}}}"#,
    )
    .unwrap();
    std::fs::write(
        class.join("permissions.json"),
        r#"{"delete": {"users": [], "roles": []}}"#,
    )
    .unwrap();
    std::fs::write(
        class.join("population.json"),
        json!([{"objectId": "5f0c0a0b0c0d0e0f10111205", "name": "from the settings"}]).to_string(),
    )
    .unwrap();
    dir
}

#[test]
fn the_program_takes_the_settings_option() {
    let dir = settings_dir("settings-bin");
    let line = json!({
        "suite": "Settings", "test": "empty class", "order": 0,
        "method": "GET", "path": "/1.1/classes/Business", "query": {},
        "auth": "app", "hook_key": false, "session": null, "prod": null,
        "req_body": null, "status": 200, "resp_body": {"results": []},
    });
    let file = temp_file("settings-bin.jsonl", &line.to_string());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lc-mock"))
        .args(["replay", "--json", "--cloud", "none", "--settings"])
        .arg(&dir)
        .arg(&file)
        .output()
        .expect("lc-mock runs");
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_dir_all(dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    // The class exists in every fresh app (empty: the settings' row is not loaded), so
    // the query is scored and answers no rows, as recorded.
    assert_eq!(
        json_line(&stdout)["Settings"],
        json!({"exchanges": 1, "replayable": 1, "preexisting": 0, "unanswered": 0,
               "l0": 1, "l1": 1, "l2": 1}),
        "{stdout}"
    );
}

#[test]
fn an_unknown_cloud_is_a_usage_error_naming_the_built_in_ones() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lc-mock"))
        .args(["replay", "--cloud", "nope"])
        .arg(fixture("wrong.jsonl"))
        .output()
        .expect("lc-mock runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(r#"no built-in cloud named "nope" (there are: app, conformance, none)"#),
        "{stderr}"
    );
}

/// The hook chain under replay: hand-written exchanges in the recordings' form, against
/// the built-in `conformance` cloud (the recorded app's `IgnoreHookTest` hooks), with the
/// replay waiting for after-hooks between exchanges as the recorded client did.
#[test]
fn hook_exchanges_replay_faithfully_with_the_conformance_cloud() {
    let report = replay::replay(&records("hooks.jsonl"), &|| {
        replay::fresh_app(Some(conformance::registry))
    });
    assert_eq!(report.outcomes.len(), 11);
    for o in &report.outcomes {
        assert!(
            !o.preexisting,
            "{} #{} needs nothing from before",
            o.test, o.index
        );
        assert!(
            o.l2,
            "{} #{} {} {}: expected {} got {} {}",
            o.test,
            o.index,
            o.method,
            o.path,
            o.expected_normalised,
            o.actual_status,
            o.actual_normalised
        );
    }
    // Without the cloud code the same exchanges fail: the hooks' fields are missing.
    let bare = replay::replay(&records("hooks.jsonl"), &|| replay::fresh_app(None));
    assert!(bare.outcomes.iter().any(|o| !o.l1));
    assert!(bare.outcomes.iter().any(|o| o.l1 && !o.l2));
}
