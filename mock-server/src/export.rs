//! The app's state written out as a database-settings folder (the format `lc-mock serve
//! --fixtures` and [`crate::settings::Settings::load`] read; `fixtures/database_settings/
//! README.md`), so that state reached by hand, or by a run, becomes a fixture.
//!
//! Per class: `schema.json` (its columns), `indexes.json`, `permissions.json` (with the
//! default ACL), `population.json` (its rows, relations as `AddRelation`). Users'
//! passwords are kept hashed and cannot be written as the clear text the format takes,
//! so exported users have none (set `password` in the file to sign in as them).

use lc_model::Store;
use lc_model::settings::ClassFiles;
use lc_model::store::ClassData;
use serde_json::{Map, Value, json};
use std::path::Path;

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exported {
    pub classes: usize,
    pub rows: usize,
}

/// Keys every object has, never written as columns.
const BUILT_IN: [&str; 4] = ["objectId", "createdAt", "updatedAt", "ACL"];

/// Write `store` as a database-settings folder at `dir`, which must not exist or be an
/// empty folder (an export never overwrites).
pub fn settings_folder(store: &Store, dir: &Path) -> Result<Exported, String> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .next()
            .is_none();
        if !empty {
            return Err(format!(
                "{}: not empty; an export never overwrites",
                dir.display()
            ));
        }
    }
    let mut names: Vec<&String> = store.classes.keys().collect();
    names.sort();
    let mut rows_written = 0;
    for name in &names {
        let Some(data) = store.class(name) else {
            continue;
        };
        let folder = dir.join(name);
        std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        let write = |file: &str, value: &Value| {
            let path = folder.join(file);
            let text = serde_json::to_string_pretty(value).expect("JSON always serialises");
            std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
        };
        let files = class_files(data);
        if let Some(schema) = &files.schema {
            write("schema.json", schema)?;
        }
        if let Some(indexes) = &files.indexes {
            write("indexes.json", indexes)?;
        }
        if let Some(permissions) = &files.permissions {
            write("permissions.json", permissions)?;
        }
        let mut population = Vec::with_capacity(data.objects.len());
        for obj in data.objects.values() {
            let id = obj.id.to_string();
            let mut row = obj.to_map();
            row.insert("objectId".into(), json!(id));
            row.insert(
                "createdAt".into(),
                json!(leancloud::value::format_date(obj.created_at)),
            );
            row.insert(
                "updatedAt".into(),
                json!(leancloud::value::format_date(obj.updated_at)),
            );
            for (key, c) in &data.columns {
                if c.kind != "Relation" {
                    continue;
                }
                let Some(targets) = store.relation_targets(name, &id, key) else {
                    continue;
                };
                let class = c.class_name.clone().unwrap_or_default();
                let objects: Vec<Value> = targets
                    .iter()
                    .map(|t| json!({"__type": "Pointer", "className": class, "objectId": t}))
                    .collect();
                if !objects.is_empty() {
                    row.insert(
                        key.clone(),
                        json!({"__op": "AddRelation", "objects": objects}),
                    );
                }
            }
            population.push(Value::Object(row));
        }
        rows_written += population.len();
        if !population.is_empty() {
            write("population.json", &Value::Array(population))?;
        }
    }
    Ok(Exported {
        classes: names.len(),
        rows: rows_written,
    })
}

/// A class's columns, indexes and permissions (with its default ACL) as the settings
/// files say them (`schema.json`, `indexes.json` when it has any, `permissions.json`),
/// without its rows: what [`lc_model::settings::ClassSpec::parse`] reads back.
pub fn class_files(data: &ClassData) -> ClassFiles {
    let mut columns = Map::new();
    for (key, c) in &data.columns {
        if BUILT_IN.contains(&key.as_str()) {
            continue;
        }
        let mut col = Map::new();
        col.insert("type".into(), json!(c.kind));
        if let Some(target) = &c.class_name {
            col.insert("className".into(), json!(target));
        }
        for (flag, on) in [
            ("read_only", c.read_only),
            ("hidden", c.hidden),
            ("required", c.required),
        ] {
            if on {
                col.insert(flag.into(), json!(true));
            }
        }
        if let Some(d) = &c.default {
            col.insert("default".into(), d.clone());
        }
        columns.insert(key.clone(), Value::Object(col));
    }
    let settings = &data.settings;
    let indexes: Vec<Value> = settings
        .unique
        .iter()
        .map(|keys| json!({"keys": keys, "unique": true}))
        .chain(settings.indexes.iter().map(|keys| json!({ "keys": keys })))
        .collect();
    let mut permissions = settings.permissions.to_json();
    if let (Some(acl), Value::Object(p)) = (&settings.default_acl, &mut permissions) {
        p.insert("defaultACL".into(), acl.clone());
    }
    ClassFiles {
        schema: Some(json!({ "columns": columns })),
        indexes: (!indexes.is_empty()).then_some(Value::Array(indexes)),
        permissions: Some(permissions),
        population: None,
    }
}
