//! Median time of typical finds over 10k and 100k objects.
//!
//! `cargo run --release -p lc-model --example query_bench`
//!
//! The budget: a `where` + `order` + `limit=100` find over 100,000 objects within 10 ms.

use lc_model::query::{self, FindParams};
use lc_model::{FixedClock, SeededIds, Store, StoredObject};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const T0: i64 = 1_700_000_000_000;

fn build(n: u32) -> Store {
    let mut store = Store::new(Arc::new(FixedClock::new(T0)), Box::new(SeededIds::new(1)));
    let mut rng = SmallRng::seed_from_u64(7);
    let class = store.class_mut("GameScore");
    for i in 0..n {
        let at = T0 + i64::from(i) * 10;
        let fields = json!({
            "playerName": format!("player{}", rng.random_range(0..n)),
            "score": rng.random_range(0..10_000),
            "cheatMode": rng.random_bool(0.1),
            "level": rng.random_range(1..50),
            "tags": ["a", "b"],
            "ACL": {"*": {"read": true, "write": true}},
        });
        let fields = fields.as_object().cloned().unwrap_or_default();
        class.insert(StoredObject::new(format!("{i:024x}"), at, at, &fields));
    }
    // The shape and query of `lc-mock/benches/emulator.rs`.
    let categories = ["cafe", "bar", "shop", "gym"];
    let items = store.class_mut("Item");
    for i in 0..n as usize {
        let body = json!({
            "name": format!("item {i}"),
            "category": categories[i % categories.len()],
            "score": (i * 7919) % 1000,
            "active": i % 3 != 0,
        });
        let mut fields = serde_json::Map::new();
        for (k, v) in body.as_object().into_iter().flatten() {
            fields.insert(k.clone(), v.clone());
        }
        fields.insert("ACL".into(), json!({"*": {"read": true, "write": true}}));
        let at = T0 + i as i64 * 10;
        items.insert(StoredObject::new(
            format!("{:024x}", i + 1_000_000),
            at,
            at,
            &fields,
        ));
    }
    store
}

fn everyone(_class: &str, _obj: &StoredObject) -> bool {
    true
}

fn median(store: &Store, class: &str, query: &[(&str, &str)]) -> (Duration, usize) {
    let owned: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..21 {
        let start = Instant::now();
        let params = FindParams::from_query(&owned).expect("valid query");
        let found = query::find(store, class, &params, &everyone).expect("query runs");
        times.push(start.elapsed());
        rows = found.results.len();
    }
    times.sort();
    (times[times.len() / 2], rows)
}

/// Class, label, query parameters.
type Query<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

fn main() {
    let queries: [Query<'_>; 6] = [
        (
            "Item",
            "emulator bench query",
            &[
                (
                    "where",
                    r#"{"category":"cafe","active":true,"score":{"$gte":100}}"#,
                ),
                ("order", "-score,name"),
                ("limit", "100"),
            ],
        ),
        (
            "GameScore",
            "where+order+limit 100",
            &[
                ("where", r#"{"score":{"$gte":5000},"cheatMode":false}"#),
                ("order", "-score,playerName"),
                ("limit", "100"),
            ],
        ),
        (
            "GameScore",
            "where+order+limit 100+count",
            &[
                ("where", r#"{"level":{"$in":[1,2,3,4,5,6,7,8,9,10]}}"#),
                ("order", "-createdAt"),
                ("limit", "100"),
                ("count", "1"),
            ],
        ),
        (
            "GameScore",
            "regex+order+limit 100",
            &[
                ("where", r#"{"playerName":{"$regex":"^\\Qplayer1\\E"}}"#),
                ("order", "score"),
                ("limit", "100"),
            ],
        ),
        (
            "GameScore",
            "no where, order, skip 500",
            &[("order", "level,-score"), ("skip", "500"), ("limit", "100")],
        ),
        (
            "GameScore",
            "count only",
            &[
                ("where", r#"{"score":{"$lt":100}}"#),
                ("limit", "0"),
                ("count", "1"),
            ],
        ),
    ];
    for n in [10_000, 100_000] {
        let store = build(n);
        println!("{n} objects:");
        for (class, name, query) in &queries {
            let (t, rows) = median(&store, class, query);
            println!(
                "  {name:<30} median {:>8.3} ms ({rows} rows)",
                t.as_secs_f64() * 1e3
            );
        }
    }
}
