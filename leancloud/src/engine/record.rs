//! Recording what an engine receives: every request and its answer becomes one exchange
//! of the recordings format (`mock-server/RECORDINGS.md`), appended and flushed as soon as
//! it is answered.
//!
//! Cases are named after what was called, in suite [`SUITE`]: `<Class>/<hook>` (hooks,
//! `_User/onLogin`, `onVerified/sms`), `functions/<name>`, `call/<name>`, `metadatas`,
//! `ping`, else the path. `order` counts the exchanges of a case from 0, in file order.

use super::EngineConfig;
use crate::recording::{Body, Described, Exchange, Writer};
use crate::{Request, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The suite of every exchange an engine records.
pub const SUITE: &str = "engine";

/// An engine's recorder: the file, and how many exchanges each case has so far.
#[derive(Debug)]
pub(crate) struct Recorder {
    writer: Arc<Writer>,
    /// Exchanges written per case. Held while a line is written, so `order` follows the
    /// file's order even when requests of one case are answered concurrently.
    orders: Mutex<HashMap<String, u64>>,
}

impl Recorder {
    /// A recorder writing to `writer`, which is told the configured keys first.
    pub fn new(writer: Arc<Writer>, config: &EngineConfig) -> Self {
        for secret in [&config.app_id, &config.app_key, &config.master_key]
            .into_iter()
            .chain(&config.hook_key)
        {
            writer.add_secret(secret);
        }
        Recorder {
            writer,
            orders: Mutex::new(HashMap::new()),
        }
    }

    pub fn writer(&self) -> &Arc<Writer> {
        &self.writer
    }

    /// Append the exchange. A failed write is reported on stderr and otherwise ignored:
    /// the answer is sent all the same.
    pub fn record(&self, request: &Request, response: &Response, elapsed: Duration) {
        let test = case_name(&request.path);
        let content_type = response.header("content-type");
        let mut exchange = Exchange {
            suite: SUITE.to_string(),
            test,
            order: 0,
            request: Described::of(request),
            status: response.status,
            response: Body::from_bytes(&response.body, content_type),
            upstream_error: None,
            elapsed_ms: Some(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)),
        };
        let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        let order = orders.entry(exchange.test.clone()).or_insert(0);
        exchange.order = *order;
        match self.writer.write_exchange(&exchange) {
            Ok(_) => *order += 1,
            Err(e) => eprintln!(
                "engine recording: could not write {} {} ({} {}): {e}",
                exchange.request.method, exchange.request.path, SUITE, exchange.test
            ),
        }
    }
}

/// The case a request of `path` is recorded under.
pub(crate) fn case_name(path: &str) -> String {
    if super::is_ping(path) {
        return "ping".to_string();
    }
    if let Some((endpoint, rest)) = super::route(path) {
        match super::segments(rest).as_slice() {
            [ops, metadatas] if ops == "_ops" && metadatas == "metadatas" => {
                return "metadatas".to_string();
            }
            [name] => return format!("{}/{name}", endpoint.prefix()),
            [class, hook] => return format!("{class}/{hook}"),
            _ => {}
        }
    }
    path.to_string()
}

#[cfg(test)]
mod tests {
    use super::case_name;

    #[test]
    fn cases_are_named_after_what_was_called() {
        for (path, name) in [
            ("/__engine/1/ping", "ping"),
            ("/__engine/1.1/ping", "ping"),
            ("/1.1/functions/_ops/metadatas", "metadatas"),
            ("/1/call/_ops/metadatas", "metadatas"),
            ("/1.1/functions/hello", "functions/hello"),
            ("/__engine/1/functions/hello", "functions/hello"),
            ("/1.1/call/rpc%20x", "call/rpc x"),
            ("/1.1/functions/Review/beforeSave", "Review/beforeSave"),
            ("/1.1/functions/_User/onLogin", "_User/onLogin"),
            ("/1/functions/onVerified/sms", "onVerified/sms"),
            ("/1.1/functions", "/1.1/functions"),
            ("/1.1/functions/a/b/c", "/1.1/functions/a/b/c"),
            ("/1.1/classes/Post", "/1.1/classes/Post"),
            ("/", "/"),
        ] {
            assert_eq!(case_name(path), name, "{path}");
        }
    }
}
