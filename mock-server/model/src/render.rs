//! How a stored object is shown to a client: `keys`, `include`, `returnACL`.
//!
//! Rendering is: the stored fields (wire form, relation markers as stored) plus
//! `objectId`, `createdAt`, `updatedAt`; `ACL` only with `returnACL`; pointers named by
//! `include` replaced by their target's rendering plus `"__type":"Pointer","className"`;
//! then the `keys` projection.
//!
//! Choices where the protocol notes are silent:
//! - A positive dotted key on a pointer (`keys=pubUser.familyName`) also includes that
//!   pointer, so the sub-key can be shown (Parse Server does the same).
//! - Mixing positive and negative keys (`keys=a,-b`): keep the positives, then remove the
//!   negatives.
//! - `include` follows arrays of pointers too.

use crate::query::{Visible, query_map};
use crate::store::{Store, StoredObject};
use leancloud::LcError;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Keys a positive `keys` list keeps whatever it names.
const ALWAYS_KEPT: [&str; 3] = ["objectId", "createdAt", "updatedAt"];

/// The projection a fetch or a query asks for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct View {
    /// `keys=a,b.c` (include list) or `keys=-a` (exclude list); `None` = all fields.
    pub keys: Option<Vec<String>>,
    /// `include=a,b.c` split on dots.
    pub include: Vec<Vec<String>>,
    pub return_acl: bool,
}

impl View {
    /// From URL query parameters (`keys`, `include`, `returnACL`).
    pub fn from_query(params: &[(String, String)]) -> Result<View, LcError> {
        View::from_json(&query_map(params))
    }

    /// From batch `params` or any JSON object of parameters: `keys` and `include` as
    /// comma lists (or arrays of them), `returnACL` as a boolean or `"true"`.
    pub fn from_json(params: &Map<String, Value>) -> Result<View, LcError> {
        let keys = list(params.get("keys"), "keys")?;
        let include = list(params.get("include"), "include")?
            .into_iter()
            .map(|path| segments(&path))
            .filter(|segs| !segs.is_empty())
            .collect();
        Ok(View {
            keys: Some(keys).filter(|k| !k.is_empty()),
            include,
            return_acl: crate::query::truthy(params.get("returnACL")),
        })
    }
}

/// A comma list (spaces after commas tolerated), or an array of them.
fn list(v: Option<&Value>, name: &str) -> Result<Vec<String>, LcError> {
    let split = |s: &str| -> Vec<String> {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(split(s)),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for item in items {
                let s = item
                    .as_str()
                    .ok_or_else(|| LcError::invalid_query(format!("{name} must be a string")))?;
                out.extend(split(s));
            }
            Ok(out)
        }
        Some(_) => Err(LcError::invalid_query(format!("{name} must be a string"))),
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('.')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The object as the client sees it: fields, `objectId`, `createdAt`, `updatedAt`;
/// `ACL` only with `return_acl`; included pointers expanded.
pub fn render(
    store: &Store,
    _class: &str,
    obj: &StoredObject,
    view: &View,
    visible: Visible<'_>,
) -> Value {
    Plan::new(view).render(store, obj, visible)
}

/// A tree of dotted paths. `whole` marks a path named in full (not only through its
/// sub-keys).
#[derive(Debug, Default)]
struct Tree {
    whole: bool,
    children: BTreeMap<String, Tree>,
}

impl Tree {
    fn insert(&mut self, segs: &[String]) {
        match segs.split_first() {
            None => self.whole = true,
            Some((first, rest)) => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// Whether this node limits what is kept below it.
    fn restricts(&self) -> bool {
        !self.whole && !self.children.is_empty()
    }
}

/// A [`View`] prepared once and applied to many rows.
#[derive(Debug)]
pub(crate) struct Plan {
    include: Tree,
    keep: Option<Tree>,
    drop: Option<Tree>,
    return_acl: bool,
}

impl Plan {
    pub(crate) fn new(view: &View) -> Plan {
        let mut include = Tree::default();
        for path in &view.include {
            include.insert(path);
        }
        let (mut keep, mut drop) = (Tree::default(), Tree::default());
        for key in view.keys.iter().flatten() {
            let key = key.trim();
            if let Some(negative) = key.strip_prefix('-') {
                let segs = segments(negative);
                if !segs.is_empty() {
                    drop.insert(&segs);
                }
            } else {
                let segs = segments(key);
                if let Some((_, parents)) = segs.split_last() {
                    keep.insert(&segs);
                    if !parents.is_empty() {
                        include.insert(parents);
                    }
                }
            }
        }
        Plan {
            include,
            keep: Some(keep).filter(|t| !t.children.is_empty()),
            drop: Some(drop).filter(|t| !t.children.is_empty()),
            return_acl: view.return_acl,
        }
    }

    pub(crate) fn render(&self, store: &Store, obj: &StoredObject, visible: Visible<'_>) -> Value {
        let mut map = self.object(store, obj, &self.include, visible);
        project(&mut map, self.keep.as_ref(), self.drop.as_ref());
        Value::Object(map)
    }

    fn object(
        &self,
        store: &Store,
        obj: &StoredObject,
        include: &Tree,
        visible: Visible<'_>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in &obj.fields {
            if key == "ACL" && !self.return_acl {
                continue;
            }
            out.insert(key.clone(), value.clone());
        }
        out.insert("objectId".into(), Value::String(obj.id.clone()));
        out.insert(
            "createdAt".into(),
            Value::String(leancloud::value::format_date(obj.created_at)),
        );
        out.insert(
            "updatedAt".into(),
            Value::String(leancloud::value::format_date(obj.updated_at)),
        );
        for (key, sub) in &include.children {
            if let Some(value) = out.get_mut(key) {
                self.expand(store, value, sub, visible);
            }
        }
        out
    }

    /// Replace a pointer (or each pointer of an array) by its target, when the target
    /// exists and the caller may see it; anything else stays as it is.
    fn expand(&self, store: &Store, value: &mut Value, include: &Tree, visible: Visible<'_>) {
        match value {
            Value::Array(items) => {
                for item in items {
                    self.expand(store, item, include, visible);
                }
            }
            Value::Object(m) if m.get("__type").and_then(Value::as_str) == Some("Pointer") => {
                let (Some(class), Some(id)) = (
                    m.get("className").and_then(Value::as_str),
                    m.get("objectId").and_then(Value::as_str),
                ) else {
                    return;
                };
                let Some(target) = store.object(class, id) else {
                    return;
                };
                if !visible(class, target) {
                    return;
                }
                let class = class.to_string();
                let mut expanded = self.object(store, target, include, visible);
                expanded.insert("__type".into(), Value::String("Pointer".into()));
                expanded.insert("className".into(), Value::String(class));
                *value = Value::Object(expanded);
            }
            _ => {}
        }
    }
}

/// Apply `keys`: keep only what `keep` names (plus the built-ins, and a pointer's
/// `__type`/`className`), then remove what `drop` names; dotted paths descend into
/// objects and arrays of objects.
fn project(map: &mut Map<String, Value>, keep: Option<&Tree>, drop: Option<&Tree>) {
    let keep = keep.filter(|t| t.restricts());
    if let Some(k) = keep {
        let pointer = map.get("__type").and_then(Value::as_str) == Some("Pointer");
        map.retain(|key, _| {
            k.children.contains_key(key)
                || ALWAYS_KEPT.contains(&key.as_str())
                || (pointer && (key == "__type" || key == "className"))
        });
    }
    if let Some(d) = drop {
        for (key, sub) in &d.children {
            if sub.whole {
                map.remove(key);
            }
        }
    }
    let mut descend: BTreeSet<&String> = BTreeSet::new();
    if let Some(k) = keep {
        descend.extend(
            k.children
                .iter()
                .filter(|(_, t)| t.restricts())
                .map(|(key, _)| key),
        );
    }
    if let Some(d) = drop {
        descend.extend(
            d.children
                .iter()
                .filter(|(_, t)| !t.whole)
                .map(|(key, _)| key),
        );
    }
    for key in descend {
        let sub_keep = keep.and_then(|k| k.children.get(key));
        let sub_drop = drop.and_then(|d| d.children.get(key));
        if let Some(value) = map.get_mut(key) {
            project_value(value, sub_keep, sub_drop);
        }
    }
}

fn project_value(value: &mut Value, keep: Option<&Tree>, drop: Option<&Tree>) {
    match value {
        Value::Object(m) => project(m, keep, drop),
        Value::Array(items) => {
            for item in items {
                project_value(item, keep, drop);
            }
        }
        _ => {}
    }
}
