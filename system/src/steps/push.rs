//! Push: installations subscribed to channels, a push sent as "me", and what the outbox
//! says each installation was sent (the emulator's outbox: `GET /__mock/outbox`).

use crate::{World, encode};
use cucumber::{given, then, when};
use leancloud::Caller;
use serde_json::{Value, json};

/// Example: Given an installation "tok-42" subscribed to "news"
///
/// An iOS installation with that device token, made with the master key.
#[given(expr = "an installation {string} subscribed to {string}")]
async fn installation(world: &mut World, token: String, channel: String) {
    let body = json!({"deviceType": "ios", "deviceToken": token, "channels": [channel]});
    make_installation(world, &token, body).await;
}

/// An `_Installation` made with the master key; the step fails when it is refused.
async fn make_installation(world: &mut World, token: &str, body: Value) {
    let made = world
        .exchange(
            &Caller::Master,
            "POST",
            "/1.1/classes/_Installation",
            Some(body),
        )
        .await;
    assert_eq!(
        made.answer.status, 201,
        "the installation {token} could not be made: {}",
        made.answer.body
    );
}

/// Example: Given "chen.wei" has a device "tok-chen-phone"
///
/// An iOS installation with that device token whose `user` points to that user (as an
/// app records who is signed in on a device), made with the master key.
#[given(expr = "{string} has a device {string}")]
async fn device_of(world: &mut World, username: String, token: String) {
    let user = world.id_of("_User", &username).await;
    let body = json!({
        "deviceType": "ios",
        "deviceToken": token,
        "user": {"__type": "Pointer", "className": "_User", "objectId": user},
    });
    make_installation(world, &token, body).await;
}

/// Example: When I push "Doors open at 9" to the channel "news"
#[when(expr = "I push {string} to the channel {string}")]
async fn push(world: &mut World, alert: String, channel: String) {
    let body = json!({"channels": [channel], "data": {"alert": alert}});
    world.request("POST", "/1.1/push", Some(body)).await;
}

/// Example: Then the installation "tok-42" was sent nothing
#[then(expr = "the installation {string} was sent nothing")]
async fn was_sent_nothing(world: &mut World, token: String) {
    let body = pushes_to(world, &token).await;
    let sent = body["results"].as_array().map_or(0, Vec::len);
    assert_eq!(sent, 0, "the pushes to {token}: {body}");
}

/// What the outbox holds of the pushes to a device token (`{"results": [...]}`).
async fn pushes_to(world: &mut World, token: &str) -> Value {
    let target = format!("/__mock/outbox?channel=push&to={}", encode(token));
    world.check(&target).await
}

/// Example: Then the installation "tok-42" was sent "Doors open at 9"
///
/// The newest push the outbox holds for that device token.
#[then(expr = "the installation {string} was sent {string}")]
async fn was_sent(world: &mut World, token: String, alert: String) {
    let body = pushes_to(world, &token).await;
    let last: Option<&Value> = body["results"].as_array().and_then(|r| r.last());
    let text = last.and_then(|m| m["text"].as_str());
    assert_eq!(text, Some(alert.as_str()), "the pushes to {token}: {body}");
}
