//! [`TestApp`]: one app for one test or scenario, on the target the environment names
//! (see the crate docs), what it runs on (`Backend`) and what the run left ([`Leftover`]).

use crate::track::Ledger;
use crate::wire::{Keys, Route, Wire};
use crate::{Answer, Builder, Caller, RemoteConfig, StartError, Target, stack};
use leancloud::Request;
use leancloud::client::Client;
use mock_server::MockLeanCloud;
use serde_json::{Value, json};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One object of a run that still exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub class: String,
    pub object_id: String,
}

impl fmt::Display for Leftover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.class, self.object_id)
    }
}

pub(crate) enum Backend {
    Mock(MockLeanCloud),
    Stack {
        stack: Arc<stack::Stack>,
        shared: bool,
    },
    Remote(RemoteConfig),
}

/// A target for one test or scenario (see the crate docs).
pub struct TestApp {
    target: Target,
    backend: Backend,
    wire: Wire,
    prefix: String,
    ledger: Arc<Mutex<Ledger>>,
    started_in: Duration,
}

impl fmt::Debug for TestApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestApp")
            .field("target", &self.target)
            .field("uri", &self.wire.base_url)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// A new run prefix: `t` and 8 hex digits, then `_`.
fn new_prefix() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(now.as_nanos());
    }
    format!("t{:08x}_", hasher.finish() as u32)
}

/// Run `future` to its end on a runtime of its own, on another thread, from synchronous
/// code that may itself be running on a runtime.
fn block_on_own_runtime<T: Send>(future: impl Future<Output = T> + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime starts")
                    .block_on(future)
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

impl TestApp {
    /// Describe the app to start and where (see [`Builder`]): its cloud code, database
    /// settings and engine program, the target (default: `LC_TARGET`'s).
    pub fn builder() -> Builder {
        Builder::default()
    }

    pub(crate) fn assemble(
        target: Target,
        backend: Backend,
        base_url: &str,
        route: Route,
        keys: Keys,
        began: Instant,
    ) -> TestApp {
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        TestApp {
            target,
            backend,
            wire: Wire::new(base_url, route, keys, &ledger),
            prefix: new_prefix(),
            ledger,
            started_in: began.elapsed(),
        }
    }

    /// Connect to a deployed app. Checks that it answers and takes the master key
    /// (`GET /1.1/users?limit=0`), so wrong settings fail here, not in the first step.
    pub async fn connect(config: RemoteConfig) -> Result<TestApp, StartError> {
        let began = Instant::now();
        let keys = Keys {
            app_id: config.app_id.clone(),
            app_key: config.app_key.clone(),
            master_key: config.master_key.clone(),
        };
        let url = config.server_url.clone();
        let described = config.to_string();
        let route = Route::Http(url.clone());
        let app = TestApp::assemble(
            Target::Remote,
            Backend::Remote(config),
            &url,
            route,
            keys,
            began,
        );
        let probe = Request::from_target("GET", "/1.1/users?limit=0");
        match app.wire.exchange(&Caller::Master, probe).await {
            Ok(answer) if answer.status == 200 => Ok(app),
            Ok(answer) => Err(StartError::Unreachable(format!(
                "{described} refused the master key: HTTP {} {}",
                answer.status, answer.body
            ))),
            Err(e) => Err(StartError::Unreachable(format!(
                "{described} does not answer: {}",
                e.message
            ))),
        }
    }

    /// Which target this is.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The base URL requests go to.
    pub fn server_url(&self) -> &str {
        &self.wire.base_url
    }

    /// How long starting or connecting took. On `stack` the first `TestApp` of a process
    /// includes cargo's build (or up-to-date check); on a shared stack that is already
    /// running it is next to nothing.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The cloud engine's URL, on the `stack` target (for requests straight to it, as
    /// the hook protocol makes them).
    pub fn engine_url(&self) -> Option<&str> {
        match &self.backend {
            Backend::Stack { stack, .. } => stack.engine_url.as_deref(),
            _ => None,
        }
    }

    /// The remote settings, on the remote target (keys redacted when printed).
    pub fn remote_config(&self) -> Option<&RemoteConfig> {
        match &self.backend {
            Backend::Remote(config) => Some(config),
            _ => None,
        }
    }

    /// The in-process emulator, on the `mock` target only.
    pub fn mock(&self) -> Option<&MockLeanCloud> {
        match &self.backend {
            Backend::Mock(lc) => Some(lc),
            _ => None,
        }
    }

    /// The in-process emulator behind this app, for steps that only make sense there.
    ///
    /// # Panics
    /// On any other target, naming it; use [`TestApp::mock`] to branch instead.
    #[track_caller]
    pub fn emulator(&self) -> &MockLeanCloud {
        match &self.backend {
            Backend::Mock(lc) => lc,
            _ => panic!(
                "this needs the in-process emulator (LC_TARGET=mock), but the target is {}",
                self.target
            ),
        }
    }

    /// The app's id, as requests send it.
    pub fn app_id(&self) -> &str {
        &self.wire.keys.app_id
    }

    /// This run's name prefix, e.g. `t3fa90c1b_`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `base` under this run's prefix: the name to give a user, role or other named
    /// thing the run creates.
    pub fn name(&self, base: &str) -> String {
        format!("{}{base}", self.prefix)
    }

    /// Record an object the run caused to exist without creating it through
    /// [`TestApp::send`] (e.g. made by a cloud function), so that the cleanup deletes it.
    pub fn track(&self, class: &str, object_id: &str) {
        self.ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .created(class, object_id);
    }

    /// The objects the run created and has not deleted, oldest first: (class, id).
    pub fn tracked(&self) -> Vec<(String, String)> {
        self.ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pending
            .clone()
    }

    /// File this app's requests from now on under the test case `name` of an
    /// `lc-mock record` proxy standing in front of the target (header
    /// `X-LC-Record-Case`; the proxy takes it out, and the emulator ignores it). The
    /// Gherkin runner names each scenario's case `<feature>: <scenario>`.
    pub fn record_case(&self, name: &str) {
        const KEEP: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'%');
        let encoded = percent_encoding::utf8_percent_encode(name, KEEP).to_string();
        *self.wire.case.lock().unwrap_or_else(|e| e.into_inner()) = Some(encoded);
    }

    /// A typed REST client ([`leancloud::client::Client`]) sending as `who`, over the
    /// same way as [`TestApp::send`] (in-process on `mock`), so what it creates is
    /// tracked for the cleanup. It knows the master key (`client.as_master()`), whoever
    /// it sends as.
    ///
    /// # Panics
    /// For [`Caller::Nobody`]: a client always sends the app's keys; send keyless requests
    /// with [`TestApp::send`].
    #[track_caller]
    pub fn client(&self, who: &Caller) -> Client {
        let keys = &self.wire.keys;
        let client = Client::new(
            self.wire.transport.clone(),
            &keys.app_id,
            keys.app_key.expose(),
        )
        .with_master_key(keys.master_key.expose());
        if *who == Caller::Nobody {
            panic!(
                "a Client always sends the app's keys; send keyless requests with \
                 TestApp::send(&Caller::Nobody, ..)"
            );
        }
        client.as_caller(who)
    }

    /// Send `method target` (a path with an optional `?query`) with a JSON body.
    pub async fn send(
        &self,
        who: &Caller,
        method: &str,
        target: &str,
        body: Option<&Value>,
    ) -> Answer {
        let mut request = Request::from_target(method, target);
        if let Some(body) = body {
            request = request.with_json(body);
        }
        self.request(who, request).await
    }

    /// Send a prepared request (e.g. with query parameters added by
    /// [`Request::with_query`], which encodes them) as `who`.
    pub async fn request(&self, who: &Caller, request: Request) -> Answer {
        let line = format!("{} {}", request.method, request.target());
        self.wire
            .exchange(who, request)
            .await
            .unwrap_or_else(|e| panic!("the target did not answer {line}: {}", e.message))
    }

    /// Arm a fault in the hook chain or storage (`mock_server::api::faults`): a hook or
    /// function that fails, answers late, hangs or is unreachable, or a class's writes
    /// that fail. On `mock` and `stack` (through `POST /__mock/faults`); a deployed app
    /// cannot be bent, so on `remote` it is an error the caller shows (a step skips).
    pub async fn fault(&self, fault: &mock_server::api::faults::Fault) -> Result<Value, String> {
        if let Backend::Remote(_) = &self.backend {
            return Err(format!(
                "faults need the emulator (LC_TARGET=mock or stack), not {}",
                self.target
            ));
        }
        let answer = self
            .send(
                &Caller::Master,
                "POST",
                "/__mock/faults",
                Some(&fault.to_json()),
            )
            .await;
        if answer.status == 200 {
            Ok(answer.body)
        } else {
            Err(format!(
                "POST /__mock/faults answered HTTP {} {}",
                answer.status, answer.body
            ))
        }
    }

    /// Wait until every after-hook the target is running has finished (and everything
    /// they caused). On `remote` this returns at once: a deployed app cannot say, so
    /// checks that depend on after-hooks use [`eventually`](crate::eventually).
    pub async fn idle(&self) {
        match &self.backend {
            Backend::Mock(lc) => lc.idle().await,
            Backend::Stack { .. } => {
                if let Err(e) = self.wire.mock_idle().await {
                    panic!("{e}");
                }
            }
            Backend::Remote(_) => {}
        }
    }

    /// The traces of the last requests (what each ran: hooks, their input and output,
    /// nested requests), when the target keeps them: the emulator's on `mock`, `GET
    /// /__mock/traces` on `stack` (a shared stack's include other tests' requests),
    /// `None` on `remote`.
    pub fn traces(&self) -> Option<Vec<Value>> {
        match &self.backend {
            Backend::Mock(lc) => Some(lc.traces()),
            Backend::Stack { .. } => {
                let wire = self.wire.renewed(&self.ledger);
                let answer = block_on_own_runtime(async move {
                    wire.exchange(&Caller::Master, Request::new("GET", "/__mock/traces"))
                        .await
                });
                match answer {
                    Ok(answer) if answer.status == 200 => Some(
                        answer.body["results"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default(),
                    ),
                    Ok(answer) => panic!(
                        "GET /__mock/traces answered HTTP {} {}",
                        answer.status, answer.body
                    ),
                    Err(e) => panic!("GET /__mock/traces: {}", e.message),
                }
            }
            Backend::Remote(_) => None,
        }
    }

    /// Delete everything the run created (see the crate docs) with the master key; the
    /// number of objects deleted. On `mock` and `stack` it then waits for the after-hooks
    /// the deletes fired. An error lists what could not be deleted; those stay recorded,
    /// so a later cleanup tries them again.
    pub async fn cleanup(&self) -> Result<usize, String> {
        let deleted = self.wire.cleanup(&self.ledger, &self.prefix).await;
        match &self.backend {
            Backend::Mock(lc) => lc.idle().await,
            Backend::Stack { .. } => self.wire.mock_idle().await?,
            Backend::Remote(_) => {}
        }
        deleted
    }

    /// What of the run still exists: every object it created (deleted or not, it is
    /// looked up) and every user and role under its prefix. Panics when the target
    /// cannot be asked.
    pub async fn leftovers(&self) -> Vec<Leftover> {
        let all: Vec<(String, String)> = self
            .ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .all
            .clone();
        let mut classes: Vec<&str> = Vec::new();
        for (class, _) in &all {
            if !classes.contains(&class.as_str()) {
                classes.push(class);
            }
        }
        let mut left = Vec::new();
        for class in classes {
            let ids: Vec<&str> = all
                .iter()
                .filter(|(c, _)| c == class)
                .map(|(_, id)| id.as_str())
                .collect();
            for chunk in ids.chunks(100) {
                let rows = self
                    .wire
                    .find(class, &json!({"objectId": {"$in": chunk}}), "objectId")
                    .await
                    .unwrap_or_else(|e| panic!("counting leftovers: {e}"));
                for row in rows {
                    if let Some(id) = row["objectId"].as_str() {
                        left.push(Leftover {
                            class: class.to_string(),
                            object_id: id.to_string(),
                        });
                    }
                }
            }
        }
        let prefixed = self
            .wire
            .prefixed(&self.prefix)
            .await
            .unwrap_or_else(|e| panic!("counting leftovers: {e}"));
        for (class, object_id) in prefixed {
            let item = Leftover { class, object_id };
            if !left.contains(&item) {
                left.push(item);
            }
        }
        left
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let shared = match &self.backend {
            Backend::Remote(_) => true,
            Backend::Stack { shared, .. } => *shared,
            Backend::Mock(_) => false,
        };
        let wrote = self.ledger.lock().unwrap_or_else(|e| e.into_inner()).wrote;
        if !shared || !wrote {
            return;
        }
        // The test's own runtime may be the one this drop blocks, so the cleanup runs on
        // a runtime and an HTTP client of its own. It never panics: this may run while a
        // failed test unwinds.
        let wire = self.wire.renewed(&self.ledger);
        let ledger = self.ledger.clone();
        let prefix = self.prefix.clone();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            block_on_own_runtime(async move { wire.cleanup(&ledger, &prefix).await })
        }));
        match outcome {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("harness: cleanup of run {}: {e}", self.prefix),
            Err(_) => eprintln!("harness: cleanup of run {} failed", self.prefix),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact_prefixes;
    use leancloud::LcError;
    use leancloud::error::code;
    use serde_json::json;

    #[tokio::test]
    async fn a_test_app_answers_as_each_caller() {
        let app = TestApp::builder().target(Target::Mock).start().await;
        let created = app
            .send(
                &Caller::Anonymous,
                "POST",
                "/1.1/classes/Note",
                Some(&json!({"text": "hi"})),
            )
            .await;
        assert_eq!(created.status, 201);
        let denied = app
            .send(&Caller::Nobody, "GET", "/1.1/classes/Note", None)
            .await;
        assert_eq!(
            denied.error(),
            Some(LcError::unauthorized()),
            "no keys: {denied:?}"
        );
        denied.assert_error(code::UNAUTHORIZED, "Unauthorized.");
        let reset = app
            .send(&Caller::Master, "POST", "/__mock/reset", None)
            .await;
        assert_eq!(reset.status, 200);
    }

    #[test]
    fn prefixes_are_fresh_and_redactable() {
        let a = new_prefix();
        let b = new_prefix();
        assert_ne!(a, b);
        assert_eq!(a.len(), 10, "{a}");
        assert_eq!(redact_prefixes(&format!("{a}anna")), "[prefix]_anna");
        assert_eq!(redact_prefixes("t0123456789_x"), "t0123456789_x");
    }

    #[test]
    fn test_apps_can_live_in_a_world() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<TestApp>();
    }
}
