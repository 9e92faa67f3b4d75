//! The properties, as pure functions of a request and its answer (the store comparison
//! is in the runner, which holds the store).

use generative::fuzz::{Target, is_open, truncate};
use leancloud::{Request, Response};
use serde_json::Value;

/// Which property a problem breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    /// A panic, in the api, the engine or the cloud code they run.
    Panic,
    /// A status outside 200..=599.
    Status,
    /// An answer that is not JSON (an empty body passes on 2xx only).
    NotJson,
    /// An error answer (4xx/5xx) that is not `{"code": int, "error": string}`, or a batch
    /// item that is neither `{"success": ...}` nor `{"error": {code, error}}`.
    ErrorShape,
    /// An error body (`{"code", "error"}` and nothing else) with a 2xx status.
    ErrorWith200,
    /// A 5xx from the app without cloud code: an internal error (a request past a work
    /// limit, 503 with code 124, is not one).
    Internal,
    /// A cloud function's 2xx answer without `{"result": ...}`.
    FunctionShape,
    /// A refused request changed what is stored.
    StoreChanged,
    /// A plain request after the case was not answered normally.
    NoAnswer,
    /// After-hooks still running long after the request.
    NotIdle,
    /// A password or session token kept in the traces.
    SecretInTraces,
}

/// One broken property, at one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub property: Property,
    pub detail: String,
    /// The open finding of issue 13 this is, if any (then it is counted, not failed).
    pub finding: Option<u32>,
}

impl Problem {
    pub fn new(property: Property, detail: impl Into<String>) -> Problem {
        Problem {
            property,
            detail: detail.into(),
            finding: None,
        }
    }

    fn on(mut self, request: &Request) -> Problem {
        self.finding = attribute(self.property, request);
        self
    }
}

/// The open finding a problem is, by its property and request: finding 3 (traces keep
/// secrets), finding 4 (a cloud function's engine failure answered with 200, or as the
/// engine answered it: no status, not JSON, not LeanCloud-shaped).
fn attribute(property: Property, request: &Request) -> Option<u32> {
    let function =
        request.path.starts_with("/1.1/functions/") || request.path.starts_with("/1.1/call/");
    let finding = match property {
        Property::SecretInTraces => 3,
        Property::ErrorWith200
        | Property::NotJson
        | Property::ErrorShape
        | Property::Status
        | Property::FunctionShape
            if function =>
        {
            4
        }
        _ => return None,
    };
    is_open(finding).then_some(finding)
}

/// `{"code": int, "error": string}` and nothing else.
pub fn is_error_body(v: &Value) -> bool {
    v.as_object().is_some_and(|m| {
        m.len() == 2
            && m.get("code").is_some_and(Value::is_i64)
            && m.get("error").is_some_and(Value::is_string)
    })
}

/// A body read as JSON.
pub enum Parsed {
    Json(Value),
    /// Valid JSON nested deeper than serde_json reads by default (128 levels): a
    /// request body nested 127 deep comes back inside a trace, say.
    TooDeep,
    NotJson,
}

pub fn parse(body: &[u8]) -> Parsed {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => Parsed::Json(v),
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => Parsed::TooDeep,
        Err(_) => Parsed::NotJson,
    }
}

/// Every property one answer must have on its own.
pub fn answer(target: Target, plain_app: bool, request: &Request, resp: &Response) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut problem = |p: Property, detail: String| out.push(Problem::new(p, detail).on(request));
    let shown = || truncate(&String::from_utf8_lossy(&resp.body), 300);
    if !(200..=599).contains(&resp.status) {
        problem(
            Property::Status,
            format!("status {}: {}", resp.status, shown()),
        );
    }
    let body = match parse(&resp.body) {
        _ if resp.body.is_empty() && resp.status < 300 => Value::Null,
        Parsed::Json(v) => v,
        Parsed::TooDeep if resp.status < 400 => return out,
        Parsed::TooDeep | Parsed::NotJson => {
            let p = if resp.status >= 400 {
                Property::ErrorShape
            } else {
                Property::NotJson
            };
            problem(p, format!("status {}: {}", resp.status, shown()));
            return out;
        }
    };
    if resp.status >= 400 {
        if !is_error_body(&body) {
            problem(
                Property::ErrorShape,
                format!("status {}: {}", resp.status, shown()),
            );
        }
        // 503 with code 124 is the answer to a request past a work limit (the README's
        // Limits table), not an internal error.
        let over_budget = resp.status == 503 && body.get("code") == Some(&Value::from(124));
        if resp.status >= 500 && !over_budget && plain_app && target == Target::Api {
            problem(
                Property::Internal,
                format!("status {}: {}", resp.status, shown()),
            );
        }
    } else if is_error_body(&body) {
        problem(
            Property::ErrorWith200,
            format!("status {}: {}", resp.status, shown()),
        );
    } else if target == Target::Api && is_function(request) && body.get("result").is_none() {
        problem(
            Property::FunctionShape,
            format!("status {}: {}", resp.status, shown()),
        );
    }
    if target == Target::Api && is_batch(request) && resp.status == 200 {
        for item in body.as_array().into_iter().flatten() {
            let fine = item.as_object().is_some_and(|m| {
                m.len() == 1
                    && (m.contains_key("success") || m.get("error").is_some_and(is_error_body))
            });
            if !fine {
                problem(
                    Property::ErrorShape,
                    format!("batch item {}", truncate(&item.to_string(), 300)),
                );
            }
        }
    }
    out
}

/// A call of a cloud function through the api (`POST /1.1/functions/<name>`,
/// `/1.1/call/<name>`), which answers `{"result": ...}` when it succeeds.
fn is_function(request: &Request) -> bool {
    let path = request.path.trim_end_matches('/');
    let name = path
        .strip_prefix("/1.1/functions/")
        .or_else(|| path.strip_prefix("/1.1/call/"));
    request.method == "POST" && name.is_some_and(|n| !n.is_empty() && !n.contains('/'))
}

fn is_batch(request: &Request) -> bool {
    request.method == "POST" && request.path.trim_end_matches('/') == "/1.1/batch"
}

/// How a request's answer binds the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// Accepted: it may have changed the store.
    Accepted,
    /// Refused: the store must be as before (see the suite's docs for what counts).
    Refused,
    /// Refused, but what it called writes by design: a direct call of an after-hook.
    Exempt,
    /// A read (`GET` to the api), whatever it answered: the store must be as before.
    Read,
}

/// Whether an answer is a refusal: any status from 400 up; for a batch (which answers
/// 200 whatever its items did), every item failed, and there was at least one. A `GET`
/// to the api is a read either way.
pub fn binding(target: Target, request: &Request, resp: &Response) -> Binding {
    if target == Target::Api && request.method == "GET" {
        return Binding::Read;
    }
    let refused = if resp.status >= 400 {
        true
    } else if target == Target::Api && is_batch(request) && resp.status == 200 {
        serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .is_some_and(|items| {
                !items.is_empty() && items.iter().all(|i| i.get("error").is_some())
            })
    } else {
        false
    };
    if !refused {
        return Binding::Accepted;
    }
    let after_hook = ["/afterSave", "/afterUpdate", "/afterDelete"]
        .iter()
        .any(|h| request.path.trim_end_matches('/').ends_with(h));
    if target == Target::Engine && after_hook {
        Binding::Exempt
    } else {
        Binding::Refused
    }
}

/// Whether cloud code wrote during the request `line` (`METHOD path`), by the traces
/// (as `Api::traces` shows them, the request's own last): an accepted write under one
/// of its hooks, or among the top-level requests after it, which cloud functions' code
/// made while it ran (requests run one at a time here).
pub fn cloud_code_wrote(traces: &[Value], line: &str) -> bool {
    let Some(own) = traces
        .iter()
        .rposition(|t| t.get("request").and_then(Value::as_str) == Some(line))
    else {
        return false;
    };
    let mut stack: Vec<(&Value, bool)> = vec![(&traces[own], false)];
    stack.extend(traces[own + 1..].iter().map(|t| (t, true)));
    while let Some((node, by_cloud_code)) = stack.pop() {
        if by_cloud_code {
            let write = node
                .get("request")
                .and_then(Value::as_str)
                .is_some_and(|r| !r.starts_with("GET "));
            let ok = node
                .get("status")
                .and_then(Value::as_u64)
                .is_some_and(|s| s < 400);
            if write && ok {
                return true;
            }
        }
        for hook in node
            .get("hooks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for req in hook
                .get("requests")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                stack.push((req, true));
            }
        }
    }
    false
}
