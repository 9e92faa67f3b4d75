//! Queries over a fixed row shape, and a reference evaluator written from the protocol
//! notes (§1.5 queries, §2 encoding), independently of the emulator's query code.
//!
//! Rows of class [`CLASS`] carry fields of one type each (`n` numbers, `s` strings,
//! `b` booleans, `d` dates, `p` pointers, `arr` arrays of small integers, `o` an object
//! with `x` and `y`), one field of mixed scalar types (`mixed`) and a `payload` of any
//! value or a whole field map (for the encoding round trip, never queried). Every field
//! may be missing.
//!
//! What is generated, and where a rule comes from:
//! - equality (on arrays: any element), `$ne`, `$in`, `$nin`, `$all`, `$size`,
//!   `$exists`, `$regex` (+ `$options: "i"`), `$or`, `$and`, the array form of `where`,
//!   dot paths into objects, Date and Pointer operands, `createdAt` with a Date operand
//!   (notes §1.5, §2);
//! - `$lt`/`$lte`/`$gt`/`$gte` only on fields whose rows all hold one type (numbers,
//!   strings, dates) or lack the field: the notes do not say how a comparison treats
//!   another type or an array, so none is generated;
//! - `{"k": null}` and `$in: [null]` also match rows without `k`, and `$ne`/`$nin` are
//!   the negations of equality/`$in` (so they match rows without the field): MongoDB's
//!   rules, which the emulator documents (`mock-server/model/src/query.rs`);
//! - `order` over mixed types: missing < numbers < strings < booleans < dates, the
//!   emulator's documented (MongoDB) order; the notes are silent. Ordered keys hold
//!   scalars only, so no object or array ever needs ordering. Ties keep creation order
//!   (documented by the emulator; the notes say results come in creation order);
//! - `limit`: default 100, 1..1000 honoured, other values 100, `0` nothing; `count`
//!   counts every match (notes §1.5). Negative `skip` is not generated (not in the
//!   notes);
//! - a conditional update or delete (`?where=`) happens when [`matches`] holds for the
//!   object, else `400 {"code":305,...}` (notes §1.3).

use crate::values::{arb_field_value, arb_fields, date, pointer};
use leancloud::value::parse_date;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::cmp::Ordering;

/// The queried class.
pub const CLASS: &str = "Row";
/// The class the `p` pointers name.
pub const TARGET: &str = "Target";
/// The objects `p` points at (they need not exist: pointers are not checked).
pub const TARGET_IDS: [&str; 3] = [
    "5f00000000000000000000a1",
    "5f00000000000000000000a2",
    "5f00000000000000000000a3",
];
/// Rows' dates are whole seconds after this, so equal dates are common.
pub const DATE_BASE_MS: i64 = 1_600_000_000_000;

/// The columns of [`CLASS`], as a database-settings `schema.json`: `mixed` and
/// `payload` take any type.
pub fn schema() -> Value {
    json!({"columns": {
        "n": {"type": "Number"},
        "s": {"type": "String"},
        "b": {"type": "Boolean"},
        "d": {"type": "Date"},
        "p": {"type": "Pointer", "className": TARGET},
        "arr": {"type": "Array"},
        "o": {"type": "Object"},
        "mixed": {"type": "Any"},
        "payload": {"type": "Any"},
        "hits": {"type": "Number"},
    }})
}

fn arb_num() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (-2i64..=2).prop_map(Value::from),
        1 => (-2i32..2).prop_map(|h| Value::from(f64::from(h) + 0.5)),
        // Whole numbers written as floats (`1.0`): the same numbers as `1`.
        1 => (-2i32..=2).prop_map(|i| Value::from(f64::from(i))),
    ]
}

fn arb_str() -> impl Strategy<Value = Value> {
    "[abA.]{0,2}".prop_map(Value::from)
}

fn arb_row_date() -> impl Strategy<Value = Value> {
    (0i64..6).prop_map(|k| date(DATE_BASE_MS + k * 1000))
}

fn arb_target() -> impl Strategy<Value = Value> {
    prop::sample::select(TARGET_IDS.to_vec()).prop_map(|id| pointer(TARGET, id))
}

/// A scalar of any of the ordered types.
fn arb_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        arb_num(),
        arb_str(),
        any::<bool>().prop_map(Value::from),
        arb_row_date()
    ]
}

/// `Some` four times in five.
fn sometimes<S: Strategy>(s: S) -> impl Strategy<Value = Option<S::Value>> {
    prop::option::weighted(0.8, s)
}

/// One row's fields (a create body).
pub fn arb_row() -> impl Strategy<Value = Map<String, Value>> {
    let object = (
        sometimes((-2i64..=2).prop_map(Value::from)),
        sometimes("[ab]{0,2}".prop_map(Value::from)),
    )
        .prop_map(|(x, y)| {
            let mut m = Map::new();
            if let Some(x) = x {
                m.insert("x".into(), x);
            }
            if let Some(y) = y {
                m.insert("y".into(), y);
            }
            Value::Object(m)
        });
    (
        (
            sometimes(arb_num()),
            sometimes(arb_str()),
            sometimes(any::<bool>().prop_map(Value::from)),
            sometimes(arb_row_date()),
            sometimes(arb_target()),
        ),
        (
            sometimes(prop::collection::vec(0i64..4, 0..4).prop_map(|v| json!(v))),
            sometimes(object),
            sometimes(arb_scalar()),
            prop::option::weighted(
                0.5,
                prop_oneof![
                    3 => arb_field_value(),
                    1 => arb_fields().prop_map(Value::Object),
                ],
            ),
        ),
    )
        .prop_map(|((n, s, b, d, p), (arr, o, mixed, payload))| {
            let mut m = Map::new();
            for (k, v) in [
                ("n", n),
                ("s", s),
                ("b", b),
                ("d", d),
                ("p", p),
                ("arr", arr),
                ("o", o),
                ("mixed", mixed),
                ("payload", payload),
            ] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            m
        })
}

/// Rows for one case: usually a handful, sometimes more than the default limit.
pub fn arb_rows() -> impl Strategy<Value = Vec<Map<String, Value>>> {
    prop_oneof![
        12 => prop::collection::vec(arb_row(), 0..25),
        1 => prop::collection::vec(arb_row(), 95..130),
    ]
}

/// A key a query names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    N,
    S,
    B,
    D,
    P,
    Arr,
    OX,
    OY,
    Mixed,
    CreatedAt,
    UpdatedAt,
    ObjectId,
}

impl Field {
    pub const ALL: [Field; 12] = [
        Field::N,
        Field::S,
        Field::B,
        Field::D,
        Field::P,
        Field::Arr,
        Field::OX,
        Field::OY,
        Field::Mixed,
        Field::CreatedAt,
        Field::UpdatedAt,
        Field::ObjectId,
    ];

    /// Keys an `order` may name: every value under them is a scalar.
    pub const ORDERED: [Field; 9] = [
        Field::N,
        Field::S,
        Field::B,
        Field::D,
        Field::OX,
        Field::Mixed,
        Field::CreatedAt,
        Field::UpdatedAt,
        Field::ObjectId,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Field::N => "n",
            Field::S => "s",
            Field::B => "b",
            Field::D => "d",
            Field::P => "p",
            Field::Arr => "arr",
            Field::OX => "o.x",
            Field::OY => "o.y",
            Field::Mixed => "mixed",
            Field::CreatedAt => "createdAt",
            Field::UpdatedAt => "updatedAt",
            Field::ObjectId => "objectId",
        }
    }

    /// The operators generated on this key (equality aside).
    fn operators(self) -> &'static [&'static str] {
        const CMP: [&str; 4] = ["$lt", "$lte", "$gt", "$gte"];
        match self {
            Field::N | Field::OX => &[
                "$ne", "$in", "$nin", "$exists", CMP[0], CMP[1], CMP[2], CMP[3],
            ],
            Field::S | Field::OY => &[
                "$ne", "$in", "$nin", "$exists", "$regex", "$regex", CMP[0], CMP[1], CMP[2], CMP[3],
            ],
            Field::D | Field::CreatedAt | Field::UpdatedAt => &[
                "$ne", "$in", "$nin", "$exists", CMP[0], CMP[1], CMP[2], CMP[3],
            ],
            Field::B | Field::P | Field::Mixed => &["$ne", "$in", "$nin", "$exists"],
            Field::Arr => &["$ne", "$in", "$nin", "$exists", "$all", "$size"],
            Field::ObjectId => &["$ne", "$in", "$nin"],
        }
    }

    /// An operand of this key's type. `nullable`: `null` may be among them.
    fn arb_operand(self, nullable: bool) -> BoxedStrategy<Operand> {
        let value = |s: BoxedStrategy<Value>| s.prop_map(Operand::Value).boxed();
        let base = match self {
            Field::N => value(arb_num().boxed()),
            Field::OX => value((-3i64..=3).prop_map(Value::from).boxed()),
            Field::S => value(arb_str().boxed()),
            Field::OY => value("[ab]{0,2}".prop_map(Value::from).boxed()),
            Field::B => value(any::<bool>().prop_map(Value::from).boxed()),
            Field::D => value(
                (-1i64..7)
                    .prop_map(|k| date(DATE_BASE_MS + k * 1000))
                    .boxed(),
            ),
            Field::P => value(
                prop_oneof![
                    4 => arb_target(),
                    1 => Just(pointer(TARGET, "5f00000000000000000000ff")),
                    1 => prop::sample::select(TARGET_IDS.to_vec()).prop_map(|id| pointer("Other", id)),
                ]
                .boxed(),
            ),
            Field::Arr => value((0i64..5).prop_map(Value::from).boxed()),
            Field::Mixed => value(arb_scalar().boxed()),
            Field::CreatedAt | Field::UpdatedAt => (any::<prop::sample::Index>(), -1i64..=1)
                .prop_map(|(i, offset)| Operand::CreatedAt(i, offset))
                .boxed(),
            Field::ObjectId => prop_oneof![
                4 => any::<prop::sample::Index>().prop_map(Operand::Id),
                1 => Just(Operand::Value(json!("000000000000000000000000"))),
            ]
            .boxed(),
        };
        let optional = !matches!(self, Field::CreatedAt | Field::UpdatedAt | Field::ObjectId);
        if nullable && optional {
            prop_oneof![6 => base, 1 => Just(Operand::Value(Value::Null))].boxed()
        } else {
            base
        }
    }

    /// One operator with its argument.
    fn arb_operator(self) -> BoxedStrategy<(String, Arg)> {
        let field = self;
        prop::sample::select(self.operators().to_vec())
            .prop_flat_map(move |op| {
                let arg = match op {
                    "$ne" => field.arb_operand(true).prop_map(Arg::One).boxed(),
                    "$in" | "$nin" => prop::collection::vec(field.arb_operand(true), 0..4)
                        .prop_map(Arg::Many)
                        .boxed(),
                    "$all" => prop::collection::vec(field.arb_operand(false), 1..3)
                        .prop_map(Arg::Many)
                        .boxed(),
                    "$exists" => any::<bool>().prop_map(Arg::Flag).boxed(),
                    "$size" => (0usize..4).prop_map(Arg::Size).boxed(),
                    "$regex" => arb_pattern().prop_map(Arg::Pattern).boxed(),
                    _ => field.arb_operand(false).prop_map(Arg::One).boxed(),
                };
                arg.prop_map(move |a| (op.to_string(), a))
            })
            .boxed()
    }

    fn arb_condition(self) -> BoxedStrategy<Condition> {
        prop_oneof![
            2 => self.arb_operand(true).prop_map(Condition::Equal),
            3 => prop_oneof![3 => 1usize..2, 1 => 2usize..3].prop_flat_map(move |n| prop::collection::vec(self.arb_operator(), n)).prop_map(|ops| {
                let mut seen = std::collections::BTreeMap::new();
                for (op, arg) in ops {
                    seen.entry(op).or_insert(arg);
                }
                Condition::Operators(seen.into_iter().collect())
            }),
        ]
        .boxed()
    }
}

/// An operand, possibly naming a seeded row whose values are known only once it exists.
#[derive(Debug, Clone)]
pub enum Operand {
    Value(Value),
    /// The `createdAt` of row `i` (modulo the row count), moved by some milliseconds.
    CreatedAt(prop::sample::Index, i64),
    /// The objectId of row `i`.
    Id(prop::sample::Index),
}

impl Operand {
    fn resolve(&self, rows: &[Map<String, Value>]) -> Value {
        let row = |i: &prop::sample::Index| (!rows.is_empty()).then(|| &rows[i.index(rows.len())]);
        match self {
            Operand::Value(v) => v.clone(),
            Operand::CreatedAt(i, offset) => {
                let ms = row(i)
                    .and_then(|r| r.get("createdAt")?.as_str().and_then(parse_date))
                    .unwrap_or(DATE_BASE_MS);
                date(ms + offset)
            }
            Operand::Id(i) => row(i)
                .and_then(|r| r.get("objectId").cloned())
                .unwrap_or_else(|| json!("000000000000000000000000")),
        }
    }
}

/// A `$regex` from the subset the reference understands: a literal, anchored at the
/// start, the end or not at all, or a `\Q…\E` quoted prefix (what the JavaScript SDK
/// sends for `startsWith`), with or without `$options: "i"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub regex: String,
    pub case_insensitive: bool,
}

fn arb_pattern() -> impl Strategy<Value = Pattern> {
    ("[abA.]{1,2}", 0..4, any::<bool>()).prop_map(|(lit, form, ci)| {
        let escaped = lit.replace('.', "\\.");
        let regex = match form {
            0 => format!("^{escaped}"),
            1 => format!("{escaped}$"),
            2 => escaped,
            _ => format!("^\\Q{lit}\\E"),
        };
        Pattern {
            regex,
            case_insensitive: ci,
        }
    })
}

/// An operator's argument.
#[derive(Debug, Clone)]
pub enum Arg {
    One(Operand),
    Many(Vec<Operand>),
    Flag(bool),
    Size(usize),
    Pattern(Pattern),
}

/// What a key of a `where` asks of its value.
#[derive(Debug, Clone)]
pub enum Condition {
    /// `{"k": v}`
    Equal(Operand),
    /// `{"k": {"$op": arg, ...}}`, distinct operators.
    Operators(Vec<(String, Arg)>),
}

/// One `where` object: conditions on distinct keys, and optionally `$and` / `$or`.
#[derive(Debug, Clone, Default)]
pub struct Where {
    pub fields: Vec<(Field, Condition)>,
    pub and: Option<Vec<Where>>,
    pub or: Option<Vec<Where>>,
}

/// Conditions on one key, sometimes two.
fn arb_fields_where() -> impl Strategy<Value = Where> {
    let keys = prop_oneof![3 => 1usize..2, 1 => 2usize..3];
    keys.prop_flat_map(|n| {
        prop::collection::btree_set(prop::sample::select(Field::ALL.to_vec()), n)
    })
    .prop_flat_map(|keys| {
        keys.into_iter()
            .map(|f| f.arb_condition().prop_map(move |c| (f, c)))
            .collect::<Vec<_>>()
    })
    .prop_map(|fields| Where {
        fields,
        ..Where::default()
    })
}

/// A `where`: key conditions, `$or` of several (beside key conditions or alone), `$and`,
/// nested twice at most; now and then empty (everything).
pub fn arb_where() -> impl Strategy<Value = Where> {
    let tree = arb_fields_where().prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            (
                prop::option::of(arb_fields_where()),
                prop::collection::vec(inner.clone(), 2..4)
            )
                .prop_map(|(base, or)| Where {
                    or: Some(or),
                    ..base.unwrap_or_default()
                }),
            prop::collection::vec(inner, 1..3).prop_map(|and| Where {
                and: Some(and),
                ..Where::default()
            }),
        ]
    });
    prop_oneof![12 => tree, 1 => Just(Where::default())]
}

impl Where {
    /// The `where` JSON, with row references resolved against the seeded rows.
    pub fn to_json(&self, rows: &[Map<String, Value>]) -> Value {
        let mut m = Map::new();
        for (field, cond) in &self.fields {
            let v = match cond {
                Condition::Equal(op) => op.resolve(rows),
                Condition::Operators(ops) => {
                    let mut o = Map::new();
                    for (name, arg) in ops {
                        match arg {
                            Arg::One(op) => {
                                o.insert(name.clone(), op.resolve(rows));
                            }
                            Arg::Many(ops) => {
                                o.insert(
                                    name.clone(),
                                    ops.iter().map(|op| op.resolve(rows)).collect(),
                                );
                            }
                            Arg::Flag(b) => {
                                o.insert(name.clone(), json!(b));
                            }
                            Arg::Size(n) => {
                                o.insert(name.clone(), json!(n));
                            }
                            Arg::Pattern(p) => {
                                o.insert(name.clone(), json!(p.regex));
                                if p.case_insensitive {
                                    o.insert("$options".into(), json!("i"));
                                }
                            }
                        }
                    }
                    Value::Object(o)
                }
            };
            m.insert(field.key().to_string(), v);
        }
        for (name, subs) in [("$and", &self.and), ("$or", &self.or)] {
            if let Some(subs) = subs {
                m.insert(
                    name.to_string(),
                    subs.iter().map(|w| w.to_json(rows)).collect(),
                );
            }
        }
        Value::Object(m)
    }
}

/// `limit` as sent: absent, or any integer (in range or not).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Absent,
    Given(i64),
}

fn arb_limit() -> impl Strategy<Value = Limit> {
    prop_oneof![
        3 => Just(Limit::Absent),
        1 => Just(Limit::Given(0)),
        4 => (1i64..8).prop_map(Limit::Given),
        1 => (1i64..40).prop_map(Limit::Given),
        1 => prop::sample::select(vec![100i64, 1000, 1001, 5000, -1]).prop_map(Limit::Given),
    ]
}

/// A whole find.
#[derive(Debug, Clone)]
pub struct Query {
    /// The `where` object, or its array form (an implicit `$and`).
    pub r#where: Where,
    pub as_array: Option<Vec<Where>>,
    pub order: Vec<(Field, bool)>,
    /// Append `objectId` to the order (a total order whatever the keys).
    pub tie_break: bool,
    pub limit: Limit,
    pub skip: Option<usize>,
    pub count: bool,
}

pub fn arb_query() -> impl Strategy<Value = Query> {
    let order = prop::collection::vec(
        (prop::sample::select(Field::ORDERED.to_vec()), any::<bool>()),
        0..4,
    )
    .prop_map(|keys| {
        let mut seen = Vec::new();
        keys.into_iter()
            .filter(|(f, _)| {
                let new = !seen.contains(f);
                seen.push(*f);
                new
            })
            .collect::<Vec<_>>()
    });
    (
        arb_where(),
        prop::option::weighted(0.1, prop::collection::vec(arb_fields_where(), 1..3)),
        order,
        any::<bool>(),
        arb_limit(),
        prop_oneof![2 => Just(None), 2 => (0usize..5).prop_map(Some), 1 => (0usize..40).prop_map(Some)],
        any::<bool>(),
    )
        .prop_map(|(r#where, as_array, order, tie_break, limit, skip, count)| Query {
            r#where,
            as_array,
            order,
            tie_break,
            limit,
            skip,
            count,
        })
}

/// A find whose `where` is empty or on one or two keys, with a window anywhere in up to
/// 130 rows: what the default and out-of-range limits, `skip` and `count` need.
pub fn arb_window_query() -> impl Strategy<Value = Query> {
    let limit = prop_oneof![
        2 => Just(Limit::Absent),
        1 => Just(Limit::Given(0)),
        2 => (1i64..130).prop_map(Limit::Given),
        1 => prop::sample::select(vec![1000i64, 1001, 5000, -1, -100]).prop_map(Limit::Given),
    ];
    (
        arb_query(),
        prop_oneof![2 => Just(Where::default()), 1 => arb_fields_where()],
        limit,
        prop::option::of(0usize..140),
    )
        .prop_map(|(q, r#where, limit, skip)| Query {
            r#where,
            as_array: None,
            limit,
            skip,
            ..q
        })
}

impl Query {
    pub fn where_json(&self, rows: &[Map<String, Value>]) -> Value {
        match &self.as_array {
            Some(items) => items.iter().map(|w| w.to_json(rows)).collect(),
            None => self.r#where.to_json(rows),
        }
    }

    /// The order keys as sent (`-` for descending).
    pub fn order_keys(&self) -> Vec<(String, bool)> {
        let mut keys: Vec<(String, bool)> = self
            .order
            .iter()
            .map(|(f, d)| (f.key().to_string(), *d))
            .collect();
        if self.tie_break && !self.order.iter().any(|(f, _)| *f == Field::ObjectId) {
            keys.push(("objectId".into(), false));
        }
        keys
    }

    pub fn order_text(&self) -> Option<String> {
        let keys = self.order_keys();
        (!keys.is_empty()).then(|| {
            keys.iter()
                .map(|(k, d)| if *d { format!("-{k}") } else { k.clone() })
                .collect::<Vec<_>>()
                .join(",")
        })
    }
}

// ---- the reference ------------------------------------------------------------------------

/// A value as the reference compares it.
#[derive(Debug, Clone, PartialEq)]
enum Val<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(&'a str),
    Date(i64),
    Pointer(&'a str, &'a str),
    Array(&'a [Value]),
    Other,
}

fn val(v: &Value) -> Val<'_> {
    match v {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => Val::Num(n.as_f64().expect("finite")),
        Value::String(s) => Val::Str(s),
        Value::Array(a) => Val::Array(a),
        Value::Object(m) => match m.get("__type").and_then(Value::as_str) {
            Some("Date") => m
                .get("iso")
                .and_then(Value::as_str)
                .and_then(parse_date)
                .map_or(Val::Other, Val::Date),
            Some("Pointer") => match (
                m.get("className").and_then(Value::as_str),
                m.get("objectId").and_then(Value::as_str),
            ) {
                (Some(c), Some(id)) => Val::Pointer(c, id),
                _ => Val::Other,
            },
            _ => Val::Other,
        },
    }
}

/// The value at `key` in a row (`createdAt`/`updatedAt` are dates; dots descend into
/// objects).
fn lookup<'a>(row: &'a Map<String, Value>, key: &str) -> Option<Val<'a>> {
    if key == "createdAt" || key == "updatedAt" {
        let text = row.get(key)?.as_str()?;
        return Some(Val::Date(parse_date(text).expect("a stored date")));
    }
    let mut parts = key.split('.');
    let mut v = row.get(parts.next()?)?;
    for part in parts {
        v = v.as_object()?.get(part)?;
    }
    Some(val(v))
}

fn scalar_eq(a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x == y,
        (Val::Array(_), _) | (_, Val::Array(_)) | (Val::Other, _) | (_, Val::Other) => false,
        _ => a == b,
    }
}

/// Equality as a query means it: `null` also matches a missing field; an array matches
/// when one of its elements does.
fn equals(found: Option<&Val<'_>>, operand: &Val<'_>) -> bool {
    match (found, operand) {
        (None, Val::Null) => true,
        (None, _) => false,
        (Some(Val::Array(items)), op) => items.iter().any(|i| scalar_eq(&val(i), op)),
        (Some(f), op) => scalar_eq(f, op),
    }
}

fn compare(found: Option<&Val<'_>>, operand: &Val<'_>) -> Option<Ordering> {
    match (found?, operand) {
        (Val::Num(a), Val::Num(b)) => a.partial_cmp(b),
        (Val::Str(a), Val::Str(b)) => Some(a.cmp(b)),
        (Val::Date(a), Val::Date(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// The reference reading of the `$regex` subset [`arb_pattern`] writes.
fn regex_matches(pattern: &str, case_insensitive: bool, text: &str) -> bool {
    let (start, rest) = match pattern.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let (literal, end) = if let Some(quoted) = rest.strip_prefix("\\Q") {
        (
            quoted
                .strip_suffix("\\E")
                .expect("a closed quote")
                .to_string(),
            false,
        )
    } else {
        let (body, end) = match rest.strip_suffix('$') {
            Some(body) => (body, true),
            None => (rest, false),
        };
        let literal = body.replace("\\.", ".");
        assert!(
            literal
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.')
                && body.matches('\\').count() == literal.matches('.').count(),
            "pattern outside the reference's subset: {pattern}"
        );
        (literal, end)
    };
    let fold = |s: &str| {
        if case_insensitive {
            s.to_ascii_lowercase()
        } else {
            s.to_string()
        }
    };
    let (text, literal) = (fold(text), fold(&literal));
    match (start, end) {
        (true, true) => text == literal,
        (true, false) => text.starts_with(&literal),
        (false, true) => text.ends_with(&literal),
        (false, false) => text.contains(&literal),
    }
}

fn operator_holds(
    found: Option<&Val<'_>>,
    op: &str,
    arg: &Value,
    conds: &Map<String, Value>,
) -> bool {
    let many = || arg.as_array().expect("an array argument");
    match op {
        "$ne" => !equals(found, &val(arg)),
        "$in" => many().iter().any(|o| equals(found, &val(o))),
        "$nin" => !many().iter().any(|o| equals(found, &val(o))),
        "$all" => match found {
            Some(Val::Array(items)) => {
                !many().is_empty()
                    && many()
                        .iter()
                        .all(|o| items.iter().any(|i| scalar_eq(&val(i), &val(o))))
            }
            _ => false,
        },
        "$size" => {
            matches!(found, Some(Val::Array(items)) if Some(items.len() as u64) == arg.as_u64())
        }
        "$exists" => found.is_some() == arg.as_bool().expect("a boolean"),
        "$lt" => compare(found, &val(arg)).is_some_and(Ordering::is_lt),
        "$lte" => compare(found, &val(arg)).is_some_and(Ordering::is_le),
        "$gt" => compare(found, &val(arg)).is_some_and(Ordering::is_gt),
        "$gte" => compare(found, &val(arg)).is_some_and(Ordering::is_ge),
        "$regex" => {
            let ci = conds.get("$options").and_then(Value::as_str) == Some("i");
            let pattern = arg.as_str().expect("a pattern");
            matches!(found, Some(Val::Str(s)) if regex_matches(pattern, ci, s))
        }
        "$options" => true,
        other => panic!("the reference does not know {other}"),
    }
}

/// Whether a row matches a `where` (object or array form).
pub fn matches(row: &Map<String, Value>, r#where: &Value) -> bool {
    match r#where {
        Value::Array(items) => items.iter().all(|w| matches(row, w)),
        Value::Object(m) => m.iter().all(|(key, cond)| match key.as_str() {
            "$and" => cond
                .as_array()
                .expect("$and list")
                .iter()
                .all(|w| matches(row, w)),
            "$or" => cond
                .as_array()
                .expect("$or list")
                .iter()
                .any(|w| matches(row, w)),
            _ => {
                let found = lookup(row, key);
                match cond.as_object() {
                    Some(ops) if ops.keys().any(|k| k.starts_with('$')) => ops
                        .iter()
                        .all(|(op, arg)| operator_holds(found.as_ref(), op, arg, ops)),
                    _ => equals(found.as_ref(), &val(cond)),
                }
            }
        }),
        other => panic!("not a where: {other}"),
    }
}

/// The place of a value in `order` across types: missing < numbers < strings < booleans
/// < dates (the kinds ordered keys hold).
fn order_rank(v: Option<&Val<'_>>) -> u8 {
    match v {
        None | Some(Val::Null) => 0,
        Some(Val::Num(_)) => 1,
        Some(Val::Str(_)) => 2,
        Some(Val::Bool(_)) => 5,
        Some(Val::Date(_)) => 6,
        Some(other) => panic!("an ordered key holds {other:?}"),
    }
}

fn order_cmp(a: Option<&Val<'_>>, b: Option<&Val<'_>>) -> Ordering {
    match (a, b) {
        (Some(Val::Num(x)), Some(Val::Num(y))) => x.total_cmp(y),
        (Some(Val::Str(x)), Some(Val::Str(y))) => x.cmp(y),
        (Some(Val::Bool(x)), Some(Val::Bool(y))) => x.cmp(y),
        (Some(Val::Date(x)), Some(Val::Date(y))) => x.cmp(y),
        _ => order_rank(a).cmp(&order_rank(b)),
    }
}

/// What a find answers: the indexes of the rows returned, in order, and the number of
/// all matching rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub rows: Vec<usize>,
    pub count: usize,
}

/// The reference find over rows in creation order (each with `objectId`, `createdAt`,
/// `updatedAt` as the service renders them).
pub fn find(
    rows: &[Map<String, Value>],
    r#where: &Value,
    order: &[(String, bool)],
    limit: Limit,
    skip: Option<usize>,
) -> Expected {
    let mut hits: Vec<usize> = (0..rows.len())
        .filter(|&i| matches(&rows[i], r#where))
        .collect();
    // A stable sort: ties keep creation order.
    hits.sort_by(|&a, &b| {
        order
            .iter()
            .map(|(key, desc)| {
                let o = order_cmp(
                    lookup(&rows[a], key).as_ref(),
                    lookup(&rows[b], key).as_ref(),
                );
                if *desc { o.reverse() } else { o }
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    let limit = match limit {
        Limit::Absent => 100,
        Limit::Given(0) => 0,
        Limit::Given(n) if (1..=1000).contains(&n) => n as usize,
        Limit::Given(_) => 100,
    };
    let count = hits.len();
    let rows = hits
        .into_iter()
        .skip(skip.unwrap_or(0))
        .take(limit)
        .collect();
    Expected { rows, count }
}

#[cfg(test)]
mod tests;
