//! Users: who is calling, whether they moderate, and the `_User` hooks.
//!
//! - beforeSave (sign-up): `role` starts as `customer`, `banned` as false, `reviewCount`
//!   as 0, whatever the sign-up sent (the app sets them later); a `displayName` is
//!   trimmed, 1 to 40 characters (142).
//! - beforeUpdate: a user may not change their own `role`, `banned` or `reviewCount`
//!   (403); without a user (the master key) they may change, to valid values (142). A new
//!   `displayName` must be valid and already trimmed (142).
//! - onLogin: a banned user cannot log in (403), whether by password or by SMS code.
//! - onVerified `sms`: owners sign in by phone; once an owner's number is verified, it
//!   becomes the contact `phone` of each of their businesses that has none (a quiet
//!   master write: the number is already in E.164, as the platform verified it).
//!
//! A hook request without a user is taken to come from the master key (or the app's own
//! code): the hook protocol does not say which key a write used, and every class the app
//! writes is closed to anonymous writers by its ACL or by being `_User` (see the crate
//! docs).

use crate::errors::{forbidden, invalid};
use crate::input;
use crate::rules;
use crate::schema::{BUSINESS, MODERATORS, USER, USER_MANAGED};
use crate::store::{self, pointer};
use leancloud::client::Client;
use leancloud::cloud::{CloudError, HookRequest, Registry, VerifyType};
use serde_json::{Value, json};
use std::collections::HashSet;

/// How many roles a membership check follows before it stops (a role graph that big is
/// a mistake).
const MAX_ROLES_FOLLOWED: usize = 64;

pub fn define(registry: &mut Registry) {
    registry.before_save(USER, before_save);
    registry.before_update(USER, before_update);
    registry.on_login(on_login);
    registry.on_verified(VerifyType::Sms, on_phone_verified);
}

/// onVerified `sms`: the verified number becomes the contact phone of the user's
/// businesses that have none.
pub async fn on_phone_verified(req: HookRequest) -> Result<(), CloudError> {
    let user = &req.object;
    let (Some(id), Some(phone)) = (
        user.get("objectId").and_then(Value::as_str),
        user.get("mobilePhoneNumber").and_then(Value::as_str),
    ) else {
        return Ok(());
    };
    let master = req.client().as_master();
    let owned = store::find(&master.query(BUSINESS).where_eq("owner", pointer(USER, id))).await?;
    for business in businesses_without_phone(&owned) {
        master
            .update(BUSINESS, business, &store::quiet(json!({ "phone": phone })))
            .await
            .map_err(CloudError::from_lc)?;
    }
    Ok(())
}

/// The ids of the businesses that have no contact phone yet.
pub fn businesses_without_phone(businesses: &[Value]) -> Vec<&str> {
    businesses
        .iter()
        .filter(|b| {
            b.get("phone")
                .and_then(Value::as_str)
                .is_none_or(|p| p.trim().is_empty())
        })
        .filter_map(|b| b.get("objectId").and_then(Value::as_str))
        .collect()
}

/// The id of the user whose request fired the hook, `None` for the master key.
pub fn caller(req: &HookRequest) -> Option<String> {
    input::user_id(req.user.as_ref())
}

/// Whether user `user_id` is a member of `Moderators`, directly or through a role that
/// `Moderators` contains (role inheritance, followed to any depth).
pub async fn is_moderator(master: &Client, user_id: &str) -> Result<bool, CloudError> {
    let direct = store::find(
        &master
            .query("_Role")
            .where_eq("users", pointer(USER, user_id)),
    )
    .await?;
    let mut seen: HashSet<String> = HashSet::new();
    let mut frontier = direct;
    while !frontier.is_empty() && seen.len() < MAX_ROLES_FOLLOWED {
        let mut next = Vec::new();
        for role in frontier {
            if role.get("name").and_then(Value::as_str) == Some(MODERATORS) {
                return Ok(true);
            }
            let Some(id) = role.get("objectId").and_then(Value::as_str) else {
                continue;
            };
            if !seen.insert(id.to_string()) {
                continue;
            }
            // The roles that contain this one give its members their rights too.
            let parents = store::find(
                &master
                    .query("_Role")
                    .where_eq("roles", pointer("_Role", id)),
            )
            .await?;
            next.extend(parents);
        }
        frontier = next;
    }
    Ok(false)
}

/// Sign-up: the managed fields get their starting values.
pub async fn before_save(req: HookRequest) -> Result<Value, CloudError> {
    let display_name = input::text(&req.object, "displayName")?
        .map(rules::normalize_display_name)
        .transpose()?;
    let mut user = req.object;
    if let Some(name) = display_name {
        user["displayName"] = json!(name);
    }
    user["role"] = json!("customer");
    user["banned"] = json!(false);
    user["reviewCount"] = json!(0);
    Ok(user)
}

/// A user edits their profile; only the master key changes the managed fields.
pub async fn before_update(req: HookRequest) -> Result<(), CloudError> {
    let managed: Vec<&str> = USER_MANAGED
        .into_iter()
        .filter(|k| req.is_updated(k))
        .collect();
    if !managed.is_empty() && caller(&req).is_some() {
        return Err(forbidden(format!(
            "{} can only be changed by the app.",
            list(&managed)
        )));
    }
    if req.is_updated("displayName")
        && let Some(given) = input::text(&req.object, "displayName")?
    {
        let name = rules::normalize_display_name(given)?;
        if name != given {
            return Err(invalid(format!("Write the display name as \"{name}\".")));
        }
    }
    if req.is_updated("role") {
        let role = input::text(&req.object, "role")?.unwrap_or_default();
        rules::check_user_role(role)?;
    }
    if req.is_updated("banned") {
        input::boolean(&req.object, "banned")?;
    }
    if req.is_updated("reviewCount") {
        match input::number(&req.object, "reviewCount")? {
            Some(n) if n >= 0.0 && n.fract() == 0.0 => {}
            _ => return Err(invalid("reviewCount must be a whole number, 0 or more.")),
        }
    }
    Ok(())
}

/// Log-in: banned users are turned away.
pub async fn on_login(req: HookRequest) -> Result<(), CloudError> {
    if req.object.get("banned") == Some(&Value::Bool(true)) {
        return Err(forbidden(
            "This account has been suspended. Contact support if you think this is a mistake.",
        ));
    }
    Ok(())
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lists_read_as_english() {
        assert_eq!(list(&["role"]), "role");
        assert_eq!(list(&["role", "banned"]), "role and banned");
        assert_eq!(
            list(&["role", "banned", "reviewCount"]),
            "role, banned and reviewCount"
        );
    }

    #[test]
    fn only_businesses_without_a_phone_get_the_owners_number() {
        let businesses = [
            json!({"objectId": "a", "phone": "+862164310258"}),
            json!({"objectId": "b"}),
            json!({"objectId": "c", "phone": " "}),
            json!({"objectId": "d", "phone": null}),
        ];
        assert_eq!(businesses_without_phone(&businesses), ["b", "c", "d"]);
    }
}
