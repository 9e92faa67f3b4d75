//! Captcha: `GET /1.1/requestCaptcha` answers `{captcha_token, captcha_url}`, the code
//! going to the outbox (channel `captcha`) instead of into an image a person reads;
//! `POST /1.1/verifyCaptcha` `{captcha_code, captcha_token}` answers `{validate_token}`,
//! which `requestSmsCode` accepts once (LeanCloud's SMS guide, docs/sdk/sms/guide.mdx,
//! "图形验证码 API"; the field names are those the official SDKs send and read). The
//! image at `captcha_url` is a keyless SVG showing the code (`pages`).

use super::email::base_url;
use super::routes::Call;
use super::{HandlerResult, Reply};
use lc_model::outbox::{Channel, Draft};
use lc_model::verification;
use leancloud::LcError;
use serde_json::{Value, json};

pub fn request_captcha(call: &Call<'_>) -> HandlerResult {
    let mut store = call.api.store();
    let (token, code) = verification::issue_captcha(&mut store)?;
    let url = format!("{}/captcha/{token}", base_url(call.request));
    let now = store.clock.now_ms();
    store.services.outbox.send(
        Channel::Captcha,
        Draft {
            purpose: "captcha".into(),
            text: format!("The captcha shows {code}"),
            code: Some(code),
            link: Some(url.clone()),
            data: json!({ "captcha_token": token }),
            ..Draft::default()
        },
        now,
    );
    Ok(Reply::ok(
        json!({ "captcha_token": token, "captcha_url": url }),
    ))
}

pub fn verify_captcha(call: &Call<'_>) -> HandlerResult {
    let field = |key: &str| match call.body.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.as_str()),
        _ => Err(LcError::invalid_captcha(format!("{key} is required"))),
    };
    let (code, token) = (field("captcha_code")?, field("captcha_token")?);
    let validate = verification::verify_captcha(&mut call.api.store(), token, code)?;
    Ok(Reply::ok(json!({ "validate_token": validate })))
}
