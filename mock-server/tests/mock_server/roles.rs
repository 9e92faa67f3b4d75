//! Roles over HTTP: the `_Role` rules, and access granted through role membership and
//! role inheritance.

use crate::support::{error, keys};
use leancloud::error::code;
use leancloud::value::pointer;
use leancloud::{Caller, LcError, Request};
use mock_server::api::{Api, AppConfig};
use serde_json::{Value, json};

struct App(Api);

impl App {
    fn new() -> App {
        App(Api::new(AppConfig::default()))
    }

    fn send(
        &self,
        who: Caller<&str>,
        method: &str,
        target: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let cfg = self.0.config();
        let mut req = who.sign(Request::from_target(method, target), &keys(cfg));
        if let Some(body) = body {
            req = req.with_json(&body);
        }
        let resp = self.0.handle(&req);
        (resp.status, resp.body_json().unwrap())
    }

    /// A user with a session token, made directly in the store.
    fn user(&self, name: &str) -> (String, String) {
        let (status, body) = self.send(
            Caller::Master,
            "POST",
            "/1.1/classes/_User",
            Some(json!({"username": name, "password": "pw"})),
        );
        assert!(status < 300, "{body}");
        let id = body["objectId"].as_str().unwrap().to_string();
        let token = format!("token{name:0>20}");
        self.0.store().sessions.insert(token.clone(), id.clone());
        (id, token)
    }

    fn role(&self, name: &str, body: Value) -> String {
        let mut body = body;
        body["name"] = json!(name);
        body["ACL"] = json!({"*": {"read": true}});
        let (status, created) = self.send(Caller::Master, "POST", "/1.1/roles", Some(body));
        assert_eq!(status, 201, "{created}");
        created["objectId"].as_str().unwrap().to_string()
    }
}

#[test]
fn a_role_needs_an_acl_a_valid_unique_name_and_keeps_it() {
    let app = App::new();
    let (s, b) = app.send(
        Caller::Master,
        "POST",
        "/1.1/roles",
        Some(json!({"name": "Mods"})),
    );
    assert_eq!(error(s, &b), LcError::role_acl_required());
    let (s, b) = app.send(
        Caller::Master,
        "POST",
        "/1.1/classes/_Role",
        Some(json!({"name": "bad name!", "ACL": {"*": {"read": true}}})),
    );
    assert_eq!((s, error(s, &b).code), (400, code::INVALID_ROLE_NAME));
    let id = app.role("Mods", json!({}));
    let (s, b) = app.send(
        Caller::Master,
        "POST",
        "/1.1/roles",
        Some(json!({"name": "Mods", "ACL": {"*": {"read": true}}})),
    );
    assert_eq!(error(s, &b).code, code::DUPLICATE_VALUE);
    let (s, b) = app.send(
        Caller::Master,
        "PUT",
        &format!("/1.1/roles/{id}"),
        Some(json!({"name": "Other"})),
    );
    assert_eq!(error(s, &b), LcError::role_name_is_fixed());
    let (s, b) = app.send(Caller::Anonymous, "GET", &format!("/1.1/roles/{id}"), None);
    assert_eq!((s, b["name"].clone()), (200, json!("Mods")));
    let (_, found) = app.send(Caller::Anonymous, "GET", "/1.1/roles", None);
    assert_eq!(found["results"].as_array().unwrap().len(), 1);
}

#[test]
fn role_members_and_members_of_inheriting_roles_get_the_roles_rights() {
    let app = App::new();
    let (alice, alice_token) = app.user("alice");
    let (bob, bob_token) = app.user("bob");
    let (_, carol_token) = app.user("carol");
    let admins = app.role(
        "Admins",
        json!({"users": {"__op": "AddRelation", "objects": [pointer("_User", &bob)]}}),
    );
    // Admins are listed in Moderators' `roles`: admins get moderator rights.
    app.role(
        "Moderators",
        json!({
            "users": {"__op": "AddRelation", "objects": [pointer("_User", &alice)]},
            "roles": {"__op": "AddRelation", "objects": [pointer("_Role", &admins)]}
        }),
    );
    let (status, post) = app.send(
        Caller::Master,
        "POST",
        "/1.1/classes/Post",
        Some(
            json!({"title": "t", "ACL": {"*": {"read": true}, "role:Moderators": {"write": true}}}),
        ),
    );
    assert_eq!(status, 201);
    let path = format!("/1.1/classes/Post/{}", post["objectId"].as_str().unwrap());
    for token in [&alice_token, &bob_token] {
        let (s, b) = app.send(
            Caller::User(token),
            "PUT",
            &path,
            Some(json!({"title": "edited"})),
        );
        assert_eq!(s, 200, "{b}");
    }
    let (s, b) = app.send(
        Caller::User(carol_token.as_str()),
        "PUT",
        &path,
        Some(json!({"title": "no"})),
    );
    assert_eq!(error(s, &b), LcError::forbidden_writing_by_acl());
    let (s, b) = app.send(Caller::Anonymous, "DELETE", &path, None);
    assert_eq!(error(s, &b), LcError::forbidden_writing_by_acl());
    let (_, got) = app.send(Caller::Anonymous, "GET", &path, None);
    assert_eq!(got["title"], "edited");
}

#[test]
fn queries_leave_out_rows_the_caller_may_not_read() {
    let app = App::new();
    let (alice, alice_token) = app.user("alice");
    for (title, acl) in [
        ("public", json!({"*": {"read": true}})),
        ("alice only", json!({alice.clone(): {"read": true}})),
        ("nobody", json!({})),
    ] {
        app.send(
            Caller::Master,
            "POST",
            "/1.1/classes/Post",
            Some(json!({"title": title, "ACL": acl})),
        );
    }
    let titles = |who| {
        let (_, b) = app.send(
            who,
            "GET",
            "/1.1/classes/Post?order=createdAt&count=1",
            None,
        );
        let titles: Vec<String> = b["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap().to_string())
            .collect();
        (titles, b["count"].as_u64().unwrap())
    };
    assert_eq!(titles(Caller::Anonymous), (vec!["public".to_string()], 1));
    assert_eq!(
        titles(Caller::User(alice_token.as_str())),
        (vec!["public".to_string(), "alice only".to_string()], 2)
    );
    assert_eq!(titles(Caller::Master).1, 3);
}

#[test]
fn an_unknown_session_token_is_211_unless_the_master_key_is_used() {
    let app = App::new();
    let (s, b) = app.send(
        Caller::User("nosuchtoken0000000000000"),
        "GET",
        "/1.1/classes/_User?limit=0",
        None,
    );
    assert_eq!(error(s, &b), LcError::user_not_found());
    let (s, _) = app.send(Caller::Master, "GET", "/1.1/date", None);
    assert_eq!(s, 200);
}

#[test]
fn a_relation_field_matches_the_pointers_it_holds_and_relation_queries_redirect() {
    let app = App::new();
    let (alice, _) = app.user("alice");
    let (bob, _) = app.user("bob");
    let editors = app.role(
        "Editors",
        json!({"users": {"__op": "AddRelation", "objects": [pointer("_User", &alice)]}}),
    );
    app.role("Empty", json!({}));
    let where_alice = serde_json::to_string(&json!({"users": pointer("_User", &alice)})).unwrap();
    let target = format!(
        "/1.1/classes/_Role?where={}",
        percent_encoding::utf8_percent_encode(&where_alice, percent_encoding::NON_ALPHANUMERIC)
    );
    let (status, found) = app.send(Caller::Master, "GET", &target, None);
    assert_eq!(status, 200, "{found}");
    let names: Vec<&Value> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["name"])
        .collect();
    assert_eq!(names, [&json!("Editors")]);
    let where_bob = serde_json::to_string(&json!({"users": pointer("_User", &bob)})).unwrap();
    let target = format!(
        "/1.1/classes/_Role?where={}",
        percent_encoding::utf8_percent_encode(&where_bob, percent_encoding::NON_ALPHANUMERIC)
    );
    assert_eq!(
        app.send(Caller::Master, "GET", &target, None).1["results"],
        json!([])
    );

    let related = serde_json::to_string(
        &json!({"$relatedTo": {"object": pointer("_Role", &editors), "key": "users"}}),
    )
    .unwrap();
    let target = format!(
        "/1.1/classes/_Role?redirectClassNameForKey=users&where={}",
        percent_encoding::utf8_percent_encode(&related, percent_encoding::NON_ALPHANUMERIC)
    );
    let (status, found) = app.send(Caller::Master, "GET", &target, None);
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["className"], "_User");
    let users: Vec<&Value> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["username"])
        .collect();
    assert_eq!(users, [&json!("alice")]);
}
