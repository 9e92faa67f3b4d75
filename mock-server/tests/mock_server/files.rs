//! Files over HTTP: the token, upload and callback the JS SDK follows, a direct upload,
//! an external file, the bytes served keyless, File fields read back expanded, deletes,
//! and a failed callback leaving nothing behind.

use crate::support::send;
use leancloud::{Caller, Request};
use mock_server::api::{Api, AppConfig};
use serde_json::{Value, json};

fn raw(
    api: &Api,
    method: &str,
    path: &str,
    body: &[u8],
    content_type: &str,
) -> leancloud::Response {
    let mut req = Request::from_target(method, path)
        .with_header("host", "files.test:1234")
        .with_header("content-type", content_type);
    req.body = body.to_vec();
    api.handle(&req)
}

#[test]
fn the_sdks_token_upload_and_callback_store_the_bytes_behind_the_files_url() {
    let api = Api::new(AppConfig::default());
    let token_req = Request::from_target("POST", "/1.1/fileTokens")
        .with_header("host", "files.test:1234")
        .with_header("x-lc-id", &api.config().app_id)
        .with_header("x-lc-key", &api.config().app_key)
        .with_json(
            &json!({"name": "hello.txt", "mime_type": "text/plain", "metaData": {"note": "x"}}),
        );
    let answer = api.handle(&token_req);
    let info: Value = answer.body_json().unwrap();
    assert_eq!(answer.status, 200, "{info}");
    assert_eq!(info["provider"], "s3");
    let upload = info["upload_url"].as_str().unwrap();
    assert!(
        upload.starts_with("http://files.test:1234/uploads/"),
        "{upload}"
    );
    let path = upload.trim_start_matches("http://files.test:1234");
    // The upload needs no keys, as the provider's does not.
    let put = raw(&api, "PUT", path, b"hello, file", "text/plain");
    assert_eq!(put.status, 200);
    let (status, _) = send(
        &api,
        &Caller::Anonymous,
        "POST",
        "/1.1/fileCallback",
        Some(&json!({"token": info["token"], "result": true})),
    );
    assert_eq!(status, 200);

    let url = info["url"].as_str().unwrap();
    let got = raw(
        &api,
        "GET",
        &format!(
            "{}?imageView/2/w/100",
            url.trim_start_matches("http://files.test:1234")
        ),
        b"",
        "",
    );
    assert_eq!(
        (got.status, got.body.as_slice()),
        (200, &b"hello, file"[..])
    );
    assert_eq!(got.header("content-type"), Some("text/plain"));

    let id = info["objectId"].as_str().unwrap();
    let (status, file) = send(
        &api,
        &Caller::Anonymous,
        "GET",
        &format!("/1.1/files/{id}"),
        None,
    );
    assert_eq!(status, 200, "{file}");
    assert_eq!(
        (
            file["name"].clone(),
            file["metaData"]["size"].clone(),
            file["metaData"]["note"].clone()
        ),
        (json!("hello.txt"), json!(11), json!("x"))
    );

    // A File field reads back as the file.
    let (status, post) = send(
        &api,
        &Caller::Anonymous,
        "POST",
        "/1.1/classes/Post",
        Some(&json!({"attachment": {"__type": "File", "id": id}})),
    );
    assert_eq!(status, 201, "{post}");
    let (_, read) = send(
        &api,
        &Caller::Anonymous,
        "GET",
        &format!("/1.1/classes/Post/{}", post["objectId"].as_str().unwrap()),
        None,
    );
    assert_eq!(read["attachment"]["__type"], "File");
    assert_eq!(read["attachment"]["url"], url);
    assert_eq!(read["attachment"]["objectId"], id);

    let (status, _) = send(
        &api,
        &Caller::Anonymous,
        "DELETE",
        &format!("/1.1/files/{id}"),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(
        raw(
            &api,
            "GET",
            url.trim_start_matches("http://files.test:1234"),
            b"",
            ""
        )
        .status,
        404
    );
    let (status, body) = send(
        &api,
        &Caller::Anonymous,
        "GET",
        &format!("/1.1/files/{id}"),
        None,
    );
    assert_eq!(
        (status, body),
        (200, json!({})),
        "as a GET of any missing object answers"
    );
}

#[test]
fn a_failed_callback_leaves_no_file_and_a_used_token_takes_no_upload() {
    let api = Api::new(AppConfig::default());
    let (_, info) = send(
        &api,
        &Caller::Anonymous,
        "POST",
        "/1.1/fileTokens",
        Some(&json!({"name": "a.png"})),
    );
    assert_eq!(info["mime_type"], "image/png", "from the name's extension");
    let (_, _) = send(
        &api,
        &Caller::Anonymous,
        "POST",
        "/1.1/fileCallback",
        Some(&json!({"token": info["token"], "result": false})),
    );
    let (_, count) = send(
        &api,
        &Caller::Master,
        "GET",
        "/1.1/classes/_File?count=1&limit=0",
        None,
    );
    assert_eq!(count["count"], 0);
    let path = format!("/uploads/{}", info["token"].as_str().unwrap());
    assert_eq!(raw(&api, "PUT", &path, b"x", "image/png").status, 403);
    let (status, _) = send(
        &api,
        &Caller::Anonymous,
        "POST",
        "/1.1/fileTokens",
        Some(&json!({})),
    );
    assert_eq!(status, 400, "a name is required");
}

#[test]
fn direct_and_external_files_are_rows_too() {
    let api = Api::new(AppConfig::default());
    let mut req = Request::from_target("POST", "/1.1/files/notes.txt")
        .with_header("host", "h:1")
        .with_header("x-lc-id", &api.config().app_id)
        .with_header("x-lc-key", &api.config().app_key)
        .with_header("content-type", "text/plain");
    req.body = b"direct".to_vec();
    let answer = api.handle(&req);
    let body: Value = answer.body_json().unwrap();
    assert_eq!(answer.status, 201, "{body}");
    let url = body["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://h:1")
        .to_string();
    assert_eq!(raw(&api, "GET", &url, b"", "").body, b"direct");

    let (status, ext) = send(
        &api,
        &Caller::Anonymous,
        "POST",
        "/1.1/files",
        Some(
            &json!({"name": "logo.png", "url": "https://example.com/logo.png", "metaData": {"__source": "external"}}),
        ),
    );
    assert_eq!(status, 201, "{ext}");
    let (_, file) = send(
        &api,
        &Caller::Anonymous,
        "GET",
        &format!("/1.1/files/{}", ext["objectId"].as_str().unwrap()),
        None,
    );
    assert_eq!(
        (file["url"].clone(), file["mime_type"].clone()),
        (json!("https://example.com/logo.png"), json!("image/png"))
    );
}
