//! `GET /__mock/health` (master key): whether the app answers and, with `--data`, whether
//! its database does, for a container's health check or a load balancer's readiness
//! probe. LeanCloud has no such route; the answer is the emulator's own.

use super::routes::Call;
use super::{HandlerResult, Reply};
use leancloud::LcError;
use serde_json::json;

pub fn health(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let (classes, objects) = {
        let store = call.api.read_store();
        let objects: usize = store.classes.values().map(|c| c.objects.len()).sum();
        (store.classes.len(), objects)
    };
    let storage = match call.api.durable.get() {
        None => json!({"kind": "memory"}),
        Some(durable) => match durable.check() {
            Ok(()) => json!({"kind": "data", "ok": true}),
            Err(e) => {
                return Ok(Reply {
                    status: 503,
                    body: json!({"status": "unavailable", "storage": {"kind": "data", "ok": false, "error": e}}),
                    headers: Vec::new(),
                });
            }
        },
    };
    Ok(Reply::ok(json!({
        "status": "ok",
        "classes": classes,
        "objects": objects,
        "storage": storage,
    })))
}
