//! `GET`/`POST /1.1/cloudQuery`: a CQL `select` compiled by `lc_model::cql` into the
//! find parameters it stands for, then answered exactly as that find is, with the
//! class permissions, ACLs and column rules of `GET /1.1/classes/<Class>`.

use super::routes::Call;
use super::{HandlerResult, Reply};
use lc_model::objects;
use lc_model::presentation::client;
use lc_model::query::{self, FindParams};
use leancloud::LcError;
use serde_json::{Map, Value, json};

/// The statement and its placeholder values: from the query string on `GET` (`cql`, and
/// `pvalues` as JSON text), from the JSON body on `POST` (`pvalues` an array or its text).
fn statement(call: &Call<'_>) -> Result<(String, Vec<Value>), LcError> {
    let from_query = call.request.query_param("cql");
    let (cql, pvalues) = match from_query {
        Some(cql) => (
            cql.to_string(),
            call.request
                .query_param("pvalues")
                .map(|t| Value::String(t.to_string())),
        ),
        None => match call.body.get("cql") {
            Some(Value::String(cql)) => (cql.clone(), call.body.get("pvalues").cloned()),
            _ => {
                return Err(LcError::new(
                    400,
                    300,
                    "CQL syntax error.Detail: no cql statement was given.",
                ));
            }
        },
    };
    let pvalues = match pvalues {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list,
        Some(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(list)) => list,
            // The Python SDK sends one list argument encoded twice: JSON text of the
            // JSON text of the array.
            Ok(Value::String(inner)) => match serde_json::from_str::<Value>(&inner) {
                Ok(Value::Array(list)) => list,
                _ => return Err(LcError::invalid_json_detail("pvalues is a JSON array")),
            },
            _ => return Err(LcError::invalid_json_detail("pvalues is a JSON array")),
        },
        Some(_) => return Err(LcError::invalid_json_detail("pvalues is a JSON array")),
    };
    Ok((cql, pvalues))
}

/// `{"results": [...], "className": "<Class>"}`, and `"count"` when the statement selects
/// `count(*)` (recorded: `Queries/#cloudQuery/should return count value.`).
pub fn cloud_query(call: &Call<'_>) -> HandlerResult {
    let (cql, pvalues) = statement(call)?;
    let store = call.api.read_store();
    let compiled = lc_model::cql::compile(&cql, &pvalues, store.clock.now_ms())?;
    let class = compiled.class.as_str();
    lc_model::names::check_class_name(class)?;
    let params = FindParams::from_json(&compiled.params)?;
    let who = call.principal(&store)?;
    objects::check_find(&store, class, &who)?;
    let mut found = query::find(&store, class, &params, &who)?;
    for row in &mut found.results {
        client::apply_column_rules(&store, class, row, &who, params.view.keys.as_deref());
    }
    let mut body = Map::new();
    body.insert("results".into(), Value::Array(found.results));
    body.insert("className".into(), json!(class));
    if let Some(count) = found.count {
        body.insert("count".into(), json!(count));
    }
    Ok(Reply::ok(Value::Object(body)))
}
