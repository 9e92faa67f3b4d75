//! An object's fields as the store keeps them: one contiguous block of bytes per object,
//! read in place.
//!
//! A `serde_json::Map` costs some 600 bytes before it holds anything (a B-tree node), and
//! every key and nested map is its own heap block: about 3 KiB for a small object with an
//! ACL. Packed, the same object takes roughly its JSON length or less, and a query reading
//! a row touches one block instead of a dozen scattered ones.
//!
//! The format (private to this module): a value is a tag byte and its payload.
//! - null, false, true: the tag alone;
//! - a non-negative integer: LEB128; a negative one: LEB128 of `-(n + 1)`; any other number:
//!   8 bytes of `f64`. The three kinds of `serde_json::Number` come back as they went in;
//! - a string: LEB128 length, UTF-8 bytes;
//! - an array: LEB128 count, 4-byte length of the items, the items;
//! - an object: LEB128 count, 4-byte length of the entries, the entries in the map's
//!   (sorted) key order, each a key and a value. A key is LEB128 `2n` for interned name
//!   `n` (see `keys`), or `2len + 1` and the name's bytes.
//!
//! The byte lengths let a reader step over a value it does not need without reading it.

use super::keys::{self, Key};
use serde_json::{Map, Number, Value};
use std::cmp::Ordering;
use std::hash::Hasher;

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const UINT: u8 = 3;
const NINT: u8 = 4;
const FLOAT: u8 = 5;
const STR: u8 = 6;
const ARRAY: u8 = 7;
const OBJECT: u8 = 8;

/// An object's fields, packed.
#[derive(Clone, PartialEq, Eq)]
pub struct Packed(Box<[u8]>);

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", Value::Object(self.to_map()))
    }
}

impl Default for Packed {
    fn default() -> Self {
        Packed::from_map(&Map::new())
    }
}

impl Packed {
    pub fn from_map(map: &Map<String, Value>) -> Packed {
        let mut out = Vec::with_capacity(64);
        write_object(&mut out, map);
        Packed(out.into_boxed_slice())
    }

    /// The fields, read in place.
    pub fn object(&self) -> ObjRef<'_> {
        match read(&self.0, &mut 0) {
            Val::Object(o) => o,
            _ => ObjRef::EMPTY,
        }
    }

    /// The fields as JSON.
    pub fn to_map(&self) -> Map<String, Value> {
        self.object().to_map()
    }

    /// Bytes the packed form takes.
    pub fn len_bytes(&self) -> usize {
        self.0.len()
    }
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(b: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = b[*pos];
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// Leave room for a container's byte length; [`patch_len`] fills it in.
fn open(out: &mut Vec<u8>) -> usize {
    out.extend_from_slice(&[0; 4]);
    out.len()
}

fn patch_len(out: &mut [u8], start: usize) {
    let len = u32::try_from(out.len() - start).unwrap_or(u32::MAX);
    out[start - 4..start].copy_from_slice(&len.to_le_bytes());
}

fn write_object(out: &mut Vec<u8>, map: &Map<String, Value>) {
    out.push(OBJECT);
    write_varint(out, map.len() as u64);
    let start = open(out);
    for (key, value) in map {
        match keys::intern(key) {
            Some(sym) => write_varint(out, u64::from(sym) << 1),
            None => {
                write_varint(out, ((key.len() as u64) << 1) | 1);
                out.extend_from_slice(key.as_bytes());
            }
        }
        write_value(out, value);
    }
    patch_len(out, start);
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                out.push(UINT);
                write_varint(out, u);
            } else if let Some(i) = n.as_i64() {
                out.push(NINT);
                write_varint(out, !(i as u64));
            } else {
                out.push(FLOAT);
                out.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_le_bytes());
            }
        }
        Value::String(s) => {
            out.push(STR);
            write_varint(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Array(items) => {
            out.push(ARRAY);
            write_varint(out, items.len() as u64);
            let start = open(out);
            for item in items {
                write_value(out, item);
            }
            patch_len(out, start);
        }
        Value::Object(m) => write_object(out, m),
    }
}

fn read_str<'a>(b: &'a [u8], pos: &mut usize, len: usize) -> &'a str {
    let bytes = &b[*pos..*pos + len];
    *pos += len;
    std::str::from_utf8(bytes).unwrap_or_default()
}

fn read_len(b: &[u8], pos: &mut usize) -> usize {
    let mut len = [0; 4];
    len.copy_from_slice(&b[*pos..*pos + 4]);
    *pos += 4;
    u32::from_le_bytes(len) as usize
}

/// The value at `pos`; `pos` moves past it.
fn read<'a>(b: &'a [u8], pos: &mut usize) -> Val<'a> {
    let tag = b[*pos];
    *pos += 1;
    match tag {
        FALSE => Val::Bool(false),
        TRUE => Val::Bool(true),
        UINT => Val::Num(Num::U(read_varint(b, pos))),
        NINT => Val::Num(Num::I(!(read_varint(b, pos) as i64))),
        FLOAT => {
            let mut bits = [0; 8];
            bits.copy_from_slice(&b[*pos..*pos + 8]);
            *pos += 8;
            Val::Num(Num::F(f64::from_le_bytes(bits)))
        }
        STR => {
            let len = read_varint(b, pos) as usize;
            Val::Str(read_str(b, pos, len))
        }
        ARRAY | OBJECT => {
            let count = read_varint(b, pos) as usize;
            let len = read_len(b, pos);
            let body = &b[*pos..*pos + len];
            *pos += len;
            if tag == ARRAY {
                Val::Array(Items { count, body })
            } else {
                Val::Object(ObjRef { count, body })
            }
        }
        _ => Val::Null,
    }
}

/// Move `pos` past the value there without reading it.
fn skip(b: &[u8], pos: &mut usize) {
    let tag = b[*pos];
    *pos += 1;
    match tag {
        UINT | NINT => {
            read_varint(b, pos);
        }
        FLOAT => *pos += 8,
        STR => *pos += read_varint(b, pos) as usize,
        ARRAY | OBJECT => {
            read_varint(b, pos);
            *pos += read_len(b, pos);
        }
        _ => {}
    }
}

/// A number as `serde_json` holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    U(u64),
    I(i64),
    F(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::U(u) => u as f64,
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }

    pub fn as_i64(self) -> Option<i64> {
        match self {
            Num::U(u) => i64::try_from(u).ok(),
            Num::I(i) => Some(i),
            Num::F(_) => None,
        }
    }

    pub fn as_u64(self) -> Option<u64> {
        match self {
            Num::U(u) => Some(u),
            _ => None,
        }
    }

    pub fn to_number(self) -> Number {
        match self {
            Num::U(u) => Number::from(u),
            Num::I(i) => Number::from(i),
            Num::F(f) => Number::from_f64(f).unwrap_or_else(|| Number::from(0)),
        }
    }
}

/// A stored value, read in place.
#[derive(Debug, Clone, Copy)]
pub enum Val<'a> {
    Null,
    Bool(bool),
    Num(Num),
    Str(&'a str),
    Array(Items<'a>),
    Object(ObjRef<'a>),
}

impl<'a> Val<'a> {
    pub fn is_null(self) -> bool {
        matches!(self, Val::Null)
    }

    pub fn as_str(self) -> Option<&'a str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_f64(self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(n.as_f64()),
            _ => None,
        }
    }

    pub fn as_object(self) -> Option<ObjRef<'a>> {
        match self {
            Val::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_array(self) -> Option<Items<'a>> {
        match self {
            Val::Array(a) => Some(a),
            _ => None,
        }
    }

    /// A field of an object value.
    pub fn get(self, key: &str) -> Option<Val<'a>> {
        self.as_object()?.get(key)
    }

    /// The `__type` of an object value.
    pub fn type_tag(self) -> Option<&'a str> {
        self.as_object()?.get_sym(keys::TYPE)?.as_str()
    }

    pub fn to_json(self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(b),
            Val::Num(n) => Value::Number(n.to_number()),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Array(items) => Value::Array(items.iter().map(Val::to_json).collect()),
            Val::Object(o) => Value::Object(o.to_map()),
        }
    }
}

/// An array's items.
#[derive(Debug, Clone, Copy)]
pub struct Items<'a> {
    count: usize,
    body: &'a [u8],
}

impl<'a> Items<'a> {
    pub fn len(self) -> usize {
        self.count
    }

    pub fn is_empty(self) -> bool {
        self.count == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Val<'a>> + 'a {
        let mut pos = 0;
        (0..self.count).map(move |_| read(self.body, &mut pos))
    }
}

/// A key of a stored object: an interned name or the name itself.
#[derive(Debug, Clone, Copy)]
pub enum KeyRef<'a> {
    Sym(u32),
    Inline(&'a str),
}

impl<'a> KeyRef<'a> {
    pub fn as_str(self) -> &'a str {
        match self {
            KeyRef::Sym(s) => keys::name(s),
            KeyRef::Inline(name) => name,
        }
    }

    fn is(self, key: &Key) -> bool {
        match (self, key.sym()) {
            (KeyRef::Sym(s), Some(t)) => s == t,
            // Named after the key was looked up: compare names.
            (KeyRef::Sym(s), None) => keys::name(s) == key.name(),
            (KeyRef::Inline(name), _) => name == key.name(),
        }
    }
}

fn read_key<'a>(b: &'a [u8], pos: &mut usize) -> KeyRef<'a> {
    let k = read_varint(b, pos);
    if k & 1 == 0 {
        KeyRef::Sym((k >> 1) as u32)
    } else {
        KeyRef::Inline(read_str(b, pos, (k >> 1) as usize))
    }
}

/// An object's entries, in key order.
#[derive(Debug, Clone, Copy)]
pub struct ObjRef<'a> {
    count: usize,
    body: &'a [u8],
}

impl<'a> ObjRef<'a> {
    const EMPTY: ObjRef<'static> = ObjRef {
        count: 0,
        body: &[],
    };

    pub fn len(self) -> usize {
        self.count
    }

    pub fn is_empty(self) -> bool {
        self.count == 0
    }

    pub fn iter(self) -> impl Iterator<Item = (KeyRef<'a>, Val<'a>)> + 'a {
        let mut pos = 0;
        (0..self.count).map(move |_| {
            let key = read_key(self.body, &mut pos);
            (key, read(self.body, &mut pos))
        })
    }

    /// The first entry whose key `is` says so, reading only that entry's value.
    fn find(self, mut is: impl FnMut(KeyRef<'a>) -> bool) -> Option<Val<'a>> {
        let mut pos = 0;
        for _ in 0..self.count {
            let key = read_key(self.body, &mut pos);
            if is(key) {
                return Some(read(self.body, &mut pos));
            }
            skip(self.body, &mut pos);
        }
        None
    }

    pub fn get(self, name: &str) -> Option<Val<'a>> {
        self.find(|k| k.as_str() == name)
    }

    /// [`ObjRef::get`] with the key resolved beforehand (the hot path of queries).
    pub fn get_key(self, key: &Key) -> Option<Val<'a>> {
        self.find(|k| k.is(key))
    }

    /// A well-known key (see `keys`).
    pub(crate) fn get_sym(self, sym: u32) -> Option<Val<'a>> {
        self.find(|k| matches!(k, KeyRef::Sym(s) if s == sym))
    }

    pub fn contains(self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn to_map(self) -> Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_json()))
            .collect()
    }
}

/// Whether a stored value is exactly a JSON one (`==` on `serde_json::Value`: `1` and
/// `1.0` differ).
pub fn equals(a: Val<'_>, b: &Value) -> bool {
    match (a, b) {
        (Val::Null, Value::Null) => true,
        (Val::Bool(x), Value::Bool(y)) => x == *y,
        (Val::Num(x), Value::Number(y)) => x.to_number() == *y,
        (Val::Str(x), Value::String(y)) => x == y,
        (Val::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(i, j)| equals(i, j))
        }
        (Val::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k.as_str()).is_some_and(|w| equals(v, w)))
        }
        _ => false,
    }
}

/// [`leancloud::value::same_value`] between a stored value and a JSON one.
pub fn same_value(a: Val<'_>, b: &Value) -> bool {
    match (a, b) {
        (Val::Null, Value::Null) => true,
        (Val::Bool(x), Value::Bool(y)) => x == *y,
        (Val::Num(x), Value::Number(_)) => {
            leancloud::value::same_value(&Value::Number(x.to_number()), b)
        }
        (Val::Str(x), Value::String(y)) => x == y,
        (Val::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(i, j)| same_value(i, j))
        }
        (Val::Object(x), Value::Object(y)) => same_fields(x, y),
        _ => false,
    }
}

/// [`leancloud::value::same_fields`] between a stored object and a JSON one.
pub fn same_fields(a: ObjRef<'_>, b: &Map<String, Value>) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k.as_str()).is_some_and(|w| same_value(v, w)))
}

fn json_rank(v: Val<'_>) -> u8 {
    match v {
        Val::Null => 0,
        Val::Num(_) => 1,
        Val::Str(_) => 2,
        Val::Object(_) => 3,
        Val::Array(_) => 4,
        Val::Bool(_) => 5,
    }
}

/// A total order on stored values: by JSON type, then by content (what `order` uses for
/// objects and arrays).
pub fn total_cmp(a: Val<'_>, b: Val<'_>) -> Ordering {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.as_f64().total_cmp(&y.as_f64()),
        (Val::Str(x), Val::Str(y)) => x.cmp(y),
        (Val::Bool(x), Val::Bool(y)) => x.cmp(&y),
        (Val::Array(x), Val::Array(y)) => x
            .iter()
            .zip(y.iter())
            .map(|(a, b)| total_cmp(a, b))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        (Val::Object(x), Val::Object(y)) => x
            .iter()
            .zip(y.iter())
            .map(|((ka, va), (kb, vb))| {
                ka.as_str().cmp(kb.as_str()).then_with(|| total_cmp(va, vb))
            })
            .find(|o| o.is_ne())
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        _ => json_rank(a).cmp(&json_rank(b)),
    }
}

/// A number as [`same_value`] sees it for hashing: values it calls the same hash alike.
fn number_bits(x: f64) -> u64 {
    if x == 0.0 { 0 } else { x.to_bits() }
}

/// Hash a stored value so that values [`same_value`] calls the same hash alike (with
/// [`hash_json`]).
pub fn hash_val(v: Val<'_>, h: &mut impl Hasher) {
    match v {
        Val::Null => h.write_u8(0),
        Val::Bool(b) => h.write_u8(1 + u8::from(b)),
        Val::Num(n) => {
            h.write_u8(3);
            h.write_u64(number_bits(n.as_f64()));
        }
        Val::Str(s) => {
            h.write_u8(4);
            h.write_usize(s.len());
            h.write(s.as_bytes());
        }
        Val::Array(items) => {
            h.write_u8(5);
            h.write_usize(items.len());
            items.iter().for_each(|i| hash_val(i, h));
        }
        Val::Object(o) => {
            h.write_u8(6);
            h.write_usize(o.len());
            for (k, v) in o.iter() {
                let k = k.as_str();
                h.write_usize(k.len());
                h.write(k.as_bytes());
                hash_val(v, h);
            }
        }
    }
}

/// [`hash_val`] for a JSON value.
pub fn hash_json(v: &Value, h: &mut impl Hasher) {
    match v {
        Value::Null => h.write_u8(0),
        Value::Bool(b) => h.write_u8(1 + u8::from(*b)),
        Value::Number(n) => {
            h.write_u8(3);
            h.write_u64(number_bits(n.as_f64().unwrap_or(0.0)));
        }
        Value::String(s) => {
            h.write_u8(4);
            h.write_usize(s.len());
            h.write(s.as_bytes());
        }
        Value::Array(items) => {
            h.write_u8(5);
            h.write_usize(items.len());
            items.iter().for_each(|i| hash_json(i, h));
        }
        Value::Object(o) => {
            h.write_u8(6);
            h.write_usize(o.len());
            for (k, v) in o {
                h.write_usize(k.len());
                h.write(k.as_bytes());
                hash_json(v, h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;
    use std::hash::DefaultHasher;

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{0,8}|\\PC{0,70}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn hash_of_val(v: Val<'_>) -> u64 {
        let mut h = DefaultHasher::new();
        hash_val(v, &mut h);
        h.finish()
    }

    fn hash_of_json(v: &Value) -> u64 {
        let mut h = DefaultHasher::new();
        hash_json(v, &mut h);
        h.finish()
    }

    proptest! {
        #[test]
        fn every_value_comes_back_as_it_went_in(v in arb_json()) {
            let mut map = Map::new();
            map.insert("v".into(), v.clone());
            let packed = Packed::from_map(&map);
            prop_assert_eq!(packed.to_map(), map.clone());
            let stored = packed.object().get("v").unwrap();
            prop_assert_eq!(stored.to_json(), v.clone());
            prop_assert!(same_value(stored, &v));
            prop_assert_eq!(hash_of_val(stored), hash_of_json(&v));
            prop_assert_eq!(total_cmp(stored, stored), Ordering::Equal);
        }
    }

    #[test]
    fn lookups_find_interned_and_inline_keys_and_skip_the_rest() {
        let long = "k".repeat(crate::limits::MAX_INTERNED_KEY_BYTES + 5);
        let mut map = Map::new();
        map.insert("a".into(), json!([1, {"x": "y"}, [2]]));
        map.insert(long.clone(), json!("inline"));
        map.insert(
            "z".into(),
            json!({"__type": "Pointer", "className": "C", "objectId": "o"}),
        );
        let packed = Packed::from_map(&map);
        let obj = packed.object();
        assert_eq!(obj.len(), 3);
        assert_eq!(obj.get(&long).and_then(Val::as_str), Some("inline"));
        assert_eq!(
            obj.get_key(&Key::new(&long)).and_then(Val::as_str),
            Some("inline")
        );
        let z = obj.get_key(&Key::new("z")).unwrap();
        assert_eq!(z.type_tag(), Some("Pointer"));
        assert_eq!(z.get("objectId").and_then(Val::as_str), Some("o"));
        assert!(obj.get("nothing").is_none());
        assert_eq!(obj.get("a").unwrap().as_array().unwrap().len(), 3);
    }

    #[test]
    fn numbers_keep_their_kind_and_compare_as_same_value_does() {
        for n in [
            json!(1),
            json!(-1),
            json!(1.0),
            json!(u64::MAX),
            json!(i64::MIN),
        ] {
            let mut m = Map::new();
            m.insert("n".into(), n.clone());
            let p = Packed::from_map(&m);
            assert_eq!(p.to_map()["n"], n);
        }
        let mut m = Map::new();
        m.insert("n".into(), json!(1));
        let p = Packed::from_map(&m);
        let one = p.object().get("n").unwrap();
        assert!(same_value(one, &json!(1.0)));
        assert_eq!(hash_of_val(one), hash_of_json(&json!(1.0)));
        assert!(!same_value(one, &json!("1")));
    }
}
