//! UnionID and `authData` merging, against what production answered (issue 16, "Wrong
//! today", recorded): a sign-up with `weixin_1` carrying `unionid` and `main_account:
//! true` is 201 with `_weixin_unionid: {"uid": U}` added to `authData`; a second platform
//! with the same unionid is 200 with the same user (same objectId and username), merged;
//! a `PUT` of `authData` on a user merges platforms rather than replacing them.

use leancloud::Request;
use leancloud::cloud::{CloudError, Registry};
use mock_server::MockLeanCloud;
use mock_server::api::{Api, AppConfig};
use serde_json::{Value, json};

fn send(api: &Api, method: &str, path: &str, session: Option<&str>, body: Value) -> (u16, Value) {
    let cfg = api.config();
    let mut req = Request::from_target(method, path)
        .with_header("x-lc-id", &cfg.app_id)
        .with_header("x-lc-key", &cfg.app_key)
        .with_json(&body);
    if let Some(token) = session {
        req = req.with_header("x-lc-session", token);
    }
    let resp = api.handle(&req);
    (resp.status, resp.body_json().unwrap_or(Value::Null))
}

const U: &str = "oTY851axxxgujsEl0f36Huxk";

fn weixin(openid: &str, main: bool) -> Value {
    json!({
        "access_token": "token-of-".to_string() + openid,
        "expires_in": 7200,
        "openid": openid,
        "platform": "weixin",
        "unionid": U,
        "main_account": main,
    })
}

#[test]
fn a_second_platform_with_the_same_unionid_logs_into_the_same_user_and_merges() {
    let api = Api::new(AppConfig::default());
    let (status, first) = send(
        &api,
        "POST",
        "/1.1/users",
        None,
        json!({"authData": {"weixin_1": weixin("openid-1", true)}}),
    );
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["authData"]["_weixin_unionid"], json!({"uid": U}));
    assert_eq!(first["authData"]["weixin_1"], weixin("openid-1", true));

    let (status, second) = send(
        &api,
        "POST",
        "/1.1/users",
        None,
        json!({"authData": {"weixin_2": weixin("openid-2", false)}}),
    );
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["objectId"], first["objectId"]);
    assert_eq!(second["username"], first["username"]);
    let auth = second["authData"].as_object().unwrap();
    let mut platforms: Vec<&str> = auth.keys().map(String::as_str).collect();
    platforms.sort();
    assert_eq!(platforms, ["_weixin_unionid", "weixin_1", "weixin_2"]);
    let (_, users) = send(
        &api,
        "GET",
        "/1.1/classes/_User?count=1&limit=0",
        None,
        json!({}),
    );
    let master = Request::from_target("GET", "/1.1/classes/_User?count=1&limit=0")
        .with_header("x-lc-id", &api.config().app_id)
        .with_header("x-lc-key", format!("{},master", api.config().master_key));
    let count = api.handle(&master).body_json().unwrap()["count"].clone();
    assert_eq!(count, 1, "one user, not two ({users})");
}

#[test]
fn without_main_account_the_unionid_is_not_stored_and_a_unionid_held_by_another_is_208() {
    let api = Api::new(AppConfig::default());
    let (status, user) = send(
        &api,
        "POST",
        "/1.1/users",
        None,
        json!({"authData": {"weixin_1": weixin("openid-1", false)}}),
    );
    assert_eq!(status, 201);
    assert!(user["authData"].get("_weixin_unionid").is_none(), "{user}");
    // A second user who claims the same unionid as main account is a new user; the
    // first one, updated to claim it too, is refused.
    let (status, other) = send(
        &api,
        "POST",
        "/1.1/users",
        None,
        json!({"authData": {"weixin_3": {"openid": "openid-3", "platform": "weixin", "unionid": "another", "main_account": true}}}),
    );
    assert_eq!(status, 201, "{other}");
    let token = user["sessionToken"].as_str().unwrap();
    let path = format!("/1.1/users/{}", user["objectId"].as_str().unwrap());
    let claim = json!({"authData": {"weixin_4": {"openid": "openid-4", "platform": "weixin", "unionid": "another", "main_account": true}}});
    let (status, err) = send(&api, "PUT", &path, Some(token), claim);
    assert_eq!((status, err["code"].as_i64()), (400, Some(208)), "{err}");
}

#[test]
fn a_put_of_auth_data_merges_platforms() {
    let api = Api::new(AppConfig::default());
    let (status, user) = send(
        &api,
        "POST",
        "/1.1/users",
        None,
        json!({"username": "li", "password": "pw"}),
    );
    assert_eq!(status, 201);
    let token = user["sessionToken"].as_str().unwrap();
    let path = format!("/1.1/users/{}", user["objectId"].as_str().unwrap());
    let qq = json!({"openid": "qq-1", "access_token": "t", "expires_in": 1});
    let (status, _) = send(
        &api,
        "PUT",
        &path,
        Some(token),
        json!({"authData": {"qq": qq}}),
    );
    assert_eq!(status, 200);
    let weibo = json!({"uid": "wb-1", "access_token": "t", "expires_in": 1});
    let (status, _) = send(
        &api,
        "PUT",
        &path,
        Some(token),
        json!({"authData": {"weibo": weibo}}),
    );
    assert_eq!(status, 200);
    let (_, me) = send(&api, "GET", "/1.1/users/me", Some(token), json!({}));
    assert_eq!(me["authData"], json!({"qq": qq, "weibo": weibo}));
    // A null platform unlinks it, leaving the others.
    let (status, _) = send(
        &api,
        "PUT",
        &path,
        Some(token),
        json!({"authData": {"qq": null}}),
    );
    assert_eq!(status, 200);
    let (_, me) = send(&api, "GET", "/1.1/users/me", Some(token), json!({}));
    assert_eq!(me["authData"], json!({"weibo": weibo}));
    // Each platform still logs in to this user.
    let (status, again) = send(
        &api,
        "POST",
        "/1.1/users",
        None,
        json!({"authData": {"weibo": weibo}}),
    );
    assert_eq!((status, &again["objectId"]), (200, &user["objectId"]));
}

/// onAuthData sees `{"authData"}` and answers the authData to use: here it refuses a
/// `weixin` link without an `access_token` and adds a field to the others.
fn auth_data_cloud() -> Registry {
    let mut r = Registry::new();
    r.on_auth_data(|req| async move {
        let mut auth = req.auth_data.clone().unwrap_or(Value::Null);
        if let Some(weixin) = auth.get_mut("weixin") {
            if weixin.get("access_token").is_none() {
                return Err(CloudError::new("weixin needs an access_token"));
            }
            weixin["checked"] = json!(true);
        }
        Ok(auth)
    });
    r
}

#[tokio::test]
async fn on_auth_data_checks_and_transforms_a_linked_account_sign_up() {
    let lc = MockLeanCloud::start_with_cloud(Api::new(AppConfig::default()), auth_data_cloud())
        .await
        .expect("the cloud attaches");
    let api = lc.api();
    let (status, refused) = send(
        api,
        "POST",
        "/1.1/users",
        None,
        json!({"authData": {"weixin": {"openid": "o-1"}}}),
    );
    assert_eq!(status, 400);
    assert_eq!(refused["code"], 142);
    assert_eq!(
        refused["error"],
        "Cloud Code validation failed. Error detail : weixin needs an access_token"
    );
    let master = Request::from_target("GET", "/1.1/classes/_User?count=1&limit=0")
        .with_header("x-lc-id", &api.config().app_id)
        .with_header("x-lc-key", format!("{},master", api.config().master_key));
    assert_eq!(
        api.handle(&master).body_json().unwrap()["count"],
        0,
        "nothing stored"
    );

    let sent = json!({"openid": "o-1", "access_token": "t"});
    let (status, user) = send(
        api,
        "POST",
        "/1.1/users",
        None,
        json!({"authData": {"weixin": sent}}),
    );
    assert_eq!(status, 201, "{user}");
    assert_eq!(
        user["authData"]["weixin"],
        json!({"openid": "o-1", "access_token": "t", "checked": true})
    );
}
