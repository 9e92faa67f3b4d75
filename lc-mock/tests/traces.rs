//! A trace snapshot: what one client create ran on the recorded app's cloud code
//! (`IgnoreHookTest`), for review. Durations and ids are redacted.

use lc_mock::clouds;
use mock_server::MockLeanCloud;
use mock_server::api::{Api, AppConfig};
use serde_json::json;

#[tokio::test]
async fn the_trace_of_a_create_shows_the_hook_chain_it_ran() {
    let app = MockLeanCloud::start_with_cloud(
        Api::new(AppConfig::default()),
        clouds::named("conformance").expect("a built-in cloud")(),
    )
    .await
    .expect("the cloud attaches");
    let client = app.in_process_client();
    client
        .create("IgnoreHookTest", &json!({"title": "traced"}))
        .await
        .expect("the create succeeds");
    app.idle().await;
    let traces = app.traces();
    harness::redactions()
        .bind(|| insta::assert_json_snapshot!("create_on_ignore_hook_test", traces));
}
