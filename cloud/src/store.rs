//! How the cloud code talks to storage: pointers, reads that treat "not there" as
//! `None` instead of an error, and the app's own writes.
//!
//! The app's own writes (counters, derived fields, status changes it already checked)
//! go with the master key, because they touch rows the caller may not write (another
//! user's `_User` row needs the master key, else 206; a business owned by someone else
//! is closed by its ACL), and are marked with `__ignore_hooks` for every class hook
//! (honoured with the hook key the runtime's client sends), so that they neither loop
//! nor meet the rules meant for clients.

use leancloud::LcError;
use leancloud::client::{Client, Query};
use leancloud::cloud::CloudError;
use leancloud::error::code;
use serde_json::{Map, Value, json};

/// Every class hook: the app's own writes skip them all.
pub const ALL_HOOKS: [&str; 6] = [
    "beforeSave",
    "afterSave",
    "beforeUpdate",
    "afterUpdate",
    "beforeDelete",
    "afterDelete",
];

pub use leancloud::value::pointer;

/// `{"__op":"Increment","amount":n}`.
pub fn increment(amount: i64) -> Value {
    json!({"__op": "Increment", "amount": amount})
}

/// `body` marked so that no class hook runs for it.
pub fn quiet(body: Value) -> Value {
    match body {
        Value::Object(mut map) => {
            map.insert("__ignore_hooks".into(), json!(ALL_HOOKS));
            Value::Object(map)
        }
        other => other,
    }
}

/// Whether a storage error says the object or its class is not there: `{}`-less
/// answers for a missing class (101), a missing user (211), or an update of an object
/// that is gone (code 1, "Could not find object ...").
fn is_missing(err: &LcError) -> bool {
    err.code == code::OBJECT_NOT_FOUND
        || err.code == code::USER_NOT_FOUND
        || (err.code == code::GENERIC && err.message.starts_with("Could not find object"))
}

/// The object, or `None` when it (or its class) does not exist.
pub async fn fetch(client: &Client, class: &str, id: &str) -> Result<Option<Value>, CloudError> {
    match client.get(class, id).await {
        Ok(Value::Object(map)) if map.is_empty() => Ok(None),
        Ok(object) => Ok(Some(object)),
        Err(err) if is_missing(&err) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// The rows a query finds; none when the class does not exist yet.
pub async fn find(query: &Query) -> Result<Vec<Value>, CloudError> {
    match query.find().await {
        Ok(rows) => Ok(rows),
        Err(err) if err.code == code::OBJECT_NOT_FOUND => Ok(Vec::new()),
        Err(err) => Err(err.into()),
    }
}

/// How many rows a query matches; 0 when the class does not exist yet.
pub async fn count(query: &Query) -> Result<u64, CloudError> {
    match query.count().await {
        Ok(n) => Ok(n),
        Err(err) if err.code == code::OBJECT_NOT_FOUND => Ok(0),
        Err(err) => Err(err.into()),
    }
}

fn object_path(class: &str, id: &str) -> String {
    // Ids are checked to be letters and digits before they get here (`input`), and class
    // names are the app's own constants: nothing to escape.
    format!("/1.1/classes/{class}/{id}")
}

/// Update and read back the fields the update touched, after it (`new=true`: the
/// operations' results, e.g. the counters after an Increment). `None` when the object is
/// gone.
pub async fn update_returning(
    client: &Client,
    class: &str,
    id: &str,
    body: &Value,
) -> Result<Option<Value>, CloudError> {
    let query = vec![("new".to_string(), "true".to_string())];
    match client
        .send_json("PUT", &object_path(class, id), query, Some(body))
        .await
    {
        Ok(updated) => Ok(Some(updated)),
        Err(err) if is_missing(&err) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// What a conditional update came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The object matched the condition and was updated.
    Done,
    /// The object no longer matches (someone changed it first): 305.
    Changed,
    /// The object is gone.
    Gone,
}

/// Update only if the object still matches `condition` (the storage checks and writes in
/// one step).
pub async fn update_if(
    client: &Client,
    class: &str,
    id: &str,
    body: &Value,
    condition: &Value,
) -> Result<Written, CloudError> {
    match client.update_where(class, id, body, condition).await {
        Ok(_) => Ok(Written::Done),
        Err(err) if err.code == code::NO_EFFECT => Ok(Written::Changed),
        Err(err) if is_missing(&err) => Ok(Written::Gone),
        Err(err) => Err(err.into()),
    }
}

/// An object's field as a map key: `{key: value}` (`json!` cannot take a variable key).
pub fn field(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_string(), value);
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_apps_own_writes_skip_every_class_hook() {
        assert_eq!(
            quiet(json!({"ratingAvg": 4.5})),
            json!({"ratingAvg": 4.5, "__ignore_hooks": [
                "beforeSave", "afterSave", "beforeUpdate", "afterUpdate", "beforeDelete", "afterDelete"
            ]})
        );
    }

    #[test]
    fn missing_objects_are_told_apart_from_failures() {
        assert!(is_missing(&LcError::class_or_object_not_found()));
        assert!(is_missing(&LcError::user_not_found()));
        assert!(is_missing(&LcError::object_not_found_for_update(
            "Business", "b1"
        )));
        assert!(!is_missing(&LcError::no_effect()));
        assert!(!is_missing(&LcError::generic("Internal server error.")));
    }

    #[test]
    fn pointers_and_operations_have_their_wire_form() {
        assert_eq!(
            pointer("Business", "b1"),
            json!({"__type": "Pointer", "className": "Business", "objectId": "b1"})
        );
        assert_eq!(increment(-2), json!({"__op": "Increment", "amount": -2}));
        assert_eq!(field("stars", json!(4)), json!({"stars": 4}));
    }
}
