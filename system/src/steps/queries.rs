//! Queries and counts.

use crate::{World, docstring_json};
use cucumber::gherkin::Step;
use cucumber::when;
use harness::As;

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[when(regex = r#"^I query (\w+)(?: ordered by "([^"]*)")?(?: limited to (\d+))? where:$"#)]
async fn query(world: &mut World, class: String, order: String, limit: String, step: &Step) {
    let where_ = docstring_json(
        step.docstring
            .as_ref()
            .expect("this step needs a JSON doc string"),
    );
    let mut target = format!("/1.1/classes/{class}?where={}", encode(&where_.to_string()));
    if !order.is_empty() {
        target.push_str(&format!("&order={}", encode(&order)));
    }
    if !limit.is_empty() {
        target.push_str(&format!("&limit={limit}"));
    }
    world.last = Some(world.app.send(&As::App, "GET", &target, None).await);
}

#[when(expr = "I count {word}")]
async fn count(world: &mut World, class: String) {
    let target = format!("/1.1/classes/{class}?limit=0&count=1");
    world.last = Some(world.app.send(&As::App, "GET", &target, None).await);
}
