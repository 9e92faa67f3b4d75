//! The bounds every request stays within, in one place. The README's "Limits" table lists
//! each with the answer a request past it gets.
//!
//! Two kinds of bound:
//! - **Nesting** (paths, objects, includes, `where`): every walk of ours over these is
//!   recursive or allocates per level, so each is bounded before the walk starts. A request
//!   past one is refused before anything runs, and nothing is stored.
//! - **Work** (rows a query examines, subqueries, `$or`/`$and` branches): a request that
//!   would run long is cut off with 124, the code the service answers when a request runs
//!   past its time on the server, so that it never holds the store for long.
//!
//! JSON itself nests at most [`JSON_DEPTH`] levels: serde_json refuses deeper text when it
//! parses a body or a `where` (107), so no `Value` we receive is deeper than that.

use leancloud::LcError;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// serde_json's recursion limit when it parses text (not configurable without turning it
/// off): deeper bodies and `where`s are malformed JSON (107).
pub const JSON_DEPTH: usize = 128;

/// Segments of one dotted path: in `keys`, `include`, `where`, `order`, and the keys of an
/// update body. LeanCloud stores objects in MongoDB, which nests documents at most 100
/// levels deep, so a longer path names nothing the service can hold.
pub const MAX_PATH_SEGMENTS: usize = 100;

/// Levels of nesting of a stored object, counting the object itself as the first, as
/// MongoDB counts them (it refuses a document nested more than 100 levels).
pub const MAX_OBJECT_DEPTH: usize = 100;

/// Pointers one `include` path follows. No limit of the service's was found; this one
/// equals the path limit, and it also bounds a chain of objects that point at each other.
pub const MAX_INCLUDE_DEPTH: usize = 100;

/// Nesting of `$or`/`$and` and subqueries in one `where`: deeper is an invalid query (102).
pub const MAX_QUERY_DEPTH: usize = 32;

/// Subqueries (`$inQuery`, `$notInQuery`, `$select`, `$dontSelect`) in one `where`.
pub const MAX_SUBQUERIES: usize = 100;

/// Items of all the `$or` and `$and` arrays of one `where`, subqueries included.
pub const MAX_QUERY_BRANCHES: usize = 1000;

/// Work one query may do, in row checks: each row a query reads (every row for a scan,
/// the rows an index offers otherwise) costs the number of conditions it is tested
/// against, in the query and in every subquery; rendering a row costs the segments of its
/// `keys` and `include` paths. A release build examines some 2
/// to 10 million rows a second (the benchmark's count over a million rows with two
/// conditions, 2 million checks, takes about 0.4 s), so a query ends within a few seconds,
/// under the service's own 10 s; a million-row class scanned with up to ten conditions
/// stays within it.
pub const MAX_QUERY_WORK: u64 = 10_000_000;

/// Bytes (roughly: the JSON text's length) the objects an `include` expands may add to
/// one answer. Arrays of pointers multiply at every level of an include path, so a small
/// request could otherwise ask for the same object a billion times. Ten times what the
/// service returns for a query at most (6 MB, silently cut, per its storage FAQ).
pub const MAX_INCLUDE_BYTES: u64 = 64 * 1024 * 1024;

/// Distinct field names the process numbers (see `store::keys`): a stored object names a
/// numbered key in one or two bytes instead of its text. The table is shared by every app
/// of the process and never shrinks, so it is bounded; a name past it is stored in each
/// object that has it, which changes nothing a client sees.
pub const MAX_INTERNED_KEYS: usize = 65_536;

/// The longest field name that gets a number ([`MAX_INTERNED_KEYS`]), in bytes: column
/// names are short, and a long key (in a client's nested map) is rarely repeated.
pub const MAX_INTERNED_KEY_BYTES: usize = 64;

/// Named snapshots one app keeps (`POST /__mock/snapshots`). Each holds on to the data it
/// saw, so a client cannot make the app keep an unbounded number; saving under a name
/// already kept replaces it.
pub const MAX_SNAPSHOTS: usize = 64;

/// The longest snapshot name, in bytes.
pub const MAX_SNAPSHOT_NAME_BYTES: usize = 128;

/// What one query may still spend: [`MAX_QUERY_WORK`] and [`MAX_INCLUDE_BYTES`] to start
/// with. Shared by the threads of a parallel scan, so atomic. It goes wherever the query
/// goes (subqueries, includes), so it also carries how the query may find its rows.
#[derive(Debug)]
pub struct Budget {
    work: AtomicU64,
    included: AtomicU64,
    /// Set by the first charge that could not be paid.
    failed: AtomicBool,
    /// Whether the query may read rows through indexes (else it scans).
    indexes: bool,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(MAX_QUERY_WORK, MAX_INCLUDE_BYTES)
    }
}

impl Budget {
    pub fn new(work: u64, included_bytes: u64) -> Budget {
        Budget {
            work: AtomicU64::new(work),
            included: AtomicU64::new(included_bytes),
            failed: AtomicBool::new(false),
            indexes: true,
        }
    }

    /// The same budget for a query that reads rows by scanning only, never through an
    /// index: the same answers, found the slow way (to compare the two).
    pub fn without_indexes(mut self) -> Budget {
        self.indexes = false;
        self
    }

    /// Whether the query may read rows through indexes.
    pub fn uses_indexes(&self) -> bool {
        self.indexes
    }

    /// Spend `units` of work, or answer 124 when fewer are left (and leave none).
    pub fn charge(&self, units: u64) -> Result<(), LcError> {
        if self.try_charge(units) {
            Ok(())
        } else {
            Err(LcError::request_timeout())
        }
    }

    /// Spend `units` of work if that many are left; otherwise spend everything and say
    /// no, so that every later charge fails too.
    pub fn try_charge(&self, units: u64) -> bool {
        self.take(&self.work, units)
    }

    /// Spend `bytes` of included objects, as [`Budget::try_charge`] does work.
    pub fn try_include(&self, bytes: u64) -> bool {
        self.take(&self.included, bytes)
    }

    /// Included bytes still to be had.
    pub fn include_left(&self) -> u64 {
        self.included.load(Ordering::Relaxed)
    }

    fn take(&self, counter: &AtomicU64, units: u64) -> bool {
        let mut left = counter.load(Ordering::Relaxed);
        loop {
            let (next, ok) = match left.checked_sub(units) {
                Some(rest) => (rest, true),
                None => (0, false),
            };
            match counter.compare_exchange_weak(left, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) if ok => return true,
                Ok(_) => {
                    self.failed.store(true, Ordering::Relaxed);
                    return false;
                }
                Err(now) => left = now,
            }
        }
    }

    /// Whether a charge has failed: the work was cut off somewhere.
    pub fn exhausted(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// 124 once a charge has failed.
    pub fn check(&self) -> Result<(), LcError> {
        match self.exhausted() {
            true => Err(LcError::request_timeout()),
            false => Ok(()),
        }
    }
}

/// Roughly the length of `fields` as JSON text, or `None` once past `cap` (the walk stops
/// there, so measuring costs no more than what it allows). Iterative.
pub fn size_within(fields: &serde_json::Map<String, serde_json::Value>, cap: u64) -> Option<u64> {
    use serde_json::Value;
    let mut total: u64 = 2;
    let mut stack: Vec<&Value> = Vec::new();
    for (key, value) in fields {
        total += key.len() as u64 + 4;
        stack.push(value);
    }
    while let Some(v) = stack.pop() {
        total += match v {
            Value::String(s) => s.len() as u64 + 2,
            Value::Number(_) => 8,
            Value::Bool(_) | Value::Null => 5,
            Value::Array(items) => {
                stack.extend(items);
                2 + items.len() as u64
            }
            Value::Object(m) => {
                for (key, value) in m {
                    total += key.len() as u64 + 4;
                    stack.push(value);
                }
                2
            }
        };
        if total > cap {
            return None;
        }
    }
    (total <= cap).then_some(total)
}

/// The exact length of `value` as compact JSON text, counted as it is written, without
/// keeping the text (an object's size is checked on every write).
pub fn json_len<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Counting cannot fail, and JSON values always serialise.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Levels of nesting of a JSON value, the value itself being the first when it is an
/// object or an array (scalars are 0). Iterative, so any depth is safe to measure.
pub fn depth(value: &serde_json::Value) -> usize {
    use serde_json::Value;
    let mut deepest = 0;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 1)];
    while let Some((v, level)) = stack.pop() {
        match v {
            Value::Object(m) => stack.extend(m.values().map(|c| (c, level + 1))),
            Value::Array(items) => stack.extend(items.iter().map(|c| (c, level + 1))),
            _ => continue,
        }
        deepest = deepest.max(level);
    }
    deepest
}

/// The segments of a dotted path, refused past [`MAX_PATH_SEGMENTS`] with `err`. Counting
/// first means a path of any length costs one pass and no allocation before the answer.
pub fn check_path(path: &str, err: impl FnOnce(String) -> LcError) -> Result<(), LcError> {
    let segments = path.bytes().filter(|&b| b == b'.').count() + 1;
    if segments > MAX_PATH_SEGMENTS {
        return Err(err(format!(
            "the path '{}…' has {segments} segments, more than {MAX_PATH_SEGMENTS}",
            path.chars().take(40).collect::<String>()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use leancloud::error::code;
    use serde_json::json;

    #[test]
    fn a_budget_refuses_what_it_cannot_pay_and_everything_after() {
        let b = Budget::new(10, 100);
        assert!(b.try_charge(4));
        assert!(b.try_charge(6));
        assert!(!b.exhausted(), "spending everything is not running out");
        assert!(!b.try_charge(1));
        assert!(b.exhausted());
        assert_eq!(b.check().unwrap_err().code, code::TIMEOUT);
        let b = Budget::new(10, 100);
        assert!(!b.try_charge(11));
        assert!(!b.try_charge(1), "a failed charge leaves nothing");
        assert_eq!(b.charge(1).unwrap_err().code, code::TIMEOUT);
        let b = Budget::new(10, 100);
        assert!(b.try_include(100) && !b.try_include(1) && b.exhausted());
    }

    #[test]
    fn depth_counts_containers_and_survives_any_nesting() {
        assert_eq!(depth(&json!(1)), 0);
        assert_eq!(depth(&json!({})), 1);
        assert_eq!(depth(&json!({"a": [1, {"b": 2}]})), 3);
        let mut deep = json!(1);
        for _ in 0..100_000 {
            deep = serde_json::Value::Array(vec![deep]);
        }
        assert_eq!(depth(&deep), 100_000);
        // Dropping a value this deep recurses in serde_json; take it apart by hand.
        let mut v = deep;
        while let serde_json::Value::Array(mut items) = v {
            v = items.pop().unwrap_or_default();
        }
    }

    #[test]
    fn json_len_is_the_length_of_the_json_text() {
        let value = serde_json::json!({"a": [1, 2.5, null, true], "b": "é\"\n", "c": {}});
        assert_eq!(json_len(&value), serde_json::to_vec(&value).unwrap().len());
        assert_eq!(json_len(&serde_json::Value::Null), 4);
    }

    #[test]
    fn sizes_are_close_to_the_json_length_and_stop_at_the_cap() {
        let v = json!({"name": "Cafe", "tags": ["a", "b"], "at": {"x": 1, "ok": true}});
        let fields = v.as_object().unwrap();
        let text = serde_json::to_string(&v).unwrap().len() as u64;
        let size = size_within(fields, u64::MAX).unwrap();
        assert!(size >= text && size <= 2 * text, "{size} vs {text}");
        assert_eq!(size_within(fields, size), Some(size));
        assert_eq!(size_within(fields, size - 1), None);
    }

    #[test]
    fn paths_past_the_limit_are_refused_with_their_segment_count() {
        let ok = vec!["a"; MAX_PATH_SEGMENTS].join(".");
        assert!(check_path(&ok, LcError::generic).is_ok());
        let long = vec!["a"; 20_000].join(".");
        let e = check_path(&long, LcError::generic).unwrap_err();
        assert!(e.message.contains("20000 segments"), "{}", e.message);
    }
}
