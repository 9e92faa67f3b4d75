//! The app's data: classes of objects and relation membership, with the clock and the id
//! generator every write uses. One `Store` is one LeanCloud app.

use crate::ids::{Clock, IdGen, SeededIds, SystemClock};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// One stored object. `fields` holds the client's fields in wire form (typed values as
/// `__type` JSON), including `ACL`; relation fields hold the `Relation` marker.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    pub id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub fields: Map<String, Value>,
}

impl StoredObject {
    /// A field by name, built-ins included (`objectId`, `createdAt`, `updatedAt` as the
    /// strings the wire shows).
    pub fn get(&self, key: &str) -> Option<Value> {
        match key {
            "objectId" => Some(Value::String(self.id.clone())),
            "createdAt" => Some(Value::String(leancloud::value::format_date(
                self.created_at,
            ))),
            "updatedAt" => Some(Value::String(leancloud::value::format_date(
                self.updated_at,
            ))),
            _ => self.fields.get(key).cloned(),
        }
    }
}

/// A column's type as fixed by its first write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// `String`, `Number`, `Boolean`, `Date`, `File`, `Array`, `Object`, `GeoPoint`,
    /// `Pointer`, `Relation`, `Bytes`, `ACL`, `Any`.
    pub kind: String,
    /// Target class of a `Pointer` or `Relation` column.
    pub class_name: Option<String>,
}

/// One class: its objects in id order (ids are time-based, so this is creation order)
/// and its columns.
#[derive(Debug, Clone, Default)]
pub struct ClassData {
    pub objects: BTreeMap<String, StoredObject>,
    pub columns: BTreeMap<String, Column>,
}

/// Classes every app has from the start.
pub const BUILTIN_CLASSES: &[&str] = &["_User", "_Role", "_File", "_Installation"];

/// Relation membership: (owner class, owner id, key) -> target ids.
pub type RelationKey = (String, String, String);

/// One app's storage.
pub struct Store {
    pub classes: HashMap<String, ClassData>,
    pub relations: HashMap<RelationKey, BTreeSet<String>>,
    pub clock: Arc<dyn Clock>,
    pub ids: Box<dyn IdGen>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("classes", &self.classes.len())
            .field("relations", &self.relations.len())
            .finish()
    }
}

impl Default for Store {
    fn default() -> Self {
        Store::new(Arc::new(SystemClock), Box::new(SeededIds::random()))
    }
}

impl Store {
    pub fn new(clock: Arc<dyn Clock>, ids: Box<dyn IdGen>) -> Self {
        let mut store = Store {
            classes: HashMap::new(),
            relations: HashMap::new(),
            clock,
            ids,
        };
        store.reset();
        store
    }

    /// Empty the app (keeps clock and ids). The built-in classes every app has exist,
    /// empty.
    pub fn reset(&mut self) {
        self.classes.clear();
        self.relations.clear();
        for class in BUILTIN_CLASSES {
            self.classes.insert(class.to_string(), ClassData::default());
        }
    }

    pub fn class(&self, name: &str) -> Option<&ClassData> {
        self.classes.get(name)
    }

    pub fn object(&self, class: &str, id: &str) -> Option<&StoredObject> {
        self.classes.get(class)?.objects.get(id)
    }

    /// Target ids of a relation field, empty when none.
    pub fn relation_targets(&self, class: &str, id: &str, key: &str) -> Option<&BTreeSet<String>> {
        self.relations
            .get(&(class.to_string(), id.to_string(), key.to_string()))
    }

    /// Target class of a relation or pointer column, if known.
    pub fn column_target(&self, class: &str, key: &str) -> Option<&str> {
        self.classes
            .get(class)?
            .columns
            .get(key)?
            .class_name
            .as_deref()
    }
}
