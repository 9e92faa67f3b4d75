//! `emailVerified` and `mobilePhoneVerified` are set by the verification flows and the
//! master key only (issue 13, finding 5): a user's own update through any path, in a
//! batch or not, is refused with 117 and changes nothing; a sign-up's values are
//! replaced by `false`; the master key sets them.

use crate::support;
use leancloud::cloud::Registry;
use leancloud::{Caller, LcError};
use mock_server::api::{Api, AppConfig};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn send(api: &Api, who: Caller<&str>, method: &str, path: &str, body: Value) -> (u16, Value) {
    support::send(api, &who, method, path, Some(&body))
}

/// A signed-up user: (objectId, sessionToken).
fn user(api: &Api, name: &str) -> (String, String) {
    let (s, b) = send(
        api,
        Caller::Anonymous,
        "POST",
        "/1.1/users",
        json!({"username": name, "password": "pw"}),
    );
    assert_eq!(s, 201, "{b}");
    (
        b["objectId"].as_str().unwrap().to_string(),
        b["sessionToken"].as_str().unwrap().to_string(),
    )
}

/// The user's fields as stored.
fn stored(api: &Api, id: &str) -> serde_json::Map<String, Value> {
    let store = api.store();
    let user = store.object("_User", id).unwrap();
    let mut fields = user.to_map();
    fields.insert("updatedAt".into(), json!(user.updated_at));
    fields
}

fn read_only(flag: &str) -> (u16, Value) {
    let e = LcError::read_only_key(flag);
    (e.status, e.to_json())
}

#[test]
fn a_user_cannot_mark_their_own_email_or_phone_verified_on_any_update_path() {
    let api = Api::new(AppConfig::default());
    let (id, token) = user(&api, "ann");
    let before = stored(&api, &id);
    assert_eq!(before["emailVerified"], false);
    assert_eq!(before["mobilePhoneVerified"], false);
    for path in [
        format!("/1.1/users/{id}"),
        format!("/1.1/classes/_User/{id}"),
    ] {
        for flag in ["emailVerified", "mobilePhoneVerified"] {
            for body in [
                json!({ flag: true }),
                json!({"nick": "annie", flag: true}),
                json!({ flag: false }),
                json!({ flag: {"__op": "Delete"} }),
            ] {
                let answer = send(
                    &api,
                    Caller::User(token.as_str()),
                    "PUT",
                    &path,
                    body.clone(),
                );
                assert_eq!(answer, read_only(flag), "PUT {path} {body}");
                assert_eq!(
                    stored(&api, &id),
                    before,
                    "PUT {path} {body} changed the user"
                );
            }
            // A path into the flag fails sooner: a boolean has no fields (111).
            let (s, b) = send(
                &api,
                Caller::User(token.as_str()),
                "PUT",
                &path,
                json!({ format!("{flag}.x"): true }),
            );
            assert_eq!((s, &b["code"]), (400, &json!(111)), "{b}");
            assert_eq!(stored(&api, &id), before);
        }
    }
    // The same user may still change everything else.
    let (s, b) = send(
        &api,
        Caller::User(token.as_str()),
        "PUT",
        &format!("/1.1/users/{id}"),
        json!({"nick": "annie"}),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(stored(&api, &id)["nick"], "annie");
}

#[test]
fn a_batch_cannot_mark_a_user_verified_either() {
    let api = Api::new(AppConfig::default());
    let (id, token) = user(&api, "ann");
    let before = stored(&api, &id);
    let (s, b) = send(
        &api,
        Caller::User(token.as_str()),
        "POST",
        "/1.1/batch",
        json!({"requests": [
            {"method": "PUT", "path": format!("/1.1/users/{id}"), "body": {"emailVerified": true}},
            {"method": "PUT", "path": format!("/1.1/classes/_User/{id}"),
             "body": {"mobilePhoneVerified": true}},
        ]}),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b,
        json!([{"error": read_only("emailVerified").1}, {"error": read_only("mobilePhoneVerified").1}])
    );
    assert_eq!(stored(&api, &id), before);
}

#[test]
fn a_sign_up_starts_unverified_whatever_it_sends_on_every_path() {
    let api = Api::new(AppConfig::default());
    let flags = json!({"emailVerified": true, "mobilePhoneVerified": true});
    let mut ids = Vec::new();
    for (i, path) in ["/1.1/users", "/1.1/classes/_User"].iter().enumerate() {
        let mut body = flags.clone();
        body["username"] = json!(format!("u{i}"));
        body["password"] = json!("pw");
        let (s, b) = send(&api, Caller::Anonymous, "POST", path, body);
        assert_eq!(s, 201, "{b}");
        assert_eq!(
            (&b["emailVerified"], &b["mobilePhoneVerified"]),
            (&json!(false), &json!(false)),
            "{path}"
        );
        ids.push(b["objectId"].as_str().unwrap().to_string());
    }
    let (s, b) = send(
        &api,
        Caller::Anonymous,
        "POST",
        "/1.1/batch",
        json!({"requests": [{"method": "POST", "path": "/1.1/users",
            "body": {"username": "u2", "password": "pw", "emailVerified": true,
                     "mobilePhoneVerified": true}}]}),
    );
    assert_eq!(s, 200, "{b}");
    ids.push(b[0]["success"]["objectId"].as_str().unwrap().to_string());
    for id in ids {
        let user = stored(&api, &id);
        assert_eq!(
            (&user["emailVerified"], &user["mobilePhoneVerified"]),
            (&json!(false), &json!(false))
        );
    }
}

#[test]
fn the_master_key_sets_the_verification_flags() {
    let api = Api::new(AppConfig::default());
    let (id, _) = user(&api, "ann");
    for path in [
        format!("/1.1/users/{id}"),
        format!("/1.1/classes/_User/{id}"),
    ] {
        let (s, b) = send(
            &api,
            Caller::Master,
            "PUT",
            &path,
            json!({"emailVerified": true, "mobilePhoneVerified": true}),
        );
        assert_eq!(s, 200, "{path}: {b}");
        let user = stored(&api, &id);
        assert_eq!(
            (&user["emailVerified"], &user["mobilePhoneVerified"]),
            (&json!(true), &json!(true))
        );
        let (s, _) = send(
            &api,
            Caller::Master,
            "PUT",
            &path,
            json!({"emailVerified": false, "mobilePhoneVerified": false}),
        );
        assert_eq!(s, 200);
    }
    let (s, b) = send(
        &api,
        Caller::Master,
        "POST",
        "/1.1/users",
        json!({"username": "bob", "password": "pw", "emailVerified": true}),
    );
    assert_eq!(s, 201, "{b}");
    let bob = stored(&api, b["objectId"].as_str().unwrap());
    assert_eq!(
        (&bob["emailVerified"], &bob["mobilePhoneVerified"]),
        (&json!(true), &json!(false))
    );
}

#[test]
fn another_users_flags_are_still_206_and_a_refused_update_never_reaches_before_update() {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut registry = Registry::new();
    let seen = calls.clone();
    registry.before_update("_User", move |_req| {
        seen.fetch_add(1, Ordering::Relaxed);
        async move { Ok(()) }
    });
    let api = Arc::new(Api::new(AppConfig::default()));
    api.attach_registry(registry).unwrap();
    let (ann, ann_token) = user(&api, "ann");
    let (bob, _) = user(&api, "bob");
    let (s, b) = send(
        &api,
        Caller::User(ann_token.as_str()),
        "PUT",
        &format!("/1.1/users/{bob}"),
        json!({"emailVerified": true}),
    );
    let e = LcError::user_cannot_be_altered();
    assert_eq!((s, b), (e.status, e.to_json()));
    let answer = send(
        &api,
        Caller::User(ann_token.as_str()),
        "PUT",
        &format!("/1.1/users/{ann}"),
        json!({"emailVerified": true}),
    );
    assert_eq!(answer, read_only("emailVerified"));
    assert_eq!(
        calls.load(Ordering::Relaxed),
        0,
        "the hook never heard of it"
    );
    let (s, _) = send(
        &api,
        Caller::User(ann_token.as_str()),
        "PUT",
        &format!("/1.1/users/{ann}"),
        json!({"nick": "annie"}),
    );
    assert_eq!(s, 200);
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}
