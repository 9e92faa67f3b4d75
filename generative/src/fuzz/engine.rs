//! Calls to a cloud engine as the platform makes them (protocol notes §5): hooks with
//! `{"object", "user"}`, functions, the metadata list, the ping, with right and wrong
//! keys, hook keys and bodies.

use super::documents::{arb_literal, arb_object_body, arb_path};
use super::requests::{FUNCTIONS, arb_wrong_body, encode, function_body, n};
use super::{Body, Depths, Step, Target, placeholder};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

const HOOKS: &[&str] = &[
    "beforeSave",
    "afterSave",
    "beforeUpdate",
    "afterUpdate",
    "beforeDelete",
    "afterDelete",
    "onLogin",
    "onAuthData",
    "beforeFind",
    "nope",
];

/// The hooks the app's cloud code defines (`cloud/src/`).
const APP_HOOKS: &[&str] = &[
    "Business/beforeSave",
    "Business/afterSave",
    "Business/beforeUpdate",
    "Business/afterUpdate",
    "Business/afterDelete",
    "Review/beforeSave",
    "Review/afterSave",
    "Review/beforeUpdate",
    "Review/afterUpdate",
    "Review/afterDelete",
    "Address/beforeSave",
    "Address/beforeUpdate",
    "Address/afterUpdate",
    "_User/beforeSave",
    "_User/beforeUpdate",
    "_User/onLogin",
];

/// A call to a cloud engine as the platform makes it (protocol notes §5): a hook with
/// `{"object", "user"}`, a function, the metadata list, the ping; with the right and
/// wrong keys, hook key and bodies.
pub(super) fn engine_step(depths: Depths) -> impl Strategy<Value = Step> {
    let any_hook = (
        select(&["Business", "Review", "Address", "_User", "Thing", "Nope"][..]),
        select(HOOKS),
    )
        .prop_map(|(c, h)| format!("/1.1/functions/{c}/{h}"));
    let hook_path = prop_oneof![
        12 => select(APP_HOOKS).prop_map(|h| format!("/1.1/functions/{h}")),
        2 => any_hook,
        1 => select(&["sms", "email", "nope"][..]).prop_map(|t| format!("/1.1/functions/onVerified/{t}")),
    ];
    let function_path = (select(&["functions", "call"][..]), select(FUNCTIONS))
        .prop_map(|(e, f)| format!("/1.1/{e}/{}", encode(f)));
    let other_path = select(
        &[
            "/1.1/functions/_ops/metadatas",
            "/__engine/1/ping",
            "/__engine/1.1/ping",
            "/1/functions/Review/beforeSave",
            "/__engine/1.1/functions/normalizePhone",
            "/1.1/functions",
            "/1.1/functions/",
            "/1.1/functions/a/b/c",
            "/",
            "/1.1/classes/Thing",
        ][..],
    )
    .prop_map(str::to_string);
    let keys = prop_oneof![
        12 => Just(vec![("x-lc-id", "⟨id⟩"), ("x-lc-key", "⟨key⟩")]),
        6 => Just(vec![("x-lc-id", "⟨id⟩"), ("x-lc-key", "⟨master⟩,master")]),
        1 => Just(vec![("x-lc-id", "⟨id⟩"), ("x-lc-sign", "⟨sign:app⟩")]),
        1 => Just(vec![("x-lc-id", "⟨id⟩"), ("x-lc-sign", "⟨sign:wrong⟩")]),
        1 => Just(vec![]),
        1 => Just(vec![("x-lc-id", "other"), ("x-lc-key", "wrong")]),
    ];
    let hook_key =
        prop_oneof![14 => Just(Some("⟨hook⟩")), 1 => Just(Some("wrong")), 1 => Just(None)];
    let session = prop_oneof![4 => Just(None), 2 => n().prop_map(|i| Some(placeholder(&format!("token:{i}"))))];
    let user = prop_oneof![
        2 => Just(None),
        3 => n().prop_map(|i| Some(json!({
            "objectId": placeholder(&format!("user:{i}")),
            "username": placeholder(&format!("name:{i}")),
            "sessionToken": placeholder(&format!("token:{i}")),
        }))),
        1 => arb_literal().prop_map(Some),
    ];
    let object = (
        select(&["Business", "Review", "Address", "_User", "Thing"][..]),
        n(),
        arb_object_body(depths),
        prop::option::of(prop::collection::vec(arb_path(depths), 0..3)),
    )
        .prop_map(|(class, i, body, updated)| {
            let mut m = body.as_object().cloned().unwrap_or_default();
            m.insert(
                "objectId".into(),
                json!(placeholder(&format!("obj:{class}:{i}"))),
            );
            if let Some(keys) = updated {
                m.insert("_updatedKeys".into(), json!(keys));
            }
            Value::Object(m)
        });
    let hook_body = (object, user)
        .prop_map(|(object, user)| {
            let mut m = Map::new();
            m.insert("object".into(), object);
            if let Some(u) = user {
                m.insert("user".into(), u);
            }
            Body::Json(Value::Object(m))
        })
        .boxed();
    let other_body = prop_oneof![
        1 => arb_literal().prop_map(|v| Body::Json(json!({"object": v}))),
        2 => arb_wrong_body(),
        1 => Just(Body::None),
    ]
    .boxed();
    // Each kind of call with its own body mostly, and now and then another's.
    let call = prop_oneof![
        14 => (hook_path, prop_oneof![
            8 => hook_body.clone(),
            1 => function_body().prop_map(Body::Json),
            1 => other_body.clone(),
        ]),
        5 => (function_path, prop_oneof![
            6 => function_body().prop_map(Body::Json),
            1 => hook_body,
            1 => other_body.clone(),
        ]),
        1 => (other_path, other_body),
    ];
    let content_type = prop_oneof![
        8 => Just("application/json"),
        1 => Just("text/plain"),
        1 => Just("application/x-www-form-urlencoded"),
        1 => Just(""),
    ];
    let method = prop_oneof![10 => Just("POST"), 1 => Just("GET"), 1 => Just("OPTIONS")];
    (method, call, keys, hook_key, session, content_type).prop_map(
        |(method, (path, body), keys, hook_key, session, ct)| {
            let mut step = Step::api(method, path);
            step.to = Target::Engine;
            for (k, v) in keys {
                step = step.header(k, v);
            }
            if let Some(h) = hook_key {
                step = step.header("x-lc-hook-key", h);
            }
            if let Some(s) = session {
                step = step.header("x-lc-session", s);
            }
            if !ct.is_empty() {
                step = step.header("content-type", ct);
            }
            step.body(body)
        },
    )
}
