//! The hook chain: which hooks a write may fire and how each is called, as the real
//! platform calls them (protocol notes §5). When they fire is the write pipeline's
//! (`pipeline`):
//!
//! ```text
//! create: checks -> beforeSave (its object is what gets stored) -> checks again, insert -> afterSave
//! update: checks -> beforeUpdate (may only refuse)               -> checks again, update -> afterUpdate
//! delete: checks -> beforeDelete (may only refuse)               -> checks again, delete -> afterDelete
//! ```
//!
//! - The store is never locked while a hook runs: the hook's code may read and write
//!   (in-process, through [`super::cloud::WeakInProcess`]), and the write re-checks
//!   everything once the before-hook has answered.
//! - A before-hook's refusal is 142 `Cloud Code validation failed. Error detail : <the
//!   engine's message>`; no answer within the wait is 141. Nothing is stored.
//! - After-hooks run in the background, off the client's response, as in production; their
//!   failures are ignored (and traced). [`super::Api::idle`] waits for them.
//! - `__ignore_hooks` in a body skips the named hooks when the request carries the hook
//!   key (or the master key), and is never stored.
//! - Every hook call is traced under the request that fired it (see `trace`).

use super::cloud::{CloudCode, EngineFailure, MAX_HOOK_DEPTH, Scope, current_scope};
use super::coverage::Outcome;
use super::routes::Call;
use super::trace::RequestNode;
use leancloud::cloud::HookKind;
use leancloud::{LcError, Request, Response};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Keys an engine adds to a hook's object that are not the app's data; stripped from a
/// beforeSave answer before it is stored (protocol notes §5.4).
const CONTROL_KEYS: [&str; 10] = [
    "_updatedKeys",
    "__before",
    "__after",
    "__ignore_hooks",
    "__sign",
    "__type",
    "className",
    "objectId",
    "createdAt",
    "updatedAt",
];

/// The hooks one write may fire on one class.
pub(super) struct Hooks<'a> {
    cloud: &'a CloudCode,
    call: &'a Call<'a>,
    class: String,
    names: Arc<HashSet<String>>,
    /// Hook names the body's `__ignore_hooks` asked to skip (honoured ones only).
    ignored: Vec<String>,
    /// The scope the write runs in: 0 for a client's request, n inside a hook at depth n.
    depth: u32,
}

/// The hooks a write on `class` may fire, or `None` when the app has no cloud code, its
/// engine defines no hook of the class, or the class never has hooks (`_Installation`).
pub(super) fn for_write<'a>(
    call: &'a Call<'a>,
    class: &str,
    flags: &Map<String, Value>,
) -> Option<Hooks<'a>> {
    if class == "_Installation" {
        return None;
    }
    let cloud = call.api.cloud()?;
    let names = cloud.hook_names()?;
    if !HookKind::CLASS_HOOKS
        .iter()
        .any(|k| names.contains(&k.metadata_name(class)))
    {
        return None;
    }
    let honoured = call.ctx.hook_key || call.ctx.is_master();
    let ignored = match flags.get("__ignore_hooks") {
        Some(Value::Array(items)) if honoured => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    Some(Hooks::new(call, cloud, names, class, ignored))
}

/// A user hook (`onLogin`, ...) when the engine defines it.
pub(super) fn for_user_hook<'a>(call: &'a Call<'a>, kind: HookKind) -> Option<Hooks<'a>> {
    let cloud = call.api.cloud()?;
    let names = cloud.hook_names()?;
    if !names.contains(&kind.metadata_name("_User")) {
        return None;
    }
    Some(Hooks::new(call, cloud, names, "_User", Vec::new()))
}

/// A body's flags (`__ignore_hooks`, ...): its keys starting with `__`.
pub(super) fn flags_of(body: &Map<String, Value>) -> Map<String, Value> {
    body.iter()
        .filter(|(k, _)| k.starts_with("__"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

impl<'a> Hooks<'a> {
    fn new(
        call: &'a Call<'a>,
        cloud: &'a CloudCode,
        names: Arc<HashSet<String>>,
        class: &str,
        ignored: Vec<String>,
    ) -> Self {
        Hooks {
            cloud,
            call,
            class: class.to_string(),
            names,
            ignored,
            depth: current_scope().map_or(0, |s| s.depth),
        }
    }

    /// Whether `kind` runs for this write: the engine defines it and the body did not ask
    /// to skip it (a skipped hook is traced as such).
    pub fn wants(&self, kind: HookKind) -> bool {
        if !self.names.contains(&kind.metadata_name(&self.class)) {
            return false;
        }
        if self.ignored.iter().any(|n| n == kind.name()) {
            if let Some(trace) = self.trace() {
                trace.skipped(&self.class, kind.name(), "__ignore_hooks");
            }
            return false;
        }
        true
    }

    /// The fault set on this hook's next call, if any (`api::faults`).
    fn fault(&self, kind: HookKind) -> Option<super::faults::Effect> {
        let api = self.call.api;
        api.faults
            .take_hook(&self.class, kind.name(), api.read_store().clock.now_ms())
    }

    fn trace(&self) -> Option<&RequestNode> {
        self.call.ctx.trace.as_ref()
    }

    /// The engine request for `kind` with `{"object": object, "user": user}`, sent as
    /// the platform sends it: app id and key, the hook key, the requester's session.
    fn request(&self, kind: HookKind, object: &Value, user: Option<&Value>) -> Request {
        let config = self.call.api.config();
        let mut body = Map::new();
        // onAuthData is sent the authData alone (protocol notes §5.3); every other hook
        // its object.
        let key = if kind == HookKind::OnAuthData {
            "authData"
        } else {
            "object"
        };
        body.insert(key.into(), object.clone());
        if let Some(user) = user {
            body.insert("user".into(), user.clone());
        }
        let path = match kind {
            HookKind::OnVerified(t) => format!("/1.1/functions/onVerified/{}", t.as_str()),
            _ => format!("/1.1/functions/{}/{}", self.class, kind.name()),
        };
        let mut request = Request::new("POST", &path)
            .with_json(&Value::Object(body))
            .with_header("x-lc-id", config.app_id.clone())
            .with_header("x-lc-key", config.app_key.clone())
            .with_header("x-lc-hook-key", config.hook_key.clone());
        if let Some(token) = user
            .and_then(|u| u.get("sessionToken"))
            .and_then(Value::as_str)
        {
            request = request.with_header("x-lc-session", token);
        }
        if !self.call.ctx.production {
            request = request.with_header("x-lc-prod", "0");
        }
        request
    }

    /// What every hook call starts with: the engine request, the hook's trace node, and
    /// the scope its code runs in; refused (142, traced) when hooks already nest
    /// [`MAX_HOOK_DEPTH`] deep.
    fn start(
        &self,
        kind: HookKind,
        object: Value,
        user: Option<Value>,
    ) -> Result<(Request, Scope), LcError> {
        let request = self.request(kind, &object, user.as_ref());
        let node = self
            .trace()
            .map(|t| t.hook(&self.class, kind.name(), object));
        if self.depth >= MAX_HOOK_DEPTH {
            let name = format!("{}.{}", self.class, kind.name());
            self.call
                .api
                .count(|c| c.call(true, &name, &Outcome::Failed("too deep")));
            let err = LcError::cloud_validation_failed(too_deep(&self.class, kind));
            if let Some(node) = &node {
                node.finish(Err(err.to_json()), Duration::ZERO);
            }
            return Err(err);
        }
        let scope = Scope {
            depth: self.depth + 1,
            hook: node,
        };
        Ok((request, scope))
    }

    /// Run a before-hook and wait for it: the engine's answer body when it accepted,
    /// 142 when it refused or failed, 141 when it did not answer in time.
    pub fn before(
        &self,
        kind: HookKind,
        object: Value,
        user: Option<Value>,
    ) -> Result<Value, LcError> {
        let (request, scope) = self.start(kind, object, user)?;
        let node = scope.hook.clone();
        let wait = self.cloud.timeouts().before;
        let fault = self.fault(kind);
        let start = Instant::now();
        let result = self.cloud.call_with(request, scope, wait, fault);
        let took = start.elapsed();
        let answer = read_answer(result);
        let name = format!("{}.{}", self.class, kind.name());
        let outcome = outcome_of(&answer);
        self.call.api.count(|c| c.call(true, &name, &outcome));
        if let Some(node) = &node {
            node.finish(answer.clone().map_err(|e| e.traced()), took);
        }
        answer.map_err(|e| e.to_client(&self.class, kind, wait))
    }

    /// Fire an after-hook in the background; its outcome only goes to the trace.
    pub fn after(&self, kind: HookKind, object: Value, user: Option<Value>) {
        let Ok((request, scope)) = self.start(kind, object, user) else {
            return;
        };
        let node = scope.hook.clone();
        let coverage = self.call.api.coverage_handle();
        let name = format!("{}.{}", self.class, kind.name());
        self.cloud.spawn_with(
            request,
            scope,
            self.cloud.timeouts().after,
            self.fault(kind),
            move |result, took| {
                let answer = read_answer(result);
                let outcome = outcome_of(&answer);
                coverage.call(true, &name, &outcome);
                super::coverage::run().call(true, &name, &outcome);
                if let Some(node) = node {
                    node.finish(answer.map_err(|e| e.traced()), took);
                }
            },
        );
    }
}

fn too_deep(class: &str, kind: HookKind) -> String {
    format!(
        "hooks nested more than {MAX_HOOK_DEPTH} deep; the {kind} hook of '{class}' was not \
         called (does a hook save objects without __ignore_hooks?)"
    )
}

/// Why a hook did not accept.
#[derive(Debug, Clone)]
enum HookError {
    /// The engine answered an error: its body (`{"code","error"}`).
    Refused(Value),
    TimedOut,
    Unreachable(LcError),
    /// The engine answered something that is not a hook answer.
    Invalid(u16, String),
}

impl HookError {
    fn to_client(&self, class: &str, kind: HookKind, waited: Duration) -> LcError {
        match self {
            HookError::Refused(body) => {
                let detail = match body.get("error") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => body.to_string(),
                };
                LcError::cloud_validation_failed(detail)
            }
            HookError::TimedOut => LcError::hook_timeout(class, kind.name(), waited),
            HookError::Unreachable(err) => LcError::cloud_validation_failed(format!(
                "the cloud engine could not be reached: {}",
                err.message
            )),
            HookError::Invalid(status, text) => LcError::cloud_validation_failed(format!(
                "the cloud engine answered HTTP {status} with something that is not a hook \
                 answer: {text}"
            )),
        }
    }

    /// What the trace shows.
    fn traced(&self) -> Value {
        match self {
            HookError::Refused(body) => body.clone(),
            HookError::TimedOut => serde_json::json!({"timedOut": true}),
            HookError::Unreachable(err) => err.to_json(),
            HookError::Invalid(status, text) => {
                serde_json::json!({"status": status, "body": text})
            }
        }
    }
}

/// How a hook call ended, for the coverage.
fn outcome_of(answer: &Result<Value, HookError>) -> Outcome {
    match answer {
        Ok(_) => Outcome::Accepted,
        Err(HookError::Refused(body)) => {
            Outcome::Refused(body.get("code").and_then(Value::as_i64).unwrap_or(1))
        }
        Err(HookError::TimedOut) => Outcome::Failed("timeout"),
        Err(HookError::Unreachable(_)) => Outcome::Failed("unreachable"),
        Err(HookError::Invalid(..)) => Outcome::Failed("invalid answer"),
    }
}

/// An engine's answer to a hook: a 2xx JSON object is acceptance (its body); an error
/// status is a refusal; anything else is invalid.
fn read_answer(result: Result<Response, EngineFailure>) -> Result<Value, HookError> {
    let response = match result {
        Ok(response) => response,
        Err(EngineFailure::TimedOut) => return Err(HookError::TimedOut),
        Err(EngineFailure::Unreachable(err)) => return Err(HookError::Unreachable(err)),
    };
    let parsed = serde_json::from_slice::<Value>(&response.body);
    let snippet = || {
        let text = String::from_utf8_lossy(&response.body);
        text.chars().take(200).collect::<String>()
    };
    match (response.status, parsed) {
        (200..=299, Ok(body @ Value::Object(_))) => Ok(body),
        (400.., Ok(body @ Value::Object(_))) if body.get("error").is_some() => {
            Err(HookError::Refused(body))
        }
        (status, _) => Err(HookError::Invalid(status, snippet())),
    }
}

/// The create body to store after a beforeSave answered `returned`: the answer is the
/// whole new object. A field the hook left as it was keeps the request's own value or
/// operation (so relation operations still apply); a changed or new field is set to the
/// hook's value; a field the hook dropped is not stored. Control keys are stripped.
pub(super) fn body_after_before_save(
    body: &Map<String, Value>,
    sent: &Value,
    returned: &Value,
) -> Result<Map<String, Value>, LcError> {
    let Some(returned) = returned.as_object() else {
        return Err(LcError::cloud_validation_failed(
            "the beforeSave hook did not answer an object",
        ));
    };
    let sent = sent.as_object();
    let mut out = Map::new();
    for (key, value) in returned {
        if CONTROL_KEYS.contains(&key.as_str()) {
            continue;
        }
        let unchanged = sent.and_then(|s| s.get(key)) == Some(value);
        match body.get(key) {
            Some(original) if unchanged => out.insert(key.clone(), original.clone()),
            _ => out.insert(key.clone(), value.clone()),
        };
    }
    Ok(out)
}
