//! Users and sessions: who "I" am. Fixture users log in with `<username>-pass`.

use crate::{Session, World};
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use leancloud::Caller;
use serde_json::{Value, json};

/// The password of a fixture user (and of users signed up by a scenario).
pub fn password_of(username: &str) -> String {
    format!("{username}-pass")
}

/// Keep the session an answer carries and make that user "me".
pub(crate) fn remember_session(world: &mut World, username: &str, answer_body: &Value) {
    let token = answer_body["sessionToken"].as_str();
    let id = answer_body["objectId"].as_str();
    if let (Some(token), Some(id)) = (token, id) {
        world.sessions.insert(
            username.to_string(),
            Session {
                user_id: id.to_string(),
                token: token.to_string(),
            },
        );
        world
            .named
            .insert(("_User".into(), username.into()), id.to_string());
        world.me = Caller::User(username.to_string());
    }
}

async fn log_in(world: &mut World, username: &str, password: &str) {
    let body = json!({"username": username, "password": password});
    let answer = world
        .request_as(&Caller::Anonymous, "POST", "/1.1/login", Some(body))
        .await
        .clone();
    remember_session(world, username, &answer.body);
}

/// Example: Given I am signed in as "mei.lin"
///
/// Logs the user in (password `<username>-pass`) unless they already are in this
/// scenario, and makes them "me"; fails when the log-in is refused.
#[given(expr = "I am signed in as {string}")]
async fn signed_in_as(world: &mut World, username: String) {
    if world.sessions.contains_key(&username) {
        world.me = Caller::User(username);
        return;
    }
    log_in(world, &username, &password_of(&username)).await;
    let last = world.last();
    assert!(
        last.status == 200,
        "{username} could not log in: {} {}",
        last.status,
        last.body
    );
}

/// Example: When I log in as "cheapdeals88"
///
/// Sends the log-in (password `<username>-pass`); on success that user becomes "me".
/// The answer is checked by the `Then` steps.
#[when(expr = "I log in as {string}")]
async fn log_in_as(world: &mut World, username: String) {
    log_in(world, &username, &password_of(&username)).await;
}

/// Example: When I log in as "mei.lin" with the password "wrong"
#[when(expr = "I log in as {string} with the password {string}")]
async fn log_in_with_password(world: &mut World, username: String, password: String) {
    log_in(world, &username, &password).await;
}

/// Example: When I sign up as "new.customer"
///
/// Signs up with the password `<username>-pass`; on success the new user is "me".
#[when(expr = "I sign up as {string}")]
async fn sign_up(world: &mut World, username: String) {
    sign_up_with_fields(world, username, json!({})).await;
}

/// Example: When I sign up as "new.customer" with:
///     | field       | value    |
///     | displayName | New Face |
///
/// Signs up with extra fields (a `| field | value |` table or a JSON doc string).
#[when(expr = "I sign up as {string} with:")]
async fn sign_up_with(world: &mut World, username: String, step: &Step) {
    let fields = world.body_of(step).await;
    sign_up_with_fields(world, username, fields).await;
}

async fn sign_up_with_fields(world: &mut World, username: String, fields: Value) {
    let mut body = json!({"username": username, "password": password_of(&username)});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), fields) {
        body.extend(extra);
    }
    let answer = world
        .request_as(&Caller::Anonymous, "POST", "/1.1/users", Some(body))
        .await
        .clone();
    remember_session(world, &username, &answer.body);
}

/// Example: Given I am not signed in
///
/// Requests go out with the app key and no session.
#[given("I am not signed in")]
async fn not_signed_in(world: &mut World) {
    world.me = Caller::Anonymous;
}

/// Example: Given I send no keys
///
/// Requests go out with no credentials at all.
#[given("I send no keys")]
async fn no_keys(world: &mut World) {
    world.me = Caller::Nobody;
}

/// Example: Given I use the master key
#[given("I use the master key")]
async fn master_key(world: &mut World) {
    world.me = Caller::Master;
}

/// Example: When I fetch my user
///
/// `GET /1.1/users/me` with my session.
#[when("I fetch my user")]
async fn fetch_me(world: &mut World) {
    world.request("GET", "/1.1/users/me", None).await;
}

/// Example: Then I am signed in as "mei.lin"
///
/// The last answer is that user with a session token (a log-in or sign-up that worked).
#[then(expr = "I am signed in as {string}")]
async fn am_signed_in(world: &mut World, username: String) {
    let last = world.settled().await;
    assert_eq!(
        (last.status < 300, last.body["username"].as_str()),
        (true, Some(username.as_str())),
        "expected {username} signed in, got {} {}",
        last.status,
        last.body
    );
    assert!(
        last.body["sessionToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "no session token in {}",
        last.body
    );
}

/// Example: Then my session is valid
///
/// `GET /1.1/users/me` with my session answers me.
#[then("my session is valid")]
async fn session_valid(world: &mut World) {
    let Caller::User(me) = world.me.clone() else {
        panic!("nobody is signed in in this scenario");
    };
    world.settle().await;
    let exchange = world
        .exchange(&Caller::User(me.clone()), "GET", "/1.1/users/me", None)
        .await;
    let body = exchange.answer.body.clone();
    let status = exchange.answer.status;
    world.checked = Some(exchange);
    assert_eq!(
        (status, body["username"].as_str()),
        (200, Some(me.as_str())),
        "users/me answered {status} {body}"
    );
}
