//! # system
//!
//! The step library for the Gherkin features under `features/`. Steps are split by
//! domain concept (objects, queries, responses), never by feature file. Each scenario
//! gets a fresh [`World`] with a fresh target.

pub mod steps;

use harness::{Answer, TestApp};
use std::collections::HashMap;

/// One scenario's state.
#[derive(Debug, cucumber::World)]
#[world(init = Self::new)]
pub struct World {
    pub app: TestApp,
    /// The last answer a `When` step got.
    pub last: Option<Answer>,
    /// Objects created under a name: name -> (class, objectId).
    pub named: HashMap<String, (String, String)>,
}

impl World {
    async fn new() -> Self {
        World {
            app: TestApp::start().await,
            last: None,
            named: HashMap::new(),
        }
    }

    /// The last answer; a step that needs one fails clearly without it.
    pub fn last(&self) -> &Answer {
        self.last
            .as_ref()
            .expect("no request was sent yet in this scenario")
    }

    /// The objectId of a named object.
    pub fn id_of(&self, class: &str, name: &str) -> String {
        match self.named.get(name) {
            Some((c, id)) if c == class => id.clone(),
            Some((c, _)) => panic!("\"{name}\" is a {c}, not a {class}"),
            None => panic!("no {class} named \"{name}\" was created in this scenario"),
        }
    }
}

/// A doc string's JSON. gherkin keeps a ```"""json``` media type as the first line, so
/// a bare word alone on the first line is dropped.
pub fn docstring_json(doc: &str) -> serde_json::Value {
    let text = match doc.split_once('\n') {
        Some((first, rest)) if first.trim().chars().all(|c| c.is_ascii_alphabetic()) => rest,
        _ => doc,
    };
    serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("the doc string is not JSON ({e}):\n{text}"))
}

/// A table cell's value: JSON when it parses as JSON, else the text itself.
pub fn cell_value(cell: &str) -> serde_json::Value {
    serde_json::from_str(cell).unwrap_or_else(|_| serde_json::Value::String(cell.to_string()))
}
