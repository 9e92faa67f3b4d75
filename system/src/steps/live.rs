//! LiveQuery: "I" subscribe to a query and hear, as they happen, the objects that enter,
//! change in and leave its results (and only those my user may read).
//!
//! The listener is what an SDK has: a subscription (`POST /1.1/LiveQuery/subscribe`
//! with "my" session) and a realtime connection logged in under its id. On `mock` the
//! connection is the emulator's own, without a socket (`api::livequery::Connection`);
//! on `stack` and `remote` it is the WebSocket the realtime router (`GET /v1/route`)
//! names, in the JSON subprotocol (`lc.json.3`).

use crate::World;
use cucumber::gherkin::Step;
use cucumber::{given, then};
use futures::{SinkExt, StreamExt};
use leancloud::Caller;
use leancloud::realtime::{self, Cmd, Command, Format, Frame};
use mock_server::api::livequery::{self, Connection, Events};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// How long a `Then` step waits for each event it expects over a socket.
const EVENT_WAIT: Duration = Duration::from_secs(10);
/// How long it waits, after the last expected event, for one it does not expect.
const QUIET_WAIT: Duration = Duration::from_millis(300);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// "My" LiveQuery subscription and the connection its events come on.
pub struct Listener {
    class: String,
    connection: Channel,
}

enum Channel {
    InProcess {
        // Kept open: the emulator sends to it while it lives.
        _connection: Connection,
        events: Events,
    },
    Socket(Box<Socket>),
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("class", &self.class)
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// The next event's message (`op`, `object`, ...), or `None` after `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        match &mut self.connection {
            Channel::InProcess { events, .. } => {
                // The emulator publishes an event before the write's answer goes out.
                events.queue.try_recv().ok().map(|push| push.message)
            }
            Channel::Socket(socket) => loop {
                let frame = match tokio::time::timeout(wait, socket.next()).await {
                    Ok(Some(Ok(Message::Text(text)))) => Frame::Text(text.to_string()),
                    Ok(Some(Ok(Message::Binary(bytes)))) => Frame::Binary(bytes.to_vec()),
                    Ok(Some(Ok(_))) => continue,
                    Ok(other) => panic!("the LiveQuery connection ended: {other:?}"),
                    Err(_) => return None,
                };
                let command = Command::from_frame(&frame, Format::Json)
                    .unwrap_or_else(|e| panic!("an unreadable realtime frame: {e:?}"));
                if command.cmd != Some(Cmd::Data) {
                    continue;
                }
                let data = command.data.unwrap_or_default();
                let message = data.msg.first().map(|m| serde_json::from_str(m));
                match message {
                    Some(Ok(message)) => return Some(message),
                    other => panic!("an unreadable LiveQuery message: {other:?}"),
                }
            },
        }
    }
}

/// Example: Given I listen live to Post
#[given(expr = "I listen live to {word}")]
async fn listen_to_all(world: &mut World, class: String) {
    listen(world, class, json!({})).await;
}

/// Example: Given I listen live to Post where:
///     | field | value |
///     | topic | food  |
///
/// Subscribes as "me" to the objects of the class whose fields equal the table's (or
/// match a JSON doc string's `where`), and logs in to hear their events.
#[given(expr = "I listen live to {word} where:")]
async fn listen_where(world: &mut World, class: String, step: &Step) {
    let r#where = world.body_of(step).await;
    listen(world, class, r#where).await;
}

async fn listen(world: &mut World, class: String, r#where: Value) {
    let client = format!("{}live-{}", world.app.prefix(), world.named.len());
    // Logged in before the subscription, as the SDK's plugin does.
    let connection = match world.app.mock() {
        Some(emulator) => {
            let (sender, events) = livequery::queue();
            let mut connection = Connection::new(emulator.api().clone(), Format::Json, sender);
            let login = login_command(&emulator.api().config().app_id, &client);
            let answer = connection.receive(&login.to_frame(Format::Json));
            assert_eq!(answer.len(), 1, "the LiveQuery login: {answer:?}");
            Channel::InProcess {
                _connection: connection,
                events,
            }
        }
        None => Channel::Socket(Box::new(open_socket(world, &client).await)),
    };
    let me = world.me.clone();
    let body = json!({"query": {"className": class, "where": r#where}, "id": client});
    let subscribed = world
        .exchange(&me, "POST", "/1.1/LiveQuery/subscribe", Some(body))
        .await;
    assert_eq!(
        subscribed.answer.status, 200,
        "the subscription was refused: {}",
        subscribed.answer.body
    );
    world.live = Some(Listener { class, connection });
}

fn login_command(app_id: &str, client: &str) -> Command {
    Command {
        cmd: Some(Cmd::Login),
        app_id: Some(app_id.into()),
        installation_id: Some(client.into()),
        service: Some(realtime::LIVE_QUERY_SERVICE),
        i: Some(1),
        ..Command::default()
    }
}

/// The WebSocket the realtime router names, logged in as `client`.
async fn open_socket(world: &mut World, client: &str) -> Socket {
    let app_id = world.app.app_id().to_string();
    let route = world
        .exchange(
            &Caller::Nobody,
            "GET",
            &format!("/v1/route?appId={app_id}"),
            None,
        )
        .await
        .answer
        .body;
    let url = route["server"]
        .as_str()
        .unwrap_or_else(|| panic!("the realtime router answered {route}"));
    let mut request = url.into_client_request().expect("the router's URL");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        realtime::JSON.parse().expect("a header value"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .unwrap_or_else(|e| panic!("the LiveQuery WebSocket {url}: {e}"));
    let Frame::Text(login) = login_command(&app_id, client).to_frame(Format::Json) else {
        unreachable!("the JSON subprotocol's frames are text")
    };
    socket
        .send(Message::Text(login.into()))
        .await
        .expect("the login is sent");
    socket
}

/// Example: Then I hear live:
///     | event  | Post    |
///     | create | noodles |
///     | leave  | noodles |
///
/// The events of "my" subscription, in order: each row an event (`create`, `update`,
/// `enter`, `leave`, `delete`) and the named object it is about (the header's second
/// cell is the class). No other event comes.
#[then(expr = "I hear live:")]
async fn hear(world: &mut World, step: &Step) {
    let table = step.table.as_ref().expect("a table of events");
    let class = table.rows[0][1].clone();
    let mut expected = Vec::new();
    for row in &table.rows[1..] {
        let id = world.id_of(&class, &row[1]).await;
        expected.push((row[0].clone(), id, row[1].clone()));
    }
    let listener = world
        .live
        .as_mut()
        .expect("no `Given I listen live to ...` step came first");
    assert_eq!(
        listener.class, class,
        "the subscription is to another class"
    );
    let mut heard = Vec::new();
    for (op, id, name) in &expected {
        let Some(message) = listener.next(EVENT_WAIT).await else {
            panic!("heard {heard:?}, then nothing; expected {op} of {name}");
        };
        let got = (
            message["op"].as_str().unwrap_or_default().to_string(),
            message["object"]["objectId"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        assert_eq!(
            (&got.0, &got.1),
            (op, id),
            "heard {message} after {heard:?}; expected {op} of {name}"
        );
        heard.push(format!("{op} {name}"));
    }
    if let Some(extra) = listener.next(QUIET_WAIT).await {
        panic!("heard {heard:?} and then {extra}, which no row expects");
    }
}
