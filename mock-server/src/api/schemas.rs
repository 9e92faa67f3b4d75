//! `/1.1/schemas`: the app's classes and their columns (master key only), over
//! `lc_model::settings::{schemas, schema}`.

use super::routes::Call;
use super::{HandlerResult, Reply};
use lc_model::settings;
use leancloud::LcError;

/// `GET /1.1/schemas`: `{"<Class>": {"<key>": {"type": ...}, ...}, ...}`.
pub fn schemas(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    Ok(Reply::ok(settings::schemas(&call.api.read_store())))
}

/// `GET /1.1/schemas/<Class>`: the class's `{"<key>": {"type": ...}, ...}`; 404/101 for
/// a class that does not exist.
pub fn schema(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let class = call.param(0);
    lc_model::names::check_class_name(class)?;
    let store = call.api.read_store();
    let data = store
        .class(class)
        .ok_or_else(LcError::class_or_object_not_found)?;
    Ok(Reply::ok(settings::schema(data)))
}
