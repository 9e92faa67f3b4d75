//! LiveQuery: the subscriptions (`POST /1.1/LiveQuery/subscribe`, `.../unsubscribe`),
//! the realtime connections' protocol ([`Connection`]), and the events every write of
//! the app sends them ([`LiveQueries::publish`], from [`super::StoreGuard`]).
//!
//! How an SDK uses it (leancloud-storage 4.15.2 `dist/node/live-query.js`,
//! leancloud-realtime 5.0.0-rc.8 `dist/core.js`, leancloud-realtime-plugin-live-query
//! 1.2.0 `src/`):
//! 1. `GET <rtm>/v1/route?appId=...` answers `{server, secondary, ttl}`: the WebSocket
//!    URL (the standalone front, `http/live.rs`, serves both);
//! 2. on a WebSocket of subprotocol `lc.protobuf2.3`, a `login` command with
//!    `installationId` = the subscription id and `service: 1`, answered `loggedin`;
//! 3. `POST /1.1/LiveQuery/subscribe` `{query: {className, where, keys, returnACL}, id}`
//!    answers `{query_id}`;
//! 4. the server pushes `data` commands (`installationId`, `service: 1`,
//!    `dataMessage: {ids, msg: [{data: "<JSON event>"}]}`), which the client acks;
//! 5. `POST /1.1/LiveQuery/unsubscribe` `{id, query_id}`; a `logout` command.
//!
//! Subscriptions are the api's, not the store's: snapshots, restores and resets keep
//! them (like connections, they are the clients' state, not the app's data), a fork has
//! none. A subscription holds its query and its subscriber's session token; the
//! subscriber is worked out again at each event, so a role granted or a session ended
//! since counts. Events are computed under the store's write lock, as the write that
//! causes them ends, so each connection gets them in commit order; they are delivered
//! only to a connection logged in as the subscription's id (no queue for one that is
//! not, and acks are not waited for: no redelivery).

use super::routes::Call;
use super::{HandlerResult, Reply};
use crate::api::Api;
use lc_model::live::{self, Classes};
use lc_model::{Principal, Store};
use leancloud::LcError;
use leancloud::realtime::{self, Cmd, Command, ErrorCommand, Format, Frame};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Subscriptions one subscription id (one client) may hold; one more is refused.
pub const MAX_SUBSCRIPTIONS_PER_CLIENT: usize = 100;
/// The realtime router's path.
pub const ROUTE_PATH: &str = "/v1/route";
/// The WebSocket's path (served by the standalone front), which the router names.
pub const SOCKET_PATH: &str = "/livequery";
/// How long an SDK may keep the router's answer, in seconds (it asks again after).
pub const ROUTE_TTL_SECS: u64 = 3600;
/// Subscriptions one app holds at most, every client together.
pub const MAX_SUBSCRIPTIONS: usize = 10_000;
/// Subscription ids (LiveQuery clients) one connection may log in as.
pub const MAX_CLIENTS_PER_CONNECTION: usize = 16;
/// The longest installation (subscription) id, in bytes: a longer one is 4103
/// INVALID_LOGIN, which the error-code page describes as a client id over 64 characters
/// (weakish/docs `views/_im.njk`).
pub const MAX_INSTALLATION_ID_BYTES: usize = 64;
/// The largest frame a client may send, in bytes: past it the connection is closed with
/// 4109 FRAME_TOO_LONG, whose description on the error-code page is a message over 5 KB.
pub const MAX_FRAME_BYTES: usize = 5 * 1024;
/// Events waiting to be written to one connection; past it the connection is closed
/// with 4200 (the client reconnects and subscribes again) rather than queue without end.
pub const MAX_QUEUED_EVENTS: usize = 1024;

/// An event on its way to a connection: which client it is for, its id (for the ack)
/// and the message.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    pub installation_id: String,
    pub id: String,
    pub message: Value,
}

/// Where a connection's events go: a bounded queue its writer drains, and the signal
/// that the queue overflowed (the connection is then closed).
#[derive(Debug, Clone)]
pub struct Sender {
    queue: tokio::sync::mpsc::Sender<Push>,
    overflowed: Arc<tokio::sync::Notify>,
}

impl Sender {
    /// Queue `push`; `false` when the queue is full (the writer is told) or gone.
    fn send(&self, push: Push) -> bool {
        match self.queue.try_send(push) {
            Ok(()) => true,
            Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => {
                self.overflowed.notify_one();
                false
            }
            Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    fn same_channel(&self, other: &Sender) -> bool {
        self.queue.same_channel(&other.queue)
    }
}

/// A connection's end of its queue.
#[derive(Debug)]
pub struct Events {
    pub queue: tokio::sync::mpsc::Receiver<Push>,
    /// Notified when an event found the queue full: the connection is to close.
    pub overflowed: Arc<tokio::sync::Notify>,
}

/// A queue for one connection's events, [`MAX_QUEUED_EVENTS`] long.
pub fn queue() -> (Sender, Events) {
    let (tx, rx) = tokio::sync::mpsc::channel(MAX_QUEUED_EVENTS);
    let overflowed = Arc::new(tokio::sync::Notify::new());
    (
        Sender {
            queue: tx,
            overflowed: overflowed.clone(),
        },
        Events {
            queue: rx,
            overflowed,
        },
    )
}

#[derive(Debug)]
struct Subscription {
    /// The subscription id (the client's installation id) it belongs to.
    client: String,
    query: live::Query,
    /// The subscriber's session token, if they were signed in.
    session: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    /// By query id.
    subscriptions: BTreeMap<String, Subscription>,
    /// The connection each logged-in client's events go to.
    clients: HashMap<String, Sender>,
}

/// One app's subscriptions and the connections logged in to receive their events.
#[derive(Debug, Default)]
pub struct LiveQueries {
    state: Mutex<State>,
    /// Whether any subscription exists: without one, a write costs LiveQuery one load.
    active: AtomicBool,
    next_event: AtomicU64,
}

/// What a write holder of the store changes, watched for LiveQuery: the classes as the
/// lock was taken, and the keys the writes' bodies named.
pub(crate) struct Watch<'a> {
    live: &'a LiveQueries,
    before: Classes,
    keys: Vec<(String, String, Vec<String>)>,
}

impl Watch<'_> {
    /// An update's body named `keys` (its `updatedKeys`).
    pub(crate) fn note_keys(&mut self, class: &str, id: &str, keys: &[String]) {
        self.keys
            .push((class.to_string(), id.to_string(), keys.to_vec()));
    }

    /// Send the events of what changed since the watch began.
    pub(crate) fn publish(self, store: &Store) {
        self.live.publish(store, &self.before, &self.keys);
    }
}

impl LiveQueries {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A watch of the writes about to be made, when anyone subscribes.
    pub(crate) fn watch(&self, store: &Store) -> Option<Watch<'_>> {
        self.active.load(Ordering::Acquire).then(|| Watch {
            live: self,
            before: Classes::of(store),
            keys: Vec::new(),
        })
    }

    /// The subscriptions held now, as `(query id, subscription id, class)`.
    pub fn subscriptions(&self) -> Vec<(String, String, String)> {
        self.state()
            .subscriptions
            .iter()
            .map(|(q, s)| (q.clone(), s.client.clone(), s.query.class.clone()))
            .collect()
    }

    /// Subscribe `client` to `query` for the holder of `session`; the query id, the same
    /// for the same client and query (an SDK subscribes again after a reconnection and
    /// keeps the query id it had).
    fn subscribe(
        &self,
        client: &str,
        query: live::Query,
        raw: &Value,
        session: Option<String>,
    ) -> Result<String, LcError> {
        let query_id = query_id(client, raw);
        let mut state = self.state();
        if !state.subscriptions.contains_key(&query_id) {
            let held = state
                .subscriptions
                .values()
                .filter(|s| s.client == client)
                .count();
            if held >= MAX_SUBSCRIPTIONS_PER_CLIENT {
                return Err(LcError::generic(format!(
                    "A LiveQuery client holds {MAX_SUBSCRIPTIONS_PER_CLIENT} subscriptions at most."
                )));
            }
            if state.subscriptions.len() >= MAX_SUBSCRIPTIONS {
                return Err(LcError::generic(format!(
                    "An app holds {MAX_SUBSCRIPTIONS} LiveQuery subscriptions at most."
                )));
            }
        }
        state.subscriptions.insert(
            query_id.clone(),
            Subscription {
                client: client.to_string(),
                query,
                session,
            },
        );
        self.active.store(true, Ordering::Release);
        Ok(query_id)
    }

    fn unsubscribe(&self, client: &str, query_id: &str) {
        let mut state = self.state();
        if state
            .subscriptions
            .get(query_id)
            .is_some_and(|s| s.client == client)
        {
            state.subscriptions.remove(query_id);
        }
        self.active
            .store(!state.subscriptions.is_empty(), Ordering::Release);
    }

    /// Send `client`'s events to `sender` from now on (a later login of the same client
    /// takes them over).
    fn attach(&self, client: &str, sender: &Sender) {
        self.state()
            .clients
            .insert(client.to_string(), sender.clone());
    }

    /// Stop sending `client`'s events to `sender`, if they went there.
    fn detach(&self, client: &str, sender: &Sender) {
        let mut state = self.state();
        if state
            .clients
            .get(client)
            .is_some_and(|s| s.same_channel(sender))
        {
            state.clients.remove(client);
        }
    }

    /// The events of every object changed since `before`, to every subscription that
    /// sees them. Runs under the store's write lock, as the write ends.
    fn publish(&self, store: &Store, before: &Classes, keys: &[(String, String, Vec<String>)]) {
        let mut state = self.state();
        if state.subscriptions.is_empty() {
            return;
        }
        let mut classes: Vec<&str> = state
            .subscriptions
            .values()
            .map(|s| s.query.class.as_str())
            .collect();
        classes.sort_unstable();
        classes.dedup();
        let mut changes = live::changes(store, before, classes);
        if changes.is_empty() {
            return;
        }
        for change in &mut changes {
            let id = change.after.or(change.before).map(|o| o.id.as_str());
            change.keys = keys
                .iter()
                .rev()
                .find(|(class, oid, _)| class == change.class && Some(oid.as_str()) == id)
                .map(|(_, _, k)| k.as_slice());
        }
        // The subscribers' reads are not the writer's: their decisions stay out of the
        // writing request's coverage.
        let (pushes, _) = lc_model::decisions::collect(|| {
            let mut who: HashMap<Option<&str>, Principal> = HashMap::new();
            let mut pushes = Vec::new();
            for (query_id, sub) in &state.subscriptions {
                if !state.clients.contains_key(&sub.client) {
                    continue;
                }
                let reader = who
                    .entry(sub.session.as_deref())
                    .or_insert_with(|| subscriber(store, sub.session.as_deref()));
                for change in changes.iter().filter(|c| c.class == sub.query.class) {
                    if let Some(event) = live::event(store, &sub.query, reader, change) {
                        pushes.push(Push {
                            installation_id: sub.client.clone(),
                            id: self.next_event.fetch_add(1, Ordering::Relaxed).to_string(),
                            message: event.message(query_id),
                        });
                    }
                }
            }
            pushes
        });
        for push in pushes {
            let Some(sender) = state.clients.get(&push.installation_id) else {
                continue;
            };
            let client = push.installation_id.clone();
            if !sender.send(push) {
                // Full, or the connection is gone: it gets nothing more (a full one
                // closes with 4200 once it has written what it holds).
                state.clients.remove(&client);
            }
        }
    }
}

/// Who a subscription's session token stands for now: its user, or nobody (a session
/// that has ended since counts as signed out). Never the master key.
fn subscriber(store: &Store, session: Option<&str>) -> Principal {
    match session.and_then(|t| store.session_user(t)) {
        Some(id) => Principal::user(store, id),
        None => Principal::anonymous(),
    }
}

/// The query id of `client`'s subscription to `query`: the same for the same two.
fn query_id(client: &str, query: &Value) -> String {
    use md5::{Digest, Md5};
    let canonical = json!([client, query]).to_string();
    hex::encode(Md5::digest(canonical.as_bytes()))
}

/// A new subscription id, for a subscribe that names none.
fn new_client_id() -> String {
    use md5::{Digest, Md5};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!("{}-{now}-{n}", std::process::id());
    hex::encode(Md5::digest(seed.as_bytes()))
}

/// `POST /1.1/LiveQuery/subscribe`: `{query: {className, where, keys?, returnACL?},
/// id?, sessionToken?}` answers `{"id", "query_id"}`. The subscriber is the session of
/// `X-LC-Session`, or of `sessionToken` in the body (as the Swift and C# SDKs send it:
/// leancloud/swift-sdk `Sources/RTM/LiveQuery.swift`, leancloud/csharp-sdk
/// `LiveQuery/LiveQuery/Public/LCLiveQuery.cs`); an unknown token is 211. The query is
/// checked as the subscriber's find would be (102, 103, 107; 403 when its class's
/// `find` permission refuses them), except that its class need not exist yet. Without
/// `id`, a new subscription id is made and answered.
pub fn subscribe(call: &Call<'_>) -> HandlerResult {
    let raw = call
        .body
        .get("query")
        .ok_or_else(|| LcError::invalid_query("a subscription needs a query"))?;
    let query = live::Query::from_json(raw)?;
    let client = match call.body.get("id") {
        None | Some(Value::Null) => new_client_id(),
        Some(Value::String(id)) if !id.is_empty() && id.len() <= MAX_INSTALLATION_ID_BYTES => {
            id.clone()
        }
        Some(_) => {
            return Err(LcError::invalid_query(format!(
                "id must be a subscription id of 1 to {MAX_INSTALLATION_ID_BYTES} bytes"
            )));
        }
    };
    let session = match (call.body.get("sessionToken"), &call.ctx.session) {
        (Some(Value::String(token)), _) => Some(token.clone()),
        (_, Some(token)) => Some(token.clone()),
        _ => None,
    };
    {
        let store = call.api.read_store();
        let who = match &session {
            Some(token) => match store.session_user(token) {
                Some(id) => Principal::user(&store, id),
                None => return Err(LcError::user_not_found()),
            },
            None => Principal::anonymous(),
        };
        query.check(&store, &who)?;
    }
    let query_id = call.api.live().subscribe(&client, query, raw, session)?;
    Ok(Reply::ok(json!({"id": client, "query_id": query_id})))
}

/// `POST /1.1/LiveQuery/unsubscribe` `{id, query_id}`: `{}`, also for a subscription
/// that does not exist (or no longer does).
pub fn unsubscribe(call: &Call<'_>) -> HandlerResult {
    let text = |key: &str| match call.body.get(key) {
        Some(Value::String(s)) => Ok(s.as_str()),
        _ => Err(LcError::invalid_query(format!("{key} must be a string"))),
    };
    let (client, query_id) = (text("id")?, text("query_id")?);
    call.api.live().unsubscribe(client, query_id);
    Ok(Reply::ok(json!({})))
}

/// What a connection writes: a frame, or a close with its code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Frame(Frame),
    Close(u16, String),
}

/// One realtime connection, its protocol without its socket: each frame received is
/// answered with the frames to write (the front does the I/O). LiveQuery's commands are
/// served (`login`, `logout`, `ack`, `echo`); realtime messaging's are not (4100, the
/// service's answer for an app whose realtime messaging is off).
#[derive(Debug)]
pub struct Connection {
    api: Arc<Api>,
    format: Format,
    sender: Sender,
    /// The clients (subscription ids) logged in on this connection.
    clients: Vec<String>,
}

impl Connection {
    /// A connection of subprotocol `format` whose events go to `sender`.
    pub fn new(api: Arc<Api>, format: Format, sender: Sender) -> Connection {
        Connection {
            api,
            format,
            sender,
            clients: Vec::new(),
        }
    }

    /// The answer to one frame of the client.
    pub fn receive(&mut self, frame: &Frame) -> Vec<Out> {
        let size = match frame {
            Frame::Binary(b) => b.len(),
            Frame::Text(t) => t.len(),
        };
        if size > MAX_FRAME_BYTES {
            return vec![close(realtime::code::FRAME_TOO_LONG)];
        }
        let command = match Command::from_frame(frame, self.format) {
            Ok(command) => command,
            Err(_) => return vec![close(realtime::code::UNPARSEABLE_RAW_MESSAGE)],
        };
        let reply = match command.cmd {
            // The JSON format's heartbeat is `{}`, answered `{}` (leancloud/csharp-sdk
            // `LCLiveQueryConnection.cs`, `OnClientMessage`).
            None if self.format == Format::Json => Some(Command::default()),
            Some(Cmd::Login) if command.service == Some(realtime::LIVE_QUERY_SERVICE) => {
                Some(self.login(&command))
            }
            Some(Cmd::Logout) if command.service == Some(realtime::LIVE_QUERY_SERVICE) => {
                Some(self.logout(&command))
            }
            Some(Cmd::Ack) => None,
            Some(Cmd::Echo) => Some(answer(&command, Cmd::Echo)),
            _ => Some(error(&command, realtime::code::APP_NOT_AVAILABLE)),
        };
        reply
            .map(|c| Out::Frame(c.to_frame(self.format)))
            .into_iter()
            .collect()
    }

    fn login(&mut self, command: &Command) -> Command {
        if command.app_id.as_deref() != Some(self.api.config().app_id.as_str()) {
            return error(command, realtime::code::APP_NOT_AVAILABLE);
        }
        let client = match command.installation_id.as_deref() {
            Some(id) if !id.is_empty() && id.len() <= MAX_INSTALLATION_ID_BYTES => id,
            _ => return error(command, realtime::code::INVALID_LOGIN),
        };
        if !self.clients.iter().any(|c| c == client) {
            if self.clients.len() >= MAX_CLIENTS_PER_CONNECTION {
                let mut refused = error(command, realtime::code::INTERNAL_ERROR);
                if let Some(e) = refused.error.as_mut() {
                    e.detail = Some(format!(
                        "A connection logs in {MAX_CLIENTS_PER_CONNECTION} LiveQuery clients at most."
                    ));
                }
                return refused;
            }
            self.clients.push(client.to_string());
        }
        self.api.live().attach(client, &self.sender);
        let mut reply = answer(command, Cmd::LoggedIn);
        reply.installation_id = Some(client.to_string());
        reply.service = command.service;
        reply
    }

    fn logout(&mut self, command: &Command) -> Command {
        let Some(client) = command.installation_id.as_deref() else {
            return error(command, realtime::code::SESSION_REQUIRED);
        };
        let Some(at) = self.clients.iter().position(|c| c == client) else {
            return error(command, realtime::code::SESSION_REQUIRED);
        };
        self.clients.remove(at);
        self.api.live().detach(client, &self.sender);
        let mut reply = answer(command, Cmd::LoggedOut);
        reply.installation_id = Some(client.to_string());
        reply.service = command.service;
        reply
    }

    /// An event as this connection writes it: a `data` command for its client.
    pub fn push_frame(&self, push: &Push) -> Frame {
        let command = Command {
            cmd: Some(Cmd::Data),
            app_id: Some(self.api.config().app_id.clone()),
            installation_id: Some(push.installation_id.clone()),
            service: Some(realtime::LIVE_QUERY_SERVICE),
            data: Some(realtime::DataCommand {
                ids: vec![push.id.clone()],
                msg: vec![push.message.to_string()],
            }),
            ..Command::default()
        };
        command.to_frame(self.format)
    }

    /// The close a connection whose events overflowed its queue ends with.
    pub fn overflowed() -> Out {
        let (code, _) = realtime::code::INTERNAL_ERROR;
        Out::Close(
            code as u16,
            format!("more than {MAX_QUEUED_EVENTS} events waited to be sent"),
        )
    }
}

impl Drop for Connection {
    /// A closed connection's clients receive nothing more (their subscriptions stay, as
    /// the SDK subscribes again after reconnecting).
    fn drop(&mut self) {
        for client in &self.clients {
            self.api.live().detach(client, &self.sender);
        }
    }
}

/// The answer to `command`, of kind `cmd`, with its serial number.
fn answer(command: &Command, cmd: Cmd) -> Command {
    Command {
        cmd: Some(cmd),
        i: command.i,
        ..Command::default()
    }
}

/// `command` refused with `code`.
fn error(command: &Command, (code, reason): (i32, &str)) -> Command {
    Command {
        cmd: Some(Cmd::Error),
        i: command.i,
        error: Some(ErrorCommand {
            code,
            reason: reason.to_string(),
            detail: None,
        }),
        ..Command::default()
    }
}

fn close((code, reason): (i32, &str)) -> Out {
    Out::Close(code as u16, reason.to_string())
}

/// `GET /v1/route?appId=<id>` (keyless, the realtime router): `{"server", "secondary",
/// "ttl"}`, both this server's WebSocket at the address the client reached (`Host`; the
/// emulator serves no TLS, so `ws://`). Another app's id is 404 with 4100
/// (APP_NOT_AVAILABLE), the realtime service's code for an app it does not serve.
///
/// The router: leancloud-realtime 5.0.0-rc.8 `dist/core.js`, `Realtime._fetchRTMServers`
/// asks `<RTMRouter>/v1/route?appId=...&secure=...` and `_getRTMServers` reads `server`,
/// `secondary` and `ttl` (seconds). It is the api's, not a front's, so that every front
/// and an in-process replay answer it alike; only the standalone front serves the socket.
pub fn route(api: &Api, request: &leancloud::Request) -> leancloud::Response {
    if request.query_param("appId") != Some(api.config().app_id.as_str()) {
        let (code, message) = realtime::code::APP_NOT_AVAILABLE;
        return leancloud::Response::json(404, &json!({"code": code, "error": message}));
    }
    // Without a Host (an in-process request), the loopback address, as files' URLs do.
    let host = request.header("host").unwrap_or("127.0.0.1");
    let server = format!("ws://{host}{SOCKET_PATH}");
    leancloud::Response::json(
        200,
        &json!({"server": server, "secondary": server, "ttl": ROUTE_TTL_SECS}),
    )
}
