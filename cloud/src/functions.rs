//! The app's cloud functions.
//!
//! - `normalizePhone {phone, country?}`: the number in E.164 (`"+8613800138000"`).
//!   `country` (ISO 3166-1 alpha-2, any case) is needed for national numbers only.
//! - `nearbyBusinesses {lat, lng, radiusKm, category?, limit?}`: active businesses
//!   within `radiusKm` (more than 0, at most 50) of the point, nearest first, each with
//!   its `address` included and `distanceKm` (to the metre); at most `limit` (1 to 100,
//!   default 20).
//! - `businessSummary {businessId}`: `{businessId, name, status, ratingAvg, ratingCount,
//!   histogram: {"1": n, ..., "5": n}, latestReviews: [{objectId, stars, text, createdAt,
//!   author: {objectId, displayName}}]}` (the 5 newest reviews).
//! - `moderateBusiness {businessId, status}`: moderators (or the master key) set a
//!   business's status; answers `{businessId, status, previousStatus}`.
//!
//! Refusals follow [`crate::errors`]: 142 for bad params, 401 without a user, 403 for a
//! user who is not a moderator, 404 for a business that does not exist.

use crate::errors::{forbidden, invalid, not_found, sign_in_required};
use crate::input;
use crate::rules;
use crate::schema::{BUSINESS, REVIEW};
use crate::store::{self, pointer, quiet};
use crate::users::is_moderator;
use leancloud::cloud::{CloudError, FunctionRequest, Registry};
use serde_json::{Map, Value, json};

/// How many reviews `businessSummary` shows.
const LATEST_REVIEWS: u32 = 5;

pub fn define(registry: &mut Registry) {
    registry.define("normalizePhone", |req| async move { normalize_phone(&req) });
    registry.define("nearbyBusinesses", nearby_businesses);
    registry.define("businessSummary", business_summary);
    registry.define("moderateBusiness", moderate_business);
}

fn normalize_phone(req: &FunctionRequest) -> Result<Value, CloudError> {
    let phone = input::text(&req.params, "phone")?.unwrap_or_default();
    let country = input::text(&req.params, "country")?
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase();
    let international = {
        let t = phone.trim_start();
        t.starts_with('+') || t.starts_with("00")
    };
    if country.is_empty() && !international && !phone.trim().is_empty() {
        return Err(invalid(format!(
            "Give the phone number's country (one of {}), or write it with its country code, like +86 138 0013 8000.",
            rules::COUNTRIES.join(", ")
        )));
    }
    Ok(json!(rules::normalize_phone(phone, &country)?))
}

pub async fn nearby_businesses(req: FunctionRequest) -> Result<Value, CloudError> {
    let params = &req.params;
    let center = rules::check_coordinates(
        input::required_number(params, "lat")?,
        input::required_number(params, "lng")?,
    )?;
    let radius = rules::check_radius_km(input::required_number(params, "radiusKm")?)?;
    let category = input::text(params, "category")?
        .map(rules::normalize_category)
        .transpose()?;
    let limit = rules::check_limit(input::number(params, "limit")?)?;

    let mut query = req
        .user_client()
        .query(BUSINESS)
        .where_eq("status", "active")
        .where_value(
            "location",
            json!({
                "$nearSphere": input::geo_point_json(center),
                "$maxDistanceInKilometers": radius,
            }),
        )
        .include("address")
        .limit(limit as u32);
    if let Some(category) = category {
        query = query.where_eq("category", category);
    }
    let found = store::find(&query).await?;
    Ok(Value::Array(
        found
            .into_iter()
            .map(|mut business| {
                if let Ok(Some(at)) = input::geo_point(&business, "location") {
                    let km = rules::distance_km(center, at);
                    business["distanceKm"] = json!(rules::round_to(km, 3));
                }
                business
            })
            .collect(),
    ))
}

pub async fn business_summary(req: FunctionRequest) -> Result<Value, CloudError> {
    let id = input::object_id_param(&req.params, "businessId")?;
    let client = req.user_client();
    let business = store::fetch(&client, BUSINESS, &id)
        .await?
        .ok_or_else(|| not_found("This business does not exist."))?;
    let reviews = client
        .query(REVIEW)
        .where_eq("business", pointer(BUSINESS, &id));
    let mut histogram = Map::new();
    for stars in 1..=5 {
        let n = store::count(&reviews.clone().where_eq("stars", stars)).await?;
        histogram.insert(stars.to_string(), json!(n));
    }
    // Authors' rows are read with the master key and only their public face is shown.
    let latest = store::find(
        &req.client()
            .as_master()
            .query(REVIEW)
            .where_eq("business", pointer(BUSINESS, &id))
            // Ids grow with time: they order reviews made in the same millisecond.
            .order("-createdAt,-objectId")
            .limit(LATEST_REVIEWS)
            .include("author"),
    )
    .await?;
    let latest: Vec<Value> = latest
        .into_iter()
        .map(|review| {
            let author = review.get("author");
            json!({
                "objectId": review.get("objectId"),
                "stars": review.get("stars"),
                "text": review.get("text"),
                "createdAt": review.get("createdAt"),
                "author": {
                    "objectId": author.and_then(|a| a.get("objectId")),
                    "displayName": author.and_then(|a| a.get("displayName")),
                },
            })
        })
        .collect();
    Ok(json!({
        "businessId": id,
        "name": business.get("name"),
        "status": business.get("status"),
        "ratingAvg": business.get("ratingAvg").cloned().unwrap_or(json!(0)),
        "ratingCount": business.get("ratingCount").cloned().unwrap_or(json!(0)),
        "histogram": histogram,
        "latestReviews": latest,
    }))
}

pub async fn moderate_business(req: FunctionRequest) -> Result<Value, CloudError> {
    let master = req.client().as_master();
    if !req.master_key {
        let user = input::user_id(req.current_user.as_ref())
            .ok_or_else(|| sign_in_required("Sign in as a moderator to moderate businesses."))?;
        if !is_moderator(&master, &user).await? {
            return Err(forbidden("Only moderators can change a business's status."));
        }
    }
    let id = input::object_id_param(&req.params, "businessId")?;
    let status = input::required_text(&req.params, "status", "status is required.")?;
    let status = rules::check_status(status)?;
    let business = store::fetch(&master, BUSINESS, &id)
        .await?
        .ok_or_else(|| not_found("This business does not exist."))?;
    let previous = business.get("status").cloned().unwrap_or(Value::Null);
    if previous != json!(status) {
        // Checked here already: the business's own update rules need not run again.
        master
            .update(BUSINESS, &id, &quiet(json!({"status": status})))
            .await?;
    }
    Ok(json!({"businessId": id, "status": status, "previousStatus": previous}))
}
