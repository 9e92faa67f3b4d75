//! Generated values and the recorded -> replayed mapping of one test case.
//!
//! The service generates objectIds (24 lowercase hex), dates (ISO-8601 UTC with
//! milliseconds) and tokens (25 chars `[0-9a-z]`: session tokens and generated
//! usernames). A replay learns what each recorded value became by walking the recorded
//! and the replayed answer in parallel, then writes the replayed values into later
//! requests: whole strings, and values inside text (paths, `where` JSON, messages).

use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// The kind of a generated value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    ObjectId,
    Date,
    Token,
}

pub fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub fn is_token(s: &str) -> bool {
    s.len() == 25
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn is_date(s: &str) -> bool {
    const PATTERN: &[u8; 24] = b"dddd-dd-ddTdd:dd:dd.dddZ";
    s.len() == 24
        && s.bytes().zip(PATTERN).all(|(b, p)| match p {
            b'd' => b.is_ascii_digit(),
            _ => b == *p,
        })
}

pub fn shape_of(s: &str) -> Option<Shape> {
    if is_object_id(s) {
        Some(Shape::ObjectId)
    } else if is_token(s) {
        Some(Shape::Token)
    } else if is_date(s) {
        Some(Shape::Date)
    } else {
        None
    }
}

/// The generated-looking pieces of a text, as byte ranges: whole dates, and maximal
/// ASCII alphanumeric runs that are objectId- or token-shaped.
pub fn generated_spans(text: &str) -> Vec<(std::ops::Range<usize>, Shape)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if starts_word && text.get(i..i + 24).is_some_and(is_date) {
            spans.push((i..i + 24, Shape::Date));
            i += 24;
            continue;
        }
        if bytes[i].is_ascii_alphanumeric() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            if let Some(shape @ (Shape::ObjectId | Shape::Token)) = shape_of(&text[start..i]) {
                spans.push((start..i, shape));
            }
        } else {
            i += 1;
        }
    }
    spans
}

/// Every string in a JSON value, object keys included.
pub fn for_each_string(value: &Value, f: &mut dyn FnMut(&str)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|v| for_each_string(v, f)),
        Value::Object(map) => {
            for (k, v) in map {
                f(k);
                for_each_string(v, f);
            }
        }
        _ => {}
    }
}

/// The objectId- and token-shaped values mentioned anywhere in a value (inside strings
/// too), in order of appearance, without repeats.
pub fn references(value: &Value) -> Vec<(String, Shape)> {
    let mut out: Vec<(String, Shape)> = Vec::new();
    for_each_string(value, &mut |s| collect_refs(s, &mut out));
    out
}

/// Like [`references`], for one text.
pub fn text_references(text: &str) -> Vec<(String, Shape)> {
    let mut out = Vec::new();
    collect_refs(text, &mut out);
    out
}

fn collect_refs(text: &str, out: &mut Vec<(String, Shape)>) {
    for (range, shape) in generated_spans(text) {
        if shape == Shape::Date {
            continue;
        }
        let s = &text[range];
        if !out.iter().any(|(seen, _)| seen == s) {
            out.push((s.to_string(), shape));
        }
    }
}

/// What recorded generated values became in the replay, for one test case.
#[derive(Debug, Default, Clone)]
pub struct Mapping {
    map: HashMap<String, String>,
    /// Replayed objectIds some recorded id maps to: objectIds map one-to-one.
    images: HashSet<String>,
    /// Every objectId the emulator has answered with in this case.
    seen: HashSet<String>,
}

impl Mapping {
    pub fn get(&self, recorded: &str) -> Option<&str> {
        self.map.get(recorded).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Keep a value as it is: an objectId or token the replayed app has too (a seed's),
    /// so it is never taken for another one the emulator answers with.
    pub fn pin(&mut self, value: &str) {
        self.map.insert(value.to_string(), value.to_string());
        if is_object_id(value) {
            self.images.insert(value.to_string());
            self.seen.insert(value.to_string());
        }
    }

    /// A text with every mapped generated value replaced.
    pub fn map_text(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (range, _) in generated_spans(text) {
            if let Some(to) = self.map.get(&text[range.clone()]) {
                out.push_str(&text[last..range.start]);
                out.push_str(to);
                last = range.end;
            }
        }
        out.push_str(&text[last..]);
        out
    }

    /// A value with every mapped generated value replaced, in strings and object keys.
    pub fn map_value(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.map_text(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.map_value(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.map_text(k), self.map_value(v)))
                    .collect::<Map<String, Value>>(),
            ),
            other => other.clone(),
        }
    }

    /// Learn from one exchange: walk the recorded and the replayed answer in parallel and
    /// map each recorded generated value to the replayed value of the same shape at the
    /// same place. Returns the recorded objectIds this answer introduced, i.e. paired with
    /// an objectId the emulator had not shown before in this case.
    ///
    /// Already-mapped values keep their first mapping. An objectId is only mapped to a
    /// replayed objectId that is new to the case, so a recorded row of pre-existing data
    /// is never taken for a row the case created.
    pub fn learn(&mut self, recorded: &Value, replayed: &Value) -> Vec<String> {
        let mut introduced = Vec::new();
        let seen_before = self.seen.clone();
        self.walk(recorded, replayed, &seen_before, &mut introduced);
        for_each_string(replayed, &mut |s| {
            for (range, shape) in generated_spans(s) {
                if shape == Shape::ObjectId {
                    self.seen.insert(s[range].to_string());
                }
            }
        });
        introduced
    }

    fn walk(
        &mut self,
        recorded: &Value,
        replayed: &Value,
        seen_before: &HashSet<String>,
        introduced: &mut Vec<String>,
    ) {
        match (recorded, replayed) {
            (Value::String(r), Value::String(p)) => self.pair(r, p, seen_before, introduced),
            (Value::Array(rs), Value::Array(ps)) => {
                for (r, p) in rs.iter().zip(ps) {
                    self.walk(r, p, seen_before, introduced);
                }
            }
            (Value::Object(rm), Value::Object(pm)) => {
                for (k, r) in rm {
                    // Keys can be generated too (ACL entries name user ids).
                    let p = pm.get(k).or_else(|| self.get(k).and_then(|mk| pm.get(mk)));
                    if let Some(p) = p {
                        self.walk(r, p, seen_before, introduced);
                    }
                }
                // An unmapped generated key paired with the one unmatched generated key.
                let unmatched_r: Vec<&String> = rm
                    .keys()
                    .filter(|k| {
                        shape_of(k).is_some() && !pm.contains_key(*k) && self.get(k).is_none()
                    })
                    .collect();
                let unmatched_p: Vec<&String> = pm
                    .keys()
                    .filter(|k| shape_of(k).is_some() && !rm.contains_key(*k))
                    .collect();
                if let ([r], [p]) = (unmatched_r.as_slice(), unmatched_p.as_slice()) {
                    let (r, p) = ((*r).clone(), (*p).clone());
                    self.pair(&r, &p, seen_before, introduced);
                    if let (Some(rv), Some(pv)) = (rm.get(&r), pm.get(&p)) {
                        self.walk(rv, pv, seen_before, introduced);
                    }
                }
            }
            _ => {}
        }
    }

    fn pair(
        &mut self,
        recorded: &str,
        replayed: &str,
        seen_before: &HashSet<String>,
        introduced: &mut Vec<String>,
    ) {
        let Some(shape) = shape_of(recorded) else {
            return;
        };
        if shape_of(replayed) != Some(shape) || self.map.contains_key(recorded) {
            return;
        }
        if shape == Shape::ObjectId {
            if self.images.contains(replayed) || seen_before.contains(replayed) {
                return;
            }
            self.images.insert(replayed.to_string());
            introduced.push(recorded.to_string());
        }
        self.map.insert(recorded.to_string(), replayed.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_are_recognised_exactly() {
        assert_eq!(shape_of("5d8307fd17b54d0068f1aa87"), Some(Shape::ObjectId));
        assert_eq!(shape_of("vd752h9wqjhr3qn6cnxlynnki"), Some(Shape::Token));
        assert_eq!(shape_of("2019-09-19T04:45:49.090Z"), Some(Shape::Date));
        assert_eq!(shape_of("5D8307FD17B54D0068F1AA87"), None);
        assert_eq!(shape_of("2019-09-19T04:45:49Z"), None);
        assert_eq!(shape_of("tester1"), None);
    }

    #[test]
    fn ids_inside_text_are_replaced() {
        let mut m = Mapping::default();
        m.learn(
            &json!({"objectId": "5d8307fd17b54d0068f1aa87", "createdAt": "2019-09-19T04:45:49.090Z"}),
            &json!({"objectId": "aaaaaaaaaaaaaaaaaaaaaaaa", "createdAt": "2024-01-01T00:00:00.000Z"}),
        );
        assert_eq!(
            m.map_text("/1.1/classes/C/5d8307fd17b54d0068f1aa87,5d8307fd17b54d0068f1aa88"),
            "/1.1/classes/C/aaaaaaaaaaaaaaaaaaaaaaaa,5d8307fd17b54d0068f1aa88"
        );
        assert_eq!(
            m.map_text(r#"{"iso":"2019-09-19T04:45:49.090Z"}"#),
            r#"{"iso":"2024-01-01T00:00:00.000Z"}"#
        );
    }

    #[test]
    fn an_id_the_emulator_showed_before_is_not_taken_for_a_new_one() {
        let mut m = Mapping::default();
        let first = m.learn(
            &json!({"objectId": "111111111111111111111111"}),
            &json!({"objectId": "aaaaaaaaaaaaaaaaaaaaaaaa"}),
        );
        assert_eq!(first, vec!["111111111111111111111111".to_string()]);
        let second = m.learn(
            &json!({"results": [{"objectId": "222222222222222222222222"}]}),
            &json!({"results": [{"objectId": "aaaaaaaaaaaaaaaaaaaaaaaa"}]}),
        );
        assert!(second.is_empty());
        assert_eq!(m.get("222222222222222222222222"), None);
    }
}
