//! The axum front of the engine: every request becomes a [`crate::Request`] for
//! [`Engine::handle`], with the peer's address for `meta.remoteAddress`.

use super::{Engine, EngineConfig, MAX_BODY_BYTES, json_response};
use crate::cloud::Registry;
use crate::recording::Writer;
use crate::{LcError, Request};
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;

async fn handle(
    State(engine): State<Engine>,
    request: axum::extract::Request,
) -> impl IntoResponse {
    let (parts, body) = request.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let started = Instant::now();
    let mut req = Request::from_target(
        parts.method.as_str(),
        parts.uri.path_and_query().map_or("/", |pq| pq.as_str()),
    );
    req.headers = parts
        .headers
        .iter()
        .map(|(k, v)| crate::http::received_header(k.as_str(), v.as_bytes()))
        .collect();
    let response = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            req.body = bytes.to_vec();
            engine.handle(req, peer).await
        }
        Err(_) => {
            let err = LcError::engine_payload_too_large();
            let response = json_response(err.status, &err.to_json());
            // Recorded without the body it could not read.
            engine.record(&req, &response, started.elapsed());
            response
        }
    };
    let mut out = axum::http::Response::new(Body::from(response.body));
    *out.status_mut() =
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in response.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            out.headers_mut().append(n, v);
        }
    }
    out
}

/// The axum router that serves `engine` (every path goes to [`Engine::handle`]). Serve
/// it with `into_make_service_with_connect_info::<SocketAddr>()` to report client
/// addresses; without, they are `127.0.0.1`.
pub fn router(engine: Engine) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(engine)
}

/// Serve `registry` over the engine protocol on `listener` until the future is dropped.
pub async fn serve(
    listener: TcpListener,
    registry: Registry,
    config: EngineConfig,
) -> std::io::Result<()> {
    serve_engine(listener, Engine::new(registry, config)).await
}

/// [`serve`], recording every exchange to `writer` (see [`Engine::with_recorder`]).
pub async fn serve_recording(
    listener: TcpListener,
    registry: Registry,
    config: EngineConfig,
    writer: Arc<Writer>,
) -> std::io::Result<()> {
    serve_engine(
        listener,
        Engine::new(registry, config).with_recorder(writer),
    )
    .await
}

async fn serve_engine(listener: TcpListener, engine: Engine) -> std::io::Result<()> {
    // Every exchange is one request and one answer: Nagle's algorithm only adds latency.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        router(engine).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

/// An engine serving in a background task of the current tokio runtime; stops when
/// dropped.
#[derive(Debug)]
pub struct RunningEngine {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningEngine {
    /// `http://127.0.0.1:<port>`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningEngine {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Bind `127.0.0.1` on any free port and serve `registry` there in the background.
pub async fn start(registry: Registry, config: EngineConfig) -> std::io::Result<RunningEngine> {
    start_engine(Engine::new(registry, config)).await
}

/// [`start`], recording every exchange to `writer` (see [`Engine::with_recorder`]).
pub async fn start_recording(
    registry: Registry,
    config: EngineConfig,
    writer: Arc<Writer>,
) -> std::io::Result<RunningEngine> {
    start_engine(Engine::new(registry, config).with_recorder(writer)).await
}

async fn start_engine(engine: Engine) -> std::io::Result<RunningEngine> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(serve_engine(listener, engine));
    Ok(RunningEngine { addr, task })
}
