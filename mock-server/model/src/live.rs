//! LiveQuery: what one change of one object is to one subscription, if anything. A pure
//! function of the store, the subscription's query, its subscriber and the object before
//! and after the change ([`event`]); the api keeps the subscriptions and delivers the
//! events (`mock-server/src/api/livequery.rs`).
//!
//! The events, as the service's LiveQuery guide defines them (weakish/docs, a 2019 copy
//! of leancloud/docs, `views/livequery-guide.md`, 订阅数据变更): `create` a new object
//! that matches; `update` an object that matched before and after; `enter` an object
//! that did not match and now does; `leave` one that matched and no longer does;
//! `delete` a matching object deleted. A message is
//! `{"op", "object", "query_id", "updatedKeys"?}` (leancloud-storage 4.15.2
//! `dist/node/live-query.js`, `_dispatch`; `updatedKeys` with update, enter and leave).
//!
//! "Matches" means what a find by the subscriber would return: the `where` evaluated by
//! the query engine's own [`Matcher`] (compiled as the subscriber runs it, so subqueries
//! read what they may and hidden columns are absent), and the object's ACL lets the
//! subscriber read it. A class whose `find` permission refuses the subscriber sends them
//! nothing. The object is shown as a find shows it to them ([`client::object`]: the
//! query's `keys` and `returnACL`, hidden columns left out), with its `className`.
//! The master key plays no part: "LiveQuery ignores master" (leancloud/docs
//! `docs/sdk/storage/acl.mdx`, in the protocol notes §6.1).
//!
//! Choices where no source says:
//! - `updatedKeys` are the keys the update's body named when the write says so (as
//!   afterUpdate's `_updatedKeys`), else the top-level keys whose values differ; a
//!   column hidden from the subscriber and a user's `password` are left out.
//! - A `leave` because the object's ACL no longer lets the subscriber read it shows the
//!   object as it was before, which they could read, not as it is now.
//! - Subqueries (`$inQuery`, `$select`, ...) are evaluated against the store after the
//!   write, for the object before as for after.

use crate::access::Principal;
use crate::presentation::{View, client};
use crate::query::{Access, Matcher, where_value};
use crate::store::{Store, StoredObject};
use leancloud::LcError;
use serde_json::{Map, Value, json};

/// What a subscription asks for: the query part of `POST /1.1/LiveQuery/subscribe`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub class: String,
    pub r#where: Value,
    /// `keys` and `returnACL` (and `include`) as a find takes them.
    pub view: View,
}

impl Query {
    /// From the subscription's `query`: `{"className", "where", "keys"?, "returnACL"?}`
    /// as the JavaScript SDK sends it (leancloud-storage `dist/node/live-query.js`,
    /// `init`); `where` may be JSON text, `keys` a comma list or an array. A missing or
    /// malformed `className` is 103, anything else malformed 102 (or 107 for `where`
    /// text that is not JSON), as for a find.
    pub fn from_json(query: &Value) -> Result<Query, LcError> {
        let map = query
            .as_object()
            .ok_or_else(|| LcError::invalid_query("query must be an object"))?;
        let class = match map.get("className") {
            Some(Value::String(name)) => name.clone(),
            Some(other) => return Err(LcError::invalid_class_name(&other.to_string())),
            None => return Err(LcError::invalid_class_name("")),
        };
        crate::names::check_class_name(&class)?;
        let r#where = where_value(map.get("where"))?;
        if !r#where.is_object() {
            return Err(LcError::invalid_query("where must be an object"));
        }
        Ok(Query {
            class,
            r#where,
            view: View::from_json(map)?,
        })
    }

    /// Whether `who` may subscribe: the `where` compiles as their find would (its
    /// bounds, its subqueries' class permissions), and the class's `find` permission
    /// lets them (a class that does not exist yet has a new class's permissions).
    pub fn check(&self, store: &Store, who: &Principal) -> Result<(), LcError> {
        let who = subscriber(who);
        who.may_find(store, &self.class)?;
        Matcher::compile_for(store, &self.class, &self.r#where, &who).map(|_| ())
    }
}

/// What happened to a subscription's view of the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Enter,
    Leave,
    Delete,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Enter => "enter",
            Op::Leave => "leave",
            Op::Delete => "delete",
        }
    }
}

/// One change of one object: before (`None`: created) and after (`None`: deleted).
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub class: &'a str,
    pub before: Option<&'a StoredObject>,
    pub after: Option<&'a StoredObject>,
    /// The keys the write's body named, when the write says (an update's).
    pub keys: Option<&'a [String]>,
}

/// An event for one subscriber.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub op: Op,
    /// The object as the subscriber may see it, with `className`.
    pub object: Value,
    /// With `update`, `enter` and `leave`.
    pub updated_keys: Option<Vec<String>>,
}

impl Event {
    /// The message the subscription's client receives (one `JsonObjectMessage.data`).
    pub fn message(&self, query_id: &str) -> Value {
        let mut out = json!({
            "op": self.op.name(),
            "object": self.object,
            "query_id": query_id,
        });
        if let Some(keys) = &self.updated_keys {
            out["updatedKeys"] = json!(keys);
        }
        out
    }
}

/// The subscriber as LiveQuery sees them: never with the master key.
fn subscriber(who: &Principal) -> Principal {
    Principal {
        master: false,
        user: who.user.clone(),
    }
}

/// What `change` is to a subscription of `query` by `who`, if anything (see the module's
/// documentation). Pure: reads the store, changes nothing.
pub fn event(store: &Store, query: &Query, who: &Principal, change: &Change<'_>) -> Option<Event> {
    if change.class != query.class {
        return None;
    }
    let who = subscriber(who);
    who.may_find(store, change.class).ok()?;
    let matcher = Matcher::compile_for(store, change.class, &query.r#where, &who).ok()?;
    let sees = |obj: Option<&StoredObject>| {
        obj.is_some_and(|o| matcher.matches(o) && who.can_read_stored(o))
    };
    let (saw, sees_now) = (sees(change.before), sees(change.after));
    let (op, shown) = match (change.before, change.after) {
        (None, Some(after)) if sees_now => (Op::Create, after),
        (Some(before), None) if saw => (Op::Delete, before),
        (Some(_), Some(after)) if saw && sees_now => (Op::Update, after),
        (Some(_), Some(after)) if sees_now => (Op::Enter, after),
        (Some(before), Some(after)) if saw => match who.can_read_stored(after) {
            true => (Op::Leave, after),
            false => (Op::Leave, before),
        },
        _ => return None,
    };
    let mut object = client::object(store, change.class, shown, &query.view, &who).ok()?;
    if let Some(map) = object.as_object_mut() {
        map.insert("className".into(), json!(change.class));
    }
    let updated_keys = match op {
        Op::Update | Op::Enter | Op::Leave => Some(updated_keys(store, &who, change)),
        Op::Create | Op::Delete => None,
    };
    Some(Event {
        op,
        object,
        updated_keys,
    })
}

/// The keys an update changed, as the subscriber may know of them.
fn updated_keys(store: &Store, who: &Principal, change: &Change<'_>) -> Vec<String> {
    let keys: Vec<String> = match change.keys {
        Some(keys) => keys.to_vec(),
        None => {
            let empty = Map::new();
            let before = change.before.map(StoredObject::to_map);
            let after = change.after.map(StoredObject::to_map);
            let (before, after) = (
                before.as_ref().unwrap_or(&empty),
                after.as_ref().unwrap_or(&empty),
            );
            let mut keys: Vec<String> = after
                .iter()
                .filter(|(k, v)| before.get(*k) != Some(*v))
                .map(|(k, _)| k.clone())
                .collect();
            keys.extend(before.keys().filter(|k| !after.contains_key(*k)).cloned());
            keys
        }
    };
    keys.into_iter()
        .filter(|k| {
            let top = k.split('.').next().unwrap_or(k);
            let password = change.class == crate::users::CLASS && top == "password";
            !(password || who.hides(store, change.class, top))
        })
        .collect()
}

/// The classes of a store as they are at one moment, for [`changes`] to compare a later
/// store with. Taking them costs a few pointers (the maps are persistent).
#[derive(Debug, Clone)]
pub struct Classes(imbl::HashMap<String, std::sync::Arc<crate::ClassData>>);

impl Classes {
    pub fn of(store: &Store) -> Classes {
        Classes(store.classes.clone())
    }
}

/// Every object of `classes` that changed since `old` was taken, before and after, in
/// id order per class. Costs what changed, not the classes' size.
pub fn changes<'a>(
    store: &'a Store,
    old: &'a Classes,
    classes: impl IntoIterator<Item = &'a str>,
) -> Vec<Change<'a>> {
    // A class that did not exist, or no longer does, compares with no rows.
    static EMPTY: std::sync::LazyLock<crate::store::Rows> =
        std::sync::LazyLock::new(crate::store::Rows::default);
    let empty: &'static crate::store::Rows = &EMPTY;
    let mut out = Vec::new();
    for class in classes {
        let (before, after) = (old.0.get(class), store.classes.get(class));
        if let (Some(b), Some(a)) = (before, after)
            && std::sync::Arc::ptr_eq(b, a)
        {
            continue;
        }
        let old_rows = before.map_or(empty, |c| &c.objects);
        let new_rows = after.map_or(empty, |c| &c.objects);
        for (_, b, a) in new_rows.diff(old_rows) {
            out.push(Change {
                class,
                before: b.map(|r| &**r),
                after: a.map(|r| &**r),
                keys: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{FixedClock, SeededIds};
    use std::sync::Arc;

    const T0: i64 = 1_700_000_000_000;

    fn store() -> Store {
        Store::new(Arc::new(FixedClock::new(T0)), Box::new(SeededIds::new(7)))
    }

    /// A store whose `Todo` class has a hidden String column `secret`.
    fn store_with_hidden_secret() -> Store {
        let mut store = store();
        store.class_mut("Todo").columns.insert(
            "secret".into(),
            crate::Column {
                kind: "String".into(),
                hidden: true,
                ..crate::Column::default()
            },
        );
        store
    }

    fn obj(id: &str, fields: Value) -> StoredObject {
        StoredObject::new(
            crate::store::Id::from(id),
            T0,
            T0,
            fields.as_object().unwrap(),
        )
    }

    fn todo_query(r#where: Value) -> Query {
        Query::from_json(&json!({"className": "Todo", "where": r#where})).unwrap()
    }

    fn op(
        store: &Store,
        query: &Query,
        who: &Principal,
        before: Option<&StoredObject>,
        after: Option<&StoredObject>,
    ) -> Option<&'static str> {
        let change = Change {
            class: "Todo",
            before,
            after,
            keys: None,
        };
        event(store, query, who, &change).map(|e| e.op.name())
    }

    #[test]
    fn each_transition_of_the_match_is_its_event() {
        let store = store();
        let q = todo_query(json!({"state": "doing"}));
        let anyone = Principal::anonymous();
        let doing = obj("a", json!({"state": "doing"}));
        let done = obj("a", json!({"state": "done"}));
        let cases = [
            (None, Some(&doing), Some("create")),
            (None, Some(&done), None),
            (Some(&doing), Some(&doing), Some("update")),
            (Some(&done), Some(&doing), Some("enter")),
            (Some(&doing), Some(&done), Some("leave")),
            (Some(&done), Some(&done), None),
            (Some(&doing), None, Some("delete")),
            (Some(&done), None, None),
        ];
        for (before, after, want) in cases {
            assert_eq!(
                op(&store, &q, &anyone, before, after),
                want,
                "{before:?} -> {after:?}"
            );
        }
    }

    #[test]
    fn an_object_the_subscriber_may_not_read_is_not_sent_and_losing_read_is_a_leave() {
        let store = store();
        let q = todo_query(json!({}));
        let anyone = Principal::anonymous();
        let public = obj("a", json!({"ACL": {"*": {"read": true}}, "t": 1}));
        let private = obj("a", json!({"ACL": {"u1": {"read": true}}, "t": 2}));
        assert_eq!(op(&store, &q, &anyone, None, Some(&private)), None);
        assert_eq!(op(&store, &q, &anyone, Some(&private), None), None);
        assert_eq!(
            op(&store, &q, &anyone, Some(&private), Some(&public)),
            Some("enter")
        );
        let change = Change {
            class: "Todo",
            before: Some(&public),
            after: Some(&private),
            keys: None,
        };
        let leave = event(&store, &q, &anyone, &change).unwrap();
        assert_eq!(leave.op, Op::Leave);
        assert_eq!(leave.object["t"], 1, "shown as they could read it");
        assert_eq!(
            leave.updated_keys,
            Some(vec!["ACL".to_string(), "t".to_string()])
        );
        // The master key changes nothing: LiveQuery ignores it.
        assert_eq!(
            op(&store, &q, &Principal::master(), None, Some(&private)),
            None
        );
    }

    #[test]
    fn the_object_is_shown_as_a_find_shows_it() {
        let store = store_with_hidden_secret();
        let q = Query::from_json(&json!({
            "className": "Todo", "where": {"secret": {"$exists": false}}, "keys": "title"
        }))
        .unwrap();
        let created = obj("a", json!({"title": "t", "state": "doing", "secret": "s"}));
        let change = Change {
            class: "Todo",
            before: None,
            after: Some(&created),
            keys: None,
        };
        let e = event(&store, &q, &Principal::anonymous(), &change).unwrap();
        // The hidden column is absent from the `where` too: `$exists: false` matches.
        assert_eq!(e.op, Op::Create);
        let mut keys: Vec<&str> = e
            .object
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["className", "createdAt", "objectId", "title", "updatedAt"]
        );
        let msg = e.message("q1");
        assert_eq!(
            (msg["op"].clone(), msg["query_id"].clone()),
            (json!("create"), json!("q1"))
        );
        assert!(msg.get("updatedKeys").is_none());
    }

    #[test]
    fn a_class_the_subscriber_may_not_find_sends_nothing() {
        let mut store = store();
        store.class_mut("Todo").settings.permissions =
            crate::access::ClassPermissions::from_json(&json!({"find": {"onlySignInUsers": true}}))
                .unwrap();
        let q = todo_query(json!({}));
        let created = obj("a", json!({}));
        assert_eq!(
            op(&store, &q, &Principal::anonymous(), None, Some(&created)),
            None
        );
        assert!(q.check(&store, &Principal::anonymous()).is_err());
    }

    #[test]
    fn updated_keys_are_the_written_keys_when_known_and_never_hidden_ones() {
        let store = store_with_hidden_secret();
        let q = todo_query(json!({}));
        let before = obj("a", json!({"title": "a", "secret": "x"}));
        let after = obj("a", json!({"title": "b", "secret": "y", "n": 1}));
        let named = vec![
            "title".to_string(),
            "secret".to_string(),
            "same".to_string(),
        ];
        let mut change = Change {
            class: "Todo",
            before: Some(&before),
            after: Some(&after),
            keys: Some(&named),
        };
        let who = Principal::anonymous();
        let e = event(&store, &q, &who, &change).unwrap();
        assert_eq!(e.updated_keys, Some(vec!["title".into(), "same".into()]));
        change.keys = None;
        let e = event(&store, &q, &who, &change).unwrap();
        assert_eq!(e.updated_keys, Some(vec!["n".into(), "title".into()]));
    }

    #[test]
    fn malformed_queries_are_the_errors_a_find_gives() {
        let code = |q: Value| Query::from_json(&q).unwrap_err().code;
        assert_eq!(code(json!("x")), 102);
        assert_eq!(code(json!({"where": {}})), 103);
        assert_eq!(code(json!({"className": "1bad"})), 103);
        assert_eq!(code(json!({"className": "T", "where": "{"})), 107);
        assert_eq!(code(json!({"className": "T", "where": [1]})), 102);
        let q = todo_query(json!({"n": {"$bogus": 1}}));
        assert_eq!(
            q.check(&store(), &Principal::anonymous()).unwrap_err().code,
            102
        );
    }
}
