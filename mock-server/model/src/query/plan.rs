//! The query planner: which rows a find reads, and in what order.
//!
//! A compiled `where` is a tree of conditions. The planner looks at the conditions every
//! matching row must meet (the top level and the items of `$and`; each branch of an
//! `$or`) for one it can answer from an index (`store::index`): equality, `$in`, `$all`,
//! `$lt`/`$lte`/`$gt`/`$gte`, `$inQuery`, `$relatedTo`, and equality or `$in` on
//! `objectId`. Each gives a set of candidate rows that holds every row that can match; the
//! smallest is read, and every candidate is still tested by the matcher, as a scan tests
//! every row. So the planner decides how much is read, never what is found.
//!
//! An `order` whose first key has an index in `order`'s own order (no object or array in
//! the column) is walked in that order when no count is asked for and no small candidate
//! set exists: the walk stops once the window is full and the last tie is complete, so
//! `order` + `limit` reads a handful of rows instead of sorting the class.
//!
//! Without an index that applies, the class is scanned, as before.

use super::matcher::{CmpOp, Cond, Node, ValueSet};
use super::values::{OpKind, Operand, Path};
use crate::store::index::{At, Column, FieldIndex, Span, Term};
use crate::store::{ClassData, Id, StoredObject};
use std::cmp::Ordering;

/// How many candidates of each `$and` item are counted first (then sixteen times as many,
/// and so on): enough for the selective lookups a planner is for.
const FIRST_COUNT: usize = 64;

/// Where a candidate set's rows come from: ids given outright, or spans of an index.
#[derive(Debug)]
enum Source<'s, 'm> {
    Ids(Vec<&'m str>),
    Spans(&'s FieldIndex, Vec<Span>),
}

impl Source<'_, '_> {
    /// How many ids the source yields, counting no further than `cap`.
    fn size(&self, cap: usize) -> usize {
        match self {
            Source::Ids(ids) => ids.len(),
            Source::Spans(index, spans) => {
                let mut n = 0;
                for span in spans {
                    n += index.span(span).take(cap.saturating_sub(n) + 1).count();
                    if n > cap {
                        break;
                    }
                }
                n
            }
        }
    }
}

/// A set of candidate rows: the union of its sources.
#[derive(Debug)]
pub(crate) struct Offer<'s, 'm> {
    sources: Vec<Source<'s, 'm>>,
    /// Ids the sources yield, counted up to the cap the offer was made with (past it, the
    /// cap plus one).
    pub(crate) size: usize,
}

impl<'s> Offer<'s, '_> {
    /// The candidate rows, in id order, each once.
    pub(crate) fn rows(self, data: &'s ClassData) -> Vec<&'s StoredObject> {
        let mut ids: Vec<&str> = Vec::with_capacity(self.size);
        for source in self.sources {
            match source {
                Source::Ids(given) => ids.extend(given),
                Source::Spans(index, spans) => {
                    for span in &spans {
                        ids.extend(index.span(span).map(|e| e.id.as_str()));
                    }
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .filter_map(|id| data.objects.get(id))
            .collect()
    }
}

/// The smallest candidate set an index offers for `root`, if any, counting each no
/// further than `cap` (an offer of `cap` rows or more is no better than a scan).
pub(crate) fn offer<'s, 'm>(
    data: &'s ClassData,
    root: &'m Node,
    cap: usize,
) -> Option<Offer<'s, 'm>> {
    node(data, root, cap).filter(|o| o.size < cap)
}

fn node<'s, 'm>(data: &'s ClassData, n: &'m Node, cap: usize) -> Option<Offer<'s, 'm>> {
    match n {
        Node::All => None,
        Node::IdIn(ids) => {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            Some(Offer {
                size: ids.len(),
                sources: vec![Source::Ids(ids)],
            })
        }
        Node::And(nodes) => {
            // Counting stops at the best offer so far; starting low keeps a large first
            // offer from being counted to its end when a later one is small.
            let mut limit = FIRST_COUNT.min(cap);
            loop {
                let mut best: Option<Offer<'s, 'm>> = None;
                for n in nodes {
                    let within = best.as_ref().map_or(limit, |b| b.size);
                    if let Some(o) = node(data, n, within)
                        && o.size < within
                    {
                        best = Some(o);
                    }
                }
                if best.is_some() || limit >= cap {
                    return best;
                }
                limit = limit.saturating_mul(16).min(cap);
            }
        }
        Node::Or(nodes) => {
            let mut all = Offer {
                sources: Vec::new(),
                size: 0,
            };
            for n in nodes {
                let o = node(data, n, cap.saturating_sub(all.size))?;
                all.size += o.size;
                all.sources.extend(o.sources);
                if all.size > cap {
                    return None;
                }
            }
            Some(all)
        }
        Node::Field(field) => field_offer(data, &field.path, &field.conds, cap),
    }
}

fn field_offer<'s, 'm>(
    data: &'s ClassData,
    path: &'m Path,
    conds: &'m [Cond],
    cap: usize,
) -> Option<Offer<'s, 'm>> {
    let index = match path {
        Path::ObjectId => return id_offer(conds),
        Path::CreatedAt => data.objects.date_index(&Column::CreatedAt)?,
        Path::UpdatedAt => data.objects.date_index(&Column::UpdatedAt)?,
        Path::Field(segments) => match segments.as_slice() {
            [key] => data.objects.field_index(key.name())?,
            _ => return None,
        },
        Path::Hidden(_) => return None,
    };
    let mut best: Option<Offer<'s, 'm>> = None;
    let mut consider = |spans: Vec<Span>| {
        let limit = best.as_ref().map_or(cap, |b| b.size);
        let source = Source::Spans(index, spans);
        let size = source.size(limit);
        if best.as_ref().is_none_or(|b| size < b.size) {
            best = Some(Offer {
                sources: vec![source],
                size,
            });
        }
    };
    // `$gt`/`$gte` with `$lt`/`$lte` on one column make one span, unless a row may hold an
    // array: one element may meet the lower bound and another the upper one.
    let (mut lower, mut upper) = (None, None);
    for cond in conds {
        if let Cond::Cmp(op, operand) = cond
            && !index.has_arrays()
        {
            let span = compare(*op, operand);
            match op {
                CmpOp::Gt | CmpOp::Gte => lower = lower.or(span),
                CmpOp::Lt | CmpOp::Lte => upper = upper.or(span),
            }
            continue;
        }
        if let Some(spans) = spans_of(cond) {
            consider(spans);
        }
    }
    match (lower, upper) {
        (Some(lo), Some(hi)) => {
            if before_or_at(&lo.from, &hi.to) {
                consider(vec![Span {
                    from: lo.from,
                    to: hi.to,
                }]);
            } else {
                consider(Vec::new());
            }
        }
        (Some(one), None) | (None, Some(one)) => consider(vec![one]),
        (None, None) => {}
    }
    best
}

/// `objectId` equality and `$in`: the ids themselves.
fn id_offer<'s>(conds: &[Cond]) -> Option<Offer<'s, '_>> {
    let ids: Vec<&str> = conds.iter().find_map(|cond| match cond {
        Cond::Eq(Operand {
            kind: OpKind::Str(s),
            ..
        }) => Some(vec![s.as_str()]),
        // An id is a string: only the strings of the set can equal it.
        Cond::In(set) => Some(set.strings.iter().map(String::as_str).collect()),
        _ => None,
    })?;
    Some(Offer {
        size: ids.len(),
        sources: vec![Source::Ids(ids)],
    })
}

/// The term an operand equals.
fn term(op: &Operand) -> Term {
    match &op.kind {
        OpKind::Null => Term::Null,
        OpKind::Bool(b) => Term::Bool(*b),
        OpKind::Num(n) => Term::Num(*n),
        OpKind::Str(s) => Term::Str(s.as_str().into()),
        OpKind::Date(ms) => Term::Date(*ms),
        OpKind::Pointer(class, id) => Term::pointer(class, id),
        OpKind::Composite => Term::Composite,
    }
}

/// The spans holding every row `cond` can match, when an index can say.
fn spans_of(cond: &Cond) -> Option<Vec<Span>> {
    match cond {
        Cond::Eq(op) => Some(vec![Span::equal(term(op))]),
        Cond::In(set) => Some(set_spans(set)),
        // Every operand must match: the rows matching the first are enough; no operand
        // matches nothing.
        Cond::All(ops) => Some(
            ops.first()
                .map(|op| Span::equal(term(op)))
                .into_iter()
                .collect(),
        ),
        Cond::Cmp(op, operand) => compare(*op, operand).map(|s| vec![s]),
        Cond::PointerIn { class, ids } => Some(
            ids.iter()
                .map(|id| Span::equal(Term::pointer(class, id)))
                .collect(),
        ),
        _ => None,
    }
}

fn set_spans(set: &ValueSet) -> Vec<Span> {
    let mut spans: Vec<Span> = set
        .strings
        .iter()
        .map(|s| Span::equal(Term::Str(s.as_str().into())))
        .collect();
    spans.extend(set.others.iter().map(|op| Span::equal(term(op))));
    if set.has_null {
        spans.push(Span::equal(Term::Null));
    }
    spans
}

/// The span a comparison accepts: values of the operand's type on the right side of it.
/// Numbers compare as `partial_cmp` does, for which `-0` is `0`.
fn compare(op: CmpOp, operand: &Operand) -> Option<Span> {
    let t = term(operand);
    let rank = t.rank();
    let (low, high) = match t {
        Term::Num(0.0) => (Term::Num(-0.0), Term::Num(0.0)),
        Term::Num(_) | Term::Str(_) | Term::Bool(_) | Term::Date(_) => (t.clone(), t),
        _ => return None,
    };
    Some(match op {
        CmpOp::Gt => Span {
            from: At::After(high),
            to: At::RankEnd(rank),
        },
        CmpOp::Gte => Span {
            from: At::Before(low),
            to: At::RankEnd(rank),
        },
        CmpOp::Lt => Span {
            from: At::RankStart(rank),
            to: At::Before(low),
        },
        CmpOp::Lte => Span {
            from: At::RankStart(rank),
            to: At::After(high),
        },
    })
}

/// Whether position `a` comes no later than `b` (so `a..=b` is a valid range).
fn before_or_at(a: &At, b: &At) -> bool {
    fn key(at: &At) -> (u8, u8, Option<&Term>, u8) {
        match at {
            At::RankStart(r) => (*r, 0, None, 0),
            At::Before(t) => (t.rank(), 1, Some(t), 0),
            At::After(t) => (t.rank(), 1, Some(t), 1),
            At::RankEnd(r) => (*r, 2, None, 0),
        }
    }
    key(a).cmp(&key(b)) != Ordering::Greater
}

/// An index that walks the rows in the order `key` sorts them (first key of an `order`),
/// if the class has one: `None` for `objectId`, which the rows' own order gives.
pub(crate) enum Walk<'s> {
    ById,
    Index(&'s FieldIndex),
}

pub(crate) fn walk_for<'s>(data: &'s ClassData, path: &Path) -> Option<Walk<'s>> {
    let index = match path {
        Path::ObjectId => return Some(Walk::ById),
        Path::CreatedAt => data.objects.date_index(&Column::CreatedAt)?,
        Path::UpdatedAt => data.objects.date_index(&Column::UpdatedAt)?,
        Path::Field(segments) => match segments.as_slice() {
            [key] => data.objects.field_index(key.name())?,
            _ => return None,
        },
        Path::Hidden(_) => return None,
    };
    index.orderable().then_some(Walk::Index(index))
}

/// Rows in `walk`'s order, grouped by equal values of the key: each group's rows in id
/// order (ties keep creation order, in either direction).
pub(crate) fn groups<'s>(
    data: &'s ClassData,
    walk: &Walk<'s>,
    descending: bool,
) -> Box<dyn Iterator<Item = Vec<&'s StoredObject>> + 's> {
    match walk {
        Walk::ById => {
            let rows = data.objects.values();
            if descending {
                Box::new(rows.rev().map(|r| vec![r]))
            } else {
                Box::new(rows.map(|r| vec![r]))
            }
        }
        Walk::Index(index) => {
            let entries: Box<dyn Iterator<Item = &'s crate::store::index::Entry>> = if descending {
                Box::new(index.all().rev())
            } else {
                Box::new(index.all())
            };
            let mut entries = entries.peekable();
            Box::new(std::iter::from_fn(move || {
                let first = entries.next()?;
                let mut ids: Vec<&'s Id> = vec![&first.id];
                while let Some(next) = entries.next_if(|e| e.term == first.term) {
                    ids.push(&next.id);
                }
                if descending {
                    ids.reverse();
                }
                Some(
                    ids.into_iter()
                        .filter_map(|id| data.objects.get(id))
                        .collect(),
                )
            }))
        }
    }
}
