//! The recordings file: one JSON object per line (format in `mock-server/RECORDINGS.md`),
//! read leniently. Lines are exchanges or seeds; a bad line is reported with its number
//! and skipped, unknown fields are ignored, and nothing here panics.

use leancloud::Request;
use serde_json::{Map, Value};

/// Whose key signed a recorded request: the writer's own type, read back (`None`: no
/// key was sent, so replay sends `X-LC-Id` alone).
pub use leancloud::recording::Auth;

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
    /// `null` when the request had no body; its text when `req_raw`.
    pub req_body: Value,
    /// The request body was not JSON: `req_body` is its text, sent as it is.
    pub req_raw: bool,
    /// The request's `Content-Type`, given with `req_raw`.
    pub req_content_type: Option<String>,
    pub status: u16,
    /// The answer's JSON body; its text when `resp_raw`.
    pub resp_body: Value,
    /// The answer was not JSON: `resp_body` is its text.
    pub resp_raw: bool,
    /// The upstream gave no answer (`timeout after 30 s`, ...): `status` and `resp_body`
    /// are the recorder's stand-in. Such exchanges are neither sent nor scored.
    pub upstream_error: Option<String>,
}

/// What a seed line says: the writer's own type, read back.
pub use leancloud::recording::SeedKind;

/// One seed line as read: the writer's own [`leancloud::recording::Seed`], and where it
/// was.
#[derive(Debug, Clone, PartialEq)]
pub struct Seed {
    /// 1-based line number in the file it came from.
    pub line: usize,
    pub seed: leancloud::recording::Seed,
}

/// A line that could not be read as an exchange or a seed.
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

/// A whole recordings file as read: exchanges and seeds in file order, and the lines
/// that could not be read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Recordings {
    pub records: Vec<Record>,
    pub seeds: Vec<Seed>,
    pub errors: Vec<ParseError>,
}

impl Recordings {
    /// Keep only the exchanges and seeds of these suites.
    pub fn retain_suites(&mut self, suites: &[String]) {
        self.records.retain(|r| suites.contains(&r.suite));
        self.seeds.retain(|s| suites.contains(&s.seed.suite));
    }

    /// The test cases, with their seeds (see [`group_cases`]).
    pub fn cases(&self) -> Vec<Case<'_>> {
        group_cases(&self.records, &self.seeds)
    }
}

/// One line, read.
enum Line {
    Exchange(Record),
    Seed(Seed),
}

/// Read every line of a recordings file. Blank lines are ignored.
pub fn parse_recordings(text: &str) -> Recordings {
    let mut out = Recordings::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line, i + 1) {
            Ok(Line::Exchange(r)) => out.records.push(r),
            Ok(Line::Seed(s)) => out.seeds.push(s),
            Err(message) => out.errors.push(ParseError {
                line: i + 1,
                message,
            }),
        }
    }
    out
}

fn text(obj: &Map<String, Value>, key: &str) -> Result<String, String> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("`{key}` is not a string")),
        None => Err(format!("`{key}` is missing")),
    }
}

fn optional_text(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("`{key}` is neither a string nor null")),
    }
}

fn flag(obj: &Map<String, Value>, key: &str) -> Result<bool, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("`{key}` is not a boolean")),
    }
}

fn parse_line(line: &str, number: usize) -> Result<Line, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err("not a JSON object".into());
    };
    if obj.contains_key("seed") {
        return parse_seed(&obj, number).map(Line::Seed);
    }
    parse_exchange(&obj, number).map(Line::Exchange)
}

fn parse_seed(obj: &Map<String, Value>, number: usize) -> Result<Seed, String> {
    leancloud::recording::Seed::from_json(obj).map(|seed| Seed { line: number, seed })
}

fn parse_exchange(obj: &Map<String, Value>, number: usize) -> Result<Record, String> {
    let status = obj
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..600).contains(s))
        .ok_or("`status` is missing or not an HTTP status")?;
    let auth = match obj.get("auth").and_then(Value::as_str) {
        None | Some("app") => Auth::App,
        Some("master") => Auth::Master,
        Some("none") => Auth::None,
        Some(other) => {
            return Err(format!(
                "`auth` is {other:?}, expected \"app\", \"master\" or \"none\""
            ));
        }
    };
    let path = text(obj, "path")?;
    if !path.starts_with('/') {
        return Err(format!("`path` {path:?} does not start with '/'"));
    }
    let req_body = obj.get("req_body").cloned().unwrap_or(Value::Null);
    let req_raw = flag(obj, "req_raw")?;
    if req_raw && !matches!(req_body, Value::String(_) | Value::Null) {
        return Err("`req_raw` is true but `req_body` is not a string".into());
    }
    let resp_body = obj.get("resp_body").cloned().unwrap_or(Value::Null);
    let resp_raw = flag(obj, "resp_raw")?;
    if resp_raw && !matches!(resp_body, Value::String(_) | Value::Null) {
        return Err("`resp_raw` is true but `resp_body` is not a string".into());
    }
    let upstream_error = match obj.get("upstream_error") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    Ok(Record {
        line: number,
        suite: text(obj, "suite")?,
        test: text(obj, "test")?,
        method: text(obj, "method")?.to_ascii_uppercase(),
        path,
        query: query_pairs(obj.get("query"))?,
        auth,
        hook_key: flag(obj, "hook_key")?,
        session: optional_text(obj, "session")?.filter(|s| !s.is_empty()),
        prod: optional_text(obj, "prod")?,
        req_body,
        req_raw,
        req_content_type: optional_text(obj, "req_content_type")?,
        status,
        resp_body,
        resp_raw,
        upstream_error,
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

/// One recorded test case: its exchanges in file order, and its seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Case<'a> {
    pub suite: &'a str,
    pub test: &'a str,
    pub exchanges: Vec<&'a Record>,
    /// What the recorded app had before the case, loaded before its first exchange.
    pub seeds: Vec<&'a Seed>,
}

/// Group exchanges by (`suite`, `test`), cases in order of first appearance, exchanges in
/// file order (the `order` field only numbers repeats of one request, so it is ignored).
/// Each seed joins the case it names; seeds of a case without exchanges are left out.
pub fn group_cases<'a>(records: &'a [Record], seeds: &'a [Seed]) -> Vec<Case<'a>> {
    let mut cases: Vec<Case<'a>> = Vec::new();
    let mut index: std::collections::HashMap<(&str, &str), usize> = Default::default();
    for r in records {
        let key = (r.suite.as_str(), r.test.as_str());
        let i = *index.entry(key).or_insert_with(|| {
            cases.push(Case {
                suite: key.0,
                test: key.1,
                exchanges: Vec::new(),
                seeds: Vec::new(),
            });
            cases.len() - 1
        });
        cases[i].exchanges.push(r);
    }
    for s in seeds {
        if let Some(&i) = index.get(&(s.seed.suite.as_str(), s.seed.test.as_str())) {
            cases[i].seeds.push(s);
        }
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
/// the recorded privilege (`auth: none`: the app id alone). A raw body (`req_raw`) is
/// sent as its text, with the recorded `Content-Type` when there was one.
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
        Auth::None => req,
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
    match body {
        Value::Null => {}
        Value::String(text) if record.req_raw => {
            req.body = text.as_bytes().to_vec();
            if let Some(ct) = &record.req_content_type {
                req = req.with_header("content-type", ct.clone());
            }
        }
        body => req = req.with_json(body),
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_lines_are_read_and_malformed_ones_reported() {
        let text = [
            r#"{"suite":"S","test":"t","seed":{"class":"Post","object":{"objectId":"0123456789abcdef01234567"}}}"#,
            r#"{"suite":"S","test":"t","seed":{"class":"Post","absent":"0123456789abcdef01234568"},"extra":1}"#,
            r#"{"suite":"S","test":"t","seed":{"class":"Post"}}"#,
            r#"{"suite":"S","test":"t","seed":{"class":"Post","object":[1]}}"#,
            r#"{"seed":{"class":"Post","absent":"x"}}"#,
            r#"{"suite":"S","test":"t","seed":7}"#,
            r#"{"suite":"S","test":"t","seed":{"class":"_Role","complete":true}}"#,
            r#"{"suite":"S","test":"t","seed":{"class":"_Role","complete":false}}"#,
            r#"{"suite":"S","test":"t","seed":{"class":"Post","absent":"a","complete":true}}"#,
        ]
        .join("\n");
        let r = parse_recordings(&text);
        assert_eq!(r.seeds.len(), 3);
        assert_eq!(r.seeds[2].seed.kind, SeedKind::Complete);
        assert_eq!(
            r.seeds[0].seed.object_id(),
            Some("0123456789abcdef01234567")
        );
        assert_eq!(
            r.seeds[1].seed.kind,
            SeedKind::Absent("0123456789abcdef01234568".into())
        );
        let lines: Vec<usize> = r.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 8, 9]);
    }

    #[test]
    fn extended_exchange_fields_are_read() {
        let line = r#"{"suite":"S","test":"t","method":"post","path":"/1.1/x","auth":"none","req_raw":true,"req_body":"a=b","req_content_type":"text/plain","status":504,"resp_raw":true,"resp_body":"<html>","upstream_error":"timeout after 30 s","elapsed_ms":30000,"whatever":[1]}"#;
        let r = parse_recordings(line);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let rec = &r.records[0];
        assert_eq!(rec.auth, Auth::None);
        assert!(rec.req_raw && rec.resp_raw);
        assert_eq!(rec.req_content_type.as_deref(), Some("text/plain"));
        assert_eq!(rec.upstream_error.as_deref(), Some("timeout after 30 s"));
        let keys = Keys {
            app_id: "id".into(),
            app_key: "key".into(),
            master_key: "m".into(),
            hook_key: "h".into(),
        };
        let req = to_request(rec, rec.path.clone(), vec![], None, &rec.req_body, &keys);
        assert_eq!(req.body, b"a=b");
        assert_eq!(req.header("content-type"), Some("text/plain"));
        assert_eq!(req.header("x-lc-key"), None);
        assert_eq!(req.header("x-lc-id"), Some("id"));

        let bad = r#"{"suite":"S","test":"t","method":"GET","path":"/1.1/x","status":200,"req_raw":true,"req_body":{"a":1}}"#;
        assert_eq!(parse_recordings(bad).errors.len(), 1);
    }
}
