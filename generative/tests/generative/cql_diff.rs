//! CQL against `where`, differential: random rows are created through the emulator, then
//! each random find is sent twice in-process, once as `GET /1.1/classes/Row` with
//! `where`, `order`, `limit`, `skip` and `count`, and once as the CQL statement that says
//! the same (`generative::cql`), through `GET` or `POST /1.1/cloudQuery`. The answers
//! must be the same: status, rows and their order, every field, the count; the CQL
//! answer also names the class. Finds CQL cannot say (a case-insensitive pattern, a
//! limit outside 0..=1000) are sent as REST only.
//!
//! Cases: 64 by default (`PROPTEST_CASES` to change).

use generative::cql::Cql;
use generative::query::{self, Limit, Query, arb_query, arb_rows};
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
    (
        resp.status,
        resp.body_json().expect("the emulator answers JSON"),
    )
}

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

fn rest(api: &Api, master: bool, q: &Query, r#where: &Value) -> (u16, Value) {
    let mut target = format!(
        "/1.1/classes/{}?where={}",
        query::CLASS,
        enc(&r#where.to_string())
    );
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
    send(api, master, "GET", &target, None)
}

/// The statement for `q`, with its placeholder values; `None` when CQL cannot say it.
fn statement(q: &Query, r#where: &Value) -> Option<(String, Vec<Value>)> {
    let mut cql = Cql::default();
    let select = if q.count { "count(*), *" } else { "*" };
    let mut text = format!("select {select} from {}", query::CLASS);
    let empty = r#where.as_object().is_some_and(Map::is_empty);
    if !empty {
        text.push_str(&format!(" where {}", cql.condition(r#where)?));
    }
    let limit = match q.limit {
        Limit::Given(n) if (0..=1000).contains(&n) => Some(n as usize),
        Limit::Given(_) => return None,
        // The default limit, said out loud when a skip needs a limit beside it.
        Limit::Absent => q.skip.map(|_| 100),
    };
    match (q.skip, limit) {
        (Some(skip), Some(n)) => text.push_str(&format!(" limit {skip},{n}")),
        (None, Some(n)) => text.push_str(&format!(" limit {n}")),
        _ => {}
    }
    if let Some(order) = q.order_text() {
        text.push_str(&format!(" order by {order}"));
    }
    Some((text, cql.pvalues))
}

fn run(bodies: &[Map<String, Value>], finds: &[(Query, bool, bool)]) -> Result<(), TestCaseError> {
    let api = app();
    let mut rows = Vec::new();
    for body in bodies {
        let target = format!("/1.1/classes/{}", query::CLASS);
        let (status, answer) = send(
            &api,
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
        rows.push(row);
    }
    for (q, master, post) in finds {
        let r#where = q.where_json(&rows);
        let Some((cql, pvalues)) = statement(q, &r#where) else {
            continue;
        };
        let expected = rest(&api, *master, q, &r#where);
        let (status, mut answer) = if *post {
            let body = json!({"cql": cql, "pvalues": pvalues});
            send(&api, *master, "POST", "/1.1/cloudQuery", Some(&body))
        } else {
            let target = format!(
                "/1.1/cloudQuery?cql={}&pvalues={}",
                enc(&cql),
                enc(&Value::Array(pvalues.clone()).to_string())
            );
            send(&api, *master, "GET", &target, None)
        };
        let shown = format!("{cql} pvalues={pvalues:?} where={where} master={master}");
        if status == 200 {
            let class = answer.as_object_mut().and_then(|m| m.remove("className"));
            prop_assert_eq!(class, Some(json!(query::CLASS)), "{}", shown);
        }
        prop_assert_eq!((status, answer), expected, "{}", shown);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: generative::cases(64),
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_cql_select_answers_what_its_where_equivalent_answers(
        bodies in arb_rows(),
        finds in prop::collection::vec((arb_query(), any::<bool>(), any::<bool>()), 1..6),
    ) {
        run(&bodies, &finds)?;
    }
}
