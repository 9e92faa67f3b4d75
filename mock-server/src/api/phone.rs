//! SMS and phone flows: `requestSmsCode`, `verifySmsCode/<code>`, `usersByMobilePhone`,
//! `requestMobilePhoneVerify`, `verifyMobilePhone/<code>`, `requestLoginSmsCode` (and
//! `POST /1.1/login` with `smsCode`), `requestChangePhoneNumber`, `changePhoneNumber`,
//! `requestPasswordResetBySmsCode` and `resetPasswordBySmsCode/<code>`.
//!
//! Every code goes to the outbox (`lc_model::outbox`), never to a carrier; its issue,
//! expiry and rate limits are `lc_model::verification`'s. Paths, bodies and answers
//! (`{}` for the requests, the user with its session token for sign-up and log-in) are
//! those of LeanCloud's SMS REST guide (leancloud/docs `rest_sms_api`, protocol notes
//! §users). Where the guide leaves a choice to the app's settings, the emulator takes:
//! - log-in by SMS code is for verified numbers ("已验证手机号码的用户，允许以短信验证码
//!   登录"): `requestLoginSmsCode` and the log-in are 215 for an unverified one;
//! - reset by SMS is for verified numbers too (the option allowing unverified ones is
//!   off): 215;
//! - `usersByMobilePhone` signs up a new number with `username` = the number (unless
//!   the body names one) and `mobilePhoneVerified: true`, as the guide says; an
//!   existing number logs in (firing onLogin, as `POST /1.1/login` does).

use super::pipeline::Pipeline;
use super::routes::Call;
use super::{HandlerResult, Reply, hooks, users as user_handlers, writes};
use lc_model::Store;
use lc_model::outbox::{Channel, Draft};
use lc_model::presentation::{View, client, hook};
use lc_model::users::{self, phone};
use lc_model::verification::{self, Purpose, SMS_CODE_TTL_MS};
use leancloud::LcError;
use leancloud::cloud::{HookKind, VerifyType};
use serde_json::{Value, json};

const PHONE: &str = "mobilePhoneNumber";

/// Issue a code for `phone` and put its SMS in the outbox, under one lock so that two
/// requests cannot both pass the rate limit.
fn send_code(
    call: &Call<'_>,
    purpose: Purpose,
    phone: &str,
    user: Option<&str>,
) -> Result<(), LcError> {
    let ttl = call.body.get("ttl").and_then(Value::as_i64);
    let mut store = call.api.store();
    let code = verification::issue_code(&mut store, purpose, phone, ttl, user)?;
    let minutes = ttl
        .filter(|m| *m > 0)
        .map_or(SMS_CODE_TTL_MS / 60_000, |m| {
            m.min(verification::MAX_SMS_TTL_MINUTES)
        });
    let name = call
        .body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(&call.api.config().app_id)
        .to_string();
    let op = call
        .body
        .get("op")
        .and_then(Value::as_str)
        .unwrap_or(match purpose {
            Purpose::Sms => "verification",
            Purpose::VerifyPhone => "phone number verification",
            Purpose::Login => "log-in",
            Purpose::ResetPassword => "password reset",
            Purpose::ChangePhone => "phone number change",
        });
    let text =
        format!("【{name}】Your code for {op} is {code}. It is valid for {minutes} minutes.");
    let mut data = serde_json::Map::new();
    for key in ["template", "sign", "smsType"] {
        if let Some(v) = call.body.get(key) {
            data.insert(key.into(), v.clone());
        }
    }
    let now = store.clock.now_ms();
    store.services.outbox.send(
        Channel::Sms,
        Draft {
            purpose: purpose.as_str().into(),
            to: phone.into(),
            text,
            code: Some(code),
            data: if data.is_empty() {
                Value::Null
            } else {
                Value::Object(data)
            },
            ..Draft::default()
        },
        now,
    );
    Ok(())
}

/// The number a request names: the body's, else the query's (`verifySmsCode` sends it
/// in the query string).
fn phone_of<'a>(call: &'a Call<'a>) -> Result<&'a str, LcError> {
    match (call.body.get(PHONE), call.request.query_param(PHONE)) {
        (None, Some(q)) => phone::phone_in(&query_body(q), PHONE).map(|_| q),
        _ => phone::phone_in(call.body, PHONE),
    }
}

fn query_body(value: &str) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    map.insert(PHONE.into(), Value::String(value.into()));
    map
}

/// The code a body carries under `key`; a missing one matches nothing (603).
fn code_in<'a>(call: &'a Call<'a>, key: &str) -> Result<&'a str, LcError> {
    call.body
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(LcError::invalid_sms_code)
}

/// `POST /1.1/requestSmsCode` `{mobilePhoneNumber, ttl?, name?, op?, template?,
/// validate_token?}`: `{}`; the code lands in the outbox. A `validate_token` (from a
/// solved captcha) is spent, and refused when unknown.
pub fn request_sms_code(call: &Call<'_>) -> HandlerResult {
    let phone = phone::phone_in(call.body, PHONE)?;
    if let Some(token) = call.body.get("validate_token") {
        let token = token.as_str().unwrap_or_default();
        verification::use_validate_token(&mut call.api.store(), token)?;
    }
    send_code(call, Purpose::Sms, phone, None)?;
    Ok(Reply::ok(json!({})))
}

/// `POST /1.1/verifySmsCode/<code>?mobilePhoneNumber=...` (or in the body): `{}`, the
/// code spent; 603 otherwise.
pub fn verify_sms_code(call: &Call<'_>) -> HandlerResult {
    let phone = phone_of(call)?;
    verification::use_code(
        &mut call.api.store(),
        &[Purpose::Sms],
        Some(phone),
        call.param(0),
    )?;
    Ok(Reply::ok(json!({})))
}

/// `POST /1.1/usersByMobilePhone` `{mobilePhoneNumber, smsCode, ...fields}`: log in
/// the number's user (200), or sign one up (201), verified.
pub fn users_by_mobile_phone(call: &Call<'_>) -> HandlerResult {
    let phone = phone::phone_in(call.body, PHONE)?;
    let code = code_in(call, "smsCode")?;
    let purposes = [Purpose::Sms, Purpose::Login];
    let accepted = verification::check_code(&mut call.api.store(), &purposes, Some(phone), code)?;
    let existing = phone::user_by_phone(&call.api.read_store(), phone).map(|u| u.id.clone());
    if let Some(id) = existing {
        verification::take_code(&mut call.api.store(), &accepted);
        return log_in(call, &id);
    }
    let mut body = call.body.clone();
    body.remove("smsCode");
    if !body.contains_key("username") {
        body.insert("username".into(), Value::String(phone.into()));
    }
    let request = users::SignUp::parse_without_password(&body)?;
    let pipeline = Pipeline::new(call, users::CLASS, &request.changes.flags);
    let write = writes::SignUp::new(&body, request, false);
    let out = pipeline.run(write, |_, _, out| Ok(out.clone()))?;
    let mut store = call.api.store();
    verification::take_code(&mut store, &accepted);
    let user = phone::set_fields(
        &mut store,
        &out.user.id,
        &[("mobilePhoneVerified", true.into())],
    )?;
    let who = call.principal_ignoring_unknown_token(&store);
    let body = client::user(&store, &user, &View::default(), &who, Some(&out.token))?;
    let status = if out.created { 201 } else { 200 };
    let mut reply = Reply::ok(body);
    reply.status = status;
    if out.created {
        reply
            .headers
            .push(("location".into(), format!("/1.1/users/{}", user.id).into()));
    }
    Ok(reply)
}

/// Log `id` in after a code proved the number: onLogin, then the user with its token.
fn log_in(call: &Call<'_>, id: &str) -> HandlerResult {
    user_handlers::fire_on_login(call, id)?;
    let mut store = call.api.store();
    let out = users::log_in_succeeded(&mut store, id)?;
    let who = call.principal_ignoring_unknown_token(&store);
    Ok(Reply::ok(client::user(
        &store,
        &out.user,
        &View::default(),
        &who,
        Some(&out.token),
    )?))
}

/// `POST /1.1/login` `{mobilePhoneNumber, smsCode}`: 213 for an unknown number, 215
/// for an unverified one, 603 for a wrong code.
pub fn log_in_by_sms_code(call: &Call<'_>) -> HandlerResult {
    let phone = phone::phone_in(call.body, PHONE)?;
    let code = code_in(call, "smsCode")?;
    let id = verified_user(&call.api.read_store(), phone)?;
    let purposes = [Purpose::Login, Purpose::Sms];
    let accepted = verification::check_code(&mut call.api.store(), &purposes, Some(phone), code)?;
    verification::take_code(&mut call.api.store(), &accepted);
    log_in(call, &id)
}

/// The id of the user with number `phone`, which must be verified (213, 215).
fn verified_user(store: &Store, phone: &str) -> Result<String, LcError> {
    let user = phone::require_user_by_phone(store, phone)?;
    if !phone::is_verified(user, "mobilePhoneVerified") {
        return Err(LcError::mobile_phone_not_verified());
    }
    Ok(user.id.to_string())
}

/// `POST /1.1/requestMobilePhoneVerify` `{mobilePhoneNumber}`: a code to verify the
/// number's user (213 without one).
pub fn request_mobile_phone_verify(call: &Call<'_>) -> HandlerResult {
    let phone = phone::phone_in(call.body, PHONE)?;
    let id = phone::require_user_by_phone(&call.api.read_store(), phone)?
        .id
        .clone();
    send_code(call, Purpose::VerifyPhone, phone, Some(&id))?;
    Ok(Reply::ok(json!({})))
}

/// `POST /1.1/verifyMobilePhone/<code>` (`{mobilePhoneNumber}` optional): the user's
/// `mobilePhoneVerified` becomes `true` and onVerified `sms` fires; `{}`.
pub fn verify_mobile_phone(call: &Call<'_>) -> HandlerResult {
    let phone = match call.body.get(PHONE) {
        None => None,
        Some(_) => Some(phone::phone_in(call.body, PHONE)?),
    };
    let user = {
        let mut store = call.api.store();
        let accepted =
            verification::use_code(&mut store, &[Purpose::VerifyPhone], phone, call.param(0))?;
        let id = match accepted.user {
            Some(id) => id,
            None => phone::require_user_by_phone(&store, &accepted.phone)?
                .id
                .to_string(),
        };
        let user = phone::set_fields(&mut store, &id, &[("mobilePhoneVerified", true.into())])?;
        hook::object(&store, &user)
    };
    fire_on_verified(call, VerifyType::Sms, user);
    Ok(Reply::ok(json!({})))
}

/// onVerified (`sms` or `email`) for `user` (its hook form), after the fact: an
/// after-type hook, whose failure changes nothing (protocol notes §5.4).
pub(super) fn fire_on_verified(call: &Call<'_>, kind: VerifyType, user: Value) {
    let kind = HookKind::OnVerified(kind);
    if let Some(hooks) = hooks::for_user_hook(call, kind) {
        hooks.after(kind, user, None);
    }
}

/// `POST /1.1/requestLoginSmsCode` `{mobilePhoneNumber}`: 213, 215, or a log-in code.
pub fn request_login_sms_code(call: &Call<'_>) -> HandlerResult {
    let phone = phone::phone_in(call.body, PHONE)?;
    let id = verified_user(&call.api.read_store(), phone)?;
    send_code(call, Purpose::Login, phone, Some(&id))?;
    Ok(Reply::ok(json!({})))
}

/// `POST /1.1/requestPasswordResetBySmsCode` `{mobilePhoneNumber}`: 213, 215, or a
/// reset code.
pub fn request_password_reset_by_sms_code(call: &Call<'_>) -> HandlerResult {
    let phone = phone::phone_in(call.body, PHONE)?;
    let id = verified_user(&call.api.read_store(), phone)?;
    send_code(call, Purpose::ResetPassword, phone, Some(&id))?;
    Ok(Reply::ok(json!({})))
}

/// `PUT /1.1/resetPasswordBySmsCode/<code>` `{password, mobilePhoneNumber?}`: the new
/// password is set and the user's sessions end (as `updatePassword` does); `{}`.
pub fn reset_password_by_sms_code(call: &Call<'_>) -> HandlerResult {
    let password = match call.body.get("password") {
        None | Some(Value::Null) => return Err(LcError::password_missing()),
        Some(Value::String(s)) if s.is_empty() => return Err(LcError::password_missing()),
        Some(Value::String(s)) if !s.trim().is_empty() => s.as_str(),
        Some(_) => return Err(LcError::invalid_password()),
    };
    let phone = match call.body.get(PHONE) {
        None => None,
        Some(_) => Some(phone::phone_in(call.body, PHONE)?),
    };
    let purposes = [Purpose::ResetPassword];
    let accepted =
        verification::check_code(&mut call.api.store(), &purposes, phone, call.param(0))?;
    let hash = writes::hash(call, Some(password))?.expect("a password was given");
    let mut store = call.api.store();
    let id = match &accepted.user {
        Some(id) => id.clone(),
        None => phone::require_user_by_phone(&store, &accepted.phone)?
            .id
            .to_string(),
    };
    verification::take_code(&mut store, &accepted);
    users::change_password(&mut store, &id, hash)?;
    Ok(Reply::ok(json!({})))
}

/// The signed-in user's id: 211 without a valid session, as `/users/me` answers.
fn session_user(call: &Call<'_>, store: &Store) -> Result<String, LcError> {
    let who = call.principal(store)?;
    who.user_id()
        .map(str::to_string)
        .ok_or_else(LcError::user_not_found)
}

/// `POST /1.1/requestChangePhoneNumber` `{mobilePhoneNumber}` with the user's session:
/// a code to the new number (214 when another user has it).
pub fn request_change_phone_number(call: &Call<'_>) -> HandlerResult {
    let phone = phone::phone_in(call.body, PHONE)?;
    let id = {
        let store = call.api.read_store();
        let id = session_user(call, &store)?;
        if phone::user_by_phone(&store, phone).is_some_and(|u| u.id != id) {
            return Err(LcError::mobile_phone_taken());
        }
        id
    };
    send_code(call, Purpose::ChangePhone, phone, Some(&id))?;
    Ok(Reply::ok(json!({})))
}

/// `POST /1.1/changePhoneNumber` `{mobilePhoneNumber, code}` with the session of the
/// user the code was sent for: the number is the user's, verified; `{}`.
pub fn change_phone_number(call: &Call<'_>) -> HandlerResult {
    let phone = phone::phone_in(call.body, PHONE)?;
    let code = code_in(call, "code")?;
    let mut store = call.api.store();
    // The code first, as the service checks it: a code nobody asked for is 603 whoever
    // sends it (the Python SDK's suite calls this signed out and expects 603).
    let accepted =
        verification::check_code(&mut store, &[Purpose::ChangePhone], Some(phone), code)?;
    let id = session_user(call, &store)?;
    if accepted.user.as_deref() != Some(id.as_str()) {
        return Err(LcError::invalid_sms_code());
    }
    phone::change_phone(&mut store, &id, phone)?;
    verification::take_code(&mut store, &accepted);
    Ok(Reply::ok(json!({})))
}
