//! Assertions on the last answer: status, errors, fields, results.

use crate::{World, cell_value};
use cucumber::then;
use serde_json::Value;

#[then("the request succeeds")]
async fn succeeds(world: &mut World) {
    let last = world.last();
    assert!(
        last.status < 300,
        "expected success, got {} {}",
        last.status,
        last.body
    );
}

#[then(expr = "the status is {int}")]
async fn status_is(world: &mut World, status: u16) {
    let last = world.last();
    assert_eq!(last.status, status, "body: {}", last.body);
}

#[then(expr = "the error is {int} {string}")]
async fn error(world: &mut World, code: i64, message: String) {
    let last = world.last();
    let err = last
        .error()
        .unwrap_or_else(|| panic!("expected an error, got {} {}", last.status, last.body));
    assert_eq!((err.code, err.message.as_str()), (code, message.as_str()));
}

#[then(expr = "the error code is {int}")]
async fn error_code(world: &mut World, code: i64) {
    let last = world.last();
    assert_eq!(
        last.body["code"], code,
        "status {}: {}",
        last.status, last.body
    );
}

/// `the field "a.b" is 3`: the value is JSON, or plain text for a string.
#[then(regex = r#"^the field "([^"]+)" is (.+)$"#)]
async fn field(world: &mut World, path: String, expected: String) {
    let mut value = &world.last().body;
    for seg in path.split('.') {
        value = &value[seg];
    }
    assert_eq!(value, &cell_value(&expected), "in {}", world.last().body);
}

#[then(expr = "there are {int} results")]
async fn results(world: &mut World, n: usize) {
    let last = world.last();
    let results = last.body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {}", last.body));
    assert_eq!(results.len(), n, "{}", last.body);
}

#[then(expr = "the count is {int}")]
async fn count(world: &mut World, n: u64) {
    assert_eq!(
        world.last().body["count"],
        Value::from(n),
        "{}",
        world.last().body
    );
}

#[then(regex = r#"^the results' "(\w+)" are (.+)$"#)]
async fn result_values(world: &mut World, key: String, expected: String) {
    let got: Vec<Value> = world.last().body["results"]
        .as_array()
        .map(|r| r.iter().map(|o| o[&key].clone()).collect())
        .unwrap_or_default();
    assert_eq!(Value::Array(got), cell_value(&expected));
}

#[then(expr = "batch item {int} fails with code {int}")]
async fn batch_item_fails(world: &mut World, index: usize, code: i64) {
    let item = &world.last().body[index - 1];
    assert_eq!(item["error"]["code"], code, "item {index}: {item}");
}

#[then(expr = "batch item {int} succeeds")]
async fn batch_item_succeeds(world: &mut World, index: usize) {
    let item = &world.last().body[index - 1];
    assert!(item.get("success").is_some(), "item {index}: {item}");
}
