//! A create or update body, parsed ([`Changes`]), and how it applies to an object's
//! fields: values and field operations at keys or dot paths, and the relation
//! membership edits it makes once the write is valid.

use crate::limits::check_path;
use crate::names::{RESERVED_KEYS, check_key_name};
use crate::store::Store;
use leancloud::LcError;
use leancloud::ops::FieldOp;
use serde_json::{Map, Value};

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
                check_path(key, LcError::nested_too_deeply)?;
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

/// Relation membership changes that a write makes, applied only once the write is valid.
#[derive(Debug, Default)]
pub(super) struct RelationEdits {
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

    pub(super) fn apply(self, store: &mut Store, class: &str, id: &str) {
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
        .filter_map(|p| {
            p.get("objectId")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect()
}

/// Apply parsed changes to a copy of `fields`; returns the new fields and the relation
/// edits to make.
pub(super) fn apply_changes(
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
