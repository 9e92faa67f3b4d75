//! The app's data: classes of objects and relation membership, with the clock and the id
//! generator every write uses. One `Store` is one LeanCloud app.

use crate::clock::AppClock;
use crate::ids::{Clock, IdGen, SeededIds, SystemClock};
use imbl::{HashMap, OrdSet};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

pub mod changes;
pub(crate) mod index;
pub mod keys;
pub mod packed;
mod rows;

pub use keys::Key;
pub use packed::{Packed, Val};
pub use rows::Rows;

/// An object id: 24 characters, held inline wherever a row is named (maps, indexes).
pub type Id = compact_str::CompactString;

/// One stored object. `fields` holds the client's fields in wire form (typed values as
/// `__type` JSON), including `ACL`; relation fields hold the `Relation` marker. Stored
/// rows are shared (`Arc`) and never changed in place: a write stores a new one.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    pub id: Id,
    pub created_at: i64,
    pub updated_at: i64,
    pub fields: Packed,
}

impl StoredObject {
    pub fn new(
        id: impl Into<Id>,
        created_at: i64,
        updated_at: i64,
        fields: &Map<String, Value>,
    ) -> StoredObject {
        StoredObject {
            id: id.into(),
            created_at,
            updated_at,
            fields: Packed::from_map(fields),
        }
    }

    /// A field by name, built-ins included (`objectId`, `createdAt`, `updatedAt` as the
    /// strings the wire shows).
    pub fn get(&self, key: &str) -> Option<Value> {
        match key {
            "objectId" => Some(Value::String(self.id.to_string())),
            "createdAt" => Some(Value::String(leancloud::value::format_date(
                self.created_at,
            ))),
            "updatedAt" => Some(Value::String(leancloud::value::format_date(
                self.updated_at,
            ))),
            _ => self.field(key),
        }
    }

    /// A stored field as JSON.
    pub fn field(&self, key: &str) -> Option<Value> {
        self.fields.object().get(key).map(Val::to_json)
    }

    /// A stored field, read in place.
    pub fn val(&self, key: &str) -> Option<Val<'_>> {
        self.fields.object().get(key)
    }

    /// The stored fields as JSON.
    pub fn to_map(&self) -> Map<String, Value> {
        self.fields.to_map()
    }

    /// The same object with other fields.
    pub fn with_fields(&self, fields: &Map<String, Value>) -> StoredObject {
        StoredObject {
            id: self.id.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            fields: Packed::from_map(fields),
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
    /// Other indexes (`indexes.json`), each a list of keys. Each key is indexed on its own
    /// (see [`Rows`]); the list is kept as given.
    pub indexes: Vec<Vec<String>>,
}

/// One class: its objects in id order (ids are time-based, so this is creation order)
/// with their indexes, its columns and its settings.
#[derive(Debug, Clone, Default)]
pub struct ClassData {
    /// Read here; written through [`ClassData::insert`] and [`ClassData::remove`], which
    /// keep the indexes in step.
    pub objects: Rows,
    pub columns: BTreeMap<String, Column>,
    pub settings: ClassSettings,
}

/// Columns a built-in class is indexed on from the start: what its own rules look up on
/// every sign-up and log-in (`users`, `roles`).
fn built_in_indexes(class: &str) -> &'static [&'static str] {
    match class {
        "_User" => &["username", "email", "mobilePhoneNumber"],
        "_Role" => &["name"],
        _ => &[],
    }
}

impl ClassData {
    /// An empty class with the settings a new class gets.
    pub fn new(name: &str) -> Self {
        let mut data = ClassData {
            settings: ClassSettings {
                permissions: crate::access::ClassPermissions::default_for(name),
                ..ClassSettings::default()
            },
            ..ClassData::default()
        };
        let built_in = built_in_indexes(name)
            .iter()
            .map(|k| rows::field_column(k))
            .collect();
        data.objects.index(built_in, Vec::new());
        data
    }

    /// Store a row (replacing the one with its id), indexes included.
    pub fn insert(&mut self, obj: StoredObject) -> Option<Arc<StoredObject>> {
        self.objects.put(obj)
    }

    /// Take a row out, indexes included.
    pub fn remove(&mut self, id: &str) -> Option<Arc<StoredObject>> {
        self.objects.take(id)
    }

    /// Every row out; the indexes stay defined.
    pub fn clear(&mut self) {
        self.objects.clear();
    }

    /// Index `keys`: a unique index enforces them together (137); any index makes each of
    /// its keys one the query planner can look rows up by. Existing rows are indexed now.
    pub fn add_index(&mut self, keys: Vec<String>, unique: bool) {
        let columns = keys.iter().map(|k| rows::field_column(k)).collect();
        let list = if unique {
            &mut self.settings.unique
        } else {
            &mut self.settings.indexes
        };
        if !list.contains(&keys) {
            list.push(keys.clone());
        }
        let unique_keys = if unique { vec![keys] } else { Vec::new() };
        self.objects.index(columns, unique_keys);
    }
}

/// Classes every app has from the start.
pub const INITIAL_CLASSES: &[&str] = &["_User", "_Role", "_File", "_Installation"];

/// Relation membership: (owner class, owner id, key) -> target ids.
pub type RelationKey = (String, String, String);

/// Everything an app holds (not its clock or ids), as persistent maps: copying it copies
/// a few pointers, whatever the size of the data, and the copy and the original share
/// everything neither has changed since.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    classes: HashMap<String, Arc<ClassData>>,
    relations: HashMap<RelationKey, OrdSet<String>>,
    sessions: HashMap<String, String>,
    passwords: HashMap<String, String>,
    login_failures: HashMap<String, Vec<i64>>,
    services: Services,
}

/// The state of the platform's services beside storage (what the app sent, codes it
/// handed out, ...). Every part is a persistent structure, so it goes with snapshots,
/// forks and resets at no cost; a new service adds its part here and nowhere else.
#[derive(Debug, Clone, Default)]
pub struct Services {
    /// Everything the app would have sent to the outside world.
    pub outbox: crate::outbox::Outbox,
    /// Leaderboards and users' statistics.
    pub leaderboards: crate::leaderboard::Leaderboards,
    /// Push records and the scheduled pushes.
    pub pushes: crate::push::Pushes,
    /// Each user's status inboxes.
    pub inboxes: crate::social::Inboxes,
    /// Files' bytes and the uploads waiting.
    pub files: crate::files::Files,
    /// SMS codes, email link tokens and captchas handed out and not yet used, with the
    /// per-number send counts their rate limits read.
    pub verification: crate::verification::Verification,
}

impl Services {
    /// The parts the durable store keeps, each as one JSON document (files' bytes are
    /// kept apart, file by file: see [`crate::files::Files::blob_changes_since`]).
    pub const PARTS: [&'static str; 6] = [
        "outbox",
        "leaderboards",
        "pushes",
        "inboxes",
        "uploads",
        "verification",
    ];

    /// Whether `other` holds the very same state (copies that share every map).
    pub fn same(&self, other: &Services) -> bool {
        self.files.same_blobs(&other.files) && self.sameness(other).iter().all(|same| *same)
    }

    /// For each of [`Services::PARTS`], whether it is the very same as `old`'s.
    fn sameness(&self, old: &Services) -> [bool; 6] {
        [
            self.outbox.same(&old.outbox),
            self.leaderboards.same(&old.leaderboards),
            self.pushes.same(&old.pushes),
            self.inboxes.same(&old.inboxes),
            self.files.same_pending(&old.files),
            self.verification.same(&old.verification),
        ]
    }

    /// The parts of [`Services::PARTS`] that differ from `old`.
    pub fn changed_parts(&self, old: &Services) -> Vec<&'static str> {
        Self::PARTS
            .into_iter()
            .zip(self.sameness(old))
            .filter(|(_, same)| !same)
            .map(|(name, _)| name)
            .collect()
    }

    /// One part as JSON (`None` for a name not in [`Services::PARTS`]).
    pub fn part_json(&self, name: &str) -> Option<serde_json::Value> {
        let value = match name {
            "outbox" => serde_json::to_value(&self.outbox),
            "leaderboards" => serde_json::to_value(&self.leaderboards),
            "pushes" => serde_json::to_value(&self.pushes),
            "inboxes" => serde_json::to_value(&self.inboxes),
            "uploads" => serde_json::to_value(self.files.pending_uploads()),
            "verification" => serde_json::to_value(&self.verification),
            _ => return None,
        };
        // Every part is plain data with string or list keys: this cannot fail.
        value.ok()
    }

    /// Put back a part that [`Services::part_json`] wrote.
    pub fn restore_part(&mut self, name: &str, value: serde_json::Value) -> Result<(), String> {
        fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
            serde_json::from_value(value).map_err(|e| e.to_string())
        }
        match name {
            "outbox" => self.outbox = parse(value)?,
            "leaderboards" => self.leaderboards = parse(value)?,
            "pushes" => self.pushes = parse(value)?,
            "inboxes" => self.inboxes = parse(value)?,
            "uploads" => self.files.set_pending_uploads(parse(value)?),
            "verification" => self.verification = parse(value)?,
            other => return Err(format!("unknown part of the services' state: {other}")),
        }
        Ok(())
    }
}

/// One app's storage.
pub struct Store {
    pub classes: HashMap<String, Arc<ClassData>>,
    pub relations: HashMap<RelationKey, OrdSet<String>>,
    /// Session token -> user objectId.
    pub sessions: HashMap<String, String>,
    /// User objectId -> password hash. Never in the user's fields, so never rendered.
    pub passwords: HashMap<String, String>,
    /// User objectId -> times (ms) of recent failed log-ins, for the lockout (219).
    pub login_failures: HashMap<String, Vec<i64>>,
    /// The services beside storage: the outbox, ...
    pub services: Services,
    /// The cost of new password hashes (cheap by default: see `PasswordHashing`).
    pub hashing: crate::users::PasswordHashing,
    /// The app's clock: read every time from it (`store.clock.now_ms()`); tests move it
    /// (see [`crate::clock`]). Not part of what a snapshot holds.
    pub clock: Arc<AppClock>,
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
            services: Services::default(),
            hashing: crate::users::PasswordHashing::default(),
            clock: Arc::new(AppClock::new(clock)),
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
        self.services = Services::default();
        for class in INITIAL_CLASSES {
            self.classes
                .insert(class.to_string(), Arc::new(ClassData::new(class)));
        }
    }

    pub fn class(&self, name: &str) -> Option<&ClassData> {
        self.classes.get(name).map(Arc::as_ref)
    }

    pub fn object(&self, class: &str, id: &str) -> Option<&StoredObject> {
        self.classes.get(class)?.objects.get(id)
    }

    /// Target ids of a relation field, empty when none.
    pub fn relation_targets(&self, class: &str, id: &str, key: &str) -> Option<&OrdSet<String>> {
        self.relations
            .get(&(class.to_string(), id.to_string(), key.to_string()))
    }

    /// Everything the app holds now. Constant time, whatever the size of the data.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            classes: self.classes.clone(),
            relations: self.relations.clone(),
            sessions: self.sessions.clone(),
            passwords: self.passwords.clone(),
            login_failures: self.login_failures.clone(),
            services: self.services.clone(),
        }
    }

    /// Put back what a snapshot held (keeps clock and ids). Constant time.
    pub fn restore(&mut self, snapshot: &Snapshot) {
        let s = snapshot.clone();
        self.classes = s.classes;
        self.relations = s.relations;
        self.sessions = s.sessions;
        self.passwords = s.passwords;
        self.login_failures = s.login_failures;
        self.services = s.services;
    }

    /// A new, independent app holding what this one holds now: the same data (shared
    /// until either changes it) and password cost, a clock showing the same time (moved
    /// apart from then on), and ids of its own.
    /// Constant time, whatever the size of the data.
    pub fn fork(&self) -> Store {
        let mut store = Store {
            classes: HashMap::new(),
            relations: HashMap::new(),
            sessions: HashMap::new(),
            passwords: HashMap::new(),
            login_failures: HashMap::new(),
            services: Services::default(),
            hashing: self.hashing,
            clock: Arc::new(self.clock.fork()),
            ids: self.ids.fork(),
        };
        store.restore(&self.snapshot());
        store
    }

    /// The class, created with a new class's settings if it does not exist yet. A class
    /// shared with a snapshot or a fork is copied first (its rows and indexes are
    /// persistent maps, so that copies a few pointers).
    pub fn class_mut(&mut self, name: &str) -> &mut ClassData {
        let data = self
            .classes
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(ClassData::new(name)));
        Arc::make_mut(data)
    }

    /// Store a row in `class` (replacing the one with its id), the class coming into
    /// being if need be. Checks nothing: for seeding and tests.
    pub fn insert_object(&mut self, class: &str, obj: StoredObject) {
        self.class_mut(class).insert(obj);
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
