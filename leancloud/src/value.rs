//! Typed values and their JSON encoding, one type per `__type` used in both directions:
//! clients encode with these types and the emulator decodes with the same ones.
//!
//! - [`LcValue`]: any field value; [`LcValue::decode`] / [`LcValue::encode`] round-trip.
//! - [`Date`], [`Pointer`], [`Relation`], [`GeoPoint`], [`File`], [`Bytes`], [`Object`]:
//!   the `{"__type": ...}` forms (protocol notes §2), each with `to_json` / `from_json`.
//! - [`Acl`]: the `ACL` field. It has no `__type`, so [`LcValue`] decodes it as a plain map;
//!   use [`Acl::from_json`] where the key says it is an ACL.
//! - [`validate`]: the checks a client-sent field value must pass before it is stored.
//!
//! Error codes where the protocol notes say "not found" (documented on each item):
//! a malformed `Date`, `File`, `Bytes`, `Object` or `Relation`, and an unknown `__type`,
//! answer code 111 ("incorrect type"); malformed pointers 106, bad GeoPoints 302,
//! bad ACLs 123, nested keys with `$` or `.` 121.

use crate::LcError;
use serde_json::{Map, Number, Value, json};
use std::collections::BTreeMap;

/// Format Unix milliseconds as LeanCloud's ISO-8601 UTC with exactly three fraction
/// digits and `Z`, e.g. `2019-09-19T04:45:49.090Z`.
pub fn format_date(ms: i64) -> String {
    use chrono::{Datelike, Timelike};
    let date = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    let year = date.year();
    if !(0..=9999).contains(&year) {
        return date.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    }
    // Every stored date is rendered on every read: written digit by digit, not through
    // a formatter.
    let fields = [
        (year as u32, 4, b'-'),
        (date.month(), 2, b'-'),
        (date.day(), 2, b'T'),
        (date.hour(), 2, b':'),
        (date.minute(), 2, b':'),
        (date.second(), 2, b'.'),
        (date.timestamp_subsec_millis(), 3, b'Z'),
    ];
    let mut out = Vec::with_capacity(24);
    for (value, digits, after) in fields {
        for place in (0..digits).rev() {
            out.push(b'0' + (value / 10u32.pow(place) % 10) as u8);
        }
        out.push(after);
    }
    String::from_utf8(out).expect("digits and separators are ASCII")
}

/// Parse any RFC 3339 date (any offset, any number of fraction digits) into Unix
/// milliseconds; sub-millisecond digits are truncated.
pub fn parse_date(iso: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(iso)
        .ok()
        .map(|d| d.timestamp_millis())
}

/// The LeanCloud schema type name of a JSON value (`String`, `Number`, `Pointer`, ...),
/// as error messages name it. `Null` for JSON null.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(m) => match m.get("__type").and_then(Value::as_str) {
            Some("Date") => "Date",
            Some("Pointer") => "Pointer",
            Some("Relation") => "Relation",
            Some("GeoPoint") => "GeoPoint",
            Some("File") => "File",
            Some("Bytes") => "Bytes",
            _ => "Object",
        },
    }
}

/// JSON equality where numbers compare by value, as MongoDB compares them: `1` and `1.0`
/// are the same number, and two integers compare exactly (also beyond 2^53).
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x == y || x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(i, j)| same_value(i, j))
        }
        (Value::Object(x), Value::Object(y)) => same_fields(x, y),
        _ => a == b,
    }
}

/// [`same_value`] for two objects' fields: the same keys, each holding the same value.
pub fn same_fields(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| same_value(v, w)))
}

/// `" for field 'k'"`, or nothing when there is no field name.
fn at(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!(" for field '{key}'")
    }
}

/// Encode a coordinate as a JavaScript service prints it: integral values without `.0`.
fn number_json(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

// ---- Date ----------------------------------------------------------------------------------

/// `{"__type":"Date","iso":"2015-06-21T18:02:52.249Z"}`, held as Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub ms: i64,
}

impl Date {
    pub fn from_ms(ms: i64) -> Self {
        Date { ms }
    }
    /// Any RFC 3339 date; `None` when it does not parse.
    pub fn from_iso(iso: &str) -> Option<Self> {
        parse_date(iso).map(Date::from_ms)
    }
    pub fn now() -> Self {
        Date::from_ms(chrono::Utc::now().timestamp_millis())
    }
    /// LeanCloud's form: UTC, three fraction digits, `Z`.
    pub fn iso(&self) -> String {
        format_date(self.ms)
    }
    pub fn to_json(&self) -> Value {
        json!({"__type": "Date", "iso": self.iso()})
    }
    /// A Date without a parseable `iso` is code 111: the real code was not found.
    pub fn from_json(value: &Value) -> Result<Self, LcError> {
        decode_date("", value)
    }
}

fn decode_date(key: &str, value: &Value) -> Result<Date, LcError> {
    let iso = value.get("iso").and_then(Value::as_str);
    match iso.and_then(Date::from_iso) {
        Some(d) if has_type(value, "Date") => Ok(d),
        _ => Err(LcError::incorrect_type_detail(format!(
            "Invalid Date{}: expected {{\"__type\":\"Date\",\"iso\":<ISO 8601 string>}}, got {value}.",
            at(key)
        ))),
    }
}

fn has_type(value: &Value, ty: &str) -> bool {
    value.get("__type").and_then(Value::as_str) == Some(ty)
}

// ---- Pointer -------------------------------------------------------------------------------

/// The wire form of a pointer to `class`'s object `id`, as bodies, `where`s and ACL-less
/// tests write it: `{"__type":"Pointer","className":class,"objectId":id}`.
pub fn pointer(class: &str, id: &str) -> Value {
    Pointer::new(class, id).to_json()
}

/// `{"__type":"Pointer","className":"Post","objectId":"..."}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pointer {
    pub class_name: String,
    pub object_id: String,
}

impl Pointer {
    pub fn new(class_name: impl Into<String>, object_id: impl Into<String>) -> Self {
        Pointer {
            class_name: class_name.into(),
            object_id: object_id.into(),
        }
    }
    pub fn to_json(&self) -> Value {
        json!({"__type": "Pointer", "className": self.class_name, "objectId": self.object_id})
    }
    /// Code 106 unless `__type` is `Pointer` and `className`, `objectId` are strings.
    /// Other keys (an included object's fields) are ignored here.
    pub fn from_json(value: &Value) -> Result<Self, LcError> {
        decode_pointer("", value)
    }
}

fn decode_pointer(key: &str, value: &Value) -> Result<Pointer, LcError> {
    let class = value.get("className").and_then(Value::as_str);
    let id = value.get("objectId").and_then(Value::as_str);
    match (class, id) {
        (Some(c), Some(i)) if has_type(value, "Pointer") => Ok(Pointer::new(c, i)),
        _ => Err(LcError::invalid_pointer(format!(
            "a pointer{} needs string className and objectId, got {value}.",
            at(key)
        ))),
    }
}

// ---- Relation ------------------------------------------------------------------------------

/// `{"__type":"Relation","className":"<target>"}`: the read-only marker of a relation
/// column. Membership lives elsewhere (the `AddRelation` / `RemoveRelation` operations).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Relation {
    pub class_name: String,
}

impl Relation {
    pub fn new(class_name: impl Into<String>) -> Self {
        Relation {
            class_name: class_name.into(),
        }
    }
    pub fn to_json(&self) -> Value {
        json!({"__type": "Relation", "className": self.class_name})
    }
    /// Only the exact marker is accepted (string `className`, no other keys); anything
    /// else is code 111 (the real code was not found).
    pub fn from_json(value: &Value) -> Result<Self, LcError> {
        decode_relation("", value)
    }
}

fn decode_relation(key: &str, value: &Value) -> Result<Relation, LcError> {
    let class = value.get("className").and_then(Value::as_str);
    let only_marker = value.as_object().is_some_and(|m| m.len() == 2);
    match class {
        Some(c) if only_marker && has_type(value, "Relation") => Ok(Relation::new(c)),
        _ => Err(LcError::incorrect_type_detail(format!(
            "Invalid Relation{}: only {{\"__type\":\"Relation\",\"className\":<class>}} may be written, got {value}.",
            at(key)
        ))),
    }
}

// ---- GeoPoint ------------------------------------------------------------------------------

/// `{"__type":"GeoPoint","latitude":39.9,"longitude":116.4}`; latitude in [-90, 90],
/// longitude in [-180, 180], else code 302.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

impl GeoPoint {
    /// Code 302 when a coordinate is out of range.
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, LcError> {
        if !(-90.0..=90.0).contains(&latitude) {
            return Err(LcError::invalid_geopoint(format!(
                "latitude {latitude} is outside [-90, 90]."
            )));
        }
        if !(-180.0..=180.0).contains(&longitude) {
            return Err(LcError::invalid_geopoint(format!(
                "longitude {longitude} is outside [-180, 180]."
            )));
        }
        Ok(GeoPoint {
            latitude,
            longitude,
        })
    }
    /// Integral coordinates are written without `.0`, as a JavaScript service prints them.
    pub fn to_json(&self) -> Value {
        json!({
            "__type": "GeoPoint",
            "latitude": number_json(self.latitude),
            "longitude": number_json(self.longitude),
        })
    }
    /// Code 302 for missing, non-numeric or out-of-range coordinates.
    pub fn from_json(value: &Value) -> Result<Self, LcError> {
        decode_geopoint("", value)
    }
}

fn decode_geopoint(key: &str, value: &Value) -> Result<GeoPoint, LcError> {
    let lat = value.get("latitude").and_then(Value::as_f64);
    let lng = value.get("longitude").and_then(Value::as_f64);
    match (lat, lng) {
        (Some(lat), Some(lng)) if has_type(value, "GeoPoint") => GeoPoint::new(lat, lng),
        _ => Err(LcError::invalid_geopoint(format!(
            "a GeoPoint{} needs numeric latitude and longitude, got {value}.",
            at(key)
        ))),
    }
}

// ---- File ----------------------------------------------------------------------------------

/// A file reference: `{"__type":"File","id":"<fileObjectId>"}` as documented for writes,
/// or the expanded form SDKs send and the service returns (`objectId`, `name`, `url`,
/// `mime_type`, `metaData`, ...). Every key but `__type` is kept verbatim in `fields`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    pub fields: Map<String, Value>,
}

impl File {
    /// The documented reference form `{"__type":"File","id":<id>}`.
    pub fn reference(id: impl Into<String>) -> Self {
        let mut fields = Map::new();
        fields.insert("id".into(), Value::String(id.into()));
        File { fields }
    }
    /// `objectId`, else `id`.
    pub fn object_id(&self) -> Option<&str> {
        ["objectId", "id"]
            .iter()
            .find_map(|k| self.fields.get(*k).and_then(Value::as_str))
    }
    pub fn to_json(&self) -> Value {
        let mut map = self.fields.clone();
        map.insert("__type".into(), json!("File"));
        Value::Object(map)
    }
    /// Code 111 unless `id`, `objectId` or `url` is a string (the real code was not found).
    pub fn from_json(value: &Value) -> Result<Self, LcError> {
        decode_file("", value)
    }
}

fn decode_file(key: &str, value: &Value) -> Result<File, LcError> {
    let file = value
        .as_object()
        .filter(|_| has_type(value, "File"))
        .map(|m| {
            let mut fields = m.clone();
            fields.remove("__type");
            File { fields }
        });
    // An external file (a `url` and no id yet) is what SDKs send for a file they have not
    // saved, e.g. in cloud-function params (recorded, AV.Cloud suite).
    let external = |f: &File| f.fields.get("url").is_some_and(Value::is_string);
    match file {
        Some(f) if f.object_id().is_some() || external(&f) => Ok(f),
        _ => Err(LcError::incorrect_type_detail(format!(
            "Invalid File{}: a file reference needs a string id, objectId or url, got {value}.",
            at(key)
        ))),
    }
}

// ---- Bytes ---------------------------------------------------------------------------------

/// `{"__type":"Bytes","base64":"..."}`. The text is kept as sent, not decoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bytes {
    pub base64: String,
}

impl Bytes {
    pub fn new(base64: impl Into<String>) -> Self {
        Bytes {
            base64: base64.into(),
        }
    }
    pub fn to_json(&self) -> Value {
        json!({"__type": "Bytes", "base64": self.base64})
    }
    /// Code 111 unless `base64` is a string (the real code was not found).
    pub fn from_json(value: &Value) -> Result<Self, LcError> {
        decode_bytes("", value)
    }
}

fn decode_bytes(key: &str, value: &Value) -> Result<Bytes, LcError> {
    match value.get("base64").and_then(Value::as_str) {
        Some(b) if has_type(value, "Bytes") => Ok(Bytes::new(b)),
        _ => Err(LcError::incorrect_type_detail(format!(
            "Invalid Bytes{}: expected {{\"__type\":\"Bytes\",\"base64\":<string>}}, got {value}.",
            at(key)
        ))),
    }
}

// ---- Object --------------------------------------------------------------------------------

/// A whole object with its class: `{"__type":"Object","className":"Post",...fields}`,
/// the form `/1.1/call` uses for params and results. `fields` include `objectId`,
/// `createdAt`, `updatedAt` when present.
///
/// The same struct holds an included pointer (`{"__type":"Pointer","className",
/// "objectId",...fields}`, what `include` returns), see [`LcValue::Included`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object {
    pub class_name: String,
    pub fields: BTreeMap<String, LcValue>,
}

impl Object {
    pub fn new(class_name: impl Into<String>) -> Self {
        Object {
            class_name: class_name.into(),
            fields: BTreeMap::new(),
        }
    }
    pub fn with(mut self, key: impl Into<String>, value: LcValue) -> Self {
        self.fields.insert(key.into(), value);
        self
    }
    pub fn get(&self, key: &str) -> Option<&LcValue> {
        self.fields.get(key)
    }
    pub fn object_id(&self) -> Option<&str> {
        match self.fields.get("objectId") {
            Some(LcValue::String(s)) => Some(s),
            _ => None,
        }
    }
    /// The pointer to this object, when it has an `objectId`.
    pub fn pointer(&self) -> Option<Pointer> {
        self.object_id()
            .map(|id| Pointer::new(self.class_name.clone(), id))
    }
    pub fn to_json(&self) -> Value {
        self.encode_as("Object")
    }
    /// Code 111 unless `className` is a string (the real code was not found).
    pub fn from_json(value: &Value) -> Result<Self, LcError> {
        decode_object("", value)
    }

    fn encode_as(&self, ty: &str) -> Value {
        let mut map: Map<String, Value> = self
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), v.encode()))
            .collect();
        map.insert("__type".into(), json!(ty));
        map.insert("className".into(), json!(self.class_name));
        Value::Object(map)
    }
}

fn decode_object(key: &str, value: &Value) -> Result<Object, LcError> {
    let class = value.get("className").and_then(Value::as_str);
    let (Some(class), Some(map)) = (class, value.as_object()) else {
        return Err(LcError::incorrect_type_detail(format!(
            "Invalid Object{}: an object needs a string className, got {value}.",
            at(key)
        )));
    };
    let mut obj = Object::new(class);
    for (k, v) in map {
        if k != "__type" && k != "className" {
            obj.fields.insert(k.clone(), decode_at(k, v)?);
        }
    }
    Ok(obj)
}

// ---- ACL -----------------------------------------------------------------------------------

/// The permissions one ACL key grants. Absent flags are kept absent (SDKs drop `false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AclEntry {
    pub read: Option<bool>,
    pub write: Option<bool>,
}

/// The `ACL` field: `*`, a user objectId or `role:<Name>` mapped to `{read, write}`.
/// Any key is stored verbatim (recorded: `"read-only":{"read":true}`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Acl {
    pub entries: BTreeMap<String, AclEntry>,
}

impl Acl {
    /// An ACL that grants nothing.
    pub fn new() -> Self {
        Acl::default()
    }
    /// `{"*":{"read":true,"write":true}}`, the initial class default.
    pub fn public() -> Self {
        Acl::new().allow_read("*").allow_write("*")
    }
    /// The ACL key of a role: `role:<name>`.
    pub fn role(name: &str) -> String {
        format!("role:{name}")
    }
    pub fn allow_read(mut self, who: impl Into<String>) -> Self {
        self.entries.entry(who.into()).or_default().read = Some(true);
        self
    }
    pub fn allow_write(mut self, who: impl Into<String>) -> Self {
        self.entries.entry(who.into()).or_default().write = Some(true);
        self
    }
    /// Whether any of `principals` (`*`, a user id, `role:<Name>`) may read.
    pub fn can_read(&self, principals: &[&str]) -> bool {
        principals
            .iter()
            .any(|p| self.entries.get(*p).and_then(|e| e.read) == Some(true))
    }
    /// Whether any of `principals` (`*`, a user id, `role:<Name>`) may write.
    pub fn can_write(&self, principals: &[&str]) -> bool {
        principals
            .iter()
            .any(|p| self.entries.get(*p).and_then(|e| e.write) == Some(true))
    }
    pub fn to_json(&self) -> Value {
        let map: Map<String, Value> = self
            .entries
            .iter()
            .map(|(who, e)| {
                let mut perms = Map::new();
                if let Some(r) = e.read {
                    perms.insert("read".into(), json!(r));
                }
                if let Some(w) = e.write {
                    perms.insert("write".into(), json!(w));
                }
                (who.clone(), Value::Object(perms))
            })
            .collect();
        Value::Object(map)
    }
    /// Code 123 unless every value is an object whose only keys are boolean `read` and
    /// `write` (rejecting other permission names is a choice: the real rule was not found).
    pub fn from_json(value: &Value) -> Result<Self, LcError> {
        let Some(map) = value.as_object() else {
            return Err(LcError::invalid_acl(format!(
                "an ACL must be a JSON object, got {value}."
            )));
        };
        let mut acl = Acl::new();
        for (who, perms) in map {
            let Some(perms) = perms.as_object() else {
                return Err(LcError::invalid_acl(format!(
                    "the permissions of '{who}' must be an object, got {perms}."
                )));
            };
            let mut entry = AclEntry::default();
            for (name, v) in perms {
                let slot = match name.as_str() {
                    "read" => &mut entry.read,
                    "write" => &mut entry.write,
                    _ => {
                        return Err(LcError::invalid_acl(format!(
                            "'{who}' has an unknown permission '{name}'."
                        )));
                    }
                };
                let Some(b) = v.as_bool() else {
                    return Err(LcError::invalid_acl(format!(
                        "the '{name}' permission of '{who}' must be a boolean, got {v}."
                    )));
                };
                *slot = Some(b);
            }
            acl.entries.insert(who.clone(), entry);
        }
        Ok(acl)
    }
}

// ---- LcValue -------------------------------------------------------------------------------

/// Any LeanCloud field value with its `__type` forms decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum LcValue {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<LcValue>),
    /// A plain JSON object (also an ACL, which has no `__type`).
    Map(BTreeMap<String, LcValue>),
    Date(Date),
    Pointer(Pointer),
    Relation(Relation),
    GeoPoint(GeoPoint),
    File(File),
    Bytes(Bytes),
    /// `{"__type":"Object",...}`.
    Object(Object),
    /// A pointer carrying its target's fields, as `include` returns it
    /// (`{"__type":"Pointer","className","objectId",...fields}`); `fields` holds `objectId`.
    Included(Object),
}

impl LcValue {
    /// Decode JSON, checking the shape of every `{"__type": ...}` object (codes as on each
    /// type's `from_json`; an unknown `__type` is 111). Keys are not checked: see [`validate`].
    pub fn decode(value: &Value) -> Result<LcValue, LcError> {
        decode_at("", value)
    }

    /// The JSON form; `LcValue::decode(&v.encode()) == Ok(v)`.
    pub fn encode(&self) -> Value {
        match self {
            LcValue::Null => Value::Null,
            LcValue::Bool(b) => Value::Bool(*b),
            LcValue::Number(n) => Value::Number(n.clone()),
            LcValue::String(s) => Value::String(s.clone()),
            LcValue::Array(items) => Value::Array(items.iter().map(LcValue::encode).collect()),
            LcValue::Map(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), v.encode())).collect())
            }
            LcValue::Date(d) => d.to_json(),
            LcValue::Pointer(p) => p.to_json(),
            LcValue::Relation(r) => r.to_json(),
            LcValue::GeoPoint(g) => g.to_json(),
            LcValue::File(f) => f.to_json(),
            LcValue::Bytes(b) => b.to_json(),
            LcValue::Object(o) => o.encode_as("Object"),
            LcValue::Included(o) => o.encode_as("Pointer"),
        }
    }
}

impl From<Date> for LcValue {
    fn from(v: Date) -> Self {
        LcValue::Date(v)
    }
}
impl From<Pointer> for LcValue {
    fn from(v: Pointer) -> Self {
        LcValue::Pointer(v)
    }
}
impl From<Relation> for LcValue {
    fn from(v: Relation) -> Self {
        LcValue::Relation(v)
    }
}
impl From<GeoPoint> for LcValue {
    fn from(v: GeoPoint) -> Self {
        LcValue::GeoPoint(v)
    }
}
impl From<File> for LcValue {
    fn from(v: File) -> Self {
        LcValue::File(v)
    }
}
impl From<Bytes> for LcValue {
    fn from(v: Bytes) -> Self {
        LcValue::Bytes(v)
    }
}
impl From<Object> for LcValue {
    fn from(v: Object) -> Self {
        LcValue::Object(v)
    }
}

fn decode_at(key: &str, value: &Value) -> Result<LcValue, LcError> {
    Ok(match value {
        Value::Null => LcValue::Null,
        Value::Bool(b) => LcValue::Bool(*b),
        Value::Number(n) => LcValue::Number(n.clone()),
        Value::String(s) => LcValue::String(s.clone()),
        Value::Array(items) => LcValue::Array(
            items
                .iter()
                .map(|v| decode_at(key, v))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => match map.get("__type") {
            None => LcValue::Map(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), decode_at(k, v)?)))
                    .collect::<Result<_, LcError>>()?,
            ),
            Some(ty) => match ty.as_str() {
                Some("Date") => LcValue::Date(decode_date(key, value)?),
                Some("Pointer") => {
                    let pointer = decode_pointer(key, value)?;
                    if map.len() == 3 {
                        LcValue::Pointer(pointer)
                    } else {
                        LcValue::Included(decode_object(key, value)?)
                    }
                }
                Some("Relation") => LcValue::Relation(decode_relation(key, value)?),
                Some("GeoPoint") => LcValue::GeoPoint(decode_geopoint(key, value)?),
                Some("File") => LcValue::File(decode_file(key, value)?),
                Some("Bytes") => LcValue::Bytes(decode_bytes(key, value)?),
                Some("Object") => LcValue::Object(decode_object(key, value)?),
                _ => {
                    return Err(LcError::incorrect_type_detail(format!(
                        "Unknown __type {ty}{}.",
                        at(key)
                    )));
                }
            },
        },
    })
}

// ---- validation ----------------------------------------------------------------------------

/// Check a client-sent field value (after field operations are taken out): `__type`
/// shapes and nested key names. `key` names the field for messages.
///
/// - `key == "ACL"`: the value must be an [`Acl`] (123).
/// - `{"__type": ...}` objects must have their type's shape: Pointer 106, GeoPoint 302,
///   Date / File / Bytes / Object / Relation and unknown types 111 (that code is a choice
///   for the ones whose real code was not found). A Relation is accepted only as the
///   bare marker `{"__type":"Relation","className":...}`.
/// - Keys of nested plain objects (including those inside arrays, `Object` fields and a
///   File's extra fields) may not contain `$` or `.` (121).
pub fn validate(key: &str, value: &Value) -> Result<(), LcError> {
    if key == "ACL" {
        return Acl::from_json(value).map(|_| ());
    }
    validate_at(key, value)
}

fn validate_at(key: &str, value: &Value) -> Result<(), LcError> {
    match value {
        Value::Array(items) => items.iter().try_for_each(|v| validate_at(key, v)),
        Value::Object(map) => {
            if map.contains_key("__type") {
                // Decoding checks the typed shape (and an Object's fields' shapes).
                decode_at(key, value)?;
            }
            for (k, v) in map {
                if k == "__type" {
                    continue;
                }
                if k.contains('$') || k.contains('.') {
                    return Err(LcError::invalid_nested_key(k));
                }
                validate_at(k, v)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
