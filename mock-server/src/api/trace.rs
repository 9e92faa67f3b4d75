//! Traces: for every client request, a tree of what ran. A request node lists the hooks
//! its writes fired; a hook node lists the requests the hook's code made, which list the
//! hooks *they* fired, and so on. After-hooks finish after the response, so a tree can
//! still grow after its request answered; [`super::Api::idle`] waits for that.
//!
//! The app keeps the last [`KEPT`] top-level requests. Requests a hook's code makes while
//! running in-process are filed under that hook; a remote engine's calls back arrive as
//! requests of their own (nothing in the protocol says which hook made them).

use leancloud::Request;
use serde_json::{Map, Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How many top-level requests an app keeps traces of.
pub const KEPT: usize = 1000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug)]
struct RequestData {
    request: String,
    /// The request's body as sent (read as JSON when shown).
    body: Vec<u8>,
    status: Option<u16>,
    error: Option<Value>,
    hooks: Vec<HookNode>,
}

/// One request in a trace.
#[derive(Debug, Clone)]
pub struct RequestNode(Arc<Mutex<RequestData>>);

impl PartialEq for RequestNode {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for RequestNode {}

impl RequestNode {
    fn new(request: &Request) -> Self {
        RequestNode(Arc::new(Mutex::new(RequestData {
            request: format!("{} {}", request.method, request.path),
            body: request.body.clone(),
            status: None,
            error: None,
            hooks: Vec::new(),
        })))
    }

    /// Record the answer: its status, and the error body when it failed.
    pub fn finish(&self, status: u16, error: Option<Value>) {
        let mut data = lock(&self.0);
        data.status = Some(status);
        data.error = error;
    }

    /// A hook this request's write fires: `input` is the payload sent to the engine.
    pub fn hook(&self, class: &str, hook: &str, input: Value) -> HookNode {
        let node = HookNode(Arc::new(Mutex::new(HookData {
            hook: hook.to_string(),
            class: class.to_string(),
            input,
            result: HookResult::Running,
            duration: None,
            requests: Vec::new(),
        })));
        lock(&self.0).hooks.push(node.clone());
        node
    }

    /// A hook that exists but did not run, and why (e.g. `__ignore_hooks`).
    pub fn skipped(&self, class: &str, hook: &str, reason: &str) {
        let node = self.hook(class, hook, Value::Null);
        lock(&node.0).result = HookResult::Skipped(reason.to_string());
    }

    pub fn to_json(&self) -> Value {
        let data = lock(&self.0);
        let mut out = Map::new();
        out.insert("request".into(), json!(data.request));
        if let Ok(body) = serde_json::from_slice::<Value>(&data.body) {
            out.insert("body".into(), body);
        }
        out.insert("status".into(), json!(data.status));
        if let Some(error) = &data.error {
            out.insert("error".into(), error.clone());
        }
        out.insert(
            "hooks".into(),
            Value::Array(data.hooks.iter().map(HookNode::to_json).collect()),
        );
        Value::Object(out)
    }
}

#[derive(Debug)]
enum HookResult {
    Running,
    Output(Value),
    Error(Value),
    Skipped(String),
}

#[derive(Debug)]
struct HookData {
    hook: String,
    class: String,
    input: Value,
    result: HookResult,
    duration: Option<Duration>,
    requests: Vec<RequestNode>,
}

/// One hook call in a trace.
#[derive(Debug, Clone)]
pub struct HookNode(Arc<Mutex<HookData>>);

impl HookNode {
    /// The engine answered (`output`: its body) or the call failed (`error`: the
    /// `{"code","error"}` the hook came to).
    pub fn finish(&self, result: Result<Value, Value>, took: Duration) {
        let mut data = lock(&self.0);
        data.result = match result {
            Ok(output) => HookResult::Output(output),
            Err(error) => HookResult::Error(error),
        };
        data.duration = Some(took);
    }

    /// A request the hook's code made.
    fn request(&self, request: &Request) -> RequestNode {
        let node = RequestNode::new(request);
        lock(&self.0).requests.push(node.clone());
        node
    }

    fn to_json(&self) -> Value {
        let data = lock(&self.0);
        let mut out = Map::new();
        out.insert("hook".into(), json!(data.hook));
        out.insert("class".into(), json!(data.class));
        match &data.result {
            HookResult::Skipped(reason) => {
                out.insert("skipped".into(), json!(reason));
                return Value::Object(out);
            }
            HookResult::Running => {
                out.insert("input".into(), data.input.clone());
                out.insert("running".into(), json!(true));
            }
            HookResult::Output(v) => {
                out.insert("input".into(), data.input.clone());
                out.insert("output".into(), v.clone());
            }
            HookResult::Error(e) => {
                out.insert("input".into(), data.input.clone());
                out.insert("error".into(), e.clone());
            }
        }
        if let Some(took) = data.duration {
            out.insert("duration_us".into(), json!(took.as_micros() as u64));
        }
        out.insert(
            "requests".into(),
            Value::Array(data.requests.iter().map(RequestNode::to_json).collect()),
        );
        Value::Object(out)
    }
}

/// An app's traces: the last [`KEPT`] top-level requests.
#[derive(Debug, Default)]
pub struct Traces {
    top: Mutex<VecDeque<RequestNode>>,
}

impl Traces {
    /// Start the trace of a request: under `parent` (the hook whose code made it), or as
    /// a top-level request.
    pub fn begin(&self, request: &Request, parent: Option<&HookNode>) -> RequestNode {
        if let Some(hook) = parent {
            return hook.request(request);
        }
        let node = RequestNode::new(request);
        let mut top = lock(&self.top);
        if top.len() == KEPT {
            top.pop_front();
        }
        top.push_back(node.clone());
        node
    }

    /// Every kept trace, oldest first.
    pub fn to_json(&self) -> Vec<Value> {
        let top: Vec<RequestNode> = lock(&self.top).iter().cloned().collect();
        top.iter().map(RequestNode::to_json).collect()
    }

    pub fn clear(&self) {
        lock(&self.top).clear();
    }
}
