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
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leancloud::realtime::{Format, Frame};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The WebSocket's path, which the router's answer names.
pub const SOCKET_PATH: &str = crate::api::livequery::SOCKET_PATH;
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

/// The router serving the WebSocket for `api` (the realtime router's `GET /v1/route` is
/// the api's own, `api::livequery::route`, so that every front answers it).
pub(super) fn router(api: Arc<Api>) -> axum::Router {
    axum::Router::new()
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
