//! What changed between two snapshots of an app, found by comparing pointers: a class,
//! a map or a subtree the two share is skipped without a look inside. After one request
//! this costs a few tree nodes whatever the app's size; the durable store (`--data`)
//! writes exactly these changes.

use super::{ClassData, Id, RelationKey, Services, Snapshot, StoredObject};
use crate::files::Blob;
use imbl::{HashMap, OrdSet};
use std::hash::Hash;
use std::sync::Arc;

/// One change from an older snapshot to a newer one.
#[derive(Debug)]
pub enum Change<'a> {
    /// A class that is new, or whose columns or settings changed: its columns and
    /// settings now (its rows come as [`Change::Row`]s).
    Class(&'a str, &'a ClassData),
    /// A class that is gone, with every row it had.
    ClassGone(&'a str),
    /// A row added or replaced (`Some`), or removed (`None`).
    Row(&'a str, &'a Id, Option<&'a Arc<StoredObject>>),
    /// A relation's targets now, or `None` when it is gone.
    Relation(&'a RelationKey, Option<&'a OrdSet<String>>),
    /// A session token's user now, or `None` when it is gone.
    Session(&'a str, Option<&'a str>),
    /// A user's password hash now, or `None` when it is gone.
    Password(&'a str, Option<&'a str>),
    /// A part of the services' state that changed (one of [`Services::PARTS`]), to be
    /// kept whole: see [`Services::part_json`].
    Service(&'static str, &'a Services),
    /// A file's bytes added or replaced (`Some`), or removed (`None`).
    Blob(&'a str, Option<&'a Arc<Blob>>),
}

impl Snapshot {
    /// Whether the two hold the very same data (the same maps, by pointer; failed log-ins
    /// aside): true means [`Snapshot::changes_since`] finds nothing, at the cost of a
    /// dozen pointer comparisons.
    pub fn same_data(&self, other: &Snapshot) -> bool {
        self.classes.ptr_eq(&other.classes)
            && self.relations.ptr_eq(&other.relations)
            && self.sessions.ptr_eq(&other.sessions)
            && self.passwords.ptr_eq(&other.passwords)
            && self.services.same(&other.services)
    }

    /// Everything that differs from `old` to `self`. Not kept: failed log-in counts (a
    /// lockout lasts minutes).
    pub fn changes_since<'a>(&'a self, old: &'a Snapshot) -> Vec<Change<'a>> {
        let mut out = Vec::new();
        if !self.classes.ptr_eq(&old.classes) {
            for (name, data) in &self.classes {
                match old.classes.get(name) {
                    Some(before) if Arc::ptr_eq(before, data) => {}
                    Some(before) => {
                        if before.columns != data.columns || before.settings != data.settings {
                            out.push(Change::Class(name, data));
                        }
                        for (id, row) in data.objects.changes_since(&before.objects) {
                            out.push(Change::Row(name, id, row));
                        }
                    }
                    None => {
                        out.push(Change::Class(name, data));
                        for (id, _) in data.objects.iter() {
                            let row = data.objects.get_shared(id);
                            out.push(Change::Row(name, id, row));
                        }
                    }
                }
            }
            for name in old.classes.keys() {
                if !self.classes.contains_key(name) {
                    out.push(Change::ClassGone(name));
                }
            }
        }
        map_changes(&old.relations, &self.relations, |k, v| {
            out.push(Change::Relation(k, v))
        });
        map_changes(&old.sessions, &self.sessions, |k, v| {
            out.push(Change::Session(k, v.map(String::as_str)))
        });
        map_changes(&old.passwords, &self.passwords, |k, v| {
            out.push(Change::Password(k, v.map(String::as_str)))
        });
        for name in self.services.changed_parts(&old.services) {
            out.push(Change::Service(name, &self.services));
        }
        if !self.services.files.same_blobs(&old.services.files) {
            for (key, blob) in self.services.files.blob_changes_since(&old.services.files) {
                out.push(Change::Blob(key, blob));
            }
        }
        out
    }
}

/// Entries of `new` that `old` lacks or holds otherwise, then keys `new` lost. Shared
/// maps are skipped at once; others are compared entry by entry (these maps change on
/// sign-ups, log-ins and relation edits, not on every write).
fn map_changes<'a, K, V>(
    old: &'a HashMap<K, V>,
    new: &'a HashMap<K, V>,
    mut out: impl FnMut(&'a K, Option<&'a V>),
) where
    K: Hash + Eq + Clone,
    V: PartialEq + Clone,
{
    if old.ptr_eq(new) {
        return;
    }
    for (k, v) in new {
        if old.get(k) != Some(v) {
            out(k, Some(v));
        }
    }
    for k in old.keys() {
        if !new.contains_key(k) {
            out(k, None);
        }
    }
}
