//! `where` operators, order, limit/skip/count, on a store filled directly; [`scores`]
//! is the store most of them query.

mod errors;
mod geo;
mod logic;
mod regex;
mod where_values;
mod window;

use crate::support::*;
use lc_model::query::{self, FindParams, Matcher, OrderKey};
use lc_model::{Store, StoredObject};
use leancloud::LcError;
use leancloud::error::code;
use serde_json::{Value, json};

fn scores() -> Store {
    let mut s = store();
    put(
        &mut s,
        "GameScore",
        1,
        json!({"name": "alice", "score": 10, "cheat": false}),
    );
    put(
        &mut s,
        "GameScore",
        2,
        json!({"name": "bob", "score": 30, "cheat": true}),
    );
    put(
        &mut s,
        "GameScore",
        3,
        json!({"name": "carol", "score": 20.0}),
    );
    put(
        &mut s,
        "GameScore",
        4,
        json!({"name": "dave", "score": "20"}),
    );
    put(&mut s, "GameScore", 5, json!({"name": "erin"}));
    s
}
