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

/// A column: its type (fixed by its first write, or by the class's settings) and the
/// field permissions on it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Column {
    /// `String`, `Number`, `Boolean`, `Date`, `File`, `Array`, `Object`, `GeoPoint`,
    /// `Pointer`, `Relation`, `Bytes`, `ACL`, `Any`.
    pub kind: String,
    /// Target class of a `Pointer` or `Relation` column.
    pub class_name: Option<String>,
    /// Clients may not change it (117); the master key may.
    pub read_only: bool,
    /// Left out of what clients read; the master key sees it.
    pub hidden: bool,
    /// A create without it is refused (113).
    pub required: bool,
    /// Shown for objects that lack the field (applied at read time, not stored).
    pub default: Option<Value>,
}

/// A class's settings: who may do what, the ACL new objects get, unique indexes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClassSettings {
    pub permissions: crate::access::ClassPermissions,
    /// The ACL an object created without one gets; `None`: public read and write. The
    /// key `_owner` stands for the creating user.
    pub default_acl: Option<Value>,
    /// Unique indexes, each a list of keys whose values together must be unique.
    pub unique: Vec<Vec<String>>,
}

/// One class: its objects in id order (ids are time-based, so this is creation order),
/// its columns and its settings.
#[derive(Debug, Clone, Default)]
pub struct ClassData {
    pub objects: BTreeMap<String, StoredObject>,
    pub columns: BTreeMap<String, Column>,
    pub settings: ClassSettings,
}

impl ClassData {
    /// An empty class with the settings a new class gets.
    pub fn new(name: &str) -> Self {
        ClassData {
            settings: ClassSettings {
                permissions: crate::access::ClassPermissions::default_for(name),
                ..ClassSettings::default()
            },
            ..ClassData::default()
        }
    }
}

/// Classes every app has from the start.
pub const INITIAL_CLASSES: &[&str] = &["_User", "_Role", "_File", "_Installation"];

/// Relation membership: (owner class, owner id, key) -> target ids.
pub type RelationKey = (String, String, String);

/// A copy of everything an app holds (not its clock or ids), to return to later.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    classes: HashMap<String, ClassData>,
    relations: HashMap<RelationKey, BTreeSet<String>>,
    sessions: HashMap<String, String>,
    passwords: HashMap<String, String>,
    login_failures: HashMap<String, Vec<i64>>,
}

/// One app's storage.
pub struct Store {
    pub classes: HashMap<String, ClassData>,
    pub relations: HashMap<RelationKey, BTreeSet<String>>,
    /// Session token -> user objectId.
    pub sessions: HashMap<String, String>,
    /// User objectId -> password hash. Never in the user's fields, so never rendered.
    pub passwords: HashMap<String, String>,
    /// User objectId -> times (ms) of recent failed log-ins, for the lockout (219).
    pub login_failures: HashMap<String, Vec<i64>>,
    /// The cost of new password hashes (cheap by default: see `PasswordHashing`).
    pub hashing: crate::users::PasswordHashing,
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
            sessions: HashMap::new(),
            passwords: HashMap::new(),
            login_failures: HashMap::new(),
            hashing: crate::users::PasswordHashing::default(),
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
        self.sessions.clear();
        self.passwords.clear();
        self.login_failures.clear();
        for class in INITIAL_CLASSES {
            self.classes
                .insert(class.to_string(), ClassData::new(class));
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

    /// Everything the app holds now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            classes: self.classes.clone(),
            relations: self.relations.clone(),
            sessions: self.sessions.clone(),
            passwords: self.passwords.clone(),
            login_failures: self.login_failures.clone(),
        }
    }

    /// Put back what a snapshot held (keeps clock and ids).
    pub fn restore(&mut self, snapshot: &Snapshot) {
        let s = snapshot.clone();
        self.classes = s.classes;
        self.relations = s.relations;
        self.sessions = s.sessions;
        self.passwords = s.passwords;
        self.login_failures = s.login_failures;
    }

    /// The class, created with a new class's settings if it does not exist yet.
    pub fn class_mut(&mut self, name: &str) -> &mut ClassData {
        self.classes
            .entry(name.to_string())
            .or_insert_with(|| ClassData::new(name))
    }

    /// The user a session token belongs to.
    pub fn session_user(&self, token: &str) -> Option<&str> {
        self.sessions.get(token).map(String::as_str)
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
