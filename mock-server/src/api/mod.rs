//! The api layer: authenticate, route, call the model, render. One routes table
//! ([`routes::ROUTES`]); handlers are thin and named after the model functions they call:
//! they parse the request, run a read or a write, and render the answer with
//! `lc_model::presentation`. Every write of an object runs through one pipeline
//! (`pipeline`: check -> before-hook -> write -> after-hook; the writes are in `writes`).
//!
//! The store sits behind a `std::sync::RwLock`. Reads (fetches, queries, previews for
//! hooks) take it shared, so they run side by side and a long query holds up no other
//! read; writes take it exclusive, so a write's checks (unique indexes included) and the
//! write itself happen with nothing in between. Handlers take it for one model call at a
//! time and never hold it across anything that waits (no `.await` happens here at all:
//! wiremock's responder is synchronous), a hook call included.

mod auth;
mod batch;
mod captcha;
mod clock;
pub mod cloud;
mod console;
mod control;
pub mod coverage;
mod cql;
mod email;
pub mod faults;
mod files;
mod health;
mod hooks;
mod leaderboard;
pub mod livequery;
mod objects;
mod pages;
mod phone;
mod pipeline;
mod push;
mod roles;
pub mod routes;
mod schemas;
mod social;
pub mod trace;
mod users;
mod writes;

use lc_model::Store;
use lc_model::limits::{MAX_SNAPSHOT_NAME_BYTES, MAX_SNAPSHOTS};
use lc_model::store::Snapshot;
use leancloud::error::code;
use leancloud::{LcError, Request, Response, Transport};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use auth::{Ctx, Privilege};

/// The largest request body the service accepts (20 MB).
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// An app's identity and keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfig {
    pub app_id: String,
    pub app_key: String,
    pub master_key: String,
    pub hook_key: String,
}

impl Default for AppConfig {
    /// The defaults `lc-mock serve` documents.
    fn default() -> Self {
        AppConfig {
            app_id: "lc-mock-app".into(),
            app_key: "lc-mock-key".into(),
            master_key: "lc-mock-master".into(),
            hook_key: "lc-mock-hook".into(),
        }
    }
}

/// One emulated LeanCloud app.
pub struct Api {
    config: AppConfig,
    store: RwLock<Store>,
    /// What the app held when it was made (settings and fixture rows), or when it was
    /// forked from another, for `reset`.
    /// What a reset returns to: how the app started, or the settings last loaded.
    initial: std::sync::RwLock<Snapshot>,
    /// Snapshots saved by name (`POST /__mock/snapshots`), at most
    /// [`lc_model::limits::MAX_SNAPSHOTS`].
    snapshots: Mutex<BTreeMap<String, Snapshot>>,
    /// The app's cloud code, once attached.
    cloud: std::sync::OnceLock<cloud::CloudCode>,
    /// What every request ran (see [`trace`]).
    traces: trace::Traces,
    /// Faults armed in the hook chain and storage (see [`faults`]).
    faults: faults::Faults,
    /// What this app saw of the app's rules (see [`coverage`]).
    coverage: Arc<coverage::Coverage>,
    /// Where every write is kept on disk (`--data`), once attached.
    durable: std::sync::OnceLock<crate::durable::Durable>,
    /// LiveQuery's subscriptions and connections (see [`livequery`]).
    live: livequery::LiveQueries,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("app_id", &self.config.app_id)
            .finish()
    }
}

/// What a handler answers: status, JSON body, extra headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<leancloud::http::Header>,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Reply {
            status: 200,
            body,
            headers: Vec::new(),
        }
    }
    pub fn created(body: Value, location: String) -> Self {
        Reply {
            status: 201,
            body,
            headers: vec![("location".into(), location.into())],
        }
    }
}

pub type HandlerResult = Result<Reply, LcError>;

impl Api {
    pub fn new(config: AppConfig) -> Self {
        Api::with_store(config, Store::default())
    }

    /// An app over a given store (for an injected clock and id generator).
    pub fn with_store(config: AppConfig, store: Store) -> Self {
        let coverage = Arc::new(coverage::Coverage::default());
        define_classes(&coverage, &store);
        Api {
            coverage,
            config,
            initial: std::sync::RwLock::new(store.snapshot()),
            store: RwLock::new(store),
            snapshots: Mutex::default(),
            cloud: std::sync::OnceLock::new(),
            traces: trace::Traces::default(),
            faults: faults::Faults::default(),
            durable: std::sync::OnceLock::new(),
            live: livequery::LiveQueries::default(),
        }
    }

    /// A new, independent app with this one's keys and everything it holds now: a fork.
    /// Its data is shared with this app until either writes (a write copies only the
    /// path to what it changes), so forking costs the same whatever the data's size.
    /// The fork has its own ids, no cloud code (attach it), no traces and no named
    /// snapshots; its `reset` returns it to what it held when it was forked.
    ///
    /// A suite loads large database settings once ([`crate::settings::shared_app`]) and
    /// gives each test a fork.
    pub fn fork(&self) -> Api {
        let store = self.read_store().fork();
        let coverage = Arc::new(coverage::Coverage::default());
        define_classes(&coverage, &store);
        Api {
            coverage,
            config: self.config.clone(),
            initial: std::sync::RwLock::new(store.snapshot()),
            store: RwLock::new(store),
            snapshots: Mutex::default(),
            cloud: std::sync::OnceLock::new(),
            traces: trace::Traces::default(),
            faults: faults::Faults::default(),
            durable: std::sync::OnceLock::new(),
            live: livequery::LiveQueries::default(),
        }
    }

    /// Everything the app holds now (constant time), for [`Api::restore`].
    pub fn snapshot(&self) -> Snapshot {
        self.read_store().snapshot()
    }

    /// Return the app to a snapshot (constant time).
    pub fn restore(&self, snapshot: &Snapshot) {
        self.store_quietly().restore(snapshot);
    }

    /// Keep what the app holds now under `name` (replacing a snapshot of that name):
    /// `POST /__mock/snapshots`. A name is 1 to [`MAX_SNAPSHOT_NAME_BYTES`] bytes; an
    /// app keeps [`MAX_SNAPSHOTS`] names at most.
    pub fn save_snapshot(&self, name: &str) -> Result<(), LcError> {
        if name.is_empty() || name.len() > MAX_SNAPSHOT_NAME_BYTES {
            return Err(LcError::invalid_json_detail(format!(
                "a snapshot name is 1 to {MAX_SNAPSHOT_NAME_BYTES} bytes"
            )));
        }
        let snapshot = self.snapshot();
        let mut kept = self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
        if !kept.contains_key(name) && kept.len() >= MAX_SNAPSHOTS {
            return Err(LcError::generic(format!(
                "The app keeps {MAX_SNAPSHOTS} snapshots at most; reuse a name."
            )));
        }
        kept.insert(name.to_string(), snapshot);
        Ok(())
    }

    /// Return the app to the snapshot saved as `name`:
    /// `POST /__mock/snapshots/<name>/restore`. An unknown name is 404 with code 101,
    /// the service's answer for a thing that does not exist (its "object not found").
    pub fn restore_snapshot(&self, name: &str) -> Result<(), LcError> {
        let snapshot = self
            .snapshots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| {
                LcError::new(
                    404,
                    code::OBJECT_NOT_FOUND,
                    format!("Could not find the snapshot '{name}'."),
                )
            })?;
        self.restore(&snapshot);
        Ok(())
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    /// Attach the app's cloud code (once): a remote engine its functions and hooks are
    /// sent to, with the platform's hook timeouts. Its hook list is asked for again now
    /// and then, since a remote engine may be redeployed.
    pub fn attach_cloud(&self, engine: Arc<dyn Transport>) -> Result<(), LcError> {
        self.attach(engine, cloud::HookTimeouts::default(), false)
    }

    /// [`Api::attach_cloud`] with other hook timeouts.
    pub fn attach_cloud_with(
        &self,
        engine: Arc<dyn Transport>,
        timeouts: cloud::HookTimeouts,
    ) -> Result<(), LcError> {
        self.attach(engine, timeouts, false)
    }

    /// [`Api::attach_cloud_with`], waiting `function_wait` for a cloud function's answer
    /// instead of [`cloud::CLOUD_WAIT`] (tests of an engine that never answers).
    pub fn attach_cloud_waiting(
        &self,
        engine: Arc<dyn Transport>,
        timeouts: cloud::HookTimeouts,
        function_wait: std::time::Duration,
    ) -> Result<(), LcError> {
        self.attach_waiting(engine, timeouts, false, function_wait)
    }

    fn attach(
        &self,
        engine: Arc<dyn Transport>,
        timeouts: cloud::HookTimeouts,
        fixed: bool,
    ) -> Result<(), LcError> {
        self.attach_waiting(engine, timeouts, fixed, cloud::CLOUD_WAIT)
    }

    fn attach_waiting(
        &self,
        engine: Arc<dyn Transport>,
        timeouts: cloud::HookTimeouts,
        fixed: bool,
        function_wait: std::time::Duration,
    ) -> Result<(), LcError> {
        let code = cloud::CloudCode::new(engine, &self.config, function_wait)
            .map_err(|e| LcError::generic(format!("Cannot start the cloud-code runtime: {e}.")))?
            .with_timeouts(timeouts);
        let code = if fixed { code.discovering_once() } else { code };
        self.cloud
            .set(code)
            .map_err(|_| LcError::generic("The app already has its cloud code."))?;
        // Learn the hooks now, so that the first write does not wait for it.
        if let Some(names) = self.cloud().and_then(cloud::CloudCode::hook_names) {
            let names = names.iter().cloned().collect();
            self.count(|c| c.define_cloud(&names));
        }
        Ok(())
    }

    /// Attach `registry` as the app's cloud code, run in-process: its storage calls come
    /// back to this app without a socket.
    pub fn attach_registry(
        self: &Arc<Self>,
        registry: leancloud::cloud::Registry,
    ) -> Result<(), LcError> {
        self.attach_registry_with(registry, cloud::HookTimeouts::default())
    }

    /// [`Api::attach_registry`] with other hook timeouts.
    pub fn attach_registry_with(
        self: &Arc<Self>,
        registry: leancloud::cloud::Registry,
        timeouts: cloud::HookTimeouts,
    ) -> Result<(), LcError> {
        let cfg = &self.config;
        let engine_config = leancloud::engine::EngineConfig::new(
            cfg.app_id.clone(),
            cfg.app_key.clone(),
            cfg.master_key.clone(),
        )
        .with_hook_key(cfg.hook_key.clone())
        .with_storage_transport(Arc::new(cloud::WeakInProcess(Arc::downgrade(self))));
        let engine = leancloud::engine::Engine::new(registry, engine_config);
        self.attach(Arc::new(engine), timeouts, true)
    }

    /// Wait until every after-hook has finished, and everything they caused (their
    /// writes' own hooks). Returns at once without cloud code.
    pub async fn idle(&self) {
        if let Some(cloud) = self.cloud() {
            cloud.idle().await;
        }
    }

    /// [`Api::idle`] for synchronous callers, giving up after `max`; whether every
    /// after-hook had finished.
    pub fn idle_blocking(&self, max: std::time::Duration) -> bool {
        self.cloud().is_none_or(|c| c.idle_blocking(max))
    }

    /// The traces of the last requests (at most [`trace::KEPT`] by default), oldest
    /// first: what each ran (hooks, their input and output or error, duration, and the
    /// requests their code made), cut and without secrets as [`trace`] describes.
    pub fn traces(&self) -> Vec<Value> {
        self.traces.to_json()
    }

    /// How much the traces keep (see [`trace::TraceLimits`]).
    pub fn trace_limits(&self) -> trace::TraceLimits {
        self.traces.limits()
    }

    /// Keep traces within `limits` from now on; the oldest are dropped at once if they
    /// no longer fit.
    pub fn set_trace_limits(&self, limits: trace::TraceLimits) {
        self.traces.set_limits(limits);
    }

    /// The bytes the kept traces take, as counted against
    /// [`trace::TraceLimits::total_bytes`].
    pub fn trace_bytes(&self) -> usize {
        self.traces.bytes()
    }

    /// Forget the traces kept so far.
    pub fn clear_traces(&self) {
        self.traces.clear();
    }

    /// What the app would have sent to the outside world (SMS, email, push, captcha),
    /// oldest first, as `filter` asks (see [`lc_model::outbox`]).
    pub fn outbox(&self, filter: &lc_model::outbox::Filter) -> Vec<Arc<lc_model::outbox::Message>> {
        self.send_due_pushes();
        self.read_store().services.outbox.list(filter)
    }

    /// The newest message `filter` asks for: the SMS code a test goes on with, say.
    pub fn last_message(
        &self,
        filter: &lc_model::outbox::Filter,
    ) -> Option<Arc<lc_model::outbox::Message>> {
        self.send_due_pushes();
        self.read_store().services.outbox.last(filter)
    }

    /// Keep a message the app would have sent on `channel`, stamped with the app's clock.
    /// Every flow that reaches the outside world (SMS, email, push, captcha) goes through
    /// here, so tests, Gherkin steps and the console read one place.
    pub fn send_message(
        &self,
        channel: lc_model::outbox::Channel,
        draft: lc_model::outbox::Draft,
    ) -> Arc<lc_model::outbox::Message> {
        let mut store = self.store();
        let now = store.clock.now_ms();
        store.services.outbox.send(channel, draft, now)
    }

    /// Send the scheduled pushes whose time has come on the app's clock, so that a
    /// reader of the outbox sees them.
    fn send_due_pushes(&self) {
        let mut store = self.store();
        let now = store.clock.now_ms();
        lc_model::push::send_due(&mut store, now);
    }

    /// Forget what the outbox holds (a reset does too).
    pub fn clear_outbox(&self) {
        self.store().services.outbox.clear();
    }

    /// The app's cloud code, if any is attached.
    pub fn cloud(&self) -> Option<&cloud::CloudCode> {
        self.cloud.get()
    }

    /// The store for writing (and for seeding and inspection in tests): no one else reads
    /// or writes while the guard lives. A panic while it was held (which would be a bug)
    /// does not make it unusable: the data is still consistent, since every write
    /// validates before it changes anything.
    ///
    /// Whatever the holder changes is a write LiveQuery hears of when the guard is
    /// released (see [`StoreGuard`]).
    pub fn store(&self) -> StoreGuard<'_> {
        let store = self.store.write().unwrap_or_else(|e| e.into_inner());
        let watch = self.live.watch(&store);
        StoreGuard { store, watch }
    }

    /// The store for writing, without LiveQuery hearing of it: what a reset, a restore
    /// or a load puts back is not a write of the app.
    fn store_quietly(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|e| e.into_inner())
    }

    /// LiveQuery's subscriptions and connections.
    pub fn live(&self) -> &livequery::LiveQueries {
        &self.live
    }

    /// The store for reading: other reads go on meanwhile, writes wait.
    pub fn read_store(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Return the app to how it started: the classes, settings and rows it was made
    /// with (an empty app for [`Api::new`]), its clock back on real time, no fault
    /// armed.
    pub fn reset(&self) {
        let mut store = self.store_quietly();
        store.restore(&self.initial.read().unwrap_or_else(|e| e.into_inner()));
        store.clock.real();
        self.faults.clear();
    }

    /// Replace everything the app holds by a database-settings folder's classes and rows
    /// (`POST /__mock/load`); a reset then returns here. When the settings do not apply,
    /// the app stays as it was.
    pub fn load_settings(
        &self,
        settings: &crate::settings::Settings,
    ) -> Result<(), crate::settings::LoadError> {
        let mut store = self.store_quietly();
        let saved = store.snapshot();
        store.reset();
        match settings.apply_to(&mut store) {
            Ok(_) => {
                *self.initial.write().unwrap_or_else(|e| e.into_inner()) = store.snapshot();
                Ok(())
            }
            Err(e) => {
                store.restore(&saved);
                Err(e)
            }
        }
    }

    /// Arm a fault in the hook chain or storage (see [`faults`]; `POST /__mock/faults`):
    /// answers it as [`Api::faults`] lists it. A reset clears it.
    pub fn add_fault(&self, fault: faults::Fault) -> Result<Value, LcError> {
        let now = self.read_store().clock.now_ms();
        self.faults.add(fault, now)
    }

    /// The faults still armed, oldest first, each with its `id`, the calls it has
    /// `left`, the instant it holds `until` and how often it `fired`.
    pub fn faults(&self) -> Vec<Value> {
        let now = self.read_store().clock.now_ms();
        self.faults.list(now)
    }

    /// Disarm every fault.
    pub fn clear_faults(&self) {
        self.faults.clear();
    }

    /// What this app saw of the app's rules so far (see [`coverage`];
    /// `GET /__mock/coverage`), what it defines but nothing reached first.
    /// [`coverage::run`] holds the same for every app of the process.
    pub fn coverage(&self) -> coverage::Report {
        define_classes(&self.coverage, &self.read_store());
        self.coverage.report()
    }

    /// Start counting coverage again (`DELETE /__mock/coverage`); a reset does not.
    pub fn clear_coverage(&self) {
        self.coverage.clear();
    }

    /// Count into this app's coverage and the run's.
    pub(crate) fn count(&self, f: impl Fn(&coverage::Coverage)) {
        f(&self.coverage);
        f(coverage::run());
    }

    /// A handle for counting from an after-hook's task.
    pub(crate) fn coverage_handle(&self) -> Arc<coverage::Coverage> {
        self.coverage.clone()
    }

    /// The app's clock, which everything the app stamps or times reads: a test
    /// freezes, sets, advances and resumes it (see [`lc_model::clock`];
    /// `POST /__mock/clock`). A reset puts it back on real time; snapshots do not hold
    /// it (restoring one does not move time back).
    pub fn clock(&self) -> Arc<lc_model::clock::AppClock> {
        self.read_store().clock.clone()
    }

    /// Keep this app on disk from now on (`lc-mock serve --data`): a new database
    /// takes what the app holds now; one that holds an app replaces what this app holds
    /// (a reset still returns to how the app was made). Returns the rows read back.
    pub fn attach_data(&self, durable: crate::durable::Durable) -> Result<usize, String> {
        let rows = if durable.is_new()? {
            durable.persist(&self.store)?;
            0
        } else {
            durable.load(&mut self.store())?
        };
        self.durable
            .set(durable)
            .map_err(|_| "the app is already kept on disk".to_string())?;
        Ok(rows)
    }

    /// Answer one HTTP request. With `--data`, what it changed is on disk before the
    /// answer is (see [`crate::durable`]); a change that cannot be written is not
    /// acknowledged.
    pub fn handle(&self, request: &Request) -> Response {
        let response = self.answer(request);
        if let Some(durable) = self.durable.get()
            && let Err(e) = durable.persist(&self.store)
        {
            return not_written(&e);
        }
        response
    }

    /// [`Api::handle`] for a server that answers many requests at once (the standalone
    /// front): with `--data`, the request waits for its change to be on disk without
    /// holding its thread, and one commit acknowledges every write that waited on it
    /// ([`crate::durable::Durable::persist_grouped`]).
    pub async fn handle_async(&self, request: &Request) -> Response {
        let response = self.answer(request);
        if let Some(durable) = self.durable.get()
            && let Err(e) = durable.persist_grouped(&self.store).await
        {
            return not_written(&e);
        }
        response
    }

    fn answer(&self, request: &Request) -> Response {
        // Files' bytes and the uploads `fileTokens` hands out, keyless as the service's
        // file domain and its providers are (api/files.rs).
        if !request.path.starts_with("/__mock/")
            && let Some(answer) = files::serve_keyless(self, request)
        {
            return answer;
        }
        // LiveQuery's realtime router, keyless as the service's (api/livequery.rs).
        if request.path == livequery::ROUTE_PATH && request.method == "GET" {
            return livequery::route(self, request);
        }
        // The keyless pages an email or a captcha links to (i16; api/pages.rs).
        if !request.path.starts_with("/1")
            && !request.path.starts_with("/__mock/")
            && let Some(page) = pages::serve(self, request)
        {
            return page;
        }
        let node = if request.path.starts_with("/__mock/") {
            None
        } else {
            let scope = cloud::current_scope();
            Some(
                self.traces
                    .begin(request, scope.as_ref().and_then(|s| s.hook.as_ref())),
            )
        };
        let (reply, decisions) =
            lc_model::decisions::collect(|| self.dispatch(request, node.clone()));
        self.count(|c| c.decisions(&decisions));
        if node.is_some() && cloud::current_scope().is_none() {
            let code = match &reply {
                Ok(reply) if reply.status >= 400 => reply.body.get("code").and_then(Value::as_i64),
                Err(err) => Some(err.code),
                Ok(_) => None,
            };
            if let Some(code) = code {
                self.count(|c| c.error(code));
            }
        }
        if let Some(node) = node {
            node.set_raw_body(&request.body);
            match &reply {
                Ok(reply) if reply.status >= 400 => {
                    node.finish(reply.status, Some(reply.body.clone()));
                }
                Ok(reply) => node.finish(reply.status, None),
                Err(err) => node.finish(err.status, Some(err.to_json())),
            }
        }
        match reply {
            Ok(reply) => {
                let mut resp = Response::json(reply.status, &reply.body);
                resp.headers.extend(reply.headers);
                resp
            }
            Err(err) => Response::error(&err),
        }
    }

    fn dispatch(&self, request: &Request, trace: Option<trace::RequestNode>) -> HandlerResult {
        if request.body.len() > MAX_BODY_BYTES {
            return Err(LcError::payload_too_large());
        }
        let request = auth::method_override(request)?;
        let request = request.as_ref();
        let mut ctx = auth::authenticate(&self.config, request)?;
        let body = parse_body(request)?;
        // The trace shows the object the api read; any other body (none, `null`, not
        // JSON) as it came (see `RequestNode::set_raw_body`).
        let object = request.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if let (Some(trace), true) = (&trace, object) {
            trace.set_body(&body);
        }
        ctx.trace = trace;
        routes::route(self, &ctx, request, &body)
    }
}

/// Every class the app holds is a set of class operations for the coverage to reach;
/// a built-in class only once it holds rows (an app without files has no `_File` rules
/// to reach).
fn define_classes(coverage: &coverage::Coverage, store: &Store) {
    let names: Vec<&str> = store
        .classes
        .iter()
        .filter(|(name, data)| {
            !lc_model::store::INITIAL_CLASSES.contains(&name.as_str()) || !data.objects.is_empty()
        })
        .map(|(name, _)| name.as_str())
        .collect();
    coverage.define_classes(names.iter().copied());
    coverage::run().define_classes(names);
}

/// The JSON body of a request: empty and `null` bodies are an empty object; anything
/// else must be a JSON object (107).
fn parse_body(request: &Request) -> Result<Map<String, Value>, LcError> {
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        // The one route whose body is an array: a user's statistics (the handler reads
        // the array from the request itself).
        Ok(Value::Array(_)) if leaderboard::takes_array_body(&request.path) => Ok(Map::new()),
        // A direct file upload's body is the file (api/files.rs reads it from the request).
        _ if request.method == "POST"
            && request.path.starts_with("/1.1/files/")
            && request.path.len() > "/1.1/files/".len() =>
        {
            Ok(Map::new())
        }
        Ok(_) if request.method == "GET" => Ok(Map::new()),
        Ok(_) => Err(LcError::invalid_json()),
        Err(_) if request.method == "GET" => Ok(Map::new()),
        Err(_) => Err(LcError::invalid_json()),
    }
}

/// The store held for writing ([`Api::store`]). When it is released, LiveQuery hears
/// what its holder changed: every object of a subscribed class that changed since the
/// lock was taken becomes the events of the subscriptions that see it. Every write of
/// the app takes this lock (the pipeline's writes, batch items one by one, hooks' own
/// requests, the flows that write users, files and statuses directly), so every write
/// is heard, each as it ends.
pub struct StoreGuard<'a> {
    store: RwLockWriteGuard<'a, Store>,
    watch: Option<livequery::Watch<'a>>,
}

impl StoreGuard<'_> {
    /// The write just made on `class`'s object `id` was an update whose body named
    /// `keys`: the events' `updatedKeys` (otherwise the keys whose values differ).
    pub(crate) fn note_updated_keys(&mut self, class: &str, id: &str, keys: &[String]) {
        if let Some(watch) = &mut self.watch {
            watch.note_keys(class, id, keys);
        }
    }
}

impl std::ops::Deref for StoreGuard<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl std::ops::DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.store
    }
}

impl Drop for StoreGuard<'_> {
    fn drop(&mut self) {
        if let Some(watch) = self.watch.take() {
            watch.publish(&self.store);
        }
    }
}

/// Calls the api in-process: the transport of hook code and tests that want no socket.
#[derive(Debug, Clone)]
pub struct InProcess(pub Arc<Api>);

impl Transport for InProcess {
    fn send(
        &self,
        request: Request,
    ) -> futures::future::BoxFuture<'static, Result<Response, LcError>> {
        let response = self.0.handle(&request);
        Box::pin(std::future::ready(Ok(response)))
    }
}

/// The answer to a request whose change could not be written to disk (`--data`): not
/// acknowledged; the next write tries again.
fn not_written(why: &str) -> Response {
    Response::error(&LcError::new(
        500,
        code::GENERIC,
        format!("The change could not be written to disk: {why}"),
    ))
}
