//! Named snapshots (`POST /__mock/snapshots`, `POST /__mock/snapshots/<name>/restore`,
//! and the same on `Api`) and forks (`Api::fork`, `settings::shared_app`): what each
//! returns an app to, that a fork and its original never see each other's writes, and
//! that indexes (unique ones included) come back with the rows.

use crate::settings::example_dir;
use crate::support::{error, send};
use lc_model::limits::{MAX_SNAPSHOT_NAME_BYTES, MAX_SNAPSHOTS};
use leancloud::error::code;
use leancloud::{Caller, LcError};
use mock_server::api::{Api, AppConfig};
use mock_server::settings::{Settings, shared_app};
use serde_json::{Value, json};
use std::sync::Arc;

fn example_app() -> Api {
    let settings = Settings::load(example_dir()).expect("the example loads");
    Api::with_settings(AppConfig::default(), &settings).expect("the example applies")
}

/// The names of the businesses, in id order, as the master key finds them.
fn names(api: &Api) -> Vec<String> {
    let (status, body) = send(
        api,
        &Caller::Master,
        "GET",
        "/1.1/classes/Business?order=objectId",
        None,
    );
    assert_eq!(status, 200, "{body}");
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_string())
        .collect()
}

/// The businesses named `name`, found through the index on `name`.
fn named(api: &Api, name: &str) -> usize {
    let where_ = json!({"name": name}).to_string();
    let path = format!(
        "/1.1/classes/Business?count=1&limit=0&where={}",
        percent_encoding::utf8_percent_encode(&where_, percent_encoding::NON_ALPHANUMERIC)
    );
    let (status, body) = send(api, &Caller::Master, "GET", &path, None);
    assert_eq!(status, 200, "{body}");
    body["count"].as_u64().unwrap() as usize
}

fn create_business(api: &Api, name: &str) -> (u16, Value) {
    send(
        api,
        &Caller::Master,
        "POST",
        "/1.1/classes/Business",
        Some(&json!({"name": name})),
    )
}

#[test]
fn a_named_snapshot_returns_the_app_to_what_it_held_then() {
    let api = example_app();
    let start = names(&api);
    assert_eq!(start, ["Blue Door Cafe", "Night Noodles"]);

    let (status, body) = send(
        &api,
        &Caller::Master,
        "POST",
        "/__mock/snapshots",
        Some(&json!({"name": "two"})),
    );
    assert_eq!((status, body), (200, json!({"name": "two"})));
    let (status, created) = create_business(&api, "Corner Deli");
    assert_eq!(status, 201, "{created}");
    let id = created["objectId"].as_str().unwrap();
    let (status, _) = send(
        &api,
        &Caller::Master,
        "PUT",
        "/1.1/classes/Business/65a0f1c2e4b0a1b2c3d4e601",
        Some(&json!({"name": "Red Door Cafe"})),
    );
    assert_eq!(status, 200);
    assert_eq!(
        names(&api),
        ["Red Door Cafe", "Night Noodles", "Corner Deli"]
    );
    assert_eq!(named(&api, "Blue Door Cafe"), 0);
    api.save_snapshot("three").unwrap();

    let (status, body) = send(
        &api,
        &Caller::Master,
        "POST",
        "/__mock/snapshots/two/restore",
        None,
    );
    assert_eq!((status, body), (200, json!({})));
    assert_eq!(names(&api), start);
    // The indexes came back with the rows: the old name is found, the new one is not,
    // and the unique index on `name` holds the restored names.
    assert_eq!(named(&api, "Blue Door Cafe"), 1);
    assert_eq!(named(&api, "Red Door Cafe"), 0);
    let (status, body) = create_business(&api, "Blue Door Cafe");
    assert_eq!(error(status, &body).code, code::DUPLICATE_VALUE);
    let (status, body) = send(
        &api,
        &Caller::Master,
        "GET",
        &format!("/1.1/classes/Business/{id}"),
        None,
    );
    assert_eq!((status, body), (200, json!({})), "the later row is gone");

    api.restore_snapshot("three").unwrap();
    assert_eq!(
        names(&api),
        ["Red Door Cafe", "Night Noodles", "Corner Deli"]
    );
    // Restoring does not use a snapshot up: it can be restored again.
    api.restore_snapshot("two").unwrap();
    api.restore_snapshot("two").unwrap();
    assert_eq!(names(&api), start);
}

#[test]
fn snapshots_answer_like_the_service_when_asked_wrongly() {
    let api = example_app();
    let (status, body) = send(
        &api,
        &Caller::Master,
        "POST",
        "/__mock/snapshots/nope/restore",
        None,
    );
    assert_eq!(
        (status, body),
        (
            404,
            json!({"code": 101, "error": "Could not find the snapshot 'nope'."})
        )
    );
    let (status, body) = send(
        &api,
        &Caller::Anonymous,
        "POST",
        "/__mock/snapshots",
        Some(&json!({"name": "x"})),
    );
    assert_eq!(error(status, &body), LcError::master_key_required());
    let (status, body) = send(
        &api,
        &Caller::Anonymous,
        "POST",
        "/__mock/snapshots/x/restore",
        None,
    );
    assert_eq!(error(status, &body), LcError::master_key_required());
    for bad in [json!({}), json!({"name": 3}), json!({"name": ""})] {
        let (status, body) = send(
            &api,
            &Caller::Master,
            "POST",
            "/__mock/snapshots",
            Some(&bad),
        );
        assert_eq!(
            (status, error(status, &body).code),
            (400, code::INVALID_JSON),
            "{bad}"
        );
    }
    let long = "n".repeat(MAX_SNAPSHOT_NAME_BYTES + 1);
    assert_eq!(
        api.save_snapshot(&long).unwrap_err().code,
        code::INVALID_JSON
    );
    assert!(
        api.save_snapshot(&"n".repeat(MAX_SNAPSHOT_NAME_BYTES))
            .is_ok()
    );

    for i in 1..MAX_SNAPSHOTS {
        api.save_snapshot(&format!("s{i}")).unwrap();
    }
    let err = api.save_snapshot("one too many").unwrap_err();
    assert!(err.message.contains("snapshots at most"), "{err:?}");
    // A name already kept is replaced, not added.
    create_business(&api, "Late Bar");
    api.save_snapshot("s1").unwrap();
    api.reset();
    assert_eq!(names(&api).len(), 2);
    api.restore_snapshot("s1").unwrap();
    assert_eq!(names(&api).len(), 3);
}

#[test]
fn a_fork_and_its_original_never_see_each_others_writes() {
    let original = example_app();
    let fork = original.fork();
    assert_eq!(names(&fork), names(&original));

    let (status, body) = create_business(&fork, "Fork Only");
    assert_eq!(status, 201, "{body}");
    let (status, body) = create_business(&original, "Original Only");
    assert_eq!(status, 201, "{body}");
    let (status, _) = send(
        &fork,
        &Caller::Master,
        "DELETE",
        "/1.1/classes/Business/65a0f1c2e4b0a1b2c3d4e602",
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(names(&fork), ["Blue Door Cafe", "Fork Only"]);
    assert_eq!(
        names(&original),
        ["Blue Door Cafe", "Night Noodles", "Original Only"]
    );
    // Each enforces the unique index on its own rows.
    assert_eq!(create_business(&fork, "Original Only").0, 201);
    assert_eq!(create_business(&original, "Fork Only").0, 201);
    assert_eq!(
        error_code(create_business(&fork, "Fork Only")),
        code::DUPLICATE_VALUE
    );

    // A fork's reset returns it to what it held when forked.
    fork.reset();
    assert_eq!(names(&fork), ["Blue Door Cafe", "Night Noodles"]);
    assert_eq!(names(&original).len(), 4);

    // The fixtures' users sign in on a fork too (sessions and passwords came along).
    let (status, body) = send(
        &fork,
        &Caller::Anonymous,
        "POST",
        "/1.1/login",
        Some(&json!({"username": "alice", "password": "alice-password"})),
    );
    assert_eq!(status, 200, "{body}");
}

fn error_code((status, body): (u16, Value)) -> i64 {
    error(status, &body).code
}

#[test]
fn a_shared_app_is_loaded_once_and_forked_per_test() {
    let a = shared_app(example_dir()).unwrap();
    let b = shared_app(example_dir().join("../settings_example")).unwrap();
    assert!(Arc::ptr_eq(&a, &b), "one load per folder");
    let first = a.fork();
    let second = a.fork();
    create_business(&first, "Only In First");
    assert_eq!(names(&second), ["Blue Door Cafe", "Night Noodles"]);
    assert_eq!(names(&a), ["Blue Door Cafe", "Night Noodles"]);
    assert!(shared_app(example_dir().join("missing")).is_err());
}
