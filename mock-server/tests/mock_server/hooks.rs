//! The hook chain: a client's write fires the class hooks of the app's cloud code as the
//! real platform does (protocol notes §5), in-process and through a remote engine.

use leancloud::client::BatchRequest;
use leancloud::client::Client;
use leancloud::cloud::{CloudError, HookRequest, Registry};
use leancloud::error::code;
use mock_server::MockLeanCloud;
use mock_server::api::cloud::{HookTimeouts, MAX_HOOK_DEPTH};
use mock_server::api::{Api, AppConfig};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What hooks received, in call order: `(hook, payload)`.
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

fn record(seen: &Seen, hook: &str, req: &HookRequest) {
    let mut payload = json!({"object": req.object});
    if let Some(user) = &req.user {
        payload["user"] = user.clone();
    }
    seen.lock().unwrap().push((hook.to_string(), payload));
}

/// A cloud for class `Post`: beforeSave trims the title and refuses a post without one;
/// afterSave counts into a `Log` row; beforeUpdate refuses changing `locked`;
/// beforeDelete refuses `protected` posts; afterDelete logs too.
fn post_cloud(seen: &Seen) -> Registry {
    let mut r = Registry::new();
    let s = seen.clone();
    r.before_save("Post", move |req| {
        record(&s, "beforeSave", &req);
        async move {
            let mut post = req.object;
            let Some(title) = post.get("title").and_then(Value::as_str) else {
                return Err(CloudError::new("a post needs a title"));
            };
            post["title"] = json!(title.trim());
            post["checked"] = json!(true);
            Ok(post)
        }
    });
    let s = seen.clone();
    r.after_save("Post", move |req| {
        record(&s, "afterSave", &req);
        async move {
            req.client()
                .create("Log", &json!({"event": "saved", "post": req.object_id()}))
                .await
                .map_err(CloudError::from_lc)?;
            Ok(())
        }
    });
    let s = seen.clone();
    r.before_update("Post", move |req| {
        record(&s, "beforeUpdate", &req);
        async move {
            if req.is_updated("locked") {
                return Err(CloudError::new("locked may not change"));
            }
            Ok(())
        }
    });
    let s = seen.clone();
    r.after_update("Post", move |req| {
        record(&s, "afterUpdate", &req);
        async move { Ok(()) }
    });
    let s = seen.clone();
    r.before_delete("Post", move |req| {
        record(&s, "beforeDelete", &req);
        async move {
            if req.object.get("protected") == Some(&json!(true)) {
                return Err(CloudError::new("protected post"));
            }
            Ok(())
        }
    });
    let s = seen.clone();
    r.after_delete("Post", move |req| {
        record(&s, "afterDelete", &req);
        async move {
            req.client()
                .create("Log", &json!({"event": "deleted", "post": req.object_id()}))
                .await
                .map_err(CloudError::from_lc)?;
            Ok(())
        }
    });
    r
}

async fn start(registry: Registry) -> MockLeanCloud {
    MockLeanCloud::start_with_cloud(Api::new(AppConfig::default()), registry)
        .await
        .expect("the cloud attaches")
}

async fn start_with_timeouts(registry: Registry, timeouts: HookTimeouts) -> MockLeanCloud {
    let api = Arc::new(Api::new(AppConfig::default()));
    api.attach_registry_with(registry, timeouts)
        .expect("the cloud attaches");
    MockLeanCloud::start_shared(api).await
}

async fn count(client: &Client, class: &str) -> u64 {
    match client.as_master().query(class).count().await {
        Ok(n) => n,
        // A class nobody wrote to yet does not exist.
        Err(e) if e.code == code::OBJECT_NOT_FOUND => 0,
        Err(e) => panic!("count of {class}: {e}"),
    }
}

fn hooks_seen(seen: &Seen) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|(h, _)| h.clone())
        .collect()
}

#[tokio::test]
async fn a_create_stores_what_before_save_answered_and_fires_after_save() {
    let seen = Seen::default();
    let app = start(post_cloud(&seen)).await;
    let client = app.client();
    let created = client
        .create(
            "Post",
            &json!({"title": "  Hello  ", "n": {"__op": "Increment", "amount": 2}}),
        )
        .await
        .unwrap();
    let id = created["objectId"].as_str().unwrap();
    let stored = client.get("Post", id).await.unwrap();
    assert_eq!(stored["title"], "Hello");
    assert_eq!(stored["checked"], true);
    assert_eq!(stored["n"], 2);
    app.idle().await;
    let logs = client.query("Log").find().await.unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["post"], id);
    // beforeSave gets the object to create: no objectId or dates, the applied values.
    let seen = seen.lock().unwrap();
    let (hook, payload) = &seen[0];
    assert_eq!(hook, "beforeSave");
    assert_eq!(payload["object"], json!({"title": "  Hello  ", "n": 2}));
    assert!(payload.get("user").is_none());
    // afterSave gets the stored object.
    let (hook, payload) = &seen[1];
    assert_eq!(hook, "afterSave");
    assert_eq!(payload["object"]["objectId"], id);
    assert_eq!(payload["object"]["title"], "Hello");
    assert!(payload["object"]["createdAt"].is_string());
}

#[tokio::test]
async fn a_before_save_refusal_is_142_with_the_hooks_message_and_stores_nothing() {
    let seen = Seen::default();
    let app = start(post_cloud(&seen)).await;
    let client = app.client();
    let err = client.create("Post", &json!({"n": 1})).await.unwrap_err();
    assert_eq!(err.code, code::VALIDATION_ERROR);
    assert_eq!(
        err.message,
        "Cloud Code validation failed. Error detail : a post needs a title"
    );
    app.idle().await;
    assert_eq!(count(&client, "Post").await, 0);
    assert_eq!(hooks_seen(&seen), ["beforeSave"]);
}

#[tokio::test]
async fn before_update_may_refuse_but_not_change_and_update_hooks_get_the_updated_keys() {
    let seen = Seen::default();
    let app = start(post_cloud(&seen)).await;
    let client = app.client();
    let id = client.create("Post", &json!({"title": "t"})).await.unwrap()["objectId"]
        .as_str()
        .unwrap()
        .to_string();
    client
        .update(
            "Post",
            &id,
            &json!({"body": "text", "n": {"__op": "Increment", "amount": 1}}),
        )
        .await
        .unwrap();
    // afterUpdate runs off the answer's path; let it finish so the order seen is fixed.
    app.idle().await;
    let err = client
        .update("Post", &id, &json!({"locked": true}))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (
            code::VALIDATION_ERROR,
            "Cloud Code validation failed. Error detail : locked may not change"
        )
    );
    app.idle().await;
    let stored = client.get("Post", &id).await.unwrap();
    assert_eq!(stored["body"], "text");
    assert_eq!(stored["n"], 1);
    assert!(stored.get("locked").is_none());
    let seen = seen.lock().unwrap();
    let updates: Vec<&(String, Value)> =
        seen.iter().filter(|(h, _)| h.ends_with("Update")).collect();
    assert_eq!(
        updates.iter().map(|(h, _)| h.as_str()).collect::<Vec<_>>(),
        ["beforeUpdate", "afterUpdate", "beforeUpdate"]
    );
    // The temporary new object: the update applied to the stored one.
    let before = &updates[0].1["object"];
    assert_eq!(before["objectId"], id.as_str());
    assert_eq!(before["title"], "t");
    assert_eq!(before["body"], "text");
    assert_eq!(before["n"], 1);
    assert_eq!(before["_updatedKeys"], json!(["body", "n"]));
    assert_eq!(updates[1].1["object"]["_updatedKeys"], json!(["body", "n"]));
}

#[tokio::test]
async fn before_delete_may_refuse_and_after_delete_runs_after_the_delete() {
    let seen = Seen::default();
    let app = start(post_cloud(&seen)).await;
    let client = app.client();
    let keep = client
        .create("Post", &json!({"title": "keep", "protected": true}))
        .await
        .unwrap()["objectId"]
        .as_str()
        .unwrap()
        .to_string();
    let gone = client
        .create("Post", &json!({"title": "gone"}))
        .await
        .unwrap()["objectId"]
        .as_str()
        .unwrap()
        .to_string();
    let err = client.delete("Post", &keep).await.unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (
            code::VALIDATION_ERROR,
            "Cloud Code validation failed. Error detail : protected post"
        )
    );
    client.delete("Post", &gone).await.unwrap();
    app.idle().await;
    assert_eq!(client.get("Post", &keep).await.unwrap()["title"], "keep");
    assert_eq!(client.get("Post", &gone).await.unwrap(), json!({}));
    let logs = client
        .query("Log")
        .where_eq("event", "deleted")
        .find()
        .await
        .unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["post"], gone.as_str());
    // Deleting what does not exist fires nothing.
    let before = seen.lock().unwrap().len();
    client.delete("Post", &gone).await.unwrap();
    app.idle().await;
    assert_eq!(seen.lock().unwrap().len(), before);
}

#[tokio::test]
async fn hooks_get_the_requesting_user_with_their_session_token() {
    let seen = Seen::default();
    let app = start(post_cloud(&seen)).await;
    let client = app.client();
    let user = client.sign_up("alice", "pw", &Value::Null).await.unwrap();
    let token = user["sessionToken"].as_str().unwrap();
    let alice = client.clone().with_session(token);
    alice
        .create("Post", &json!({"title": "mine"}))
        .await
        .unwrap();
    app.idle().await;
    let seen = seen.lock().unwrap();
    for (hook, payload) in seen.iter() {
        assert_eq!(payload["user"]["username"], "alice", "{hook}");
        assert_eq!(payload["user"]["sessionToken"], token, "{hook}");
        assert_eq!(payload["user"]["objectId"], user["objectId"], "{hook}");
    }
    assert_eq!(seen.len(), 2);
}

#[tokio::test]
async fn ignore_hooks_is_honoured_with_the_hook_key_only_and_never_stored() {
    let seen = Seen::default();
    let app = start(post_cloud(&seen)).await;
    let body = json!({"title": " t ", "__ignore_hooks": ["beforeSave", "afterSave"]});
    // Without the hook key the flag is not honoured: both hooks run.
    let client = app.client();
    let plain = client.create("Post", &body).await.unwrap();
    app.idle().await;
    assert_eq!(hooks_seen(&seen), ["beforeSave", "afterSave"]);
    let stored = client
        .get("Post", plain["objectId"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(stored["title"], "t");
    assert!(stored.get("__ignore_hooks").is_none());
    // With it, the named hooks are skipped.
    seen.lock().unwrap().clear();
    let hooked = client.clone().with_hook_key(&app.config().hook_key);
    let skipped = hooked.create("Post", &body).await.unwrap();
    app.idle().await;
    assert!(hooks_seen(&seen).is_empty());
    let stored = client
        .get("Post", skipped["objectId"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(stored["title"], " t ");
    assert!(stored.get("checked").is_none());
    assert!(stored.get("__ignore_hooks").is_none());
    // Only the named hooks: afterSave alone.
    hooked
        .create(
            "Post",
            &json!({"title": "x", "__ignore_hooks": ["afterSave"]}),
        )
        .await
        .unwrap();
    app.idle().await;
    assert_eq!(hooks_seen(&seen), ["beforeSave"]);
}

#[tokio::test]
async fn batch_items_fire_their_hooks_and_a_refusal_fails_only_its_item() {
    let seen = Seen::default();
    let app = start(post_cloud(&seen)).await;
    let client = app.client();
    let results = client
        .batch(vec![
            BatchRequest::create("Post", json!({"title": " a "})),
            BatchRequest::create("Post", json!({"n": 1})),
            BatchRequest::create("Post", json!({"title": "c", "protected": true})),
        ])
        .await
        .unwrap();
    assert!(results[0].is_ok());
    let err = results[1].as_ref().unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (
            code::VALIDATION_ERROR,
            "Cloud Code validation failed. Error detail : a post needs a title"
        )
    );
    let protected = results[2].as_ref().unwrap()["objectId"].as_str().unwrap();
    let first = results[0].as_ref().unwrap()["objectId"].as_str().unwrap();
    let deleted = client
        .batch(vec![
            BatchRequest::delete("Post", first),
            BatchRequest::delete("Post", protected),
        ])
        .await
        .unwrap();
    assert_eq!(deleted[0].as_ref().unwrap(), &json!({}));
    assert_eq!(
        deleted[1].as_ref().unwrap_err().code,
        code::VALIDATION_ERROR
    );
    app.idle().await;
    assert_eq!(count(&client, "Post").await, 1);
    assert_eq!(
        hooks_seen(&seen)
            .iter()
            .filter(|h| *h == "afterSave")
            .count(),
        2
    );
    assert_eq!(count(&client, "Log").await, 3, "two saves and one delete");
}

#[tokio::test]
async fn after_hooks_run_off_the_response_path_and_idle_waits_for_them() {
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = Arc::new(Mutex::new(released));
    let mut r = Registry::new();
    r.after_save("Slow", move |req| {
        let released = released.clone();
        async move {
            // Wait, off any runtime worker, until the test lets the hook go on.
            tokio::task::spawn_blocking(move || released.lock().unwrap().recv())
                .await
                .ok();
            req.client()
                .create("Done", &json!({"of": req.object_id()}))
                .await
                .map_err(CloudError::from_lc)?;
            Ok(())
        }
    });
    let app = start(r).await;
    let client = app.client();
    // The client's answer does not wait for the after-hook, which is still blocked.
    client.create("Slow", &json!({"n": 1})).await.unwrap();
    assert_eq!(app.api().cloud().unwrap().pending(), 1);
    assert_eq!(count(&client, "Done").await, 0);
    release.send(()).unwrap();
    app.idle().await;
    assert_eq!(app.api().cloud().unwrap().pending(), 0);
    assert_eq!(count(&client, "Done").await, 1);
}

#[tokio::test]
async fn a_hook_that_saves_its_own_object_with_ignore_hooks_does_not_loop() {
    let mut r = Registry::new();
    r.after_save("Counter", |req| async move {
        req.save_object(&json!({"touched": {"__op": "Increment", "amount": 1}}))
            .await
            .map_err(CloudError::from_lc)?;
        Ok(())
    });
    r.after_update("Counter", |req| async move {
        req.save_object(&json!({"updates": {"__op": "Increment", "amount": 1}}))
            .await
            .map_err(CloudError::from_lc)?;
        Ok(())
    });
    let app = start(r).await;
    let client = app.client();
    let id = client.create("Counter", &json!({})).await.unwrap()["objectId"]
        .as_str()
        .unwrap()
        .to_string();
    app.idle().await;
    client
        .update("Counter", &id, &json!({"x": 1}))
        .await
        .unwrap();
    app.idle().await;
    let stored = client.get("Counter", &id).await.unwrap();
    // afterSave's own update skips the after-hooks, so afterUpdate ran only for the
    // client's update, and its own update did not fire it again.
    assert_eq!(stored["touched"], 1);
    assert_eq!(stored["updates"], 1);
}

#[tokio::test]
async fn a_hook_chain_that_never_ends_is_cut_off_at_the_depth_limit() {
    let mut r = Registry::new();
    // Every save makes another one, without __ignore_hooks: a loop on the real platform.
    r.after_save("Echo", |req| async move {
        let n = req.object["n"].as_u64().unwrap_or(0);
        req.client()
            .create("Echo", &json!({"n": n + 1}))
            .await
            .map_err(CloudError::from_lc)?;
        Ok(())
    });
    r.before_save("Nest", |req| async move {
        let n = req.object["n"].as_u64().unwrap_or(0);
        req.client()
            .create("Nest", &json!({"n": n + 1}))
            .await
            .map_err(CloudError::from_lc)?;
        Ok(req.object)
    });
    let app = start(r).await;
    let client = app.client();
    client.create("Echo", &json!({"n": 0})).await.unwrap();
    app.idle().await;
    // The client's object plus one per level of after-hooks.
    assert_eq!(count(&client, "Echo").await, u64::from(MAX_HOOK_DEPTH) + 1);
    // Before-hooks nest while the client waits: the innermost refusal reaches it.
    let err = client.create("Nest", &json!({"n": 0})).await.unwrap_err();
    assert_eq!(err.code, code::VALIDATION_ERROR);
    assert!(err.message.contains("nested more than"), "{}", err.message);
    assert_eq!(count(&client, "Nest").await, 0);
}

#[tokio::test]
async fn a_hook_that_panics_refuses_the_write_with_its_message() {
    let mut r = Registry::new();
    r.before_save("Boom", |_req| async move {
        if true {
            panic!("the hook fell over");
        }
        Ok(())
    });
    r.after_save("AfterBoom", |_req| async move {
        if true {
            panic!("after-hook failures are ignored");
        }
        Ok(())
    });
    let app = start(r).await;
    let client = app.client();
    let err = client.create("Boom", &json!({"n": 1})).await.unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (
            code::VALIDATION_ERROR,
            "Cloud Code validation failed. Error detail : the hook fell over"
        )
    );
    assert_eq!(count(&client, "Boom").await, 0);
    // An after-hook's failure does not reach the client.
    client.create("AfterBoom", &json!({"n": 1})).await.unwrap();
    app.idle().await;
    assert_eq!(count(&client, "AfterBoom").await, 1);
}

#[tokio::test]
async fn a_before_hook_that_hangs_is_141_after_the_wait_and_nothing_is_stored() {
    let mut r = Registry::new();
    r.before_save("Hang", |req| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(req.object)
    });
    r.after_save("HangAfter", |_req| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(())
    });
    let timeouts = HookTimeouts {
        before: Duration::from_millis(200),
        after: Duration::from_millis(200),
    };
    let app = start_with_timeouts(r, timeouts).await;
    let client = app.client();
    let err = client.create("Hang", &json!({"n": 1})).await.unwrap_err();
    assert_eq!(err.code, code::SCRIPT_FAILED);
    assert!(
        err.message.starts_with("LeanEngine request timeout."),
        "{}",
        err.message
    );
    assert_eq!(count(&client, "Hang").await, 0);
    // A hanging after-hook is given up after its wait; the app becomes idle.
    client.create("HangAfter", &json!({"n": 1})).await.unwrap();
    app.idle().await;
    let traces = app.traces();
    let after = traces
        .iter()
        .flat_map(|t| t["hooks"].as_array().cloned().unwrap_or_default())
        .find(|h| h["hook"] == "afterSave")
        .unwrap();
    assert_eq!(after["error"], json!({"timedOut": true}));
}

#[tokio::test]
async fn traces_show_each_request_its_hooks_and_the_requests_they_made() {
    let seen = Seen::default();
    let app = start(post_cloud(&seen)).await;
    let client = app.in_process_client();
    app.api().clear_traces();
    client
        .create("Post", &json!({"title": "traced"}))
        .await
        .unwrap();
    app.idle().await;
    let traces = app.traces();
    assert_eq!(traces.len(), 1, "{traces:#?}");
    let trace = &traces[0];
    assert_eq!(trace["request"], "POST /1.1/classes/Post");
    assert_eq!(trace["status"], 201);
    let hooks = trace["hooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 2);
    assert_eq!(hooks[0]["hook"], "beforeSave");
    assert_eq!(hooks[0]["class"], "Post");
    assert_eq!(hooks[0]["input"], json!({"title": "traced"}));
    assert_eq!(hooks[0]["output"]["checked"], true);
    assert!(hooks[0]["duration_us"].is_u64());
    assert_eq!(hooks[1]["hook"], "afterSave");
    assert_eq!(hooks[1]["output"], json!({"result": "ok"}));
    let nested = hooks[1]["requests"].as_array().unwrap();
    assert_eq!(nested.len(), 1);
    assert_eq!(nested[0]["request"], "POST /1.1/classes/Log");
    assert_eq!(nested[0]["status"], 201);
    // A refused write shows the error, where it came from.
    client.create("Post", &json!({})).await.unwrap_err();
    let traces = app.traces();
    let refused = &traces[1];
    assert_eq!(refused["status"], 400);
    assert_eq!(refused["error"]["code"], code::VALIDATION_ERROR);
    assert_eq!(
        refused["hooks"][0]["error"]["error"],
        "a post needs a title"
    );
}

/// A remote engine (our engine server over HTTP) behind the standalone server: hooks are
/// discovered through metadatas, called over HTTP with the hook key, and their storage
/// calls come back over HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_engines_hooks_fire_over_http() {
    use leancloud::engine::{EngineConfig, start as start_engine};
    use mock_server::http::standalone::Standalone;
    let config = AppConfig::default();
    let api = Arc::new(Api::new(config.clone()));
    let server = Standalone::start("127.0.0.1:0".parse().unwrap(), api.clone())
        .await
        .unwrap();
    let seen = Seen::default();
    let engine = start_engine(
        post_cloud(&seen),
        EngineConfig::new(&config.app_id, &config.app_key, &config.master_key)
            .with_hook_key(&config.hook_key)
            .with_port(0)
            .with_api_server(server.uri()),
    )
    .await
    .unwrap();
    api.attach_cloud(Arc::new(leancloud::transport::HttpTransport::new(
        &engine.uri(),
    )))
    .unwrap();
    let client = Client::new(
        Arc::new(leancloud::transport::HttpTransport::new(&server.uri())),
        &config.app_id,
        &config.app_key,
    )
    .with_master_key(&config.master_key);
    let id = client
        .create("Post", &json!({"title": " far "}))
        .await
        .unwrap()["objectId"]
        .as_str()
        .unwrap()
        .to_string();
    // afterSave runs off the answer's path; let it finish so the order seen is fixed.
    api.idle().await;
    let err = client.create("Post", &json!({})).await.unwrap_err();
    assert_eq!(err.code, code::VALIDATION_ERROR);
    api.idle().await;
    assert_eq!(client.get("Post", &id).await.unwrap()["title"], "far");
    assert_eq!(count(&client, "Log").await, 1);
    assert_eq!(hooks_seen(&seen), ["beforeSave", "afterSave", "beforeSave"]);
}

/// An engine that was up when the app learnt its hooks, then went down (its hook calls go
/// to a port nobody listens on): before-hooks fail (142, nothing stored); after-hooks'
/// failures are ignored.
#[tokio::test]
async fn an_engine_that_went_down_refuses_writes_that_need_a_before_hook() {
    use futures::future::BoxFuture;
    use leancloud::{LcError, Request, Response, Transport};
    struct GoneEngine(leancloud::transport::HttpTransport);
    impl Transport for GoneEngine {
        fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
            if request.path == "/1.1/functions/_ops/metadatas" {
                let names = json!({"result": ["__before_save_for_Down", "__after_save_for_Later"]});
                return Box::pin(std::future::ready(Ok(Response::json(200, &names))));
            }
            self.0.send(request)
        }
    }
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_uri = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let api = Arc::new(Api::new(AppConfig::default()));
    api.attach_cloud(Arc::new(GoneEngine(
        leancloud::transport::HttpTransport::new(&dead_uri),
    )))
    .unwrap();
    let app = MockLeanCloud::start_shared(api).await;
    let client = app.client();
    let err = client.create("Down", &json!({"n": 1})).await.unwrap_err();
    assert_eq!(err.code, code::VALIDATION_ERROR);
    assert!(
        err.message.contains("could not be reached"),
        "{}",
        err.message
    );
    assert_eq!(count(&client, "Down").await, 0);
    client.create("Later", &json!({"n": 1})).await.unwrap();
    app.idle().await;
    assert_eq!(count(&client, "Later").await, 1);
}

/// An engine that answers garbage: a beforeSave that is not an object refuses the write.
#[tokio::test]
async fn an_engine_answering_garbage_refuses_the_write() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let engine = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/1.1/functions/_ops/metadatas"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"result": ["__before_save_for_Odd", "__before_update_for_Odd"]}),
            ),
        )
        .mount(&engine)
        .await;
    Mock::given(method("POST"))
        .and(path("/1.1/functions/Odd/beforeSave"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>not json</html>"))
        .mount(&engine)
        .await;
    Mock::given(method("POST"))
        .and(path("/1.1/functions/Odd/beforeUpdate"))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .mount(&engine)
        .await;
    let api = Arc::new(Api::new(AppConfig::default()));
    api.attach_cloud(Arc::new(leancloud::transport::HttpTransport::new(
        &engine.uri(),
    )))
    .unwrap();
    let app = MockLeanCloud::start_shared(api).await;
    let client = app.client();
    let err = client.create("Odd", &json!({"n": 1})).await.unwrap_err();
    assert_eq!(err.code, code::VALIDATION_ERROR);
    assert!(err.message.contains("not a hook answer"), "{}", err.message);
    assert_eq!(count(&client, "Odd").await, 0);
    // With the master key and the hook skipped, the object exists; its update's hook
    // answers 502 with no LeanCloud body.
    let id = client
        .as_master()
        .create("Odd", &json!({"n": 1, "__ignore_hooks": ["beforeSave"]}))
        .await
        .unwrap()["objectId"]
        .as_str()
        .unwrap()
        .to_string();
    let err = client
        .update("Odd", &id, &json!({"n": 2}))
        .await
        .unwrap_err();
    assert_eq!(err.code, code::VALIDATION_ERROR);
    assert!(err.message.contains("HTTP 502"), "{}", err.message);
    assert_eq!(client.get("Odd", &id).await.unwrap()["n"], 1);
}

#[tokio::test]
async fn idle_returns_at_once_without_cloud_code_and_the_control_endpoint_answers() {
    let app = MockLeanCloud::start().await;
    app.idle().await;
    let cfg = app.config();
    let resp = reqwest::Client::new()
        .post(format!("{}/__mock/idle", app.uri()))
        .header("x-lc-id", &cfg.app_id)
        .header("x-lc-key", format!("{},master", cfg.master_key))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"idle": true}));
    let resp = reqwest::Client::new()
        .post(format!("{}/__mock/idle", app.uri()))
        .header("x-lc-id", &cfg.app_id)
        .header("x-lc-key", &cfg.app_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

/// `_User` writes fire `_User` hooks: sign-up (beforeSave / afterSave, never with the
/// password), updates; a real log-in fires onLogin, whose refusal is HTTP 401 with 142.
#[tokio::test]
async fn sign_up_update_and_log_in_fire_the_user_hooks() {
    let seen = Seen::default();
    let mut r = Registry::new();
    let s = seen.clone();
    r.before_save("_User", move |req| {
        record(&s, "beforeSave", &req);
        async move {
            let mut user = req.object;
            if user["username"] == "mallory" {
                return Err(CloudError::new("no mallory"));
            }
            user["nickname"] = json!("new here");
            Ok(user)
        }
    });
    let s = seen.clone();
    r.after_save("_User", move |req| {
        record(&s, "afterSave", &req);
        async move { Ok(()) }
    });
    let s = seen.clone();
    r.before_update("_User", move |req| {
        record(&s, "beforeUpdate", &req);
        async move {
            if req.is_updated("nickname") {
                return Err(CloudError::new("the nickname is given at sign-up"));
            }
            Ok(())
        }
    });
    let s = seen.clone();
    r.on_login(move |req| {
        record(&s, "onLogin", &req);
        async move {
            if req.object["banned"] == true {
                return Err(CloudError::new("banned"));
            }
            Ok(())
        }
    });
    let app = start(r).await;
    let client = app.client();
    let alice = client.sign_up("alice", "pw", &Value::Null).await.unwrap();
    assert_eq!(alice["nickname"], "new here");
    // afterSave runs off the answer's path; let it finish so the order seen is fixed.
    app.idle().await;
    let err = client
        .sign_up("mallory", "pw", &Value::Null)
        .await
        .unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (
            code::VALIDATION_ERROR,
            "Cloud Code validation failed. Error detail : no mallory"
        )
    );
    // The refused user does not exist: the name is free, and logging in finds nobody.
    assert!(client.log_in("mallory", "pw").await.is_err());
    // The password never reaches the hook, and still works.
    let logged_in = client.log_in("alice", "pw").await.unwrap();
    let token = logged_in["sessionToken"].as_str().unwrap();
    let as_alice = client.clone().with_session(token);
    let id = alice["objectId"].as_str().unwrap();
    let err = as_alice
        .update("_User", id, &json!({"nickname": "x"}))
        .await
        .unwrap_err();
    assert_eq!(err.code, code::VALIDATION_ERROR);
    as_alice
        .update("_User", id, &json!({"banned": true}))
        .await
        .unwrap();
    let err = client.log_in("alice", "pw").await.unwrap_err();
    assert_eq!(
        (err.status, err.code, err.message.as_str()),
        (
            401,
            code::VALIDATION_ERROR,
            "Cloud Code validation failed. Error detail : banned"
        )
    );
    app.idle().await;
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.iter().map(|(h, _)| h.as_str()).collect::<Vec<_>>(),
        [
            "beforeSave",
            "afterSave",
            "beforeSave",
            "onLogin",
            "beforeUpdate",
            "beforeUpdate",
            "onLogin"
        ]
    );
    for (hook, payload) in seen.iter() {
        assert!(payload["object"].get("password").is_none(), "{hook}");
    }
    assert_eq!(seen[0].1["object"]["username"], "alice");
    assert!(seen[0].1["object"].get("objectId").is_none());
    assert_eq!(seen[1].1["object"]["nickname"], "new here");
    assert_eq!(seen[3].1["object"]["objectId"], id);
    // The update hook gets the user who asked, with their session.
    assert_eq!(seen[4].1["user"]["sessionToken"], token);
}
