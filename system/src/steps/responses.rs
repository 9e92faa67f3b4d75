//! Responses and errors: the status, error code and message, fields, results, counts
//! and batch items of the last answer. Every step here first waits for the after-hooks
//! of earlier writes.

use crate::{World, at_path};
use cucumber::gherkin::Step;
use cucumber::then;
use leancloud::value::same_value;
use serde_json::Value;

/// Example: Then the request succeeds
///
/// Any 2xx status.
#[then("the request succeeds")]
async fn succeeds(world: &mut World) {
    let last = world.settled().await;
    assert!(
        last.status < 300,
        "expected success, got {} {}",
        last.status,
        last.body
    );
}

/// Example: Then the status is 201
#[then(expr = "the status is {int}")]
async fn status_is(world: &mut World, status: u16) {
    let last = world.settled().await;
    assert_eq!(last.status, status, "body: {}", last.body);
}

/// Example: Then the error is 137 "A unique field was given a value that is already taken."
///
/// The error's code and whole message (everything between the first and the last
/// double quote).
#[then(regex = r#"^the error is (\d+) "(.*)"$"#)]
async fn error(world: &mut World, code: i64, message: String) {
    let last = world.settled().await;
    let err = last
        .error()
        .unwrap_or_else(|| panic!("expected an error, got {} {}", last.status, last.body));
    assert_eq!((err.code, err.message.as_str()), (code, message.as_str()));
}

/// Example: Then the error code is 105
#[then(expr = "the error code is {int}")]
async fn error_code(world: &mut World, code: i64) {
    let last = world.settled().await;
    assert_eq!(
        last.body["code"], code,
        "status {}: {}",
        last.status, last.body
    );
}

/// Example: Then the request fails with 401 and code 142
///
/// The HTTP status and the error code together.
#[then(expr = "the request fails with {int} and code {int}")]
async fn fails_with(world: &mut World, status: u16, code: i64) {
    let last = world.settled().await;
    assert_eq!(
        (last.status, last.body["code"].as_i64()),
        (status, Some(code)),
        "body: {}",
        last.body
    );
}

/// Example: Then the error message contains "already reviewed"
#[then(regex = r#"^the error message contains "(.*)"$"#)]
async fn error_contains(world: &mut World, text: String) {
    let last = world.settled().await;
    let message = last.body["error"].as_str().unwrap_or_default();
    assert!(
        message.contains(&text),
        "the error message does not contain \"{text}\": {} {}",
        last.status,
        last.body
    );
}

/// Example: Then the field "title" is hello
/// Example: Then the field "result.0.name" is "Kuanzhai Hot Pot"
///
/// The value at a dotted path of the answer (a number indexes an array) is the JSON
/// given, or that text when it is not JSON. Numbers compare by value.
#[then(regex = r#"^the field "([^"]+)" is (.+)$"#)]
async fn field(world: &mut World, path: String, expected: String) {
    let expected = world.cell(&expected).await;
    let last = world.settled().await;
    let got = at_path(&last.body, &path);
    assert!(
        same_value(got, &expected),
        "the field \"{path}\" is {got}, not {expected}"
    );
}

/// Example: Then the answer has the field "sessionToken"
#[then(expr = "the answer has the field {string}")]
async fn field_present(world: &mut World, path: String) {
    let last = world.settled().await;
    assert!(
        !at_path(&last.body, &path).is_null(),
        "no field \"{path}\" in {}",
        last.body
    );
}

/// Example: Then the answer has no field "password"
#[then(expr = "the answer has no field {string}")]
async fn field_absent(world: &mut World, path: String) {
    let last = world.settled().await;
    let got = at_path(&last.body, &path);
    assert!(got.is_null(), "the field \"{path}\" is there: {got}");
}

/// Example: Then the answer has:
///     | field              | value |
///     | result.status      | active |
///     | result.ratingCount | 7     |
///
/// Several fields of the answer at once (dotted paths, values as in `the field`).
#[then("the answer has:")]
async fn answer_has(world: &mut World, step: &Step) {
    let expected = world.table_object(step).await;
    let last = world.settled().await;
    let wrong: Vec<String> = expected
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(path, want)| {
            let got = at_path(&last.body, path);
            (!same_value(got, want)).then(|| format!("{path}: expected {want}, got {got}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Example: Then the field "result" has 2 items
#[then(expr = "the field {string} has {int} items")]
async fn field_items(world: &mut World, path: String, n: usize) {
    let last = world.settled().await;
    let got = at_path(&last.body, &path);
    let items = got
        .as_array()
        .unwrap_or_else(|| panic!("the field \"{path}\" is not a list: {got}"));
    assert_eq!(items.len(), n, "the field \"{path}\": {got}");
}

/// Example: Then there are 2 results
#[then(expr = "there are {int} results")]
async fn results(world: &mut World, n: usize) {
    let last = world.settled().await;
    let results = last.body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {} {}", last.status, last.body));
    assert_eq!(results.len(), n, "{}", last.body);
}

/// Example: Then the count is 3
#[then(expr = "the count is {int}")]
async fn count(world: &mut World, n: u64) {
    let last = world.settled().await;
    assert_eq!(last.body["count"], Value::from(n), "{}", last.body);
}

/// Example: Then the results' "player" are ["bob", "ann"]
/// Example: Then the result's "name" are ["Kuanzhai Hot Pot"]
///
/// The key of every item of `results` (a query) or `result` (a function answering a
/// list), in order.
#[then(regex = r#"^the (results'|result's) "(\w+)" are (.+)$"#)]
async fn result_values(world: &mut World, of: String, key: String, expected: String) {
    let expected = world.cell(&expected).await;
    let last = world.settled().await;
    let list = if of == "results'" {
        &last.body["results"]
    } else {
        &last.body["result"]
    };
    let got: Vec<Value> = list
        .as_array()
        .map(|r| r.iter().map(|o| o[&key].clone()).collect())
        .unwrap_or_default();
    let got = Value::Array(got);
    assert!(
        same_value(&got, &expected),
        "the \"{key}\"s are {got}, not {expected}"
    );
}

/// Example: Then batch item 2 fails with code 142
#[then(expr = "batch item {int} fails with code {int}")]
async fn batch_item_fails(world: &mut World, index: usize, code: i64) {
    let last = world.settled().await;
    let item = &last.body[index - 1];
    assert_eq!(item["error"]["code"], code, "item {index}: {item}");
}

/// Example: Then batch item 1 succeeds
#[then(expr = "batch item {int} succeeds")]
async fn batch_item_succeeds(world: &mut World, index: usize) {
    let last = world.settled().await;
    let item = &last.body[index - 1];
    assert!(item.get("success").is_some(), "item {index}: {item}");
}
