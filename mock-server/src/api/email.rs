//! Email flows: `requestEmailVerify` and `requestPasswordReset` put an email with a
//! link in the outbox; the link's pages (`pages`) verify the address or set a new
//! password. The bodies and errors (`{email}`; 204, 125, 205) are the REST guide's
//! (protocol notes §users); the link's path is the emulator's own (`/verifyEmail/<token>`,
//! `/resetPassword/<token>` on the emulator's host): the service's link points at its
//! own pages, whose path was not recorded.

use super::routes::Call;
use super::{HandlerResult, Reply};
use lc_model::outbox::{Channel, Draft};
use lc_model::users;
use lc_model::verification::{self, EmailPurpose};
use leancloud::{LcError, Request};
use serde_json::json;

/// `http://<host>` of the request, for links back to the emulator; empty when the
/// request names no host (in-process calls), so the link is a path.
pub(super) fn base_url(request: &Request) -> String {
    request
        .header("host")
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ']))
        .map(|h| format!("http://{h}"))
        .unwrap_or_default()
}

fn send_link(call: &Call<'_>, purpose: EmailPurpose) -> HandlerResult {
    let mut store = call.api.store();
    let (id, email) = {
        let user = users::user_by_email(&store, call.body)?;
        let email = user
            .val("email")
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(LcError::email_not_found)?;
        (user.id.clone(), email)
    };
    let token = verification::issue_email_token(&mut store, purpose, &id, &email)?;
    let app = call.api.config().app_id.clone();
    let (path, subject, what) = match purpose {
        EmailPurpose::VerifyEmail => (
            "verifyEmail",
            format!("Verify your email for {app}"),
            "verify your email address",
        ),
        EmailPurpose::ResetPassword => (
            "resetPassword",
            format!("Reset your password for {app}"),
            "choose a new password",
        ),
    };
    let link = format!("{}/{path}/{token}", base_url(call.request));
    let now = store.clock.now_ms();
    store.services.outbox.send(
        Channel::Email,
        Draft {
            purpose: purpose.as_str().into(),
            to: email,
            subject: Some(subject),
            text: format!("Open this link to {what}: {link}"),
            link: Some(link),
            ..Draft::default()
        },
        now,
    );
    Ok(Reply::ok(json!({})))
}

/// `POST /1.1/requestEmailVerify` `{email}`: `{}`, and an email with a verification
/// link in the outbox.
pub fn request_email_verify(call: &Call<'_>) -> HandlerResult {
    send_link(call, EmailPurpose::VerifyEmail)
}

/// `POST /1.1/requestPasswordReset` `{email}`: `{}`, and an email with a link to the
/// reset page in the outbox.
pub fn request_password_reset(call: &Call<'_>) -> HandlerResult {
    send_link(call, EmailPurpose::ResetPassword)
}
