//! The cloud-engine server: a [`Registry`] served over LeanCloud's hook and function
//! protocol (protocol notes §5), answering as the official Node engine (leanengine 3.8.0)
//! answers.
//!
//! # Layout
//!
//! - this file: [`Engine`] (one request in, one response out: `Engine::handle`, also a
//!   [`Transport`] so the emulator can call an engine without a socket), [`serve`],
//!   [`start`], and their recording forms [`serve_recording`], [`start_recording`].
//! - [`config`]: [`EngineConfig`] and the `LEANCLOUD_*` variables.
//! - `auth`: credentials, hook key, the client's address.
//! - `http`: the axum front.
//! - `record`: recording every exchange ([`Engine::with_recorder`]).
//!
//! # Routes
//!
//! | path | answer |
//! |---|---|
//! | `GET /__engine/1/ping` (and `/__engine/1.1/ping`) | `{"runtime":"rust-<version>","version":"<crate version>"}` |
//! | `/1.1/functions/_ops/metadatas` | master key: `{"result":[names]}`; else 401 |
//! | `/1.1/functions/<name>` | `{"result": ...}` (objects as plain JSON) |
//! | `/1.1/call/<name>` | `{"result": ...}` (params decoded, results fully typed) |
//! | `/1.1/functions/<Class>/<beforeSave\|...\|afterDelete>` | hook key; see [`HookOutcome`] |
//! | `/1.1/functions/_User/onLogin`, `_User/onAuthData`, `onVerified/<sms\|email>` | hook key |
//!
//! `/1/...` and `/__engine/1[.1]/...` serve the same. Before anything else the body is
//! read (20 MB at most, JSON or a form; a browser's `text/plain` JSON body carries the
//! credentials), then the app credentials are checked.
//!
//! # Recording
//!
//! An engine given a [`Writer`] ([`Engine::with_recorder`], [`serve_recording`],
//! [`start_recording`]; `cloud-engine --record FILE`) appends every request it answers,
//! and the answer, to the file as one exchange of the recordings format
//! (`mock-server/RECORDINGS.md`), flushed before the answer leaves. The request is
//! described as received ([`Described::of`]); the suite is [`RECORDING_SUITE`] and the
//! case what was called:
//!
//! | request | case (`test`) |
//! |---|---|
//! | a hook, `/1.1/functions/<Class>/<hook>` | `<Class>/<hook>` (`Review/beforeSave`, `_User/onLogin`, `onVerified/sms`) |
//! | `/1.1/functions/<name>` | `functions/<name>` |
//! | `/1.1/call/<name>` | `call/<name>` |
//! | `/1.1/functions/_ops/metadatas` | `metadatas` |
//! | `/__engine/1/ping` | `ping` |
//! | anything else | its path |
//!
//! A CORS preflight (`OPTIONS`) is recorded under the case of its path, a body over
//! 20 MB without its body. `order` counts a case's exchanges from 0. The configured app
//! id, app key, master key and hook key are the writer's secrets from the start, so they
//! never reach the file (not even echoed by a hook); nor do keys a request carried (a
//! key shorter than [`MIN_SECRET_LEN`] is only kept out of the request's own fields). A
//! write that fails is reported on stderr and the answer goes out all the same.
//!
//! [`MIN_SECRET_LEN`]: crate::recording::MIN_SECRET_LEN
//!
//! [`Described::of`]: crate::recording::Described::of

mod auth;
pub mod config;
mod http;
mod record;

pub use config::{DEFAULT_PORT, EngineConfig};
pub use http::{RunningEngine, router, serve, serve_recording, start, start_recording};
pub use record::SUITE as RECORDING_SUITE;

use crate::cloud::{
    CloudError, FunctionRequest, HookKind, HookOutcome, HookRequest, Registry, Storage,
};
use crate::recording::Writer;
use crate::value::LcValue;
use crate::{LcError, Request, Response, Transport};
use auth::Credentials;
use futures::FutureExt;
use futures::future::{BoxFuture, Either};
use serde_json::{Map, Value, json};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The body size the Node engine's parsers accept.
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// What `GET /__engine/1/ping` names as the runtime (Node: `nodejs-<version>`). The Rust
/// version is the toolchain this crate declares (`rust-version`).
pub const RUNTIME: &str = concat!("rust-", env!("CARGO_PKG_RUST_VERSION"));

/// A registry ready to answer engine requests. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Engine {
    inner: Arc<Inner>,
    /// Set by [`Engine::with_recorder`].
    recorder: Option<Arc<record::Recorder>>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    config: EngineConfig,
}

/// The two ways into a registry over the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// `/1.1/functions/...`: plain params and results.
    Functions,
    /// `/1.1/call/...`: typed params and results.
    Call,
}

impl Endpoint {
    /// The path segment that names it.
    fn prefix(self) -> &'static str {
        match self {
            Endpoint::Functions => "functions",
            Endpoint::Call => "call",
        }
    }
}

impl Engine {
    /// Serve `registry` with `config`. Cloud code reaches storage through the config's
    /// transport or `api_server`, else through the storage the registry already has; with
    /// neither, storage calls fail with a message naming `LEANCLOUD_API_SERVER`.
    pub fn new(mut registry: Registry, config: EngineConfig) -> Self {
        let storage: Option<Storage> = config.storage().or_else(|| registry.storage().cloned());
        let storage = storage.unwrap_or_else(|| config.storage_over(Arc::new(config::NoStorage)));
        registry.set_storage(storage);
        Engine {
            inner: Arc::new(Inner { registry, config }),
            recorder: None,
        }
    }

    /// This engine, recording every request it answers from now on to `writer` (see
    /// [Recording](self#recording)). The configured app id, keys and hook key become the
    /// writer's secrets at once. Clones made afterwards record to the same writer, with
    /// one count of `order` per case.
    pub fn with_recorder(mut self, writer: Arc<Writer>) -> Self {
        self.recorder = Some(Arc::new(record::Recorder::new(writer, &self.inner.config)));
        self
    }

    /// The writer this engine records to, if it records.
    pub fn recorder(&self) -> Option<&Arc<Writer>> {
        self.recorder.as_deref().map(record::Recorder::writer)
    }

    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Answer one request. `peer` is the client's address when it came over a socket.
    /// A recording engine writes the exchange before it returns the answer.
    pub async fn handle(&self, request: Request, peer: Option<IpAddr>) -> Response {
        let started = Instant::now();
        let response = self.respond(&request, peer).await;
        self.record(&request, &response, started.elapsed());
        response
    }

    /// Record an exchange when the engine records.
    fn record(&self, request: &Request, response: &Response, elapsed: Duration) {
        if let Some(recorder) = &self.recorder {
            recorder.record(request, response, elapsed);
        }
    }

    async fn respond(&self, request: &Request, peer: Option<IpAddr>) -> Response {
        if request.method == "OPTIONS" {
            return preflight(request);
        }
        let Some((endpoint, rest)) = route(&request.path) else {
            if is_ping(&request.path) {
                return json_response(
                    200,
                    &json!({"runtime": RUNTIME, "version": env!("CARGO_PKG_VERSION")}),
                );
            }
            return error_response(&LcError::engine_route_not_found(
                &request.method,
                &request.path,
            ));
        };
        // The whole request runs under the timeout, as under the Node engine's
        // connect-timeout: a storage server that does not answer the user lookup times
        // out too, not only the handler.
        let answer = Box::pin(self.answer(request, peer, endpoint, rest));
        let deadline = crate::cloud::guard::sleep(self.inner.registry.timeout());
        let answer = match futures::future::select(answer, deadline).await {
            Either::Left((answer, _)) => answer,
            Either::Right(((), _)) => Err(CloudError::timed_out()),
        };
        match answer {
            Ok(body) => json_response(200, &body),
            Err(err) => json_response(err.status, &err.to_json()),
        }
    }

    async fn answer(
        &self,
        request: &Request,
        peer: Option<IpAddr>,
        endpoint: Endpoint,
        rest: &str,
    ) -> Result<Value, CloudError> {
        let config = &self.inner.config;
        let (body, creds) = read_body(request).map_err(CloudError::from_lc)?;
        let master = auth::authorize(config, &creds, request)
            .ok_or_else(|| CloudError::from_lc(LcError::unauthorized()))?;
        let remote_address = auth::remote_address(request, peer);
        match segments(rest).as_slice() {
            [] => Err(CloudError::from_lc(LcError::no_function_name(
                &request.path,
            ))),
            [ops, metadatas] if ops == "_ops" && metadatas == "metadatas" => {
                if master {
                    Ok(json!({"result": self.inner.registry.metadata_names()}))
                } else {
                    Err(CloudError::from_lc(LcError::unauthorized()))
                }
            }
            [name] => {
                let mut call = FunctionRequest::new(body).with_remote_address(remote_address);
                call.session_token = creds.session_token;
                call.master_key = master;
                call.hook_key = request.header("x-lc-hook-key").is_some()
                    && auth::hook_key_matches(config, request);
                let result = self.call_function(name, call, endpoint).await?;
                Ok(json!({"result": result}))
            }
            [first, second, ..] => {
                if !auth::hook_key_matches(config, request) {
                    return Err(CloudError::from_lc(LcError::hook_key_check_failed(
                        &remote_address,
                    )));
                }
                let outcome = self.run_hook(first, second, body, remote_address).await?;
                Ok(outcome.to_json())
            }
        }
    }

    /// A function call in the Node engine's order: 404, hook key / internal, typed
    /// params (`/call`), the current user, the handler.
    async fn call_function(
        &self,
        name: &str,
        mut call: FunctionRequest,
        endpoint: Endpoint,
    ) -> Result<Value, CloudError> {
        let registry = &self.inner.registry;
        let options = registry.check_function(name, &call)?;
        if endpoint == Endpoint::Call {
            call.decoded_params = Some(LcValue::decode(&call.params).map_err(CloudError::from_lc)?);
            call.rpc = true;
        }
        if options.fetch_user
            && let Some(token) = call.session_token.clone()
        {
            call.current_user = self.current_user(&token).await?;
        }
        registry.call_function(name, call).await
    }

    /// `GET /1.1/users/me` with the session token, on the storage server.
    async fn current_user(&self, token: &str) -> Result<Option<Value>, CloudError> {
        let client = self
            .inner
            .registry
            .storage()
            .expect("Engine::new gives the registry a storage")
            .client()
            .with_session(token);
        match client.me().await {
            Ok(user) => Ok(Some(user)),
            Err(_) if self.inner.config.ignore_invalid_session_token => Ok(None),
            Err(err) => Err(CloudError::from_lc(LcError::session_verify_failed(
                &err.message,
            ))),
        }
    }

    async fn run_hook(
        &self,
        first: &str,
        second: &str,
        body: Value,
        remote_address: String,
    ) -> Result<HookOutcome, CloudError> {
        let Some((class, kind)) = HookKind::from_path(first, second) else {
            return Err(CloudError::from_lc(if first == "onVerified" {
                LcError::no_such_user_hook(first)
            } else {
                LcError::no_such_class_hook(first, second)
            }));
        };
        let Value::Object(mut body) = body else {
            return Err(CloudError::from_lc(LcError::invalid_hook_request(
                "the body must be a JSON object",
            )));
        };
        let object = match body.remove("object") {
            Some(object @ Value::Object(_)) => object,
            None | Some(Value::Null) if kind.is_user_hook() => Value::Object(Map::new()),
            _ => {
                return Err(CloudError::from_lc(LcError::invalid_hook_request(format!(
                    "{kind} needs the object as {{\"object\": {{...}}}}"
                ))));
            }
        };
        let mut hook = HookRequest::new(object).with_remote_address(remote_address);
        hook.user = match kind {
            // The Node engine's user hooks see the user as both object and user.
            HookKind::OnLogin | HookKind::OnVerified(_) => Some(hook.object.clone()),
            _ => body.remove("user").filter(Value::is_object),
        };
        hook.auth_data = body.remove("authData");
        self.inner.registry.run_hook(&class, kind, hook).await
    }
}

/// An engine is also a transport: the emulator can send it hook and function requests
/// in-process, exactly as it would over HTTP.
impl Transport for Engine {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
        let engine = self.clone();
        async move { Ok(engine.handle(request, None).await) }.boxed()
    }
}

/// `(endpoint, rest)` for `/1.1/functions<rest>`, `/1/call<rest>`, ... (also under
/// `/__engine`).
fn route(path: &str) -> Option<(Endpoint, &str)> {
    let path = path.strip_prefix("/__engine").unwrap_or(path);
    let path = path
        .strip_prefix("/1.1/")
        .or_else(|| path.strip_prefix("/1/"))?;
    for (prefix, endpoint) in [("functions", Endpoint::Functions), ("call", Endpoint::Call)] {
        if let Some(rest) = path.strip_prefix(prefix)
            && (rest.is_empty() || rest.starts_with('/'))
        {
            return Some((endpoint, rest));
        }
    }
    None
}

/// The non-empty, percent-decoded segments of a route's rest.
fn segments(rest: &str) -> Vec<String> {
    rest.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

fn is_ping(path: &str) -> bool {
    matches!(path, "/__engine/1/ping" | "/__engine/1.1/ping")
}

/// The body as the Node engine's parsers read it (JSON object or array, a form, or a
/// browser's `text/plain` JSON carrying the credentials), and the credentials.
fn read_body(request: &Request) -> Result<(Value, Credentials), LcError> {
    let content_type = request
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let empty = request.body.iter().all(u8::is_ascii_whitespace);
    if content_type.starts_with("text/plain") {
        let mut body = if empty {
            Map::new()
        } else {
            match parse_json(&request.body)? {
                Value::Object(map) => map,
                _ => Map::new(),
            }
        };
        let creds = Credentials::take_from_body(&mut body);
        return Ok((Value::Object(body), creds));
    }
    let creds = Credentials::from_headers(request);
    let body = if empty {
        Value::Object(Map::new())
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        Value::Object(
            form_urlencoded::parse(&request.body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect(),
        )
    } else if content_type.is_empty() || content_type.contains("json") {
        parse_json(&request.body)?
    } else {
        // Node's parsers leave other bodies unread.
        Value::Object(Map::new())
    };
    Ok((body, creds))
}

/// Strict JSON, as body-parser: the top level must be an object or an array.
fn parse_json(bytes: &[u8]) -> Result<Value, LcError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value @ (Value::Object(_) | Value::Array(_))) => Ok(value),
        Ok(other) => Err(LcError::malformed_engine_body(format!(
            "the body must be a JSON object or array, got {other}"
        ))),
        Err(e) => Err(LcError::malformed_engine_body(e)),
    }
}

/// A JSON answer with the Node engine's headers (and its permissive CORS origin).
fn json_response(status: u16, body: &Value) -> Response {
    Response {
        status,
        headers: vec![
            (
                "content-type".into(),
                "application/json; charset=UTF-8".into(),
            ),
            ("access-control-allow-origin".into(), "*".into()),
        ],
        body: serde_json::to_vec(body).expect("a serde_json::Value always serialises"),
    }
}

fn error_response(err: &LcError) -> Response {
    json_response(err.status, &err.to_json())
}

/// CORS preflight. `X-LC-Hook-Key` among the allowed headers is how an engine tells the
/// platform's console that it checks hook keys (protocol notes §5.2).
fn preflight(request: &Request) -> Response {
    let origin = request.header("origin").unwrap_or("*").to_string();
    Response {
        status: 200,
        headers: vec![
            ("access-control-allow-origin".into(), origin.into()),
            ("access-control-max-age".into(), "86400".into()),
            (
                "access-control-allow-methods".into(),
                "PUT, GET, POST, DELETE, OPTIONS".into(),
            ),
            (
                "access-control-allow-headers".into(),
                "X-LC-Id, X-LC-Key, X-LC-Session, X-LC-Sign, X-LC-Prod, X-LC-UA, X-LC-Hook-Key, \
                 X-Uluru-Application-Key, X-Uluru-Application-Id, X-Uluru-Application-Production, \
                 X-Uluru-Client-Version, X-Uluru-Session-Token, X-AVOSCloud-Application-Key, \
                 X-AVOSCloud-Application-Id, X-AVOSCloud-Application-Production, \
                 X-AVOSCloud-Client-Version, X-AVOSCloud-Session-Token, X-AVOSCloud-Super-Key, \
                 X-AVOSCloud-Request-Sign, X-Requested-With, Content-Type"
                    .into(),
            ),
            ("content-length".into(), "0".into()),
        ],
        body: Vec::new(),
    }
}

/// Ctrl-C, or SIGTERM on unix: how the `cloud-engine` and `lc-mock` programs are told to
/// stop. The handlers are in place when this returns, so a signal sent any time after
/// (once the program has printed its URL, say) is caught.
pub fn stop_signal() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut interrupt), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            return Box::pin(async move {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = term.recv() => {}
                }
            });
        }
    }
    Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
