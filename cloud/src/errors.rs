//! The app's refusals: one constructor per kind, each with the HTTP status and LeanCloud
//! code a client can branch on. The message is always meant for the person using the app.
//!
//! | kind | HTTP | code | when |
//! |---|---|---|---|
//! | [`invalid`] | 400 | 142 | a value breaks a rule (name too long, bad postal code, ...) |
//! | [`sign_in_required`] | 401 | 401 | the action needs a signed-in user |
//! | [`forbidden`] | 403 | 403 | the caller may not do this (not the owner, not a moderator, banned) |
//! | [`not_found`] | 404 | 101 | an object the request names does not exist |
//! | [`conflict`] | 400 | 137 | the write would duplicate something unique (a second review) |
//!
//! A before-hook's refusal reaches the client as `142 Cloud Code validation failed. Error
//! detail : <message>` whatever its own code (the platform keeps only the message); a cloud
//! function's refusal reaches it as it is. A storage failure the app did not expect goes
//! out as the storage's own error with HTTP 500 (the runtime's `From<LcError>`).

use crate::rules::RuleError;
use leancloud::cloud::CloudError;
use leancloud::error::code;

/// A value breaks one of the app's rules: 400, code 142.
pub fn invalid(message: impl Into<String>) -> CloudError {
    CloudError::new(message).with_code(code::VALIDATION_ERROR)
}

/// Nobody is signed in: 401, code 401.
pub fn sign_in_required(message: impl Into<String>) -> CloudError {
    CloudError::new(message)
        .with_code(code::UNAUTHORIZED)
        .with_status(401)
}

/// The caller is known but may not do this: 403, code 403.
pub fn forbidden(message: impl Into<String>) -> CloudError {
    CloudError::new(message)
        .with_code(code::FORBIDDEN)
        .with_status(403)
}

/// Something the request names does not exist: 404, code 101.
pub fn not_found(message: impl Into<String>) -> CloudError {
    CloudError::new(message)
        .with_code(code::OBJECT_NOT_FOUND)
        .with_status(404)
}

/// The write would make a second copy of something unique: 400, code 137.
pub fn conflict(message: impl Into<String>) -> CloudError {
    CloudError::new(message).with_code(code::DUPLICATE_VALUE)
}

/// A rule's refusal is a validation failure with the rule's message.
impl From<RuleError> for CloudError {
    fn from(err: RuleError) -> Self {
        invalid(err.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_refusal_has_its_status_and_code() {
        let kinds = [
            (invalid("m"), 400, code::VALIDATION_ERROR),
            (sign_in_required("m"), 401, code::UNAUTHORIZED),
            (forbidden("m"), 403, code::FORBIDDEN),
            (not_found("m"), 404, code::OBJECT_NOT_FOUND),
            (conflict("m"), 400, code::DUPLICATE_VALUE),
        ];
        for (err, status, code) in kinds {
            assert_eq!(
                (err.status, err.code, err.message.as_str()),
                (status, code, "m")
            );
        }
    }

    #[test]
    fn a_rule_error_becomes_a_validation_failure_with_its_message() {
        let err: CloudError = RuleError("Stars must be a whole number from 1 to 5.".into()).into();
        assert_eq!(err, invalid("Stars must be a whole number from 1 to 5."));
        assert_eq!(err.code, code::VALIDATION_ERROR);
    }
}
