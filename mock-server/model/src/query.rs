//! Queries: `where` evaluation, `order`, `limit`/`skip`, `count`.
//!
//! A find compiles its `where` once into a [`Matcher`] (subqueries run at that point),
//! filters the class with it, then picks the requested window with a partial selection
//! (only `skip + limit` rows get fully sorted) and renders only the rows returned.
//!
//! Rules where the protocol notes say "not found" (choices, kept in one place):
//! - `limit`/`skip` that are not integers are invalid queries (102); negative `skip` is 0.
//! - `{"k": null}` and `$in: [null]` also match rows without `k` (MongoDB's rule).
//! - `order` across mixed types follows MongoDB: missing = null < numbers < strings <
//!   objects < arrays < booleans < dates; ties keep creation order.
//! - A subquery on a class that does not exist selects nothing.
//! - A subquery reads its class as a find by the same caller would: the class's `find`
//!   permission applies (403 `Forbidden to find by class permissions.` for the whole
//!   query; `$select` and `$inQuery` alike), and rows the caller may not read are left out.
//! - A column hidden from the caller (field permission `hidden`, no master key) is absent
//!   wherever a query names it: in `where` (dot paths, `$or`/`$and`, subqueries), in
//!   `order`, as the `key` of `$select`. The service hides such a column from clients; a
//!   condition on it therefore cannot depend on its values, which would let a client read
//!   them one `$regex` at a time. Refusing instead would break a client that sends the
//!   same query with and without the master key, so it matches as a missing field does.
//! - Bounds (see [`crate::limits`]): paths of more than `MAX_PATH_SEGMENTS` segments and
//!   nesting past `MAX_QUERY_DEPTH` are invalid (102); more than `MAX_SUBQUERIES`
//!   subqueries or `MAX_QUERY_BRANCHES` `$or`/`$and` items, or more work than
//!   `MAX_QUERY_WORK`, time out (124) before the work is done.
//!
//! - Indexes (see `plan` and `store::index`) change how many rows a query reads, never
//!   which rows it finds or in what order: every row an index proposes is tested as a
//!   scan tests it. The work budget pays for the rows read, so a query an index answers
//!   costs less of it than a scan.
//!
//! Submodules: `values` (paths, typed comparisons, sort keys), `matcher` (the compiled
//! tree), `plan` (which rows to read: indexes, or a scan), `scan` (the filtering pass,
//! split across cores on large classes), `pattern` (`$regex`), `geo` (`$nearSphere`,
//! `$within`).

mod geo;
mod matcher;
mod pattern;
mod plan;
mod scan;
pub(crate) mod values;

use crate::limits::Budget;
use crate::presentation::{Plan, View};
use crate::store::{Store, StoredObject};
use geo::NearSort;
use leancloud::LcError;
use matcher::{Compiler, Node};
use serde_json::{Map, Value};
use values::{Path, SortKey};

/// Rows a find returns when no `limit` is given, and instead of an out-of-range one.
pub const DEFAULT_LIMIT: usize = 100;
/// The most rows one find (or subquery) returns.
pub const MAX_LIMIT: usize = 1000;

/// One sort key: field name and direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    pub key: String,
    pub descending: bool,
}

impl OrderKey {
    /// `order=a,-b` (spaces around keys tolerated, empty entries skipped).
    pub fn parse_list(text: &str) -> Vec<OrderKey> {
        text.split(',')
            .map(str::trim)
            .filter_map(|k| match k.strip_prefix('-') {
                Some(key) => (!key.is_empty()).then(|| OrderKey {
                    key: key.to_string(),
                    descending: true,
                }),
                None => (!k.is_empty()).then(|| OrderKey {
                    key: k.to_string(),
                    descending: false,
                }),
            })
            .collect()
    }
}

/// Parsed find parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct FindParams {
    pub r#where: Value,
    pub order: Vec<OrderKey>,
    pub limit: usize,
    pub skip: usize,
    pub count: bool,
    pub view: View,
}

impl FindParams {
    /// From URL query parameters as sent (`where` is JSON text). The first occurrence of
    /// a parameter wins.
    pub fn from_query(params: &[(String, String)]) -> Result<Self, LcError> {
        FindParams::from_json(&query_map(params))
    }

    /// From batch `params` (a JSON object; `where` may be an object or JSON text; numbers
    /// and flags may be JSON values or strings).
    pub fn from_json(params: &Map<String, Value>) -> Result<Self, LcError> {
        let window = Window::from_json(params)?;
        Ok(FindParams {
            r#where: where_value(params.get("where"))?,
            order: window.order,
            limit: window.limit,
            skip: window.skip,
            count: truthy(params.get("count")),
            view: View::from_json(params)?,
        })
    }
}

/// URL query parameters as a JSON object of strings, first occurrence winning.
pub(crate) fn query_map(params: &[(String, String)]) -> Map<String, Value> {
    let mut map = Map::new();
    for (k, v) in params {
        if !map.contains_key(k) {
            map.insert(k.clone(), Value::String(v.clone()));
        }
    }
    map
}

/// `true`, `1`, `"true"`, `"1"` (any case) are on; anything else is off.
pub(crate) fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
        Some(Value::String(s)) => {
            let s = s.trim();
            s == "1" || s.eq_ignore_ascii_case("true")
        }
        _ => false,
    }
}

/// A `where` as given: absent, null or empty text mean everything; text must be JSON.
pub fn where_value(v: Option<&Value>) -> Result<Value, LcError> {
    match v {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(Value::Object(_) | Value::Array(_)) => Ok(v.cloned().unwrap_or_default()),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(Value::Object(Map::new())),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Null) => Ok(Value::Object(Map::new())),
            Ok(parsed @ (Value::Object(_) | Value::Array(_))) => Ok(parsed),
            _ => Err(LcError::invalid_json()),
        },
        Some(_) => Err(LcError::invalid_json()),
    }
}

/// `order`, `limit`, `skip` of a find or a subquery, with the limit rules applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Window {
    pub order: Vec<OrderKey>,
    pub limit: usize,
    pub skip: usize,
}

impl Window {
    pub(crate) fn from_json(params: &Map<String, Value>) -> Result<Window, LcError> {
        let limit = match integer(params.get("limit"), "limit")? {
            None => DEFAULT_LIMIT,
            Some(0) => 0,
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .unwrap_or(DEFAULT_LIMIT),
        };
        let skip = integer(params.get("skip"), "skip")?
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0);
        let order = match params.get("order") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => OrderKey::parse_list(s),
            Some(Value::Array(items)) => {
                let mut keys = Vec::new();
                for item in items {
                    let s = item
                        .as_str()
                        .ok_or_else(|| LcError::invalid_query("order must be a string"))?;
                    keys.extend(OrderKey::parse_list(s));
                }
                keys
            }
            Some(_) => return Err(LcError::invalid_query("order must be a string")),
        };
        for key in &order {
            crate::limits::check_path(&key.key, LcError::invalid_query)?;
        }
        Ok(Window { order, limit, skip })
    }
}

/// An integer parameter given as a JSON number or as text; `None` when absent or empty.
/// Huge values saturate (and are then out of range); non-integers are invalid (102).
fn integer(v: Option<&Value>, name: &str) -> Result<Option<i64>, LcError> {
    let from_f64 = |f: f64| (f.is_finite() && f.fract() == 0.0).then_some(f as i64);
    let parsed = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().and_then(from_f64)),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(from_f64))
        }
        Some(_) => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| LcError::invalid_query(format!("{name} must be an integer")))
}

/// What a find returns: rendered rows and, when asked, the count of all matches.
#[derive(Debug, Clone, PartialEq)]
pub struct FindResult {
    pub results: Vec<Value>,
    pub count: Option<usize>,
}

/// Who runs a query, as the query sees them.
pub trait Access {
    /// Whether they may see this row (its ACL). Filters before skip/limit/count, in
    /// subqueries and includes too.
    fn may_read(&self, class: &str, obj: &StoredObject) -> bool;

    /// Whether they may query `class` from inside another query (its `find` class
    /// permission): a subquery reads the class as a find would.
    fn may_find(&self, _store: &Store, _class: &str) -> Result<(), LcError> {
        Ok(())
    }

    /// Whether the column `key` of `class` is hidden from them (a `hidden` field
    /// permission, and no master key).
    fn hides(&self, _store: &Store, _class: &str, _key: &str) -> bool {
        false
    }

    /// Whether they may read every row of `class`, whatever its ACL (the master key): a
    /// count of the whole class is then the row count the class keeps.
    fn reads_every_row(&self, _class: &str) -> bool {
        false
    }
}

/// The reader who sees every row, class and column, and says so (so counts of whole
/// classes need no scan): the master key's own reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Everything;

impl Access for Everything {
    fn may_read(&self, _class: &str, _obj: &StoredObject) -> bool {
        true
    }

    fn reads_every_row(&self, _class: &str) -> bool {
        true
    }
}

/// A bare `(class, object) -> bool` reads the rows it lets through, in every class and
/// every column: the master key's scans, hooks' view of an object, tests.
impl<F: Fn(&str, &StoredObject) -> bool> Access for F {
    fn may_read(&self, class: &str, obj: &StoredObject) -> bool {
        self(class, obj)
    }
}

/// The caller of a query.
pub type Reader<'a> = &'a dyn Access;

/// Run a query on a class. A class that does not exist has no rows (callers that must
/// answer 101 check existence first). The query may do [`crate::limits::MAX_QUERY_WORK`]
/// work and include [`crate::limits::MAX_INCLUDE_BYTES`] at most (124 past either).
pub fn find(
    store: &Store,
    class: &str,
    params: &FindParams,
    reader: Reader<'_>,
) -> Result<FindResult, LcError> {
    find_within(store, class, params, reader, Budget::default())
}

/// [`find`] paid from `budget`, which also says whether indexes may be used (see
/// [`Budget::without_indexes`]: the same answers, read by scanning).
pub fn find_within(
    store: &Store,
    class: &str,
    params: &FindParams,
    reader: Reader<'_>,
    budget: Budget,
) -> Result<FindResult, LcError> {
    let matcher = Matcher::compile_within(store, class, &params.r#where, reader, &budget)?;
    let window = Window {
        order: params.order.clone(),
        limit: params.limit,
        skip: params.skip,
    };
    let (rows, total) = select_rows(
        store,
        class,
        &matcher,
        &window,
        params.count,
        reader,
        &budget,
    )?;
    let plan = Plan::new(&params.view);
    let results = rows
        .into_iter()
        .map(|obj| plan.render(store, obj, reader, &budget))
        .collect();
    budget.check()?;
    Ok(FindResult {
        results,
        count: params.count.then_some(total),
    })
}

/// The rows of `class` that match and are visible, in the window's order, `skip`ped and
/// `limit`ed; plus the number of all such rows when `want_total` (0 otherwise). Each row
/// examined costs the matcher's weight (124 when the budget cannot pay for it).
pub(crate) fn select_rows<'s>(
    store: &'s Store,
    class: &str,
    matcher: &Matcher,
    window: &Window,
    want_total: bool,
    reader: Reader<'_>,
    budget: &Budget,
) -> Result<(Vec<&'s StoredObject>, usize), LcError> {
    let Some(data) = store.class(class) else {
        return Ok((Vec::new(), 0));
    };
    let near = match window.order.is_empty() {
        true => matcher.near.as_ref(),
        false => None,
    };
    let sorted = near.is_some() || !window.order.is_empty();
    let (skip, limit) = (window.skip, window.limit);
    let end = skip.saturating_add(limit);

    // A count of the whole class by who reads every row: the count the class keeps.
    if matches!(matcher.root, Node::All)
        && want_total
        && reader.reads_every_row(class)
        && (!sorted || limit == 0)
    {
        let rows = data.objects.values().skip(skip).take(limit).collect();
        return Ok((rows, data.objects.len()));
    }

    // An `order` whose first key has an index in its order is walked, unless an index
    // offers few enough candidates to sort (counting them stops at that many).
    let indexed = budget.uses_indexes();
    let walk = match (
        indexed && !want_total && near.is_none(),
        window.order.first(),
    ) {
        (true, Some(first)) => {
            plan::walk_for(data, &Path::for_reader(&first.key, store, class, reader))
        }
        _ => None,
    };
    let cap = match walk {
        Some(_) => walk_threshold(end).min(data.objects.len()),
        None => data.objects.len(),
    };
    let offer = match indexed {
        true => plan::offer(data, &matcher.root, cap),
        false => None,
    };
    if let (Some(walk), None) = (&walk, &offer) {
        return walk_rows(store, class, data, matcher, window, walk, reader, budget);
    }
    let rows: Vec<&'s StoredObject> = match offer {
        Some(offer) => offer.rows(data),
        None if !sorted && !want_total => {
            // Natural (creation) order and nobody counts: stop at the end of the window,
            // paying row by row for the rows examined.
            return first_rows(
                data.objects.values(),
                class,
                matcher,
                window,
                reader,
                budget,
            );
        }
        None => data.objects.values().collect(),
    };
    if !sorted && !want_total {
        return first_rows(rows.into_iter(), class, matcher, window, reader, budget);
    }

    // Every row read is examined: paid before the pass starts, so a query too costly is
    // refused at once instead of after the work.
    budget.charge((rows.len() as u64).saturating_mul(matcher.weight))?;

    // The first sort key (or the distance) is read in the same pass as the `where`, while
    // the row is in cache. The other keys are read later, only for the rows that can
    // still make the window.
    let mut paths: Vec<(Path, bool)> = match near {
        Some(_) => Vec::new(),
        None => window
            .order
            .iter()
            .map(|k| (Path::for_reader(&k.key, store, class, reader), k.descending))
            .collect(),
    };
    let first = (!paths.is_empty()).then(|| paths.remove(0));
    let extract = |obj: &'s StoredObject, keys: &mut Vec<SortKey<'s>>| {
        keys.push(match (near, &first) {
            (Some(n), _) => SortKey::Num(n.distance(obj)),
            (None, Some((path, _))) => SortKey::of(path.resolve(obj)),
            (None, None) => SortKey::Missing,
        });
    };
    let (mut matched, mut firsts) = scan::matching(&rows, matcher, sorted.then_some(&extract));
    let width = usize::from(sorted);
    scan::retain_visible(&mut matched, &mut firsts, width, |obj| {
        reader.may_read(class, obj)
    });
    let total = matched.len();
    let end = end.min(total);
    if skip >= end {
        return Ok((Vec::new(), total));
    }
    if !sorted {
        return Ok((matched[skip..end].to_vec(), total));
    }

    // Partial selection on the first key: the rows at or before the `end`-th one.
    let first_desc = first.as_ref().is_some_and(|(_, d)| *d);
    let by_first = |a: usize, b: usize| {
        let o = firsts[a].total_cmp(&firsts[b]);
        if first_desc { o.reverse() } else { o }
    };
    let mut candidates: Vec<usize> = (0..total).collect();
    if end < total {
        candidates.select_nth_unstable_by(end - 1, |&a, &b| by_first(a, b).then(a.cmp(&b)));
        let boundary = candidates[end - 1];
        let (head, tail) = candidates.split_at(end);
        let ties = tail
            .iter()
            .copied()
            .filter(|&i| by_first(i, boundary).is_eq());
        candidates = head.iter().copied().chain(ties).collect();
    }

    // The remaining keys, for the candidates only; then a full sort of those.
    let order = sort_rest(&matched, &candidates, &paths, &by_first, budget)?;
    let rows = order[skip..end]
        .iter()
        .map(|&j| matched[candidates[j]])
        .collect();
    Ok((rows, total))
}

/// How many candidate rows an index may offer before walking an `order` index instead
/// is likely to read fewer: a walk reads about the window, divided by the share of rows
/// that match.
fn walk_threshold(end: usize) -> usize {
    end.saturating_mul(16).max(256)
}

/// `candidates` (indices into `matched`, which is in id order) sorted by the first key
/// (`by_first`), then by `paths`, then by position: the order of the positions.
fn sort_rest<'s>(
    matched: &[&'s StoredObject],
    candidates: &[usize],
    paths: &[(Path, bool)],
    by_first: &dyn Fn(usize, usize) -> std::cmp::Ordering,
    budget: &Budget,
) -> Result<Vec<usize>, LcError> {
    let rest = paths.len();
    budget.charge((candidates.len() as u64).saturating_mul(rest as u64))?;
    let more: Vec<SortKey<'s>> = candidates
        .iter()
        .flat_map(|&i| {
            let obj: &'s StoredObject = matched[i];
            paths.iter().map(move |(p, _)| SortKey::of(p.resolve(obj)))
        })
        .collect();
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        let (ra, rb) = (candidates[a], candidates[b]);
        by_first(ra, rb)
            .then_with(|| {
                paths
                    .iter()
                    .enumerate()
                    .map(|(j, (_, desc))| {
                        let o = more[a * rest + j].total_cmp(&more[b * rest + j]);
                        if *desc { o.reverse() } else { o }
                    })
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .then(ra.cmp(&rb))
    });
    Ok(order)
}

/// The window of `rows` (in id order) that match and are visible, stopping once it is
/// full; each row examined is paid for.
fn first_rows<'s>(
    rows: impl Iterator<Item = &'s StoredObject>,
    class: &str,
    matcher: &Matcher,
    window: &Window,
    reader: Reader<'_>,
    budget: &Budget,
) -> Result<(Vec<&'s StoredObject>, usize), LcError> {
    let mut out = Vec::new();
    let mut skipped = 0;
    for obj in rows {
        if out.len() >= window.limit {
            break;
        }
        budget.charge(matcher.weight)?;
        if matcher.matches(obj) && reader.may_read(class, obj) {
            if skipped < window.skip {
                skipped += 1;
            } else {
                out.push(obj);
            }
        }
    }
    Ok((out, 0))
}

/// The window read along an index on the first `order` key: groups of rows with equal
/// values in the key's order, until the window is full and its last group complete;
/// then the rows of those groups sorted by the other keys (ties in id order).
#[allow(clippy::too_many_arguments)]
fn walk_rows<'s>(
    store: &'s Store,
    class: &str,
    data: &'s crate::store::ClassData,
    matcher: &Matcher,
    window: &Window,
    walk: &plan::Walk<'s>,
    reader: Reader<'_>,
    budget: &Budget,
) -> Result<(Vec<&'s StoredObject>, usize), LcError> {
    let end = window.skip.saturating_add(window.limit);
    let mut matched: Vec<&'s StoredObject> = Vec::new();
    let mut group_of: Vec<usize> = Vec::new();
    if end > 0 {
        for (g, group) in plan::groups(data, walk, window.order[0].descending).enumerate() {
            for obj in group {
                budget.charge(matcher.weight)?;
                if matcher.matches(obj) && reader.may_read(class, obj) {
                    matched.push(obj);
                    group_of.push(g);
                }
            }
            if matched.len() >= end {
                break;
            }
        }
    }
    let total = matched.len();
    let end = end.min(total);
    if window.skip >= end {
        return Ok((Vec::new(), 0));
    }
    let paths: Vec<(Path, bool)> = window.order[1..]
        .iter()
        .map(|k| (Path::for_reader(&k.key, store, class, reader), k.descending))
        .collect();
    let candidates: Vec<usize> = (0..total).collect();
    let by_first = |a: usize, b: usize| group_of[a].cmp(&group_of[b]);
    let order = sort_rest(&matched, &candidates, &paths, &by_first, budget)?;
    let rows = order[window.skip..end]
        .iter()
        .map(|&j| matched[j])
        .collect();
    Ok((rows, 0))
}

/// A compiled `where`: subqueries already evaluated against the store.
#[derive(Debug)]
pub struct Matcher {
    root: Node,
    /// Set by a top-level `$nearSphere`: results go nearest first unless ordered.
    near: Option<NearSort>,
    /// What testing one row costs, in [`Budget`] units: its number of conditions.
    weight: u64,
}

impl Matcher {
    /// Compile a `where` seeing every row, class and column (tests).
    pub fn compile(store: &Store, class: &str, r#where: &Value) -> Result<Matcher, LcError> {
        Matcher::compile_for(store, class, r#where, &|_: &str, _: &StoredObject| true)
    }

    /// Compile a `where` as `reader` runs it (a conditional write's): its subqueries read
    /// only the classes and rows `reader` may, and columns hidden from `reader` are
    /// absent. The subqueries may do [`crate::limits::MAX_QUERY_WORK`] work at most.
    pub fn compile_for(
        store: &Store,
        class: &str,
        r#where: &Value,
        reader: Reader<'_>,
    ) -> Result<Matcher, LcError> {
        Matcher::compile_within(store, class, r#where, reader, &Budget::default())
    }

    /// [`Matcher::compile_for`], its subqueries paid from `budget`.
    pub fn compile_within(
        store: &Store,
        class: &str,
        r#where: &Value,
        reader: Reader<'_>,
        budget: &Budget,
    ) -> Result<Matcher, LcError> {
        let mut compiler = Compiler::new(store, class, reader, budget);
        let root = compiler.compile(r#where, 0, true)?;
        Ok(compiler.finish(root))
    }

    pub fn matches(&self, obj: &StoredObject) -> bool {
        self.root.matches(obj)
    }
}
