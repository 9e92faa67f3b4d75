//! `_Role` rules: an explicit ACL, a valid and unique name that never changes. Membership
//! lives in the `users` and `roles` relations; inheritance is in [`crate::access`].

use crate::objects::Changes;
use crate::store::Store;
use leancloud::LcError;
use serde_json::Value;

/// Role names: letters, digits and underscores, starting with a letter or digit.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks for creating a role from `changes` (the client's body).
pub fn check_create(store: &Store, changes: &Changes) -> Result<(), LcError> {
    let set = |key: &str| {
        changes
            .entries
            .iter()
            .find_map(|(path, change)| match change {
                crate::objects::Change::Set(v) if path.len() == 1 && path[0] == key => Some(v),
                _ => None,
            })
    };
    if set("ACL").is_none() {
        return Err(LcError::role_acl_required());
    }
    let name = match set("name") {
        Some(Value::String(name)) => name,
        Some(other) => return Err(LcError::invalid_role_name(&other.to_string())),
        None => return Err(LcError::invalid_role_name("")),
    };
    if !valid_name(name) {
        return Err(LcError::invalid_role_name(name));
    }
    let taken = store.class("_Role").is_some_and(|roles| {
        roles
            .objects
            .values()
            .any(|r| r.val("name").and_then(crate::store::Val::as_str) == Some(name.as_str()))
    });
    if taken {
        return Err(LcError::duplicate_role_name(name));
    }
    Ok(())
}

/// Checks for updating a role: its name is fixed once saved.
pub fn check_update(changes: &Changes) -> Result<(), LcError> {
    if changes.entries.iter().any(|(path, _)| path[0] == "name") {
        return Err(LcError::role_name_is_fixed());
    }
    Ok(())
}
