//! Database settings: a class's columns, indexes, permissions and seed rows as the files
//! of `fixtures/database_settings/<Class>/` describe them (the format is documented in
//! `fixtures/database_settings/README.md`), parsed strictly and applied to a [`Store`].
//!
//! Parsing turns each file's JSON into the store's types ([`Column`],
//! [`ClassPermissions`], unique indexes) and refuses unknown keys, so a typo in a
//! fixture fails loudly instead of being ignored. Applying first gives every class its
//! settings, then inserts every class's rows through the create rules with the master
//! key: rows may point at each other across classes, and a row that breaks a column's
//! type, a required column or a unique index is refused as a create would be.
//!
//! Reading files from disk is the caller's business (`mock_server::settings`); this
//! module sees JSON values only.

use crate::access::{ClassOp, ClassPermissions, Permission, Principal};
use crate::names::{check_class_name, check_key_name};
use crate::objects::{self, Change, Changes};
use crate::store::{ClassData, Column, Store};
use leancloud::LcError;
use leancloud::ops::FieldOp;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The files of a class's settings folder. Every one is optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SettingsFile {
    Schema,
    Indexes,
    Permissions,
    Population,
}

impl SettingsFile {
    pub const ALL: [SettingsFile; 4] = [
        SettingsFile::Schema,
        SettingsFile::Indexes,
        SettingsFile::Permissions,
        SettingsFile::Population,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            SettingsFile::Schema => "schema.json",
            SettingsFile::Indexes => "indexes.json",
            SettingsFile::Permissions => "permissions.json",
            SettingsFile::Population => "population.json",
        }
    }

    pub fn from_file_name(name: &str) -> Option<SettingsFile> {
        SettingsFile::ALL
            .into_iter()
            .find(|f| f.file_name() == name)
    }
}

/// A problem with a class's settings, located as precisely as the JSON allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    pub class: String,
    /// The file the problem is in; `None` for the class as a whole (its name).
    pub file: Option<SettingsFile>,
    /// Where in the file: a path such as `columns.title.type` or `[2].objectId`; empty
    /// for the file as a whole.
    pub at: String,
    pub message: String,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.class)?;
        if let Some(file) = self.file {
            write!(f, "/{}", file.file_name())?;
        }
        if !self.at.is_empty() {
            write!(f, " at {}", self.at)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for SettingsError {}

/// Column types a schema may declare (`ACL` is the built-in `ACL` column's alone).
pub const COLUMN_TYPES: &[&str] = &[
    "String", "Number", "Boolean", "Date", "File", "Array", "Object", "GeoPoint", "Pointer",
    "Relation", "Bytes", "Any",
];

/// Columns every class has; a schema leaves them out.
pub const BUILTIN_COLUMNS: &[(&str, &str)] = &[
    ("objectId", "String"),
    ("createdAt", "Date"),
    ("updatedAt", "Date"),
    ("ACL", "ACL"),
];

/// One declared column: the store's column and its documentation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ColumnSpec {
    pub column: Column,
    pub description: Option<String>,
}

/// One index. Only unique indexes change what the emulator does; the others document
/// the deployed app's indexes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndexSpec {
    pub keys: Vec<String>,
    pub unique: bool,
    pub name: Option<String>,
    pub description: Option<String>,
}

/// One seed row of `population.json`, its built-in keys taken apart from its fields.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    /// Kept when given, so fixtures can point at each other; generated otherwise.
    pub object_id: Option<String>,
    /// Unix milliseconds; the store's clock when absent.
    pub created_at: Option<i64>,
    /// Unix milliseconds; `created_at` when absent.
    pub updated_at: Option<i64>,
    /// `_User` only: the clear-text password, hashed on load; with `salt`, LeanCloud's
    /// exported hash of it, verified at log-in and re-hashed then.
    pub password: Option<String>,
    /// `_User` only: the salt of an exported `password` (LeanCloud's export).
    pub salt: Option<String>,
    /// `_User` only: a session token that signs this user in (so tests can act as them).
    pub session_token: Option<String>,
    /// The other fields in wire form (typed values as `__type` JSON, `ACL`, and
    /// `{"__op":"AddRelation",...}` for relation membership).
    pub fields: Map<String, Value>,
}

/// The raw JSON of a class's settings files; `None` for a file that is absent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClassFiles {
    pub schema: Option<Value>,
    pub indexes: Option<Value>,
    pub permissions: Option<Value>,
    pub population: Option<Value>,
}

impl ClassFiles {
    /// The slot for one file.
    pub fn slot(&mut self, file: SettingsFile) -> &mut Option<Value> {
        match file {
            SettingsFile::Schema => &mut self.schema,
            SettingsFile::Indexes => &mut self.indexes,
            SettingsFile::Permissions => &mut self.permissions,
            SettingsFile::Population => &mut self.population,
        }
    }
}

/// One class's settings, parsed and checked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClassSpec {
    pub name: String,
    pub description: Option<String>,
    pub columns: BTreeMap<String, ColumnSpec>,
    pub indexes: Vec<IndexSpec>,
    /// `None`: the permissions a new class has. Operations a file leaves out keep the
    /// new class's permission for them (open, except `_User` find).
    pub permissions: Option<ClassPermissions>,
    /// The ACL template objects created without an ACL get (`_owner`: the creator).
    pub default_acl: Option<Value>,
    pub population: Vec<Row>,
}

/// What [`apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    pub classes: usize,
    pub objects: usize,
}

/// Builds errors located in one file of one class.
struct Cx<'a> {
    class: &'a str,
    file: SettingsFile,
}

impl Cx<'_> {
    fn err(&self, at: &str, message: impl Into<String>) -> SettingsError {
        SettingsError {
            class: self.class.to_string(),
            file: Some(self.file),
            at: at.to_string(),
            message: message.into(),
        }
    }

    fn lc(&self, at: &str, e: LcError) -> SettingsError {
        self.err(at, format!("{} (code {})", e.message, e.code))
    }

    fn object<'v>(
        &self,
        at: &str,
        v: &'v Value,
        what: &str,
    ) -> Result<&'v Map<String, Value>, SettingsError> {
        v.as_object()
            .ok_or_else(|| self.err(at, format!("{what} must be a JSON object, not {}", kind(v))))
    }

    fn array<'v>(
        &self,
        at: &str,
        v: &'v Value,
        what: &str,
    ) -> Result<&'v Vec<Value>, SettingsError> {
        v.as_array()
            .ok_or_else(|| self.err(at, format!("{what} must be a JSON array, not {}", kind(v))))
    }

    fn string(&self, at: &str, v: &Value) -> Result<String, SettingsError> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| self.err(at, format!("expected a string, not {}", kind(v))))
    }

    fn boolean(&self, at: &str, v: &Value) -> Result<bool, SettingsError> {
        v.as_bool()
            .ok_or_else(|| self.err(at, format!("expected true or false, not {}", kind(v))))
    }

    /// Unknown keys are errors: a misspelt flag must not be ignored.
    fn only_keys(
        &self,
        at: &str,
        m: &Map<String, Value>,
        allowed: &[&str],
    ) -> Result<(), SettingsError> {
        match m.keys().find(|k| !allowed.contains(&k.as_str())) {
            None => Ok(()),
            Some(k) => Err(self.err(
                &join(at, k),
                format!(
                    "unknown key '{k}' (expected one of: {})",
                    allowed.join(", ")
                ),
            )),
        }
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

/// A JSON value's kind, for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn is_builtin_column(key: &str) -> bool {
    BUILTIN_COLUMNS.iter().any(|(k, _)| *k == key)
}

impl ClassSpec {
    /// Parse and cross-check one class's files.
    pub fn parse(name: &str, files: &ClassFiles) -> Result<ClassSpec, SettingsError> {
        check_class_name(name).map_err(|e| SettingsError {
            class: name.to_string(),
            file: None,
            at: String::new(),
            message: e.message,
        })?;
        let mut spec = ClassSpec {
            name: name.to_string(),
            ..ClassSpec::default()
        };
        let cx = |file| Cx { class: name, file };
        if let Some(v) = &files.schema {
            (spec.description, spec.columns) = parse_schema(&cx(SettingsFile::Schema), v)?;
        }
        if let Some(v) = &files.indexes {
            spec.indexes = parse_indexes(&cx(SettingsFile::Indexes), v, &spec.columns)?;
        }
        if let Some(v) = &files.permissions {
            let (permissions, default_acl) =
                parse_permissions(&cx(SettingsFile::Permissions), v, name)?;
            spec.permissions = Some(permissions);
            spec.default_acl = default_acl;
        }
        if let Some(v) = &files.population {
            spec.population = parse_population(&cx(SettingsFile::Population), v, name)?;
        }
        Ok(spec)
    }

    /// The unique indexes, as the store holds them.
    pub fn unique_indexes(&self) -> Vec<Vec<String>> {
        self.indexes
            .iter()
            .filter(|i| i.unique)
            .map(|i| i.keys.clone())
            .collect()
    }
}

/// `schema.json`: `{"description": "...", "columns": {"<key>": {"type": ..., ...}}}`.
fn parse_schema(
    cx: &Cx<'_>,
    v: &Value,
) -> Result<(Option<String>, BTreeMap<String, ColumnSpec>), SettingsError> {
    let m = cx.object("", v, "schema.json")?;
    cx.only_keys("", m, &["description", "columns"])?;
    let description = m
        .get("description")
        .map(|d| cx.string("description", d))
        .transpose()?;
    let mut columns = BTreeMap::new();
    if let Some(cols) = m.get("columns") {
        for (key, col) in cx.object("columns", cols, "columns")? {
            let at = join("columns", key);
            columns.insert(key.clone(), parse_column(cx, &at, key, col)?);
        }
    }
    Ok((description, columns))
}

fn parse_column(cx: &Cx<'_>, at: &str, key: &str, v: &Value) -> Result<ColumnSpec, SettingsError> {
    if is_builtin_column(key) {
        return Err(cx.err(at, format!("'{key}' is a built-in column; leave it out")));
    }
    check_key_name(key).map_err(|e| cx.err(at, e.message))?;
    let m = cx.object(at, v, "a column")?;
    cx.only_keys(
        at,
        m,
        &[
            "type",
            "className",
            "read_only",
            "hidden",
            "required",
            "default",
            "description",
        ],
    )?;
    let kind = match m.get("type") {
        None => return Err(cx.err(at, "a column needs a \"type\"")),
        Some(t) => cx.string(&join(at, "type"), t)?,
    };
    if !COLUMN_TYPES.contains(&kind.as_str()) {
        return Err(cx.err(
            &join(at, "type"),
            format!(
                "unknown type '{kind}' (expected one of: {})",
                COLUMN_TYPES.join(", ")
            ),
        ));
    }
    let targeted = matches!(kind.as_str(), "Pointer" | "Relation");
    let class_name = match m.get("className") {
        None if targeted => {
            return Err(cx.err(at, format!("a {kind} column needs a \"className\"")));
        }
        None => None,
        Some(_) if !targeted => {
            return Err(cx.err(
                &join(at, "className"),
                format!("only Pointer and Relation columns have a className, not {kind}"),
            ));
        }
        Some(c) => {
            let c = cx.string(&join(at, "className"), c)?;
            check_class_name(&c).map_err(|e| cx.err(&join(at, "className"), e.message))?;
            Some(c)
        }
    };
    let flag = |name: &str| -> Result<bool, SettingsError> {
        m.get(name)
            .map(|b| cx.boolean(&join(at, name), b))
            .transpose()
            .map(Option::unwrap_or_default)
    };
    let mut column = Column {
        kind,
        class_name,
        read_only: flag("read_only")?,
        hidden: flag("hidden")?,
        required: flag("required")?,
        default: None,
    };
    if let Some(d) = m.get("default") {
        column.default = Some(check_default(cx, &join(at, "default"), key, &column, d)?);
    }
    let description = m
        .get("description")
        .map(|d| cx.string(&join(at, "description"), d))
        .transpose()?;
    Ok(ColumnSpec {
        column,
        description,
    })
}

/// A column default must be a valid value of the column's type.
fn check_default(
    cx: &Cx<'_>,
    at: &str,
    key: &str,
    column: &Column,
    d: &Value,
) -> Result<Value, SettingsError> {
    if d.is_null() {
        return Err(cx.err(at, "a default of null is no default; leave it out"));
    }
    if column.kind == "Relation" {
        return Err(cx.err(at, "a Relation column cannot have a default"));
    }
    leancloud::value::validate(key, d).map_err(|e| cx.lc(at, e))?;
    let got = objects::column_of(d);
    if column.kind != "Any" && got.kind != column.kind {
        return Err(cx.err(
            at,
            format!(
                "the default is a {}, but the column is a {}",
                got.kind, column.kind
            ),
        ));
    }
    if let (Some(want), Some(have)) = (&column.class_name, &got.class_name)
        && want != have
    {
        return Err(cx.err(
            at,
            format!("the default points to {have}, but the column points to {want}"),
        ));
    }
    Ok(d.clone())
}

/// `indexes.json`: `[{"keys": [...], "unique": true, "name": "...", "description": "..."}]`.
fn parse_indexes(
    cx: &Cx<'_>,
    v: &Value,
    columns: &BTreeMap<String, ColumnSpec>,
) -> Result<Vec<IndexSpec>, SettingsError> {
    let mut out: Vec<IndexSpec> = Vec::new();
    for (i, item) in cx.array("", v, "indexes.json")?.iter().enumerate() {
        let at = format!("[{i}]");
        let m = cx.object(&at, item, "an index")?;
        cx.only_keys(&at, m, &["keys", "unique", "name", "description"])?;
        let keys_at = join(&at, "keys");
        let Some(keys) = m.get("keys") else {
            return Err(cx.err(&at, "an index needs \"keys\""));
        };
        let keys = cx.array(&keys_at, keys, "keys")?;
        if keys.is_empty() {
            return Err(cx.err(&keys_at, "an index needs at least one key"));
        }
        let mut index = IndexSpec::default();
        for (j, k) in keys.iter().enumerate() {
            let k_at = format!("{keys_at}[{j}]");
            let k = cx.string(&k_at, k)?;
            // Built-in classes have built-in columns (username, email, ...) a schema
            // need not declare; other classes index declared columns only, so that a
            // misspelt key is caught.
            let known =
                is_builtin_column(&k) || cx.class.starts_with('_') || columns.contains_key(&k);
            if !known {
                return Err(cx.err(
                    &k_at,
                    format!("'{k}' is not a column of schema.json (declare it there)"),
                ));
            }
            if index.keys.contains(&k) {
                return Err(cx.err(&k_at, format!("'{k}' is listed twice")));
            }
            index.keys.push(k);
        }
        index.unique = m
            .get("unique")
            .map(|u| cx.boolean(&join(&at, "unique"), u))
            .transpose()?
            .unwrap_or(false);
        index.name = m
            .get("name")
            .map(|n| cx.string(&join(&at, "name"), n))
            .transpose()?;
        index.description = m
            .get("description")
            .map(|d| cx.string(&join(&at, "description"), d))
            .transpose()?;
        if out
            .iter()
            .any(|o| o.keys == index.keys && o.unique == index.unique)
        {
            return Err(cx.err(&at, "the same index is listed twice"));
        }
        out.push(index);
    }
    Ok(out)
}

/// `permissions.json`: one entry per operation plus `defaultACL`.
fn parse_permissions(
    cx: &Cx<'_>,
    v: &Value,
    class: &str,
) -> Result<(ClassPermissions, Option<Value>), SettingsError> {
    let m = cx.object("", v, "permissions.json")?;
    let mut allowed: Vec<&str> = ClassOp::ALL.iter().map(|op| op.name()).collect();
    allowed.push("defaultACL");
    cx.only_keys("", m, &allowed)?;
    let mut permissions = ClassPermissions::default_for(class);
    for op in ClassOp::ALL {
        if let Some(p) = m.get(op.name()) {
            permissions
                .0
                .insert(op, parse_permission(cx, op.name(), p)?);
        }
    }
    let default_acl = match m.get("defaultACL") {
        None => None,
        Some(acl) => {
            objects::check_acl(acl).map_err(|e| cx.lc("defaultACL", e))?;
            Some(acl.clone())
        }
    };
    Ok((permissions, default_acl))
}

/// Exactly one of `{"*": true}`, `{"onlySignInUsers": true}`,
/// `{"users": [...], "roles": [...]}` (either list may be left out, not both).
fn parse_permission(cx: &Cx<'_>, at: &str, v: &Value) -> Result<Permission, SettingsError> {
    let m = cx.object(at, v, "a permission")?;
    let shapes =
        "{\"*\": true}, {\"onlySignInUsers\": true} or {\"users\": [...], \"roles\": [...]}";
    let only_true = |key: &str| -> Result<(), SettingsError> {
        if m.len() != 1 || m.get(key) != Some(&Value::Bool(true)) {
            return Err(cx.err(
                at,
                format!("'{key}' must stand alone with the value true (expected {shapes}; for nobody, {{\"users\": [], \"roles\": []}})"),
            ));
        }
        Ok(())
    };
    if m.contains_key("*") {
        only_true("*")?;
    } else if m.contains_key("onlySignInUsers") {
        only_true("onlySignInUsers")?;
    } else {
        cx.only_keys(at, m, &["users", "roles"])?;
        if m.is_empty() {
            return Err(cx.err(at, format!("an empty permission; expected {shapes}")));
        }
        for list in ["users", "roles"] {
            if let Some(l) = m.get(list) {
                let l_at = join(at, list);
                for (i, item) in cx.array(&l_at, l, list)?.iter().enumerate() {
                    cx.string(&format!("{l_at}[{i}]"), item)?;
                }
            }
        }
    }
    Permission::from_json(v).map_err(|e| cx.lc(at, e))
}

/// `population.json`: an array of objects in wire form.
fn parse_population(cx: &Cx<'_>, v: &Value, class: &str) -> Result<Vec<Row>, SettingsError> {
    let mut rows = Vec::new();
    let mut ids = BTreeSet::new();
    for (i, item) in cx.array("", v, "population.json")?.iter().enumerate() {
        let at = format!("[{i}]");
        let m = cx.object(&at, item, "a row")?;
        let mut row = Row::default();
        for (key, value) in m {
            let k_at = join(&at, key);
            match key.as_str() {
                "objectId" => {
                    let id = cx.string(&k_at, value)?;
                    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                        return Err(cx.err(
                            &k_at,
                            format!("'{id}' is not an objectId (letters and digits)"),
                        ));
                    }
                    if !ids.insert(id.clone()) {
                        return Err(cx.err(&k_at, format!("objectId '{id}' is used twice")));
                    }
                    row.object_id = Some(id);
                }
                "createdAt" => row.created_at = Some(date(cx, &k_at, value)?),
                "updatedAt" => row.updated_at = Some(date(cx, &k_at, value)?),
                "password" | "sessionToken" | "salt" if class == "_User" => {
                    let s = cx.string(&k_at, value)?;
                    if s.is_empty() {
                        return Err(cx.err(&k_at, format!("an empty {key}")));
                    }
                    match key.as_str() {
                        "password" => row.password = Some(s),
                        // LeanCloud's export: `password` is then its hash (users::leancloud_hash).
                        "salt" => row.salt = Some(s),
                        _ => row.session_token = Some(s),
                    }
                }
                k if k.starts_with("__") => {
                    return Err(
                        cx.err(&k_at, "keys starting with '__' are request flags, not data")
                    );
                }
                _ => {
                    row.fields.insert(key.clone(), value.clone());
                }
            }
        }
        if let (Some(c), Some(u)) = (row.created_at, row.updated_at)
            && u < c
        {
            return Err(cx.err(&at, "updatedAt is before createdAt"));
        }
        // The create rules that need no store: key names, values, operations, ACL.
        Changes::parse(&row.fields, false).map_err(|e| cx.lc(&at, e))?;
        rows.push(row);
    }
    Ok(rows)
}

/// `createdAt` / `updatedAt`: the wire's plain ISO string, or a `Date` value.
fn date(cx: &Cx<'_>, at: &str, v: &Value) -> Result<i64, SettingsError> {
    let iso = match v {
        Value::String(s) => Some(s.as_str()),
        Value::Object(m) if m.get("__type") == Some(&json!("Date")) => {
            m.get("iso").and_then(Value::as_str)
        }
        _ => None,
    };
    iso.and_then(leancloud::value::parse_date).ok_or_else(|| {
        cx.err(
            at,
            format!("expected an ISO 8601 date such as \"2024-01-31T08:00:00.000Z\", not {v}"),
        )
    })
}

/// Give `classes` their settings in `store`, then insert their rows. Settings replace
/// what the store had for these classes (declared columns, permissions, default ACL);
/// unique indexes are added. On an error the store may hold part of the rows: start
/// from a fresh store.
pub fn apply(store: &mut Store, classes: &[ClassSpec]) -> Result<Applied, SettingsError> {
    let mut seen = BTreeSet::new();
    for spec in classes {
        if !seen.insert(spec.name.as_str()) {
            return Err(SettingsError {
                class: spec.name.clone(),
                file: None,
                at: String::new(),
                message: "the class is given twice".into(),
            });
        }
    }
    for spec in classes {
        configure(store.class_mut(&spec.name), spec);
    }
    let mut applied = Applied {
        classes: classes.len(),
        objects: 0,
    };
    for spec in classes {
        let cx = Cx {
            class: &spec.name,
            file: SettingsFile::Population,
        };
        for (i, row) in spec.population.iter().enumerate() {
            insert_row(store, &cx, &format!("[{i}]"), spec, row)?;
            applied.objects += 1;
        }
    }
    Ok(applied)
}

fn configure(data: &mut ClassData, spec: &ClassSpec) {
    for (key, col) in &spec.columns {
        data.columns.insert(key.clone(), col.column.clone());
    }
    if let Some(p) = &spec.permissions {
        data.settings.permissions = p.clone();
    }
    if spec.default_acl.is_some() {
        data.settings.default_acl = spec.default_acl.clone();
    }
    for index in &spec.indexes {
        data.add_index(index.keys.clone(), index.unique);
    }
}

/// One row through the create rules, as the master key, keeping its id and times.
fn insert_row(
    store: &mut Store,
    cx: &Cx<'_>,
    at: &str,
    spec: &ClassSpec,
    row: &Row,
) -> Result<(), SettingsError> {
    let class = spec.name.as_str();
    let created_at = row.created_at.unwrap_or_else(|| store.clock.now_ms());
    let updated_at = row.updated_at.unwrap_or(created_at);
    if updated_at < created_at {
        return Err(cx.err(at, "updatedAt is before createdAt"));
    }
    let id = match &row.object_id {
        Some(id) => id.clone(),
        None => store.ids.object_id(created_at),
    };
    if store.object(class, &id).is_some() {
        return Err(cx.err(at, format!("objectId '{id}' is already taken in {class}")));
    }
    let mut fields = row.fields.clone();
    if class == "_User" && !fields.contains_key("ACL") {
        // Like a signed-up user: the class default with `_owner` as the user, else
        // public read and the user's own write.
        fields.insert("ACL".into(), crate::users::new_user_acl(store, &id));
    }
    let changes = Changes::parse(&fields, false).map_err(|e| cx.lc(at, e))?;
    let mut obj = objects::preview_create(store, class, &changes, &Principal::master())
        .map_err(|e| cx.lc(at, e))?;
    if let Some(token) = &row.session_token
        && store.session_user(token).is_some()
    {
        return Err(cx.err(
            &join(at, "sessionToken"),
            "the session token is already taken",
        ));
    }
    obj.id = id.as_str().into();
    obj.created_at = created_at;
    obj.updated_at = updated_at;
    objects::insert_new(store, class, &obj, &changes.keys());
    for (path, change) in &changes.entries {
        if let (Change::Op(op), [key]) = (change, path.as_slice()) {
            add_relations(store, class, &id, key, op);
        }
    }
    if let Some(token) = &row.session_token {
        store.sessions.insert(token.clone(), id.clone());
    }
    match (&row.password, &row.salt) {
        (Some(hash), Some(salt)) => {
            crate::users::set_password_hash(store, &id, crate::users::imported_hash(salt, hash));
        }
        (Some(clear), None) => {
            set_password(store, &id, clear)
                .map_err(|e| cx.err(&join(at, "password"), &e.message))?;
        }
        (None, Some(_)) => return Err(cx.err(&join(at, "salt"), "a salt without a password")),
        (None, None) => {}
    }
    Ok(())
}

/// Relation membership a row's `AddRelation` operations ask for.
fn add_relations(store: &mut Store, class: &str, id: &str, key: &str, op: &FieldOp) {
    match op {
        FieldOp::AddRelation(pointers) => {
            let set = store
                .relations
                .entry((class.to_string(), id.to_string(), key.to_string()))
                .or_default();
            set.extend(
                pointers
                    .iter()
                    .filter_map(|p| p.get("objectId").and_then(Value::as_str))
                    .map(str::to_string),
            );
        }
        FieldOp::Batch(ops) => ops
            .iter()
            .for_each(|op| add_relations(store, class, id, key, op)),
        _ => {}
    }
}

/// A `_User` row's clear-text `password`, hashed with the store's cost.
fn set_password(store: &mut Store, user_id: &str, clear: &str) -> Result<(), LcError> {
    crate::users::set_password(store, user_id, clear)
}

/// A class's schema as `GET /1.1/schemas/<Class>` shows it: every column with its type
/// (and `className` for pointers and relations), the built-in columns included.
pub fn schema(data: &ClassData) -> Value {
    let mut out = Map::new();
    for (key, kind) in BUILTIN_COLUMNS {
        out.insert(key.to_string(), json!({"type": kind}));
    }
    for (key, col) in &data.columns {
        let mut c = Map::new();
        c.insert("type".into(), Value::String(col.kind.clone()));
        if let Some(target) = &col.class_name {
            c.insert("className".into(), Value::String(target.clone()));
        }
        out.insert(key.clone(), Value::Object(c));
    }
    Value::Object(out)
}

/// Every class's schema, by class name (`GET /1.1/schemas`).
pub fn schemas(store: &Store) -> Value {
    let all: Map<String, Value> = store
        .classes
        .iter()
        .map(|(name, data)| (name.clone(), schema(data)))
        .collect();
    Value::Object(all)
}

#[cfg(test)]
mod tests;
