//! Bad input never panics and never changes what is stored: random bodies, keys, field
//! operations, typed values and `where` clauses are sent to the emulator in-process; a
//! refused request must leave every object exactly as it was.

use generative::cases;
use leancloud::Request;
use mock_server::api::{Api, AppConfig};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Keys that are valid, reserved, or malformed.
fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("n".to_string()),
        Just("tags".to_string()),
        Just("ACL".to_string()),
        Just("objectId".to_string()),
        Just("a.b".to_string()),
        Just("__ignore_hooks".to_string()),
        "[a-zA-Z_$.\\-0-9]{0,6}",
    ]
}

/// JSON with LeanCloud's special shapes mixed in: operations and typed values, well- and
/// ill-formed.
fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,8}".prop_map(Value::from),
        prop_oneof![
            Just("Delete"),
            Just("Increment"),
            Just("Add"),
            Just("AddUnique"),
            Just("Remove"),
            Just("AddRelation"),
            Just("BitOr"),
            Just("Batch"),
            Just("Explode")
        ]
        .prop_map(|op| json!({"__op": op})),
        prop_oneof![
            Just("Pointer"),
            Just("Date"),
            Just("GeoPoint"),
            Just("File"),
            Just("Bytes"),
            Just("Relation"),
            Just("Object"),
            Just("Nope")
        ]
        .prop_map(|t| json!({"__type": t})),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(arb_key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn arb_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::btree_map(arb_key(), arb_value(), 0..5)
            .prop_map(|m| serde_json::to_vec(&Value::Object(m.into_iter().collect())).unwrap()),
        1 => arb_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..40),
    ]
}

#[derive(Debug, Clone)]
enum Action {
    Create(Vec<u8>),
    Update(Vec<u8>, Option<String>),
    Delete(Option<String>),
    Find(String, String),
    Batch(Vec<u8>),
}

fn arb_action() -> impl Strategy<Value = Action> {
    let where_text = prop_oneof![arb_value().prop_map(|v| v.to_string()), "[ -~]{0,12}",];
    prop_oneof![
        arb_body().prop_map(Action::Create),
        (arb_body(), prop::option::of(where_text.clone())).prop_map(|(b, w)| Action::Update(b, w)),
        prop::option::of(where_text.clone()).prop_map(Action::Delete),
        (where_text, "[ -~]{0,10}").prop_map(|(w, o)| Action::Find(w, o)),
        arb_value().prop_map(|v| Action::Batch(
            serde_json::to_vec(&json!({"requests": [
                {"method": "POST", "path": "/1.1/classes/Thing", "body": v},
                {"method": "PUT", "path": "/1.1/classes/Thing/x", "body": v}
            ]}))
            .unwrap()
        )),
    ]
}

/// class -> objectId -> (fields, updatedAt)
type Objects = BTreeMap<String, BTreeMap<String, (Value, i64)>>;

/// Everything stored, comparable: every object, and the number of relation links.
fn stored(api: &Api) -> (Objects, usize) {
    let store = api.store();
    let classes = store
        .classes
        .iter()
        .map(|(name, data)| {
            let objects = data
                .objects
                .values()
                .map(|o| (o.id.to_string(), (Value::Object(o.to_map()), o.updated_at)))
                .collect();
            (name.clone(), objects)
        })
        .collect();
    (classes, store.relations.values().map(|s| s.len()).sum())
}

fn request(api: &Api, method: &str, target: &str, body: Vec<u8>) -> leancloud::Response {
    let cfg = api.config();
    let mut req = Request::from_target(method, target)
        .with_header("x-lc-id", &cfg.app_id)
        .with_header("x-lc-key", &cfg.app_key)
        .with_header("content-type", "application/json");
    req.body = body;
    api.handle(&req)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn refused_requests_change_nothing_and_nothing_panics(actions in prop::collection::vec(arb_action(), 1..8)) {
        let api = Api::new(AppConfig::default());
        let seed = request(&api, "POST", "/1.1/classes/Thing", br#"{"n": 1, "tags": ["a"]}"#.to_vec());
        prop_assert_eq!(seed.status, 201);
        let id = seed.body_json().unwrap()["objectId"].as_str().unwrap().to_string();
        for action in actions {
            let before = stored(&api);
            let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
            let resp = match &action {
                Action::Create(body) => request(&api, "POST", "/1.1/classes/Thing", body.clone()),
                Action::Update(body, w) => {
                    let target = match w {
                        Some(w) => format!("/1.1/classes/Thing/{id}?where={}", enc(w)),
                        None => format!("/1.1/classes/Thing/{id}"),
                    };
                    request(&api, "PUT", &target, body.clone())
                }
                Action::Delete(w) => {
                    let target = match w {
                        Some(w) => format!("/1.1/classes/Thing/{id}?where={}", enc(w)),
                        None => format!("/1.1/classes/Other/{id}"),
                    };
                    request(&api, "DELETE", &target, Vec::new())
                }
                Action::Find(w, order) => request(
                    &api,
                    "GET",
                    &format!("/1.1/classes/Thing?where={}&order={}", enc(w), enc(order)),
                    Vec::new(),
                ),
                Action::Batch(body) => request(&api, "POST", "/1.1/batch", body.clone()),
            };
            let body = resp.body_json();
            prop_assert!(body.is_ok(), "every answer is JSON: {:?}", action);
            let body = body.unwrap();
            prop_assert!(resp.status < 500, "{:?} -> {} {}", action, resp.status, body);
            if resp.status >= 400 {
                prop_assert!(body["code"].is_i64() && body["error"].is_string(), "{:?} -> {}", action, body);
                prop_assert_eq!(stored(&api), before, "refused {:?} ({}) changed the store", action, body);
            }
        }
    }
}
