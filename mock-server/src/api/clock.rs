//! `GET /__mock/clock` and `POST /__mock/clock` (master key): the app's clock as tests
//! move it (see `lc_model::clock`).

use super::routes::Call;
use super::{HandlerResult, Reply};
use lc_model::clock::{AppClock, MAX_CLOCK_MS};
use leancloud::LcError;
use serde_json::{Value, json};

/// What the clock shows: `{"now": "<iso>", "ms": <Unix ms>, "frozen": bool,
/// "offsetMs": <ms ahead of real time>}`.
pub fn state_json(clock: &AppClock) -> Value {
    let state = clock.state();
    json!({
        "now": leancloud::value::format_date(state.now_ms),
        "ms": state.now_ms,
        "frozen": state.frozen,
        "offsetMs": state.offset_ms,
    })
}

/// `GET /__mock/clock`.
pub fn show(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    Ok(Reply::ok(state_json(&call.api.clock())))
}

/// `POST /__mock/clock` with any of `{"real": true, "freeze": true, "set": <when>,
/// "advance": <ms>, "resume": true}`, done in that order (so `{"freeze": true, "set":
/// ...}` stops the clock at that instant). `<when>` is an ISO date, a
/// `{"__type":"Date","iso":...}` or Unix milliseconds. Answers what the clock then shows.
/// Anything else is 400 with code 107 and leaves the clock as it was.
pub fn change(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    let body = call.body;
    const KEYS: [&str; 5] = ["real", "freeze", "set", "advance", "resume"];
    if let Some(key) = body.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(bad(format!(
            "unknown key '{key}'; the clock takes real, freeze, set, advance, resume"
        )));
    }
    if body.is_empty() {
        return Err(bad("say what to do: real, freeze, set, advance or resume"));
    }
    let flag = |key: &str| -> Result<bool, LcError> {
        match body.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(bad(format!("'{key}' is true or false"))),
        }
    };
    let (real, freeze, resume) = (flag("real")?, flag("freeze")?, flag("resume")?);
    if freeze && resume {
        return Err(bad("freeze and resume together say nothing"));
    }
    let set = body.get("set").map(instant).transpose()?;
    let advance = match body.get("advance") {
        None => None,
        Some(v) => Some(
            v.as_i64()
                .filter(|ms| ms.abs() <= MAX_CLOCK_MS)
                .ok_or_else(|| bad("'advance' is a whole number of milliseconds"))?,
        ),
    };
    let clock = call.api.clock();
    if real {
        clock.real();
    }
    if freeze {
        clock.freeze();
    }
    if let Some(ms) = set {
        clock.set(ms);
    }
    if let Some(ms) = advance {
        clock.advance(ms);
    }
    if resume {
        clock.resume();
    }
    Ok(Reply::ok(state_json(&clock)))
}

/// An instant: Unix milliseconds, an ISO date, or a LeanCloud Date.
fn instant(value: &Value) -> Result<i64, LcError> {
    let ms = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(iso) => leancloud::value::parse_date(iso),
        Value::Object(o) if o.get("__type") == Some(&json!("Date")) => o
            .get("iso")
            .and_then(Value::as_str)
            .and_then(leancloud::value::parse_date),
        _ => None,
    };
    ms.filter(|ms| (0..=MAX_CLOCK_MS).contains(ms)).ok_or_else(|| {
        bad("'set' is an ISO date, a {\"__type\":\"Date\"} or Unix milliseconds, from 1970 to 9999")
    })
}

fn bad(detail: impl std::fmt::Display) -> LcError {
    LcError::invalid_json_detail(detail)
}
