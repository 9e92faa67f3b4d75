//! A class's indexes: which rows hold a value, found without reading every row.
//!
//! A [`FieldIndex`] maps the *terms* of one column to the rows that hold them, in term
//! order and, for one term, in id order. A row's terms are what equality, `$in` and the
//! comparisons can match in it: its value, or for an array each element (and the array as
//! a whole); a row without the column, or with `null`, has the term `Null`. Terms order as
//! `order` sorts values (missing and null < numbers < strings < objects < arrays <
//! booleans < dates), so while no row of the column holds an object or an array, walking
//! the index walks the rows in the order an `order` on the column asks for.
//!
//! An index only ever proposes rows: the query tests every proposed row with the same
//! matcher a scan uses, so an index may propose too many (objects, arrays, pointers share
//! coarse terms) but never too few. That is what keeps indexed and scanned answers equal.
//!
//! A [`UniqueIndex`] maps the hash of a row's values for its keys (as
//! `leancloud::value::same_value` compares them) to the rows holding them; a write looks
//! its own values up and compares the few rows found.

use super::keys::Key;
use super::packed::{self, Val};
use super::{Id, StoredObject};
use crate::query::values::{Kind, classify};
use compact_str::CompactString;
use equivalent::{Comparable, Equivalent};
use imbl::OrdMap;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Bound;

/// One value of a column as an index holds it.
#[derive(Debug, Clone)]
pub(crate) enum Term {
    Null,
    Num(f64),
    Str(CompactString),
    /// A pointer, by the hash of its class and id.
    Pointer(u64),
    /// An object or an array, as a whole.
    Composite,
    Bool(bool),
    Date(i64),
}

impl Term {
    /// The rank `order` gives the value's type (see the module doc).
    pub(crate) fn rank(&self) -> u8 {
        match self {
            Term::Null => 0,
            Term::Num(_) => 1,
            Term::Str(_) => 2,
            Term::Pointer(_) | Term::Composite => 3,
            Term::Bool(_) => 5,
            Term::Date(_) => 6,
        }
    }

    pub(crate) fn pointer(class: &str, id: &str) -> Term {
        let mut h = DefaultHasher::new();
        class.hash(&mut h);
        id.hash(&mut h);
        Term::Pointer(h.finish())
    }

    /// The term of a scalar (or an array element); objects and arrays are `Composite`.
    pub(crate) fn of(kind: Kind<'_>) -> Term {
        match kind {
            Kind::Null => Term::Null,
            Kind::Bool(b) => Term::Bool(b),
            Kind::Num(n) => Term::Num(n),
            Kind::Str(s) => Term::Str(s.into()),
            Kind::Date(ms) => Term::Date(ms),
            Kind::Pointer(class, id) => Term::pointer(class, id),
            Kind::Array(_) | Kind::Object(_) => Term::Composite,
        }
    }
}

impl PartialEq for Term {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Term {}
impl PartialOrd for Term {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Term {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Term::Num(a), Term::Num(b)) => a.total_cmp(b),
            (Term::Str(a), Term::Str(b)) => a.cmp(b),
            (Term::Pointer(a), Term::Pointer(b)) => a.cmp(b),
            (Term::Bool(a), Term::Bool(b)) => a.cmp(b),
            (Term::Date(a), Term::Date(b)) => a.cmp(b),
            (Term::Pointer(_), Term::Composite) => Ordering::Less,
            (Term::Composite, Term::Pointer(_)) => Ordering::Greater,
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// One entry of a field index: a term and a row holding it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry {
    pub(crate) term: Term,
    pub(crate) id: Id,
}

/// Where a range of a field index starts or ends; never equal to an entry.
#[derive(Debug, Clone)]
pub(crate) enum At {
    /// Before every row holding this term.
    Before(Term),
    /// After every row holding this term.
    After(Term),
    /// Before every term of this rank.
    RankStart(u8),
    /// After every term of this rank.
    RankEnd(u8),
}

impl Equivalent<Entry> for At {
    fn equivalent(&self, _: &Entry) -> bool {
        false
    }
}

impl Comparable<Entry> for At {
    fn compare(&self, e: &Entry) -> Ordering {
        match self {
            At::Before(t) => t.cmp(&e.term).then(Ordering::Less),
            At::After(t) => t.cmp(&e.term).then(Ordering::Greater),
            At::RankStart(r) if *r <= e.term.rank() => Ordering::Less,
            At::RankStart(_) => Ordering::Greater,
            At::RankEnd(r) if *r < e.term.rank() => Ordering::Less,
            At::RankEnd(_) => Ordering::Greater,
        }
    }
}

/// A span of terms: rows holding a term from `from` to `to`.
#[derive(Debug, Clone)]
pub(crate) struct Span {
    pub(crate) from: At,
    pub(crate) to: At,
}

impl Span {
    /// The rows holding `term` exactly; numbers as `==` compares them (`-0` is `0`).
    pub(crate) fn equal(term: Term) -> Span {
        match term {
            Term::Num(0.0) => Span {
                from: At::Before(Term::Num(-0.0)),
                to: At::After(Term::Num(0.0)),
            },
            t => Span {
                from: At::Before(t.clone()),
                to: At::After(t),
            },
        }
    }
}

/// What a field index is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Column {
    CreatedAt,
    UpdatedAt,
    Field(Key),
}

/// The terms of one row for one column, and whether the row holds an array (several
/// terms) or an object, pointer or array (a term whose order is not `order`'s).
fn terms(column: &Column, obj: &StoredObject) -> (Vec<Term>, bool, bool) {
    let value = match column {
        Column::CreatedAt => return (vec![Term::Date(obj.created_at)], false, false),
        Column::UpdatedAt => return (vec![Term::Date(obj.updated_at)], false, false),
        Column::Field(key) => obj.fields.object().get_key(key),
    };
    let Some(value) = value else {
        return (vec![Term::Null], false, false);
    };
    match classify(value) {
        Kind::Array(items) => {
            let mut out = vec![Term::Composite];
            for item in items.iter() {
                let t = Term::of(classify(item));
                if !out.contains(&t) {
                    out.push(t);
                }
            }
            (out, true, true)
        }
        kind @ (Kind::Object(_) | Kind::Pointer(..)) => (vec![Term::of(kind)], false, true),
        kind => (vec![Term::of(kind)], false, false),
    }
}

/// An index on one column (see the module doc).
#[derive(Debug, Clone)]
pub(crate) struct FieldIndex {
    pub(crate) column: Column,
    entries: OrdMap<Entry, ()>,
    /// Rows holding an array.
    multi: usize,
    /// Rows holding an object, a pointer or an array.
    complex: usize,
}

impl FieldIndex {
    pub(crate) fn new(column: Column) -> FieldIndex {
        FieldIndex {
            column,
            entries: OrdMap::new(),
            multi: 0,
            complex: 0,
        }
    }

    pub(crate) fn add(&mut self, obj: &StoredObject) {
        let (terms, multi, complex) = terms(&self.column, obj);
        self.multi += usize::from(multi);
        self.complex += usize::from(complex);
        for term in terms {
            self.entries.insert(
                Entry {
                    term,
                    id: obj.id.clone(),
                },
                (),
            );
        }
    }

    pub(crate) fn remove(&mut self, obj: &StoredObject) {
        let (terms, multi, complex) = terms(&self.column, obj);
        self.multi -= usize::from(multi);
        self.complex -= usize::from(complex);
        for term in terms {
            self.entries.remove(&Entry {
                term,
                id: obj.id.clone(),
            });
        }
    }

    /// Whether a row changing from `old` to `new` changes its entries.
    pub(crate) fn moves(&self, old: &StoredObject, new: &StoredObject) -> bool {
        match &self.column {
            Column::CreatedAt => old.created_at != new.created_at,
            Column::UpdatedAt => old.updated_at != new.updated_at,
            Column::Field(key) => {
                let (a, b) = (
                    old.fields.object().get_key(key),
                    new.fields.object().get_key(key),
                );
                match (a, b) {
                    (None, None) => false,
                    (Some(a), Some(b)) => packed::total_cmp(a, b).is_ne() || !same_kind(a, b),
                    _ => true,
                }
            }
        }
    }

    /// Whether every row holds one term and terms order as `order` sorts.
    pub(crate) fn orderable(&self) -> bool {
        self.complex == 0
    }

    /// Whether some row holds several terms (an array).
    pub(crate) fn has_arrays(&self) -> bool {
        self.multi > 0
    }

    /// The entries within `span`, in order.
    pub(crate) fn span(&self, span: &Span) -> impl DoubleEndedIterator<Item = &Entry> {
        self.entries
            .range((
                Bound::Included(span.from.clone()),
                Bound::Included(span.to.clone()),
            ))
            .map(|(e, ())| e)
    }

    /// Every entry, in order.
    pub(crate) fn all(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.entries.keys()
    }
}

/// Whether two stored values are of one JSON kind (a number's `1` and `1.0` hold the same
/// term but not the same value; their terms are equal, so the index need not move).
fn same_kind(a: Val<'_>, b: Val<'_>) -> bool {
    std::mem::discriminant(&a) == std::mem::discriminant(&b)
}

/// Where a hash starts or ends among a unique index's entries.
struct HashAt(u64, Ordering);

impl Equivalent<(u64, Id)> for HashAt {
    fn equivalent(&self, _: &(u64, Id)) -> bool {
        false
    }
}

impl Comparable<(u64, Id)> for HashAt {
    fn compare(&self, e: &(u64, Id)) -> Ordering {
        self.0.cmp(&e.0).then(self.1)
    }
}

/// A unique index: the rows holding each combination of values of its keys.
#[derive(Debug, Clone)]
pub(crate) struct UniqueIndex {
    pub(crate) keys: Vec<String>,
    lookup: Vec<Key>,
    entries: OrdMap<(u64, Id), ()>,
}

impl UniqueIndex {
    pub(crate) fn new(keys: Vec<String>) -> UniqueIndex {
        UniqueIndex {
            lookup: keys
                .iter()
                .map(|k| {
                    super::keys::intern(k);
                    Key::new(k)
                })
                .collect(),
            keys,
            entries: OrdMap::new(),
        }
    }

    /// The hash of a stored row's values; `None` when one is missing or null (such rows
    /// are not indexed).
    fn hash_stored(&self, obj: &StoredObject) -> Option<u64> {
        let fields = obj.fields.object();
        let mut h = DefaultHasher::new();
        for key in &self.lookup {
            let v = fields.get_key(key).filter(|v| !v.is_null())?;
            packed::hash_val(v, &mut h);
        }
        Some(h.finish())
    }

    /// [`UniqueIndex::hash_stored`] for fields about to be written.
    pub(crate) fn hash_fields(&self, fields: &Map<String, Value>) -> Option<u64> {
        let mut h = DefaultHasher::new();
        for key in &self.keys {
            let v = fields.get(key).filter(|v| !v.is_null())?;
            packed::hash_json(v, &mut h);
        }
        Some(h.finish())
    }

    pub(crate) fn add(&mut self, obj: &StoredObject) {
        if let Some(h) = self.hash_stored(obj) {
            self.entries.insert((h, obj.id.clone()), ());
        }
    }

    pub(crate) fn remove(&mut self, obj: &StoredObject) {
        if let Some(h) = self.hash_stored(obj) {
            self.entries.remove(&(h, obj.id.clone()));
        }
    }

    /// The rows whose values hash as `h` (the same values, or a collision).
    pub(crate) fn holders(&self, h: u64) -> impl Iterator<Item = &Id> {
        self.entries
            .range((
                Bound::Included(HashAt(h, Ordering::Less)),
                Bound::Included(HashAt(h, Ordering::Greater)),
            ))
            .map(|((_, id), ())| id)
    }
}
