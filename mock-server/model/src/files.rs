//! Files: `_File` rows, their bytes behind [`BlobStore`] (kept in memory here, so that
//! durable storage can take the bytes over later), the upload tokens handed out by
//! `POST /1.1/fileTokens`, and File fields shown expanded on read.
//!
//! Facts (protocol notes §1.9 and §2): the two-step upload is `POST /1.1/fileTokens
//! {name, key, ACL, mime_type, metaData}` → `{objectId, token, upload_url, url, bucket,
//! provider, key, mime_type}`, the client's upload to the provider (the JS SDK follows
//! `s3` with a `PUT` of the bytes to `upload_url`), then `POST /1.1/fileCallback {token,
//! result}`; an external file is `POST /1.1/files {name, url, mime_type, metaData}`;
//! `_File` rows are `{name, url, mime_type, key, bucket, metaData: {owner, size, …}}`; a
//! File field is written `{"__type":"File","id"}` (or with `objectId`, `name`, `url`…)
//! and read back expanded as `{"__type":"File","objectId","name","url","mime_type",
//! "bucket","metaData","createdAt","updatedAt"}`.
//! Choices: the emulator is its own provider (`s3`, bucket `lc-mock`), and serves the
//! bytes keyless at `/files/<key>` of the host the token was asked of; a failed
//! callback removes the row and the bytes.

use crate::store::{Store, StoredObject};
use imbl::OrdMap;
use leancloud::LcError;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Bytes in one file.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Upload tokens waiting for their upload and callback.
pub const MAX_PENDING_UPLOADS: usize = 10_000;
/// The bucket the emulator names as its provider's.
pub const BUCKET: &str = "lc-mock";

/// Where files' bytes live: the emulator keeps them in memory; durable storage can
/// implement this for its own.
pub trait BlobStore {
    fn put(&mut self, key: &str, bytes: Vec<u8>, content_type: &str);
    fn get(&self, key: &str) -> Option<Arc<Blob>>;
    fn remove(&mut self, key: &str);
}

#[derive(Debug, Clone, PartialEq)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// Files' bytes in memory and the pending uploads. Persistent: snapshots copy nothing.
#[derive(Debug, Clone, Default)]
pub struct Files {
    blobs: OrdMap<String, Arc<Blob>>,
    /// Upload token -> the `_File` objectId it uploads.
    pending: OrdMap<String, String>,
}

impl BlobStore for Files {
    fn put(&mut self, key: &str, bytes: Vec<u8>, content_type: &str) {
        self.blobs.insert(
            key.to_string(),
            Arc::new(Blob {
                bytes,
                content_type: content_type.to_string(),
            }),
        );
    }
    fn get(&self, key: &str) -> Option<Arc<Blob>> {
        self.blobs.get(key).cloned()
    }
    fn remove(&mut self, key: &str) {
        self.blobs.remove(key);
    }
}

impl Files {
    /// Whether `other` has the very same uploads waiting (a copy that shares its map).
    pub fn same_pending(&self, other: &Files) -> bool {
        self.pending.ptr_eq(&other.pending)
    }

    /// Whether `other` holds the very same bytes (a copy that shares its map).
    pub fn same_blobs(&self, other: &Files) -> bool {
        self.blobs.ptr_eq(&other.blobs)
    }

    /// The uploads waiting, token -> `_File` objectId.
    pub fn pending_uploads(&self) -> &OrdMap<String, String> {
        &self.pending
    }

    /// Replace the uploads waiting (a restart of the durable store).
    pub fn set_pending_uploads(&mut self, pending: OrdMap<String, String>) {
        self.pending = pending;
    }

    /// What changed from `old` to `self`, file by file: `(key, Some(blob))` for bytes
    /// added or replaced, `(key, None)` for bytes removed. Shared subtrees are skipped.
    pub fn blob_changes_since<'a>(
        &'a self,
        old: &'a Files,
    ) -> impl Iterator<Item = (&'a String, Option<&'a Arc<Blob>>)> {
        old.blobs.diff(&self.blobs).map(|item| match item {
            imbl::ordmap::DiffItem::Add(key, blob) => (key, Some(blob)),
            imbl::ordmap::DiffItem::Update {
                new: (key, blob), ..
            } => (key, Some(blob)),
            imbl::ordmap::DiffItem::Remove(key, _) => (key, None),
        })
    }

    pub fn add_pending(&mut self, token: &str, file_id: &str) -> Result<(), LcError> {
        if self.pending.len() >= MAX_PENDING_UPLOADS {
            return Err(LcError::generic(format!(
                "{MAX_PENDING_UPLOADS} uploads are waiting already."
            )));
        }
        self.pending.insert(token.to_string(), file_id.to_string());
        Ok(())
    }
    pub fn pending(&self, token: &str) -> Option<&String> {
        self.pending.get(token)
    }
    pub fn finish(&mut self, token: &str) -> Option<String> {
        self.pending.remove(token)
    }
}

/// A MIME type from a file name's extension (`application/octet-stream` otherwise).
pub fn mime_of(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "txt" => "text/plain",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// A new `_File` row: its fields (`name`, `url`, `mime_type`, `key`, `bucket`,
/// `provider`, `metaData`, `ACL`).
#[allow(clippy::too_many_arguments)]
pub fn new_file(
    store: &mut Store,
    name: &str,
    key: &str,
    url: &str,
    mime_type: &str,
    meta: Map<String, Value>,
    acl: Option<Value>,
    now: i64,
) -> String {
    let id = store.ids.object_id(now);
    let mut fields = Map::new();
    fields.insert("name".into(), json!(name));
    fields.insert("url".into(), json!(url));
    fields.insert("mime_type".into(), json!(mime_type));
    fields.insert("key".into(), json!(key));
    fields.insert("bucket".into(), json!(BUCKET));
    fields.insert("provider".into(), json!("s3"));
    fields.insert("metaData".into(), Value::Object(meta));
    fields.insert(
        "ACL".into(),
        acl.unwrap_or_else(|| json!({"*": {"read": true, "write": true}})),
    );
    store.insert_object("_File", StoredObject::new(id.clone(), now, now, &fields));
    id
}

/// Record `size` bytes uploaded for file `id` in its `metaData`.
pub fn set_size(store: &mut Store, id: &str, size: usize) {
    let Some(obj) = store.object("_File", id) else {
        return;
    };
    let mut fields = obj.to_map();
    let mut meta = fields
        .get("metaData")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    meta.insert("size".into(), json!(size));
    fields.insert("metaData".into(), Value::Object(meta));
    // The row stays the one `fileTokens` made: an upload does not move its `updatedAt`
    // (the Python SDK's suite checks that a saved file's two dates are equal).
    let (created, updated) = (obj.created_at, obj.updated_at);
    store.insert_object(
        "_File",
        StoredObject::new(id.to_string(), created, updated, &fields),
    );
}

/// Remove file `id`: its row and its bytes.
pub fn remove(store: &mut Store, id: &str) {
    let key = store
        .object("_File", id)
        .and_then(|o| o.get("key"))
        .and_then(|k| k.as_str().map(str::to_string));
    store.class_mut("_File").remove(id);
    if let Some(key) = key {
        store.services.files.remove(&key);
    }
}

/// The `_File` objectId a File field value names (`objectId` or `id`).
fn file_id(value: &Value) -> Option<&str> {
    let m = value.as_object()?;
    if m.get("__type").and_then(Value::as_str) != Some("File") {
        return None;
    }
    m.get("objectId")
        .or_else(|| m.get("id"))
        .and_then(Value::as_str)
}

/// A File field as read back: the `_File` row it names, expanded; as stored when there
/// is no such row (an external reference the app wrote by hand).
pub fn expand(store: &Store, value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| expand(store, v)),
        v => {
            let Some(id) = file_id(v) else { return };
            let Some(row) = store.object("_File", id) else {
                return;
            };
            let mut out = row.to_map();
            out.remove("ACL");
            out.insert("__type".into(), json!("File"));
            out.insert("objectId".into(), json!(id));
            out.insert("id".into(), json!(id));
            out.insert(
                "createdAt".into(),
                json!(leancloud::value::format_date(row.created_at)),
            );
            out.insert(
                "updatedAt".into(),
                json!(leancloud::value::format_date(row.updated_at)),
            );
            *v = Value::Object(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FixedClock, SeededIds};

    #[test]
    fn a_file_field_reads_back_as_its_row_and_unknown_ones_stay_as_written() {
        let mut store = Store::new(
            Arc::new(FixedClock::new(1_000)),
            Box::new(SeededIds::new(1)),
        );
        let id = new_file(
            &mut store,
            "a.png",
            "k1",
            "http://h/files/k1",
            "image/png",
            Map::new(),
            None,
            1,
        );
        set_size(&mut store, &id, 3);
        let mut field = json!({"__type": "File", "id": id});
        expand(&store, &mut field);
        assert_eq!(field["url"], "http://h/files/k1");
        assert_eq!(field["metaData"]["size"], 3);
        assert_eq!(field["objectId"], id.as_str());
        let mut unknown = json!([{"__type": "File", "id": "nope"}]);
        expand(&store, &mut unknown);
        assert_eq!(unknown, json!([{"__type": "File", "id": "nope"}]));
        store.services.files.put("k1", vec![1, 2, 3], "image/png");
        remove(&mut store, &id);
        assert!(store.object("_File", &id).is_none());
        assert!(store.services.files.get("k1").is_none());
        assert_eq!(mime_of("photo.JPG"), "image/jpeg");
    }
}
