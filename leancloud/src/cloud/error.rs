//! [`CloudError`]: what a cloud function or hook answers when it refuses, as the Node
//! engine's `AV.Cloud.Error` (default HTTP 400, code 1).

use crate::LcError;
use serde_json::{Value, json};
use std::fmt;

/// An error a handler returns, and the errors the runtime itself answers (no such
/// function, timeout, panic). On the wire: the HTTP `status` and `{"code","error"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudError {
    /// LeanCloud error code (`code` in the body); 1 unless given.
    pub code: i64,
    /// Message (`error` in the body).
    pub message: String,
    /// HTTP status of the engine's answer; 400 unless given.
    pub status: u16,
}

impl CloudError {
    /// `AV.Cloud.Error(message)`: HTTP 400, code 1.
    pub fn new(message: impl Into<String>) -> Self {
        CloudError {
            code: crate::error::code::GENERIC,
            message: message.into(),
            status: 400,
        }
    }

    /// `AV.Cloud.Error(message, {code})`: HTTP 400 with an app-chosen code.
    pub fn with_code(mut self, code: i64) -> Self {
        self.code = code;
        self
    }

    /// `AV.Cloud.Error(message, {status})`: another HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// An error the engine answers as it is: status, code and message kept.
    pub fn from_lc(err: LcError) -> Self {
        CloudError {
            code: err.code,
            message: err.message,
            status: err.status,
        }
    }

    /// An uncaught failure inside a handler (a panic): HTTP 500, code 1, its message.
    pub fn uncaught(message: impl Into<String>) -> Self {
        CloudError::from_lc(LcError::uncaught_exception(message))
    }

    /// The engine ran out of time: `503 {"code":124,"error":"The request timed out on the server."}`.
    pub fn timed_out() -> Self {
        CloudError::from_lc(LcError::engine_timeout())
    }

    /// The same error as an [`LcError`] (for a client or the emulator).
    pub fn to_lc_error(&self) -> LcError {
        LcError::new(self.status, self.code, self.message.clone())
    }

    /// The JSON body: `{"code":…,"error":…}`.
    pub fn to_json(&self) -> Value {
        json!({"code": self.code, "error": self.message})
    }
}

/// A storage error that escapes a handler through `?`. The Node engine answers such an
/// error (an `AV.Error`, which carries no HTTP status) with 500 and the storage's code and
/// message; so does this conversion. Use [`CloudError::from_lc`] to keep the status.
impl From<LcError> for CloudError {
    fn from(err: LcError) -> Self {
        CloudError {
            code: err.code,
            message: err.message,
            status: 500,
        }
    }
}

/// A bare message, as a Node handler rejecting with a string: HTTP 400, code 1.
impl From<&str> for CloudError {
    fn from(message: &str) -> Self {
        CloudError::new(message)
    }
}

impl From<String> for CloudError {
    fn from(message: String) -> Self {
        CloudError::new(message)
    }
}

impl From<CloudError> for LcError {
    fn from(err: CloudError) -> Self {
        LcError::new(err.status, err.code, err.message)
    }
}

impl fmt::Display for CloudError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cloud error {} (HTTP {}): {}",
            self.code, self.status, self.message
        )
    }
}

impl std::error::Error for CloudError {}
