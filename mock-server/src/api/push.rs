//! Push (`lc_model::push`): `POST /1.1/push` and `/1.1/push/devices`, the notification
//! records at `/1.1/tables/Notifications/<objectId>`, and the scheduled pushes (master
//! key) at `/1.1/scheduledPushMessages`. Every notification lands in the outbox.

use super::routes::Call;
use super::{HandlerResult, Reply};
use lc_model::push::{self, MAX_DEVICE_IDS, MAX_PUSH_BODY_BYTES};
use leancloud::LcError;
use leancloud::error::code;
use serde_json::{Value, json};

fn check_size(call: &Call<'_>) -> Result<(), LcError> {
    if call.request.body.len() > MAX_PUSH_BODY_BYTES {
        return Err(LcError::invalid_json_detail(format!(
            "a push request is at most {MAX_PUSH_BODY_BYTES} bytes"
        )));
    }
    Ok(())
}

fn answer(n: &push::Notification) -> HandlerResult {
    Ok(Reply::ok(json!({
        "objectId": n.object_id,
        "createdAt": leancloud::value::format_date(n.created_at),
    })))
}

/// `POST /1.1/push`: to the installations `where` and `channels` select (all of them
/// without either), now or at `push_time`.
pub fn send(call: &Call<'_>) -> HandlerResult {
    check_size(call)?;
    let mut store = call.api.store();
    let now = store.clock.now_ms();
    push::send_due(&mut store, now);
    let request = push::Request::parse(call.body, now)?;
    let n = push::submit(&mut store, request, now)?;
    answer(&n)
}

/// `POST /1.1/push/devices`: to the installations `device_ids` name (`device_type`
/// `ios`, `android` or `wp`; at most [`MAX_DEVICE_IDS`]).
pub fn send_to_devices(call: &Call<'_>) -> HandlerResult {
    check_size(call)?;
    let device_type = match call.body.get("device_type").and_then(Value::as_str) {
        Some(t @ ("ios" | "android" | "wp")) => t.to_string(),
        _ => {
            return Err(LcError::invalid_json_detail(
                "device_type is ios, android or wp",
            ));
        }
    };
    let ids: Vec<String> = match call.body.get("device_ids") {
        Some(Value::Array(ids)) if !ids.is_empty() && ids.len() <= MAX_DEVICE_IDS => ids
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| LcError::invalid_json_detail("device_ids are strings"))?,
        _ => {
            return Err(LcError::invalid_json_detail(format!(
                "device_ids is an array of 1 to {MAX_DEVICE_IDS} ids"
            )));
        }
    };
    let mut body = call.body.clone();
    body.remove("channels");
    body.insert("where".into(), push::devices_where(&device_type, &ids));
    let mut store = call.api.store();
    let now = store.clock.now_ms();
    push::send_due(&mut store, now);
    let request = push::Request::parse(&body, now)?;
    let n = push::submit(&mut store, request, now)?;
    answer(&n)
}

/// `GET /1.1/tables/Notifications/<objectId>`: a push's record.
pub fn notification(call: &Call<'_>) -> HandlerResult {
    let mut store = call.api.store();
    let now = store.clock.now_ms();
    push::send_due(&mut store, now);
    let n = store.services.pushes.get(call.param(0)).ok_or_else(|| {
        LcError::new(
            404,
            code::OBJECT_NOT_FOUND,
            "Could not find the notification.",
        )
    })?;
    Ok(Reply::ok(n.to_json()))
}

/// `GET /1.1/scheduledPushMessages` (master key): the pushes waiting for their time.
pub fn scheduled(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let mut store = call.api.store();
    let now = store.clock.now_ms();
    push::send_due(&mut store, now);
    let app_id = call.api.config().app_id.clone();
    let results: Vec<Value> = store
        .services
        .pushes
        .scheduled()
        .into_iter()
        .map(|n| n.scheduled_json(&app_id))
        .collect();
    Ok(Reply::ok(json!({ "results": results })))
}

/// `DELETE /1.1/scheduledPushMessages/<id>` (master key): cancel a push still waiting.
pub fn cancel(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let id: u64 = call.param(0).parse().map_err(|_| {
        LcError::new(
            404,
            code::OBJECT_NOT_FOUND,
            "Could not find the scheduled push.",
        )
    })?;
    let mut store = call.api.store();
    let now = store.clock.now_ms();
    push::send_due(&mut store, now);
    if !store.services.pushes.cancel(id, now) {
        return Err(LcError::new(
            404,
            code::OBJECT_NOT_FOUND,
            "Could not find the scheduled push.",
        ));
    }
    Ok(Reply::ok(json!({})))
}
