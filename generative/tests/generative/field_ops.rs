//! Field operations, differential: an object is created (its body may already hold
//! operations on missing fields, and a `stats` object), then updated by random steps,
//! each a body of one to three operations on distinct keys (`Increment`, `Decrement`,
//! `Add`, `AddUnique`, `Remove`, `Delete`, bit operations, plain sets, `Increment` on the
//! dot path `stats.n`), sent in-process. After every step the stored object is compared
//! with [`generative::Reference`]; when the update asks for `new=true` (fetch when save),
//! its answer must show the updated top-level fields with their new values (notes §1.3).
//!
//! `AddUnique` is checked as appending in order; the notes leave the position of the
//! added items unspecified, so this is stricter than they are.
//!
//! Cases: 128 by default (`PROPTEST_CASES` to change), each with up to 11 steps.

use generative::{Action, Reference, arb_action, arb_step, body_of, check, distinct_fields};
use leancloud::Request;
use mock_server::api::{Api, AppConfig};
use proptest::prelude::*;
use serde_json::{Value, json};

fn send(api: &Api, method: &str, target: &str, body: Option<&Value>) -> (u16, Value) {
    let cfg = api.config();
    let mut req = Request::from_target(method, target)
        .with_header("x-lc-id", &cfg.app_id)
        .with_header("x-lc-key", &cfg.app_key);
    if let Some(body) = body {
        req = req.with_json(body);
    }
    let resp = api.handle(&req);
    (
        resp.status,
        resp.body_json().expect("the emulator answers JSON"),
    )
}

fn ints(v: Option<&Value>) -> Option<Vec<i64>> {
    v.map(|t| {
        t.as_array()
            .map(|a| a.iter().map(|v| v.as_i64().unwrap_or(i64::MIN)).collect())
            .unwrap_or_default()
    })
}

/// The reference's fields as stored JSON shows them.
fn compare(stored: &Value, reference: &Reference, after: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        stored.get("n").and_then(Value::as_i64),
        reference.n,
        "n after {}: {}",
        after,
        stored
    );
    prop_assert_eq!(
        ints(stored.get("tags")),
        reference.tags.clone(),
        "tags after {}: {}",
        after,
        stored
    );
    prop_assert_eq!(
        stored.get("bits").and_then(Value::as_i64),
        reference.bits,
        "bits after {}: {}",
        after,
        stored
    );
    prop_assert_eq!(
        stored
            .get("stats")
            .and_then(|s| s.get("n"))
            .and_then(Value::as_i64),
        reference.stats_n,
        "stats.n after {}: {}",
        after,
        stored
    );
    Ok(())
}

/// The value the reference gives a top-level key of [`Action::field`].
fn expected_value(reference: &Reference, field: &str) -> Option<Value> {
    match field {
        "n" => reference.n.map(Value::from),
        "tags" => reference.tags.clone().map(|t| json!(t)),
        "bits" => reference.bits.map(Value::from),
        other => panic!("no top-level value for {other}"),
    }
}

fn arb_create_body() -> impl Strategy<Value = Vec<Action>> {
    prop::collection::vec(
        arb_action().prop_filter("allowed on create", Action::on_create),
        0..3,
    )
    .prop_map(distinct_fields)
}

#[test]
fn field_operations_match_the_reference() {
    let strategy = (
        arb_create_body(),
        prop::option::of(-5i64..5),
        prop::collection::vec((arb_step(), any::<bool>()), 1..12),
    );
    check("field_ops", 128, strategy, |(initial, stats, steps)| {
        let api = Api::new(AppConfig::default());
        let mut reference = Reference::default();
        let mut body = body_of(&initial);
        body["stats"] = match stats {
            Some(n) => json!({"n": n}),
            None => json!({}),
        };
        reference.stats_n = stats;
        for action in &initial {
            reference.apply(action);
        }
        let (status, created) = send(&api, "POST", "/1.1/classes/Item", Some(&body));
        prop_assert_eq!(status, 201, "create {} -> {}", body, created);
        let id = created["objectId"].as_str().unwrap().to_string();
        let (_, stored) = send(&api, "GET", &format!("/1.1/classes/Item/{id}"), None);
        compare(&stored, &reference, &format!("create {body}"))?;

        for (step, fetch) in &steps {
            let body = body_of(step);
            let target = match fetch {
                true => format!("/1.1/classes/Item/{id}?new=true"),
                false => format!("/1.1/classes/Item/{id}"),
            };
            let (status, answer) = send(&api, "PUT", &target, Some(&body));
            prop_assert_eq!(status, 200, "{:?} -> {}", step, answer);
            for action in step {
                reference.apply(action);
            }
            if *fetch {
                for action in step.iter().filter(|a| a.field() != "stats.n") {
                    let want = expected_value(&reference, action.field());
                    prop_assert_eq!(
                        answer.get(action.field()).cloned(),
                        want,
                        "new=true answer to {:?}: {}",
                        step,
                        answer
                    );
                }
            }
            let (_, stored) = send(&api, "GET", &format!("/1.1/classes/Item/{id}"), None);
            compare(&stored, &reference, &format!("{step:?}"))?;
        }
        Ok(())
    });
}
