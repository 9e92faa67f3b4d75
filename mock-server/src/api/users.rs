//! `/1.1/users`, `/1.1/login` and the user parts of `/1.1/classes/_User`: thin handlers
//! over `lc_model::users`; sign-up and updates run through the write pipeline (`writes`).
//!
//! Passwords are hashed before the store's lock is taken and verified on a hash cloned
//! out of it, so a slow hash never holds up other requests. Every user shown goes
//! through `presentation::client::user` (no hidden column, never `password`);
//! `sessionToken` is added only for the user themselves.

use super::pipeline::Pipeline;
use super::routes::Call;
use super::writes::{self, UpdateUser};
use super::{HandlerResult, Reply, hooks, objects as object_handlers};
use lc_model::objects;
use lc_model::presentation::{View, client, hook};
use lc_model::users::{self, LogIn, SignUp, UserChanges};
use leancloud::LcError;
use leancloud::cloud::HookKind;
use serde_json::{Map, Value, json};

/// The same call with `_User` as its first parameter, for the generic object handlers.
fn as_user_class<'a>(call: &'a Call<'a>) -> Call<'a> {
    call.for_class(users::CLASS)
}

/// `POST /1.1/users` and `POST /1.1/classes/_User`: sign up (201, the whole user with
/// its `sessionToken`), or log in by a linked account (200). Fires beforeSave (shown the
/// new user without the password; its answer is what gets stored) and afterSave, only
/// for a new user.
pub fn sign_up(call: &Call<'_>) -> HandlerResult {
    let body = with_checked_auth_data(call)?;
    let body = body.as_ref().unwrap_or(call.body);
    let request = SignUp::parse(body)?;
    let pipeline = Pipeline::new(call, users::CLASS, &request.changes.flags);
    let write = writes::SignUp::new(body, request, call.flag("failOnNotExist"));
    pipeline.run(write, |store, who, out| {
        let body = client::user(store, &out.user, &View::default(), who, Some(&out.token))?;
        if !out.created {
            return Ok(Reply::ok(body));
        }
        let location = if call.request.path.starts_with("/1.1/classes/") {
            format!("/1.1/classes/_User/{}", out.user.id)
        } else {
            format!("/1.1/users/{}", out.user.id)
        };
        Ok(Reply::created(body, location))
    })
}

/// A sign-up or log-in by linked account runs onAuthData first, when the engine defines
/// it: the hook is sent `{"authData": ...}` and answers `{"result": <authData>}`, which
/// is what the sign-up then uses (it may check, refuse or transform it: protocol notes
/// §5.4, "onAuthData: result is the (possibly transformed) authData used for the
/// login"). A refusal is a before-hook's (142); nothing is stored. `None`: the body as
/// it came.
fn with_checked_auth_data(call: &Call<'_>) -> Result<Option<Map<String, Value>>, LcError> {
    let Some(auth_data) = call.body.get("authData").filter(|a| {
        a.as_object()
            .is_some_and(|a| a.values().any(Value::is_object))
    }) else {
        return Ok(None);
    };
    let Some(hooks) = hooks::for_user_hook(call, HookKind::OnAuthData) else {
        return Ok(None);
    };
    let answer = hooks.before(HookKind::OnAuthData, auth_data.clone(), None)?;
    let checked = match answer.get("result") {
        Some(result @ Value::Object(_)) => result.clone(),
        _ => {
            return Err(LcError::cloud_validation_failed(
                "the onAuthData hook did not answer {\"result\": <authData>}",
            ));
        }
    };
    let mut body = call.body.clone();
    body.insert("authData".into(), checked);
    Ok(Some(body))
}

/// `POST /1.1/login`: the user with their session token.
/// With `smsCode` instead of a password, the log-in is by SMS code (`phone`).
pub fn log_in(call: &Call<'_>) -> HandlerResult {
    if call.body.contains_key("smsCode") && !call.body.contains_key("password") {
        return super::phone::log_in_by_sms_code(call);
    }
    let request = LogIn::parse(call.body)?;
    let (id, hash) = users::log_in_target(&call.api.read_store(), &request)?;
    let matched = users::verify_password(&hash, &request.password);
    if !matched {
        return Err(users::log_in_failed(&mut call.api.store(), &id));
    }
    fire_on_login(call, &id)?;
    let mut store = call.api.store();
    // A password imported from LeanCloud's export is re-hashed with the emulator's own.
    if users::is_imported(&hash) {
        let fresh = store.hashing.hash(&request.password)?;
        users::set_password_hash(&mut store, &id, fresh);
    }
    let out = users::log_in_succeeded(&mut store, &id)?;
    let who = call.principal_ignoring_unknown_token(&store);
    Ok(Reply::ok(client::user(
        &store,
        &out.user,
        &View::default(),
        &who,
        Some(&out.token),
    )?))
}

/// onLogin for user `id`, when the engine defines it: a refusal is HTTP 401.
pub(super) fn fire_on_login(call: &Call<'_>, id: &str) -> Result<(), LcError> {
    if let Some(hooks) = hooks::for_user_hook(call, HookKind::OnLogin) {
        let object = {
            let store = call.api.read_store();
            store
                .object(users::CLASS, id)
                .map(|u| hook::object(&store, u))
        };
        if let Some(object) = object {
            hooks
                .before(HookKind::OnLogin, object, None)
                .map_err(|mut e| {
                    // The documented answer to a refused login is HTTP 401 (its code was not
                    // found; the hook's refusal keeps the before-hooks' 142).
                    e.status = 401;
                    e
                })?;
        }
    }
    Ok(())
}

/// `GET /1.1/users/me`: the session's user with its token; 211 without a valid one.
pub fn current_user(call: &Call<'_>) -> HandlerResult {
    let store = call.api.read_store();
    let who = call.principal(&store)?;
    let (Some(id), Some(token)) = (who.user_id(), call.ctx.session.as_deref()) else {
        return Err(LcError::user_not_found());
    };
    let user = store
        .object(users::CLASS, id)
        .ok_or_else(LcError::user_not_found)?;
    let view = View::from_query(&call.request.query)?;
    Ok(Reply::ok(client::user(
        &store,
        user,
        &view,
        &who,
        Some(token),
    )?))
}

/// `GET /1.1/users/<id>` and `GET /1.1/classes/_User/<id>`: the user (with the session
/// token only for themselves); a missing user is 211, unlike other classes' `{}`.
pub fn get_user(call: &Call<'_>) -> HandlerResult {
    let id = call.param(0);
    let view = View::from_query(&call.request.query)?;
    let store = call.api.read_store();
    let who = call.principal(&store)?;
    let user =
        objects::fetch(&store, users::CLASS, id, &who)?.ok_or_else(LcError::user_not_found)?;
    let token = call
        .ctx
        .session
        .as_deref()
        .filter(|_| who.user_id() == Some(id));
    Ok(Reply::ok(client::user(&store, user, &view, &who, token)?))
}

/// `GET /1.1/users`: a find on `_User` (closed to clients by default class permissions).
pub fn find_users(call: &Call<'_>) -> HandlerResult {
    object_handlers::find_objects(&as_user_class(call))
}

/// `PUT /1.1/users/<id>` and `PUT /1.1/classes/_User/<id>`: the user's own session or
/// the master key; a new `password` is hashed (the session token is kept). Fires
/// beforeUpdate and afterUpdate as any update does.
pub fn update_user(call: &Call<'_>) -> HandlerResult {
    let request = UserChanges::parse(call.body)?;
    let condition = object_handlers::condition(call)?;
    let pipeline = Pipeline::new(call, users::CLASS, &request.changes.flags);
    let write = UpdateUser::new(call.param(0), request, condition.as_ref());
    pipeline.run(write, |_, _, updated| {
        let fetch_when_save = object_handlers::fetch_when_save(call);
        Ok(Reply::ok(client::updated(updated, fetch_when_save)))
    })
}

/// `DELETE /1.1/users/<id>`: as `DELETE /1.1/classes/_User/<id>`.
pub fn delete_user(call: &Call<'_>) -> HandlerResult {
    object_handlers::delete_object(&as_user_class(call))
}

/// `PUT /1.1/users/<id>/refreshSessionToken`: a new token; the old ones stop working.
pub fn refresh_session_token(call: &Call<'_>) -> HandlerResult {
    let mut store = call.api.store();
    let who = call.principal(&store)?;
    let out = users::refresh_session_token(&mut store, call.param(0), &who)?;
    Ok(Reply::ok(client::user(
        &store,
        &out.user,
        &View::default(),
        &who,
        Some(&out.token),
    )?))
}

/// `PUT /1.1/users/<id>/updatePassword` `{old_password, new_password}`:
/// `{"updatedAt","objectId","sessionToken"}` with a new token (recorded).
pub fn update_password(call: &Call<'_>) -> HandlerResult {
    let id = call.param(0);
    let old = call.body.get("old_password");
    let old = match old {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(LcError::password_mismatch()),
    };
    let new = match call.body.get("new_password") {
        None | Some(Value::Null) => return Err(LcError::password_missing()),
        Some(Value::String(s)) if s.is_empty() => return Err(LcError::password_missing()),
        Some(Value::String(s)) if !s.trim().is_empty() => s.as_str(),
        Some(_) => return Err(LcError::invalid_password()),
    };
    let new_hash = writes::hash(call, Some(new))?.expect("a password was given");
    let current = {
        let store = call.api.read_store();
        let who = call.principal(&store)?;
        users::password_to_change(&store, id, &who)?
    };
    if !current.is_some_and(|hash| users::verify_password(&hash, old)) {
        return Err(LcError::password_mismatch());
    }
    let out = users::change_password(&mut call.api.store(), id, new_hash)?;
    Ok(Reply::ok(json!({
        "updatedAt": leancloud::value::format_date(out.user.updated_at),
        "objectId": out.user.id,
        "sessionToken": out.token,
    })))
}
