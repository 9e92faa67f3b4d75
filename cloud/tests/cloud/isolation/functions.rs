//! The cloud functions: nearbyBusinesses, businessSummary, moderateBusiness and
//! normalizePhone, called as a client calls them.

use super::{BEIJING, active_business, beijing_address, business_fields, review};
use crate::support::{Caller, World, id, pointer, refusal};
use leancloud::error::code;
use serde_json::{Value, json};

/// A business named `name` at `at` with this status and category.
async fn listed(
    world: &World,
    owner: &Value,
    name: &str,
    category: &str,
    status: &str,
    at: (f64, f64),
) -> String {
    let mut fields = business_fields(owner, status, at);
    fields["name"] = json!(name);
    fields["category"] = json!(category);
    world.create("Business", fields).await
}

fn names(answer: &Value) -> Vec<&str> {
    answer["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn nearby_businesses_are_the_active_ones_in_range_nearest_first() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let address = world.create("Address", beijing_address()).await;
    let mut here = business_fields(&owen, "active", BEIJING);
    here["name"] = json!("Here");
    here["address"] = pointer("Address", &address);
    world.create("Business", here).await;
    // About 1.1 km and 4.4 km north, then 22 km north.
    listed(&world, &owen, "Near", "bar", "active", (39.9187, 116.3975)).await;
    listed(
        &world,
        &owen,
        "Farther",
        "cafe",
        "active",
        (39.9487, 116.3975),
    )
    .await;
    listed(&world, &owen, "Far", "cafe", "active", (40.1087, 116.3975)).await;
    listed(&world, &owen, "Pending", "cafe", "pending", BEIJING).await;
    listed(&world, &owen, "Suspended", "cafe", "suspended", BEIJING).await;

    let params = json!({"lat": BEIJING.0, "lng": BEIJING.1, "radiusKm": 5});
    let (status, answer) = world
        .call("nearbyBusinesses", params.clone(), Caller::Anonymous)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(names(&answer), ["Here", "Near", "Farther"]);
    let distances: Vec<&Value> = answer["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| &b["distanceKm"])
        .collect();
    assert_eq!(distances, [&json!(0.0), &json!(1.112), &json!(4.448)]);
    assert_eq!(answer["result"][0]["address"]["city"], "Beijing");

    let mut cafes = params.clone();
    cafes["category"] = json!("CAFE");
    cafes["radiusKm"] = json!(50);
    let (_, answer) = world
        .call("nearbyBusinesses", cafes.clone(), Caller::Anonymous)
        .await;
    assert_eq!(names(&answer), ["Here", "Farther", "Far"]);
    cafes["limit"] = json!(2);
    let (_, answer) = world
        .call("nearbyBusinesses", cafes, Caller::Anonymous)
        .await;
    assert_eq!(names(&answer), ["Here", "Farther"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn nearby_businesses_on_an_empty_map_is_an_empty_list() {
    let world = World::start().await;
    let answer = world
        .call(
            "nearbyBusinesses",
            json!({"lat": 0, "lng": 0, "radiusKm": 1}),
            Caller::Anonymous,
        )
        .await;
    assert_eq!(answer, (200, json!({"result": []})));
}

#[tokio::test(flavor = "multi_thread")]
async fn nearby_businesses_says_which_param_is_wrong() {
    let world = World::start().await;
    let base = json!({"lat": 39.9, "lng": 116.4, "radiusKm": 5});
    let cases = [
        ("lat", Value::Null, "lat is required."),
        ("lng", json!("116"), "lng must be a number."),
        (
            "lat",
            json!(91),
            "The latitude must be between -90 and 90; 91 is not.",
        ),
        (
            "radiusKm",
            json!(0),
            "The search radius must be more than 0 and at most 50 km; 0 is not.",
        ),
        (
            "radiusKm",
            json!(51),
            "The search radius must be more than 0 and at most 50 km; 51 is not.",
        ),
        (
            "category",
            json!("casino"),
            "\"casino\" is not a category: choose one of cafe, restaurant, bar, bakery, grocery, salon, repair, other.",
        ),
        (
            "limit",
            json!(0),
            "The limit must be a whole number from 1 to 100; 0 is not.",
        ),
    ];
    for (param, value, message) in cases {
        let mut params = base.clone();
        params[param] = value;
        let answer = world
            .call("nearbyBusinesses", params, Caller::Anonymous)
            .await;
        assert_eq!(
            refusal(&answer),
            (400, code::VALIDATION_ERROR, message),
            "{param}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_business_summary_has_the_counters_a_histogram_and_the_latest_reviews() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let business = world
        .create(
            "Business",
            json!({"name": "Morning Cup", "status": "active", "ratingCount": 7, "ratingSum": 27,
                   "ratingAvg": 3.86, "owner": pointer("_User", id(&owen))}),
        )
        .await;
    let other = active_business(&world, &owen).await;
    let mut reviewers = Vec::new();
    for (i, stars) in [5, 5, 4, 4, 4, 3, 2].into_iter().enumerate() {
        let fan = world
            .user(
                &format!("fan{i}"),
                json!({"displayName": format!("Fan {i}"), "email": format!("fan{i}@example.com")}),
            )
            .await;
        review(&world, &business, &fan, stars, Some(stars)).await;
        reviewers.push(fan);
    }
    review(&world, &other, &reviewers[0], 1, Some(1)).await;
    let (status, answer) = world
        .call(
            "businessSummary",
            json!({"businessId": business}),
            Caller::Anonymous,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let summary = &answer["result"];
    assert_eq!(summary["businessId"], json!(business));
    assert_eq!(
        (
            &summary["name"],
            &summary["status"],
            &summary["ratingAvg"],
            &summary["ratingCount"]
        ),
        (
            &json!("Morning Cup"),
            &json!("active"),
            &json!(3.86),
            &json!(7)
        )
    );
    assert_eq!(
        summary["histogram"],
        json!({"1": 0, "2": 1, "3": 1, "4": 3, "5": 2})
    );
    let latest = summary["latestReviews"].as_array().unwrap();
    assert_eq!(latest.len(), 5);
    // Newest first; authors show their public face only.
    assert_eq!(latest[0]["stars"], 2);
    assert_eq!(
        latest[0]["author"],
        json!({"objectId": id(&reviewers[6]), "displayName": "Fan 6"})
    );
    assert_eq!(latest[4]["stars"], 4);
    assert!(latest.iter().all(|r| r["text"] == "Fine coffee."));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_business_summary_needs_a_business_that_exists() {
    let world = World::start().await;
    let cases = [
        (
            json!({}),
            (400, code::VALIDATION_ERROR, "businessId is required."),
        ),
        (
            json!({"businessId": "../x"}),
            (
                400,
                code::VALIDATION_ERROR,
                "businessId is not an object id.",
            ),
        ),
        (
            json!({"businessId": "000000000000000000000000"}),
            (404, code::OBJECT_NOT_FOUND, "This business does not exist."),
        ),
    ];
    for (params, expected) in cases {
        let answer = world
            .call("businessSummary", params.clone(), Caller::Anonymous)
            .await;
        assert_eq!(refusal(&answer), expected, "{params}");
    }
    // A business without reviews: zeros.
    let owen = world.user("owen", json!({})).await;
    let business = active_business(&world, &owen).await;
    let (status, answer) = world
        .call(
            "businessSummary",
            json!({"businessId": business}),
            Caller::Anonymous,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["result"]["histogram"],
        json!({"1": 0, "2": 0, "3": 0, "4": 0, "5": 0})
    );
    assert_eq!(answer["result"]["latestReviews"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn moderators_and_the_master_key_set_a_businesss_status() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let mia = world.user("mia", json!({})).await;
    let ada = world.user("ada", json!({})).await;
    let admins = world.role("Admins", &[&ada], &[]).await;
    world.role("Moderators", &[&mia], &[&admins]).await;
    let business = world
        .create("Business", business_fields(&owen, "pending", BEIJING))
        .await;
    let call = |status: &str| json!({"businessId": business, "status": status});

    let answer = world
        .call("moderateBusiness", call("active"), Caller::User(&mia))
        .await;
    assert_eq!(
        answer,
        (
            200,
            json!({"result": {"businessId": business, "status": "active", "previousStatus": "pending"}})
        )
    );
    let answer = world
        .call("moderateBusiness", call("suspended"), Caller::User(&ada))
        .await;
    assert_eq!(answer.1["result"]["previousStatus"], "active");
    let answer = world
        .call("moderateBusiness", call("active"), Caller::Master)
        .await;
    assert_eq!(answer.1["result"]["previousStatus"], "suspended");
    assert_eq!(world.get("Business", &business).await["status"], "active");

    // Setting the status it already has writes nothing.
    let before = world.get("Business", &business).await;
    let answer = world
        .call("moderateBusiness", call("active"), Caller::User(&mia))
        .await;
    assert_eq!(answer.1["result"]["previousStatus"], "active");
    assert_eq!(world.get("Business", &business).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn moderate_business_refuses_everyone_else_and_bad_params() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let mia = world.user("mia", json!({})).await;
    world.role("Moderators", &[&mia], &[]).await;
    let business = active_business(&world, &owen).await;
    let cases = [
        (
            json!({"businessId": business, "status": "active"}),
            Caller::Anonymous,
            (
                401,
                code::UNAUTHORIZED,
                "Sign in as a moderator to moderate businesses.",
            ),
        ),
        (
            json!({"businessId": business, "status": "active"}),
            Caller::User(&owen),
            (
                403,
                code::FORBIDDEN,
                "Only moderators can change a business's status.",
            ),
        ),
        (
            json!({"businessId": business, "status": "closed"}),
            Caller::User(&mia),
            (
                400,
                code::VALIDATION_ERROR,
                "\"closed\" is not a status: use pending, active or suspended.",
            ),
        ),
        (
            json!({"businessId": business}),
            Caller::User(&mia),
            (400, code::VALIDATION_ERROR, "status is required."),
        ),
        (
            json!({"businessId": "000000000000000000000000", "status": "active"}),
            Caller::User(&mia),
            (404, code::OBJECT_NOT_FOUND, "This business does not exist."),
        ),
    ];
    for (params, caller, expected) in cases {
        let answer = world.call("moderateBusiness", params.clone(), caller).await;
        assert_eq!(refusal(&answer), expected, "{params} {caller:?}");
    }
    assert_eq!(world.get("Business", &business).await["status"], "active");
}

#[tokio::test(flavor = "multi_thread")]
async fn normalize_phone_answers_e164_or_a_validation_failure() {
    let world = World::start().await;
    assert_eq!(
        world
            .call(
                "normalizePhone",
                json!({"phone": "(415) 555-2671", "country": "us"}),
                Caller::Anonymous
            )
            .await,
        (200, json!({"result": "+14155552671"}))
    );
    let answer = world
        .call(
            "normalizePhone",
            json!({"phone": "555-2671", "country": "US"}),
            Caller::Anonymous,
        )
        .await;
    assert_eq!(
        refusal(&answer),
        (
            400,
            code::VALIDATION_ERROR,
            "The US phone number \"555-2671\" must have 10 digits after the country code."
        )
    );
}

#[test]
fn the_registry_lists_every_function_and_hook() {
    let names = cloud::registry().metadata_names();
    assert_eq!(
        names,
        [
            "normalizePhone",
            "nearbyBusinesses",
            "businessSummary",
            "moderateBusiness",
            "__before_save_for__User",
            "__before_update_for__User",
            "__on_login__User",
            "__on_verified_sms",
            "__before_save_for_Address",
            "__before_update_for_Address",
            "__after_update_for_Address",
            "__before_save_for_Business",
            "__after_save_for_Business",
            "__before_update_for_Business",
            "__after_update_for_Business",
            "__after_delete_for_Business",
            "__before_save_for_Review",
            "__after_save_for_Review",
            "__before_update_for_Review",
            "__after_update_for_Review",
            "__after_delete_for_Review",
        ]
    );
}
