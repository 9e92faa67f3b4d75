//! `/1.1/leaderboard/...`: boards (master key to create, change, reset and delete them,
//! and to list their archives), users' statistics (the master key, or the user for
//! their own), and ranks (any client). The rules live in `lc_model::leaderboard`.

use super::routes::Call;
use super::{HandlerResult, Reply};
use lc_model::leaderboard::{
    self, Board, DEFAULT_RANKS_LIMIT, Interval, MAX_RANKS_LIMIT, Order, Rank, Strategy,
};
use lc_model::presentation::{View, client};
use lc_model::{Principal, Store};
use leancloud::LcError;
use serde_json::{Map, Value, json};

/// Whether `path` is the route whose body is a JSON array (a user's statistics).
pub fn takes_array_body(path: &str) -> bool {
    path.starts_with("/1.1/leaderboard/users/")
        && path.trim_end_matches('/').ends_with("/statistics")
}

/// Keys of a ranked user only the master key sees (the guide).
const SENSITIVE_USER_KEYS: [&str; 2] = ["email", "mobilePhoneNumber"];

fn master_only(call: &Call<'_>) -> Result<(), LcError> {
    if call.ctx.is_master() {
        Ok(())
    } else {
        Err(LcError::master_key_required())
    }
}

fn string_field<'a>(body: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, LcError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(LcError::invalid_json_detail(format!("{key} is a string"))),
    }
}

fn parsed<T>(
    body: &Map<String, Value>,
    key: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, LcError> {
    match string_field(body, key)? {
        None => Ok(None),
        Some(name) => parse(name)
            .map(Some)
            .ok_or_else(|| LcError::invalid_json_detail(format!("{key} is one of {allowed}"))),
    }
}

/// `POST /1.1/leaderboard/leaderboards` (master key).
pub fn create(call: &Call<'_>) -> HandlerResult {
    master_only(call)?;
    let name = string_field(call.body, "statisticName")?
        .ok_or_else(|| LcError::invalid_json_detail("statisticName is required"))?;
    leaderboard::check_name(name)?;
    let order = parsed(call.body, "order", Order::parse, "ascending, descending")?
        .unwrap_or(Order::Descending);
    let strategy = parsed(
        call.body,
        "updateStrategy",
        Strategy::parse,
        "better, last, sum",
    )?
    .unwrap_or(Strategy::Better);
    let interval = parsed(
        call.body,
        "versionChangeInterval",
        Interval::parse,
        "never, day, week, month",
    )?
    .unwrap_or(Interval::Week);
    let mut store = call.api.store();
    let now = store.clock.now_ms();
    let object_id = store.ids.object_id(now);
    let board = Board {
        object_id,
        name: name.to_string(),
        order,
        strategy,
        interval,
        version: 0,
        activated_at: now,
        expired_at: leaderboard::next_reset(interval, now),
        created_at: now,
        updated_at: now,
        archives: Default::default(),
        entries: Default::default(),
    };
    let created = store.services.leaderboards.create(board)?;
    Ok(Reply::ok(created.to_json()))
}

/// `GET /1.1/leaderboard/leaderboards/<name>`.
pub fn fetch(call: &Call<'_>) -> HandlerResult {
    let mut store = call.api.store();
    let now = store.clock.now_ms();
    let board = store.services.leaderboards.get_mut(call.param(0), now)?;
    Ok(Reply::ok(board.to_json()))
}

/// `PUT /1.1/leaderboard/leaderboards/<name>` (master key): `versionChangeInterval`
/// and/or `updateStrategy`.
pub fn update(call: &Call<'_>) -> HandlerResult {
    master_only(call)?;
    let interval = parsed(
        call.body,
        "versionChangeInterval",
        Interval::parse,
        "never, day, week, month",
    )?;
    let strategy = parsed(
        call.body,
        "updateStrategy",
        Strategy::parse,
        "better, last, sum",
    )?;
    let mut store = call.api.store();
    let now = store.clock.now_ms();
    let board = store.services.leaderboards.get_mut(call.param(0), now)?;
    let mut answer = json!({"objectId": board.object_id});
    if let Some(interval) = interval {
        board.interval = interval;
        board.expired_at = leaderboard::next_reset(interval, now);
        answer["versionChangeInterval"] = json!(interval.as_str());
    }
    if let Some(strategy) = strategy {
        board.strategy = strategy;
        answer["updateStrategy"] = json!(strategy.as_str());
    }
    board.updated_at = now;
    // The guide's answer: the changed attributes and `updatedAt`.
    answer["updatedAt"] = json!(leancloud::value::format_date(now));
    Ok(Reply::ok(answer))
}

/// `PUT /1.1/leaderboard/leaderboards/<name>/incrementVersion` (master key).
pub fn increment_version(call: &Call<'_>) -> HandlerResult {
    master_only(call)?;
    let mut store = call.api.store();
    let now = store.clock.now_ms();
    let board = store.services.leaderboards.get_mut(call.param(0), now)?;
    board.increment_version(now);
    // The guide's answer: the new version, its start and end, `updatedAt`.
    let full = board.to_json();
    let answer: Map<String, Value> = [
        "objectId",
        "version",
        "expiredAt",
        "activatedAt",
        "updatedAt",
    ]
    .iter()
    .map(|k| (k.to_string(), full[*k].clone()))
    .collect();
    Ok(Reply::ok(Value::Object(answer)))
}

/// `DELETE /1.1/leaderboard/leaderboards/<name>` (master key): the board and every
/// version's statistics.
pub fn delete(call: &Call<'_>) -> HandlerResult {
    master_only(call)?;
    call.api
        .store()
        .services
        .leaderboards
        .delete(call.param(0))?;
    Ok(Reply::ok(json!({})))
}

/// `GET /1.1/leaderboard/leaderboards/<name>/archives[?skip&limit]` (master key).
pub fn archives(call: &Call<'_>) -> HandlerResult {
    master_only(call)?;
    let (skip, limit) = window(call)?;
    let mut store = call.api.store();
    let now = store.clock.now_ms();
    let board = store.services.leaderboards.get_mut(call.param(0), now)?;
    let date = |ms: i64| json!({"__type": "Date", "iso": leancloud::value::format_date(ms)});
    let results: Vec<Value> = board
        .archives
        .iter()
        .skip(skip)
        .take(limit)
        .map(|a| {
            json!({
                "statisticName": board.name,
                "version": a.version,
                "status": "completed",
                "url": null,
                "activatedAt": date(a.activated_at),
                "deactivatedAt": date(a.deactivated_at),
            })
        })
        .collect();
    Ok(Reply::ok(json!({ "results": results })))
}

/// `skip` and `limit` from the query string; `limit` past the cap is the cap.
fn window(call: &Call<'_>) -> Result<(usize, usize), LcError> {
    let number = |key: &str, default: usize| -> Result<usize, LcError> {
        match call.request.query_param(key) {
            None | Some("") => Ok(default),
            Some(text) => text
                .parse::<usize>()
                .map_err(|_| LcError::invalid_query(format!("{key} is a whole number"))),
        }
    };
    // The SDK's names, or the guide's (`startPosition`, `maxResultsCount`).
    let skip = match call.request.query_param("startPosition") {
        Some(_) => number("startPosition", 0)?,
        None => number("skip", 0)?,
    };
    let limit = match call.request.query_param("maxResultsCount") {
        Some(_) => number("maxResultsCount", DEFAULT_RANKS_LIMIT)?,
        None => number("limit", DEFAULT_RANKS_LIMIT)?,
    }
    .min(MAX_RANKS_LIMIT);
    Ok((skip, limit))
}

fn list_param(call: &Call<'_>, key: &str) -> Vec<String> {
    // The guide's names for the SDK's.
    let alias = match key {
        "selectUserKeys" => Some("selectKeys"),
        "includeUser" => Some("includeKeys"),
        _ => None,
    };
    call.request
        .query_param(key)
        .or_else(|| alias.and_then(|a| call.request.query_param(a)))
        .map(|text| {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /1.1/leaderboard/leaderboards/<name>/ranks[/<userId>]`: `skip`, `limit`,
/// `selectUserKeys`, `includeUser`, `includeStatistics`, `version`, `count`. With a user,
/// the window of `limit` ranks around that user's (none when they have no statistic);
/// `ranks/self` is the signed-in caller's.
pub fn ranks(call: &Call<'_>) -> HandlerResult {
    let (skip, limit) = window(call)?;
    let around = call.params.get(1).map(|p| p.to_string());
    let version = match call.request.query_param("version") {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<u32>()
                .map_err(|_| LcError::invalid_query("version is a whole number"))?,
        ),
    };
    let included = list_param(call, "includeStatistics");
    let mut store = call.api.store();
    let now = store.clock.now_ms();
    let who = call.principal(&store)?;
    // `ranks/self` (the SDK's `getResultsAroundUser()` without a user): the caller.
    let around = match around.as_deref() {
        Some("self") => Some(
            who.user_id()
                .map(str::to_string)
                .ok_or_else(LcError::user_not_found)?,
        ),
        _ => around,
    };
    for other in &included {
        store.services.leaderboards.get_mut(other, now)?;
    }
    let board = store.services.leaderboards.get_mut(call.param(0), now)?;
    let version = version.unwrap_or(board.version);
    let ranking = board.ranking(version);
    let name = board.name.clone();
    let total = ranking.len();
    let page: Vec<Rank> = match around {
        None => ranking.into_iter().skip(skip).take(limit).collect(),
        Some(user) => match ranking.iter().position(|r| r.user == user) {
            None => Vec::new(),
            Some(at) => {
                let start = at.saturating_sub(limit.saturating_sub(1) / 2);
                let start = start.min(total.saturating_sub(limit));
                ranking.into_iter().skip(start).take(limit).collect()
            }
        },
    };
    let user_view = user_view(call)?;
    let mut results = Vec::with_capacity(page.len());
    for rank in page {
        let mut statistics = Vec::new();
        for other in &included {
            let b = store.services.leaderboards.get_mut(other, now)?;
            if let Some(e) = b.entry(b.version, &rank.user) {
                statistics.push(json!({
                    "statisticName": other,
                    "statisticValue": leaderboard::number(e.value),
                    "version": b.version,
                }));
            }
        }
        let mut row = json!({
            "statisticName": name,
            "statisticValue": leaderboard::number(rank.value),
            "rank": rank.rank,
            "user": render_user(&store, &rank.user, user_view.as_ref(), &who)?,
        });
        if !included.is_empty() {
            row["statistics"] = Value::Array(statistics);
        }
        results.push(row);
    }
    let mut body = json!({ "results": results });
    if call.flag("count") {
        body["count"] = json!(total);
    }
    Ok(Reply::ok(body))
}

/// The view of each ranked user: `selectUserKeys` (and `includeUser` for pointers among
/// them), or none (a plain pointer).
fn user_view(call: &Call<'_>) -> Result<Option<View>, LcError> {
    let keys = list_param(call, "selectUserKeys");
    let include = list_param(call, "includeUser");
    if keys.is_empty() && include.is_empty() {
        return Ok(None);
    }
    let mut params = Map::new();
    let mut all = keys;
    for k in &include {
        if !all.contains(k) {
            all.push(k.clone());
        }
    }
    params.insert("keys".into(), json!(all.join(",")));
    params.insert("include".into(), json!(include.join(",")));
    params.insert("returnACL".into(), json!(true));
    View::from_json(&params).map(Some)
}

/// A ranked user: a pointer, with the selected keys when asked (recorded: the pointer's
/// `__type` and `className` beside the user's fields and ACL).
fn render_user(
    store: &Store,
    id: &str,
    view: Option<&View>,
    who: &Principal,
) -> Result<Value, LcError> {
    let pointer = leancloud::value::Pointer::new("_User", id).to_json();
    let (Some(view), Some(obj)) = (view, store.object("_User", id)) else {
        return Ok(pointer);
    };
    let mut shown = view.render(store, obj, &Principal::master())?;
    client::apply_column_rules(store, "_User", &mut shown, who, view.keys.as_deref());
    if let (Value::Object(m), Value::Object(p)) = (&mut shown, pointer) {
        if !who.master {
            for key in SENSITIVE_USER_KEYS {
                m.remove(key);
            }
        }
        m.extend(p);
    }
    Ok(shown)
}

/// The user `<id>` of a statistics route, who must exist; the caller must be them or
/// hold the master key to change their statistics.
fn statistics_user(call: &Call<'_>, store: &Store, write: bool) -> Result<String, LcError> {
    let id = match call.param(0) {
        // `users/self/statistics`: the signed-in caller (the guide).
        "self" => call
            .principal(store)?
            .user_id()
            .map(str::to_string)
            .ok_or_else(LcError::user_not_found)?,
        id => id.to_string(),
    };
    if store.object("_User", &id).is_none() {
        return Err(LcError::user_not_found());
    }
    if write {
        let who = call.principal(store)?;
        if !who.master && who.user_id() != Some(id.as_str()) {
            // Not recorded for another user; a client's own update is (see the module
            // docs of lc_model::leaderboard).
            return Err(LcError::master_key_required());
        }
    }
    Ok(id)
}

fn statistic_json(name: &str, version: u32, value: f64) -> Value {
    json!({"statisticName": name, "version": version, "statisticValue": leaderboard::number(value)})
}

/// A statistic as a read answers it: with its user (the guide).
fn statistic_of(name: &str, version: u32, value: f64, user: &str) -> Value {
    let mut v = statistic_json(name, version, value);
    v["user"] = leancloud::value::Pointer::new("_User", user).to_json();
    v
}

/// `GET /1.1/leaderboard/users/<id>/statistics[?statistics=a,b]`.
pub fn get_statistics(call: &Call<'_>) -> HandlerResult {
    let wanted = list_param(call, "statistics");
    let mut store = call.api.store();
    let user = statistics_user(call, &store, false)?;
    let now = store.clock.now_ms();
    let results: Vec<Value> = store
        .services
        .leaderboards
        .statistics_of(&user, now)
        .into_iter()
        .filter(|(name, _, _)| wanted.is_empty() || wanted.contains(name))
        .map(|(name, version, value)| statistic_of(&name, version, value, &user))
        .collect();
    Ok(Reply::ok(json!({ "results": results })))
}

/// `POST /1.1/leaderboard/users/<id>/statistics[?overwrite=1]` with
/// `[{"statisticName", "statisticValue"}, ...]`: each board's kept value after it.
/// Every name must have a board, or nothing changes.
pub fn update_statistics(call: &Call<'_>) -> HandlerResult {
    let items: Vec<Value> = match serde_json::from_slice(&call.request.body) {
        Ok(Value::Array(items)) => items,
        _ => {
            return Err(LcError::invalid_json_detail(
                "statistics are an array of {statisticName, statisticValue}",
            ));
        }
    };
    let mut submitted = Vec::with_capacity(items.len());
    for item in &items {
        let name = item.get("statisticName").and_then(Value::as_str);
        let value = item.get("statisticValue").and_then(Value::as_f64);
        match (name, value) {
            (Some(name), Some(value)) if value.is_finite() => submitted.push((name, value)),
            _ => {
                return Err(LcError::invalid_json_detail(
                    "each statistic is {statisticName: <string>, statisticValue: <number>}",
                ));
            }
        }
    }
    let overwrite = call.flag("overwrite");
    let mut store = call.api.store();
    let user = statistics_user(call, &store, true)?;
    let now = store.clock.now_ms();
    let boards = &mut store.services.leaderboards;
    for (name, _) in &submitted {
        boards.get_mut(name, now)?;
    }
    let mut results = Vec::with_capacity(submitted.len());
    for (name, value) in submitted {
        let board = boards.get_mut(name, now)?;
        let kept = board.submit(&user, value, overwrite, now);
        results.push(statistic_json(name, board.version, kept));
    }
    Ok(Reply::ok(json!({ "results": results })))
}

/// `DELETE /1.1/leaderboard/users/<id>/statistics?statistics=a,b`: the user's current
/// statistics on those boards.
pub fn delete_statistics(call: &Call<'_>) -> HandlerResult {
    let names = list_param(call, "statistics");
    let mut store = call.api.store();
    let user = statistics_user(call, &store, true)?;
    let now = store.clock.now_ms();
    let boards = &mut store.services.leaderboards;
    for name in &names {
        boards.get_mut(name, now)?;
    }
    for name in &names {
        boards.get_mut(name, now)?.remove(&user);
    }
    Ok(Reply::ok(json!({})))
}

/// `POST /1.1/leaderboard/users/statistics/<name>` with `{"ids": [...]}` (at most
/// [`leaderboard::MAX_STATISTICS_IDS`]): those users' statistics on the board, for those
/// who have one.
pub fn statistics_of_users(call: &Call<'_>) -> HandlerResult {
    let ids: Vec<&str> = match call.body.get("ids") {
        Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_str).collect(),
        _ => return Err(LcError::invalid_json_detail("ids is an array of objectIds")),
    };
    if ids.len() > leaderboard::MAX_STATISTICS_IDS {
        return Err(LcError::invalid_json_detail(format!(
            "ids holds at most {} objectIds",
            leaderboard::MAX_STATISTICS_IDS
        )));
    }
    let mut store = call.api.store();
    let now = store.clock.now_ms();
    let board = store.services.leaderboards.get_mut(call.param(0), now)?;
    let results: Vec<Value> = ids
        .iter()
        .filter_map(|id| {
            let e = board.entry(board.version, id)?;
            Some(statistic_of(&board.name, board.version, e.value, id))
        })
        .collect();
    Ok(Reply::ok(json!({ "results": results })))
}
