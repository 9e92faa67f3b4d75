//! # generative
//!
//! Strategies (`arb_*`) for LeanCloud inputs, and the suites under `tests/` that compare
//! the emulator with small reference models written for the test, independently of the
//! emulator's own code.

use proptest::prelude::*;
use serde_json::{Value, json};

/// A field operation on a counter (`n`) or a list of small integers (`tags`), as a
/// client would send it.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Increment(i64),
    Add(Vec<i64>),
    AddUnique(Vec<i64>),
    Remove(Vec<i64>),
    DeleteTags,
    DeleteCounter,
}

impl Action {
    /// The update body that performs this action.
    pub fn body(&self) -> Value {
        match self {
            Action::Increment(n) => json!({"n": {"__op": "Increment", "amount": n}}),
            Action::Add(xs) => json!({"tags": {"__op": "Add", "objects": xs}}),
            Action::AddUnique(xs) => json!({"tags": {"__op": "AddUnique", "objects": xs}}),
            Action::Remove(xs) => json!({"tags": {"__op": "Remove", "objects": xs}}),
            Action::DeleteTags => json!({"tags": {"__op": "Delete"}}),
            Action::DeleteCounter => json!({"n": {"__op": "Delete"}}),
        }
    }
}

/// Small values, so that duplicates and removals of present items are common.
pub fn arb_items() -> impl Strategy<Value = Vec<i64>> {
    prop::collection::vec(0i64..5, 0..4)
}

pub fn arb_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (-5i64..5).prop_map(Action::Increment),
        arb_items().prop_map(Action::Add),
        arb_items().prop_map(Action::AddUnique),
        arb_items().prop_map(Action::Remove),
        Just(Action::DeleteTags),
        Just(Action::DeleteCounter),
    ]
}

/// The reference: what the documented semantics say the two fields hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reference {
    pub n: Option<i64>,
    pub tags: Option<Vec<i64>>,
}

impl Reference {
    pub fn apply(&mut self, action: &Action) {
        match action {
            Action::Increment(d) => self.n = Some(self.n.unwrap_or(0) + d),
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
            Action::DeleteTags => self.tags = None,
            Action::DeleteCounter => self.n = None,
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
