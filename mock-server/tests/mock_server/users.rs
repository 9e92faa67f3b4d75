//! Users over HTTP: sign-up, log-in and its lockout, `/users/me`, session tokens,
//! password changes, linked accounts, and the `_User` rules on the class paths. Every
//! answer any test here gets is checked for passwords (see [`App::send`]).

use crate::support::{self, error};
use lc_model::{Clock, SeededIds, Store};
use leancloud::error::code;
use leancloud::{Caller, LcError, Request};
use mock_server::api::{Api, AppConfig};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Passwords the tests use: uppercase and punctuation, so that no id, token or date can
/// contain one by chance.
const PASSWORDS: &[&str] = &["Pass-One!", "Pass-Two!", "Pass-New!", "Wrong-Pass!"];
const PW: &str = "Pass-One!";

/// A clock the tests move by hand.
#[derive(Debug)]
struct HandClock(AtomicI64);

impl Clock for HandClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

struct App {
    api: Api,
    clock: Arc<HandClock>,
}

impl App {
    fn new() -> App {
        let clock = Arc::new(HandClock(AtomicI64::new(1_700_000_000_000)));
        let store = Store::new(clock.clone(), Box::new(SeededIds::random()));
        App {
            api: Api::with_store(AppConfig::default(), store),
            clock,
        }
    }

    fn advance_ms(&self, ms: i64) {
        self.clock.0.fetch_add(ms, Ordering::Relaxed);
    }

    /// One request; the answer is checked for any trace of a password.
    fn send(
        &self,
        who: Caller<&str>,
        method: &str,
        target: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let cfg = self.api.config();
        let mut req = who.sign(Request::from_target(method, target), &support::keys(cfg));
        if let Some(body) = body {
            req = req.with_json(&body);
        }
        let resp = self.api.handle(&req);
        let text = String::from_utf8_lossy(&resp.body).into_owned();
        for pw in PASSWORDS {
            assert!(
                !text.contains(pw),
                "{method} {target} answered a password: {text}"
            );
        }
        assert!(
            !text.contains("$argon2"),
            "{method} {target} answered a hash: {text}"
        );
        let body = resp.body_json().unwrap();
        assert_no_password_key(&body, &format!("{method} {target}"));
        (resp.status, body)
    }

    fn sign_up(&self, body: Value) -> (u16, Value) {
        self.send(Caller::Anonymous, "POST", "/1.1/users", Some(body))
    }

    /// A signed-up user: (objectId, sessionToken).
    fn user(&self, name: &str) -> (String, String) {
        let (status, body) = self.sign_up(json!({"username": name, "password": PW}));
        assert_eq!(status, 201, "{body}");
        (str_of(&body, "objectId"), str_of(&body, "sessionToken"))
    }

    fn log_in(&self, body: Value) -> (u16, Value) {
        self.send(Caller::Anonymous, "POST", "/1.1/login", Some(body))
    }

    /// Every user, as the master key finds them.
    fn all_users(&self) -> Value {
        let (status, body) = self.send(Caller::Master, "GET", "/1.1/users?returnACL=true", None);
        assert_eq!(status, 200, "{body}");
        body["results"].clone()
    }
}

fn assert_no_password_key(v: &Value, what: &str) {
    match v {
        Value::Object(m) => {
            assert!(
                !m.contains_key("password"),
                "{what} answered a password key: {v}"
            );
            m.values().for_each(|x| assert_no_password_key(x, what));
        }
        Value::Array(items) => items.iter().for_each(|x| assert_no_password_key(x, what)),
        _ => {}
    }
}

fn str_of(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {v}"))
        .to_string()
}

fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

fn is_token(v: &Value) -> bool {
    v.as_str().is_some_and(|t| {
        t.len() == 25
            && t.bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    })
}

/// The sign-up body the recordings send.
fn tester1() -> Value {
    json!({"username": "tester1", "password": PW, "email": "tester1@example.com",
           "gender": "female", "phone": "415-392-0202"})
}

#[test]
fn sign_up_answers_201_with_the_whole_user_its_token_and_a_location() {
    let app = App::new();
    let req = Request::from_target("POST", "/1.1/users")
        .with_header("x-lc-id", &app.api.config().app_id)
        .with_header("x-lc-key", &app.api.config().app_key)
        .with_json(&tester1());
    let resp = app.api.handle(&req);
    assert_eq!(resp.status, 201);
    let body = resp.body_json().unwrap();
    // The recorded answer's keys, exactly.
    assert_eq!(
        keys(&body),
        [
            "createdAt",
            "email",
            "emailVerified",
            "gender",
            "mobilePhoneVerified",
            "objectId",
            "phone",
            "sessionToken",
            "updatedAt",
            "username"
        ]
    );
    assert_eq!(body["emailVerified"], false);
    assert_eq!(body["mobilePhoneVerified"], false);
    assert_eq!(body["createdAt"], body["updatedAt"]);
    assert!(is_token(&body["sessionToken"]), "{body}");
    let id = str_of(&body, "objectId");
    assert_eq!(
        resp.header("location"),
        Some(format!("/1.1/users/{id}").as_str())
    );
}

#[test]
fn sign_up_through_the_class_path_is_the_same_and_locates_the_user_there() {
    let app = App::new();
    let req = Request::from_target("POST", "/1.1/classes/_User")
        .with_header("x-lc-id", &app.api.config().app_id)
        .with_header("x-lc-key", &app.api.config().app_key)
        .with_json(&json!({"username": "ann", "password": PW}));
    let resp = app.api.handle(&req);
    assert_eq!(resp.status, 201);
    let body = resp.body_json().unwrap();
    assert!(is_token(&body["sessionToken"]));
    let id = str_of(&body, "objectId");
    assert_eq!(
        resp.header("location"),
        Some(format!("/1.1/classes/_User/{id}").as_str())
    );
    let (s, b) = app.sign_up(json!({"username": "ann", "password": PW}));
    assert_eq!(error(s, &b), LcError::username_taken());
}

#[test]
fn a_new_user_is_readable_by_everyone_and_writable_only_by_themselves() {
    let app = App::new();
    let (id, _) = app.user("ann");
    let users = app.all_users();
    assert_eq!(
        users[0]["ACL"],
        json!({"*": {"read": true}, id.clone(): {"write": true}})
    );
    let (s, b) = app.send(Caller::Anonymous, "GET", &format!("/1.1/users/{id}"), None);
    assert_eq!((s, b["username"].clone()), (200, json!("ann")));
}

#[test]
fn sign_up_errors_have_their_codes_and_messages_and_change_nothing() {
    let app = App::new();
    let (s, b) = app.sign_up(json!({"username": "ann", "password": PW, "email": "a@x.io",
                                    "mobilePhoneNumber": "+8618200008888"}));
    assert_eq!(s, 201, "{b}");
    let before = app.all_users();
    let huge = "x".repeat(17 * 1024 * 1024);
    let cases = [
        (json!({"password": PW}), LcError::username_missing()),
        (
            json!({"username": "", "password": PW}),
            LcError::username_missing(),
        ),
        (
            json!({"username": ["bob"], "password": PW}),
            LcError::invalid_username(),
        ),
        (
            json!({"username": " \t", "password": PW}),
            LcError::invalid_username(),
        ),
        (json!({"username": "bob"}), LcError::password_missing()),
        (
            json!({"username": "bob", "password": null}),
            LcError::password_missing(),
        ),
        (
            json!({"username": "bob", "password": 12345}),
            LcError::invalid_password(),
        ),
        (
            json!({"username": "ann", "password": PW}),
            LcError::username_taken(),
        ),
        (
            json!({"username": "bob", "password": PW, "email": "a@x.io"}),
            LcError::email_taken(),
        ),
        (
            json!({"username": "bob", "password": PW, "email": "not an email"}),
            LcError::invalid_email(),
        ),
        (
            json!({"username": "bob", "password": PW, "email": {"a": 1}}),
            LcError::invalid_email(),
        ),
        (
            json!({"username": "bob", "password": PW, "mobilePhoneNumber": "+8618200008888"}),
            LcError::mobile_phone_taken(),
        ),
        (
            json!({"username": "bob", "password": PW, "mobilePhoneNumber": 18200008888u64}),
            LcError::invalid_mobile_phone(),
        ),
        (
            json!({"authData": 5}),
            LcError::invalid_auth_data("authData must be an object of platform -> account data"),
        ),
        (
            json!({"authData": {"weixin": "token"}}),
            LcError::invalid_auth_data("authData.weixin must be an object"),
        ),
        (
            json!({"authData": {"anonymous": {}}}),
            LcError::linked_id_missing(),
        ),
        (
            json!({"username": "bob", "password": PW, "bio": huge}),
            LcError::object_too_large(),
        ),
    ];
    for (body, want) in cases {
        let shown: String = body.to_string().chars().take(120).collect();
        let (s, b) = app.sign_up(body);
        assert_eq!(error(s, &b), want, "{shown}");
        assert_eq!(app.all_users(), before, "{shown} changed the users");
    }
}

#[test]
fn a_huge_password_is_hashed_like_any_other() {
    let app = App::new();
    let long = format!("{}{PW}", "p".repeat(1024 * 1024));
    let (s, b) = app.sign_up(json!({"username": "ann", "password": long}));
    assert_eq!(s, 201, "{b}");
    let (s, _) = app.log_in(json!({"username": "ann", "password": long}));
    assert_eq!(s, 200);
}

#[test]
fn log_in_answers_the_user_with_the_token_it_signed_up_with() {
    let app = App::new();
    let (s, up) = app.sign_up(tester1());
    assert_eq!(s, 201);
    for _ in 0..2 {
        let (s, b) = app.log_in(json!({"username": "tester1", "password": PW}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(b, up, "log-in answers what sign-up did, token included");
    }
    let (s, b) = app.log_in(json!({"email": "tester1@example.com", "password": PW}));
    assert_eq!((s, b["objectId"].clone()), (200, up["objectId"].clone()));
}

#[test]
fn log_in_by_mobile_number_works() {
    let app = App::new();
    let (_, up) =
        app.sign_up(json!({"username": "m", "password": PW, "mobilePhoneNumber": "18200008888"}));
    let (s, b) = app.log_in(json!({"mobilePhoneNumber": "18200008888", "password": PW}));
    assert_eq!(
        (s, b["sessionToken"].clone()),
        (200, up["sessionToken"].clone())
    );
}

#[test]
fn log_in_errors_are_the_recorded_210_and_211_and_201_without_a_password() {
    let app = App::new();
    app.user("tester1");
    let (s, b) = app.log_in(json!({"username": "tester1", "password": "Wrong-Pass!"}));
    assert_eq!(
        (s, b),
        (
            400,
            json!({"code": 210, "error": "The username and password mismatch."})
        )
    );
    let (s, b) = app.log_in(json!({"username": "nobody", "password": PW}));
    assert_eq!(
        (s, b),
        (400, json!({"code": 211, "error": "Could not find user."}))
    );
    let (s, b) = app.log_in(json!({"username": "tester1"}));
    assert_eq!(error(s, &b), LcError::password_missing());
    let (s, b) = app.log_in(json!({"password": PW}));
    assert_eq!(error(s, &b), LcError::username_missing());
    let (s, b) = app.log_in(json!({"username": 1, "password": PW}));
    assert_eq!(error(s, &b), LcError::invalid_username());
}

#[test]
fn more_than_six_failed_log_ins_in_fifteen_minutes_lock_the_user_for_fifteen_minutes() {
    let app = App::new();
    app.user("ann");
    let wrong = json!({"username": "ann", "password": "Wrong-Pass!"});
    let right = json!({"username": "ann", "password": PW});
    for _ in 0..7 {
        let (s, b) = app.log_in(wrong.clone());
        assert_eq!(error(s, &b), LcError::password_mismatch());
        app.advance_ms(10_000);
    }
    let (s, b) = app.log_in(right.clone());
    assert_eq!(error(s, &b), LcError::login_locked());
    assert_eq!(b["code"], code::LOGIN_LOCKED);
    app.advance_ms(15 * 60_000 - 10_000 - 1);
    let (s, b) = app.log_in(right.clone());
    assert_eq!(error(s, &b), LcError::login_locked());
    app.advance_ms(1);
    let (s, _) = app.log_in(right);
    assert_eq!(s, 200);
}

#[test]
fn users_me_answers_the_sessions_user_and_211_without_a_valid_token() {
    let app = App::new();
    let (id, token) = app.user("ann");
    let (s, b) = app.send(Caller::User(token.as_str()), "GET", "/1.1/users/me", None);
    assert_eq!(s, 200);
    assert_eq!(
        (str_of(&b, "objectId"), str_of(&b, "sessionToken")),
        (id, token)
    );
    let recorded_211 = json!({"code": 211, "error": "Could not find user."});
    for who in [
        Caller::User("0000000000000000000000000"),
        Caller::Anonymous,
        Caller::Master,
    ] {
        let (s, b) = app.send(who, "GET", "/1.1/users/me", None);
        assert_eq!((s, b), (400, recorded_211.clone()));
    }
}

#[test]
fn a_user_is_shown_with_a_token_only_to_themselves_and_a_missing_one_is_211() {
    let app = App::new();
    let (ann, ann_token) = app.user("ann");
    let (_, bob_token) = app.user("bob");
    for path in [
        format!("/1.1/users/{ann}"),
        format!("/1.1/classes/_User/{ann}"),
    ] {
        let (s, b) = app.send(Caller::User(ann_token.as_str()), "GET", &path, None);
        assert_eq!((s, str_of(&b, "sessionToken")), (200, ann_token.clone()));
        for who in [
            Caller::User(bob_token.as_str()),
            Caller::Anonymous,
            Caller::Master,
        ] {
            let (s, b) = app.send(who, "GET", &path, None);
            assert_eq!(s, 200);
            assert_eq!(b["username"], "ann");
            assert!(b.get("sessionToken").is_none(), "{path}: {b}");
        }
    }
    for path in [
        "/1.1/users/5d831ad3f40d3a0007541fbc",
        "/1.1/classes/_User/5d831ad3f40d3a0007541fbc",
    ] {
        let (s, b) = app.send(Caller::Master, "GET", path, None);
        assert_eq!(error(s, &b), LcError::user_not_found(), "{path}");
    }
}

#[test]
fn finding_users_is_refused_to_clients_and_allowed_to_the_master_key() {
    let app = App::new();
    let (_, token) = app.user("ann");
    for who in [Caller::Anonymous, Caller::User(token.as_str())] {
        for path in ["/1.1/users", "/1.1/classes/_User"] {
            let (s, b) = app.send(who, "GET", path, None);
            assert_eq!(
                error(s, &b),
                LcError::forbidden_by_class_permissions("find"),
                "{path}"
            );
        }
    }
    let (s, b) = app.send(
        Caller::Master,
        "GET",
        "/1.1/users?where=%7B%22username%22%3A%22ann%22%7D",
        None,
    );
    assert_eq!(s, 200);
    let results = b["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert!(results[0].get("sessionToken").is_none());
}

#[test]
fn a_user_cannot_change_or_delete_another_user_but_can_change_themselves() {
    let app = App::new();
    let (ann, ann_token) = app.user("ann");
    let (bob, bob_token) = app.user("bob");
    for path in [
        format!("/1.1/users/{ann}"),
        format!("/1.1/classes/_User/{ann}"),
    ] {
        for who in [Caller::User(bob_token.as_str()), Caller::Anonymous] {
            let (s, b) = app.send(who, "PUT", &path, Some(json!({"nick": "x"})));
            assert_eq!(error(s, &b), LcError::user_cannot_be_altered(), "{path}");
            let (s, b) = app.send(who, "DELETE", &path, None);
            assert_eq!(error(s, &b), LcError::user_cannot_be_altered(), "{path}");
        }
    }
    let (s, b) = app.send(
        Caller::User(ann_token.as_str()),
        "PUT",
        &format!("/1.1/users/{ann}"),
        Some(json!({"nick": "annie"})),
    );
    assert_eq!(
        (s, keys(&b)),
        (200, vec!["objectId".to_string(), "updatedAt".to_string()])
    );
    let (_, b) = app.send(Caller::Anonymous, "GET", &format!("/1.1/users/{ann}"), None);
    assert_eq!(b["nick"], "annie");
    let (s, b) = app.send(
        Caller::User(bob_token.as_str()),
        "DELETE",
        &format!("/1.1/users/{bob}"),
        None,
    );
    assert_eq!((s, b), (200, json!({})));
    let (s, b) = app.send(
        Caller::User(bob_token.as_str()),
        "GET",
        "/1.1/users/me",
        None,
    );
    assert_eq!(
        error(s, &b),
        LcError::user_not_found(),
        "a deleted user's token stops working"
    );
    let (s, _) = app.send(Caller::Master, "DELETE", &format!("/1.1/users/{ann}"), None);
    assert_eq!(s, 200);
    assert_eq!(app.all_users(), json!([]));
}

#[test]
fn changing_the_password_with_put_rehashes_it_and_keeps_the_token() {
    let app = App::new();
    let (ann, token) = app.user("ann");
    let (s, b) = app.send(
        Caller::User(token.as_str()),
        "PUT",
        &format!("/1.1/users/{ann}"),
        Some(json!({"password": "Pass-Two!"})),
    );
    assert_eq!(s, 200, "{b}");
    let (s, _) = app.log_in(json!({"username": "ann", "password": PW}));
    assert_eq!(s, 400);
    let (s, b) = app.log_in(json!({"username": "ann", "password": "Pass-Two!"}));
    assert_eq!((s, str_of(&b, "sessionToken")), (200, token.clone()));
    let (s, b) = app.send(
        Caller::User(token.as_str()),
        "PUT",
        &format!("/1.1/users/{ann}"),
        Some(json!({"password": ""})),
    );
    assert_eq!(error(s, &b), LcError::password_missing());
    let (s, b) = app.send(
        Caller::User(token.as_str()),
        "PUT",
        &format!("/1.1/users/{ann}"),
        Some(json!({"password": {"__op": "Delete"}})),
    );
    assert_eq!(error(s, &b), LcError::invalid_password());
}

#[test]
fn uniqueness_and_formats_hold_on_update_too() {
    let app = App::new();
    app.sign_up(json!({"username": "ann", "password": PW, "email": "a@x.io"}));
    let (bob, token) = app.user("bob");
    let path = format!("/1.1/users/{bob}");
    for (body, want) in [
        (json!({"username": "ann"}), LcError::username_taken()),
        (json!({"username": 3}), LcError::invalid_username()),
        (json!({"email": "a@x.io"}), LcError::email_taken()),
        (json!({"email": "nope"}), LcError::invalid_email()),
        (
            json!({"mobilePhoneNumber": "x"}),
            LcError::invalid_mobile_phone(),
        ),
    ] {
        let (s, b) = app.send(
            Caller::User(token.as_str()),
            "PUT",
            &path,
            Some(body.clone()),
        );
        assert_eq!(error(s, &b), want, "{body}");
    }
    let (s, _) = app.send(
        Caller::User(token.as_str()),
        "PUT",
        &path,
        Some(json!({"email": "b@x.io"})),
    );
    assert_eq!(s, 200);
}

#[test]
fn refreshing_the_session_token_replaces_it_and_the_old_one_stops_working() {
    let app = App::new();
    let (ann, old) = app.user("ann");
    let (_, bob_token) = app.user("bob");
    let path = format!("/1.1/users/{ann}/refreshSessionToken");
    let (s, b) = app.send(Caller::User(bob_token.as_str()), "PUT", &path, None);
    assert_eq!(error(s, &b), LcError::user_cannot_be_altered());
    let (s, b) = app.send(Caller::User(old.as_str()), "PUT", &path, None);
    assert_eq!(s, 200);
    assert_eq!(b["username"], "ann");
    let new = str_of(&b, "sessionToken");
    assert!(is_token(&b["sessionToken"]) && new != old);
    let (s, b) = app.send(Caller::User(old.as_str()), "GET", "/1.1/users/me", None);
    assert_eq!(error(s, &b), LcError::user_not_found());
    let (s, b) = app.send(Caller::User(new.as_str()), "GET", "/1.1/users/me", None);
    assert_eq!((s, str_of(&b, "objectId")), (200, ann.clone()));
    let (s, b) = app.send(Caller::Master, "PUT", &path, None);
    assert_eq!(s, 200);
    assert_ne!(str_of(&b, "sessionToken"), new);
    let (s, b) = app.send(
        Caller::Master,
        "PUT",
        "/1.1/users/5d831ad3f40d3a0007541fbc/refreshSessionToken",
        None,
    );
    assert_eq!(error(s, &b), LcError::user_not_found());
}

#[test]
fn update_password_answers_the_recorded_keys_with_a_new_token_and_the_old_one_stops_working() {
    let app = App::new();
    let (ann, old) = app.user("ann");
    let path = format!("/1.1/users/{ann}/updatePassword");
    let (s, b) = app.send(
        Caller::User(old.as_str()),
        "PUT",
        &path,
        Some(json!({"old_password": "Wrong-Pass!", "new_password": "Pass-New!"})),
    );
    assert_eq!(error(s, &b), LcError::password_mismatch());
    let (_, bob_token) = app.user("bob");
    let (s, b) = app.send(
        Caller::User(bob_token.as_str()),
        "PUT",
        &path,
        Some(json!({"old_password": PW, "new_password": "Pass-New!"})),
    );
    assert_eq!(error(s, &b), LcError::user_cannot_be_altered());
    let (s, b) = app.send(
        Caller::User(old.as_str()),
        "PUT",
        &path,
        Some(json!({"old_password": PW})),
    );
    assert_eq!(error(s, &b), LcError::password_missing());
    app.advance_ms(5);
    let (s, b) = app.send(
        Caller::User(old.as_str()),
        "PUT",
        &path,
        Some(json!({"old_password": PW, "new_password": "Pass-New!"})),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(keys(&b), ["objectId", "sessionToken", "updatedAt"]);
    assert_eq!(str_of(&b, "objectId"), ann);
    let new = str_of(&b, "sessionToken");
    assert!(is_token(&b["sessionToken"]) && new != old);
    let (s, _) = app.send(Caller::User(old.as_str()), "GET", "/1.1/users/me", None);
    assert_eq!(s, 400);
    // The recordings log in with the new password and get the new token.
    let (s, b) = app.log_in(json!({"username": "ann", "password": "Pass-New!"}));
    assert_eq!((s, str_of(&b, "sessionToken")), (200, new));
    assert_eq!(
        b["updatedAt"],
        json!(leancloud::value::format_date(1_700_000_000_005))
    );
}

#[test]
fn an_anonymous_user_logs_in_again_with_the_same_id_and_fail_on_not_exist_is_211() {
    let app = App::new();
    let anon = json!({"authData": {"anonymous": {"id": "1b671a64-40d5-491e-99b0-da01ff1f3341"}}});
    let (s, first) = app.sign_up(anon.clone());
    assert_eq!(s, 201, "{first}");
    assert!(
        is_token(&first["username"]),
        "a generated username: {first}"
    );
    assert_eq!(first["authData"], anon["authData"]);
    let (s, again) = app.sign_up(anon.clone());
    assert_eq!(s, 200);
    assert_eq!(again["objectId"], first["objectId"]);
    assert_eq!(again["sessionToken"], first["sessionToken"]);
    let other = json!({"authData": {"anonymous": {"id": "another"}}});
    let (s, b) = app.send(
        Caller::Anonymous,
        "POST",
        "/1.1/users?failOnNotExist=true",
        Some(other),
    );
    assert_eq!(
        (s, b),
        (400, json!({"code": 211, "error": "Could not find user."}))
    );
    let (s, b) = app.send(
        Caller::Anonymous,
        "POST",
        "/1.1/users?failOnNotExist=true",
        Some(anon),
    );
    assert_eq!((s, b["objectId"].clone()), (200, first["objectId"].clone()));
    assert_eq!(app.all_users().as_array().unwrap().len(), 1);
}

#[test]
fn an_anonymous_user_who_signs_up_with_a_password_loses_the_anonymous_link() {
    let app = App::new();
    let (_, first) = app.sign_up(json!({"authData": {"anonymous": {"id": "a-1"}}}));
    let (id, token) = (str_of(&first, "objectId"), str_of(&first, "sessionToken"));
    let (s, b) = app.send(
        Caller::User(token.as_str()),
        "PUT",
        &format!("/1.1/classes/_User/{id}"),
        Some(json!({"username": "justsomeuniquename", "password": PW})),
    );
    assert_eq!(
        (s, keys(&b)),
        (200, vec!["objectId".to_string(), "updatedAt".to_string()])
    );
    // Recorded: the user then has `"authData": {}`.
    assert_eq!(app.all_users()[0]["authData"], json!({}));
    let (s, b) = app.log_in(json!({"username": "justsomeuniquename", "password": PW}));
    assert_eq!((s, str_of(&b, "sessionToken")), (200, token));
}

#[test]
fn accounts_are_linked_and_unlinked_with_put_and_one_account_links_one_user() {
    let app = App::new();
    let (ann, ann_token) = app.user("ann");
    let (bob, bob_token) = app.user("bob");
    let weixin = json!({"openid": "o-1", "access_token": "t"});
    let (s, b) = app.send(
        Caller::User(ann_token.as_str()),
        "PUT",
        &format!("/1.1/users/{ann}"),
        Some(json!({"authData": {"weixin": weixin}})),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) =
        app.sign_up(json!({"authData": {"weixin": {"openid": "o-1", "access_token": "u"}}}));
    assert_eq!(
        (s, str_of(&b, "objectId")),
        (200, ann.clone()),
        "logs ann in"
    );
    assert_eq!(str_of(&b, "sessionToken"), ann_token);
    let (s, b) = app.send(
        Caller::User(bob_token.as_str()),
        "PUT",
        &format!("/1.1/users/{bob}"),
        Some(json!({"authData.weixin": {"openid": "o-1"}})),
    );
    assert_eq!(error(s, &b), LcError::auth_data_taken());
    let (s, _) = app.send(
        Caller::User(ann_token.as_str()),
        "PUT",
        &format!("/1.1/users/{ann}"),
        Some(json!({"authData.weixin": {"__op": "Delete"}})),
    );
    assert_eq!(s, 200);
    let (s, b) = app.send(
        Caller::Anonymous,
        "POST",
        "/1.1/users?failOnNotExist=true",
        Some(json!({"authData": {"weixin": {"openid": "o-1"}}})),
    );
    assert_eq!(error(s, &b), LcError::user_not_found());
}

#[test]
fn email_requests_answer_empty_for_a_known_email_and_205_otherwise() {
    let app = App::new();
    app.sign_up(json!({"username": "ann", "password": PW, "email": "a@x.io"}));
    for path in ["/1.1/requestPasswordReset", "/1.1/requestEmailVerify"] {
        let (s, b) = app.send(
            Caller::Anonymous,
            "POST",
            path,
            Some(json!({"email": "a@x.io"})),
        );
        assert_eq!((s, b), (200, json!({})), "{path}");
        let (s, b) = app.send(
            Caller::Anonymous,
            "POST",
            path,
            Some(json!({"email": "b@x.io"})),
        );
        assert_eq!(error(s, &b), LcError::email_not_found(), "{path}");
        let (s, b) = app.send(Caller::Anonymous, "POST", path, Some(json!({})));
        assert_eq!(error(s, &b), LcError::email_missing(), "{path}");
        let (s, b) = app.send(
            Caller::Anonymous,
            "POST",
            path,
            Some(json!({"email": ["a@x.io"]})),
        );
        assert_eq!(error(s, &b), LcError::invalid_email(), "{path}");
    }
}

#[test]
fn signing_up_and_logging_in_ignore_a_stale_session_token_as_the_recordings_do() {
    let app = App::new();
    let stale = Caller::User("f4pwahaqjqz3anq8tnsivfw3i");
    let (s, up) = app.send(stale, "POST", "/1.1/users", Some(tester1()));
    assert_eq!(s, 201, "{up}");
    let (s, b) = app.send(
        stale,
        "POST",
        "/1.1/login",
        Some(json!({"username": "tester1", "password": PW})),
    );
    assert_eq!(
        (s, b["sessionToken"].clone()),
        (200, up["sessionToken"].clone())
    );
}

#[test]
fn user_routes_answer_inside_a_batch() {
    let app = App::new();
    let (ann, token) = app.user("ann");
    let (s, b) = app.send(
        Caller::User(token.as_str()),
        "POST",
        "/1.1/batch",
        Some(json!({"requests": [
            {"method": "GET", "path": format!("/1.1/users/{ann}")},
            {"method": "GET", "path": "/1.1/classes/_User/5d831ad3f40d3a0007541fbc"},
            {"method": "PUT", "path": format!("/1.1/classes/_User/{ann}"), "body": {"password": "Pass-Two!"}},
        ]})),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(b[0]["success"]["username"], "ann");
    assert_eq!(b[1]["error"]["code"], code::USER_NOT_FOUND);
    assert!(b[2]["success"]["updatedAt"].is_string(), "{b}");
    let (s, _) = app.log_in(json!({"username": "ann", "password": "Pass-Two!"}));
    assert_eq!(s, 200);
}

/// Prints how long a sign-up takes through `Api::handle` (hashing included) and how long
/// hashing alone takes, in this (debug) build. Run with
/// `cargo test -p mock-server --test users -- --ignored --nocapture`.
#[test]
#[ignore = "prints timings; no assertion"]
fn sign_up_time_is_printed() {
    use std::time::Instant;
    let n = 200;
    let app = App::new();
    let start = Instant::now();
    for i in 0..n {
        let (s, _) = app.sign_up(json!({"username": format!("user{i}"), "password": PW}));
        assert_eq!(s, 201);
    }
    let per_sign_up = start.elapsed() / n;
    let hashing = lc_model::users::PasswordHashing::default();
    let start = Instant::now();
    for _ in 0..n {
        hashing.hash(PW).unwrap();
    }
    let per_hash = start.elapsed() / n;
    let start = Instant::now();
    for i in 0..n {
        let (s, _) = app.log_in(json!({"username": format!("user{i}"), "password": PW}));
        assert_eq!(s, 200);
    }
    let per_log_in = start.elapsed() / n;
    println!(
        "sign-up {per_sign_up:?}, hash alone {per_hash:?}, log-in {per_log_in:?} (mean of {n})"
    );
}

#[test]
fn users_from_leanclouds_export_log_in_with_their_passwords_then_rehashed() {
    use lc_model::settings::{ClassFiles, ClassSpec};
    use mock_server::settings::Settings;
    // The dashboard guide's worked example: salt and hash of the password "password".
    let files = ClassFiles {
        population: Some(serde_json::json!([{
            "objectId": "5f0000000000000000000001",
            "username": "imported",
            "password": "tA7BLW+NK0UeARng0693gCaVnljkglCB9snqlpCSUKjx2RgYp8VZZOQt0S5iUtlDrkJXfT3gknS4rRqjYsd/Ug==",
            "salt": "h60d8x797d3oa0naxybxxv9bn7xpt2yiowz68mpiwou7gwr2",
            "ACL": {"*": {"read": true}}
        }])),
        ..ClassFiles::default()
    };
    let settings = Settings {
        classes: vec![ClassSpec::parse("_User", &files).expect("an exported user parses")],
        ..Settings::default()
    };
    let api =
        mock_server::api::Api::with_settings(mock_server::api::AppConfig::default(), &settings)
            .unwrap();
    let login = |password: &str| {
        crate::support::send(
            &api,
            &leancloud::Caller::Anonymous,
            "POST",
            "/1.1/login",
            Some(&serde_json::json!({"username": "imported", "password": password})),
        )
    };
    let (status, wrong) = login("Password");
    assert_eq!(
        (status, wrong["code"].clone()),
        (400, serde_json::json!(210))
    );
    let (status, user) = login("password");
    assert_eq!(status, 200, "{user}");
    assert!(
        user.get("salt").is_none() && user.get("password").is_none(),
        "{user}"
    );
    let stored = api.read_store().passwords["5f0000000000000000000001"].clone();
    assert!(
        stored.starts_with("$argon2id$"),
        "re-hashed at the first log-in: {stored}"
    );
    let (status, _) = login("password");
    assert_eq!(status, 200, "and still the same password");
    let (_, fetched) = crate::support::send(
        &api,
        &leancloud::Caller::Master,
        "GET",
        "/1.1/classes/_User/5f0000000000000000000001",
        None,
    );
    assert!(
        fetched.get("salt").is_none(),
        "the salt is no field: {fetched}"
    );
}
