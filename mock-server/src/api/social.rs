//! Follows and the status inbox (`lc_model::social`): `/1.1/users/<id>/friendship/<target>`,
//! `/1.1/users/<id>/followersAndFollowees`, `/1.1/statuses`, `/1.1/subscribe/statuses`
//! and its count, unread reset and entry removal.

use super::routes::Call;
use super::{HandlerResult, Reply};
use lc_model::query::{self, Everything, FindParams, Matcher};
use lc_model::social::{self, MAX_STATUS_RECIPIENTS};
use lc_model::{Principal, Store, StoredObject};
use leancloud::LcError;
use serde_json::{Map, Value, json};

fn forbidden(what: &str) -> LcError {
    // Not recorded: the closest LeanCloud-shaped refusal.
    LcError::new(403, 1, format!("Forbidden: {what}."))
}

/// The caller, who must be `user` or hold the master key.
fn as_user(call: &Call<'_>, store: &Store, user: &str, what: &str) -> Result<Principal, LcError> {
    let who = call.principal(store)?;
    if who.master || who.user_id() == Some(user) {
        Ok(who)
    } else {
        Err(forbidden(what))
    }
}

/// `POST /1.1/users/<id>/friendship/<target>`: `<id>` follows `<target>`, the body's
/// fields kept on the follow.
pub fn follow(call: &Call<'_>) -> HandlerResult {
    let (user, target) = (call.param(0).to_string(), call.param(1).to_string());
    let mut store = call.api.store();
    as_user(
        call,
        &store,
        &user,
        "only the user changes whom they follow",
    )?;
    if store.object("_User", &user).is_none() {
        return Err(LcError::user_not_found());
    }
    let now = store.clock.now_ms();
    let mut attributes = call.body.clone();
    for reserved in [
        "user",
        "follower",
        "followee",
        "objectId",
        "createdAt",
        "updatedAt",
        "ACL",
    ] {
        attributes.remove(reserved);
    }
    social::follow(&mut store, &user, &target, &attributes, now)?;
    Ok(Reply::ok(json!({})))
}

/// `DELETE /1.1/users/<id>/friendship/<target>`.
pub fn unfollow(call: &Call<'_>) -> HandlerResult {
    let (user, target) = (call.param(0).to_string(), call.param(1).to_string());
    let mut store = call.api.store();
    as_user(
        call,
        &store,
        &user,
        "only the user changes whom they follow",
    )?;
    social::unfollow(&mut store, &user, &target);
    Ok(Reply::ok(json!({})))
}

/// `GET /1.1/users/<id>/followersAndFollowees[?skip&limit&include&keys]`.
pub fn followers_and_followees(call: &Call<'_>) -> HandlerResult {
    let user = call.param(0);
    let store = call.api.read_store();
    let who = call.principal(&store)?;
    let mut out = Map::new();
    for (class, key, field) in [
        ("_Follower", "follower", "followers"),
        ("_Followee", "followee", "followees"),
    ] {
        let mut params = Map::new();
        params.insert(
            "where".into(),
            json!({"user": {"__type": "Pointer", "className": "_User", "objectId": user}}),
        );
        for p in ["skip", "limit", "include", "keys"] {
            if let Some(v) = call.request.query_param(p) {
                params.insert(p.into(), json!(v));
            }
        }
        if !params.contains_key("include") {
            params.insert("include".into(), json!(key));
        }
        let found = query::find(&store, class, &FindParams::from_json(&params)?, &who)?;
        out.insert(field.into(), Value::Array(found.results));
    }
    Ok(Reply::ok(Value::Object(out)))
}

/// The users a status goes to: the rows of its `query` (`_User` rows, or the `_User`
/// pointer under its `keys` in rows of another class, as `_Follower`'s `follower`).
fn recipients(store: &Store, q: &Map<String, Value>) -> Result<Vec<String>, LcError> {
    let class = q
        .get("className")
        .and_then(Value::as_str)
        .ok_or_else(|| LcError::invalid_json_detail("query.className is required"))?;
    lc_model::names::check_class_name(class)?;
    let r#where = match q.get("where") {
        None | Some(Value::Null) => json!({}),
        Some(Value::String(text)) => {
            serde_json::from_str(text).map_err(|_| LcError::invalid_json())?
        }
        Some(w) => w.clone(),
    };
    let key = q
        .get("keys")
        .and_then(Value::as_str)
        .map(|k| k.split(',').next().unwrap_or("").to_string());
    let matcher = Matcher::compile_for(store, class, &r#where, &Everything)?;
    let rows: Vec<&StoredObject> = store
        .class(class)
        .map(|d| d.objects.values().filter(|o| matcher.matches(o)).collect())
        .unwrap_or_default();
    let mut ids: Vec<String> = rows
        .into_iter()
        .filter_map(|o| match (&key, class) {
            (_, "_User") => Some(o.id.to_string()),
            (Some(k), _) => o
                .get(k)
                .filter(|p| p.get("className").and_then(Value::as_str) == Some("_User"))
                .and_then(|p| {
                    p.get("objectId")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                }),
            (None, _) => None,
        })
        .collect();
    ids.sort();
    ids.dedup();
    if ids.len() > MAX_STATUS_RECIPIENTS {
        return Err(LcError::generic(format!(
            "A status reaches {MAX_STATUS_RECIPIENTS} users at most."
        )));
    }
    Ok(ids)
}

/// `POST /1.1/statuses` with `{"query", "data", "inboxType"}`: a `_Status` row, in the
/// inbox of each user the query names. `{"objectId", "createdAt"}`.
pub fn send(call: &Call<'_>) -> HandlerResult {
    let mut store = call.api.store();
    let who = call.principal(&store)?;
    let Some(me) = who.user_id().map(str::to_string).or_else(|| {
        who.master
            .then(|| {
                call.body
                    .get("data")
                    .and_then(|d| d.get("source"))
                    .and_then(|s| s.get("objectId"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .flatten()
    }) else {
        return Err(LcError::new(
            400,
            1,
            "A status is sent by a signed-in user.",
        ));
    };
    let q = match call.body.get("query") {
        Some(Value::Object(q)) => q.clone(),
        _ => return Err(LcError::invalid_json_detail("query is required")),
    };
    let mut data = match call.body.get("data") {
        Some(Value::Object(d)) => d.clone(),
        None => Map::new(),
        Some(_) => return Err(LcError::invalid_json_detail("data is a JSON object")),
    };
    let inbox = call
        .body
        .get("inboxType")
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_string();
    let targets = recipients(&store, &q)?;
    let now = store.clock.now_ms();
    data.insert(
        "source".into(),
        json!({"__type": "Pointer", "className": "_User", "objectId": me}),
    );
    data.insert("inboxType".into(), json!(inbox));
    data.insert(
        "ACL".into(),
        json!({"*": {"read": true}, &me: {"write": true}}),
    );
    let id = store.ids.object_id(now);
    store.insert_object("_Status", StoredObject::new(id.clone(), now, now, &data));
    for owner in &targets {
        store.services.inboxes.deliver(owner, &inbox, &id);
    }
    Ok(Reply::ok(json!({
        "objectId": id,
        "createdAt": leancloud::value::format_date(now),
    })))
}

/// `DELETE /1.1/statuses/<id>`: by its source (or the master key); it leaves every inbox.
pub fn delete(call: &Call<'_>) -> HandlerResult {
    let id = call.param(0).to_string();
    let mut store = call.api.store();
    let who = call.principal(&store)?;
    let Some(status) = store.object("_Status", &id) else {
        return Err(LcError::class_or_object_not_found());
    };
    let source = status.get("source").and_then(|s| {
        s.get("objectId")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    if !who.master && who.user_id() != source.as_deref() {
        return Err(forbidden("only its source deletes a status"));
    }
    store.class_mut("_Status").remove(&id);
    store.services.inboxes.remove_status(&id);
    Ok(Reply::ok(json!({})))
}

/// A parameter from the query string or the body (`AV._encode`d: a pointer's JSON, or
/// the value itself).
fn param(call: &Call<'_>, key: &str) -> Option<Value> {
    match call.request.query_param(key) {
        Some(text) => Some(serde_json::from_str(text).unwrap_or_else(|_| json!(text))),
        None => call.body.get(key).cloned(),
    }
}

/// The inbox a request names: its `owner` (a user pointer or objectId; the caller by
/// default) and `inboxType` (`default`); the caller must be that owner or the master key.
fn inbox_of(call: &Call<'_>, store: &Store) -> Result<(String, String), LcError> {
    let who = call.principal(store)?;
    let owner = match param(call, "owner") {
        Some(Value::Object(p)) => p
            .get("objectId")
            .and_then(Value::as_str)
            .map(str::to_string),
        Some(Value::String(id)) => Some(id),
        _ => who.user_id().map(str::to_string),
    }
    .ok_or_else(|| LcError::invalid_json_detail("owner is required"))?;
    if !who.master && who.user_id() != Some(owner.as_str()) {
        return Err(forbidden("only its owner reads an inbox"));
    }
    let inbox = match param(call, "inboxType") {
        Some(Value::String(t)) if !t.is_empty() => t,
        _ => "default".to_string(),
    };
    Ok((owner, inbox))
}

fn number(call: &Call<'_>, key: &str) -> u64 {
    match param(call, key) {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// `GET /1.1/subscribe/statuses`: the inbox's statuses newest first, each with its
/// `messageId`; `sinceId`, `maxId`, `limit` (100 by default).
pub fn inbox(call: &Call<'_>) -> HandlerResult {
    let store = call.api.read_store();
    let (owner, inbox) = inbox_of(call, &store)?;
    let limit = match number(call, "limit") {
        0 => 100,
        n => n.min(1000) as usize,
    };
    let entries = store.services.inboxes.list(
        &owner,
        &inbox,
        number(call, "sinceId"),
        number(call, "maxId"),
    );
    let results: Vec<Value> = entries
        .into_iter()
        .filter_map(|e| {
            let status = store.object("_Status", &e.status_id)?;
            let mut v = status.to_map();
            v.remove("ACL");
            v.insert("objectId".into(), json!(e.status_id));
            v.insert("messageId".into(), json!(e.message_id));
            v.insert(
                "createdAt".into(),
                json!(leancloud::value::format_date(status.created_at)),
            );
            v.insert(
                "updatedAt".into(),
                json!(leancloud::value::format_date(status.updated_at)),
            );
            Some(Value::Object(v))
        })
        .take(limit)
        .collect();
    Ok(Reply::ok(json!({ "results": results })))
}

/// `GET /1.1/subscribe/statuses/count`: `{"total", "unread"}`.
pub fn count(call: &Call<'_>) -> HandlerResult {
    let store = call.api.read_store();
    let (owner, inbox) = inbox_of(call, &store)?;
    let (total, unread) = store.services.inboxes.count(&owner, &inbox);
    Ok(Reply::ok(json!({"total": total, "unread": unread})))
}

/// `POST /1.1/subscribe/statuses/resetUnreadCount`.
pub fn reset_unread(call: &Call<'_>) -> HandlerResult {
    let mut store = call.api.store();
    let (owner, inbox) = inbox_of(call, &store)?;
    store.services.inboxes.reset_unread(&owner, &inbox);
    Ok(Reply::ok(json!({})))
}

/// `DELETE /1.1/subscribe/statuses/inbox?owner&inboxType&messageId`: one entry.
pub fn delete_entry(call: &Call<'_>) -> HandlerResult {
    let mut store = call.api.store();
    let (owner, inbox) = inbox_of(call, &store)?;
    let message = number(call, "messageId");
    if !store.services.inboxes.remove_entry(&owner, &inbox, message) {
        return Err(LcError::class_or_object_not_found());
    }
    Ok(Reply::ok(json!({})))
}
