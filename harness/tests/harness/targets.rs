//! The target switch (`LC_TARGET`), the remote target's settings (variables, profiles,
//! the production guard, keys kept out of every text), answers' error checks and
//! polling. The flows that need the app (its hooks on each target, the cleanup of a
//! run) are the system crate's (`system/tests/system/targets/`), which knows the app.

use harness::{Answer, Caller, RemoteConfig, Secret, StartError, Target, TestApp};
use leancloud::error::code;
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const APP_KEY: &str = "app-key-k7Qw";
const MASTER_KEY: &str = "master-key-Z9pX";
const HOOK_KEY: &str = "hook-key-3vLm";

/// A source of variables.
fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

/// A profiles file with `text`, under a name of its own; removed when dropped.
struct ProfilesFile(PathBuf);

impl std::ops::Deref for ProfilesFile {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ProfilesFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn profiles_file(name: &str, text: &str) -> ProfilesFile {
    let path = std::env::temp_dir().join(format!("harness-{}-{name}.toml", std::process::id()));
    std::fs::write(&path, text).expect("the temp dir is writable");
    ProfilesFile(path)
}

const PROFILES: &str = r#"
# Which app the suite runs against.
[development]
server_url = "https://dev0001.api.example.com"
app_id = "dev0001AppId"
app_key = "app-key-dev"
master_key = "master-key-dev"

[test]
server_url = "https://test0001.api.example.com/"
app_id = "test0001AppId"
app_key = "app-key-k7Qw"
master_key = "master-key-Z9pX"
hook_key = "hook-key-3vLm"

[production]
server_url = "https://prod0001.api.example.com"
app_id = "prod0001AppId"
app_key = "app-key-prod"
master_key = "master-key-prod"

[live]
production = true
server_url = "https://live0001.api.example.com"
app_id = "live0001AppId"
app_key = "app-key-live"
master_key = "master-key-live"
"#;

fn assert_no_keys(text: &str) {
    for key in [
        APP_KEY,
        MASTER_KEY,
        HOOK_KEY,
        "app-key-prod",
        "master-key-prod",
        "master-key-live",
    ] {
        assert!(!text.contains(key), "a key shows in: {text}");
    }
}

#[test]
fn lc_target_defaults_to_mock_and_names_the_three_targets() {
    assert_eq!(Target::from_vars(vars(&[])), Ok(Target::Mock));
    assert_eq!(
        Target::from_vars(vars(&[("LC_TARGET", "")])),
        Ok(Target::Mock)
    );
    for name in ["mock", "stack", "remote"] {
        let target = Target::from_vars(vars(&[("LC_TARGET", name)])).unwrap();
        assert_eq!(target.name(), name);
    }
}

#[test]
fn an_unknown_lc_target_is_refused_with_the_choices() {
    let err = Target::from_vars(vars(&[("LC_TARGET", "staging")])).unwrap_err();
    assert_eq!(err, StartError::UnknownTarget("staging".into()));
    assert_eq!(
        err.to_string(),
        "LC_TARGET=\"staging\" is not a target; use `mock` (the default: the in-process \
         emulator), `stack` (lc-mock serve and cloud-engine as processes) or `remote` (a \
         deployed app: see harness/README.md)"
    );
}

#[tokio::test]
async fn start_follows_lc_target_and_defaults_to_the_in_process_emulator() {
    match std::env::var("LC_TARGET").ok().filter(|t| !t.is_empty()) {
        None => {
            let app = TestApp::builder().start().await;
            assert_eq!(app.target(), Target::Mock);
            assert_eq!(app.emulator().uri(), app.server_url());
            assert!(app.traces().is_some());
        }
        // This run points the suite elsewhere: start follows it.
        Some(name) => {
            let app = TestApp::builder().start().await;
            assert_eq!(app.target().name(), name);
        }
    }
}

#[test]
fn remote_settings_come_from_the_variables() {
    let config = RemoteConfig::from_vars(vars(&[
        ("LC_SERVER_URL", "https://abc.example.com/"),
        ("LC_APP_ID", "abcAppId"),
        ("LC_APP_KEY", APP_KEY),
        ("LC_MASTER_KEY", MASTER_KEY),
    ]))
    .unwrap();
    assert_eq!(config.server_url, "https://abc.example.com");
    assert_eq!(config.app_id, "abcAppId");
    assert_eq!(config.app_key.expose(), APP_KEY);
    assert_eq!(config.master_key.expose(), MASTER_KEY);
    assert_eq!(config.hook_key, None);
    assert_eq!(config.profile, None);
    assert!(!config.production);
}

#[test]
fn a_missing_setting_names_its_variable() {
    let err = RemoteConfig::from_vars(vars(&[
        ("LC_SERVER_URL", "https://abc.example.com"),
        ("LC_APP_ID", "abcAppId"),
        ("LC_APP_KEY", APP_KEY),
    ]))
    .unwrap_err();
    assert_eq!(
        err,
        "LC_TARGET=remote needs master_key: set LC_MASTER_KEY or `master_key`"
    );
    let file = profiles_file(
        "partial",
        "[test]\nserver_url = \"https://x.example.com\"\n",
    );
    let err = RemoteConfig::from_vars(vars(&[("LC_CONFIG", file.to_str().unwrap())])).unwrap_err();
    assert_eq!(
        err,
        format!(
            "LC_TARGET=remote needs app_id: set LC_APP_ID or `app_id` in profile [test] of {}",
            file.display()
        )
    );
    let err = RemoteConfig::from_vars(vars(&[
        ("LC_SERVER_URL", "abc.example.com"),
        ("LC_APP_ID", "abcAppId"),
        ("LC_APP_KEY", APP_KEY),
        ("LC_MASTER_KEY", MASTER_KEY),
    ]))
    .unwrap_err();
    assert!(err.contains("must start with http:// or https://"), "{err}");
}

#[test]
fn a_profile_is_read_from_the_file_and_variables_override_it() {
    let file = profiles_file("profiles", PROFILES);
    let path = file.to_str().unwrap();
    // LC_PROFILE unset: the test profile.
    let config = RemoteConfig::from_vars(vars(&[("LC_CONFIG", path)])).unwrap();
    assert_eq!(config.profile.as_deref(), Some("test"));
    assert_eq!(config.server_url, "https://test0001.api.example.com");
    assert_eq!(config.app_id, "test0001AppId");
    assert_eq!(config.master_key.expose(), MASTER_KEY);
    assert_eq!(config.hook_key, Some(Secret::new(HOOK_KEY)));
    assert!(!config.production);

    let config =
        RemoteConfig::from_vars(vars(&[("LC_CONFIG", path), ("LC_PROFILE", "development")]))
            .unwrap();
    assert_eq!(config.app_id, "dev0001AppId");
    assert_eq!(config.hook_key, None);

    // A variable replaces the profile's value.
    let config = RemoteConfig::from_vars(vars(&[
        ("LC_CONFIG", path),
        ("LC_PROFILE", "development"),
        ("LC_MASTER_KEY", "master-from-env"),
        ("LC_SERVER_URL", "http://127.0.0.1:9"),
    ]))
    .unwrap();
    assert_eq!(config.master_key.expose(), "master-from-env");
    assert_eq!(config.server_url, "http://127.0.0.1:9");
    assert_eq!(config.app_id, "dev0001AppId");

    let err = RemoteConfig::from_vars(vars(&[("LC_CONFIG", path), ("LC_PROFILE", "staging")]))
        .unwrap_err();
    assert_eq!(
        err,
        format!("{path}: no profile [staging] (the file has: development, live, production, test)")
    );
    let err = RemoteConfig::from_vars(vars(&[("LC_CONFIG", "/nonexistent/lc.toml")])).unwrap_err();
    assert!(
        err.starts_with("LC_CONFIG=/nonexistent/lc.toml: the profiles file cannot be read"),
        "{err}"
    );
}

#[test]
fn production_is_refused_unless_explicitly_allowed() {
    let file = profiles_file("production", PROFILES);
    let path = file.to_str().unwrap();
    for (profile, app) in [("production", "prod"), ("live", "live")] {
        let err = RemoteConfig::from_vars(vars(&[("LC_CONFIG", path), ("LC_PROFILE", profile)]))
            .unwrap_err();
        assert!(
            err.starts_with(&format!("refusing to run against app {app}0001AppId at")),
            "{err}"
        );
        assert!(
            err.ends_with(
                "it is a production app, and the suite creates and deletes data. Use a test \
                 or development profile, or set LC_ALLOW_PRODUCTION=yes if you really mean it"
            ),
            "{err}"
        );
        assert_no_keys(&err);
        // Only `yes` allows it.
        for not_quite in ["true", "1", "YES "] {
            assert!(
                RemoteConfig::from_vars(vars(&[
                    ("LC_CONFIG", path),
                    ("LC_PROFILE", profile),
                    ("LC_ALLOW_PRODUCTION", not_quite),
                ]))
                .is_err()
            );
        }
        let allowed = RemoteConfig::from_vars(vars(&[
            ("LC_CONFIG", path),
            ("LC_PROFILE", profile),
            ("LC_ALLOW_PRODUCTION", "yes"),
        ]))
        .unwrap();
        assert!(allowed.production);
    }
    // The variables alone, named production.
    let err = RemoteConfig::from_vars(vars(&[
        ("LC_PROFILE", "production"),
        ("LC_SERVER_URL", "https://abc.example.com"),
        ("LC_APP_ID", "abcAppId"),
        ("LC_APP_KEY", APP_KEY),
        ("LC_MASTER_KEY", MASTER_KEY),
    ]))
    .unwrap_err();
    assert!(err.starts_with("refusing to run against"), "{err}");
}

#[test]
fn keys_never_show_in_debug_display_or_errors() {
    let file = profiles_file("keys", PROFILES);
    let config = RemoteConfig::from_vars(vars(&[("LC_CONFIG", file.to_str().unwrap())])).unwrap();
    let debug = format!("{config:?}");
    let pretty = format!("{config:#?}");
    let display = config.to_string();
    for text in [&debug, &pretty, &display] {
        assert_no_keys(text);
    }
    assert!(debug.contains("master_key: [redacted]"), "{debug}");
    assert!(debug.contains("test0001AppId"), "{debug}");
    assert_eq!(
        display,
        "app test0001AppId at https://test0001.api.example.com (profile test)"
    );
    assert_eq!(format!("{:?}", Secret::new(MASTER_KEY)), "[redacted]");
    assert_eq!(Secret::new(MASTER_KEY).to_string(), "[redacted]");

    // Broken files: the line and the problem, never the line's text.
    let broken = [
        (
            "syntax",
            format!("[test]\nmaster_key = \"{MASTER_KEY}\" trailing\n"),
            "line 2: ",
        ),
        (
            "unquoted",
            format!("[test]\nmaster_key = {MASTER_KEY}\n"),
            "line 2: ",
        ),
        (
            "third-line",
            format!("[test]\napp_id = \"x\"\n= \"{MASTER_KEY}\"\n"),
            "line 3: ",
        ),
        (
            "unknown",
            format!("[test]\nmaster_kee = \"{MASTER_KEY}\"\n"),
            "[test] has an unknown setting `master_kee` (expected one of: server_url, \
             app_id, app_key, master_key, hook_key, production)",
        ),
        (
            "type",
            "[test]\nproduction = \"master-key-Z9pX\"\n".to_string(),
            "[test] production must be true or false",
        ),
        (
            "not-a-table",
            format!("test = \"{MASTER_KEY}\"\n"),
            "[test] must be a table of settings",
        ),
    ];
    for (name, text, expected) in broken {
        let file = profiles_file(name, &text);
        let err =
            RemoteConfig::from_vars(vars(&[("LC_CONFIG", file.to_str().unwrap())])).unwrap_err();
        assert_no_keys(&err);
        assert!(err.contains(expected), "{name}: {err}");
    }
}

fn panic_text(f: impl FnOnce()) -> String {
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_err();
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn error_checks_say_what_was_expected_and_what_came() {
    let refused = Answer {
        status: 400,
        body: json!({"code": 142, "error": "Cloud Code validation failed. Error detail : No."}),
    };
    refused.assert_error(
        code::VALIDATION_ERROR,
        "Cloud Code validation failed. Error detail : No.",
    );
    refused.assert_error_code(code::VALIDATION_ERROR);
    assert_eq!(
        panic_text(|| refused.assert_error(
            code::DUPLICATE_VALUE,
            "A unique field was given a value that is already taken."
        )),
        "expected LeanCloud error 137 \"A unique field was given a value that is already taken.\"\n     \
         got error 142 \"Cloud Code validation failed. Error detail : No.\" (HTTP 400)"
    );
    let created = Answer {
        status: 201,
        body: json!({"objectId": "65cba6a06c63004400000005"}),
    };
    assert_eq!(
        panic_text(|| created.assert_error(code::VALIDATION_ERROR, "No.")),
        "expected LeanCloud error 142 \"No.\"\n     got HTTP 201 {\"objectId\":\"65cba6a06c63004400000005\"}"
    );
    assert_eq!(
        panic_text(|| created.assert_error_code(code::OBJECT_NOT_FOUND)),
        "expected LeanCloud error 101\n     got HTTP 201 {\"objectId\":\"65cba6a06c63004400000005\"}"
    );
    assert_eq!(
        panic_text(|| refused.assert_status(201)),
        "expected HTTP 201\n     got HTTP 400 {\"code\":142,\"error\":\"Cloud Code validation failed. Error detail : No.\"}"
    );
    assert_eq!(created.object_id(), "65cba6a06c63004400000005");
}

#[tokio::test]
async fn eventually_polls_until_the_check_holds_or_says_why_it_gave_up() {
    let mut tries = 0;
    let value = harness::eventually(Duration::from_secs(5), || {
        tries += 1;
        let now = tries;
        async move {
            if now >= 3 {
                Ok(now)
            } else {
                Err(format!("only {now} tries"))
            }
        }
    })
    .await;
    assert_eq!(value, 3);

    let err = harness::try_eventually(Duration::from_millis(100), || async {
        Err::<(), _>("ratingCount is 0, expected 1")
    })
    .await
    .unwrap_err();
    assert!(err.starts_with("still not so after 100ms ("), "{err}");
    assert!(
        err.ends_with(" tries): ratingCount is 0, expected 1"),
        "{err}"
    );
}

#[test]
fn the_readme_s_profiles_file_reads_as_documented() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("harness/README.md");
    let start = readme.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let example = &readme[start..start + readme[start..].find("```").unwrap()];
    let file = profiles_file("readme", example);
    let path = file.to_str().unwrap();
    let test = RemoteConfig::from_vars(vars(&[("LC_CONFIG", path)])).unwrap();
    assert_eq!(test.server_url, "https://test-app.api.example.com");
    assert!(test.hook_key.is_some());
    let err = RemoteConfig::from_vars(vars(&[("LC_CONFIG", path), ("LC_PROFILE", "production")]))
        .unwrap_err();
    assert!(err.starts_with("refusing to run against"), "{err}");
}

/// On `mock`, apps given the same database settings start from them (loaded once per
/// process, each app a fork of that load) and never see each other's writes.
#[tokio::test]
async fn mock_apps_with_the_same_settings_start_from_them_and_stay_apart() {
    let settings = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../mock-server/tests/fixtures/settings_example"
    );
    let start = || {
        TestApp::builder()
            .target(Target::Mock)
            .settings(settings)
            .start()
    };
    let names = |answer: Answer| -> Vec<String> {
        answer.assert_status(200);
        let mut names: Vec<String> = answer.body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|b| b["name"].as_str().expect("a name").to_string())
            .collect();
        names.sort();
        names
    };
    let list = "/1.1/classes/Business?keys=name";
    let (a, b) = (start().await, start().await);
    let created = a
        .send(
            &Caller::Master,
            "POST",
            "/1.1/classes/Business",
            Some(&json!({"name": "Only In A"})),
        )
        .await;
    created.assert_status(201);
    assert_eq!(
        names(a.send(&Caller::Master, "GET", list, None).await),
        ["Blue Door Cafe", "Night Noodles", "Only In A"]
    );
    assert_eq!(
        names(b.send(&Caller::Master, "GET", list, None).await),
        ["Blue Door Cafe", "Night Noodles"]
    );
    let c = start().await;
    assert_eq!(
        names(c.send(&Caller::Master, "GET", list, None).await),
        ["Blue Door Cafe", "Night Noodles"],
        "a later app starts from the settings, not from what an earlier one wrote"
    );
}
