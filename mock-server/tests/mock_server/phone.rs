//! SMS, phone, email and captcha flows through the outbox (issue 16): every code and
//! link a flow sends is read back from the outbox, as a test or a Gherkin step would,
//! and then accepted by the flow; codes expire, are spent once and are rate-limited
//! with the documented codes (601 too frequent, 603 invalid code, 212/213 number
//! missing / unknown, 214 taken, 215 not verified). Time is the app's clock, moved by
//! hand here.

use lc_model::Store;
use lc_model::ids::{Clock, SeededIds};
use lc_model::outbox::{Channel, Filter};
use lc_model::verification::{SMS_CODE_TTL_MS, SMS_INTERVAL_MS};
use leancloud::cloud::{Registry, VerifyType};
use leancloud::error::code;
use mock_server::MockLeanCloud;
use mock_server::api::{Api, AppConfig};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

struct Hand(AtomicI64);

impl Clock for Hand {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

struct App {
    lc: MockLeanCloud,
    clock: Arc<Hand>,
    http: reqwest::Client,
}

const PHONE: &str = "+8618200008888";

impl App {
    async fn start() -> App {
        App::start_with(None).await
    }

    async fn start_with(registry: Option<Registry>) -> App {
        let clock = Arc::new(Hand(AtomicI64::new(1_750_000_000_000)));
        let store = Store::new(clock.clone(), Box::new(SeededIds::new(16)));
        let api = Arc::new(Api::with_store(AppConfig::default(), store));
        if let Some(registry) = registry {
            api.attach_registry(registry).expect("the cloud attaches");
        }
        App {
            lc: MockLeanCloud::start_shared(api).await,
            clock,
            http: reqwest::Client::new(),
        }
    }

    fn advance(&self, ms: i64) {
        self.clock.0.fetch_add(ms, Ordering::SeqCst);
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        session: Option<&str>,
        body: Value,
    ) -> (u16, Value) {
        let cfg = self.lc.api().config();
        let url = format!("{}{path}", self.lc.uri());
        let mut req = self
            .http
            .request(method.parse().unwrap(), url)
            .header("x-lc-id", &cfg.app_id)
            .header("x-lc-key", &cfg.app_key)
            .json(&body);
        if let Some(token) = session {
            req = req.header("x-lc-session", token);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, None, body).await
    }

    /// The newest code the outbox holds for `to` and `purpose`.
    fn code(&self, to: &str, purpose: &str) -> String {
        let filter = Filter {
            to: Some(to.into()),
            purpose: Some(purpose.into()),
            ..Filter::default()
        };
        let message = self
            .lc
            .api()
            .last_message(&filter)
            .expect("a message was sent");
        message.code.clone().expect("it carries a code")
    }

    fn link(&self, to: &str, purpose: &str) -> String {
        let filter = Filter {
            channel: Some(Channel::Email),
            to: Some(to.into()),
            purpose: Some(purpose.into()),
        };
        let message = self
            .lc
            .api()
            .last_message(&filter)
            .expect("an email was sent");
        message.link.clone().expect("it carries a link")
    }

    /// Sign a number up through `usersByMobilePhone`: (objectId, sessionToken).
    async fn phone_user(&self, phone: &str) -> (String, String) {
        let (status, _) = self
            .post("/1.1/requestSmsCode", json!({"mobilePhoneNumber": phone}))
            .await;
        assert_eq!(status, 200);
        let code = self.code(phone, "sms");
        let (status, user) = self
            .post(
                "/1.1/usersByMobilePhone",
                json!({"mobilePhoneNumber": phone, "smsCode": code}),
            )
            .await;
        assert_eq!(status, 201, "{user}");
        self.advance(SMS_INTERVAL_MS);
        (
            user["objectId"].as_str().unwrap().into(),
            user["sessionToken"].as_str().unwrap().into(),
        )
    }
}

fn code_of(body: &Value) -> i64 {
    body["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("an error: {body}"))
}

#[tokio::test]
async fn request_sms_code_puts_a_code_in_the_outbox_that_verify_sms_code_accepts_once() {
    let app = App::start().await;
    let (status, body) = app
        .post("/1.1/requestSmsCode", json!({"mobilePhoneNumber": PHONE}))
        .await;
    assert_eq!((status, body), (200, json!({})));
    let code = app.code(PHONE, "sms");
    assert!(
        app.lc.api().outbox(&Filter::default())[0]
            .text
            .contains(&code)
    );
    let path = format!("/1.1/verifySmsCode/{code}?mobilePhoneNumber=%2B8618200008888");
    assert_eq!(app.post(&path, json!({})).await, (200, json!({})));
    let (status, again) = app.post(&path, json!({})).await;
    assert_eq!((status, code_of(&again)), (400, code::INVALID_SMS_CODE));
    assert_eq!(again["error"], "Invalid SMS code.");
}

#[tokio::test]
async fn codes_are_rate_limited_per_number_and_expire() {
    let app = App::start().await;
    let request = json!({"mobilePhoneNumber": PHONE});
    assert_eq!(
        app.post("/1.1/requestSmsCode", request.clone()).await.0,
        200
    );
    let (status, body) = app.post("/1.1/requestSmsCode", request.clone()).await;
    assert_eq!((status, code_of(&body)), (400, code::SMS_TOO_FREQUENT));
    assert_eq!(body["error"], "Can't send sms code too frequently.");
    assert_eq!(
        app.lc.api().outbox(&Filter::default()).len(),
        1,
        "nothing more was sent"
    );
    let code = app.code(PHONE, "sms");
    app.advance(SMS_CODE_TTL_MS);
    let late = format!("/1.1/verifySmsCode/{code}");
    let (status, body) = app.post(&late, request.clone()).await;
    assert_eq!((status, code_of(&body)), (400, code::INVALID_SMS_CODE));
    // A minute on, a new code is sent.
    assert_eq!(app.post("/1.1/requestSmsCode", request).await.0, 200);
}

#[tokio::test]
async fn bad_numbers_are_refused_with_the_documented_codes() {
    let app = App::start().await;
    let (_, missing) = app.post("/1.1/requestSmsCode", json!({})).await;
    assert_eq!(code_of(&missing), 212);
    let (_, invalid) = app
        .post(
            "/1.1/requestSmsCode",
            json!({"mobilePhoneNumber": "call me"}),
        )
        .await;
    assert_eq!(code_of(&invalid), 127);
    let (_, nobody) = app
        .post(
            "/1.1/requestLoginSmsCode",
            json!({"mobilePhoneNumber": PHONE}),
        )
        .await;
    assert_eq!(code_of(&nobody), 213);
    assert!(app.lc.api().outbox(&Filter::default()).is_empty());
}

#[tokio::test]
async fn users_by_mobile_phone_signs_up_verified_then_logs_in() {
    let app = App::start().await;
    app.post("/1.1/requestSmsCode", json!({"mobilePhoneNumber": PHONE}))
        .await;
    let code = app.code(PHONE, "sms");
    let (status, user) = app
        .post(
            "/1.1/usersByMobilePhone",
            json!({"mobilePhoneNumber": PHONE, "smsCode": "000000"}),
        )
        .await;
    assert_eq!((status, code_of(&user)), (400, code::INVALID_SMS_CODE));
    let body = json!({"mobilePhoneNumber": PHONE, "smsCode": code, "nickname": "Li"});
    let (status, user) = app.post("/1.1/usersByMobilePhone", body.clone()).await;
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["username"], PHONE);
    assert_eq!(user["mobilePhoneVerified"], true);
    assert_eq!(user["nickname"], "Li");
    assert!(user["sessionToken"].is_string());
    // The code is spent; a new one logs the same user in.
    let (_, spent) = app.post("/1.1/usersByMobilePhone", body).await;
    assert_eq!(code_of(&spent), 603);
    app.advance(SMS_INTERVAL_MS);
    app.post(
        "/1.1/requestLoginSmsCode",
        json!({"mobilePhoneNumber": PHONE}),
    )
    .await;
    let code = app.code(PHONE, "login");
    let (status, again) = app
        .post(
            "/1.1/usersByMobilePhone",
            json!({"mobilePhoneNumber": PHONE, "smsCode": code}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["objectId"], user["objectId"]);
}

#[tokio::test]
async fn log_in_with_an_sms_code_needs_a_verified_number() {
    let app = App::start().await;
    let (status, _) = app
        .post(
            "/1.1/users",
            json!({"username": "wang", "password": "pw", "mobilePhoneNumber": PHONE}),
        )
        .await;
    assert_eq!(status, 201);
    let (_, unverified) = app
        .post(
            "/1.1/requestLoginSmsCode",
            json!({"mobilePhoneNumber": PHONE}),
        )
        .await;
    assert_eq!(code_of(&unverified), 215);
    // Verify the number, which makes log-in by code possible.
    app.post(
        "/1.1/requestMobilePhoneVerify",
        json!({"mobilePhoneNumber": PHONE}),
    )
    .await;
    let code = app.code(PHONE, "verifyMobilePhone");
    let (status, _) = app
        .post(&format!("/1.1/verifyMobilePhone/{code}"), json!({}))
        .await;
    assert_eq!(status, 200);
    app.advance(SMS_INTERVAL_MS);
    assert_eq!(
        app.post(
            "/1.1/requestLoginSmsCode",
            json!({"mobilePhoneNumber": PHONE})
        )
        .await
        .0,
        200
    );
    let code = app.code(PHONE, "login");
    let (status, user) = app
        .post(
            "/1.1/login",
            json!({"mobilePhoneNumber": PHONE, "smsCode": code}),
        )
        .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["username"], "wang");
    assert_eq!(user["mobilePhoneVerified"], true);
    let (_, spent) = app
        .post(
            "/1.1/login",
            json!({"mobilePhoneNumber": PHONE, "smsCode": code}),
        )
        .await;
    assert_eq!(code_of(&spent), 603);
}

#[tokio::test]
async fn a_password_is_reset_with_an_sms_code_and_old_sessions_end() {
    let app = App::start().await;
    let (id, token) = app.phone_user(PHONE).await;
    app.post(
        "/1.1/requestPasswordResetBySmsCode",
        json!({"mobilePhoneNumber": PHONE}),
    )
    .await;
    let code = app.code(PHONE, "resetPassword");
    let path = format!("/1.1/resetPasswordBySmsCode/{code}");
    let (_, no_password) = app.send("PUT", &path, None, json!({})).await;
    assert_eq!(code_of(&no_password), 201);
    let (status, _) = app
        .send("PUT", &path, None, json!({"password": "new-pw"}))
        .await;
    assert_eq!(status, 200);
    let (status, me) = app
        .send("GET", "/1.1/users/me", Some(&token), json!({}))
        .await;
    assert_eq!((status, code_of(&me)), (400, 211));
    let (status, user) = app
        .post(
            "/1.1/login",
            json!({"mobilePhoneNumber": PHONE, "password": "new-pw"}),
        )
        .await;
    assert_eq!(
        (status, user["objectId"].as_str()),
        (200, Some(id.as_str()))
    );
}

#[tokio::test]
async fn a_signed_in_user_changes_their_number_with_a_code_sent_to_the_new_one() {
    let app = App::start().await;
    let (id, token) = app.phone_user(PHONE).await;
    let (_, other_token) = app.phone_user("+8618200007777").await;
    let new = "+8613900001111";
    let (_, taken) = app
        .send(
            "POST",
            "/1.1/requestChangePhoneNumber",
            Some(&token),
            json!({"mobilePhoneNumber": "+8618200007777"}),
        )
        .await;
    assert_eq!(code_of(&taken), 214);
    let (_, anonymous) = app
        .post(
            "/1.1/requestChangePhoneNumber",
            json!({"mobilePhoneNumber": new}),
        )
        .await;
    assert_eq!(code_of(&anonymous), 211);
    let (status, _) = app
        .send(
            "POST",
            "/1.1/requestChangePhoneNumber",
            Some(&token),
            json!({"mobilePhoneNumber": new}),
        )
        .await;
    assert_eq!(status, 200);
    let code = app.code(new, "changePhoneNumber");
    let body = json!({"mobilePhoneNumber": new, "code": code});
    // Another user cannot spend it.
    let (_, stolen) = app
        .send(
            "POST",
            "/1.1/changePhoneNumber",
            Some(&other_token),
            body.clone(),
        )
        .await;
    assert_eq!(code_of(&stolen), 603);
    let (status, _) = app
        .send("POST", "/1.1/changePhoneNumber", Some(&token), body)
        .await;
    assert_eq!(status, 200);
    let (_, me) = app
        .send("GET", "/1.1/users/me", Some(&token), json!({}))
        .await;
    assert_eq!(
        (me["objectId"].as_str(), me["mobilePhoneNumber"].as_str()),
        (Some(id.as_str()), Some(new))
    );
    assert_eq!(me["mobilePhoneVerified"], true);
}

#[tokio::test]
async fn email_links_verify_the_address_and_reset_the_password_without_keys() {
    let app = App::start().await;
    let email = "li@example.com";
    let (status, user) = app
        .post(
            "/1.1/users",
            json!({"username": "li", "password": "pw", "email": email}),
        )
        .await;
    assert_eq!(status, 201);
    let token = user["sessionToken"].as_str().unwrap().to_string();
    let (_, nobody) = app
        .post("/1.1/requestEmailVerify", json!({"email": "x@example.com"}))
        .await;
    assert_eq!(code_of(&nobody), 205);
    assert_eq!(
        app.post("/1.1/requestEmailVerify", json!({"email": email}))
            .await
            .0,
        200
    );
    let link = app.link(email, "verifyEmail");
    assert!(
        link.starts_with(&app.lc.uri()),
        "{link} points back at the emulator"
    );
    let page = app.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let (_, me) = app
        .send("GET", "/1.1/users/me", Some(&token), json!({}))
        .await;
    assert_eq!(me["emailVerified"], true);
    assert_eq!(
        app.http.get(&link).send().await.unwrap().status(),
        404,
        "a link works once"
    );

    assert_eq!(
        app.post("/1.1/requestPasswordReset", json!({"email": email}))
            .await
            .0,
        200
    );
    let link = app.link(email, "resetPassword");
    let form = app
        .http
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("<form"), "{form}");
    let done = app
        .http
        .post(&link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("password=n%C3%A9w+pw")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let (status, _) = app
        .post(
            "/1.1/login",
            json!({"username": "li", "password": "néw pw"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, old) = app
        .post("/1.1/login", json!({"username": "li", "password": "pw"}))
        .await;
    assert_eq!(code_of(&old), 210);
}

#[tokio::test]
async fn a_solved_captcha_gives_a_validate_token_that_request_sms_code_accepts_once() {
    let app = App::start().await;
    let (status, captcha) = app
        .send(
            "GET",
            "/1.1/requestCaptcha?width=85&height=30",
            None,
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let captcha_token = captcha["captcha_token"].as_str().unwrap();
    let url = captcha["captcha_url"].as_str().unwrap();
    let filter = Filter {
        channel: Some(Channel::Captcha),
        ..Filter::default()
    };
    let code = app
        .lc
        .api()
        .last_message(&filter)
        .unwrap()
        .code
        .clone()
        .unwrap();
    let image = app
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(image.contains(&code), "the image shows the code");
    let (status, solved) = app
        .post(
            "/1.1/verifyCaptcha",
            json!({"captcha_code": code, "captcha_token": captcha_token}),
        )
        .await;
    assert_eq!(status, 200);
    let validate = solved["validate_token"].as_str().unwrap();
    let body = json!({"mobilePhoneNumber": PHONE, "validate_token": validate});
    assert_eq!(app.post("/1.1/requestSmsCode", body.clone()).await.0, 200);
    app.advance(SMS_INTERVAL_MS);
    let (status, reused) = app.post("/1.1/requestSmsCode", body).await;
    assert_eq!((status, code_of(&reused)), (400, 1));
    let (_, wrong) = app
        .post(
            "/1.1/verifyCaptcha",
            json!({"captcha_code": "nope", "captcha_token": captcha_token}),
        )
        .await;
    assert_eq!(code_of(&wrong), 1);
}

#[tokio::test]
async fn pending_codes_go_with_snapshots_and_resets() {
    let app = App::start().await;
    let api = app.lc.api();
    app.post("/1.1/requestSmsCode", json!({"mobilePhoneNumber": PHONE}))
        .await;
    let code = app.code(PHONE, "sms");
    api.save_snapshot("sent").unwrap();
    let path = format!("/1.1/verifySmsCode/{code}?mobilePhoneNumber=%2B8618200008888");
    assert_eq!(app.post(&path, json!({})).await.0, 200);
    api.restore_snapshot("sent").unwrap();
    assert_eq!(
        app.post(&path, json!({})).await.0,
        200,
        "the snapshot kept the code"
    );
    api.reset();
    assert_eq!(app.post(&path, json!({})).await.0, 400);
    assert_eq!(
        app.post("/1.1/requestSmsCode", json!({"mobilePhoneNumber": PHONE}))
            .await
            .0,
        200,
        "the rate limit was reset too"
    );
}

#[tokio::test]
async fn on_verified_fires_after_a_phone_or_an_email_is_verified() {
    let seen: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let mut registry = Registry::new();
    for kind in [VerifyType::Sms, VerifyType::Email] {
        let seen = seen.clone();
        registry.on_verified(kind, move |req| {
            seen.lock()
                .unwrap()
                .push((kind.as_str().to_string(), req.object.clone()));
            async move { Ok(()) }
        });
    }
    let app = App::start_with(Some(registry)).await;
    let email = "zhao@example.com";
    let (status, _) = app
        .post(
            "/1.1/users",
            json!({"username": "zhao", "password": "pw", "email": email, "mobilePhoneNumber": PHONE}),
        )
        .await;
    assert_eq!(status, 201);
    app.post(
        "/1.1/requestMobilePhoneVerify",
        json!({"mobilePhoneNumber": PHONE}),
    )
    .await;
    let code = app.code(PHONE, "verifyMobilePhone");
    assert_eq!(
        app.post(&format!("/1.1/verifyMobilePhone/{code}"), json!({}))
            .await
            .0,
        200
    );
    app.post("/1.1/requestEmailVerify", json!({"email": email}))
        .await;
    let link = app.link(email, "verifyEmail");
    assert_eq!(app.http.get(&link).send().await.unwrap().status(), 200);
    app.lc.idle().await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].0, "sms");
    assert_eq!(seen[0].1["username"], "zhao");
    assert_eq!(seen[0].1["mobilePhoneVerified"], true);
    assert_eq!(seen[1].0, "email");
    assert_eq!(seen[1].1["emailVerified"], true);
}
