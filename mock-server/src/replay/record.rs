//! The recordings file: one JSON object per line (format in `mock-server/RECORDINGS.md`),
//! read leniently. Lines are exchanges or seeds, read as the types that write them
//! (`leancloud::recording::Exchange` and `Seed`) with their line numbers; a bad line is
//! reported with its number and skipped, unknown fields are ignored, and nothing here
//! panics.

use leancloud::Request;
use leancloud::recording::Body;
use serde_json::{Map, Value};

/// Whose key signed a recorded request: the writer's own type, read back (`None`: no
/// key was sent, so replay sends `X-LC-Id` alone).
pub use leancloud::recording::Auth;

/// One recorded exchange as read: the writer's own [`leancloud::recording::Exchange`]
/// (its request in `exchange.request`, the answer in `exchange.status` and
/// `exchange.response`), and where it was.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1-based line number in the file it came from.
    pub line: usize,
    pub exchange: leancloud::recording::Exchange,
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
        self.records.retain(|r| suites.contains(&r.exchange.suite));
        self.seeds.retain(|s| suites.contains(&s.seed.suite));
    }

    /// The test cases, with their seeds (see [`group_cases`]).
    pub fn cases(&self) -> Vec<Case<'_>> {
        group_cases(&self.records, &self.seeds)
    }
}

/// One line, read.
enum Line {
    /// Boxed: an exchange is several times the size of a seed.
    Exchange(Box<Record>),
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
            Ok(Line::Exchange(r)) => out.records.push(*r),
            Ok(Line::Seed(s)) => out.seeds.push(s),
            Err(message) => out.errors.push(ParseError {
                line: i + 1,
                message,
            }),
        }
    }
    out
}

fn parse_line(line: &str, number: usize) -> Result<Line, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err("not a JSON object".into());
    };
    if obj.contains_key("seed") {
        return parse_seed(&obj, number).map(Line::Seed);
    }
    parse_exchange(&obj, number).map(|r| Line::Exchange(Box::new(r)))
}

fn parse_seed(obj: &Map<String, Value>, number: usize) -> Result<Seed, String> {
    leancloud::recording::Seed::from_json(obj).map(|seed| Seed { line: number, seed })
}

fn parse_exchange(obj: &Map<String, Value>, number: usize) -> Result<Record, String> {
    leancloud::recording::Exchange::from_json(obj).map(|exchange| Record {
        line: number,
        exchange,
    })
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
        let key = (r.exchange.suite.as_str(), r.exchange.test.as_str());
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
/// sent as its text, with the recorded `Content-Type` when there was one. A query's
/// `appId` (the realtime router's parameter) names the recorded app: it becomes the
/// emulator's app id, as `X-LC-Id` does.
pub fn to_request(
    record: &Record,
    path: String,
    query: Vec<(String, String)>,
    session: Option<String>,
    body: &Value,
    keys: &Keys,
) -> Request {
    let recorded = &record.exchange.request;
    let mut req = Request::new(&recorded.method, &path);
    req.query = query
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "appId" => (k, keys.app_id.clone()),
            _ => (k, v),
        })
        .collect();
    req = req.with_header("x-lc-id", keys.app_id.clone());
    req = match recorded.auth {
        Auth::App => req.with_header("x-lc-key", keys.app_key.clone()),
        Auth::Master => req.with_header("x-lc-key", format!("{},master", keys.master_key)),
        Auth::None => req,
    };
    if recorded.hook_key {
        req = req.with_header("x-lc-hook-key", keys.hook_key.clone());
    }
    if let Some(token) = session {
        req = req.with_header("x-lc-session", token);
    }
    if let Some(prod) = &recorded.prod {
        req = req.with_header("x-lc-prod", prod.clone());
    }
    match (body, &recorded.body) {
        (Value::Null, _) => {}
        (Value::String(text), Body::Raw { content_type, .. }) => {
            req.body = text.as_bytes().to_vec();
            if let Some(ct) = content_type {
                req = req.with_header("content-type", ct.clone());
            }
        }
        (body, _) => req = req.with_json(body),
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
        let ex = &rec.exchange;
        assert_eq!(ex.request.auth, Auth::None);
        assert_eq!(
            ex.request.body,
            Body::Raw {
                text: "a=b".into(),
                content_type: Some("text/plain".into())
            }
        );
        assert!(ex.response.is_raw());
        assert_eq!(ex.upstream_error.as_deref(), Some("timeout after 30 s"));
        let keys = Keys {
            app_id: "id".into(),
            app_key: "key".into(),
            master_key: "m".into(),
            hook_key: "h".into(),
        };
        let req = to_request(
            rec,
            ex.request.path.clone(),
            vec![],
            None,
            &ex.request.body.value(),
            &keys,
        );
        assert_eq!(req.body, b"a=b");
        assert_eq!(req.header("content-type"), Some("text/plain"));
        assert_eq!(req.header("x-lc-key"), None);
        assert_eq!(req.header("x-lc-id"), Some("id"));
        let routed = to_request(
            rec,
            "/v1/route".into(),
            vec![("appId".into(), "recorded-app".into())],
            None,
            &Value::Null,
            &keys,
        );
        assert_eq!(routed.query_param("appId"), Some("id"));

        let bad = r#"{"suite":"S","test":"t","method":"GET","path":"/1.1/x","status":200,"req_raw":true,"req_body":{"a":1}}"#;
        assert_eq!(parse_recordings(bad).errors.len(), 1);
    }
}
