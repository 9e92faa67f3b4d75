//! `lc-mock replay` on the extended recordings format (`mock-server/RECORDINGS.md`):
//! seed lines, absent ids, `auth: "none"`, raw bodies, `upstream_error` and
//! `--settings`.
//!
//! The recordings are written here, line by line. Their answers are real: each request
//! is first sent to an "upstream" emulator holding what the recorded app had (the seed
//! rows, and the settings), in order, and its answers are written down as a recorder
//! would. Replaying them against fresh apps must then give the same answers.

use crate::support::{fresh, outcome, run, temp_file, temp_path};
use leancloud::error::code;

use lc_model::settings::{ClassFiles, ClassSpec};
use leancloud::Request;
use mock_server::api::{Api, AppConfig};
use mock_server::replay::{self, ExchangeOutcome, ReplayOptions, Report};
use mock_server::settings::Settings;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

const BIZ: &str = "5f0c0a0b0c0d0e0f10111201";
const ALICE: &str = "5f0c0a0b0c0d0e0f10111202";
const GONE: &str = "5f0c0a0b0c0d0e0f10111203";
const GHOST: &str = "5f0c0a0b0c0d0e0f10111204";
const FROM_SETTINGS: &str = "5f0c0a0b0c0d0e0f10111205";
/// Token-shaped (25 of `[0-9a-z]`), as the service's are.
const TOKEN: &str = "alicesessiontoken00000001";

fn business_row() -> Value {
    json!({
        "objectId": BIZ,
        "createdAt": "2024-01-02T03:04:05.000Z",
        "updatedAt": "2024-01-02T03:04:05.000Z",
        "name": "Cafe",
        "stars": 4,
        "ACL": {"*": {"read": true, "write": true}}
    })
}

fn alice_row() -> Value {
    json!({
        "objectId": ALICE,
        "createdAt": "2024-01-02T03:04:05.000Z",
        "updatedAt": "2024-01-02T03:04:05.000Z",
        "username": "alice",
        "password": "wonderland",
        "sessionToken": TOKEN,
        "ACL": {"*": {"read": true}, ALICE: {"write": true}}
    })
}

fn seed_line(suite: &str, test: &str, class: &str, row: Value) -> String {
    json!({"suite": suite, "test": test, "seed": {"class": class, "object": row}}).to_string()
}

fn absent_line(suite: &str, test: &str, class: &str, id: &str) -> String {
    json!({"suite": suite, "test": test, "seed": {"class": class, "absent": id}}).to_string()
}

/// One request of a recorded case.
#[derive(Clone, Copy)]
struct Ex<'a> {
    method: &'a str,
    path: &'a str,
    auth: &'a str,
    session: Option<&'a str>,
    body: Option<&'a Value>,
    /// A body that is not JSON, and its content type.
    raw: Option<(&'a str, &'a str)>,
}

fn ex<'a>(method: &'a str, path: &'a str) -> Ex<'a> {
    Ex {
        method,
        path,
        auth: "app",
        session: None,
        body: None,
        raw: None,
    }
}

impl<'a> Ex<'a> {
    fn body(mut self, body: &'a Value) -> Self {
        self.body = Some(body);
        self
    }
    fn session(mut self, token: &'a str) -> Self {
        self.session = Some(token);
        self
    }
    fn auth(mut self, auth: &'a str) -> Self {
        self.auth = auth;
        self
    }
    fn raw(mut self, text: &'a str, content_type: &'a str) -> Self {
        self.raw = Some((text, content_type));
        self
    }

    /// The request as a client with the default keys sends it.
    fn request(&self) -> Request {
        let config = AppConfig::default();
        let mut req = Request::new(self.method, self.path).with_header("x-lc-id", config.app_id);
        req = match self.auth {
            "app" => req.with_header("x-lc-key", config.app_key),
            "master" => req.with_header("x-lc-key", format!("{},master", config.master_key)),
            _ => req,
        };
        if let Some(token) = self.session {
            req = req.with_header("x-lc-session", token);
        }
        if let Some(body) = self.body {
            req = req.with_json(body);
        }
        if let Some((text, content_type)) = self.raw {
            req.body = text.as_bytes().to_vec();
            req = req.with_header("content-type", content_type);
        }
        req
    }

    /// The exchange line for a given answer.
    fn line(&self, suite: &str, test: &str, order: usize, status: u16, resp: Value) -> Value {
        let mut line = json!({
            "suite": suite, "test": test, "order": order,
            "method": self.method, "path": self.path, "query": {},
            "auth": self.auth, "hook_key": false, "session": self.session, "prod": null,
            "req_body": self.body.cloned().unwrap_or(Value::Null),
            "status": status, "resp_body": resp,
        });
        if let Some((text, content_type)) = self.raw {
            line["req_raw"] = json!(true);
            line["req_body"] = json!(text);
            line["req_content_type"] = json!(content_type);
        }
        line
    }
}

/// An app holding `classes` (settings and rows), the recorded app's stand-in.
fn upstream(classes: Vec<ClassSpec>) -> Api {
    let settings = Settings {
        dir: PathBuf::from("upstream"),
        classes,
    };
    Api::with_settings(AppConfig::default(), &settings).expect("the upstream's data loads")
}

fn class_with_rows(class: &str, rows: Vec<Value>) -> ClassSpec {
    ClassSpec::parse(
        class,
        &ClassFiles {
            population: Some(Value::Array(rows)),
            ..ClassFiles::default()
        },
    )
    .expect("a valid class")
}

/// Ask the upstream each request in turn and write the exchange lines.
fn record(upstream: &Api, suite: &str, test: &str, exchanges: &[Ex<'_>]) -> Vec<String> {
    exchanges
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let response = upstream.handle(&e.request());
            let body = response.body_json().expect("the upstream answers JSON");
            e.line(suite, test, i, response.status, body).to_string()
        })
        .collect()
}

fn replay_text(text: &str) -> Report {
    let r = replay::parse_recordings(text);
    assert!(r.errors.is_empty(), "bad lines: {:?}", r.errors);
    replay::replay_seeded(&r.records, &r.seeds, &fresh)
}

fn describe(o: &ExchangeOutcome) -> String {
    format!(
        "{} #{} {} {}: pre {} {:?}, expected {} {}, got {} {}",
        o.test,
        o.index,
        o.method,
        o.path,
        o.preexisting,
        o.reasons,
        o.expected_status,
        o.expected_normalised,
        o.actual_status,
        o.actual_normalised
    )
}

/// A scratch path unique to this process and name.
fn args(file: PathBuf) -> ReplayOptions {
    ReplayOptions {
        file,
        json: true,
        ..Default::default()
    }
}

fn json_line(out: &str) -> Value {
    serde_json::from_str(out.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("the last line is not JSON ({e}):\n{out}"))
}

/// The seeded case: GET and update a seeded object, log in as a seeded user with their
/// password, act with their seeded session token, and ask for ids known to be absent.
fn seeded_case() -> (Vec<String>, Vec<String>) {
    let app = upstream(vec![
        class_with_rows("Business", vec![business_row()]),
        class_with_rows("_User", vec![alice_row()]),
    ]);
    let rename = json!({"name": "Bistro"});
    let login = json!({"username": "alice", "password": "wonderland"});
    let nickname = json!({"nickname": "al"});
    let biz = format!("/1.1/classes/Business/{BIZ}");
    let alice = format!("/1.1/users/{ALICE}");
    let gone = format!("/1.1/classes/Business/{GONE}");
    let ghost = format!("/1.1/classes/Ghost/{GHOST}");
    let exchanges = record(
        &app,
        "Seeds",
        "seeded",
        &[
            ex("GET", &biz),
            ex("PUT", &biz).body(&rename),
            ex("GET", &biz),
            ex("GET", "/1.1/users/me").session(TOKEN),
            ex("POST", "/1.1/login").body(&login),
            ex("PUT", &alice).body(&nickname).session(TOKEN),
            ex("GET", &alice),
            ex("GET", &gone),
            ex("GET", &ghost),
        ],
    );
    let seeds = vec![
        seed_line("Seeds", "seeded", "Business", business_row()),
        seed_line("Seeds", "seeded", "_User", alice_row()),
        absent_line("Seeds", "seeded", "Business", GONE),
        absent_line("Seeds", "seeded", "Ghost", GHOST),
    ];
    (seeds, exchanges)
}

#[test]
fn seeded_objects_users_and_tokens_are_scored_and_reach_l2() {
    let (seeds, exchanges) = seeded_case();
    // Seeds may come anywhere in the file: some before, some after the exchanges.
    let text = [&seeds[..2], &exchanges[..], &seeds[2..]]
        .concat()
        .join("\n");
    let report = replay_text(&text);
    assert!(
        report.seed_problems.is_empty(),
        "{:?}",
        report.seed_problems
    );
    assert_eq!(report.outcomes.len(), 9);
    for o in &report.outcomes {
        assert!(!o.preexisting, "{}", describe(o));
        assert!(o.l2, "{}", describe(o));
    }
    // The seeded ids are used as they are, and the update reached the seeded row.
    assert_eq!(
        outcome(&report, "seeded", 0).request.path,
        format!("/1.1/classes/Business/{BIZ}")
    );
    assert_eq!(outcome(&report, "seeded", 2).actual["name"], "Bistro");
    assert_eq!(outcome(&report, "seeded", 3).actual["username"], "alice");
    assert_eq!(outcome(&report, "seeded", 4).actual["objectId"], ALICE);
    assert_eq!(outcome(&report, "seeded", 6).actual["nickname"], "al");
    assert_eq!(report.summary()["Seeds"].replayable, 9);
}

/// An absent id in a class the app has is `200 {}` (as the service answers); in a class
/// it does not have, `404` with code 101. Both are scored.
#[test]
fn absent_ids_are_scored_on_both_sides() {
    let (seeds, exchanges) = seeded_case();
    let report = replay_text(&[seeds, exchanges].concat().join("\n"));
    let o = outcome(&report, "seeded", 7);
    assert!(!o.preexisting, "{}", describe(o));
    assert_eq!((o.expected_status, o.actual_status), (200, 200));
    assert_eq!((&o.expected, &o.actual), (&json!({}), &json!({})));
    assert!(o.l2, "{}", describe(o));

    let o = outcome(&report, "seeded", 8);
    assert!(!o.preexisting, "{}", describe(o));
    assert_eq!((o.expected_status, o.actual_status), (404, 404));
    assert_eq!(o.expected["code"], code::OBJECT_NOT_FOUND);
    assert_eq!(o.actual["code"], code::OBJECT_NOT_FOUND);
    assert!(o.l2, "{}", describe(o));
}

#[test]
fn without_its_seed_lines_the_same_case_needs_preexisting_data() {
    let (_, exchanges) = seeded_case();
    let report = replay_text(&exchanges.join("\n"));
    for o in &report.outcomes {
        assert!(o.preexisting, "{}", describe(o));
    }
    let reasons = |i: usize| outcome(&report, "seeded", i).reasons.join("; ");
    assert!(reasons(0).contains(BIZ), "{}", reasons(0));
    assert!(reasons(3).contains("session"), "{}", reasons(3));
    assert!(reasons(4).contains("recorded answer"), "{}", reasons(4));
    assert!(reasons(8).contains("class Ghost"), "{}", reasons(8));
    let s = report.summary()["Seeds"];
    assert_eq!((s.exchanges, s.replayable, s.preexisting), (9, 0, 9));
}

/// `complete` seeds: the recorder saw every row of the class, even none. The class
/// exists in the fresh app, so a query of it is scored and answers no rows.
#[test]
fn a_complete_class_exists_even_without_rows() {
    let app = upstream(vec![class_with_rows("Review", Vec::new())]);
    let exchanges = record(
        &app,
        "Seeds",
        "complete",
        &[
            ex("GET", "/1.1/classes/Review"),
            ex("GET", "/1.1/roles").auth("master"),
        ],
    );
    assert!(exchanges[0].contains(r#""results":[]"#), "{}", exchanges[0]);
    let complete = |class: &str| {
        json!({"suite": "Seeds", "test": "complete", "seed": {"class": class, "complete": true}})
            .to_string()
    };
    let text = [complete("Review"), complete("_Role"), exchanges.join("\n")].join("\n");
    let report = replay_text(&text);
    assert!(
        report.seed_problems.is_empty(),
        "{:?}",
        report.seed_problems
    );
    for o in &report.outcomes {
        assert!(!o.preexisting && o.l2, "{}", describe(o));
    }

    let report = replay_text(&exchanges.join("\n"));
    let o = outcome(&report, "complete", 0);
    assert!(o.preexisting, "{}", describe(o));
    assert!(o.reasons.join("; ").contains("class Review"), "{o:?}");
    assert_eq!(
        o.actual_status, 404,
        "the class does not exist without the seed"
    );
}

#[test]
fn a_request_without_a_key_is_sent_with_the_app_id_alone() {
    let app = upstream(vec![class_with_rows("Business", vec![business_row()])]);
    let lines = record(
        &app,
        "Auth",
        "no key",
        &[ex("GET", "/1.1/users").auth("none")],
    );
    assert!(lines[0].contains(r#""auth":"none""#), "{}", lines[0]);
    let report = replay_text(&lines.join("\n"));
    let o = outcome(&report, "no key", 0);
    assert_eq!(o.request.header("x-lc-key"), None);
    assert_eq!(
        o.request.header("x-lc-id"),
        Some(AppConfig::default().app_id.as_str())
    );
    assert_eq!((o.expected_status, o.actual_status), (401, 401));
    assert!(!o.preexisting && o.l2, "{}", describe(o));
}

#[test]
fn a_raw_request_body_is_sent_as_it_was() {
    let app = upstream(Vec::new());
    let form = "name=Cafe&stars=4";
    let lines = record(
        &app,
        "Raw",
        "form body",
        &[ex("POST", "/1.1/classes/Business").raw(form, "application/x-www-form-urlencoded")],
    );
    let report = replay_text(&lines.join("\n"));
    let o = outcome(&report, "form body", 0);
    assert_eq!(o.request.body, form.as_bytes());
    assert_eq!(
        o.request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(o.expected_status >= 400, "{}", describe(o));
    assert!(!o.preexisting && o.l2, "{}", describe(o));
}

#[test]
fn a_raw_answer_is_scored_on_its_status_and_exact_text() {
    let app = upstream(Vec::new());
    let probe = ex("GET", "/1.1/nowhere");
    let answer = app.handle(&probe.request());
    let exact = String::from_utf8(answer.body.clone()).expect("UTF-8");
    let mut same = probe.line("Raw", "same text", 0, answer.status, json!(exact));
    same["resp_raw"] = json!(true);
    let mut other = probe.line(
        "Raw",
        "other text",
        0,
        answer.status,
        json!("<html><body>404 Not Found</body></html>"),
    );
    other["resp_raw"] = json!(true);
    let report = replay_text(&format!("{same}\n{other}"));

    let o = outcome(&report, "same text", 0);
    assert!(!o.preexisting, "{}", describe(o));
    assert_eq!((o.l0, o.l1, o.l2), (true, true, true), "{}", describe(o));

    let o = outcome(&report, "other text", 0);
    assert_eq!((o.l0, o.l1, o.l2), (true, true, false), "{}", describe(o));
    assert_eq!(o.expected, json!("<html><body>404 Not Found</body></html>"));
    assert_eq!(o.actual, json!(exact));
    assert!(o.diff().contains("404 Not Found"), "{}", o.diff());
}

#[test]
fn exchanges_the_upstream_did_not_answer_are_neither_sent_nor_scored() {
    let app = upstream(Vec::new());
    let thing = json!({"a": 1});
    let other = json!({"b": 2});
    let answered = record(
        &app,
        "Timeouts",
        "slow upstream",
        &[ex("POST", "/1.1/classes/Other").body(&other)],
    );
    let mut timed_out = ex("POST", "/1.1/classes/Thing").body(&thing).line(
        "Timeouts",
        "slow upstream",
        0,
        504,
        json!({"code": 124, "error": "The upstream did not answer."}),
    );
    timed_out["upstream_error"] = json!("timeout after 30 s");
    let text = format!("{timed_out}\n{}", answered[0]);

    let apps: Mutex<Vec<Arc<Api>>> = Mutex::default();
    let make = || {
        let api = fresh();
        apps.lock().unwrap().push(api.clone());
        api
    };
    let r = replay::parse_recordings(&text);
    let report = replay::replay_seeded(&r.records, &r.seeds, &make);
    let skipped = outcome(&report, "slow upstream", 0);
    assert_eq!(
        skipped.upstream_error.as_deref(),
        Some("timeout after 30 s")
    );
    assert!(!skipped.preexisting && !skipped.failed() && !skipped.scored());
    assert_eq!(skipped.actual_status, 0);
    let apps = apps.into_inner().unwrap();
    assert_eq!(apps.len(), 1);
    assert!(
        apps[0].store().class("Thing").is_none(),
        "the unanswered create was not sent"
    );
    assert!(apps[0].store().class("Other").is_some());
    assert!(outcome(&report, "slow upstream", 1).l2);

    let s = report.summary()["Timeouts"];
    assert_eq!(
        (s.exchanges, s.replayable, s.preexisting, s.unanswered, s.l2),
        (2, 1, 0, 1, 1)
    );
    assert_eq!(report.render_failures(), "");
    assert_eq!(report.render_preexisting(), "");
    assert!(
        report
            .render_unanswered()
            .contains("not scored: the upstream did not answer (timeout after 30 s)"),
        "{}",
        report.render_unanswered()
    );

    // The command lists them and counts them apart, in the table and the JSON line.
    let file = temp_file("timeouts.jsonl", &text);
    let (code, out, _) = run(&args(file.clone()));
    let _ = std::fs::remove_file(file);
    assert_eq!(code, 0);
    assert!(out.contains("SKIP Timeouts :: slow upstream [#0 line 1] POST /1.1/classes/Thing"));
    assert!(out.contains("unanswered"), "{out}");
    assert_eq!(
        json_line(&out)["Timeouts"],
        json!({"exchanges": 2, "replayable": 1, "preexisting": 0, "unanswered": 1,
               "l0": 1, "l1": 1, "l2": 1})
    );
}

#[test]
fn a_bad_seed_row_is_reported_and_the_replay_goes_on_without_it() {
    let app = upstream(vec![class_with_rows("Business", vec![business_row()])]);
    let biz = format!("/1.1/classes/Business/{BIZ}");
    let gone = format!("/1.1/classes/Business/{GONE}");
    let exchanges = record(
        &app,
        "Seeds",
        "bad seed",
        &[ex("GET", &biz), ex("GET", &gone)],
    );
    let bad_date = json!({"objectId": GONE, "createdAt": "yesterday", "name": "x"});
    let taken_token = json!({"objectId": GHOST, "username": "bob", "sessionToken": TOKEN});
    let lines = [
        seed_line("Seeds", "bad seed", "Business", business_row()),
        seed_line("Seeds", "bad seed", "Business", bad_date),
        seed_line("Seeds", "bad seed", "_User", alice_row()),
        seed_line("Seeds", "bad seed", "_User", taken_token),
        exchanges[0].clone(),
        exchanges[1].clone(),
    ];
    let file = temp_file("bad-seed.jsonl", &lines.join("\n"));
    let (code, out, err) = run(&args(file.clone()));
    let _ = std::fs::remove_file(file);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("line 2 (Seeds :: bad seed): seed Business") && err.contains("createdAt"),
        "{err}"
    );
    assert!(
        err.contains("line 4 (Seeds :: bad seed): seed _User") && err.contains("session token"),
        "{err}"
    );
    assert!(
        !err.contains("line 1 ") && !err.contains("line 3 "),
        "{err}"
    );
    assert!(out.contains("2 seed line(s) not loaded"), "{out}");
    // The good rows loaded: the GET of the seeded object is scored and right; the id
    // whose row was refused is not known, so its exchange needs pre-existing data.
    let s = &json_line(&out)["Seeds"];
    assert_eq!(s["replayable"], 1, "{out}");
    assert_eq!(s["l2"], 1, "{out}");
    assert_eq!(s["preexisting"], 1, "{out}");
}

/// A settings folder: `Business` with a hidden column and a row of its own.
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
        json!([{"objectId": FROM_SETTINGS, "name": "from the settings"}]).to_string(),
    )
    .unwrap();
    dir
}

#[test]
fn settings_give_every_fresh_app_their_schema_but_not_their_rows() {
    let dir = settings_dir("settings");
    let mut row = business_row();
    row["secret"] = json!("s3cr3t");
    // The upstream: the settings' schema and permissions, and the seed row only.
    let mut settings = Settings::load(&dir).expect("the settings load");
    settings.classes[0].population = class_with_rows("Business", vec![row.clone()]).population;
    let app = Api::with_settings(AppConfig::default(), &settings).expect("loads");
    let biz = format!("/1.1/classes/Business/{BIZ}");
    let exchanges = record(
        &app,
        "Settings",
        "hidden column",
        &[
            ex("GET", &biz),
            ex("GET", "/1.1/classes/Business"),
            ex("DELETE", &biz),
        ],
    );
    assert!(!exchanges[0].contains("s3cr3t"), "{}", exchanges[0]);
    assert!(exchanges[2].contains("\"status\":403"), "{}", exchanges[2]);
    let text = [
        vec![seed_line("Settings", "hidden column", "Business", row)],
        exchanges,
    ]
    .concat()
    .join("\n");
    let file = temp_file("settings.jsonl", &text);

    let mut a = args(file.clone());
    a.settings = Some(dir.clone());
    let (code, out, err) = run(&a);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        json_line(&out)["Settings"],
        json!({"exchanges": 3, "replayable": 3, "preexisting": 0, "unanswered": 0,
               "l0": 3, "l1": 3, "l2": 3}),
        "{out}"
    );

    // Without the settings the hidden column shows (fetch and query: L2 fails) and the
    // delete is allowed (L0 fails).
    let (code, out, _) = run(&args(file.clone()));
    assert_eq!(code, 0);
    assert!(
        out.contains("+  \"secret\": \"s3cr3t\""),
        "the diff shows the column: {out}"
    );
    let s = &json_line(&out)["Settings"];
    assert_eq!((&s["l0"], &s["l2"]), (&json!(2), &json!(0)), "{out}");

    // A settings folder that cannot be read is a usage error.
    let mut a = args(file.clone());
    a.settings = Some(temp_path("no-such-settings"));
    let (code, _, err) = run(&a);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-settings"), "{err}");

    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_dir_all(dir);
}
