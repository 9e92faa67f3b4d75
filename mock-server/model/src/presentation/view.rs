//! The view a request asks for (`keys`, `include`, `returnACL`) and how it renders a
//! stored object, for clients and hooks alike (see [`super::client`], [`super::hook`]).
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
//! - An included object shows what a fetch of it would: rows the caller may not read stay
//!   bare pointers, and columns hidden from the caller are left out.
//! - Bounds: a `keys` path of more than `MAX_PATH_SEGMENTS` segments, or an `include` path
//!   of more than `MAX_INCLUDE_DEPTH`, is an invalid query (102), like any other malformed
//!   `keys` or `include`; a pointer to itself can then be followed only so far. The objects
//!   includes expand may add `MAX_INCLUDE_BYTES` to an answer (124 past it), since arrays
//!   of pointers multiply at every level.

use crate::limits::{Budget, MAX_INCLUDE_DEPTH, check_path, size_within};
use crate::query::{Reader, query_map};
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
        for key in &keys {
            check_path(key, LcError::invalid_query)?;
        }
        let include: Vec<Vec<String>> = list(params.get("include"), "include")?
            .into_iter()
            .map(|path| segments(&path))
            .filter(|segs| !segs.is_empty())
            .collect();
        if let Some(deep) = include.iter().find(|path| path.len() > MAX_INCLUDE_DEPTH) {
            return Err(LcError::invalid_query(format!(
                "the include path '{}…' follows {} pointers, more than {MAX_INCLUDE_DEPTH}",
                deep[..3].join("."),
                deep.len()
            )));
        }
        Ok(View {
            keys: Some(keys).filter(|k| !k.is_empty()),
            include,
            return_acl: crate::query::truthy(params.get("returnACL")),
        })
    }

    /// `obj` in this view, for `reader`: fields, `objectId`, `createdAt`, `updatedAt`;
    /// `ACL` only with `return_acl`; included pointers `reader` may read expanded; the
    /// `keys` projection. The class's column rules are not applied here (see
    /// [`super::client::object`]). 124 when the includes add more than
    /// [`crate::limits::MAX_INCLUDE_BYTES`].
    pub fn render(
        &self,
        store: &Store,
        obj: &StoredObject,
        reader: Reader<'_>,
    ) -> Result<Value, LcError> {
        let budget = Budget::default();
        let out = Plan::new(self).render(store, obj, reader, &budget);
        budget.check()?;
        Ok(out)
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
    /// What applying the plan to one row costs at most, besides includes: the segments of
    /// every `keys` and `include` path.
    cost: u64,
}

impl Plan {
    pub(crate) fn new(view: &View) -> Plan {
        let mut include = Tree::default();
        for path in &view.include {
            include.insert(path);
        }
        let (mut keep, mut drop) = (Tree::default(), Tree::default());
        let include_segments: usize = view.include.iter().map(Vec::len).sum();
        let keys_segments: usize = view
            .keys
            .iter()
            .flatten()
            .map(|k| k.split('.').count())
            .sum();
        let cost = 1 + (include_segments + keys_segments) as u64;
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
            cost,
        }
    }

    /// The rendering of one row. Includes stop expanding once `budget` is spent (the
    /// caller answers 124 then).
    pub(crate) fn render(
        &self,
        store: &Store,
        obj: &StoredObject,
        reader: Reader<'_>,
        budget: &Budget,
    ) -> Value {
        if !budget.try_charge(self.cost) {
            return Value::Object(Map::new());
        }
        let mut map = self.object(store, obj, None, &self.include, reader, budget);
        project(&mut map, self.keep.as_ref(), self.drop.as_ref());
        Value::Object(map)
    }

    /// `hidden_of`: the class whose hidden columns to leave out (an included object's;
    /// the queried object's are left out by the caller, with its column defaults).
    fn object(
        &self,
        store: &Store,
        obj: &StoredObject,
        hidden_of: Option<&str>,
        include: &Tree,
        reader: Reader<'_>,
        budget: &Budget,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in obj.fields.object().iter() {
            let key = key.as_str();
            if key == "ACL" && !self.return_acl {
                continue;
            }
            if hidden_of.is_some_and(|class| reader.hides(store, class, key)) {
                continue;
            }
            out.insert(key.to_string(), value.to_json());
        }
        out.insert("objectId".into(), Value::String(obj.id.to_string()));
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
                self.expand(store, value, sub, reader, budget);
            }
        }
        // File fields read back as their `_File` rows (protocol notes §2).
        for value in out.values_mut() {
            crate::files::expand(store, value);
        }
        out
    }

    /// Replace a pointer (or each pointer of an array) by its target, when the target
    /// exists and the caller may see it; anything else stays as it is.
    fn expand(
        &self,
        store: &Store,
        value: &mut Value,
        include: &Tree,
        reader: Reader<'_>,
        budget: &Budget,
    ) {
        match value {
            Value::Array(items) => {
                for item in items {
                    self.expand(store, item, include, reader, budget);
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
                if !reader.may_read(class, target) {
                    return;
                }
                let paid = match size_within(&target.to_map(), budget.include_left()) {
                    Some(bytes) => budget.try_include(bytes),
                    // Larger than what is left: asking for everything fails the budget.
                    None => budget.try_include(u64::MAX),
                };
                if !paid {
                    return;
                }
                let class = class.to_string();
                let mut expanded =
                    self.object(store, target, Some(&class), include, reader, budget);
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
