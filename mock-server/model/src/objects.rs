//! Object writes and reads: create, fetch, update, delete, with field operations, dot
//! paths, relation membership and conditional (`where`) writes.
//!
//! Every write validates everything first and only then touches the store, so a rejected
//! request leaves the app exactly as it was.

use crate::names::{RESERVED_KEYS, check_class_name, check_key_name};
use crate::query::Matcher;
use crate::store::{Column, Store, StoredObject};
use leancloud::LcError;
use leancloud::ops::FieldOp;
use serde_json::{Map, Value, json};

/// The ACL an object gets when the client sends none: the class default, which starts
/// as public read and write (recorded: `returnACL=true` on such an object shows this).
pub fn default_acl() -> Value {
    json!({"*": {"read": true, "write": true}})
}

/// One change a create or update body asks for, at a key or a dot path.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Set(Value),
    Op(FieldOp),
}

/// A parsed create or update body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Changes {
    /// `(path segments, change)` in body order.
    pub entries: Vec<(Vec<String>, Change)>,
    /// Flags the body carried (`__ignore_hooks` and other `__` keys); never stored.
    pub flags: Map<String, Value>,
}

impl Changes {
    /// Top-level keys this body touches (`_updatedKeys` for hooks).
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for (path, _) in &self.entries {
            if !keys.contains(&path[0]) {
                keys.push(path[0].clone());
            }
        }
        keys
    }

    /// Parse a body. Dot paths (`a.b`) are allowed only on update.
    pub fn parse(body: &Map<String, Value>, allow_dots: bool) -> Result<Changes, LcError> {
        let mut changes = Changes::default();
        for (key, value) in body {
            if key.starts_with("__") {
                changes.flags.insert(key.clone(), value.clone());
                continue;
            }
            if RESERVED_KEYS.contains(&key.as_str()) {
                // Reserved keys are the service's to set; SDKs echo them back on save
                // and the service ignores them.
                continue;
            }
            let path: Vec<String> = if allow_dots {
                key.split('.').map(str::to_string).collect()
            } else {
                vec![key.clone()]
            };
            if path.len() > 1 {
                for seg in &path {
                    if seg.is_empty() || seg.contains('$') {
                        return Err(LcError::invalid_key_name(key));
                    }
                }
                check_key_name(&path[0])?;
            } else if key != "ACL" {
                check_key_name(key)?;
            }
            let change = match FieldOp::parse(key, value)? {
                Some(op) => Change::Op(op),
                None => {
                    if key == "ACL" {
                        check_acl(value)?;
                    } else {
                        leancloud::value::validate(key, value)?;
                    }
                    Change::Set(value.clone())
                }
            };
            changes.entries.push((path, change));
        }
        Ok(changes)
    }
}

/// An ACL value: an object of `{"read": bool, "write": bool}` objects (code 123).
pub fn check_acl(value: &Value) -> Result<(), LcError> {
    let Some(map) = value.as_object() else {
        return Err(LcError::invalid_acl("an ACL must be a JSON object"));
    };
    for (who, perms) in map {
        let Some(perms) = perms.as_object() else {
            return Err(LcError::invalid_acl(format!(
                "the permissions of '{who}' must be an object"
            )));
        };
        for (name, v) in perms {
            if !matches!(name.as_str(), "read" | "write") || !v.is_boolean() {
                return Err(LcError::invalid_acl(format!(
                    "'{who}' has an invalid permission '{name}'"
                )));
            }
        }
    }
    Ok(())
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
    }
}

/// Relation membership changes that a write makes, applied only once the write is valid.
#[derive(Debug, Default)]
struct RelationEdits {
    /// `(key, target ids, add?)`
    edits: Vec<(String, Vec<String>, bool)>,
}

impl RelationEdits {
    fn collect(&mut self, key: &str, op: &FieldOp) {
        match op {
            FieldOp::AddRelation(objs) => self.edits.push((key.into(), ids_of(objs), true)),
            FieldOp::RemoveRelation(objs) => self.edits.push((key.into(), ids_of(objs), false)),
            FieldOp::Batch(ops) => ops.iter().for_each(|op| self.collect(key, op)),
            _ => {}
        }
    }

    fn apply(self, store: &mut Store, class: &str, id: &str) {
        for (key, targets, add) in self.edits {
            let set = store
                .relations
                .entry((class.to_string(), id.to_string(), key))
                .or_default();
            for t in targets {
                if add {
                    set.insert(t);
                } else {
                    set.remove(&t);
                }
            }
        }
    }
}

fn ids_of(pointers: &[Value]) -> Vec<String> {
    pointers
        .iter()
        .filter_map(|p| p.get("objectId").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// Apply parsed changes to a copy of `fields`; returns the new fields and the relation
/// edits to make.
fn apply_changes(
    fields: &Map<String, Value>,
    changes: &Changes,
) -> Result<(Map<String, Value>, RelationEdits), LcError> {
    let mut out = fields.clone();
    let mut relations = RelationEdits::default();
    for (path, change) in &changes.entries {
        let full_key = path.join(".");
        let new_value = match change {
            Change::Set(v) => Some(v.clone()),
            Change::Op(op) => {
                if path.len() == 1 {
                    relations.collect(&path[0], op);
                } else if matches!(
                    op,
                    FieldOp::AddRelation(_) | FieldOp::RemoveRelation(_) | FieldOp::Batch(_)
                ) {
                    return Err(LcError::invalid_relation(format!(
                        "relations cannot be nested: '{full_key}'"
                    )));
                }
                op.apply(&full_key, get_path(&out, path))?
            }
        };
        set_path(&mut out, path, new_value, &full_key)?;
    }
    Ok((out, relations))
}

fn get_path<'a>(fields: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let mut cur = fields.get(&path[0])?;
    for seg in &path[1..] {
        cur = cur.as_object()?.get(seg)?;
    }
    Some(cur)
}

fn set_path(
    fields: &mut Map<String, Value>,
    path: &[String],
    value: Option<Value>,
    full_key: &str,
) -> Result<(), LcError> {
    let (last, parents) = path.split_last().expect("a path has at least one segment");
    let mut map = fields;
    for seg in parents {
        let entry = map
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if entry.is_null() {
            *entry = Value::Object(Map::new());
        }
        map = match entry {
            Value::Object(m) if !m.contains_key("__type") => m,
            _ => {
                return Err(LcError::incorrect_type_detail(format!(
                    "Cannot set '{full_key}': '{seg}' is not an object."
                )));
            }
        };
    }
    match value {
        Some(v) => {
            map.insert(last.clone(), v);
        }
        None => {
            map.remove(last);
        }
    }
    Ok(())
}

/// Record the column types of the fields a write set (first write fixes the type).
fn note_columns(store: &mut Store, class: &str, fields: &Map<String, Value>, keys: &[String]) {
    let class_data = store.classes.entry(class.to_string()).or_default();
    for key in keys {
        if key == "ACL" {
            continue;
        }
        if let Some(v) = fields.get(key) {
            if v.is_null() {
                continue;
            }
            class_data
                .columns
                .entry(key.clone())
                .or_insert_with(|| column_of(v));
        }
    }
}

/// The largest object the service stores (16 MB, code 116).
pub const MAX_OBJECT_BYTES: usize = 16 * 1024 * 1024;

fn check_size(fields: &Map<String, Value>) -> Result<(), LcError> {
    let size = serde_json::to_vec(fields).map(|v| v.len()).unwrap_or(0);
    if size > MAX_OBJECT_BYTES {
        return Err(LcError::object_too_large());
    }
    Ok(())
}

/// Create an object. The class comes into being with its first object.
pub fn create(store: &mut Store, class: &str, changes: &Changes) -> Result<StoredObject, LcError> {
    check_class_name(class)?;
    let (mut fields, relations) = apply_changes(&Map::new(), changes)?;
    check_size(&fields)?;
    if !fields.contains_key("ACL") {
        fields.insert("ACL".into(), default_acl());
    }
    let now = store.clock.now_ms();
    let id = store.ids.object_id(now);
    let obj = StoredObject {
        id: id.clone(),
        created_at: now,
        updated_at: now,
        fields,
    };
    note_columns(store, class, &obj.fields, &changes.keys());
    relations.apply(store, class, &id);
    store
        .classes
        .entry(class.to_string())
        .or_default()
        .objects
        .insert(id, obj.clone());
    Ok(obj)
}

/// Look up an object: unknown class is 404/101; a missing object is `Ok(None)`.
pub fn fetch<'a>(
    store: &'a Store,
    class: &str,
    id: &str,
) -> Result<Option<&'a StoredObject>, LcError> {
    check_class_name(class)?;
    let data = store
        .class(class)
        .ok_or_else(LcError::class_or_object_not_found)?;
    Ok(data.objects.get(id))
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
) -> Result<Updated, LcError> {
    check_class_name(class)?;
    let current = store
        .class(class)
        .ok_or_else(LcError::class_or_object_not_found)?
        .objects
        .get(id)
        .ok_or_else(|| LcError::object_not_found_for_update(class, id))?;
    if let Some(cond) = condition {
        let matcher = Matcher::compile(store, class, cond)?;
        if !matcher.matches(current) {
            return Err(LcError::no_effect());
        }
    }
    let (fields, _) = apply_changes(&current.fields, changes)?;
    check_size(&fields)?;
    let mut after = current.clone();
    after.fields = fields;
    Ok(Updated {
        before: current.clone(),
        after,
        keys: changes.keys(),
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
) -> Result<Updated, LcError> {
    let mut updated = preview_update(store, class, id, changes, condition)?;
    let (_, relations) = apply_changes(&updated.before.fields, changes)?;
    updated.after.updated_at = store.clock.now_ms().max(updated.before.updated_at);
    note_columns(store, class, &updated.after.fields, &updated.keys);
    relations.apply(store, class, id);
    store
        .classes
        .get_mut(class)
        .expect("preview found the class")
        .objects
        .insert(id.to_string(), updated.after.clone());
    Ok(updated)
}

/// Delete an object. Unknown class is 404/101; deleting a missing object succeeds (the
/// service answers `{}`), unless a `condition` is given, which then has no effect (305).
pub fn delete(
    store: &mut Store,
    class: &str,
    id: &str,
    condition: Option<&Value>,
) -> Result<Option<StoredObject>, LcError> {
    check_class_name(class)?;
    let data = store
        .class(class)
        .ok_or_else(LcError::class_or_object_not_found)?;
    let Some(current) = data.objects.get(id) else {
        return match condition {
            Some(_) => Err(LcError::no_effect()),
            None => Ok(None),
        };
    };
    if let Some(cond) = condition {
        let matcher = Matcher::compile(store, class, cond)?;
        if !matcher.matches(current) {
            return Err(LcError::no_effect());
        }
    }
    let removed = store
        .classes
        .get_mut(class)
        .and_then(|d| d.objects.remove(id));
    store
        .relations
        .retain(|(c, owner, _), _| !(c == class && owner == id));
    Ok(removed)
}

/// The fields an update's `fetchWhenSave` answer shows: the touched top-level keys with
/// their new values, plus every relation column (recorded behaviour), plus `updatedAt`
/// and `objectId`.
pub fn fetch_when_save_fields(updated: &Updated) -> Map<String, Value> {
    let mut out = Map::new();
    for key in &updated.keys {
        if key == "ACL" {
            continue;
        }
        if let Some(v) = updated.after.fields.get(key) {
            out.insert(key.clone(), v.clone());
        }
    }
    for (key, v) in &updated.after.fields {
        if v.get("__type").and_then(Value::as_str) == Some("Relation") {
            out.insert(key.clone(), v.clone());
        }
    }
    out.insert(
        "updatedAt".into(),
        Value::String(leancloud::value::format_date(updated.after.updated_at)),
    );
    out.insert("objectId".into(), Value::String(updated.after.id.clone()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{FixedClock, SeededIds};
    use std::sync::Arc;

    fn store() -> Store {
        Store::new(
            Arc::new(FixedClock::new(1_700_000_000_000)),
            Box::new(SeededIds::new(3)),
        )
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn create_json(s: &mut Store, class: &str, v: Value) -> StoredObject {
        create(s, class, &Changes::parse(&body(v), false).unwrap()).unwrap()
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
        assert_eq!(obj.fields["title"], "x");
        assert_eq!(obj.fields["ACL"], default_acl());
        assert!(!obj.fields.contains_key("objectId"));
        assert_eq!(s.object("Post", &obj.id), Some(&obj));
    }

    #[test]
    fn dot_keys_are_invalid_on_create_but_set_nested_fields_on_update() {
        let err = Changes::parse(&body(json!({"a.b": 1})), false).unwrap_err();
        assert_eq!(err.code, 105);
        let mut s = store();
        let obj = create_json(&mut s, "Post", json!({"a": {"x": 1}}));
        let changes = Changes::parse(&body(json!({"a.b": 2, "c.d": 3})), true).unwrap();
        let up = update(&mut s, "Post", &obj.id, &changes, None).unwrap();
        assert_eq!(up.after.fields["a"], json!({"x": 1, "b": 2}));
        assert_eq!(up.after.fields["c"], json!({"d": 3}));
        assert_eq!(up.keys, vec!["a", "c"]);
    }

    #[test]
    fn flags_are_kept_apart_and_never_stored() {
        let changes =
            Changes::parse(&body(json!({"n": 1, "__ignore_hooks": ["beforeSave"]})), false)
                .unwrap();
        assert_eq!(changes.flags["__ignore_hooks"], json!(["beforeSave"]));
        let mut s = store();
        let obj = create(&mut s, "Post", &changes).unwrap();
        assert!(!obj.fields.contains_key("__ignore_hooks"));
    }

    #[test]
    fn invalid_acl_is_rejected_with_123_and_nothing_is_stored() {
        let err = Changes::parse(&body(json!({"ACL": {"*": {"read": "yes"}}})), false)
            .unwrap_err();
        assert_eq!(err.code, 123);
        let err = Changes::parse(&body(json!({"ACL": [1]})), false).unwrap_err();
        assert_eq!(err.code, 123);
    }

    #[test]
    fn arbitrary_acl_keys_are_stored_verbatim() {
        let acl = json!({"*": {"read": true}, "read-only": {"read": true}, "role:w": {"write": true}});
        let mut s = store();
        let obj = create_json(&mut s, "GameScore", json!({"ACL": acl.clone()}));
        assert_eq!(obj.fields["ACL"], acl);
    }

    #[test]
    fn fetch_of_unknown_class_is_101_and_missing_object_is_none() {
        let mut s = store();
        assert_eq!(fetch(&s, "Nope", "x").unwrap_err().code, 101);
        create_json(&mut s, "Post", json!({}));
        assert_eq!(fetch(&s, "Post", "123").unwrap(), None);
    }

    #[test]
    fn update_of_missing_object_names_it() {
        let mut s = store();
        create_json(&mut s, "Person", json!({}));
        let err = update(&mut s, "Person", "fakeid", &Changes::default(), None).unwrap_err();
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
            ("Post".into(), obj.id.clone(), "likes".into()),
            std::collections::BTreeSet::from(["u".to_string()]),
        );
        assert!(delete(&mut s, "Post", &obj.id, None).unwrap().is_some());
        assert!(s.relations.is_empty());
        assert_eq!(delete(&mut s, "Post", &obj.id, None).unwrap(), None);
        assert_eq!(delete(&mut s, "Nope", &obj.id, None).unwrap_err().code, 101);
    }

    #[test]
    fn update_moves_updated_at_forward_and_keeps_created_at() {
        let mut s = store();
        let obj = create_json(&mut s, "Post", json!({"n": 1}));
        let changes = Changes::parse(&body(json!({"m": 2})), true).unwrap();
        let up = update(&mut s, "Post", &obj.id, &changes, None).unwrap();
        assert_eq!(up.after.created_at, obj.created_at);
        assert!(up.after.updated_at > obj.updated_at);
        assert_eq!(up.after.fields["n"], 1);
        assert_eq!(up.after.fields["m"], 2);
    }

    #[test]
    fn setting_through_a_non_object_is_a_type_error_and_changes_nothing() {
        let mut s = store();
        let obj = create_json(&mut s, "Post", json!({"a": 5}));
        let changes = Changes::parse(&body(json!({"a.b": 1})), true).unwrap();
        let err = update(&mut s, "Post", &obj.id, &changes, None).unwrap_err();
        assert_eq!(err.code, 111);
        assert_eq!(s.object("Post", &obj.id).unwrap(), &obj);
    }
}
