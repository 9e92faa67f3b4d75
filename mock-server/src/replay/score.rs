//! Scoring one exchange: L0 same status; L1 also the same error `code` (per item for a
//! batch); L2 also the same normalised body.
//!
//! Normalising: recorded objectIds are translated through the case's mapping and must
//! then equal the replayed ones; dates and tokens only need the right shape (both sides
//! show `<date>` / `<token>`); numbers compare numerically; key order is irrelevant.
//!
//! A recorded answer that was not JSON (`resp_raw`) has no error code to compare: L1 is
//! L0, and L2 needs the emulator's body to be exactly the recorded text.

use super::mapping::{self, Mapping, Shape};
use serde_json::{Map, Value};

/// Placeholder for a date-shaped string in normalised bodies.
pub const DATE: &str = "<date>";
/// Placeholder for a token-shaped string (session token, generated username).
pub const TOKEN: &str = "<token>";

/// The three levels an exchange reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Levels {
    pub l0: bool,
    pub l1: bool,
    pub l2: bool,
}

/// Score a replayed answer against the recorded one. `batch`: the request was a
/// `/1.1/batch`, whose items are compared one by one at L1.
pub fn score(
    expected_status: u16,
    expected: &Value,
    actual_status: u16,
    actual: &Value,
    batch: bool,
    mapping: &Mapping,
) -> (Levels, Value, Value) {
    let expected_norm = normalise_expected(expected, mapping);
    let actual_norm = normalise_actual(actual);
    let l0 = expected_status == actual_status;
    let l1 = l0 && same_errors(expected_status, expected, actual, batch);
    let l2 = l1 && expected_norm == actual_norm;
    (Levels { l0, l1, l2 }, expected_norm, actual_norm)
}

/// Score a replayed answer against a recorded answer that was not JSON: the statuses,
/// then the exact texts. Both "normalised" bodies are the texts as they are.
pub fn score_raw(
    expected_status: u16,
    expected: &str,
    actual_status: u16,
    actual: &str,
) -> (Levels, Value, Value) {
    let l0 = expected_status == actual_status;
    let levels = Levels {
        l0,
        l1: l0,
        l2: l0 && expected == actual,
    };
    (
        levels,
        Value::String(expected.to_string()),
        Value::String(actual.to_string()),
    )
}

fn code(v: &Value) -> Option<f64> {
    v.get("code").and_then(Value::as_f64)
}

fn same_errors(status: u16, expected: &Value, actual: &Value, batch: bool) -> bool {
    if batch && let Value::Array(items) = expected {
        let Value::Array(got) = actual else {
            return false;
        };
        return items.len() == got.len()
            && items.iter().zip(got).all(|(e, a)| {
                match (
                    e.get("success"),
                    e.get("error"),
                    a.get("success"),
                    a.get("error"),
                ) {
                    (Some(_), None, Some(_), None) => true,
                    (None, Some(ee), None, Some(ae)) => code(ee) == code(ae),
                    _ => false,
                }
            });
    }
    if status >= 400 || code(expected).is_some() && expected.get("error").is_some() {
        return code(expected) == code(actual);
    }
    true
}

/// The recorded body in the replay's terms, generated values replaced by placeholders.
pub fn normalise_expected(value: &Value, mapping: &Mapping) -> Value {
    normalise(value, &|s| match mapping::shape_of(s) {
        Some(Shape::Date) => DATE.to_string(),
        Some(Shape::Token) => TOKEN.to_string(),
        _ => socket_origin_free(&mapping.map_text(s)),
    })
}

/// A WebSocket URL (`ws://`, `wss://`) with its authority as `<origin>`. The realtime
/// router answers the address the client reached the server at, which is the
/// recording's server, not the replay's (which has no address): what it answers is
/// scored, not where.
fn socket_origin_free(s: &str) -> String {
    for scheme in ["ws://", "wss://"] {
        if let Some(rest) = s.strip_prefix(scheme) {
            let path = rest.find('/').map_or("", |at| &rest[at..]);
            return format!("{scheme}<origin>{path}");
        }
    }
    s.to_string()
}

/// The replayed body with generated values replaced by placeholders.
pub fn normalise_actual(value: &Value) -> Value {
    normalise(value, &|s| match mapping::shape_of(s) {
        Some(Shape::Date) => DATE.to_string(),
        Some(Shape::Token) => TOKEN.to_string(),
        _ => socket_origin_free(s),
    })
}

/// Rebuild a value: strings (keys too) through `f`, integral floats as integers, keys
/// sorted.
fn normalise(value: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(f(s)),
        Value::Number(n) => canonical_number(n),
        Value::Array(items) => Value::Array(items.iter().map(|v| normalise(v, f)).collect()),
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> =
                map.iter().map(|(k, v)| (f(k), normalise(v, f))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect::<Map<String, Value>>())
        }
        other => other.clone(),
    }
}

/// `40.0` becomes `40` so that it equals the integer.
fn canonical_number(n: &serde_json::Number) -> Value {
    if n.is_f64()
        && let Some(f) = n.as_f64()
        && f.fract() == 0.0
        && f.abs() < 9_007_199_254_740_992.0
    {
        return Value::from(f as i64);
    }
    Value::Number(n.clone())
}

/// A unified diff of two pretty-printed bodies (empty when they print the same).
pub fn diff(expected: &Value, actual: &Value) -> String {
    let e = pretty(expected);
    let a = pretty(actual);
    if e == a {
        return String::new();
    }
    similar::TextDiff::from_lines(&e, &a)
        .unified_diff()
        .context_radius(4)
        .header("expected (recorded)", "actual (replayed)")
        .to_string()
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn levels(es: u16, e: Value, s: u16, a: Value, batch: bool) -> Levels {
        score(es, &e, s, &a, batch, &Mapping::default()).0
    }

    #[test]
    fn a_websocket_url_is_scored_without_its_origin() {
        let recorded = json!({"server": "ws://127.0.0.1:43877/livequery", "ttl": 3600});
        let replayed = json!({"server": "ws://127.0.0.1/livequery", "ttl": 3600});
        assert_eq!(
            normalise_expected(&recorded, &Mapping::default()),
            normalise_actual(&replayed)
        );
        // Its path still counts, and other URLs keep their origin.
        let elsewhere = json!({"server": "ws://127.0.0.1/other", "ttl": 3600});
        assert_ne!(
            normalise_expected(&recorded, &Mapping::default()),
            normalise_actual(&elsewhere)
        );
        let file = json!({"url": "http://127.0.0.1:43877/f.txt"});
        assert_eq!(normalise_actual(&file), file);
    }

    #[test]
    fn raw_answers_compare_status_then_exact_text() {
        let l = score_raw(
            502,
            "<html>bad gateway</html>",
            502,
            "<html>bad gateway</html>",
        )
        .0;
        assert_eq!((l.l0, l.l1, l.l2), (true, true, true));
        let l = score_raw(502, "<html>bad gateway</html>", 502, "{\"code\":1}").0;
        assert_eq!((l.l0, l.l1, l.l2), (true, true, false));
        let l = score_raw(502, "x", 404, "x").0;
        assert_eq!((l.l0, l.l1, l.l2), (false, false, false));
    }

    #[test]
    fn numbers_compare_numerically_and_key_order_is_irrelevant() {
        let l = levels(
            200,
            json!({"a": 40, "b": 1}),
            200,
            json!({"b": 1.0, "a": 40.0}),
            false,
        );
        assert!(l.l2);
    }

    #[test]
    fn generated_values_only_need_their_shape() {
        let l = levels(
            200,
            json!({"createdAt": "2019-09-19T04:45:49.090Z", "sessionToken": "vd752h9wqjhr3qn6cnxlynnki"}),
            200,
            json!({"createdAt": "2024-02-01T10:00:00.001Z", "sessionToken": "0123456789abcdefghijklmno"}),
            false,
        );
        assert!(l.l2);
        let l = levels(
            200,
            json!({"createdAt": "2019-09-19T04:45:49.090Z"}),
            200,
            json!({"createdAt": "yesterday"}),
            false,
        );
        assert_eq!((l.l1, l.l2), (true, false));
    }

    #[test]
    fn an_error_with_another_code_fails_at_l1() {
        let l = levels(
            400,
            json!({"code": 305, "error": "x"}),
            400,
            json!({"code": 1, "error": "x"}),
            false,
        );
        assert_eq!((l.l0, l.l1), (true, false));
    }

    #[test]
    fn batch_items_are_compared_by_kind_and_code() {
        let e = json!([{"success": {}}, {"error": {"code": 142, "error": "x"}}]);
        assert!(
            levels(
                200,
                e.clone(),
                200,
                json!([{"success": {}}, {"error": {"code": 142, "error": "x"}}]),
                true
            )
            .l2
        );
        assert!(
            !levels(
                200,
                e.clone(),
                200,
                json!([{"success": {}}, {"success": {}}]),
                true
            )
            .l1
        );
        assert!(!levels(200, e.clone(), 200, json!([{"success": {}}]), true).l1);
        assert!(
            !levels(
                200,
                e,
                200,
                json!([{"success": {}}, {"error": {"code": 1, "error": "x"}}]),
                true
            )
            .l1
        );
    }
}
