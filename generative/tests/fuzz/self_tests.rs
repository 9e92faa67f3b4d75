//! The checks themselves: each must see the problem it exists for, and the runner must
//! act on it.

use crate::check::{self, Binding, Property};
use crate::runner::{self, Stats};
use crate::serial;
use generative::fuzz::Target;
use generative::fuzz::{self, App, Body, Case, Step};
use leancloud::{Request, Response};
use serde_json::json;

/// Replace the first `Business` row by what `change` makes of it, as a direct write to
/// the store (not through the api) would.
fn change_first_business(
    store: &mut lc_model::Store,
    change: impl Fn(&lc_model::StoredObject) -> lc_model::StoredObject,
) {
    let first = store
        .class("Business")
        .and_then(|c| c.objects.values().next())
        .expect("the fixtures have a business")
        .clone();
    store.insert_object("Business", change(&first));
}

fn resp(status: u16, body: &str) -> Response {
    Response {
        status,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    }
}

fn problems(target: Target, plain: bool, req: &Request, r: &Response) -> Vec<Property> {
    check::answer(target, plain, req, r)
        .into_iter()
        .map(|p| p.property)
        .collect()
}

#[test]
fn answers_are_checked_for_shape() {
    let get = Request::new("GET", "/1.1/classes/Thing");
    let ok = |r: &Response| problems(Target::Api, true, &get, r);
    assert_eq!(ok(&resp(200, r#"{"results":[]}"#)), vec![]);
    assert_eq!(ok(&resp(404, r#"{"code":101,"error":"x"}"#)), vec![]);
    assert_eq!(
        ok(&resp(400, r#"{"code":"101","error":"x"}"#)),
        vec![Property::ErrorShape]
    );
    assert_eq!(
        ok(&resp(400, r#"{"code":1,"error":"x","more":1}"#)),
        vec![Property::ErrorShape]
    );
    assert_eq!(ok(&resp(400, "")), vec![Property::ErrorShape]);
    assert_eq!(ok(&resp(200, "{")), vec![Property::NotJson]);
    assert_eq!(ok(&resp(200, "")), vec![]);
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert_eq!(ok(&resp(200, &deep)), vec![], "deep JSON is JSON");
    assert_eq!(ok(&resp(400, &deep)), vec![Property::ErrorShape]);
    assert_eq!(
        ok(&resp(200, r#"{"code":1,"error":"x"}"#)),
        vec![Property::ErrorWith200]
    );
    assert_eq!(ok(&resp(302, "{}")), vec![]);
    assert_eq!(ok(&resp(199, "{}")), vec![Property::Status]);
    assert_eq!(
        ok(&resp(500, r#"{"code":1,"error":"x"}"#)),
        vec![Property::Internal]
    );
    assert_eq!(
        problems(
            Target::Api,
            false,
            &get,
            &resp(500, r#"{"code":1,"error":"x"}"#)
        ),
        vec![]
    );
    let batch = Request::new("POST", "/1.1/batch");
    assert_eq!(
        problems(
            Target::Api,
            true,
            &batch,
            &resp(200, r#"[{"success":{}},{"error":{"code":1,"error":"x"}}]"#)
        ),
        vec![]
    );
    assert_eq!(
        problems(
            Target::Api,
            true,
            &batch,
            &resp(200, r#"[{"error":{"code":1}}]"#)
        ),
        vec![Property::ErrorShape]
    );
}

#[test]
fn a_function_error_with_200_is_finding_4_while_it_is_open() {
    let call = Request::new("POST", "/1.1/functions/fn");
    let found = check::answer(
        Target::Api,
        false,
        &call,
        &resp(200, r#"{"code":107,"error":"x"}"#),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].finding, fuzz::is_open(4).then_some(4));
}

#[test]
fn refusals_are_told_apart() {
    let batch = Request::new("POST", "/1.1/batch");
    let b = |body: &str| check::binding(Target::Api, &batch, &resp(200, body));
    assert_eq!(b(r#"[{"error":{"code":1,"error":"x"}}]"#), Binding::Refused);
    assert_eq!(
        b(r#"[{"error":{"code":1,"error":"x"}},{"success":{}}]"#),
        Binding::Accepted
    );
    assert_eq!(b("[]"), Binding::Accepted);
    let put = Request::new("PUT", "/1.1/classes/Thing/x");
    assert_eq!(
        check::binding(Target::Api, &put, &resp(403, "{}")),
        Binding::Refused
    );
    let after = Request::new("POST", "/1.1/functions/Review/afterSave");
    assert_eq!(
        check::binding(Target::Engine, &after, &resp(500, "{}")),
        Binding::Exempt
    );
    let before = Request::new("POST", "/1.1/functions/Review/beforeSave");
    assert_eq!(
        check::binding(Target::Engine, &before, &resp(400, "{}")),
        Binding::Refused
    );
    let get = Request::new("GET", "/1.1/classes/Thing");
    assert_eq!(
        check::binding(Target::Api, &get, &resp(200, "{}")),
        Binding::Read
    );
    assert_eq!(
        check::binding(Target::Engine, &get, &resp(200, "{}")),
        Binding::Accepted
    );
}

#[test]
fn writes_by_cloud_code_are_found_in_the_traces() {
    let line = "POST /1.1/classes/Review";
    let hook_wrote = json!({"request": line, "status": 400, "hooks": [
        {"hook": "beforeSave", "requests": [
            {"request": "GET /1.1/classes/Business/x", "status": 200, "hooks": []},
            {"request": "PUT /1.1/users/u", "status": 200, "hooks": []}]}]});
    assert!(check::cloud_code_wrote(
        std::slice::from_ref(&hook_wrote),
        line
    ));
    let only_read = json!({"request": line, "status": 400, "hooks": [
        {"hook": "beforeSave", "requests": [
            {"request": "GET /1.1/classes/Business/x", "status": 200, "hooks": []},
            {"request": "PUT /1.1/users/u", "status": 403, "hooks": []}]}]});
    assert!(!check::cloud_code_wrote(&[only_read], line));
    // A function's own requests follow it at the top level.
    let call = "POST /1.1/functions/f";
    let function = json!({"request": call, "status": 400, "hooks": []});
    let its_write = json!({"request": "PUT /1.1/classes/Business/b", "status": 200, "hooks": []});
    assert!(check::cloud_code_wrote(
        &[function.clone(), its_write.clone()],
        call
    ));
    // Earlier requests are not the function's.
    assert!(!check::cloud_code_wrote(&[its_write, function], call));
    assert!(!check::cloud_code_wrote(
        &[hook_wrote],
        "POST /1.1/classes/Other"
    ));
}

#[test]
fn the_fingerprint_sees_every_kind_of_change() {
    let _serial = serial();
    let api = &runner::Apps::get().plain.api;
    api.reset();
    let before = crate::fingerprint::of(&api.store());
    assert_eq!(crate::fingerprint::of(&api.store()), before);
    type Change = Box<dyn Fn(&mut lc_model::Store)>;
    let changes: Vec<Change> = vec![
        Box::new(|s| {
            change_first_business(s, |obj| {
                let mut fields = obj.to_map();
                fields.insert("name".into(), json!("changed"));
                obj.with_fields(&fields)
            })
        }),
        Box::new(|s| {
            change_first_business(s, |obj| {
                let mut changed = obj.clone();
                changed.updated_at += 1;
                changed
            })
        }),
        Box::new(|s| {
            s.sessions.insert("r:new".into(), "u".into());
        }),
        Box::new(|s| {
            s.class_mut("Thing");
        }),
        Box::new(|s| {
            let key = s.relations.keys().next().cloned().unwrap();
            s.relations.get_mut(&key).unwrap().insert("someone".into());
        }),
        Box::new(|s| {
            change_first_business(s, |obj| {
                let mut fields = obj.to_map();
                fields.insert("extra".into(), json!([1, {"two": 2}]));
                obj.with_fields(&fields)
            })
        }),
    ];
    for (i, change) in changes.iter().enumerate() {
        api.reset();
        change(&mut api.store());
        let after = crate::fingerprint::of(&api.store());
        assert_ne!(after, before, "change {i} unseen");
        assert!(!after.diff(&before, &api.store()).is_empty());
    }
    api.reset();
    assert_eq!(crate::fingerprint::of(&api.store()), before);
}

#[test]
fn a_case_runs_and_its_steps_reach_real_objects() {
    let _serial = serial();
    let keys = vec![
        ("x-lc-id".to_string(), "⟨id⟩".to_string()),
        ("x-lc-key".to_string(), "⟨key⟩".to_string()),
    ];
    let case = Case {
        app: App::Cloud,
        steps: vec![
            Step::api("POST", "/1.1/login")
                .headers(keys.clone())
                .body(Body::Json(
                    json!({"username": "⟨name:0⟩", "password": "⟨pass:0⟩"}),
                )),
            Step::api("GET", "/1.1/users/me")
                .headers(keys.clone())
                .header("x-lc-session", "⟨token:0⟩"),
            Step::api("PUT", "/1.1/classes/Business/⟨obj:Business:0⟩")
                .headers(keys)
                .body(Body::Json(
                    json!({"name": {"__op": "Increment", "amount": "x"}}),
                )),
        ],
    };
    let mut stats = Stats::default();
    runner::run_case(runner::Apps::get(), &case, &mut stats, None).expect("the case passes");
    assert_eq!(stats.api_requests, 3);
    assert_eq!(stats.statuses[2], 2, "log-in and users/me answer 200");
    assert_eq!(stats.refused, 1, "the bad increment is refused");
}

/// An engine whose `Thing` beforeSave changes the store and then refuses the write:
/// directly (no request, as a bug in the emulator would), or through a request of its
/// own (as cloud code may).
struct Sneaky {
    api: std::sync::OnceLock<std::sync::Weak<mock_server::api::Api>>,
    through_a_request: bool,
}

impl leancloud::Transport for Sneaky {
    fn send(
        &self,
        request: Request,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Response, leancloud::LcError>> + Send>,
    > {
        let answer = if request.path.ends_with("/_ops/metadatas") {
            resp(200, r#"{"result":["__before_save_for_Thing"]}"#)
        } else {
            let api = self
                .api
                .get()
                .and_then(std::sync::Weak::upgrade)
                .expect("the app");
            if self.through_a_request {
                let cfg = api.config();
                let write = Request::new("POST", "/1.1/classes/Log")
                    .with_header("x-lc-id", &cfg.app_id)
                    .with_header("x-lc-key", format!("{},master", cfg.master_key))
                    .with_json(&json!({"note": "the hook ran"}));
                assert_eq!(api.handle(&write).status, 201);
            } else {
                api.store().class_mut("Sneaky");
            }
            resp(400, r#"{"code":142,"error":"refused"}"#)
        };
        Box::pin(std::future::ready(Ok(answer)))
    }
}

fn sneaky_subject(through_a_request: bool) -> runner::Subject {
    let api = std::sync::Arc::new(mock_server::api::Api::new(Default::default()));
    let engine = std::sync::Arc::new(Sneaky {
        api: std::sync::OnceLock::new(),
        through_a_request,
    });
    let _ = engine.api.set(std::sync::Arc::downgrade(&api));
    api.attach_cloud(engine).expect("attaches");
    runner::Subject::new(api)
}

#[test]
fn a_refused_request_that_changed_the_store_fails_the_case() {
    let _serial = serial();
    let keys = vec![
        ("x-lc-id".to_string(), "⟨id⟩".to_string()),
        ("x-lc-key".to_string(), "⟨key⟩".to_string()),
    ];
    let case = Case {
        app: App::Cloud,
        steps: vec![
            Step::api("POST", "/1.1/classes/Thing")
                .headers(keys)
                .body(Body::Json(json!({"n": 1}))),
        ],
    };
    let mut stats = Stats::default();
    let failure = runner::run_case_on(&sneaky_subject(false), &case, &mut stats, None)
        .expect_err("the change is seen");
    assert_eq!(failure.problem.property, Property::StoreChanged);
    assert_eq!(failure.step, 0);

    // The same change made by the hook's own request is cloud code's, not the refusal's.
    let mut stats = Stats::default();
    runner::run_case_on(&sneaky_subject(true), &case, &mut stats, None)
        .expect("a write by cloud code is allowed");
    assert_eq!((stats.refused, stats.written_by_cloud_code), (1, 1));
}

#[test]
fn kept_seeds_replay_in_the_first_round_only_and_new_ones_are_kept() {
    use proptest::test_runner::{FailurePersistence, FileFailurePersistence, PersistedSeed};
    let path: &'static str = Box::leak(
        format!("{}/fuzz-seeds-self-test.txt", env!("CARGO_TARGET_TMPDIR")).into_boxed_str(),
    );
    let _ = std::fs::remove_file(path);
    let file = FileFailurePersistence::Direct(path);
    let mut later_round = crate::SaveOnly(Box::new(file));
    let seed: PersistedSeed = format!("cc {}", "ab".repeat(32)).parse().expect("a seed");
    later_round.save_persisted_failure2(None, seed.clone(), &"the shrunk case");
    assert_eq!(later_round.load_persisted_failures2(None), vec![]);
    assert_eq!(file.load_persisted_failures2(None), vec![seed]);
}

#[test]
fn a_function_answer_without_result_is_finding_4_while_it_is_open() {
    let call = Request::new("POST", "/1.1/functions/fn");
    let found = check::answer(Target::Api, false, &call, &resp(200, "null"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].property, Property::FunctionShape);
    assert_eq!(found[0].finding, fuzz::is_open(4).then_some(4));
    assert!(check::answer(Target::Api, false, &call, &resp(200, r#"{"result":null}"#)).is_empty());
    let find = Request::new("GET", "/1.1/classes/Thing");
    assert!(check::answer(Target::Api, false, &find, &resp(200, "null")).is_empty());
}

#[test]
fn faults_follow_from_the_case_number_alone() {
    use crate::faults::{Fault, fault_of};
    // The corpus's finding-4 cases rely on these.
    let path = "/1.1/functions/normalizePhone";
    assert_eq!(fault_of(3, path), Fault::Closed);
    assert_eq!(fault_of(1, path), Fault::NotJson);
    assert_eq!(fault_of(13, path), Fault::Null);
    assert_eq!(fault_of(2, path), Fault::ServerErrorEmptyObject);
}
