//! Small endpoints: the server date, and the emulator's own control endpoints
//! (`/__mock/...`, master key only).

use super::routes::Call;
use super::{HandlerResult, Reply};
use lc_model::outbox::{Channel, Filter};
use leancloud::LcError;
use serde_json::json;

/// `GET /1.1/date`.
pub fn server_date(call: &Call<'_>) -> HandlerResult {
    let now = call.api.read_store().clock.now_ms();
    Ok(Reply::ok(
        json!({"__type": "Date", "iso": leancloud::value::format_date(now)}),
    ))
}

/// `POST /__mock/reset`: empty the app.
pub fn reset(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    call.api.reset();
    Ok(Reply::ok(json!({})))
}

/// `POST /__mock/snapshots` with `{"name": "<name>"}`: keep what the app holds now under
/// that name. Constant time, whatever the data's size.
pub fn save_snapshot(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let name = call
        .body
        .get("name")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| LcError::invalid_json_detail("expected {\"name\": \"<snapshot name>\"}"))?;
    call.api.save_snapshot(name)?;
    Ok(Reply::ok(json!({"name": name})))
}

/// `POST /__mock/snapshots/<name>/restore`: return the app to that snapshot (404, code
/// 101, for a name never saved).
pub fn restore_snapshot(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    call.api.restore_snapshot(call.param(0))?;
    Ok(Reply::ok(json!({})))
}

/// How long `POST /__mock/idle` waits at most (a `?timeout=<ms>` may ask for less or
/// more, up to a minute).
const IDLE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// `POST /__mock/idle`: answer once every after-hook (and everything they caused) has
/// finished: `{"idle": true}`; `{"idle": false, "pending": n}` with 503 when the wait ran
/// out first.
pub fn idle(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let wait = call
        .request
        .query_param("timeout")
        .and_then(|ms| ms.parse::<u64>().ok())
        .map_or(IDLE_WAIT, |ms| {
            std::time::Duration::from_millis(ms.min(60_000))
        });
    if call.api.idle_blocking(wait) {
        Ok(Reply::ok(json!({"idle": true})))
    } else {
        let pending = call.api.cloud().map_or(0, |c| c.pending());
        Ok(Reply {
            status: 503,
            body: json!({"idle": false, "pending": pending}),
            headers: Vec::new(),
        })
    }
}

/// `GET /__mock/traces`: `{"results": [...]}`, the traces of the last requests, oldest
/// first (see `api::trace`).
pub fn traces(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    Ok(Reply::ok(json!({"results": call.api.traces()})))
}

/// `DELETE /__mock/traces`: forget the traces kept so far.
pub fn clear_traces(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    call.api.clear_traces();
    Ok(Reply::ok(json!({})))
}

/// `GET /__mock/outbox[?channel=sms|email|push|captcha][&to=...][&purpose=...]`:
/// `{"results": [...]}`, what the app would have sent, oldest first (see
/// `lc_model::outbox`). An unknown channel is 400 with code 107.
pub fn outbox(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let q = &call.request;
    let channel = match q.query_param("channel") {
        None | Some("") => None,
        Some(name) => Some(Channel::parse(name).ok_or_else(|| {
            LcError::invalid_json_detail("channel is one of sms, email, push, captcha")
        })?),
    };
    let filter = Filter {
        channel,
        to: q.query_param("to").map(str::to_string),
        purpose: q.query_param("purpose").map(str::to_string),
    };
    let messages = call.api.outbox(&filter);
    let shown: Vec<&lc_model::outbox::Message> = messages.iter().map(AsRef::as_ref).collect();
    Ok(Reply::ok(json!({"results": shown})))
}

/// `DELETE /__mock/outbox`: forget what the outbox holds.
pub fn clear_outbox(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    call.api.clear_outbox();
    Ok(Reply::ok(json!({})))
}
