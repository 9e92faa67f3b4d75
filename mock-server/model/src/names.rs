//! Class and key name rules: letters, digits and underscores, starting with a letter
//! (built-in classes and keys start with `_`).

use leancloud::LcError;

/// Built-in classes an app has only once they are written, besides those every app has
/// from the start ([`crate::store::INITIAL_CLASSES`]).
const BUILT_IN_ON_FIRST_WRITE: &[&str] = &["_Conversation", "_Status", "_Follower", "_Followee"];

/// A built-in class, which a client may address by name though it starts with `_`.
fn is_built_in_class(name: &str) -> bool {
    crate::store::INITIAL_CLASSES.contains(&name) || BUILT_IN_ON_FIRST_WRITE.contains(&name)
}

/// Keys the service sets itself; a client may not write them.
pub const RESERVED_KEYS: &[&str] = &["objectId", "createdAt", "updatedAt"];

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A class name a client may use: an identifier or a built-in class.
pub fn check_class_name(name: &str) -> Result<(), LcError> {
    if is_identifier(name) || is_built_in_class(name) {
        Ok(())
    } else {
        Err(LcError::invalid_class_name(name))
    }
}

/// A top-level key a client may write. `ACL` is allowed; flags starting with `__`
/// (such as `__ignore_hooks`) are handled by the caller before this check.
pub fn check_key_name(key: &str) -> Result<(), LcError> {
    if is_identifier(key) && key.len() <= 128 {
        Ok(())
    } else {
        Err(LcError::invalid_key_name(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leancloud::error::code;

    #[test]
    fn identifiers_and_builtins_are_valid_class_names() {
        for ok in [
            "Post",
            "a1_b",
            "_User",
            "_Role",
            "_File",
            "_Installation",
            "_Status",
        ] {
            assert_eq!(check_class_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "1Post", "Po-st", "_Secret", "Post.x", "Пост"] {
            assert_eq!(
                check_class_name(bad).unwrap_err().code,
                code::INVALID_CLASS_NAME,
                "{bad}"
            );
        }
    }

    #[test]
    fn keys_must_start_with_a_letter() {
        assert!(check_key_name("title_2").is_ok());
        for bad in ["_private", "2x", "a-b", "a.b", "$set", ""] {
            assert_eq!(
                check_key_name(bad).unwrap_err().code,
                code::INVALID_KEY_NAME,
                "{bad}"
            );
        }
    }
}
