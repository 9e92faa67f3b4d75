use super::*;
use crate::ids::{Clock, SeededIds};
use leancloud::error::code;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A clock the test moves by hand.
struct Hand(AtomicI64);

impl Clock for Hand {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn store() -> (Store, Arc<Hand>) {
    let clock = Arc::new(Hand(AtomicI64::new(1_700_000_000_000)));
    let store = Store::new(clock.clone(), Box::new(SeededIds::new(7)));
    (store, clock)
}

fn advance(clock: &Hand, ms: i64) {
    clock.0.fetch_add(ms, Ordering::SeqCst);
}

const PHONE: &str = "+8618200008888";

#[test]
fn a_code_is_six_digits_accepted_once_for_its_purpose() {
    let (mut store, _) = store();
    let code = issue_code(&mut store, Purpose::Login, PHONE, None, None).unwrap();
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    let wrong_purpose = check_code(&mut store, &[Purpose::ResetPassword], Some(PHONE), &code);
    assert_eq!(wrong_purpose.unwrap_err().code, code::INVALID_SMS_CODE);
    let accepted = use_code(&mut store, &[Purpose::Login], Some(PHONE), &code).unwrap();
    assert_eq!(accepted.phone, PHONE);
    let again = use_code(&mut store, &[Purpose::Login], Some(PHONE), &code);
    assert_eq!(again.unwrap_err().code, code::INVALID_SMS_CODE);
}

#[test]
fn codes_expire_after_their_ttl() {
    let (mut store, clock) = store();
    let code = issue_code(&mut store, Purpose::Sms, PHONE, None, None).unwrap();
    advance(&clock, SMS_CODE_TTL_MS);
    let late = check_code(&mut store, &[Purpose::Sms], Some(PHONE), &code);
    assert_eq!(late.unwrap_err().code, code::INVALID_SMS_CODE);
    // A longer ttl asked for is honoured up to the maximum.
    advance(&clock, SMS_INTERVAL_MS);
    let code = issue_code(&mut store, Purpose::Sms, PHONE, Some(1000), None).unwrap();
    advance(&clock, MAX_SMS_TTL_MINUTES * 60 * 1000 - 1);
    assert!(check_code(&mut store, &[Purpose::Sms], Some(PHONE), &code).is_ok());
    advance(&clock, 1);
    assert!(check_code(&mut store, &[Purpose::Sms], Some(PHONE), &code).is_err());
}

#[test]
fn one_code_a_minute_and_ten_a_day_per_number() {
    let (mut store, clock) = store();
    issue_code(&mut store, Purpose::Sms, PHONE, None, None).unwrap();
    let soon = issue_code(&mut store, Purpose::Login, PHONE, None, None);
    assert_eq!(soon.unwrap_err().code, code::SMS_TOO_FREQUENT);
    // Another number is not held up.
    issue_code(&mut store, Purpose::Sms, "+8618200009999", None, None).unwrap();
    for _ in 1..MAX_SMS_PER_DAY {
        advance(&clock, SMS_INTERVAL_MS);
        issue_code(&mut store, Purpose::Sms, PHONE, None, None).unwrap();
    }
    advance(&clock, SMS_INTERVAL_MS);
    let over = issue_code(&mut store, Purpose::Sms, PHONE, None, None);
    assert_eq!(over.unwrap_err().code, code::SMS_TOO_FREQUENT);
    advance(&clock, DAY_MS);
    issue_code(&mut store, Purpose::Sms, PHONE, None, None).unwrap();
}

#[test]
fn too_many_wrong_guesses_void_a_code() {
    let (mut store, _) = store();
    let code = issue_code(&mut store, Purpose::Sms, PHONE, None, None).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..=MAX_CODE_ATTEMPTS {
        assert!(check_code(&mut store, &[Purpose::Sms], Some(PHONE), wrong).is_err());
    }
    let right = check_code(&mut store, &[Purpose::Sms], Some(PHONE), &code);
    assert_eq!(right.unwrap_err().code, code::INVALID_SMS_CODE);
}

#[test]
fn a_snapshot_of_the_store_keeps_pending_codes_apart() {
    let (mut store, _) = store();
    let code = issue_code(&mut store, Purpose::Sms, PHONE, None, None).unwrap();
    let copy = store.services.clone();
    use_code(&mut store, &[Purpose::Sms], Some(PHONE), &code).unwrap();
    store.services = copy;
    assert!(use_code(&mut store, &[Purpose::Sms], Some(PHONE), &code).is_ok());
}

#[test]
fn captchas_give_a_validate_token_spent_once() {
    let (mut store, clock) = store();
    let (token, code) = issue_captcha(&mut store).unwrap();
    assert_eq!(code.len(), 4);
    let validate = verify_captcha(&mut store, &token, &code.to_lowercase()).unwrap();
    assert!(
        verify_captcha(&mut store, &token, &code).is_err(),
        "one try per image"
    );
    use_validate_token(&mut store, &validate).unwrap();
    assert!(use_validate_token(&mut store, &validate).is_err());
    let (token, _) = issue_captcha(&mut store).unwrap();
    assert_eq!(
        verify_captcha(&mut store, &token, "????").unwrap_err().code,
        1
    );
    let (token, code) = issue_captcha(&mut store).unwrap();
    advance(&clock, CAPTCHA_TTL_MS);
    assert!(verify_captcha(&mut store, &token, &code).is_err());
}

#[test]
fn email_tokens_are_for_one_purpose_and_expire() {
    let (mut store, clock) = store();
    let token =
        issue_email_token(&mut store, EmailPurpose::VerifyEmail, "u1", "a@example.com").unwrap();
    assert!(email_token(&store, EmailPurpose::ResetPassword, &token).is_none());
    assert_eq!(
        email_token(&store, EmailPurpose::VerifyEmail, &token)
            .unwrap()
            .user,
        "u1"
    );
    advance(&clock, EMAIL_TOKEN_TTL_MS);
    assert!(email_token(&store, EmailPurpose::VerifyEmail, &token).is_none());
}
