//! Pre-existing data: which objects an exchange names, which of them its case produced,
//! and fetching the others from the upstream with the master key, as seed rows.
//!
//! An object is named by a path (`/1.1/classes/C/<id>`, `/1.1/users/<id>`,
//! `/1.1/roles/<id>`, `/1.1/installations/<id>`, and the same inside `/1.1/batch`), by a
//! Pointer or Object value (`{"__type": "Pointer", "className": C, "objectId": id}`) in a
//! body, a `where` or an answer, by a `where` on a class's `objectId`, and by the rows a
//! query or a fetch answers. A session token the case did not obtain names its user.

use leancloud::Resource;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// A class name and an objectId.
pub type ObjectRef = (String, String);

use crate::replay::classify::{creates_object as creates, is_batch};

/// The class a path's objects belong to, and the object it names, if any.
/// (A batch item's path may leave the version out.)
pub fn path_target(path: &str) -> Option<(String, Option<String>)> {
    let resource = Resource::parse_loose(path)?;
    match resource {
        Resource::Class(_)
        | Resource::Users
        | Resource::Me
        | Resource::Roles
        | Resource::Installations
        | Resource::Object { .. }
        | Resource::User(_)
        | Resource::Role(_)
        | Resource::Installation(_) => Some((
            resource.class()?.to_string(),
            resource.object_id().map(str::to_string),
        )),
        _ => None,
    }
}

pub fn is_login(method: &str, path: &str) -> bool {
    method == "POST" && Resource::parse_loose(path) == Some(Resource::Login)
}

/// Pointer and Object values anywhere in `value`.
pub fn pointers(value: &Value, out: &mut Vec<ObjectRef>) {
    match value {
        Value::Object(map) => {
            let typed = matches!(
                map.get("__type").and_then(Value::as_str),
                Some("Pointer" | "Object")
            );
            if let (true, Some(class), Some(id)) = (
                typed,
                map.get("className").and_then(Value::as_str),
                map.get("objectId").and_then(Value::as_str),
            ) {
                push(out, class, id);
            }
            map.values().for_each(|v| pointers(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| pointers(v, out)),
        _ => {}
    }
}

fn push(out: &mut Vec<ObjectRef>, class: &str, id: &str) {
    if class.is_empty() || id.is_empty() {
        return;
    }
    let r = (class.to_string(), id.to_string());
    if !out.contains(&r) {
        out.push(r);
    }
}

/// The ids a `where` pins its class's `objectId` to: a plain value, `$eq`, `$in`.
fn where_ids(class: &str, condition: &Value, out: &mut Vec<ObjectRef>) {
    let Some(map) = condition.as_object() else {
        return;
    };
    for (key, value) in map {
        match key.as_str() {
            "objectId" => match value {
                Value::String(id) => push(out, class, id),
                Value::Object(ops) => {
                    if let Some(id) = ops.get("$eq").and_then(Value::as_str) {
                        push(out, class, id);
                    }
                    for id in ops
                        .get("$in")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                    {
                        push(out, class, id);
                    }
                }
                _ => {}
            },
            "$and" | "$or" => {
                for part in value.as_array().into_iter().flatten() {
                    where_ids(class, part, out);
                }
            }
            _ => {}
        }
    }
}

/// The objects a request names (for a batch, every item's).
pub fn request_refs(
    method: &str,
    path: &str,
    query: &[(String, String)],
    body: Option<&Value>,
) -> Vec<ObjectRef> {
    let mut out = Vec::new();
    if is_batch(path) {
        for item in body
            .and_then(|b| b.get("requests"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let item_method = item.get("method").and_then(Value::as_str).unwrap_or("");
            let item_path = item.get("path").and_then(Value::as_str).unwrap_or("");
            for r in request_refs(
                &item_method.to_ascii_uppercase(),
                item_path,
                &[],
                item.get("body"),
            ) {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        return out;
    }
    let target = path_target(path);
    if let Some((class, Some(ids))) = &target {
        // `DELETE /1.1/classes/C/id1,id2` deletes several.
        for id in ids.split(',') {
            push(&mut out, class, id);
        }
    }
    for (key, value) in query {
        if key != "where" {
            continue;
        }
        if let Ok(condition) = serde_json::from_str::<Value>(value) {
            if let Some((class, None)) = &target {
                where_ids(class, &condition, &mut out);
            }
            pointers(&condition, &mut out);
        }
    }
    if let Some(body) = body {
        if method == "GET"
            && let (Some((class, None)), Some(condition)) = (&target, body.get("where"))
        {
            where_ids(class, condition, &mut out);
        }
        pointers(body, &mut out);
    }
    out
}

/// The objects an answer shows: Pointer and Object values, and the rows of a query or
/// fetch of a class (or the `_User` a log-in or `users/me` answers with).
pub fn answer_refs(method: &str, path: &str, status: u16, answer: &Value) -> Vec<ObjectRef> {
    let mut out = Vec::new();
    if (200..300).contains(&status)
        && let Some((class, _)) = path_target(path)
        && method == "GET"
    {
        // `redirectClassNameForKey` answers rows of the relation's target class.
        let class = answer
            .get("className")
            .and_then(Value::as_str)
            .map_or(class, str::to_string);
        match answer.get("results").and_then(Value::as_array) {
            Some(rows) => {
                for row in rows {
                    if let Some(id) = row.get("objectId").and_then(Value::as_str) {
                        push(&mut out, &class, id);
                    }
                }
            }
            None => {
                if let Some(id) = answer.get("objectId").and_then(Value::as_str) {
                    push(&mut out, &class, id);
                }
            }
        }
    }
    if (200..300).contains(&status)
        && is_login(method, path)
        && let Some(id) = answer.get("objectId").and_then(Value::as_str)
    {
        push(&mut out, "_User", id);
    }
    pointers(answer, &mut out);
    out
}

/// The objects an exchange created: the answer's `objectId` of a create, and of each
/// successful create item of a batch.
pub fn created(
    method: &str,
    path: &str,
    request: Option<&Value>,
    status: u16,
    answer: &Value,
) -> Vec<ObjectRef> {
    let mut out = Vec::new();
    if is_batch(path) {
        let answers = answer.as_array();
        for (i, item) in request
            .and_then(|b| b.get("requests"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let item_method = item
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_uppercase();
            let item_path = item.get("path").and_then(Value::as_str).unwrap_or("");
            let id = answers
                .and_then(|a| a.get(i))
                .and_then(|a| a.get("success"))
                .and_then(|s| s.get("objectId"))
                .and_then(Value::as_str);
            if let (true, Some((class, _)), Some(id)) =
                (creates(&item_method, item_path), path_target(item_path), id)
            {
                push(&mut out, &class, id);
            }
        }
    } else if (200..300).contains(&status)
        && creates(method, path)
        && let (Some((class, _)), Some(id)) = (
            path_target(path),
            answer.get("objectId").and_then(Value::as_str),
        )
    {
        push(&mut out, &class, id);
    }
    out
}

/// What a log-in names its user by: `username`, `email` or `mobilePhoneNumber`, as a
/// `where` on `_User`.
pub fn login_identity(body: Option<&Value>) -> Option<Value> {
    let body = body?.as_object()?;
    ["username", "email", "mobilePhoneNumber"]
        .iter()
        .find_map(|key| {
            body.get(*key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(|v| json!({ *key: v }))
        })
}

/// The class a request queries (a GET of a class, not of one object), if any.
pub fn queried_class(method: &str, path: &str) -> Option<String> {
    match (method, path_target(path)) {
        ("GET", Some((class, None))) if !path.ends_with("/me") => Some(class),
        _ => None,
    }
}

/// Session tokens an answer hands out (`sessionToken` anywhere in it).
pub fn tokens(answer: &Value, out: &mut Vec<String>) {
    match answer {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("sessionToken", Value::String(token)) => out.push(token.clone()),
                    _ => tokens(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| tokens(v, out)),
        _ => {}
    }
}

/// The request path that queries `class` (the service serves installations at a path
/// of their own, which the emulator does not).
pub fn class_path(class: &str) -> String {
    match class {
        "_Installation" => Resource::Installations.path(),
        other => Resource::collection(other).path(),
    }
}

/// The query string that fetches these ids of a class.
pub fn fetch_query(ids: &[String]) -> Vec<(String, String)> {
    vec![
        (
            "where".into(),
            json!({"objectId": {"$in": ids}}).to_string(),
        ),
        ("limit".into(), "1000".into()),
        // ACLs are only shown when asked for (and the app allows it).
        ("returnACL".into(), "true".into()),
    ]
}

/// The query string that fetches every row of a class (up to 1000) and counts them.
pub fn snapshot_query() -> Vec<(String, String)> {
    vec![
        ("limit".into(), "1000".into()),
        ("count".into(), "1".into()),
        ("returnACL".into(), "true".into()),
    ]
}

/// The query string that fetches the `_User` a log-in names.
pub fn user_query(identity: &Value) -> Vec<(String, String)> {
    vec![
        ("where".into(), identity.to_string()),
        ("limit".into(), "1".into()),
        ("returnACL".into(), "true".into()),
    ]
}

/// The query string that lists the members of a relation field.
pub fn relation_query(class: &str, id: &str, key: &str) -> Vec<(String, String)> {
    vec![
        (
            "where".into(),
            json!({"$relatedTo": {"object": {"__type": "Pointer", "className": class, "objectId": id}, "key": key}})
                .to_string(),
        ),
        ("keys".into(), "objectId".into()),
        ("limit".into(), "1000".into()),
    ]
}

/// A row as the master key saw it -> a `population.json` row. Relation fields are left
/// for the caller (their members are fetched separately); control keys are dropped.
pub fn to_row(object: &Map<String, Value>) -> (Map<String, Value>, BTreeMap<String, String>) {
    let mut row = Map::new();
    let mut relations = BTreeMap::new();
    for (key, value) in object {
        if key.starts_with("__") || key == "className" || key == "sessionToken" {
            continue;
        }
        if value.get("__type").and_then(Value::as_str) == Some("Relation") {
            if let Some(target) = value.get("className").and_then(Value::as_str) {
                relations.insert(key.clone(), target.to_string());
            }
            continue;
        }
        row.insert(key.clone(), value.clone());
    }
    (row, relations)
}

/// `{"__op": "AddRelation", "objects": [pointers]}` for the members of a relation.
pub fn add_relation(target: &str, members: &[String]) -> Value {
    json!({
        "__op": "AddRelation",
        "objects": members
            .iter()
            .map(|id| json!({"__type": "Pointer", "className": target, "objectId": id}))
            .collect::<Vec<_>>()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(class: &str, id: &str) -> ObjectRef {
        (class.into(), id.into())
    }

    #[test]
    fn requests_name_objects_by_path_pointer_and_where() {
        let body =
            json!({"business": {"__type": "Pointer", "className": "Business", "objectId": "b1"}});
        assert_eq!(
            request_refs("PUT", "/1.1/classes/Review/r1", &[], Some(&body)),
            vec![r("Review", "r1"), r("Business", "b1")]
        );
        let query = vec![(
            "where".to_string(),
            r#"{"$or":[{"objectId":"p1"},{"objectId":{"$in":["p2"]}}],"author":{"__type":"Pointer","className":"_User","objectId":"u1"}}"#
                .to_string(),
        )];
        assert_eq!(
            request_refs("GET", "/1.1/classes/Post", &query, None),
            vec![r("Post", "p1"), r("Post", "p2"), r("_User", "u1")]
        );
        assert_eq!(request_refs("GET", "/1.1/users/me", &[], None), vec![]);
        assert_eq!(
            request_refs("DELETE", "/1.1/classes/Post/p1,p2", &[], None),
            vec![r("Post", "p1"), r("Post", "p2")]
        );
        assert_eq!(
            request_refs("DELETE", "/1.1/users/u9", &[], None),
            vec![r("_User", "u9")]
        );
        let batch = json!({"requests": [
            {"method": "delete", "path": "/1.1/classes/Post/p3"},
            {"method": "POST", "path": "/1.1/classes/Post", "body": {"parent": {"__type": "Pointer", "className": "Post", "objectId": "p4"}}}
        ]});
        assert_eq!(
            request_refs("POST", "/1.1/batch", &[], Some(&batch)),
            vec![r("Post", "p3"), r("Post", "p4")]
        );
    }

    #[test]
    fn answers_name_their_rows_and_pointers() {
        let answer = json!({"results": [
            {"objectId": "p1", "author": {"__type": "Pointer", "className": "_User", "objectId": "u1"}},
            {"objectId": "p2"}
        ]});
        assert_eq!(
            answer_refs("GET", "/1.1/classes/Post", 200, &answer),
            vec![r("Post", "p1"), r("Post", "p2"), r("_User", "u1")]
        );
        assert_eq!(
            answer_refs(
                "POST",
                "/1.1/login",
                200,
                &json!({"objectId": "u2", "sessionToken": "t"})
            ),
            vec![r("_User", "u2")]
        );
        assert_eq!(
            answer_refs("GET", "/1.1/classes/Post", 404, &json!({"code": 101})),
            vec![]
        );
    }

    #[test]
    fn creates_and_batch_creates_produce_objects() {
        assert_eq!(
            created(
                "POST",
                "/1.1/classes/Post",
                None,
                201,
                &json!({"objectId": "p1"})
            ),
            vec![r("Post", "p1")]
        );
        let batch = json!({"requests": [
            {"method": "POST", "path": "/1.1/classes/Post", "body": {}},
            {"method": "POST", "path": "/1.1/classes/Post", "body": {}},
            {"method": "PUT", "path": "/1.1/classes/Post/p9", "body": {}}
        ]});
        let answer = json!([
            {"success": {"objectId": "p2"}},
            {"error": {"code": 142, "error": "no"}},
            {"success": {"updatedAt": "x"}}
        ]);
        assert_eq!(
            created("POST", "/1.1/batch", Some(&batch), 200, &answer),
            vec![r("Post", "p2")]
        );
    }

    #[test]
    fn rows_keep_data_and_set_relations_aside() {
        let object = json!({
            "objectId": "r1", "name": "Moderators", "sessionToken": "t", "className": "_Role",
            "users": {"__type": "Relation", "className": "_User"},
            "ACL": {"*": {"read": true}}
        });
        let (row, relations) = to_row(object.as_object().unwrap());
        assert_eq!(
            Value::Object(row),
            json!({"objectId": "r1", "name": "Moderators", "ACL": {"*": {"read": true}}})
        );
        assert_eq!(relations.get("users").map(String::as_str), Some("_User"));
    }
}
