//! What the transcript shows only in part: session tokens and the user lookup, the
//! master key, legacy headers, API versions and namespaces, hooks saving their object.

use super::*;

// ---- what the transcript shows only in part ---------------------------------------------------

#[tokio::test]
async fn a_session_token_resolves_the_user_through_storage_once() {
    let (engine, storage) = engine().await;
    let request = post(
        "/1.1/functions/echo",
        &with(APP, &["X-LC-Session: fake-session-token-x"]),
        "{}",
    );
    let (status, body) = send(&engine, request).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["user"]["objectId"], "u1");
    let calls = storage.requests();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].method.as_str(), calls[0].path.as_str()),
        ("GET", "/1.1/users/me")
    );
    assert_eq!(calls[0].header("x-lc-session"), Some(SESSION));
    assert_eq!(calls[0].header("x-lc-id"), Some(APP_ID));
}

#[tokio::test]
async fn a_function_without_fetch_user_never_asks_storage() {
    let (engine, storage) = engine().await;
    let request = post(
        "/1.1/functions/noFetchUser",
        &with(APP, &["X-LC-Session: tok123"]),
        "{}",
    );
    assert_eq!(send(&engine, request).await.0, 200);
    assert!(storage.requests().is_empty());
}

#[tokio::test]
async fn an_invalid_session_token_is_401_code_211() {
    let (engine, _storage) = engine().await;
    let request = post(
        "/1.1/functions/whoami",
        &with(APP, &["X-LC-Session: expired"]),
        "{}",
    );
    assert_eq!(
        send(&engine, request).await,
        (
            401,
            json!({"code": 211, "error": "Verify sessionToken failed, maybe login expired: Could not find user."})
        )
    );
}

#[tokio::test]
async fn an_invalid_session_token_can_be_ignored() {
    let storage = Arc::new(FakeStorage::default());
    let config = config(&storage).ignoring_invalid_session_tokens();
    let engine = start(transcript_registry(), config).await.unwrap();
    let request = post(
        "/1.1/functions/whoami",
        &with(APP, &["X-LC-Session: expired"]),
        "{}",
    );
    assert_eq!(
        send(&engine, request).await,
        (200, json!({"result": {"id": null, "username": null}}))
    );
}

#[tokio::test]
async fn without_a_storage_server_the_user_lookup_fails_naming_the_variable() {
    let config = EngineConfig::new(APP_ID, APP_KEY, MASTER_KEY).with_hook_key(HOOK_KEY);
    let engine = start(transcript_registry(), config).await.unwrap();
    let request = post(
        "/1.1/functions/whoami",
        &with(APP, &["X-LC-Session: x"]),
        "{}",
    );
    let (status, body) = send(&engine, request).await;
    assert_eq!((status, &body["code"]), (401, &json!(211)));
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("LEANCLOUD_API_SERVER"),
        "{body}"
    );
}

#[tokio::test]
async fn the_master_key_opens_internal_functions_and_the_metadata_list() {
    let (engine, _storage) = engine().await;
    let sign = leancloud::sign::header_value(MASTER_KEY, 1_700_000_000_000, true);
    let signed = [
        "X-LC-Id: testAppId-MdYXbMMI",
        "Content-Type: application/json",
    ];
    let mut request = post("/1.1/functions/internalOnly", &signed, "{}");
    request = request.with_header("x-lc-sign", sign.clone());
    assert_eq!(
        send(&engine, request).await,
        (200, json!({"result": "secret"}))
    );
    let request = Request::new("GET", "/1.1/functions/_ops/metadatas")
        .with_header("x-avoscloud-application-id", APP_ID)
        .with_header("x-avoscloud-master-key", MASTER_KEY);
    let (status, body) = send(&engine, request).await;
    assert_eq!(
        (status, body["result"].as_array().unwrap().len()),
        (200, 22)
    );
}

#[tokio::test]
async fn legacy_avoscloud_headers_authenticate_and_hooks_check_the_hook_key() {
    let (engine, _storage) = engine().await;
    let request = Request::new("POST", "/1.1/functions/Post/afterSave")
        .with_header("x-avoscloud-application-id", APP_ID)
        .with_header("x-avoscloud-application-key", APP_KEY)
        .with_header("x-lc-hook-key", HOOK_KEY)
        .with_json(&json!({"object": {"objectId": "p1"}}));
    assert_eq!(send(&engine, request).await, (200, json!({"result": "ok"})));
}

#[tokio::test]
async fn both_api_versions_and_the_engine_namespace_route_functions_and_calls() {
    let (engine, _storage) = engine().await;
    for path in [
        "/1/call/hello",
        "/__engine/1.1/functions/hello",
        "/__engine/1/call/hello",
    ] {
        assert_eq!(
            send(&engine, post(path, APP, "{}")).await,
            (200, json!({"result": "Hello world"})),
            "{path}"
        );
    }
    let (status, body) = send(&engine, Request::new("GET", "/__engine/1.1/ping")).await;
    assert_eq!(
        (status, body["version"].as_str()),
        (200, Some(env!("CARGO_PKG_VERSION")))
    );
}

#[tokio::test]
async fn hook_code_saving_its_object_skips_the_hooks_and_sends_the_hook_key() {
    let storage = Arc::new(FakeStorage::default());
    let mut registry = Registry::new();
    registry.after_update("Post", |req| async move {
        req.save_object(&json!({"views": 1})).await?;
        Ok(())
    });
    let engine = start(registry, config(&storage)).await.unwrap();
    let body = r#"{"object":{"objectId":"p1","title":"t","_updatedKeys":["title"]}}"#;
    let request = post("/1.1/functions/Post/afterUpdate", HOOK, body);
    assert_eq!(send(&engine, request).await, (200, json!({"result": "ok"})));
    let writes = storage.requests();
    assert_eq!(writes.len(), 1);
    assert_eq!(
        (writes[0].method.as_str(), writes[0].path.as_str()),
        ("PUT", "/1.1/classes/Post/p1")
    );
    assert_eq!(writes[0].header("x-lc-hook-key"), Some(HOOK_KEY));
    assert_eq!(
        serde_json::from_slice::<Value>(&writes[0].body).unwrap(),
        json!({"views": 1, "__ignore_hooks": ["afterSave", "afterUpdate", "afterDelete"]})
    );
}

#[tokio::test]
async fn hooks_see_the_requesting_user_and_the_client_address() {
    let mut registry = Registry::new();
    registry.before_save("Post", |req| async move {
        let mut object = req.object.clone();
        object["by"] = json!(req.user.as_ref().map(|u| u["objectId"].clone()));
        object["token"] = json!(req.session_token());
        object["from"] = json!(req.meta.remote_address);
        Ok(object)
    });
    let storage = Arc::new(FakeStorage::default());
    let engine = start(registry, config(&storage)).await.unwrap();
    let body = r#"{"object":{"n":1},"user":{"objectId":"u1","sessionToken":"tok"}}"#;
    let request = post("/1.1/functions/Post/beforeSave", HOOK, body)
        .with_header("x-forwarded-for", "203.0.113.7, 10.0.0.1");
    assert_eq!(
        send(&engine, request).await,
        (
            200,
            json!({"n": 1, "by": "u1", "token": "tok", "from": "203.0.113.7"})
        )
    );
}
