//! The standalone front: the api on its own concurrent HTTP server (axum over hyper), for
//! `lc-mock serve`, SDKs and long runs. Unlike wiremock it keeps no copy of the requests.

use crate::api::{Api, MAX_BODY_BYTES};
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::serve::ListenerExt;
use leancloud::Request;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

async fn handle(
    State(api): State<Arc<Api>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> impl IntoResponse {
    let Ok(body) = body else {
        // Over the limit (or a body that could not be read): the service's 413.
        let response = leancloud::Response::error(&leancloud::LcError::payload_too_large());
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            [("content-type", "application/json;charset=utf-8")],
            response.body,
        )
            .into_response();
    };
    let mut request = Request::from_target(
        method.as_str(),
        uri.path_and_query().map_or("/", |pq| pq.as_str()),
    );
    request.headers = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    request.body = body.to_vec();
    // The api is synchronous and may wait (on cloud code, which may call back into this
    // server). On a multi-thread runtime the worker hands its queued tasks to another
    // thread first, so nothing waits behind it.
    let response = match tokio::runtime::Handle::current().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| api.handle(&request))
        }
        _ => api.handle(&request),
    };
    let mut out = axum::http::Response::new(Body::from(response.body));
    *out.status_mut() = StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK);
    for (name, value) in response.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            out.headers_mut().append(n, v);
        }
    }
    out.into_response()
}

/// The axum router that serves `api`: every path goes to the api's routes table.
pub fn router(api: Arc<Api>) -> axum::Router {
    axum::Router::new()
        .fallback(handle)
        // One byte over the service's limit reaches the api, which answers 413 itself.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES + 1))
        .with_state(api)
}

/// Serve `api` on `listener` until the future is dropped.
pub async fn serve(listener: TcpListener, api: Arc<Api>) -> std::io::Result<()> {
    axum::serve(no_delay(listener), router(api)).await
}

/// Answers go out as soon as they are written: every exchange is one request and one
/// response, so Nagle's algorithm could only add latency.
pub fn no_delay(listener: TcpListener) -> impl axum::serve::Listener<Addr = SocketAddr> {
    listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    })
}

/// A standalone server running in the background on this runtime.
#[derive(Debug)]
pub struct Standalone {
    pub addr: SocketAddr,
    pub api: Arc<Api>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Standalone {
    /// Bind `addr` (port 0: any free port) and serve in a background task.
    pub async fn start(addr: SocketAddr, api: Arc<Api>) -> std::io::Result<Standalone> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(serve(listener, api.clone()));
        Ok(Standalone { addr, api, task })
    }

    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        self.task.abort();
    }
}
