//! Follows and the status inbox: `_Followee`/`_Follower` rows kept in step by a follow or
//! an unfollow, `_Status` rows, and each user's inboxes (by inbox type) holding the
//! statuses sent to them under a per-inbox `messageId` that only grows.
//!
//! Facts from the official JavaScript SDK (`user.js`: `follow` is `POST
//! /users/<me>/friendship/<target>` with the follow's attributes, `unfollow` its `DELETE`,
//! `followerQuery`/`followeeQuery` query `_Follower`/`_Followee` by `user`,
//! `getFollowersAndFollowees` reads `/users/<id>/followersAndFollowees` as
//! `{"followers": [{"follower"}], "followees": [{"followee"}]}`; `status.js`: a status is
//! `POST /statuses` with `{"query": {"className", "where", "keys"?}, "data": {..., "source"},
//! "inboxType"}`, sent to followers through a query of `_Follower` with `keys: follower`,
//! to one user (`inboxType: private`) through a query of `_User` by objectId; the inbox is
//! read at `/subscribe/statuses` with `owner`, `inboxType`, `sinceId`, `maxId`; counts at
//! `/subscribe/statuses/count` (`total`, `unread`), reset at
//! `/subscribe/statuses/resetUnreadCount`; a status is deleted at `/statuses/<id>`).
//! Choices where nothing is recorded: following twice keeps one follow (its attributes
//! replaced); a status a source deletes leaves every inbox; the newest entries come first.

use crate::store::{Store, StoredObject};
use imbl::OrdMap;
use leancloud::LcError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Recipients one status may reach.
pub const MAX_STATUS_RECIPIENTS: usize = 10_000;
/// Entries kept per inbox; the oldest go first.
pub const MAX_INBOX_ENTRIES: usize = 10_000;

fn pointer(class: &str, id: &str) -> Value {
    json!({"__type": "Pointer", "className": class, "objectId": id})
}

/// The follow rows of `user` following `target` in `class` (`_Followee` or `_Follower`).
fn follow_rows(
    store: &Store,
    class: &str,
    owner: &str,
    other_key: &str,
    other: &str,
) -> Vec<String> {
    store
        .class(class)
        .map(|data| {
            data.objects
                .values()
                .filter(|o| {
                    o.get("user").and_then(|u| u.get("objectId").cloned()) == Some(json!(owner))
                        && o.get(other_key).and_then(|u| u.get("objectId").cloned())
                            == Some(json!(other))
                })
                .map(|o| o.id.to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// `user` follows `target` with `attributes`: a `_Followee` row (user, followee) and a
/// `_Follower` row (user: the target, follower: the user), readable by anyone.
pub fn follow(
    store: &mut Store,
    user: &str,
    target: &str,
    attributes: &Map<String, Value>,
    now: i64,
) -> Result<(), LcError> {
    if user == target {
        return Err(LcError::new(400, 1, "A user cannot follow themselves."));
    }
    if store.object("_User", target).is_none() {
        return Err(LcError::user_not_found());
    }
    unfollow(store, user, target);
    let acl = json!({"*": {"read": true}, user: {"write": true}, target: {"write": true}});
    for (class, owner, key, other) in [
        ("_Followee", user, "followee", target),
        ("_Follower", target, "follower", user),
    ] {
        let mut fields = attributes.clone();
        fields.insert("user".into(), pointer("_User", owner));
        fields.insert(key.into(), pointer("_User", other));
        fields.insert("ACL".into(), acl.clone());
        let id = store.ids.object_id(now);
        store.insert_object(class, StoredObject::new(id, now, now, &fields));
    }
    Ok(())
}

/// `user` no longer follows `target` (nothing when they did not).
pub fn unfollow(store: &mut Store, user: &str, target: &str) {
    for (class, owner, key, other) in [
        ("_Followee", user, "followee", target),
        ("_Follower", target, "follower", user),
    ] {
        for id in follow_rows(store, class, owner, key, other) {
            store.class_mut(class).remove(&id);
        }
    }
}

/// Every user's inboxes. Persistent: snapshots copy nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Inboxes {
    /// (owner, inbox type, messageId) -> the `_Status` objectId.
    #[serde(with = "crate::serde_pairs")]
    entries: OrdMap<(String, String, u64), String>,
    /// (owner, inbox type) -> the last messageId given.
    #[serde(with = "crate::serde_pairs")]
    last: OrdMap<(String, String), u64>,
    /// (owner, inbox type) -> how many arrived since the last reset.
    #[serde(with = "crate::serde_pairs")]
    unread: OrdMap<(String, String), u64>,
}

/// One inbox entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub message_id: u64,
    pub status_id: String,
}

impl Inboxes {
    /// Whether `other` is this very state (a copy that shares its maps).
    pub fn same(&self, other: &Inboxes) -> bool {
        self.entries.ptr_eq(&other.entries)
            && self.last.ptr_eq(&other.last)
            && self.unread.ptr_eq(&other.unread)
    }

    /// Put `status_id` in `owner`'s `inbox` under the next messageId.
    pub fn deliver(&mut self, owner: &str, inbox: &str, status_id: &str) -> u64 {
        let key = (owner.to_string(), inbox.to_string());
        let id = self.last.get(&key).copied().unwrap_or(0) + 1;
        self.last.insert(key.clone(), id);
        *self.unread.entry(key.clone()).or_insert(0) += 1;
        self.entries
            .insert((key.0.clone(), key.1.clone(), id), status_id.to_string());
        let held: Vec<u64> = self.ids(owner, inbox);
        if held.len() > MAX_INBOX_ENTRIES {
            for old in &held[..held.len() - MAX_INBOX_ENTRIES] {
                self.entries.remove(&(key.0.clone(), key.1.clone(), *old));
            }
        }
        id
    }

    fn ids(&self, owner: &str, inbox: &str) -> Vec<u64> {
        self.entries
            .range((owner.to_string(), inbox.to_string(), 0)..)
            .take_while(|((o, i, _), _)| o == owner && i == inbox)
            .map(|((_, _, m), _)| *m)
            .collect()
    }

    /// Entries of `owner`'s `inbox` newer than `since` and (when not 0) at most `max`,
    /// newest first.
    pub fn list(&self, owner: &str, inbox: &str, since: u64, max: u64) -> Vec<Entry> {
        let mut out: Vec<Entry> = self
            .entries
            .range((owner.to_string(), inbox.to_string(), since + 1)..)
            .take_while(|((o, i, m), _)| o == owner && i == inbox && (max == 0 || *m <= max))
            .map(|((_, _, m), s)| Entry {
                message_id: *m,
                status_id: s.clone(),
            })
            .collect();
        out.reverse();
        out
    }

    /// (total, unread) of `owner`'s `inbox`.
    pub fn count(&self, owner: &str, inbox: &str) -> (usize, u64) {
        let key = (owner.to_string(), inbox.to_string());
        (
            self.ids(owner, inbox).len(),
            self.unread.get(&key).copied().unwrap_or(0),
        )
    }

    pub fn reset_unread(&mut self, owner: &str, inbox: &str) {
        self.unread.remove(&(owner.to_string(), inbox.to_string()));
    }

    /// Take a status out of every inbox.
    pub fn remove_status(&mut self, status_id: &str) {
        let keys: Vec<(String, String, u64)> = self
            .entries
            .iter()
            .filter(|(_, s)| *s == status_id)
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            self.entries.remove(&k);
        }
    }

    /// Take one entry out of `owner`'s `inbox`; whether there was one.
    pub fn remove_entry(&mut self, owner: &str, inbox: &str, message_id: u64) -> bool {
        self.entries
            .remove(&(owner.to_string(), inbox.to_string(), message_id))
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_grow_per_inbox_and_reads_go_newest_first() {
        let mut boxes = Inboxes::default();
        assert_eq!(boxes.deliver("ann", "default", "s1"), 1);
        assert_eq!(boxes.deliver("ann", "default", "s2"), 2);
        assert_eq!(
            boxes.deliver("ann", "private", "s3"),
            1,
            "each inbox counts apart"
        );
        assert_eq!(boxes.deliver("bob", "default", "s1"), 1);
        let ids = |v: Vec<Entry>| v.into_iter().map(|e| e.message_id).collect::<Vec<_>>();
        assert_eq!(ids(boxes.list("ann", "default", 0, 0)), [2, 1]);
        assert_eq!(ids(boxes.list("ann", "default", 1, 0)), [2], "sinceId");
        assert_eq!(ids(boxes.list("ann", "default", 0, 1)), [1], "maxId");
        assert_eq!(boxes.count("ann", "default"), (2, 2));
        boxes.reset_unread("ann", "default");
        assert_eq!(boxes.count("ann", "default"), (2, 0));
        boxes.remove_status("s1");
        assert_eq!(ids(boxes.list("ann", "default", 0, 0)), [2]);
        assert_eq!(boxes.count("bob", "default").0, 0);
        assert!(boxes.remove_entry("ann", "default", 2));
        assert!(!boxes.remove_entry("ann", "default", 2));
        assert_eq!(
            boxes.deliver("ann", "default", "s4"),
            3,
            "ids are never reused"
        );
    }
}
