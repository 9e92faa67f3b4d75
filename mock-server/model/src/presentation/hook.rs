//! Cloud code's view of an object, as the platform sends it to a hook (protocol notes
//! §5): every field with typed values, its `ACL`, `objectId`, `createdAt` and
//! `updatedAt`, hidden columns too (the platform is not a client).

use super::View;
use crate::store::{Store, StoredObject};
use serde_json::Value;

/// An object as a hook receives it.
pub fn object(store: &Store, obj: &StoredObject) -> Value {
    let view = View {
        return_acl: true,
        ..View::default()
    };
    // Without `keys` or `include` a rendering costs one unit of work: never refused.
    view.render(store, obj, &|_: &str, _: &StoredObject| true)
        .unwrap_or_default()
}

/// The object a beforeSave gets: the object to create, without `objectId`, `createdAt`
/// and `updatedAt`; the ACL only when the request gave one (the class default is applied
/// when the object is stored).
pub fn new_object(store: &Store, obj: &StoredObject, acl_given: bool) -> Value {
    let mut out = object(store, obj);
    if let Some(map) = out.as_object_mut() {
        for key in ["objectId", "createdAt", "updatedAt"] {
            map.remove(key);
        }
        if !acl_given {
            map.remove("ACL");
        }
    }
    out
}

/// An update hook's object: the object with the update applied, and `_updatedKeys`.
pub fn updated_object(store: &Store, obj: &StoredObject, keys: &[String]) -> Value {
    let mut out = object(store, obj);
    if let Some(map) = out.as_object_mut() {
        map.insert(
            "_updatedKeys".into(),
            Value::Array(keys.iter().cloned().map(Value::String).collect()),
        );
    }
    out
}

/// The user whose session `token` made the request, with their `sessionToken`, as hooks
/// get it (`None` without a session, or for a token nobody holds).
pub fn requester(store: &Store, token: Option<&str>) -> Option<Value> {
    let token = token?;
    let id = store.session_user(token)?;
    let user = store.object(crate::users::CLASS, id)?;
    let mut out = object(store, user);
    if let Some(map) = out.as_object_mut() {
        map.insert("sessionToken".into(), Value::String(token.to_string()));
    }
    Some(out)
}
