//! The console in a real browser, driven from Rust: `lc-mock serve --cloud app` on the
//! app's fixtures, Debian's chromium under chromedriver (the W3C WebDriver protocol,
//! spoken with reqwest), and a person's path through it: find a business, edit it, run a
//! function on it, and watch a review's hook chain arrive in the traces. Each stage is a
//! screenshot under `target/console-screenshots/` (CI keeps them); the first paint is
//! printed.
//!
//! Needs `chromedriver` and `chromium` (Debian's `chromium-driver` and `chromium`, which
//! `.ci/run` installs). Without them the test says so and passes, unless
//! `LC_REQUIRE_BROWSER=1` (as `.ci/run` sets it), when their absence fails it.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long one wait for the page may take.
const WAIT: Duration = Duration::from_secs(20);
/// WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Kills a child process when the test ends, however it ends.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A WebDriver session.
struct Driver {
    http: reqwest::Client,
    session: String,
    base: String,
}

impl Driver {
    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, &url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let answer: Value = req.send().await.unwrap().json().await.unwrap();
        answer["value"].clone()
    }

    async fn find(&self, xpath: &str) -> Option<String> {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "xpath", "value": xpath})),
            )
            .await;
        v.get(ELEMENT).and_then(Value::as_str).map(str::to_string)
    }

    /// The element `xpath` finds, once the page shows it.
    async fn wait_for(&self, xpath: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(id) = self.find(xpath).await {
                return id;
            }
            assert!(
                start.elapsed() < WAIT,
                "the console never showed {xpath}; it shows: {}",
                self.script("return document.body.innerText.slice(0, 2000)")
                    .await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click(&self, xpath: &str) {
        let id = self.wait_for(xpath).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn script(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    async fn screenshot(&self, dir: &Path, name: &str) {
        use base64::Engine;
        let png = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_the_console_finds_edits_runs_and_shows_a_hook_chain() {
    let (Some(chromedriver), Some(chromium)) = (
        find_program(&["chromedriver"]),
        find_program(&["chromium", "chromium-browser"]),
    ) else {
        assert!(
            std::env::var_os("LC_REQUIRE_BROWSER").is_none(),
            "LC_REQUIRE_BROWSER is set but chromedriver or chromium is missing"
        );
        eprintln!("skipped: chromedriver and chromium are not installed");
        return;
    };

    // The app, as the README's first command serves it.
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/database_settings");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lc-mock"))
        .args([
            "serve",
            "--port",
            "0",
            "--cloud",
            "app",
            "--fixtures",
            fixtures,
        ])
        .env_remove("LC_MOCK_ENGINE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let _server = Kill(child);
    let mut url = String::new();
    stdout.read_line(&mut url).unwrap();
    let url = url.trim().to_string();

    let port = free_port();
    let _driver = Kill(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while http.get(format!("{base}/status")).send().await.is_err() {
        assert!(start.elapsed() < WAIT, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = std::env::temp_dir().join(format!("lc-mock-console-{}", std::process::id()));
    let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
        "binary": chromium,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,900", format!("--user-data-dir={}", profile.display())]
    }}}});
    let session: Value = http
        .post(format!("{base}/session"))
        .json(&caps)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let driver = Driver {
        http: http.clone(),
        session: session["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {session}"))
            .to_string(),
        base,
    };
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/console-screenshots");
    let master = |req: reqwest::RequestBuilder| {
        req.header("x-lc-id", "lc-mock-app")
            .header("x-lc-key", "lc-mock-master,master")
    };

    // 1. Data: find a business by a where filter, edit it as JSON, save.
    driver
        .cmd(
            reqwest::Method::POST,
            "/url",
            Some(json!({"url": format!("{url}/console/")})),
        )
        .await;
    driver
        .click("//ul[@id='classes']//button[span[text()='Business']]")
        .await;
    let filter = driver.wait_for("//textarea[@id='where']").await;
    driver
        .cmd(
            reqwest::Method::POST,
            &format!("/element/{filter}/value"),
            Some(json!({"text": "{\"name\": \"Fuxing Lane Coffee\"}"})),
        )
        .await;
    driver.click("//button[text()='Filter']").await;
    let row = "//table//td/button[@class='link' and string-length(text())=24]";
    driver
        .wait_for("//span[@class='muted' and text()='1 row']")
        .await;
    let id_elem = driver.wait_for(row).await;
    let id = driver
        .cmd(
            reqwest::Method::GET,
            &format!("/element/{id_elem}/text"),
            None,
        )
        .await
        .as_str()
        .unwrap()
        .to_string();
    driver.click(row).await;
    driver.wait_for("//div[@id='object-view']//textarea").await;
    let edited = driver
        .script(
            "const t = document.querySelector('#object-view textarea'); \
             const o = JSON.parse(t.value); o.phone = '+862100000000'; \
             t.value = JSON.stringify(o, null, 2); return o.name;",
        )
        .await;
    assert_eq!(edited, "Fuxing Lane Coffee");
    driver
        .click("//div[@id='object-view']//button[text()='Save']")
        .await;
    let start = Instant::now();
    loop {
        let stored: Value = master(http.get(format!("{url}/1.1/classes/Business/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if stored["phone"] == "+862100000000" {
            break;
        }
        assert!(start.elapsed() < WAIT, "the edit never arrived: {stored}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    driver.screenshot(&shots, "1-data.png").await;
    let paint = driver
        .script(
            "return performance.getEntriesByType('paint').map(p => p.name + ' ' + p.startTime.toFixed(1) + ' ms').join(', ')",
        )
        .await;
    println!("console paint timings: {paint}");

    // 2. Cloud code: run businessSummary on that business.
    driver.click("//nav/button[@data-tab='cloud']").await;
    driver
        .click("//details/summary[text()='businessSummary']")
        .await;
    driver
        .script(&format!(
            "const d = [...document.querySelectorAll('#functions details')].find(d => d.querySelector('summary').textContent === 'businessSummary'); \
             d.querySelector('textarea').value = JSON.stringify({{businessId: '{id}'}}); return true;"
        ))
        .await;
    driver
        .click("//details[summary[text()='businessSummary']]//button[text()='Run']")
        .await;
    driver
        .wait_for(
            "//details[summary[text()='businessSummary']]//span[@class='ok' and text()='HTTP 200']",
        )
        .await;
    driver.screenshot(&shots, "2-cloud.png").await;

    // 3. Traces: a review written by a client; its hook chain appears, live.
    driver.click("//nav/button[@data-tab='traces']").await;
    let signed: Value = http
        .post(format!("{url}/1.1/users"))
        .header("x-lc-id", "lc-mock-app")
        .header("x-lc-key", "lc-mock-key")
        .json(&json!({"username": "console.tester", "password": "console-pass"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed["sessionToken"].as_str().unwrap().to_string();
    http.post(format!("{url}/1.1/classes/Review"))
        .header("x-lc-id", "lc-mock-app")
        .header("x-lc-key", "lc-mock-key")
        .header("x-lc-session", token)
        .json(&json!({
            "business": {"__type": "Pointer", "className": "Business", "objectId": id},
            "stars": 5,
            "text": "Seen from the console."
        }))
        .send()
        .await
        .unwrap();
    driver
        .click(
            "//ol[@id='traces']/li[1]/details/summary[starts-with(., 'POST /1.1/classes/Review')]",
        )
        .await;
    driver
        .wait_for("//ol[@id='traces']/li[1]//summary[contains(., 'Review beforeSave')]")
        .await;
    driver.screenshot(&shots, "3-traces.png").await;

    driver.cmd(reqwest::Method::DELETE, "", None).await;
    let _ = std::fs::remove_dir_all(profile);
}
