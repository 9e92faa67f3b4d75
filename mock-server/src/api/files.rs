//! Files (`lc_model::files`): `POST /1.1/fileTokens` and the keyless upload it hands out
//! (`PUT /uploads/<token>`, the S3-style upload the JS SDK follows), `POST
//! /1.1/fileCallback`, a direct `POST /1.1/files/<name>` of the bytes, an external file
//! by `POST /1.1/files` with a `url`, `GET`/`DELETE /1.1/files/<id>`, and the bytes served
//! keyless at the file's URL, `GET /<key>` (or `/files/<key>`; thumbnail parameters
//! accepted and ignored).

use super::routes::Call;
use super::{Api, HandlerResult, Reply};
use lc_model::files::{self, BlobStore, MAX_FILE_BYTES};
use leancloud::{LcError, Request, Response};
use serde_json::{Map, Value, json};

/// `http://<host>` of the request, for the URLs a file is given.
fn base(request: &Request) -> String {
    format!("http://{}", request.header("host").unwrap_or("127.0.0.1"))
}

fn meta_of(body: &Map<String, Value>) -> Map<String, Value> {
    body.get("metaData")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// `POST /1.1/fileTokens`: a `_File` row waiting for its bytes, and where to put them.
pub fn file_token(call: &Call<'_>) -> HandlerResult {
    let name = call
        .body
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| LcError::invalid_json_detail("name is required"))?
        .to_string();
    let mut store = call.api.store();
    let who = call.principal(&store)?;
    let now = store.clock.now_ms();
    let token = store.ids.token();
    let key = match call.body.get("key").and_then(Value::as_str) {
        Some(k) if !k.is_empty() && !k.contains('/') => k.to_string(),
        _ => {
            let ext = name
                .rsplit_once('.')
                .map(|(_, e)| format!(".{e}"))
                .unwrap_or_default();
            format!("{}{ext}", store.ids.token())
        }
    };
    let mime = call
        .body
        .get("mime_type")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| files::mime_of(&name).to_string());
    let url = format!("{}/{key}", base(call.request));
    let mut meta = meta_of(call.body);
    if let Some(user) = who.user_id() {
        meta.entry("owner").or_insert(json!(user));
    }
    let acl = call.body.get("ACL").filter(|a| a.is_object()).cloned();
    let id = files::new_file(&mut store, &name, &key, &url, &mime, meta, acl, now);
    store.services.files.add_pending(&token, &id)?;
    Ok(Reply::ok(json!({
        "objectId": id,
        "token": token,
        "upload_url": format!("{}/uploads/{token}", base(call.request)),
        "url": url,
        "bucket": files::BUCKET,
        "provider": "s3",
        "key": key,
        "mime_type": mime,
    })))
}

/// `POST /1.1/fileCallback` with `{token, result}`: a failed upload takes its row away.
pub fn file_callback(call: &Call<'_>) -> HandlerResult {
    let token = call
        .body
        .get("token")
        .and_then(Value::as_str)
        .ok_or_else(|| LcError::invalid_json_detail("token is required"))?;
    let ok = call
        .body
        .get("result")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let mut store = call.api.store();
    let Some(id) = store.services.files.finish(token) else {
        return Err(LcError::new(400, 1, "Unknown file token."));
    };
    if !ok {
        files::remove(&mut store, &id);
    }
    Ok(Reply::ok(json!({})))
}

/// `POST /1.1/files/<name>` with the bytes as the body (its `Content-Type` kept).
pub fn upload_direct(call: &Call<'_>) -> HandlerResult {
    let name = call.param(0).to_string();
    let bytes = call.request.body.clone();
    if bytes.len() > MAX_FILE_BYTES {
        return Err(LcError::payload_too_large());
    }
    let mime = call
        .request
        .header("content-type")
        .filter(|t| !t.starts_with("application/json"))
        .map(str::to_string)
        .unwrap_or_else(|| files::mime_of(&name).to_string());
    let mut store = call.api.store();
    let who = call.principal(&store)?;
    let now = store.clock.now_ms();
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| format!(".{e}"))
        .unwrap_or_default();
    let key = format!("{}{ext}", store.ids.token());
    let url = format!("{}/{key}", base(call.request));
    let mut meta = Map::new();
    meta.insert("size".into(), json!(bytes.len()));
    if let Some(user) = who.user_id() {
        meta.insert("owner".into(), json!(user));
    }
    let id = files::new_file(&mut store, &name, &key, &url, &mime, meta, None, now);
    store.services.files.put(&key, bytes, &mime);
    Ok(Reply::created(
        json!({"objectId": id, "url": url, "name": name, "createdAt": leancloud::value::format_date(now)}),
        format!("/1.1/files/{id}"),
    ))
}

/// `POST /1.1/files` with `{name, url, mime_type, metaData}`: an external file.
pub fn create_external(call: &Call<'_>) -> HandlerResult {
    let text = |key: &str| call.body.get(key).and_then(Value::as_str);
    let (Some(name), Some(url)) = (text("name"), text("url")) else {
        return Err(LcError::invalid_json_detail("name and url are required"));
    };
    let mut store = call.api.store();
    let now = store.clock.now_ms();
    let mut meta = meta_of(call.body);
    meta.entry("__source").or_insert(json!("external"));
    let mime = text("mime_type")
        .map(str::to_string)
        .unwrap_or_else(|| files::mime_of(name).to_string());
    let acl = call.body.get("ACL").filter(|a| a.is_object()).cloned();
    let id = files::new_file(&mut store, name, "", url, &mime, meta, acl, now);
    Ok(Reply::created(
        json!({"objectId": id, "createdAt": leancloud::value::format_date(now)}),
        format!("/1.1/files/{id}"),
    ))
}

/// `GET /1.1/files/<id>`: the `_File` row as the caller may read it.
pub fn get_file(call: &Call<'_>) -> HandlerResult {
    super::objects::get_object(&call.for_class("_File"))
}

/// `DELETE /1.1/files/<id>`: the row (as its ACL allows) and the bytes.
pub fn delete_file(call: &Call<'_>) -> HandlerResult {
    let id = call.param(0).to_string();
    let mut store = call.api.store();
    let who = call.principal(&store)?;
    let Some(obj) = store.object("_File", &id) else {
        return Err(LcError::class_or_object_not_found());
    };
    if !who.can_write_stored(obj) {
        return Err(LcError::forbidden_writing_by_acl());
    }
    files::remove(&mut store, &id);
    Ok(Reply::ok(json!({})))
}

/// The keyless file routes: `GET /files/<key>` (the bytes) and `PUT /uploads/<token>`
/// (an upload to a token `fileTokens` handed out); `None` for any other request.
pub(super) fn serve_keyless(api: &Api, request: &Request) -> Option<Response> {
    let path = request.path.as_str();
    // A file's URL is `/<key>` at the host it was asked on, as a file domain's is (the
    // Python SDK's suite checks the path is the key); `/files/<key>` answers too.
    let key = path.strip_prefix("/files/").or_else(|| {
        path.strip_prefix('/')
            .filter(|k| !k.is_empty() && !k.contains('/'))
    });
    if let Some(key) = key.filter(|_| request.method == "GET" || request.method == "HEAD") {
        let store = api.read_store();
        // No route of the API has a single segment, so such a path is always a file's.
        return Some(match store.services.files.get(key) {
            Some(blob) => Response {
                status: 200,
                headers: vec![
                    ("content-type".into(), blob.content_type.clone().into()),
                    ("cache-control".into(), "public, max-age=31536000".into()),
                ],
                body: blob.bytes.clone(),
            },
            None => Response::json(404, &json!({"code": 404, "error": "File not found."})),
        });
    }
    let token = path.strip_prefix("/uploads/")?;
    if request.method != "PUT" {
        return None;
    }
    let mut store = api.store();
    let Some(id) = store.services.files.pending(token).cloned() else {
        return Some(Response::json(
            403,
            &json!({"code": 403, "error": "Unknown or used upload token."}),
        ));
    };
    if request.body.len() > MAX_FILE_BYTES {
        return Some(Response::error(&LcError::payload_too_large()));
    }
    let Some(row) = store.object("_File", &id) else {
        return Some(Response::json(
            404,
            &json!({"code": 404, "error": "File not found."}),
        ));
    };
    let key = row
        .get("key")
        .and_then(|k| k.as_str().map(str::to_string))
        .unwrap_or_default();
    let mime = request
        .header("content-type")
        .map(str::to_string)
        .or_else(|| {
            row.get("mime_type")
                .and_then(|m| m.as_str().map(str::to_string))
        })
        .unwrap_or_else(|| "application/octet-stream".into());
    let size = request.body.len();
    store.services.files.put(&key, request.body.clone(), &mime);
    files::set_size(&mut store, &id, size);
    Some(Response::json(200, &json!({})))
}
