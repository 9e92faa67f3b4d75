//! A cheap, comparable summary of everything an app stores, taken before and after each
//! request: one hash per object (its id, dates and fields) and one for the rest
//! (columns, class settings, relation links, sessions, password hashes).
//!
//! Left out on purpose: the recent failed log-ins per user (`Store::login_failures`),
//! which a refused log-in records by design (the lockout, code 219), and the id
//! generator's and clock's state.
//!
//! Values are walked with an explicit stack: a stored value may be nested as deep as a
//! dotted key made it, and the fingerprint must not overflow where the api did not.
//!
//! The hash is a small multiply-rotate one ([`Fx`]), not std's SipHash: it runs after
//! every request, and SipHash's generic code, built without optimisation in test
//! builds, made the fingerprint cost five times the request. Nothing here is
//! adversarial; 64 bits make an accidental collision unlikely enough.

use lc_model::Store;
use serde_json::Value;
use std::hash::{Hash, Hasher};

/// A multiply-rotate hash over 8-byte words (as rustc's FxHasher).
#[derive(Default)]
struct Fx(u64);

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
        }
        let mut last = [0u8; 8];
        let rest = chunks.remainder();
        last[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(last) ^ ((bytes.len() as u64) << 56));
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The summary. Equal prints: nothing stored changed (up to hash collisions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Print {
    /// `(hash of class and id, hash of the object)`, sorted.
    objects: Vec<(u64, u64)>,
    rest: u64,
}

fn hash_value(value: &Value, h: &mut Fx) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Null => h.write_u8(0),
            Value::Bool(b) => h.write_u8(if *b { 2 } else { 1 }),
            Value::Number(n) => {
                h.write_u8(3);
                if let Some(i) = n.as_i64() {
                    h.write_i64(i);
                } else if let Some(u) = n.as_u64() {
                    h.write_u64(u);
                } else {
                    h.write_u64(n.as_f64().unwrap_or(f64::NAN).to_bits());
                }
            }
            Value::String(s) => {
                h.write_u8(4);
                s.hash(h);
            }
            Value::Array(items) => {
                h.write_u8(5);
                h.write_usize(items.len());
                stack.extend(items.iter().rev());
            }
            Value::Object(map) => {
                h.write_u8(6);
                h.write_usize(map.len());
                for (k, _) in map {
                    k.hash(h);
                }
                stack.extend(map.values().rev());
            }
        }
    }
}

fn hash_of(item: impl Hash) -> u64 {
    let mut h = Fx::default();
    item.hash(&mut h);
    h.finish()
}

/// The summary of `store` now.
pub fn of(store: &Store) -> Print {
    let mut objects = Vec::new();
    // Hash maps are summed, so that their iteration order does not matter.
    let mut rest: u64 = 0;
    for (class, data) in &store.classes {
        for obj in data.objects.values() {
            let mut h = Fx::default();
            obj.created_at.hash(&mut h);
            obj.updated_at.hash(&mut h);
            for (k, v) in &obj.to_map() {
                k.hash(&mut h);
                hash_value(v, &mut h);
            }
            objects.push((hash_of((class, &obj.id)), h.finish()));
        }
        let mut h = Fx::default();
        class.hash(&mut h);
        for (name, column) in &data.columns {
            name.hash(&mut h);
            (&column.kind, &column.class_name).hash(&mut h);
            (column.read_only, column.hidden, column.required).hash(&mut h);
            if let Some(default) = &column.default {
                hash_value(default, &mut h);
            }
        }
        let settings = &data.settings;
        format!("{:?}", settings.permissions).hash(&mut h);
        settings.unique.hash(&mut h);
        if let Some(acl) = &settings.default_acl {
            hash_value(acl, &mut h);
        }
        rest = rest.wrapping_add(h.finish());
    }
    objects.sort_unstable();
    for (key, targets) in &store.relations {
        rest = rest.wrapping_add(hash_of((1u8, key, targets)));
    }
    for session in &store.sessions {
        rest = rest.wrapping_add(hash_of((2u8, session)));
    }
    for password in &store.passwords {
        rest = rest.wrapping_add(hash_of((3u8, password)));
    }
    Print { objects, rest }
}

impl Print {
    /// What differs from `before`, in words, objects named from `store` (which holds the
    /// `self` state).
    pub fn diff(&self, before: &Print, store: &Store) -> String {
        let name = |key: u64| {
            store
                .classes
                .iter()
                .flat_map(|(c, d)| d.objects.keys().map(move |id| (c, id)))
                .find(|(c, id)| hash_of((*c, *id)) == key)
                .map(|(c, id)| format!("{c}/{id}"))
        };
        let mut out = Vec::new();
        let old: std::collections::HashMap<u64, u64> = before.objects.iter().copied().collect();
        let new: std::collections::HashMap<u64, u64> = self.objects.iter().copied().collect();
        for (key, content) in &new {
            match old.get(key) {
                None => out.push(format!(
                    "added {}",
                    name(*key).unwrap_or_else(|| "?".into())
                )),
                Some(c) if c != content => out.push(format!(
                    "changed {}",
                    name(*key).unwrap_or_else(|| "?".into())
                )),
                Some(_) => {}
            }
        }
        let removed = old.keys().filter(|k| !new.contains_key(k)).count();
        if removed > 0 {
            out.push(format!("{removed} object(s) removed"));
        }
        if self.rest != before.rest {
            out.push("columns, settings, relations, sessions or passwords changed".into());
        }
        out.truncate(8);
        out.join("; ")
    }
}
