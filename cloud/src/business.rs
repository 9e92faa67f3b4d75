//! `Business`: a listing in the directory.
//!
//! - beforeSave: a signed-in user (401), or the master key naming the `owner` (who must
//!   exist, 404); a user cannot name another owner (403). `name` trimmed, 1 to 80
//!   characters; `category` from [`rules::CATEGORIES`]; `address` an existing Address
//!   (404); `phone` in E.164, a national number read in the country of the address, else
//!   of the business's `country` field, else refused; `location` copied from the
//!   address; a `photo` an uploaded JPEG, PNG or WebP file of at most 5 MB (refused
//!   otherwise, as for a file that does not exist). `status` pending, `ratingCount`/`ratingSum`/`ratingAvg` 0; ACL public read,
//!   owner and `role:Moderators` write.
//! - afterSave: the owner's `role` becomes `owner`.
//! - beforeUpdate: `owner`, the rating fields and the ACL change with the master key only
//!   (403); `status` with the master key or by a member of `Moderators`, inherited roles
//!   included (403); changed values must already be in the written form (142), since a
//!   beforeUpdate cannot rewrite them; the location follows the address (403).
//! - afterUpdate: a new `address` moves the business to the address's location; a new
//!   `owner` gets the ACL and the `owner` role.
//! - afterDelete: the business's reviews are deleted (their afterDelete fixes their
//!   authors' `reviewCount`; the counters of the deleted business are skipped).

use crate::acl;
use crate::errors::{forbidden, invalid, not_found, sign_in_required};
use crate::input;
use crate::rules::{self, Coordinates};
use crate::schema::{ADDRESS, BUSINESS, BUSINESS_MASTER_ONLY, REVIEW, USER};
use crate::store::{self, pointer, quiet};
use crate::users::{caller, is_moderator, list};
use leancloud::client::{BatchRequest, Client};
use leancloud::cloud::{CloudError, HookRequest, Registry};
use serde_json::{Map, Value, json};

/// Reviews deleted per batch when a business goes.
const REVIEWS_PER_BATCH: u32 = 100;
/// Batches before the afterDelete gives up (100,000 reviews).
const MAX_BATCHES: usize = 1000;

pub fn define(registry: &mut Registry) {
    registry.before_save(BUSINESS, before_save);
    registry.after_save(BUSINESS, after_save);
    registry.before_update(BUSINESS, before_update);
    registry.after_update(BUSINESS, after_update);
    registry.after_delete(BUSINESS, after_delete);
}

/// Where a business is: the country its national phone numbers belong to, and its
/// location on the map.
#[derive(Debug, Clone, PartialEq)]
struct Place {
    country: Option<&'static str>,
    location: Option<Coordinates>,
}

/// The business's place: from its address when it has one (which must exist), else
/// from its own `country` and `location` fields.
async fn place(master: &Client, business: &Value) -> Result<Place, CloudError> {
    let own_country = input::text(business, "country")?
        .map(rules::normalize_country)
        .transpose()?;
    let Some(address_id) = input::pointer_id(business, "address", ADDRESS)? else {
        return Ok(Place {
            country: own_country,
            location: input::geo_point(business, "location")?,
        });
    };
    let address = store::fetch(master, ADDRESS, &address_id)
        .await?
        .ok_or_else(|| not_found("The business's address does not exist."))?;
    let country = input::text(&address, "country")?
        .map(rules::normalize_country)
        .transpose()?;
    if let (Some(own), Some(address)) = (own_country, country)
        && own != address
    {
        return Err(invalid(format!(
            "The business's country ({own}) is not the country of its address ({address})."
        )));
    }
    Ok(Place {
        country: country.or(own_country),
        location: input::geo_point(&address, "location")?,
    })
}

pub async fn before_save(req: HookRequest) -> Result<Value, CloudError> {
    let caller = caller(&req);
    let obj = &req.object;
    let name = input::required_text(obj, "name", "Please enter the business's name.")?;
    let name = rules::normalize_business_name(name)?;
    let category = input::required_text(obj, "category", "Please choose a category.")?;
    let category = rules::normalize_category(category)?;
    let owner = match (caller.as_deref(), input::pointer_id(obj, "owner", USER)?) {
        (Some(me), None) => me.to_string(),
        (Some(me), Some(named)) if named == me => named,
        (Some(_), Some(_)) => {
            return Err(forbidden(
                "You can only add businesses that you own yourself.",
            ));
        }
        // No user: the master key, which must say whose business this is.
        (None, Some(named)) => named,
        (None, None) => return Err(sign_in_required("Sign in to add a business.")),
    };

    let master = req.client().as_master();
    if caller.is_none() && store::fetch(&master, USER, &owner).await?.is_none() {
        return Err(not_found("The business's owner does not exist."));
    }
    if let Some(photo) = obj.get("photo").filter(|p| !p.is_null()) {
        check_photo(&master, photo).await?;
    }
    let place = place(&master, obj).await?;
    let phone = input::text(obj, "phone")?
        .map(|raw| rules::normalize_business_phone(raw, place.country))
        .transpose()?;

    let mut business = req.object;
    business["name"] = json!(name);
    business["category"] = json!(category);
    if let Some(phone) = phone {
        business["phone"] = json!(phone);
    }
    if let Some(country) = input::text(&business, "country")?.map(rules::normalize_country) {
        business["country"] = json!(country?);
    }
    match place.location {
        Some(location) => business["location"] = input::geo_point_json(location),
        None => {
            if let Some(map) = business.as_object_mut() {
                map.remove("location");
            }
        }
    }
    business["owner"] = pointer(USER, &owner);
    business["status"] = json!("pending");
    business["ratingCount"] = json!(0);
    business["ratingSum"] = json!(0);
    business["ratingAvg"] = json!(0);
    business["ACL"] = acl::business(&owner);
    Ok(business)
}

/// A `photo` is a File (`{"__type":"File","id"}`) naming an uploaded `_File` that is an
/// image of at most [`rules::MAX_PHOTO_BYTES`] (142 otherwise; 404 for no such file).
async fn check_photo(master: &Client, photo: &Value) -> Result<(), CloudError> {
    let id = (photo.get("__type").and_then(Value::as_str) == Some("File"))
        .then(|| photo.get("objectId").or_else(|| photo.get("id")))
        .flatten()
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("A business photo is an uploaded file."))?;
    let file = store::fetch(master, "_File", id)
        .await?
        .ok_or_else(|| not_found("The photo's file does not exist."))?;
    let mime = file.get("mime_type").and_then(Value::as_str).unwrap_or("");
    let size = file
        .get("metaData")
        .and_then(|m| m.get("size"))
        .and_then(Value::as_u64);
    rules::check_photo(mime, size)
}

/// Make `user_id` an owner (their `role`), unless they already are or are gone.
async fn promote(master: &Client, user_id: &str) -> Result<(), CloudError> {
    let Some(user) = store::fetch(master, USER, user_id).await? else {
        return Ok(());
    };
    if user.get("role").and_then(Value::as_str) != Some("owner") {
        master
            .update(USER, user_id, &quiet(json!({"role": "owner"})))
            .await?;
    }
    Ok(())
}

pub async fn after_save(req: HookRequest) -> Result<(), CloudError> {
    if let Some(owner) = input::pointer_id(&req.object, "owner", USER)? {
        promote(&req.client().as_master(), &owner).await?;
    }
    Ok(())
}

pub async fn before_update(req: HookRequest) -> Result<(), CloudError> {
    let caller = caller(&req);
    let obj = &req.object;
    let master = req.client().as_master();

    // Who may change what.
    if caller.is_some() {
        let fixed: Vec<&str> = BUSINESS_MASTER_ONLY
            .into_iter()
            .filter(|k| req.is_updated(k))
            .collect();
        if !fixed.is_empty() {
            return Err(forbidden(format!(
                "Only the app can change a business's {}.",
                list(&fixed)
            )));
        }
    }
    if req.is_updated("status")
        && let Some(me) = caller.as_deref()
        && !is_moderator(&master, me).await?
    {
        return Err(forbidden("Only moderators can change a business's status."));
    }
    if req.is_updated("location")
        && caller.is_some()
        && input::pointer_id(obj, "address", ADDRESS)?.is_some()
    {
        return Err(forbidden(
            "The business's location follows its address: change the address instead.",
        ));
    }

    // What the new values must look like.
    if req.is_updated("status") {
        rules::check_status(input::text(obj, "status")?.unwrap_or_default())?;
    }
    if req.is_updated("name") {
        let given = input::text(obj, "name")?.unwrap_or_default();
        let name = rules::normalize_business_name(given)?;
        if name != given {
            return Err(invalid(format!("Write the name as \"{name}\".")));
        }
    }
    if req.is_updated("category") {
        let given = input::text(obj, "category")?.unwrap_or_default();
        let category = rules::normalize_category(given)?;
        if category != given {
            return Err(invalid(format!("Write the category as \"{category}\".")));
        }
    }
    if req.is_updated("owner") {
        let owner = input::pointer_id(obj, "owner", USER)?
            .ok_or_else(|| invalid("A business must have an owner."))?;
        if store::fetch(&master, USER, &owner).await?.is_none() {
            return Err(not_found("The business's new owner does not exist."));
        }
    }
    if req.is_updated("location") {
        input::geo_point(obj, "location")?;
    }
    if ["address", "country", "phone"]
        .into_iter()
        .any(|k| req.is_updated(k))
    {
        let place = place(&master, obj).await?;
        if let Some(given) = input::text(obj, "country")?
            && req.is_updated("country")
        {
            let country = rules::normalize_country(given)?;
            if country != given {
                return Err(invalid(format!("Write the country as \"{country}\".")));
            }
        }
        if let Some(given) = input::text(obj, "phone")? {
            let phone = rules::normalize_business_phone(given, place.country)?;
            if phone != given {
                return Err(invalid(format!("Write the phone number as \"{phone}\".")));
            }
        }
    }
    Ok(())
}

pub async fn after_update(req: HookRequest) -> Result<(), CloudError> {
    let Some(id) = req.object_id() else {
        return Ok(());
    };
    let obj = &req.object;
    let master = req.client().as_master();
    let mut changes = Map::new();
    if req.is_updated("address")
        && let Some(address_id) = input::pointer_id(obj, "address", ADDRESS)?
    {
        let address = store::fetch(&master, ADDRESS, &address_id)
            .await?
            .ok_or_else(|| not_found("The business's address does not exist."))?;
        if let Some(location) = input::geo_point(&address, "location")? {
            let location = input::geo_point_json(location);
            if obj.get("location") != Some(&location) {
                changes.insert("location".into(), location);
            }
        }
    }
    if req.is_updated("owner")
        && let Some(owner) = input::pointer_id(obj, "owner", USER)?
    {
        let acl = acl::business(&owner);
        if obj.get("ACL") != Some(&acl) {
            changes.insert("ACL".into(), acl);
        }
        promote(&master, &owner).await?;
    }
    if !changes.is_empty() {
        master
            .update(BUSINESS, id, &quiet(Value::Object(changes)))
            .await?;
    }
    Ok(())
}

pub async fn after_delete(req: HookRequest) -> Result<(), CloudError> {
    let Some(id) = req.object_id() else {
        return Ok(());
    };
    let master = req.client().as_master();
    let reviews = master
        .query(REVIEW)
        .where_eq("business", pointer(BUSINESS, id))
        .keys("objectId")
        .limit(REVIEWS_PER_BATCH);
    for _ in 0..MAX_BATCHES {
        let found = store::find(&reviews).await?;
        if found.is_empty() {
            return Ok(());
        }
        // Plain deletes: each review's afterDelete runs and fixes its author's count.
        let deletes = found
            .iter()
            .filter_map(|r| r.get("objectId").and_then(Value::as_str))
            .map(|review_id| BatchRequest::delete(REVIEW, review_id))
            .collect();
        let results = master.batch(deletes).await?;
        if let Some(Err(first)) = results.iter().find(|r| r.is_err())
            && results.iter().all(Result::is_err)
        {
            return Err(CloudError::new(format!(
                "The business's reviews could not be deleted: {}",
                first.message
            ))
            .with_status(500));
        }
    }
    Err(CloudError::new("The business has too many reviews to delete at once.").with_status(500))
}
