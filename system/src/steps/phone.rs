//! Phone sign-in: numbers, SMS codes read from the outbox, and log-in by code. The
//! outbox is the emulator's (`GET /__mock/outbox` with the master key), so these steps
//! run on the `mock` and `stack` targets; a deployed app sends real SMS instead.

use crate::steps::users::remember_session;
use crate::{World, encode};
use cucumber::{given, then, when};
use leancloud::Caller;
use serde_json::json;

/// The newest code the outbox holds for `phone` (any purpose); fails clearly when none.
async fn code_sent_to(world: &mut World, phone: &str) -> String {
    let body = world
        .check(&format!("/__mock/outbox?channel=sms&to={}", encode(phone)))
        .await;
    let messages = body["results"].as_array().cloned().unwrap_or_default();
    let last = messages
        .last()
        .unwrap_or_else(|| panic!("no SMS was sent to {phone}: {body}"));
    last["code"]
        .as_str()
        .unwrap_or_else(|| panic!("the SMS to {phone} carries no code: {last}"))
        .to_string()
}

/// Example: Given "chen.wei" has the verified phone "+8613800138000"
///
/// Sets the user's `mobilePhoneNumber` and `mobilePhoneVerified` with the master key, as
/// if they had verified it earlier.
#[given(expr = "{string} has the verified phone {string}")]
async fn has_verified_phone(world: &mut World, username: String, phone: String) {
    let id = world.id_of("_User", &username).await;
    let body = json!({"mobilePhoneNumber": phone, "mobilePhoneVerified": true});
    let answer = world
        .request_as(
            &Caller::Master,
            "PUT",
            &format!("/1.1/users/{id}"),
            Some(body),
        )
        .await;
    assert_eq!(
        answer.status, 200,
        "setting the phone failed: {}",
        answer.body
    );
}

/// Example: When a log-in code is requested for "+8613800138000"
///
/// `POST /1.1/requestLoginSmsCode` without a session; the code lands in the outbox.
#[when(expr = "a log-in code is requested for {string}")]
async fn log_in_code_requested(world: &mut World, phone: String) {
    let body = json!({"mobilePhoneNumber": phone});
    world
        .request_as(
            &Caller::Anonymous,
            "POST",
            "/1.1/requestLoginSmsCode",
            Some(body),
        )
        .await;
}

/// Example: When "chen.wei" signs in with the SMS code sent to "+8613800138000"
///
/// Reads the newest SMS code sent to the number from the outbox and logs in with it
/// (`POST /1.1/login` with `mobilePhoneNumber` and `smsCode`); on success that user is
/// "me". The answer is checked by the `Then` steps.
#[when(expr = "{string} signs in with the SMS code sent to {string}")]
async fn signs_in_with_sms_code(world: &mut World, username: String, phone: String) {
    let code = code_sent_to(world, &phone).await;
    let body = json!({"mobilePhoneNumber": phone, "smsCode": code});
    let answer = world
        .request_as(&Caller::Anonymous, "POST", "/1.1/login", Some(body))
        .await
        .clone();
    remember_session(world, &username, &answer.body);
}

/// Example: Then an SMS with a code was sent to "+8613800138000"
#[then(expr = "an SMS with a code was sent to {string}")]
async fn sms_was_sent(world: &mut World, phone: String) {
    let code = code_sent_to(world, &phone).await;
    assert_eq!(code.len(), 6, "an SMS code has 6 digits: {code}");
}
