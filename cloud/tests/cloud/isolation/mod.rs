//! Each hook and function of the app in isolation: the request the platform (or a
//! client) would send, straight to the `cloud-engine` server, whose storage is an
//! emulator seeded for the case. The emulator runs no cloud code itself, so what a hook
//! writes is all that changes.

mod address;
mod business;
mod functions;
mod review;
mod users;

use crate::support::{self, World, geo, pointer};
use serde_json::{Value, json};

/// Tiananmen, Beijing.
pub const BEIJING: (f64, f64) = (39.9087, 116.3975);

/// A valid address in Beijing, as stored.
pub fn beijing_address() -> Value {
    json!({
        "street": "1 Chang'an Avenue", "city": "Beijing", "postalCode": "100006",
        "country": "CN", "location": geo(BEIJING.0, BEIJING.1),
        "ACL": {"*": {"read": true}}
    })
}

/// A business as the app stores it, owned by `owner`, at `at`.
pub fn business_fields(owner: &Value, status: &str, at: (f64, f64)) -> Value {
    let owner_id = support::id(owner);
    json!({
        "name": "Morning Cup", "category": "cafe", "status": status,
        "owner": pointer("_User", owner_id), "location": geo(at.0, at.1),
        "ratingCount": 0, "ratingSum": 0, "ratingAvg": 0,
        "ACL": cloud::acl::business(owner_id),
    })
}

/// An active business owned by `owner`, in Beijing.
pub async fn active_business(world: &World, owner: &Value) -> String {
    world
        .create("Business", business_fields(owner, "active", BEIJING))
        .await
}

/// A review as the app stores it; `counted` is its `countedStars`.
pub async fn review(
    world: &World,
    business: &str,
    author: &Value,
    stars: i64,
    counted: Option<i64>,
) -> String {
    let mut fields = json!({
        "business": pointer("Business", business),
        "author": pointer("_User", support::id(author)),
        "stars": stars, "text": "Fine coffee.",
        "ACL": cloud::acl::review(support::id(author)),
    });
    if let Some(counted) = counted {
        fields["countedStars"] = json!(counted);
    }
    world.create("Review", fields).await
}
