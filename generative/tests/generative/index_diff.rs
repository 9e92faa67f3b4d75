//! Indexed queries against scanned ones: the same random rows, the same random finds,
//! answered once through the query planner (indexes on every column the queries name)
//! and once by scanning every row (`Budget::without_indexes`). Results, their order,
//! `skip`, `limit` and counts must be the same, for the master key and for clients whose
//! rows are filtered by ACL and who cannot see a hidden column.
//!
//! Between finds, rows are updated (fields set or deleted) and deleted, so the indexes
//! are checked after the writes that maintain them, not only after inserts.
//!
//! The rows and finds are `generative::query`'s (numbers written as `1` and `1.0`, mixed
//! types in one column, arrays, dates, pointers, missing fields); the columns are indexed
//! through `indexes.json`, as an app's database settings do. Cases: 96 by default
//! (`PROPTEST_CASES` to change).

use generative::check;
use generative::query::{self, Limit, Query, arb_query, arb_row, arb_rows};
use lc_model::access::SignedIn;
use lc_model::limits::Budget;
use lc_model::objects::{self, Changes};
use lc_model::query::{Everything, FindParams, Reader, find_within};
use lc_model::settings::{self, ClassFiles, ClassSpec};
use lc_model::{FixedClock, Principal, SeededIds, Store};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Columns indexed (every top-level column a query names; `o` is queried by dot path,
/// which no index answers, so it is indexed to show that it is then left alone).
const INDEXED: [&str; 8] = ["n", "s", "b", "d", "p", "arr", "mixed", "o"];

/// The user and role client finds run as.
const USER: &str = "u1";
const ROLE: &str = "r1";

/// ACLs rows get: public, nobody (master only), the user, the role, public write only.
fn acls() -> [Value; 5] {
    [
        json!({"*": {"read": true, "write": true}}),
        json!({}),
        json!({USER: {"read": true}}),
        json!({format!("role:{ROLE}"): {"read": true}}),
        json!({"*": {"write": true}}),
    ]
}

fn store(hidden: bool) -> Store {
    let mut schema = query::schema();
    if hidden {
        // A hidden column is absent from clients' queries (where and order).
        schema["columns"]["s"]["hidden"] = json!(true);
    }
    let indexes: Vec<Value> = INDEXED.iter().map(|k| json!({"keys": [k]})).collect();
    let files = ClassFiles {
        schema: Some(schema),
        indexes: Some(Value::Array(indexes)),
        ..ClassFiles::default()
    };
    let spec = ClassSpec::parse(query::CLASS, &files).expect("the settings are valid");
    let mut store = Store::new(
        Arc::new(FixedClock::new(query::DATE_BASE_MS)),
        Box::new(SeededIds::new(5)),
    );
    settings::apply(&mut store, &[spec]).expect("the settings apply");
    store
}

/// A write between finds.
#[derive(Debug, Clone)]
enum Write {
    /// Set the fields of a generated row on row `at`, and delete `drop` of its fields.
    Update {
        at: prop::sample::Index,
        set: Map<String, Value>,
        drop: Vec<&'static str>,
    },
    Delete(prop::sample::Index),
}

fn arb_write() -> impl Strategy<Value = Write> {
    prop_oneof![
        3 => (
            any::<prop::sample::Index>(),
            arb_row(),
            prop::collection::vec(prop::sample::select(INDEXED.to_vec()), 0..3),
        )
            .prop_map(|(at, set, drop)| Write::Update { at, set, drop }),
        1 => any::<prop::sample::Index>().prop_map(Write::Delete),
    ]
}

/// Who runs the finds.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// The master key as the api runs its own scans: every row, and says so.
    Everything,
    Master,
    Anonymous,
    User,
}

fn principal(who: Who) -> Principal {
    match who {
        Who::Master => Principal::master(),
        Who::User => Principal {
            master: false,
            user: Some(SignedIn {
                id: USER.into(),
                username: None,
                roles: BTreeMap::from([(ROLE.to_string(), "roleid".to_string())]),
            }),
        },
        Who::Everything | Who::Anonymous => Principal::anonymous(),
    }
}

/// Writes, then finds (each by someone).
type Step = (Vec<Write>, Vec<(Query, Who)>);

#[derive(Debug, Clone)]
struct Case {
    rows: Vec<(Map<String, Value>, prop::sample::Index)>,
    hidden: bool,
    steps: Vec<Step>,
}

fn arb_who() -> impl Strategy<Value = Who> {
    prop::sample::select(vec![
        Who::Everything,
        Who::Master,
        Who::Anonymous,
        Who::User,
    ])
}

fn arb_case() -> impl Strategy<Value = Case> {
    let rows = arb_rows().prop_flat_map(|rows| {
        let n = rows.len();
        (
            Just(rows),
            prop::collection::vec(any::<prop::sample::Index>(), n),
        )
            .prop_map(|(rows, acls)| rows.into_iter().zip(acls).collect::<Vec<_>>())
    });
    let step = (
        prop::collection::vec(arb_write(), 0..4),
        prop::collection::vec((arb_query(), arb_who()), 1..5),
    );
    (
        rows,
        prop::bool::weighted(0.3),
        prop::collection::vec(step, 1..3),
    )
        .prop_map(|(rows, hidden, steps)| Case {
            rows,
            hidden,
            steps,
        })
}

/// The rows as a find shows them (what `Where::to_json` picks operands from).
fn rendered(store: &Store) -> Vec<Map<String, Value>> {
    store
        .class(query::CLASS)
        .map(|c| {
            c.objects
                .values()
                .map(|o| {
                    let mut m = o.to_map();
                    for key in ["objectId", "createdAt", "updatedAt"] {
                        m.insert(key.into(), o.get(key).unwrap_or_default());
                    }
                    m
                })
                .collect()
        })
        .unwrap_or_default()
}

fn params(q: &Query, rows: &[Map<String, Value>]) -> Result<FindParams, leancloud::LcError> {
    let mut p = Map::new();
    p.insert("where".into(), q.where_json(rows));
    if let Some(order) = q.order_text() {
        p.insert("order".into(), json!(order));
    }
    if let Limit::Given(n) = q.limit {
        p.insert("limit".into(), json!(n));
    }
    if let Some(skip) = q.skip {
        p.insert("skip".into(), json!(skip));
    }
    if q.count {
        p.insert("count".into(), json!(1));
    }
    FindParams::from_json(&p)
}

fn write(store: &mut Store, w: &Write) -> Result<(), TestCaseError> {
    let ids: Vec<String> = store
        .class(query::CLASS)
        .map(|c| c.objects.keys().map(|k| k.to_string()).collect())
        .unwrap_or_default();
    if ids.is_empty() {
        return Ok(());
    }
    let master = Principal::master();
    match w {
        Write::Update { at, set, drop } => {
            let id = &ids[at.index(ids.len())];
            let mut body = set.clone();
            for key in drop {
                body.insert((*key).into(), json!({"__op": "Delete"}));
            }
            let changes =
                Changes::parse(&body, true).map_err(|e| TestCaseError::fail(e.message))?;
            objects::update(store, query::CLASS, id, &changes, None, &master)
                .map_err(|e| TestCaseError::fail(format!("update {body:?}: {}", e.message)))?;
        }
        Write::Delete(at) => {
            let id = &ids[at.index(ids.len())];
            objects::delete(store, query::CLASS, id, None, &master)
                .map_err(|e| TestCaseError::fail(e.message))?;
        }
    }
    Ok(())
}

fn run(case: Case) -> Result<(), TestCaseError> {
    let mut store = store(case.hidden);
    let acls = acls();
    for (row, acl) in &case.rows {
        let mut body = row.clone();
        body.insert("ACL".into(), acls[acl.index(acls.len())].clone());
        let changes = Changes::parse(&body, false).map_err(|e| TestCaseError::fail(e.message))?;
        objects::create(&mut store, query::CLASS, &changes, &Principal::master())
            .map_err(|e| TestCaseError::fail(format!("create {body:?}: {}", e.message)))?;
    }
    for (writes, finds) in &case.steps {
        for w in writes {
            write(&mut store, w)?;
        }
        let rows = rendered(&store);
        for (q, who) in finds {
            let Ok(params) = params(q, &rows) else {
                continue;
            };
            let p = principal(*who);
            let reader: Reader<'_> = match who {
                Who::Everything => &Everything,
                _ => &p,
            };
            let indexed = find_within(&store, query::CLASS, &params, reader, Budget::default());
            let scanned = find_within(
                &store,
                query::CLASS,
                &params,
                reader,
                Budget::default().without_indexes(),
            );
            let ids = |r: &lc_model::query::FindResult| -> Vec<String> {
                r.results
                    .iter()
                    .map(|o| o["objectId"].as_str().unwrap_or("?").to_string())
                    .collect()
            };
            match (&indexed, &scanned) {
                (Ok(a), Ok(b)) => {
                    prop_assert_eq!(
                        ids(a),
                        ids(b),
                        "{:?} as {:?}: indexed and scanned rows differ",
                        params,
                        who
                    );
                    prop_assert_eq!(&a.results, &b.results, "{:?} as {:?}", params, who);
                    prop_assert_eq!(a.count, b.count, "{:?} as {:?}: counts", params, who);
                }
                (Err(a), Err(b)) => prop_assert_eq!(a, b, "{:?}", params),
                _ => prop_assert!(
                    false,
                    "{:?} as {:?}: indexed {:?}, scanned {:?}",
                    params,
                    who,
                    indexed.as_ref().map(|r| r.count),
                    scanned.as_ref().map(|r| r.count)
                ),
            }
        }
    }
    Ok(())
}

#[test]
fn indexed_finds_answer_exactly_what_scans_answer() {
    check("index_diff", 96, arb_case(), run);
}
