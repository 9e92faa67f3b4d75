//! The harness's targets running the app: the cleanup of a run on `mock` and on a
//! "remote" app (the app on an emulator reached over HTTP only, as a deployed app would
//! be), failures named without keys, and recorder cases.

use super::flow::{KUANZHAI_HOT_POT, cleanup_leaves_nothing, counters, review_flow};
use harness::{Caller, RemoteConfig, Secret, Target, TestApp};
use leancloud::error::code;
use mock_server::MockLeanCloud;
use serde_json::json;

/// A master key the emulator does not have.
const MASTER_KEY: &str = "master-key-Z9pX";

fn assert_no_keys(text: &str) {
    assert!(!text.contains(MASTER_KEY), "a key shows in: {text}");
    let defaults = mock_server::AppConfig::default();
    for key in [&defaults.app_key, &defaults.master_key, &defaults.hook_key] {
        assert!(!text.contains(key.as_str()), "a key shows in: {text}");
    }
}

/// The app on an emulator of its own (its fixtures and cloud code), to be reached over
/// HTTP only through the remote target, as a deployed app would be; its emulator is
/// `.emulator()`.
async fn emulator() -> TestApp {
    system::app().target(Target::Mock).start().await
}

fn remote_config(lc: &MockLeanCloud, master_key: &str) -> RemoteConfig {
    let cfg = lc.config();
    RemoteConfig {
        profile: Some("test".into()),
        server_url: lc.uri(),
        app_id: cfg.app_id.clone(),
        app_key: Secret::new(&cfg.app_key),
        master_key: Secret::new(master_key),
        hook_key: None,
        production: false,
    }
}

#[tokio::test]
async fn on_mock_the_cleanup_leaves_nothing_of_the_run() {
    let app = system::app().target(Target::Mock).start().await;
    let before = counters(&app, KUANZHAI_HOT_POT).await;
    review_flow(&app).await;
    cleanup_leaves_nothing(&app, before).await;
}

#[tokio::test]
async fn on_a_remote_app_the_flow_polls_and_the_cleanup_leaves_nothing() {
    let host = emulator().await;
    let lc = host.emulator();
    let app = TestApp::connect(remote_config(lc, &lc.config().master_key.clone()))
        .await
        .unwrap();
    assert_eq!(app.target(), Target::Remote);
    assert!(app.traces().is_none());
    assert!(app.mock().is_none());
    assert_no_keys(&format!("{app:?}"));
    // idle has nothing to wait on; the flow's checks poll with `eventually`.
    app.idle().await;
    let before = counters(&app, KUANZHAI_HOT_POT).await;
    review_flow(&app).await;
    cleanup_leaves_nothing(&app, before).await;
    // What the emulator itself says agrees.
    lc.idle().await;
    let users = lc
        .client()
        .as_master()
        .query("_User")
        .where_value("username", json!({"$regex": format!("^{}", app.prefix())}))
        .find()
        .await
        .unwrap();
    assert!(users.is_empty(), "{users:?}");
}

#[tokio::test]
async fn mock_only_steps_fail_clearly_elsewhere() {
    let host = emulator().await;
    let lc = host.emulator();
    let app = TestApp::connect(remote_config(lc, &lc.config().master_key.clone()))
        .await
        .unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        app.emulator();
    }))
    .unwrap_err();
    assert_eq!(
        panic.downcast_ref::<String>().map(String::as_str),
        Some("this needs the in-process emulator (LC_TARGET=mock), but the target is remote")
    );
}

#[tokio::test]
async fn a_failed_test_on_a_shared_app_still_cleans_up() {
    let host = emulator().await;
    let lc = host.emulator();
    let config = remote_config(lc, &lc.config().master_key.clone());
    let (tx, rx) = tokio::sync::oneshot::channel();
    let failed = tokio::spawn(async move {
        let app = TestApp::connect(config).await.unwrap();
        let user = app
            .send(
                &Caller::Anonymous,
                "POST",
                "/1.1/users",
                Some(&json!({"username": app.name("doomed"), "password": "pw"})),
            )
            .await;
        user.assert_status(201);
        let _ = tx.send((app.prefix().to_string(), user.object_id()));
        panic!("the test fails after creating a user");
    })
    .await;
    assert!(failed.unwrap_err().is_panic());
    let (prefix, id) = rx.await.unwrap();
    assert!(prefix.starts_with('t'));
    let err = lc.client().as_master().get("_User", &id).await.unwrap_err();
    // 211: "Could not find user."
    assert_eq!(
        err.code,
        code::USER_NOT_FOUND,
        "the user {id} was not deleted: {err:?}"
    );
}

#[tokio::test]
async fn a_remote_app_that_refuses_the_keys_or_does_not_answer_is_named() {
    let host = emulator().await;
    let lc = host.emulator();
    let err = TestApp::connect(remote_config(lc, MASTER_KEY))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "LC_TARGET=remote: app lc-mock-app at {} (profile test) refused the master key: HTTP 401",
            lc.uri()
        )),
        "{text}"
    );
    assert_no_keys(&text);

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut config = remote_config(lc, MASTER_KEY);
    config.server_url = closed.clone();
    let text = TestApp::connect(config).await.unwrap_err().to_string();
    assert!(
        text.starts_with(&format!(
            "LC_TARGET=remote: app lc-mock-app at {closed} (profile test) does not answer: "
        )),
        "{text}"
    );
    assert_no_keys(&text);
}

/// Behind `lc-mock record`, the requests a TestApp sends after `record_case` are filed
/// under that case, whatever its name is written in.
#[tokio::test(flavor = "multi_thread")]
async fn a_named_case_reaches_the_recorder() {
    let host = emulator().await;
    let lc = host.emulator();
    let file = std::env::temp_dir().join(format!("lc-harness-record-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let recorder = mock_server::record::start(
        mock_server::record::RecorderConfig::new(&lc.uri()),
        "127.0.0.1:0".parse().unwrap(),
        &file,
    )
    .await
    .unwrap();
    let mut config = remote_config(lc, &lc.config().master_key.clone());
    config.server_url = recorder.url.clone();
    let app = TestApp::connect(config).await.unwrap();
    for case in [
        "Reviews: a customer reviews a business",
        "评论：顾客写评论 100%",
    ] {
        app.record_case(case);
        app.send(
            &Caller::Anonymous,
            "GET",
            "/1.1/classes/Business?limit=1",
            None,
        )
        .await
        .assert_status(200);
    }
    recorder.stop().await;
    let text = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    let cases: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["path"] == "/1.1/classes/Business")
        .map(|l| l["test"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        cases,
        [
            "Reviews: a customer reviews a business",
            "评论：顾客写评论 100%"
        ]
    );
}
