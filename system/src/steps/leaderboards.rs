//! Leaderboards (`/1.1/leaderboard/...`): a board made with the master key, scores
//! submitted by the signed-in user, and the ranking read back by username.

use crate::World;
use cucumber::{given, then, when};
use leancloud::Caller;
use serde_json::{Value, json};

/// Example: Given a leaderboard "weekly_stars" ordered descending keeping the better
///
/// Made with the master key (any earlier board of that name is deleted first, so a
/// scenario starts from an empty board); `ordered` is `ascending` or `descending`,
/// `keeping the` is `better`, `last` or `sum`; the version never changes by itself.
#[given(
    regex = r#"^a leaderboard "([^"]+)" ordered (ascending|descending) keeping the (better|last|sum)$"#
)]
async fn leaderboard(world: &mut World, name: String, order: String, strategy: String) {
    let path = format!("/1.1/leaderboard/leaderboards/{name}");
    world.exchange(&Caller::Master, "DELETE", &path, None).await;
    let body = json!({
        "statisticName": name,
        "order": order,
        "updateStrategy": strategy,
        "versionChangeInterval": "never",
    });
    let made = world
        .exchange(
            &Caller::Master,
            "POST",
            "/1.1/leaderboard/leaderboards",
            Some(body),
        )
        .await;
    assert_eq!(
        made.answer.status, 200,
        "the leaderboard {name} could not be made: {}",
        made.answer.body
    );
}

/// Example: When I submit 42 to the leaderboard "weekly_stars"
///
/// As "me" (a signed-in user), for myself; the answer is the statistic kept.
#[when(regex = r#"^I submit (-?\d+(?:\.\d+)?) to the leaderboard "([^"]+)"$"#)]
async fn submit(world: &mut World, value: f64, name: String) {
    let Caller::User(me) = world.me.clone() else {
        panic!("submitting a statistic needs a signed-in user (Given I am signed in as ...)");
    };
    let user_id = world.sessions[&me].user_id.clone();
    let path = format!("/1.1/leaderboard/users/{user_id}/statistics");
    let body = json!([{"statisticName": name, "statisticValue": value}]);
    world.request("POST", &path, Some(body)).await;
}

/// Example: Then the leaderboard "weekly_stars" ranks ["mei.lin", "li.na"]
///
/// The usernames of the current version's ranking, best first (read with the master
/// key).
#[then(regex = r#"^the leaderboard "([^"]+)" ranks (\[.*\])$"#)]
async fn ranks(world: &mut World, name: String, expected: String) {
    let expected: Value = serde_json::from_str(&expected).expect("a JSON array of usernames");
    let path =
        format!("/1.1/leaderboard/leaderboards/{name}/ranks?limit=100&selectUserKeys=username");
    let body = world.check(&path).await;
    let got: Vec<Value> = body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no ranking for {name}: {body}"))
        .iter()
        .map(|r| r["user"]["username"].clone())
        .collect();
    assert_eq!(Value::Array(got), expected, "the ranking of {name}");
}
