//! `lc-mock serve --data DIR`: every acknowledged write kept on disk, in an embedded
//! SQLite database (`DIR/lc-mock.sqlite`).
//!
//! The in-memory store stays what it is (rows, indexes, query engine); the database only
//! keeps a copy. After each request, [`Durable::persist`] compares the store with the
//! last snapshot it wrote (pointer comparisons: see [`lc_model::store::changes`]) and
//! writes what differs in one transaction, before the answer goes out. Over HTTP the
//! requests share commits ([`Durable::persist_grouped`]): one transaction acknowledges
//! every write that waited on it. A restart rebuilds the store from the database
//! ([`Durable::load`]).
//!
//! The database runs in WAL mode with `synchronous=NORMAL`: a commit is in the operating
//! system's hands when it returns, so the process dying (`kill -9`, a crash, an abort)
//! loses nothing acknowledged. A power cut or a kernel crash may lose the last commits
//! (SQLite's own documentation on WAL and `synchronous`); `synchronous=FULL` would
//! cover that too, at the cost of a disk flush per commit.
//!
//! Kept: classes (columns, indexes, permissions, default ACL), rows, relations,
//! sessions, password hashes, files' bytes (one row per file), and the services' state:
//! the outbox, leaderboards, pushes, status inboxes, uploads waiting, and the codes and
//! tokens handed out (each part one JSON document, rewritten whole when it changes).
//! Not kept: failed log-in counts (a lockout lasts minutes), the request traces.

use lc_model::Store;
use lc_model::settings::{self, ClassSpec};
use lc_model::store::changes::Change;
use lc_model::store::{Snapshot, StoredObject};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The database file inside the `--data` folder.
pub const DATA_FILE: &str = "lc-mock.sqlite";

/// How long a write waits for the database when another process holds it, in ms
/// (there is one writer, the server itself, so this only matters for a second process
/// opening the same folder by mistake).
pub const DURABLE_BUSY_TIMEOUT_MS: u64 = 5_000;

/// WAL pages ([`DURABLE_PAGE_BYTES`] each) written before SQLite copies them into the
/// database file: a checkpoint flushes to disk, so fewer, larger ones cost less per write
/// than SQLite's default of 1,000; the WAL file grows to about 10 MiB between them.
pub const DURABLE_CHECKPOINT_PAGES: i64 = 10_000;

/// SQLite's page size for a new database (an existing one keeps its own). Each commit
/// writes the pages it changed to the WAL whole, and a write changes a page or two.
pub const DURABLE_PAGE_BYTES: i64 = 1024;

/// The schema version this build writes; a database of another version is refused.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS classes (class TEXT PRIMARY KEY, settings TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    class TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, fields TEXT NOT NULL,
    PRIMARY KEY (class, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS relations (
    class TEXT NOT NULL, id TEXT NOT NULL, key TEXT NOT NULL, targets TEXT NOT NULL,
    PRIMARY KEY (class, id, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, user TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS passwords (user TEXT PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS services (part TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    key TEXT PRIMARY KEY, content_type TEXT NOT NULL, bytes BLOB NOT NULL) WITHOUT ROWID;
";

/// An app's database and the last state written to it.
pub struct Durable {
    path: PathBuf,
    state: Mutex<State>,
    /// What the database holds, as a snapshot of the store; changed only with `state`
    /// held, after a commit. Read apart so that a request that changed nothing (a read)
    /// finds so without waiting for another request's commit.
    written: std::sync::RwLock<Snapshot>,
    /// Group commit (see [`Durable::persist_grouped`]): requests waiting for their
    /// changes to be written, and whether one of them is writing.
    group: Mutex<Group>,
    /// How far the writes have got, for the requests that wait on them.
    progress: tokio::sync::watch::Sender<Progress>,
}

#[derive(Debug, Default)]
struct Group {
    /// The last ticket handed to a request waiting for its change to be written.
    wanted: u64,
    /// A request is writing for the group.
    leading: bool,
}

/// What the group commit has written: every ticket up to `done`; `failed` names the
/// last ticket a failed write covered, and why.
#[derive(Debug, Clone, Default)]
struct Progress {
    done: u64,
    failed: Option<(u64, String)>,
}

struct State {
    conn: Connection,
    /// Whether the database has its version row (written with the first change).
    versioned: bool,
}

impl std::fmt::Debug for Durable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Durable").field("path", &self.path).finish()
    }
}

fn db_err(path: &Path) -> impl Fn(rusqlite::Error) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

impl Durable {
    /// Open (or create) the database in `dir`, creating the folder if need be.
    pub fn open(dir: &Path) -> Result<Durable, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(DATA_FILE);
        let err = db_err(&path);
        let conn = Connection::open(&path).map_err(&err)?;
        conn.busy_timeout(std::time::Duration::from_millis(DURABLE_BUSY_TIMEOUT_MS))
            .map_err(&err)?;
        conn.pragma_update(None, "page_size", DURABLE_PAGE_BYTES)
            .map_err(&err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(&err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(&err)?;
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
            .map_err(&err)?;
        conn.pragma_update(None, "wal_autocheckpoint", DURABLE_CHECKPOINT_PAGES)
            .map_err(&err)?;
        conn.execute_batch(SCHEMA).map_err(&err)?;
        let version: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'version'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(&err)?;
        match &version {
            None => {}
            Some(v) if *v == SCHEMA_VERSION.to_string() => {}
            Some(v) => {
                return Err(format!(
                    "{}: written by another version of lc-mock (schema {v}, this one reads {SCHEMA_VERSION})",
                    path.display()
                ));
            }
        }
        Ok(Durable {
            state: Mutex::new(State {
                conn,
                versioned: version.is_some(),
            }),
            written: std::sync::RwLock::new(Snapshot::default()),
            group: Mutex::new(Group::default()),
            progress: tokio::sync::watch::Sender::new(Progress::default()),
            path: path.clone(),
        })
    }

    /// Whether the database holds an app yet (it does once anything was written).
    pub fn is_new(&self) -> Result<bool, String> {
        let state = self.lock();
        let found: Option<String> = state
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'version'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db_err(&self.path))?;
        Ok(found.is_none())
    }

    /// Whether the database answers (a health check; cheap whatever its size).
    pub fn check(&self) -> Result<(), String> {
        let state = self.lock();
        state
            .conn
            .query_row("SELECT count(*) FROM meta", [], |r| r.get::<_, i64>(0))
            .map(|_| ())
            .map_err(db_err(&self.path))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replace what `store` holds by what the database holds; returns the number of
    /// rows read. The database counts as written up to this state.
    pub fn load(&self, store: &mut Store) -> Result<usize, String> {
        let state = self.lock();
        let err = db_err(&self.path);
        store.reset();
        let mut specs = Vec::new();
        {
            let mut stmt = state
                .conn
                .prepare("SELECT class, settings FROM classes ORDER BY class")
                .map_err(&err)?;
            let mut rows = stmt.query([]).map_err(&err)?;
            while let Some(row) = rows.next().map_err(&err)? {
                let class: String = row.get(0).map_err(&err)?;
                let text: String = row.get(1).map_err(&err)?;
                specs.push(
                    class_spec(&class, &text)
                        .map_err(|e| format!("{}: class {class}: {e}", self.path.display()))?,
                );
            }
        }
        settings::apply(store, &specs).map_err(|e| format!("{}: {e:?}", self.path.display()))?;
        let mut count = 0;
        {
            let mut stmt = state
                .conn
                .prepare("SELECT class, id, created_at, updated_at, fields FROM objects")
                .map_err(&err)?;
            let mut rows = stmt.query([]).map_err(&err)?;
            while let Some(row) = rows.next().map_err(&err)? {
                let class: String = row.get(0).map_err(&err)?;
                let id: String = row.get(1).map_err(&err)?;
                let fields: String = row.get(4).map_err(&err)?;
                let fields: Map<String, Value> = serde_json::from_str(&fields)
                    .map_err(|e| format!("{}: {class}/{id}: {e}", self.path.display()))?;
                let obj = StoredObject::new(
                    id,
                    row.get(2).map_err(&err)?,
                    row.get(3).map_err(&err)?,
                    &fields,
                );
                store.insert_object(&class, obj);
                count += 1;
            }
        }
        {
            let mut stmt = state
                .conn
                .prepare("SELECT class, id, key, targets FROM relations")
                .map_err(&err)?;
            let mut rows = stmt.query([]).map_err(&err)?;
            while let Some(row) = rows.next().map_err(&err)? {
                let key = (
                    row.get(0).map_err(&err)?,
                    row.get(1).map_err(&err)?,
                    row.get(2).map_err(&err)?,
                );
                let targets: String = row.get(3).map_err(&err)?;
                let targets: Vec<String> = serde_json::from_str(&targets)
                    .map_err(|e| format!("{}: relation: {e}", self.path.display()))?;
                store.relations.insert(key, targets.into_iter().collect());
            }
        }
        for (table, map) in [
            ("SELECT token, user FROM sessions", &mut store.sessions),
            ("SELECT user, hash FROM passwords", &mut store.passwords),
        ] {
            let mut stmt = state.conn.prepare(table).map_err(&err)?;
            let mut rows = stmt.query([]).map_err(&err)?;
            while let Some(row) = rows.next().map_err(&err)? {
                map.insert(row.get(0).map_err(&err)?, row.get(1).map_err(&err)?);
            }
        }
        {
            let mut stmt = state
                .conn
                .prepare("SELECT part, state FROM services")
                .map_err(&err)?;
            let mut rows = stmt.query([]).map_err(&err)?;
            while let Some(row) = rows.next().map_err(&err)? {
                let part: String = row.get(0).map_err(&err)?;
                let text: String = row.get(1).map_err(&err)?;
                let value: Value = serde_json::from_str(&text)
                    .map_err(|e| format!("{}: {part}: {e}", self.path.display()))?;
                store
                    .services
                    .restore_part(&part, value)
                    .map_err(|e| format!("{}: {part}: {e}", self.path.display()))?;
            }
        }
        {
            use lc_model::files::BlobStore;
            let mut stmt = state
                .conn
                .prepare("SELECT key, content_type, bytes FROM files")
                .map_err(&err)?;
            let mut rows = stmt.query([]).map_err(&err)?;
            while let Some(row) = rows.next().map_err(&err)? {
                let key: String = row.get(0).map_err(&err)?;
                let content_type: String = row.get(1).map_err(&err)?;
                let bytes: Vec<u8> = row.get(2).map_err(&err)?;
                store.services.files.put(&key, bytes, &content_type);
            }
        }
        *self.written.write().unwrap_or_else(|e| e.into_inner()) = store.snapshot();
        Ok(count)
    }

    /// Write what changed in `store` since the last write, in one transaction. Callers
    /// hold no lock on the store; this takes it shared for a pointer copy only, so reads
    /// and writes go on while the database writes. Requests that end at the same time
    /// share a commit: the second finds its change already written.
    pub fn persist(&self, store: &std::sync::RwLock<Store>) -> Result<(), String> {
        let current = || store.read().unwrap_or_else(|e| e.into_inner()).snapshot();
        let written = || self.written.read().unwrap_or_else(|e| e.into_inner());
        if current().same_data(&written()) {
            return Ok(());
        }
        let mut state = self.lock();
        let now = current();
        let before = written().clone();
        let changes = now.changes_since(&before);
        if !changes.is_empty() {
            let first = !state.versioned;
            write(&mut state.conn, first, &changes).map_err(db_err(&self.path))?;
            state.versioned = true;
        }
        drop(changes);
        *self.written.write().unwrap_or_else(|e| e.into_inner()) = now;
        Ok(())
    }
}

impl Durable {
    /// [`Durable::persist`] for a server that answers many requests at once: the
    /// request takes a ticket and waits, without holding its thread, until a write
    /// covers it. The first waiter that finds nobody writing writes everything the
    /// store changed so far, for itself and every request that took a ticket before
    /// it began; the others are answered when it is done. While one request writes,
    /// the others go on being answered, so that one commit acknowledges many writes.
    pub async fn persist_grouped(&self, store: &std::sync::RwLock<Store>) -> Result<(), String> {
        {
            let current = store.read().unwrap_or_else(|e| e.into_inner()).snapshot();
            if current.same_data(&self.written.read().unwrap_or_else(|e| e.into_inner())) {
                return Ok(());
            }
        }
        let mut progress = self.progress.subscribe();
        let ticket = {
            let mut group = self.group_lock();
            group.wanted += 1;
            group.wanted
        };
        loop {
            {
                let now = progress.borrow_and_update();
                if now.done >= ticket {
                    return Ok(());
                }
                if let Some((failed, why)) = &now.failed
                    && *failed >= ticket
                {
                    return Err(why.clone());
                }
            }
            let leading = {
                let mut group = self.group_lock();
                if group.leading {
                    None
                } else {
                    group.leading = true;
                    Some(Leading {
                        durable: self,
                        outcome: None,
                    })
                }
            };
            match leading {
                Some(mut leading) => {
                    // Let the requests already under way on this thread take their
                    // tickets first, so that this write covers them too.
                    tokio::task::yield_now().await;
                    let covered = self.group_lock().wanted;
                    // Every ticket up to `covered` was taken after its change was made,
                    // so the snapshot `persist` takes holds them all.
                    leading.outcome = Some((covered, self.persist(store)));
                    // Dropping `leading` hands leadership back and tells the waiters.
                }
                None => {
                    if progress.changed().await.is_err() {
                        return Err("the database was closed".into());
                    }
                }
            }
        }
    }

    fn group_lock(&self) -> std::sync::MutexGuard<'_, Group> {
        self.group.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Leadership of a group write. Dropping it hands leadership back and then tells the
/// waiters what was written: whoever is woken finds nobody writing and leads the next
/// write itself. A leader dropped before it wrote (its request's future dropped while it
/// let the others take their tickets) tells them nothing new, and they wake and lead.
struct Leading<'a> {
    durable: &'a Durable,
    /// The last ticket the write covered, and how it went.
    outcome: Option<(u64, Result<(), String>)>,
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        self.durable.group_lock().leading = false;
        let outcome = self.outcome.take();
        self.durable.progress.send_modify(|p| match outcome {
            Some((covered, Ok(()))) => p.done = p.done.max(covered),
            Some((covered, Err(e))) => p.failed = Some((covered, e)),
            None => {}
        });
    }
}

/// A class's settings as the database keeps them: its settings files in one object.
fn class_settings(data: &lc_model::store::ClassData) -> String {
    let files = crate::export::class_files(data);
    let mut out = Map::new();
    for (name, value) in [
        ("schema", files.schema),
        ("indexes", files.indexes),
        ("permissions", files.permissions),
    ] {
        if let Some(v) = value {
            out.insert(name.into(), v);
        }
    }
    Value::Object(out).to_string()
}

fn class_spec(class: &str, text: &str) -> Result<ClassSpec, String> {
    let value: Map<String, Value> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let files = settings::ClassFiles {
        schema: value.get("schema").cloned(),
        indexes: value.get("indexes").cloned(),
        permissions: value.get("permissions").cloned(),
        population: None,
    };
    ClassSpec::parse(class, &files).map_err(|e| format!("{e:?}"))
}

fn write(conn: &mut Connection, version: bool, changes: &[Change<'_>]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    if version {
        tx.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('version', ?1)",
            params![SCHEMA_VERSION.to_string()],
        )?;
    }
    for change in changes {
        match change {
            Change::Class(name, data) => {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO classes (class, settings) VALUES (?1, ?2)",
                )?
                .execute(params![name, class_settings(data)])?;
            }
            Change::ClassGone(name) => {
                tx.execute("DELETE FROM classes WHERE class = ?1", params![name])?;
                tx.execute("DELETE FROM objects WHERE class = ?1", params![name])?;
                tx.execute("DELETE FROM relations WHERE class = ?1", params![name])?;
            }
            Change::Row(class, id, Some(row)) => {
                let fields = Value::Object(row.to_map()).to_string();
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO objects (class, id, created_at, updated_at, fields) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    class,
                    id.as_str(),
                    row.created_at,
                    row.updated_at,
                    fields
                ])?;
            }
            Change::Row(class, id, None) => {
                tx.prepare_cached("DELETE FROM objects WHERE class = ?1 AND id = ?2")?
                    .execute(params![class, id.as_str()])?;
            }
            Change::Relation((class, id, key), targets) => match targets {
                Some(targets) => {
                    let list: Vec<&String> = targets.iter().collect();
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO relations (class, id, key, targets) \
                         VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![
                        class,
                        id,
                        key,
                        serde_json::json!(list).to_string()
                    ])?;
                }
                None => {
                    tx.prepare_cached(
                        "DELETE FROM relations WHERE class = ?1 AND id = ?2 AND key = ?3",
                    )?
                    .execute(params![class, id, key])?;
                }
            },
            Change::Session(token, user) => match user {
                Some(user) => {
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO sessions (token, user) VALUES (?1, ?2)",
                    )?
                    .execute(params![token, user])?;
                }
                None => {
                    tx.prepare_cached("DELETE FROM sessions WHERE token = ?1")?
                        .execute(params![token])?;
                }
            },
            Change::Password(user, hash) => match hash {
                Some(hash) => {
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO passwords (user, hash) VALUES (?1, ?2)",
                    )?
                    .execute(params![user, hash])?;
                }
                None => {
                    tx.prepare_cached("DELETE FROM passwords WHERE user = ?1")?
                        .execute(params![user])?;
                }
            },
            Change::Service(part, services) => {
                let state = services.part_json(part).unwrap_or(Value::Null).to_string();
                tx.prepare_cached("INSERT OR REPLACE INTO services (part, state) VALUES (?1, ?2)")?
                    .execute(params![part, state])?;
            }
            Change::Blob(key, Some(blob)) => {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO files (key, content_type, bytes) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![key, blob.content_type, blob.bytes])?;
            }
            Change::Blob(key, None) => {
                tx.prepare_cached("DELETE FROM files WHERE key = ?1")?
                    .execute(params![key])?;
            }
        }
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::RwLock;

    fn row(store: &RwLock<Store>, id: &str) {
        let fields: Map<String, Value> =
            serde_json::from_value(serde_json::json!({"n": 1})).expect("an object");
        let obj = StoredObject::new(id.to_string(), 1, 1, &fields);
        store
            .write()
            .expect("the store's lock")
            .insert_object("Note", obj);
    }

    /// A request whose future is dropped while it leads a group write (its client went
    /// away) hands leadership back: the next request's write is still written and
    /// acknowledged, and both rows are on disk.
    #[tokio::test]
    async fn a_leader_dropped_before_it_writes_does_not_stall_the_others() {
        let dir = std::env::temp_dir().join(format!("lc-mock-group-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let durable = Durable::open(&dir).expect("the database opens");
        let store = RwLock::new(Store::default());
        row(&store, "0000000000000000000000a1");
        {
            let mut first = Box::pin(durable.persist_grouped(&store));
            // It takes the lead, then lets the others take their tickets: pending.
            assert!(futures::poll!(first.as_mut()).is_pending());
            assert!(durable.group_lock().leading);
        }
        assert!(
            !durable.group_lock().leading,
            "dropping it handed the lead back"
        );
        row(&store, "0000000000000000000000a2");
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            durable.persist_grouped(&store),
        )
        .await
        .expect("the second write does not wait forever")
        .expect("the second write is written");
        let mut again = Store::default();
        assert_eq!(durable.load(&mut again).expect("it loads"), 2);
        drop(durable);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Many requests waiting at once are all acknowledged, by fewer commits than there
    /// are requests when they overlap.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiting_writes_are_all_acknowledged() {
        let dir = std::env::temp_dir().join(format!("lc-mock-group-many-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let durable = std::sync::Arc::new(Durable::open(&dir).expect("the database opens"));
        let store = std::sync::Arc::new(RwLock::new(Store::default()));
        let mut tasks = Vec::new();
        for i in 0..64 {
            let (durable, store) = (durable.clone(), store.clone());
            tasks.push(tokio::spawn(async move {
                row(&store, &format!("{i:024x}"));
                durable.persist_grouped(&store).await
            }));
        }
        for task in tasks {
            task.await
                .expect("the task ends")
                .expect("its write is written");
        }
        let mut again = Store::default();
        assert_eq!(durable.load(&mut again).expect("it loads"), 64);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
