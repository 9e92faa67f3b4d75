//! The write pipeline. Every write of an object (objects, users, roles, and batch items,
//! which run the same handlers) goes through [`Pipeline::run`], in the steps
//! parse-server's RestWrite names:
//!
//! ```text
//! 1. check        shared lock     what is refused before any hook is considered (some
//!                                 writes); what can be checked before the hook, and
//!                                 what the hook is shown
//! 2. before-hook  no lock         may refuse (142); beforeSave's answer is what gets created
//!    prepare      no lock         work too slow to do under the lock (hashing a password)
//! 3. write        exclusive lock  every check again, then the change; the answer is
//!                                 rendered under the same lock
//! 4. after-hook   no lock         fired in the background, counted for `Api::idle`
//! ```
//!
//! Step 2, and the part of step 1 that prepares it, run only when the before-hook does:
//! without it, the write's own checks are the checks. The store is never locked while a
//! hook runs, so the hook's code may read and write, and step 3 re-checks everything.
//! What a write changed is known in one place, [`Committed`], the moment step 3 ends:
//! the after-hook is made from it, and durable storage is to record it there.
//!
//! A handler parses its request into a [`Write`] (`api/writes.rs`), runs it, and renders
//! the answer. The hooks' own rules (`__ignore_hooks`, the depth limit, traces) live in
//! `hooks`.

use super::hooks::{self, Hooks};
use super::routes::Call;
use lc_model::objects::Updated;
use lc_model::presentation::hook;
use lc_model::{Principal, Store, StoredObject};
use leancloud::LcError;
use leancloud::cloud::HookKind;
use serde_json::{Map, Value};

/// One write, as the pipeline runs it: what each step does for it.
pub(super) trait Write {
    /// What the write step gives the answer.
    type Outcome;

    /// The hook that hears of the write before it is made, and may refuse it.
    fn before_hook(&self) -> HookKind;

    /// Who is writing. Sign-up ignores a session token nobody holds.
    fn caller(&self, call: &Call<'_>, store: &Store) -> Result<Principal, LcError> {
        call.principal(store)
    }

    /// Whether the write refuses some requests before its before-hook is even
    /// considered ([`Write::check_first`]); most do not, and take no lock for it.
    fn checks_first(&self) -> bool {
        false
    }

    /// Step 1, first (shared lock): what is refused whether or not a hook runs, before
    /// any hook is considered.
    fn check_first(&self, _store: &Store, _who: &Principal) -> Result<(), LcError> {
        Ok(())
    }

    /// Step 1 (shared lock), when the before-hook runs: the checks that come before it
    /// hears of the write, and the object it is shown; `None` when there is nothing for
    /// it to hear of (a delete of an object that does not exist).
    fn check(&self, store: &Store, who: &Principal) -> Result<Option<Value>, LcError>;

    /// Step 2's answer: the hook accepted `sent` with `answer`. Only beforeSave's answer
    /// changes the write (it is the object to create).
    fn take_answer(&mut self, _sent: &Value, _answer: &Value) -> Result<(), LcError> {
        Ok(())
    }

    /// Between the before-hook and the write, without the lock: work too slow to do
    /// under it.
    fn prepare(&mut self, _call: &Call<'_>) -> Result<(), LcError> {
        Ok(())
    }

    /// Step 3 (exclusive lock): every check again, then the change.
    fn write(&mut self, store: &mut Store, who: &Principal) -> Result<Self::Outcome, LcError>;

    /// What the write changed, read from its outcome.
    fn committed(outcome: &Self::Outcome) -> Committed<'_>;

    /// Step 4: the hook that hears of the change once it is made; by default the one
    /// the change calls for (afterSave, afterUpdate, afterDelete).
    fn after_hook(&self, committed: Committed<'_>) -> Option<HookKind> {
        committed.after_hook()
    }
}

/// What a write changed, known the moment it is in the store.
#[derive(Debug, Clone, Copy)]
pub(super) enum Committed<'a> {
    /// A new object, as stored.
    Created(&'a StoredObject),
    /// An object before and after, with the keys the body touched.
    Updated(&'a Updated),
    /// An object removed, as it was.
    Deleted(&'a StoredObject),
    /// A sign-up that logged in the holder of its linked account: their link data, as
    /// stored, and a new session. No hook hears of it.
    LoggedIn(&'a StoredObject),
    /// Nothing changed (a delete of an object that does not exist).
    Nothing,
}

impl Committed<'_> {
    /// The after-hook the change calls for.
    fn after_hook(self) -> Option<HookKind> {
        match self {
            Committed::Created(_) => Some(HookKind::AfterSave),
            Committed::Updated(_) => Some(HookKind::AfterUpdate),
            Committed::Deleted(_) => Some(HookKind::AfterDelete),
            Committed::LoggedIn(_) | Committed::Nothing => None,
        }
    }

    /// The object a hook is shown of the change.
    fn hook_object(self, store: &Store) -> Option<Value> {
        match self {
            Committed::Created(obj) | Committed::Deleted(obj) | Committed::LoggedIn(obj) => {
                Some(hook::object(store, obj))
            }
            Committed::Updated(updated) => {
                Some(hook::updated_object(store, &updated.after, &updated.keys))
            }
            Committed::Nothing => None,
        }
    }
}

/// The pipeline of the writes of one request on one class.
pub(super) struct Pipeline<'a> {
    call: &'a Call<'a>,
    class: String,
    /// The hooks the writes may fire (`None`: no cloud code hears of this class).
    hooks: Option<Hooks<'a>>,
}

impl<'a> Pipeline<'a> {
    /// The pipeline for writes on `class` whose body carries `flags` (`__ignore_hooks`).
    pub fn new(call: &'a Call<'a>, class: &str, flags: &Map<String, Value>) -> Self {
        Pipeline {
            call,
            class: class.to_string(),
            hooks: hooks::for_write(call, class, flags),
        }
    }

    /// Run `write` through the four steps; `answer` renders what the client gets from
    /// the outcome, under the write's lock. An error at any step ends the write there,
    /// and before step 3 ends nothing is stored.
    pub fn run<W: Write, R>(
        &self,
        mut write: W,
        answer: impl FnOnce(&Store, &Principal, &W::Outcome) -> Result<R, LcError>,
    ) -> Result<R, LcError> {
        let call = self.call;
        let session = call.ctx.session.as_deref();
        // 1. check, 2. before-hook
        if write.checks_first() {
            let store = call.api.read_store();
            let who = write.caller(call, &store)?;
            write.check_first(&store, &who)?;
        }
        let kind = write.before_hook();
        if let Some(hooks) = self.hooks.as_ref().filter(|h| h.wants(kind)) {
            let heard = {
                let store = call.api.read_store();
                let who = write.caller(call, &store)?;
                write
                    .check(&store, &who)?
                    .map(|sent| (sent, hook::requester(&store, session)))
            };
            if let Some((sent, user)) = heard {
                let answer = hooks.before(kind, sent.clone(), user)?;
                write.take_answer(&sent, &answer)?;
            }
        }
        write.prepare(call)?;
        // 3. write
        let mut store = call.api.store();
        let who = write.caller(call, &store)?;
        let op = match kind {
            HookKind::BeforeUpdate => "update",
            HookKind::BeforeDelete => "delete",
            _ => "create",
        };
        if let Some(err) = call
            .api
            .faults
            .take_write(&self.class, op, store.clock.now_ms())
        {
            return Err(err);
        }
        let outcome = write.write(&mut store, &who)?;
        let committed = W::committed(&outcome);
        if let Committed::Updated(updated) = committed {
            store.note_updated_keys(&self.class, &updated.after.id, &updated.keys);
        }
        let reply = answer(&store, &who, &outcome)?;
        // 4. after-hook
        let Some(hooks) = &self.hooks else {
            return Ok(reply);
        };
        if let Some(kind) = write.after_hook(committed).filter(|k| hooks.wants(*k)) {
            let object = committed.hook_object(&store);
            let user = hook::requester(&store, session);
            drop(store);
            if let Some(object) = object {
                hooks.after(kind, object, user);
            }
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use crate::api::{Api, AppConfig};
    use lc_model::Column;
    use leancloud::Request;
    use leancloud::cloud::{CloudError, Registry};
    use serde_json::{Value, json};
    use std::sync::Arc;

    /// An app whose `Score` beforeSave answers what the object's `answer` asks for, and
    /// whose `Tag` beforeSave first stores a `Tag` of the same name itself when the
    /// object has `race`.
    fn app() -> Arc<Api> {
        let mut r = Registry::new();
        r.before_save("Score", |req| async move {
            let mut score = req.object;
            match score.get("answer").and_then(Value::as_str) {
                Some("wrong type") => score["n"] = json!("ten"),
                Some("fill author") => score["author"] = json!("ann"),
                _ => {}
            }
            Ok(score)
        });
        r.before_save("Tag", |req| async move {
            if req.object.get("race") == Some(&json!(true)) {
                let name = req.object["name"].clone();
                req.client()
                    .create("Tag", &json!({"name": name}))
                    .await
                    .map_err(CloudError::from_lc)?;
            }
            Ok(req.object)
        });
        let api = Arc::new(Api::new(AppConfig::default()));
        api.attach_registry(r).expect("the cloud attaches");
        {
            let mut store = api.store();
            let number = Column {
                kind: "Number".into(),
                ..Column::default()
            };
            let required = Column {
                kind: "String".into(),
                required: true,
                ..Column::default()
            };
            let scores = store.class_mut("Score");
            scores.columns.insert("n".into(), number);
            scores.columns.insert("author".into(), required);
            store
                .class_mut("Tag")
                .settings
                .unique
                .push(vec!["name".into()]);
        }
        api
    }

    fn send(api: &Api, method: &str, path: &str, body: Value, master: bool) -> (u16, Value) {
        let cfg = api.config();
        let key = if master {
            format!("{},master", cfg.master_key)
        } else {
            cfg.app_key.clone()
        };
        let request = Request::from_target(method, path)
            .with_header("x-lc-id", &cfg.app_id)
            .with_header("x-lc-key", key)
            .with_json(&body);
        let response = api.handle(&request);
        (response.status, response.body_json().unwrap())
    }

    fn create(api: &Api, class: &str, body: Value) -> (u16, Value) {
        send(api, "POST", &format!("/1.1/classes/{class}"), body, false)
    }

    /// What `class` holds, as the master key finds it.
    fn stored(api: &Api, class: &str) -> Vec<Value> {
        let path = format!("/1.1/classes/{class}?order=name");
        let (status, body) = send(api, "GET", &path, Value::Null, true);
        assert_eq!(status, 200, "{body}");
        body["results"].as_array().unwrap().clone()
    }

    fn names(api: &Api, class: &str) -> Vec<Value> {
        stored(api, class)
            .iter()
            .map(|o| o["name"].clone())
            .collect()
    }

    #[test]
    fn what_before_save_answers_is_checked_as_the_object_to_create() {
        let api = app();
        // The hook may fill in a required column the client left out.
        let (status, body) = create(&api, "Score", json!({"answer": "fill author"}));
        assert_eq!(status, 201, "{body}");
        // Left out by both, it is still required.
        let (status, body) = create(&api, "Score", json!({"n": 1}));
        assert_eq!((status, body["code"].clone()), (400, json!(113)), "{body}");
        // A value of the wrong type from the hook is refused as the client's would be.
        let (status, body) = create(
            &api,
            "Score",
            json!({"answer": "wrong type", "author": "bob"}),
        );
        assert_eq!((status, body["code"].clone()), (400, json!(111)), "{body}");
        assert_eq!(stored(&api, "Score").len(), 1);
    }

    #[test]
    fn a_write_checks_again_what_changed_while_its_before_hook_ran() {
        let api = app();
        // The hook's own write, made while the client's waits for the hook, takes the
        // name; the client's write, checked again once the hook answered, is refused.
        let (status, body) = create(&api, "Tag", json!({"name": "rust", "race": true}));
        assert_eq!((status, body["code"].clone()), (400, json!(137)), "{body}");
        assert_eq!(names(&api, "Tag"), vec![json!("rust")]);
        let (status, body) = create(&api, "Tag", json!({"name": "go", "race": false}));
        assert_eq!(status, 201, "{body}");
        assert_eq!(names(&api, "Tag"), vec![json!("go"), json!("rust")]);
    }
}
