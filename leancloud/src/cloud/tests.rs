//! The runtime on its own, as the emulator will use it in-process: no HTTP, any executor.

use super::*;
use crate::error::code;
use crate::value::{Date, LcValue, Object, Pointer};
use crate::{LcError, Request, Response, Transport};
use futures::FutureExt;
use futures::executor::block_on;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Records requests and answers each with `{"ok": true}` (status 200).
#[derive(Default)]
struct Recorder {
    requests: Mutex<Vec<Request>>,
}

impl Transport for Recorder {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
        self.requests.lock().unwrap().push(request);
        async { Ok(Response::json(200, &json!({"ok": true}))) }.boxed()
    }
}

fn storage(recorder: &Arc<Recorder>) -> Storage {
    Storage::new(recorder.clone(), "app", "key")
        .with_master_key("master")
        .with_hook_key("hook")
}

fn call(registry: &Registry, name: &str, req: FunctionRequest) -> Result<Value, CloudError> {
    block_on(registry.call_function(name, req))
}

fn hook(
    registry: &Registry,
    class: &str,
    kind: HookKind,
    req: HookRequest,
) -> Result<HookOutcome, CloudError> {
    block_on(registry.run_hook(class, kind, req))
}

#[test]
fn a_defined_function_answers_with_its_result() {
    let mut registry = Registry::new();
    registry.define("hello", |req| async move {
        let name = req.params["name"].as_str().unwrap_or("world").to_string();
        Ok(json!(format!("Hello {name}")))
    });
    let result = call(
        &registry,
        "hello",
        FunctionRequest::new(json!({"name": "Rust"})),
    );
    assert_eq!(result, Ok(json!("Hello Rust")));
}

#[test]
fn a_function_may_return_any_serialisable_value() {
    #[derive(serde::Serialize)]
    struct Answer {
        n: u32,
    }
    let mut registry = Registry::new();
    registry.define("n", |_req| async move { Ok(Answer { n: 7 }) });
    registry.define("unit", |_req| async move { Ok(()) });
    assert_eq!(
        call(&registry, "n", FunctionRequest::new(json!({}))),
        Ok(json!({"n": 7}))
    );
    assert_eq!(
        call(&registry, "unit", FunctionRequest::new(json!({}))),
        Ok(Value::Null)
    );
}

#[test]
fn an_unknown_function_is_404_with_the_node_engines_message() {
    let err = call(&Registry::new(), "nope", FunctionRequest::new(json!({}))).unwrap_err();
    assert_eq!(
        (err.status, err.to_json()),
        (
            404,
            json!({"code": 1, "error": "No such cloud function 'nope'"})
        )
    );
}

#[test]
fn cloud_errors_keep_their_code_and_status() {
    let mut registry = Registry::new();
    registry.define("e", |_req| async move {
        Err::<Value, _>(CloudError::new("teapot").with_code(418).with_status(418))
    });
    registry.define("s", |_req| async move {
        Err::<Value, _>("just a string".into())
    });
    let err = call(&registry, "e", FunctionRequest::new(json!({}))).unwrap_err();
    assert_eq!(
        (err.status, err.code, err.message.as_str()),
        (418, 418, "teapot")
    );
    let err = call(&registry, "s", FunctionRequest::new(json!({}))).unwrap_err();
    assert_eq!(
        (err.status, err.code, err.message.as_str()),
        (400, 1, "just a string")
    );
}

#[test]
fn a_storage_error_that_escapes_a_handler_is_500_with_the_storage_code() {
    let err: CloudError = LcError::duplicate_value().into();
    assert_eq!((err.status, err.code), (500, code::DUPLICATE_VALUE));
    assert_eq!(CloudError::from_lc(LcError::duplicate_value()).status, 400);
}

#[test]
fn internal_functions_need_the_hook_key_or_the_master_key() {
    let mut registry = Registry::new();
    registry.define_with("secret", FunctionOptions::internal(), |_req| async move {
        Ok(json!("secret"))
    });
    let err = call(
        &registry,
        "secret",
        FunctionRequest::new(json!({})).with_remote_address("10.1.2.3"),
    )
    .unwrap_err();
    assert_eq!(
        (err.status, err.to_json()),
        (
            401,
            json!({"code": 401, "error": "Internal cloud function, request from 10.1.2.3"})
        )
    );
    for req in [
        FunctionRequest::new(json!({})).with_hook_key(),
        FunctionRequest::new(json!({})).with_master_key(),
    ] {
        assert_eq!(call(&registry, "secret", req), Ok(json!("secret")));
    }
}

#[test]
fn realtime_hooks_need_the_hook_key() {
    let mut registry = Registry::new();
    registry.define("_messageReceived", |_req| async move { Ok(json!({})) });
    let err = call(
        &registry,
        "_messageReceived",
        FunctionRequest::new(json!({})),
    )
    .unwrap_err();
    assert_eq!(err.message, "Hook key check failed, request from 127.0.0.1");
    let ok = FunctionRequest::new(json!({})).with_hook_key();
    assert_eq!(call(&registry, "_messageReceived", ok), Ok(json!({})));
}

fn typed_post() -> Object {
    Object::new("Post")
        .with("objectId", LcValue::String("p1".into()))
        .with("title", LcValue::String("t".into()))
        .with(
            "when",
            Date::from_iso("2020-01-02T03:04:05.000Z").unwrap().into(),
        )
        .with("author", Pointer::new("_User", "u1").into())
}

#[test]
fn functions_answer_objects_as_plain_json_and_rpc_fully_typed() {
    let mut registry = Registry::new();
    registry.define(
        "post",
        |_req| async move { Ok(json!([typed_post().to_json()])) },
    );
    let plain = call(&registry, "post", FunctionRequest::new(json!({}))).unwrap();
    assert_eq!(
        plain,
        json!([{
            "objectId": "p1", "title": "t",
            "when": {"__type": "Date", "iso": "2020-01-02T03:04:05.000Z"},
            "author": {"__type": "Pointer", "className": "_User", "objectId": "u1"}
        }])
    );
    let typed = call(&registry, "post", FunctionRequest::rpc(json!({})).unwrap()).unwrap();
    assert_eq!(typed, json!([typed_post().to_json()]));
}

#[test]
fn rpc_params_are_decoded_and_plain_params_are_not() {
    let mut registry = Registry::new();
    registry.define("types", |req| async move {
        Ok(json!({
            "isObject": matches!(req.typed_param("obj"), Some(LcValue::Object(_))),
            "isDate": matches!(req.typed_param("when"), Some(LcValue::Date(_))),
        }))
    });
    let params = json!({
        "obj": {"__type": "Object", "className": "Post", "objectId": "p1"},
        "when": {"__type": "Date", "iso": "2020-01-02T03:04:05.000Z"}
    });
    let rpc = FunctionRequest::rpc(params.clone()).unwrap();
    assert_eq!(
        call(&registry, "types", rpc),
        Ok(json!({"isObject": true, "isDate": true}))
    );
    assert_eq!(
        call(&registry, "types", FunctionRequest::new(params)),
        Ok(json!({"isObject": false, "isDate": false}))
    );
}

#[test]
fn malformed_typed_rpc_params_are_a_400() {
    let err = FunctionRequest::rpc(json!({"when": {"__type": "Date", "iso": 5}})).unwrap_err();
    assert_eq!(err.status, 400);
}

#[test]
fn a_panicking_handler_is_a_500_with_the_panic_message_and_the_registry_goes_on() {
    let mut registry = Registry::new();
    registry.define("crash", |_req| async move {
        if true {
            panic!("unexpected crash");
        }
        Ok(json!(null))
    });
    registry.define("fine", |_req| async move { Ok(json!("fine")) });
    let err = call(&registry, "crash", FunctionRequest::new(json!({}))).unwrap_err();
    assert_eq!(
        (err.status, err.to_json()),
        (500, json!({"code": 1, "error": "unexpected crash"}))
    );
    assert_eq!(
        call(&registry, "fine", FunctionRequest::new(json!({}))),
        Ok(json!("fine"))
    );
}

#[test]
fn a_handler_past_the_timeout_is_a_503_with_code_124() {
    let mut registry = Registry::new().with_timeout(Duration::from_millis(50));
    registry.define("hang", |_req| async move {
        futures::future::pending::<()>().await;
        Ok(json!(null))
    });
    registry.before_save("Post", |_req| async move {
        futures::future::pending::<()>().await;
        Ok(())
    });
    let expected = json!({"code": 124, "error": "The request timed out on the server."});
    let err = call(&registry, "hang", FunctionRequest::new(json!({}))).unwrap_err();
    assert_eq!((err.status, err.to_json()), (503, expected.clone()));
    let err = hook(
        &registry,
        "Post",
        HookKind::BeforeSave,
        HookRequest::new(json!({})),
    )
    .unwrap_err();
    assert_eq!((err.status, err.to_json()), (503, expected));
}

#[test]
fn metadata_names_are_the_node_engines_in_definition_order() {
    let mut registry = Registry::new();
    registry.define("hello", |_req| async move { Ok(json!(1)) });
    for kind in HookKind::CLASS_HOOKS {
        registry.hook("Post", kind, |_req| async move { Ok(()) });
    }
    registry.on_login(|_req| async move { Ok(()) });
    registry.on_verified(VerifyType::Sms, |_req| async move { Ok(()) });
    registry.on_verified(VerifyType::Email, |_req| async move { Ok(()) });
    registry.on_auth_data(|_req| async move { Ok(()) });
    // Defining a name again replaces it where it was.
    registry.define("hello", |_req| async move { Ok(json!(2)) });
    assert_eq!(
        registry.metadata_names(),
        [
            "hello",
            "__before_save_for_Post",
            "__after_save_for_Post",
            "__before_update_for_Post",
            "__after_update_for_Post",
            "__before_delete_for_Post",
            "__after_delete_for_Post",
            "__on_login__User",
            "__on_verified_sms",
            "__on_verified_email",
            "__on_authdata__User",
        ]
    );
    assert_eq!(
        call(&registry, "hello", FunctionRequest::new(json!({}))),
        Ok(json!(2))
    );
    assert!(registry.has_hook("Post", HookKind::AfterDelete));
    assert!(!registry.has_hook("Comment", HookKind::AfterDelete));
    assert!(registry.has_hook("ignored", HookKind::OnLogin));
    assert_eq!(registry.function_options("__on_login__User"), None);
}

#[test]
fn before_save_stores_what_the_hook_returns_without_type_markers() {
    let mut registry = Registry::new();
    registry.before_save("Post", |req| async move {
        let mut post = req.object;
        post["byBeforeSave"] = json!(true);
        post["__type"] = json!("Object");
        post["className"] = json!("Post");
        post["__ignore_hooks"] = json!(["beforeSave"]);
        Ok(post)
    });
    let outcome = hook(
        &registry,
        "Post",
        HookKind::BeforeSave,
        HookRequest::new(json!({"n": 1})),
    );
    assert_eq!(
        outcome,
        Ok(HookOutcome::Save(json!({"n": 1, "byBeforeSave": true})))
    );
    assert_eq!(
        outcome.unwrap().to_json(),
        json!({"n": 1, "byBeforeSave": true})
    );
}

#[test]
fn a_before_hook_returning_nothing_accepts_the_object_as_it_came() {
    let mut registry = Registry::new();
    registry.before_save("Post", |_req| async move { Ok(()) });
    registry.before_delete("Post", |req| async move {
        if req.object["protected"] == json!(true) {
            return Err(CloudError::new("protected post").with_code(code::VALIDATION_ERROR));
        }
        Ok(())
    });
    let object = json!({"objectId": "p1"});
    assert_eq!(
        hook(
            &registry,
            "Post",
            HookKind::BeforeSave,
            HookRequest::new(object.clone())
        ),
        Ok(HookOutcome::Save(object.clone()))
    );
    assert_eq!(
        hook(
            &registry,
            "Post",
            HookKind::BeforeDelete,
            HookRequest::new(object.clone())
        ),
        Ok(HookOutcome::Accepted(object))
    );
    let err = hook(
        &registry,
        "Post",
        HookKind::BeforeDelete,
        HookRequest::new(json!({"objectId": "p1", "protected": true})),
    )
    .unwrap_err();
    assert_eq!(
        err.to_json(),
        json!({"code": 142, "error": "protected post"})
    );
}

#[test]
fn update_hooks_see_the_updated_keys() {
    let mut registry = Registry::new();
    registry.before_update("Post", |req| async move {
        if req.is_updated("locked") {
            return Err(
                CloudError::new("locked may not be changed").with_code(code::VALIDATION_ERROR)
            );
        }
        assert_eq!(req.updated_keys(), ["title"]);
        assert_eq!(
            (req.class_name.as_str(), req.kind),
            ("Post", HookKind::BeforeUpdate)
        );
        Ok(())
    });
    let ok = HookRequest::new(json!({"objectId": "p1", "title": "t", "_updatedKeys": ["title"]}));
    assert!(matches!(
        hook(&registry, "Post", HookKind::BeforeUpdate, ok),
        Ok(HookOutcome::Accepted(_))
    ));
    let locked = HookRequest::new(json!({"objectId": "p1", "_updatedKeys": ["locked"]}));
    let err = hook(&registry, "Post", HookKind::BeforeUpdate, locked).unwrap_err();
    assert_eq!(err.message, "locked may not be changed");
}

#[test]
fn after_hooks_and_user_hooks_answer_ok_and_on_auth_data_its_auth_data() {
    let mut registry = Registry::new();
    registry.after_save("Post", |_req| async move { Ok(()) });
    registry.on_login(|req| async move {
        assert_eq!(req.class_name, "_User");
        Ok(())
    });
    registry.on_auth_data(|req| async move {
        let mut auth = req.auth_data.unwrap_or_default();
        auth["checked"] = json!(true);
        Ok(auth)
    });
    let req = HookRequest::new(json!({"objectId": "p1"}));
    assert_eq!(
        hook(&registry, "Post", HookKind::AfterSave, req.clone()),
        Ok(HookOutcome::Ok)
    );
    assert_eq!(HookOutcome::Ok.to_json(), json!({"result": "ok"}));
    assert_eq!(
        hook(&registry, "_User", HookKind::OnLogin, req.clone()),
        Ok(HookOutcome::Ok)
    );
    let auth = req.with_auth_data(json!({"weixin": {"openid": "o1"}}));
    let outcome = hook(&registry, "_User", HookKind::OnAuthData, auth).unwrap();
    assert_eq!(
        outcome.to_json(),
        json!({"result": {"weixin": {"openid": "o1"}, "checked": true}})
    );
}

#[test]
fn undefined_hooks_are_404_naming_the_hook() {
    let registry = Registry::new();
    let err = hook(
        &registry,
        "Comment",
        HookKind::BeforeSave,
        HookRequest::new(json!({})),
    )
    .unwrap_err();
    assert_eq!(
        (err.status, err.to_json()),
        (
            404,
            json!({"code": 1, "error": "No beforeSave hook of 'Comment'"})
        )
    );
    let err = hook(
        &registry,
        "_User",
        HookKind::OnVerified(VerifyType::Email),
        HookRequest::new(json!({})),
    )
    .unwrap_err();
    assert_eq!(err.message, "No such hook: onVerified");
}

#[test]
fn hook_kinds_map_to_and_from_engine_paths() {
    assert_eq!(
        HookKind::from_path("Post", "afterUpdate"),
        Some(("Post".into(), HookKind::AfterUpdate))
    );
    assert_eq!(
        HookKind::from_path("onVerified", "sms"),
        Some(("_User".into(), HookKind::OnVerified(VerifyType::Sms)))
    );
    assert_eq!(
        HookKind::from_path("_User", "onLogin"),
        Some(("_User".into(), HookKind::OnLogin))
    );
    assert_eq!(
        HookKind::from_path("_User", "beforeSave"),
        Some(("_User".into(), HookKind::BeforeSave))
    );
    assert_eq!(HookKind::from_path("onVerified", "fax"), None);
    assert_eq!(HookKind::from_path("Post", "onLogin"), None);
    assert_eq!(
        HookKind::OnVerified(VerifyType::Sms).to_string(),
        "onVerified/sms"
    );
}

#[test]
fn before_hooks_disable_before_hooks_and_after_hooks_after_hooks() {
    let mut req = HookRequest::new(json!({}));
    req.kind = HookKind::BeforeUpdate;
    assert_eq!(
        req.mark(json!({"a": 1})),
        json!({"a": 1, "__ignore_hooks": ["beforeSave", "beforeUpdate", "beforeDelete"]})
    );
    req.kind = HookKind::AfterSave;
    assert_eq!(
        req.ignored_hooks(),
        ["afterSave", "afterUpdate", "afterDelete"]
    );
    req.kind = HookKind::OnLogin;
    assert_eq!(req.mark(json!({"a": 1})), json!({"a": 1}));
}

#[test]
fn hook_code_writes_its_object_back_with_the_hook_key_and_ignore_marks() {
    let recorder = Arc::new(Recorder::default());
    let mut registry = Registry::new().with_storage(storage(&recorder));
    registry.after_update("Post", |req| async move {
        req.save_object(&json!({"views": 1, "_updatedKeys": ["x"]}))
            .await?;
        req.delete_object().await?;
        Ok(())
    });
    let req = HookRequest::new(json!({"objectId": "p1", "_updatedKeys": ["title"]}));
    assert_eq!(
        hook(&registry, "Post", HookKind::AfterUpdate, req),
        Ok(HookOutcome::Ok)
    );
    let sent = recorder.requests.lock().unwrap().clone();
    assert_eq!(sent.len(), 2);
    let marks = json!(["afterSave", "afterUpdate", "afterDelete"]);
    assert_eq!(
        (sent[0].method.as_str(), sent[0].path.as_str()),
        ("PUT", "/1.1/classes/Post/p1")
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&sent[0].body).unwrap(),
        json!({"views": 1, "__ignore_hooks": marks})
    );
    assert_eq!(
        (sent[1].method.as_str(), sent[1].path.as_str()),
        ("DELETE", "/1.1/classes/Post/p1")
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&sent[1].body).unwrap(),
        json!({"__ignore_hooks": marks})
    );
    for request in &sent {
        assert_eq!(request.header("x-lc-hook-key"), Some("hook"));
        assert_eq!(request.header("x-lc-key"), Some("key"));
        assert_eq!(request.header("x-lc-session"), None);
    }
}

#[test]
fn the_user_client_acts_as_the_requesting_user() {
    let recorder = Arc::new(Recorder::default());
    let mut registry = Registry::new().with_storage(storage(&recorder));
    registry.define("mine", |req| async move {
        req.user_client().query("Post").find().await.ok();
        req.client().as_master().query("Post").find().await.ok();
        Ok(json!(null))
    });
    let req =
        FunctionRequest::new(json!({})).with_user(json!({"objectId": "u1", "sessionToken": "tok"}));
    call(&registry, "mine", req).unwrap();
    let sent = recorder.requests.lock().unwrap().clone();
    assert_eq!(sent[0].header("x-lc-session"), Some("tok"));
    assert_eq!(sent[1].header("x-lc-key"), Some("master,master"));
}

#[test]
fn asking_for_storage_without_one_says_how_to_give_it() {
    let mut registry = Registry::new();
    registry.define("store", |req| async move {
        req.client();
        Ok(json!(null))
    });
    let err = call(&registry, "store", FunctionRequest::new(json!({}))).unwrap_err();
    assert_eq!(err.status, 500);
    assert!(
        err.message.contains("Registry::with_storage"),
        "{}",
        err.message
    );
}

#[test]
fn a_hook_request_decodes_its_object_as_a_typed_object_of_its_class() {
    let mut req = HookRequest::new(json!({
        "title": "t", "_updatedKeys": ["title"],
        "when": {"__type": "Date", "iso": "2020-01-02T03:04:05.000Z"}
    }));
    req.class_name = "Post".into();
    let object = req.typed_object().unwrap();
    assert_eq!(object.class_name, "Post");
    assert!(matches!(object.get("when"), Some(LcValue::Date(_))));
    assert!(object.get("_updatedKeys").is_none());
}
