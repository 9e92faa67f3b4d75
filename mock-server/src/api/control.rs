//! Small endpoints: the server date, and the emulator's own control endpoints
//! (`/__mock/...`, master key only).

use super::routes::Call;
use super::{HandlerResult, Reply};
use leancloud::LcError;
use serde_json::json;

/// `GET /1.1/date`.
pub fn server_date(call: &Call<'_>) -> HandlerResult {
    let now = call.api.store().clock.now_ms();
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
