//! `Business` beforeSave, afterSave, beforeUpdate, afterUpdate and afterDelete.

use super::{BEIJING, active_business, beijing_address, business_fields, review};
use crate::support::{World, geo, id, pointer, refusal};
use leancloud::error::code;
use serde_json::{Value, json};

fn new_business(address: &str) -> Value {
    json!({
        "name": "  Morning Cup ", "category": "Cafe", "phone": "010 6552 9988",
        "address": pointer("Address", address),
        "status": "active", "ratingCount": 40, "ratingSum": 200, "ratingAvg": 5
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_business_is_pending_counted_from_zero_and_owned_by_its_creator() {
    let world = World::start().await;
    let alice = world.user("alice", json!({})).await;
    let address = world.create("Address", beijing_address()).await;
    let answer = world
        .hook(
            "Business",
            "beforeSave",
            new_business(&address),
            Some(&alice),
        )
        .await;
    let alice_id = id(&alice);
    assert_eq!(
        answer,
        (
            200,
            json!({
                "name": "Morning Cup", "category": "cafe", "phone": "+861065529988",
                "address": pointer("Address", &address), "location": geo(BEIJING.0, BEIJING.1),
                "owner": pointer("_User", alice_id), "status": "pending",
                "ratingCount": 0, "ratingSum": 0, "ratingAvg": 0,
                "ACL": {"*": {"read": true}, alice_id: {"write": true}, "role:Moderators": {"write": true}}
            })
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_address_the_phone_follows_the_country_field_or_must_be_international() {
    let world = World::start().await;
    let alice = world.user("alice", json!({})).await;
    let business = json!({"name": "Brezel", "category": "bakery", "phone": "030 1234567", "country": "de", "location": geo(52.5, 13.4)});
    let (status, body) = world
        .hook("Business", "beforeSave", business.clone(), Some(&alice))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["phone"], &body["country"], &body["location"]),
        (&json!("+49301234567"), &json!("DE"), &geo(52.5, 13.4))
    );

    let mut national = business.clone();
    national.as_object_mut().unwrap().remove("country");
    let refused = world
        .hook("Business", "beforeSave", national.clone(), Some(&alice))
        .await;
    assert_eq!(
        refusal(&refused),
        (
            400,
            code::VALIDATION_ERROR,
            "Write the phone number with its country code, like +86 138 0013 8000, or give the business an address first."
        )
    );
    national["phone"] = json!("+49 30 1234567");
    let (status, body) = world
        .hook("Business", "beforeSave", national, Some(&alice))
        .await;
    assert_eq!((status, &body["phone"]), (200, &json!("+49301234567")));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_master_key_adds_a_business_for_an_owner_who_exists() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let mut business =
        json!({"name": "Fix It", "category": "repair", "owner": pointer("_User", id(&owen))});
    let (status, body) = world
        .hook("Business", "beforeSave", business.clone(), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["owner"], pointer("_User", id(&owen)));
    assert_eq!(body["ACL"], cloud::acl::business(id(&owen)));

    business["owner"] = pointer("_User", "000000000000000000000000");
    let refused = world.hook("Business", "beforeSave", business, None).await;
    assert_eq!(
        refusal(&refused),
        (
            404,
            code::OBJECT_NOT_FOUND,
            "The business's owner does not exist."
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_business_that_breaks_a_rule_is_refused_with_the_rule() {
    let world = World::start().await;
    let alice = world.user("alice", json!({})).await;
    let bob = world.user("bob", json!({})).await;
    let address = world.create("Address", beijing_address()).await;
    let with = |field: &str, value: Value| {
        let mut business = new_business(&address);
        business[field] = value;
        business
    };
    let cases = [
        (
            with("name", json!(" ")),
            (
                400,
                code::VALIDATION_ERROR,
                "Please enter the business's name.",
            ),
        ),
        (
            with("name", json!("x".repeat(81))),
            (
                400,
                code::VALIDATION_ERROR,
                "The business's name may have at most 80 characters; this one has 81.",
            ),
        ),
        (
            with("category", json!("casino")),
            (
                400,
                code::VALIDATION_ERROR,
                "\"casino\" is not a category: choose one of cafe, restaurant, bar, bakery, grocery, salon, repair, other.",
            ),
        ),
        (
            with("address", pointer("Address", "000000000000000000000000")),
            (
                404,
                code::OBJECT_NOT_FOUND,
                "The business's address does not exist.",
            ),
        ),
        (
            with("country", json!("DE")),
            (
                400,
                code::VALIDATION_ERROR,
                "The business's country (DE) is not the country of its address (CN).",
            ),
        ),
        (
            with("phone", json!("call us")),
            (
                400,
                code::VALIDATION_ERROR,
                "The phone number \"call us\" may contain only digits, spaces, dashes, dots, parentheses and a leading +.",
            ),
        ),
        (
            with("owner", pointer("_User", id(&bob))),
            (
                403,
                code::FORBIDDEN,
                "You can only add businesses that you own yourself.",
            ),
        ),
    ];
    for (business, expected) in cases {
        let answer = world
            .hook("Business", "beforeSave", business.clone(), Some(&alice))
            .await;
        assert_eq!(refusal(&answer), expected, "{business}");
    }
    let anonymous = world
        .hook("Business", "beforeSave", new_business(&address), None)
        .await;
    assert_eq!(
        refusal(&anonymous),
        (401, code::UNAUTHORIZED, "Sign in to add a business.")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn adding_a_business_makes_its_owner_an_owner() {
    let world = World::start().await;
    let alice = world.user("alice", json!({"role": "customer"})).await;
    let business = world
        .create("Business", business_fields(&alice, "pending", BEIJING))
        .await;
    let object = world.stored("Business", &business).await;
    let answer = world
        .hook("Business", "afterSave", object, Some(&alice))
        .await;
    assert_eq!(answer, (200, json!({"result": "ok"})));
    assert_eq!(world.get("_User", id(&alice)).await["role"], "owner");
}

/// The stored business with `changes` applied and `_updatedKeys` set, as an update hook
/// gets it.
async fn updated(world: &World, business: &str, changes: Value) -> Value {
    let mut object = world.stored("Business", business).await;
    let keys: Vec<String> = changes.as_object().unwrap().keys().cloned().collect();
    for (k, v) in changes.as_object().unwrap() {
        object[k] = v.clone();
    }
    object["_updatedKeys"] = json!(keys);
    object
}

#[tokio::test(flavor = "multi_thread")]
async fn an_owner_edits_the_listing_but_not_what_the_app_or_moderators_decide() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let business = active_business(&world, &owen).await;
    let hook = |changes: Value| {
        let world = &world;
        let owen = &owen;
        let business = &business;
        async move {
            let object = updated(world, business, changes).await;
            world
                .hook("Business", "beforeUpdate", object, Some(owen))
                .await
        }
    };
    let ok = hook(json!({"name": "Evening Cup", "category": "bar"})).await;
    assert_eq!(ok.0, 200, "{ok:?}");
    assert_eq!(
        refusal(&hook(json!({"status": "active"})).await),
        (
            403,
            code::FORBIDDEN,
            "Only moderators can change a business's status."
        )
    );
    assert_eq!(
        refusal(&hook(json!({"ratingCount": 10, "ratingAvg": 5})).await),
        (
            403,
            code::FORBIDDEN,
            "Only the app can change a business's ratingCount and ratingAvg."
        )
    );
    assert_eq!(
        refusal(&hook(json!({"owner": pointer("_User", "x1")})).await),
        (
            403,
            code::FORBIDDEN,
            "Only the app can change a business's owner."
        )
    );
    assert_eq!(
        refusal(&hook(json!({"name": " Evening Cup"})).await),
        (
            400,
            code::VALIDATION_ERROR,
            "Write the name as \"Evening Cup\"."
        )
    );
    assert_eq!(
        refusal(&hook(json!({"category": "Bar"})).await),
        (
            400,
            code::VALIDATION_ERROR,
            "Write the category as \"bar\"."
        )
    );
    assert_eq!(
        refusal(&hook(json!({"phone": "+86 10 6552 9988"})).await),
        (
            400,
            code::VALIDATION_ERROR,
            "Write the phone number as \"+861065529988\"."
        )
    );
    let ok = hook(json!({"phone": "+861065529988"})).await;
    assert_eq!(ok.0, 200, "{ok:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn moderators_and_members_of_roles_inside_moderators_change_the_status() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let mia = world.user("mia", json!({})).await;
    let ada = world.user("ada", json!({})).await;
    let admins = world.role("Admins", &[&ada], &[]).await;
    world.role("Moderators", &[&mia], &[&admins]).await;
    let business = active_business(&world, &owen).await;
    for user in [&mia, &ada] {
        let object = updated(&world, &business, json!({"status": "suspended"})).await;
        let answer = world
            .hook("Business", "beforeUpdate", object, Some(user))
            .await;
        assert_eq!(answer.0, 200, "{answer:?}");
    }
    let object = updated(&world, &business, json!({"status": "closed"})).await;
    let answer = world
        .hook("Business", "beforeUpdate", object, Some(&mia))
        .await;
    assert_eq!(
        refusal(&answer),
        (
            400,
            code::VALIDATION_ERROR,
            "\"closed\" is not a status: use pending, active or suspended."
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_master_key_changes_the_owner_to_someone_who_exists() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let nina = world.user("nina", json!({})).await;
    let business = active_business(&world, &owen).await;
    let object = updated(
        &world,
        &business,
        json!({"owner": pointer("_User", id(&nina))}),
    )
    .await;
    assert_eq!(
        world.hook("Business", "beforeUpdate", object, None).await.0,
        200
    );
    let object = updated(
        &world,
        &business,
        json!({"owner": pointer("_User", "000000000000000000000000")}),
    )
    .await;
    assert_eq!(
        refusal(&world.hook("Business", "beforeUpdate", object, None).await),
        (
            404,
            code::OBJECT_NOT_FOUND,
            "The business's new owner does not exist."
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_location_of_a_business_with_an_address_follows_the_address() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let address = world.create("Address", beijing_address()).await;
    let mut fields = business_fields(&owen, "active", BEIJING);
    fields["address"] = pointer("Address", &address);
    let business = world.create("Business", fields).await;
    let object = updated(&world, &business, json!({"location": geo(1.0, 1.0)})).await;
    assert_eq!(
        refusal(
            &world
                .hook("Business", "beforeUpdate", object, Some(&owen))
                .await
        ),
        (
            403,
            code::FORBIDDEN,
            "The business's location follows its address: change the address instead."
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_address_moves_the_business_and_a_new_owner_gets_the_keys() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let nina = world.user("nina", json!({"role": "customer"})).await;
    let business = active_business(&world, &owen).await;
    let mut berlin = beijing_address();
    berlin["country"] = json!("DE");
    berlin["postalCode"] = json!("10117");
    berlin["location"] = geo(52.5163, 13.3777);
    let address = world.create("Address", berlin).await;

    let object = updated(
        &world,
        &business,
        json!({"address": pointer("Address", &address), "owner": pointer("_User", id(&nina))}),
    )
    .await;
    let answer = world.hook("Business", "afterUpdate", object, None).await;
    assert_eq!(answer, (200, json!({"result": "ok"})));
    let stored = world.stored("Business", &business).await;
    assert_eq!(stored["location"], geo(52.5163, 13.3777));
    assert_eq!(stored["ACL"], cloud::acl::business(id(&nina)));
    assert_eq!(world.get("_User", id(&nina)).await["role"], "owner");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_that_moves_nothing_writes_nothing_and_a_lost_address_is_reported() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let business = active_business(&world, &owen).await;
    let before = world.stored("Business", &business).await;
    let object = updated(&world, &business, json!({"name": "Evening Cup"})).await;
    assert_eq!(
        world
            .hook("Business", "afterUpdate", object, Some(&owen))
            .await,
        (200, json!({"result": "ok"}))
    );
    assert_eq!(world.stored("Business", &business).await, before);

    let object = updated(
        &world,
        &business,
        json!({"address": pointer("Address", "000000000000000000000000")}),
    )
    .await;
    assert_eq!(
        refusal(
            &world
                .hook("Business", "afterUpdate", object, Some(&owen))
                .await
        ),
        (
            404,
            code::OBJECT_NOT_FOUND,
            "The business's address does not exist."
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_business_deletes_its_reviews_and_no_others() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let ann = world.user("ann", json!({})).await;
    let gone = active_business(&world, &owen).await;
    let kept = active_business(&world, &owen).await;
    let mut doomed = Vec::new();
    for stars in 1..=5 {
        doomed.push(review(&world, &gone, &ann, stars, Some(stars)).await);
    }
    let survivor = review(&world, &kept, &ann, 4, Some(4)).await;
    let object = world.stored("Business", &gone).await;
    world.master.delete("Business", &gone).await.unwrap();
    let answer = world
        .hook("Business", "afterDelete", object.clone(), Some(&owen))
        .await;
    assert_eq!(answer, (200, json!({"result": "ok"})));
    for review in doomed {
        assert_eq!(world.get("Review", &review).await, json!({}));
    }
    assert_eq!(world.get("Review", &survivor).await["stars"], 4);
    // Nothing left to delete: still fine.
    assert_eq!(
        world
            .hook("Business", "afterDelete", object, Some(&owen))
            .await,
        (200, json!({"result": "ok"}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_after_save_whose_owner_is_not_a_user_is_reported() {
    let world = World::start().await;
    let owen = world.user("owen", json!({"role": "customer"})).await;
    let business = active_business(&world, &owen).await;
    let mut object = world.stored("Business", &business).await;
    object["owner"] = pointer("Address", id(&owen));
    let answer = world
        .hook("Business", "afterSave", object, Some(&owen))
        .await;
    assert_eq!(
        refusal(&answer),
        (400, code::VALIDATION_ERROR, "owner must point to a user.")
    );
    assert_eq!(world.get("_User", id(&owen)).await["role"], "customer");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_business_photo_must_be_an_uploaded_image_of_at_most_5_mb() {
    let world = World::start().await;
    let alice = world.user("alice", json!({})).await;
    let address = world.create("Address", beijing_address()).await;
    let mut files = Vec::new();
    for (mime, size) in [
        ("image/png", 2_000u64),
        ("text/plain", 10),
        ("image/jpeg", 6 * 1024 * 1024),
    ] {
        let fields = json!({"name": "f", "key": "f", "url": "http://files.test/f",
                            "mime_type": mime, "metaData": {"size": size}});
        files.push(world.create("_File", fields).await);
    }
    let with_photo = |file: &str| {
        let mut business = new_business(&address);
        business["photo"] = json!({"__type": "File", "id": file});
        business
    };
    let (status, saved) = world
        .hook(
            "Business",
            "beforeSave",
            with_photo(&files[0]),
            Some(&alice),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        saved["photo"],
        json!({"__type": "File", "id": files[0]}),
        "kept as given"
    );
    let cases = [
        (
            files[1].as_str(),
            (
                400,
                code::VALIDATION_ERROR,
                "A business photo is a JPEG, PNG or WebP image; this file is text/plain.",
            ),
        ),
        (
            files[2].as_str(),
            (
                400,
                code::VALIDATION_ERROR,
                "A business photo is at most 5 MB; this one is 6.0 MB.",
            ),
        ),
        (
            "000000000000000000000000",
            (
                404,
                code::OBJECT_NOT_FOUND,
                "The photo's file does not exist.",
            ),
        ),
    ];
    for (file, expected) in cases {
        let answer = world
            .hook("Business", "beforeSave", with_photo(file), Some(&alice))
            .await;
        assert_eq!(refusal(&answer), expected, "{file}");
    }
}
