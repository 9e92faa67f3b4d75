//! Field operations: `{"__op": ...}` values in create and update bodies (protocol notes §3).
//! [`FieldOp::parse`] reads one, [`FieldOp::apply`] computes the field's new value from its
//! current one, [`FieldOp::to_json`] writes one.
//!
//! Error codes (the real ones were not found except 128; each is a choice):
//! - unknown `__op`: code 1, [`LcError::unknown_op`];
//! - malformed body (`amount` not a number, `objects` not an array, bit `value` not an
//!   integer, bad `Batch`): code 107, as parse-server answers ("incrementing must provide a
//!   number", "objects to add must be an array");
//! - an operation on a field of the wrong type: code 111 naming the key;
//! - relation objects empty, over 1000, not pointers or of mixed classes: code 128.
//!
//! A stored `null` is a value of type `Null`, not a missing field, so `Increment` on it is
//! a type mismatch (as MongoDB, which backs LeanCloud, refuses `$inc` on null).

use crate::LcError;
use crate::value::{Pointer, Relation, same_value, type_name};
use serde_json::{Map, Number, Value, json};

/// At most this many objects per relation operation (documented; more is code 128).
pub const MAX_RELATION_OBJECTS: usize = 1000;

/// One field operation as sent by a client.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldOp {
    Delete,
    /// `Increment` (and `Decrement`, stored negated).
    Increment(serde_json::Number),
    Add(Vec<Value>),
    AddUnique(Vec<Value>),
    Remove(Vec<Value>),
    /// Pointers, all of one class.
    AddRelation(Vec<Value>),
    RemoveRelation(Vec<Value>),
    BitAnd(i64),
    BitOr(i64),
    BitXor(i64),
    /// `Batch` of relation operations on one key.
    Batch(Vec<FieldOp>),
}

impl FieldOp {
    /// `Ok(None)` when `value` is not an operation (no `__op` key).
    pub fn parse(key: &str, value: &Value) -> Result<Option<FieldOp>, LcError> {
        let Some(body) = value.as_object() else {
            return Ok(None);
        };
        let Some(op) = body.get("__op") else {
            return Ok(None);
        };
        let Some(name) = op.as_str() else {
            return Err(LcError::unknown_op(key, &op.to_string()));
        };
        let op = match name {
            "Delete" => FieldOp::Delete,
            "Increment" => FieldOp::Increment(amount(key, name, body)?),
            "Decrement" => FieldOp::Increment(negate(key, &amount(key, name, body)?)?),
            "Add" => FieldOp::Add(objects(key, name, body)?),
            "AddUnique" => FieldOp::AddUnique(objects(key, name, body)?),
            "Remove" => FieldOp::Remove(objects(key, name, body)?),
            "AddRelation" => FieldOp::AddRelation(relation_objects(key, name, body)?),
            "RemoveRelation" => FieldOp::RemoveRelation(relation_objects(key, name, body)?),
            "BitAnd" => FieldOp::BitAnd(bit_value(key, name, body)?),
            "BitOr" => FieldOp::BitOr(bit_value(key, name, body)?),
            "BitXor" => FieldOp::BitXor(bit_value(key, name, body)?),
            "Batch" => FieldOp::Batch(batch_ops(key, body)?),
            other => return Err(LcError::unknown_op(key, other)),
        };
        Ok(Some(op))
    }

    /// The new value of the field, `None` to remove it. Relation ops yield the
    /// `{"__type":"Relation","className":...}` marker; membership is the caller's.
    pub fn apply(&self, key: &str, current: Option<&Value>) -> Result<Option<Value>, LcError> {
        let new = match self {
            FieldOp::Delete => return Ok(None),
            FieldOp::Increment(amount) => match current {
                None => Value::Number(amount.clone()),
                Some(Value::Number(n)) => Value::Number(add_numbers(key, n, amount)?),
                Some(other) => return Err(mismatch(key, "Number", other)),
            },
            FieldOp::Add(objs) => {
                let mut items = array_or_empty(key, current)?;
                items.extend(objs.iter().cloned());
                Value::Array(items)
            }
            FieldOp::AddUnique(objs) => {
                let mut items = array_or_empty(key, current)?;
                for o in objs {
                    if !items.iter().any(|i| same_value(i, o)) {
                        items.push(o.clone());
                    }
                }
                Value::Array(items)
            }
            FieldOp::Remove(objs) => {
                let mut items = array_or_empty(key, current)?;
                items.retain(|i| !objs.iter().any(|o| same_value(i, o)));
                Value::Array(items)
            }
            FieldOp::AddRelation(_) | FieldOp::RemoveRelation(_) | FieldOp::Batch(_) => {
                let target = self.relation_class().unwrap_or_default();
                relation_marker(key, target, current)?
            }
            FieldOp::BitAnd(v) => bits(key, current, 0, |c| c & v)?,
            FieldOp::BitOr(v) => bits(key, current, *v, |c| c | v)?,
            FieldOp::BitXor(v) => bits(key, current, *v, |c| c ^ v)?,
        };
        Ok(Some(new))
    }

    /// The `__op` name (`Decrement` is held as `Increment`).
    pub fn name(&self) -> &'static str {
        match self {
            FieldOp::Delete => "Delete",
            FieldOp::Increment(_) => "Increment",
            FieldOp::Add(_) => "Add",
            FieldOp::AddUnique(_) => "AddUnique",
            FieldOp::Remove(_) => "Remove",
            FieldOp::AddRelation(_) => "AddRelation",
            FieldOp::RemoveRelation(_) => "RemoveRelation",
            FieldOp::BitAnd(_) => "BitAnd",
            FieldOp::BitOr(_) => "BitOr",
            FieldOp::BitXor(_) => "BitXor",
            FieldOp::Batch(_) => "Batch",
        }
    }

    /// The target class of a relation operation (or of a `Batch` of them).
    pub fn relation_class(&self) -> Option<&str> {
        match self {
            FieldOp::AddRelation(objs) | FieldOp::RemoveRelation(objs) => objs
                .first()
                .and_then(|p| p.get("className"))
                .and_then(Value::as_str),
            FieldOp::Batch(ops) => ops.first().and_then(FieldOp::relation_class),
            _ => None,
        }
    }

    /// The wire form, e.g. `{"__op":"Increment","amount":1}`; `FieldOp::parse` reads it back.
    pub fn to_json(&self) -> Value {
        let name = self.name();
        match self {
            FieldOp::Delete => json!({"__op": name}),
            FieldOp::Increment(n) => json!({"__op": name, "amount": n}),
            FieldOp::Add(objs)
            | FieldOp::AddUnique(objs)
            | FieldOp::Remove(objs)
            | FieldOp::AddRelation(objs)
            | FieldOp::RemoveRelation(objs) => json!({"__op": name, "objects": objs}),
            FieldOp::BitAnd(v) | FieldOp::BitOr(v) | FieldOp::BitXor(v) => {
                json!({"__op": name, "value": v})
            }
            FieldOp::Batch(ops) => {
                json!({"__op": name, "ops": ops.iter().map(FieldOp::to_json).collect::<Vec<_>>()})
            }
        }
    }
}

fn malformed(key: &str, op: &str, what: &str) -> LcError {
    LcError::invalid_json_detail(format!("{op} on '{key}' must provide {what}."))
}

fn mismatch(key: &str, expected: &str, got: &Value) -> LcError {
    LcError::incorrect_type(key, expected, type_name(got))
}

fn amount(key: &str, op: &str, body: &Map<String, Value>) -> Result<Number, LcError> {
    match body.get("amount") {
        Some(Value::Number(n)) => Ok(n.clone()),
        _ => Err(malformed(key, op, "a number as amount")),
    }
}

fn negate(key: &str, n: &Number) -> Result<Number, LcError> {
    if let Some(i) = n.as_i64().and_then(i64::checked_neg) {
        return Ok(Number::from(i));
    }
    n.as_f64()
        .and_then(|f| Number::from_f64(-f))
        .ok_or_else(|| malformed(key, "Decrement", "a finite number as amount"))
}

fn objects(key: &str, op: &str, body: &Map<String, Value>) -> Result<Vec<Value>, LcError> {
    match body.get("objects") {
        Some(Value::Array(items)) => Ok(items.clone()),
        _ => Err(malformed(key, op, "an array as objects")),
    }
}

fn relation_objects(key: &str, op: &str, body: &Map<String, Value>) -> Result<Vec<Value>, LcError> {
    let items = objects(key, op, body)?;
    if items.is_empty() || items.len() > MAX_RELATION_OBJECTS {
        return Err(LcError::invalid_relation(format!(
            "{op} on '{key}' needs 1 to {MAX_RELATION_OBJECTS} objects, got {}.",
            items.len()
        )));
    }
    let mut class: Option<String> = None;
    for item in &items {
        if item.get("__type").and_then(Value::as_str) != Some("Pointer") {
            return Err(LcError::invalid_relation(format!(
                "{op} on '{key}' takes pointers, got {item}."
            )));
        }
        let pointer = Pointer::from_json(item)?;
        check_one_class(key, op, &mut class, &pointer.class_name)?;
    }
    Ok(items)
}

fn check_one_class(
    key: &str,
    op: &str,
    class: &mut Option<String>,
    next: &str,
) -> Result<(), LcError> {
    match class {
        Some(c) if c != next => Err(LcError::invalid_relation(format!(
            "{op} on '{key}' mixes classes '{c}' and '{next}'."
        ))),
        Some(_) => Ok(()),
        None => {
            *class = Some(next.to_string());
            Ok(())
        }
    }
}

fn bit_value(key: &str, op: &str, body: &Map<String, Value>) -> Result<i64, LcError> {
    body.get("value")
        .and_then(Value::as_i64)
        .ok_or_else(|| malformed(key, op, "an integer as value"))
}

fn batch_ops(key: &str, body: &Map<String, Value>) -> Result<Vec<FieldOp>, LcError> {
    let Some(Value::Array(items)) = body.get("ops") else {
        return Err(malformed(key, "Batch", "an array as ops"));
    };
    if items.is_empty() {
        return Err(malformed(key, "Batch", "at least one operation in ops"));
    }
    let mut ops = Vec::with_capacity(items.len());
    let mut class = None;
    for item in items {
        match FieldOp::parse(key, item)? {
            Some(op @ (FieldOp::AddRelation(_) | FieldOp::RemoveRelation(_))) => {
                let target = op.relation_class().unwrap_or_default().to_string();
                check_one_class(key, "Batch", &mut class, &target)?;
                ops.push(op);
            }
            _ => {
                return Err(malformed(
                    key,
                    "Batch",
                    "only AddRelation and RemoveRelation operations in ops",
                ));
            }
        }
    }
    Ok(ops)
}

/// Integers stay integers; anything else (or an overflow) is added as floats.
fn add_numbers(key: &str, a: &Number, b: &Number) -> Result<Number, LcError> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64())
        && let Some(sum) = x.checked_add(y)
    {
        return Ok(Number::from(sum));
    }
    let sum = a.as_f64().unwrap_or(f64::NAN) + b.as_f64().unwrap_or(f64::NAN);
    Number::from_f64(sum).ok_or_else(|| {
        LcError::incorrect_type_detail(format!(
            "Increment on '{key}' does not give a finite number ({a} + {b})."
        ))
    })
}

fn array_or_empty(key: &str, current: Option<&Value>) -> Result<Vec<Value>, LcError> {
    match current {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(other) => Err(mismatch(key, "Array", other)),
    }
}

fn relation_marker(key: &str, target: &str, current: Option<&Value>) -> Result<Value, LcError> {
    let wanted = Relation::new(target);
    match current {
        None => Ok(wanted.to_json()),
        Some(v) => match Relation::from_json(v) {
            Ok(r) if r == wanted => Ok(wanted.to_json()),
            Ok(r) => Err(LcError::incorrect_type(
                key,
                &format!("Relation<{target}>"),
                &format!("Relation<{}>", r.class_name),
            )),
            Err(_) => Err(mismatch(key, "Relation", v)),
        },
    }
}

fn bits(
    key: &str,
    current: Option<&Value>,
    when_missing: i64,
    f: impl Fn(i64) -> i64,
) -> Result<Value, LcError> {
    match current {
        None => Ok(json!(when_missing)),
        Some(v) => match v.as_i64() {
            Some(c) => Ok(json!(f(c))),
            None if v.is_number() => Err(LcError::incorrect_type(key, "Integer", "Number")),
            None => Err(mismatch(key, "Integer", v)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::code;

    fn op(v: Value) -> FieldOp {
        FieldOp::parse("k", &v).unwrap().unwrap()
    }

    fn apply(v: Value, current: Option<Value>) -> Result<Option<Value>, LcError> {
        op(v).apply("k", current.as_ref())
    }

    fn ptr(class: &str, id: &str) -> Value {
        Pointer::new(class, id).to_json()
    }

    #[test]
    fn values_without_op_are_not_operations() {
        assert_eq!(FieldOp::parse("k", &json!(1)), Ok(None));
        assert_eq!(FieldOp::parse("k", &json!({"a": 1})), Ok(None));
        assert_eq!(FieldOp::parse("k", &json!([{"__op": "Delete"}])), Ok(None));
    }

    #[test]
    fn delete_removes_the_field_present_or_not() {
        assert_eq!(apply(json!({"__op":"Delete"}), Some(json!(3))), Ok(None));
        assert_eq!(apply(json!({"__op":"Delete"}), None), Ok(None));
    }

    #[test]
    fn increment_adds_and_keeps_integers_integral() {
        let inc = json!({"__op":"Increment","amount":10});
        assert_eq!(apply(inc.clone(), Some(json!(9))), Ok(Some(json!(19))));
        assert_eq!(apply(inc, None), Ok(Some(json!(10))));
        let neg = json!({"__op":"Increment","amount":-3});
        assert_eq!(apply(neg, Some(json!(1))), Ok(Some(json!(-2))));
    }

    #[test]
    fn increment_with_a_float_gives_a_float() {
        let inc = json!({"__op":"Increment","amount":0.5});
        assert_eq!(apply(inc.clone(), Some(json!(1))), Ok(Some(json!(1.5))));
        assert_eq!(apply(inc, None), Ok(Some(json!(0.5))));
        let int = json!({"__op":"Increment","amount":1});
        assert_eq!(apply(int, Some(json!(1.25))), Ok(Some(json!(2.25))));
    }

    #[test]
    fn increment_overflowing_i64_falls_back_to_a_float() {
        let inc = json!({"__op":"Increment","amount":1});
        let got = apply(inc, Some(json!(i64::MAX))).unwrap().unwrap();
        assert_eq!(got.as_f64(), Some(i64::MAX as f64));
        assert!(got.as_i64().is_none());
    }

    #[test]
    fn decrement_is_increment_by_the_negated_amount() {
        assert_eq!(
            op(json!({"__op":"Decrement","amount":2})),
            FieldOp::Increment(Number::from(-2))
        );
        let dec = json!({"__op":"Decrement","amount":2});
        assert_eq!(apply(dec.clone(), Some(json!(5))), Ok(Some(json!(3))));
        assert_eq!(apply(dec, None), Ok(Some(json!(-2))));
        let dec_min = json!({"__op":"Decrement","amount":i64::MIN});
        let FieldOp::Increment(n) = op(dec_min) else {
            panic!("Decrement parses as Increment");
        };
        assert_eq!(n.as_f64(), Some(-(i64::MIN as f64)));
    }

    #[test]
    fn increment_on_a_string_is_code_111_naming_the_key() {
        let err = apply(json!({"__op":"Increment","amount":1}), Some(json!("x")));
        assert_eq!(err, Err(LcError::incorrect_type("k", "Number", "String")));
        assert!(err.unwrap_err().message.contains("'k'"));
    }

    #[test]
    fn increment_on_a_stored_null_is_a_type_mismatch() {
        let err = apply(json!({"__op":"Increment","amount":1}), Some(Value::Null));
        assert_eq!(err, Err(LcError::incorrect_type("k", "Number", "Null")));
    }

    #[test]
    fn increment_without_a_numeric_amount_is_code_107() {
        for bad in [
            json!({"__op":"Increment"}),
            json!({"__op":"Increment","amount":"1"}),
            json!({"__op":"Decrement","amount":null}),
        ] {
            let err = FieldOp::parse("k", &bad).unwrap_err();
            assert_eq!(err.code, code::INVALID_JSON, "{bad}");
        }
        assert_eq!(
            FieldOp::parse("k", &json!({"__op":"Increment"})),
            Err(LcError::invalid_json_detail(
                "Increment on 'k' must provide a number as amount."
            ))
        );
    }

    #[test]
    fn add_appends_all_and_keeps_duplicates() {
        let add = json!({"__op":"Add","objects":[2]});
        assert_eq!(apply(add, Some(json!([1, 2]))), Ok(Some(json!([1, 2, 2]))));
    }

    #[test]
    fn add_on_a_missing_field_gives_the_objects() {
        let add = json!({"__op":"Add","objects":[1, 1]});
        assert_eq!(apply(add, None), Ok(Some(json!([1, 1]))));
    }

    #[test]
    fn add_on_a_non_array_is_code_111() {
        let add = json!({"__op":"Add","objects":[1]});
        assert_eq!(
            apply(add, Some(json!({"a":1}))),
            Err(LcError::incorrect_type("k", "Array", "Object"))
        );
    }

    #[test]
    fn add_unique_keeps_existing_items_once() {
        let add = json!({"__op":"AddUnique","objects":[2, 3, 3]});
        assert_eq!(apply(add, Some(json!([1, 2]))), Ok(Some(json!([1, 2, 3]))));
    }

    #[test]
    fn add_unique_on_a_missing_field_deduplicates_the_objects() {
        let add = json!({"__op":"AddUnique","objects":[{"a":1}, {"a":1}, "x"]});
        assert_eq!(apply(add, None), Ok(Some(json!([{"a":1}, "x"]))));
    }

    #[test]
    fn add_unique_compares_numbers_by_value() {
        let add = json!({"__op":"AddUnique","objects":[1.0]});
        assert_eq!(apply(add, Some(json!([1]))), Ok(Some(json!([1]))));
    }

    #[test]
    fn add_unique_on_a_number_is_code_111() {
        let add = json!({"__op":"AddUnique","objects":[1]});
        assert_eq!(
            apply(add, Some(json!(5))),
            Err(LcError::incorrect_type("k", "Array", "Number"))
        );
    }

    #[test]
    fn remove_deletes_every_occurrence() {
        let rm = json!({"__op":"Remove","objects":[2, {"a":1}]});
        assert_eq!(
            apply(rm, Some(json!([1, 2, {"a":1}, 2, 3]))),
            Ok(Some(json!([1, 3])))
        );
    }

    #[test]
    fn remove_on_a_missing_field_gives_an_empty_array() {
        let rm = json!({"__op":"Remove","objects":[1]});
        assert_eq!(apply(rm, None), Ok(Some(json!([]))));
    }

    #[test]
    fn remove_on_a_string_is_code_111() {
        let rm = json!({"__op":"Remove","objects":[1]});
        assert_eq!(
            apply(rm, Some(json!("s"))),
            Err(LcError::incorrect_type("k", "Array", "String"))
        );
    }

    #[test]
    fn array_ops_without_an_objects_array_are_code_107() {
        for name in [
            "Add",
            "AddUnique",
            "Remove",
            "AddRelation",
            "RemoveRelation",
        ] {
            let missing = FieldOp::parse("k", &json!({"__op": name})).unwrap_err();
            assert_eq!(missing.code, code::INVALID_JSON, "{name}");
            let not_array = FieldOp::parse("k", &json!({"__op": name, "objects": 1})).unwrap_err();
            assert_eq!(not_array.code, code::INVALID_JSON, "{name}");
        }
    }

    #[test]
    fn add_relation_yields_the_relation_marker() {
        let add = json!({"__op":"AddRelation","objects":[ptr("_User","u1"), ptr("_User","u2")]});
        assert_eq!(
            apply(add.clone(), None),
            Ok(Some(json!({"__type":"Relation","className":"_User"})))
        );
        let marker = Relation::new("_User").to_json();
        assert_eq!(apply(add, Some(marker.clone())), Ok(Some(marker)));
        let rm = json!({"__op":"RemoveRelation","objects":[ptr("_User","u1")]});
        assert_eq!(
            apply(rm, None),
            Ok(Some(json!({"__type":"Relation","className":"_User"})))
        );
    }

    #[test]
    fn relation_ops_on_another_type_or_class_are_code_111() {
        let add = json!({"__op":"AddRelation","objects":[ptr("_User","u1")]});
        assert_eq!(
            apply(add.clone(), Some(json!(1))),
            Err(LcError::incorrect_type("k", "Relation", "Number"))
        );
        assert_eq!(
            apply(add, Some(Relation::new("Post").to_json())),
            Err(LcError::incorrect_type(
                "k",
                "Relation<_User>",
                "Relation<Post>"
            ))
        );
    }

    #[test]
    fn relation_ops_with_no_or_too_many_objects_are_code_128() {
        let empty = FieldOp::parse("k", &json!({"__op":"AddRelation","objects":[]}));
        assert_eq!(
            empty,
            Err(LcError::invalid_relation(
                "AddRelation on 'k' needs 1 to 1000 objects, got 0."
            ))
        );
        let many: Vec<Value> = (0..1001).map(|i| ptr("P", &i.to_string())).collect();
        let too_many = FieldOp::parse("k", &json!({"__op":"RemoveRelation","objects":many}));
        assert_eq!(too_many.unwrap_err().code, code::INVALID_RELATION_DATA);
        let max: Vec<Value> = (0..1000).map(|i| ptr("P", &i.to_string())).collect();
        assert!(FieldOp::parse("k", &json!({"__op":"AddRelation","objects":max})).is_ok());
    }

    #[test]
    fn relation_ops_need_pointers_of_one_class() {
        let mixed = json!({"__op":"AddRelation","objects":[ptr("A","1"), ptr("B","2")]});
        assert_eq!(
            FieldOp::parse("k", &mixed),
            Err(LcError::invalid_relation(
                "AddRelation on 'k' mixes classes 'A' and 'B'."
            ))
        );
        let not_pointer = json!({"__op":"AddRelation","objects":["u1"]});
        assert_eq!(
            FieldOp::parse("k", &not_pointer).unwrap_err().code,
            code::INVALID_RELATION_DATA
        );
        let malformed =
            json!({"__op":"AddRelation","objects":[{"__type":"Pointer","className":"A"}]});
        assert_eq!(
            FieldOp::parse("k", &malformed).unwrap_err().code,
            code::INVALID_POINTER
        );
    }

    #[test]
    fn batch_holds_relation_ops_on_one_class() {
        let batch = json!({"__op":"Batch","ops":[
            {"__op":"AddRelation","objects":[ptr("_User","u1")]},
            {"__op":"RemoveRelation","objects":[ptr("_User","u2")]},
        ]});
        let parsed = op(batch.clone());
        let FieldOp::Batch(ops) = &parsed else {
            panic!("Batch parses as Batch");
        };
        assert_eq!(ops.len(), 2);
        assert_eq!(parsed.relation_class(), Some("_User"));
        assert_eq!(
            parsed.apply("k", None),
            Ok(Some(json!({"__type":"Relation","className":"_User"})))
        );
        assert_eq!(parsed.to_json(), batch);
    }

    #[test]
    fn malformed_batches_are_rejected() {
        let mixed = json!({"__op":"Batch","ops":[
            {"__op":"AddRelation","objects":[ptr("A","1")]},
            {"__op":"RemoveRelation","objects":[ptr("B","2")]},
        ]});
        assert_eq!(
            FieldOp::parse("k", &mixed).unwrap_err().code,
            code::INVALID_RELATION_DATA
        );
        let not_relation = json!({"__op":"Batch","ops":[{"__op":"Increment","amount":1}]});
        assert_eq!(
            FieldOp::parse("k", &not_relation).unwrap_err().code,
            code::INVALID_JSON
        );
        let plain_value = json!({"__op":"Batch","ops":[1]});
        assert_eq!(
            FieldOp::parse("k", &plain_value).unwrap_err().code,
            code::INVALID_JSON
        );
        for bad in [json!({"__op":"Batch"}), json!({"__op":"Batch","ops":[]})] {
            assert_eq!(
                FieldOp::parse("k", &bad).unwrap_err().code,
                code::INVALID_JSON,
                "{bad}"
            );
        }
    }

    #[test]
    fn bit_ops_on_a_missing_field_follow_the_recording() {
        assert_eq!(
            apply(json!({"__op":"BitAnd","value":6}), None),
            Ok(Some(json!(0)))
        );
        assert_eq!(
            apply(json!({"__op":"BitOr","value":6}), None),
            Ok(Some(json!(6)))
        );
        assert_eq!(
            apply(json!({"__op":"BitXor","value":6}), None),
            Ok(Some(json!(6)))
        );
    }

    #[test]
    fn bit_ops_combine_integers() {
        let cur = Some(json!(0b1100));
        assert_eq!(
            apply(json!({"__op":"BitAnd","value":0b1010}), cur.clone()),
            Ok(Some(json!(0b1000)))
        );
        assert_eq!(
            apply(json!({"__op":"BitOr","value":0b1010}), cur.clone()),
            Ok(Some(json!(0b1110)))
        );
        assert_eq!(
            apply(json!({"__op":"BitXor","value":0b1010}), cur),
            Ok(Some(json!(0b0110)))
        );
    }

    #[test]
    fn bit_ops_on_a_float_or_string_are_code_111() {
        assert_eq!(
            apply(json!({"__op":"BitOr","value":1}), Some(json!(1.5))),
            Err(LcError::incorrect_type("k", "Integer", "Number"))
        );
        assert_eq!(
            apply(json!({"__op":"BitAnd","value":1}), Some(json!("1"))),
            Err(LcError::incorrect_type("k", "Integer", "String"))
        );
    }

    #[test]
    fn bit_ops_need_an_integer_value() {
        for bad in [
            json!({"__op":"BitAnd"}),
            json!({"__op":"BitOr","value":1.5}),
            json!({"__op":"BitXor","value":"1"}),
        ] {
            assert_eq!(
                FieldOp::parse("k", &bad).unwrap_err().code,
                code::INVALID_JSON,
                "{bad}"
            );
        }
    }

    #[test]
    fn unknown_ops_are_code_1_naming_the_op() {
        assert_eq!(
            FieldOp::parse("k", &json!({"__op":"Multiply","amount":2})),
            Err(LcError::unknown_op("k", "Multiply"))
        );
        assert_eq!(
            LcError::unknown_op("k", "Multiply").message,
            "Unknown field operation 'Multiply' for key 'k'."
        );
        assert_eq!(
            FieldOp::parse("k", &json!({"__op": 3})).unwrap_err().code,
            code::GENERIC
        );
    }

    #[test]
    fn every_op_writes_json_that_parses_back_to_itself() {
        for v in [
            json!({"__op":"Delete"}),
            json!({"__op":"Increment","amount":1.5}),
            json!({"__op":"Add","objects":[1]}),
            json!({"__op":"AddUnique","objects":["a"]}),
            json!({"__op":"Remove","objects":[null]}),
            json!({"__op":"AddRelation","objects":[ptr("P","1")]}),
            json!({"__op":"RemoveRelation","objects":[ptr("P","1")]}),
            json!({"__op":"BitAnd","value":1}),
            json!({"__op":"BitOr","value":-1}),
            json!({"__op":"BitXor","value":7}),
        ] {
            let parsed = op(v.clone());
            assert_eq!(parsed.to_json(), v);
            assert_eq!(op(parsed.to_json()), parsed);
        }
    }
}
