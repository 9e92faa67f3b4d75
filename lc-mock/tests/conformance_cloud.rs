//! The built-in `conformance` cloud (the recorded app's cloud code): its functions through
//! the emulator over HTTP (`/1.1/call` typed, `/1.1/functions` plain), and its hooks run
//! directly through the registry, with and without storage.

use futures::FutureExt;
use futures::future::BoxFuture;
use lc_mock::clouds::{
    self,
    conformance::{self, registry},
};
use leancloud::cloud::{HookKind, HookOutcome, HookRequest, Storage};
use leancloud::error::code;
use leancloud::value::LcValue;
use leancloud::{LcError, Request, Response, Transport};
use mock_server::MockLeanCloud;
use mock_server::api::{Api, AppConfig, InProcess};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BEFORE: [&str; 3] = ["beforeSave", "beforeUpdate", "beforeDelete"];
const AFTER: [&str; 3] = ["afterSave", "afterUpdate", "afterDelete"];
const USER_ID: &str = "55069e5be4b0c93838ed8e6c";
const FILE_URL: &str =
    "http://ac-1qdney6b.qiniudn.com/3zLG4o0d27MsCQ0qHGRg4JUKbaXU2fiE35HdhC8j.txt";

// ---- helpers -------------------------------------------------------------------------------

async fn start() -> MockLeanCloud {
    MockLeanCloud::start_with_cloud(Api::new(AppConfig::default()), registry())
        .await
        .unwrap()
}

/// `POST <path>` with the app key (or the master key) and a JSON body.
async fn post(lc: &MockLeanCloud, path: &str, body: Value, master: bool) -> (u16, Value) {
    let cfg = lc.config();
    let key = if master {
        format!("{},master", cfg.master_key)
    } else {
        cfg.app_key.clone()
    };
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", lc.uri()))
        .header("x-lc-id", &cfg.app_id)
        .header("x-lc-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

fn complex_row(name: &str, n: i64) -> Value {
    json!({
        "name": name,
        "numberColumn": n,
        "arrayColumn": [1, 2, 3],
        "objectColumn": {"foo": "bar"},
        "stringColumn": "testString",
        "booleanColumn": true,
        "pointerColumn": {"__type": "Pointer", "className": "_User", "objectId": USER_ID},
        "dateColumn": {"__type": "Date", "iso": "2015-05-14T06:24:47.000Z"},
        "geopointColumn": {"__type": "GeoPoint", "latitude": 39.9, "longitude": 116.4},
        "fileColumn": {"__type": "File", "id": "5555c5cae4b0846760927d6a"},
    })
}

/// Seed `names.len()` ComplexObject rows with the master key, oldest first; their ids.
async fn seed_complex_objects(lc: &MockLeanCloud, names: &[&str]) -> Vec<String> {
    let mut ids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let (status, body) = post(
            lc,
            "/1.1/classes/ComplexObject",
            complex_row(name, i as i64),
            true,
        )
        .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["objectId"].as_str().unwrap().to_string());
        // Distinct creation times, so that the ascending createdAt order is the seeding order.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    ids
}

fn result(answer: (u16, Value)) -> Value {
    assert_eq!(answer.0, 200, "{}", answer.1);
    answer.1["result"].clone()
}

/// A seeded row as the cloud code sees it, whatever its encoding.
fn assert_complex_row(row: &Value, id: &str, name: &str) {
    assert_eq!(row["objectId"], json!(id), "{row}");
    assert_eq!(row["name"], json!(name));
    assert_eq!(row["arrayColumn"], json!([1, 2, 3]));
    assert_eq!(row["objectColumn"], json!({"foo": "bar"}));
    assert_eq!(row["booleanColumn"], json!(true));
    assert_eq!(
        row["pointerColumn"],
        json!({"__type": "Pointer", "className": "_User", "objectId": USER_ID})
    );
    assert_eq!(
        row["dateColumn"],
        json!({"__type": "Date", "iso": "2015-05-14T06:24:47.000Z"})
    );
    assert_eq!(row["fileColumn"]["__type"], json!("File"));
    assert!(row["createdAt"].is_string(), "{row}");
    assert!(row["updatedAt"].is_string(), "{row}");
}

// ---- functions -----------------------------------------------------------------------------

#[test]
fn the_cloud_is_built_in_with_the_readme_functions_and_hooks_only() {
    let names = clouds::named("conformance").unwrap()().metadata_names();
    let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected = vec![
        "AVObjects",
        "bareAVObject",
        "complexObject",
        "foo",
        "hello",
        "testAVObjectParams",
        "testBareAVObjectParams",
        "__before_save_for_IgnoreHookTest",
        "__after_save_for_IgnoreHookTest",
        "__before_update_for_IgnoreHookTest",
        "__after_update_for_IgnoreHookTest",
        "__before_delete_for_IgnoreHookTest",
        "__after_delete_for_IgnoreHookTest",
    ];
    expected.sort_unstable();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn hello_and_foo_answer_on_both_endpoints() {
    let lc = start().await;
    for endpoint in ["call", "functions"] {
        let path = format!("/1.1/{endpoint}/hello");
        let r = result(post(&lc, &path, json!({"name": "LeanCloud"}), false).await);
        assert_eq!(r, json!({"action": "hello", "name": "LeanCloud"}));
        let r = result(post(&lc, &path, json!({}), false).await);
        assert_eq!(r, json!({"action": "hello"}), "an absent name is left out");
        let path = format!("/1.1/{endpoint}/foo");
        assert_eq!(
            result(post(&lc, &path, json!({}), false).await),
            json!("bar")
        );
    }
}

#[tokio::test]
async fn complex_object_over_call_is_fully_typed() {
    let lc = start().await;
    let ids = seed_complex_objects(&lc, &["avObject", "avObjects", "third"]).await;
    let r = result(post(&lc, "/1.1/call/complexObject", json!({}), false).await);
    assert_eq!(r["foo"], json!("bar"));
    assert_eq!(r["i"], json!(123));
    assert_eq!(r["obj"], json!({"a": "b", "as": [1, 2, 3]}));
    assert_eq!(
        r["t"],
        json!({"__type": "Date", "iso": "2015-05-14T09:21:18.273Z"})
    );
    // Objects nested in the result map are pointers that carry their fields.
    let first = &r["avObject"];
    assert_eq!(first["__type"], json!("Pointer"));
    assert_eq!(first["className"], json!("ComplexObject"));
    assert_complex_row(first, &ids[0], "avObject");
    let all = r["avObjects"].as_array().unwrap();
    assert_eq!(all.len(), 3);
    for ((row, id), name) in all.iter().zip(&ids).zip(["avObject", "avObjects", "third"]) {
        assert_eq!(row["__type"], json!("Pointer"));
        assert_eq!(row["className"], json!("ComplexObject"));
        assert_complex_row(row, id, name);
    }
    // The whole result decodes as typed values.
    let LcValue::Map(decoded) = LcValue::decode(&r).unwrap() else {
        panic!("the result is a map: {r}");
    };
    assert!(matches!(decoded["t"], LcValue::Date(_)));
    let LcValue::Included(object) = &decoded["avObject"] else {
        panic!("avObject is an object: {r}");
    };
    assert_eq!(object.class_name, "ComplexObject");
    assert!(matches!(object.get("fileColumn"), Some(LcValue::File(_))));
    assert!(matches!(object.get("dateColumn"), Some(LcValue::Date(_))));
    assert!(matches!(
        object.get("geopointColumn"),
        Some(LcValue::GeoPoint(_))
    ));
}

#[tokio::test]
async fn complex_object_over_functions_is_plain_json() {
    let lc = start().await;
    let ids = seed_complex_objects(&lc, &["avObject", "avObjects"]).await;
    let r = result(post(&lc, "/1.1/functions/complexObject", json!({}), false).await);
    assert_eq!(r["t"], json!("2015-05-14T09:21:18.273Z"));
    assert_eq!(r["i"], json!(123));
    let first = &r["avObject"];
    assert!(first.get("__type").is_none() && first.get("className").is_none());
    assert_complex_row(first, &ids[0], "avObject");
    let all = r["avObjects"].as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert_complex_row(&all[1], &ids[1], "avObjects");
    assert!(all[1].get("__type").is_none());
}

#[tokio::test]
async fn complex_object_without_rows_leaves_the_first_object_out() {
    let lc = start().await;
    // Before the class exists the query fails, and so does the function.
    let (status, body) = post(&lc, "/1.1/call/complexObject", json!({}), false).await;
    assert_eq!((status, body["code"].clone()), (500, json!(101)), "{body}");
    // An existing class without rows.
    let ids = seed_complex_objects(&lc, &["gone"]).await;
    let cfg = lc.config();
    let deleted = reqwest::Client::new()
        .delete(format!("{}/1.1/classes/ComplexObject/{}", lc.uri(), ids[0]))
        .header("x-lc-id", &cfg.app_id)
        .header("x-lc-key", format!("{},master", cfg.master_key))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 200);
    let r = result(post(&lc, "/1.1/call/complexObject", json!({}), false).await);
    assert!(r.get("avObject").is_none(), "{r}");
    assert_eq!(r["avObjects"], json!([]));
    assert_eq!(
        result(post(&lc, "/1.1/call/bareAVObject", json!({}), false).await),
        json!({})
    );
    assert_eq!(
        result(post(&lc, "/1.1/call/AVObjects", json!({}), false).await),
        json!([])
    );
}

#[tokio::test]
async fn bare_av_object_and_av_objects_are_whole_objects() {
    let lc = start().await;
    let ids = seed_complex_objects(&lc, &["first", "second"]).await;
    let bare = result(post(&lc, "/1.1/call/bareAVObject", json!({}), false).await);
    assert_eq!(bare["__type"], json!("Object"));
    assert_eq!(bare["className"], json!("ComplexObject"));
    assert_complex_row(&bare, &ids[0], "first");
    let Ok(LcValue::Object(object)) = LcValue::decode(&bare) else {
        panic!("a whole object: {bare}");
    };
    assert_eq!(object.object_id(), Some(ids[0].as_str()));

    let all = result(post(&lc, "/1.1/call/AVObjects", json!({}), false).await);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2);
    for ((row, id), name) in all.iter().zip(&ids).zip(["first", "second"]) {
        assert_eq!(row["__type"], json!("Object"));
        assert_eq!(row["className"], json!("ComplexObject"));
        assert_complex_row(row, id, name);
    }

    // On /1.1/functions the same objects are plain JSON.
    let plain = result(post(&lc, "/1.1/functions/AVObjects", json!({}), false).await);
    let plain = plain.as_array().unwrap();
    assert_eq!(plain.len(), 2);
    assert!(plain[0].get("__type").is_none() && plain[0].get("className").is_none());
    assert_complex_row(&plain[0], &ids[0], "first");
    let plain = result(post(&lc, "/1.1/functions/bareAVObject", json!({}), false).await);
    assert!(plain.get("__type").is_none());
    assert_complex_row(&plain, &ids[0], "first");
}

/// The recorded file param: an external file with no id.
fn recorded_file() -> Value {
    json!({
        "name": "hello.txt",
        "url": FILE_URL,
        "metaData": {"owner": "unknown", "__source": "external", "size": 0},
        "base64": "",
        "__type": "File",
    })
}

/// The file param with an id, which the emulator's decoder of typed params requires.
fn file_with_id() -> Value {
    let mut file = recorded_file();
    file["objectId"] = json!("5555c5cae4b0846760927d6a");
    file
}

fn av_object_params(file: Value) -> Value {
    json!({
        "avObject": {
            "name": "avObject",
            "pointerColumn": {"__type": "Pointer", "className": "_User", "objectId": USER_ID},
            "objectId": "5d8307fd17b54d0068f1aa87",
            "createdAt": "2019-09-19T04:45:49.090Z",
            "updatedAt": "2019-09-19T04:45:49.090Z",
            "__type": "Pointer",
            "className": "ComplexObject",
        },
        "avFile": file,
        "avObjects": [{
            "name": "avObjects",
            "objectId": "5d8307fd17b54d0068f1aa88",
            "createdAt": "2019-09-19T04:45:49.100Z",
            "updatedAt": "2019-09-19T04:45:49.100Z",
            "__type": "Pointer",
            "className": "ComplexObject",
        }],
    })
}

#[tokio::test]
async fn av_object_params_are_checked_and_answer_an_empty_map() {
    let lc = start().await;
    let answer = post(
        &lc,
        "/1.1/call/testAVObjectParams",
        av_object_params(file_with_id()),
        false,
    )
    .await;
    assert_eq!(answer, (200, json!({"result": {}})));

    // Params that are not what the recorded code expects fail it (an uncaught error).
    let mut wrong = av_object_params(file_with_id());
    wrong["avObject"]["name"] = json!("someone else");
    let (status, body) = post(&lc, "/1.1/call/testAVObjectParams", wrong, false).await;
    assert_eq!((status, body["code"].clone()), (500, json!(1)), "{body}");
    let mut not_user = av_object_params(file_with_id());
    not_user["avObject"]["pointerColumn"]["className"] = json!("Post");
    let (status, _) = post(&lc, "/1.1/call/testAVObjectParams", not_user, false).await;
    assert_eq!(status, 500);
    // On /1.1/functions the params stay plain JSON, so they are not AV objects.
    let (status, _) = post(
        &lc,
        "/1.1/functions/testAVObjectParams",
        av_object_params(file_with_id()),
        false,
    )
    .await;
    assert_eq!(status, 500);
}

#[tokio::test]
async fn bare_av_object_params_are_checked_and_answer_an_empty_map() {
    let lc = start().await;
    let params = json!({
        "name": "avObject",
        "avFile": file_with_id(),
        "__type": "Object",
        "className": "ComplexObject",
    });
    let answer = post(
        &lc,
        "/1.1/call/testBareAVObjectParams",
        params.clone(),
        false,
    )
    .await;
    assert_eq!(answer, (200, json!({"result": {}})));
    let mut no_file = params;
    no_file.as_object_mut().unwrap().remove("avFile");
    let (status, _) = post(&lc, "/1.1/call/testBareAVObjectParams", no_file, false).await;
    assert_eq!(status, 500);
}

// ---- hooks without storage -----------------------------------------------------------------

async fn run(kind: HookKind, object: Value) -> Result<HookOutcome, leancloud::cloud::CloudError> {
    registry()
        .run_hook(conformance::HOOK_CLASS, kind, HookRequest::new(object))
        .await
}

#[tokio::test]
async fn before_save_stores_the_object_with_by_before_save() {
    let outcome = run(HookKind::BeforeSave, json!({"title": "test"})).await;
    assert_eq!(
        outcome,
        Ok(HookOutcome::Save(
            json!({"title": "test", "byBeforeSave": 1})
        ))
    );
}

#[tokio::test]
async fn before_delete_always_refuses() {
    let err = run(
        HookKind::BeforeDelete,
        json!({"objectId": "5d830801f40d3a0007541da4"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.message, "Error from beforeDelete");
    assert_eq!((err.status, err.code), (400, code::GENERIC));
}

#[tokio::test]
async fn after_delete_does_nothing() {
    let outcome = run(
        HookKind::AfterDelete,
        json!({"objectId": "5d830801f40d3a0007541da4"}),
    )
    .await;
    assert_eq!(outcome, Ok(HookOutcome::Ok));
}

#[tokio::test]
async fn no_hooks_beyond_the_readme_ones() {
    let registry = registry();
    for kind in HookKind::CLASS_HOOKS {
        assert!(registry.has_hook("IgnoreHookTest", kind));
        assert!(!registry.has_hook("ComplexObject", kind));
    }
    assert!(!registry.has_hook("_User", HookKind::OnLogin));
}

// ---- hooks that write --------------------------------------------------------------------

/// Records the requests hook code sends and answers each with an update's answer.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Request>>,
}

impl Transport for Recorder {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
        self.seen.lock().unwrap().push(request);
        let answer = json!({"objectId": "h1", "updatedAt": "2019-09-19T04:45:52.782Z"});
        async move { Ok(Response::json(200, &answer)) }.boxed()
    }
}

/// Run one hook on object `h1` with the recorder as storage; what it sent.
async fn recorded_write(kind: HookKind) -> (HookOutcome, Request) {
    let recorder = Arc::new(Recorder::default());
    let storage = Storage::new(recorder.clone(), "app", "app-key")
        .with_master_key("master-key")
        .with_hook_key("hook-key");
    let object = json!({
        "objectId": "h1", "title": "test",
        "createdAt": "2019-09-19T04:45:52.502Z", "updatedAt": "2019-09-19T04:45:52.502Z",
    });
    let outcome = registry()
        .with_storage(storage)
        .run_hook("IgnoreHookTest", kind, HookRequest::new(object))
        .await
        .unwrap();
    let mut seen = recorder.seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "{kind} writes once");
    (outcome, seen.remove(0))
}

fn ignored(first: [&str; 3], second: [&str; 3]) -> Value {
    json!(first.iter().chain(&second).collect::<Vec<_>>())
}

#[tokio::test]
async fn write_hooks_put_only_their_flag_with_every_hook_disabled() {
    let cases = [
        (HookKind::AfterSave, "byAfterSave", ignored(AFTER, BEFORE)),
        (
            HookKind::AfterUpdate,
            "byAfterUpdate",
            ignored(AFTER, BEFORE),
        ),
        (
            HookKind::BeforeUpdate,
            "byBeforeUpdate",
            ignored(BEFORE, AFTER),
        ),
    ];
    for (kind, flag, hooks) in cases {
        let (outcome, request) = recorded_write(kind).await;
        assert_eq!(request.method, "PUT", "{kind}");
        assert_eq!(request.path, "/1.1/classes/IgnoreHookTest/h1", "{kind}");
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body, json!({flag: 1, "__ignore_hooks": hooks}), "{kind}");
        // The hook's storage client: the app key and the hook key, no master key.
        assert_eq!(request.header("x-lc-key"), Some("app-key"), "{kind}");
        assert_eq!(request.header("x-lc-hook-key"), Some("hook-key"), "{kind}");
        match kind {
            HookKind::BeforeUpdate => assert!(
                matches!(&outcome, HookOutcome::Accepted(o) if o["byBeforeUpdate"] == json!(1)),
                "{outcome:?}"
            ),
            _ => assert_eq!(outcome, HookOutcome::Ok),
        }
    }
}

#[tokio::test]
async fn write_hooks_set_their_flag_on_the_stored_object() {
    // An app without cloud code, so that no write here runs a hook.
    let cfg = AppConfig::default();
    let api = Arc::new(Api::new(cfg.clone()));
    let storage = Storage::new(Arc::new(InProcess(api.clone())), &cfg.app_id, &cfg.app_key)
        .with_master_key(&cfg.master_key)
        .with_hook_key(&cfg.hook_key);
    let client = storage.client();
    let created = client
        .create("IgnoreHookTest", &json!({"title": "test"}))
        .await
        .unwrap();
    let id = created["objectId"].as_str().unwrap().to_string();
    let registry = registry().with_storage(storage);
    for kind in [
        HookKind::AfterSave,
        HookKind::BeforeUpdate,
        HookKind::AfterUpdate,
    ] {
        let object = client.get("IgnoreHookTest", &id).await.unwrap();
        registry
            .run_hook("IgnoreHookTest", kind, HookRequest::new(object))
            .await
            .unwrap();
    }
    let stored = client.get("IgnoreHookTest", &id).await.unwrap();
    assert_eq!(stored["title"], json!("test"));
    assert_eq!(stored["byAfterSave"], json!(1));
    assert_eq!(stored["byBeforeUpdate"], json!(1));
    assert_eq!(stored["byAfterUpdate"], json!(1));
    assert!(stored.get("byBeforeSave").is_none());
    assert!(stored.get("__ignore_hooks").is_none());
}

#[tokio::test]
async fn a_write_hook_without_an_object_id_fails() {
    let recorder = Arc::new(Recorder::default());
    let storage = Storage::new(recorder.clone(), "app", "app-key").with_hook_key("hook-key");
    let err = registry()
        .with_storage(storage)
        .run_hook(
            "IgnoreHookTest",
            HookKind::AfterSave,
            HookRequest::new(json!({"title": "test"})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, code::MISSING_OBJECT_ID);
    assert!(recorder.seen.lock().unwrap().is_empty());
}

/// The exact recorded requests. The recorded file param is an external file without an
/// id, which the typed-param decoder (`leancloud::value`, used by the engine before the
/// function runs) refuses with 400 code 111; the recordings answered `{"result":{}}`.
#[tokio::test]
async fn the_recorded_av_object_params_answer_an_empty_map() {
    let lc = start().await;
    let answer = post(
        &lc,
        "/1.1/call/testAVObjectParams",
        av_object_params(recorded_file()),
        false,
    )
    .await;
    assert_eq!(answer, (200, json!({"result": {}})));
    let params = json!({
        "name": "avObject",
        "avFile": recorded_file(),
        "__type": "Object",
        "className": "ComplexObject",
    });
    let answer = post(&lc, "/1.1/call/testBareAVObjectParams", params, false).await;
    assert_eq!(answer, (200, json!({"result": {}})));
}
