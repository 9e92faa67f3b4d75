//! What a run created, learnt from the requests it sends and their answers, so that it
//! can be deleted at the end (see `TestApp::cleanup`).
//!
//! A created object is a `201` with an `objectId` to `POST /1.1/classes/<Class>`,
//! `/1.1/users` (sign-up) or `/1.1/roles`, or a `success` with an `objectId` for such an
//! item of `POST /1.1/batch`. A `200` to `DELETE` of an object forgets it.

use futures::FutureExt;
use futures::future::BoxFuture;
use leancloud::{Request, Resource, Response, Transport};
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// One object of the run: its class and id.
pub(crate) type Created = (String, String);

/// The run's objects.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    /// Created and not known to be deleted, oldest first.
    pub pending: Vec<Created>,
    /// Everything ever created, oldest first (for leftovers).
    pub all: Vec<Created>,
    /// A write was sent since the last cleanup.
    pub wrote: bool,
}

impl Ledger {
    pub fn created(&mut self, class: &str, id: &str) {
        let item = (class.to_string(), id.to_string());
        if !self.all.contains(&item) {
            self.all.push(item.clone());
        }
        if !self.pending.contains(&item) {
            self.pending.push(item);
        }
        self.wrote = true;
    }

    pub fn deleted(&mut self, class: &str, id: &str) {
        self.pending.retain(|(c, i)| !(c == class && i == id));
    }
}

/// What `path` names (a batch item's path may leave out the version).
fn resource(path: &str) -> Option<Resource> {
    Resource::parse_loose(path)
}

/// The class whose objects `path` creates: `/1.1/classes/<C>`, `/1.1/users`,
/// `/1.1/roles`.
fn collection_class(path: &str) -> Option<String> {
    match resource(path)? {
        Resource::Class(class) => Some(class),
        Resource::Users => Some("_User".into()),
        Resource::Roles => Some("_Role".into()),
        _ => None,
    }
}

/// The object `path` names: `/1.1/classes/<C>/<id>`, `/1.1/users/<id>`,
/// `/1.1/roles/<id>`.
fn object_of(path: &str) -> Option<Created> {
    match resource(path)? {
        Resource::Object { class, id } => Some((class, id)),
        Resource::User(id) => Some(("_User".into(), id)),
        Resource::Role(id) => Some(("_Role".into(), id)),
        _ => None,
    }
}

/// Whether `request` may change the app's data (the emulator's own control endpoints,
/// `/__mock/...`, are not the run's writes).
fn is_write(request: &Request) -> bool {
    !matches!(request.method.as_str(), "GET" | "HEAD") && !request.path.starts_with("/__mock/")
}

/// Record in `ledger` what one exchange created or deleted.
pub(crate) fn observe(ledger: &mut Ledger, request: &Request, status: u16, body: &Value) {
    let method = request.method.as_str();
    if is_write(request) {
        ledger.wrote = true;
    }
    match method {
        "POST" if resource(&request.path) == Some(Resource::Batch) && status == 200 => {
            let Ok(sent) = serde_json::from_slice::<Value>(&request.body) else {
                return;
            };
            let (Some(items), Some(results)) = (sent["requests"].as_array(), body.as_array())
            else {
                return;
            };
            for (item, result) in items.iter().zip(results) {
                let path = item["path"].as_str().unwrap_or_default();
                let id = result["success"]["objectId"].as_str();
                match item["method"]
                    .as_str()
                    .map(str::to_ascii_uppercase)
                    .as_deref()
                {
                    Some("POST") => {
                        if let (Some(class), Some(id)) = (collection_class(path), id) {
                            ledger.created(&class, id);
                        }
                    }
                    Some("DELETE") if result.get("success").is_some() => {
                        if let Some((class, id)) = object_of(path) {
                            ledger.deleted(&class, &id);
                        }
                    }
                    _ => {}
                }
            }
        }
        "POST" if status == 201 => {
            if let (Some(class), Some(id)) =
                (collection_class(&request.path), body["objectId"].as_str())
            {
                ledger.created(&class, id);
            }
        }
        "DELETE" if status == 200 => {
            if let Some((class, id)) = object_of(&request.path) {
                ledger.deleted(&class, &id);
            }
        }
        _ => {}
    }
}

/// A transport that records what passes through it in a [`Ledger`].
pub(crate) struct Tracking {
    pub inner: Arc<dyn Transport>,
    pub ledger: Arc<Mutex<Ledger>>,
}

impl Transport for Tracking {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, leancloud::LcError>> {
        // Reads create and delete nothing: they pass untouched (most of a test's
        // requests, and on mock the in-process path is otherwise free of copies).
        if matches!(request.method.as_str(), "GET" | "HEAD") {
            return self.inner.send(request);
        }
        let ledger = self.ledger.clone();
        let sent = self.inner.send(request.clone());
        async move {
            let response = sent.await;
            let mut ledger = ledger.lock().unwrap_or_else(|e| e.into_inner());
            match &response {
                Ok(r) => {
                    // Only a POST's answer names what it created.
                    let body = match request.method.as_str() {
                        "POST" => r.body_json().unwrap_or(Value::Null),
                        _ => Value::Null,
                    };
                    observe(&mut ledger, &request, r.status, &body);
                }
                // No answer: the write may still have happened.
                Err(_) if is_write(&request) => ledger.wrote = true,
                Err(_) => {}
            }
            drop(ledger);
            response
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn post(path: &str, body: &Value) -> Request {
        Request::new("POST", path).with_json(body)
    }

    #[test]
    fn creates_are_recorded_and_deletes_forgotten() {
        let mut ledger = Ledger::default();
        observe(
            &mut ledger,
            &post("/1.1/classes/Review", &json!({})),
            201,
            &json!({"objectId": "r1"}),
        );
        observe(
            &mut ledger,
            &post("/1.1/users", &json!({})),
            201,
            &json!({"objectId": "u1"}),
        );
        observe(
            &mut ledger,
            &post("/1.1/roles", &json!({})),
            201,
            &json!({"objectId": "g1"}),
        );
        // Refused creates, logins and updates create nothing.
        observe(
            &mut ledger,
            &post("/1.1/classes/Review", &json!({})),
            400,
            &json!({"code": 142, "error": "no"}),
        );
        observe(
            &mut ledger,
            &post("/1.1/login", &json!({})),
            200,
            &json!({"objectId": "u1"}),
        );
        observe(
            &mut ledger,
            &Request::new("PUT", "/1.1/classes/Review/r1"),
            200,
            &json!({}),
        );
        assert_eq!(
            ledger.pending,
            vec![
                ("Review".to_string(), "r1".to_string()),
                ("_User".to_string(), "u1".to_string()),
                ("_Role".to_string(), "g1".to_string()),
            ]
        );
        observe(
            &mut ledger,
            &Request::new("DELETE", "/1.1/users/u1"),
            200,
            &json!({}),
        );
        assert_eq!(ledger.pending.len(), 2);
        assert_eq!(ledger.all.len(), 3);
        assert!(ledger.wrote);
        let mut quiet = Ledger::default();
        observe(
            &mut quiet,
            &Request::new("POST", "/__mock/idle"),
            200,
            &json!({}),
        );
        observe(
            &mut quiet,
            &Request::new("GET", "/1.1/users"),
            200,
            &json!({}),
        );
        assert!(!quiet.wrote);
    }

    #[test]
    fn batch_items_are_recorded_one_by_one() {
        let mut ledger = Ledger::default();
        ledger.created("Note", "n0");
        let sent = json!({"requests": [
            {"method": "POST", "path": "/1.1/classes/Note", "body": {}},
            {"method": "POST", "path": "/1.1/classes/Note", "body": {}},
            {"method": "DELETE", "path": "/1.1/classes/Note/n0"},
            {"method": "PUT", "path": "/1.1/classes/Note/n0", "body": {}},
        ]});
        let answers = json!([
            {"success": {"objectId": "n1"}},
            {"error": {"code": 142, "error": "no"}},
            {"success": {}},
            {"success": {}},
        ]);
        observe(&mut ledger, &post("/1.1/batch", &sent), 200, &answers);
        assert_eq!(ledger.pending, vec![("Note".to_string(), "n1".to_string())]);
    }

    #[test]
    fn paths_map_to_classes_and_back() {
        assert_eq!(collection_class("/1.1/classes/Post"), Some("Post".into()));
        assert_eq!(collection_class("/classes/Post"), Some("Post".into()));
        assert_eq!(collection_class("/1.1/classes/Post/x"), None);
        assert_eq!(object_of("/1.1/users/me"), None);
        assert_eq!(
            object_of("/1.1/users/u"),
            Some(("_User".to_string(), "u".to_string()))
        );
        assert_eq!(
            object_of("/classes/Post/p"),
            Some(("Post".to_string(), "p".to_string()))
        );
    }
}
