//! # system
//!
//! The step library for the Gherkin features under `features/`. Steps are split by
//! domain concept, never by feature file:
//!
//! | module | what its steps do |
//! |---|---|
//! | [`steps::users`] | who "I" am: sign up, log in as a fixture user, the master key, no keys |
//! | [`steps::objects`] | create (table or JSON), fetch, update, delete, batch; named objects |
//! | [`steps::queries`] | queries with `where`, order and limit; counts |
//! | [`steps::permissions`] | refusals by ACL, class permissions and read-only keys |
//! | [`steps::hooks`] | cloud functions, waiting for after-hooks, hook refusals and traces |
//! | [`steps::responses`] | status, error code and message, fields of the last answer, results |
//!
//! Each scenario gets a fresh [`World`] with a fresh target running the app ([`app`]).
//! The sections below are copied into `features/STEPS.md` by the catalogue test.
//!
//! ## What a scenario remembers
//!
//! - **Who "I" am**: nobody signed in (the app key) until a step signs in, or switches to
//!   the master key or to no keys at all; every request a `When` step sends goes out as
//!   that principal.
//! - **Named objects**: `a Business "Corner Cafe" with:` names what it creates. Objects
//!   of the fixtures are found by their name field: `username` for `_User`, `street` for
//!   `Address`, `name` for every other class (`Business`, `_Role`, ...).
//! - **The last exchange**: the request a `When` step sent and its answer, which the
//!   `Then` steps check. A failing step prints it, with the hook trace of that request
//!   when the target keeps traces, and the last read a `Then` step made.
//!
//! ## Values in tables and doc strings
//!
//! A `| field | value |` table cell is:
//!
//! - `the Business "Kuanzhai Hot Pot"`: a pointer to that object;
//! - `a text of 2001 characters`: a string of that many `x`;
//! - JSON when it parses as JSON: `4`, `3.5`, `true`, `null`, `["a", "b"]`,
//!   `{"__op": "Increment", "amount": 1}`, `"  padded  "` (a string kept as written);
//! - else the text itself: `Corner Cafe`.
//!
//! In doc strings (and in cells), `{Business:Kuanzhai Hot Pot}` is replaced by the
//! object's id (for paths and function params) and the JSON string
//! `"@Business:Kuanzhai Hot Pot"` by a pointer to it. A doc string may start with a
//! media type (`"""json`).
//!
//! Fields are named by dotted paths; a number indexes a list: `result.0.address.street`.
//! Numbers compare by value (`4` matches `4.0`).
//!
//! ## After-hooks
//!
//! After-hooks run after the answer. Every write marks the scenario unsettled; the next
//! request and every `Then` step first wait until the target has finished its
//! after-hooks (and everything they caused), so an assertion never races a hook.
//! `When I wait for the after-hooks` does the same explicitly; it is never needed
//! before a `Then` step.

pub mod steps;

use harness::{Answer, TestApp};
use leancloud::Caller;
use leancloud::Resource;
use regex::Regex;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

/// The app under test, described once for every test that starts it: its cloud code
/// (`cloud::registry`, in-process on `mock`), its data (`fixtures/database_settings`),
/// and the engine program serving that cloud code on `stack` (`cloud-engine` of crate
/// `cloud`). `app().start()` starts it on the target `LC_TARGET` names.
pub fn app() -> harness::Builder {
    TestApp::builder()
        .cloud(cloud::registry)
        .settings(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/database_settings"
        ))
        .engine("cloud", "cloud-engine")
}

/// Who sends a scenario's request: a [`Caller`] whose signed-in user is named by their
/// username (the session they signed in with is in [`World::sessions`]).
pub type Who = Caller<String>;

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub token: String,
}

/// One request and its answer, as a step sent it.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Who sent it, in words.
    pub who: String,
    pub method: String,
    pub target: String,
    pub body: Option<Value>,
    pub answer: Answer,
    /// How many top-level traces the target had before this request, so its own trace
    /// can be found (`None`: the target keeps no traces).
    pub trace_index: Option<usize>,
}

impl Exchange {
    /// `METHOD path` without the query, as traces name requests.
    pub fn request_line(&self) -> String {
        let path = self.target.split('?').next().unwrap_or_default();
        format!("{} {path}", self.method)
    }
}

/// One scenario's state.
#[derive(cucumber::World)]
#[world(init = Self::new)]
pub struct World {
    pub app: TestApp,
    /// Who "I" am.
    pub me: Who,
    /// Users signed in during the scenario: username -> session.
    pub sessions: HashMap<String, Session>,
    /// Objects by (class, name) -> objectId: created under a name, or fixture objects
    /// found by name.
    pub named: HashMap<(String, String), String>,
    /// The last request a `When` (or `Given`) step sent, with its answer.
    pub last: Option<Exchange>,
    /// The last read a `Then` step made to check stored data.
    pub checked: Option<Exchange>,
    /// A write was sent since the last wait for after-hooks.
    pub unsettled: bool,
    /// The running scenario's tags (set by the runner's before-hook).
    pub tags: Vec<String>,
    /// "My" LiveQuery subscription, once a step listens.
    pub live: Option<steps::live::Listener>,
}

impl World {
    async fn new() -> Self {
        // Starting a target loads the fixtures (CPU work): on a worker thread, so that
        // scenarios start in parallel (cucumber polls them all on one task).
        let app = tokio::spawn(app().start())
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        World {
            app,
            me: Caller::Anonymous,
            sessions: HashMap::new(),
            named: HashMap::new(),
            last: None,
            checked: None,
            unsettled: false,
            tags: Vec::new(),
            live: None,
        }
    }

    /// Whether the target is the in-process emulator (`LC_TARGET` unset or `mock`).
    pub fn target_is_mock() -> bool {
        Self::target_name() == "mock"
    }

    /// The target's name from `LC_TARGET` (`mock` when unset or empty).
    pub fn target_name() -> String {
        match std::env::var("LC_TARGET") {
            Ok(name) if !name.trim().is_empty() => name.trim().to_string(),
            _ => "mock".to_string(),
        }
    }

    /// Wait for every after-hook of the writes sent so far (and what they caused).
    pub async fn settle(&mut self) {
        if self.unsettled {
            self.app.idle().await;
            self.unsettled = false;
        }
    }

    /// The caller on the wire: a signed-in user by the session token they signed in with.
    pub fn credentials(&self, who: &Who) -> Caller {
        who.clone().map(|name| match self.sessions.get(&name) {
            Some(s) => s.token.clone(),
            None => panic!("\"{name}\" has not signed in in this scenario"),
        })
    }

    /// A caller in words, for failure reports.
    pub fn describe(who: &Who) -> String {
        match who {
            Caller::Anonymous => "nobody signed in (app key)".into(),
            Caller::Nobody => "no keys at all".into(),
            Caller::Master => "the master key".into(),
            Caller::User(name) => format!("{name} (session)"),
        }
    }

    /// Send a request as `who`, after the after-hooks of earlier writes; a write leaves
    /// the world unsettled.
    pub async fn exchange(
        &mut self,
        who: &Who,
        method: &str,
        target: &str,
        body: Option<Value>,
    ) -> Exchange {
        self.settle().await;
        let creds = self.credentials(who);
        let trace_index = self.app.traces().map(|t| t.len());
        let answer = self.app.send(&creds, method, target, body.as_ref()).await;
        if method != "GET" {
            self.unsettled = true;
        }
        Exchange {
            who: Self::describe(who),
            method: method.to_string(),
            target: target.to_string(),
            body,
            answer,
            trace_index,
        }
    }

    /// Send a request as "me" and keep it as the last exchange.
    pub async fn request(&mut self, method: &str, target: &str, body: Option<Value>) -> &Answer {
        let me = self.me.clone();
        self.request_as(&me, method, target, body).await
    }

    /// Send a request as `who` and keep it as the last exchange.
    pub async fn request_as(
        &mut self,
        who: &Who,
        method: &str,
        target: &str,
        body: Option<Value>,
    ) -> &Answer {
        let exchange = self.exchange(who, method, target, body).await;
        self.checked = None;
        &self.last.insert(exchange).answer
    }

    /// Read stored data with the master key for a `Then` step (kept apart from the last
    /// exchange, and shown when the step fails).
    pub async fn check(&mut self, target: &str) -> Value {
        let exchange = self.exchange(&Caller::Master, "GET", target, None).await;
        let body = exchange.answer.body.clone();
        self.checked = Some(exchange);
        body
    }

    /// The last answer; a step that needs one fails clearly without it.
    pub fn last(&self) -> &Answer {
        &self
            .last
            .as_ref()
            .expect("no request was sent yet in this scenario")
            .answer
    }

    /// The last answer, once the after-hooks of every write have finished: what every
    /// `Then` step reads.
    pub async fn settled(&mut self) -> &Answer {
        self.settle().await;
        self.last()
    }

    /// The objectId of a named object: one created under that name in this scenario, or
    /// a fixture object found by its name field.
    pub async fn id_of(&mut self, class: &str, name: &str) -> String {
        let key = (class.to_string(), name.to_string());
        if let Some(id) = self.named.get(&key) {
            return id.clone();
        }
        let field = name_field(class);
        let target = format!(
            "{}?where={}&keys=objectId&limit=2",
            Resource::collection(class).path(),
            encode(&json!({ field: name }).to_string())
        );
        let exchange = self.exchange(&Caller::Master, "GET", &target, None).await;
        let found = exchange.answer.body["results"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let id = match found.as_slice() {
            [one] => one["objectId"].as_str().unwrap_or_default().to_string(),
            [] => panic!(
                "no {class} named \"{name}\": none was created under that name in this \
                 scenario and no {class} has {field} \"{name}\""
            ),
            _ => panic!("more than one {class} has {field} \"{name}\"; name one when creating it"),
        };
        self.named.insert(key, id.clone());
        id
    }

    /// A pointer to a named object.
    pub async fn pointer_to(&mut self, class: &str, name: &str) -> Value {
        let id = self.id_of(class, name).await;
        json!({"__type": "Pointer", "className": class, "objectId": id})
    }

    /// Text with its references resolved: `{Class:Name}` becomes the object's id and the
    /// JSON string `"@Class:Name"` a pointer to it.
    pub async fn resolve(&mut self, text: &str) -> String {
        static POINTER: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r#""@([A-Za-z_]\w*):([^"]+)""#).expect("a regex"));
        static ID: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"\{([A-Za-z_]\w*):([^{}]+)\}").expect("a regex"));
        let mut out = text.to_string();
        for (re, as_pointer) in [(&*POINTER, true), (&*ID, false)] {
            let refs: Vec<(String, String, String)> = re
                .captures_iter(&out)
                .map(|c| (c[0].to_string(), c[1].to_string(), c[2].to_string()))
                .collect();
            for (whole, class, name) in refs {
                let with = if as_pointer {
                    self.pointer_to(&class, &name).await.to_string()
                } else {
                    self.id_of(&class, &name).await
                };
                out = out.replace(&whole, &with);
            }
        }
        out
    }

    /// A doc string's JSON, with its references resolved.
    pub async fn doc_json(&mut self, doc: &str) -> Value {
        let text = self.resolve(strip_media_type(doc)).await;
        serde_json::from_str(text.trim())
            .unwrap_or_else(|e| panic!("the doc string is not JSON ({e}):\n{text}"))
    }

    /// A table cell's value (the forms are in the crate docs, "Values in tables and doc
    /// strings").
    pub async fn cell(&mut self, cell: &str) -> Value {
        static REFERENCE: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r#"^the (\w+) "([^"]+)"$"#).expect("a regex"));
        static LONG_TEXT: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^a text of (\d+) characters$").expect("a regex"));
        static FILE: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r#"^the file "([^"]+)"$"#).expect("a regex"));
        // A file this scenario uploaded (`I upload the file "..."`), as a File value.
        if let Some(c) = FILE.captures(cell) {
            let id = self
                .named
                .get(&("_File".to_string(), c[1].to_string()))
                .unwrap_or_else(|| panic!("no file \"{}\" was uploaded in this scenario", &c[1]))
                .clone();
            return serde_json::json!({"__type": "File", "id": id});
        }
        if let Some(c) = REFERENCE.captures(cell) {
            return self.pointer_to(&c[1], &c[2]).await;
        }
        if let Some(c) = LONG_TEXT.captures(cell) {
            let n: usize = c[1].parse().expect("a length");
            return Value::String("x".repeat(n));
        }
        let resolved = self.resolve(cell).await;
        serde_json::from_str(&resolved).unwrap_or(Value::String(resolved))
    }

    /// A `| field | value |` table as a JSON object (the header row is skipped).
    pub async fn table_object(&mut self, step: &cucumber::gherkin::Step) -> Value {
        let table = step
            .table
            .as_ref()
            .expect("this step needs a | field | value | table");
        let mut fields = serde_json::Map::new();
        for row in table.rows.iter().skip(1) {
            let value = self.cell(&row[1]).await;
            fields.insert(row[0].clone(), value);
        }
        Value::Object(fields)
    }

    /// The step's body: its JSON doc string, or its `| field | value |` table.
    pub async fn body_of(&mut self, step: &cucumber::gherkin::Step) -> Value {
        match &step.docstring {
            Some(doc) => self.doc_json(doc).await,
            None => self.table_object(step).await,
        }
    }

    /// The trace of the last exchange, when the target keeps traces.
    pub fn trace_of_last(&self) -> Option<Value> {
        let last = self.last.as_ref()?;
        trace_of(&self.app, last)
    }
}

/// The trace of one exchange: the first top-level trace after the exchange's index with
/// its request line.
fn trace_of(app: &TestApp, exchange: &Exchange) -> Option<Value> {
    let traces = app.traces()?;
    let line = exchange.request_line();
    let from = exchange.trace_index.unwrap_or(0).min(traces.len());
    traces[from..]
        .iter()
        .find(|t| t["request"] == line.as_str())
        .or_else(|| traces.iter().rev().find(|t| t["request"] == line.as_str()))
        .cloned()
}

/// The field that names a class's objects in steps.
pub fn name_field(class: &str) -> &'static str {
    match class {
        "_User" => "username",
        "Address" => "street",
        _ => "name",
    }
}

/// Percent-encoding for a query-string value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A doc string without its media type: gherkin keeps a ```"""json``` media type as the
/// first line, so a bare word alone on the first line is dropped.
pub fn strip_media_type(doc: &str) -> &str {
    match doc.split_once('\n') {
        Some((first, rest))
            if !first.trim().is_empty()
                && first.trim().chars().all(|c| c.is_ascii_alphabetic()) =>
        {
            rest
        }
        _ => doc,
    }
}

/// The value at a dotted path (`results.0.name`; a number indexes an array).
pub fn at_path<'a>(value: &'a Value, path: &str) -> &'a Value {
    let mut value = value;
    for seg in path.split('.') {
        value = match (value, seg.parse::<usize>()) {
            (Value::Array(items), Ok(i)) => items.get(i).unwrap_or(&Value::Null),
            _ => &value[seg],
        };
    }
    value
}

/// Every hook in a trace, depth first: (class, hook, the hook's node).
pub fn hooks_in(trace: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for hook in trace["hooks"].as_array().into_iter().flatten() {
        out.push(hook);
        for request in hook["requests"].as_array().into_iter().flatten() {
            out.extend(hooks_in(request));
        }
    }
    out
}

/// A trace as an indented tree: each request with its status, each hook with how it
/// ended, and under it the requests its code made.
pub fn render_trace(trace: &Value) -> String {
    let mut out = String::new();
    render_request(trace, 0, &mut out);
    out
}

fn render_request(node: &Value, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let status = match &node["status"] {
        Value::Null => "(no answer yet)".to_string(),
        s => s.to_string(),
    };
    out.push_str(&format!(
        "{pad}{} -> {status}",
        node["request"].as_str().unwrap_or("?")
    ));
    if let Some(err) = node.get("error") {
        out.push_str(&format!(" {err}"));
    }
    out.push('\n');
    for hook in node["hooks"].as_array().into_iter().flatten() {
        let how = if let Some(reason) = hook.get("skipped") {
            format!("skipped ({})", reason.as_str().unwrap_or("?"))
        } else if let Some(err) = hook.get("error") {
            format!("refused {err}")
        } else if hook.get("running").is_some() {
            "still running".into()
        } else {
            "ok".into()
        };
        out.push_str(&format!(
            "{pad}  {} {}: {how}\n",
            hook["class"].as_str().unwrap_or("?"),
            hook["hook"].as_str().unwrap_or("?")
        ));
        for request in hook["requests"].as_array().into_iter().flatten() {
            render_request(request, depth + 2, out);
        }
    }
}

fn write_exchange(f: &mut fmt::Formatter<'_>, title: &str, ex: &Exchange) -> fmt::Result {
    writeln!(f, "--- {title} ---")?;
    writeln!(f, "{} {}  as {}", ex.method, ex.target, ex.who)?;
    if let Some(body) = &ex.body {
        let text = serde_json::to_string_pretty(body).unwrap_or_default();
        writeln!(f, "{}", clip(&text, 2000))?;
    }
    writeln!(f, "--- answer: {} ---", ex.answer.status)?;
    let text = serde_json::to_string_pretty(&ex.answer.body).unwrap_or_default();
    writeln!(f, "{}", clip(&text, 4000))
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}\n... ({} characters in all)", text.chars().count())
}

/// What a failing step prints (cucumber shows the World of a failed step): who "I" am,
/// the last request and its answer, the hook trace of that request, and the last read a
/// `Then` step made.
impl fmt::Debug for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "I am: {}", Self::describe(&self.me))?;
        match &self.last {
            Some(last) => {
                write_exchange(f, "last request", last)?;
                match trace_of(&self.app, last) {
                    Some(trace) => {
                        writeln!(f, "--- hook trace ---")?;
                        write!(f, "{}", render_trace(&trace))?;
                    }
                    None if self.app.traces().is_none() => {
                        writeln!(f, "--- hook trace: this target keeps none ---")?;
                    }
                    None => writeln!(f, "--- hook trace: none found for this request ---")?,
                }
            }
            None => writeln!(f, "(no request sent yet)")?,
        }
        if let Some(checked) = &self.checked {
            write_exchange(f, "last read by a Then step (master key)", checked)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_walk_objects_and_lists() {
        let body = json!({"result": [{"name": "a"}, {"name": "b", "n": {"k": 3}}]});
        assert_eq!(at_path(&body, "result.1.name"), "b");
        assert_eq!(at_path(&body, "result.1.n.k"), 3);
        assert!(at_path(&body, "result.5.name").is_null());
        assert!(at_path(&body, "missing.key").is_null());
    }

    #[test]
    fn a_media_type_line_is_dropped_from_a_doc_string() {
        assert_eq!(strip_media_type("json\n{\"a\": 1}"), "{\"a\": 1}");
        assert_eq!(strip_media_type("{\"a\": 1}"), "{\"a\": 1}");
        assert_eq!(strip_media_type("[1,\n2]"), "[1,\n2]");
    }

    #[test]
    fn a_trace_renders_as_a_tree() {
        let trace = json!({
            "request": "POST /1.1/classes/Review", "status": 400,
            "error": {"code": 142, "error": "Cloud Code validation failed. Error detail : no"},
            "hooks": [{"class": "Review", "hook": "beforeSave",
                "error": {"code": 142, "error": "no"},
                "requests": [{"request": "GET /1.1/classes/Business/x", "status": 200, "hooks": []}]}]
        });
        assert_eq!(
            render_trace(&trace),
            "POST /1.1/classes/Review -> 400 {\"code\":142,\"error\":\"Cloud Code validation failed. Error detail : no\"}\n\
             \x20 Review beforeSave: refused {\"code\":142,\"error\":\"no\"}\n\
             \x20   GET /1.1/classes/Business/x -> 200\n"
        );
        assert_eq!(hooks_in(&trace).len(), 1);
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode(r#"{"a":"b c"}"#), "%7B%22a%22%3A%22b%20c%22%7D");
    }
}
