//! The `_User` rules: sign-up, log-in and lockout, tokens, updates, email requests.

use super::*;
use crate::ids::{Clock, SeededIds};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A clock tests move by hand.
#[derive(Debug)]
struct HandClock(AtomicI64);

impl Clock for HandClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

fn store_with_clock() -> (Store, Arc<HandClock>) {
    let clock = Arc::new(HandClock(AtomicI64::new(1_700_000_000_000)));
    (
        Store::new(clock.clone(), Box::new(SeededIds::new(9))),
        clock,
    )
}

fn body(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn sign_up_json(store: &mut Store, v: Value) -> Result<SignedIn, LcError> {
    let req = SignUp::parse(&body(v))?;
    let hash = req
        .password
        .as_deref()
        .map(|p| PasswordHashing::default().hash(p).unwrap());
    sign_up(store, &req, hash, &Principal::anonymous(), false)
}

fn log_in(store: &mut Store, v: Value) -> Result<SignedIn, LcError> {
    let req = LogIn::parse(&body(v))?;
    let (id, hash) = log_in_target(store, &req)?;
    if verify_password(&hash, &req.password) {
        log_in_succeeded(store, &id)
    } else {
        Err(log_in_failed(store, &id))
    }
}

#[test]
fn hashes_are_argon2id_phc_strings_that_verify_only_their_password() {
    let hash = PasswordHashing::default().hash("s3cret").unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{hash}");
    assert!(verify_password(&hash, "s3cret"));
    assert!(!verify_password(&hash, "s3cret "));
    assert!(!verify_password("not a hash", "s3cret"));
    let other = PasswordHashing::default().hash("s3cret").unwrap();
    assert_ne!(hash, other, "each hash has its own salt");
}

#[test]
fn a_costlier_hash_still_verifies_because_the_cost_is_in_the_hash() {
    let cost = PasswordHashing {
        memory_kib: 64,
        iterations: 2,
    };
    let hash = cost.hash("pw").unwrap();
    assert!(hash.contains("m=64,t=2"), "{hash}");
    assert!(verify_password(&hash, "pw"));
}

#[test]
fn sign_up_stores_the_user_without_the_password_and_with_its_own_acl() {
    let (mut s, _) = store_with_clock();
    let out = sign_up_json(
        &mut s,
        json!({"username": "ann", "password": "pw", "age": 3}),
    )
    .unwrap();
    assert!(out.created);
    let stored = s.object(CLASS, &out.user.id).unwrap();
    assert_eq!(stored.to_map()["username"], "ann");
    assert_eq!(stored.to_map()["age"], 3);
    assert_eq!(stored.to_map()["emailVerified"], false);
    assert_eq!(stored.to_map()["mobilePhoneVerified"], false);
    assert!(!stored.to_map().contains_key("password"));
    assert_eq!(
        stored.to_map()["ACL"],
        json!({"*": {"read": true}, out.user.id.clone(): {"write": true}})
    );
    assert!(verify_password(&s.passwords[out.user.id.as_str()], "pw"));
    assert_eq!(s.session_user(&out.token), Some(out.user.id.as_str()));
    assert_eq!(out.token.len(), 25);
}

#[test]
fn the_user_class_default_acl_names_the_new_user_as_owner() {
    let (mut s, _) = store_with_clock();
    s.class_mut(CLASS).settings.default_acl =
        Some(json!({"_owner": {"read": true, "write": true}}));
    let out = sign_up_json(&mut s, json!({"username": "ann", "password": "pw"})).unwrap();
    assert_eq!(
        out.user.to_map()["ACL"],
        json!({out.user.id.clone(): {"read": true, "write": true}})
    );
}

#[test]
fn sign_up_refuses_missing_blank_and_taken_credentials_and_changes_nothing() {
    let (mut s, _) = store_with_clock();
    sign_up_json(
        &mut s,
        json!({"username": "ann", "password": "pw", "email": "a@x.io", "mobilePhoneNumber": "+8618200008888"}),
    )
    .unwrap();
    let cases = [
        (json!({"password": "pw"}), LcError::username_missing()),
        (
            json!({"username": "", "password": "pw"}),
            LcError::username_missing(),
        ),
        (
            json!({"username": 5, "password": "pw"}),
            LcError::invalid_username(),
        ),
        (
            json!({"username": "  ", "password": "pw"}),
            LcError::invalid_username(),
        ),
        (json!({"username": "bob"}), LcError::password_missing()),
        (
            json!({"username": "bob", "password": ""}),
            LcError::password_missing(),
        ),
        (
            json!({"username": "bob", "password": ["x"]}),
            LcError::invalid_password(),
        ),
        (
            json!({"username": "ann", "password": "pw"}),
            LcError::username_taken(),
        ),
        (
            json!({"username": "bob", "password": "pw", "email": "a@x.io"}),
            LcError::email_taken(),
        ),
        (
            json!({"username": "bob", "password": "pw", "email": "nope"}),
            LcError::invalid_email(),
        ),
        (
            json!({"username": "bob", "password": "pw", "email": 7}),
            LcError::invalid_email(),
        ),
        (
            json!({"username": "bob", "password": "pw", "mobilePhoneNumber": "+8618200008888"}),
            LcError::mobile_phone_taken(),
        ),
        (
            json!({"username": "bob", "password": "pw", "mobilePhoneNumber": "call me"}),
            LcError::invalid_mobile_phone(),
        ),
        (
            json!({"authData": "weixin"}),
            LcError::invalid_auth_data("authData must be an object of platform -> account data"),
        ),
        (
            json!({"authData": {"weixin": {"access_token": "t"}}}),
            LcError::linked_id_missing(),
        ),
    ];
    for (case, want) in cases {
        let before = (
            s.class(CLASS).unwrap().objects.clone(),
            s.sessions.clone(),
            s.passwords.clone(),
        );
        assert_eq!(
            sign_up_json(&mut s, case.clone()).unwrap_err(),
            want,
            "{case}"
        );
        let after = (
            s.class(CLASS).unwrap().objects.clone(),
            s.sessions.clone(),
            s.passwords.clone(),
        );
        assert!(before == after, "{case} changed the store");
    }
}

#[test]
fn a_linked_account_signs_up_once_then_logs_in_and_fail_on_not_exist_is_211() {
    let (mut s, _) = store_with_clock();
    let anon = json!({"authData": {"anonymous": {"id": "0b8c3f7e-1"}}});
    let first = sign_up_json(&mut s, anon.clone()).unwrap();
    assert!(first.created);
    let name = first.user.to_map()["username"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(name.len(), 25);
    assert!(!s.passwords.contains_key(first.user.id.as_str()));
    let again = sign_up_json(&mut s, anon).unwrap();
    assert!(!again.created);
    assert_eq!(again.user.id, first.user.id);
    assert_eq!(again.token, first.token);
    let req = SignUp::parse(&body(json!({"authData": {"weixin": {"uid": "w1"}}}))).unwrap();
    let err = sign_up(&mut s, &req, None, &Principal::anonymous(), true).unwrap_err();
    assert_eq!(err, LcError::user_not_found());
    assert_eq!(s.class(CLASS).unwrap().objects.len(), 1);
}

#[test]
fn logging_in_by_a_link_stores_the_new_link_data() {
    let (mut s, _) = store_with_clock();
    let first = sign_up_json(
        &mut s,
        json!({"authData": {"weixin": {"openid": "o1", "access_token": "a"}}}),
    )
    .unwrap();
    let again = sign_up_json(
        &mut s,
        json!({"authData": {"weixin": {"openid": "o1", "access_token": "b"}}}),
    )
    .unwrap();
    assert_eq!(again.user.id, first.user.id);
    assert_eq!(
        again.user.to_map()["authData"]["weixin"]["access_token"],
        "b"
    );
}

#[test]
fn log_in_by_username_email_or_mobile_keeps_the_token() {
    let (mut s, _) = store_with_clock();
    let up = sign_up_json(
        &mut s,
        json!({"username": "ann", "password": "pw", "email": "a@x.io", "mobilePhoneNumber": "18200008888"}),
    )
    .unwrap();
    for name in [
        json!({"username": "ann"}),
        json!({"email": "a@x.io"}),
        json!({"mobilePhoneNumber": "18200008888"}),
    ] {
        let mut b = name.clone();
        b["password"] = json!("pw");
        let out = log_in(&mut s, b).unwrap();
        assert_eq!(out.user.id, up.user.id, "{name}");
        assert_eq!(out.token, up.token, "{name}");
    }
}

#[test]
fn log_in_errors_are_201_210_211_and_200() {
    let (mut s, _) = store_with_clock();
    sign_up_json(&mut s, json!({"username": "ann", "password": "pw"})).unwrap();
    let cases = [
        (json!({"username": "ann"}), LcError::password_missing()),
        (
            json!({"username": "ann", "password": "no"}),
            LcError::password_mismatch(),
        ),
        (
            json!({"username": "zed", "password": "pw"}),
            LcError::user_not_found(),
        ),
        (json!({"password": "pw"}), LcError::username_missing()),
        (
            json!({"username": {"$ne": 1}, "password": "pw"}),
            LcError::invalid_username(),
        ),
    ];
    for (case, want) in cases {
        assert_eq!(log_in(&mut s, case.clone()).unwrap_err(), want, "{case}");
    }
}

#[test]
fn more_than_six_failures_in_fifteen_minutes_lock_the_user_until_fifteen_minutes_after_the_last() {
    let (mut s, clock) = store_with_clock();
    sign_up_json(&mut s, json!({"username": "ann", "password": "pw"})).unwrap();
    let wrong = json!({"username": "ann", "password": "no"});
    let right = json!({"username": "ann", "password": "pw"});
    for _ in 0..7 {
        assert_eq!(
            log_in(&mut s, wrong.clone()).unwrap_err(),
            LcError::password_mismatch()
        );
        clock.0.fetch_add(60_000, Ordering::Relaxed);
    }
    assert_eq!(
        log_in(&mut s, right.clone()).unwrap_err(),
        LcError::login_locked()
    );
    // The last failure was a minute ago: locked for 14 more minutes.
    clock.0.fetch_add(13 * 60_000, Ordering::Relaxed);
    assert_eq!(
        log_in(&mut s, right.clone()).unwrap_err(),
        LcError::login_locked()
    );
    clock.0.fetch_add(60_000, Ordering::Relaxed);
    log_in(&mut s, right.clone()).unwrap();
    // A success clears the count.
    for _ in 0..6 {
        log_in(&mut s, wrong.clone()).unwrap_err();
    }
    log_in(&mut s, right).unwrap();
}

#[test]
fn failures_spread_over_more_than_fifteen_minutes_do_not_lock() {
    let (mut s, clock) = store_with_clock();
    sign_up_json(&mut s, json!({"username": "ann", "password": "pw"})).unwrap();
    for _ in 0..10 {
        log_in(&mut s, json!({"username": "ann", "password": "no"})).unwrap_err();
        clock.0.fetch_add(3 * 60_000, Ordering::Relaxed);
    }
    log_in(&mut s, json!({"username": "ann", "password": "pw"})).unwrap();
}

#[test]
fn refresh_and_password_change_replace_the_token() {
    let (mut s, clock) = store_with_clock();
    let up = sign_up_json(&mut s, json!({"username": "ann", "password": "pw"})).unwrap();
    let me = Principal::user(&s, &up.user.id);
    let other = Principal::user(&s, "someone");
    assert_eq!(
        refresh_session_token(&mut s, &up.user.id, &other).unwrap_err(),
        LcError::user_cannot_be_altered()
    );
    assert_eq!(
        refresh_session_token(&mut s, "missing", &Principal::master()).unwrap_err(),
        LcError::user_not_found()
    );
    let fresh = refresh_session_token(&mut s, &up.user.id, &me).unwrap();
    assert_ne!(fresh.token, up.token);
    assert_eq!(s.session_user(&up.token), None);
    let old = password_to_change(&s, &up.user.id, &me).unwrap().unwrap();
    assert!(verify_password(&old, "pw"));
    let hash = PasswordHashing::default().hash("new").unwrap();
    clock.0.fetch_add(5, Ordering::Relaxed);
    let changed = change_password(&mut s, &up.user.id, hash).unwrap();
    assert_eq!(s.session_user(&fresh.token), None);
    assert_eq!(s.session_user(&changed.token), Some(up.user.id.as_str()));
    assert!(changed.user.updated_at > up.user.updated_at);
    log_in(&mut s, json!({"username": "ann", "password": "new"})).unwrap();
}

#[test]
fn updates_check_uniqueness_and_links_and_setting_a_password_ends_anonymity() {
    let (mut s, _) = store_with_clock();
    let ann = sign_up_json(
        &mut s,
        json!({"username": "ann", "password": "pw", "authData": {"weixin": {"uid": "w"}}}),
    )
    .unwrap();
    let anon = sign_up_json(&mut s, json!({"authData": {"anonymous": {"id": "x"}}})).unwrap();
    let me = Principal::user(&s, &anon.user.id);
    let try_update = |s: &mut Store, v: Value| {
        let req = UserChanges::parse(&body(v))?;
        let hash = req
            .password
            .as_deref()
            .map(|p| PasswordHashing::default().hash(p).unwrap());
        update(s, &anon.user.id, &req.changes, None, &me, hash)
    };
    assert_eq!(
        try_update(&mut s, json!({"username": "ann"})).unwrap_err(),
        LcError::username_taken()
    );
    assert_eq!(
        try_update(&mut s, json!({"authData.weixin": {"uid": "w"}})).unwrap_err(),
        LcError::auth_data_taken()
    );
    assert_eq!(
        try_update(&mut s, json!({"username": {"__op": "Delete"}})).unwrap_err(),
        LcError::invalid_username()
    );
    assert_eq!(
        try_update(&mut s, json!({"password": 1})).unwrap_err(),
        LcError::invalid_password()
    );
    let up = try_update(&mut s, json!({"username": "anna", "password": "pw2"})).unwrap();
    assert_eq!(up.after.to_map()["authData"], json!({}));
    assert!(verify_password(&s.passwords[anon.user.id.as_str()], "pw2"));
    assert_eq!(
        s.session_user(&anon.token),
        Some(anon.user.id.as_str()),
        "the token is kept"
    );
    let other = Principal::user(&s, &ann.user.id);
    let req = UserChanges::parse(&body(json!({"nick": "x"}))).unwrap();
    assert_eq!(
        update(&mut s, &anon.user.id, &req.changes, None, &other, None).unwrap_err(),
        LcError::user_cannot_be_altered()
    );
}

#[test]
fn email_requests_name_an_existing_user() {
    let (mut s, _) = store_with_clock();
    let up = sign_up_json(
        &mut s,
        json!({"username": "ann", "password": "pw", "email": "a@x.io"}),
    )
    .unwrap();
    assert_eq!(
        user_by_email(&s, &body(json!({"email": "a@x.io"})))
            .unwrap()
            .id,
        up.user.id
    );
    assert_eq!(
        user_by_email(&s, &body(json!({}))).unwrap_err(),
        LcError::email_missing()
    );
    assert_eq!(
        user_by_email(&s, &body(json!({"email": 3}))).unwrap_err(),
        LcError::invalid_email()
    );
    assert_eq!(
        user_by_email(&s, &body(json!({"email": "b@x.io"}))).unwrap_err(),
        LcError::email_not_found()
    );
}

#[test]
fn email_and_mobile_formats() {
    for ok in ["a@b.co", "first.last+tag@mail.example.com"] {
        assert!(valid_email(ok), "{ok}");
    }
    for bad in [
        "", "a", "a@b", "@b.co", "a@.co", "a@b.", "a b@c.io", "a@b@c.io",
    ] {
        assert!(!valid_email(bad), "{bad}");
    }
    for ok in ["+8618200008888", "18200008888", "12345"] {
        assert!(valid_mobile(ok), "{ok}");
    }
    for bad in ["", "+", "1234", "182-0000-8888", "1".repeat(21).as_str()] {
        assert!(!valid_mobile(bad), "{bad}");
    }
}

#[test]
fn leanclouds_exported_hash_verifies_its_documented_example_and_nothing_else() {
    // The dashboard guide's worked example (protocol notes §7).
    let salt = "h60d8x797d3oa0naxybxxv9bn7xpt2yiowz68mpiwou7gwr2";
    let expected =
        "tA7BLW+NK0UeARng0693gCaVnljkglCB9snqlpCSUKjx2RgYp8VZZOQt0S5iUtlDrkJXfT3gknS4rRqjYsd/Ug==";
    assert_eq!(leancloud_hash(salt, "password"), expected);
    let stored = imported_hash(salt, expected);
    assert!(is_imported(&stored));
    assert!(verify_password(&stored, "password"));
    assert!(!verify_password(&stored, "Password"));
    assert!(!verify_password("leancloud-sha512$no-dollar", "password"));
}
