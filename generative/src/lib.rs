//! # generative
//!
//! Strategies (`arb_*`) for LeanCloud inputs, and the suites under `tests/` that compare
//! the emulator with small reference models written for the test, independently of the
//! emulator's own code.

pub mod access;
pub mod app;
pub mod cql;
pub mod fuzz;
pub mod query;
pub mod values;

use proptest::prelude::*;
use serde_json::{Value, json};

/// A field operation as a client would send it (notes §3), on one of the fields of a
/// field-operation test object: a counter `n`, a list of small integers `tags`, a bit
/// set `bits`, and a counter inside an object reached by a dot path, `stats.n`.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Increment(i64),
    Decrement(i64),
    SetCounter(i64),
    DeleteCounter,
    Add(Vec<i64>),
    AddUnique(Vec<i64>),
    Remove(Vec<i64>),
    SetTags(Vec<i64>),
    DeleteTags,
    BitAnd(i64),
    BitOr(i64),
    BitXor(i64),
    /// `Increment` on `stats.n` (dot paths are for updates only).
    IncrementNested(i64),
}

impl Action {
    /// The key the action writes.
    pub fn field(&self) -> &'static str {
        match self {
            Action::Increment(_)
            | Action::Decrement(_)
            | Action::SetCounter(_)
            | Action::DeleteCounter => "n",
            Action::Add(_)
            | Action::AddUnique(_)
            | Action::Remove(_)
            | Action::SetTags(_)
            | Action::DeleteTags => "tags",
            Action::BitAnd(_) | Action::BitOr(_) | Action::BitXor(_) => "bits",
            Action::IncrementNested(_) => "stats.n",
        }
    }

    /// The value sent for [`Action::field`].
    pub fn value(&self) -> Value {
        match self {
            Action::Increment(n) | Action::IncrementNested(n) => {
                json!({"__op": "Increment", "amount": n})
            }
            Action::Decrement(n) => json!({"__op": "Decrement", "amount": n}),
            Action::SetCounter(n) => json!(n),
            Action::Add(xs) => json!({"__op": "Add", "objects": xs}),
            Action::AddUnique(xs) => json!({"__op": "AddUnique", "objects": xs}),
            Action::Remove(xs) => json!({"__op": "Remove", "objects": xs}),
            Action::SetTags(xs) => json!(xs),
            Action::DeleteTags | Action::DeleteCounter => json!({"__op": "Delete"}),
            Action::BitAnd(v) => json!({"__op": "BitAnd", "value": v}),
            Action::BitOr(v) => json!({"__op": "BitOr", "value": v}),
            Action::BitXor(v) => json!({"__op": "BitXor", "value": v}),
        }
    }

    /// The update body that performs this action.
    pub fn body(&self) -> Value {
        body_of(std::slice::from_ref(self))
    }

    /// Whether a create body may hold it: not a dot path (refused on create, notes
    /// §1.3), not `Delete` (the notes do not say what it does on create).
    pub fn on_create(&self) -> bool {
        !matches!(
            self,
            Action::IncrementNested(_) | Action::DeleteTags | Action::DeleteCounter
        )
    }
}

/// One body performing several actions (on distinct keys).
pub fn body_of(actions: &[Action]) -> Value {
    let mut m = serde_json::Map::new();
    for a in actions {
        m.insert(a.field().to_string(), a.value());
    }
    Value::Object(m)
}

/// Small values, so that duplicates and removals of present items are common.
pub fn arb_items() -> impl Strategy<Value = Vec<i64>> {
    prop::collection::vec(0i64..5, 0..4)
}

pub fn arb_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (-5i64..5).prop_map(Action::Increment),
        (-5i64..5).prop_map(Action::Decrement),
        (-5i64..5).prop_map(Action::SetCounter),
        Just(Action::DeleteCounter),
        arb_items().prop_map(Action::Add),
        arb_items().prop_map(Action::AddUnique),
        arb_items().prop_map(Action::Remove),
        arb_items().prop_map(Action::SetTags),
        Just(Action::DeleteTags),
        (0i64..16).prop_map(Action::BitAnd),
        (0i64..16).prop_map(Action::BitOr),
        (0i64..16).prop_map(Action::BitXor),
        (-5i64..5).prop_map(Action::IncrementNested),
    ]
}

/// One to three actions on distinct keys, sent together in one body.
pub fn arb_step() -> impl Strategy<Value = Vec<Action>> {
    prop::collection::vec(arb_action(), 1..4).prop_map(distinct_fields)
}

/// The actions that are the first on their key: one body sets a key once.
pub fn distinct_fields(actions: Vec<Action>) -> Vec<Action> {
    let mut seen = Vec::new();
    actions
        .into_iter()
        .filter(|a| {
            let new = !seen.contains(&a.field());
            seen.push(a.field());
            new
        })
        .collect()
}

/// The reference: what the documented semantics say the fields hold. Missing fields
/// start from nothing: `Increment` gives the amount, `Add`/`AddUnique` the items,
/// `Remove` an empty list (notes §3, from the JavaScript SDK's estimates), `BitAnd`
/// zero and `BitOr`/`BitXor` the value (recorded, notes §3).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reference {
    pub n: Option<i64>,
    pub tags: Option<Vec<i64>>,
    pub bits: Option<i64>,
    pub stats_n: Option<i64>,
}

impl Reference {
    pub fn apply(&mut self, action: &Action) {
        match action {
            Action::Increment(d) => self.n = Some(self.n.unwrap_or(0) + d),
            Action::Decrement(d) => self.n = Some(self.n.unwrap_or(0) - d),
            Action::SetCounter(v) => self.n = Some(*v),
            Action::DeleteCounter => self.n = None,
            Action::Add(xs) => self.tags.get_or_insert_with(Vec::new).extend(xs),
            Action::AddUnique(xs) => {
                let tags = self.tags.get_or_insert_with(Vec::new);
                for x in xs {
                    if !tags.contains(x) {
                        tags.push(*x);
                    }
                }
            }
            Action::Remove(xs) => {
                let tags = self.tags.get_or_insert_with(Vec::new);
                tags.retain(|t| !xs.contains(t));
            }
            Action::SetTags(xs) => self.tags = Some(xs.clone()),
            Action::DeleteTags => self.tags = None,
            Action::BitAnd(v) => self.bits = Some(self.bits.unwrap_or(0) & v),
            Action::BitOr(v) => self.bits = Some(self.bits.unwrap_or(0) | v),
            Action::BitXor(v) => self.bits = Some(self.bits.unwrap_or(0) ^ v),
            Action::IncrementNested(d) => self.stats_n = Some(self.stats_n.unwrap_or(0) + d),
        }
    }
}

/// Cases per property: `PROPTEST_CASES` when set, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Run one property: `default_cases` cases (or `PROPTEST_CASES`), failures persisted to
/// `proptest-regressions/<name>.txt` (replayed first on the next run; commit the file),
/// and one line of figures on stderr, shown even when the test passes.
pub fn check<S: Strategy>(
    name: &str,
    default_cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    check_with(
        name,
        ProptestConfig::with_cases(cases(default_cases)),
        strategy,
        test,
    );
}

/// [`check`] with other settings (`config.cases` as given, persistence set here).
pub fn check_with<S: Strategy>(
    name: &str,
    mut config: ProptestConfig,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    use std::io::Write;
    // Relative to the package folder, where cargo runs tests.
    let path: &'static str = Box::leak(format!("proptest-regressions/{name}.txt").into_boxed_str());
    if std::env::var_os("PROPTEST_DISABLE_FAILURE_PERSISTENCE").is_none() {
        config.failure_persistence = Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(path),
        ));
    }
    let planned = config.cases;
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let runs = std::cell::Cell::new(0u64);
    let start = std::time::Instant::now();
    let result = runner.run(&strategy, |input| {
        runs.set(runs.get() + 1);
        test(input)
    });
    let secs = start.elapsed().as_secs_f64();
    // Written to the stream itself, not through `eprintln!`, which the test harness
    // captures for passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "[generative] {name}: {} runs ({planned} cases planned) in {secs:.2} s, {:.0} cases/s{}",
        runs.get(),
        runs.get() as f64 / secs.max(1e-9),
        if result.is_err() { ", FAILED" } else { "" },
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}
