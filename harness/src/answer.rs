//! What a request got back: [`Answer`], with the checks tests make on it.

use leancloud::LcError;
use serde_json::Value;

/// An HTTP answer: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The LeanCloud error this answer carries, if it is one.
    pub fn error(&self) -> Option<LcError> {
        if self.status < 400 {
            return None;
        }
        LcError::from_json(self.status, &self.body)
    }

    /// Panic, with the answer, unless it is the LeanCloud error `code` with exactly
    /// `message`.
    #[track_caller]
    pub fn assert_error(&self, code: i64, message: &str) {
        match self.error() {
            Some(e) if e.code == code && e.message == message => {}
            Some(e) => panic!(
                "expected LeanCloud error {code} {message:?}\n     got error {} {:?} (HTTP {})",
                e.code, e.message, self.status
            ),
            None => panic!(
                "expected LeanCloud error {code} {message:?}\n     got HTTP {} {}",
                self.status, self.body
            ),
        }
    }

    /// Panic, with the answer, unless it is a LeanCloud error with `code` (any message).
    #[track_caller]
    pub fn assert_error_code(&self, code: i64) {
        match self.error() {
            Some(e) if e.code == code => {}
            Some(e) => panic!(
                "expected LeanCloud error {code}\n     got error {} {:?} (HTTP {})",
                e.code, e.message, self.status
            ),
            None => panic!(
                "expected LeanCloud error {code}\n     got HTTP {} {}",
                self.status, self.body
            ),
        }
    }

    /// Panic, with the answer, unless its status is `status`.
    #[track_caller]
    pub fn assert_status(&self, status: u16) {
        assert!(
            self.status == status,
            "expected HTTP {status}\n     got HTTP {} {}",
            self.status,
            self.body
        );
    }

    /// The `objectId` of the answer; panics, with the answer, when there is none.
    #[track_caller]
    pub fn object_id(&self) -> String {
        match self.body["objectId"].as_str() {
            Some(id) => id.to_string(),
            None => panic!(
                "expected an answer with an objectId\n     got HTTP {} {}",
                self.status, self.body
            ),
        }
    }
}
