//! Cloud code attached to an app, and `/1.1/functions/<name>` and `/1.1/call/<name>`.
//!
//! The app reaches its cloud code through a [`Transport`] that speaks the cloud-engine
//! protocol: an in-process `leancloud::engine::Engine` over a `Registry`, or a remote
//! engine over HTTP. Calls run on a small runtime of the app's own and the handler waits
//! for them, so the synchronous api never blocks the runtime it is called from (wiremock's
//! single thread, or an axum worker). Cloud code reaches storage in-process (see
//! [`WeakInProcess`]); a remote engine calling back over HTTP needs the standalone
//! server, since wiremock answers one request at a time.

use super::routes::Call;
use super::{Api, HandlerResult, Reply};
use futures::future::BoxFuture;
use leancloud::{LcError, Request, Response, Transport};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How long the app waits for its cloud code: a little over the engines' own 15 s, so
/// that the engine's timeout answer (503, code 124) is the one a client normally sees.
pub const CLOUD_WAIT: Duration = Duration::from_secs(16);

/// The cloud code an app calls.
pub struct CloudCode {
    engine: Arc<dyn Transport>,
    runtime: Option<tokio::runtime::Runtime>,
    wait: Duration,
}

impl std::fmt::Debug for CloudCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudCode")
            .field("wait", &self.wait)
            .finish()
    }
}

impl CloudCode {
    /// Cloud code behind `engine`, waited for at most `wait` per call.
    pub fn new(engine: Arc<dyn Transport>, wait: Duration) -> std::io::Result<CloudCode> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("lc-mock-cloud")
            .enable_all()
            .build()?;
        Ok(CloudCode {
            engine,
            runtime: Some(runtime),
            wait,
        })
    }

    /// Send one engine request and wait for its answer.
    pub fn send(&self, request: Request) -> Result<Response, LcError> {
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        let (answer, answered) = std::sync::mpsc::channel();
        let call = self.engine.send(request);
        runtime.spawn(async move {
            let _ = answer.send(call.await);
        });
        match answered.recv_timeout(self.wait) {
            Ok(result) => result,
            Err(_) => Err(LcError::engine_timeout()),
        }
    }
}

impl Drop for CloudCode {
    /// A runtime may not be dropped (which waits) inside another runtime's thread, which
    /// is where apps usually end; its workers are let go instead.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The in-process transport for cloud code attached to an app: like
/// [`super::InProcess`], but it does not keep the app alive (the app holds its cloud
/// code, which holds this).
#[derive(Debug, Clone)]
pub struct WeakInProcess(pub Weak<Api>);

impl Transport for WeakInProcess {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
        let answer = match self.0.upgrade() {
            Some(api) => Ok(api.handle(&request)),
            None => Err(LcError::connection_failed("the emulated app has shut down")),
        };
        Box::pin(std::future::ready(answer))
    }
}

/// `POST /1.1/functions/<name>` and `POST /1.1/call/<name>`: the request goes to the
/// app's cloud code as it came (keys, session, body), and its answer comes back as the
/// engine gave it: `{"result": ...}`, or the function's error with its status.
pub fn call_function(call: &Call<'_>) -> HandlerResult {
    let name = call.param(0);
    let Some(cloud) = call.api.cloud() else {
        return Err(LcError::no_such_cloud_function(name));
    };
    let mut request = call.request.clone();
    request
        .headers
        .retain(|(k, _)| !matches!(k.as_str(), "host" | "content-length" | "connection"));
    let response = cloud.send(request)?;
    let body = response.body_json()?;
    Ok(Reply {
        status: response.status,
        body,
        headers: Vec::new(),
    })
}
