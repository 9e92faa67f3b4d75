//! A unique index under concurrent creates; an app started from, and reset to, its
//! settings; seeded users log in.

use super::*;

// ---- unique index under concurrency ---------------------------------------------------------

fn tag_app() -> Api {
    let tag = ClassSpec::parse(
        "Tag",
        &ClassFiles {
            schema: Some(json!({"columns": {"name": {"type": "String", "required": true}}})),
            indexes: Some(json!([{"keys": ["name"], "unique": true}])),
            ..ClassFiles::default()
        },
    )
    .unwrap();
    let settings = Settings {
        dir: PathBuf::from("(in memory)"),
        classes: vec![tag],
    };
    Api::with_settings(AppConfig::default(), &settings).unwrap()
}

/// 16 clients create a Tag with the same name at once, while 16 others create distinct
/// names: exactly one of the first wins, every distinct one succeeds, nothing else lands.
async fn unique_index_holds_under_concurrent_creates(front: Front) {
    const N: usize = 16;
    let app = Running::start(front, tag_app()).await;
    let base = app.uri();
    let mut tasks = Vec::new();
    for i in 0..2 * N {
        let base = base.clone();
        let name = if i % 2 == 0 {
            "same".to_string()
        } else {
            format!("distinct-{i}")
        };
        tasks.push(tokio::spawn(async move {
            let answer = send(
                &base,
                "POST",
                "/1.1/classes/Tag",
                Some(json!({"name": name})),
                Caller::Anonymous,
            )
            .await;
            (name, answer)
        }));
    }
    let mut same_created = 0;
    let mut same_refused = 0;
    for task in tasks {
        let (name, (status, body)) = task.await.unwrap();
        match (name.as_str(), status) {
            ("same", 201) => same_created += 1,
            ("same", _) => {
                assert_eq!((status, body), err(leancloud::LcError::duplicate_value()));
                same_refused += 1;
            }
            (_, _) => assert_eq!(status, 201, "{name}: {body}"),
        }
    }
    assert_eq!((same_created, same_refused), (1, N - 1), "{front:?}");
    let store = app.api().store();
    let tags = &store.class("Tag").unwrap().objects;
    let mut names: Vec<&str> = tags
        .values()
        .map(|t| t.val("name").and_then(Val::as_str).unwrap())
        .collect();
    names.sort();
    let mut expected: Vec<String> = (0..2 * N)
        .filter(|i| i % 2 == 1)
        .map(|i| format!("distinct-{i}"))
        .collect();
    expected.push("same".into());
    expected.sort();
    assert_eq!(names, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_unique_index_admits_one_of_many_concurrent_creates_on_the_standalone_server() {
    unique_index_holds_under_concurrent_creates(Front::Standalone).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_unique_index_admits_one_of_many_concurrent_creates_on_the_wiremock_front() {
    unique_index_holds_under_concurrent_creates(Front::Wiremock).await;
}

#[tokio::test]
async fn a_mock_starts_from_a_settings_folder() {
    let lc = MockLeanCloud::start_with_settings(example_dir())
        .await
        .unwrap();
    let (status, body) = send(
        &lc.uri(),
        "GET",
        &format!("/1.1/classes/Business/{CAFE}"),
        None,
        Caller::Anonymous,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], "Blue Door Cafe");
    assert_eq!(body["owner"], pointer("_User", BOB));
}

/// `POST /__mock/reset` returns a fixture-loaded app to its fixtures, not to nothing.
#[test]
fn reset_returns_the_app_to_its_settings_and_rows() {
    let api = Api::with_settings(AppConfig::default(), &example()).unwrap();
    let count = |api: &Api, class: &str| api.store().class(class).map(|c| c.objects.len());
    let before: Vec<_> = ["_User", "Business", "Review"]
        .iter()
        .map(|c| count(&api, c))
        .collect();
    let settings_before = api.store().class("Business").unwrap().settings.clone();
    api.store().class_mut("Business").clear();
    api.store().class_mut("Scratch");
    api.reset();
    let after: Vec<_> = ["_User", "Business", "Review"]
        .iter()
        .map(|c| count(&api, c))
        .collect();
    assert_eq!(after, before);
    assert_eq!(
        api.store().class("Business").unwrap().settings,
        settings_before
    );
    assert!(api.store().class("Scratch").is_none());
}

/// `_User` rows with a clear-text `password` can log in with it; the hash, not the
/// password, is what the app holds.
#[test]
fn seeded_users_log_in_with_their_fixture_password() {
    let api = Api::with_settings(AppConfig::default(), &example()).unwrap();
    let cfg = api.config().clone();
    let login = |password: &str| {
        let req = leancloud::Request::new("POST", "/1.1/login")
            .with_header("x-lc-id", &cfg.app_id)
            .with_header("x-lc-key", &cfg.app_key)
            .with_json(&json!({"username": "alice", "password": password}));
        let resp = api.handle(&req);
        (resp.status, resp.body_json().unwrap())
    };
    let (status, user) = login("alice-password");
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["username"], "alice");
    assert!(user.get("password").is_none());
    let (status, body) = login("wrong");
    assert_eq!((status, body["code"].clone()), (400, json!(210)));
    let id = user["objectId"].as_str().unwrap();
    assert!(api.store().passwords[id].starts_with("$argon2id$"));
}
