//! Field names, interned: a stored object names each key by a small number, so that the
//! name is held once per process instead of once per object, and a query compares numbers
//! instead of strings while it reads a row.
//!
//! The table only grows, and it is shared by every app of the process, so it is bounded:
//! at most [`MAX_INTERNED_KEYS`] names of at most [`MAX_INTERNED_KEY_BYTES`] bytes. A name
//! past either bound is stored in the object itself (see `packed`); nothing a client sees
//! depends on which.
//!
//! Reading a name back (rendering, comparing an entry whose number is unknown to a query)
//! takes no lock: names live in fixed slots filled once.

use crate::limits::{MAX_INTERNED_KEY_BYTES, MAX_INTERNED_KEYS};
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

/// Slots per chunk of the name table; chunks are allocated as they fill.
const CHUNK: usize = 1024;
const CHUNKS: usize = MAX_INTERNED_KEYS.div_ceil(CHUNK);

/// Names the rules read on every row, given fixed numbers so that code can name them
/// without a lookup.
const WELL_KNOWN: [&str; 10] = [
    "__type",
    "iso",
    "className",
    "objectId",
    "ACL",
    "read",
    "write",
    "*",
    "latitude",
    "longitude",
];
pub(crate) const TYPE: u32 = 0;
pub(crate) const ISO: u32 = 1;
pub(crate) const CLASS_NAME: u32 = 2;
pub(crate) const OBJECT_ID: u32 = 3;
pub(crate) const ACL: u32 = 4;
pub(crate) const READ: u32 = 5;
pub(crate) const WRITE: u32 = 6;
pub(crate) const LATITUDE: u32 = 8;
pub(crate) const LONGITUDE: u32 = 9;

struct Table {
    ids: RwLock<HashMap<&'static str, u32>>,
    names: [OnceLock<Box<[OnceLock<&'static str>]>>; CHUNKS],
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let table = Table {
            ids: RwLock::new(HashMap::new()),
            names: [const { OnceLock::new() }; CHUNKS],
        };
        {
            let mut ids = table.ids.write().unwrap_or_else(|e| e.into_inner());
            for name in WELL_KNOWN {
                add(&table, &mut ids, name);
            }
        }
        table
    })
}

fn slot(table: &Table, sym: usize) -> &OnceLock<&'static str> {
    let chunk =
        table.names[sym / CHUNK].get_or_init(|| (0..CHUNK).map(|_| OnceLock::new()).collect());
    &chunk[sym % CHUNK]
}

fn add(table: &Table, ids: &mut HashMap<&'static str, u32>, name: &str) -> Option<u32> {
    let next = ids.len();
    if next >= MAX_INTERNED_KEYS || name.len() > MAX_INTERNED_KEY_BYTES {
        return None;
    }
    let leaked: &'static str = Box::leak(name.into());
    // The slot is filled before the number is handed out, so whoever holds a number finds
    // its name.
    let _ = slot(table, next).set(leaked);
    let sym = u32::try_from(next).ok()?;
    ids.insert(leaked, sym);
    Some(sym)
}

/// The number of `name`, if it has one (never gives it one).
pub(crate) fn lookup(name: &str) -> Option<u32> {
    let ids = table().ids.read().unwrap_or_else(|e| e.into_inner());
    ids.get(name).copied()
}

/// The number of `name`, given one if the table has room; `None`: store it inline.
pub(crate) fn intern(name: &str) -> Option<u32> {
    if let Some(sym) = lookup(name) {
        return Some(sym);
    }
    let table = table();
    let mut ids = table.ids.write().unwrap_or_else(|e| e.into_inner());
    match ids.get(name) {
        Some(&sym) => Some(sym),
        None => add(table, &mut ids, name),
    }
}

/// The name of a number handed out by [`intern`].
pub(crate) fn name(sym: u32) -> &'static str {
    slot(table(), sym as usize)
        .get()
        .copied()
        .unwrap_or_default()
}

/// A key as a query looks it up in many rows: its name and, resolved once, its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    name: Box<str>,
    sym: Option<u32>,
}

impl Key {
    pub fn new(name: &str) -> Key {
        Key {
            name: name.into(),
            sym: lookup(name),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn sym(&self) -> Option<u32> {
        self.sym
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_names_have_their_numbers_and_names_round_trip() {
        for (i, n) in WELL_KNOWN.iter().enumerate() {
            assert_eq!(intern(n), Some(i as u32));
            assert_eq!(name(i as u32), *n);
        }
        let sym = intern("a_name_only_this_test_uses").unwrap();
        assert_eq!(lookup("a_name_only_this_test_uses"), Some(sym));
        assert_eq!(name(sym), "a_name_only_this_test_uses");
        assert_eq!(intern("a_name_only_this_test_uses"), Some(sym));
        assert_eq!(lookup("a name nobody interned"), None);
        let long = "x".repeat(MAX_INTERNED_KEY_BYTES + 1);
        assert_eq!(intern(&long), None, "long names stay inline");
    }
}
