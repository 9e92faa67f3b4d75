//! `Review` beforeSave, beforeUpdate, afterSave, afterUpdate and afterDelete.

use super::{BEIJING, active_business, business_fields, review};
use crate::support::{World, id, pointer, refusal};
use leancloud::error::code;
use serde_json::{Value, json};

fn new_review(business: &str, stars: Value) -> Value {
    json!({"business": pointer("Business", business), "stars": stars, "text": "Lovely flat white.", "countedStars": 5})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_review_by_a_signed_in_user_of_an_active_business_is_theirs() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let ann = world.user("ann", json!({})).await;
    let business = active_business(&world, &owen).await;
    let answer = world
        .hook(
            "Review",
            "beforeSave",
            new_review(&business, json!(4.0)),
            Some(&ann),
        )
        .await;
    assert_eq!(
        answer,
        (
            200,
            json!({
                "business": pointer("Business", &business), "stars": 4, "text": "Lovely flat white.",
                "author": pointer("_User", id(&ann)),
                "ACL": {"*": {"read": true}, id(&ann): {"write": true}}
            })
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_review_that_breaks_a_rule_is_refused_with_the_rule() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let ann = world.user("ann", json!({})).await;
    let bob = world.user("bob", json!({})).await;
    let business = active_business(&world, &owen).await;
    let pending = world
        .create("Business", business_fields(&owen, "pending", BEIJING))
        .await;
    review(&world, &business, &bob, 3, Some(3)).await;
    let with = |field: &str, value: Value| {
        let mut review = new_review(&business, json!(4));
        review[field] = value;
        review
    };
    let stars = "Stars must be a whole number from 1 to 5.";
    let cases = [
        (
            with("stars", json!(0)),
            &ann,
            (400, code::VALIDATION_ERROR, stars),
        ),
        (
            with("stars", json!(4.5)),
            &ann,
            (400, code::VALIDATION_ERROR, stars),
        ),
        (
            with("stars", json!(6)),
            &ann,
            (400, code::VALIDATION_ERROR, stars),
        ),
        (
            with("stars", Value::Null),
            &ann,
            (
                400,
                code::VALIDATION_ERROR,
                "Give the business 1 to 5 stars.",
            ),
        ),
        (
            with("stars", json!("5")),
            &ann,
            (400, code::VALIDATION_ERROR, "stars must be a number."),
        ),
        (
            with("text", json!("a".repeat(2001))),
            &ann,
            (
                400,
                code::VALIDATION_ERROR,
                "A review may have at most 2,000 characters; this one has 2001.",
            ),
        ),
        (
            with("business", Value::Null),
            &ann,
            (
                400,
                code::VALIDATION_ERROR,
                "Choose the business to review.",
            ),
        ),
        (
            with("business", pointer("Review", &business)),
            &ann,
            (
                400,
                code::VALIDATION_ERROR,
                "business must point to a Business.",
            ),
        ),
        (
            with("business", pointer("Business", "000000000000000000000000")),
            &ann,
            (404, code::OBJECT_NOT_FOUND, "This business does not exist."),
        ),
        (
            with("business", pointer("Business", &pending)),
            &ann,
            (
                400,
                code::VALIDATION_ERROR,
                "This business cannot be reviewed until a moderator has approved it.",
            ),
        ),
        (
            with("author", pointer("_User", id(&bob))),
            &ann,
            (
                403,
                code::FORBIDDEN,
                "You can only write reviews as yourself.",
            ),
        ),
        (
            new_review(&business, json!(5)),
            &owen,
            (403, code::FORBIDDEN, "You cannot review your own business."),
        ),
        (
            new_review(&business, json!(5)),
            &bob,
            (
                400,
                code::DUPLICATE_VALUE,
                "You have already reviewed this business; edit your review instead.",
            ),
        ),
    ];
    for (review, user, expected) in cases {
        let answer = world
            .hook("Review", "beforeSave", review.clone(), Some(user))
            .await;
        assert_eq!(refusal(&answer), expected, "{review}");
    }
    let anonymous = world
        .hook(
            "Review",
            "beforeSave",
            new_review(&business, json!(4)),
            None,
        )
        .await;
    assert_eq!(
        refusal(&anonymous),
        (401, code::UNAUTHORIZED, "Sign in to write a review.")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_stars_and_text_of_a_review_change_and_to_valid_values() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let ann = world.user("ann", json!({})).await;
    let business = active_business(&world, &owen).await;
    let other = active_business(&world, &owen).await;
    let id = review(&world, &business, &ann, 3, Some(3)).await;
    let stored = world.stored("Review", &id).await;
    let hook = |changes: Value| {
        let mut object = stored.clone();
        let keys: Vec<String> = changes.as_object().unwrap().keys().cloned().collect();
        for (k, v) in changes.as_object().unwrap() {
            object[k] = v.clone();
        }
        object["_updatedKeys"] = json!(keys);
        let world = &world;
        let ann = &ann;
        async move {
            world
                .hook("Review", "beforeUpdate", object, Some(ann))
                .await
        }
    };
    let ok = hook(json!({"stars": 5, "text": "Even better now."})).await;
    assert_eq!(ok.0, 200, "{ok:?}");
    assert_eq!(
        refusal(&hook(json!({"business": pointer("Business", &other), "stars": 1})).await),
        (
            403,
            code::FORBIDDEN,
            "Only a review's stars and text can change, not its business."
        )
    );
    assert_eq!(
        refusal(&hook(json!({"countedStars": 5, "author": pointer("_User", "x")})).await),
        (
            403,
            code::FORBIDDEN,
            "Only a review's stars and text can change, not its author and countedStars."
        )
    );
    assert_eq!(
        refusal(&hook(json!({"stars": 0})).await),
        (
            400,
            code::VALIDATION_ERROR,
            "Stars must be a whole number from 1 to 5."
        )
    );
    assert_eq!(
        refusal(&hook(json!({"text": "b".repeat(2001)})).await),
        (
            400,
            code::VALIDATION_ERROR,
            "A review may have at most 2,000 characters; this one has 2001."
        )
    );
}

/// `(ratingCount, ratingSum, ratingAvg)` of a business and `reviewCount` of a user.
async fn counters(world: &World, business: &str, author: &Value) -> (Value, Value, Value, Value) {
    let b = world.get("Business", business).await;
    let u = world.get("_User", id(author)).await;
    (
        b["ratingCount"].clone(),
        b["ratingSum"].clone(),
        b["ratingAvg"].clone(),
        u["reviewCount"].clone(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_review_counts_once_into_its_business_and_author() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let ann = world.user("ann", json!({"reviewCount": 2})).await;
    let business = active_business(&world, &owen).await;
    let review = review(&world, &business, &ann, 4, None).await;
    let object = world.stored("Review", &review).await;
    for _ in 0..2 {
        let answer = world
            .hook("Review", "afterSave", object.clone(), Some(&ann))
            .await;
        assert_eq!(answer, (200, json!({"result": "ok"})));
    }
    assert_eq!(
        counters(&world, &business, &ann).await,
        (json!(1), json!(4), json!(4.0), json!(3))
    );
    assert_eq!(world.get("Review", &review).await["countedStars"], 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn reviews_saved_at_once_all_count_and_the_average_matches_the_counters() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let business = active_business(&world, &owen).await;
    let mut authors = Vec::new();
    let mut objects = Vec::new();
    for (i, stars) in [5, 4, 4, 3, 5, 1, 2, 5, 4, 3].into_iter().enumerate() {
        let author = world.user(&format!("fan{i}"), json!({})).await;
        let review = review(&world, &business, &author, stars, None).await;
        objects.push(world.stored("Review", &review).await);
        authors.push(author);
    }
    let hooks = objects
        .iter()
        .zip(&authors)
        .map(|(object, author)| world.hook("Review", "afterSave", object.clone(), Some(author)));
    for answer in futures::future::join_all(hooks).await {
        assert_eq!(answer, (200, json!({"result": "ok"})));
    }
    let (count, sum, avg, _) = counters(&world, &business, &authors[0]).await;
    assert_eq!((count, sum), (json!(10), json!(36)));
    assert_eq!(avg, json!(3.6));
    for author in &authors {
        assert_eq!(world.get("_User", id(author)).await["reviewCount"], 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_review_moves_the_sum_by_the_difference() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let ann = world.user("ann", json!({"reviewCount": 1})).await;
    let business = world
        .create(
            "Business",
            json!({"status": "active", "ratingCount": 2, "ratingSum": 9, "ratingAvg": 4.5,
                   "owner": pointer("_User", id(&owen))}),
        )
        .await;
    let review = review(&world, &business, &ann, 4, Some(4)).await;
    world
        .master
        .update("Review", &review, &json!({"stars": 1}))
        .await
        .unwrap();
    let mut object = world.stored("Review", &review).await;
    object["_updatedKeys"] = json!(["stars"]);
    let answer = world
        .hook("Review", "afterUpdate", object.clone(), Some(&ann))
        .await;
    assert_eq!(answer, (200, json!({"result": "ok"})));
    assert_eq!(
        counters(&world, &business, &ann).await,
        (json!(2), json!(6), json!(3.0), json!(1))
    );
    // The same hook again (or a text-only edit) changes nothing.
    world
        .hook("Review", "afterUpdate", object, Some(&ann))
        .await;
    let mut text_only = world.stored("Review", &review).await;
    text_only["_updatedKeys"] = json!(["text"]);
    world
        .hook("Review", "afterUpdate", text_only, Some(&ann))
        .await;
    assert_eq!(
        counters(&world, &business, &ann).await,
        (json!(2), json!(6), json!(3.0), json!(1))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_before_the_review_was_counted_leaves_the_counting_to_its_after_save() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let ann = world.user("ann", json!({})).await;
    let business = active_business(&world, &owen).await;
    let review = review(&world, &business, &ann, 2, None).await;
    let saved = world.stored("Review", &review).await;
    world
        .master
        .update("Review", &review, &json!({"stars": 5}))
        .await
        .unwrap();
    let mut edited = world.stored("Review", &review).await;
    edited["_updatedKeys"] = json!(["stars"]);
    // The edit's afterUpdate counts the review as it is now...
    world
        .hook("Review", "afterUpdate", edited, Some(&ann))
        .await;
    // ...and the late afterSave, which still carries 2 stars, finds nothing to add.
    world.hook("Review", "afterSave", saved, Some(&ann)).await;
    assert_eq!(
        counters(&world, &business, &ann).await,
        (json!(1), json!(5), json!(5.0), json!(1))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_review_takes_away_what_it_counted() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let ann = world.user("ann", json!({"reviewCount": 3})).await;
    let business = world
        .create(
            "Business",
            json!({"status": "active", "ratingCount": 3, "ratingSum": 12, "ratingAvg": 4,
                   "owner": pointer("_User", id(&owen))}),
        )
        .await;
    let counted = review(&world, &business, &ann, 5, Some(5)).await;
    let uncounted = review(&world, &business, &ann, 1, None).await;
    for review in [&counted, &uncounted] {
        let object = world.stored("Review", review).await;
        world.master.delete("Review", review).await.unwrap();
        let answer = world
            .hook("Review", "afterDelete", object, Some(&ann))
            .await;
        assert_eq!(answer, (200, json!({"result": "ok"})));
    }
    assert_eq!(
        counters(&world, &business, &ann).await,
        (json!(2), json!(7), json!(3.5), json!(2))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_review_deleted_with_its_business_still_uncounts_its_author() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let ann = world.user("ann", json!({"reviewCount": 1})).await;
    let business = active_business(&world, &owen).await;
    let review = review(&world, &business, &ann, 5, Some(5)).await;
    let object = world.stored("Review", &review).await;
    world.master.delete("Business", &business).await.unwrap();
    world.master.delete("Review", &review).await.unwrap();
    let answer = world
        .hook("Review", "afterDelete", object, Some(&ann))
        .await;
    assert_eq!(answer, (200, json!({"result": "ok"})));
    assert_eq!(world.get("Business", &business).await, json!({}));
    assert_eq!(world.get("_User", id(&ann)).await["reviewCount"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_after_save_for_a_review_already_deleted_counts_nothing() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let ann = world.user("ann", json!({})).await;
    let business = active_business(&world, &owen).await;
    let review = review(&world, &business, &ann, 5, None).await;
    let object = world.stored("Review", &review).await;
    world.master.delete("Review", &review).await.unwrap();
    let answer = world.hook("Review", "afterSave", object, Some(&ann)).await;
    assert_eq!(answer, (200, json!({"result": "ok"})));
    assert_eq!(
        counters(&world, &business, &ann).await,
        (json!(0), json!(0), json!(0), Value::Null)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn after_hooks_report_a_review_without_a_business_pointer_and_write_nothing() {
    let world = World::start().await;
    let owen = world.user("owen", json!({})).await;
    let ann = world.user("ann", json!({"reviewCount": 1})).await;
    let business = active_business(&world, &owen).await;
    let broken = world
        .create(
            "Review",
            json!({"business": business, "author": pointer("_User", id(&ann)), "stars": 4}),
        )
        .await;
    let object = world.stored("Review", &broken).await;
    let mut updated = object.clone();
    updated["_updatedKeys"] = json!(["stars"]);
    let mut deleted = object.clone();
    deleted["countedStars"] = json!(4);
    for (hook, payload) in [
        ("afterSave", object),
        ("afterUpdate", updated),
        ("afterDelete", deleted),
    ] {
        let answer = world.hook("Review", hook, payload, Some(&ann)).await;
        assert_eq!(
            refusal(&answer),
            (
                400,
                code::VALIDATION_ERROR,
                "business must point to a Business."
            ),
            "{hook}"
        );
    }
    assert_eq!(world.get("Review", &broken).await.get("countedStars"), None);
    assert_eq!(
        counters(&world, &business, &ann).await,
        (json!(0), json!(0), json!(0), json!(1))
    );
}
