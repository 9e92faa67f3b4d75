//! Hook chains through the emulator: the app's data (`fixtures/database_settings`) and its
//! cloud code in-process, driven by clients as a real app is. Every write fires its hooks,
//! and every write a hook makes fires its own; after each flow the emulator is left to
//! finish its after-hooks (`idle`), and the counters are recomputed from the reviews,
//! independently of the cloud code, and compared with what is stored.

use crate::support::{self, pointer};
use harness::{Caller, Target, TestApp};
use leancloud::LcError;
use leancloud::client::Client;
use leancloud::error::code;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Active businesses of the fixtures.
const FUXING_LANE: &str = "65bb735c6c63004400000001"; // chen.wei's, 7 reviews
const KUANZHAI_HOT_POT: &str = "65cba6a06c63004400000005"; // chen.wei's, no reviews
const PEARL_RIVER: &str = "65c76c846c63004400000004"; // pending

/// The app with its fixtures and its cloud code, in-process. Always the emulator,
/// whatever `LC_TARGET` says: the flows count the fixtures' rows and read its traces.
async fn app() -> TestApp {
    support::app().target(Target::Mock).start().await
}

/// A client signed in as a fixture user (password `<username>-pass`).
async fn signed_in(app: &TestApp, username: &str) -> (Client, String) {
    let client = app.client(&Caller::Anonymous);
    let user = client
        .log_in(username, &format!("{username}-pass"))
        .await
        .unwrap_or_else(|e| panic!("{username} logs in: {e}"));
    let id = user["objectId"].as_str().unwrap().to_string();
    (client.with_session_of(&user), id)
}

async fn all(client: &Client, class: &str) -> Vec<Value> {
    client
        .as_master()
        .query(class)
        .limit(1000)
        .find()
        .await
        .unwrap_or_else(|e| panic!("{class}: {e}"))
}

/// Recompute every business's rating counters and every user's reviewCount from the
/// reviews and compare them with what is stored; the list of disagreements.
async fn disagreements(client: &Client) -> Vec<String> {
    let reviews = all(client, "Review").await;
    let mut per_business: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut per_author: BTreeMap<String, i64> = BTreeMap::new();
    for r in &reviews {
        let business = r["business"]["objectId"].as_str().unwrap().to_string();
        let author = r["author"]["objectId"].as_str().unwrap().to_string();
        let stars = r["stars"].as_i64().unwrap();
        let entry = per_business.entry(business).or_default();
        entry.0 += 1;
        entry.1 += stars;
        *per_author.entry(author).or_default() += 1;
    }
    let mut wrong = Vec::new();
    for b in all(client, "Business").await {
        let id = b["objectId"].as_str().unwrap();
        let (count, sum) = per_business.remove(id).unwrap_or_default();
        let average = if count == 0 {
            0.0
        } else {
            (sum as f64 / count as f64 * 100.0).round() / 100.0
        };
        let stored = (
            b["ratingCount"].as_i64(),
            b["ratingSum"].as_i64(),
            b["ratingAvg"].as_f64(),
        );
        if stored != (Some(count), Some(sum), Some(average)) {
            wrong.push(format!(
                "business {id} ({}): stored {stored:?}, reviews say ({count}, {sum}, {average})",
                b["name"]
            ));
        }
    }
    for (business, _) in per_business {
        wrong.push(format!(
            "reviews of business {business}, which does not exist"
        ));
    }
    for u in all(client, "_User").await {
        let id = u["objectId"].as_str().unwrap();
        let count = per_author.remove(id).unwrap_or_default();
        if u["reviewCount"].as_i64() != Some(count) {
            wrong.push(format!(
                "user {} has reviewCount {}, reviews say {count}",
                u["username"], u["reviewCount"]
            ));
        }
    }
    for (author, _) in per_author {
        wrong.push(format!("reviews by user {author}, who does not exist"));
    }
    wrong
}

async fn assert_counters_agree(app: &TestApp) {
    app.idle().await;
    let wrong = disagreements(&app.client(&Caller::Anonymous)).await;
    assert!(wrong.is_empty(), "counters disagree:\n{}", wrong.join("\n"));
}

async fn get(client: &Client, class: &str, id: &str) -> Value {
    client.as_master().get(class, id).await.unwrap()
}

#[tokio::test]
async fn the_fixtures_counters_agree_before_any_chain_runs() {
    let app = app().await;
    assert_counters_agree(&app).await;
}

#[tokio::test]
async fn a_review_updates_its_business_and_its_author() {
    let app = app().await;
    let (anna, anna_id) = signed_in(&app, "anna.schmidt").await;
    let before = get(&anna, "_User", &anna_id).await["reviewCount"]
        .as_i64()
        .unwrap();
    let review = anna
        .create(
            "Review",
            &json!({"business": pointer("Business", KUANZHAI_HOT_POT), "stars": 4, "text": "Fiery and good."}),
        )
        .await
        .unwrap();
    let review_id = review["objectId"].as_str().unwrap().to_string();
    app.idle().await;
    let business = get(&anna, "Business", KUANZHAI_HOT_POT).await;
    assert_eq!(
        (
            &business["ratingCount"],
            &business["ratingSum"],
            &business["ratingAvg"]
        ),
        (&json!(1), &json!(4), &json!(4.0))
    );
    assert_eq!(
        get(&anna, "_User", &anna_id).await["reviewCount"],
        before + 1
    );
    // The author, not the client, is who the cloud code says.
    let stored = get(&anna, "Review", &review_id).await;
    assert_eq!(stored["author"]["objectId"], anna_id.as_str());
    // Changing the stars moves the sum and the average, not the count.
    anna.update("Review", &review_id, &json!({"stars": 2}))
        .await
        .unwrap();
    app.idle().await;
    let business = get(&anna, "Business", KUANZHAI_HOT_POT).await;
    assert_eq!(
        (
            &business["ratingCount"],
            &business["ratingSum"],
            &business["ratingAvg"]
        ),
        (&json!(1), &json!(2), &json!(2.0))
    );
    // A second review by someone else averages in.
    let (sam, _) = signed_in(&app, "sam.patel").await;
    sam.create(
        "Review",
        &json!({"business": pointer("Business", KUANZHAI_HOT_POT), "stars": 5, "text": "Best in town."}),
    )
    .await
    .unwrap();
    app.idle().await;
    let business = get(&anna, "Business", KUANZHAI_HOT_POT).await;
    assert_eq!(
        (
            &business["ratingCount"],
            &business["ratingSum"],
            &business["ratingAvg"]
        ),
        (&json!(2), &json!(7), &json!(3.5))
    );
    // Deleting a review takes it out again.
    anna.as_master().delete("Review", &review_id).await.unwrap();
    assert_counters_agree(&app).await;
    let business = get(&anna, "Business", KUANZHAI_HOT_POT).await;
    assert_eq!(business["ratingCount"], 1);
    assert_eq!(get(&anna, "_User", &anna_id).await["reviewCount"], before);
}

#[tokio::test]
async fn deleting_a_business_removes_its_reviews_and_fixes_the_authors_counts() {
    let app = app().await;
    let client = app.client(&Caller::Anonymous);
    let reviews_of = |all: &[Value]| {
        all.iter()
            .filter(|r| r["business"]["objectId"] == FUXING_LANE)
            .count()
    };
    let before = all(&client, "Review").await;
    assert_eq!(reviews_of(&before), 7);
    client
        .as_master()
        .delete("Business", FUXING_LANE)
        .await
        .unwrap();
    assert_counters_agree(&app).await;
    let after = all(&client, "Review").await;
    assert_eq!(reviews_of(&after), 0);
    assert_eq!(
        after.len(),
        before.len() - 7,
        "only that business's reviews go"
    );
}

#[tokio::test]
async fn a_rejected_review_changes_nothing() {
    let app = app().await;
    let (anna, anna_id) = signed_in(&app, "anna.schmidt").await;
    let reviews = all(&anna, "Review").await.len();
    let business = get(&anna, "Business", KUANZHAI_HOT_POT).await;
    let user = get(&anna, "_User", &anna_id).await;
    let refusals: Vec<(Value, &str)> = vec![
        (
            json!({"business": pointer("Business", KUANZHAI_HOT_POT), "stars": 6, "text": "Too good."}),
            "Stars must be a whole number from 1 to 5.",
        ),
        (
            json!({"business": pointer("Business", KUANZHAI_HOT_POT), "stars": 4, "text": "x".repeat(2001)}),
            "2,000",
        ),
        (
            json!({"business": pointer("Business", PEARL_RIVER), "stars": 4, "text": "Not open yet."}),
            "approved",
        ),
    ];
    for (body, says) in refusals {
        let err = anna.create("Review", &body).await.unwrap_err();
        assert_eq!(err.code, code::VALIDATION_ERROR, "{body}: {err}");
        assert!(
            err.message
                .starts_with("Cloud Code validation failed. Error detail : ")
                && err.message.contains(says),
            "{err}"
        );
    }
    // Without a session, nobody may review (the class permission refuses first).
    let err = app
        .client(&Caller::Anonymous)
        .create(
            "Review",
            &json!({"business": pointer("Business", KUANZHAI_HOT_POT), "stars": 4, "text": "Anon."}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, code::FORBIDDEN, "{err}");
    app.idle().await;
    assert_eq!(all(&anna, "Review").await.len(), reviews);
    assert_eq!(get(&anna, "Business", KUANZHAI_HOT_POT).await, business);
    assert_eq!(get(&anna, "_User", &anna_id).await, user);
    assert_counters_agree(&app).await;
}

#[tokio::test]
async fn only_the_owner_edits_a_business_and_only_moderators_change_its_status() {
    let app = app().await;
    let (stranger, _) = signed_in(&app, "li.na").await;
    let err: LcError = stranger
        .update("Business", FUXING_LANE, &json!({"name": "Mine Now"}))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status, err.code, err.message.as_str()),
        (403, code::FORBIDDEN, "Forbidden writing by object's ACL.")
    );
    let (owner, _) = signed_in(&app, "chen.wei").await;
    owner
        .update(
            "Business",
            FUXING_LANE,
            &json!({"name": "Fuxing Lane Coffee & Co"}),
        )
        .await
        .unwrap();
    // The status is the moderators' (cloud code); the counters are read-only (schema).
    let err = owner
        .update("Business", FUXING_LANE, &json!({"status": "suspended"}))
        .await
        .unwrap_err();
    assert_eq!(err.code, code::VALIDATION_ERROR, "{err}");
    let err = owner
        .update("Business", FUXING_LANE, &json!({"ratingCount": 99}))
        .await
        .unwrap_err();
    assert_eq!(err.code, code::READ_ONLY_KEY, "{err}");
    let (moderator, _) = signed_in(&app, "mei.lin").await;
    moderator
        .update("Business", FUXING_LANE, &json!({"status": "suspended"}))
        .await
        .unwrap();
    app.idle().await;
    let business = get(&owner, "Business", FUXING_LANE).await;
    assert_eq!(business["name"], "Fuxing Lane Coffee & Co");
    assert_eq!(business["status"], "suspended");
    assert_eq!(business["ratingCount"], 7);
    assert_counters_agree(&app).await;
}

#[tokio::test]
async fn the_trace_of_a_review_shows_its_chain() {
    let app = app().await;
    let (anna, _) = signed_in(&app, "anna.schmidt").await;
    app.emulator().api().clear_traces();
    anna.create(
        "Review",
        &json!({"business": pointer("Business", KUANZHAI_HOT_POT), "stars": 5, "text": "Traced."}),
    )
    .await
    .unwrap();
    app.idle().await;
    let traces = app.traces().expect("the emulator keeps traces");
    harness::redactions().bind(|| insta::assert_json_snapshot!("review_create_chain", traces));
}

#[tokio::test]
async fn the_trace_of_a_business_delete_shows_the_cascade() {
    let app = app().await;
    let client = app.client(&Caller::Anonymous);
    app.emulator().api().clear_traces();
    client
        .as_master()
        .delete("Business", KUANZHAI_HOT_POT)
        .await
        .unwrap();
    app.idle().await;
    let traces = app.traces().expect("the emulator keeps traces");
    harness::redactions().bind(|| insta::assert_json_snapshot!("business_delete_chain", traces));
}

/// Every flow above, one after another on one app, and the counters still agree.
#[tokio::test]
async fn every_chain_on_one_app_leaves_the_counters_right() {
    let app = app().await;
    let (anna, _) = signed_in(&app, "anna.schmidt").await;
    let (sam, _) = signed_in(&app, "sam.patel").await;
    let (mei, _) = signed_in(&app, "mei.lin").await;
    let mut created = Vec::new();
    for (who, stars) in [(&anna, 3), (&sam, 5), (&mei, 1)] {
        let r = who
            .create(
                "Review",
                &json!({"business": pointer("Business", KUANZHAI_HOT_POT), "stars": stars, "text": "ok"}),
            )
            .await
            .unwrap();
        created.push(r["objectId"].as_str().unwrap().to_string());
    }
    anna.update("Review", &created[0], &json!({"stars": 4}))
        .await
        .unwrap();
    anna.create(
        "Review",
        &json!({"business": pointer("Business", KUANZHAI_HOT_POT), "stars": 2, "text": "again"}),
    )
    .await
    .unwrap_err();
    anna.as_master()
        .delete("Review", &created[2])
        .await
        .unwrap();
    anna.as_master()
        .delete("Business", FUXING_LANE)
        .await
        .unwrap();
    assert_counters_agree(&app).await;
    let business = get(&anna, "Business", KUANZHAI_HOT_POT).await;
    assert_eq!(
        (&business["ratingCount"], &business["ratingSum"]),
        (&json!(2), &json!(9))
    );
}

/// The newest code the outbox holds for `phone` and `purpose` (`GET /__mock/outbox`).
async fn sms_code(app: &TestApp, phone: &str, purpose: &str) -> String {
    let target = format!(
        "/__mock/outbox?to={}&purpose={purpose}",
        phone.replace('+', "%2B")
    );
    let answer = app.send(&Caller::Master, "GET", &target, None).await;
    let messages = answer.body["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let last = messages
        .last()
        .unwrap_or_else(|| panic!("no SMS to {phone}: {}", answer.body));
    last["code"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_owner_verifies_their_phone_signs_in_by_sms_and_it_reaches_their_businesses() {
    let app = app().await;
    let (_, chen) = signed_in(&app, "chen.wei").await;
    let master = app.client(&Caller::Master);
    let phone = "+8613800138000";
    master
        .update("_User", &chen, &json!({"mobilePhoneNumber": phone}))
        .await
        .unwrap();
    master
        .update(
            "Business",
            KUANZHAI_HOT_POT,
            &json!({"phone": {"__op": "Delete"}, "__ignore_hooks": ["beforeUpdate", "afterUpdate"]}),
        )
        .await
        .unwrap();
    let request = json!({"mobilePhoneNumber": phone});
    let sent = app
        .send(
            &Caller::Anonymous,
            "POST",
            "/1.1/requestMobilePhoneVerify",
            Some(&request),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let code = sms_code(&app, phone, "verifyMobilePhone").await;
    let path = format!("/1.1/verifyMobilePhone/{code}");
    assert_eq!(
        app.send(&Caller::Anonymous, "POST", &path, Some(&json!({})))
            .await
            .status,
        200
    );
    app.idle().await;
    assert_eq!(
        get(&master, "Business", KUANZHAI_HOT_POT).await["phone"],
        phone
    );
    assert_eq!(
        get(&master, "Business", FUXING_LANE).await["phone"],
        "+862164310258",
        "a business with a phone keeps it"
    );

    // Owners sign in by SMS from now on.
    let login_code = app
        .send(
            &Caller::Anonymous,
            "POST",
            "/1.1/requestLoginSmsCode",
            Some(&request),
        )
        .await;
    assert_eq!(
        login_code.status, 400,
        "one code a minute: {}",
        login_code.body
    );
    assert_eq!(login_code.body["code"], 601);
}

#[tokio::test]
async fn a_business_photo_is_an_uploaded_image_of_at_most_5_mb() {
    let app = app().await;
    let user = app
        .client(&Caller::Anonymous)
        .log_in("chen.wei", "chen.wei-pass")
        .await
        .unwrap();
    let token = user["sessionToken"].as_str().unwrap().to_string();
    let owner = app.client(&Caller::Anonymous).with_session_of(&user);
    // Files uploaded directly (`POST /1.1/files/<name>`): the name gives the type.
    let upload = |name: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            let answer = app
                .send(
                    &Caller::User(token),
                    "POST",
                    &format!("/1.1/files/{name}"),
                    Some(&json!({"bytes": "stand-ins for the file's"})),
                )
                .await;
            assert_eq!(answer.status, 201, "{}", answer.body);
            answer.body["objectId"].as_str().unwrap().to_string()
        }
    };
    let photo = upload("storefront.png").await;
    let notes = upload("notes.txt").await;
    let address = get(&owner, "Business", FUXING_LANE).await["address"].clone();
    let business = |file: &str| {
        json!({"name": "Fuxing Lane Bakery", "category": "cafe", "address": address,
               "photo": {"__type": "File", "id": file}})
    };
    let made = owner
        .create("Business", &business(&photo))
        .await
        .expect("an image is a photo");
    let stored = get(&owner, "Business", made["objectId"].as_str().unwrap()).await;
    assert_eq!(stored["photo"]["mime_type"], "image/png", "{stored}");
    assert_eq!(
        stored["photo"]["url"].as_str().unwrap().rsplit('/').next(),
        stored["photo"]["key"].as_str(),
        "the photo's URL names its key"
    );

    let err = owner
        .create("Business", &business(&notes))
        .await
        .unwrap_err();
    assert_eq!(err.code, code::VALIDATION_ERROR);
    assert!(err.message.contains("text/plain"), "{}", err.message);
    let err = owner
        .create("Business", &business("000000000000000000000000"))
        .await
        .unwrap_err();
    // A before-hook's refusal reaches the client as 142, its message kept.
    assert_eq!(err.code, code::VALIDATION_ERROR);
    assert!(err.message.contains("does not exist"), "{}", err.message);
}

/// The pushes the outbox holds for a device token.
async fn pushes_to(app: &TestApp, token: &str) -> Vec<Value> {
    let target = format!("/__mock/outbox?channel=push&to={token}");
    let answer = app.send(&Caller::Master, "GET", &target, None).await;
    answer.body["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_new_review_is_pushed_to_the_devices_of_its_business_owner_only() {
    let app = app().await;
    let (chen, chen_id) = signed_in(&app, "chen.wei").await;
    let (anna, anna_id) = signed_in(&app, "anna.schmidt").await;
    // chen.wei (Kuanzhai Hot Pot's owner) on two devices, anna.schmidt on one.
    for (token, user) in [
        ("tok-chen-phone", &chen_id),
        ("tok-chen-tablet", &chen_id),
        ("tok-anna", &anna_id),
    ] {
        chen.as_master()
            .create(
                "_Installation",
                &json!({"deviceType": "ios", "deviceToken": token, "user": pointer("_User", user)}),
            )
            .await
            .unwrap();
    }
    let review = anna
        .create(
            "Review",
            &json!({"business": pointer("Business", KUANZHAI_HOT_POT), "stars": 4}),
        )
        .await
        .unwrap();
    app.idle().await;
    for token in ["tok-chen-phone", "tok-chen-tablet"] {
        let pushes = pushes_to(&app, token).await;
        assert_eq!(pushes.len(), 1, "{token}: {pushes:?}");
        assert_eq!(
            pushes[0]["text"],
            cloud::review::owner_alert("Kuanzhai Hot Pot", 4)
        );
        // The outbox keeps the push's own data under `data`.
        let data = &pushes[0]["data"]["data"];
        assert_eq!(data["review"]["objectId"], review["objectId"]);
        assert_eq!(data["business"]["objectId"], KUANZHAI_HOT_POT);
    }
    assert!(pushes_to(&app, "tok-anna").await.is_empty());
    // A change of stars is not a new review: nothing more is pushed.
    let id = review["objectId"].as_str().unwrap();
    anna.update("Review", id, &json!({"stars": 5}))
        .await
        .unwrap();
    app.idle().await;
    assert_eq!(pushes_to(&app, "tok-chen-phone").await.len(), 1);
}
