//! The ACLs the app gives its objects. Everything the directory shows is public to
//! read; writing is for the person an object belongs to, plus the `Moderators` role on
//! businesses. Pure: the hooks put these into the objects they store.

use crate::schema::MODERATORS;
use leancloud::value::Acl;
use serde_json::Value;

/// Public read; the owner and the `Moderators` role write.
pub fn business(owner_id: &str) -> Value {
    Acl::new()
        .allow_read("*")
        .allow_write(owner_id)
        .allow_write(Acl::role(MODERATORS))
        .to_json()
}

/// Public read; the author writes.
pub fn review(author_id: &str) -> Value {
    Acl::new().allow_read("*").allow_write(author_id).to_json()
}

/// Public read; the user who created the address writes. Without a user (the master
/// key) nobody but the master key writes.
pub fn address(creator_id: Option<&str>) -> Value {
    let acl = Acl::new().allow_read("*");
    match creator_id {
        Some(id) => acl.allow_write(id).to_json(),
        None => acl.to_json(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_business_is_public_to_read_and_written_by_its_owner_and_moderators() {
        assert_eq!(
            business("u1"),
            json!({"*": {"read": true}, "u1": {"write": true}, "role:Moderators": {"write": true}})
        );
        let acl = Acl::from_json(&business("u1")).unwrap();
        assert!(acl.can_read(&["*"]));
        assert!(!acl.can_write(&["*", "u2"]));
        assert!(acl.can_write(&["*", "u1"]));
        assert!(acl.can_write(&["*", "u2", "role:Moderators"]));
    }

    #[test]
    fn a_review_is_public_to_read_and_written_by_its_author_only() {
        assert_eq!(
            review("u2"),
            json!({"*": {"read": true}, "u2": {"write": true}})
        );
        let acl = Acl::from_json(&review("u2")).unwrap();
        assert!(!acl.can_write(&["*", "u1", "role:Moderators"]));
    }

    #[test]
    fn an_address_is_written_by_its_creator_or_by_nobody_but_the_master_key() {
        assert_eq!(
            address(Some("u3")),
            json!({"*": {"read": true}, "u3": {"write": true}})
        );
        assert_eq!(address(None), json!({"*": {"read": true}}));
    }
}
