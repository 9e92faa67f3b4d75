//! The app's own settings (`fixtures/database_settings`): rows that agree with each
//! other, references that resolve, logins with the documented passwords.

use super::*;

// ---- the app's own database settings ------------------------------------------------------

/// The directory app's settings and rows (`fixtures/database_settings`).
fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/database_settings")
}

fn app_settings() -> Settings {
    Settings::load(app_dir()).unwrap_or_else(|e| panic!("the app's settings load: {e}"))
}

fn app_store() -> lc_model::Store {
    let mut store = lc_model::Store::default();
    app_settings()
        .apply_to(&mut store)
        .unwrap_or_else(|e| panic!("the app's rows load: {e}"));
    store
}

fn objects<'a>(
    store: &'a lc_model::Store,
    class: &str,
) -> impl Iterator<Item = &'a lc_model::StoredObject> {
    store
        .class(class)
        .unwrap_or_else(|| panic!("the app has {class}"))
        .objects
        .values()
}

fn number(obj: &lc_model::StoredObject, key: &str) -> f64 {
    obj.to_map()
        .get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{} has a number {key}", obj.id))
}

fn text<'a>(obj: &'a lc_model::StoredObject, key: &str) -> &'a str {
    obj.val(key)
        .and_then(Val::as_str)
        .unwrap_or_else(|| panic!("{} has a string {key}", obj.id))
}

/// The objectId a pointer field holds.
fn target<'a>(obj: &'a lc_model::StoredObject, key: &str) -> &'a str {
    obj.val(key)
        .and_then(|p| p.get("objectId"))
        .and_then(Val::as_str)
        .unwrap_or_else(|| panic!("{} has a pointer {key}", obj.id))
}

/// Every pointer in `value`, however deep, as (path, className, objectId).
fn pointers_in(path: String, value: &Value, out: &mut Vec<(String, String, String)>) {
    match value {
        Value::Object(m) if m.get("__type") == Some(&json!("Pointer")) => {
            let field = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            out.push((path, field("className"), field("objectId")));
        }
        Value::Object(m) => m
            .iter()
            .for_each(|(k, v)| pointers_in(format!("{path}.{k}"), v, out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| pointers_in(format!("{path}[{i}]"), v, out)),
        _ => {}
    }
}

/// `ratingAvg` as the app keeps it: ratingSum / ratingCount rounded half up to 2
/// decimals, 0 without reviews (see fixtures/database_settings/README.md).
fn rating_avg(sum: i64, count: i64) -> f64 {
    if count == 0 {
        0.0
    } else {
        ((200 * sum + count) / (2 * count)) as f64 / 100.0
    }
}

#[test]
fn the_app_rows_agree_with_their_reviews_and_every_reference_resolves() {
    let store = app_store();
    let mut problems: Vec<String> = Vec::new();
    for class in ["_User", "_Role", "Address", "Business", "Review"] {
        assert!(objects(&store, class).next().is_some(), "{class} has rows");
    }

    // Counters, computed from the reviews alone.
    let mut per_business: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    let mut per_author: BTreeMap<&str, i64> = BTreeMap::new();
    let mut pairs = BTreeSet::new();
    for review in objects(&store, "Review") {
        let stars = number(review, "stars");
        if stars.fract() != 0.0 || !(1.0..=5.0).contains(&stars) {
            problems.push(format!("Review {}: stars {stars} is not 1 to 5", review.id));
        }
        if let Some(t) = review.to_map().get("text").and_then(Value::as_str)
            && t.chars().count() > 2000
        {
            problems.push(format!("Review {}: text over 2000 characters", review.id));
        }
        let (business, author) = (target(review, "business"), target(review, "author"));
        let entry = per_business.entry(business).or_default();
        entry.0 += 1;
        entry.1 += stars as i64;
        *per_author.entry(author).or_default() += 1;
        if !pairs.insert((business, author)) {
            problems.push(format!(
                "Review {}: a second review of {business} by {author}",
                review.id
            ));
        }
        if let Some(b) = store.object("Business", business) {
            if b.to_map()["status"] != "active" {
                problems.push(format!("Review {}: {business} is not active", review.id));
            }
            if target(b, "owner") == author {
                problems.push(format!(
                    "Review {}: the owner reviews their own business",
                    review.id
                ));
            }
        }
        let acl = json!({author: {"read": true, "write": true}, "*": {"read": true}});
        if review.to_map().get("ACL") != Some(&acl) {
            problems.push(format!("Review {}: ACL is not the author's", review.id));
        }
    }
    for business in objects(&store, "Business") {
        let (count, sum) = per_business
            .get(business.id.as_str())
            .copied()
            .unwrap_or_default();
        let held = (
            number(business, "ratingCount"),
            number(business, "ratingSum"),
            number(business, "ratingAvg"),
        );
        let want = (count as f64, sum as f64, rating_avg(sum, count));
        if held.0 != want.0 || held.1 != want.1 || (held.2 - want.2).abs() > 1e-9 {
            problems.push(format!(
                "Business {} ({}): ratingCount/ratingSum/ratingAvg {held:?}, its reviews give {want:?}",
                business.id,
                text(business, "name")
            ));
        }
        let owner = target(business, "owner");
        let acl = json!({
            owner: {"read": true, "write": true},
            "*": {"read": true},
            "role:Moderators": {"read": true, "write": true}
        });
        if business.to_map().get("ACL") != Some(&acl) {
            problems.push(format!(
                "Business {}: ACL is not owner + Moderators",
                business.id
            ));
        }
        let address = store.object("Address", target(business, "address"));
        if address.map(|a| a.to_map()["location"].clone())
            != Some(business.to_map()["location"].clone())
        {
            problems.push(format!(
                "Business {}: location is not its address's",
                business.id
            ));
        }
        if let Some(user) = store.object("_User", owner)
            && user.to_map().get("role") != Some(&json!("owner"))
        {
            problems.push(format!(
                "Business {}: its owner is not an owner",
                business.id
            ));
        }
    }
    for address in objects(&store, "Address") {
        if address.to_map().get("ACL") != Some(&json!({"*": {"read": true}})) {
            problems.push(format!(
                "Address {}: ACL is not public read only",
                address.id
            ));
        }
    }
    for user in objects(&store, "_User") {
        let count = per_author.get(user.id.as_str()).copied().unwrap_or(0);
        if number(user, "reviewCount") != count as f64 {
            problems.push(format!(
                "_User {} ({}): reviewCount {}, wrote {count}",
                user.id,
                text(user, "username"),
                number(user, "reviewCount")
            ));
        }
    }

    // Pointers, relations and ACL entries name objects that exist.
    let role_names: BTreeSet<&str> = objects(&store, "_Role").map(|r| text(r, "name")).collect();
    for (class, data) in &store.classes {
        for obj in data.objects.values() {
            let mut found = Vec::new();
            for (key, value) in &obj.to_map() {
                pointers_in(key.clone(), value, &mut found);
            }
            for (path, to_class, to_id) in found {
                if store.object(&to_class, &to_id).is_none() {
                    problems.push(format!(
                        "{class} {}: {path} points to a missing {to_class} {to_id}",
                        obj.id
                    ));
                }
            }
            let fields = obj.to_map();
            let acl = fields.get("ACL").and_then(Value::as_object);
            for who in acl.into_iter().flat_map(|acl| acl.keys()) {
                let known = match who.strip_prefix("role:") {
                    _ if who == "*" => true,
                    Some(role) => role_names.contains(role),
                    None => store.object("_User", who).is_some(),
                };
                if !known {
                    problems.push(format!("{class} {}: ACL names an unknown '{who}'", obj.id));
                }
            }
        }
    }
    for ((class, id, key), targets) in &store.relations {
        let Some(to_class) = store.column_target(class, key) else {
            problems.push(format!("{class} {id}: relation {key} has no target class"));
            continue;
        };
        if store.object(class, id).is_none() {
            problems.push(format!("{class} {id}: relation {key} of a missing object"));
        }
        for to_id in targets {
            if store.object(to_class, to_id).is_none() {
                problems.push(format!(
                    "{class} {id}: relation {key} holds a missing {to_class} {to_id}"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "fixtures/database_settings disagrees with itself:\n{}",
        problems.join("\n")
    );
}

/// Every user logs in with the password the README documents (`<username>-pass`); the
/// Moderators role may edit any business, an ordinary user only their own.
#[test]
fn the_app_users_log_in_with_the_documented_passwords_and_moderators_edit_businesses() {
    let api = Api::with_settings(AppConfig::default(), &app_settings()).unwrap();
    let cfg = api.config().clone();
    let call = |method: &str, path: &str, session: Option<&str>, body: Value| {
        let mut req = leancloud::Request::new(method, path)
            .with_header("x-lc-id", &cfg.app_id)
            .with_header("x-lc-key", &cfg.app_key);
        if let Some(token) = session {
            req = req.with_header("x-lc-session", token);
        }
        let resp = api.handle(&req.with_json(&body));
        (resp.status, resp.body_json().unwrap())
    };
    let users: Vec<(String, String)> = objects(&api.store(), "_User")
        .map(|u| (u.id.to_string(), text(u, "username").to_string()))
        .collect();
    let mut sessions = BTreeMap::new();
    for (id, username) in &users {
        let password = format!("{username}-pass");
        let (status, body) = call(
            "POST",
            "/1.1/login",
            None,
            json!({"username": username, "password": password}),
        );
        assert_eq!(status, 200, "{username} logs in: {body}");
        assert_eq!(&body["objectId"], id);
        sessions.insert(
            username.clone(),
            body["sessionToken"].as_str().unwrap().to_string(),
        );
    }

    let store = app_store();
    let moderators: Vec<&str> = users
        .iter()
        .filter(|(id, _)| lc_model::access::roles_of(&store, id).contains_key("Moderators"))
        .map(|(_, name)| name.as_str())
        .collect();
    assert!(moderators.len() >= 2, "{moderators:?}");
    let business = objects(&store, "Business").next().unwrap();
    let owner = target(business, "owner");
    let stranger = users
        .iter()
        .find(|(id, name)| id != owner && !moderators.contains(&name.as_str()))
        .map(|(_, name)| name.as_str())
        .unwrap();
    let path = format!("/1.1/classes/Business/{}", business.id);
    let rename = json!({"name": "Renamed"});
    let (status, body) = call("PUT", &path, Some(&sessions[moderators[0]]), rename.clone());
    assert_eq!(status, 200, "a moderator edits any business: {body}");
    assert_eq!(
        call("PUT", &path, Some(&sessions[stranger]), rename),
        err(leancloud::LcError::forbidden_writing_by_acl()),
        "{stranger} may not edit another's business"
    );
}

/// A `_User` class that refuses new columns and has no rows yet still takes sign-ups:
/// `username`, `password`, `email`, ... are the class's own columns, not new ones. A key
/// the class does not have is still refused.
#[test]
fn built_in_user_columns_need_no_add_fields_permission() {
    let files = ClassFiles {
        schema: Some(json!({"columns": {"displayName": {"type": "String"}}})),
        permissions: Some(json!({"add_fields": {"users": [], "roles": []}})),
        ..ClassFiles::default()
    };
    let settings = Settings {
        dir: PathBuf::from("in-memory"),
        classes: vec![ClassSpec::parse("_User", &files).unwrap()],
    };
    let api = Api::with_settings(AppConfig::default(), &settings).unwrap();
    let config = api.config().clone();
    let sign_up = |body: Value| {
        let request = leancloud::Request::new("POST", "/1.1/users")
            .with_header("x-lc-id", config.app_id.clone())
            .with_header("x-lc-key", config.app_key.clone())
            .with_json(&body);
        let response = api.handle(&request);
        (response.status, response.body_json().unwrap())
    };
    let (status, body) = sign_up(json!({
        "username": "first.user", "password": "first-pass", "email": "first@example.com",
        "mobilePhoneNumber": "+8613800000000", "displayName": "First"
    }));
    assert_eq!(status, 201, "{body}");
    let (status, body) = sign_up(json!({
        "username": "second.user", "password": "second-pass", "nickname": "new column"
    }));
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], code::FORBIDDEN);
}
