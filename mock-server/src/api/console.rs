//! What the console (`/console/`, see `http::console`) reads beyond LeanCloud's own API,
//! under `/__mock/` with the master key: the cloud code the engine says it defines, and
//! one hook called alone with an object (as the old local debug page did).

use super::routes::Call;
use super::{HandlerResult, Reply};
use leancloud::{LcError, Request};
use serde_json::{Map, Value, json};
use std::time::Instant;

/// The hooks an engine's metadata names: `__before_save_for_Review` is Review's
/// `beforeSave`, and so on (protocol notes §5: the engine's `_ops/metadatas`).
const HOOK_PREFIXES: [(&str, &str); 6] = [
    ("__before_save_for_", "beforeSave"),
    ("__after_save_for_", "afterSave"),
    ("__before_update_for_", "beforeUpdate"),
    ("__after_update_for_", "afterUpdate"),
    ("__before_delete_for_", "beforeDelete"),
    ("__after_delete_for_", "afterDelete"),
];

/// `GET /__mock/classes` (master key): every class with its row count, its columns
/// (type, target class, required, read-only, hidden, default), its indexes (unique ones
/// marked) and its class permissions: what `GET /1.1/schemas` does not show.
pub fn classes(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let store = call.api.read_store();
    let mut names: Vec<&String> = store.classes.keys().collect();
    names.sort();
    let results: Vec<Value> = names
        .into_iter()
        .filter_map(|name| {
            let data = store.class(name)?;
            let columns: Map<String, Value> = data
                .columns
                .iter()
                .map(|(key, c)| {
                    let mut col = Map::new();
                    col.insert("type".into(), json!(c.kind));
                    if let Some(target) = &c.class_name {
                        col.insert("className".into(), json!(target));
                    }
                    for (flag, on) in [
                        ("required", c.required),
                        ("readonly", c.read_only),
                        ("hidden", c.hidden),
                    ] {
                        if on {
                            col.insert(flag.into(), json!(true));
                        }
                    }
                    if let Some(d) = &c.default {
                        col.insert("default".into(), d.clone());
                    }
                    (key.clone(), Value::Object(col))
                })
                .collect();
            let settings = &data.settings;
            let indexes: Vec<Value> = settings
                .unique
                .iter()
                .map(|keys| json!({"keys": keys, "unique": true}))
                .chain(settings.indexes.iter().map(|keys| json!({"keys": keys})))
                .collect();
            Some(json!({
                "className": name,
                "count": data.objects.len(),
                "columns": columns,
                "indexes": indexes,
                "permissions": settings.permissions.to_json(),
                "defaultACL": settings.default_acl,
            }))
        })
        .collect();
    Ok(Reply::ok(json!({ "results": results })))
}

/// `GET /__mock/cloud` (master key): `{"attached", "functions": [...], "hooks":
/// [{"class", "hook"}], "other": [...]}` from the engine's metadata; `attached: false`
/// without cloud code.
pub fn show(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let Some(cloud) = call.api.cloud() else {
        return Ok(Reply::ok(
            json!({"attached": false, "functions": [], "hooks": [], "other": []}),
        ));
    };
    let mut names: Vec<String> = cloud
        .hook_names()
        .map(|n| n.iter().cloned().collect())
        .unwrap_or_default();
    names.sort();
    let (mut functions, mut hooks, mut other) = (Vec::new(), Vec::new(), Vec::new());
    for name in names {
        if let Some((class, hook)) = HOOK_PREFIXES
            .iter()
            .find_map(|(p, hook)| name.strip_prefix(p).map(|class| (class, *hook)))
        {
            hooks.push(json!({"class": class, "hook": hook}));
        } else if name.starts_with("__") {
            other.push(Value::String(name));
        } else {
            functions.push(Value::String(name));
        }
    }
    Ok(Reply::ok(json!({
        "attached": true,
        "functions": functions,
        "hooks": hooks,
        "other": other,
    })))
}

/// `POST /__mock/cloud/hook` (master key) with `{"class", "hook", "object", "user"?}`:
/// the hook called alone, as the platform calls it (hook key, the object, the user), and
/// `{"status", "body", "ms"}` of the engine's answer. Nothing is stored whatever it
/// answers.
pub fn call_hook(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let text = |key: &str| {
        call.body
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or_else(|| LcError::invalid_json_detail(format!("{key} is a name")))
    };
    let class = text("class")?;
    let hook = text("hook")?;
    if !HOOK_PREFIXES.iter().any(|(_, h)| *h == hook) {
        return Err(LcError::invalid_json_detail(
            "hook is beforeSave, afterSave, beforeUpdate, afterUpdate, beforeDelete or afterDelete",
        ));
    }
    lc_model::names::check_class_name(class)?;
    let object = match call.body.get("object") {
        Some(Value::Object(o)) => Value::Object(o.clone()),
        None => Value::Object(Map::new()),
        Some(_) => return Err(LcError::invalid_json_detail("object is a JSON object")),
    };
    let Some(cloud) = call.api.cloud() else {
        return Err(LcError::new(
            400,
            1,
            "No cloud code is attached to this app.",
        ));
    };
    let config = call.api.config();
    let mut body = Map::new();
    body.insert("object".into(), object);
    if let Some(user) = call.body.get("user").filter(|u| u.is_object()) {
        body.insert("user".into(), user.clone());
    }
    let request = Request::new("POST", &format!("/1.1/functions/{class}/{hook}"))
        .with_json(&Value::Object(body))
        .with_header("x-lc-id", config.app_id.clone())
        .with_header("x-lc-key", config.app_key.clone())
        .with_header("x-lc-hook-key", config.hook_key.clone());
    let started = Instant::now();
    let answer = cloud.send(request);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(Reply::ok(match answer {
        Ok(response) => json!({
            "status": response.status,
            "body": response.body_json().unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&response.body).into_owned())
            }),
            "ms": ms,
        }),
        Err(e) => json!({"status": e.status, "body": e.to_json(), "ms": ms}),
    }))
}

fn dir_param(call: &Call<'_>) -> Result<std::path::PathBuf, LcError> {
    call.body
        .get("dir")
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .ok_or_else(|| LcError::invalid_json_detail("dir is a folder path on the server"))
}

/// `POST /__mock/export` (master key) with `{"dir"}`: the app's state written as a
/// database-settings folder there (a new or empty folder; see `crate::export`).
pub fn export(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let dir = dir_param(call)?;
    let store = call.api.read_store();
    let done = crate::export::settings_folder(&store, &dir)
        .map_err(|e| LcError::new(400, 1, format!("The export failed: {e}")))?;
    Ok(Reply::ok(json!({
        "dir": dir.display().to_string(),
        "classes": done.classes,
        "rows": done.rows,
    })))
}

/// `POST /__mock/load` (master key) with `{"dir"}`: the app replaced by that
/// database-settings folder's classes and rows; a reset returns here. A folder that does
/// not load leaves the app as it was (400, code 1, naming the file and the problem).
pub fn load(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let dir = dir_param(call)?;
    let settings = crate::settings::Settings::load(&dir)
        .map_err(|e| LcError::new(400, 1, format!("The folder does not load: {e}")))?;
    call.api
        .load_settings(&settings)
        .map_err(|e| LcError::new(400, 1, format!("The folder does not load: {e}")))?;
    Ok(Reply::ok(
        json!({"dir": dir.display().to_string(), "classes": settings.classes.len()}),
    ))
}

/// `GET /__mock/sessions?user=<objectId>` (master key): that user's session tokens.
pub fn sessions(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let user = call.request.query_param("user").unwrap_or_default();
    let store = call.api.read_store();
    let mut tokens: Vec<&String> = store
        .sessions
        .iter()
        .filter(|(_, u)| u.as_str() == user)
        .map(|(t, _)| t)
        .collect();
    tokens.sort();
    Ok(Reply::ok(json!({ "results": tokens })))
}
