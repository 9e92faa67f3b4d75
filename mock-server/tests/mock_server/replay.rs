//! `lc-mock replay`: hand-written recordings under `fixtures/recordings/` replayed
//! against a fresh emulator per test case, and the command's output and exit codes.

use crate::support::{fresh, outcome, run, temp_file};

use mock_server::replay::{self, Record, ReplayOptions, Report};
use serde_json::Value;
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

fn replay_fixture(name: &str) -> Report {
    replay::replay(&records(name), &fresh)
}

fn args(file: PathBuf) -> ReplayOptions {
    ReplayOptions {
        file,
        ..Default::default()
    }
}

#[test]
fn a_faithful_case_scores_l2_on_every_exchange() {
    let report = replay_fixture("faithful.jsonl");
    assert_eq!(report.outcomes.len(), 13);
    assert!(
        report.outcomes.iter().all(|o| !o.preexisting),
        "{}",
        report.render_preexisting()
    );
    assert!(
        report.outcomes.iter().all(|o| o.l2),
        "every exchange should reach L2:\n{}",
        report.render_failures()
    );
}

#[test]
fn deliberately_wrong_answers_fail_at_the_level_they_break() {
    let report = replay_fixture("wrong.jsonl");
    let levels = |test: &str, index: usize| {
        let o = outcome(&report, test, index);
        assert!(!o.preexisting, "{test} #{index}: {:?}", o.reasons);
        (o.l0, o.l1, o.l2)
    };
    let failures = report.render_failures();
    // The set-up exchanges are right, so each case fails exactly where it was falsified.
    assert_eq!(
        levels("wrong status", 0),
        (false, false, false),
        "{failures}"
    );
    assert_eq!(
        levels("wrong error code", 0),
        (true, true, true),
        "{failures}"
    );
    assert_eq!(
        levels("wrong error code", 1),
        (true, false, false),
        "{failures}"
    );
    assert_eq!(
        levels("wrong field value", 1),
        (true, true, false),
        "{failures}"
    );
    assert_eq!(
        levels("wrong batch item", 1),
        (true, false, false),
        "{failures}"
    );
    let field = outcome(&report, "wrong field value", 1);
    assert!(
        field.diff().contains("-  \"score\": 2") && field.diff().contains("+  \"score\": 1"),
        "the diff shows the wrong value:\n{}",
        field.diff()
    );
}

#[test]
fn ids_created_in_one_exchange_are_substituted_into_later_requests() {
    let report = replay_fixture("faithful.jsonl");
    let test = "objects/create, fetch, increment, conditional update, delete";
    let created = outcome(&report, test, 0).actual["objectId"]
        .as_str()
        .expect("the create answered an objectId")
        .to_string();
    let recorded = "5d8307fd17b54d0068f1aa87";
    assert_ne!(created, recorded, "a fresh emulator generates its own ids");

    let fetch = outcome(&report, test, 1);
    assert_eq!(fetch.path, format!("/1.1/classes/GameScore/{recorded}"));
    assert_eq!(
        fetch.request.path,
        format!("/1.1/classes/GameScore/{created}")
    );

    let conditional = outcome(&report, test, 4);
    let where_ = conditional
        .request
        .query_param("where")
        .expect("where is sent");
    assert!(
        where_.contains(&created) && !where_.contains(recorded),
        "{where_}"
    );

    let test = "objects/batch with one failing item, pointers and queries";
    let person = outcome(&report, test, 0).actual["objectId"]
        .as_str()
        .expect("the create answered an objectId")
        .to_string();
    let batch: Value = serde_json::from_slice(&outcome(&report, test, 1).request.body)
        .expect("the batch body is JSON");
    assert_eq!(
        batch["requests"][0]["body"]["author"]["objectId"], person,
        "pointers inside batch items are mapped"
    );
    let fetch_all: Value = serde_json::from_slice(&outcome(&report, test, 3).request.body)
        .expect("the batch body is JSON");
    assert_eq!(
        fetch_all["requests"][0]["path"],
        format!("/1.1/classes/Person/{person}"),
        "batch item paths are mapped"
    );
}

#[test]
fn exchanges_that_need_preexisting_data_are_sent_but_not_scored() {
    let report = replay_fixture("preexisting.jsonl");
    let flags: Vec<(String, usize, bool)> = report
        .outcomes
        .iter()
        .map(|o| (o.test.clone(), o.index, o.preexisting))
        .collect();
    let expect = |test: &str, index: usize, pre: bool| (test.to_string(), index, pre);
    assert_eq!(
        flags,
        vec![
            expect("unknown id", 0, false),
            expect("unknown id", 1, true),
            expect("unknown id", 2, false),
            expect("unknown class", 0, true),
            expect("unknown class", 1, true),
            expect("old rows", 0, false),
            expect("old rows", 1, true),
            expect("unknown session", 0, true),
        ]
    );
    let reasons = |test: &str, index: usize| outcome(&report, test, index).reasons.join("; ");
    assert!(reasons("unknown id", 1).contains("52f9be58e4b035debf88b6fb"));
    assert!(reasons("unknown class", 0).contains("class Ghost"));
    assert!(reasons("unknown class", 1).contains("class Ghost"));
    assert!(reasons("old rows", 1).contains("recorded answer"));
    assert!(reasons("unknown session", 0).contains("session"));
    assert!(
        report.outcomes.iter().all(|o| o.actual_status >= 200),
        "every exchange is still sent"
    );

    let s = report.summary()["Pre"];
    assert_eq!((s.exchanges, s.replayable, s.preexisting), (8, 3, 5));
    assert_eq!(
        report.render_failures(),
        "",
        "pre-existing exchanges never fail"
    );
}

#[test]
fn the_json_line_is_the_last_line_and_has_the_counts() {
    let mut a = args(fixture("wrong.jsonl"));
    a.json = true;
    let (code, out, _) = run(&a);
    assert_eq!(code, 0);
    let last = out.lines().last().expect("some output");
    let json: Value = serde_json::from_str(last).expect("the last line is JSON");
    assert_eq!(
        json,
        serde_json::json!({"Wrong": {
            "exchanges": 7, "replayable": 7, "preexisting": 0, "unanswered": 0,
            "l0": 6, "l1": 4, "l2": 3
        }})
    );
    assert!(out.contains("FAIL Wrong :: wrong status"), "{out}");
    assert!(out.contains("TOTAL"), "the table is printed: {out}");
}

#[test]
fn the_suite_option_keeps_only_that_suite_and_rejects_unknown_ones() {
    let mixed = [
        std::fs::read_to_string(fixture("faithful.jsonl")).unwrap(),
        std::fs::read_to_string(fixture("wrong.jsonl")).unwrap(),
    ]
    .concat();
    let file = temp_file("mixed.jsonl", &mixed);
    let mut a = args(file.clone());
    a.json = true;
    a.suites = vec!["Objects".into()];
    let (code, out, _) = run(&a);
    assert_eq!(code, 0);
    let json: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(
        json.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["Objects"]
    );

    a.suites = vec!["Nope".into()];
    let (code, _, err) = run(&a);
    assert_eq!(code, 2);
    assert!(err.contains("Nope"), "{err}");
    let _ = std::fs::remove_file(file);
}

#[test]
fn a_missing_recordings_or_floors_file_exits_with_2() {
    let (code, _, err) = run(&args(fixture("no-such-file.jsonl")));
    assert_eq!(code, 2);
    assert!(err.contains("no-such-file.jsonl"), "{err}");

    let mut a = args(fixture("wrong.jsonl"));
    a.floors = Some(fixture("no-such-floors.json"));
    let (code, _, err) = run(&a);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-floors.json"), "{err}");
}

#[test]
fn an_unmet_floor_exits_with_1_and_names_the_suite() {
    let floors = temp_file("floors-unmet.json", r#"{"Wrong":{"l0":1.0,"l2":0.4}}"#);
    let mut a = args(fixture("wrong.jsonl"));
    a.floors = Some(floors.clone());
    let (code, _, err) = run(&a);
    assert_eq!(code, 1);
    assert!(err.contains("suite Wrong l0"), "{err}");
    assert!(!err.contains("l2"), "the l2 floor (3/7) is met: {err}");
    let _ = std::fs::remove_file(floors);
}

#[test]
fn met_floors_exit_with_0() {
    let floors = temp_file("floors-met.json", r#"{"Objects":{"l0":1,"l1":1,"l2":1}}"#);
    let mut a = args(fixture("faithful.jsonl"));
    a.floors = Some(floors.clone());
    let (code, out, err) = run(&a);
    assert_eq!(code, 0, "{out}{err}");
    let _ = std::fs::remove_file(floors);
}

#[test]
fn bad_lines_are_reported_with_their_number_and_skipped() {
    let good = std::fs::read_to_string(fixture("wrong.jsonl")).unwrap();
    let first = good.lines().next().unwrap();
    let file = temp_file(
        "bad-lines.jsonl",
        &format!("{first}\n{{not json\n\n[1,2]\n{{\"suite\":\"Wrong\"}}\n"),
    );
    let mut a = args(file.clone());
    a.json = true;
    let (code, out, err) = run(&a);
    assert_eq!(code, 0);
    for line in ["line 2", "line 4", "line 5"] {
        assert!(err.contains(line), "{line} is reported: {err}");
    }
    let json: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(json["Wrong"]["exchanges"], 1);
    let _ = std::fs::remove_file(file);
}

/// The shared production recordings, when this checkout has them: every line is read and
/// every suite reported. Fidelity is not asserted here; the figures are printed.
#[test]
fn the_shared_recordings_replay_completely_when_present() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/recordings.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipped: {} is not present", path.display());
        return;
    };
    let replay::Recordings {
        records,
        seeds,
        errors,
    } = replay::parse_recordings(&text);
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(errors.is_empty(), "unreadable lines: {errors:?}");
    assert_eq!(records.len() + seeds.len(), lines);
    let report = replay::replay_seeded(&records, &seeds, &fresh);
    assert!(
        report.seed_problems.is_empty(),
        "{:?}",
        report.seed_problems
    );
    assert_eq!(report.outcomes.len(), records.len());
    let summary = report.summary();
    for r in &records {
        assert!(
            summary.contains_key(&r.exchange.suite),
            "suite {} is reported",
            r.exchange.suite
        );
    }
    println!("{}", report.render_table());
}

/// An old session token on a sign-up or a master-key request changes nothing there, so
/// those exchanges are scored; where the session decides the answer it is pre-existing.
#[test]
fn an_unknown_session_makes_an_exchange_preexisting_only_where_it_matters() {
    let report = replay_fixture("stale-session.jsonl");
    let sign_up = outcome(&report, "old token", 0);
    assert!(!sign_up.preexisting && sign_up.l2, "{sign_up:?}");
    let master_query = outcome(&report, "old token", 1);
    assert!(
        !master_query.preexisting && master_query.l2,
        "{master_query:?}"
    );
    assert!(outcome(&report, "old token", 2).preexisting);
}
