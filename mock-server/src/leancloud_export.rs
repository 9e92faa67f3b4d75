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
}

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
            classes: BTreeMap::new(),
        };
        for path in names {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                return Err(err(&path, "the name is not UTF-8"));
            };
            if name.starts_with('.') || name.ends_with(".md") {
                continue;
            }
            let class = name.split('.').next().unwrap_or_default().to_string();
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
        for (name, rows) in &self.classes {
            classes.push(self.class_spec(name, rows)?);
        }
        Ok(Settings {
            dir: self.dir.clone(),
            classes,
        })
    }

    fn class_spec(&self, name: &str, rows: &[Value]) -> Result<ClassSpec, LoadError> {
        let files = ClassFiles {
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
        for (name, population) in &self.classes {
            let folder = out.join(name);
            std::fs::create_dir_all(&folder).map_err(|e| err(&folder, e.to_string()))?;
            let path = folder.join("population.json");
            let text = serde_json::to_string_pretty(population).expect("JSON always serialises");
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
/// per class, one row per line with `objectId`, `createdAt` and `updatedAt` as UTC
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
