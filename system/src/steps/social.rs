//! Follows and the status inbox: "me" follows a user, posts a status to my followers, and
//! reads my inbox.

use crate::World;
use cucumber::{then, when};
use leancloud::Caller;
use serde_json::{Value, json};

fn my_id(world: &World) -> String {
    let Caller::User(me) = &world.me else {
        panic!("this step needs a signed-in user (Given I am signed in as ...)");
    };
    world.sessions[me].user_id.clone()
}

/// Example: When I follow "li.na"
#[when(expr = "I follow {string}")]
async fn follow(world: &mut World, username: String) {
    let me = my_id(world);
    let target = world.id_of("_User", &username).await;
    let path = format!("/1.1/users/{me}/friendship/{target}");
    world.request("POST", &path, Some(json!({}))).await;
}

/// Example: When I post the status "Grand opening on Friday" to my followers
#[when(expr = "I post the status {string} to my followers")]
async fn post_status(world: &mut World, message: String) {
    let me = my_id(world);
    let mine = json!({"__type": "Pointer", "className": "_User", "objectId": me});
    let body = json!({
        "query": {"className": "_Follower", "keys": "follower", "where": {"user": mine}},
        "data": {"message": message, "source": mine},
        "inboxType": "default",
    });
    world.request("POST", "/1.1/statuses", Some(body)).await;
}

/// Example: Then my inbox holds ["Grand opening on Friday"]
///
/// The messages of my default inbox, newest first.
#[then(regex = r#"^my inbox holds (\[.*\])$"#)]
async fn inbox_holds(world: &mut World, expected: String) {
    let expected: Value = serde_json::from_str(&expected).expect("a JSON array of messages");
    world.request("GET", "/1.1/subscribe/statuses", None).await;
    let body = &world.settled().await.body;
    let got: Vec<Value> = body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no inbox: {body}"))
        .iter()
        .map(|s| s["message"].clone())
        .collect();
    assert_eq!(Value::Array(got), expected, "my inbox");
}
