//! The compiled form of a `where`: a tree of conditions. Compiling checks every operator
//! shape, builds every regex, parses every date and runs every subquery (`$select`,
//! `$inQuery`, `$relatedTo`) once, so testing a row does no parsing at all.

use super::geo::{EARTH_RADIUS_KM, EARTH_RADIUS_MILES, GeoBox, GeoPoint, Near, NearSort};
use super::values::{Found, Kind, OpKind, Operand, Path, classify, cmp_field, eq_kind, field_eq};
use super::{Reader, pattern};
use crate::limits::{Budget, MAX_QUERY_BRANCHES, MAX_QUERY_DEPTH, MAX_SUBQUERIES, check_path};
use crate::store::{Store, StoredObject, Val};
use leancloud::LcError;
use regex::Regex;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashSet};

#[derive(Debug)]
pub(crate) enum Node {
    All,
    And(Vec<Node>),
    Or(Vec<Node>),
    Field(FieldNode),
    /// `$relatedTo`: the row is one of these relation targets.
    IdIn(BTreeSet<String>),
}

/// Every condition holds for the value at the path (resolved once).
#[derive(Debug)]
pub(crate) struct FieldNode {
    pub(crate) path: Path,
    pub(crate) conds: Vec<Cond>,
}

impl FieldNode {
    fn new(path: Path, conds: Vec<Cond>) -> FieldNode {
        FieldNode { path, conds }
    }

    fn matches(&self, obj: &StoredObject) -> bool {
        let found = self.path.resolve(obj);
        self.conds.iter().all(|c| c.test(found))
    }
}

impl Node {
    pub(crate) fn matches(&self, obj: &StoredObject) -> bool {
        match self {
            Node::All => true,
            Node::And(nodes) => nodes.iter().all(|n| n.matches(obj)),
            Node::Or(nodes) => nodes.iter().any(|n| n.matches(obj)),
            Node::Field(field) => field.matches(obj),
            Node::IdIn(ids) => ids.contains(obj.id.as_str()),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum CmpOp {
    Lt,
    Lte,
    Gt,
    Gte,
}

impl CmpOp {
    fn accept(self) -> fn(Ordering) -> bool {
        match self {
            CmpOp::Lt => Ordering::is_lt,
            CmpOp::Lte => Ordering::is_le,
            CmpOp::Gt => Ordering::is_gt,
            CmpOp::Gte => Ordering::is_ge,
        }
    }
}

/// A set of values for `$in` and `$select`; strings hashed, since long id lists are the
/// common case.
#[derive(Debug, Default)]
pub(crate) struct ValueSet {
    pub(crate) strings: HashSet<String>,
    pub(crate) others: Vec<Operand>,
    pub(crate) has_null: bool,
}

impl ValueSet {
    fn new(operands: Vec<Operand>) -> ValueSet {
        let mut set = ValueSet::default();
        for op in operands {
            match op.kind {
                OpKind::Str(s) => {
                    set.strings.insert(s);
                }
                OpKind::Null => set.has_null = true,
                _ => set.others.push(op),
            }
        }
        set
    }

    fn contains_kind(&self, k: Kind<'_>) -> bool {
        match k {
            Kind::Str(s) => self.strings.contains(s),
            Kind::Null => self.has_null,
            _ => self.others.iter().any(|op| eq_kind(k, op)),
        }
    }

    /// A missing field counts as null (MongoDB's rule).
    fn contains(&self, found: Option<Found<'_>>) -> bool {
        let Some(found) = found else {
            return self.has_null;
        };
        let k = found.kind();
        self.contains_kind(k)
            || match k {
                Kind::Array(items) => items.iter().any(|i| self.contains_kind(classify(i))),
                _ => false,
            }
    }
}

#[derive(Debug)]
pub(crate) enum Cond {
    /// Equality; on an array, any element. `null` also matches a missing field.
    Eq(Operand),
    Cmp(CmpOp, Operand),
    In(ValueSet),
    All(Vec<Operand>),
    Exists(bool),
    Size(usize),
    Regex(Regex),
    PointerIn {
        class: String,
        ids: HashSet<String>,
    },
    Near(Near),
    Within(GeoBox),
    Not(Box<Cond>),
}

impl Cond {
    fn test(&self, found: Option<Found<'_>>) -> bool {
        match self {
            Cond::Eq(op) => match found {
                None => op.kind == OpKind::Null,
                Some(f) => field_eq(f, op),
            },
            Cond::Cmp(c, op) => found.is_some_and(|f| cmp_field(f, op, c.accept())),
            Cond::In(set) => set.contains(found),
            Cond::All(ops) => {
                found.is_some_and(|f| !ops.is_empty() && ops.iter().all(|op| field_eq(f, op)))
            }
            Cond::Exists(wanted) => found.is_some() == *wanted,
            Cond::Size(n) => matches!(found, Some(Found::Val(Val::Array(a))) if a.len() == *n),
            Cond::Regex(re) => match found {
                Some(Found::Id(s)) => re.is_match(s),
                Some(Found::Val(Val::Str(s))) => re.is_match(s),
                Some(Found::Val(Val::Array(items))) => items
                    .iter()
                    .any(|i| i.as_str().is_some_and(|s| re.is_match(s))),
                _ => false,
            },
            Cond::PointerIn { class, ids } => {
                let hit =
                    |k: Kind<'_>| matches!(k, Kind::Pointer(c, i) if c == class && ids.contains(i));
                found.is_some_and(|f| match f.kind() {
                    Kind::Array(items) => items.iter().any(|i| hit(classify(i))),
                    k => hit(k),
                })
            }
            Cond::Near(near) => found.is_some_and(|f| near.test(f)),
            Cond::Within(b) => found.is_some_and(|f| b.test(f)),
            Cond::Not(inner) => !inner.test(found),
        }
    }
}

/// Compiles one `where` (and its subqueries) against a store, as `reader` runs it.
pub(crate) struct Compiler<'a> {
    store: &'a Store,
    /// The class being queried (relation fields are looked up in it).
    class: &'a str,
    reader: Reader<'a>,
    /// What the subqueries' scans are paid from.
    budget: &'a Budget,
    /// The first `$nearSphere` outside any `$or`: it orders results by distance.
    near: Option<NearSort>,
    /// Conditions compiled so far: what testing one row costs.
    weight: u64,
    /// Subqueries and `$or`/`$and` items seen so far in the whole `where`, subqueries'
    /// own included (an inner compiler starts from its outer one's counts).
    subqueries: usize,
    branches: usize,
}

fn invalid(detail: impl std::fmt::Display) -> LcError {
    LcError::invalid_query(detail)
}

fn as_array<'v>(v: &'v Value, op: &str) -> Result<&'v Vec<Value>, LcError> {
    v.as_array()
        .ok_or_else(|| invalid(format!("{op} expects an array")))
}

fn as_number(v: &Value, op: &str) -> Result<f64, LcError> {
    v.as_f64()
        .ok_or_else(|| invalid(format!("{op} expects a number")))
}

impl<'a> Compiler<'a> {
    pub(crate) fn new(
        store: &'a Store,
        class: &'a str,
        reader: Reader<'a>,
        budget: &'a Budget,
    ) -> Compiler<'a> {
        Compiler {
            store,
            class,
            reader,
            budget,
            near: None,
            weight: 0,
            subqueries: 0,
            branches: 0,
        }
    }

    /// The matcher of a compiled root.
    pub(crate) fn finish(self, root: Node) -> super::Matcher {
        super::Matcher {
            root,
            near: self.near,
            weight: self.weight.max(1),
        }
    }

    /// Count `n` more `$or`/`$and` items: past [`MAX_QUERY_BRANCHES`] the query would run
    /// too long (124), refused before any of them runs.
    fn branch(&mut self, n: usize) -> Result<(), LcError> {
        self.branches = self.branches.saturating_add(n);
        if self.branches > MAX_QUERY_BRANCHES {
            return Err(LcError::request_timeout());
        }
        Ok(())
    }

    /// A `where` key as a path; a column hidden from the reader is absent.
    fn path(&self, key: &str) -> Result<Path, LcError> {
        check_path(key, invalid)?;
        Ok(Path::for_reader(key, self.store, self.class, self.reader))
    }

    /// A whole `where`: object, array (implicit `$and`) or null (everything).
    pub(crate) fn compile(&mut self, v: &Value, depth: usize, top: bool) -> Result<Node, LcError> {
        match v {
            Value::Null => Ok(Node::All),
            Value::Object(m) => self.object(m, depth, top),
            Value::Array(items) => {
                self.branch(items.len())?;
                let nodes = items
                    .iter()
                    .map(|item| match item {
                        Value::Object(m) => self.object(m, depth + 1, top),
                        _ => Err(invalid("a where array must hold objects")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Node::And(nodes))
            }
            _ => Err(LcError::invalid_json()),
        }
    }

    fn object(&mut self, m: &Map<String, Value>, depth: usize, top: bool) -> Result<Node, LcError> {
        if depth > MAX_QUERY_DEPTH {
            return Err(invalid(format!(
                "$or, $and and subqueries nested more than {MAX_QUERY_DEPTH} deep"
            )));
        }
        let mut nodes = Vec::with_capacity(m.len());
        for (key, value) in m {
            let node = match key.as_str() {
                "$or" | "$and" => {
                    let items = as_array(value, key)?;
                    if items.is_empty() {
                        return Err(invalid(format!("{key} expects a non-empty array")));
                    }
                    self.branch(items.len())?;
                    let is_or = key == "$or";
                    let subs = items
                        .iter()
                        .map(|item| match item {
                            Value::Object(sub) => self.object(sub, depth + 1, top && !is_or),
                            _ => Err(invalid(format!("{key} expects an array of objects"))),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    if is_or {
                        Node::Or(subs)
                    } else {
                        Node::And(subs)
                    }
                }
                "$relatedTo" => {
                    self.weight += 1;
                    self.related_to(value)?
                }
                op if op.starts_with('$') => {
                    return Err(invalid(format!("unknown operator: {op}")));
                }
                _ => self.field(key, value, depth, top)?,
            };
            nodes.push(node);
        }
        Ok(match nodes.len() {
            0 => Node::All,
            1 => nodes.pop().unwrap_or(Node::All),
            _ => Node::And(nodes),
        })
    }

    /// `{"$relatedTo": {"object": <Pointer>, "key": "<relation field>"}}`.
    fn related_to(&mut self, v: &Value) -> Result<Node, LcError> {
        let bad = || invalid("$relatedTo expects {\"object\": <Pointer>, \"key\": <string>}");
        let m = v.as_object().ok_or_else(bad)?;
        let key = m.get("key").and_then(Value::as_str).ok_or_else(bad)?;
        let object = m.get("object").and_then(Value::as_object).ok_or_else(bad)?;
        let class = object
            .get("className")
            .and_then(Value::as_str)
            .ok_or_else(bad)?;
        let id = object
            .get("objectId")
            .and_then(Value::as_str)
            .ok_or_else(bad)?;
        // A relation hidden from the caller has no members they may learn of.
        if self.reader.hides(self.store, class, key) {
            return Ok(Node::IdIn(BTreeSet::new()));
        }
        let targets = self
            .store
            .relation_targets(class, id, key)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default();
        Ok(Node::IdIn(targets))
    }

    /// `{"<relation>": <Pointer>}` matches the objects whose relation holds the pointer
    /// ("which roles contain this user": `{"users": <Pointer _User>}`). Looks through
    /// every relation of the app: paid from the budget.
    fn relation_member(&self, key: &str, v: &Value) -> Option<Result<Node, LcError>> {
        let column = self.store.class(self.class)?.columns.get(key)?;
        if column.kind != "Relation" || v.get("__type")?.as_str()? != "Pointer" {
            return None;
        }
        if let Err(e) = self.budget.charge(self.store.relations.len() as u64) {
            return Some(Err(e));
        }
        let target = v.get("objectId")?.as_str()?;
        let owners = self
            .store
            .relations
            .iter()
            .filter(|((c, _, k), targets)| c == self.class && k == key && targets.contains(target))
            .map(|((_, owner, _), _)| owner.clone())
            .collect();
        Some(Ok(Node::IdIn(owners)))
    }

    fn field(&mut self, key: &str, v: &Value, depth: usize, top: bool) -> Result<Node, LcError> {
        let path = self.path(key)?;
        if !matches!(path, Path::Hidden(_))
            && let Some(node) = self.relation_member(key, v)
        {
            self.weight += 1;
            return node;
        }
        let conds = match v {
            Value::Object(m) if m.keys().any(|k| k.starts_with('$')) => {
                self.operators(&path, m, depth, top)?
            }
            _ => vec![Cond::Eq(Operand::new(v, &path)?)],
        };
        self.weight += conds.len() as u64;
        Ok(Node::Field(FieldNode::new(path, conds)))
    }

    fn operand(&self, path: &Path, v: &Value) -> Result<Operand, LcError> {
        Operand::new(v, path)
    }

    fn operands(&self, path: &Path, v: &Value, op: &str) -> Result<Vec<Operand>, LcError> {
        as_array(v, op)?
            .iter()
            .map(|item| self.operand(path, item))
            .collect()
    }

    fn operators(
        &mut self,
        path: &Path,
        m: &Map<String, Value>,
        depth: usize,
        top: bool,
    ) -> Result<Vec<Cond>, LcError> {
        let mut conds = Vec::with_capacity(m.len());
        let (mut regex, mut options) = (None, None);
        let (mut near, mut max, mut min) = (None, None, None);
        for (op, arg) in m {
            let cond = match op.as_str() {
                "$ne" => Cond::Not(Box::new(Cond::Eq(self.operand(path, arg)?))),
                "$lt" | "$lte" | "$gt" | "$gte" => {
                    let operand = self.operand(path, arg)?;
                    if !operand.is_ordered() {
                        return Err(invalid(format!(
                            "{op} expects a number, string, boolean or date"
                        )));
                    }
                    let c = match op.as_str() {
                        "$lt" => CmpOp::Lt,
                        "$lte" => CmpOp::Lte,
                        "$gt" => CmpOp::Gt,
                        _ => CmpOp::Gte,
                    };
                    Cond::Cmp(c, operand)
                }
                "$in" => Cond::In(ValueSet::new(self.operands(path, arg, op)?)),
                "$nin" => Cond::Not(Box::new(Cond::In(ValueSet::new(
                    self.operands(path, arg, op)?,
                )))),
                "$all" => Cond::All(self.operands(path, arg, op)?),
                "$exists" => Cond::Exists(
                    arg.as_bool()
                        .ok_or_else(|| invalid("$exists expects a boolean"))?,
                ),
                "$size" => {
                    let n = arg
                        .as_u64()
                        .ok_or_else(|| invalid("$size expects a non-negative integer"))?;
                    Cond::Size(usize::try_from(n).unwrap_or(usize::MAX))
                }
                "$regex" => {
                    regex = Some(
                        arg.as_str()
                            .ok_or_else(|| invalid("$regex expects a string"))?,
                    );
                    continue;
                }
                "$options" => {
                    options = Some(
                        arg.as_str()
                            .ok_or_else(|| invalid("$options expects a string"))?,
                    );
                    continue;
                }
                "$select" | "$dontSelect" => {
                    let set = self.select(arg, op, depth)?;
                    if op == "$select" {
                        Cond::In(set)
                    } else {
                        Cond::Not(Box::new(Cond::In(set)))
                    }
                }
                "$inQuery" | "$notInQuery" => {
                    let (class, rows) = self.subquery(arg, op, depth)?;
                    let ids = rows.into_iter().map(|o| o.id.to_string()).collect();
                    let cond = Cond::PointerIn { class, ids };
                    if op == "$inQuery" {
                        cond
                    } else {
                        Cond::Not(Box::new(cond))
                    }
                }
                "$nearSphere" => {
                    near = Some(GeoPoint::operand(arg, op)?);
                    continue;
                }
                "$maxDistance" | "$maxDistanceInRadians" => {
                    max = Some(as_number(arg, op)?);
                    continue;
                }
                "$maxDistanceInKilometers" => {
                    max = Some(as_number(arg, op)? / EARTH_RADIUS_KM);
                    continue;
                }
                "$maxDistanceInMiles" => {
                    max = Some(as_number(arg, op)? / EARTH_RADIUS_MILES);
                    continue;
                }
                "$minDistance" | "$minDistanceInRadians" => {
                    min = Some(as_number(arg, op)?);
                    continue;
                }
                "$minDistanceInKilometers" => {
                    min = Some(as_number(arg, op)? / EARTH_RADIUS_KM);
                    continue;
                }
                "$minDistanceInMiles" => {
                    min = Some(as_number(arg, op)? / EARTH_RADIUS_MILES);
                    continue;
                }
                "$within" => Cond::Within(GeoBox::parse(arg)?),
                // MongoDB's `{"$not": {"$regex": …}}`, which CQL's `not like` and
                // `not regexp` compile to; only a pattern may be negated.
                "$not" => {
                    let m = arg.as_object().filter(|m| {
                        m.contains_key("$regex")
                            && m.keys().all(|k| k == "$regex" || k == "$options")
                    });
                    let m = m.ok_or_else(|| invalid("$not expects {\"$regex\": <pattern>}"))?;
                    let pattern = m["$regex"]
                        .as_str()
                        .ok_or_else(|| invalid("$regex expects a string"))?;
                    let options = match m.get("$options") {
                        None => "",
                        Some(o) => o
                            .as_str()
                            .ok_or_else(|| invalid("$options expects a string"))?,
                    };
                    Cond::Not(Box::new(Cond::Regex(pattern::compile(pattern, options)?)))
                }
                other => return Err(invalid(format!("unknown operator: {other}"))),
            };
            conds.push(cond);
        }
        match (regex, options) {
            (Some(pattern), options) => {
                conds.push(Cond::Regex(pattern::compile(
                    pattern,
                    options.unwrap_or(""),
                )?));
            }
            (None, Some(_)) => return Err(invalid("$options needs $regex")),
            (None, None) => {}
        }
        match near {
            Some(center) => {
                if top && self.near.is_none() {
                    self.near = Some(NearSort {
                        path: path.clone(),
                        center,
                    });
                }
                conds.push(Cond::Near(Near {
                    center,
                    min: min.unwrap_or(0.0),
                    max: max.unwrap_or(f64::INFINITY),
                }));
            }
            None if max.is_some() || min.is_some() => {
                return Err(invalid("distance limits need $nearSphere"));
            }
            None => {}
        }
        Ok(conds)
    }

    /// `$select: {"query": {"className", "where", …}, "key": "<field>"}`: the values of
    /// `key` in the subquery's rows.
    fn select(&mut self, v: &Value, op: &str, depth: usize) -> Result<ValueSet, LcError> {
        let bad = || {
            invalid(format!(
                "{op} expects {{\"query\": {{…}}, \"key\": <string>}}"
            ))
        };
        let m = v.as_object().ok_or_else(bad)?;
        let key = m.get("key").and_then(Value::as_str).ok_or_else(bad)?;
        let query = m.get("query").ok_or_else(bad)?;
        check_path(key, invalid)?;
        let (class, rows) = self.subquery(query, op, depth)?;
        let path = Path::for_reader(key, self.store, &class, self.reader);
        let values = rows
            .into_iter()
            .filter_map(|row| path.resolve(row).map(Operand::found))
            .collect();
        Ok(ValueSet::new(values))
    }

    /// Run a subquery `{"className", "where", "limit", "skip", "order"}` now, with the
    /// same limit rules as a find (default 100, at most 1000), the same caller (the class's
    /// `find` permission, their rows, their columns) and the same budget.
    fn subquery(
        &mut self,
        v: &Value,
        op: &str,
        depth: usize,
    ) -> Result<(String, Vec<&'a StoredObject>), LcError> {
        self.subqueries += 1;
        if self.subqueries > MAX_SUBQUERIES {
            return Err(LcError::request_timeout());
        }
        let m = v
            .as_object()
            .ok_or_else(|| invalid(format!("{op} expects a query object")))?;
        let class = m
            .get("className")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("{op} needs a className")))?
            .to_string();
        if self.store.class(&class).is_some() {
            self.reader.may_find(self.store, &class)?;
        }
        let window = super::Window::from_json(m)?;
        let where_ = super::where_value(m.get("where"))?;
        let mut inner = Compiler::new(self.store, &class, self.reader, self.budget);
        (inner.subqueries, inner.branches) = (self.subqueries, self.branches);
        let root = inner.compile(&where_, depth + 1, true)?;
        (self.subqueries, self.branches) = (inner.subqueries, inner.branches);
        let matcher = inner.finish(root);
        let (rows, _) = super::select_rows(
            self.store,
            &class,
            &matcher,
            &window,
            false,
            self.reader,
            self.budget,
        )?;
        Ok((class, rows))
    }
}
