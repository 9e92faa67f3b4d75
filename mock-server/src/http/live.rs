//! LiveQuery's realtime endpoints on the standalone front (the wiremock front has no
//! WebSocket): the realtime router's `GET /v1/route`, which points an SDK at this
//! server's own WebSocket, and that WebSocket ([`SOCKET_PATH`]), whose protocol is
//! `api::livequery::Connection`'s; this module only moves its frames.
//!
//! The router: leancloud-realtime 5.0.0-rc.8 `dist/core.js`, `Realtime._fetchRTMServers`
//! asks `<RTMRouter>/v1/route?appId=...&secure=...` (the storage SDK sets `RTMRouter`
//! to its `serverURLs`' `rtm`, which a single `serverURL` fills: leancloud-storage
//! `dist/node/init.js`), and `_getRTMServers` takes `server`, `secondary` and `ttl` (in
//! seconds) from the answer. This server answers its own address, as the client reached
//! it (`Host`), with `ws://`: it serves no TLS.

use crate::api::Api;
use crate::api::livequery::{self, Connection, Out};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use leancloud::realtime::{Format, Frame};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The realtime router's path.
pub const ROUTE_PATH: &str = "/v1/route";
/// The WebSocket's path, which the router's answer names.
pub const SOCKET_PATH: &str = "/livequery";
/// How long an SDK may keep the router's answer, in seconds (it asks again after).
pub const ROUTE_TTL_SECS: u64 = 3600;
/// WebSockets open at once; one more is refused (503) until one closes. They do not
/// count against the HTTP connections (`standalone::MAX_CONNECTIONS`): an upgraded
/// connection leaves hyper.
pub const MAX_LIVE_CONNECTIONS: usize = 1024;
/// The most a client frame may be before the WebSocket layer itself gives up on the
/// connection: [`livequery::MAX_FRAME_BYTES`] is the protocol's limit, answered 4109;
/// this bound only keeps a frame far past it from being read at all.
pub const MAX_SOCKET_MESSAGE_BYTES: usize = 16 * livequery::MAX_FRAME_BYTES;

#[derive(Clone)]
pub(super) struct Live {
    api: Arc<Api>,
    slots: Arc<Semaphore>,
}

/// The router serving both endpoints for `api`.
pub(super) fn router(api: Arc<Api>) -> axum::Router {
    axum::Router::new()
        .route(ROUTE_PATH, axum::routing::get(route))
        .route(SOCKET_PATH, axum::routing::get(socket))
        .with_state(Live {
            api,
            slots: Arc::new(Semaphore::new(MAX_LIVE_CONNECTIONS)),
        })
}

fn error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json;charset=utf-8")],
        json!({"code": code, "error": message}).to_string(),
    )
        .into_response()
}

/// `GET /v1/route?appId=<id>`: `{"server", "secondary", "ttl"}`, both servers this
/// one's WebSocket. Another app's id is 4100 (APP_NOT_AVAILABLE), the realtime
/// service's code for an app it does not serve.
async fn route(State(live): State<Live>, uri: Uri, headers: HeaderMap) -> Response {
    let target = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let request = leancloud::Request::from_target("GET", target);
    if request.query_param("appId") != Some(live.api.config().app_id.as_str()) {
        let (code, message) = leancloud::realtime::code::APP_NOT_AVAILABLE;
        return error(StatusCode::NOT_FOUND, i64::from(code), message);
    }
    let Some(host) = headers.get("host").and_then(|h| h.to_str().ok()) else {
        return error(
            StatusCode::BAD_REQUEST,
            1,
            "The request has no Host header.",
        );
    };
    let server = format!("ws://{host}{SOCKET_PATH}");
    let body = json!({"server": server, "secondary": server, "ttl": ROUTE_TTL_SECS});
    let mut response = (
        [("content-type", "application/json;charset=utf-8")],
        body.to_string(),
    )
        .into_response();
    let origin = headers.get("origin").and_then(|h| h.to_str().ok());
    for (name, value) in super::cors::answer_headers(ROUTE_PATH, origin) {
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(n, v);
        }
    }
    response
}

/// The WebSocket: one of the realtime subprotocols (`lc.protobuf2.3`,
/// `lc.proto2base64.3`, `lc.json.3`) must be asked for.
async fn socket(
    State(live): State<Live>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return error(rejection.status(), 1, &rejection.body_text());
        }
    };
    let upgrade = upgrade
        .protocols(Format::PROTOCOLS)
        .max_message_size(MAX_SOCKET_MESSAGE_BYTES)
        .max_frame_size(MAX_SOCKET_MESSAGE_BYTES);
    let Some(format) = upgrade
        .selected_protocol()
        .and_then(|p| p.to_str().ok())
        .and_then(Format::from_protocol)
    else {
        let message = format!(
            "The WebSocket needs one of the subprotocols {}.",
            Format::PROTOCOLS.join(", ")
        );
        return error(StatusCode::BAD_REQUEST, 1, &message);
    };
    let Ok(slot) = live.slots.clone().try_acquire_owned() else {
        let message = format!("{MAX_LIVE_CONNECTIONS} LiveQuery connections are open already.");
        return error(StatusCode::SERVICE_UNAVAILABLE, 1, &message);
    };
    let api = live.api.clone();
    upgrade.on_upgrade(move |socket| serve(api, format, socket, slot))
}

fn message(frame: Frame) -> Message {
    match frame {
        Frame::Binary(bytes) => Message::Binary(bytes.into()),
        Frame::Text(text) => Message::Text(text.into()),
    }
}

/// Move one connection's frames until either side closes it.
async fn serve(api: Arc<Api>, format: Format, mut socket: WebSocket, _slot: OwnedSemaphorePermit) {
    let (sender, mut events) = livequery::queue();
    let mut connection = Connection::new(api, format, sender);
    loop {
        let outs = tokio::select! {
            incoming = socket.recv() => match incoming {
                // Gone, broken, or a frame far past the limit.
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(Message::Binary(bytes))) => connection.receive(&Frame::Binary(bytes.to_vec())),
                Some(Ok(Message::Text(text))) => connection.receive(&Frame::Text(text.to_string())),
                // The WebSocket layer answers pings itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            },
            push = events.queue.recv() => match push {
                Some(push) => vec![Out::Frame(connection.push_frame(&push))],
                None => break,
            },
            () = events.overflowed.notified() => vec![Connection::overflowed()],
        };
        for out in outs {
            let (sent, last) = match out {
                Out::Frame(frame) => (socket.send(message(frame)).await, false),
                Out::Close(code, reason) => {
                    let close = CloseFrame {
                        code,
                        reason: reason.into(),
                    };
                    (socket.send(Message::Close(Some(close))).await, true)
                }
            };
            if sent.is_err() || last {
                return;
            }
        }
    }
}
