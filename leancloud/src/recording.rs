//! Writing the recordings format (`mock-server/RECORDINGS.md`): one JSON object per line,
//! an exchange or a seed, never a key.
//!
//! - [`Described`]: what a request says about itself once its keys are taken out: the
//!   request line, the privilege (`app`, `master`, `none`), the hook key's presence, the
//!   session, the body, and the secrets it carried (so they can be kept out of the file).
//! - [`Exchange`] and [`Seed`]: the two kinds of line.
//! - [`Writer`]: appends lines to a file, one write and flush per line, so a recording
//!   stopped at any moment holds every line written before it; replaces every secret it
//!   was told about with `[redacted]`; counts cases, exchanges, seeds and bytes.
//!
//! `lc-mock record` (a recording proxy) and `cloud-engine --record` use it.

use crate::Request;
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// What replaces a secret found in a line.
pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not searched for in lines: replacing a two-letter key
/// everywhere would mangle the recording without hiding anything.
pub const MIN_SECRET_LEN: usize = 6;

/// The privilege a request's keys gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// The app key, or a signature made with it.
    App,
    /// The master key, or a signature made with it.
    Master,
    /// No key and no signature.
    None,
}

impl Auth {
    pub fn as_str(self) -> &'static str {
        match self {
            Auth::App => "app",
            Auth::Master => "master",
            Auth::None => "none",
        }
    }
}

/// A body as recorded: JSON, text that is not JSON, or nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Empty,
    Json(Value),
    /// Not JSON: its text (invalid UTF-8 replaced) and the `Content-Type` it came with.
    Raw {
        text: String,
        content_type: Option<String>,
    },
}

impl Body {
    /// Read a (decoded) body: JSON when it parses, else its text.
    pub fn from_bytes(bytes: &[u8], content_type: Option<&str>) -> Body {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Body::Empty;
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => Body::Json(value),
            Err(_) => Body::Raw {
                text: String::from_utf8_lossy(bytes).into_owned(),
                content_type: content_type.map(str::to_string),
            },
        }
    }

    /// The JSON value, if the body is JSON.
    pub fn json(&self) -> Option<&Value> {
        match self {
            Body::Json(v) => Some(v),
            _ => None,
        }
    }

    /// The body as a recordings line holds it: JSON as it is, text as a string, nothing
    /// as `null`.
    pub fn value(&self) -> Value {
        match self {
            Body::Empty => Value::Null,
            Body::Json(v) => v.clone(),
            Body::Raw { text, .. } => Value::String(text.clone()),
        }
    }

    /// Not JSON: written with `req_raw` / `resp_raw`.
    pub fn is_raw(&self) -> bool {
        matches!(self, Body::Raw { .. })
    }
}

/// A request as a recording shows it: keys out, privilege in.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    /// The method the service acts on (a browser's `_method` when it sent one).
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub auth: Auth,
    pub hook_key: bool,
    pub session: Option<String>,
    pub prod: Option<String>,
    pub body: Body,
    /// The app id, keys and hook key the request carried (never written).
    pub secrets: Vec<String>,
}

fn header<'a>(req: &'a Request, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| req.header(n))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

impl Described {
    /// Describe a request whose body is already decoded (no content encoding).
    ///
    /// Reads `X-LC-Id`, `X-LC-Key` (`<key>,master` is the master key), `X-LC-Sign`
    /// (`<sign>,<timestamp>,master` is a master signature), `X-LC-Session`,
    /// `X-LC-Hook-Key`, `X-LC-Prod` and their `X-AVOSCloud-*` / `X-Uluru-*` aliases. A
    /// browser's `POST` with a `text/plain` JSON body carrying `_method`,
    /// `_ApplicationId`, `_ApplicationKey`, `_MasterKey`, `_SessionToken` is read as the
    /// request it stands for, those keys taken out of the body.
    pub fn of(req: &Request) -> Described {
        let mut secrets = Vec::new();
        let mut keep = |value: &str| {
            let value = value.trim();
            if !value.is_empty() && !secrets.iter().any(|s| s == value) {
                secrets.push(value.to_string());
            }
        };
        if let Some(id) = header(
            req,
            &[
                "x-lc-id",
                "x-avoscloud-application-id",
                "x-uluru-application-id",
            ],
        ) {
            keep(id);
        }
        let mut auth = Auth::None;
        if let Some(key) = header(
            req,
            &[
                "x-lc-key",
                "x-avoscloud-application-key",
                "x-uluru-application-key",
            ],
        ) {
            match key.strip_suffix(",master") {
                Some(master) => {
                    keep(master);
                    auth = Auth::Master;
                }
                None => {
                    keep(key);
                    auth = Auth::App;
                }
            }
        }
        if let Some(master) = header(req, &["x-avoscloud-master-key", "x-uluru-master-key"]) {
            keep(master);
            auth = Auth::Master;
        }
        if auth == Auth::None
            && let Some(sign) = header(req, &["x-lc-sign", "x-avoscloud-request-sign"])
        {
            auth = if sign.to_ascii_lowercase().ends_with(",master") {
                Auth::Master
            } else {
                Auth::App
            };
        }
        let hook_key = match header(req, &["x-lc-hook-key"]) {
            Some(hook) => {
                keep(hook);
                true
            }
            None => false,
        };
        let content_type = req.header("content-type");
        let mut described = Described {
            method: req.method.to_ascii_uppercase(),
            path: req.path.clone(),
            query: req.query.clone(),
            auth,
            hook_key,
            session: header(
                req,
                &[
                    "x-lc-session",
                    "x-avoscloud-session-token",
                    "x-uluru-session-token",
                ],
            )
            .map(str::to_string),
            prod: header(req, &["x-lc-prod", "x-avoscloud-application-production"])
                .map(str::to_string),
            body: Body::from_bytes(&req.body, content_type),
            secrets: Vec::new(),
        };
        let browser =
            content_type.is_some_and(|ct| ct.to_ascii_lowercase().starts_with("text/plain"));
        if described.method == "POST"
            && browser
            && let Body::Json(Value::Object(body)) = &described.body
        {
            let body = body.clone();
            described.read_browser_form(body, &mut keep);
        }
        described.secrets = secrets;
        described
    }

    fn read_browser_form(&mut self, body: Map<String, Value>, keep: &mut dyn FnMut(&str)) {
        let text = |v: &Value| v.as_str().map(str::to_string);
        let mut rest = Map::new();
        for (key, value) in body {
            if key.starts_with("__") || !key.starts_with('_') {
                rest.insert(key, value);
                continue;
            }
            match key.as_str() {
                "_method" => {
                    if let Some(m) = text(&value) {
                        self.method = m.to_ascii_uppercase();
                    }
                }
                "_ApplicationId" => {
                    if let Some(id) = text(&value) {
                        keep(&id);
                    }
                }
                "_ApplicationKey" => {
                    if let Some(key) = text(&value) {
                        keep(&key);
                        if self.auth == Auth::None {
                            self.auth = Auth::App;
                        }
                    }
                }
                "_MasterKey" => {
                    if let Some(key) = text(&value) {
                        keep(&key);
                        self.auth = Auth::Master;
                    }
                }
                "_SessionToken" if self.session.is_none() => {
                    self.session = text(&value).filter(|s| !s.is_empty());
                }
                "_ApplicationProduction" if self.prod.is_none() => {
                    self.prod = match value {
                        Value::String(s) => Some(s),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    };
                }
                // Other `_x` keys (`_ClientVersion`, `_InstallationId`, ...) are request
                // metadata, not data; the service drops them too.
                _ => {}
            }
        }
        self.body = if rest.is_empty() {
            Body::Empty
        } else {
            Body::Json(Value::Object(rest))
        };
    }
}

/// One recorded exchange: a request, and what the client got.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    pub suite: String,
    pub test: String,
    pub order: u64,
    pub request: Described,
    pub status: u16,
    pub response: Body,
    /// Set when the upstream never answered; `status` and `response` are then what the
    /// recorder answered in its place.
    pub upstream_error: Option<String>,
    pub elapsed_ms: Option<u64>,
}

impl Exchange {
    /// The line's JSON (before secrets are replaced).
    pub fn to_json(&self) -> Value {
        let r = &self.request;
        let query: Map<String, Value> = r
            .query
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let mut line = json!({
            "suite": self.suite,
            "test": self.test,
            "order": self.order,
            "method": r.method,
            "path": r.path,
            "query": query,
            "auth": r.auth.as_str(),
            "hook_key": r.hook_key,
            "session": r.session,
            "prod": r.prod,
            "req_body": r.body.value(),
            "status": self.status,
            "resp_body": self.response.value(),
        });
        let obj = line.as_object_mut().expect("a JSON object");
        if let Body::Raw { content_type, .. } = &r.body {
            obj.insert("req_raw".into(), Value::Bool(true));
            if let Some(ct) = content_type {
                obj.insert("req_content_type".into(), Value::String(ct.clone()));
            }
        }
        if self.response.is_raw() {
            obj.insert("resp_raw".into(), Value::Bool(true));
        }
        if let Some(error) = &self.upstream_error {
            obj.insert("upstream_error".into(), Value::String(error.clone()));
        }
        if let Some(ms) = self.elapsed_ms {
            obj.insert("elapsed_ms".into(), json!(ms));
        }
        line
    }
}

impl Exchange {
    /// Read back an exchange line that [`Exchange::to_json`] wrote, or say what is wrong
    /// with it. Leniently: unknown fields are ignored, `auth` defaults to `app`, a missing
    /// body is none; a status outside 100..600, a path without its leading `/`, or a raw
    /// body that is not text is refused. The method is read in capitals.
    pub fn from_json(line: &Map<String, Value>) -> Result<Exchange, String> {
        let status = line
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (100..600).contains(s))
            .ok_or("`status` is missing or not an HTTP status")?;
        let auth = match line.get("auth").and_then(Value::as_str) {
            None | Some("app") => Auth::App,
            Some("master") => Auth::Master,
            Some("none") => Auth::None,
            Some(other) => {
                return Err(format!(
                    "`auth` is {other:?}, expected \"app\", \"master\" or \"none\""
                ));
            }
        };
        let path = text(line, "path")?;
        if !path.starts_with('/') {
            return Err(format!("`path` {path:?} does not start with '/'"));
        }
        let mut request_body = read_body(line, "req_body", "req_raw")?;
        let response = read_body(line, "resp_body", "resp_raw")?;
        let upstream_error = match line.get("upstream_error") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        };
        let suite = text(line, "suite")?;
        let test = text(line, "test")?;
        let method = text(line, "method")?.to_ascii_uppercase();
        let query = query_pairs(line.get("query"))?;
        let hook_key = flag(line, "hook_key")?;
        let session = optional_text(line, "session")?.filter(|s| !s.is_empty());
        let prod = optional_text(line, "prod")?;
        let req_content_type = optional_text(line, "req_content_type")?;
        if let Body::Raw { content_type, .. } = &mut request_body {
            *content_type = req_content_type;
        }
        Ok(Exchange {
            suite,
            test,
            order: line.get("order").and_then(Value::as_u64).unwrap_or(0),
            request: Described {
                method,
                path,
                query,
                auth,
                hook_key,
                session,
                prod,
                body: request_body,
                secrets: Vec::new(),
            },
            status,
            response,
            upstream_error,
            elapsed_ms: line.get("elapsed_ms").and_then(Value::as_u64),
        })
    }
}

/// A line's body `key`, raw (text, its content type not yet known) when its flag `raw`
/// says so.
fn read_body(line: &Map<String, Value>, key: &str, raw: &str) -> Result<Body, String> {
    let value = line.get(key).cloned().unwrap_or(Value::Null);
    if flag(line, raw)? {
        match value {
            Value::String(text) => Ok(Body::Raw {
                text,
                content_type: None,
            }),
            Value::Null => Ok(Body::Raw {
                text: String::new(),
                content_type: None,
            }),
            _ => Err(format!("`{raw}` is true but `{key}` is not a string")),
        }
    } else if value.is_null() {
        Ok(Body::Empty)
    } else {
        Ok(Body::Json(value))
    }
}

/// A line's optional text member `key` (a number is read as its digits).
fn optional_text(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("`{key}` is neither a string nor null")),
    }
}

/// A line's flag `key` (missing: false).
fn flag(obj: &Map<String, Value>, key: &str) -> Result<bool, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("`{key}` is not a boolean")),
    }
}

/// A line's `query`: its members as (name, value) pairs, values as the text sent.
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

/// What a seed line says about one object the app had before its case began.
#[derive(Debug, Clone, PartialEq)]
pub enum SeedKind {
    /// The object as the upstream showed it to the master key, as a `population.json` row.
    Object(Value),
    /// The upstream had no object with this id.
    Absent(String),
    /// Every row the class had when the case first queried it is among the case's
    /// seeds (the recorder seeds whole classes of up to 1000 rows).
    Complete,
}

/// One seed line.
#[derive(Debug, Clone, PartialEq)]
pub struct Seed {
    pub suite: String,
    pub test: String,
    pub class: String,
    pub kind: SeedKind,
}

impl Seed {
    pub fn to_json(&self) -> Value {
        let seed = match &self.kind {
            SeedKind::Object(row) => json!({"class": self.class, "object": row}),
            SeedKind::Absent(id) => json!({"class": self.class, "absent": id}),
            SeedKind::Complete => json!({"class": self.class, "complete": true}),
        };
        json!({"suite": self.suite, "test": self.test, "seed": seed})
    }

    /// Read back a seed line that [`Seed::to_json`] wrote (the line's JSON object, which
    /// has a `seed` member), or say what is wrong with it. Leniently: unknown fields are
    /// ignored; a class without a name, or none or more than one of `object`, `absent`
    /// and `complete`, is refused.
    pub fn from_json(line: &Map<String, Value>) -> Result<Seed, String> {
        let Some(Value::Object(seed)) = line.get("seed") else {
            return Err("`seed` is not a JSON object".into());
        };
        let class = text(seed, "class").map_err(|e| format!("seed: {e}"))?;
        if class.is_empty() {
            return Err("seed: `class` is empty".into());
        }
        const KINDS: [&str; 3] = ["object", "absent", "complete"];
        let given: Vec<&str> = KINDS
            .into_iter()
            .filter(|k| seed.contains_key(*k))
            .collect();
        let kind = match given.as_slice() {
            ["object"] => match &seed["object"] {
                Value::Object(row) => SeedKind::Object(Value::Object(row.clone())),
                _ => return Err("seed: `object` is not a JSON object".into()),
            },
            ["absent"] => match &seed["absent"] {
                Value::String(id) if !id.is_empty() => SeedKind::Absent(id.clone()),
                _ => return Err("seed: `absent` is not an objectId string".into()),
            },
            ["complete"] => match &seed["complete"] {
                Value::Bool(true) => SeedKind::Complete,
                _ => return Err("seed: `complete` is not true".into()),
            },
            [] => return Err("seed: none of `object`, `absent` or `complete` is given".into()),
            _ => {
                return Err(format!(
                    "seed: only one of `object`, `absent` and `complete` may be given, not `{}`",
                    given.join("`, `")
                ));
            }
        };
        Ok(Seed {
            suite: text(line, "suite")?,
            test: text(line, "test")?,
            class,
            kind,
        })
    }

    /// The seeded (or absent) objectId, when the line gives one.
    pub fn object_id(&self) -> Option<&str> {
        match &self.kind {
            SeedKind::Object(row) => row.get("objectId").and_then(Value::as_str),
            SeedKind::Absent(id) => Some(id),
            SeedKind::Complete => None,
        }
    }
}

/// A line's string member `key`, or what is wrong with it.
fn text(obj: &Map<String, Value>, key: &str) -> Result<String, String> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("`{key}` is not a string")),
        None => Err(format!("`{key}` is missing")),
    }
}

/// What a [`Writer`] has written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub cases: usize,
    pub exchanges: usize,
    pub seeds: usize,
    pub bytes: u64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} case{}, {} exchange{}, {} seed{}, {} bytes",
            self.cases,
            if self.cases == 1 { "" } else { "s" },
            self.exchanges,
            if self.exchanges == 1 { "" } else { "s" },
            self.seeds,
            if self.seeds == 1 { "" } else { "s" },
            self.bytes
        )
    }
}

#[derive(Debug)]
struct Inner {
    file: std::fs::File,
    summary: Summary,
    cases: HashSet<(String, String)>,
    secrets: Vec<String>,
}

/// Appends recordings lines to a file. Safe to share between tasks and threads.
#[derive(Debug)]
pub struct Writer {
    inner: Mutex<Inner>,
}

impl Writer {
    /// Open `path` for appending (created when missing).
    pub fn append(path: impl AsRef<Path>) -> std::io::Result<Writer> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Writer {
            inner: Mutex::new(Inner {
                file,
                summary: Summary::default(),
                cases: HashSet::new(),
                secrets: Vec::new(),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves whole lines behind it: go on.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keep `secret` out of every later line.
    pub fn add_secret(&self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        let mut inner = self.lock();
        if !inner.secrets.iter().any(|s| s == secret) {
            inner.secrets.push(secret.to_string());
            // Longest first, so a key that contains another is replaced whole.
            inner.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Append an exchange (its request's secrets are added first). Returns the bytes
    /// written.
    pub fn write_exchange(&self, exchange: &Exchange) -> std::io::Result<usize> {
        for secret in &exchange.request.secrets {
            self.add_secret(secret);
        }
        let case = (exchange.suite.clone(), exchange.test.clone());
        self.write_line(&exchange.to_json(), Some(case), true)
    }

    /// Append a seed. Returns the bytes written.
    pub fn write_seed(&self, seed: &Seed) -> std::io::Result<usize> {
        self.write_line(&seed.to_json(), None, false)
    }

    fn write_line(
        &self,
        line: &Value,
        case: Option<(String, String)>,
        exchange: bool,
    ) -> std::io::Result<usize> {
        let mut inner = self.lock();
        let mut text = line.to_string();
        for secret in &inner.secrets {
            text = redact(&text, secret);
        }
        text.push('\n');
        inner.file.write_all(text.as_bytes())?;
        inner.file.flush()?;
        inner.summary.bytes += text.len() as u64;
        if exchange {
            inner.summary.exchanges += 1;
        } else {
            inner.summary.seeds += 1;
        }
        if let Some(case) = case
            && inner.cases.insert(case)
        {
            inner.summary.cases += 1;
        }
        Ok(text.len())
    }

    /// What has been written so far.
    pub fn summary(&self) -> Summary {
        self.lock().summary
    }
}

/// `text` (a JSON line) with `secret` replaced, as written and as JSON escapes it.
fn redact(text: &str, secret: &str) -> String {
    let mut out = text.replace(secret, REDACTED);
    let escaped = Value::String(secret.to_string()).to_string();
    let escaped = &escaped[1..escaped.len() - 1];
    if escaped != secret {
        out = out.replace(escaped, REDACTED);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)], body: &str) -> Request {
        let mut req = Request::from_target("POST", "/1.1/classes/Post?where=%7B%7D");
        for (k, v) in headers {
            req = req.with_header(k, *v);
        }
        req.body = body.as_bytes().to_vec();
        req
    }

    #[test]
    fn privilege_comes_from_the_key_or_the_signature() {
        let app = Described::of(&request(
            &[("x-lc-id", "appid-1"), ("x-lc-key", "appkey-1")],
            "",
        ));
        assert_eq!(app.auth, Auth::App);
        assert_eq!(app.secrets, vec!["appid-1", "appkey-1"]);
        let master = Described::of(&request(&[("x-lc-key", "masterkey-1,master")], ""));
        assert_eq!(
            (master.auth, master.secrets),
            (Auth::Master, vec!["masterkey-1".to_string()])
        );
        let signed = Described::of(&request(&[("x-lc-sign", "abc,1700000000000,master")], ""));
        assert_eq!(signed.auth, Auth::Master);
        let signed = Described::of(&request(&[("x-lc-sign", "abc,1700000000000")], ""));
        assert_eq!(signed.auth, Auth::App);
        let legacy = Described::of(&request(&[("x-avoscloud-master-key", "legacy-master")], ""));
        assert_eq!(legacy.auth, Auth::Master);
        let none = Described::of(&request(&[("x-lc-id", "appid-1")], ""));
        assert_eq!(none.auth, Auth::None);
        let hook = Described::of(&request(&[("x-lc-hook-key", "hook-secret")], ""));
        assert!(hook.hook_key);
        assert_eq!(hook.secrets, vec!["hook-secret"]);
    }

    #[test]
    fn a_browser_form_is_read_as_the_request_it_stands_for() {
        let req = request(
            &[("content-type", "text/plain")],
            r#"{"_method":"GET","_ApplicationId":"appid-1","_ApplicationKey":"appkey-1","_SessionToken":"tok","_ClientVersion":"js4","__ignore_hooks":["beforeSave"],"title":"x"}"#,
        );
        let d = Described::of(&req);
        assert_eq!(d.method, "GET");
        assert_eq!(d.auth, Auth::App);
        assert_eq!(d.session.as_deref(), Some("tok"));
        assert_eq!(
            d.body,
            Body::Json(json!({"__ignore_hooks": ["beforeSave"], "title": "x"}))
        );
        assert_eq!(d.secrets, vec!["appid-1", "appkey-1"]);
    }

    #[test]
    fn bodies_that_are_not_json_are_kept_as_text() {
        assert_eq!(Body::from_bytes(b"  ", None), Body::Empty);
        assert_eq!(Body::from_bytes(b"[1]", None), Body::Json(json!([1])));
        assert_eq!(
            Body::from_bytes(b"<html>502</html>", Some("text/html")),
            Body::Raw {
                text: "<html>502</html>".into(),
                content_type: Some("text/html".into())
            }
        );
    }

    #[test]
    fn the_writer_appends_whole_lines_and_keeps_secrets_out() {
        let dir = std::env::temp_dir().join(format!("lc-recording-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("writer.jsonl");
        let _ = std::fs::remove_file(&path);
        let writer = Writer::append(&path).unwrap();
        writer.add_secret("given-master-key");
        let mut request = Described::of(&request(
            &[("x-lc-id", "appid-123"), ("x-lc-key", "appkey-123")],
            r#"{"note":"appkey-123 and given-master-key and \"q\\\"uote\"","x":1}"#,
        ));
        request.secrets.push("q\\\"uote".into());
        let exchange = Exchange {
            suite: "s".into(),
            test: "t".into(),
            order: 0,
            request,
            status: 201,
            response: Body::Json(json!({"objectId": "o", "echo": "appid-123"})),
            upstream_error: None,
            elapsed_ms: Some(3),
        };
        writer.write_exchange(&exchange).unwrap();
        writer
            .write_seed(&Seed {
                suite: "s".into(),
                test: "t".into(),
                class: "Post".into(),
                kind: SeedKind::Absent("0123456789abcdef01234567".into()),
            })
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for secret in ["appid-123", "appkey-123", "given-master-key", "uote"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["auth"], "app");
        assert_eq!(lines[0]["query"], json!({"where": "{}"}));
        assert_eq!(lines[0]["resp_body"]["echo"], REDACTED);
        assert_eq!(lines[1]["seed"]["absent"], "0123456789abcdef01234567");
        let summary = writer.summary();
        assert_eq!((summary.cases, summary.exchanges, summary.seeds), (1, 1, 1));
        assert_eq!(summary.bytes, text.len() as u64);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_seed_line_reads_back_as_the_seed_that_wrote_it() {
        for kind in [
            SeedKind::Object(json!({"objectId": "0123456789abcdef01234567", "n": 1})),
            SeedKind::Absent("0123456789abcdef01234568".into()),
            SeedKind::Complete,
        ] {
            let seed = Seed {
                suite: "S".into(),
                test: "t".into(),
                class: "Post".into(),
                kind,
            };
            let line = seed.to_json();
            let read = Seed::from_json(line.as_object().expect("an object"));
            assert_eq!(read, Ok(seed), "{line}");
        }
    }

    #[test]
    fn an_exchange_line_reads_back_as_the_exchange_that_wrote_it() {
        let described = |body: Body| Described {
            method: "POST".into(),
            path: "/1.1/classes/Post".into(),
            query: vec![("where".into(), "{}".into())],
            auth: Auth::Master,
            hook_key: true,
            session: Some("token".into()),
            prod: Some("0".into()),
            body,
            secrets: Vec::new(),
        };
        let raw = || Body::Raw {
            text: "a=b".into(),
            content_type: Some("text/plain".into()),
        };
        for (request, response, upstream_error, elapsed_ms) in [
            (
                Body::Json(json!({"n": 1})),
                Body::Json(json!({"objectId": "x"})),
                None,
                Some(3),
            ),
            (Body::Empty, Body::Empty, None, None),
            (
                raw(),
                Body::Raw {
                    text: "<html>".into(),
                    content_type: None,
                },
                Some("timeout after 30 s".to_string()),
                Some(30_000),
            ),
        ] {
            let exchange = Exchange {
                suite: "S".into(),
                test: "t".into(),
                order: 2,
                request: described(request),
                status: 201,
                response,
                upstream_error,
                elapsed_ms,
            };
            let line = exchange.to_json();
            let read = Exchange::from_json(line.as_object().expect("an object"));
            assert_eq!(read, Ok(exchange), "{line}");
        }
    }
}
