//! `lc-mock serve --data DIR`: what was acknowledged is there after the process is killed
//! (SIGKILL, under load) and started again on the same folder.

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// Ends the server when the test ends, however it ends.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
}

impl Server {
    pub(crate) fn start(data: &Path) -> Server {
        Server::start_with(&["--data".as_ref(), data.as_os_str()])
    }

    /// `lc-mock serve --port 0` with more options.
    pub(crate) fn start_with(options: &[&std::ffi::OsStr]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lc-mock"))
            .args(["serve", "--port", "0"])
            .args(options)
            .env_remove("LC_MOCK_ENGINE")
            .env_remove("LC_MOCK_FIXTURES")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut url = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut url)
            .unwrap();
        let url = url.trim().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");
        Server { child, url }
    }

    /// SIGKILL: the process gets no chance to write anything more.
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A folder of this test's own, removed when the test ends.
pub(crate) struct DataDir(pub(crate) PathBuf);

impl DataDir {
    pub(crate) fn new(name: &str) -> DataDir {
        let dir =
            std::env::temp_dir().join(format!("lc-mock-durable-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        DataDir(dir)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn request(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    master: bool,
) -> reqwest::RequestBuilder {
    let key = if master {
        "lc-mock-master,master"
    } else {
        "lc-mock-key"
    };
    http.request(method, url)
        .header("x-lc-id", "lc-mock-app")
        .header("x-lc-key", key)
}

/// A request sent, and its answer's JSON whatever its status.
pub(crate) trait AnswerJson {
    async fn answer_json(self) -> Value;
}

impl AnswerJson for reqwest::RequestBuilder {
    async fn answer_json(self) -> Value {
        self.send().await.unwrap().json().await.unwrap()
    }
}

/// Every id of `class` (none when it does not exist), paging through the query window.
async fn all_ids(http: &reqwest::Client, url: &str, class: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    loop {
        let page: Value = request(
            http,
            reqwest::Method::GET,
            format!(
                "{url}/1.1/classes/{class}?limit=1000&skip={}&order=createdAt",
                ids.len()
            ),
            true,
        )
        .answer_json()
        .await;
        // A class that does not exist (101) has no rows.
        if page["code"] == 101 {
            return ids;
        }
        let results = page["results"].as_array().unwrap();
        ids.extend(
            results
                .iter()
                .map(|r| r["objectId"].as_str().unwrap().to_string()),
        );
        if results.len() < 1000 {
            return ids;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_create_survives_a_kill_under_load() {
    const TASKS: usize = 8;
    const KILL_AFTER: usize = 400;
    let data = DataDir::new("kill");
    let server = Server::start(&data.0);
    let url = server.url.clone();
    let http = reqwest::Client::new();
    let acked = Arc::new(Mutex::new(Vec::<(String, usize, usize)>::new()));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (http, url, acked) = (http.clone(), url.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let sent = request(
                    &http,
                    reqwest::Method::POST,
                    format!("{url}/1.1/classes/Load"),
                    false,
                )
                .json(&json!({"task": task, "i": i}))
                .send()
                .await;
                // Once the server is gone, requests fail: the load is over.
                let Ok(resp) = sent else { return };
                if resp.status().as_u16() != 201 {
                    return;
                }
                let Ok(body) = resp.json::<Value>().await else {
                    return;
                };
                let id = body["objectId"].as_str().unwrap().to_string();
                acked.lock().unwrap().push((id, task, i));
            }
        }));
    }
    while acked.lock().unwrap().len() < KILL_AFTER {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.kill();
    for task in tasks {
        task.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= KILL_AFTER);

    let server = Server::start(&data.0);
    let found = all_ids(&http, &server.url, "Load").await;
    let lost: Vec<_> = acked
        .iter()
        .filter(|(id, _, _)| !found.contains(id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged creates lost, among them {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );
    // And each row holds what was sent.
    let (id, task, i) = &acked[acked.len() / 2];
    let row: Value = request(
        &http,
        reqwest::Method::GET,
        format!("{}/1.1/classes/Load/{id}", server.url),
        false,
    )
    .answer_json()
    .await;
    assert_eq!(
        (row["task"].clone(), row["i"].clone()),
        (json!(task), json!(i))
    );
}

#[tokio::test]
async fn updates_deletes_users_columns_and_resets_survive_a_restart() {
    let data = DataDir::new("kinds");
    let http = reqwest::Client::new();
    let server = Server::start(&data.0);
    let url = server.url.clone();
    let send = |method: reqwest::Method, path: &str, body: Value, master: bool| {
        request(&http, method, format!("{url}{path}"), master)
            .json(&body)
            .send()
    };
    let a: Value = send(
        reqwest::Method::POST,
        "/1.1/classes/Note",
        json!({"text": "first", "n": 1}),
        false,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let a = a["objectId"].as_str().unwrap().to_string();
    let b: Value = send(
        reqwest::Method::POST,
        "/1.1/classes/Note",
        json!({"text": "second"}),
        false,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let b = b["objectId"].as_str().unwrap().to_string();
    let put = send(
        reqwest::Method::PUT,
        &format!("/1.1/classes/Note/{a}"),
        json!({"n": {"__op": "Increment", "amount": 41}}),
        false,
    )
    .await
    .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    let del = send(
        reqwest::Method::DELETE,
        &format!("/1.1/classes/Note/{b}"),
        json!({}),
        false,
    )
    .await
    .unwrap();
    assert_eq!(del.status().as_u16(), 200);
    let user: Value = send(
        reqwest::Method::POST,
        "/1.1/users",
        json!({"username": "kept", "password": "kept-pass"}),
        false,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let token = user["sessionToken"].as_str().unwrap().to_string();
    server.kill();

    let server = Server::start(&data.0);
    let url = server.url.clone();
    let get =
        |path: &str| request(&http, reqwest::Method::GET, format!("{url}{path}"), false).send();
    let row: Value = get(&format!("/1.1/classes/Note/{a}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(row["n"], 42, "{row}");
    assert_eq!(row["text"], "first");
    // The class's columns came back with their types: a string in the Number column is
    // refused (111).
    let wrong = request(
        &http,
        reqwest::Method::PUT,
        format!("{url}/1.1/classes/Note/{a}"),
        false,
    )
    .json(&json!({"n": "many"}))
    .send()
    .await
    .unwrap();
    assert_eq!(wrong.status().as_u16(), 400);
    assert_eq!(wrong.json::<Value>().await.unwrap()["code"], 111);
    // The service answers a fetch of an object that is not there with an empty object.
    let gone: Value = get(&format!("/1.1/classes/Note/{b}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(gone, json!({}));
    // The session and the password both came back.
    let me: Value = request(
        &http,
        reqwest::Method::GET,
        format!("{url}/1.1/users/me"),
        false,
    )
    .header("x-lc-session", &token)
    .answer_json()
    .await;
    assert_eq!(me["username"], "kept", "{me}");
    let login = request(
        &http,
        reqwest::Method::POST,
        format!("{url}/1.1/login"),
        false,
    )
    .json(&json!({"username": "kept", "password": "kept-pass"}))
    .send()
    .await
    .unwrap();
    assert_eq!(login.status().as_u16(), 200);
    // The health check says where the app is kept, and needs the master key.
    let health = request(
        &http,
        reqwest::Method::GET,
        format!("{url}/__mock/health"),
        true,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let health: Value = health.json().await.unwrap();
    assert_eq!(
        (
            &health["status"],
            &health["storage"]["kind"],
            &health["objects"]
        ),
        (&json!("ok"), &json!("data"), &json!(2)),
        "{health}"
    );
    let keyless = request(
        &http,
        reqwest::Method::GET,
        format!("{url}/__mock/health"),
        false,
    )
    .send()
    .await
    .unwrap();
    // The service's answer to a request that needs the master key.
    assert_eq!(keyless.status().as_u16(), 400);
    let refused: Value = keyless.json().await.unwrap();
    assert_eq!(
        refused["error"],
        "The request must be signed by master key."
    );
    // A reset empties the app (it was made empty), and that is kept too.
    let reset = request(
        &http,
        reqwest::Method::POST,
        format!("{url}/__mock/reset"),
        true,
    )
    .send()
    .await
    .unwrap();
    assert!(reset.status().is_success());
    server.kill();
    let server = Server::start(&data.0);
    assert!(all_ids(&http, &server.url, "Note").await.is_empty());
    assert!(all_ids(&http, &server.url, "_User").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_leaderboards_codes_and_the_outbox_survive_a_restart() {
    let data = DataDir::new("services");
    let http = reqwest::Client::new();
    let server = Server::start(&data.0);
    let url = server.url.clone();
    let call = |method: reqwest::Method, path: &str, body: Value, master: bool| {
        let http = http.clone();
        let url = format!("{url}{path}");
        async move {
            let answer = request(&http, method, url, master)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = answer.status().as_u16();
            let body: Value = answer.json().await.unwrap();
            assert!(status < 300, "{status} {body}");
            body
        }
    };
    // A file's bytes.
    let file: Value = request(
        &http,
        reqwest::Method::POST,
        format!("{url}/1.1/files/hello.txt"),
        false,
    )
    .header("content-type", "text/plain")
    .body("kept across restarts")
    .answer_json()
    .await;
    let file_url = file["url"].as_str().unwrap().to_string();
    let file_path = file_url.strip_prefix(&url).unwrap().to_string();
    // A leaderboard and a user's statistic on it.
    let user = call(
        reqwest::Method::POST,
        "/1.1/users",
        json!({"username": "player", "password": "player-pass"}),
        false,
    )
    .await;
    let user_id = user["objectId"].as_str().unwrap().to_string();
    call(
        reqwest::Method::POST,
        "/1.1/leaderboard/leaderboards",
        json!({"statisticName": "score", "order": "descending", "updateStrategy": "better"}),
        true,
    )
    .await;
    call(
        reqwest::Method::POST,
        &format!("/1.1/leaderboard/users/{user_id}/statistics"),
        json!([{"statisticName": "score", "statisticValue": 77}]),
        true,
    )
    .await;
    // An SMS code: in the outbox, and still accepted after the restart.
    let phone = "+8613800000042";
    call(
        reqwest::Method::POST,
        "/1.1/requestSmsCode",
        json!({"mobilePhoneNumber": phone}),
        false,
    )
    .await;
    server.kill();

    let server = Server::start(&data.0);
    let url = server.url.clone();
    let bytes = http.get(format!("{url}{file_path}")).send().await.unwrap();
    assert_eq!(bytes.status().as_u16(), 200, "{file_path}");
    assert_eq!(bytes.text().await.unwrap(), "kept across restarts");
    let ranks: Value = request(
        &http,
        reqwest::Method::GET,
        format!("{url}/1.1/leaderboard/leaderboards/score/ranks"),
        true,
    )
    .answer_json()
    .await;
    assert_eq!(ranks["results"][0]["statisticValue"], 77, "{ranks}");
    assert_eq!(ranks["results"][0]["user"]["objectId"], user_id, "{ranks}");
    let outbox: Value = request(
        &http,
        reqwest::Method::GET,
        format!("{url}/__mock/outbox?to=%2B8613800000042"),
        true,
    )
    .answer_json()
    .await;
    let code = outbox["results"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{outbox}"))
        .to_string();
    let verified = request(
        &http,
        reqwest::Method::POST,
        format!("{url}/1.1/verifySmsCode/{code}"),
        false,
    )
    .json(&json!({"mobilePhoneNumber": phone}))
    .send()
    .await
    .unwrap();
    assert_eq!(verified.status().as_u16(), 200);
}
