//! Fixtures shared by the query and render tests: a store filled directly, and a find
//! that answers object ids.

use lc_model::query::{self, FindParams};
use lc_model::{FixedClock, SeededIds, Store, StoredObject};
use leancloud::LcError;
use serde_json::Value;
use std::sync::Arc;

/// 2023-11-14T22:13:20.000Z
pub const T0: i64 = 1_700_000_000_000;

pub fn store() -> Store {
    Store::new(Arc::new(FixedClock::new(T0)), Box::new(SeededIds::new(1)))
}

/// The id of the n-th object: ids sort in the order `n` does.
pub fn id(n: u32) -> String {
    format!("{n:024x}")
}

/// A pointer to object `n` of `class`.
pub fn pointer(class: &str, n: u32) -> Value {
    leancloud::value::pointer(class, &id(n))
}

/// Insert object `n` of `class`, created `n` seconds after `T0`.
pub fn put(store: &mut Store, class: &str, n: u32, fields: Value) -> StoredObject {
    let at = T0 + i64::from(n) * 1000;
    let obj = match fields {
        Value::Object(m) => StoredObject::new(id(n), at, at, &m),
        other => panic!("fixture fields must be an object, got {other}"),
    };
    store.insert_object(class, obj.clone());
    obj
}

pub fn everyone(_class: &str, _obj: &StoredObject) -> bool {
    true
}

pub fn params(query: &[(&str, &str)]) -> Vec<(String, String)> {
    query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn try_find(
    store: &Store,
    class: &str,
    query: &[(&str, &str)],
) -> Result<query::FindResult, LcError> {
    let params = FindParams::from_query(&params(query))?;
    query::find(store, class, &params, &everyone)
}

/// The object ids a query returns, in order.
pub fn ids(store: &Store, class: &str, query: &[(&str, &str)]) -> Vec<String> {
    let found = try_find(store, class, query).unwrap_or_else(|e| panic!("{query:?}: {e}"));
    found
        .results
        .iter()
        .map(|r| {
            r["objectId"]
                .as_str()
                .expect("every row has an objectId")
                .to_string()
        })
        .collect()
}

/// The ids of objects `ns`, for comparing with [`ids`].
pub fn these(ns: &[u32]) -> Vec<String> {
    ns.iter().map(|&n| id(n)).collect()
}

/// Object ids for a `where` alone.
pub fn matching(store: &Store, class: &str, r#where: &str) -> Vec<String> {
    ids(store, class, &[("where", r#where)])
}

pub fn find_error(store: &Store, class: &str, query: &[(&str, &str)]) -> LcError {
    match try_find(store, class, query) {
        Ok(found) => panic!("{query:?} should fail, found {:?}", found.results),
        Err(e) => e,
    }
}
