//! Queries, differential: random rows are created through the emulator (master key),
//! then random finds (`where`, `order`, `limit`, `skip`, `count`) are sent in-process,
//! as URL parameters or as a batch GET with JSON `params`, and each answer is compared
//! with [`generative::query::find`], a reference evaluator written from the protocol
//! notes over the same rows. Every row returned must also hold exactly the fields it was
//! created with (the encoding round trip of every `__type`, notes §2).
//!
//! The rules the reference follows, and which of them come from the emulator's own
//! documentation where the notes are silent, are listed in `generative::query`.
//!
//! Cases: 128 by default (`PROPTEST_CASES` to change), each with up to 25 rows (one in
//! thirteen with 95..130, past the default limit) and up to 5 finds.

use generative::check;
use generative::query::{
    self, Limit, Query, Where, arb_query, arb_row, arb_rows, arb_where, arb_window_query,
};
use generative::values::same_value;
use lc_model::settings::{ClassFiles, ClassSpec};
use leancloud::Request;
use mock_server::api::{Api, AppConfig};
use mock_server::settings::Settings;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn app() -> Api {
    let files = ClassFiles {
        schema: Some(query::schema()),
        ..ClassFiles::default()
    };
    let spec = ClassSpec::parse(query::CLASS, &files).expect("the schema is valid");
    let settings = Settings {
        classes: vec![spec],
        ..Settings::default()
    };
    Api::with_settings(AppConfig::default(), &settings).expect("the settings load")
}

fn send(api: &Api, master: bool, method: &str, target: &str, body: Option<&Value>) -> (u16, Value) {
    let cfg = api.config();
    let key = if master {
        format!("{},master", cfg.master_key)
    } else {
        cfg.app_key.clone()
    };
    let mut req = Request::from_target(method, target)
        .with_header("x-lc-id", &cfg.app_id)
        .with_header("x-lc-key", key);
    if let Some(body) = body {
        req = req.with_json(body);
    }
    let resp = api.handle(&req);
    let body = resp.body_json().expect("the emulator answers JSON");
    (resp.status, body)
}

/// Create every row with the master key; the rows as the service renders them, in
/// creation order (`updatedAt` equals `createdAt` on create, notes §2).
fn seed(
    api: &Api,
    bodies: &[Map<String, Value>],
) -> Result<Vec<Map<String, Value>>, TestCaseError> {
    let mut rows = Vec::with_capacity(bodies.len());
    for body in bodies {
        let target = format!("/1.1/classes/{}", query::CLASS);
        let (status, answer) = send(
            api,
            true,
            "POST",
            &target,
            Some(&Value::Object(body.clone())),
        );
        prop_assert_eq!(status, 201, "create {:?} -> {}", body, answer);
        let mut row = body.clone();
        for key in ["objectId", "createdAt"] {
            row.insert(key.into(), answer[key].clone());
        }
        row.insert("updatedAt".into(), answer["createdAt"].clone());
        rows.push(row);
    }
    Ok(rows)
}

/// How one find is sent.
#[derive(Debug, Clone)]
struct Sent {
    query: Query,
    master: bool,
    batch: bool,
}

fn arb_sent(query: impl Strategy<Value = Query>) -> impl Strategy<Value = Sent> {
    (query, any::<bool>(), prop::bool::weighted(0.25)).prop_map(|(query, master, batch)| Sent {
        query,
        master,
        batch,
    })
}

fn find(api: &Api, sent: &Sent, r#where: &Value) -> (u16, Value) {
    let q = &sent.query;
    let path = format!("/1.1/classes/{}", query::CLASS);
    if sent.batch {
        let mut params = Map::new();
        params.insert("where".into(), r#where.clone());
        if let Some(order) = q.order_text() {
            params.insert("order".into(), json!(order));
        }
        if let Limit::Given(n) = q.limit {
            params.insert("limit".into(), json!(n));
        }
        if let Some(skip) = q.skip {
            params.insert("skip".into(), json!(skip));
        }
        if q.count {
            params.insert("count".into(), json!(1));
        }
        let body = json!({"requests": [{"method": "GET", "path": path, "params": params}]});
        let (status, answer) = send(api, sent.master, "POST", "/1.1/batch", Some(&body));
        if status != 200 {
            return (status, answer);
        }
        return match &answer[0] {
            Value::Object(item) if item.contains_key("success") => (200, item["success"].clone()),
            other => (
                400,
                other.get("error").cloned().unwrap_or_else(|| other.clone()),
            ),
        };
    }
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let mut target = format!("{path}?where={}", enc(&r#where.to_string()));
    if let Some(order) = q.order_text() {
        target.push_str(&format!("&order={}", enc(&order)));
    }
    if let Limit::Given(n) = q.limit {
        target.push_str(&format!("&limit={n}"));
    }
    if let Some(skip) = q.skip {
        target.push_str(&format!("&skip={skip}"));
    }
    if q.count {
        target.push_str("&count=1");
    }
    send(api, sent.master, "GET", &target, None)
}

fn ids(results: &[Value]) -> Vec<&str> {
    results
        .iter()
        .map(|r| r["objectId"].as_str().unwrap_or("?"))
        .collect()
}

/// One request of a case: a find, or a conditional update or delete of one row.
#[derive(Debug, Clone)]
enum Step {
    Find(Sent),
    WriteIf {
        row: prop::sample::Index,
        r#where: Where,
        delete: bool,
    },
}

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => arb_sent(arb_query()).prop_map(Step::Find),
        1 => (any::<prop::sample::Index>(), arb_where(), prop::bool::weighted(0.3))
            .prop_map(|(row, r#where, delete)| Step::WriteIf { row, r#where, delete }),
    ]
}

/// A conditional write (`?where=`, notes §1.3): it happens when the row matches, else
/// `400 {"code":305,...}` and nothing changes.
fn write_if(
    api: &Api,
    rows: &mut Vec<Map<String, Value>>,
    index: usize,
    r#where: &Value,
    delete: bool,
) -> Result<(), TestCaseError> {
    let id = rows[index]["objectId"].as_str().unwrap().to_string();
    let enc = utf8_percent_encode(&r#where.to_string(), NON_ALPHANUMERIC).to_string();
    let target = format!("/1.1/classes/{}/{id}?where={enc}", query::CLASS);
    let (status, answer) = match delete {
        true => send(api, true, "DELETE", &target, None),
        false => {
            let body = json!({"hits": {"__op": "Increment", "amount": 1}});
            send(api, true, "PUT", &target, Some(&body))
        }
    };
    let shown = format!(
        "{} of row {index} where={}",
        if delete { "delete" } else { "update" },
        r#where
    );
    if !query::matches(&rows[index], r#where) {
        let refused = json!({"code": 305, "error": "No effect on updating/deleting a document."});
        prop_assert_eq!((status, answer), (400, refused), "{}", shown);
        return Ok(());
    }
    if delete {
        prop_assert_eq!((status, answer), (200, json!({})), "{}", shown);
        rows.remove(index);
        return Ok(());
    }
    prop_assert_eq!(status, 200, "{} -> {}", shown, answer);
    prop_assert_eq!(&answer["objectId"], &json!(id), "{}", shown);
    let row = &mut rows[index];
    let hits = row.get("hits").and_then(Value::as_i64).unwrap_or(0) + 1;
    row.insert("hits".into(), json!(hits));
    row.insert("updatedAt".into(), answer["updatedAt"].clone());
    Ok(())
}

fn run(bodies: &[Map<String, Value>], steps: &[Step]) -> Result<(), TestCaseError> {
    let api = app();
    let mut rows = seed(&api, bodies)?;
    for step in steps {
        let sent = match step {
            Step::Find(sent) => sent,
            Step::WriteIf {
                row,
                r#where,
                delete,
            } => {
                if !rows.is_empty() {
                    let index = row.index(rows.len());
                    let r#where = r#where.to_json(&rows);
                    write_if(&api, &mut rows, index, &r#where, *delete)?;
                }
                continue;
            }
        };
        let q = &sent.query;
        let r#where = q.where_json(&rows);
        let order = q.order_keys();
        let expected = query::find(&rows, &r#where, &order, q.limit, q.skip);
        let (status, answer) = find(&api, sent, &r#where);
        let shown = format!(
            "where={} order={:?} limit={:?} skip={:?} count={} batch={}",
            r#where,
            q.order_text(),
            q.limit,
            q.skip,
            q.count,
            sent.batch
        );
        prop_assert_eq!(status, 200, "{} -> {}", shown, answer);
        let results = answer["results"].as_array().cloned().unwrap_or_default();
        let want: Vec<&str> = expected
            .rows
            .iter()
            .map(|&i| rows[i]["objectId"].as_str().unwrap())
            .collect();
        prop_assert_eq!(ids(&results), want, "{}", shown);
        for (got, &i) in results.iter().zip(&expected.rows) {
            let stored = Value::Object(rows[i].clone());
            prop_assert!(
                same_value(got, &stored),
                "row {} came back as {}, stored {}",
                i,
                got,
                stored
            );
        }
        match q.count {
            true => prop_assert_eq!(
                answer.get("count"),
                Some(&json!(expected.count)),
                "{}",
                shown
            ),
            false => prop_assert!(answer.get("count").is_none(), "{} -> {}", shown, answer),
        }
    }
    Ok(())
}

/// Finds, conditional updates and conditional deletes over up to 25 rows (now and then
/// 95..130).
#[test]
fn finds_match_the_reference_evaluator() {
    let strategy = (arb_rows(), prop::collection::vec(arb_step(), 1..8));
    check("query_diff", 128, strategy, |(bodies, steps)| {
        run(&bodies, &steps)
    });
}

/// Windows over up to 130 rows: default and out-of-range limits, `limit=0`, `skip` past
/// the end, `count`.
#[test]
fn windows_match_the_reference_evaluator() {
    let strategy = (
        prop_oneof![
            prop::collection::vec(arb_row(), 0..100),
            prop::collection::vec(arb_row(), 100..130),
        ],
        prop::collection::vec(arb_sent(arb_window_query()).prop_map(Step::Find), 1..6),
    );
    check("query_windows", 24, strategy, |(bodies, steps)| {
        run(&bodies, &steps)
    });
}
