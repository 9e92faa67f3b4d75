//! Objects: create (a `| field | value |` table or a JSON doc string), fetch, update,
//! delete, batch, and checks of what is stored. Objects are named when created, or are
//! fixture objects found by name (see the conventions).

use crate::{World, at_path};
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use leancloud::Resource;
use leancloud::value::same_value;
use serde_json::Value;

async fn create(world: &mut World, class: &str, body: Value, name: Option<String>) {
    let target = Resource::collection(class).path();
    let answer = world.request("POST", &target, Some(body)).await.clone();
    if let (Some(name), Some(id)) = (name, answer.body["objectId"].as_str()) {
        world
            .named
            .insert((class.to_string(), name), id.to_string());
    }
}

async fn object_path(world: &mut World, class: &str, name: &str) -> String {
    let id = world.id_of(class, name).await;
    Resource::object(class, &id).path()
}

/// Example: Given a Post "hello" with:
///     | field | value |
///     | title | hello |
///
/// Creates an object as "me" and names it; the fields come from a `| field | value |`
/// table or a JSON doc string. Fails when the create is refused.
#[given(expr = "a {word} {string} with:")]
async fn given_named(world: &mut World, class: String, name: String, step: &Step) {
    let body = world.body_of(step).await;
    create(world, &class, body, Some(name.clone())).await;
    let last = world.last();
    assert!(
        last.status < 300,
        "creating the {class} \"{name}\" failed: {} {}",
        last.status,
        last.body
    );
}

/// Example: When I create a Business "Corner Cafe" with:
///     | field    | value                          |
///     | name     | Corner Cafe                    |
///     | category | cafe                           |
///     | address  | the Address "7 Kuanzhai Alley" |
///
/// Creates an object as "me" and names it (when it is stored); the answer is left to
/// the `Then` steps.
#[when(expr = "I create a {word} {string} with:")]
async fn create_named(world: &mut World, class: String, name: String, step: &Step) {
    let body = world.body_of(step).await;
    create(world, &class, body, Some(name)).await;
}

/// Example: When I create a Review with:
///     """json
///     {"business": "@Business:Kuanzhai Hot Pot", "stars": 4}
///     """
///
/// Creates an unnamed object as "me" from a JSON doc string or a `| field | value |`
/// table.
#[when(expr = "I create a {word} with:")]
async fn create_anonymous(world: &mut World, class: String, step: &Step) {
    let body = world.body_of(step).await;
    create(world, &class, body, None).await;
}

/// Example: When I fetch the Business "Kuanzhai Hot Pot"
#[when(expr = "I fetch the {word} {string}")]
async fn fetch(world: &mut World, class: String, name: String) {
    let target = object_path(world, &class, &name).await;
    world.request("GET", &target, None).await;
}

/// Example: When I update the Business "Fuxing Lane Coffee" with:
///     | field | value           |
///     | name  | Fuxing Lane Two |
///
/// Updates the named object as "me" (a table or a JSON doc string, which may hold field
/// operations such as `{"__op": "Increment", "amount": 1}`); the answer has the new
/// values of the changed keys.
#[when(expr = "I update the {word} {string} with:")]
async fn update(world: &mut World, class: String, name: String, step: &Step) {
    let body = world.body_of(step).await;
    let target = format!("{}?new=true", object_path(world, &class, &name).await);
    world.request("PUT", &target, Some(body)).await;
}

/// Example: When I delete the Business "Fuxing Lane Coffee"
#[when(expr = "I delete the {word} {string}")]
async fn delete(world: &mut World, class: String, name: String) {
    let target = object_path(world, &class, &name).await;
    world.request("DELETE", &target, None).await;
}

/// Example: When I send a batch:
///     """json
///     {"requests": [{"method": "PUT", "path": "/1.1/classes/Post/{Post:first}", "body": {"n": 2}}]}
///     """
///
/// `POST /1.1/batch` as "me". Items are checked with `batch item N succeeds` /
/// `batch item N fails with code C`.
#[when("I send a batch:")]
async fn batch(world: &mut World, step: &Step) {
    let doc = step
        .docstring
        .as_ref()
        .expect("this step needs a JSON doc string");
    let body = world.doc_json(doc).await;
    world.request("POST", "/1.1/batch", Some(body)).await;
}

/// Example: Then the Business "Kuanzhai Hot Pot" has:
///     | field       | value |
///     | ratingCount | 1     |
///     | ratingAvg   | 4     |
///
/// Reads the stored object with the master key (after the after-hooks) and compares
/// the listed fields (dotted paths; numbers compare by value, so `4` matches `4.0`).
#[then(expr = "the {word} {string} has:")]
async fn stored_has(world: &mut World, class: String, name: String, step: &Step) {
    world.settle().await;
    let expected = world.table_object(step).await;
    let target = object_path(world, &class, &name).await;
    let stored = world.check(&target).await;
    let mut wrong = Vec::new();
    for (path, want) in expected.as_object().into_iter().flatten() {
        let got = at_path(&stored, path);
        if !same_value(got, want) {
            wrong.push(format!("{path}: expected {want}, stored {got}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "the {class} \"{name}\" differs:\n{}",
        wrong.join("\n")
    );
}

/// Example: Then the Business "Fuxing Lane Coffee" is gone
///
/// A read with the master key finds nothing.
#[then(expr = "the {word} {string} is gone")]
async fn gone(world: &mut World, class: String, name: String) {
    world.settle().await;
    let target = object_path(world, &class, &name).await;
    let stored = world.check(&target).await;
    assert!(
        stored.get("objectId").is_none(),
        "the {class} \"{name}\" is still stored: {stored}"
    );
}

/// Example: Given I upload the file "storefront.png"
///
/// As "me", in one step (`POST /1.1/files/<name>`; the name gives its type); later
/// tables name it as `the file "storefront.png"`.
#[given(expr = "I upload the file {string}")]
async fn upload_file(world: &mut World, name: String) {
    let path = format!("/1.1/files/{}", crate::encode(&name));
    let answer = world
        .request(
            "POST",
            &path,
            Some(serde_json::json!({"stand-in": "bytes"})),
        )
        .await
        .clone();
    assert_eq!(answer.status, 201, "the upload of {name}: {}", answer.body);
    let id = answer.body["objectId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    world.named.insert(("_File".to_string(), name), id);
}
