//! Which exchanges need data the recorded app had before the test case ran.
//!
//! An exchange "needs pre-existing data" when its request mentions an objectId or token
//! no earlier exchange of the case produced, sends such a session token, or targets a
//! class no earlier exchange created (built-in classes excepted); or when its recorded
//! answer shows objectIds that neither an earlier exchange nor this one produced (a query
//! listing old rows). Those are replayed for their side effects but not scored.
//!
//! What the case was given before its first exchange counts as produced by it: the
//! classes its fresh app has (built-in ones, and those `--settings` describes), its
//! seeded and absent objectIds, the session tokens of its seeded users, and the classes
//! of its seeds.

use super::mapping::{self, Shape};
use super::record::Record;
use serde_json::Value;
use std::collections::HashSet;

/// What the exchanges of one case have produced so far (recorded values).
#[derive(Debug, Default, Clone)]
pub struct Known {
    /// Recorded objectIds and tokens produced by the case.
    values: HashSet<String>,
    /// Classes the case created.
    classes: HashSet<String>,
}

/// Path segments after the version prefix: `/1.1/classes/C/id` -> `["classes","C","id"]`.
pub(crate) fn segments(path: &str) -> Vec<&str> {
    let path = path.split('?').next().unwrap_or(path);
    let rest = path
        .strip_prefix("/1.1/")
        .or_else(|| path.strip_prefix("/1/"))
        .unwrap_or(path.trim_start_matches('/'));
    rest.split('/').filter(|s| !s.is_empty()).collect()
}

/// The class a request targets, and whether the request creates an object in it.
fn target_class(method: &str, path: &str, query: &[(String, String)]) -> Option<(String, bool)> {
    match segments(path).as_slice() {
        ["classes", class] => Some((class.to_string(), method == "POST")),
        ["classes", class, ..] | ["scan", "classes", class, ..] => Some((class.to_string(), false)),
        ["cloudQuery"] => {
            let cql = query.iter().find(|(k, _)| k == "cql")?.1.as_str();
            cql_class(cql)
        }
        _ => None,
    }
}

/// The class of a CQL statement: `insert into C` creates, `... from C` / `update C` read.
fn cql_class(cql: &str) -> Option<(String, bool)> {
    let words: Vec<&str> = cql.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let after = |kw: &str| {
        lower
            .iter()
            .position(|w| w == kw)
            .and_then(|i| words.get(i + 1))
            .map(|w| {
                w.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .split('(')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .filter(|c| !c.is_empty())
    };
    match lower.first().map(String::as_str) {
        Some("insert") => after("into").map(|c| (c, true)),
        Some("update") => after("update").map(|c| (c, false)),
        _ => after("from").map(|c| (c, false)),
    }
}

/// Whether an object created by `method path` gets its id in the answer's `objectId`.
pub(crate) fn creates_object(method: &str, path: &str) -> bool {
    method == "POST"
        && matches!(
            segments(path).as_slice(),
            ["classes", _]
                | ["users"]
                | ["roles"]
                | ["installations"]
                | ["files", ..]
                | ["fileTokens"]
                | ["usersByMobilePhone"]
        )
}

pub fn is_batch(path: &str) -> bool {
    matches!(segments(path).as_slice(), ["batch"] | ["batch", "save"])
}

/// The items of a batch body as (method, path).
fn batch_items(body: &Value) -> Vec<(String, String, &Value)> {
    body.get("requests")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    let text = |k: &str| {
                        item.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    (text("method").to_ascii_uppercase(), text("path"), item)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Recorded objectIds (and generated objects' classes) an exchange creates by itself:
/// the `objectId` of a create's answer, and of each successful create item of a batch.
fn created(record: &Record) -> (Vec<String>, Vec<String>) {
    let mut ids = Vec::new();
    let mut classes = Vec::new();
    let mut take =
        |method: &str, path: &str, query: &[(String, String)], answer: Option<&Value>| {
            let Some(answer) = answer else { return };
            if creates_object(method, path)
                && let Some(id) = answer.get("objectId").and_then(Value::as_str)
            {
                ids.push(id.to_string());
            }
            if let Some((class, true)) = target_class(method, path, query) {
                classes.push(class);
            }
        };
    if is_batch(&record.exchange.request.path) {
        let response = record.exchange.response.value();
        let answers = response.as_array();
        for (i, (method, path, _)) in batch_items(&record.exchange.request.body.value())
            .iter()
            .enumerate()
        {
            let answer = answers
                .and_then(|a| a.get(i))
                .and_then(|a| a.get("success"));
            take(method, path, &[], answer);
        }
    } else if is_success(record.exchange.status) {
        take(
            &record.exchange.request.method,
            &record.exchange.request.path,
            &record.exchange.request.query,
            Some(&record.exchange.response.value()),
        );
    }
    (ids, classes)
}

impl Known {
    /// Count a value (an objectId or token) as produced by the case.
    pub fn add_value(&mut self, value: impl Into<String>) {
        self.values.insert(value.into());
    }

    /// Count a class as one the case may use without creating it.
    pub fn add_class(&mut self, class: impl Into<String>) {
        self.classes.insert(class.into());
    }

    fn knows(&self, value: &str) -> bool {
        self.values.contains(value)
    }

    /// A class the case may use without creating it: one every app has, or one the case
    /// created or was given.
    fn knows_class(&self, class: &str) -> bool {
        lc_model::store::INITIAL_CLASSES.contains(&class) || self.classes.contains(class)
    }

    /// Why the request of `record` needs pre-existing data (empty: it does not).
    pub fn request_reasons(&self, record: &Record) -> Vec<String> {
        let mut reasons = Vec::new();
        let mut unknown = |what: &str, refs: Vec<(String, Shape)>| {
            for (value, shape) in refs {
                if !self.knows(&value) {
                    let kind = match shape {
                        Shape::ObjectId => "objectId",
                        _ => "token",
                    };
                    let reason = format!("{what} names unknown {kind} {value}");
                    if !reasons.contains(&reason) {
                        reasons.push(reason);
                    }
                }
            }
        };
        unknown(
            "path",
            mapping::text_references(&record.exchange.request.path),
        );
        for (k, v) in &record.exchange.request.query {
            unknown(&format!("query `{k}`"), mapping::text_references(v));
        }
        unknown(
            "body",
            mapping::references(&record.exchange.request.body.value()),
        );
        // The service ignores the session of a sign-up or log-in, and a master-key
        // request's privilege does not come from it: an old token left over from an
        // earlier case changes nothing there.
        let session_matters = record.exchange.request.auth != crate::replay::record::Auth::Master
            && !(record.exchange.request.method == "POST"
                && matches!(
                    record.exchange.request.path.as_str(),
                    "/1.1/users" | "/1.1/login"
                ));
        if let Some(token) = &record.exchange.request.session
            && session_matters
            && !self.knows(token)
        {
            reasons.push(format!("unknown session token {token}"));
        }
        let mut classes_here: HashSet<String> = HashSet::new();
        let mut check_class = |method: &str, path: &str, query: &[(String, String)], ok: bool| {
            if let Some((class, creates)) = target_class(method, path, query) {
                if creates {
                    if ok {
                        classes_here.insert(class);
                    }
                } else if !self.knows_class(&class) && !classes_here.contains(&class) {
                    let reason = format!("class {class} was not created by the case");
                    if !reasons.contains(&reason) {
                        reasons.push(reason);
                    }
                }
            }
        };
        if is_batch(&record.exchange.request.path) {
            let response = record.exchange.response.value();
            let answers = response.as_array();
            for (i, (method, path, _)) in batch_items(&record.exchange.request.body.value())
                .iter()
                .enumerate()
            {
                let ok = answers
                    .and_then(|a| a.get(i))
                    .is_some_and(|a| a.get("success").is_some());
                check_class(method, path, &[], ok);
            }
        } else {
            check_class(
                &record.exchange.request.method,
                &record.exchange.request.path,
                &record.exchange.request.query,
                true,
            );
        }
        reasons
    }

    /// Why the recorded answer of `record` shows pre-existing data: objectIds that
    /// neither an earlier exchange nor this one produced. `introduced` are the recorded
    /// ids the replay learned as new from this exchange's answer.
    pub fn answer_reasons(&self, record: &Record, introduced: &[String]) -> Vec<String> {
        let (created_ids, _) = created(record);
        let unknown: Vec<String> = mapping::references(&record.exchange.response.value())
            .into_iter()
            .filter(|(v, shape)| {
                *shape == Shape::ObjectId
                    && !self.knows(v)
                    && !created_ids.contains(v)
                    && !introduced.contains(v)
            })
            .map(|(v, _)| v)
            .collect();
        match unknown.as_slice() {
            [] => Vec::new(),
            [one] => vec![format!("recorded answer shows unknown objectId {one}")],
            [first, second, rest @ ..] => {
                let more = if rest.is_empty() {
                    String::new()
                } else {
                    format!(" and {} more", rest.len())
                };
                vec![format!(
                    "recorded answer shows unknown objectIds {first}, {second}{more}"
                )]
            }
        }
    }

    /// Record what an exchange produced: the ids it created or introduced, the tokens its
    /// answer shows, the classes it created.
    pub fn absorb(&mut self, record: &Record, introduced: &[String]) {
        let (ids, classes) = created(record);
        self.values.extend(ids);
        self.values.extend(introduced.iter().cloned());
        self.classes.extend(classes);
        for (value, shape) in mapping::references(&record.exchange.response.value()) {
            if shape == Shape::Token {
                self.values.insert(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cql_statements_name_their_class() {
        assert_eq!(
            cql_class("select *,count(objectId) from GameScore limit 10"),
            Some(("GameScore".into(), false))
        );
        assert_eq!(
            cql_class("insert into Post(title) values('x')"),
            Some(("Post".into(), true))
        );
    }

    #[test]
    fn paths_are_split_after_the_version() {
        assert_eq!(
            segments("/1.1/classes/Post/abc"),
            vec!["classes", "Post", "abc"]
        );
        assert!(creates_object("POST", "/1.1/classes/Post"));
        assert!(!creates_object("POST", "/1.1/login"));
        assert!(is_batch("/1.1/batch"));
    }
}
