//! `/1.1/classes/...` and `/1.1/scan/...`: thin handlers. Writes run through the write
//! pipeline (`writes`), reads call `lc_model::objects` and `lc_model::query`; answers are
//! rendered by `lc_model::presentation::client`.

use super::pipeline::Pipeline;
use super::routes::Call;
use super::writes::{CreateObject, DeleteObject, UpdateObject};
use super::{HandlerResult, Reply, hooks};
use lc_model::objects::{self, Changes};
use lc_model::presentation::{View, client};
use lc_model::query::{self, FindParams, OrderKey};
use leancloud::LcError;
use serde_json::{Map, Value, json};

/// `?fetchWhenSave=true`, or `?new=true` as the JavaScript SDK sends it.
pub(super) fn fetch_when_save(call: &Call<'_>) -> bool {
    call.flag("fetchWhenSave") || call.flag("new")
}

/// The `where` of a conditional update or delete: JSON text in the query string.
pub(super) fn condition(call: &Call<'_>) -> Result<Option<Value>, LcError> {
    match call.request.query_param("where") {
        None => Ok(None),
        Some(text) => serde_json::from_str(text)
            .map(Some)
            .map_err(|_| LcError::invalid_json()),
    }
}

/// `POST /1.1/classes/<Class>`: 201 with `objectId` and `createdAt` (the whole object
/// with `fetchWhenSave`), and a relative `Location`. Fires beforeSave (whose answer is
/// what gets stored) and afterSave.
pub fn create_object(call: &Call<'_>) -> HandlerResult {
    let class = call.param(0);
    let changes = Changes::parse(call.body, false)?;
    let pipeline = Pipeline::new(call, class, &changes.flags);
    let write = CreateObject {
        class,
        body: call.body,
        changes,
    };
    pipeline.run(write, |store, who, obj| {
        let body = if fetch_when_save(call) {
            client::object(store, class, obj, &View::default(), who)?
        } else {
            client::created(obj)
        };
        let location = format!("/1.1/classes/{class}/{}", obj.id);
        Ok(Reply::created(body, location))
    })
}

/// `GET /1.1/classes/<Class>/<id>`: the object, `{}` when it does not exist (`null`
/// inside a batch, as recorded).
pub fn get_object(call: &Call<'_>) -> HandlerResult {
    let (class, id) = (call.param(0), call.param(1));
    let view = View::from_query(&call.request.query)?;
    let store = call.api.read_store();
    let who = call.principal(&store)?;
    match objects::fetch(&store, class, id, &who)? {
        Some(obj) => Ok(Reply::ok(client::object(&store, class, obj, &view, &who)?)),
        None if call.ctx.in_batch => Ok(Reply::ok(Value::Null)),
        None => Ok(Reply::ok(json!({}))),
    }
}

/// `PUT /1.1/classes/<Class>/<id>`: `{"updatedAt","objectId"}`, or with
/// `fetchWhenSave` the changed fields' new values too. Fires beforeUpdate (which may
/// only refuse) and afterUpdate.
pub fn update_object(call: &Call<'_>) -> HandlerResult {
    let (class, id) = (call.param(0), call.param(1));
    let changes = Changes::parse(call.body, true)?;
    let condition = condition(call)?;
    let pipeline = Pipeline::new(call, class, &changes.flags);
    let write = UpdateObject {
        class,
        id,
        changes,
        condition: condition.as_ref(),
    };
    pipeline.run(write, |_, _, updated| {
        Ok(Reply::ok(client::updated(updated, fetch_when_save(call))))
    })
}

/// `DELETE /1.1/classes/<Class>/<id>[,<id>...]`: `{}`. Fires beforeDelete (which may
/// refuse) and afterDelete for each object that exists.
pub fn delete_object(call: &Call<'_>) -> HandlerResult {
    let class = call.param(0);
    let condition = condition(call)?;
    let pipeline = Pipeline::new(call, class, &hooks::flags_of(call.body));
    for id in call.param(1).split(',').filter(|s| !s.is_empty()) {
        let write = DeleteObject {
            class,
            id,
            condition: condition.as_ref(),
        };
        pipeline.run(write, |_, _, _| Ok(()))?;
    }
    Ok(Reply::ok(json!({})))
}

/// `GET /1.1/classes/<Class>`: `{"results":[...]}` plus `count` when asked.
pub fn find_objects(call: &Call<'_>) -> HandlerResult {
    let class = call.param(0);
    lc_model::names::check_class_name(class)?;
    let params = FindParams::from_query(&call.request.query)?;
    let store = call.api.read_store();
    let who = call.principal(&store)?;
    // `redirectClassNameForKey=<key>`: a relation query (the JavaScript SDK's
    // `relation.query()`) whose results are of the relation's target class.
    // The answer names that class, so that the client decodes the rows as such.
    let redirected = call
        .request
        .query_param("redirectClassNameForKey")
        .and_then(|key| store.column_target(class, key));
    let class = redirected.unwrap_or(class);
    objects::check_find(&store, class, &who)?;
    let mut found = query::find(&store, class, &params, &who)?;
    for row in &mut found.results {
        client::apply_column_rules(&store, class, row, &who, params.view.keys.as_deref());
    }
    let mut body = Map::new();
    body.insert("results".into(), Value::Array(found.results));
    if let Some(count) = found.count {
        body.insert("count".into(), json!(count));
    }
    if let Some(target) = redirected {
        body.insert("className".into(), json!(target));
    }
    Ok(Reply::ok(Value::Object(body)))
}

/// `GET /1.1/scan/classes/<Class>` (master key): every matching object in `scan_key`
/// order (default `objectId`), a page at a time, with an opaque `cursor` for the next
/// page (`null` when done). The cursor is the position after the page; it is valid as
/// long as the class does not change in between (the service keeps cursors 10 minutes).
pub fn scan_objects(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let class = call.param(0);
    lc_model::names::check_class_name(class)?;
    let q = &call.request;
    let limit = match q.query_param("limit").map(str::parse::<i64>) {
        None => 100,
        Some(Ok(n)) if (1..=1000).contains(&n) => n as usize,
        Some(_) => 100,
    };
    let start = match q.query_param("cursor") {
        None | Some("") => 0,
        Some(c) => decode_cursor(c).ok_or_else(|| LcError::generic("Invalid scan cursor."))?,
    };
    let where_ = match q.query_param("where") {
        None => json!({}),
        Some(text) => serde_json::from_str(text).map_err(|_| LcError::invalid_json())?,
    };
    let (key, descending) = match q.query_param("scan_key") {
        None | Some("") => ("objectId".to_string(), false),
        Some(k) => match k.strip_prefix('-') {
            Some(k) => (k.to_string(), true),
            None => (k.to_string(), false),
        },
    };
    // `keys` and `returnACL` as for a query (the JavaScript SDK's `Query#scan` sends the
    // query's parameters: leancloud-storage dist/av-core.js, `scan`); `include` is not
    // defined for a scan and is left out.
    let mut view = View::from_query(&q.query)?;
    view.include.clear();
    let mut order = vec![OrderKey {
        key: key.clone(),
        descending,
    }];
    if key != "objectId" {
        order.push(OrderKey {
            key: "objectId".into(),
            descending,
        });
    }
    let params = FindParams {
        r#where: where_,
        order,
        limit,
        skip: start,
        count: true,
        view,
    };
    let store = call.api.read_store();
    if store.class(class).is_none() {
        return Err(LcError::class_or_object_not_found());
    }
    let found = query::find(&store, class, &params, &query::Everything)?;
    let next = start + found.results.len();
    let cursor = if next < found.count.unwrap_or(0) && !found.results.is_empty() {
        Value::String(encode_cursor(next))
    } else {
        Value::Null
    };
    let page = found.results;
    Ok(Reply::ok(json!({"results": page, "cursor": cursor})))
}

fn encode_cursor(pos: usize) -> String {
    format!("c{}", hex_encode(&pos.to_be_bytes()))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let hex = cursor.strip_prefix('c')?;
    if hex.len() != 16 {
        return None;
    }
    let mut bytes = [0u8; 8];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(usize::from_be_bytes(bytes))
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
