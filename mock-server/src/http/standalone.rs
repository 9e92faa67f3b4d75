//! The standalone front: the api on its own concurrent HTTP server (hyper, with tower's
//! layers and axum for LiveQuery's WebSocket), for `lc-mock serve`, SDKs and long runs.
//! Unlike wiremock it keeps no copy of the requests.
//!
//! It answers as the service's HTTP edge does: CORS on the API (see [`super::cors`]),
//! gzip when asked, and every limit of the connection answered LeanCloud-shaped (see the
//! constants below and [`super::head_errors`]). axum::serve does not expose hyper's head
//! limits or header read timeout, so connections are served by hyper's http1 builder
//! here, with the service [`service`] builds.

use super::head_errors::ShapedHeadErrors;
use super::{console, cors, live};
use crate::api::{Api, MAX_BODY_BYTES};
use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};
use axum::serve::ListenerExt;
use http_body_util::{BodyExt, Either, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use leancloud::http::Header;
use leancloud::{LcError, Request};
use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::{Layer, ServiceExt};
use tower_http::compression::predicate::SizeAbove;
use tower_http::compression::{CompressionBody, CompressionLayer};

/// How long a connection may take to send a request head, and how long an idle
/// keep-alive connection is kept: past it the connection is closed without an answer,
/// as the service's front does with a client that sends nothing.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a request body may take to arrive in full; past it the answer is 408
/// ([`LcError::body_read_timeout`]) and the connection is closed.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections served at once; further ones wait to be accepted until one closes.
pub const MAX_CONNECTIONS: usize = 1024;
/// The request line and headers together, in bytes; past it the answer is 431.
pub const MAX_HEAD_BYTES: usize = 128 * 1024;
/// Header fields in one request; past it the answer is 431.
pub const MAX_HEADERS: usize = 100;
/// The request target (path and query), in bytes; past it the answer is 414. This is
/// hyper's own, fixed limit, named here so it is documented.
pub const MAX_URI_BYTES: usize = u16::MAX as usize - 1;
/// After the shutdown signal, how long open connections get to finish the request they
/// are on before the server returns regardless (a head that never ends would otherwise
/// hold it for the whole header timeout).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Answers smaller than this go out uncompressed even when gzip is accepted: they would
/// not get smaller by much.
pub const GZIP_MIN_BYTES: u16 = 1024;

/// A request id a client sends (`X-Request-Id`) is kept when it is at most this long
/// and printable ASCII; otherwise the server makes its own.
pub const MAX_REQUEST_ID_BYTES: usize = 128;

/// The limits and options of one server that tests (and `lc-mock serve`) may change.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub max_connections: usize,
    /// Print one JSON line per request on standard error (see [`AccessLog`]) and answer
    /// with its `X-Request-Id`.
    pub log_requests: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: HEADER_READ_TIMEOUT,
            body_read_timeout: BODY_READ_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            log_requests: false,
        }
    }
}

struct Front {
    api: Arc<Api>,
    body_read_timeout: Duration,
    /// The server listens on a loopback address: the console may open without keys.
    console_open: bool,
    log: Option<AccessLog>,
}

/// The access log of `lc-mock serve --log json`: one JSON object per line on standard
/// error, for a log collector (`journald`, a container runtime) to parse:
///
/// `{"time":"2026-12-05T04:10:00.123Z","level":"info","requestId":"3f2a-17","method":"GET",
/// "path":"/1.1/classes/Review","status":200,"ms":0.41}`
///
/// The request id is the client's `X-Request-Id` when it sent a usable one, else the
/// server's own (a prefix of this process, then a counter); the answer carries it back in
/// `X-Request-Id`, so a client's failure leads to its line. The query string is left out
/// (it may hold what a `where` looks for); `level` is `warn` for answers of 500 and above.
#[derive(Debug)]
pub struct AccessLog {
    prefix: String,
    next: std::sync::atomic::AtomicU64,
}

impl Default for AccessLog {
    fn default() -> Self {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        AccessLog {
            prefix: format!("{:x}{:x}", std::process::id(), started & 0xffff_ffff),
            next: std::sync::atomic::AtomicU64::new(1),
        }
    }
}

impl AccessLog {
    /// The id of a request with these headers.
    pub fn request_id(&self, sent: Option<&HeaderValue>) -> String {
        if let Some(id) = sent.and_then(|v| v.to_str().ok())
            && !id.is_empty()
            && id.len() <= MAX_REQUEST_ID_BYTES
            && id.bytes().all(|b| b.is_ascii_graphic())
        {
            return id.to_string();
        }
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{}-{n:x}", self.prefix)
    }

    /// The line for one answered request.
    pub fn line(id: &str, method: &str, path: &str, status: u16, elapsed: Duration) -> String {
        // Wall-clock time, not the app's (whose clock tests may move).
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let time = leancloud::value::format_date(now_ms);
        serde_json::json!({
            "time": time,
            "level": if status >= 500 { "warn" } else { "info" },
            "requestId": id,
            "method": method,
            "path": path,
            "status": status,
            "ms": (elapsed.as_secs_f64() * 1e5).round() / 100.0,
        })
        .to_string()
    }
}

/// Every request, logged when the server logs (see [`AccessLog`]).
async fn handle(front: &Front, request: hyper::Request<Incoming>) -> Response<Full<Bytes>> {
    let Some(log) = &front.log else {
        return answer(front, request).await;
    };
    let started = std::time::Instant::now();
    let id = log.request_id(request.headers().get("x-request-id"));
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let mut response = answer(front, request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    let line = AccessLog::line(
        &id,
        method.as_str(),
        &path,
        response.status().as_u16(),
        started.elapsed(),
    );
    {
        use std::io::Write;
        // A log that cannot be written (a closed pipe) does not fail the request.
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
    response
}

/// An answer of the front itself (not the api's), with the CORS headers of its path.
/// The body was not read to its end, so the connection is closed after it.
fn front_answer(err: &LcError, cors_headers: Vec<Header>) -> Response<Full<Bytes>> {
    let mut response = leancloud::Response::error(err);
    response.headers.extend(cors_headers);
    response.headers.push(("connection".into(), "close".into()));
    to_http(response)
}

fn to_http(response: leancloud::Response) -> Response<Full<Bytes>> {
    let mut out = Response::new(Full::new(Bytes::from(response.body)));
    *out.status_mut() = StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK);
    for (name, value) in response.headers {
        if let (Ok(n), Some(v)) = (HeaderName::from_bytes(name.as_bytes()), header_value(value)) {
            out.headers_mut().append(n, v);
        }
    }
    out
}

/// A header's value; a constant one (a JSON answer's, CORS's `*`) without a copy.
fn header_value(value: Cow<'static, str>) -> Option<HeaderValue> {
    match value {
        // What `HeaderValue::from_static` accepts (it panics on anything else).
        Cow::Borrowed(v) if v.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)) => {
            Some(HeaderValue::from_static(v))
        }
        v => HeaderValue::from_str(&v).ok(),
    }
}

/// The whole body of a request, in at most the front's body read timeout and within
/// [`MAX_BODY_BYTES`] and one byte (one byte over the service's limit reaches the api,
/// which answers 413 itself); otherwise the error to answer with.
async fn read_body(front: &Front, body: Incoming) -> Result<Bytes, LcError> {
    let limited = Limited::new(body, MAX_BODY_BYTES + 1);
    match tokio::time::timeout(front.body_read_timeout, limited.collect()).await {
        Ok(Ok(body)) => Ok(body.to_bytes()),
        Err(_) => Err(LcError::body_read_timeout()),
        // Over the limit: the service's 413, without reading the rest.
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(LcError::payload_too_large()),
        // A body that cannot be read, e.g. broken chunked encoding (hyper's error).
        Ok(Err(_)) => Err(LcError::unreadable_body()),
    }
}

async fn answer(front: &Front, request: hyper::Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    // The console is not LeanCloud's API: no CORS, its own access rule (http::console).
    if console::is_console(path) {
        return to_http(console::answer(
            path,
            parts.method.as_str(),
            header("host"),
            header("origin"),
            front.console_open,
            front.api.config(),
        ));
    }
    let origin = header("origin");
    if let Some(answer) = cors::preflight(parts.method.as_str(), path, origin) {
        return to_http(answer);
    }
    let cors_headers = cors::answer_headers(path, origin);
    // A body announced over the limit is refused before it is read: the client may
    // never send it.
    if body.size_hint().lower() > (MAX_BODY_BYTES + 1) as u64 {
        return front_answer(&LcError::payload_too_large(), cors_headers);
    }
    // Most requests (every GET) have no body: nothing to wait for.
    let body = if body.is_end_stream() {
        Bytes::new()
    } else {
        match read_body(front, body).await {
            Ok(body) => body,
            Err(err) => return front_answer(&err, cors_headers),
        }
    };
    let mut request = Request::from_target(
        parts.method.as_str(),
        parts.uri.path_and_query().map_or("/", |pq| pq.as_str()),
    );
    request.headers = parts
        .headers
        .iter()
        .map(|(k, v)| leancloud::http::received_header(k.as_str(), v.as_bytes()))
        .collect();
    request.body = body.to_vec();
    // The api is synchronous and runs on the worker. Where it waits (on cloud code: a
    // hook, a function, `POST /__mock/idle`, whose code may call back into this server) it
    // hands the worker's queued tasks to another thread itself (`block_in_place` in
    // `api::cloud`), so nothing waits behind it; anything else holds the store's lock for
    // one model call at a time. Handing every request over instead cost a thread wake-up
    // and two context switches each, most of a GET's cost under load
    // (`cargo bench -p lc-mock --bench http`). With `--data`, the wait for the disk is
    // asynchronous: other requests are answered meanwhile, and share the next commit.
    let mut response = front.api.handle_async(&request).await;
    response.headers.extend(cors_headers);
    to_http(response)
}

/// The service hyper calls for each request of a connection: LiveQuery's WebSocket
/// ([`live::SOCKET_PATH`], its own axum router, outside the REST API's layers), and
/// every other path through [`handle`] to the api, gzipped when the client accepts it
/// (the REST API compresses its answers: protocol notes §7b; brotli too there, gzip only
/// here). A plain service rather than an axum router with a fallback: the router boxed
/// and cloned each layer's service and future on every request, about twenty allocations
/// of a GET's seventy-odd (`cargo bench -p lc-mock --bench http`).
fn service(
    api: Arc<Api>,
    limits: Limits,
    console_open: bool,
) -> impl tower::Service<
    hyper::Request<Incoming>,
    Response = Response<Answer>,
    Error = Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    let live = live::router(api.clone());
    let front = Arc::new(Front {
        api,
        body_read_timeout: limits.body_read_timeout,
        console_open,
        log: limits.log_requests.then(AccessLog::default),
    });
    let rest = CompressionLayer::new()
        .compress_when(SizeAbove::new(GZIP_MIN_BYTES))
        .layer(tower::service_fn(move |request| {
            let front = front.clone();
            async move { Ok::<_, Infallible>(handle(&front, request).await) }
        }));
    tower::service_fn(move |request: hyper::Request<Incoming>| {
        let (live, rest) = (live.clone(), rest.clone());
        async move {
            if request.uri().path() == live::SOCKET_PATH {
                let response = live.oneshot(request).await?;
                Ok(response.map(Either::Right))
            } else {
                let response = rest.oneshot(request).await?;
                Ok(response.map(Either::Left))
            }
        }
    })
}

/// The body of an answer: the REST API's (gzipped or not), or LiveQuery's router's.
type Answer = Either<CompressionBody<Full<Bytes>>, Body>;

/// Serve `api` on `listener` with the default limits, until the future is dropped.
pub async fn serve(listener: TcpListener, api: Arc<Api>) -> std::io::Result<()> {
    serve_with(listener, api, Limits::default(), std::future::pending()).await
}

/// Serve `api` on `listener` until `shutdown` completes; then stop accepting, let open
/// connections finish the request they are on (for up to [`SHUTDOWN_GRACE`]), and return.
pub async fn serve_with(
    listener: TcpListener,
    api: Arc<Api>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let loopback = listener
        .local_addr()
        .is_ok_and(|addr| addr.ip().is_loopback());
    let app = TowerToHyperService::new(service(api, limits, loopback));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    // At least one, or nothing would ever be served; at most what a semaphore counts.
    let cap = limits.max_connections.clamp(1, u32::MAX as usize);
    let slots = Arc::new(Semaphore::new(cap));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let tcp = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                // The peer gave up before it was accepted: nothing to serve.
                Err(e) if is_connection_error(&e) => continue,
                // Out of file descriptors or the like: wait for some to be freed.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // Every exchange is one request and one response: Nagle's algorithm could only
        // add latency.
        let _ = tcp.set_nodelay(true);
        // With upgrades: LiveQuery's WebSocket (http/live.rs) leaves hyper that way.
        let connection = http
            .serve_connection(TokioIo::new(ShapedHeadErrors::new(tcp)), app.clone())
            .with_upgrades();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = stopped.wait_for(|stop| *stop) => connection.as_mut().graceful_shutdown(),
            }
            let _ = connection.await;
        });
    }
    let _ = stop.send(true);
    // Every slot back means every connection has finished.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(cap as u32)).await;
    Ok(())
}

fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
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
        Standalone::start_with(addr, api, Limits::default()).await
    }

    /// [`Standalone::start`] with given limits.
    pub async fn start_with(
        addr: SocketAddr,
        api: Arc<Api>,
        limits: Limits,
    ) -> std::io::Result<Standalone> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(serve_with(
            listener,
            api.clone(),
            limits,
            std::future::pending(),
        ));
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
