//! `_User` rules: sign-up (username and password, or linked accounts in `authData`),
//! log-in with its lockout, session tokens, password changes, and the checks every write
//! to a user makes (unique username, email and mobile number; one user per linked
//! account; the anonymous link dropped once the user has a password).
//!
//! Passwords live in [`Store::passwords`] as Argon2id PHC strings, never in a user's
//! fields, so no rendering can show them. Hashing is slow by design, so the request
//! paths here take hashes, not passwords: callers hash with [`PasswordHashing::hash`]
//! before they take the store's lock and verify with [`verify_password`] on a hash they
//! cloned out, so concurrent requests are not serialised behind it ([`set_password`],
//! for seeding, is the one exception).
//!
//! Choices where the protocol notes are silent:
//! - A new user without an `ACL` gets `{"*":{"read":true},"<userId>":{"write":true}}`,
//!   or the `_User` class default with `_owner` standing for the new user.
//! - A non-string or blank `username` is 217, a non-string or blank `password` 218
//!   (the documented "must be a non-blank string" errors); missing or empty ones are
//!   200 / 201.
//! - A linked account's id is `authData.<platform>.uid` (`openid` when there is no
//!   `uid`, as Weixin sends it; `id` for `anonymous`); a link without one is 250.
//! - The lockout: more than [`LOCKOUT_FAILURES`] failed log-ins for one user, each
//!   within [`LOCKOUT_WINDOW_MS`] of the last, lock the user until
//!   [`LOCKOUT_WINDOW_MS`] after the last (documented for 219); a log-in refused
//!   while locked is not a new failure, and a success or a password change clears
//!   the count.
//! - Signing up with a valid session token ignores it, and so does an unknown one (the
//!   recordings sign up while sending a deleted user's token).

use crate::access::Principal;
use crate::objects::{self, Change, Changes, Updated};
use crate::store::packed;
use crate::store::{Packed, Store, StoredObject, Val};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use leancloud::LcError;
use leancloud::ops::FieldOp;
use serde_json::{Map, Value, json};

/// The class users live in.
pub const CLASS: &str = "_User";

/// A user is locked out after more failed log-ins than this ...
pub const LOCKOUT_FAILURES: usize = 6;
/// ... each within this long of the last one (15 minutes), until this long after it.
pub const LOCKOUT_WINDOW_MS: i64 = 15 * 60 * 1000;

/// Keys of a user's body that never become fields.
const SECRET_KEYS: &[&str] = &["password", "sessionToken"];

/// Whether the user's email and mobile number are verified: set by the verification
/// flows (a clicked email link, an SMS code: LeanCloud's built-in account guide,
/// docs.leancloud.cn/sdk/authentication/guide) and the master key, never by a client's
/// own write (see [`check_verification_flags`]).
pub const VERIFICATION_FLAGS: [&str; 2] = ["emailVerified", "mobilePhoneVerified"];

// ---- passwords ---------------------------------------------------------------------------

/// The Argon2id cost of new password hashes. Verification reads the cost from the stored
/// hash, so changing it affects only passwords set afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordHashing {
    /// Memory per hash in KiB (at least 8, Argon2's minimum for one lane).
    pub memory_kib: u32,
    /// Passes over that memory (at least 1).
    pub iterations: u32,
}

impl PasswordHashing {
    /// The emulator's default: Argon2's smallest cost (8 KiB, one pass). An emulator holds
    /// test passwords, and tests sign up many users, so a hash must be cheap; this is far
    /// too weak for real passwords.
    pub const EMULATOR: PasswordHashing = PasswordHashing {
        memory_kib: 8,
        iterations: 1,
    };
    /// The cost recommended for real passwords (OWASP's Argon2id minimum, the `argon2`
    /// crate's default): 19 MiB, two passes.
    pub const RECOMMENDED: PasswordHashing = PasswordHashing {
        memory_kib: 19 * 1024,
        iterations: 2,
    };

    /// A PHC string (`$argon2id$v=19$m=...`) for `password`, with a random salt.
    pub fn hash(&self, password: &str) -> Result<String, LcError> {
        let params = Params::new(
            self.memory_kib.max(Params::MIN_M_COST),
            self.iterations.max(Params::MIN_T_COST),
            1,
            None,
        )
        .map_err(|e| LcError::generic(format!("Cannot hash the password: {e}.")))?;
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| LcError::generic(format!("Cannot hash the password: {e}.")))
    }
}

impl Default for PasswordHashing {
    fn default() -> Self {
        PasswordHashing::EMULATOR
    }
}

/// Whether `password` matches a PHC string made by [`PasswordHashing::hash`], or a
/// password imported from LeanCloud's export ([`imported_hash`]). A malformed hash
/// matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    if let Some(rest) = hash.strip_prefix(IMPORTED_HASH_PREFIX) {
        return rest
            .split_once('$')
            .is_some_and(|(salt, expected)| leancloud_hash(salt, password) == expected);
    }
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// How a password imported from LeanCloud's export is kept until its user's first
/// log-in, which re-hashes it with the emulator's own hash.
pub const IMPORTED_HASH_PREFIX: &str = "leancloud-sha512$";

/// LeanCloud's hash of an exported user's password (its dashboard guide, 导出用户数据的加密
/// 算法; protocol notes §7): SHA-512 of the salt's bytes then the password's, then 512
/// more rounds of SHA-512 over the digest, base64.
pub fn leancloud_hash(salt: &str, password: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha512};
    let mut digest = Sha512::new()
        .chain_update(salt.as_bytes())
        .chain_update(password.as_bytes())
        .finalize();
    for _ in 0..512 {
        digest = Sha512::digest(digest);
    }
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// The stored form of an exported user's `password` (LeanCloud's hash) and `salt`.
pub fn imported_hash(salt: &str, hash: &str) -> String {
    format!("{IMPORTED_HASH_PREFIX}{salt}${hash}")
}

/// Whether a stored hash is one imported from LeanCloud (re-hashed at the next log-in).
pub fn is_imported(hash: &str) -> bool {
    hash.starts_with(IMPORTED_HASH_PREFIX)
}

/// Store a hash made by [`PasswordHashing::hash`] as `user_id`'s password.
pub fn set_password_hash(store: &mut Store, user_id: &str, hash: String) {
    store.passwords.insert(user_id.to_string(), hash);
    set_failures(store, user_id, &[]);
}

/// Hash `clear` with the store's cost and store it (for seeding, where no lock is
/// contended).
pub fn set_password(store: &mut Store, user_id: &str, clear: &str) -> Result<(), LcError> {
    let hash = store.hashing.hash(clear)?;
    set_password_hash(store, user_id, hash);
    Ok(())
}

// ---- failed log-ins ---------------------------------------------------------------------

fn failures(store: &Store, user_id: &str) -> Vec<i64> {
    store
        .login_failures
        .get(user_id)
        .cloned()
        .unwrap_or_default()
}

fn set_failures(store: &mut Store, user_id: &str, times: &[i64]) {
    if times.is_empty() {
        store.login_failures.remove(user_id);
    } else {
        store
            .login_failures
            .insert(user_id.to_string(), times.to_vec());
    }
}

/// Whether `user_id` is locked out at `now`.
fn locked(store: &Store, user_id: &str, now: i64) -> bool {
    let times = failures(store, user_id);
    times.len() > LOCKOUT_FAILURES
        && times
            .last()
            .is_some_and(|last| now - last < LOCKOUT_WINDOW_MS)
}

// ---- session tokens ---------------------------------------------------------------------

/// Every session token of a user, in order.
pub fn tokens_of(store: &Store, user_id: &str) -> Vec<String> {
    let mut tokens: Vec<String> = store
        .sessions
        .iter()
        .filter(|(_, user)| *user == user_id)
        .map(|(token, _)| token.clone())
        .collect();
    tokens.sort();
    tokens
}

fn new_token(store: &mut Store, user_id: &str) -> String {
    loop {
        let token = store.ids.token();
        if !store.sessions.contains_key(&token) {
            store.sessions.insert(token.clone(), user_id.to_string());
            return token;
        }
    }
}

/// The user's session token: the one they have (it stays the same across log-ins, as
/// recorded), or a new one.
pub fn session_token(store: &mut Store, user_id: &str) -> String {
    match tokens_of(store, user_id).into_iter().next() {
        Some(token) => token,
        None => new_token(store, user_id),
    }
}

/// Replace every session token of the user with a new one.
fn rotate_token(store: &mut Store, user_id: &str) -> String {
    store.sessions.retain(|_, user| user != user_id);
    new_token(store, user_id)
}

// ---- values -----------------------------------------------------------------------------

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && s.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An optional `+`, then 5 to 20 digits (`+8618200008888`, `18200008888`).
pub(crate) fn valid_mobile(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    (5..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A required non-blank string: missing, `null` or `""` is `missing`, anything else
/// that is not a non-blank string is `invalid`.
fn required_string(
    v: Option<&Value>,
    missing: fn() -> LcError,
    invalid: fn() -> LcError,
) -> Result<&str, LcError> {
    match v {
        None | Some(Value::Null) => Err(missing()),
        Some(Value::String(s)) if s.is_empty() => Err(missing()),
        Some(Value::String(s)) if s.trim().is_empty() => Err(invalid()),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid()),
    }
}

fn username_of(v: Option<&Value>) -> Result<&str, LcError> {
    required_string(v, LcError::username_missing, LcError::invalid_username)
}

fn password_of(v: Option<&Value>) -> Result<&str, LcError> {
    required_string(v, LcError::password_missing, LcError::invalid_password)
}

// ---- linked accounts --------------------------------------------------------------------

/// One linked account: a platform and the account's id there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub platform: String,
    pub id: String,
}

/// The id of a linked account's data; `None` when it has none.
fn link_id(platform: &str, data: &Value) -> Option<String> {
    let keys: &[&str] = if platform == "anonymous" {
        &["id"]
    } else {
        &["uid", "openid"]
    };
    keys.iter().find_map(|k| match data.get(*k)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// The links of an `authData` value: an object of platform -> object (a `null` platform
/// links nothing). Anything else is refused.
fn links_of(auth_data: &Value) -> Result<Vec<Link>, LcError> {
    let Some(platforms) = auth_data.as_object() else {
        return Err(LcError::invalid_auth_data(
            "authData must be an object of platform -> account data",
        ));
    };
    let mut links = Vec::new();
    for (platform, data) in platforms {
        if data.is_null() {
            continue;
        }
        if !data.is_object() {
            return Err(LcError::invalid_auth_data(format!(
                "authData.{platform} must be an object"
            )));
        }
        let id = link_id(platform, data).ok_or_else(LcError::linked_id_missing)?;
        links.push(Link {
            platform: platform.clone(),
            id,
        });
    }
    Ok(links)
}

/// The user, other than `except`, that holds one of `links`.
fn linked_user<'a>(
    store: &'a Store,
    links: &[Link],
    except: Option<&str>,
) -> Option<&'a StoredObject> {
    let users = store.class(CLASS)?;
    users.objects.values().find(|user| {
        Some(user.id.as_str()) != except
            && links.iter().any(|link| {
                user.val("authData")
                    .and_then(|a| a.get(&link.platform))
                    .and_then(|data| link_id(&link.platform, &data.to_json()))
                    .as_deref()
                    == Some(link.id.as_str())
            })
    })
}

// ---- the checks every user write makes ---------------------------------------------------

/// Checks on a user's fields as a write would leave them, for the keys it touched:
/// username (217, 202), email (125, 203), mobile number (127, 214), linked accounts
/// (250, 208). `id` is the user being changed (`None` on sign-up).
pub fn check_fields(
    store: &Store,
    id: Option<&str>,
    fields: &Map<String, Value>,
    keys: &[String],
) -> Result<(), LcError> {
    let touched = |k: &str| keys.iter().any(|key| key == k);
    let taken = |key: &str, value: &Value| {
        store.class(CLASS).is_some_and(|users| {
            users.objects.candidates_equal(key, value).any(|u| {
                Some(u.id.as_str()) != id && u.val(key).is_some_and(|v| packed::equals(v, value))
            })
        })
    };
    if touched("username") {
        let name = fields.get("username");
        username_of(name).map_err(|_| LcError::invalid_username())?;
        if taken("username", name.expect("checked above")) {
            return Err(LcError::username_taken());
        }
    }
    if touched("email")
        && let Some(email) = fields.get("email").filter(|v| !v.is_null())
    {
        if !email.as_str().is_some_and(valid_email) {
            return Err(LcError::invalid_email());
        }
        if taken("email", email) {
            return Err(LcError::email_taken());
        }
    }
    if touched("mobilePhoneNumber")
        && let Some(mobile) = fields.get("mobilePhoneNumber").filter(|v| !v.is_null())
    {
        if !mobile.as_str().is_some_and(valid_mobile) {
            return Err(LcError::invalid_mobile_phone());
        }
        if taken("mobilePhoneNumber", mobile) {
            return Err(LcError::mobile_phone_taken());
        }
    }
    if touched("authData")
        && let Some(auth_data) = fields.get("authData").filter(|v| !v.is_null())
    {
        let links = links_of(auth_data)?;
        if linked_user(store, &links, id).is_some() {
            return Err(LcError::auth_data_taken());
        }
    }
    Ok(())
}

/// [`check_fields`] on the values a body sets at top-level keys, before the object
/// rules run, so a wrongly typed email is 125 rather than the column's 111.
fn check_sets(store: &Store, id: Option<&str>, changes: &Changes) -> Result<(), LcError> {
    let sets: Map<String, Value> = changes
        .entries
        .iter()
        .filter_map(|(path, change)| match (path.as_slice(), change) {
            ([key], Change::Set(v)) => Some((key.clone(), v.clone())),
            _ => None,
        })
        .collect();
    let keys: Vec<String> = sets.keys().cloned().collect();
    check_fields(store, id, &sets, &keys)
}

/// The ACL of a new user who sent none: the `_User` class default with `_owner` standing
/// for the user, or public read and the user's own write (unlike another class's
/// objects, whose ACL without a class default is [`objects::public_acl`]).
pub fn new_user_acl(store: &Store, user_id: &str) -> Value {
    let template = store
        .class(CLASS)
        .and_then(|d| d.settings.default_acl.as_ref())
        .and_then(Value::as_object);
    match template {
        Some(template) => Value::Object(
            template
                .iter()
                .map(|(k, v)| {
                    let k = if k == "_owner" { user_id } else { k.as_str() };
                    (k.to_string(), v.clone())
                })
                .collect(),
        ),
        None => json!({"*": {"read": true}, user_id: {"write": true}}),
    }
}

// ---- sign-up ----------------------------------------------------------------------------

/// A parsed sign-up body (`POST /1.1/users`).
#[derive(Debug, Clone, PartialEq)]
pub struct SignUp {
    /// The new user's fields: the body without `password` and `sessionToken`.
    pub changes: Changes,
    /// The clear-text password, to hash before taking the store's lock.
    pub password: Option<String>,
    /// Linked accounts from `authData`; when there are some, the body may sign up or
    /// log in, and username and password are optional.
    pub links: Vec<Link>,
}

impl SignUp {
    pub fn parse(body: &Map<String, Value>) -> Result<SignUp, LcError> {
        let (body, unionid_links) = unionid::with_unionids(body);
        let body = &body;
        let mut links = match body.get("authData") {
            None | Some(Value::Null) => Vec::new(),
            Some(auth_data) => links_of(auth_data)?,
        };
        for link in unionid_links {
            if !links.contains(&link) {
                links.push(link);
            }
        }
        let password = if links.is_empty() {
            username_of(body.get("username"))?;
            Some(password_of(body.get("password"))?.to_string())
        } else {
            if body.contains_key("username") {
                username_of(body.get("username"))?;
            }
            match body.get("password") {
                None | Some(Value::Null) => None,
                p => Some(password_of(p)?.to_string()),
            }
        };
        let mut fields = body.clone();
        fields.retain(|k, _| !SECRET_KEYS.contains(&k.as_str()));
        Ok(SignUp {
            changes: Changes::parse(&fields, false)?,
            password,
            links,
        })
    }
}

impl SignUp {
    /// A sign-up whose password is optional (`usersByMobilePhone`: the SMS code proved
    /// the number); the username is still required.
    pub fn parse_without_password(body: &Map<String, Value>) -> Result<SignUp, LcError> {
        username_of(body.get("username"))?;
        let password = match body.get("password") {
            None | Some(Value::Null) => None,
            p => Some(password_of(p)?.to_string()),
        };
        let mut fields = body.clone();
        fields.retain(|k, _| !SECRET_KEYS.contains(&k.as_str()));
        Ok(SignUp {
            changes: Changes::parse(&fields, false)?,
            password,
            links: Vec::new(),
        })
    }
}

/// A signed-up or logged-in user and their session token.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedIn {
    pub user: StoredObject,
    pub token: String,
    /// A new user (201), or an existing one found by a linked account (200).
    pub created: bool,
}

/// Sign up, or, when the body's linked account belongs to a user, log that user in
/// (their link data updated from the body). `fail_on_not_exist`: a linked account
/// nobody holds is 211 instead of a new user. `password_hash` is the hash of
/// `request.password`.
pub fn sign_up(
    store: &mut Store,
    request: &SignUp,
    password_hash: Option<String>,
    who: &Principal,
    fail_on_not_exist: bool,
) -> Result<SignedIn, LcError> {
    if !request.links.is_empty() {
        if let Some(user) = linked_user(store, &request.links, None) {
            let id = user.id.clone();
            return log_in_linked(store, &id, request);
        }
        if fail_on_not_exist {
            return Err(LcError::user_not_found());
        }
    }
    let mut changes = request.changes.clone();
    if !changes.keys().iter().any(|k| k == "username") {
        let name = unused_username(store);
        changes
            .entries
            .push((vec!["username".into()], Change::Set(Value::String(name))));
    }
    check_sets(store, None, &changes)?;
    let preview = objects::preview_create(store, CLASS, &changes, who)?;
    check_fields(store, None, &preview.to_map(), &changes.keys())?;
    let mut user = objects::create(store, CLASS, &changes, who)?;
    let mut fields = user.to_map();
    if !changes.keys().iter().any(|k| k == "ACL") {
        fields.insert("ACL".into(), new_user_acl(store, &user.id));
    }
    // A new user is unverified whatever the client sent: the service sets both flags on
    // every sign-up (recorded: each sign-up answer carries them `false`), so a client's
    // value is not refused but replaced. Only the master key may create a verified user.
    for flag in VERIFICATION_FLAGS {
        if !(who.master && fields.get(flag).is_some_and(Value::is_boolean)) {
            fields.insert(flag.into(), Value::Bool(false));
        }
    }
    user.fields = Packed::from_map(&fields);
    objects::insert_new(store, CLASS, &user, &VERIFICATION_FLAGS.map(String::from));
    if let Some(hash) = password_hash {
        set_password_hash(store, &user.id, hash);
    }
    let token = session_token(store, &user.id);
    Ok(SignedIn {
        user,
        token,
        created: true,
    })
}

/// What [`sign_up`] would create, without creating it (a `_User` beforeSave sees this):
/// the new user's fields after every check, or `None` when the body does not create a
/// user (it logs in the holder of a linked account, or fails because nobody holds it).
pub fn preview_sign_up(
    store: &Store,
    request: &SignUp,
    who: &Principal,
    fail_on_not_exist: bool,
) -> Result<Option<StoredObject>, LcError> {
    if !request.links.is_empty()
        && (fail_on_not_exist || linked_user(store, &request.links, None).is_some())
    {
        return Ok(None);
    }
    check_sets(store, None, &request.changes)?;
    let preview = objects::preview_create(store, CLASS, &request.changes, who)?;
    check_fields(store, None, &preview.to_map(), &request.changes.keys())?;
    Ok(Some(preview))
}

/// A generated username (25 characters of `[0-9a-z]`, like a session token) nobody has.
fn unused_username(store: &mut Store) -> String {
    loop {
        let name = Value::String(store.ids.token());
        let taken = store.class(CLASS).is_some_and(|u| {
            u.objects
                .candidates_equal("username", &name)
                .any(|o| o.val("username").is_some_and(|v| packed::equals(v, &name)))
        });
        if !taken {
            return name.as_str().expect("a string").to_string();
        }
    }
}

/// Log in the user who holds one of the request's linked accounts, storing the link
/// data the body sent.
fn log_in_linked(store: &mut Store, id: &str, request: &SignUp) -> Result<SignedIn, LcError> {
    let now = store.clock.now_ms();
    let Some(mut user) = store.object(CLASS, id).cloned() else {
        return Err(LcError::user_not_found());
    };
    let sent = request
        .changes
        .entries
        .iter()
        .find_map(|(path, change)| match change {
            Change::Set(Value::Object(a)) if path == &["authData"] => Some(a),
            _ => None,
        });
    if let Some(sent) = sent {
        let mut fields = user.to_map();
        let mut auth_data = fields
            .get("authData")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let before = auth_data.clone();
        for (platform, data) in sent.iter().filter(|(_, d)| d.is_object()) {
            auth_data.insert(platform.clone(), data.clone());
        }
        if auth_data != before {
            fields.insert("authData".into(), Value::Object(auth_data));
            user.fields = Packed::from_map(&fields);
            user.updated_at = now.max(user.updated_at);
            store.class_mut(CLASS).insert(user.clone());
        }
    }
    let token = session_token(store, id);
    Ok(SignedIn {
        user,
        token,
        created: false,
    })
}

// ---- log-in -----------------------------------------------------------------------------

/// A parsed log-in body (`POST /1.1/login`): who, by username, email or mobile number
/// (every one given must match), and the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogIn {
    /// `(key, value)` pairs naming the user.
    pub names: Vec<(String, String)>,
    pub password: String,
}

impl LogIn {
    pub fn parse(body: &Map<String, Value>) -> Result<LogIn, LcError> {
        let mut names = Vec::new();
        for key in ["username", "email", "mobilePhoneNumber"] {
            match body.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) if s.is_empty() => {}
                Some(Value::String(s)) => names.push((key.to_string(), s.clone())),
                Some(_) if key == "username" => return Err(LcError::invalid_username()),
                Some(_) if key == "email" => return Err(LcError::invalid_email()),
                Some(_) => return Err(LcError::invalid_mobile_phone()),
            }
        }
        if names.is_empty() {
            return Err(LcError::username_missing());
        }
        let password = password_of(body.get("password"))?.to_string();
        Ok(LogIn { names, password })
    }
}

/// The user a log-in names and their password hash (cloned, to verify without the
/// lock). 211 for nobody, 219 while locked out, 210 for a user without a password.
pub fn log_in_target(store: &Store, request: &LogIn) -> Result<(String, String), LcError> {
    let (first, named) = request.names.first().ok_or_else(LcError::user_not_found)?;
    let user = store
        .class(CLASS)
        .and_then(|users| {
            users
                .objects
                .candidates_equal(first, &Value::String(named.clone()))
                .find(|u| {
                    request
                        .names
                        .iter()
                        .all(|(k, v)| u.val(k).and_then(Val::as_str) == Some(v.as_str()))
                })
        })
        .ok_or_else(LcError::user_not_found)?;
    if locked(store, &user.id, store.clock.now_ms()) {
        return Err(LcError::login_locked());
    }
    match store.passwords.get(user.id.as_str()) {
        Some(hash) => Ok((user.id.to_string(), hash.clone())),
        None => Err(LcError::password_mismatch()),
    }
}

/// The password matched: the user and their (unchanged) session token.
pub fn log_in_succeeded(store: &mut Store, user_id: &str) -> Result<SignedIn, LcError> {
    let user = store
        .object(CLASS, user_id)
        .cloned()
        .ok_or_else(LcError::user_not_found)?;
    set_failures(store, user_id, &[]);
    let token = session_token(store, user_id);
    Ok(SignedIn {
        user,
        token,
        created: false,
    })
}

/// The password did not match: count the failure; the error to answer (210).
pub fn log_in_failed(store: &mut Store, user_id: &str) -> LcError {
    if store.object(CLASS, user_id).is_some() {
        let now = store.clock.now_ms();
        let mut times = failures(store, user_id);
        times.retain(|t| now - t < LOCKOUT_WINDOW_MS);
        times.push(now);
        set_failures(store, user_id, &times);
    }
    LcError::password_mismatch()
}

// ---- the signed-in user's own operations ------------------------------------------------

/// The user `who` may act on as themselves: `id` must exist (211) and be `who`, unless
/// `who` has the master key (206).
pub fn own_user<'a>(
    store: &'a Store,
    id: &str,
    who: &Principal,
) -> Result<&'a StoredObject, LcError> {
    let user = store
        .object(CLASS, id)
        .ok_or_else(LcError::user_not_found)?;
    if !who.master && who.user_id() != Some(id) {
        return Err(LcError::user_cannot_be_altered());
    }
    Ok(user)
}

/// `refreshSessionToken`: every old token stops working; the user and the new token.
pub fn refresh_session_token(
    store: &mut Store,
    id: &str,
    who: &Principal,
) -> Result<SignedIn, LcError> {
    let user = own_user(store, id, who)?.clone();
    let token = rotate_token(store, id);
    Ok(SignedIn {
        user,
        token,
        created: false,
    })
}

/// `updatePassword`, first half: the current hash to verify the old password against
/// (`None`: the user has no password, so nothing matches).
pub fn password_to_change(
    store: &Store,
    id: &str,
    who: &Principal,
) -> Result<Option<String>, LcError> {
    own_user(store, id, who)?;
    Ok(store.passwords.get(id).cloned())
}

/// `updatePassword`, second half (the old password matched): store the new hash, move
/// `updatedAt`, and replace the session token (old ones stop working).
pub fn change_password(store: &mut Store, id: &str, new_hash: String) -> Result<SignedIn, LcError> {
    let now = store.clock.now_ms();
    let mut user = store
        .object(CLASS, id)
        .cloned()
        .ok_or_else(LcError::user_not_found)?;
    user.updated_at = now.max(user.updated_at);
    store.class_mut(CLASS).insert(user.clone());
    set_password_hash(store, id, new_hash);
    let token = rotate_token(store, id);
    Ok(SignedIn {
        user,
        token,
        created: false,
    })
}

// ---- updates ----------------------------------------------------------------------------

/// A parsed update body for a user (`PUT /1.1/users/<id>`): the changes, and a new
/// clear-text password to hash before taking the lock.
#[derive(Debug, Clone, PartialEq)]
pub struct UserChanges {
    pub changes: Changes,
    pub password: Option<String>,
}

impl UserChanges {
    pub fn parse(body: &Map<String, Value>) -> Result<UserChanges, LcError> {
        let body = &unionid::merging_auth_data(body);
        let password = match body.get("password") {
            None => None,
            p => Some(password_of(p)?.to_string()),
        };
        if body.keys().any(|k| k.starts_with("password.")) {
            return Err(LcError::invalid_password());
        }
        let mut fields = body.clone();
        fields.retain(|k, _| !SECRET_KEYS.contains(&k.as_str()));
        Ok(UserChanges {
            changes: Changes::parse(&fields, true)?,
            password,
        })
    }
}

/// Update a user: the object rules (the user's own session or the master key, 206),
/// the user checks, then the new password if one was given. A user who gets a password
/// stops being anonymous: the `anonymous` link is dropped (recorded: `authData` `{}`).
pub fn update(
    store: &mut Store,
    id: &str,
    changes: &Changes,
    condition: Option<&Value>,
    who: &Principal,
    password_hash: Option<String>,
) -> Result<Updated, LcError> {
    let mut changes = changes.clone();
    let anonymous = store
        .object(CLASS, id)
        .and_then(|u| u.val("authData"))
        .and_then(|a| a.get("anonymous"))
        .is_some();
    if password_hash.is_some() && anonymous && !changes.keys().iter().any(|k| k == "authData") {
        changes.entries.push((
            vec!["authData".into(), "anonymous".into()],
            Change::Op(FieldOp::Delete),
        ));
    }
    check_update(store, id, &changes, condition, who)?;
    let updated = objects::update(store, CLASS, id, &changes, condition, who)?;
    if let Some(hash) = password_hash {
        set_password_hash(store, id, hash);
    }
    Ok(updated)
}

/// Every check [`update`] makes, without writing: the object rules (the user's own
/// session or the master key, 206; the ACL; columns), the user checks, and the
/// verification flags ([`check_verification_flags`], after the others so that another
/// user's update is still 206).
pub fn check_update(
    store: &Store,
    id: &str,
    changes: &Changes,
    condition: Option<&Value>,
    who: &Principal,
) -> Result<(), LcError> {
    check_sets(store, Some(id), changes)?;
    let preview = objects::preview_update(store, CLASS, id, changes, condition, who)?;
    check_fields(store, Some(id), &preview.after.to_map(), &preview.keys)?;
    check_verification_flags(changes, who)
}

/// Whether a write touches `emailVerified` or `mobilePhoneVerified`.
pub fn touches_verification_flags(changes: &Changes) -> bool {
    changes
        .keys()
        .iter()
        .any(|k| VERIFICATION_FLAGS.contains(&k.as_str()))
}

/// A client may not set [`VERIFICATION_FLAGS`] (by value, operation or dotted path);
/// the master key may. The real service's answer to a client that tries was not found:
/// the error-code page's 117 (`The key is read only.`, "更新的 Key 是只读属性，无法更新":
/// the key updated is read-only; leancloud/docs docs/sdk/other/error-code.mdx) is the
/// closest, and the emulator's read-only columns answer it too. The whole write is
/// refused and nothing changes.
pub fn check_verification_flags(changes: &Changes, who: &Principal) -> Result<(), LcError> {
    if who.master {
        return Ok(());
    }
    match changes
        .keys()
        .into_iter()
        .find(|k| VERIFICATION_FLAGS.contains(&k.as_str()))
    {
        Some(flag) => Err(LcError::read_only_key(&flag)),
        None => Ok(()),
    }
}

// ---- email requests ---------------------------------------------------------------------

/// The user a `{"email": ...}` body names (`requestPasswordReset`,
/// `requestEmailVerify`): 204 without an email, 125 for an invalid one, 205 for nobody.
pub fn user_by_email<'a>(
    store: &'a Store,
    body: &Map<String, Value>,
) -> Result<&'a StoredObject, LcError> {
    let email = match body.get("email") {
        None | Some(Value::Null) => return Err(LcError::email_missing()),
        Some(Value::String(s)) if s.is_empty() => return Err(LcError::email_missing()),
        Some(Value::String(s)) if valid_email(s) => s,
        Some(_) => return Err(LcError::invalid_email()),
    };
    store
        .class(CLASS)
        .and_then(|users| {
            users
                .objects
                .candidates_equal("email", &Value::String(email.clone()))
                .find(|u| u.val("email").and_then(Val::as_str) == Some(email.as_str()))
        })
        .ok_or_else(LcError::email_not_found)
}

pub mod phone;
pub mod unionid;

#[cfg(test)]
mod tests;
