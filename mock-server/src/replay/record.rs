//! The recordings file: one JSON object per line (format in the conformance README), read
//! leniently. A bad line is reported with its number and skipped; nothing here panics.

use leancloud::Request;
use serde_json::Value;

/// Whose key signed a recorded request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    App,
    Master,
}

/// One recorded exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1-based line number in the file it came from.
    pub line: usize,
    pub suite: String,
    pub test: String,
    pub method: String,
    pub path: String,
    /// Query parameters as sent (values are strings; `where` is JSON text).
    pub query: Vec<(String, String)>,
    pub auth: Auth,
    pub hook_key: bool,
    pub session: Option<String>,
    pub prod: Option<String>,
    /// `null` when the request had no body.
    pub req_body: Value,
    pub status: u16,
    pub resp_body: Value,
}

/// A line that could not be read as a recorded exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {} (skipped)", self.line, self.message)
    }
}

/// Read every line of a recordings file. Blank lines are ignored.
pub fn parse_recordings(text: &str) -> (Vec<Record>, Vec<ParseError>) {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line, i + 1) {
            Ok(r) => records.push(r),
            Err(message) => errors.push(ParseError {
                line: i + 1,
                message,
            }),
        }
    }
    (records, errors)
}

fn parse_line(line: &str, number: usize) -> Result<Record, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err("not a JSON object".into());
    };
    let text = |key: &str| -> Result<String, String> {
        match obj.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!("`{key}` is not a string")),
            None => Err(format!("`{key}` is missing")),
        }
    };
    let optional_text = |key: &str| -> Result<Option<String>, String> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(format!("`{key}` is neither a string nor null")),
        }
    };
    let status = obj
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..600).contains(s))
        .ok_or("`status` is missing or not an HTTP status")?;
    let auth = match obj.get("auth").and_then(Value::as_str) {
        None | Some("app") => Auth::App,
        Some("master") => Auth::Master,
        Some(other) => {
            return Err(format!(
                "`auth` is {other:?}, expected \"app\" or \"master\""
            ));
        }
    };
    let hook_key = match obj.get("hook_key") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("`hook_key` is not a boolean".into()),
    };
    let path = text("path")?;
    if !path.starts_with('/') {
        return Err(format!("`path` {path:?} does not start with '/'"));
    }
    Ok(Record {
        line: number,
        suite: text("suite")?,
        test: text("test")?,
        method: text("method")?.to_ascii_uppercase(),
        path,
        query: query_pairs(obj.get("query"))?,
        auth,
        hook_key,
        session: optional_text("session")?.filter(|s| !s.is_empty()),
        prod: optional_text("prod")?,
        req_body: obj.get("req_body").cloned().unwrap_or(Value::Null),
        status,
        resp_body: obj.get("resp_body").cloned().unwrap_or(Value::Null),
    })
}

fn query_pairs(query: Option<&Value>) -> Result<Vec<(String, String)>, String> {
    match query {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => Ok(map
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect()),
        Some(_) => Err("`query` is not an object".into()),
    }
}

/// One recorded test case: its exchanges in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Case<'a> {
    pub suite: &'a str,
    pub test: &'a str,
    pub exchanges: Vec<&'a Record>,
}

/// Group exchanges by (`suite`, `test`), cases in order of first appearance, exchanges in
/// file order (the `order` field only numbers repeats of one request, so it is ignored).
pub fn group_cases(records: &[Record]) -> Vec<Case<'_>> {
    let mut cases: Vec<Case<'_>> = Vec::new();
    let mut index: std::collections::HashMap<(&str, &str), usize> = Default::default();
    for r in records {
        let key = (r.suite.as_str(), r.test.as_str());
        let i = *index.entry(key).or_insert_with(|| {
            cases.push(Case {
                suite: key.0,
                test: key.1,
                exchanges: Vec::new(),
            });
            cases.len() - 1
        });
        cases[i].exchanges.push(r);
    }
    cases
}

/// The keys a replay signs with.
#[derive(Debug, Clone)]
pub struct Keys {
    pub app_id: String,
    pub app_key: String,
    pub master_key: String,
    pub hook_key: String,
}

/// The HTTP request for a (mapped) recorded exchange, signed with the emulator's keys at
/// the recorded privilege.
pub fn to_request(
    record: &Record,
    path: String,
    query: Vec<(String, String)>,
    session: Option<String>,
    body: &Value,
    keys: &Keys,
) -> Request {
    let mut req = Request::new(&record.method, &path);
    req.query = query;
    req = req.with_header("x-lc-id", keys.app_id.clone());
    req = match record.auth {
        Auth::App => req.with_header("x-lc-key", keys.app_key.clone()),
        Auth::Master => req.with_header("x-lc-key", format!("{},master", keys.master_key)),
    };
    if record.hook_key {
        req = req.with_header("x-lc-hook-key", keys.hook_key.clone());
    }
    if let Some(token) = session {
        req = req.with_header("x-lc-session", token);
    }
    if let Some(prod) = &record.prod {
        req = req.with_header("x-lc-prod", prod.clone());
    }
    if !body.is_null() {
        req = req.with_json(body);
    }
    req
}
