//! Hooks and functions: calling cloud functions, waiting for after-hooks, the refusals
//! of before-hooks and the hook traces of the last request (traces are the in-process
//! emulator's: scenarios that read them are tagged `@mock-only`).

use crate::{World, hooks_in, render_trace};
use cucumber::gherkin::Step;
use cucumber::{then, when};
use leancloud::Resource;
use leancloud::error::code;
use leancloud::value::same_value;
use serde_json::{Value, json};

/// Example: When I call "moderateBusiness" with:
///     """json
///     {"businessId": "{Business:Pearl River Print Shop}", "status": "active"}
///     """
///
/// `POST /1.1/functions/<name>` as "me" with JSON params (a doc string or a
/// `| field | value |` table); the function's answer is in the field `result`.
#[when(expr = "I call {string} with:")]
async fn call_with(world: &mut World, function: String, step: &Step) {
    let params = world.body_of(step).await;
    let target = Resource::Function(function).path();
    world.request("POST", &target, Some(params)).await;
}

/// Example: When I call "businessSummary"
///
/// Calls a function without params.
#[when(expr = "I call {string}")]
async fn call(world: &mut World, function: String) {
    let target = Resource::Function(function).path();
    world.request("POST", &target, Some(json!({}))).await;
}

/// Example: When I wait for the after-hooks
///
/// Waits until the target has run every after-hook (and what they caused). `Then`
/// steps and the next request do this on their own; the step makes it explicit.
#[when("I wait for the after-hooks")]
async fn wait_for_after_hooks(world: &mut World) {
    world.app.idle().await;
    world.unsettled = false;
}

/// Example: Then the result is:
///     """json
///     {"businessId": "{Business:Pearl River Print Shop}", "status": "active", "previousStatus": "pending"}
///     """
///
/// The function's `result` equals the JSON (numbers compare by value).
#[then("the result is:")]
async fn result_is(world: &mut World, step: &Step) {
    let doc = step
        .docstring
        .as_ref()
        .expect("this step needs a JSON doc string");
    let expected = world.doc_json(doc).await;
    let last = world.settled().await;
    let result = &last.body["result"];
    assert!(
        same_value(result, &expected),
        "the result is\n{}\nnot\n{}",
        serde_json::to_string_pretty(result).unwrap_or_default(),
        serde_json::to_string_pretty(&expected).unwrap_or_default()
    );
}

/// Example: Then the cloud code refuses with "Stars must be a whole number from 1 to 5."
///
/// A before-hook refused the write: 400, code 142, `Cloud Code validation failed. Error
/// detail : <message>`. The message is everything between the first and the last
/// double quote, so it may hold quotes itself.
#[then(regex = r#"^the cloud code refuses with "(.*)"$"#)]
async fn hook_refuses(world: &mut World, message: String) {
    let last = world.settled().await;
    let err = last.error().unwrap_or_else(|| {
        panic!(
            "expected a refusal by the cloud code, got {} {}",
            last.status, last.body
        )
    });
    let expected = format!("Cloud Code validation failed. Error detail : {message}");
    assert_eq!(
        (last.status, err.code, err.message.as_str()),
        (400, code::VALIDATION_ERROR, expected.as_str())
    );
}

/// The trace of the last request; fails unless the scenario is tagged `@mock-only`
/// (traces are the emulator's) and the target keeps traces.
async fn last_trace(world: &mut World) -> Value {
    assert!(
        world.tags.iter().any(|t| t == "mock-only"),
        "steps that read hook traces need the scenario tagged @mock-only"
    );
    world.settle().await;
    world
        .trace_of_last()
        .expect("the target keeps no trace of the last request")
}

fn ran(trace: &Value, class: &str, hook: &str) -> bool {
    hooks_in(trace)
        .iter()
        .any(|h| h["class"] == class && h["hook"] == hook && h.get("skipped").is_none())
}

/// Example: Then the trace shows the "Review" "afterSave" hook
///
/// The last request ran that hook, directly or through a request another hook made
/// (`@mock-only`).
#[then(expr = "the trace shows the {string} {string} hook")]
async fn trace_shows(world: &mut World, class: String, hook: String) {
    let trace = last_trace(world).await;
    assert!(
        ran(&trace, &class, &hook),
        "the {class} {hook} hook did not run:\n{}",
        render_trace(&trace)
    );
}

/// Example: Then the trace does not show the "Review" "afterSave" hook
#[then(expr = "the trace does not show the {string} {string} hook")]
async fn trace_does_not_show(world: &mut World, class: String, hook: String) {
    let trace = last_trace(world).await;
    assert!(
        !ran(&trace, &class, &hook),
        "the {class} {hook} hook ran:\n{}",
        render_trace(&trace)
    );
}

/// Example: Then the trace shows the "Review" "afterDelete" hook 7 times
#[then(expr = "the trace shows the {string} {string} hook {int} times")]
async fn trace_shows_times(world: &mut World, class: String, hook: String, times: usize) {
    let trace = last_trace(world).await;
    let n = hooks_in(&trace)
        .iter()
        .filter(|h| h["class"] == class.as_str() && h["hook"] == hook.as_str())
        .filter(|h| h.get("skipped").is_none())
        .count();
    assert_eq!(
        n,
        times,
        "the {class} {hook} hook ran {n} times:\n{}",
        render_trace(&trace)
    );
}

/// Example: Then the trace shows the "Review" "beforeSave" hook refusing with "Stars must be a whole number from 1 to 5."
///
/// The hook ran and answered an error whose message contains the text (`@mock-only`).
#[then(regex = r#"^the trace shows the "(\w+)" "(\w+)" hook refusing with "(.*)"$"#)]
async fn trace_shows_refusal(world: &mut World, class: String, hook: String, message: String) {
    let trace = last_trace(world).await;
    let refused = hooks_in(&trace).iter().any(|h| {
        h["class"] == class.as_str()
            && h["hook"] == hook.as_str()
            && h["error"].to_string().contains(&message)
    });
    assert!(
        refused,
        "the {class} {hook} hook did not refuse with \"{message}\":\n{}",
        render_trace(&trace)
    );
}
