//! Strategies for LeanCloud field values (protocol notes §2): every `__type` form (Date,
//! Pointer, Relation, GeoPoint, File, Bytes, Object), plain JSON, and whole objects as
//! field maps; plus the helpers a test needs to build and compare them ([`date`],
//! and [`pointer`] and [`same_value`] from `leancloud::value`).
//!
//! Generated values are always valid as stored data: keys are lowercase names (so they
//! never collide with `objectId`, `createdAt`, `updatedAt`, `ACL`), nested keys hold no
//! `$` or `.` (121), an object carries at most one GeoPoint, numbers are exact in JSON.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use leancloud::value::format_date;
pub use leancloud::value::{pointer, same_value};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// The dates generated fall between 2000-01-01 and 2030-01-01 (Unix milliseconds).
pub const DATE_MIN_MS: i64 = 946_684_800_000;
pub const DATE_MAX_MS: i64 = 1_893_456_000_000;

/// `{"__type":"Date","iso":...}`.
pub fn date(ms: i64) -> Value {
    json!({"__type": "Date", "iso": format_date(ms)})
}

pub fn arb_date_ms() -> impl Strategy<Value = i64> {
    DATE_MIN_MS..DATE_MAX_MS
}

pub fn arb_date() -> impl Strategy<Value = Value> {
    arb_date_ms().prop_map(date)
}

/// A 24-hex objectId, as the service makes them.
pub fn arb_object_id() -> impl Strategy<Value = String> {
    "[0-9a-f]{24}"
}

/// A custom class name (a letter, then letters, digits, `_`) or a built-in class.
pub fn arb_class_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Z][a-zA-Z0-9_]{0,8}",
        1 => prop_oneof![Just("_User"), Just("_Role"), Just("_File")].prop_map(str::to_string),
    ]
}

pub fn arb_pointer() -> impl Strategy<Value = Value> {
    (arb_class_name(), arb_object_id()).prop_map(|(c, id)| pointer(&c, &id))
}

/// The read-only marker of a relation column.
pub fn arb_relation() -> impl Strategy<Value = Value> {
    arb_class_name().prop_map(|c| json!({"__type": "Relation", "className": c}))
}

/// Latitude in [-90, 90], longitude in [-180, 180], in steps of 0.25 degree (exact in
/// binary, so they survive any JSON round trip).
pub fn arb_geopoint() -> impl Strategy<Value = Value> {
    (-360i32..=360, -720i32..=720).prop_map(|(lat, lng)| {
        json!({"__type": "GeoPoint", "latitude": f64::from(lat) / 4.0, "longitude": f64::from(lng) / 4.0})
    })
}

/// A file reference: the documented `{"__type":"File","id":...}`, or the form SDKs send
/// with the file's name and url.
pub fn arb_file() -> impl Strategy<Value = Value> {
    prop_oneof![
        arb_object_id().prop_map(|id| json!({"__type": "File", "id": id})),
        (arb_object_id(), "[a-z]{1,8}\\.(png|txt|jpg)").prop_map(|(id, name)| {
            json!({
                "__type": "File",
                "objectId": id,
                "name": name,
                "url": format!("https://files.example.com/{id}/{name}"),
            })
        }),
    ]
}

pub fn arb_bytes() -> impl Strategy<Value = Value> {
    prop::collection::vec(any::<u8>(), 0..12)
        .prop_map(|b| json!({"__type": "Bytes", "base64": STANDARD.encode(&b)}))
}

/// A field name as stored data uses it: lowercase, so never a reserved key.
pub fn arb_key() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,6}"
}

/// A JSON number that every JSON implementation keeps exactly: small integers and halves.
pub fn arb_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (-1000i64..1000).prop_map(Value::from),
        1 => (-200i32..200).prop_map(|h| Value::from(f64::from(h) + 0.5)),
    ]
}

/// Plain JSON: no `__type`, no `__op`, keys that are valid nested keys.
pub fn arb_plain_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        arb_number(),
        "[ -~]{0,10}".prop_map(Value::from),
        "[\\PC]{0,4}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(arb_key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `{"__type":"Object","className":...}` with an objectId and plain fields: the form
/// `/1.1/call` uses for whole objects.
pub fn arb_object_value() -> impl Strategy<Value = Value> {
    (
        arb_class_name(),
        arb_object_id(),
        prop::collection::btree_map(arb_key(), arb_plain_json(), 0..3),
    )
        .prop_map(|(class, id, fields)| {
            let mut m: Map<String, Value> = fields.into_iter().collect();
            m.insert("__type".into(), json!("Object"));
            m.insert("className".into(), json!(class));
            m.insert("objectId".into(), json!(id));
            Value::Object(m)
        })
}

/// The kinds of typed value, for strategies that want one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeName {
    Date,
    Pointer,
    Relation,
    GeoPoint,
    File,
    Bytes,
    Object,
}

impl TypeName {
    pub const ALL: [TypeName; 7] = [
        TypeName::Date,
        TypeName::Pointer,
        TypeName::Relation,
        TypeName::GeoPoint,
        TypeName::File,
        TypeName::Bytes,
        TypeName::Object,
    ];

    /// The `__type` of a value, if it has one of these.
    pub fn of(v: &Value) -> Option<TypeName> {
        let name = v.get("__type")?.as_str()?;
        TypeName::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            TypeName::Date => "Date",
            TypeName::Pointer => "Pointer",
            TypeName::Relation => "Relation",
            TypeName::GeoPoint => "GeoPoint",
            TypeName::File => "File",
            TypeName::Bytes => "Bytes",
            TypeName::Object => "Object",
        }
    }
}

/// One value of the given `__type`.
pub fn arb_typed(t: TypeName) -> BoxedStrategy<Value> {
    match t {
        TypeName::Date => arb_date().boxed(),
        TypeName::Pointer => arb_pointer().boxed(),
        TypeName::Relation => arb_relation().boxed(),
        TypeName::GeoPoint => arb_geopoint().boxed(),
        TypeName::File => arb_file().boxed(),
        TypeName::Bytes => arb_bytes().boxed(),
        TypeName::Object => arb_object_value().boxed(),
    }
}

/// A value of any `__type`.
pub fn arb_typed_value() -> impl Strategy<Value = Value> {
    prop::sample::select(TypeName::ALL.to_vec()).prop_flat_map(arb_typed)
}

/// What a client may store in a field: plain JSON, a typed value, or an array of the
/// typed values arrays commonly hold (pointers, dates).
pub fn arb_field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => arb_plain_json(),
        3 => arb_typed_value(),
        1 => prop::collection::vec(prop_oneof![arb_pointer(), arb_date()], 0..3)
            .prop_map(Value::Array),
    ]
}

/// An object's fields (a create body without ACL): at most one GeoPoint, as the
/// service allows.
pub fn arb_fields() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(arb_key(), arb_field_value(), 0..5).prop_map(|m| {
        let mut geo = false;
        m.into_iter()
            .filter(|(_, v)| {
                let is_geo = TypeName::of(v) == Some(TypeName::GeoPoint);
                let keep = !(is_geo && geo);
                geo |= is_geo;
                keep
            })
            .collect()
    })
}
