//! Object writes and reads: create, fetch, update, delete, with field operations, dot
//! paths, relation membership and conditional (`where`) writes.
//!
//! Every write validates everything first and only then touches the store, so a rejected
//! request leaves the app exactly as it was.

mod changes;

pub use changes::{Change, Changes, check_acl};

use crate::access::{ClassOp, ClassPermissions, Principal};
use crate::limits::{MAX_OBJECT_DEPTH, depth};
use crate::names::check_class_name;
use crate::query::Matcher;
use crate::store::packed;
use crate::store::{Column, Store, StoredObject, Val};
use changes::apply_changes;
use leancloud::LcError;
use serde_json::{Map, Value, json};

/// Public read and write: the ACL an object gets when the client sends none and its
/// class has no default ACL of its own (recorded: `returnACL=true` on such an object
/// shows this).
pub fn public_acl() -> Value {
    json!({"*": {"read": true, "write": true}})
}

/// The type name a value gives its column.
pub fn column_of(value: &Value) -> Column {
    let kind = match leancloud::value::type_name(value) {
        "Null" => "Any",
        other => other,
    };
    let class_name = match kind {
        "Pointer" | "Relation" => value
            .get("className")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    };
    Column {
        kind: kind.to_string(),
        class_name,
        ..Column::default()
    }
}

/// Record the column types of the fields a write set (the first write fixes the type).
fn note_columns(store: &mut Store, class: &str, obj: &StoredObject, keys: &[String]) {
    let fields = obj.fields.object();
    let class_data = store.class_mut(class);
    for key in keys {
        if key == "ACL" || class_data.columns.contains_key(key) {
            continue;
        }
        if let Some(v) = fields.get(key).filter(|v| !v.is_null()) {
            class_data.columns.insert(key.clone(), stored_column_of(v));
        }
    }
}

/// [`column_of`] for a stored value (read in place).
fn stored_column_of(v: Val<'_>) -> Column {
    let kind = match v {
        Val::Null => "Any",
        Val::Bool(_) => "Boolean",
        Val::Num(_) => "Number",
        Val::Str(_) => "String",
        Val::Array(_) => "Array",
        Val::Object(_) => {
            let tag = v.type_tag().unwrap_or_default();
            let typed = ["Date", "Pointer", "Relation", "GeoPoint", "File", "Bytes"];
            if typed.contains(&tag) { tag } else { "Object" }
        }
    };
    let class_name = match kind {
        "Pointer" | "Relation" => v.get("className").and_then(Val::as_str).map(str::to_string),
        _ => None,
    };
    Column {
        kind: kind.to_string(),
        class_name,
        ..Column::default()
    }
}

/// The largest object the service stores (16 MB, code 116).
pub const MAX_OBJECT_BYTES: usize = 16 * 1024 * 1024;

/// An object the service can store: nested at most [`MAX_OBJECT_DEPTH`] levels (measured
/// first, without recursion: only then is it safe to serialise), at most
/// [`MAX_OBJECT_BYTES`] long.
fn check_size(fields: &Map<String, Value>) -> Result<(), LcError> {
    let levels = 1 + fields.values().map(depth).max().unwrap_or(0);
    if levels > MAX_OBJECT_DEPTH {
        return Err(LcError::nested_too_deeply(format!(
            "the object is nested {levels} levels deep, more than {MAX_OBJECT_DEPTH}"
        )));
    }
    let size = crate::limits::json_len(fields);
    if size > MAX_OBJECT_BYTES {
        return Err(LcError::object_too_large());
    }
    Ok(())
}

/// The columns a built-in class has from the start, so that writing them never needs the
/// `add_fields` permission (a sign-up works in an app whose `_User` class has no rows yet
/// and refuses new columns).
fn is_built_in_column(class: &str, key: &str) -> bool {
    let columns: &[&str] = match class {
        "_User" => &[
            "username",
            "password",
            "email",
            "emailVerified",
            "mobilePhoneNumber",
            "mobilePhoneVerified",
            "authData",
        ],
        "_Role" => &["name", "users", "roles"],
        "_Installation" => &[
            "deviceType",
            "deviceToken",
            "installationId",
            "channels",
            "badge",
            "timeZone",
            "deviceProfile",
            "apnsTopic",
            "apnsTeamId",
            "valid",
        ],
        "_File" => &[
            "name",
            "url",
            "mime_type",
            "metaData",
            "key",
            "bucket",
            "provider",
        ],
        _ => &[],
    };
    columns.contains(&key)
}

/// The checks every write makes against the class's columns, given the fields the body
/// touched (`keys`) and the fields as they would be stored:
/// - a key new to the class needs the `add_fields` class permission;
/// - a client may not change a read-only column (117); it may give one on create;
/// - a value must have its column's type (111);
/// - on create, every required column must be present (113).
fn check_columns(
    store: &Store,
    class: &str,
    keys: &[String],
    fields: &Map<String, Value>,
    creating: bool,
    who: &Principal,
) -> Result<(), LcError> {
    let data = store.class(class);
    let column = |k: &str| data.and_then(|d| d.columns.get(k));
    let permissions = data.map(|d| &d.settings.permissions);
    for key in keys {
        if key == "ACL" {
            continue;
        }
        match column(key) {
            None if is_built_in_column(class, key) => {}
            None => {
                if let Some(p) = permissions {
                    p.check_on(class, ClassOp::AddFields, who)?;
                }
            }
            Some(col) => {
                if col.read_only && !creating && !who.master {
                    return Err(LcError::read_only_key(key));
                }
                if let Some(v) = fields.get(key)
                    && !v.is_null()
                {
                    let got = column_of(v);
                    if col.kind != "Any" && got.kind != col.kind {
                        return Err(LcError::incorrect_type(key, &col.kind, &got.kind));
                    }
                    if let (Some(want), Some(have)) = (&col.class_name, &got.class_name)
                        && want != have
                    {
                        return Err(LcError::incorrect_type(
                            key,
                            &format!("{}<{want}>", col.kind),
                            &format!("{}<{have}>", got.kind),
                        ));
                    }
                }
            }
        }
    }
    if creating && let Some(data) = data {
        for (key, col) in &data.columns {
            if col.required && col.default.is_none() && fields.get(key).is_none_or(Value::is_null) {
                return Err(LcError::missing_required_key(key));
            }
        }
    }
    Ok(())
}

/// Unique indexes: no other object of the class may hold the same values for all keys
/// of an index (137). Objects that lack one of an index's keys (or hold `null` there)
/// are not indexed.
fn check_unique(
    store: &Store,
    class: &str,
    id: Option<&str>,
    fields: &Map<String, Value>,
) -> Result<(), LcError> {
    let Some(data) = store.class(class) else {
        return Ok(());
    };
    for index in &data.settings.unique {
        let mine: Option<Vec<&Value>> = index
            .iter()
            .map(|k| fields.get(k).filter(|v| !v.is_null()))
            .collect();
        let Some(mine) = mine else { continue };
        let same = |other: &StoredObject| {
            Some(other.id.as_str()) != id
                && index
                    .iter()
                    .zip(&mine)
                    .all(|(k, v)| other.val(k).is_some_and(|o| packed::same_value(o, v)))
        };
        // Looked up in the class's unique index; a scan where none was built (a list added
        // to the settings by hand rather than with `ClassData::add_index`).
        let taken = match data.objects.unique_index(index) {
            Some(unique) => unique.hash_fields(fields).is_some_and(|h| {
                unique
                    .holders(h)
                    .filter_map(|other| data.objects.get(other))
                    .any(same)
            }),
            None => data.objects.values().any(same),
        };
        if taken {
            return Err(LcError::duplicate_value());
        }
    }
    Ok(())
}

/// The ACL for an object created without one: the class default with `_owner` replaced
/// by the creating user (and dropped when nobody is signed in), or [`public_acl`].
/// (A new user's is [`crate::users::new_user_acl`].)
fn new_object_acl(store: &Store, class: &str, who: &Principal) -> Value {
    let Some(template) = store
        .class(class)
        .and_then(|d| d.settings.default_acl.as_ref())
        .and_then(Value::as_object)
    else {
        return public_acl();
    };
    let mut acl = Map::new();
    for (k, v) in template {
        if k == "_owner" {
            if let Some(user) = who.user_id() {
                acl.insert(user.to_string(), v.clone());
            }
        } else {
            acl.insert(k.clone(), v.clone());
        }
    }
    Value::Object(acl)
}

/// The class an operation on existing data works on, once its name and the class
/// permission for `op` are checked. An unknown class is 404/101.
fn existing_class<'a>(
    store: &'a Store,
    class: &str,
    op: ClassOp,
    who: &Principal,
) -> Result<&'a crate::ClassData, LcError> {
    check_class_name(class)?;
    let data = store
        .class(class)
        .ok_or_else(LcError::class_or_object_not_found)?;
    data.settings.permissions.check_on(class, op, who)?;
    Ok(data)
}

/// Class permission for `op` on `class` (a class that does not exist yet has a new
/// class's permissions).
fn check_class(store: &Store, class: &str, op: ClassOp, who: &Principal) -> Result<(), LcError> {
    match store.class(class) {
        Some(d) => d.settings.permissions.check_on(class, op, who),
        None => ClassPermissions::default_for(class).check_on(class, op, who),
    }
}

/// What an update or a delete of an existing object checks, in the service's order: the
/// `_User` self-only rule, the object's ACL, then the conditional `where` (305).
fn check_may_change(
    store: &Store,
    class: &str,
    current: &StoredObject,
    condition: Option<&Value>,
    who: &Principal,
) -> Result<(), LcError> {
    check_user_self(class, &current.id, who)?;
    let allowed = who.can_write_stored(current);
    if !who.master {
        crate::decisions::record(crate::decisions::Rule::Acl, class, "write", allowed);
    }
    if !allowed {
        return Err(LcError::forbidden_writing_by_acl());
    }
    if let Some(cond) = condition {
        // The condition runs as the caller's query would (their subqueries' classes, rows
        // and columns): otherwise 305 or not would tell them what a query may not.
        let matcher = Matcher::compile_for(store, class, cond, who)?;
        if !matcher.matches(current) {
            return Err(LcError::no_effect());
        }
    }
    Ok(())
}

/// `_User` objects change only with their own session or the master key (206).
fn check_user_self(class: &str, id: &str, who: &Principal) -> Result<(), LcError> {
    if class == "_User" && !who.master && who.user_id() != Some(id) {
        return Err(LcError::user_cannot_be_altered());
    }
    Ok(())
}

/// Create an object. The class comes into being with its first object.
pub fn create(
    store: &mut Store,
    class: &str,
    changes: &Changes,
    who: &Principal,
) -> Result<StoredObject, LcError> {
    let (mut obj, relations) = checked_create(store, class, changes, who)?;
    let now = store.clock.now_ms();
    obj.id = store.ids.object_id(now).into();
    obj.created_at = now;
    obj.updated_at = now;
    insert_new(store, class, &obj, &changes.keys());
    relations.apply(store, class, &obj.id);
    Ok(obj)
}

/// Everything `create` checks, and the object it would store (no id or times yet).
pub fn preview_create(
    store: &Store,
    class: &str,
    changes: &Changes,
    who: &Principal,
) -> Result<StoredObject, LcError> {
    checked_create(store, class, changes, who).map(|(obj, _)| obj)
}

/// [`preview_create`], and the relation operations the body holds (applied once the
/// object has its id).
fn checked_create(
    store: &Store,
    class: &str,
    changes: &Changes,
    who: &Principal,
) -> Result<(StoredObject, changes::RelationEdits), LcError> {
    check_class_name(class)?;
    check_class(store, class, ClassOp::Create, who)?;
    if class == "_Role" {
        crate::roles::check_create(store, changes)?;
    }
    let (mut fields, relations) = apply_changes(&Map::new(), changes)?;
    check_size(&fields)?;
    check_columns(store, class, &changes.keys(), &fields, true, who)?;
    if !fields.contains_key("ACL") {
        fields.insert("ACL".into(), new_object_acl(store, class, who));
    }
    check_unique(store, class, None, &fields)?;
    Ok((StoredObject::new("", 0, 0, &fields), relations))
}

/// What a beforeSave hook is shown of a create: the object the body describes, after the
/// checks that do not depend on what the hook may still change (class name, the class's
/// `create` permission, `_Role` rules, field operations, size). Column types, required
/// columns, read-only columns and unique indexes are checked on the object the hook
/// answers, when it is stored (a hook may fill in a required field, such as the author).
pub fn preview_create_for_hook(
    store: &Store,
    class: &str,
    changes: &Changes,
    who: &Principal,
) -> Result<StoredObject, LcError> {
    check_class_name(class)?;
    check_class(store, class, ClassOp::Create, who)?;
    if class == "_Role" {
        crate::roles::check_create(store, changes)?;
    }
    let (fields, _) = apply_changes(&Map::new(), changes)?;
    check_size(&fields)?;
    Ok(StoredObject::new("", 0, 0, &fields))
}

/// Store a new object whose checks have passed (also for seeding from settings files).
pub fn insert_new(store: &mut Store, class: &str, obj: &StoredObject, keys: &[String]) {
    note_columns(store, class, obj, keys);
    store.class_mut(class).insert(obj.clone());
}

/// Look up an object: unknown class is 404/101; a missing object is `Ok(None)`; an
/// object the caller may not read is 403.
pub fn fetch<'a>(
    store: &'a Store,
    class: &str,
    id: &str,
    who: &Principal,
) -> Result<Option<&'a StoredObject>, LcError> {
    let data = existing_class(store, class, ClassOp::Get, who)?;
    match data.objects.get(id) {
        Some(obj) if !who.master => {
            let allowed = who.can_read_stored(obj);
            crate::decisions::record(crate::decisions::Rule::Acl, class, "read", allowed);
            if allowed {
                Ok(Some(obj))
            } else {
                Err(LcError::forbidden_reading_by_acl())
            }
        }
        found => Ok(found),
    }
}

/// The outcome of an update: the stored object after it, and the top-level keys changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Updated {
    pub before: StoredObject,
    pub after: StoredObject,
    pub keys: Vec<String>,
}

/// What an update would store, without storing it (hooks see this before the write).
pub fn preview_update(
    store: &Store,
    class: &str,
    id: &str,
    changes: &Changes,
    condition: Option<&Value>,
    who: &Principal,
) -> Result<Updated, LcError> {
    let data = existing_class(store, class, ClassOp::Update, who)?;
    let current = data
        .objects
        .get(id)
        .ok_or_else(|| LcError::object_not_found_for_update(class, id))?;
    check_may_change(store, class, current, condition, who)?;
    if class == "_Role" {
        crate::roles::check_update(changes)?;
    }
    let (fields, _) = apply_changes(&current.to_map(), changes)?;
    check_size(&fields)?;
    let keys = changes.keys();
    check_columns(store, class, &keys, &fields, false, who)?;
    check_unique(store, class, Some(id), &fields)?;
    let after = current.with_fields(&fields);
    Ok(Updated {
        before: current.clone(),
        after,
        keys,
    })
}

/// Update an object: only the given keys change. `condition` is the `where` of a
/// conditional update (305 when it does not match).
pub fn update(
    store: &mut Store,
    class: &str,
    id: &str,
    changes: &Changes,
    condition: Option<&Value>,
    who: &Principal,
) -> Result<Updated, LcError> {
    let mut updated = preview_update(store, class, id, changes, condition, who)?;
    let (_, relations) = apply_changes(&updated.before.to_map(), changes)?;
    updated.after.updated_at = store.clock.now_ms().max(updated.before.updated_at);
    note_columns(store, class, &updated.after, &updated.keys);
    relations.apply(store, class, id);
    store.class_mut(class).insert(updated.after.clone());
    Ok(updated)
}

/// Everything `delete` checks; the object it would delete (`None`: nothing to delete).
pub fn preview_delete<'a>(
    store: &'a Store,
    class: &str,
    id: &str,
    condition: Option<&Value>,
    who: &Principal,
) -> Result<Option<&'a StoredObject>, LcError> {
    let data = existing_class(store, class, ClassOp::Delete, who)?;
    let Some(current) = data.objects.get(id) else {
        return match condition {
            Some(_) => Err(LcError::no_effect()),
            None => Ok(None),
        };
    };
    check_may_change(store, class, current, condition, who)?;
    Ok(Some(current))
}

/// Delete an object. Unknown class is 404/101; deleting a missing object succeeds (the
/// service answers `{}`), unless a `condition` is given, which then has no effect (305).
pub fn delete(
    store: &mut Store,
    class: &str,
    id: &str,
    condition: Option<&Value>,
    who: &Principal,
) -> Result<Option<StoredObject>, LcError> {
    if preview_delete(store, class, id, condition, who)?.is_none() {
        return Ok(None);
    }
    let removed = store
        .class_mut(class)
        .remove(id)
        .map(std::sync::Arc::unwrap_or_clone);
    store
        .relations
        .retain(|(c, owner, _), _| !(c == class && owner == id));
    if class == "_User" {
        store.sessions.retain(|_, user| user != id);
        store.passwords.remove(id);
    }
    Ok(removed)
}

/// A find on `class`: unknown class is 404/101, and the `find` class permission applies.
pub fn check_find(store: &Store, class: &str, who: &Principal) -> Result<(), LcError> {
    existing_class(store, class, ClassOp::Find, who).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{FixedClock, SeededIds};
    use leancloud::error::code;
    use std::sync::Arc;

    fn store() -> Store {
        Store::new(
            Arc::new(FixedClock::new(1_700_000_000_000)),
            Box::new(SeededIds::new(3)),
        )
    }

    fn anyone() -> Principal {
        Principal::anonymous()
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn create_json(s: &mut Store, class: &str, v: Value) -> StoredObject {
        create(
            s,
            class,
            &Changes::parse(&body(v), false).unwrap(),
            &anyone(),
        )
        .unwrap()
    }

    #[test]
    fn create_stores_fields_with_the_default_acl_and_ignores_reserved_keys() {
        let mut s = store();
        let obj = create_json(
            &mut s,
            "Post",
            json!({"title": "x", "objectId": "forged", "createdAt": "2000-01-01T00:00:00.000Z"}),
        );
        assert_ne!(obj.id, "forged");
        assert_eq!(obj.to_map()["title"], "x");
        assert_eq!(obj.to_map()["ACL"], public_acl());
        assert!(!obj.to_map().contains_key("objectId"));
        assert_eq!(s.object("Post", &obj.id), Some(&obj));
    }

    #[test]
    fn dot_keys_are_invalid_on_create_but_set_nested_fields_on_update() {
        let err = Changes::parse(&body(json!({"a.b": 1})), false).unwrap_err();
        assert_eq!(err.code, code::INVALID_KEY_NAME);
        let mut s = store();
        let obj = create_json(&mut s, "Post", json!({"a": {"x": 1}}));
        let changes = Changes::parse(&body(json!({"a.b": 2, "c.d": 3})), true).unwrap();
        let up = update(&mut s, "Post", &obj.id, &changes, None, &anyone()).unwrap();
        assert_eq!(up.after.to_map()["a"], json!({"x": 1, "b": 2}));
        assert_eq!(up.after.to_map()["c"], json!({"d": 3}));
        assert_eq!(up.keys, vec!["a", "c"]);
    }

    #[test]
    fn flags_are_kept_apart_and_never_stored() {
        let changes = Changes::parse(
            &body(json!({"n": 1, "__ignore_hooks": ["beforeSave"]})),
            false,
        )
        .unwrap();
        assert_eq!(changes.flags["__ignore_hooks"], json!(["beforeSave"]));
        let mut s = store();
        let obj = create(&mut s, "Post", &changes, &anyone()).unwrap();
        assert!(!obj.to_map().contains_key("__ignore_hooks"));
    }

    #[test]
    fn invalid_acl_is_rejected_with_123_and_nothing_is_stored() {
        let err = Changes::parse(&body(json!({"ACL": {"*": {"read": "yes"}}})), false).unwrap_err();
        assert_eq!(err.code, code::INVALID_ACL);
        let err = Changes::parse(&body(json!({"ACL": [1]})), false).unwrap_err();
        assert_eq!(err.code, code::INVALID_ACL);
    }

    #[test]
    fn arbitrary_acl_keys_are_stored_verbatim() {
        let acl =
            json!({"*": {"read": true}, "read-only": {"read": true}, "role:w": {"write": true}});
        let mut s = store();
        let obj = create_json(&mut s, "GameScore", json!({"ACL": acl.clone()}));
        assert_eq!(obj.to_map()["ACL"], acl);
    }

    #[test]
    fn fetch_of_unknown_class_is_101_and_missing_object_is_none() {
        let mut s = store();
        assert_eq!(
            fetch(&s, "Nope", "x", &anyone()).unwrap_err().code,
            code::OBJECT_NOT_FOUND
        );
        create_json(&mut s, "Post", json!({}));
        assert_eq!(fetch(&s, "Post", "123", &anyone()).unwrap(), None);
    }

    #[test]
    fn update_of_missing_object_names_it() {
        let mut s = store();
        create_json(&mut s, "Person", json!({}));
        let err = update(
            &mut s,
            "Person",
            "fakeid",
            &Changes::default(),
            None,
            &anyone(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            LcError::generic("Could not find object by id 'fakeid' for class 'Person'.")
        );
    }

    #[test]
    fn delete_removes_the_object_and_its_relations_and_is_quiet_when_missing() {
        let mut s = store();
        let obj = create_json(&mut s, "Post", json!({}));
        s.relations.insert(
            ("Post".into(), obj.id.to_string(), "likes".into()),
            imbl::OrdSet::from(vec!["u".to_string()]),
        );
        assert!(
            delete(&mut s, "Post", &obj.id, None, &anyone())
                .unwrap()
                .is_some()
        );
        assert!(s.relations.is_empty());
        assert_eq!(
            delete(&mut s, "Post", &obj.id, None, &anyone()).unwrap(),
            None
        );
        assert_eq!(
            delete(&mut s, "Nope", &obj.id, None, &anyone())
                .unwrap_err()
                .code,
            101
        );
    }

    #[test]
    fn update_moves_updated_at_forward_and_keeps_created_at() {
        let mut s = store();
        let obj = create_json(&mut s, "Post", json!({"n": 1}));
        let changes = Changes::parse(&body(json!({"m": 2})), true).unwrap();
        let up = update(&mut s, "Post", &obj.id, &changes, None, &anyone()).unwrap();
        assert_eq!(up.after.created_at, obj.created_at);
        assert!(up.after.updated_at > obj.updated_at);
        assert_eq!(up.after.to_map()["n"], 1);
        assert_eq!(up.after.to_map()["m"], 2);
    }

    #[test]
    fn setting_through_a_non_object_is_a_type_error_and_changes_nothing() {
        let mut s = store();
        let obj = create_json(&mut s, "Post", json!({"a": 5}));
        let changes = Changes::parse(&body(json!({"a.b": 1})), true).unwrap();
        let err = update(&mut s, "Post", &obj.id, &changes, None, &anyone()).unwrap_err();
        assert_eq!(err.code, code::INCORRECT_TYPE);
        assert_eq!(s.object("Post", &obj.id).unwrap(), &obj);
    }

    fn user(s: &Store, id: &str) -> Principal {
        Principal::user(s, id)
    }

    #[test]
    fn acl_decides_who_reads_and_writes_an_object() {
        let mut s = store();
        let acl = json!({"alice": {"read": true, "write": true}, "*": {"read": true}});
        let obj = create_json(&mut s, "Note", json!({"ACL": acl, "n": 1}));
        let changes = Changes::parse(&body(json!({"n": 2})), true).unwrap();
        let bob = user(&s, "bob");
        let err = update(&mut s, "Note", &obj.id, &changes, None, &bob).unwrap_err();
        assert_eq!(err, LcError::forbidden_writing_by_acl());
        assert_eq!(
            delete(&mut s, "Note", &obj.id, None, &anyone()).unwrap_err(),
            LcError::forbidden_writing_by_acl()
        );
        let alice = user(&s, "alice");
        update(&mut s, "Note", &obj.id, &changes, None, &alice).unwrap();
        let private = create_json(&mut s, "Note", json!({"ACL": {"alice": {"read": true}}}));
        assert_eq!(
            fetch(&s, "Note", &private.id, &user(&s, "bob")).unwrap_err(),
            LcError::forbidden_reading_by_acl()
        );
        assert!(fetch(&s, "Note", &private.id, &alice).unwrap().is_some());
        assert!(
            fetch(&s, "Note", &private.id, &Principal::master())
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn columns_keep_their_first_type_and_read_only_and_required_hold() {
        let mut s = store();
        let obj = create_json(&mut s, "Item", json!({"n": 1}));
        let changes = Changes::parse(&body(json!({"n": "one"})), true).unwrap();
        let err = update(&mut s, "Item", &obj.id, &changes, None, &anyone()).unwrap_err();
        assert_eq!(err.code, code::INCORRECT_TYPE);
        let cols = &mut s.class_mut("Item").columns;
        cols.get_mut("n").unwrap().read_only = true;
        cols.insert(
            "title".into(),
            crate::Column {
                kind: "String".into(),
                required: true,
                ..Default::default()
            },
        );
        let changes = Changes::parse(&body(json!({"n": 5})), true).unwrap();
        let err = update(&mut s, "Item", &obj.id, &changes, None, &anyone()).unwrap_err();
        assert_eq!(err.code, code::READ_ONLY_KEY);
        update(
            &mut s,
            "Item",
            &obj.id,
            &changes,
            None,
            &Principal::master(),
        )
        .unwrap();
        let err = create(&mut s, "Item", &Changes::default(), &anyone()).unwrap_err();
        assert_eq!(err, LcError::missing_required_key("title"));
    }

    /// Read-only binds changes: a client may give the field when it creates the object,
    /// and only the master key may change it afterwards.
    #[test]
    fn a_read_only_column_may_be_set_on_create_but_not_changed() {
        let mut s = store();
        s.class_mut("Shop").columns.insert(
            "owner".into(),
            crate::Column {
                kind: "String".into(),
                read_only: true,
                ..Default::default()
            },
        );
        let shop = create_json(&mut s, "Shop", json!({"owner": "ann"}));
        assert_eq!(shop.to_map()["owner"], "ann");
        let change = Changes::parse(&body(json!({"owner": "bob"})), true).unwrap();
        let err = update(&mut s, "Shop", &shop.id, &change, None, &anyone()).unwrap_err();
        assert_eq!(err, LcError::read_only_key("owner"));
        assert_eq!(s.object("Shop", &shop.id).unwrap().to_map()["owner"], "ann");
    }

    #[test]
    fn a_unique_index_refuses_a_taken_value_on_create_and_update() {
        let mut s = store();
        s.class_mut("Tag").settings.unique.push(vec!["name".into()]);
        let a = create_json(&mut s, "Tag", json!({"name": "a"}));
        let err = create(
            &mut s,
            "Tag",
            &Changes::parse(&body(json!({"name": "a"})), false).unwrap(),
            &anyone(),
        )
        .unwrap_err();
        assert_eq!(err.code, code::DUPLICATE_VALUE);
        let b = create_json(&mut s, "Tag", json!({"name": "b"}));
        let rename = Changes::parse(&body(json!({"name": "a"})), true).unwrap();
        assert_eq!(
            update(&mut s, "Tag", &b.id, &rename, None, &anyone())
                .unwrap_err()
                .code,
            137
        );
        update(&mut s, "Tag", &a.id, &rename, None, &anyone()).unwrap();
        create_json(&mut s, "Tag", json!({"other": 1}));
        create_json(&mut s, "Tag", json!({"other": 2}));
    }

    /// The index finds what the scan it replaced found: values `same_value` calls the
    /// same (1 and 1.0, objects by content), rows that lack a key are not indexed, and
    /// updates and deletes move and free entries.
    #[test]
    fn a_unique_index_compares_as_same_value_and_follows_updates_and_deletes() {
        let mut s = store();
        s.class_mut("Pt")
            .add_index(vec!["n".into(), "o".into()], true);
        let taken = |s: &mut Store, v: Value| {
            let changes = Changes::parse(&body(v), false).unwrap();
            create(s, "Pt", &changes, &anyone()).map(|o| o.id)
        };
        let first = taken(&mut s, json!({"n": 1, "o": {"a": [1, 2], "b": null}})).unwrap();
        let err = taken(&mut s, json!({"n": 1.0, "o": {"b": null, "a": [1.0, 2]}})).unwrap_err();
        assert_eq!(err.code, code::DUPLICATE_VALUE);
        taken(&mut s, json!({"n": 1, "o": {"a": [2, 1], "b": null}})).unwrap();
        taken(&mut s, json!({"n": 1})).unwrap();
        taken(&mut s, json!({"n": 1, "o": null})).unwrap();
        let change = Changes::parse(&body(json!({"n": 2})), true).unwrap();
        update(&mut s, "Pt", &first, &change, None, &anyone()).unwrap();
        let again = taken(&mut s, json!({"n": 1, "o": {"a": [1, 2], "b": null}})).unwrap();
        let err = taken(&mut s, json!({"n": 2, "o": {"a": [1, 2], "b": null}})).unwrap_err();
        assert_eq!(err.code, code::DUPLICATE_VALUE);
        delete(&mut s, "Pt", &first, None, &anyone()).unwrap();
        taken(&mut s, json!({"n": 2, "o": {"a": [1, 2], "b": null}})).unwrap();
        assert_ne!(first, again);
    }

    #[test]
    fn stored_values_type_their_columns_as_their_json_does() {
        for v in [
            json!(null),
            json!(true),
            json!(1),
            json!(-1.5),
            json!("s"),
            json!([1, "a"]),
            json!({"a": 1}),
            json!({"__type": "Date", "iso": "2024-01-31T08:00:00.000Z"}),
            json!({"__type": "Pointer", "className": "Post", "objectId": "p1"}),
            json!({"__type": "Relation", "className": "_User"}),
            json!({"__type": "GeoPoint", "latitude": 1.0, "longitude": 2.0}),
            json!({"__type": "File", "id": "f"}),
            json!({"__type": "Bytes", "base64": "AA=="}),
            json!({"__type": "Elsewhere"}),
            json!({"__type": 5}),
        ] {
            let mut m = Map::new();
            m.insert("k".into(), v.clone());
            let packed = crate::store::Packed::from_map(&m);
            let stored = packed.object().get("k").unwrap();
            assert_eq!(stored_column_of(stored), column_of(&v), "{v}");
        }
    }

    #[test]
    fn the_class_default_acl_names_the_creator_as_owner() {
        let mut s = store();
        s.class_mut("Doc").settings.default_acl =
            Some(json!({"_owner": {"read": true, "write": true}, "*": {"read": true}}));
        let carol = user(&s, "carol");
        let obj = create(&mut s, "Doc", &Changes::default(), &carol).unwrap();
        assert_eq!(
            obj.to_map()["ACL"],
            json!({"carol": {"read": true, "write": true}, "*": {"read": true}})
        );
        let anon = create(&mut s, "Doc", &Changes::default(), &anyone()).unwrap();
        assert_eq!(anon.to_map()["ACL"], json!({"*": {"read": true}}));
    }

    #[test]
    fn users_are_changed_only_by_themselves_or_the_master_key() {
        let mut s = store();
        let u = create_json(&mut s, "_User", json!({"username": "dave"}));
        let changes = Changes::parse(&body(json!({"nick": "d"})), true).unwrap();
        let other = user(&s, "other");
        let err = update(&mut s, "_User", &u.id, &changes, None, &other).unwrap_err();
        assert_eq!(err, LcError::user_cannot_be_altered());
        let me = user(&s, &u.id);
        update(&mut s, "_User", &u.id, &changes, None, &me).unwrap();
        delete(&mut s, "_User", &u.id, None, &Principal::master()).unwrap();
    }
}
