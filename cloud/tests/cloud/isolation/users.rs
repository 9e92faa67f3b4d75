//! `_User` beforeSave, beforeUpdate, onLogin and onVerified `sms`.

use super::{BEIJING, business_fields};
use crate::support::{World, refusal};
use leancloud::error::code;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_up_starts_as_a_customer_whatever_it_sent() {
    let world = World::start().await;
    let answer = world
        .hook(
            "_User",
            "beforeSave",
            json!({"username": "mallory", "displayName": "M", "role": "owner", "banned": true, "reviewCount": 99}),
            None,
        )
        .await;
    assert_eq!(
        answer,
        (
            200,
            json!({"username": "mallory", "displayName": "M", "role": "customer", "banned": false, "reviewCount": 0})
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_edits_their_profile_but_not_their_role_ban_or_count() {
    let world = World::start().await;
    let alice = world.user("alice", json!({"role": "customer"})).await;
    let mut object = alice.clone();
    object["displayName"] = json!("Alice B.");
    object["_updatedKeys"] = json!(["displayName"]);
    let ok = world
        .hook("_User", "beforeUpdate", object.clone(), Some(&alice))
        .await;
    assert_eq!(ok.0, 200, "{ok:?}");

    object["role"] = json!("owner");
    object["banned"] = json!(false);
    object["_updatedKeys"] = json!(["role", "banned"]);
    let refused = world
        .hook("_User", "beforeUpdate", object, Some(&alice))
        .await;
    assert_eq!(
        refusal(&refused),
        (
            403,
            code::FORBIDDEN,
            "role and banned can only be changed by the app."
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_master_key_sets_the_managed_fields_to_valid_values_only() {
    let world = World::start().await;
    let alice = world.user("alice", json!({})).await;
    let update = |field: &str, value: serde_json::Value| {
        let mut object = alice.clone();
        object[field] = value;
        object["_updatedKeys"] = json!([field]);
        object
    };
    let ok = world
        .hook("_User", "beforeUpdate", update("banned", json!(true)), None)
        .await;
    assert_eq!(ok.0, 200, "{ok:?}");
    let ok = world
        .hook(
            "_User",
            "beforeUpdate",
            update("role", json!("owner")),
            None,
        )
        .await;
    assert_eq!(ok.0, 200, "{ok:?}");
    let refused = world
        .hook(
            "_User",
            "beforeUpdate",
            update("role", json!("admin")),
            None,
        )
        .await;
    assert_eq!(
        refusal(&refused),
        (
            400,
            code::VALIDATION_ERROR,
            "\"admin\" is not a user role: use customer or owner."
        )
    );
    let refused = world
        .hook(
            "_User",
            "beforeUpdate",
            update("reviewCount", json!(-1)),
            None,
        )
        .await;
    assert_eq!(
        refusal(&refused),
        (
            400,
            code::VALIDATION_ERROR,
            "reviewCount must be a whole number, 0 or more."
        )
    );
    let refused = world
        .hook("_User", "beforeUpdate", update("banned", json!("no")), None)
        .await;
    assert_eq!(
        refusal(&refused),
        (400, code::VALIDATION_ERROR, "banned must be true or false.")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_banned_user_cannot_log_in_and_others_can() {
    let world = World::start().await;
    let banned = world.user("bart", json!({"banned": true})).await;
    let refused = world.hook("_User", "onLogin", banned, None).await;
    assert_eq!(
        refusal(&refused),
        (
            403,
            code::FORBIDDEN,
            "This account has been suspended. Contact support if you think this is a mistake."
        )
    );
    for fields in [json!({"banned": false}), json!({})] {
        let user = world
            .user(&format!("u{}", fields.as_object().unwrap().len()), fields)
            .await;
        assert_eq!(
            world.hook("_User", "onLogin", user, None).await,
            (200, json!({"result": "ok"}))
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn display_names_are_trimmed_on_sign_up_and_must_come_trimmed_later() {
    let world = World::start().await;
    let (status, body) = world
        .hook(
            "_User",
            "beforeSave",
            json!({"username": "ann", "displayName": "  Ann  "}),
            None,
        )
        .await;
    assert_eq!((status, &body["displayName"]), (200, &json!("Ann")));
    let refused = world
        .hook(
            "_User",
            "beforeSave",
            json!({"username": "ann", "displayName": "x".repeat(41)}),
            None,
        )
        .await;
    assert_eq!(
        refusal(&refused),
        (
            400,
            code::VALIDATION_ERROR,
            "A display name may have at most 40 characters; this one has 41."
        )
    );
    let ann = world.user("ann", json!({})).await;
    let mut object = ann.clone();
    object["displayName"] = json!(" Ann ");
    object["_updatedKeys"] = json!(["displayName"]);
    let refused = world
        .hook("_User", "beforeUpdate", object, Some(&ann))
        .await;
    assert_eq!(
        refusal(&refused),
        (
            400,
            code::VALIDATION_ERROR,
            "Write the display name as \"Ann\"."
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_verified_owner_number_becomes_the_phone_of_their_businesses_without_one() {
    let world = World::start().await;
    let phone = "+8613800138000";
    let owner = world
        .user(
            "owner",
            json!({"role": "owner", "mobilePhoneNumber": phone}),
        )
        .await;
    let bare = world
        .create("Business", business_fields(&owner, "active", BEIJING))
        .await;
    let mut listed = business_fields(&owner, "active", BEIJING);
    listed["phone"] = json!("+861064021587");
    let listed = world.create("Business", listed).await;
    let answer = world.hook("onVerified", "sms", owner.clone(), None).await;
    assert_eq!(answer, (200, json!({"result": "ok"})));
    assert_eq!(world.stored("Business", &bare).await["phone"], phone);
    assert_eq!(
        world.stored("Business", &listed).await["phone"],
        "+861064021587"
    );
}
