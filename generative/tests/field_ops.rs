//! Random sequences of field operations on one object, sent to the emulator in-process,
//! checked after every step against [`generative::Reference`].

use generative::{Reference, arb_action, cases};
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(128)))]

    #[test]
    fn field_operations_match_the_reference(actions in prop::collection::vec(arb_action(), 1..12)) {
        let api = Api::new(AppConfig::default());
        let (status, created) = send(&api, "POST", "/1.1/classes/Item", Some(&json!({})));
        prop_assert_eq!(status, 201);
        let id = created["objectId"].as_str().unwrap().to_string();
        let mut reference = Reference::default();
        for action in &actions {
            let (status, body) = send(&api, "PUT", &format!("/1.1/classes/Item/{id}"), Some(&action.body()));
            prop_assert_eq!(status, 200, "{:?} -> {}", action, body);
            reference.apply(action);
            let (_, stored) = send(&api, "GET", &format!("/1.1/classes/Item/{id}"), None);
            prop_assert_eq!(stored.get("n").and_then(Value::as_i64), reference.n, "after {:?}: {}", action, stored);
            let tags: Option<Vec<i64>> = stored.get("tags").map(|t| {
                t.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
            });
            prop_assert_eq!(tags, reference.tags.clone(), "after {:?}: {}", action, stored);
        }
    }
}
