//! The user side of the phone and email flows: finding a user by number, setting the
//! fields only these flows (and the master key) set (`mobilePhoneVerified`,
//! `emailVerified`, a changed number), each moving `updatedAt` as any write does.
//! The codes themselves are `crate::verification`'s.

use super::{CLASS, valid_mobile};
use crate::store::{Packed, Store, StoredObject, Val, packed};
use leancloud::LcError;
use serde_json::{Map, Value};

/// The number a body names under `key` (`mobilePhoneNumber`): 212 when it is missing or
/// empty, 127 when it is not a number.
pub fn phone_in<'a>(body: &'a Map<String, Value>, key: &str) -> Result<&'a str, LcError> {
    match body.get(key) {
        None | Some(Value::Null) => Err(LcError::mobile_phone_missing()),
        Some(Value::String(s)) if s.is_empty() => Err(LcError::mobile_phone_missing()),
        Some(Value::String(s)) if valid_mobile(s) => Ok(s),
        Some(_) => Err(LcError::invalid_mobile_phone()),
    }
}

/// The user whose `mobilePhoneNumber` is `phone`.
pub fn user_by_phone<'a>(store: &'a Store, phone: &str) -> Option<&'a StoredObject> {
    let value = Value::String(phone.to_string());
    store.class(CLASS).and_then(|users| {
        users
            .objects
            .candidates_equal("mobilePhoneNumber", &value)
            .find(|u| u.val("mobilePhoneNumber").and_then(Val::as_str) == Some(phone))
    })
}

/// [`user_by_phone`], or 213.
pub fn require_user_by_phone<'a>(
    store: &'a Store,
    phone: &str,
) -> Result<&'a StoredObject, LcError> {
    user_by_phone(store, phone).ok_or_else(LcError::mobile_phone_not_found)
}

/// Whether the user's `flag` (`mobilePhoneVerified`, `emailVerified`) is `true`.
pub fn is_verified(user: &StoredObject, flag: &str) -> bool {
    matches!(user.val(flag), Some(Val::Bool(true)))
}

/// Set some of a user's fields as a flow does (no hook, no permission: the flow has
/// proved who is asking). Returns the user as stored.
pub fn set_fields(
    store: &mut Store,
    user_id: &str,
    fields: &[(&str, Value)],
) -> Result<StoredObject, LcError> {
    let now = store.clock.now_ms();
    let mut user = store
        .object(CLASS, user_id)
        .cloned()
        .ok_or_else(LcError::user_not_found)?;
    let mut map = user.to_map();
    for (key, value) in fields {
        map.insert((*key).to_string(), value.clone());
    }
    user.fields = Packed::from_map(&map);
    user.updated_at = now.max(user.updated_at);
    store.class_mut(CLASS).insert(user.clone());
    Ok(user)
}

/// Give `user_id` the number `phone`, verified (`changePhoneNumber`): 214 when another
/// user has it.
pub fn change_phone(
    store: &mut Store,
    user_id: &str,
    phone: &str,
) -> Result<StoredObject, LcError> {
    let value = Value::String(phone.to_string());
    let taken = store.class(CLASS).is_some_and(|users| {
        users
            .objects
            .candidates_equal("mobilePhoneNumber", &value)
            .any(|u| {
                u.id != user_id
                    && u.val("mobilePhoneNumber")
                        .is_some_and(|v| packed::equals(v, &value))
            })
    });
    if taken {
        return Err(LcError::mobile_phone_taken());
    }
    set_fields(
        store,
        user_id,
        &[
            ("mobilePhoneNumber", value),
            ("mobilePhoneVerified", Value::Bool(true)),
        ],
    )
}
