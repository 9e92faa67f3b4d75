//! A `where` document written as CQL, for the differential test that runs both through
//! the emulator (`tests/generative/cql_diff.rs`): conditions become CQL's operators, and values
//! become literals (strings and whole numbers) or `?` placeholders with `pvalues`
//! (everything else), so that both of CQL's ways of giving a value are exercised.

use serde_json::{Map, Value};

/// A statement being written: its placeholder values so far.
#[derive(Debug, Default)]
pub struct Cql {
    pub pvalues: Vec<Value>,
}

impl Cql {
    /// `where` as a CQL condition, or `None` when CQL cannot say it (a case-insensitive
    /// `$regex`, an empty object inside `$and`/`$or`, an operator CQL lacks).
    pub fn condition(&mut self, r#where: &Value) -> Option<String> {
        match r#where {
            Value::Array(items) => self.all(items, "and"),
            Value::Object(m) => self.object(m),
            _ => None,
        }
    }

    fn all(&mut self, items: &[Value], joiner: &str) -> Option<String> {
        let parts: Option<Vec<String>> = items.iter().map(|w| self.condition(w)).collect();
        let parts = parts?;
        // Wrapped whole, so that an `or` stays one condition beside others.
        (!parts.is_empty()).then(|| format!("(({}))", parts.join(&format!(") {joiner} ("))))
    }

    fn object(&mut self, m: &Map<String, Value>) -> Option<String> {
        let mut parts = Vec::new();
        for (key, v) in m {
            parts.push(match key.as_str() {
                "$and" => self.all(v.as_array()?, "and")?,
                "$or" => self.all(v.as_array()?, "or")?,
                _ => self.field(key, v)?,
            });
        }
        (!parts.is_empty()).then(|| parts.join(" and "))
    }

    fn field(&mut self, key: &str, v: &Value) -> Option<String> {
        let ops = v
            .as_object()
            .filter(|o| !o.is_empty() && o.keys().all(|k| k.starts_with('$')));
        let Some(ops) = ops else {
            return Some(format!("{key} = {}", self.value(v)));
        };
        let mut parts = Vec::new();
        for (op, arg) in ops {
            let part = match op.as_str() {
                "$ne" => format!("{key} != {}", self.value(arg)),
                "$lt" => format!("{key} < {}", self.value(arg)),
                "$lte" => format!("{key} <= {}", self.value(arg)),
                "$gt" => format!("{key} > {}", self.value(arg)),
                "$gte" => format!("{key} >= {}", self.value(arg)),
                "$in" => format!("{key} in ({})", self.list(arg)?),
                "$nin" => format!("{key} not in ({})", self.list(arg)?),
                "$all" => format!("{key} all ({})", self.list(arg)?),
                "$exists" if arg.as_bool()? => format!("{key} is exists"),
                "$exists" => format!("{key} is not exists"),
                "$size" => format!("size({key}) = {}", arg.as_u64()?),
                "$regex" if !ops.contains_key("$options") => {
                    format!("{key} regexp {}", string(arg.as_str()?))
                }
                _ => return None,
            };
            parts.push(part);
        }
        Some(parts.join(" and "))
    }

    fn list(&mut self, v: &Value) -> Option<String> {
        let items: Vec<String> = v.as_array()?.iter().map(|x| self.value(x)).collect();
        Some(items.join(", "))
    }

    fn value(&mut self, v: &Value) -> String {
        match v {
            Value::String(s) => string(s),
            Value::Number(n) if n.is_i64() => n.to_string(),
            other => {
                self.pvalues.push(other.clone());
                "?".into()
            }
        }
    }
}

/// A CQL string literal: single quotes, a quote doubled, a backslash escaped.
fn string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_literals_and_placeholders() {
        let mut cql = Cql::default();
        let w = json!({"n": {"$gt": 1, "$lte": 2.5}, "$or": [{"s": "it's"}, {"d": null}]});
        assert_eq!(
            cql.condition(&w).unwrap(),
            "((s = 'it''s') or (d = ?)) and n > 1 and n <= ?"
        );
        assert_eq!(cql.pvalues, [json!(null), json!(2.5)]);
        assert_eq!(
            Cql::default().condition(&json!({"s": {"$regex": "a", "$options": "i"}})),
            None
        );
    }
}
