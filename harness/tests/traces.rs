//! A trace snapshot: what one client create ran on the recorded app's cloud code
//! (`IgnoreHookTest`), for review. Durations and ids are redacted.

use mock_server::MockLeanCloud;
use mock_server::api::{Api, AppConfig};
use serde_json::json;

#[tokio::test]
async fn the_trace_of_a_create_shows_the_hook_chain_it_ran() {
    let app = MockLeanCloud::start_with_cloud(
        Api::new(AppConfig::default()),
        mock_server::clouds::named("conformance").expect("a built-in cloud"),
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

#[test]
fn ids_in_request_lines_are_redacted() {
    assert_eq!(
        harness::redact_ids("PUT /1.1/classes/Post/6b05857f1ba0dd95c4b44c96?x=1"),
        "PUT /1.1/classes/Post/[objectId]?x=1"
    );
    assert_eq!(harness::redact_ids("GET /1.1/date"), "GET /1.1/date");
}
