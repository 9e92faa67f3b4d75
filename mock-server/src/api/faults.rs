//! Faults inside the hook chain, which only an emulator can offer a test: a named hook
//! or cloud function fails with a given code and message, answers late, never answers,
//! or its engine cannot be reached; a storage write of a class fails with a given code.
//! Each holds for the next N calls, for a time on the app's clock, or until cleared, and
//! a reset clears them all. `Api::add_fault` / `POST /__mock/faults` (master key) set
//! one, `GET /__mock/faults` lists those still armed, `DELETE /__mock/faults` clears them.
//!
//! A faulty hook or function is never sent to the engine when it fails or is
//! unreachable; a late one is sent once its delay has passed, within the same wait
//! (hook timeouts, [`super::cloud::CLOUD_WAIT`]) as any call, so a delay past it, or a
//! hang, is the platform's timeout answer (141 for a before-hook, 124 for a function).
//! What the client then sees is what it would see of a real engine doing the same.

use super::routes::Call;
use super::{HandlerResult, Reply};
use leancloud::{LcError, Response};
use serde_json::{Map, Value, json};
use std::sync::Mutex;
use std::time::Duration;

/// How many faults an app holds armed at once.
pub const MAX_FAULTS: usize = 64;
/// The longest class, hook or function name a fault names.
pub const MAX_FAULT_NAME_BYTES: usize = 256;
/// The longest delay a fault may add to a call (past the longest wait, 16 s, a delay
/// says no more than a hang).
pub const MAX_FAULT_DELAY: Duration = Duration::from_secs(60);

/// Which call a fault takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A class hook (`beforeSave`, `afterSave`, ..., `onLogin` on `_User`).
    Hook { class: String, hook: String },
    /// A cloud function, by name.
    Function(String),
    /// A storage write of a class: `op` one of `create`, `update`, `delete`, or any.
    Write { class: String, op: Option<String> },
}

/// What the faulty call does instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Fails: a hook or function answers `{"code", "error"}` with `status`; a write is
    /// refused with them.
    Fail {
        status: u16,
        code: i64,
        message: String,
    },
    /// Answers this much later (hooks and functions).
    Delay(Duration),
    /// Never answers (hooks and functions): the caller's wait runs out.
    Hang,
    /// Its engine cannot be reached (hooks and functions).
    Unreachable,
}

/// One fault: a target, an effect, and how long it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub target: Target,
    pub effect: Effect,
    /// The next this many calls; `None`: every call while it holds.
    pub times: Option<u32>,
    /// For this long on the app's clock from when it is set; `None`: until cleared.
    pub for_ms: Option<i64>,
}

impl Fault {
    /// A fault of the hook `hook` (`beforeSave`, `afterSave`, ...) of `class`; it fails
    /// with code 1 until given another effect.
    pub fn hook(class: &str, hook: &str) -> Fault {
        Fault::on(Target::Hook {
            class: class.into(),
            hook: hook.into(),
        })
    }

    /// A fault of the cloud function `name`.
    pub fn function(name: &str) -> Fault {
        Fault::on(Target::Function(name.into()))
    }

    /// A fault of every storage write (create, update, delete) of `class`.
    pub fn write(class: &str) -> Fault {
        Fault::on(Target::Write {
            class: class.into(),
            op: None,
        })
    }

    fn on(target: Target) -> Fault {
        Fault {
            target,
            effect: Effect::Fail {
                status: 400,
                code: 1,
                message: "injected fault".into(),
            },
            times: None,
            for_ms: None,
        }
    }

    /// Of a write fault: only writes of this kind (`create`, `update`, `delete`).
    pub fn only(mut self, op: &str) -> Fault {
        if let Target::Write { op: o, .. } = &mut self.target {
            *o = Some(op.into());
        }
        self
    }

    /// Fail with `code` and `message` (HTTP 400).
    pub fn fails(mut self, code: i64, message: &str) -> Fault {
        self.effect = Effect::Fail {
            status: 400,
            code,
            message: message.into(),
        };
        self
    }

    /// Answer `delay` late.
    pub fn delays(mut self, delay: Duration) -> Fault {
        self.effect = Effect::Delay(delay);
        self
    }

    /// Never answer.
    pub fn hangs(mut self) -> Fault {
        self.effect = Effect::Hang;
        self
    }

    /// Its engine cannot be reached.
    pub fn unreachable(mut self) -> Fault {
        self.effect = Effect::Unreachable;
        self
    }

    /// Only the next call.
    pub fn once(self) -> Fault {
        self.times(1)
    }

    /// Only the next `n` calls.
    pub fn times(mut self, n: u32) -> Fault {
        self.times = Some(n);
        self
    }

    /// Only for `window` on the app's clock from when it is set.
    pub fn within(mut self, window: Duration) -> Fault {
        self.for_ms = Some(i64::try_from(window.as_millis()).unwrap_or(i64::MAX));
        self
    }

    /// The fault as `POST /__mock/faults` takes it.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        match &self.target {
            Target::Hook { class, hook } => {
                out.insert("class".into(), json!(class));
                out.insert("hook".into(), json!(hook));
            }
            Target::Function(name) => {
                out.insert("function".into(), json!(name));
            }
            Target::Write { class, op } => {
                out.insert("write".into(), json!(class));
                if let Some(op) = op {
                    out.insert("op".into(), json!(op));
                }
            }
        }
        match &self.effect {
            Effect::Fail {
                status,
                code,
                message,
            } => out.insert(
                "fail".into(),
                json!({"status": status, "code": code, "error": message}),
            ),
            Effect::Delay(d) => out.insert("delayMs".into(), json!(d.as_millis() as u64)),
            Effect::Hang => out.insert("hang".into(), json!(true)),
            Effect::Unreachable => out.insert("unreachable".into(), json!(true)),
        };
        if let Some(n) = self.times {
            out.insert("times".into(), json!(n));
        }
        if let Some(ms) = self.for_ms {
            out.insert("forMs".into(), json!(ms));
        }
        Value::Object(out)
    }

    /// A fault from `POST /__mock/faults`'s body (see the README); 107 for anything
    /// else.
    pub fn from_json(body: &Map<String, Value>) -> Result<Fault, LcError> {
        const KEYS: [&str; 11] = [
            "class",
            "hook",
            "function",
            "write",
            "op",
            "fail",
            "delayMs",
            "hang",
            "unreachable",
            "times",
            "forMs",
        ];
        if let Some(key) = body.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(bad(format!("unknown key '{key}'")));
        }
        let text = |key: &str| -> Result<Option<String>, LcError> {
            match body.get(key) {
                None => Ok(None),
                Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_FAULT_NAME_BYTES => {
                    Ok(Some(s.clone()))
                }
                Some(_) => Err(bad(format!(
                    "'{key}' is a name of 1 to {MAX_FAULT_NAME_BYTES} bytes"
                ))),
            }
        };
        let (class, hook, function, write, op) = (
            text("class")?,
            text("hook")?,
            text("function")?,
            text("write")?,
            text("op")?,
        );
        if op.is_some() && write.is_none() {
            return Err(bad("'op' goes with 'write'"));
        }
        let target = match (class, hook, function, write) {
            (Some(class), Some(hook), None, None) => Target::Hook { class, hook },
            (None, Some(hook), None, None) if hook.starts_with("on") => Target::Hook {
                class: "_User".into(),
                hook,
            },
            (None, None, Some(name), None) => Target::Function(name),
            (None, None, None, Some(class)) => {
                if let Some(op) = &op
                    && !["create", "update", "delete"].contains(&op.as_str())
                {
                    return Err(bad("'op' is create, update or delete"));
                }
                Target::Write { class, op }
            }
            _ => {
                return Err(bad(
                    "name one target: {\"class\", \"hook\"}, {\"function\"} or {\"write\"}",
                ));
            }
        };
        let flag = |key: &str| body.get(key) == Some(&Value::Bool(true));
        let mut effects = Vec::new();
        if let Some(fail) = body.get("fail") {
            let fail = fail
                .as_object()
                .ok_or_else(|| bad("'fail' is {\"code\", \"error\", \"status\"?}"))?;
            let code = fail
                .get("code")
                .and_then(Value::as_i64)
                .ok_or_else(|| bad("'fail' needs a whole-number 'code'"))?;
            let message = match fail.get("error") {
                None => "injected fault".to_string(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => return Err(bad("'fail.error' is a string")),
            };
            let status = match fail.get("status") {
                None => 400,
                Some(s) => s
                    .as_u64()
                    .filter(|s| (400..=599).contains(s))
                    .ok_or_else(|| bad("'fail.status' is an HTTP error status, 400 to 599"))?
                    as u16,
            };
            effects.push(Effect::Fail {
                status,
                code,
                message,
            });
        }
        if let Some(ms) = body.get("delayMs") {
            let ms = ms
                .as_u64()
                .filter(|ms| *ms as u128 <= MAX_FAULT_DELAY.as_millis())
                .ok_or_else(|| {
                    bad(format!(
                        "'delayMs' is 0 to {} milliseconds",
                        MAX_FAULT_DELAY.as_millis()
                    ))
                })?;
            effects.push(Effect::Delay(Duration::from_millis(ms)));
        }
        if flag("hang") {
            effects.push(Effect::Hang);
        }
        if flag("unreachable") {
            effects.push(Effect::Unreachable);
        }
        let effect = match effects.as_slice() {
            [one] => one.clone(),
            _ => {
                return Err(bad(
                    "give one effect: fail, delayMs, hang: true or unreachable: true",
                ));
            }
        };
        if matches!(target, Target::Write { .. }) && !matches!(effect, Effect::Fail { .. }) {
            return Err(bad(
                "a write fault fails; delays and hangs are for hooks and functions",
            ));
        }
        let times = match body.get("times") {
            None => None,
            Some(n) => Some(
                n.as_u64()
                    .filter(|n| (1..=u64::from(u32::MAX)).contains(n))
                    .ok_or_else(|| bad("'times' is a whole number from 1"))? as u32,
            ),
        };
        let for_ms = match body.get("forMs") {
            None => None,
            Some(n) => Some(
                n.as_i64()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| bad("'forMs' is a whole number of milliseconds from 1"))?,
            ),
        };
        Ok(Fault {
            target,
            effect,
            times,
            for_ms,
        })
    }
}

fn bad(detail: impl std::fmt::Display) -> LcError {
    LcError::invalid_json_detail(detail)
}

/// A fault as it is held: how many calls it has left and until when.
#[derive(Debug, Clone)]
struct Armed {
    id: u64,
    fault: Fault,
    left: Option<u32>,
    until_ms: Option<i64>,
    fired: u32,
}

impl Armed {
    fn to_json(&self) -> Value {
        let mut v = self.fault.to_json();
        v["id"] = json!(self.id);
        v["left"] = json!(self.left);
        v["until"] = json!(self.until_ms.map(leancloud::value::format_date));
        v["fired"] = json!(self.fired);
        v
    }
}

/// The faults an app holds armed.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Mutex<(u64, Vec<Armed>)>,
}

impl Faults {
    /// Arm `fault` at `now_ms` (the app's clock); its id.
    pub fn add(&self, fault: Fault, now_ms: i64) -> Result<Value, LcError> {
        let mut armed = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        armed.1.retain(|a| a.until_ms.is_none_or(|u| now_ms < u));
        if armed.1.len() >= MAX_FAULTS {
            return Err(LcError::generic(format!(
                "The app holds {MAX_FAULTS} faults at most; clear some first."
            )));
        }
        armed.0 += 1;
        let entry = Armed {
            id: armed.0,
            left: fault.times,
            until_ms: fault.for_ms.map(|ms| now_ms.saturating_add(ms)),
            fault,
            fired: 0,
        };
        let shown = entry.to_json();
        armed.1.push(entry);
        Ok(shown)
    }

    /// The faults still armed at `now_ms`, oldest first.
    pub fn list(&self, now_ms: i64) -> Vec<Value> {
        let armed = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        armed
            .1
            .iter()
            .filter(|a| a.until_ms.is_none_or(|u| now_ms < u))
            .map(Armed::to_json)
            .collect()
    }

    /// Disarm every fault.
    pub fn clear(&self) {
        self.armed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clear();
    }

    /// The effect of the first armed fault `matches` takes at `now_ms`, counting the
    /// call against it.
    fn take(&self, now_ms: i64, matches: impl Fn(&Target) -> bool) -> Option<Effect> {
        let mut armed = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        let list = &mut armed.1;
        if list.is_empty() {
            return None;
        }
        list.retain(|a| a.until_ms.is_none_or(|u| now_ms < u));
        let at = list.iter().position(|a| matches(&a.fault.target))?;
        let entry = &mut list[at];
        entry.fired += 1;
        let effect = entry.fault.effect.clone();
        if let Some(left) = &mut entry.left {
            *left -= 1;
            if *left == 0 {
                list.remove(at);
            }
        }
        Some(effect)
    }

    /// A fault of the hook `hook` of `class`, for the call about to be made.
    pub fn take_hook(&self, class: &str, hook: &str, now_ms: i64) -> Option<Effect> {
        self.take(
            now_ms,
            |t| matches!(t, Target::Hook { class: c, hook: h } if c == class && h == hook),
        )
    }

    /// A fault of the cloud function `name`, for the call about to be made.
    pub fn take_function(&self, name: &str, now_ms: i64) -> Option<Effect> {
        self.take(now_ms, |t| matches!(t, Target::Function(n) if n == name))
    }

    /// The error a write of `class` (`op`: create, update, delete) is to fail with.
    pub fn take_write(&self, class: &str, op: &str, now_ms: i64) -> Option<LcError> {
        let effect = self.take(now_ms, |t| {
            matches!(t, Target::Write { class: c, op: o }
                if c == class && o.as_deref().is_none_or(|o| o == op))
        })?;
        match effect {
            Effect::Fail {
                status,
                code,
                message,
            } => Some(LcError::new(status, code, message)),
            _ => None,
        }
    }
}

/// What an engine call does under `effect`, in place of being sent: `None` when it is
/// still to be sent (after `Delay`'s wait).
pub(super) fn engine_answer(effect: &Effect, what: &str) -> Option<Result<Response, LcError>> {
    match effect {
        Effect::Fail {
            status,
            code,
            message,
        } => Some(Ok(Response::json(
            *status,
            &json!({"code": code, "error": message}),
        ))),
        Effect::Unreachable => Some(Err(LcError::connection_failed(format!(
            "connection refused (a fault set on {what})"
        )))),
        Effect::Delay(_) | Effect::Hang => None,
    }
}

/// `POST /__mock/faults`: arm a fault; answers it as `GET` lists it (with its `id`).
pub fn add(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let fault = Fault::from_json(call.body)?;
    let shown = call.api.add_fault(fault)?;
    Ok(Reply::ok(shown))
}

/// `GET /__mock/faults`: `{"results": [...]}`, the faults still armed, oldest first.
pub fn list(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    Ok(Reply::ok(json!({"results": call.api.faults()})))
}

/// `DELETE /__mock/faults`: disarm them all.
pub fn clear(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    call.api.clear_faults();
    Ok(Reply::ok(json!({})))
}
