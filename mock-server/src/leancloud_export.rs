//! LeanCloud's own data export, read (`lc-mock import`) and written (`lc-mock export`).
//!
//! The format, from LeanCloud's dashboard guide (docs/sdk/start/dashboard-guide.mdx,
//! 导出数据 and 导入数据): one file per class; the console's export is JSON Lines
//! (`.jsonl`, one object per line: its fields in REST form, `objectId`, and `createdAt` /
//! `updatedAt` as plain UTC strings, 保留字段), and the import side also takes a `.json`
//! file holding an array of objects or `{"results": [...]}`. Exported `_User` rows carry
//! `password` (LeanCloud's salted SHA-512 hash) and `salt`: such users log in with their
//! real passwords here (`lc_model::users::leancloud_hash`).
//!
//! A file's class is its name up to the first dot, so a class split over several files
//! (`Post.0.jsonl`, `Post.1.jsonl`) is read as one; class names hold no dots.
//!
//! A class's columns come in `<Class>.schema.json`, in the shape of LeanCloud's
//! `GET /1.1/schemas/<Class>` (`{"<key>": {"type": "String"}, ...}`; docs/sdk/storage/
//! rest.mdx): the console's schema-only export is documented (dashboard guide, 导出数据)
//! but its file format is not, so the REST API's shape is the one read. A class with a
//! schema and no rows is made empty, with its columns.
//!
//! [`Export::fetch`] reads the same from a live app over its REST API, with the master
//! key: `GET /1.1/schemas`, then each class walked with the scan API
//! (`GET /1.1/scan/classes/<Class>`, as the sunset notice recommends for a live app) and
//! each relation's members queried with `$relatedTo`.

use crate::settings::{LoadError, Settings};
use lc_model::Store;
use lc_model::settings::{ClassFiles, ClassSpec};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The largest `.json` export file read (it is read whole; `.jsonl` files are read line
/// by line and have no such limit).
pub const MAX_EXPORT_JSON_FILE_BYTES: u64 = 1024 * 1024 * 1024;

/// An export read from disk: each class's rows as the files hold them.
#[derive(Debug, Clone, Default)]
pub struct Export {
    /// The folder read.
    pub dir: PathBuf,
    /// Rows per class, in file order.
    pub classes: BTreeMap<String, Vec<Value>>,
    /// Columns per class, as `GET /1.1/schemas/<Class>` shows them (built-in columns
    /// included, and left out when written as settings).
    pub schemas: BTreeMap<String, Map<String, Value>>,
}

/// Rows a scan asks for per page (the scan API's largest `limit`).
pub const SCAN_PAGE_ROWS: usize = 1000;
/// Rows a `$relatedTo` query asks for per page (a query's largest `limit`).
pub const RELATION_PAGE_ROWS: usize = 1000;

fn err(path: &Path, problem: impl Into<String>) -> LoadError {
    LoadError {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

impl Export {
    /// Read every `<Class>.jsonl` and `<Class>.json` under `dir` (notes and hidden files
    /// aside).
    pub fn read(dir: &Path) -> Result<Export, LoadError> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| err(dir, format!("cannot read: {e}")))? {
            let entry = entry.map_err(|e| err(dir, format!("cannot read: {e}")))?;
            names.push(entry.path());
        }
        names.sort();
        let mut export = Export {
            dir: dir.to_path_buf(),
            ..Export::default()
        };
        for path in names {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                return Err(err(&path, "the name is not UTF-8"));
            };
            if name.starts_with('.') || name.ends_with(".md") {
                continue;
            }
            let class = name.split('.').next().unwrap_or_default().to_string();
            if name.ends_with(".schema.json") {
                let columns = read_schema(&path)?;
                export.schemas.entry(class).or_default().extend(columns);
                continue;
            }
            let rows = if name.ends_with(".jsonl") {
                read_lines(&path)?
            } else if name.ends_with(".json") {
                read_json(&path)?
            } else {
                return Err(err(
                    &path,
                    "not an export file (expected <Class>.jsonl or <Class>.json)",
                ));
            };
            export.classes.entry(class).or_default().extend(rows);
        }
        Ok(export)
    }

    /// The export as database settings: each class's rows as its `population.json`,
    /// checked as `lc-mock serve --fixtures` checks them.
    pub fn to_settings(&self) -> Result<Settings, LoadError> {
        let mut classes = Vec::new();
        for name in self.class_names() {
            let rows = self.classes.get(name).map_or(&[][..], Vec::as_slice);
            classes.push(self.class_spec(name, rows)?);
        }
        Ok(Settings {
            dir: self.dir.clone(),
            classes,
        })
    }

    /// Every class the export has rows or a schema for, in name order.
    pub fn class_names(&self) -> Vec<&String> {
        let mut names: Vec<&String> = self.classes.keys().chain(self.schemas.keys()).collect();
        names.sort();
        names.dedup();
        names
    }

    /// A class's columns as a settings `schema.json` (`None` without a schema).
    fn settings_schema(&self, name: &str) -> Option<Value> {
        let columns = self.schemas.get(name)?;
        let mut out = Map::new();
        for (key, column) in columns {
            if lc_model::settings::BUILTIN_COLUMNS
                .iter()
                .any(|(builtin, _)| builtin == key)
            {
                continue;
            }
            // The type and a pointer's or relation's class; anything else the service
            // shows of a column (flags of its console) is not part of the schema here.
            let mut kept = Map::new();
            for field in ["type", "className"] {
                if let Some(v) = column.get(field) {
                    kept.insert(field.into(), v.clone());
                }
            }
            out.insert(key.clone(), Value::Object(kept));
        }
        Some(json!({"columns": out}))
    }

    fn class_spec(&self, name: &str, rows: &[Value]) -> Result<ClassSpec, LoadError> {
        let files = ClassFiles {
            schema: self.settings_schema(name),
            population: Some(Value::Array(rows.to_vec())),
            ..ClassFiles::default()
        };
        ClassSpec::parse(name, &files).map_err(|e| {
            let at = if e.at.is_empty() {
                String::new()
            } else {
                format!("at {}: ", e.at)
            };
            err(&self.dir.join(name), format!("{at}{}", e.message))
        })
    }

    /// Write the export as a database-settings folder at `out` (new or empty): one
    /// folder per class with its `population.json`. The rows are checked first, so what
    /// is written loads.
    pub fn write_settings_folder(&self, out: &Path) -> Result<usize, LoadError> {
        self.to_settings()?;
        ensure_empty(out)?;
        let mut rows = 0;
        for name in self.class_names() {
            let folder = out.join(name);
            std::fs::create_dir_all(&folder).map_err(|e| err(&folder, e.to_string()))?;
            if let Some(schema) = self.settings_schema(name) {
                let path = folder.join("schema.json");
                let text = serde_json::to_string_pretty(&schema).expect("JSON always serialises");
                std::fs::write(&path, text + "\n").map_err(|e| err(&path, e.to_string()))?;
            }
            let population = self.classes.get(name).cloned().unwrap_or_default();
            let path = folder.join("population.json");
            let text = serde_json::to_string_pretty(&population).expect("JSON always serialises");
            std::fs::write(&path, text + "\n").map_err(|e| err(&path, e.to_string()))?;
            rows += population.len();
        }
        Ok(rows)
    }
}

fn ensure_empty(out: &Path) -> Result<(), LoadError> {
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(|e| err(out, e.to_string()))?
            .next()
            .is_some()
    {
        return Err(err(out, "not empty; nothing is overwritten"));
    }
    Ok(())
}

fn row(path: &Path, at: &str, value: Value) -> Result<Value, LoadError> {
    match value {
        Value::Object(_) => Ok(value),
        other => Err(err(path, format!("{at}: expected an object, not {other}"))),
    }
}

fn read_lines(path: &Path) -> Result<Vec<Value>, LoadError> {
    let file = std::fs::File::open(path).map_err(|e| err(path, format!("cannot read: {e}")))?;
    let mut rows = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| err(path, format!("line {}: {e}", i + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let value = serde_json::from_str(&line)
            .map_err(|e| err(path, format!("line {}: invalid JSON: {e}", i + 1)))?;
        rows.push(row(path, &format!("line {}", i + 1), value)?);
    }
    Ok(rows)
}

/// A `<Class>.schema.json`: an object of columns, each an object with its `type`.
fn read_schema(path: &Path) -> Result<Map<String, Value>, LoadError> {
    let text = std::fs::read(path).map_err(|e| err(path, format!("cannot read: {e}")))?;
    let value: Value =
        serde_json::from_slice(&text).map_err(|e| err(path, format!("invalid JSON: {e}")))?;
    let Value::Object(columns) = value else {
        return Err(err(
            path,
            "expected the columns as an object: {\"<key>\": {\"type\": ...}}",
        ));
    };
    for (key, column) in &columns {
        if column.get("type").and_then(Value::as_str).is_none() {
            return Err(err(path, format!("{key}: a column needs a \"type\"")));
        }
    }
    Ok(columns)
}

fn read_json(path: &Path) -> Result<Vec<Value>, LoadError> {
    let size = std::fs::metadata(path)
        .map_err(|e| err(path, format!("cannot read: {e}")))?
        .len();
    if size > MAX_EXPORT_JSON_FILE_BYTES {
        return Err(err(
            path,
            format!(
                "{size} bytes: a .json export file is read whole, up to {MAX_EXPORT_JSON_FILE_BYTES} bytes; use JSON Lines (.jsonl)"
            ),
        ));
    }
    let text = std::fs::read(path).map_err(|e| err(path, format!("cannot read: {e}")))?;
    let value: Value =
        serde_json::from_slice(&text).map_err(|e| err(path, format!("invalid JSON: {e}")))?;
    let list = match value {
        Value::Array(list) => list,
        Value::Object(mut map) => match map.remove("results") {
            Some(Value::Array(list)) => list,
            _ => {
                return Err(err(
                    path,
                    "expected an array of objects or {\"results\": [...]}",
                ));
            }
        },
        _ => {
            return Err(err(
                path,
                "expected an array of objects or {\"results\": [...]}",
            ));
        }
    };
    list.into_iter()
        .enumerate()
        .map(|(i, v)| row(path, &format!("[{i}]"), v))
        .collect()
}

/// Write `store` in LeanCloud's export format at `out` (new or empty): `<Class>.jsonl`
/// per class, with its columns in `<Class>.schema.json`, one row per line with `objectId`, `createdAt` and `updatedAt` as UTC
/// strings. A user still holding the password imported from LeanCloud (never logged in
/// here) gets its `password` and `salt` back; other users' passwords are the emulator's
/// own hashes, which LeanCloud's format cannot carry, so they have none. Relation
/// memberships are not written (the columns keep their `Relation` marker). Returns the
/// classes and rows written.
pub fn write(store: &Store, out: &Path) -> Result<(usize, usize), LoadError> {
    ensure_empty(out)?;
    std::fs::create_dir_all(out).map_err(|e| err(out, e.to_string()))?;
    let mut names: Vec<&String> = store.classes.keys().collect();
    names.sort();
    let mut rows = 0;
    for name in &names {
        let Some(data) = store.class(name) else {
            continue;
        };
        // Its columns, so that types and empty classes come back in.
        let path = out.join(format!("{name}.schema.json"));
        let schema = lc_model::settings::schema(data).to_string();
        std::fs::write(&path, schema + "\n").map_err(|e| err(&path, e.to_string()))?;
        let path = out.join(format!("{name}.jsonl"));
        let file = std::fs::File::create(&path).map_err(|e| err(&path, e.to_string()))?;
        let mut file = std::io::BufWriter::new(file);
        for obj in data.objects.values() {
            let mut line: Map<String, Value> = obj.to_map();
            line.insert("objectId".into(), json!(obj.id.as_str()));
            line.insert(
                "createdAt".into(),
                json!(leancloud::value::format_date(obj.created_at)),
            );
            line.insert(
                "updatedAt".into(),
                json!(leancloud::value::format_date(obj.updated_at)),
            );
            if name.as_str() == "_User"
                && let Some(hash) = store.passwords.get(obj.id.as_str())
                && let Some(rest) = hash.strip_prefix(lc_model::users::IMPORTED_HASH_PREFIX)
                && let Some((salt, password)) = rest.split_once('$')
            {
                line.insert("salt".into(), json!(salt));
                line.insert("password".into(), json!(password));
            }
            let text = Value::Object(line).to_string();
            writeln!(file, "{text}").map_err(|e| err(&path, e.to_string()))?;
            rows += 1;
        }
        file.flush().map_err(|e| err(&path, e.to_string()))?;
    }
    Ok((names.len(), rows))
}

impl Export {
    /// Read a live app over its REST API (see the module docs). `client` must know the
    /// app's master key (`Client::with_master_key`); `source` names it in messages and
    /// in [`Export::dir`].
    ///
    /// What the REST API does not give is not fetched: users' password hashes (users
    /// log in again after a password reset, or come from the console's export instead),
    /// and files' bytes (the `_File` rows come, with their URLs).
    pub async fn fetch(client: &leancloud::client::Client, source: &str) -> Result<Export, String> {
        let master = client.as_master();
        let failed = |what: &str, e: leancloud::LcError| {
            format!("{source}: {what}: {} (code {})", e.message, e.code)
        };
        let schemas = master
            .send_json("GET", "/1.1/schemas", Vec::new(), None)
            .await
            .map_err(|e| failed("GET /1.1/schemas", e))?;
        let mut export = Export {
            dir: PathBuf::from(source),
            ..Export::default()
        };
        for (class, columns) in schema_list(&schemas)
            .ok_or_else(|| format!("{source}: GET /1.1/schemas: not a map of classes: {schemas}"))?
        {
            let mut rows = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut query = vec![
                    ("limit".to_string(), SCAN_PAGE_ROWS.to_string()),
                    ("returnACL".to_string(), "true".to_string()),
                ];
                if let Some(c) = &cursor {
                    query.push(("cursor".into(), c.clone()));
                }
                let path = format!("/1.1/scan/classes/{class}");
                let page = master
                    .send_json("GET", &path, query, None)
                    .await
                    .map_err(|e| failed(&format!("GET {path}"), e))?;
                let results = page["results"].as_array().cloned().unwrap_or_default();
                rows.extend(results);
                cursor = page["cursor"].as_str().map(str::to_string);
                if cursor.is_none() {
                    break;
                }
            }
            let relations: Vec<(&String, &str)> = columns
                .iter()
                .filter(|(_, c)| c["type"] == "Relation")
                .filter_map(|(key, c)| Some((key, c["className"].as_str()?)))
                .collect();
            for row in &mut rows {
                let Some(row) = row.as_object_mut() else {
                    continue;
                };
                let id = row["objectId"].as_str().unwrap_or_default().to_string();
                for (key, target) in &relations {
                    let members = related(&master, &class, &id, key, target)
                        .await
                        .map_err(|e| failed(&format!("the {key} relation of {class}/{id}"), e))?;
                    row.remove(key.as_str());
                    if !members.is_empty() {
                        let objects: Vec<Value> = members
                            .iter()
                            .map(|m| json!({"__type": "Pointer", "className": target, "objectId": m}))
                            .collect();
                        row.insert(
                            (*key).clone(),
                            json!({"__op": "AddRelation", "objects": objects}),
                        );
                    }
                }
            }
            export.classes.insert(class.clone(), rows);
            export.schemas.insert(class, columns);
        }
        Ok(export)
    }
}

/// `GET /1.1/schemas`'s classes: `{"<Class>": {columns}}` (the REST guide's shape), or
/// `{"results": [{"className", "fields"}]}` (the shape of the API LeanCloud came from).
fn schema_list(schemas: &Value) -> Option<Vec<(String, Map<String, Value>)>> {
    if let Some(results) = schemas.get("results").and_then(Value::as_array) {
        return results
            .iter()
            .map(|r| {
                Some((
                    r.get("className")?.as_str()?.to_string(),
                    r.get("fields")?.as_object()?.clone(),
                ))
            })
            .collect();
    }
    schemas
        .as_object()?
        .iter()
        .map(|(class, columns)| Some((class.clone(), columns.as_object()?.clone())))
        .collect()
}

/// The objectIds in `class`/`id`'s `key` relation (to `target`), page by page.
async fn related(
    master: &leancloud::client::Client,
    class: &str,
    id: &str,
    key: &str,
    target: &str,
) -> Result<Vec<String>, leancloud::LcError> {
    let owner = json!({"__type": "Pointer", "className": class, "objectId": id});
    let r#where = json!({"$relatedTo": {"object": owner, "key": key}}).to_string();
    let mut members = Vec::new();
    loop {
        let query = vec![
            ("where".to_string(), r#where.clone()),
            ("keys".to_string(), "objectId".to_string()),
            ("order".to_string(), "objectId".to_string()),
            ("limit".to_string(), RELATION_PAGE_ROWS.to_string()),
            ("skip".to_string(), members.len().to_string()),
        ];
        let page = master
            .send_json("GET", &format!("/1.1/classes/{target}"), query, None)
            .await?;
        let results = page["results"].as_array().cloned().unwrap_or_default();
        let n = results.len();
        members.extend(
            results
                .iter()
                .filter_map(|r| r["objectId"].as_str().map(str::to_string)),
        );
        if n < RELATION_PAGE_ROWS {
            return Ok(members);
        }
    }
}
