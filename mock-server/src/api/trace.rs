//! Traces: for every client request, a tree of what ran. A request node lists the hooks
//! its writes fired; a hook node lists the requests the hook's code made, which list the
//! hooks *they* fired, and so on. After-hooks finish after the response, so a tree can
//! still grow after its request answered; [`super::Api::idle`] waits for that.
//!
//! Requests a hook's code makes while running in-process are filed under that hook; a
//! remote engine's calls back arrive as requests of their own (nothing in the protocol
//! says which hook made them).
//!
//! Traces are bounded in memory ([`TraceLimits`]):
//! - each request body, error, and hook input or output is cut to
//!   [`TRACE_BODY_BYTES`] of JSON: a string that does not fit ends in
//!   `…[cut: N bytes]`, an array or object that does not fit ends in an item
//!   `"[cut: N more items]"` (an object under the key `"…"`), a value nested deeper than
//!   [`MAX_TRACE_DEPTH`] is replaced by `"[cut: nested deeper than 64]"`;
//! - the app keeps the last [`KEPT`] top-level requests, and at most [`TRACE_BYTES`] in
//!   all (the JSON the traces show, plus a fixed cost per node); the oldest trees are
//!   dropped first. A tree that cannot grow within that (it is alone and full) keeps
//!   what it has and counts what it lost (`"cut": {"requests": N, "hooks": N}`).
//!
//! Traces never hold passwords or session tokens: the value of every key in
//! [`SECRET_KEYS`], at any depth of a body, error, or hook input or output, is replaced
//! by [`REDACTED`]. Headers (`X-LC-Session`) are not traced at all.

use leancloud::Request;
use serde_json::{Map, Value, json};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

/// How many top-level requests an app keeps traces of, at most.
pub const KEPT: usize = 1000;

/// How much of each request body, error, and hook input or output a trace keeps, in bytes
/// of JSON.
pub const TRACE_BODY_BYTES: usize = 16 * 1024;

/// How many bytes all of an app's traces keep together, at most: a full [`KEPT`] of
/// requests with bodies of [`TRACE_BODY_BYTES`].
pub const TRACE_BYTES: usize = 16 * 1024 * 1024;

/// How deep a traced value may nest before the rest is cut (the walk that cuts and
/// redacts is recursive).
pub const MAX_TRACE_DEPTH: usize = 64;

/// What a secret's value becomes in a trace.
pub const REDACTED: &str = "[redacted]";

/// Keys whose values are secrets: passwords (sign-up, log-in, `updatePassword`) and
/// session tokens (answers, hook inputs, a browser form's `_SessionToken`).
pub const SECRET_KEYS: [&str; 5] = [
    "password",
    "old_password",
    "new_password",
    "sessionToken",
    "_SessionToken",
];

/// What one node costs beyond its content (its structs, lock, reference counts, the slot
/// in its parent's list), counted against [`TraceLimits::total_bytes`].
const NODE_BYTES: usize = 256;

/// How much an app's traces keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceLimits {
    /// Top-level requests kept ([`KEPT`]).
    pub requests: usize,
    /// Bytes kept of each body, error, hook input or output ([`TRACE_BODY_BYTES`]).
    pub body_bytes: usize,
    /// Bytes kept in all ([`TRACE_BYTES`]).
    pub total_bytes: usize,
}

impl Default for TraceLimits {
    fn default() -> Self {
        TraceLimits {
            requests: KEPT,
            body_bytes: TRACE_BODY_BYTES,
            total_bytes: TRACE_BYTES,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---- cutting and redacting ---------------------------------------------------------------

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A walk over a value that keeps about `left` bytes of JSON of it.
struct Fit {
    left: usize,
}

impl Fit {
    fn take(&mut self, n: usize) {
        self.left = self.left.saturating_sub(n);
    }

    fn string(&mut self, s: &str) -> String {
        if s.len() + 2 <= self.left {
            self.take(s.len() + 2);
            return s.to_string();
        }
        let kept = prefix(s, self.left.saturating_sub(2));
        let marker = format!("…[cut: {} bytes]", s.len() - kept.len());
        // Built at its exact size: `format!` may keep twice the capacity it needs.
        let mut out = String::with_capacity(kept.len() + marker.len());
        out.push_str(kept);
        out.push_str(&marker);
        self.left = 0;
        out
    }

    fn value(&mut self, v: &Value, depth: usize) -> Value {
        match v {
            Value::String(s) => Value::String(self.string(s)),
            Value::Array(items) => {
                if depth >= MAX_TRACE_DEPTH {
                    return Value::String(format!("[cut: nested deeper than {MAX_TRACE_DEPTH}]"));
                }
                self.take(2);
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if self.left == 0 {
                        out.push(Value::String(format!(
                            "[cut: {} more items]",
                            items.len() - i
                        )));
                        break;
                    }
                    self.take(1);
                    out.push(self.value(item, depth + 1));
                }
                Value::Array(out)
            }
            Value::Object(map) => {
                if depth >= MAX_TRACE_DEPTH {
                    return Value::String(format!("[cut: nested deeper than {MAX_TRACE_DEPTH}]"));
                }
                Value::Object(self.object(map, depth))
            }
            scalar => {
                self.take(lc_model::limits::json_len(scalar));
                scalar.clone()
            }
        }
    }

    fn object(&mut self, map: &Map<String, Value>, depth: usize) -> Map<String, Value> {
        self.take(2);
        let mut out = Map::new();
        for (i, (key, value)) in map.iter().enumerate() {
            if self.left == 0 {
                let cut = Value::String(format!("[cut: {} more items]", map.len() - i));
                self.take(5);
                out.insert("…".into(), cut);
                break;
            }
            self.take(2);
            let kept_key = self.string(key);
            let value = if SECRET_KEYS.contains(&key.as_str()) {
                self.take(REDACTED.len() + 2);
                Value::String(REDACTED.into())
            } else {
                self.value(value, depth + 1)
            };
            out.insert(kept_key, value);
        }
        out
    }
}

impl Fit {
    /// Whether [`Fit::value`] would keep `v` as it is (nothing cut, nothing redacted),
    /// taking what it would take: the same walk without building a copy.
    fn unchanged(&mut self, v: &Value, depth: usize) -> bool {
        match v {
            Value::String(s) => self.unchanged_string(s),
            Value::Array(items) => {
                if depth >= MAX_TRACE_DEPTH {
                    return false;
                }
                self.take(2);
                items.iter().all(|item| {
                    if self.left == 0 {
                        return false;
                    }
                    self.take(1);
                    self.unchanged(item, depth + 1)
                })
            }
            Value::Object(map) => depth < MAX_TRACE_DEPTH && self.unchanged_object(map, depth),
            scalar => {
                self.take(lc_model::limits::json_len(scalar));
                true
            }
        }
    }

    fn unchanged_string(&mut self, s: &str) -> bool {
        let fits = s.len() + 2 <= self.left;
        self.take(s.len() + 2);
        fits
    }

    fn unchanged_object(&mut self, map: &Map<String, Value>, depth: usize) -> bool {
        self.take(2);
        map.iter().all(|(key, value)| {
            if self.left == 0 || SECRET_KEYS.contains(&key.as_str()) {
                return false;
            }
            self.take(2);
            self.unchanged_string(key) && self.unchanged(value, depth + 1)
        })
    }
}

/// `value` as a trace keeps it: secrets redacted, cut to about `limit` bytes of JSON
/// (markers add a few bytes).
pub fn fit(value: &Value, limit: usize) -> Value {
    Fit { left: limit }.value(value, 0)
}

fn fit_object(map: &Map<String, Value>, limit: usize) -> Value {
    Value::Object(Fit { left: limit }.object(map, 0))
}

/// A value as a trace keeps it: its JSON text, so that what is counted is what is held
/// (a parsed value takes several times its JSON's size in memory).
#[derive(Debug, Clone)]
struct Kept(Box<str>);

impl Kept {
    fn new(value: &Value) -> Kept {
        Kept(value.to_string().into_boxed_str())
    }

    /// `Kept::new(&fit(value, limit))`, without the copy when nothing is to be cut or
    /// redacted (most bodies): a request's trace is on every request's path.
    fn fitted(value: &Value, limit: usize) -> Kept {
        if (Fit { left: limit }).unchanged(value, 0) {
            Kept::new(value)
        } else {
            Kept::new(&fit(value, limit))
        }
    }

    /// [`Kept::fitted`] of an object.
    fn fitted_object(map: &Map<String, Value>, limit: usize) -> Kept {
        if (Fit { left: limit }).unchanged_object(map, 0) {
            Kept(
                serde_json::to_string(map)
                    .expect("a JSON map serialises")
                    .into_boxed_str(),
            )
        } else {
            Kept::new(&fit_object(map, limit))
        }
    }

    fn show(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

// ---- accounting ---------------------------------------------------------------------------

/// The traces of one app, shared with every node so that a node can charge what it keeps.
#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    limits: TraceLimits,
    /// The kept trees, oldest first.
    trees: VecDeque<Arc<Tree>>,
    /// Bytes kept by all of them.
    total: usize,
}

/// One top-level request's tree, for the accounting: its root, its size, and whether it
/// is still kept (a tree that is not kept takes no more bytes).
#[derive(Debug)]
struct Tree {
    root: Mutex<Option<RequestNode>>,
    /// Bytes charged to this tree; changed only under [`State`]'s lock.
    size: AtomicUsize,
    kept: AtomicBool,
    shared: Weak<Shared>,
}

impl Tree {
    /// The limits in force.
    fn limits(&self) -> TraceLimits {
        self.shared
            .upgrade()
            .map(|s| lock(&s.state).limits)
            .unwrap_or_default()
    }

    /// Take `bytes` for this tree, dropping the oldest other trees if the total would go
    /// over the limit; `false` when this tree is not kept or cannot fit them.
    fn charge(self: &Arc<Self>, bytes: usize) -> bool {
        let Some(shared) = self.shared.upgrade() else {
            return false;
        };
        let mut dropped = Vec::new();
        let charged = {
            let mut state = lock(&shared.state);
            if !self.kept.load(Ordering::Relaxed) {
                false
            } else {
                while state.total + bytes > state.limits.total_bytes {
                    match state.trees.front() {
                        Some(oldest) if !Arc::ptr_eq(oldest, self) => {
                            let oldest = state.trees.pop_front().expect("a front tree");
                            dropped.push(state.forget(oldest));
                        }
                        _ => break,
                    }
                }
                if state.total + bytes > state.limits.total_bytes {
                    false
                } else {
                    state.total += bytes;
                    self.size.fetch_add(bytes, Ordering::Relaxed);
                    true
                }
            }
        };
        // Trees are freed outside the lock: a big one takes a while.
        drop(dropped);
        charged
    }
}

/// A node's way to its tree. Weak, so that a tree's root (which holds its nodes) and
/// the nodes do not keep one another alive: a tree lives as long as the traces keep it,
/// and a node whose tree is gone (dropped, or never kept) keeps nothing more.
#[derive(Debug, Clone, Default)]
struct TreeRef(Weak<Tree>);

impl TreeRef {
    fn limits(&self) -> TraceLimits {
        self.0.upgrade().map(|t| t.limits()).unwrap_or_default()
    }

    fn charge(&self, bytes: usize) -> bool {
        self.0.upgrade().is_some_and(|t| t.charge(bytes))
    }

    fn kept(&self) -> bool {
        self.0
            .upgrade()
            .is_some_and(|t| t.kept.load(Ordering::Relaxed))
    }
}

impl State {
    /// Stop keeping `tree`; its root, to drop once the lock is released.
    fn forget(&mut self, tree: Arc<Tree>) -> Option<RequestNode> {
        self.total -= tree.size.swap(0, Ordering::Relaxed);
        tree.kept.store(false, Ordering::Relaxed);
        lock(&tree.root).take()
    }

    /// The oldest tree taken out, when the limits do not hold: its root, to be dropped
    /// outside the lock.
    fn pop_over_limits(&mut self) -> Option<Option<RequestNode>> {
        if self.trees.len() > self.limits.requests || self.total > self.limits.total_bytes {
            let oldest = self.trees.pop_front()?;
            return Some(self.forget(oldest));
        }
        None
    }

    /// Drop the oldest trees until the limits hold; their roots, to drop once the lock is
    /// released. Once the traces are full every request drops one, the oldest: that one
    /// comes back without a list.
    fn fit_limits(&mut self) -> (Option<RequestNode>, Vec<Option<RequestNode>>) {
        let Some(first) = self.pop_over_limits() else {
            return (None, Vec::new());
        };
        (
            first,
            std::iter::from_fn(|| self.pop_over_limits()).collect(),
        )
    }
}

// ---- request nodes ------------------------------------------------------------------------

#[derive(Debug)]
struct RequestData {
    request: String,
    /// The request's JSON body as kept (cut and redacted); `None` until it is known.
    body: Option<Kept>,
    status: Option<u16>,
    error: Option<Kept>,
    hooks: Vec<HookNode>,
    /// Hooks this request fired that were not kept (the byte budget was spent).
    hooks_cut: usize,
}

/// One request in a trace.
#[derive(Debug, Clone)]
pub struct RequestNode {
    data: Arc<Mutex<RequestData>>,
    tree: TreeRef,
}

impl PartialEq for RequestNode {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.data, &other.data)
    }
}
impl Eq for RequestNode {}

impl RequestNode {
    /// A node for `request` in `tree`, its line charged; `None` when the tree cannot
    /// keep it.
    fn new(request: &Request, tree: &TreeRef) -> Option<Self> {
        let limits = tree.limits();
        let mut line = format!("{} {}", request.method, request.path);
        line.truncate(prefix(&line, limits.body_bytes).len());
        if !tree.charge(NODE_BYTES + line.len()) {
            return None;
        }
        Some(Self::unaccounted(line, tree.clone()))
    }

    fn unaccounted(request: String, tree: TreeRef) -> Self {
        RequestNode {
            data: Arc::new(Mutex::new(RequestData {
                request,
                body: None,
                status: None,
                error: None,
                hooks: Vec::new(),
                hooks_cut: 0,
            })),
            tree,
        }
    }

    /// A node that is not kept: what a request gets when its trace's budget is spent.
    fn detached(request: &Request) -> Self {
        Self::unaccounted(
            format!("{} {}", request.method, request.path),
            TreeRef::default(),
        )
    }

    /// A value already cut and redacted, charged to the tree; a marker when the tree
    /// cannot keep it.
    fn keep(tree: &TreeRef, kept: Kept) -> Kept {
        if tree.charge(kept.len()) {
            kept
        } else {
            Kept::new(&json!("[cut: the traces' byte budget is spent]"))
        }
    }

    /// The request's JSON body, as the api read it.
    pub fn set_body(&self, body: &Map<String, Value>) {
        if !self.tree.kept() {
            return;
        }
        let limits = self.tree.limits();
        let body = Self::keep(&self.tree, Kept::fitted_object(body, limits.body_bytes));
        lock(&self.data).body = Some(body);
    }

    /// The body as sent, for a request the api refused before reading its body (bad keys,
    /// too large): shown when it is JSON and no longer than a trace keeps, otherwise as
    /// its size only.
    pub fn set_raw_body(&self, raw: &[u8]) {
        // No body (every GET): nothing to show, and no lock to take.
        if raw.is_empty() || lock(&self.data).body.is_some() || !self.tree.kept() {
            return;
        }
        let limits = self.tree.limits();
        let body = if raw.len() <= limits.body_bytes {
            match serde_json::from_slice::<Value>(raw) {
                Ok(value) => Self::keep(&self.tree, Kept::fitted(&value, limits.body_bytes)),
                Err(_) => return,
            }
        } else {
            Self::keep(
                &self.tree,
                Kept::fitted(&json!(format!("[cut: {} bytes not read]", raw.len())), 64),
            )
        };
        lock(&self.data).body = Some(body);
    }

    /// Record the answer: its status, and the error body when it failed.
    pub fn finish(&self, status: u16, error: Option<Value>) {
        let error = error.map(|e| {
            let limits = self.tree.limits();
            Self::keep(&self.tree, Kept::fitted(&e, limits.body_bytes))
        });
        let mut data = lock(&self.data);
        data.status = Some(status);
        data.error = error;
    }

    /// A hook this request's write fires: `input` is the payload sent to the engine.
    pub fn hook(&self, class: &str, hook: &str, input: Value) -> HookNode {
        let limits = self.tree.limits();
        let names = class.len().min(limits.body_bytes) + hook.len().min(limits.body_bytes);
        let input = Kept::fitted(&input, limits.body_bytes);
        if !self.tree.charge(NODE_BYTES + names + input.len()) {
            lock(&self.data).hooks_cut += 1;
            return HookNode::new(class, hook, Kept::new(&Value::Null), TreeRef::default());
        }
        let node = HookNode::new(
            prefix(class, limits.body_bytes),
            prefix(hook, limits.body_bytes),
            input,
            self.tree.clone(),
        );
        lock(&self.data).hooks.push(node.clone());
        node
    }

    /// A hook that exists but did not run, and why (e.g. `__ignore_hooks`).
    pub fn skipped(&self, class: &str, hook: &str, reason: &str) {
        let node = self.hook(class, hook, Value::Null);
        lock(&node.data).result = HookResult::Skipped(reason.to_string());
    }

    pub fn to_json(&self) -> Value {
        let data = lock(&self.data);
        let mut out = Map::new();
        out.insert("request".into(), json!(data.request));
        if let Some(body) = &data.body {
            out.insert("body".into(), body.show());
        }
        out.insert("status".into(), json!(data.status));
        if let Some(error) = &data.error {
            out.insert("error".into(), error.show());
        }
        out.insert(
            "hooks".into(),
            Value::Array(data.hooks.iter().map(HookNode::to_json).collect()),
        );
        if data.hooks_cut > 0 {
            out.insert("cut".into(), json!({"hooks": data.hooks_cut}));
        }
        Value::Object(out)
    }
}

// ---- hook nodes ---------------------------------------------------------------------------

#[derive(Debug)]
enum HookResult {
    Running,
    Output(Kept),
    Error(Kept),
    Skipped(String),
}

#[derive(Debug)]
struct HookData {
    hook: String,
    class: String,
    input: Kept,
    result: HookResult,
    duration: Option<Duration>,
    requests: Vec<RequestNode>,
    /// Requests the hook's code made that were not kept (the byte budget was spent).
    requests_cut: usize,
}

/// One hook call in a trace.
#[derive(Debug, Clone)]
pub struct HookNode {
    data: Arc<Mutex<HookData>>,
    tree: TreeRef,
}

impl HookNode {
    fn new(class: &str, hook: &str, input: Kept, tree: TreeRef) -> Self {
        HookNode {
            data: Arc::new(Mutex::new(HookData {
                hook: hook.to_string(),
                class: class.to_string(),
                input,
                result: HookResult::Running,
                duration: None,
                requests: Vec::new(),
                requests_cut: 0,
            })),
            tree,
        }
    }

    /// The engine answered (`output`: its body) or the call failed (`error`: the
    /// `{"code","error"}` the hook came to).
    pub fn finish(&self, result: Result<Value, Value>, took: Duration) {
        let limits = self.tree.limits();
        let keep = |v: &Value| RequestNode::keep(&self.tree, Kept::fitted(v, limits.body_bytes));
        let result = match result {
            Ok(output) => HookResult::Output(keep(&output)),
            Err(error) => HookResult::Error(keep(&error)),
        };
        let mut data = lock(&self.data);
        data.result = result;
        data.duration = Some(took);
    }

    /// A request the hook's code made.
    fn request(&self, request: &Request) -> RequestNode {
        match RequestNode::new(request, &self.tree) {
            Some(node) => {
                lock(&self.data).requests.push(node.clone());
                node
            }
            None => {
                lock(&self.data).requests_cut += 1;
                RequestNode::detached(request)
            }
        }
    }

    fn to_json(&self) -> Value {
        let data = lock(&self.data);
        let mut out = Map::new();
        out.insert("hook".into(), json!(data.hook));
        out.insert("class".into(), json!(data.class));
        match &data.result {
            HookResult::Skipped(reason) => {
                out.insert("skipped".into(), json!(reason));
                return Value::Object(out);
            }
            HookResult::Running => {
                out.insert("input".into(), data.input.show());
                out.insert("running".into(), json!(true));
            }
            HookResult::Output(v) => {
                out.insert("input".into(), data.input.show());
                out.insert("output".into(), v.show());
            }
            HookResult::Error(e) => {
                out.insert("input".into(), data.input.show());
                out.insert("error".into(), e.show());
            }
        }
        if let Some(took) = data.duration {
            out.insert("duration_us".into(), json!(took.as_micros() as u64));
        }
        out.insert(
            "requests".into(),
            Value::Array(data.requests.iter().map(RequestNode::to_json).collect()),
        );
        if data.requests_cut > 0 {
            out.insert("cut".into(), json!({"requests": data.requests_cut}));
        }
        Value::Object(out)
    }
}

// ---- an app's traces ----------------------------------------------------------------------

/// An app's traces: the last [`TraceLimits::requests`] top-level requests, within
/// [`TraceLimits::total_bytes`].
#[derive(Debug, Default)]
pub struct Traces {
    shared: Arc<Shared>,
}

impl Traces {
    /// Start the trace of a request: under `parent` (the hook whose code made it), or as
    /// a top-level request.
    pub fn begin(&self, request: &Request, parent: Option<&HookNode>) -> RequestNode {
        if let Some(hook) = parent {
            return hook.request(request);
        }
        let tree = Arc::new(Tree {
            root: Mutex::new(None),
            size: AtomicUsize::new(0),
            kept: AtomicBool::new(true),
            shared: Arc::downgrade(&self.shared),
        });
        let dropped = {
            let mut state = lock(&self.shared.state);
            state.trees.push_back(tree.clone());
            state.fit_limits()
        };
        drop(dropped);
        let Some(node) = RequestNode::new(request, &TreeRef(Arc::downgrade(&tree))) else {
            // Not even the request line fits (a limit of zero): keep nothing of it.
            let forgotten = {
                let mut state = lock(&self.shared.state);
                state.trees.retain(|t| !Arc::ptr_eq(t, &tree));
                state.forget(tree)
            };
            drop(forgotten);
            return RequestNode::detached(request);
        };
        *lock(&tree.root) = Some(node.clone());
        node
    }

    /// Every kept trace, oldest first.
    pub fn to_json(&self) -> Vec<Value> {
        let roots: Vec<RequestNode> = lock(&self.shared.state)
            .trees
            .iter()
            .filter_map(|t| lock(&t.root).clone())
            .collect();
        roots.iter().map(RequestNode::to_json).collect()
    }

    pub fn clear(&self) {
        let dropped: Vec<_> = {
            let mut state = lock(&self.shared.state);
            let trees: Vec<_> = state.trees.drain(..).collect();
            trees.into_iter().map(|t| state.forget(t)).collect()
        };
        drop(dropped);
    }

    pub fn limits(&self) -> TraceLimits {
        lock(&self.shared.state).limits
    }

    /// Keep traces within `limits` from now on (the oldest are dropped at once if they
    /// no longer fit).
    pub fn set_limits(&self, limits: TraceLimits) {
        let dropped = {
            let mut state = lock(&self.shared.state);
            state.limits = limits;
            state.fit_limits()
        };
        drop(dropped);
    }

    /// How many bytes the kept traces take, as counted against
    /// [`TraceLimits::total_bytes`].
    pub fn bytes(&self) -> usize {
        lock(&self.shared.state).total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(path: &str) -> Request {
        Request::new("POST", path)
    }

    /// The walk that keeps a value as it is when nothing is to be cut keeps the same text
    /// as the one that builds a cut copy, at every limit around the value's size.
    #[test]
    fn kept_without_a_copy_is_what_the_cut_copy_would_be() {
        let mut deep = json!("bottom");
        for _ in 0..MAX_TRACE_DEPTH + 2 {
            deep = json!({ "d": [deep] });
        }
        let values = [
            json!({"title": "Row 1", "n": 12.5, "tags": ["a", "bb", null, true], "o": {"x": {}}}),
            json!({"username": "ann", "nested": [{"password": "pw"}]}),
            json!({"k": "é".repeat(40), "list": (0..30).collect::<Vec<_>>()}),
            json!([1, "two", {"sessionToken": "t"}, [[]]]),
            json!({}),
            json!("plain"),
            json!(7),
            deep,
        ];
        for value in &values {
            let size = value.to_string().len();
            for limit in (0..size + 8).chain([TRACE_BODY_BYTES]) {
                let slow = Kept::new(&fit(value, limit));
                assert_eq!(Kept::fitted(value, limit).0, slow.0, "{value} at {limit}");
                if let Value::Object(map) = value {
                    let slow = Kept::new(&fit_object(map, limit));
                    assert_eq!(
                        Kept::fitted_object(map, limit).0,
                        slow.0,
                        "{value} at {limit}"
                    );
                }
            }
        }
    }

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let value = json!({"username": "ann", "password": "pw", "nested": [{"sessionToken": "t",
            "old_password": "a", "new_password": "b", "_SessionToken": "s", "keep": 1}]});
        let kept = fit(&value, TRACE_BODY_BYTES);
        assert_eq!(
            kept,
            json!({"username": "ann", "password": REDACTED, "nested": [{"sessionToken": REDACTED,
                "old_password": REDACTED, "new_password": REDACTED, "_SessionToken": REDACTED,
                "keep": 1}]})
        );
    }

    #[test]
    fn a_long_string_is_cut_with_a_marker_saying_how_much_was_cut() {
        let long = "é".repeat(10_000);
        let kept = fit(&json!({"k": long}), 1000);
        let used = kept.to_string().len();
        let text = kept["k"].as_str().unwrap();
        let cut: usize = text
            .rsplit_once("[cut: ")
            .and_then(|(_, n)| n.strip_suffix(" bytes]"))
            .unwrap()
            .parse()
            .unwrap();
        let kept_part = text.split_once('…').unwrap().0;
        assert_eq!(kept_part.len() + cut, long.len());
        assert!(used <= 1000 + 64, "{used}");
        assert!(kept_part.len() > 900, "{}", kept_part.len());
    }

    #[test]
    fn long_keys_arrays_and_deep_values_are_cut_too() {
        let key = "k".repeat(5000);
        let kept = fit(&json!({ key.clone(): 1 }), 100);
        let only = kept.as_object().unwrap().keys().next().unwrap().clone();
        let (part, cut) = only.split_once('…').unwrap();
        let cut: usize = cut
            .trim_start_matches("[cut: ")
            .trim_end_matches(" bytes]")
            .parse()
            .unwrap();
        assert_eq!(part.len() + cut, key.len());
        assert!(part.len() < 100);

        let kept = fit(&json!((0..10_000).collect::<Vec<_>>()), 100);
        let items = kept.as_array().unwrap();
        let last = items.last().unwrap().as_str().unwrap();
        assert!(
            last.starts_with("[cut: ") && last.ends_with(" more items]"),
            "{last}"
        );
        assert!(items.len() < 60);

        let mut deep = json!(1);
        for _ in 0..200 {
            deep = json!([deep]);
        }
        let kept = fit(&deep, TRACE_BODY_BYTES);
        let mut at = &kept;
        for _ in 0..MAX_TRACE_DEPTH {
            at = &at[0];
        }
        assert_eq!(at, &json!("[cut: nested deeper than 64]"));
    }

    #[test]
    fn the_total_stays_within_its_limit_and_the_oldest_go_first() {
        let traces = Traces::default();
        traces.set_limits(TraceLimits {
            requests: 1000,
            body_bytes: 1000,
            total_bytes: 20_000,
        });
        let big: Map<String, Value> = json!({"s": "x".repeat(5000)}).as_object().unwrap().clone();
        for i in 0..100 {
            let node = traces.begin(&post(&format!("/1.1/classes/C{i}")), None);
            node.set_body(&big);
            node.finish(400, Some(json!({"code": 105, "error": "y".repeat(5000)})));
            assert!(traces.bytes() <= 20_000, "{}", traces.bytes());
        }
        let kept = traces.to_json();
        assert!(!kept.is_empty() && kept.len() < 100, "{}", kept.len());
        assert_eq!(kept.last().unwrap()["request"], "POST /1.1/classes/C99");
        let shown = serde_json::to_vec(&kept).unwrap().len();
        assert!(shown <= 20_000, "{shown}");
    }

    #[test]
    fn dropped_traces_free_their_nodes_and_a_dropped_trees_node_keeps_working() {
        let traces = Traces::default();
        let root = traces.begin(&post("/a"), None);
        let hook = root.hook("C", "beforeSave", json!({}));
        let child = traces.begin(&post("/b"), Some(&hook));
        let (root_data, child_data) = (Arc::downgrade(&root.data), Arc::downgrade(&child.data));
        drop((root, hook, child));
        assert!(
            root_data.upgrade().is_some(),
            "kept while the traces keep it"
        );
        drop(traces);
        assert!(root_data.upgrade().is_none() && child_data.upgrade().is_none());

        let traces = Traces::default();
        let running = traces.begin(&post("/running"), None);
        traces.clear();
        let late = running.hook("C", "afterSave", json!({"x": 1}));
        late.finish(Ok(json!({})), Duration::ZERO);
        running.finish(500, Some(json!({"code": 1, "error": "x"})));
        assert!(traces.to_json().is_empty());
        assert_eq!(traces.bytes(), 0);
    }

    #[test]
    fn the_count_limit_holds_and_a_limit_of_zero_keeps_nothing() {
        let traces = Traces::default();
        traces.set_limits(TraceLimits {
            requests: 3,
            ..TraceLimits::default()
        });
        for i in 0..10 {
            traces
                .begin(&post(&format!("/r{i}")), None)
                .finish(200, None);
        }
        let kept: Vec<Value> = traces
            .to_json()
            .into_iter()
            .map(|t| t["request"].clone())
            .collect();
        assert_eq!(
            kept,
            vec![json!("POST /r7"), json!("POST /r8"), json!("POST /r9")]
        );

        traces.set_limits(TraceLimits {
            total_bytes: 0,
            ..TraceLimits::default()
        });
        assert!(traces.to_json().is_empty());
        assert_eq!(traces.bytes(), 0);
        traces.begin(&post("/r10"), None).finish(200, None);
        assert!(traces.to_json().is_empty());
    }

    #[test]
    fn a_tree_alone_over_the_budget_keeps_what_it_has_and_counts_what_it_lost() {
        let traces = Traces::default();
        traces.set_limits(TraceLimits {
            requests: 10,
            body_bytes: 1000,
            total_bytes: 4 * NODE_BYTES + 2000,
        });
        let root = traces.begin(&post("/1.1/classes/C"), None);
        let hook = root.hook("C", "beforeSave", json!({"a": 1}));
        for _ in 0..50 {
            traces
                .begin(&post("/1.1/classes/D"), Some(&hook))
                .finish(201, None);
        }
        hook.finish(Ok(json!({})), Duration::ZERO);
        for _ in 0..5 {
            root.hook("C", "afterSave", json!({}));
        }
        let shown = &traces.to_json()[0];
        let kept = shown["hooks"][0]["requests"].as_array().unwrap().len();
        assert_eq!(shown["hooks"][0]["cut"]["requests"], 50 - kept);
        assert!(kept < 50);
        assert!(shown["cut"]["hooks"].as_u64().unwrap() > 0, "{shown}");
        assert!(traces.bytes() <= 4 * NODE_BYTES + 2000);
    }
}
