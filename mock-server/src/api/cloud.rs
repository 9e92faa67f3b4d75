//! Cloud code attached to an app: `/1.1/functions/<name>` and `/1.1/call/<name>`, and the
//! engine calls behind the hook chain (see `hooks`).
//!
//! The app reaches its cloud code through a [`Transport`] that speaks the cloud-engine
//! protocol: an in-process `leancloud::engine::Engine` over a `Registry`, or a remote
//! engine over HTTP. Calls run on a small runtime of the app's own and the handler waits
//! for them, so the synchronous api never blocks the runtime it is called from (wiremock's
//! single thread, or an axum worker). Cloud code reaches storage in-process (see
//! [`WeakInProcess`]); a remote engine calling back over HTTP needs the standalone
//! server, since wiremock answers one request at a time.
//!
//! Which hooks exist is learnt as the real platform learns it: from the engine's
//! `GET /1.1/functions/_ops/metadatas` (master key; 404 means none).
//!
//! Every call an engine makes runs inside a [`Scope`] (a tokio task-local): how deep in
//! a chain of hooks it is, and the trace node of the hook, so that the requests its code
//! makes in-process are filed under it and a chain that never ends is cut off.

use super::coverage::Outcome;
use super::faults::Effect;
use super::routes::Call;
use super::trace::HookNode;
use super::{Api, HandlerResult, Reply};
use futures::future::BoxFuture;
use leancloud::{LcError, Request, Response, Transport};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, Condvar, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};
use tokio::time::error::Elapsed;

/// How long the app waits for a cloud function: a little over the engines' own 15 s, so
/// that the engine's timeout answer (503, code 124) is the one a client normally sees.
pub const CLOUD_WAIT: Duration = Duration::from_secs(16);

/// How deep hooks may nest (a hook's write firing a hook whose write fires a hook...)
/// before the emulator stops calling them. The real platform has no such rule that the
/// notes know of; without one a hook that re-saves without `__ignore_hooks` would run
/// forever.
pub const MAX_HOOK_DEPTH: u32 = 16;

/// How long the storage side waits for a hook (protocol notes §5.7: before-hooks 10 s,
/// other hooks 3 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookTimeouts {
    pub before: Duration,
    pub after: Duration,
}

impl Default for HookTimeouts {
    fn default() -> Self {
        HookTimeouts {
            before: Duration::from_secs(10),
            after: Duration::from_secs(3),
        }
    }
}

tokio::task_local! {
    static SCOPE: Scope;
}

/// Where an engine call runs: its depth in the chain of hooks (1 for a hook fired by a
/// client's request) and the trace node of the hook that runs.
#[derive(Debug, Clone)]
pub struct Scope {
    pub depth: u32,
    pub hook: Option<HookNode>,
}

/// The scope of the engine call whose code is running on this task, if any.
pub fn current_scope() -> Option<Scope> {
    SCOPE.try_with(Clone::clone).ok()
}

/// After-hooks still running, and a way to wait until there are none.
#[derive(Default)]
struct Pending {
    count: Mutex<usize>,
    zero: Condvar,
    notify: tokio::sync::Notify,
}

impl Pending {
    fn add(&self) {
        *self.count.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    }

    fn done(&self) {
        let mut count = self.count.lock().unwrap_or_else(|e| e.into_inner());
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.zero.notify_all();
            self.notify.notify_waiters();
        }
    }

    fn count(&self) -> usize {
        *self.count.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Marks one after-hook as finished when dropped, however its task ends.
struct Running(Arc<Pending>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.done();
    }
}

/// What the emulator knows of the engine's hooks.
struct Discovery {
    names: Option<Arc<HashSet<String>>>,
    checked: Option<Instant>,
}

/// The cloud code an app calls.
pub struct CloudCode {
    engine: Arc<dyn Transport>,
    runtime: Option<tokio::runtime::Runtime>,
    wait: Duration,
    timeouts: HookTimeouts,
    /// How often the hook list is asked for again (a remote engine may be redeployed);
    /// `None`: once it is known, it stays (an in-process registry does not change).
    rediscover: Option<Duration>,
    discovery: RwLock<Discovery>,
    pending: Arc<Pending>,
    /// The master key and app id, for the metadata request.
    app_id: String,
    master_key: String,
}

impl std::fmt::Debug for CloudCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudCode")
            .field("wait", &self.wait)
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

/// How a call to the engine went, when it did not answer.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineFailure {
    /// No answer in time.
    TimedOut,
    /// The engine could not be reached (or the app's runtime is gone).
    Unreachable(LcError),
}

impl CloudCode {
    /// Cloud code behind `engine`, a cloud function waited for at most `wait`.
    pub fn new(
        engine: Arc<dyn Transport>,
        config: &super::AppConfig,
        wait: Duration,
    ) -> std::io::Result<CloudCode> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("lc-mock-cloud")
            .enable_all()
            .build()?;
        Ok(CloudCode {
            engine,
            runtime: Some(runtime),
            wait,
            timeouts: HookTimeouts::default(),
            rediscover: Some(Duration::from_secs(2)),
            discovery: RwLock::new(Discovery {
                names: None,
                checked: None,
            }),
            pending: Arc::default(),
            app_id: config.app_id.clone(),
            master_key: config.master_key.clone(),
        })
    }

    /// The same, with other hook timeouts.
    pub fn with_timeouts(mut self, timeouts: HookTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Ask for the hook list once only (for an engine whose hooks cannot change).
    pub fn discovering_once(mut self) -> Self {
        self.rediscover = None;
        self
    }

    pub fn timeouts(&self) -> HookTimeouts {
        self.timeouts
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime.as_ref().expect("the runtime lives until drop")
    }

    /// Send one engine request and wait at most `wait` for its answer, the engine's code
    /// running in `scope`.
    pub fn call(
        &self,
        request: Request,
        scope: Scope,
        wait: Duration,
    ) -> Result<Response, EngineFailure> {
        self.call_with(request, scope, wait, None)
    }

    /// The engine's answer to `request`, or what a fault (`api::faults`) makes of it.
    fn engine_call(
        &self,
        request: Request,
        fault: Option<Effect>,
    ) -> BoxFuture<'static, Result<Response, LcError>> {
        let Some(effect) = fault else {
            return self.engine.send(request);
        };
        if let Some(answer) = super::faults::engine_answer(&effect, &request.path) {
            return Box::pin(std::future::ready(answer));
        }
        let engine = self.engine.clone();
        Box::pin(async move {
            match effect {
                Effect::Delay(delay) => {
                    tokio::time::sleep(delay).await;
                    engine.send(request).await
                }
                _ => futures::future::pending().await,
            }
        })
    }

    /// [`CloudCode::call`] with the call's fault, if one is set on it.
    pub(super) fn call_with(
        &self,
        request: Request,
        scope: Scope,
        wait: Duration,
        fault: Option<Effect>,
    ) -> Result<Response, EngineFailure> {
        let call = self.engine_call(request, fault);
        // Most in-process hooks finish without waiting on anything (their storage calls
        // are answered in-process at once), so the call is polled once here first, on
        // the caller's thread, within the app's runtime: handing it to the runtime and
        // waiting costs a thread wake-up each way, which dominates a hook's cost. Only a
        // call that is still pending (a remote engine, a hook that waits) goes there.
        let (task, first) = {
            // The timer of the timeout belongs to the app's runtime.
            let _runtime = self.runtime().enter();
            let mut task: BoxFuture<'static, Result<Result<Response, LcError>, Elapsed>> =
                Box::pin(SCOPE.scope(scope, tokio::time::timeout(wait, call)));
            let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
            let first = task.as_mut().poll(&mut cx);
            (task, first)
        };
        let result = match first {
            std::task::Poll::Ready(result) => Ok(result),
            std::task::Poll::Pending => {
                let (answer, answered) = std::sync::mpsc::channel();
                self.runtime().spawn(async move {
                    let _ = answer.send(task.await);
                });
                wait_blocking(|| answered.recv())
            }
        };
        match result {
            Ok(Ok(Ok(response))) => Ok(response),
            Ok(Ok(Err(err))) => Err(EngineFailure::Unreachable(err)),
            Ok(Err(_elapsed)) => Err(EngineFailure::TimedOut),
            Err(_) => Err(EngineFailure::Unreachable(LcError::connection_failed(
                "the cloud-code runtime has stopped",
            ))),
        }
    }

    /// Send one engine request in the background (an after-hook): `done` gets the
    /// answer and the time it took. [`CloudCode::idle`] waits for it.
    pub fn spawn(
        &self,
        request: Request,
        scope: Scope,
        wait: Duration,
        done: impl FnOnce(Result<Response, EngineFailure>, Duration) + Send + 'static,
    ) {
        self.spawn_with(request, scope, wait, None, done);
    }

    /// [`CloudCode::spawn`] with the call's fault, if one is set on it.
    pub(super) fn spawn_with(
        &self,
        request: Request,
        scope: Scope,
        wait: Duration,
        fault: Option<Effect>,
        done: impl FnOnce(Result<Response, EngineFailure>, Duration) + Send + 'static,
    ) {
        self.pending.add();
        let running = Running(self.pending.clone());
        let call = {
            // A delay's timer belongs to the app's runtime.
            let _runtime = self.runtime().enter();
            self.engine_call(request, fault)
        };
        self.runtime().spawn(SCOPE.scope(scope, async move {
            let _running = running;
            let start = Instant::now();
            let result = match tokio::time::timeout(wait, call).await {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(err)) => Err(EngineFailure::Unreachable(err)),
                Err(_) => Err(EngineFailure::TimedOut),
            };
            done(result, start.elapsed());
        }));
    }

    /// Send one cloud-function request and wait for its answer. An engine that gives
    /// none is answered as the platform answers it (see [`call_function`]).
    pub fn send(&self, request: Request) -> Result<Response, LcError> {
        self.send_with(request, None)
    }

    /// [`CloudCode::send`] with the call's fault, if one is set on it.
    pub(super) fn send_with(
        &self,
        request: Request,
        fault: Option<Effect>,
    ) -> Result<Response, LcError> {
        let scope = current_scope().unwrap_or(Scope {
            depth: 0,
            hook: None,
        });
        match self.call_with(request, scope, self.wait, fault) {
            Ok(response) => Ok(response),
            Err(EngineFailure::TimedOut) => Err(LcError::engine_timeout()),
            Err(EngineFailure::Unreachable(err)) if err.is_connection_lost() => {
                Err(LcError::engine_no_valid_answer(err.message))
            }
            Err(EngineFailure::Unreachable(err)) => Err(LcError::engine_unavailable(err.message)),
        }
    }

    /// How many after-hooks are still running.
    pub fn pending(&self) -> usize {
        self.pending.count()
    }

    /// Wait until no after-hook is running (and so nothing they caused is either: a
    /// hook's own after-hooks are counted before it finishes).
    pub async fn idle(&self) {
        loop {
            let notified = self.pending.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.pending.count() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// [`CloudCode::idle`] for synchronous callers, giving up after `max`; whether it
    /// became idle.
    pub fn idle_blocking(&self, max: Duration) -> bool {
        let count = self.pending.count.lock().unwrap_or_else(|e| e.into_inner());
        let (count, _) = wait_blocking(|| {
            self.pending
                .zero
                .wait_timeout_while(count, max, |n| *n > 0)
                .unwrap_or_else(|e| e.into_inner())
        });
        *count == 0
    }

    /// The engine's hook and function names (`__before_save_for_<Class>`, ...), asked for
    /// when not known yet (or, for a remote engine, when last asked a while ago). `None`
    /// when the engine cannot say (it is down).
    pub fn hook_names(&self) -> Option<Arc<HashSet<String>>> {
        {
            let known = self.discovery.read().unwrap_or_else(|e| e.into_inner());
            let fresh = match known.checked {
                None => false,
                Some(at) => match (self.rediscover, &known.names) {
                    (None, Some(_)) => true,
                    (None, None) => at.elapsed() < Duration::from_secs(1),
                    (Some(every), _) => at.elapsed() < every,
                },
            };
            if fresh {
                return known.names.clone();
            }
        }
        let found = self.discover();
        let mut known = self.discovery.write().unwrap_or_else(|e| e.into_inner());
        known.checked = Some(Instant::now());
        if found.is_some() || known.names.is_none() {
            known.names = found;
        }
        known.names.clone()
    }

    /// `GET /1.1/functions/_ops/metadatas` with the master key.
    fn discover(&self) -> Option<Arc<HashSet<String>>> {
        let request = Request::new("GET", "/1.1/functions/_ops/metadatas")
            .with_header("x-lc-id", self.app_id.clone())
            .with_header("x-lc-key", format!("{},master", self.master_key));
        let scope = Scope {
            depth: 0,
            hook: None,
        };
        let response = self.call(request, scope, Duration::from_secs(5)).ok()?;
        match response.status {
            404 => Some(Arc::default()),
            200..=299 => {
                let body = response.body_json().ok()?;
                let names = body.get("result")?.as_array()?;
                Some(Arc::new(
                    names
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_string))
                        .collect(),
                ))
            }
            _ => None,
        }
    }
}

/// Run `f`, which blocks; on a multi-threaded tokio worker, first hand the worker's other
/// tasks to another thread (a nested hook blocks a worker of the app's own runtime, and
/// the standalone server's workers must keep serving).
fn wait_blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

impl Drop for CloudCode {
    /// A runtime may not be dropped (which waits) inside another runtime's thread, which
    /// is where apps usually end; its workers are let go instead.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The in-process transport for cloud code attached to an app: like
/// [`super::InProcess`], but it does not keep the app alive (the app holds its cloud
/// code, which holds this).
#[derive(Debug, Clone)]
pub struct WeakInProcess(pub Weak<Api>);

impl Transport for WeakInProcess {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
        let answer = match self.0.upgrade() {
            Some(api) => Ok(api.handle(&request)),
            None => Err(LcError::connection_failed("the emulated app has shut down")),
        };
        Box::pin(std::future::ready(answer))
    }
}

/// `POST /1.1/functions/<name>` and `POST /1.1/call/<name>`: the request goes to the
/// app's cloud code as it came (keys, session, body), and its answer comes back as the
/// engine gave it: `{"result": ...}` with a 2xx status, or the function's error
/// (`{"code","error"}`) with the engine's error status (protocol notes §1.11, the docs'
/// "云函数错误响应码": an engine's `400 {"code":1,"error":...}` reaches the client so).
///
/// An engine that gives no such answer never reaches the client as a success: SDKs take
/// any 2xx as one, whatever the body. What the platform answers then (protocol notes §4,
/// §5.8; leancloud/docs docs/sdk/other/error-code.mdx and
/// docs/sdk/engine/functions/rest-api.mdx):
/// - no answer within [`CLOUD_WAIT`]: 503, code 124 (the engines' own timeout answer);
/// - the engine is not running (the connection is refused): 503, code 503, which the
///   error-code page gives for a call to an engine whose instance is asleep;
/// - the engine took the connection but closed it before or during its answer, or
///   answered something that is not a function's answer (empty, not JSON, `null`, a 2xx
///   without `result`, an error status without `error`): 524, code 524, the page's
///   failure between the platform's web server and the app's instance. Which of 502,
///   503 or 524 the platform gives in each of these cases is not recorded; 524 is the
///   one the docs name for a broken engine answer (rest-api.mdx: "除了 503 错误外，有些
///   情况下客户端也可能收到其他报错，如 524 或 141").
pub fn call_function(call: &Call<'_>) -> HandlerResult {
    let name = call.param(0);
    let Some(cloud) = call.api.cloud() else {
        return Err(LcError::no_such_cloud_function(name));
    };
    let mut request = call.request.clone();
    request
        .headers
        .retain(|(k, _)| !matches!(k.as_ref(), "host" | "content-length" | "connection"));
    let fault = call
        .api
        .faults
        .take_function(name, call.api.read_store().clock.now_ms());
    let answer = cloud
        .send_with(request, fault)
        .and_then(|response| Ok((function_answer(&response)?, response.status)));
    let outcome = match &answer {
        Ok((_, 200..=299)) => Outcome::Accepted,
        Ok((body, _)) => Outcome::Refused(body.get("code").and_then(Value::as_i64).unwrap_or(1)),
        Err(err) if err.code == 124 => Outcome::Failed("timeout"),
        Err(err) if err.code == 503 => Outcome::Failed("unreachable"),
        Err(_) => Outcome::Failed("invalid answer"),
    };
    call.api.count(|c| c.call(false, name, &outcome));
    let (body, status) = answer?;
    Ok(Reply {
        status,
        body,
        headers: Vec::new(),
    })
}

/// The body of an engine's answer to a cloud function when the platform passes it on:
/// `{"result": ...}` with a 2xx status, or `{"error": ...}` (and its `code`) with an
/// error status; anything else is 524.
fn function_answer(response: &Response) -> Result<Value, LcError> {
    let parsed = serde_json::from_slice::<Value>(&response.body).ok();
    let passes = match (&parsed, response.status) {
        (Some(Value::Object(body)), 200..=299) => body.contains_key("result"),
        (Some(Value::Object(body)), 400..=599) => body.contains_key("error"),
        _ => false,
    };
    match parsed {
        Some(body) if passes => Ok(body),
        _ => {
            let text = String::from_utf8_lossy(&response.body);
            let snippet: String = text.chars().take(200).collect();
            Err(LcError::engine_no_valid_answer(format!(
                "HTTP {} with {} bytes that are not a cloud function's answer: {snippet:?}",
                response.status,
                response.body.len()
            )))
        }
    }
}
