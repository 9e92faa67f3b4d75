//! What the verification services hand out and later accept: SMS codes (per number and
//! purpose), email link tokens, captchas and the `validate_token` a solved captcha gives.
//! Every part lives in [`crate::store::Services`], so a reset, a snapshot or a fork
//! carries pending codes and rate-limit counts with the rest of the app; time is the
//! store's clock only.
//!
//! The service's figures (LeanCloud's SMS REST guide, leancloud/docs `rest_sms_api`,
//! "短信有什么限制吗" and the `ttl` parameter; the SMS guide docs/sdk/sms/guide.mdx,
//! "验证码仅在 10 分钟内有效"):
//! - a code is valid for [`SMS_CODE_TTL_MS`] (10 minutes) unless `requestSmsCode` asks
//!   for another `ttl` (in minutes, at most [`MAX_SMS_TTL_MINUTES`], a choice);
//! - one number gets at most one code per [`SMS_INTERVAL_MS`] (a minute) and
//!   [`MAX_SMS_PER_DAY`] (10) a day; past either, 601.
//!
//! Choices where nothing is documented, LeanCloud-shaped:
//! - a code survives [`MAX_CODE_ATTEMPTS`] wrong guesses; the next wrong one voids it
//!   (603 from then on, as for an expired code);
//! - a code is spent when a flow accepts it; a newer code for the same number and
//!   purpose replaces the older one;
//! - email links live [`EMAIL_TOKEN_TTL_MS`] (a day), captchas [`CAPTCHA_TTL_MS`] and
//!   validate tokens [`VALIDATE_TOKEN_TTL_MS`]; each is used once;
//! - at most [`MAX_PENDING`] codes, tokens or captchas of each kind are kept: expired ones
//!   go first; when every one is still live, the request that would add one is 601.

use crate::store::Store;
use imbl::{HashMap, Vector};
use leancloud::LcError;
use serde::{Deserialize, Serialize};

/// How long an SMS code is valid by default (10 minutes, the documented default).
pub const SMS_CODE_TTL_MS: i64 = 10 * 60 * 1000;
/// The longest `ttl` (minutes) `requestSmsCode` accepts; longer ones are cut to it.
pub const MAX_SMS_TTL_MINUTES: i64 = 30;
/// One code per number per minute (documented).
pub const SMS_INTERVAL_MS: i64 = 60 * 1000;
/// Codes per number per day (documented: 10).
pub const MAX_SMS_PER_DAY: usize = 10;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Wrong guesses a code survives.
pub const MAX_CODE_ATTEMPTS: u32 = 5;
/// How long an email verification or password-reset link works (a day).
pub const EMAIL_TOKEN_TTL_MS: i64 = DAY_MS;
/// How long a captcha can be solved (5 minutes).
pub const CAPTCHA_TTL_MS: i64 = 5 * 60 * 1000;
/// How long a solved captcha's `validate_token` can be spent on `requestSmsCode`.
pub const VALIDATE_TOKEN_TTL_MS: i64 = 5 * 60 * 1000;
/// Codes, email tokens, captchas and validate tokens kept, each kind apart.
pub const MAX_PENDING: usize = 10_000;

/// What an SMS code is for. A flow accepts only the purposes it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Purpose {
    /// `requestSmsCode`: any operation the app verifies itself (`verifySmsCode`), and
    /// sign-up or log-in by phone.
    Sms,
    /// `requestMobilePhoneVerify`: the user's own number.
    VerifyPhone,
    /// `requestLoginSmsCode`.
    Login,
    /// `requestPasswordResetBySmsCode`.
    ResetPassword,
    /// `requestChangePhoneNumber`: a signed-in user's new number.
    ChangePhone,
}

impl Purpose {
    /// The name the outbox files the message under.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Sms => "sms",
            Purpose::VerifyPhone => "verifyMobilePhone",
            Purpose::Login => "login",
            Purpose::ResetPassword => "resetPassword",
            Purpose::ChangePhone => "changePhoneNumber",
        }
    }
}

/// What an email link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EmailPurpose {
    VerifyEmail,
    ResetPassword,
}

impl EmailPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailPurpose::VerifyEmail => "verifyEmail",
            EmailPurpose::ResetPassword => "resetPassword",
        }
    }
}

/// A code sent and not yet used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCode {
    pub code: String,
    pub expires_at: i64,
    pub wrong: u32,
    /// The user the code was sent for, when a flow bound it to one (a phone change).
    pub user: Option<String>,
}

/// An email link's token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailToken {
    pub purpose: EmailPurpose,
    pub user: String,
    pub email: String,
    pub expires_at: i64,
}

/// The verification services' state (a field of `Services`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Verification {
    #[serde(with = "crate::serde_pairs")]
    codes: HashMap<(Purpose, String), PendingCode>,
    /// Per number, when codes were sent within the last day.
    sent: HashMap<String, Vector<i64>>,
    email_tokens: HashMap<String, EmailToken>,
    /// Captcha token -> (code, expiry).
    captchas: HashMap<String, (String, i64)>,
    /// Validate token -> expiry.
    validate_tokens: HashMap<String, i64>,
}

impl Verification {
    /// Whether `other` is this very state (a copy that shares its maps).
    pub fn same(&self, other: &Verification) -> bool {
        self.codes.ptr_eq(&other.codes)
            && self.sent.ptr_eq(&other.sent)
            && self.email_tokens.ptr_eq(&other.email_tokens)
            && self.captchas.ptr_eq(&other.captchas)
            && self.validate_tokens.ptr_eq(&other.validate_tokens)
    }
}

/// A code accepted: the number it was sent to and the user it was bound to, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub purpose: Purpose,
    pub phone: String,
    pub user: Option<String>,
}

/// `n` decimal digits from the store's id generator (seeded ids give the same codes).
fn digits(store: &mut Store, n: usize) -> String {
    let mut out = String::new();
    while out.len() < n {
        let token = store.ids.token();
        out.extend(
            token
                .bytes()
                .map(|b| char::from(b'0' + b % 10))
                .take(n - out.len()),
        );
    }
    out
}

/// Make room for one more entry in `map` (expired ones go); false when it is full of
/// live ones.
fn room<K: Clone + std::hash::Hash + Eq, V: Clone>(
    map: &mut HashMap<K, V>,
    now: i64,
    expiry: impl Fn(&V) -> i64,
) -> bool {
    if map.len() < MAX_PENDING {
        return true;
    }
    map.retain(|_, v| expiry(v) > now);
    map.len() < MAX_PENDING
}

/// Issue an SMS code for `phone`: the rate limits (601), then a fresh 6-digit code that
/// replaces any pending one for the same number and purpose. `ttl_minutes`: the
/// request's `ttl`, if any. Returns the code; sending it is the caller's.
pub fn issue_code(
    store: &mut Store,
    purpose: Purpose,
    phone: &str,
    ttl_minutes: Option<i64>,
    user: Option<&str>,
) -> Result<String, LcError> {
    let now = store.clock.now_ms();
    let state = &mut store.services.verification;
    let mut times = state.sent.get(phone).cloned().unwrap_or_default();
    times.retain(|t| now - *t < DAY_MS);
    if times
        .back()
        .is_some_and(|last| now - last < SMS_INTERVAL_MS)
        || times.len() >= MAX_SMS_PER_DAY
    {
        return Err(LcError::sms_too_frequent());
    }
    if !room(&mut state.codes, now, |c| c.expires_at) {
        return Err(LcError::sms_too_frequent());
    }
    if !state.sent.contains_key(phone) && state.sent.len() >= MAX_PENDING {
        state
            .sent
            .retain(|_, t| t.back().is_some_and(|last| now - last < DAY_MS));
        if state.sent.len() >= MAX_PENDING {
            return Err(LcError::sms_too_frequent());
        }
    }
    let ttl = ttl_minutes
        .filter(|m| *m > 0)
        .map_or(SMS_CODE_TTL_MS, |m| m.min(MAX_SMS_TTL_MINUTES) * 60 * 1000);
    let code = digits(store, 6);
    let state = &mut store.services.verification;
    times.push_back(now);
    state.sent.insert(phone.to_string(), times);
    state.codes.insert(
        (purpose, phone.to_string()),
        PendingCode {
            code: code.clone(),
            expires_at: now + ttl,
            wrong: 0,
            user: user.map(str::to_string),
        },
    );
    Ok(code)
}

/// Whether `code` is live for `phone` under one of `purposes`, without spending it (a
/// flow that may still fail checks first, and spends with [`take_code`] once it is done).
/// A wrong code counts against the pending ones.
pub fn check_code(
    store: &mut Store,
    purposes: &[Purpose],
    phone: Option<&str>,
    code: &str,
) -> Result<Accepted, LcError> {
    let now = store.clock.now_ms();
    let state = &mut store.services.verification;
    let live = |c: &PendingCode| c.expires_at > now && c.wrong <= MAX_CODE_ATTEMPTS;
    let found = state
        .codes
        .iter()
        .filter(|((p, number), c)| {
            purposes.contains(p) && phone.is_none_or(|n| n == number) && live(c)
        })
        .find(|(_, c)| c.code == code)
        .map(|((p, number), c)| Accepted {
            purpose: *p,
            phone: number.clone(),
            user: c.user.clone(),
        });
    if let Some(accepted) = found {
        return Ok(accepted);
    }
    // A wrong guess for a named number counts against its pending codes.
    if let Some(phone) = phone {
        for purpose in purposes {
            let key = (*purpose, phone.to_string());
            if let Some(pending) = state.codes.get_mut(&key) {
                pending.wrong += 1;
            }
        }
    }
    Err(LcError::invalid_sms_code())
}

/// Spend an accepted code.
pub fn take_code(store: &mut Store, accepted: &Accepted) {
    store
        .services
        .verification
        .codes
        .remove(&(accepted.purpose, accepted.phone.clone()));
}

/// [`check_code`] then [`take_code`].
pub fn use_code(
    store: &mut Store,
    purposes: &[Purpose],
    phone: Option<&str>,
    code: &str,
) -> Result<Accepted, LcError> {
    let accepted = check_code(store, purposes, phone, code)?;
    take_code(store, &accepted);
    Ok(accepted)
}

/// A new email link token for `user`.
pub fn issue_email_token(
    store: &mut Store,
    purpose: EmailPurpose,
    user: &str,
    email: &str,
) -> Result<String, LcError> {
    let now = store.clock.now_ms();
    if !room(&mut store.services.verification.email_tokens, now, |t| {
        t.expires_at
    }) {
        return Err(LcError::sms_too_frequent());
    }
    let token = format!("{}{}", store.ids.token(), store.ids.token());
    store.services.verification.email_tokens.insert(
        token.clone(),
        EmailToken {
            purpose,
            user: user.to_string(),
            email: email.to_string(),
            expires_at: now + EMAIL_TOKEN_TTL_MS,
        },
    );
    Ok(token)
}

/// The live email token `token` for `purpose`, not spent.
pub fn email_token(store: &Store, purpose: EmailPurpose, token: &str) -> Option<EmailToken> {
    let now = store.clock.now_ms();
    store
        .services
        .verification
        .email_tokens
        .get(token)
        .filter(|t| t.purpose == purpose && t.expires_at > now)
        .cloned()
}

/// Spend an email token.
pub fn take_email_token(store: &mut Store, token: &str) {
    store.services.verification.email_tokens.remove(token);
}

/// A new captcha: its token and its 4-character code (digits and capitals, as a captcha
/// image shows).
pub fn issue_captcha(store: &mut Store) -> Result<(String, String), LcError> {
    let now = store.clock.now_ms();
    if !room(&mut store.services.verification.captchas, now, |c| c.1) {
        return Err(LcError::sms_too_frequent());
    }
    let token = store.ids.token();
    let code: String = store
        .ids
        .token()
        .chars()
        .take(4)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    store
        .services
        .verification
        .captchas
        .insert(token.clone(), (code.clone(), now + CAPTCHA_TTL_MS));
    Ok((token, code))
}

/// The code of the live captcha `token` (for its image).
pub fn captcha_code(store: &Store, token: &str) -> Option<String> {
    let now = store.clock.now_ms();
    store
        .services
        .verification
        .captchas
        .get(token)
        .filter(|c| c.1 > now)
        .map(|c| c.0.clone())
}

/// Solve a captcha: the token is spent whatever the answer (one try per image); the
/// code is compared without regard to case. A `validate_token` on success.
pub fn verify_captcha(store: &mut Store, token: &str, code: &str) -> Result<String, LcError> {
    let now = store.clock.now_ms();
    let state = &mut store.services.verification;
    let Some((expected, expires_at)) = state.captchas.remove(token) else {
        return Err(LcError::invalid_captcha("unknown or used captcha_token"));
    };
    if expires_at <= now {
        return Err(LcError::invalid_captcha("the captcha has expired"));
    }
    if !expected.eq_ignore_ascii_case(code.trim()) {
        return Err(LcError::invalid_captcha("the code does not match"));
    }
    if !room(&mut state.validate_tokens, now, |t| *t) {
        return Err(LcError::sms_too_frequent());
    }
    let validate = store.ids.token();
    store
        .services
        .verification
        .validate_tokens
        .insert(validate.clone(), now + VALIDATE_TOKEN_TTL_MS);
    Ok(validate)
}

/// Spend a `validate_token` (from [`verify_captcha`]).
pub fn use_validate_token(store: &mut Store, token: &str) -> Result<(), LcError> {
    let now = store.clock.now_ms();
    match store.services.verification.validate_tokens.remove(token) {
        Some(expires_at) if expires_at > now => Ok(()),
        _ => Err(LcError::invalid_captcha(
            "unknown, used or expired validate_token",
        )),
    }
}

#[cfg(test)]
mod tests;
