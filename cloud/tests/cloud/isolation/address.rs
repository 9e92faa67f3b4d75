//! `Address` beforeSave, beforeUpdate and afterUpdate.

use super::{BEIJING, beijing_address, business_fields};
use crate::support::{World, geo, pointer, refusal};
use leancloud::error::code;
use serde_json::{Value, json};

fn new_address() -> Value {
    json!({
        "street": "  Unter den Linden 77 ", "city": "Berlin", "region": " ",
        "postalCode": " 10117 ", "country": "de", "location": geo(52.5163, 13.3777)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_address_is_written_the_apps_way_and_belongs_to_its_creator() {
    let world = World::start().await;
    let alice = world.user("alice", json!({})).await;
    let answer = world
        .hook("Address", "beforeSave", new_address(), Some(&alice))
        .await;
    let alice_id = crate::support::id(&alice);
    assert_eq!(
        answer,
        (
            200,
            json!({
                "street": "Unter den Linden 77", "city": "Berlin", "postalCode": "10117",
                "country": "DE", "location": geo(52.5163, 13.3777),
                "ACL": {"*": {"read": true}, alice_id: {"write": true}}
            })
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_user_an_address_keeps_its_acl_or_becomes_read_only() {
    let world = World::start().await;
    let (status, body) = world
        .hook("Address", "beforeSave", new_address(), None)
        .await;
    assert_eq!((status, &body["ACL"]), (200, &json!({"*": {"read": true}})));
    let mut given = new_address();
    given["ACL"] = json!({"*": {"read": true}, "u1": {"write": true}});
    let (status, body) = world.hook("Address", "beforeSave", given, None).await;
    assert_eq!(
        (status, &body["ACL"]),
        (200, &json!({"*": {"read": true}, "u1": {"write": true}}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_address_that_breaks_a_rule_is_refused_with_the_rule() {
    let world = World::start().await;
    let alice = world.user("alice", json!({})).await;
    let cases = [
        (
            "postalCode",
            json!("1011"),
            "\"1011\" is not a valid postal code for DE.",
        ),
        (
            "country",
            json!("BR"),
            "The app does not serve BR: the country must be one of CN, US, DE, GB, FR, JP.",
        ),
        (
            "location",
            Value::Null,
            "Please give the address's location on the map.",
        ),
        (
            "location",
            json!({"latitude": 52.5, "longitude": 13.4}),
            "location must be a GeoPoint with a numeric latitude and longitude.",
        ),
        (
            "location",
            geo(52.5, 183.0),
            "The longitude must be between -180 and 180; 183 is not.",
        ),
        ("street", json!(""), "Please enter the street."),
    ];
    for (field, value, message) in cases {
        let mut address = new_address();
        address[field] = value;
        let answer = world
            .hook("Address", "beforeSave", address, Some(&alice))
            .await;
        assert_eq!(
            refusal(&answer),
            (400, code::VALIDATION_ERROR, message),
            "{field}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_must_leave_the_address_valid_and_in_the_written_form() {
    let world = World::start().await;
    let alice = world.user("alice", json!({})).await;
    let mut address = beijing_address();
    address["objectId"] = json!("a1");
    address["street"] = json!("2 Chang'an Avenue");
    address["_updatedKeys"] = json!(["street"]);
    let ok = world
        .hook("Address", "beforeUpdate", address.clone(), Some(&alice))
        .await;
    assert_eq!(ok.0, 200, "{ok:?}");

    let mut gb = address.clone();
    gb["country"] = json!("GB");
    gb["postalCode"] = json!("sw1a1aa");
    gb["_updatedKeys"] = json!(["country", "postalCode"]);
    let refused = world
        .hook("Address", "beforeUpdate", gb.clone(), Some(&alice))
        .await;
    assert_eq!(
        refusal(&refused),
        (
            400,
            code::VALIDATION_ERROR,
            "Write the postal code as \"SW1A 1AA\"."
        )
    );

    // The country moves, the Chinese postal code stays.
    gb["postalCode"] = json!("100006");
    gb["_updatedKeys"] = json!(["country"]);
    let refused = world
        .hook("Address", "beforeUpdate", gb, Some(&alice))
        .await;
    assert_eq!(
        refusal(&refused),
        (
            400,
            code::VALIDATION_ERROR,
            "\"100006\" is not a valid postal code for GB."
        )
    );

    let mut lower = address;
    lower["country"] = json!("cn");
    lower["_updatedKeys"] = json!(["country"]);
    let refused = world
        .hook("Address", "beforeUpdate", lower, Some(&alice))
        .await;
    assert_eq!(
        refusal(&refused),
        (400, code::VALIDATION_ERROR, "Write the country as \"CN\".")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn when_an_address_moves_its_businesses_move_with_it() {
    let world = World::start().await;
    let owner = world.user("owen", json!({})).await;
    let address_id = world.create("Address", beijing_address()).await;
    let mut here = business_fields(&owner, "active", BEIJING);
    here["address"] = pointer("Address", &address_id);
    let here = world.create("Business", here).await;
    let elsewhere = world
        .create("Business", business_fields(&owner, "active", BEIJING))
        .await;

    let mut moved = world.stored("Address", &address_id).await;
    moved["location"] = geo(39.95, 116.45);
    moved["_updatedKeys"] = json!(["location"]);
    let answer = world
        .hook("Address", "afterUpdate", moved, Some(&owner))
        .await;
    assert_eq!(answer, (200, json!({"result": "ok"})));
    assert_eq!(
        world.get("Business", &here).await["location"],
        geo(39.95, 116.45)
    );
    assert_eq!(
        world.get("Business", &elsewhere).await["location"],
        geo(BEIJING.0, BEIJING.1)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_address_update_that_does_not_move_it_leaves_businesses_alone() {
    let world = World::start().await;
    let owner = world.user("owen", json!({})).await;
    let address_id = world.create("Address", beijing_address()).await;
    let mut fields = business_fields(&owner, "active", (1.0, 1.0));
    fields["address"] = pointer("Address", &address_id);
    let business = world.create("Business", fields).await;
    let before = world.get("Business", &business).await;
    let mut renamed = world.stored("Address", &address_id).await;
    renamed["street"] = json!("3 Chang'an Avenue");
    renamed["_updatedKeys"] = json!(["street"]);
    let answer = world
        .hook("Address", "afterUpdate", renamed, Some(&owner))
        .await;
    assert_eq!(answer, (200, json!({"result": "ok"})));
    assert_eq!(world.get("Business", &business).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_address_after_update_with_a_broken_location_is_reported() {
    let world = World::start().await;
    let owner = world.user("owen", json!({})).await;
    let address_id = world.create("Address", beijing_address()).await;
    let mut moved = world.stored("Address", &address_id).await;
    moved["location"] = json!({"latitude": 1, "longitude": 2});
    moved["_updatedKeys"] = json!(["location"]);
    let answer = world
        .hook("Address", "afterUpdate", moved, Some(&owner))
        .await;
    assert_eq!(
        refusal(&answer),
        (
            400,
            code::VALIDATION_ERROR,
            "location must be a GeoPoint with a numeric latitude and longitude."
        )
    );
}
