//! LiveQuery: subscriptions over REST, the realtime connection's protocol, and the events
//! writes send. Most tests drive the connection without a socket
//! (`api::livequery::Connection`, as the standalone front drives it), the requests
//! in-process; the last ones go over HTTP and a real WebSocket to `Standalone`.

use crate::support::send;
use futures::{SinkExt, StreamExt};
use leancloud::Caller;
use leancloud::realtime::{self, Cmd, Command, Format, Frame};
use mock_server::api::livequery::{self, Connection, Events, Out};
use mock_server::api::{Api, AppConfig};
use mock_server::http::standalone::Standalone;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// An app and one connection to it, without a socket.
struct Live {
    api: Arc<Api>,
    connection: Connection,
    events: Events,
    next_i: i32,
}

impl Live {
    fn new(api: Arc<Api>) -> Live {
        Live::with_format(api, Format::Protobuf)
    }

    fn with_format(api: Arc<Api>, format: Format) -> Live {
        let (sender, events) = livequery::queue();
        let connection = Connection::new(api.clone(), format, sender);
        Live {
            api,
            connection,
            events,
            next_i: 1,
        }
    }

    /// Send `command` (numbered) and return what the connection answers.
    fn command(&mut self, mut command: Command) -> Vec<Out> {
        command.i = Some(self.next_i);
        self.next_i += 1;
        let frame = command.to_frame(Format::Protobuf);
        self.connection.receive(&frame)
    }

    /// The one command answered to `command`.
    #[track_caller]
    fn reply(&mut self, command: Command) -> Command {
        let mut outs = self.command(command);
        assert_eq!(outs.len(), 1, "{outs:?}");
        match outs.remove(0) {
            Out::Frame(frame) => Command::from_frame(&frame, Format::Protobuf).unwrap(),
            close => panic!("expected an answer, got {close:?}"),
        }
    }

    /// Log in as `client`, as the LiveQuery plugin does.
    #[track_caller]
    fn login(&mut self, client: &str) {
        let reply = self.reply(login(&self.api.config().app_id, client));
        assert_eq!(reply.cmd, Some(Cmd::LoggedIn), "{reply:?}");
        assert_eq!(reply.installation_id.as_deref(), Some(client));
    }

    /// The messages pushed so far, each as the client decodes it.
    fn pushed(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(push) = self.events.queue.try_recv() {
            let frame = self.connection.push_frame(&push);
            let command = Command::from_frame(&frame, Format::Protobuf).unwrap();
            assert_eq!(command.cmd, Some(Cmd::Data));
            assert_eq!(command.service, Some(realtime::LIVE_QUERY_SERVICE));
            assert_eq!(command.i, None, "a push has no serial number");
            let data = command.data.unwrap();
            assert_eq!(data.ids, vec![push.id.clone()]);
            for msg in data.msg {
                let mut message: Value = serde_json::from_str(&msg).unwrap();
                message["installationId"] = json!(command.installation_id);
                out.push(message);
            }
        }
        out
    }

    /// `(op, objectId, updatedKeys)` of the messages pushed so far.
    fn ops(&mut self) -> Vec<(String, String, Value)> {
        self.pushed()
            .into_iter()
            .map(|m| {
                (
                    m["op"].as_str().unwrap().to_string(),
                    m["object"]["objectId"].as_str().unwrap().to_string(),
                    m.get("updatedKeys").cloned().unwrap_or(Value::Null),
                )
            })
            .collect()
    }
}

fn login(app_id: &str, client: &str) -> Command {
    Command {
        cmd: Some(Cmd::Login),
        app_id: Some(app_id.into()),
        installation_id: Some(client.into()),
        service: Some(realtime::LIVE_QUERY_SERVICE),
        ..Command::default()
    }
}

fn app() -> Arc<Api> {
    Arc::new(Api::new(AppConfig::default()))
}

/// Subscribe `client` to `query` as `who`: the query id.
#[track_caller]
fn subscribe(api: &Api, who: &Caller<&str>, client: &str, query: Value) -> String {
    let body = json!({"query": query, "id": client});
    let (status, answer) = send(api, who, "POST", "/1.1/LiveQuery/subscribe", Some(&body));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["id"], client);
    answer["query_id"].as_str().unwrap().to_string()
}

#[track_caller]
fn ok(answer: (u16, Value)) -> Value {
    assert!(answer.0 < 300, "{answer:?}");
    answer.1
}

fn sign_up(api: &Api, name: &str) -> (String, String) {
    let body = json!({"username": name, "password": "pw"});
    let user = ok(send(
        api,
        &Caller::Anonymous,
        "POST",
        "/1.1/users",
        Some(&body),
    ));
    (
        user["objectId"].as_str().unwrap().to_string(),
        user["sessionToken"].as_str().unwrap().to_string(),
    )
}

fn ops(list: &[(&str, &str, Value)]) -> Vec<(String, String, Value)> {
    list.iter()
        .map(|(op, id, keys)| (op.to_string(), id.to_string(), keys.clone()))
        .collect()
}

#[test]
fn a_subscription_hears_create_update_leave_enter_and_delete_as_its_query_sees_them() {
    let api = app();
    let mut live = Live::new(api.clone());
    live.login("sub-1");
    let query = json!({"className": "Todo", "where": {"state": "doing"}});
    let query_id = subscribe(&api, &Caller::Anonymous, "sub-1", query);
    let who = Caller::Anonymous;
    let path = "/1.1/classes/Todo";
    let todo = ok(send(
        &api,
        &who,
        "POST",
        path,
        Some(&json!({"state": "doing", "title": "a"})),
    ));
    let id = todo["objectId"].as_str().unwrap();
    let other = ok(send(
        &api,
        &who,
        "POST",
        path,
        Some(&json!({"state": "done"})),
    ));
    let one = format!("{path}/{id}");
    ok(send(&api, &who, "PUT", &one, Some(&json!({"title": "b"}))));
    ok(send(
        &api,
        &who,
        "PUT",
        &one,
        Some(&json!({"state": "done"})),
    ));
    ok(send(
        &api,
        &who,
        "PUT",
        &one,
        Some(&json!({"state": "doing"})),
    ));
    let other_path = format!("{path}/{}", other["objectId"].as_str().unwrap());
    ok(send(
        &api,
        &who,
        "PUT",
        &other_path,
        Some(&json!({"title": "x"})),
    ));
    ok(send(&api, &who, "DELETE", &one, None));
    let pushed = live.pushed();
    assert_eq!(pushed[0]["query_id"], query_id.as_str());
    assert_eq!(pushed[0]["installationId"], "sub-1");
    assert_eq!(pushed[0]["object"]["className"], "Todo");
    assert_eq!(pushed[0]["object"]["title"], "a");
    let got: Vec<_> = pushed
        .iter()
        .map(|m| (m["op"].clone(), m.get("updatedKeys").cloned()))
        .collect();
    assert_eq!(
        got,
        vec![
            (json!("create"), None),
            (json!("update"), Some(json!(["title"]))),
            (json!("leave"), Some(json!(["state"]))),
            (json!("enter"), Some(json!(["state"]))),
            (json!("delete"), None),
        ]
    );
    assert_eq!(
        pushed[2]["object"]["state"], "done",
        "a leave shows the object now"
    );
}

#[test]
fn an_event_reaches_a_subscriber_only_when_their_session_may_read_the_object() {
    let api = app();
    let (alice, alice_token) = sign_up(&api, "alice");
    let (bob, bob_token) = sign_up(&api, "bob");
    let mut live = Live::new(api.clone());
    live.login("alice-device");
    subscribe(
        &api,
        &Caller::User(alice_token.as_str()),
        "alice-device",
        json!({"className": "Note", "where": {}}),
    );
    let by_bob = Caller::User(bob_token.as_str());
    let private = json!({"ACL": {bob.clone(): {"read": true, "write": true}}, "n": 1});
    let shared = json!({"ACL": {bob.clone(): {"read": true, "write": true}, alice.clone(): {"read": true}}, "n": 2});
    let hidden = ok(send(
        &api,
        &by_bob,
        "POST",
        "/1.1/classes/Note",
        Some(&private),
    ));
    let seen = ok(send(
        &api,
        &by_bob,
        "POST",
        "/1.1/classes/Note",
        Some(&shared),
    ));
    let (hidden, seen) = (
        hidden["objectId"].as_str().unwrap().to_string(),
        seen["objectId"].as_str().unwrap().to_string(),
    );
    // Bob takes Alice off the shared note, then shares the private one with her.
    let acl_only_bob = json!({"ACL": {bob.clone(): {"read": true, "write": true}}, "n": 3});
    let path = format!("/1.1/classes/Note/{seen}");
    ok(send(&api, &by_bob, "PUT", &path, Some(&acl_only_bob)));
    ok(send(&api, &by_bob, "PUT", &path, Some(&json!({"n": 4}))));
    let path = format!("/1.1/classes/Note/{hidden}");
    ok(send(&api, &by_bob, "PUT", &path, Some(&shared)));
    ok(send(&api, &by_bob, "DELETE", &path, None));
    let pushed = live.pushed();
    let got: Vec<_> = pushed
        .iter()
        .map(|m| {
            (
                m["op"].as_str().unwrap(),
                m["object"]["objectId"].as_str().unwrap(),
                m["object"]["n"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("create", seen.as_str(), json!(2)),
            // She can no longer read it: shown as she could read it before.
            ("leave", seen.as_str(), json!(2)),
            ("enter", hidden.as_str(), json!(2)),
            ("delete", hidden.as_str(), json!(2)),
        ]
    );
    assert!(
        pushed.iter().all(|m| m["object"].get("ACL").is_none()),
        "no returnACL asked"
    );
}

#[test]
fn a_class_permission_and_a_hidden_column_apply_as_they_do_to_a_find() {
    let api = app();
    {
        let mut store = api.store();
        let class = store.class_mut("Doc");
        class.settings.permissions = lc_model::access::ClassPermissions::from_json(&json!({
            "find": {"onlySignInUsers": true}, "create": {"*": true}, "get": {"*": true},
            "update": {"*": true}, "delete": {"*": true}, "add_fields": {"*": true}
        }))
        .unwrap();
        class.columns.insert(
            "secret".into(),
            lc_model::Column {
                kind: "String".into(),
                hidden: true,
                ..lc_model::Column::default()
            },
        );
    }
    let body = json!({"query": {"className": "Doc"}, "id": "anon"});
    let (status, answer) = send(
        &api,
        &Caller::Anonymous,
        "POST",
        "/1.1/LiveQuery/subscribe",
        Some(&body),
    );
    assert_eq!(
        (status, answer["code"].clone()),
        (403, json!(403)),
        "{answer}"
    );
    assert_eq!(answer["error"], "Forbidden to find by class permissions.");

    let (_, token) = sign_up(&api, "carol");
    let mut live = Live::new(api.clone());
    live.login("carol-device");
    let query =
        json!({"className": "Doc", "where": {"secret": {"$exists": false}}, "returnACL": true});
    subscribe(&api, &Caller::User(token.as_str()), "carol-device", query);
    let doc = ok(send(
        &api,
        &Caller::Master,
        "POST",
        "/1.1/classes/Doc",
        Some(&json!({"secret": "s", "t": 1})),
    ));
    let path = format!("/1.1/classes/Doc/{}", doc["objectId"].as_str().unwrap());
    ok(send(
        &api,
        &Caller::Master,
        "PUT",
        &path,
        Some(&json!({"secret": "z", "t": 2})),
    ));
    let pushed = live.pushed();
    assert_eq!(pushed.len(), 2, "{pushed:?}");
    assert_eq!(
        pushed[0]["op"], "create",
        "the hidden column is absent to the where too"
    );
    assert!(pushed[0]["object"].get("secret").is_none(), "{}", pushed[0]);
    assert_eq!(
        pushed[0]["object"]["ACL"],
        json!({"*": {"read": true, "write": true}})
    );
    assert_eq!(
        pushed[1]["updatedKeys"],
        json!(["t"]),
        "no hidden key named"
    );

    // Signed in only: the subscription stays, but finds are now for a role she lacks.
    api.store().class_mut("Doc").settings.permissions =
        lc_model::access::ClassPermissions::from_json(&json!({
            "find": {"roles": ["Editors"]}, "create": {"*": true}, "get": {"*": true},
            "update": {"*": true}, "delete": {"*": true}, "add_fields": {"*": true}
        }))
        .unwrap();
    ok(send(
        &api,
        &Caller::Master,
        "PUT",
        &path,
        Some(&json!({"t": 3})),
    ));
    assert_eq!(live.pushed(), Vec::<Value>::new());
}

#[test]
fn batch_items_and_cloud_code_writes_are_heard_one_by_one() {
    let mut registry = leancloud::cloud::Registry::new();
    registry.after_save("Order", |req| async move {
        if req.object["from"] == "hook" {
            return Ok(());
        }
        let client = req.client();
        client
            .create(
                "Order",
                &json!({"from": "hook", "of": req.object["objectId"]}),
            )
            .await
            .map(|_| ())
            .map_err(leancloud::cloud::CloudError::from_lc)
    });
    let api = app();
    api.attach_registry(registry).unwrap();
    let mut live = Live::new(api.clone());
    live.login("orders");
    subscribe(
        &api,
        &Caller::Anonymous,
        "orders",
        json!({"className": "Order", "where": {"from": {"$ne": "client"}}}),
    );
    let batch = json!({"requests": [
        {"method": "POST", "path": "/1.1/classes/Order", "body": {"from": "batch", "n": 1}},
        {"method": "POST", "path": "/1.1/classes/Order", "body": {"from": "client"}},
    ]});
    let results = ok(send(
        &api,
        &Caller::Anonymous,
        "POST",
        "/1.1/batch",
        Some(&batch),
    ));
    assert!(api.idle_blocking(Duration::from_secs(10)));
    let first = results[0]["success"]["objectId"]
        .as_str()
        .unwrap()
        .to_string();
    let pushed = live.pushed();
    let created: Vec<_> = pushed
        .iter()
        .map(|m| {
            (
                m["op"].as_str().unwrap(),
                m["object"]["from"].as_str().unwrap(),
            )
        })
        .collect();
    // The batch's first item, and the two objects the afterSave hooks made (one for each
    // item); the second item does not match.
    assert_eq!(created.len(), 3, "{pushed:?}");
    assert_eq!(created[0], ("create", "batch"));
    assert_eq!(pushed[0]["object"]["objectId"], first.as_str());
    assert!(
        created[1..].iter().all(|c| *c == ("create", "hook")),
        "{created:?}"
    );
}

#[test]
fn unsubscribing_and_logging_out_stop_the_events_and_a_resubscription_keeps_its_query_id() {
    let api = app();
    let mut live = Live::new(api.clone());
    live.login("c1");
    let query = json!({"className": "Item", "where": {}});
    let q1 = subscribe(&api, &Caller::Anonymous, "c1", query.clone());
    assert_eq!(subscribe(&api, &Caller::Anonymous, "c1", query.clone()), q1);
    assert_ne!(subscribe(&api, &Caller::Anonymous, "c2", query.clone()), q1);
    let create = |api: &Api| {
        ok(send(
            api,
            &Caller::Anonymous,
            "POST",
            "/1.1/classes/Item",
            Some(&json!({})),
        ))
    };
    create(&api);
    assert_eq!(live.ops().len(), 1);
    let body = json!({"id": "c1", "query_id": q1});
    assert_eq!(
        ok(send(
            &api,
            &Caller::Anonymous,
            "POST",
            "/1.1/LiveQuery/unsubscribe",
            Some(&body)
        )),
        json!({})
    );
    create(&api);
    assert_eq!(live.ops().len(), 0, "unsubscribed");
    subscribe(&api, &Caller::Anonymous, "c1", query);
    let mut logout = Command::new(Cmd::Logout);
    logout.installation_id = Some("c1".into());
    logout.service = Some(realtime::LIVE_QUERY_SERVICE);
    assert_eq!(live.reply(logout.clone()).cmd, Some(Cmd::LoggedOut));
    create(&api);
    assert_eq!(live.ops().len(), 0, "logged out");
    let refused = live.reply(logout).error.unwrap();
    assert_eq!(refused.code, 4105, "not logged in any more");
    // Logged in again (as after a reconnection), the subscription is still there.
    live.login("c1");
    let item = create(&api);
    assert_eq!(
        live.ops(),
        ops(&[("create", item["objectId"].as_str().unwrap(), Value::Null)])
    );
}

#[test]
fn frames_and_commands_the_service_would_refuse_get_its_errors() {
    let api = app();
    let mut live = Live::new(api.clone());
    // Not a command: closed with 4114 UNPARSEABLE_RAW_MESSAGE.
    let outs = live.connection.receive(&Frame::Binary(vec![0x08]));
    assert_eq!(
        outs,
        vec![Out::Close(4114, "UNPARSEABLE_RAW_MESSAGE".into())]
    );
    let outs = live.connection.receive(&Frame::Text("hello".into()));
    assert_eq!(
        outs,
        vec![Out::Close(4114, "UNPARSEABLE_RAW_MESSAGE".into())]
    );
    // Too long: 4109 FRAME_TOO_LONG.
    let big = Frame::Binary(vec![0; livequery::MAX_FRAME_BYTES + 1]);
    assert_eq!(
        live.connection.receive(&big),
        vec![Out::Close(4109, "FRAME_TOO_LONG".into())]
    );
    // Another app's login: 4100; an installation id over 64 bytes: 4103.
    let error = live.reply(login("other-app", "x")).error.unwrap();
    assert_eq!(
        (error.code, error.reason.as_str()),
        realtime::code::APP_NOT_AVAILABLE
    );
    let long = "x".repeat(livequery::MAX_INSTALLATION_ID_BYTES + 1);
    let error = live
        .reply(login(&api.config().app_id, &long))
        .error
        .unwrap();
    assert_eq!(error.code, 4103);
    // Realtime messaging (a session open) is not served: 4100, as for an app without it.
    let mut open = Command::new(Cmd::Session);
    open.op = Some(1);
    open.peer_id = Some("tom".into());
    let reply = live.reply(open);
    assert_eq!((reply.cmd, reply.i), (Some(Cmd::Error), Some(3)));
    assert_eq!(reply.error.unwrap().code, 4100);
    // A ping is answered with its serial number; an ack is not answered.
    let echo = live.reply(Command::new(Cmd::Echo));
    assert_eq!((echo.cmd, echo.i), (Some(Cmd::Echo), Some(4)));
    assert_eq!(live.command(Command::new(Cmd::Ack)), Vec::new());
    // Still usable after all of it.
    live.login("fine");
}

#[test]
fn the_json_subprotocol_speaks_commands_by_name_and_pushes_objects() {
    let api = app();
    let mut live = Live::with_format(api.clone(), Format::Json);
    let login = json!({"cmd": "login", "appId": api.config().app_id, "installationId": "j", "service": 1, "i": 7});
    let outs = live.connection.receive(&Frame::Text(login.to_string()));
    let Out::Frame(Frame::Text(text)) = &outs[0] else {
        panic!("{outs:?}")
    };
    let reply: Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        (reply["cmd"].clone(), reply["i"].clone()),
        (json!("loggedin"), json!(7))
    );
    let outs = live.connection.receive(&Frame::Text("{}".into()));
    assert_eq!(
        outs,
        vec![Out::Frame(Frame::Text("{}".into()))],
        "the heartbeat"
    );
    subscribe(&api, &Caller::Anonymous, "j", json!({"className": "T"}));
    ok(send(
        &api,
        &Caller::Anonymous,
        "POST",
        "/1.1/classes/T",
        Some(&json!({"a": 1})),
    ));
    let push = live.events.queue.try_recv().unwrap();
    let Frame::Text(text) = live.connection.push_frame(&push) else {
        panic!()
    };
    let data: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(data["cmd"], "data");
    assert_eq!(data["msg"][0]["op"], "create");
    assert_eq!(data["msg"][0]["object"]["a"], 1);
}

#[test]
fn subscribe_refuses_malformed_queries_with_the_errors_of_a_find() {
    let api = app();
    let code = |body: Value| {
        let (status, answer) = send(
            &api,
            &Caller::Anonymous,
            "POST",
            "/1.1/LiveQuery/subscribe",
            Some(&body),
        );
        (status, answer["code"].as_i64().unwrap_or(0))
    };
    assert_eq!(code(json!({})), (400, 102), "no query");
    assert_eq!(
        code(json!({"query": {"where": {}}})),
        (400, 103),
        "no className"
    );
    assert_eq!(
        code(json!({"query": {"className": "T", "where": {"a": {"$nope": 1}}}})),
        (400, 102)
    );
    assert_eq!(
        code(json!({"query": {"className": "T"}, "sessionToken": "nobody"})),
        (400, 211)
    );
    assert_eq!(
        code(json!({"query": {"className": "T"}, "id": 5})),
        (400, 102)
    );
    // Without an id, one is made.
    let answer = ok(send(
        &api,
        &Caller::Anonymous,
        "POST",
        "/1.1/LiveQuery/subscribe",
        Some(&json!({"query": {"className": "T"}})),
    ));
    assert_eq!(answer["id"].as_str().unwrap().len(), 32, "{answer}");
    // A client holds MAX_SUBSCRIPTIONS_PER_CLIENT at most.
    for n in 0..livequery::MAX_SUBSCRIPTIONS_PER_CLIENT {
        subscribe(
            &api,
            &Caller::Anonymous,
            "many",
            json!({"className": "T", "where": {"n": n}}),
        );
    }
    let over = json!({"query": {"className": "T", "where": {"n": -1}}, "id": "many"});
    assert_eq!(code(over), (400, 1));
}

/// The standalone server with a LiveQuery client on its WebSocket: the router's answer,
/// the subprotocol, the login and an event, as bytes on the wire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standalone_server_routes_an_sdk_to_its_websocket_and_pushes_events_on_it() {
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let server = Standalone::start("127.0.0.1:0".parse().unwrap(), app())
        .await
        .unwrap();
    let app_id = server.api.config().app_id.clone();
    let http = reqwest::Client::new();
    let route: Value = http
        .get(format!(
            "{}/v1/route?appId={app_id}&secure=true",
            server.uri()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ws_url = route["server"].as_str().unwrap().to_string();
    assert_eq!(ws_url, format!("ws://{}/livequery", server.addr));
    assert_eq!(
        (route["secondary"].as_str(), route["ttl"].as_u64()),
        (Some(ws_url.as_str()), Some(3600))
    );
    let other = http
        .get(format!("{}/v1/route?appId=nope", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);

    // No subprotocol: refused before the upgrade.
    let refused = tokio_tungstenite::connect_async(ws_url.as_str()).await;
    assert!(refused.is_err(), "upgraded without a subprotocol");

    let mut request = ws_url.as_str().into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        realtime::PROTOBUF.parse().unwrap(),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        realtime::PROTOBUF
    );
    let mut hello = login(&app_id, "wire-client");
    hello.i = Some(1);
    socket
        .send(Message::Binary(hello.encode().into()))
        .await
        .unwrap();
    let next = |m: Option<Result<Message, _>>| match m {
        Some(Ok(Message::Binary(bytes))) => Command::decode(&bytes).unwrap(),
        other => panic!("expected a binary frame, got {other:?}"),
    };
    let reply = next(socket.next().await);
    assert_eq!((reply.cmd, reply.i), (Some(Cmd::LoggedIn), Some(1)));

    let keys = |r: reqwest::RequestBuilder| {
        let cfg = server.api.config();
        r.header("x-lc-id", &cfg.app_id)
            .header("x-lc-key", &cfg.app_key)
    };
    let subscribed: Value = keys(http.post(format!("{}/1.1/LiveQuery/subscribe", server.uri())))
        .json(&json!({"query": {"className": "Wire", "where": {}}, "id": "wire-client"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    keys(http.post(format!("{}/1.1/classes/Wire", server.uri())))
        .json(&json!({"hello": "world"}))
        .send()
        .await
        .unwrap();
    let push = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .unwrap();
    let push = next(push);
    assert_eq!(push.cmd, Some(Cmd::Data));
    assert_eq!(push.installation_id.as_deref(), Some("wire-client"));
    let message: Value = serde_json::from_str(&push.data.unwrap().msg[0]).unwrap();
    assert_eq!(message["op"], "create");
    assert_eq!(message["query_id"], subscribed["query_id"]);
    assert_eq!(message["object"]["hello"], "world");

    // A frame the server cannot read closes the socket with 4114.
    socket
        .send(Message::Binary(vec![0xff].into()))
        .await
        .unwrap();
    match socket.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 4114),
        other => panic!("expected a close, got {other:?}"),
    }
}
