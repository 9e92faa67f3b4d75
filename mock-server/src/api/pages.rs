//! The pages an email or a captcha links to, served without keys as the service's are
//! (a person opens them in a browser): `GET /verifyEmail/<token>` verifies the address
//! (and fires onVerified `email`); `GET /resetPassword/<token>` shows a form whose
//! `POST` (`password=...`, form-encoded, or `{"password"}`) sets the new password and
//! ends the user's sessions; `GET /captcha/<token>` is the captcha's image (an SVG).
//! A token that is unknown, used or expired is a 404 page; a link works once.

use super::auth::{Ctx, Privilege};
use super::routes::Call;
use super::{Api, phone, writes};
use lc_model::presentation::hook;
use lc_model::users;
use lc_model::verification::{self, EmailPurpose};
use leancloud::cloud::VerifyType;
use leancloud::{Request, Response};
use serde_json::{Map, Value};

/// The page for `request`, or `None` when it is not one of these paths.
pub(super) fn serve(api: &Api, request: &Request) -> Option<Response> {
    let path = request.path.strip_suffix('/').unwrap_or(&request.path);
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let (page, token) = (parts.next()?, parts.next()?);
    if token.is_empty() || token.contains('/') {
        return None;
    }
    Some(match (request.method.as_str(), page) {
        ("GET", "verifyEmail") => verify_email(api, request, token),
        ("GET", "resetPassword") => reset_form(api, token),
        ("POST", "resetPassword") => reset_password(api, request, token),
        ("GET", "captcha") => captcha_image(api, token),
        _ => return None,
    })
}

fn html(status: u16, title: &str, body: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    );
    Response {
        status,
        headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
        body: page.into_bytes(),
    }
}

fn gone() -> Response {
    html(
        404,
        "This link is invalid or has expired",
        "<p>Ask for a new one.</p>",
    )
}

/// A call for the hook chain and the password hashing, as the app itself (no session).
fn with_call<R>(api: &Api, request: &Request, f: impl FnOnce(&Call<'_>) -> R) -> R {
    let ctx = Ctx {
        privilege: Privilege::App,
        session: None,
        hook_key: false,
        production: true,
        in_batch: false,
        trace: None,
    };
    let body = Map::new();
    let call = Call {
        api,
        ctx: &ctx,
        request,
        body: &body,
        params: Vec::new(),
    };
    f(&call)
}

fn verify_email(api: &Api, request: &Request, token: &str) -> Response {
    let user = {
        let mut store = api.store();
        let Some(found) = verification::email_token(&store, EmailPurpose::VerifyEmail, token)
        else {
            return gone();
        };
        verification::take_email_token(&mut store, token);
        // The address must still be the user's: a changed email is not verified by an
        // old link.
        let current = store
            .object(users::CLASS, &found.user)
            .and_then(|u| u.val("email").and_then(|v| v.as_str().map(str::to_string)));
        if current.as_deref() != Some(found.email.as_str()) {
            return gone();
        }
        match users::phone::set_fields(&mut store, &found.user, &[("emailVerified", true.into())]) {
            Ok(user) => hook::object(&store, &user),
            Err(_) => return gone(),
        }
    };
    with_call(api, request, |call| {
        phone::fire_on_verified(call, VerifyType::Email, user)
    });
    html(200, "Your email address is verified", "")
}

fn reset_form(api: &Api, token: &str) -> Response {
    let store = api.read_store();
    if verification::email_token(&store, EmailPurpose::ResetPassword, token).is_none() {
        return gone();
    }
    html(
        200,
        "Choose a new password",
        &format!(
            "<form method=\"post\" action=\"/resetPassword/{token}\">\
             <input type=\"password\" name=\"password\"><button>Save</button></form>"
        ),
    )
}

/// The `password` of a form-encoded or JSON body.
fn password_in(body: &[u8]) -> Option<String> {
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
        return map.get("password")?.as_str().map(str::to_string);
    }
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        if key != "password" {
            return None;
        }
        let value = value.replace('+', " ");
        percent_encoding::percent_decode_str(&value)
            .decode_utf8()
            .ok()
            .map(|v| v.into_owned())
    })
}

fn reset_password(api: &Api, request: &Request, token: &str) -> Response {
    let Some(found) =
        verification::email_token(&api.read_store(), EmailPurpose::ResetPassword, token)
    else {
        return gone();
    };
    let password = password_in(&request.body).filter(|p| !p.trim().is_empty());
    let Some(password) = password else {
        return html(400, "The password must be a non-blank string", "");
    };
    let hash = match with_call(api, request, |call| writes::hash(call, Some(&password))) {
        Ok(Some(hash)) => hash,
        _ => return html(400, "The password could not be set", ""),
    };
    let mut store = api.store();
    if verification::email_token(&store, EmailPurpose::ResetPassword, token).is_none() {
        return gone();
    }
    verification::take_email_token(&mut store, token);
    match users::change_password(&mut store, &found.user, hash) {
        Ok(_) => html(200, "Your password is changed", ""),
        Err(_) => gone(),
    }
}

/// The captcha's image: its code drawn as SVG text, for a browser page under test.
fn captcha_image(api: &Api, token: &str) -> Response {
    let Some(code) = verification::captcha_code(&api.read_store(), token) else {
        return gone();
    };
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"85\" height=\"30\">\
         <text x=\"10\" y=\"22\" font-family=\"monospace\" font-size=\"20\">{code}</text></svg>"
    );
    Response {
        status: 200,
        headers: vec![("content-type".into(), "image/svg+xml".into())],
        body: svg.into_bytes(),
    }
}
