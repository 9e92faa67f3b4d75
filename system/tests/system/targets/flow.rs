//! A flow every target runs alike: a prefixed user signs up and reviews a fixture
//! business; the Review hooks (beforeSave refusing, afterSave moving the counters) fire;
//! the cleanup deletes the review and the user, the afterDelete puts the counters back,
//! and nothing of the run is left.

use harness::{Caller, TestApp, eventually};
use leancloud::Resource;
use leancloud::error::code;
use serde_json::{Value, json};
use std::time::Duration;

/// Active, owned by chen.wei, no reviews in the fixtures.
pub const KUANZHAI_HOT_POT: &str = "65cba6a06c63004400000005";
/// Pending: cannot be reviewed.
pub const PEARL_RIVER: &str = "65c76c846c63004400000004";

pub fn pointer(class: &str, id: &str) -> Value {
    json!({"__type": "Pointer", "className": class, "objectId": id})
}

/// (ratingCount, ratingSum) of a business, read with the master key.
pub async fn counters(app: &TestApp, business: &str) -> (i64, i64) {
    let answer = app
        .send(
            &Caller::Master,
            "GET",
            &Resource::object("Business", business).path(),
            None,
        )
        .await;
    answer.assert_status(200);
    (
        answer.body["ratingCount"].as_i64().unwrap_or_default(),
        answer.body["ratingSum"].as_i64().unwrap_or_default(),
    )
}

/// Wait until the business's counters are `expected`.
pub async fn counters_become(app: &TestApp, business: &str, expected: (i64, i64)) {
    app.idle().await;
    eventually(Duration::from_secs(10), || async {
        let now = counters(app, business).await;
        if now == expected {
            Ok(())
        } else {
            Err(format!(
                "business {business} has (ratingCount, ratingSum) {now:?}, expected {expected:?}"
            ))
        }
    })
    .await;
}

/// The flow; returns the review's id.
pub async fn review_flow(app: &TestApp) -> String {
    let before = counters(app, KUANZHAI_HOT_POT).await;

    let username = app.name("reviewer");
    let signed_up = app
        .send(
            &Caller::Anonymous,
            "POST",
            "/1.1/users",
            Some(&json!({"username": username, "password": format!("{username}-pass")})),
        )
        .await;
    signed_up.assert_status(201);
    let user_id = signed_up.object_id();
    let token = signed_up.body["sessionToken"]
        .as_str()
        .expect("a sign-up answers a session token")
        .to_string();
    // beforeSave of _User set the app's fields.
    let me = app
        .send(&Caller::User(token.clone()), "GET", "/1.1/users/me", None)
        .await;
    assert_eq!(me.body["role"], "customer", "{me:?}");

    // beforeSave of Review refuses a pending business: nothing is stored.
    app.send(
        &Caller::User(token.clone()),
        "POST",
        "/1.1/classes/Review",
        Some(&json!({"business": pointer("Business", PEARL_RIVER), "stars": 5})),
    )
    .await
    .assert_error(
        code::VALIDATION_ERROR,
        "Cloud Code validation failed. Error detail : This business cannot be reviewed until \
         a moderator has approved it.",
    );

    let review = app
        .send(
            &Caller::User(token.clone()),
            "POST",
            "/1.1/classes/Review",
            Some(
                &json!({"business": pointer("Business", KUANZHAI_HOT_POT), "stars": 4,
                "text": "Fiery and good."}),
            ),
        )
        .await;
    review.assert_status(201);
    let review_id = review.object_id();

    // afterSave moved the business's counters and the author's reviewCount: two writes
    // one after the other, so on a remote app each is polled for.
    counters_become(app, KUANZHAI_HOT_POT, (before.0 + 1, before.1 + 4)).await;
    eventually(Duration::from_secs(10), || async {
        let author = app
            .send(
                &Caller::Master,
                "GET",
                &Resource::User(user_id.to_string()).path(),
                None,
            )
            .await;
        if author.body["reviewCount"] == 1 {
            Ok(())
        } else {
            Err(format!("the author's reviewCount is not 1: {author:?}"))
        }
    })
    .await;

    assert_eq!(
        app.tracked(),
        vec![
            ("_User".to_string(), user_id),
            ("Review".to_string(), review_id.clone()),
        ]
    );
    review_id
}

/// Cleanup deletes the run's two objects, the counters go back, nothing is left.
pub async fn cleanup_leaves_nothing(app: &TestApp, before: (i64, i64)) {
    assert_eq!(app.cleanup().await, Ok(2));
    counters_become(app, KUANZHAI_HOT_POT, before).await;
    let left = app.leftovers().await;
    assert!(left.is_empty(), "left over: {left:?}");
    assert!(app.tracked().is_empty());
    // A second cleanup has nothing to do.
    assert_eq!(app.cleanup().await, Ok(0));
}
