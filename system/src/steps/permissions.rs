//! Permissions: the platform's refusals of the last request, by an object's ACL, by a
//! class permission, or because a key is read-only; and who may see an object.

use crate::World;
use cucumber::then;
use leancloud::Caller;
use leancloud::Resource;
use leancloud::error::code;

fn assert_error(world: &World, status: u16, code: i64, message: &str) {
    let last = world.last();
    let err = last.error().unwrap_or_else(|| {
        panic!(
            "expected the refusal {status} {code} \"{message}\", got {} {}",
            last.status, last.body
        )
    });
    assert_eq!(
        (last.status, err.code, err.message.as_str()),
        (status, code, message),
        "expected the refusal {status} {code} \"{message}\""
    );
}

/// Example: Then the write is refused by the object's ACL
///
/// 403, code 403 `Forbidden writing by object's ACL.`
#[then("the write is refused by the object's ACL")]
async fn write_refused_by_acl(world: &mut World) {
    world.settle().await;
    assert_error(
        world,
        403,
        code::FORBIDDEN,
        "Forbidden writing by object's ACL.",
    );
}

/// Example: Then the read is refused by the object's ACL
///
/// 403, code 403 `Forbidden reading by object's ACL.`
#[then("the read is refused by the object's ACL")]
async fn read_refused_by_acl(world: &mut World) {
    world.settle().await;
    assert_error(
        world,
        403,
        code::FORBIDDEN,
        "Forbidden reading by object's ACL.",
    );
}

/// Example: Then the create is refused by the class permissions
///
/// 403, code 403 `Forbidden to <operation> by class permissions.`; the operation is
/// one of get, find, create, update, delete, add_fields.
#[then(
    regex = r"^the (get|find|create|update|delete|add_fields) is refused by the class permissions$"
)]
async fn refused_by_class_permissions(world: &mut World, operation: String) {
    world.settle().await;
    let message = format!("Forbidden to {operation} by class permissions.");
    assert_error(world, 403, code::FORBIDDEN, &message);
}

/// Example: Then the key "ratingCount" is read-only
///
/// 400, code 117 `The key '<key>' is read only.`
#[then(expr = "the key {string} is read-only")]
async fn read_only(world: &mut World, key: String) {
    world.settle().await;
    let message = format!("The key '{key}' is read only.");
    assert_error(world, 400, code::READ_ONLY_KEY, &message);
}

/// Example: Then "li.na" can see the Review "mine"
/// Example: Then nobody signed in can see the Business "Kuanzhai Hot Pot"
///
/// Fetches the object as that user (who must have signed in in this scenario) or with
/// the app key alone, and expects it back.
#[then(regex = r#"^(?:"([^"]+)"|nobody signed in) can see the (\w+) "([^"]+)"$"#)]
async fn can_see(world: &mut World, user: String, class: String, name: String) {
    let seen = fetch_as(world, &user, &class, &name).await;
    assert!(seen, "the {class} \"{name}\" is hidden from {}", who(&user));
}

/// Example: Then "li.na" cannot see the Review "mine"
#[then(regex = r#"^(?:"([^"]+)"|nobody signed in) cannot see the (\w+) "([^"]+)"$"#)]
async fn cannot_see(world: &mut World, user: String, class: String, name: String) {
    let seen = fetch_as(world, &user, &class, &name).await;
    assert!(!seen, "the {class} \"{name}\" is visible to {}", who(&user));
}

fn who(user: &str) -> String {
    if user.is_empty() {
        "nobody signed in".into()
    } else {
        format!("\"{user}\"")
    }
}

async fn fetch_as(world: &mut World, user: &str, class: &str, name: &str) -> bool {
    world.settle().await;
    let principal = if user.is_empty() {
        Caller::Anonymous
    } else {
        Caller::User(user.to_string())
    };
    let id = world.id_of(class, name).await;
    let target = Resource::object(class, &id).path();
    let exchange = world.exchange(&principal, "GET", &target, None).await;
    let seen = exchange.answer.status == 200 && exchange.answer.body.get("objectId").is_some();
    world.checked = Some(exchange);
    seen
}
