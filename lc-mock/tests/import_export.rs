//! `lc-mock import` and `lc-mock export`: an app's data in LeanCloud's export format
//! (built here as its dashboard guide documents it) comes in, with its users' real
//! passwords, and goes back out.

use super::durable::{AnswerJson, DataDir, Server, request};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// The dashboard guide's worked example (导出用户数据的加密算法): this salt and the password
/// `password` hash to this.
const SALT: &str = "h60d8x797d3oa0naxybxxv9bn7xpt2yiowz68mpiwou7gwr2";
const HASH: &str =
    "tA7BLW+NK0UeARng0693gCaVnljkglCB9snqlpCSUKjx2RgYp8VZZOQt0S5iUtlDrkJXfT3gknS4rRqjYsd/Ug==";

/// An export as LeanCloud's console writes it: JSON Lines per class (one class over two
/// files), and a `.json` file in the `{"results": [...]}` form its import takes.
fn write_export(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let users = [
        json!({"objectId": "5cc6abe117b54d7448151e01", "username": "ada", "password": HASH,
               "salt": SALT, "email": "ada@example.com", "emailVerified": true,
               "createdAt": "2019-04-29T07:46:41.687Z", "updatedAt": "2020-11-04T03:29:17.441Z",
               "ACL": {"*": {"read": true}}}),
        json!({"objectId": "5cc6abe117b54d7448151e02", "username": "bob", "password": HASH,
               "salt": SALT, "createdAt": "2019-04-29T07:46:42.000Z",
               "updatedAt": "2019-04-29T07:46:42.000Z"}),
    ];
    let lines: Vec<String> = users.iter().map(Value::to_string).collect();
    std::fs::write(dir.join("_User.jsonl"), lines.join("\n") + "\n").unwrap();
    for (file, ids) in [("Post.0.jsonl", 1..3), ("Post.1.jsonl", 3..4)] {
        let lines: Vec<String> = ids
            .map(|i| {
                json!({"objectId": format!("5d1c81e76e9ba1007f89f2d{i}"), "likes": i,
                       "title": format!("post {i}"),
                       "publishedAt": {"__type": "Date", "iso": "2015-06-21T18:02:52.249Z"},
                       "createdAt": "2019-07-03T10:22:31.322Z",
                       "updatedAt": "2019-07-03T10:22:31.322Z"})
                .to_string()
            })
            .collect();
        std::fs::write(dir.join(file), lines.join("\n") + "\n").unwrap();
    }
    std::fs::write(
        dir.join("Comment.json"),
        json!({"results": [{"objectId": "5d1c81e76e9ba1007f89f300", "text": "first!",
            "post": {"__type": "Pointer", "className": "Post", "objectId": "5d1c81e76e9ba1007f89f2d1"},
            "createdAt": "2019-07-04T10:22:31.322Z", "updatedAt": "2019-07-04T10:22:31.322Z"}]})
        .to_string(),
    )
    .unwrap();
}

fn lc_mock(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_lc-mock"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

async fn log_in(http: &reqwest::Client, url: &str, user: &str, password: &str) -> (u16, Value) {
    let resp = request(
        http,
        reqwest::Method::POST,
        format!("{url}/1.1/login"),
        false,
    )
    .json(&json!({"username": user, "password": password}))
    .send()
    .await
    .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn an_export_imported_into_data_serves_its_rows_and_its_users_passwords() {
    let export = DataDir::new("export-in");
    write_export(&export.0);
    let data = DataDir::new("import-data");
    lc_mock(&[
        "import".as_ref(),
        export.0.as_os_str(),
        "--data".as_ref(),
        data.0.as_os_str(),
    ]);
    let http = reqwest::Client::new();
    let server = Server::start(&data.0);
    let url = server.url.clone();
    // The wrong password is refused; the real one is accepted, and neither the salt nor
    // the hash reaches the client.
    let (status, body) = log_in(&http, &url, "ada", "not-it").await;
    assert_eq!((status, body["code"].clone()), (400, json!(210)), "{body}");
    let (status, body) = log_in(&http, &url, "ada", "password").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["objectId"], "5cc6abe117b54d7448151e01");
    assert_eq!(body["email"], "ada@example.com");
    assert!(
        body.get("salt").is_none() && body.get("password").is_none(),
        "{body}"
    );
    let posts: Value = request(
        &http,
        reqwest::Method::GET,
        format!("{url}/1.1/classes/Post?order=likes"),
        false,
    )
    .answer_json()
    .await;
    let likes: Vec<&Value> = posts["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["likes"])
        .collect();
    assert_eq!(likes, [&json!(1), &json!(2), &json!(3)]);
    assert_eq!(posts["results"][0]["createdAt"], "2019-07-03T10:22:31.322Z");
    let comment: Value = request(
        &http,
        reqwest::Method::GET,
        format!("{url}/1.1/classes/Comment/5d1c81e76e9ba1007f89f300?include=post"),
        false,
    )
    .answer_json()
    .await;
    assert_eq!(comment["post"]["title"], "post 1", "{comment}");
    server.kill();

    // After a restart ada (re-hashed at her first log-in) and bob (never logged in)
    // still log in.
    let server = Server::start(&data.0);
    assert_eq!(log_in(&http, &server.url, "ada", "password").await.0, 200);
    server.kill();

    // Exported back in LeanCloud's format: bob, who never logged in, keeps LeanCloud's
    // hash and salt; ada's password is the emulator's own now, which the format cannot
    // carry.
    let out = DataDir::new("export-out");
    lc_mock(&[
        "export".as_ref(),
        "--data".as_ref(),
        data.0.as_os_str(),
        "--out".as_ref(),
        out.0.as_os_str(),
    ]);
    let users: Vec<Value> = std::fs::read_to_string(out.0.join("_User.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let bob = users.iter().find(|u| u["username"] == "bob").unwrap();
    assert_eq!(
        (&bob["password"], &bob["salt"]),
        (&json!(HASH), &json!(SALT))
    );
    let ada = users.iter().find(|u| u["username"] == "ada").unwrap();
    assert!(ada.get("password").is_none(), "{ada}");
    assert_eq!(ada["createdAt"], "2019-04-29T07:46:41.687Z");
    let posts = std::fs::read_to_string(out.0.join("Post.jsonl")).unwrap();
    assert_eq!(posts.lines().count(), 3);

    // And that export imports again, as a database-settings folder this time.
    let settings = DataDir::new("import-settings");
    lc_mock(&[
        "import".as_ref(),
        out.0.as_os_str(),
        "--settings".as_ref(),
        settings.0.as_os_str(),
    ]);
    let server = Server::start_with(&["--fixtures".as_ref(), settings.0.as_os_str()]);
    assert_eq!(log_in(&http, &server.url, "bob", "password").await.0, 200);
    let count: Value = request(
        &http,
        reqwest::Method::GET,
        format!("{}/1.1/classes/Post?count=1&limit=0", server.url),
        false,
    )
    .answer_json()
    .await;
    assert_eq!(count["count"], 3);
}

#[test]
fn a_broken_export_is_refused_naming_the_file_and_writes_nothing() {
    let export = DataDir::new("export-broken");
    std::fs::create_dir_all(&export.0).unwrap();
    std::fs::write(export.0.join("Post.jsonl"), "{\"title\": \"ok\"}\n[1, 2]\n").unwrap();
    let data = DataDir::new("import-broken");
    let output = Command::new(env!("CARGO_BIN_EXE_lc-mock"))
        .args(["import".as_ref(), export.0.as_os_str()])
        .args(["--data".as_ref(), data.0.as_os_str()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Post.jsonl") && stderr.contains("line 2"),
        "{stderr}"
    );
    assert!(!data.0.exists(), "nothing written");
}

/// A live app, here a running emulator, read over its REST API with the master key:
/// rows, an empty class's columns, and a role's members come over.
#[tokio::test]
async fn a_live_app_is_imported_over_its_rest_api() {
    let http = reqwest::Client::new();
    let source = Server::start_with(&[]);
    let url = source.url.clone();
    let post = |path: &str, body: Value| {
        request(&http, reqwest::Method::POST, format!("{url}{path}"), true)
            .json(&body)
            .send()
    };
    let user: Value = post(
        "/1.1/users",
        json!({"username": "ops", "password": "not-exported"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let user_id = user["objectId"].as_str().unwrap().to_string();
    for i in 0..3 {
        let made = post(
            "/1.1/classes/Post",
            json!({"title": format!("post {i}"), "likes": i}),
        )
        .await
        .unwrap();
        assert_eq!(made.status().as_u16(), 201);
    }
    let role = post(
        "/1.1/roles",
        json!({"name": "Admins", "ACL": {"*": {"read": true}},
               "users": {"__op": "AddRelation", "objects": [
                   {"__type": "Pointer", "className": "_User", "objectId": user_id}]}}),
    )
    .await
    .unwrap();
    assert_eq!(role.status().as_u16(), 201);
    // A class with a column and no rows left.
    let draft: Value = post("/1.1/classes/Draft", json!({"note": "gone soon"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gone = request(
        &http,
        reqwest::Method::DELETE,
        format!(
            "{url}/1.1/classes/Draft/{}",
            draft["objectId"].as_str().unwrap()
        ),
        true,
    )
    .send()
    .await
    .unwrap();
    assert!(gone.status().is_success());

    let settings = DataDir::new("import-live");
    lc_mock(&[
        "import".as_ref(),
        "--from-app".as_ref(),
        url.as_ref(),
        "--app-id".as_ref(),
        "lc-mock-app".as_ref(),
        "--master-key".as_ref(),
        "lc-mock-master".as_ref(),
        "--settings".as_ref(),
        settings.0.as_os_str(),
    ]);
    let draft_schema: Value = serde_json::from_str(
        &std::fs::read_to_string(settings.0.join("Draft/schema.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(draft_schema["columns"]["note"]["type"], "String");
    drop(source);

    let server = Server::start_with(&["--fixtures".as_ref(), settings.0.as_os_str()]);
    let url = server.url.clone();
    let get = |path: &str| {
        let request = request(&http, reqwest::Method::GET, format!("{url}{path}"), true);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let posts = get("/1.1/classes/Post?order=likes").await;
    let titles: Vec<&Value> = posts["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["title"])
        .collect();
    assert_eq!(
        titles,
        [&json!("post 0"), &json!("post 1"), &json!("post 2")]
    );
    // The empty class is there with its column: a number in it is refused (111).
    let wrong = request(
        &http,
        reqwest::Method::POST,
        format!("{url}/1.1/classes/Draft"),
        true,
    )
    .json(&json!({"note": 5}))
    .send()
    .await
    .unwrap();
    assert_eq!(wrong.json::<Value>().await.unwrap()["code"], 111);
    // The role kept its member.
    let roles = get("/1.1/roles?where=%7B%22name%22%3A%22Admins%22%7D").await;
    let role_id = roles["results"][0]["objectId"]
        .as_str()
        .unwrap()
        .to_string();
    let where_members = json!({"$relatedTo": {"object":
        {"__type": "Pointer", "className": "_Role", "objectId": role_id}, "key": "users"}});
    let members = get(&format!(
        "/1.1/classes/_User?where={}",
        urlencode(&where_members.to_string())
    ))
    .await;
    assert_eq!(members["results"][0]["objectId"], user_id, "{members}");
}

/// Percent-encoding of a query value.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
