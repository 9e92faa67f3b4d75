//! What a failing scenario shows: the World's report (cucumber prints it for a failed
//! step) names who sent the last request, the request, its answer and the hook trace.

use leancloud::Caller;
use serde_json::json;
use system::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_shows_the_last_request_its_answer_and_its_hook_trace() {
    let mut world = <World as cucumber::World>::new()
        .await
        .expect("the mock target starts");
    world.me = Caller::Master;
    let business = json!({"__type": "Pointer", "className": "Business", "objectId": "65cba6a06c63004400000005"});
    let status = world
        .request(
            "POST",
            "/1.1/classes/Review",
            Some(json!({"business": business, "stars": 6})),
        )
        .await
        .status;
    assert!(status >= 400, "the review is refused, got {status}");
    let report = format!("{world:?}");
    for part in [
        "I am:",
        "--- last request ---",
        "POST /1.1/classes/Review",
        "\"stars\": 6",
        &format!("--- answer: {status} ---"),
        "--- hook trace ---",
        "Review beforeSave",
    ] {
        assert!(
            report.contains(part),
            "{part:?} missing from the report:\n{report}"
        );
    }
}
