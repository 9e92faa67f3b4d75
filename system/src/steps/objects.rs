//! Creating, fetching, updating and deleting objects.

use crate::{World, cell_value, docstring_json};
use cucumber::gherkin::Step;
use cucumber::{given, when};
use harness::As;
use serde_json::{Map, Value};

fn table_fields(step: &Step) -> Value {
    let table = step
        .table
        .as_ref()
        .expect("this step needs a | field | value | table");
    let mut fields = Map::new();
    for row in table.rows.iter().skip(1) {
        fields.insert(row[0].clone(), cell_value(&row[1]));
    }
    Value::Object(fields)
}

async fn create(world: &mut World, class: &str, body: Value, name: Option<String>) {
    let answer = world
        .app
        .send(
            &As::App,
            "POST",
            &format!("/1.1/classes/{class}"),
            Some(&body),
        )
        .await;
    if let (Some(name), Some(id)) = (name, answer.body["objectId"].as_str()) {
        world
            .named
            .insert(name, (class.to_string(), id.to_string()));
    }
    world.last = Some(answer);
}

#[given(expr = "a {word} {string} with:")]
#[when(expr = "I create a {word} {string} with:")]
async fn create_named(world: &mut World, class: String, name: String, step: &Step) {
    create(world, &class, table_fields(step), Some(name.clone())).await;
    assert!(
        world.last().status < 300,
        "creating the {class} \"{name}\" failed: {:?}",
        world.last()
    );
}

#[when(expr = "I create a {word} with:")]
async fn create_anonymous(world: &mut World, class: String, step: &Step) {
    let body = match &step.docstring {
        Some(doc) => docstring_json(doc),
        None => table_fields(step),
    };
    create(world, &class, body, None).await;
}

#[when(expr = "I fetch the {word} {string}")]
async fn fetch(world: &mut World, class: String, name: String) {
    let id = world.id_of(&class, &name);
    let answer = world
        .app
        .send(&As::App, "GET", &format!("/1.1/classes/{class}/{id}"), None)
        .await;
    world.last = Some(answer);
}

#[when(expr = "I update the {word} {string} with:")]
async fn update(world: &mut World, class: String, name: String, step: &Step) {
    let id = world.id_of(&class, &name);
    let body = docstring_json(
        step.docstring
            .as_ref()
            .expect("this step needs a JSON doc string"),
    );
    let answer = world
        .app
        .send(
            &As::App,
            "PUT",
            &format!("/1.1/classes/{class}/{id}?new=true"),
            Some(&body),
        )
        .await;
    world.last = Some(answer);
}

#[when(expr = "I delete the {word} {string}")]
async fn delete(world: &mut World, class: String, name: String) {
    let id = world.id_of(&class, &name);
    let answer = world
        .app
        .send(
            &As::App,
            "DELETE",
            &format!("/1.1/classes/{class}/{id}"),
            None,
        )
        .await;
    world.last = Some(answer);
}

#[when("I send a batch:")]
async fn batch(world: &mut World, step: &Step) {
    let mut text = step
        .docstring
        .clone()
        .expect("this step needs a JSON doc string");
    for (name, (class, id)) in &world.named {
        text = text.replace(&format!("{{{class}:{name}}}"), id);
    }
    let body = docstring_json(&text);
    let answer = world
        .app
        .send(&As::App, "POST", "/1.1/batch", Some(&body))
        .await;
    world.last = Some(answer);
}
