//! A client's view of an object: what it asked for ([`View`]), then the class's column
//! rules, which no view can lift: a hidden column is left out (unless the master key
//! asks), a column's default shows on an object that lacks the field, and a `_User`
//! never shows `password` or a `sessionToken` of its own fields. A session token is
//! added only to the user themselves ([`user`]).

use super::View;
use crate::access::Principal;
use crate::objects::Updated;
use crate::store::{Store, StoredObject};
use leancloud::LcError;
use serde_json::{Map, Value, json};

/// `obj` of `class` as `who` sees it in `view`: the projection, the includes they may
/// read, the class's column rules (124 when the includes cost too much).
pub fn object(
    store: &Store,
    class: &str,
    obj: &StoredObject,
    view: &View,
    who: &Principal,
) -> Result<Value, LcError> {
    let mut out = view.render(store, obj, who)?;
    apply_column_rules(store, class, &mut out, who, view.keys.as_deref());
    Ok(out)
}

/// A user as `who` sees them ([`object`]), with `token` as their `sessionToken`: given
/// only when `who` is that user (or the answer signs them in).
pub fn user(
    store: &Store,
    user: &StoredObject,
    view: &View,
    who: &Principal,
    token: Option<&str>,
) -> Result<Value, LcError> {
    let mut out = object(store, crate::users::CLASS, user, view, who)?;
    if let (Some(token), Some(map)) = (token, out.as_object_mut()) {
        map.insert("sessionToken".into(), Value::String(token.to_string()));
    }
    Ok(out)
}

/// The class's column rules on an object already rendered for `who` (by [`object`], or a
/// query's row): hidden columns left out unless `who` has the master key; the defaults of
/// the columns the object lacks, where `keys` shows them; never a `_User`'s `password`
/// or `sessionToken`.
pub fn apply_column_rules(
    store: &Store,
    class: &str,
    rendered: &mut Value,
    who: &Principal,
    keys: Option<&[String]>,
) {
    let (Some(data), Some(map)) = (store.class(class), rendered.as_object_mut()) else {
        return;
    };
    for (key, col) in &data.columns {
        if col.hidden && !who.master {
            map.remove(key);
        } else if let Some(default) = &col.default
            && !map.contains_key(key)
            && !map.is_empty()
            && view_shows(keys, key)
        {
            map.insert(key.clone(), default.clone());
        }
    }
    if class == crate::users::CLASS {
        map.remove("password");
        map.remove("sessionToken");
    }
}

/// Whether a `keys` projection shows a top-level key.
fn view_shows(keys: Option<&[String]>, key: &str) -> bool {
    let Some(keys) = keys else { return true };
    let positive: Vec<&str> = keys
        .iter()
        .filter(|k| !k.starts_with('-'))
        .map(|k| k.split('.').next().unwrap_or(k))
        .collect();
    let excluded = keys.iter().any(|k| k.strip_prefix('-') == Some(key));
    !excluded && (positive.is_empty() || positive.contains(&key))
}

/// What a create answers without `fetchWhenSave`: `objectId` and `createdAt` (with it,
/// the whole object: [`object`]).
pub fn created(obj: &StoredObject) -> Value {
    json!({
        "objectId": obj.id,
        "createdAt": leancloud::value::format_date(obj.created_at),
    })
}

/// What an update answers: `updatedAt` and `objectId`; with `fetch_when_save` also the
/// touched top-level keys with their new values (not `ACL`), and every relation column
/// (recorded behaviour).
pub fn updated(updated: &Updated, fetch_when_save: bool) -> Value {
    if !fetch_when_save {
        return json!({
            "updatedAt": leancloud::value::format_date(updated.after.updated_at),
            "objectId": updated.after.id.as_str(),
        });
    }
    let mut out = Map::new();
    let fields = updated.after.to_map();
    for key in &updated.keys {
        if key == "ACL" {
            continue;
        }
        if let Some(v) = fields.get(key) {
            out.insert(key.clone(), v.clone());
        }
    }
    for (key, v) in &fields {
        if v.get("__type").and_then(Value::as_str) == Some("Relation") {
            out.insert(key.clone(), v.clone());
        }
    }
    out.insert(
        "updatedAt".into(),
        Value::String(leancloud::value::format_date(updated.after.updated_at)),
    );
    out.insert(
        "objectId".into(),
        Value::String(updated.after.id.to_string()),
    );
    Value::Object(out)
}
