//! What the app's afterSave cascades leave behind when a step fails: the Review hooks keep
//! the business's rating counters and the author's `reviewCount`, and a fault armed in
//! the emulator (`harness::Fault`) breaks one step. Each test says what is then stored,
//! and what later brings it right, or does not.

use harness::{Caller, Fault, Target, TestApp};
use leancloud::client::Client;
use serde_json::{Value, json};

/// chen.wei's active business without reviews in the fixtures.
const KUANZHAI_HOT_POT: &str = "65cba6a06c63004400000005";

async fn app() -> TestApp {
    crate::support::app().target(Target::Mock).start().await
}

async fn anna(app: &TestApp) -> (Client, String) {
    let client = app.client(&Caller::Anonymous);
    let user = client
        .log_in("anna.schmidt", "anna.schmidt-pass")
        .await
        .unwrap();
    let id = user["objectId"].as_str().unwrap().to_string();
    (client.with_session_of(&user), id)
}

/// `(ratingCount, ratingSum, ratingAvg)` of the business and the author's reviewCount.
async fn counters(app: &TestApp, author: &str) -> (Value, Value, Value, Value) {
    app.idle().await;
    let master = app.client(&Caller::Master);
    let b = master.get("Business", KUANZHAI_HOT_POT).await.unwrap();
    let u = master.get("_User", author).await.unwrap();
    (
        b["ratingCount"].clone(),
        b["ratingSum"].clone(),
        b["ratingAvg"].clone(),
        u["reviewCount"].clone(),
    )
}

async fn review(client: &Client, stars: i64) -> String {
    let business =
        json!({"__type": "Pointer", "className": "Business", "objectId": KUANZHAI_HOT_POT});
    let saved = client
        .create(
            "Review",
            &json!({"business": business, "stars": stars, "text": "Good."}),
        )
        .await
        .unwrap();
    saved["objectId"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_failed_review_after_save_leaves_it_uncounted_until_its_stars_change() {
    let app = app().await;
    let (anna, anna_id) = anna(&app).await;
    let (.., reviews_before) = counters(&app, &anna_id).await;
    app.fault(
        &Fault::hook("Review", "afterSave")
            .fails(1, "engine restarting")
            .once(),
    )
    .await
    .unwrap();
    let id = review(&anna, 4).await;
    // The review is stored (the client never hears of an after-hook), nothing counted.
    let left = counters(&app, &anna_id).await;
    assert!(app.client(&Caller::Master).get("Review", &id).await.is_ok());
    assert_eq!(left, (json!(0), json!(0), json!(0), reviews_before.clone()));
    let stored = app
        .client(&Caller::Master)
        .get("Review", &id)
        .await
        .unwrap();
    assert_eq!(stored["countedStars"], json!(null), "not marked as counted");
    // The next stars edit settles it from nothing: it counts once, at its new stars.
    anna.update("Review", &id, &json!({"stars": 5}))
        .await
        .unwrap();
    let settled = counters(&app, &anna_id).await;
    let one_more = json!(reviews_before.as_i64().unwrap() + 1);
    assert_eq!(settled, (json!(1), json!(5), json!(5.0), one_more));
}

#[tokio::test]
async fn a_failed_business_write_in_the_cascade_loses_that_review_for_good() {
    let app = app().await;
    let (anna, anna_id) = anna(&app).await;
    let (.., reviews_before) = counters(&app, &anna_id).await;
    app.fault(
        &Fault::write("Business")
            .only("update")
            .fails(1, "write conflict")
            .once(),
    )
    .await
    .unwrap();
    let id = review(&anna, 4).await;
    // The review was marked counted before the counters moved (ratings.rs: a failure
    // in between loses one change, never counts one twice); the business update failed,
    // and the author's count, which comes after it, never ran.
    app.idle().await;
    let stored = app
        .client(&Caller::Master)
        .get("Review", &id)
        .await
        .unwrap();
    assert_eq!(stored["countedStars"], 4);
    assert_eq!(
        counters(&app, &anna_id).await,
        (json!(0), json!(0), json!(0), reviews_before.clone())
    );
    // An edit moves only the difference from what the mark says was counted: the lost
    // four stars and the lost count stay lost, and the business now has a sum of stars
    // without a review to count (an average of 0 over none).
    anna.update("Review", &id, &json!({"stars": 5}))
        .await
        .unwrap();
    assert_eq!(
        counters(&app, &anna_id).await,
        (json!(0), json!(1), json!(0.0), reviews_before)
    );
}
