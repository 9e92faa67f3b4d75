//! The console on the standalone server (`/console/`): its files, the master key handed
//! only to a loopback page of its own origin, no CORS, and the `/__mock/` routes it reads
//! (`classes`, `cloud`, `cloud/hook`).

use mock_server::api::{Api, AppConfig};
use mock_server::http::standalone::Standalone;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

async fn server() -> (Standalone, Arc<Api>) {
    let api = Arc::new(Api::new(AppConfig::default()));
    let server = Standalone::start("127.0.0.1:0".parse().unwrap(), api.clone())
        .await
        .unwrap();
    (server, api)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_server_serves_the_console_and_its_key_to_its_own_pages_only() {
    let (server, api) = server().await;
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/console/", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.text().await.unwrap().contains("lc-mock console"));

    let config: Value = http
        .get(format!("{}/console/config.json", server.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["masterKey"], api.config().master_key.as_str());

    // A hostile name resolving here (DNS rebinding) gets no key; another site's page
    // gets nothing; and no CORS opens the console to other origins.
    let rebound: Value = http
        .get(format!("{}/console/config.json", server.uri()))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(rebound.get("masterKey").is_none(), "{rebound}");
    let cross = http
        .get(format!("{}/console/config.json", server.uri()))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    assert!(cross.headers().get("access-control-allow-origin").is_none());
}

#[test]
fn the_console_reads_classes_and_cloud_code_with_the_master_key_only() {
    let api = Api::new(AppConfig::default());
    let (status, _) = crate::support::send(
        &api,
        &leancloud::Caller::Master,
        "POST",
        "/1.1/classes/Post",
        Some(&json!({"title": "x"})),
    );
    assert_eq!(status, 201);
    let (status, classes) = crate::support::send(
        &api,
        &leancloud::Caller::Master,
        "GET",
        "/__mock/classes",
        None,
    );
    assert_eq!(status, 200);
    let post = classes["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["className"] == "Post")
        .expect("Post is listed");
    assert_eq!(post["count"], 1);
    assert_eq!(post["columns"]["title"]["type"], "String");
    assert!(post["permissions"].is_object());
    let (status, _) = crate::support::send(
        &api,
        &leancloud::Caller::Anonymous,
        "GET",
        "/__mock/classes",
        None,
    );
    assert_eq!(status, 400, "the master key only");
    let (_, cloud) = crate::support::send(
        &api,
        &leancloud::Caller::Master,
        "GET",
        "/__mock/cloud",
        None,
    );
    assert_eq!(cloud["attached"], false);
    let (status, body) = crate::support::send(
        &api,
        &leancloud::Caller::Master,
        "POST",
        "/__mock/cloud/hook",
        Some(&json!({"class": "Post", "hook": "beforeSave"})),
    );
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!(1)),
        "no cloud code: {body}"
    );
    let (status, _) = crate::support::send(
        &api,
        &leancloud::Caller::Master,
        "POST",
        "/__mock/cloud/hook",
        Some(&json!({"class": "Post", "hook": "onWhatever"})),
    );
    assert_eq!(status, 400);
}

#[test]
fn an_export_loads_back_as_the_same_app_and_a_reset_returns_to_what_was_loaded() {
    use crate::support::send;
    use leancloud::Caller;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/settings_example");
    let settings = mock_server::settings::Settings::load(&dir).unwrap();
    let api = Api::with_settings(AppConfig::default(), &settings).unwrap();
    let (status, made) = send(
        &api,
        &Caller::Master,
        "POST",
        "/1.1/classes/Business",
        Some(&json!({"name": "Added By Hand", "ACL": {"*": {"read": true}}})),
    );
    assert_eq!(status, 201, "{made}");
    let out = std::env::temp_dir().join(format!("lc-mock-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let (status, done) = send(
        &api,
        &Caller::Master,
        "POST",
        "/__mock/export",
        Some(&json!({"dir": out.display().to_string()})),
    );
    assert_eq!(status, 200, "{done}");
    let (status, again) = send(
        &api,
        &Caller::Master,
        "POST",
        "/__mock/export",
        Some(&json!({"dir": out.display().to_string()})),
    );
    assert_eq!(status, 400, "an export never overwrites: {again}");

    // The folder loads back: the same businesses with the same ids and fields.
    let fresh = Api::new(AppConfig::default());
    let (status, loaded) = send(
        &fresh,
        &Caller::Master,
        "POST",
        "/__mock/load",
        Some(&json!({"dir": out.display().to_string()})),
    );
    assert_eq!(status, 200, "{loaded}");
    let list = |api: &Api| {
        let (_, body) = send(
            api,
            &Caller::Master,
            "GET",
            "/1.1/classes/Business?order=objectId",
            None,
        );
        body["results"].clone()
    };
    assert_eq!(list(&fresh), list(&api));
    let (_, reviews) = send(
        &fresh,
        &Caller::Master,
        "GET",
        "/1.1/classes/Review?keys=moderatorNote",
        None,
    );
    assert_eq!(
        reviews["results"][0]["moderatorNote"], "checked",
        "hidden columns come back as hidden columns"
    );
    // A reset returns to what was loaded; a folder that does not load changes nothing.
    send(
        &fresh,
        &Caller::Master,
        "POST",
        "/1.1/classes/Business",
        Some(&json!({"name": "Later"})),
    );
    fresh.reset();
    assert_eq!(list(&fresh), list(&api));
    let (status, _) = send(
        &fresh,
        &Caller::Master,
        "POST",
        "/__mock/load",
        Some(&json!({"dir": "/nonexistent/folder"})),
    );
    assert_eq!(status, 400);
    assert_eq!(list(&fresh), list(&api));
    let _ = std::fs::remove_dir_all(&out);
}
