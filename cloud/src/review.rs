//! `Review`: a signed-in user's stars and words about an active business.
//!
//! - beforeSave: a signed-in user (401 otherwise); `business` points to a business that
//!   exists (404) and is active (142); `stars` a whole number from 1 to 5 and `text` at
//!   most 2,000 characters (142); one review per user and business (137); the author is
//!   the caller (403 for another author), never the business's owner (403); ACL public
//!   read, author write. `countedStars` is the app's and is dropped.
//! - beforeUpdate: only `stars` and `text` change (403), to valid values (142).
//! - afterSave, afterUpdate (stars), afterDelete: the business's rating counters and the
//!   author's `reviewCount` follow (see [`crate::ratings`]).
//! - afterSave: the business's owner hears of the new review, on every device they are
//!   signed in on: a push to the `_Installation`s whose `user` is the owner (see
//!   [`tell_owner`]).

use crate::acl;
use crate::errors::{conflict, forbidden, invalid, not_found, sign_in_required};
use crate::input;
use crate::ratings;
use crate::rules;
use crate::schema::{BUSINESS, REVIEW, REVIEW_EDITABLE, USER};
use crate::store::{self, pointer};
use crate::users::{caller, list};
use leancloud::client::Client;
use leancloud::cloud::{CloudError, HookRequest, Registry};
use serde_json::{Value, json};

pub fn define(registry: &mut Registry) {
    registry.before_save(REVIEW, before_save);
    registry.after_save(REVIEW, after_save);
    registry.before_update(REVIEW, before_update);
    registry.after_update(REVIEW, after_update);
    registry.after_delete(REVIEW, after_delete);
}

/// Stars, as given: required, a whole number from 1 to 5.
fn stars(obj: &Value) -> Result<i64, CloudError> {
    let stars =
        input::number(obj, "stars")?.ok_or_else(|| invalid("Give the business 1 to 5 stars."))?;
    Ok(rules::check_stars(stars)?)
}

fn check_text(obj: &Value) -> Result<(), CloudError> {
    if let Some(text) = input::text(obj, "text")? {
        rules::check_review_text(text)?;
    }
    Ok(())
}

pub async fn before_save(req: HookRequest) -> Result<Value, CloudError> {
    let author = caller(&req).ok_or_else(|| sign_in_required("Sign in to write a review."))?;
    let obj = &req.object;
    let business_id = input::pointer_id(obj, "business", BUSINESS)?
        .ok_or_else(|| invalid("Choose the business to review."))?;
    let stars = stars(obj)?;
    check_text(obj)?;
    if let Some(given) = input::pointer_id(obj, "author", USER)?
        && given != author
    {
        return Err(forbidden("You can only write reviews as yourself."));
    }

    let master = req.client().as_master();
    let business = store::fetch(&master, BUSINESS, &business_id)
        .await?
        .ok_or_else(|| not_found("This business does not exist."))?;
    if business.get("status").and_then(Value::as_str) != Some("active") {
        return Err(invalid(
            "This business cannot be reviewed until a moderator has approved it.",
        ));
    }
    // A malformed owner on the business is not the reviewer's problem: no owner matches.
    let owner = input::pointer_id(&business, "owner", USER).ok().flatten();
    if owner.as_deref() == Some(author.as_str()) {
        return Err(forbidden("You cannot review your own business."));
    }
    let earlier = store::count(
        &master
            .query(REVIEW)
            .where_eq("business", pointer(BUSINESS, &business_id))
            .where_eq("author", pointer(USER, &author)),
    )
    .await?;
    if earlier > 0 {
        return Err(conflict(
            "You have already reviewed this business; edit your review instead.",
        ));
    }

    let mut review = req.object;
    review["stars"] = json!(stars);
    review["author"] = pointer(USER, &author);
    review["ACL"] = acl::review(&author);
    if let Some(map) = review.as_object_mut() {
        map.remove("countedStars");
    }
    Ok(review)
}

pub async fn before_update(req: HookRequest) -> Result<(), CloudError> {
    let fixed: Vec<&str> = req
        .updated_keys()
        .into_iter()
        .filter(|k| !REVIEW_EDITABLE.contains(k))
        .collect();
    if !fixed.is_empty() {
        return Err(forbidden(format!(
            "Only a review's stars and text can change, not its {}.",
            list(&fixed)
        )));
    }
    if req.is_updated("stars") {
        stars(&req.object)?;
    }
    if req.is_updated("text") {
        check_text(&req.object)?;
    }
    Ok(())
}

pub async fn after_save(req: HookRequest) -> Result<(), CloudError> {
    let Some(id) = req.object_id() else {
        return Ok(());
    };
    let master = req.client().as_master();
    ratings::settle(&master, id).await?;
    tell_owner(&master, id, &req.object).await
}

/// What the owner's devices show for a new review of their business.
pub fn owner_alert(business_name: &str, stars: i64) -> String {
    format!("New review of {business_name}: {stars} of 5 stars")
}

/// Push the new review to its business's owner: every `_Installation` whose `user`
/// points to them (an owner signed in on no device is told nothing). The push carries
/// pointers to the review and the business, for the app to open.
async fn tell_owner(master: &Client, review_id: &str, review: &Value) -> Result<(), CloudError> {
    let (Some(business_id), Some(stars)) = (
        review["business"]["objectId"].as_str(),
        review["stars"].as_i64(),
    ) else {
        return Ok(());
    };
    let Some(business) = store::fetch(master, BUSINESS, business_id).await? else {
        return Ok(());
    };
    let Some(owner) = business["owner"]["objectId"].as_str() else {
        return Ok(());
    };
    let name = business["name"].as_str().unwrap_or("your business");
    let body = json!({
        "where": {"user": pointer(USER, owner)},
        "data": {
            "alert": owner_alert(name, stars),
            "review": pointer(REVIEW, review_id),
            "business": pointer(BUSINESS, business_id),
        },
    });
    master
        .send_json("POST", "/1.1/push", Vec::new(), Some(&body))
        .await?;
    Ok(())
}

pub async fn after_update(req: HookRequest) -> Result<(), CloudError> {
    match req.object_id() {
        Some(id) if req.is_updated("stars") => {
            ratings::settle(&req.client().as_master(), id).await?;
            Ok(())
        }
        _ => Ok(()),
    }
}

pub async fn after_delete(req: HookRequest) -> Result<(), CloudError> {
    ratings::forget(&req.client().as_master(), &req.object).await?;
    Ok(())
}
