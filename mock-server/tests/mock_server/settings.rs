//! Database settings end to end: the example folder loads, broken folders are refused
//! with the file and the problem named, `/1.1/schemas` shows what was loaded, the loaded
//! column and class rules hold over HTTP on both fronts, and a unique index holds under
//! concurrent creates. The example lives in `tests/fixtures/settings_example`; the app's
//! own settings (`fixtures/database_settings`) are checked for rows that agree with each
//! other and for logins with the documented passwords.

use crate::support::keys;
use lc_model::settings::{ClassFiles, ClassSpec};
use lc_model::store::Val;
use leancloud::Caller;
use leancloud::error::code;
use leancloud::value::pointer;
use mock_server::MockLeanCloud;
use mock_server::api::{Api, AppConfig};
use mock_server::http::standalone::Standalone;
use mock_server::settings::{LoadError, Settings};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const ALICE: &str = "65a0f1c2e4b0a1b2c3d4e501";
const ALICE_SESSION: &str = "alicesessiontoken00000001";
const BOB: &str = "65a0f1c2e4b0a1b2c3d4e502";
const CAFE: &str = "65a0f1c2e4b0a1b2c3d4e601";
const NOODLES: &str = "65a0f1c2e4b0a1b2c3d4e602";
const REVIEW: &str = "65a0f1c2e4b0a1b2c3d4e701";

/// The example settings folder (`tests/fixtures/settings_example`), which the snapshot
/// tests load too.
pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/settings_example")
}

fn example() -> Settings {
    Settings::load(example_dir()).unwrap_or_else(|e| panic!("the example loads: {e}"))
}

// ---- loading -------------------------------------------------------------------------------

#[test]
fn the_example_folder_loads_every_class_with_its_rows() {
    let settings = example();
    let names: Vec<&str> = settings.classes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Business", "Review", "_User"]);
    let mut store = lc_model::Store::default();
    let applied = settings.apply_to(&mut store).unwrap();
    assert_eq!((applied.classes, applied.objects), (3, 5));
    let review = store.object("Review", REVIEW).unwrap();
    assert_eq!(
        lc_model::store::StoredObject::get(review, "updatedAt"),
        Some(json!("2024-01-13T10:30:00.000Z"))
    );
    assert_eq!(
        store.class("Review").unwrap().settings.unique,
        vec![vec!["business".to_string(), "author".to_string()]]
    );
    assert_eq!(store.session_user(ALICE_SESSION), Some(ALICE));
    let alice = store.object("_User", ALICE).unwrap();
    assert_eq!(
        alice.to_map()["ACL"],
        json!({ALICE: {"read": true, "write": true}, "*": {"read": true}}),
        "a user row owns itself through the _owner default ACL"
    );
    assert!(!alice.to_map().contains_key("password"));
}

/// A scratch settings folder, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "lc-mock-settings-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, rel: &str, text: &str) -> &Self {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    fn load_err(&self) -> LoadError {
        match Settings::load(&self.0).and_then(|s| {
            s.apply_to(&mut lc_model::Store::default())?;
            Ok(s)
        }) {
            Ok(_) => panic!("{} should not load", self.0.display()),
            Err(e) => e,
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_broken_folder_is_refused_with_the_file_and_the_problem() {
    let s = Scratch::new("misspelt-file");
    s.write("Post/schema.json", r#"{"columns": {}}"#)
        .write("Post/permission.json", "{}");
    let e = s.load_err();
    assert_eq!(e.path, s.0.join("Post/permission.json"));
    assert_eq!(
        e.problem,
        "unknown settings file (expected schema.json, indexes.json, permissions.json, population.json)"
    );

    let s = Scratch::new("stray-file");
    s.write("Post.json", "{}")
        .write("README.md", "notes are fine");
    let e = s.load_err();
    assert_eq!(e.path, s.0.join("Post.json"));
    assert!(e.problem.starts_with("unexpected file"), "{e}");

    let s = Scratch::new("bad-json");
    s.write("Post/schema.json", "{\"columns\": {\n  \"a\": }\n}");
    let e = s.load_err();
    assert_eq!(e.path, s.0.join("Post/schema.json"));
    assert_eq!(e.problem, "invalid JSON: expected value at line 2 column 8");

    let s = Scratch::new("misspelt-key");
    s.write(
        "Post/schema.json",
        r#"{"columns": {"title": {"type": "String", "hiden": true}}}"#,
    );
    assert_eq!(
        s.load_err().to_string(),
        format!(
            "{}: at columns.title.hiden: unknown key 'hiden' (expected one of: type, className, read_only, hidden, required, default, description)",
            s.0.join("Post/schema.json").display()
        )
    );

    let s = Scratch::new("bad-class");
    s.write("Po-st/schema.json", "{}");
    let e = s.load_err();
    assert_eq!(e.path, s.0.join("Po-st"));
    assert!(e.problem.starts_with("Invalid class name 'Po-st'"), "{e}");

    let s = Scratch::new("bad-row");
    s.write(
        "Post/schema.json",
        r#"{"columns": {"title": {"type": "String", "required": true}}}"#,
    )
    .write("Post/population.json", r#"[{"title": "a"}, {"body": "b"}]"#);
    let e = s.load_err();
    assert_eq!(e.path, s.0.join("Post/population.json"));
    assert_eq!(
        e.problem,
        "at [1]: Missing required key: 'title'. (code 113)"
    );

    let missing = Settings::load(s.0.join("nothing-here")).unwrap_err();
    assert_eq!(
        missing.problem,
        "not a folder (expected one folder per class)"
    );
}

#[test]
fn an_empty_class_folder_makes_the_class_exist() {
    let s = Scratch::new("empty-class");
    std::fs::create_dir_all(s.0.join("Empty")).unwrap();
    s.write("Empty/.gitkeep", "");
    let settings = Settings::load(&s.0).unwrap();
    let mut store = lc_model::Store::default();
    settings.apply_to(&mut store).unwrap();
    assert!(store.class("Empty").is_some());
}

// ---- over HTTP, on both fronts -------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Front {
    Wiremock,
    Standalone,
}

/// A running emulator on one front; keeps it alive.
enum Running {
    Wiremock(MockLeanCloud),
    Standalone(Standalone),
}

impl Running {
    async fn start(front: Front, api: Api) -> Running {
        match front {
            Front::Wiremock => Running::Wiremock(MockLeanCloud::start_with(api).await),
            Front::Standalone => Running::Standalone(
                Standalone::start("127.0.0.1:0".parse().unwrap(), Arc::new(api))
                    .await
                    .unwrap(),
            ),
        }
    }

    fn uri(&self) -> String {
        match self {
            Running::Wiremock(lc) => lc.uri(),
            Running::Standalone(s) => s.uri(),
        }
    }

    fn api(&self) -> &Arc<Api> {
        match self {
            Running::Wiremock(lc) => lc.api(),
            Running::Standalone(s) => &s.api,
        }
    }
}

/// Send one request with its own client (its own connection).
async fn send(
    base: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    who: Caller<&str>,
) -> (u16, Value) {
    let cfg = AppConfig::default();
    let http = reqwest::Client::new();
    let mut req = http
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{base}{path}"),
        )
        .header("content-type", "application/json");
    for (name, value) in who.headers(&keys(&cfg)) {
        req = req.header(name, value);
    }
    if let Some(body) = body {
        req = req.body(body.to_string());
    }
    let resp = req.send().await.expect("the emulator answers");
    let status = resp.status().as_u16();
    let body = resp.json().await.expect("every answer is JSON");
    (status, body)
}

fn err(e: leancloud::LcError) -> (u16, Value) {
    (e.status, e.to_json())
}

async fn example_app(front: Front) -> Running {
    let api = Api::with_settings(AppConfig::default(), &example()).unwrap();
    Running::start(front, api).await
}

const FRONTS: [Front; 2] = [Front::Wiremock, Front::Standalone];

#[tokio::test]
async fn schemas_are_for_the_master_key_and_show_loaded_columns() {
    for front in FRONTS {
        let app = example_app(front).await;
        let base = app.uri();
        assert_eq!(
            send(&base, "GET", "/1.1/schemas", None, Caller::Anonymous).await,
            err(leancloud::LcError::master_key_required()),
            "{front:?}"
        );
        assert_eq!(
            send(
                &base,
                "GET",
                "/1.1/schemas/Review",
                None,
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::master_key_required())
        );
        let (status, review) =
            send(&base, "GET", "/1.1/schemas/Review", None, Caller::Master).await;
        assert_eq!(status, 200);
        assert_eq!(
            review,
            json!({
                "objectId": {"type": "String"},
                "createdAt": {"type": "Date"},
                "updatedAt": {"type": "Date"},
                "ACL": {"type": "ACL"},
                "business": {"type": "Pointer", "className": "Business"},
                "author": {"type": "Pointer", "className": "_User"},
                "stars": {"type": "Number"},
                "text": {"type": "String"},
                "moderatorNote": {"type": "String"}
            })
        );
        let (status, all) = send(&base, "GET", "/1.1/schemas", None, Caller::Master).await;
        assert_eq!(status, 200);
        assert_eq!(all["Review"], review);
        for class in ["_User", "_Role", "_File", "_Installation", "Business"] {
            assert_eq!(all[class]["objectId"], json!({"type": "String"}), "{class}");
        }
        assert_eq!(all["_User"]["reviewCount"], json!({"type": "Number"}));
        assert_eq!(
            send(&base, "GET", "/1.1/schemas/Nope", None, Caller::Master).await,
            err(leancloud::LcError::class_or_object_not_found())
        );
    }
}

#[tokio::test]
async fn a_new_column_keeps_the_type_of_its_first_write() {
    for front in FRONTS {
        let app = example_app(front).await;
        let base = app.uri();
        let (status, _) = send(
            &base,
            "POST",
            "/1.1/classes/Note",
            Some(json!({"n": 1})),
            Caller::Anonymous,
        )
        .await;
        assert_eq!(status, 201, "{front:?}");
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Note",
                Some(json!({"n": "one"})),
                Caller::Anonymous
            )
            .await,
            err(leancloud::LcError::incorrect_type("n", "Number", "String"))
        );
        // A declared column has its type from the start.
        let review = json!({
            "business": pointer("Business", NOODLES),
            "author": pointer("_User", ALICE),
            "stars": "five"
        });
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Review",
                Some(review),
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::incorrect_type(
                "stars", "Number", "String"
            ))
        );
        let wrong_target = json!({
            "business": pointer("_User", BOB),
            "author": pointer("_User", ALICE),
            "stars": 3
        });
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Review",
                Some(wrong_target),
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::incorrect_type(
                "business",
                "Pointer<Business>",
                "Pointer<_User>"
            ))
        );
    }
}

#[tokio::test]
async fn read_only_columns_refuse_clients_and_let_the_master_key_write() {
    for front in FRONTS {
        let app = example_app(front).await;
        let base = app.uri();
        let path = format!("/1.1/classes/_User/{ALICE}");
        assert_eq!(
            send(
                &base,
                "PUT",
                &path,
                Some(json!({"role": "admin"})),
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::read_only_key("role")),
            "{front:?}"
        );
        let (status, _) = send(
            &base,
            "PUT",
            &path,
            Some(json!({"displayName": "Al"})),
            Caller::User(ALICE_SESSION),
        )
        .await;
        assert_eq!(status, 200, "other columns stay writable");
        let (status, _) = send(
            &base,
            "PUT",
            &path,
            Some(json!({"role": "admin"})),
            Caller::Master,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            app.api().store().object("_User", ALICE).unwrap().to_map()["role"],
            "admin"
        );
    }
}

#[tokio::test]
async fn required_columns_and_class_permissions_hold_on_create() {
    for front in FRONTS {
        let app = example_app(front).await;
        let base = app.uri();
        let partial =
            json!({"business": pointer("Business", NOODLES), "author": pointer("_User", ALICE)});
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Review",
                Some(partial.clone()),
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::missing_required_key("stars")),
            "{front:?}"
        );
        let full = json!({"business": pointer("Business", NOODLES), "author": pointer("_User", ALICE), "stars": 5});
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Review",
                Some(full.clone()),
                Caller::Anonymous
            )
            .await,
            err(leancloud::LcError::forbidden_by_class_permissions("create")),
            "creating a review needs a signed-in user"
        );
        let mut extra = full.clone();
        extra["photos"] = json!(["a.jpg"]);
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Review",
                Some(extra.clone()),
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::forbidden_by_class_permissions(
                "add_fields"
            ))
        );
        let (status, created) = send(
            &base,
            "POST",
            "/1.1/classes/Review",
            Some(full.clone()),
            Caller::User(ALICE_SESSION),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let id = created["objectId"].as_str().unwrap();
        assert_eq!(
            app.api().store().object("Review", id).unwrap().to_map()["ACL"],
            json!({ALICE: {"read": true, "write": true}, "*": {"read": true}}),
            "the default ACL names the creator as _owner"
        );
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Review",
                Some(full),
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::duplicate_value()),
            "one review per author and business"
        );
        let (status, _) = send(
            &base,
            "POST",
            "/1.1/classes/Review",
            Some({
                extra["business"] = pointer("Business", CAFE);
                extra["author"] = pointer("_User", BOB);
                extra
            }),
            Caller::Master,
        )
        .await;
        assert_eq!(status, 201, "the master key adds columns");
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Business",
                Some(json!({"name": "Mine"})),
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::forbidden_by_class_permissions("create"))
        );
    }
}

#[tokio::test]
async fn hidden_columns_are_for_the_master_key_and_defaults_show_at_read_time() {
    for front in FRONTS {
        let app = example_app(front).await;
        let base = app.uri();
        let review = format!("/1.1/classes/Review/{REVIEW}");
        let (_, client) = send(&base, "GET", &review, None, Caller::Anonymous).await;
        assert_eq!(client["stars"], 4, "{front:?}");
        assert!(client.get("moderatorNote").is_none(), "{client}");
        let (_, master) = send(&base, "GET", &review, None, Caller::Master).await;
        assert_eq!(master["moderatorNote"], "checked");

        let (_, found) = send(&base, "GET", "/1.1/classes/Review", None, Caller::Anonymous).await;
        assert!(
            found["results"][0].get("moderatorNote").is_none(),
            "{found}"
        );

        let (_, noodles) = send(
            &base,
            "GET",
            &format!("/1.1/classes/Business/{NOODLES}"),
            None,
            Caller::Anonymous,
        )
        .await;
        assert_eq!(
            (&noodles["category"], &noodles["rating"]),
            (&json!("other"), &json!(0))
        );
        let (_, cafe) = send(
            &base,
            "GET",
            &format!("/1.1/classes/Business/{CAFE}"),
            None,
            Caller::Anonymous,
        )
        .await;
        assert_eq!(
            (&cafe["category"], &cafe["rating"]),
            (&json!("cafe"), &json!(4))
        );
        assert!(
            app.api()
                .store()
                .object("Business", NOODLES)
                .unwrap()
                .to_map()
                .get("rating")
                .is_none(),
            "defaults are shown, not stored"
        );

        let bob = format!("/1.1/classes/_User/{BOB}");
        let (_, client) = send(&base, "GET", &bob, None, Caller::User(ALICE_SESSION)).await;
        assert_eq!(
            (&client["role"], &client["reviewCount"]),
            (&json!("admin"), &json!(0))
        );
        assert!(
            client.get("banned").is_none() && client.get("password").is_none(),
            "{client}"
        );
        let (_, master) = send(&base, "GET", &bob, None, Caller::Master).await;
        assert_eq!(
            master["banned"], false,
            "a hidden column's default, for the master key"
        );
    }
}

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
