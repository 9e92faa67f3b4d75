//! `POST /1.1/batch`: each item runs like its own request with the caller's
//! credentials, in order, not atomically; the answer lists `{"success": ...}` or
//! `{"error": {...}}` per item.

use super::routes::{self, Call};
use super::{HandlerResult, Reply};
use leancloud::{LcError, Request};
use serde_json::{Map, Value};

pub fn batch(call: &Call<'_>) -> HandlerResult {
    let Some(items) = call.body.get("requests").and_then(Value::as_array) else {
        return Err(LcError::generic(
            "Batch requests must be an array named 'requests'.",
        ));
    };
    let mut ctx = call.ctx.clone();
    ctx.in_batch = true;
    let results = items
        .iter()
        .map(|item| match run_item(call, &ctx, item) {
            Ok(v) => single("success", v),
            Err(e) => single("error", e.to_json()),
        })
        .collect();
    Ok(Reply::ok(Value::Array(results)))
}

fn single(key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.into(), value);
    Value::Object(m)
}

fn run_item(call: &Call<'_>, ctx: &super::Ctx, item: &Value) -> Result<Value, LcError> {
    let method = item
        .get("method")
        .and_then(Value::as_str)
        .ok_or_else(|| LcError::generic("A batch request needs a 'method'."))?;
    let path = item
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| LcError::generic("A batch request needs a 'path'."))?;
    let path = if path.starts_with("/1.1/") {
        path.to_string()
    } else {
        format!("/1.1/{}", path.trim_start_matches('/'))
    };
    if path.starts_with("/1.1/batch") {
        return Err(LcError::generic("Batch requests cannot be nested."));
    }
    let mut sub = Request::from_target(method, &path);
    sub.headers = call.request.headers.clone();
    if let Some(params) = item.get("params").and_then(Value::as_object) {
        for (k, v) in params {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            sub.query.push((k.clone(), text));
        }
    }
    let body = match item.get("body") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(LcError::invalid_json()),
    };
    routes::route(call.api, ctx, &sub, &body).map(|reply: Reply| reply.body)
}
