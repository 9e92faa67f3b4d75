//! Queries and counts: sent as "me"; the results are checked with the response steps
//! (`there are N results`, `the results' "key" are [...]`, `the count is N`).

use crate::{World, encode};
use cucumber::gherkin::Step;
use cucumber::when;
use leancloud::Resource;

/// Example: When I query Score ordered by "-score" limited to 2 where:
///     """json
///     {"score": {"$gte": 2}}
///     """
/// Example: When I query Business where:
///     """json
///     {"status": "active", "category": "cafe"}
///     """
///
/// A query with a JSON `where` (references resolved: `"@Business:Name"` is a pointer);
/// `ordered by` and `limited to` are optional.
#[when(regex = r#"^I query (\w+)(?: ordered by "([^"]*)")?(?: limited to (\d+))? where:$"#)]
async fn query(world: &mut World, class: String, order: String, limit: String, step: &Step) {
    let doc = step
        .docstring
        .as_ref()
        .expect("this step needs a JSON doc string");
    let where_ = world.doc_json(doc).await;
    let mut target = format!(
        "{}?where={}",
        Resource::collection(&class).path(),
        encode(&where_.to_string())
    );
    if !order.is_empty() {
        target.push_str(&format!("&order={}", encode(&order)));
    }
    if !limit.is_empty() {
        target.push_str(&format!("&limit={limit}"));
    }
    world.request("GET", &target, None).await;
}

/// Example: When I count Score
#[when(expr = "I count {word}")]
async fn count(world: &mut World, class: String) {
    let target = format!("{}?limit=0&count=1", Resource::collection(&class).path());
    world.request("GET", &target, None).await;
}

/// Example: When I count Review where:
///     """json
///     {"business": "@Business:Fuxing Lane Coffee"}
///     """
#[when(expr = "I count {word} where:")]
async fn count_where(world: &mut World, class: String, step: &Step) {
    let doc = step
        .docstring
        .as_ref()
        .expect("this step needs a JSON doc string");
    let where_ = world.doc_json(doc).await;
    let target = format!(
        "{}?where={}&limit=0&count=1",
        Resource::collection(&class).path(),
        encode(&where_.to_string())
    );
    world.request("GET", &target, None).await;
}

/// Example: When I run the CQL "select * from Score where game = ? and score >= 2 order by -score" with:
///     """json
///     ["@Game:tonight"]
///     """
///
/// A CQL `select` (`/1.1/cloudQuery`) with its placeholder values as a JSON array
/// (references resolved: `"@Game:tonight"` is a pointer); its rows and count are checked
/// with the same response steps as a query's.
#[when(regex = r#"^I run the CQL "(.+)" with:$"#)]
async fn cql_with(world: &mut World, cql: String, step: &Step) {
    let doc = step
        .docstring
        .as_ref()
        .expect("this step needs a JSON doc string");
    let pvalues = world.doc_json(doc).await;
    let target = format!(
        "/1.1/cloudQuery?cql={}&pvalues={}",
        encode(&cql),
        encode(&pvalues.to_string())
    );
    world.request("GET", &target, None).await;
}

/// Example: When I run the CQL "select count(*) from Score where score > 100"
#[when(regex = r#"^I run the CQL "(.+)"$"#)]
async fn cql_alone(world: &mut World, cql: String) {
    let target = format!("/1.1/cloudQuery?cql={}", encode(&cql));
    world.request("GET", &target, None).await;
}
