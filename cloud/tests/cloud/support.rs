//! What the app's tests share: the app as a `TestApp` starts it ([`app`]); for the
//! engine-level tests a [`World`] (an emulator served over HTTP, and the app's registry
//! behind a `cloud-engine` server whose storage is that emulator), ways to seed it, and
//! the fixture format of `fixtures/hooks/` ([`run_fixture`]; the format is described in
//! `fixtures/hooks/README.md`).
//!
//! The World's emulator has no cloud code attached: a hook is exercised alone, by sending the
//! engine the request the platform would send, and whatever the hook writes lands in the
//! emulator without firing further hooks.

// The snapshot binary (tests/snapshots.rs) uses only the fixture runner of this module.
#![allow(dead_code)]

use leancloud::caller::Keys;
use leancloud::client::Client;
use leancloud::engine::{EngineConfig, RunningEngine, start};
use leancloud::transport::HttpTransport;
use leancloud::{Request, Resource, Transport};
use mock_server::api::{Api, AppConfig};
use mock_server::http::standalone::Standalone;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub const PASSWORD: &str = "secret-pw";

/// The app, as the harness starts it (`app().start()`): this crate's cloud code
/// in-process on `mock`, its database settings, and its `cloud-engine` program on
/// `stack`.
pub fn app() -> harness::Builder {
    harness::TestApp::builder()
        .cloud(cloud::registry)
        .settings(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/database_settings"
        ))
        .engine("cloud", "cloud-engine")
}

/// An answer from the engine: HTTP status and JSON body.
pub type Answer = (u16, Value);

/// Who calls a cloud function: a user by their sign-up answer (its `sessionToken`).
pub type Caller<'a> = leancloud::Caller<&'a Value>;

/// One emulator and one engine in front of it, for one test.
pub struct World {
    pub api: Arc<Api>,
    pub config: AppConfig,
    /// The emulator, with the master key.
    pub master: Client,
    /// The emulator, with the app key.
    pub app: Client,
    engine: HttpTransport,
    _server: Standalone,
    _engine: RunningEngine,
}

impl World {
    pub async fn start() -> World {
        let config = AppConfig::default();
        let api = Arc::new(Api::new(config.clone()));
        let server = Standalone::start("127.0.0.1:0".parse().unwrap(), api.clone())
            .await
            .expect("the emulator starts");
        let engine = start(
            cloud::registry(),
            EngineConfig::new(&config.app_id, &config.app_key, &config.master_key)
                .with_hook_key(&config.hook_key)
                .with_port(0)
                .with_api_server(server.uri()),
        )
        .await
        .expect("the engine starts");
        let storage: Arc<dyn Transport> = Arc::new(HttpTransport::new(&server.uri()));
        let app = Client::new(storage, &config.app_id, &config.app_key)
            .with_master_key(&config.master_key);
        World {
            api,
            master: app.as_master(),
            app,
            engine: HttpTransport::new(&engine.uri()),
            config,
            _server: server,
            _engine: engine,
        }
    }

    // ---- seeding (straight into the emulator; no hook runs) ------------------------------

    /// Sign up `username` with `fields`: the answer, with `objectId` and `sessionToken`.
    pub async fn user(&self, username: &str, fields: Value) -> Value {
        self.app
            .sign_up(username, PASSWORD, &fields)
            .await
            .unwrap_or_else(|e| panic!("sign-up of {username} failed: {e}"))
    }

    /// A role with these member users and member roles (ids).
    pub async fn role(&self, name: &str, users: &[&Value], roles: &[&str]) -> String {
        let mut body = json!({"name": name, "ACL": {"*": {"read": true}}});
        if !users.is_empty() {
            let users: Vec<Value> = users.iter().map(|u| pointer("_User", id(u))).collect();
            body["users"] = json!({"__op": "AddRelation", "objects": users});
        }
        if !roles.is_empty() {
            let roles: Vec<Value> = roles.iter().map(|r| pointer("_Role", r)).collect();
            body["roles"] = json!({"__op": "AddRelation", "objects": roles});
        }
        let created = self.master.create("_Role", &body).await.unwrap();
        created["objectId"].as_str().unwrap().to_string()
    }

    /// Create an object with the master key; its id.
    pub async fn create(&self, class: &str, fields: Value) -> String {
        let created = self
            .master
            .create(class, &fields)
            .await
            .unwrap_or_else(|e| panic!("seeding a {class} failed: {e}"));
        created["objectId"].as_str().unwrap().to_string()
    }

    /// The stored object (master key), `{}` when it is gone.
    pub async fn get(&self, class: &str, id: &str) -> Value {
        self.master
            .get(class, id)
            .await
            .unwrap_or_else(|_| json!({}))
    }

    /// The stored object as the platform puts it into a hook's payload.
    pub async fn stored(&self, class: &str, id: &str) -> Value {
        self.master
            .get_with(class, id, &[("returnACL", "true")])
            .await
            .unwrap()
    }

    // ---- the engine ------------------------------------------------------------------

    /// `POST /1.1/functions/<class>/<hook>` as the platform sends it: app key and hook
    /// key, `{"object": ..., "user": ...}`.
    pub async fn hook(
        &self,
        class: &str,
        hook: &str,
        object: Value,
        user: Option<&Value>,
    ) -> Answer {
        let mut body = json!({"object": object});
        if let Some(user) = user {
            body["user"] = user.clone();
        }
        let caller = match user.and_then(|u| u["sessionToken"].as_str()) {
            Some(token) => leancloud::Caller::User(token),
            None => leancloud::Caller::Anonymous,
        };
        let request = Request::new(
            "POST",
            &Resource::Function(format!("{class}/{hook}")).path(),
        )
        .with_header("x-lc-hook-key", &self.config.hook_key)
        .with_json(&body);
        self.send(caller.sign(request, &self.keys())).await
    }

    /// `POST /1.1/functions/<name>` as a client sends it.
    pub async fn call(&self, name: &str, params: Value, caller: Caller<'_>) -> Answer {
        let caller = caller.map(|user| user["sessionToken"].as_str().unwrap());
        let request =
            Request::new("POST", &Resource::Function(name.to_string()).path()).with_json(&params);
        self.send(caller.sign(request, &self.keys())).await
    }

    fn keys(&self) -> Keys<'_> {
        Keys {
            app_id: &self.config.app_id,
            app_key: &self.config.app_key,
            master_key: &self.config.master_key,
        }
    }

    async fn send(&self, request: Request) -> Answer {
        let response = self.engine.send(request).await.expect("the engine answers");
        let body = response.body_json().expect("the engine answers JSON");
        (response.status, body)
    }
}

/// The `objectId` of a JSON object.
pub fn id(object: &Value) -> &str {
    object["objectId"].as_str().expect("an objectId")
}

pub use leancloud::value::pointer;

pub fn geo(latitude: f64, longitude: f64) -> Value {
    json!({"__type": "GeoPoint", "latitude": latitude, "longitude": longitude})
}

/// An error answer: `(status, code, message)`.
pub fn refusal(answer: &Answer) -> (u16, i64, &str) {
    (
        answer.0,
        answer.1["code"].as_i64().unwrap_or_default(),
        answer.1["error"].as_str().unwrap_or_default(),
    )
}

// ---- fixtures ------------------------------------------------------------------------------

/// Panic naming the file when `value` (an object, or absent) has a key not in `known`.
fn check_keys(path: &Path, what: &str, value: &Value, known: &[&str]) {
    if let Some(unknown) = value
        .as_object()
        .and_then(|m| m.keys().find(|k| !known.contains(&k.as_str())))
    {
        panic!(
            "{}: {what} has an unknown key \"{unknown}\" (known: {known:?})",
            path.display()
        );
    }
}

/// What was seeded, by the names the fixture gave.
#[derive(Default)]
struct Seeded {
    /// name -> (class, id)
    objects: BTreeMap<String, (String, String)>,
    /// name -> sign-up answer
    users: BTreeMap<String, Value>,
}

impl Seeded {
    fn lookup(&self, name: &str) -> (String, String) {
        if let Some(user) = self.users.get(name) {
            return ("_User".to_string(), id(user).to_string());
        }
        self.objects
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("the fixture names \"{name}\", which it did not seed"))
    }

    /// `value` with its references replaced: `{"@pointer": name}`, `"@id:name"` (as a
    /// value or a key).
    fn resolve(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => match s.strip_prefix("@id:") {
                Some(name) => Value::String(self.lookup(name).1),
                None => value.clone(),
            },
            Value::Array(items) => Value::Array(items.iter().map(|v| self.resolve(v)).collect()),
            Value::Object(map) => {
                if let (1, Some(Value::String(name))) = (map.len(), map.get("@pointer")) {
                    let (class, id) = self.lookup(name);
                    return pointer(&class, &id);
                }
                Value::Object(
                    map.iter()
                        .map(|(k, v)| {
                            let key = match k.strip_prefix("@id:") {
                                Some(name) => self.lookup(name).1,
                                None => k.clone(),
                            };
                            (key, self.resolve(v))
                        })
                        .collect(),
                )
            }
            other => other.clone(),
        }
    }

    /// `value` with every seeded id written back as `@id:<name>`, so that answers read
    /// with the fixture's names.
    fn name_ids(&self, value: Value) -> Value {
        let names: BTreeMap<String, String> = self
            .users
            .iter()
            .map(|(name, user)| (id(user).to_string(), name.clone()))
            .chain(
                self.objects
                    .iter()
                    .map(|(name, (_, id))| (id.clone(), name.clone())),
            )
            .collect();
        rename(value, &names)
    }
}

fn rename(value: Value, names: &BTreeMap<String, String>) -> Value {
    let named = |s: String| match names.get(&s) {
        Some(name) => format!("@id:{name}"),
        None => s,
    };
    match value {
        Value::String(s) => Value::String(named(s)),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| rename(v, names)).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (named(k), rename(v, names)))
                .collect::<Map<_, _>>(),
        ),
        other => other,
    }
}

/// What a fixture says to call: a hook of a class, or a function.
enum Target {
    Hook { class: String, hook: String },
    Function { name: String },
}

/// The target a fixture's place names: `<Class>/<hook>/<case>.json` or
/// `functions/<name>/<case>.json` under `fixtures/hooks/`.
fn target(path: &Path) -> Target {
    let dir = |n: usize| {
        path.ancestors()
            .nth(n)
            .and_then(Path::file_name)
            .and_then(|s| s.to_str())
            .unwrap_or_else(|| panic!("{} is not under <Class>/<hook>/", path.display()))
            .to_string()
    };
    let (first, second) = (dir(2), dir(1));
    if first == "functions" {
        Target::Function { name: second }
    } else {
        Target::Hook {
            class: first,
            hook: second,
        }
    }
}

/// A fixture's outcome: its `about` line, and `{"status", "body", "state"?}` with seeded
/// ids written as `@id:<name>`.
pub struct Outcome {
    pub about: String,
    pub answer: Value,
}

/// Run one fixture file on a fresh world: seed, send the request, read back the objects
/// it asks to inspect.
pub async fn run_fixture(path: &Path) -> Outcome {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let fixture: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    let target = target(path);
    let request_keys: &[&str] = match target {
        Target::Hook { .. } => &["user", "object"],
        Target::Function { .. } => &["session", "master", "params"],
    };
    // A misspelt key would silently change the case: refuse every key the format lacks.
    check_keys(
        path,
        "the fixture",
        &fixture,
        &["about", "seed", "request", "inspect"],
    );
    check_keys(
        path,
        "seed",
        &fixture["seed"],
        &["users", "roles", "objects"],
    );
    check_keys(path, "request", &fixture["request"], request_keys);
    for role in fixture["seed"]["roles"].as_array().into_iter().flatten() {
        check_keys(path, "a role", role, &["name", "users", "roles"]);
    }
    for object in fixture["seed"]["objects"].as_array().into_iter().flatten() {
        check_keys(
            path,
            "a seeded object",
            object,
            &["ref", "className", "fields", "deleted"],
        );
    }
    let about = fixture["about"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: say what the case shows in \"about\"", path.display()))
        .to_string();
    let world = World::start().await;
    let seeded = seed(&world, &fixture["seed"]).await;
    let request = &fixture["request"];
    let (status, body) = match target {
        Target::Hook { class, hook } => {
            let user = request["user"].as_str().map(|name| {
                seeded
                    .users
                    .get(name)
                    .unwrap_or_else(|| panic!("request.user \"{name}\" was not seeded"))
                    .clone()
            });
            let object = seeded.resolve(&request["object"]);
            world.hook(&class, &hook, object, user.as_ref()).await
        }
        Target::Function { name } => {
            let params = seeded.resolve(request.get("params").unwrap_or(&json!({})));
            let session = request["session"].as_str().map(|name| {
                seeded
                    .users
                    .get(name)
                    .unwrap_or_else(|| panic!("request.session \"{name}\" was not seeded"))
            });
            let caller = match (request["master"].as_bool(), session) {
                (Some(true), _) => Caller::Master,
                (_, Some(user)) => Caller::User(user),
                _ => Caller::Anonymous,
            };
            world.call(&name, params, caller).await
        }
    };
    let mut outcome = json!({"status": status, "body": body});
    let inspect: Vec<(String, Option<Vec<String>>)> = match &fixture["inspect"] {
        Value::Null => Vec::new(),
        Value::Array(names) => names
            .iter()
            .map(|n| (n.as_str().expect("inspect names").to_string(), None))
            .collect(),
        Value::Object(picks) => picks
            .iter()
            .map(|(name, keys)| {
                let keys = keys
                    .as_array()
                    .expect("inspect: {name: [keys]}")
                    .iter()
                    .map(|k| k.as_str().expect("inspect keys").to_string())
                    .collect();
                (name.clone(), Some(keys))
            })
            .collect(),
        other => panic!(
            "{}: inspect must be a list or a map, not {other}",
            path.display()
        ),
    };
    if !inspect.is_empty() {
        let mut state = Map::new();
        for (name, keys) in inspect {
            let (class, id) = seeded.lookup(&name);
            let object = world
                .master
                .get_with(&class, &id, &[("returnACL", "true")])
                .await
                .unwrap_or_else(|e| json!({"error": e.to_json()}));
            let object = match (keys, object) {
                // A deleted object reads as `{}`: shown as it is.
                (Some(keys), Value::Object(map)) if !map.is_empty() => Value::Object(
                    keys.iter()
                        .map(|k| (k.clone(), map.get(k).cloned().unwrap_or(Value::Null)))
                        .collect(),
                ),
                (_, object) => object,
            };
            state.insert(name, object);
        }
        outcome["state"] = Value::Object(state);
    }
    Outcome {
        about,
        answer: seeded.name_ids(outcome),
    }
}

/// Seed users, roles and objects, in that order (see the README).
async fn seed(world: &World, seed: &Value) -> Seeded {
    let mut seeded = Seeded::default();
    if let Some(users) = seed["users"].as_object() {
        for (name, fields) in users {
            let user = world.user(name, fields.clone()).await;
            seeded.users.insert(name.clone(), user);
        }
    }
    let mut roles: BTreeMap<String, String> = BTreeMap::new();
    for role in seed["roles"].as_array().into_iter().flatten() {
        let name = role["name"].as_str().expect("a role has a name");
        let users: Vec<&Value> = role["users"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|u| &seeded.users[u.as_str().expect("role users are user names")])
            .collect();
        let member_roles: Vec<&str> = role["roles"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| roles[r.as_str().expect("role roles are role names")].as_str())
            .collect();
        let role_id = world.role(name, &users, &member_roles).await;
        roles.insert(name.to_string(), role_id);
    }
    let mut deleted = Vec::new();
    for object in seed["objects"].as_array().into_iter().flatten() {
        let name = object["ref"].as_str().expect("a seeded object has a ref");
        let class = object["className"]
            .as_str()
            .expect("a seeded object has a className");
        let fields = seeded.resolve(object.get("fields").unwrap_or(&json!({})));
        let id = world.create(class, fields).await;
        if object["deleted"] == json!(true) {
            deleted.push((class.to_string(), id.clone()));
        }
        seeded
            .objects
            .insert(name.to_string(), (class.to_string(), id));
    }
    // Deleted last, so that other objects could point to them first.
    for (class, id) in deleted {
        world.master.delete(&class, &id).await.unwrap();
    }
    seeded
}
