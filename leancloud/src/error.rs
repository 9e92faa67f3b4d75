//! LeanCloud errors as values: one constructor per real error code and message.
//!
//! The wire form is always `{"code": <int>, "error": "<message>"}` with an HTTP status.
//! Messages marked "recorded" come from production recordings; the others follow the
//! protocol notes (`leancloud-protocol.md` §4) where the exact text was not found.

use serde_json::{Value, json};
use std::fmt;

/// The longest message an error carries, in bytes. A longer one (one that repeats a
/// client's 15 MiB key, say) is cut to this and ends in `…[cut: N bytes]`, so that no
/// answer, batch item or trace carries a client's whole input back.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

const CONNECTION_LOST: &str =
    "The connection to the LeanCloud server was lost before a whole answer came: ";

/// The service's error codes by name: what `code` in an error body means. Names are the
/// official JavaScript SDK's (`AV.Error`, leancloud-storage) where it has one with the
/// same meaning; the others follow LeanCloud's error-code page (views/error_code.md of
/// leancloud's docs, now docs/sdk/other/error-code.mdx; the protocol notes' §4 table).
/// Code the constants, never the numbers: `e.code == code::OBJECT_NOT_FOUND`.
pub mod code {
    /// Client side: an answer the client cannot read (the JavaScript SDK's fallback).
    pub const OTHER_CAUSE: i64 = -1;
    /// Internal or parameter error, and the older backends' permission errors; the
    /// JavaScript SDK calls it `INTERNAL_SERVER_ERROR`, the service uses it for any error
    /// without a code of its own.
    pub const GENERIC: i64 = 1;
    /// Client side: the request got no HTTP answer.
    pub const CONNECTION_FAILED: i64 = 100;
    /// The class or the object does not exist.
    pub const OBJECT_NOT_FOUND: i64 = 101;
    pub const INVALID_QUERY: i64 = 102;
    pub const INVALID_CLASS_NAME: i64 = 103;
    pub const MISSING_OBJECT_ID: i64 = 104;
    pub const INVALID_KEY_NAME: i64 = 105;
    pub const INVALID_POINTER: i64 = 106;
    /// The body (or a JSON parameter) is not the JSON expected.
    pub const INVALID_JSON: i64 = 107;
    /// A field set to a value of another type than its column's.
    pub const INCORRECT_TYPE: i64 = 111;
    pub const MISSING_REQUIRED_KEY: i64 = 113;
    /// Over 16 MB.
    pub const OBJECT_TOO_LARGE: i64 = 116;
    pub const READ_ONLY_KEY: i64 = 117;
    /// A key in a nested object holds `$` or `.`.
    pub const INVALID_NESTED_KEY: i64 = 121;
    pub const INVALID_ACL: i64 = 123;
    /// The request ran past its time on the server (also a cloud function's timeout).
    pub const TIMEOUT: i64 = 124;
    pub const INVALID_EMAIL_ADDRESS: i64 = 125;
    pub const INVALID_MOBILE_PHONE: i64 = 127;
    pub const INVALID_RELATION_DATA: i64 = 128;
    /// A unique index already holds the value (also a role name taken).
    pub const DUPLICATE_VALUE: i64 = 137;
    pub const INVALID_ROLE_NAME: i64 = 139;
    /// A hook that did not answer in time (`LeanEngine request timeout.`).
    pub const SCRIPT_FAILED: i64 = 141;
    /// A before-hook refused the write (`Cloud Code validation failed. ...`).
    pub const VALIDATION_ERROR: i64 = 142;
    pub const USERNAME_MISSING: i64 = 200;
    pub const PASSWORD_MISSING: i64 = 201;
    pub const USERNAME_TAKEN: i64 = 202;
    pub const EMAIL_TAKEN: i64 = 203;
    pub const EMAIL_MISSING: i64 = 204;
    pub const EMAIL_NOT_FOUND: i64 = 205;
    /// A user changed or deleted without their own session (or the master key).
    pub const SESSION_MISSING: i64 = 206;
    pub const ACCOUNT_ALREADY_LINKED: i64 = 208;
    /// Log-in with a wrong password.
    pub const PASSWORD_MISMATCH: i64 = 210;
    /// No such user, or a session token nobody holds.
    pub const USER_NOT_FOUND: i64 = 211;
    /// No mobile phone number given where one is needed.
    pub const MOBILE_PHONE_MISSING: i64 = 212;
    /// No user has the mobile phone number given.
    pub const MOBILE_PHONE_NOT_FOUND: i64 = 213;
    pub const MOBILE_PHONE_TAKEN: i64 = 214;
    /// The user's mobile phone number is not verified.
    pub const MOBILE_PHONE_NOT_VERIFIED: i64 = 215;
    pub const INVALID_USERNAME: i64 = 217;
    pub const INVALID_PASSWORD: i64 = 218;
    /// Too many failed log-ins.
    pub const LOGIN_LOCKED: i64 = 219;
    pub const LINKED_ID_MISSING: i64 = 250;
    pub const CQL_SYNTAX_ERROR: i64 = 300;
    pub const INVALID_GEOPOINT: i64 = 302;
    /// A conditional update or delete whose `where` did not match.
    pub const NO_EFFECT: i64 = 305;
    /// Missing or wrong keys (also a wrong hook key at an engine).
    pub const UNAUTHORIZED: i64 = 401;
    /// Refused by a class permission or an object's ACL (older backends: 1).
    pub const FORBIDDEN: i64 = 403;
    pub const REQUEST_TOO_LARGE: i64 = 413;
    /// The app's cloud engine is not running (asleep, or down).
    pub const ENGINE_UNAVAILABLE: i64 = 503;
    /// The cloud engine took the connection but gave no answer the platform can pass on.
    pub const ENGINE_NO_VALID_ANSWER: i64 = 524;
    /// SMS codes asked for too often for one number (the 600-608 SMS range).
    pub const SMS_TOO_FREQUENT: i64 = 601;
    /// An SMS code that was never sent, was used, has expired or was guessed too often.
    pub const INVALID_SMS_CODE: i64 = 603;
    /// A leaderboard statistic no board has: `statisticName '<name>' not found.`, as the
    /// leaderboard module of lc-model records it (the README's leaderboards section).
    pub const STATISTIC_NOT_FOUND: i64 = 2100;
}

/// An error the LeanCloud service (or a client talking to it) reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LcError {
    /// HTTP status of the response that carried the error.
    pub status: u16,
    /// LeanCloud error code (`code` in the body).
    pub code: i64,
    /// Message (`error` in the body).
    pub message: String,
}

impl LcError {
    pub fn new(status: u16, code: i64, message: impl Into<String>) -> Self {
        let mut message = message.into();
        if message.len() > MAX_MESSAGE_BYTES {
            let mut end = MAX_MESSAGE_BYTES;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            let marker = format!("…[cut: {} bytes]", message.len() - end);
            // A new string: truncating would keep the long one's memory.
            let mut cut = String::with_capacity(end + marker.len());
            cut.push_str(&message[..end]);
            cut.push_str(&marker);
            message = cut;
        }
        LcError {
            status,
            code,
            message,
        }
    }

    /// The JSON body: `{"code":…,"error":…}`.
    pub fn to_json(&self) -> Value {
        json!({"code": self.code, "error": self.message})
    }

    /// Parse an error body; `None` when the body is not LeanCloud-shaped.
    pub fn from_json(status: u16, body: &Value) -> Option<Self> {
        let code = body.get("code")?.as_i64()?;
        let message = body.get("error")?.as_str()?.to_string();
        Some(LcError::new(status, code, message))
    }

    // ---- 1: generic ----------------------------------------------------------------------

    /// Code 1 with a free message (HTTP 400): the service's "internal or parameter error".
    pub fn generic(message: impl Into<String>) -> Self {
        LcError::new(400, code::GENERIC, message)
    }
    /// Recorded (Leaderboard suite): master-only endpoint called without the master key.
    pub fn master_key_required() -> Self {
        LcError::generic("The request must be signed by master key.")
    }
    /// Recorded (batch item): update of an object that does not exist.
    pub fn object_not_found_for_update(class: &str, id: &str) -> Self {
        LcError::generic(format!(
            "Could not find object by id '{id}' for class '{class}'."
        ))
    }
    /// Recorded (Role suite).
    pub fn role_acl_required() -> Self {
        LcError::generic("Role ACL is required.")
    }

    /// An object nested deeper than the storage allows. LeanCloud stores objects in
    /// MongoDB, which refuses documents nested more than 100 levels; the service's own
    /// code and text for that were not found, so this is code 1, the error-code table's
    /// "parameter error not defined elsewhere" (views/error_code.md in leancloud's docs).
    pub fn nested_too_deeply(detail: impl fmt::Display) -> Self {
        LcError::generic(format!("Nested too deeply: {detail}"))
    }

    /// An `__op` the service does not know. The real code and message were not found;
    /// code 1 is a choice (parse-server answers 108 `The <op> operator is not supported yet.`).
    pub fn unknown_op(key: &str, op: &str) -> Self {
        LcError::generic(format!("Unknown field operation '{op}' for key '{key}'."))
    }

    /// Client side: an answer the client cannot read, e.g. a non-2xx answer whose body is
    /// not a LeanCloud error (code -1, the JavaScript SDK's fallback); keeps the raw body.
    pub fn unexpected_response(status: u16, body: &[u8]) -> Self {
        LcError::new(
            status,
            code::OTHER_CAUSE,
            format!(
                "Unexpected response (HTTP {status}): {}",
                String::from_utf8_lossy(body)
            ),
        )
    }

    /// Client side: the request never got an HTTP answer (code 100, no status).
    pub fn connection_failed(detail: impl fmt::Display) -> Self {
        LcError::new(
            0,
            code::CONNECTION_FAILED,
            format!("The connection to the LeanCloud server failed: {detail}"),
        )
    }
    /// Client side: the server took the connection, then closed or broke it before a
    /// whole answer came (code 100 like any connection failure; the message tells the
    /// two apart, see [`LcError::is_connection_lost`]).
    pub fn connection_lost(detail: impl fmt::Display) -> Self {
        LcError::new(
            0,
            code::CONNECTION_FAILED,
            format!("{CONNECTION_LOST}{detail}"),
        )
    }
    /// Whether this is a [`LcError::connection_lost`]: the server was reached, unlike a
    /// refused connection.
    pub fn is_connection_lost(&self) -> bool {
        self.status == 0
            && self.code == code::CONNECTION_FAILED
            && self.message.starts_with(CONNECTION_LOST)
    }

    // ---- 1xx: storage --------------------------------------------------------------------

    /// Documented: unknown class (HTTP 404).
    pub fn class_or_object_not_found() -> Self {
        LcError::new(
            404,
            code::OBJECT_NOT_FOUND,
            "Class or object doesn't exists.",
        )
    }
    pub fn invalid_query(detail: impl fmt::Display) -> Self {
        LcError::new(400, code::INVALID_QUERY, format!("Invalid query: {detail}"))
    }
    pub fn invalid_class_name(name: &str) -> Self {
        LcError::new(
            400,
            code::INVALID_CLASS_NAME,
            format!(
                "Invalid class name '{name}'. Class names must start with a letter, and only letters, digits and underscores are allowed."
            ),
        )
    }
    pub fn missing_object_id() -> Self {
        LcError::new(400, code::MISSING_OBJECT_ID, "Missing or invalid objectId.")
    }
    pub fn invalid_key_name(key: &str) -> Self {
        LcError::new(
            400,
            code::INVALID_KEY_NAME,
            format!(
                "Invalid key name '{key}'. Key names must start with a letter, and only letters, digits and underscores are allowed."
            ),
        )
    }
    pub fn invalid_pointer(detail: impl fmt::Display) -> Self {
        LcError::new(
            400,
            code::INVALID_POINTER,
            format!("Malformed pointer: {detail}"),
        )
    }
    pub fn invalid_json() -> Self {
        LcError::new(
            400,
            code::INVALID_JSON,
            "Malformed json object. A json dictionary is expected.",
        )
    }
    pub fn invalid_json_detail(detail: impl fmt::Display) -> Self {
        LcError::new(400, code::INVALID_JSON, format!("Malformed json: {detail}"))
    }
    pub fn incorrect_type(key: &str, expected: &str, got: &str) -> Self {
        LcError::new(
            400,
            code::INCORRECT_TYPE,
            format!(
                "Invalid value type for field '{key}', expect type is {{{expected}}}, but it is {{{got}}}."
            ),
        )
    }
    pub fn incorrect_type_detail(detail: impl Into<String>) -> Self {
        LcError::new(400, code::INCORRECT_TYPE, detail)
    }
    pub fn missing_required_key(key: &str) -> Self {
        LcError::new(
            400,
            code::MISSING_REQUIRED_KEY,
            format!("Missing required key: '{key}'."),
        )
    }
    pub fn object_too_large() -> Self {
        LcError::new(400, code::OBJECT_TOO_LARGE, "The object is too large.")
    }
    pub fn read_only_key(key: &str) -> Self {
        LcError::new(
            400,
            code::READ_ONLY_KEY,
            format!("The key '{key}' is read only."),
        )
    }
    pub fn invalid_nested_key(key: &str) -> Self {
        LcError::new(
            400,
            code::INVALID_NESTED_KEY,
            format!("Keys in nested objects may not include '$' or '.': '{key}'."),
        )
    }
    pub fn invalid_acl(detail: impl fmt::Display) -> Self {
        LcError::new(400, code::INVALID_ACL, format!("Invalid ACL: {detail}"))
    }
    pub fn invalid_relation(detail: impl fmt::Display) -> Self {
        LcError::new(
            400,
            code::INVALID_RELATION_DATA,
            format!("Invalid relation data: {detail}"),
        )
    }

    // ---- permissions (code 403; older backends used 1 with the same messages) ----------

    /// `op` is one of `get`, `find`, `create`, `update`, `delete`, `add_fields`.
    pub fn forbidden_by_class_permissions(op: &str) -> Self {
        LcError::new(
            403,
            code::FORBIDDEN,
            format!("Forbidden to {op} by class permissions."),
        )
    }
    pub fn forbidden_writing_by_acl() -> Self {
        LcError::new(403, code::FORBIDDEN, "Forbidden writing by object's ACL.")
    }
    pub fn forbidden_reading_by_acl() -> Self {
        LcError::new(403, code::FORBIDDEN, "Forbidden reading by object's ACL.")
    }
    /// `_User` objects change only with their own session or the master key.
    pub fn user_cannot_be_altered() -> Self {
        LcError::new(
            403,
            code::SESSION_MISSING,
            "The user cannot be altered by a client without the session.",
        )
    }
    /// Recorded: an unknown or expired session token on `/users/me`.
    pub fn user_not_found() -> Self {
        LcError::new(400, code::USER_NOT_FOUND, "Could not find user.")
    }

    /// A unique index already holds the value.
    pub fn duplicate_value() -> Self {
        LcError::new(
            400,
            code::DUPLICATE_VALUE,
            "A unique field was given a value that is already taken.",
        )
    }
    pub fn duplicate_role_name(name: &str) -> Self {
        LcError::new(
            400,
            code::DUPLICATE_VALUE,
            format!("A role named '{name}' already exists."),
        )
    }
    pub fn role_name_is_fixed() -> Self {
        LcError::new(
            400,
            code::INVALID_ROLE_NAME,
            "A role's name can only be set before it has been saved.",
        )
    }
    pub fn invalid_role_name(name: &str) -> Self {
        LcError::new(
            400,
            code::INVALID_ROLE_NAME,
            format!(
                "Invalid role name '{name}': role names contain only letters, digits and underscores."
            ),
        )
    }

    // ---- users (125, 127, 2xx; messages from the error-code docs unless noted) -------------

    pub fn invalid_email() -> Self {
        LcError::new(
            400,
            code::INVALID_EMAIL_ADDRESS,
            "The email address was invalid.",
        )
    }
    pub fn invalid_mobile_phone() -> Self {
        LcError::new(
            400,
            code::INVALID_MOBILE_PHONE,
            "The mobile phone number was invalid.",
        )
    }
    pub fn username_missing() -> Self {
        LcError::new(400, code::USERNAME_MISSING, "Username is missing or empty.")
    }
    pub fn password_missing() -> Self {
        LcError::new(400, code::PASSWORD_MISSING, "Password is missing or empty.")
    }
    pub fn username_taken() -> Self {
        LcError::new(
            400,
            code::USERNAME_TAKEN,
            "Username has already been taken.",
        )
    }
    pub fn email_taken() -> Self {
        LcError::new(400, code::EMAIL_TAKEN, "Email has already been taken.")
    }
    pub fn email_missing() -> Self {
        LcError::new(
            400,
            code::EMAIL_MISSING,
            "The email is missing, and must be specified.",
        )
    }
    pub fn email_not_found() -> Self {
        LcError::new(
            400,
            code::EMAIL_NOT_FOUND,
            "A user with the specified email was not found.",
        )
    }
    pub fn auth_data_taken() -> Self {
        LcError::new(
            400,
            code::ACCOUNT_ALREADY_LINKED,
            "An existing account already linked to another user.",
        )
    }
    /// Recorded: log-in with a wrong password.
    pub fn password_mismatch() -> Self {
        LcError::new(
            400,
            code::PASSWORD_MISMATCH,
            "The username and password mismatch.",
        )
    }
    pub fn mobile_phone_taken() -> Self {
        LcError::new(
            400,
            code::MOBILE_PHONE_TAKEN,
            "Mobile phone number has already been taken.",
        )
    }
    pub fn invalid_username() -> Self {
        LcError::new(
            400,
            code::INVALID_USERNAME,
            "Invalid username, it must be a non-blank string.",
        )
    }
    pub fn invalid_password() -> Self {
        LcError::new(
            400,
            code::INVALID_PASSWORD,
            "Invalid password, it must be a non-blank string.",
        )
    }
    /// More than 6 failed log-ins within 15 minutes (the documented message, in Chinese).
    pub fn login_locked() -> Self {
        LcError::new(
            400,
            code::LOGIN_LOCKED,
            "登录失败次数超过限制，请稍候再试，或者通过忘记密码重设密码。",
        )
    }
    pub fn linked_id_missing() -> Self {
        LcError::new(
            400,
            code::LINKED_ID_MISSING,
            "Linked id missing from request",
        )
    }
    /// `authData` that is not an object of objects. The real code was not found; code 1
    /// (parameter error) is a choice.
    pub fn invalid_auth_data(detail: impl fmt::Display) -> Self {
        LcError::generic(format!("Invalid authData: {detail}."))
    }

    // ---- 3xx -------------------------------------------------------------------------------

    pub fn cql_syntax(detail: impl fmt::Display) -> Self {
        LcError::new(
            400,
            code::CQL_SYNTAX_ERROR,
            format!("CQL syntax error.Detail: {detail}"),
        )
    }
    pub fn invalid_geopoint(detail: impl fmt::Display) -> Self {
        LcError::new(
            400,
            code::INVALID_GEOPOINT,
            format!("Invalid GeoPoint: {detail}"),
        )
    }
    /// Recorded: conditional update/delete whose `where` did not match.
    pub fn no_effect() -> Self {
        LcError::new(
            400,
            code::NO_EFFECT,
            "No effect on updating/deleting a document.",
        )
    }

    // ---- 4xx -------------------------------------------------------------------------------

    /// Documented body for missing or wrong credentials.
    pub fn unauthorized() -> Self {
        LcError::new(401, code::UNAUTHORIZED, "Unauthorized.")
    }
    pub fn payload_too_large() -> Self {
        LcError::new(413, code::REQUEST_TOO_LARGE, "Request entity too large.")
    }
    /// A request body that did not arrive in time (fewer bytes than its `Content-Length`,
    /// or too slowly). 408 is the HTTP answer to a client too slow to send; 124 is the
    /// service's code for a request that timed out, with the text the Node engine gives
    /// it (protocol notes §5.8). The exact answer of the service was not found.
    pub fn body_read_timeout() -> Self {
        LcError::new(408, code::TIMEOUT, "The request timed out on the server.")
    }
    /// A request body that could not be read (e.g. broken chunked encoding): the body
    /// the service parses as JSON is unreadable, so it is 107 as for malformed JSON.
    pub fn unreadable_body() -> Self {
        LcError::invalid_json_detail("the request body could not be read")
    }
    /// The answers for request heads the server cannot take: no LeanCloud code exists
    /// for them (and code 431 means "hook rate limit exceeded"), so they take code 1,
    /// the service's code for a request it cannot process (error-code.mdx).
    pub fn malformed_request_head() -> Self {
        LcError::new(400, code::GENERIC, "Malformed request line or headers.")
    }
    pub fn uri_too_long() -> Self {
        LcError::new(414, code::GENERIC, "Request-URI too long.")
    }
    pub fn header_fields_too_large() -> Self {
        LcError::new(431, code::GENERIC, "Request header fields too large.")
    }

    /// A route the emulator does not serve: named so the gap is obvious.
    pub fn route_not_found(method: &str, path: &str) -> Self {
        LcError::new(
            404,
            code::GENERIC,
            format!("The emulator does not serve {method} {path}: no such route."),
        )
    }

    // ---- cloud engine (protocol notes §5; the Node engine's texts, leanengine 3.8.0) -------

    /// `POST /1.1/functions/<name>` for a function nobody defined.
    pub fn no_such_cloud_function(name: &str) -> Self {
        LcError::new(
            404,
            code::GENERIC,
            format!("No such cloud function '{name}'"),
        )
    }
    /// A class hook nobody defined (`hook` as in the path: `beforeSave`, ...).
    pub fn no_such_class_hook(class: &str, hook: &str) -> Self {
        LcError::new(404, code::GENERIC, format!("No {hook} hook of '{class}'"))
    }
    /// A user hook nobody defined (`onLogin`, `onVerified`, `onAuthData`).
    pub fn no_such_user_hook(hook: &str) -> Self {
        LcError::new(404, code::GENERIC, format!("No such hook: {hook}"))
    }
    /// `/1.1/functions` with no function or class name after it.
    pub fn no_function_name(url: &str) -> Self {
        LcError::new(
            404,
            code::GENERIC,
            format!("No function name or class name: {url}"),
        )
    }
    /// A hook request without the app's `X-LC-Hook-Key`.
    pub fn hook_key_check_failed(remote_address: &str) -> Self {
        LcError::new(
            401,
            code::UNAUTHORIZED,
            format!("Hook key check failed, request from {remote_address}"),
        )
    }
    /// An `internal` function called with neither the hook key nor the master key.
    pub fn internal_cloud_function(remote_address: &str) -> Self {
        LcError::new(
            401,
            code::UNAUTHORIZED,
            format!("Internal cloud function, request from {remote_address}"),
        )
    }
    /// `X-LC-Session` names no user (`detail`: the storage server's message).
    pub fn session_verify_failed(detail: &str) -> Self {
        LcError::new(
            401,
            code::USER_NOT_FOUND,
            format!("Verify sessionToken failed, maybe login expired: {detail}"),
        )
    }
    /// A before-hook (or onLogin) refused the write; `detail` is the engine's error
    /// message. Recorded (hooks suite, batch item): `Cloud Code validation failed. Error
    /// detail : Error from beforeDelete`. The HTTP status of a 142 outside a batch was
    /// not found; 400 is a choice.
    pub fn cloud_validation_failed(detail: impl fmt::Display) -> Self {
        LcError::new(
            400,
            code::VALIDATION_ERROR,
            format!("Cloud Code validation failed. Error detail : {detail}"),
        )
    }
    /// A hook did not answer within the storage side's wait (protocol notes §4: 141
    /// `LeanEngine request timeout.`, naming the class and hook; the exact wording and the
    /// HTTP status were not found).
    pub fn hook_timeout(class: &str, hook: &str, waited: std::time::Duration) -> Self {
        LcError::new(
            400,
            code::SCRIPT_FAILED,
            format!(
                "LeanEngine request timeout. The {hook} hook of '{class}' did not answer within {} ms.",
                waited.as_millis()
            ),
        )
    }
    /// A request that would run longer than the service lets one run: code 124, with the
    /// text of LeanCloud's error-code table ("The request timed out on the server.
    /// Typically this indicates the request is too expensive."; 请求超时, views/error_code.md
    /// of leancloud's docs, now docs/sdk/other/error-code.mdx). HTTP 503 as for the one 124
    /// whose status the docs give (a cloud function's timeout).
    pub fn request_timeout() -> Self {
        LcError::new(
            503,
            code::TIMEOUT,
            "The request timed out on the server. Typically this indicates the request is too expensive.",
        )
    }
    /// A cloud function or hook ran longer than the engine's timeout (15 s by default).
    pub fn engine_timeout() -> Self {
        LcError::new(503, code::TIMEOUT, "The request timed out on the server.")
    }
    /// A cloud function whose engine is not running (nothing takes the connection), as
    /// the platform answers it: 503, code 503. The error-code page (leancloud/docs
    /// docs/sdk/other/error-code.mdx, 503) says a call to the cloud engine gets it when
    /// the engine's instance is asleep; its message there (`The app is temporarily
    /// disabled/readonly.`) is about the app, so the message is the emulator's.
    pub fn engine_unavailable(detail: impl fmt::Display) -> Self {
        LcError::new(
            503,
            code::ENGINE_UNAVAILABLE,
            format!("The app's cloud engine is not running: {detail}"),
        )
    }
    /// A cloud function whose engine took the connection but gave no answer the
    /// platform can pass on (it closed the connection mid-answer, or answered something
    /// that is not a function's answer: empty, not JSON, `null`): 524, code 524, the
    /// error-code page's "the web server failed to talk to the app's instance" (leancloud/
    /// docs docs/sdk/other/error-code.mdx, 524: `complete a TCP connection to the
    /// upstream server, but did not receive a timely HTTP response.`).
    pub fn engine_no_valid_answer(detail: impl fmt::Display) -> Self {
        LcError::new(
            524,
            code::ENGINE_NO_VALID_ANSWER,
            format!("The cloud engine did not give a valid answer: {detail}"),
        )
    }
    /// An exception (in Rust: a panic) escaped a handler: its message, HTTP 500, code 1.
    pub fn uncaught_exception(message: impl Into<String>) -> Self {
        LcError::new(500, code::GENERIC, message)
    }
    /// An engine request body that is not JSON (the Node engine's body parser answers
    /// 400 code 1 with the parser's message).
    pub fn malformed_engine_body(detail: impl fmt::Display) -> Self {
        LcError::new(400, code::GENERIC, format!("Malformed JSON body: {detail}"))
    }
    /// A hook body without the parts the hook needs. Node fails with a `TypeError` (500);
    /// a request error (400) naming what is missing is a choice.
    pub fn invalid_hook_request(detail: impl fmt::Display) -> Self {
        LcError::new(
            400,
            code::GENERIC,
            format!("Invalid hook request: {detail}"),
        )
    }
    /// An engine request body over 20 MB (the Node engine's body parser).
    pub fn engine_payload_too_large() -> Self {
        LcError::new(413, code::GENERIC, "request entity too large")
    }
    /// A path the cloud engine does not serve.
    pub fn engine_route_not_found(method: &str, path: &str) -> Self {
        LcError::new(
            404,
            code::GENERIC,
            format!("The cloud engine does not serve {method} {path}: no such route."),
        )
    }
}

/// The SMS, phone, email and captcha flows (i16). Codes from the error-code table in the
/// protocol notes (§4: 212/213 phone missing / not found, 214 taken, 215 not verified,
/// 600-608 SMS); messages as the service words them where an SDK or app quotes one
/// (601 `Can't send sms code too frequently.`, 603 `Invalid SMS code.`), else in the
/// same style.
impl LcError {
    pub fn mobile_phone_missing() -> Self {
        LcError::new(
            400,
            code::MOBILE_PHONE_MISSING,
            "The mobile phone number is missing, and must be specified.",
        )
    }
    pub fn mobile_phone_not_found() -> Self {
        LcError::new(
            400,
            code::MOBILE_PHONE_NOT_FOUND,
            "A user with the specified mobile phone number was not found.",
        )
    }
    pub fn mobile_phone_not_verified() -> Self {
        LcError::new(
            400,
            code::MOBILE_PHONE_NOT_VERIFIED,
            "Mobile phone number isn't verified.",
        )
    }
    /// More than one code a minute, or more than the day's allowance, for one number.
    pub fn sms_too_frequent() -> Self {
        LcError::new(
            400,
            code::SMS_TOO_FREQUENT,
            "Can't send sms code too frequently.",
        )
    }
    /// A code that was never sent, was used, has expired, or was guessed too often.
    pub fn invalid_sms_code() -> Self {
        LcError::new(400, code::INVALID_SMS_CODE, "Invalid SMS code.")
    }
    /// A captcha code or `validate_token` that does not match. The service's code was not
    /// found; code 1 (parameter error) is a choice.
    pub fn invalid_captcha(detail: impl fmt::Display) -> Self {
        LcError::generic(format!("Invalid captcha: {detail}."))
    }
    /// An email link's token that was never issued, was used, or has expired.
    pub fn invalid_email_token() -> Self {
        LcError::new(404, code::GENERIC, "The link is invalid or has expired.")
    }
}

impl fmt::Display for LcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "LeanCloud error {} (HTTP {}): {}",
            self.code, self.status, self.message
        )
    }
}

impl std::error::Error for LcError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_round_trips_through_its_json_body() {
        let e = LcError::no_effect();
        let back = LcError::from_json(e.status, &e.to_json()).unwrap();
        assert_eq!(back, e);
        assert_eq!(
            e.to_json(),
            json!({"code":305,"error":"No effect on updating/deleting a document."})
        );
    }

    #[test]
    fn a_message_repeating_a_huge_input_is_cut_with_a_marker() {
        let key = "é".repeat(MAX_MESSAGE_BYTES);
        let e = LcError::invalid_key_name(&key);
        assert_eq!(e.code, code::INVALID_KEY_NAME);
        let (kept, marker) = e.message.split_once('…').unwrap();
        assert!(kept.len() <= MAX_MESSAGE_BYTES && kept.len() > MAX_MESSAGE_BYTES - 4);
        let full = format!(
            "Invalid key name '{key}'. Key names must start with a letter, and only letters, \
             digits and underscores are allowed."
        );
        assert_eq!(marker, format!("[cut: {} bytes]", full.len() - kept.len()));
        assert!(full.starts_with(kept));
        let short = LcError::invalid_key_name("a-b");
        assert!(short.message.contains("'a-b'") && !short.message.contains('…'));
    }

    #[test]
    fn non_leancloud_bodies_are_not_errors() {
        assert_eq!(LcError::from_json(200, &json!({"objectId":"x"})), None);
        assert_eq!(
            LcError::from_json(500, &json!({"code":"x","error":1})),
            None
        );
    }
}
