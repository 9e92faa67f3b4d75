//! Values as a query sees them: paths into an object, stored JSON classified by type,
//! operands classified once per query, equality and comparison rules, and the total order
//! `order` sorts by.

use crate::store::StoredObject;
use crate::store::keys::{self, Key};
use crate::store::packed::{self, Items, ObjRef, Val};
use leancloud::LcError;
use serde_json::Value;
use std::cmp::Ordering;

/// A key of a `where` or an `order`: a built-in column or a (dotted) field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Path {
    ObjectId,
    CreatedAt,
    UpdatedAt,
    /// `a` or `a.b.c`: descends through Object fields.
    Field(Vec<Key>),
    /// A path into a column hidden from the caller: found in no row.
    Hidden(Vec<String>),
}

impl Path {
    pub(crate) fn parse(key: &str) -> Path {
        match key {
            "objectId" => Path::ObjectId,
            "createdAt" => Path::CreatedAt,
            "updatedAt" => Path::UpdatedAt,
            _ => Path::Field(key.split('.').map(Key::new).collect()),
        }
    }

    /// A key of `class` as `reader` may see it: a path into a column hidden from them is
    /// [`Path::Hidden`].
    pub(crate) fn for_reader(
        key: &str,
        store: &crate::store::Store,
        class: &str,
        reader: super::Reader<'_>,
    ) -> Path {
        match Path::parse(key) {
            Path::Field(segments) if reader.hides(store, class, segments[0].name()) => {
                Path::Hidden(segments.iter().map(|k| k.name().to_string()).collect())
            }
            path => path,
        }
    }

    /// Built-in dates compare with `{"__type":"Date"}` operands and ISO strings alike.
    pub(crate) fn is_builtin_date(&self) -> bool {
        matches!(self, Path::CreatedAt | Path::UpdatedAt)
    }

    /// What the path leads to in `obj`, without copying.
    pub(crate) fn resolve<'a>(&self, obj: &'a StoredObject) -> Option<Found<'a>> {
        match self {
            Path::ObjectId => Some(Found::Id(&obj.id)),
            Path::CreatedAt => Some(Found::Date(obj.created_at)),
            Path::UpdatedAt => Some(Found::Date(obj.updated_at)),
            Path::Field(segments) => {
                let (first, rest) = segments.split_first()?;
                let mut value = obj.fields.object().get_key(first)?;
                for segment in rest {
                    value = value.as_object()?.get_key(segment)?;
                }
                Some(Found::Val(value))
            }
            Path::Hidden(_) => None,
        }
    }
}

/// String equality inlined: field names and most compared values are short, and a call
/// to `memcmp` per comparison shows in profiles.
pub(crate) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The value a path found in one object.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Found<'a> {
    Val(Val<'a>),
    Id(&'a str),
    Date(i64),
}

impl<'a> Found<'a> {
    pub(crate) fn kind(self) -> Kind<'a> {
        match self {
            Found::Val(v) => classify(v),
            Found::Id(s) => Kind::Str(s),
            Found::Date(ms) => Kind::Date(ms),
        }
    }
}

/// A stored value by type, typed values (`__type`) recognised.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(&'a str),
    Date(i64),
    Pointer(&'a str, &'a str),
    Array(Items<'a>),
    Object(ObjRef<'a>),
}

pub(crate) fn classify(v: Val<'_>) -> Kind<'_> {
    match v {
        Val::Null => Kind::Null,
        Val::Bool(b) => Kind::Bool(b),
        Val::Num(n) => Kind::Num(n.as_f64()),
        Val::Str(s) => Kind::Str(s),
        Val::Array(items) => Kind::Array(items),
        Val::Object(m) => match m.get_sym(keys::TYPE).and_then(Val::as_str) {
            Some("Date") => match m.get_sym(keys::ISO).and_then(Val::as_str).and_then(iso_ms) {
                Some(ms) => Kind::Date(ms),
                None => Kind::Object(m),
            },
            Some("Pointer") => match (
                m.get_sym(keys::CLASS_NAME).and_then(Val::as_str),
                m.get_sym(keys::OBJECT_ID).and_then(Val::as_str),
            ) {
                (Some(class), Some(id)) => Kind::Pointer(class, id),
                _ => Kind::Object(m),
            },
            _ => Kind::Object(m),
        },
    }
}

/// [`classify`] for a value of a query: what `Operand::new` reads.
fn classify_json(v: &Value) -> JsonKind<'_> {
    match v {
        Value::Null => JsonKind::Null,
        Value::Bool(b) => JsonKind::Bool(*b),
        Value::Number(n) => JsonKind::Num(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => JsonKind::Str(s),
        Value::Array(_) => JsonKind::Composite,
        Value::Object(m) => match m.get("__type").and_then(Value::as_str) {
            Some("Date") => match m.get("iso").and_then(Value::as_str).and_then(iso_ms) {
                Some(ms) => JsonKind::Date(ms),
                None => JsonKind::Composite,
            },
            Some("Pointer") => match (
                m.get("className").and_then(Value::as_str),
                m.get("objectId").and_then(Value::as_str),
            ) {
                (Some(class), Some(id)) => JsonKind::Pointer(class, id),
                _ => JsonKind::Composite,
            },
            _ => JsonKind::Composite,
        },
    }
}

/// A query value by type.
enum JsonKind<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(&'a str),
    Date(i64),
    Pointer(&'a str, &'a str),
    Composite,
}

/// A value from a `where`, classified once.
#[derive(Debug, Clone)]
pub(crate) struct Operand {
    pub raw: Value,
    pub kind: OpKind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OpKind {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Date(i64),
    Pointer(String, String),
    /// Arrays and plain objects: compared as whole JSON values.
    Composite,
}

impl Operand {
    /// A query operand. On `createdAt`/`updatedAt` an ISO string means that date.
    pub(crate) fn new(v: &Value, path: &Path) -> Result<Operand, LcError> {
        let kind = match classify_json(v) {
            JsonKind::Null => OpKind::Null,
            JsonKind::Bool(b) => OpKind::Bool(b),
            JsonKind::Num(n) => OpKind::Num(n),
            JsonKind::Str(s) => match path.is_builtin_date().then(|| iso_ms(s)).flatten() {
                Some(ms) => OpKind::Date(ms),
                None => OpKind::Str(s.to_string()),
            },
            JsonKind::Date(ms) => OpKind::Date(ms),
            JsonKind::Pointer(class, id) => OpKind::Pointer(class.to_string(), id.to_string()),
            JsonKind::Composite if v.get("__type").and_then(Value::as_str) == Some("Date") => {
                return Err(LcError::invalid_query(format!(
                    "invalid date {v} for key '{}'",
                    path.display()
                )));
            }
            JsonKind::Composite => OpKind::Composite,
        };
        Ok(Operand {
            raw: v.clone(),
            kind,
        })
    }

    /// A value found in a subquery's rows (`$select`): never fails.
    pub(crate) fn found(found: Found<'_>) -> Operand {
        match found {
            Found::Id(s) => Operand {
                raw: Value::String(s.to_string()),
                kind: OpKind::Str(s.to_string()),
            },
            Found::Date(ms) => Operand {
                raw: Value::String(leancloud::value::format_date(ms)),
                kind: OpKind::Date(ms),
            },
            Found::Val(v) => {
                let raw = v.to_json();
                Operand::new(&raw, &Path::Field(Vec::new())).unwrap_or(Operand {
                    raw,
                    kind: OpKind::Composite,
                })
            }
        }
    }

    /// Whether ordering comparisons accept this operand.
    pub(crate) fn is_ordered(&self) -> bool {
        matches!(
            self.kind,
            OpKind::Num(_) | OpKind::Str(_) | OpKind::Date(_) | OpKind::Bool(_)
        )
    }
}

impl Path {
    pub(crate) fn display(&self) -> String {
        match self {
            Path::ObjectId => "objectId".into(),
            Path::CreatedAt => "createdAt".into(),
            Path::UpdatedAt => "updatedAt".into(),
            Path::Field(segments) => segments.iter().map(Key::name).collect::<Vec<_>>().join("."),
            Path::Hidden(segments) => segments.join("."),
        }
    }
}

/// Equality of one value (not looking inside arrays).
pub(crate) fn eq_kind(k: Kind<'_>, op: &Operand) -> bool {
    match (k, &op.kind) {
        (Kind::Null, OpKind::Null) => true,
        (Kind::Bool(a), OpKind::Bool(b)) => a == *b,
        (Kind::Num(a), OpKind::Num(b)) => a == *b,
        (Kind::Str(a), OpKind::Str(b)) => same(a, b),
        (Kind::Date(a), OpKind::Date(b)) => a == *b,
        (Kind::Pointer(c, i), OpKind::Pointer(c2, i2)) => c == c2 && i == i2,
        (Kind::Array(items), OpKind::Composite) => match &op.raw {
            Value::Array(other) => {
                items.len() == other.len()
                    && items
                        .iter()
                        .zip(other)
                        .all(|(a, b)| packed::same_value(a, b))
            }
            _ => false,
        },
        (Kind::Object(m), OpKind::Composite) => match &op.raw {
            Value::Object(other) => packed::same_fields(m, other),
            _ => false,
        },
        _ => false,
    }
}

/// Field equality: the value itself, or for an array any of its elements.
pub(crate) fn field_eq(found: Found<'_>, op: &Operand) -> bool {
    let k = found.kind();
    eq_kind(k, op)
        || match k {
            Kind::Array(items) => items.iter().any(|item| eq_kind(classify(item), op)),
            _ => false,
        }
}

/// Ordering of same-typed values; mixed types have none.
pub(crate) fn cmp_kind(k: Kind<'_>, op: &Operand) -> Option<Ordering> {
    match (k, &op.kind) {
        (Kind::Num(a), OpKind::Num(b)) => a.partial_cmp(b),
        (Kind::Str(a), OpKind::Str(b)) => Some(a.cmp(b.as_str())),
        (Kind::Date(a), OpKind::Date(b)) => Some(a.cmp(b)),
        (Kind::Bool(a), OpKind::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// `$lt`-style comparison: the value, or for an array any of its elements.
pub(crate) fn cmp_field(found: Found<'_>, op: &Operand, accept: fn(Ordering) -> bool) -> bool {
    let k = found.kind();
    if let Some(o) = cmp_kind(k, op) {
        return accept(o);
    }
    match k {
        Kind::Array(items) => items
            .iter()
            .any(|item| cmp_kind(classify(item), op).is_some_and(accept)),
        _ => false,
    }
}

/// One row's value for one `order` key. The order across types follows MongoDB's:
/// missing = null < numbers < strings < objects (pointers, geopoints…) < arrays <
/// booleans < dates.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SortKey<'a> {
    Missing,
    Num(f64),
    Str(&'a str),
    Object(Val<'a>),
    Array(Val<'a>),
    Bool(bool),
    Date(i64),
}

impl<'a> SortKey<'a> {
    pub(crate) fn of(found: Option<Found<'a>>) -> SortKey<'a> {
        match found {
            None => SortKey::Missing,
            Some(Found::Id(s)) => SortKey::Str(s),
            Some(Found::Date(ms)) => SortKey::Date(ms),
            Some(Found::Val(v)) => match classify(v) {
                Kind::Null => SortKey::Missing,
                Kind::Bool(b) => SortKey::Bool(b),
                Kind::Num(n) => SortKey::Num(n),
                Kind::Str(s) => SortKey::Str(s),
                Kind::Date(ms) => SortKey::Date(ms),
                Kind::Pointer(..) | Kind::Object(_) => SortKey::Object(v),
                Kind::Array(_) => SortKey::Array(v),
            },
        }
    }

    fn rank(&self) -> u8 {
        match self {
            SortKey::Missing => 0,
            SortKey::Num(_) => 1,
            SortKey::Str(_) => 2,
            SortKey::Object(_) => 3,
            SortKey::Array(_) => 4,
            SortKey::Bool(_) => 5,
            SortKey::Date(_) => 6,
        }
    }

    /// A total order (numbers by `total_cmp`), so partial selection is well defined.
    pub(crate) fn total_cmp(&self, other: &SortKey<'_>) -> Ordering {
        match (self, other) {
            (SortKey::Num(a), SortKey::Num(b)) => a.total_cmp(b),
            (SortKey::Str(a), SortKey::Str(b)) => a.cmp(b),
            (SortKey::Object(a), SortKey::Object(b)) | (SortKey::Array(a), SortKey::Array(b)) => {
                packed::total_cmp(*a, *b)
            }
            (SortKey::Bool(a), SortKey::Bool(b)) => a.cmp(b),
            (SortKey::Date(a), SortKey::Date(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// Unix milliseconds of an ISO-8601 date. The canonical `YYYY-MM-DDTHH:MM:SS.mmmZ` the
/// service writes is parsed by hand (this runs once per row in date queries); anything
/// else goes through the general parser.
pub(crate) fn iso_ms(s: &str) -> Option<i64> {
    canonical_iso_ms(s).or_else(|| leancloud::value::parse_date(s))
}

fn canonical_iso_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second, milli) = (num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 23)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days from the civil date (H. Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + milli)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_parser_agrees_with_the_general_one() {
        for iso in [
            "1970-01-01T00:00:00.000Z",
            "2015-06-21T18:02:52.249Z",
            "2000-02-29T23:59:59.999Z",
            "1969-12-31T23:59:59.999Z",
            "2400-12-31T12:00:00.001Z",
        ] {
            assert_eq!(
                canonical_iso_ms(iso),
                leancloud::value::parse_date(iso),
                "{iso}"
            );
        }
    }

    #[test]
    fn impossible_calendar_dates_fall_back_to_the_general_parser() {
        assert_eq!(canonical_iso_ms("2001-02-29T00:00:00.000Z"), None);
        assert_eq!(iso_ms("2001-02-29T00:00:00.000Z"), None);
        assert_eq!(iso_ms("2015-06-21T18:02:52Z"), Some(1_434_909_772_000));
    }
}
