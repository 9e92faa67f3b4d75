//! The Node engine's transcript: its cases hard-coded, each answered as the Node engine
//! did, and the transcript file itself read back against them.

use super::*;

// ---- the Node transcript, hard-coded ----------------------------------------------------------

#[allow(clippy::too_many_arguments)]
fn case(
    title: &str,
    method: &str,
    path: &str,
    headers: &[&str],
    body: Option<&str>,
    status: u16,
    answer: &str,
) -> Case {
    let mut headers: Vec<(String, String)> = headers
        .iter()
        .map(|h| {
            let (k, v) = h.split_once(": ").unwrap();
            (k.to_ascii_lowercase(), v.to_string())
        })
        .collect();
    headers.sort();
    Case {
        title: title.into(),
        method: method.into(),
        path: path.into(),
        headers,
        body: body.map(str::to_string),
        status,
        answer: serde_json::from_str(answer).unwrap(),
    }
}

/// Every request of `leanengine-3.8.0-curl-transcript.md`, with the Node engine's answer.
pub(super) fn transcript_cases() -> Vec<Case> {
    let fx = |name: &str| format!("/1.1/functions/{name}");
    let master = &[
        "X-LC-Id: testAppId-MdYXbMMI",
        "X-LC-Key: testMasterKey,master",
        "Content-Type: application/json",
    ];
    let typed = r#"{"obj":{"__type":"Object","className":"Post","objectId":"p1","title":"t"},"when":{"__type":"Date","iso":"2020-01-02T03:04:05.000Z"}}"#;
    let typed_untitled = r#"{"obj":{"__type":"Object","className":"Post","objectId":"p1"},"when":{"__type":"Date","iso":"2020-01-02T03:04:05.000Z"}}"#;
    let typed_fields = r#"{"title":"t","when":{"__type":"Date","iso":"2020-01-02T03:04:05.000Z"},"author":{"__type":"Pointer","className":"_User","objectId":"u1"},"geo":{"__type":"GeoPoint","latitude":1,"longitude":2},"ACL":{"*":{"read":true}}}"#;
    vec![
        case(
            "health check (no auth)",
            "GET",
            "/__engine/1/ping",
            &[],
            None,
            200,
            r#"{"runtime":"nodejs-v20.20.2","version":"3.8.0"}"#,
        ),
        case(
            "function list needs master key",
            "GET",
            &fx("_ops/metadatas"),
            master,
            None,
            200,
            r#"{"result":["hello","echo","whoami","cloudError","cloudErrorStatus","plainThrow","rejectString","slow","internalOnly","noFetchUser","rpcObject","rpcEchoTypes","__before_save_for_Post","__after_save_for_Post","__before_update_for_Post","__after_update_for_Post","__before_delete_for_Post","__after_delete_for_Post","__before_save_for_Legacy","__on_login__User","__on_verified_sms","__on_authdata__User"]}"#,
        ),
        case(
            "function list with app key -> 401",
            "GET",
            &fx("_ops/metadatas"),
            APP,
            None,
            401,
            r#"{"code":401,"error":"Unauthorized."}"#,
        ),
        case(
            "run with X-LC-Key",
            "POST",
            &fx("hello"),
            APP,
            Some(r#"{"name":"LeanCloud"}"#),
            200,
            r#"{"result":"Hello LeanCloud"}"#,
        ),
        case(
            "run with X-LC-Sign (md5(ts+appKey),ts)",
            "POST",
            &fx("hello"),
            &[
                "X-LC-Id: testAppId-MdYXbMMI",
                "X-LC-Sign: 61a2a38a983220ed5b24463f21b62427,1795471649520",
                "Content-Type: application/json",
            ],
            Some(r#"{"name":"signed"}"#),
            200,
            r#"{"result":"Hello signed"}"#,
        ),
        case(
            "run with master X-LC-Sign (md5(ts+masterKey),ts,master)",
            "POST",
            &fx("hello"),
            &[
                "X-LC-Id: testAppId-MdYXbMMI",
                "X-LC-Sign: 4d1575ade25ded686bfde5c1716d5ead,1795471649520,master",
                "Content-Type: application/json",
            ],
            Some("{}"),
            200,
            r#"{"result":"Hello world"}"#,
        ),
        case(
            "API version 1 path also routed",
            "POST",
            "/1/functions/hello",
            APP,
            Some("{}"),
            200,
            r#"{"result":"Hello world"}"#,
        ),
        case(
            "no X-LC-Id -> 401",
            "POST",
            &fx("hello"),
            &["Content-Type: application/json"],
            Some("{}"),
            401,
            r#"{"code":401,"error":"Unauthorized."}"#,
        ),
        case(
            "wrong key -> 401",
            "POST",
            &fx("hello"),
            &[
                "X-LC-Id: testAppId-MdYXbMMI",
                "X-LC-Key: nope",
                "Content-Type: application/json",
            ],
            Some("{}"),
            401,
            r#"{"code":401,"error":"Unauthorized."}"#,
        ),
        case(
            "unknown function -> 404",
            "POST",
            &fx("nope"),
            APP,
            Some("{}"),
            404,
            r#"{"code":1,"error":"No such cloud function 'nope'"}"#,
        ),
        case(
            "AV.Cloud.Error(code 142) -> 400",
            "POST",
            &fx("cloudError"),
            APP,
            Some("{}"),
            400,
            r#"{"code":142,"error":"custom failure"}"#,
        ),
        case(
            "AV.Cloud.Error with status 418",
            "POST",
            &fx("cloudErrorStatus"),
            APP,
            Some("{}"),
            418,
            r#"{"code":418,"error":"teapot"}"#,
        ),
        case(
            "plain Error thrown -> 500",
            "POST",
            &fx("plainThrow"),
            APP,
            Some("{}"),
            500,
            r#"{"code":1,"error":"unexpected crash"}"#,
        ),
        case(
            "rejected with a string -> 400",
            "POST",
            &fx("rejectString"),
            APP,
            Some("{}"),
            400,
            r#"{"code":1,"error":"just a string"}"#,
        ),
        case(
            "internal function with app key -> 401",
            "POST",
            &fx("internalOnly"),
            APP,
            Some("{}"),
            401,
            r#"{"code":401,"error":"Internal cloud function, request from 127.0.0.1"}"#,
        ),
        case(
            "internal function with hook key",
            "POST",
            &fx("internalOnly"),
            HOOK,
            Some("{}"),
            200,
            r#"{"result":"secret"}"#,
        ),
        case(
            "text/plain body with _ApplicationId/_ApplicationKey (browser form)",
            "POST",
            &fx("echo"),
            &["Content-Type: text/plain"],
            Some(
                r#"{"_ApplicationId":"testAppId-MdYXbMMI","_ApplicationKey":"testAppKey","a":1,"__keep":2}"#,
            ),
            200,
            r#"{"result":{"params":{"a":1,"__keep":2},"user":null,"meta":{"remoteAddress":"127.0.0.1"}}}"#,
        ),
        case(
            "session token -> engine calls GET {API}/1.1/users/me",
            "POST",
            &fx("whoami"),
            &with(APP, &["X-LC-Session: fake-session-token-x"]),
            Some("{}"),
            200,
            r#"{"result":{"id":"u1","username":"me"}}"#,
        ),
        case(
            "fetchUser:false -> no users/me call",
            "POST",
            &fx("noFetchUser"),
            &with(APP, &["X-LC-Session: tok123"]),
            Some("{}"),
            200,
            r#"{"result":{"sessionToken":"tok123","hasUser":false}}"#,
        ),
        case(
            "rpc (/1.1/call) returns encoded AV.Object",
            "POST",
            "/1.1/call/rpcObject",
            APP,
            Some("{}"),
            200,
            r#"{"result":{"title":"from rpc","when":{"__type":"Date","iso":"2020-01-02T03:04:05.000Z"},"author":{"__type":"Pointer","className":"_User","objectId":"u1"},"objectId":"5d8308019c9235000886c4ce","__type":"Object","className":"Post"}}"#,
        ),
        case(
            "rpc decodes typed params",
            "POST",
            "/1.1/call/rpcEchoTypes",
            APP,
            Some(typed),
            200,
            r#"{"result":{"isObject":true,"className":"Post","isDate":true}}"#,
        ),
        case(
            "functions (not call) does NOT decode typed params",
            "POST",
            &fx("rpcEchoTypes"),
            APP,
            Some(typed_untitled),
            200,
            r#"{"result":{"isObject":false,"className":"Post","isDate":false}}"#,
        ),
        case(
            "beforeSave ok: returns the (modified) object",
            "POST",
            &fx("Post/beforeSave"),
            HOOK,
            Some(
                r#"{"object":{"title":"a very long title here","n":1},"user":{"objectId":"u1","username":"alice","sessionToken":"fake-session-token-x","createdAt":"2020-01-01T00:00:00.000Z","updatedAt":"2020-01-01T00:00:00.000Z"}}"#,
            ),
            200,
            r#"{"n":1,"title":"a very lon…","byBeforeSave":true}"#,
        ),
        case(
            "beforeSave without X-LC-Hook-Key -> 401",
            "POST",
            &fx("Post/beforeSave"),
            APP,
            Some(r#"{"object":{"title":"x"}}"#),
            401,
            r#"{"code":401,"error":"Hook key check failed, request from 127.0.0.1"}"#,
        ),
        case(
            "beforeSave rejects -> 400 {code,error}",
            "POST",
            &fx("Post/beforeSave"),
            HOOK,
            Some(r#"{"object":{"n":1}}"#),
            400,
            r#"{"code":142,"error":"title is required"}"#,
        ),
        case(
            "afterSave -> {result:ok}",
            "POST",
            &fx("Post/afterSave"),
            HOOK,
            Some(
                r#"{"object":{"objectId":"p1","title":"x","createdAt":"2020-01-01T00:00:00.000Z","updatedAt":"2020-01-01T00:00:00.000Z"}}"#,
            ),
            200,
            r#"{"result":"ok"}"#,
        ),
        case(
            "beforeUpdate with _updatedKeys",
            "POST",
            &fx("Post/beforeUpdate"),
            HOOK,
            Some(r#"{"object":{"objectId":"p1","title":"new","_updatedKeys":["title"]}}"#),
            200,
            r#"{"title":"new","_updatedKeys":["title"],"byBeforeUpdate":true,"objectId":"p1"}"#,
        ),
        case(
            "beforeUpdate rejects when locked in _updatedKeys",
            "POST",
            &fx("Post/beforeUpdate"),
            HOOK,
            Some(r#"{"object":{"objectId":"p1","locked":true,"_updatedKeys":["locked"]}}"#),
            400,
            r#"{"code":142,"error":"locked may not be changed"}"#,
        ),
        case(
            "afterUpdate",
            "POST",
            &fx("Post/afterUpdate"),
            HOOK,
            Some(r#"{"object":{"objectId":"p1","title":"new","_updatedKeys":["title"]}}"#),
            200,
            r#"{"result":"ok"}"#,
        ),
        case(
            "beforeDelete ok -> {}",
            "POST",
            &fx("Post/beforeDelete"),
            HOOK,
            Some(r#"{"object":{"objectId":"p1"}}"#),
            200,
            r#"{"objectId":"p1"}"#,
        ),
        case(
            "beforeDelete rejects",
            "POST",
            &fx("Post/beforeDelete"),
            HOOK,
            Some(r#"{"object":{"objectId":"p1","protected":true}}"#),
            400,
            r#"{"code":142,"error":"protected post"}"#,
        ),
        case(
            "afterDelete",
            "POST",
            &fx("Post/afterDelete"),
            HOOK,
            Some(r#"{"object":{"objectId":"p1"}}"#),
            200,
            r#"{"result":"ok"}"#,
        ),
        case(
            "hook for class without hook -> 404",
            "POST",
            &fx("Comment/beforeSave"),
            HOOK,
            Some(r#"{"object":{}}"#),
            404,
            r#"{"code":1,"error":"No beforeSave hook of 'Comment'"}"#,
        ),
        case(
            "legacy (req,res) beforeSave ok",
            "POST",
            &fx("Legacy/beforeSave"),
            HOOK,
            Some(r#"{"object":{"a":1}}"#),
            200,
            r#"{"a":1,"legacy":true}"#,
        ),
        case(
            "legacy (req,res) beforeSave response.error(string)",
            "POST",
            &fx("Legacy/beforeSave"),
            HOOK,
            Some(r#"{"object":{"bad":true}}"#),
            400,
            r#"{"code":1,"error":"legacy says no"}"#,
        ),
        case(
            "beforeSave body with typed fields (Date/Pointer/GeoPoint)",
            "POST",
            &fx("Post/beforeSave"),
            HOOK,
            Some(&format!(r#"{{"object":{typed_fields}}}"#)),
            200,
            r#"{"title":"t","when":{"__type":"Date","iso":"2020-01-02T03:04:05.000Z"},"author":{"__type":"Pointer","className":"_User","objectId":"u1"},"geo":{"__type":"GeoPoint","latitude":1,"longitude":2},"ACL":{"*":{"read":true}},"byBeforeSave":true}"#,
        ),
        case(
            "onLogin ok",
            "POST",
            &fx("_User/onLogin"),
            HOOK,
            Some(r#"{"object":{"objectId":"u1","username":"alice"}}"#),
            200,
            r#"{"result":"ok"}"#,
        ),
        case(
            "onLogin rejects",
            "POST",
            &fx("_User/onLogin"),
            HOOK,
            Some(r#"{"object":{"objectId":"u2","username":"banned"}}"#),
            400,
            r#"{"code":142,"error":"banned user"}"#,
        ),
        case(
            "onVerified sms",
            "POST",
            &fx("onVerified/sms"),
            HOOK,
            Some(r#"{"object":{"objectId":"u1","username":"alice"}}"#),
            200,
            r#"{"result":"ok"}"#,
        ),
        case(
            "onAuthData",
            "POST",
            &fx("_User/onAuthData"),
            HOOK,
            Some(
                r#"{"object":{"objectId":"u1"},"authData":{"weixin":{"openid":"o1","access_token":"t"}}}"#,
            ),
            200,
            r#"{"result":{"weixin":{"openid":"o1","access_token":"t"}}}"#,
        ),
    ]
}

/// Our ping names Rust where Node names itself; the shape is the same.
pub(super) fn is_ping(case: &Case) -> bool {
    case.path == "/__engine/1/ping"
}

async fn check_case(engine: &RunningEngine, case: &Case) -> Result<(), String> {
    let (status, body) = send(engine, case.request()).await;
    let matches = if is_ping(case) {
        status == case.status
            && body["runtime"]
                .as_str()
                .is_some_and(|r| r.starts_with("rust-"))
            && body["version"] == env!("CARGO_PKG_VERSION")
            && body.as_object().map(|m| m.len()) == Some(2)
    } else {
        (status, &body) == (case.status, &case.answer)
    };
    if matches {
        Ok(())
    } else {
        Err(format!(
            "{}: {} {}\n  node: {} {}\n  ours: {} {}",
            case.title, case.method, case.path, case.status, case.answer, status, body
        ))
    }
}

#[tokio::test]
async fn the_engine_answers_every_transcript_request_as_the_node_engine_did() {
    let (engine, _storage) = engine().await;
    let mut failures = Vec::new();
    for case in transcript_cases() {
        if let Err(failure) = check_case(&engine, &case).await {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- the transcript file itself ---------------------------------------------------------------

/// The cases of a transcript in the Node transcript's format: `### title`, then a fenced
/// block with the curl line, `=> HTTP <status>` and the answer.
fn parse_transcript(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut title = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(t) = line.strip_prefix("### ") {
            title = t.trim().to_string();
            continue;
        }
        let Some(command) = line.strip_prefix("curl ") else {
            continue;
        };
        let status_line = lines.next().expect("a status line after the curl line");
        let status = status_line
            .strip_prefix("=> HTTP ")
            .expect("=> HTTP <status>")
            .trim()
            .parse()
            .unwrap();
        let answer = serde_json::from_str(lines.next().expect("an answer line")).unwrap();
        let words = transcripts::shell_words(command);
        let (mut method, mut url, mut headers, mut body) = (None, None, Vec::new(), None);
        let mut i = 0;
        while i < words.len() {
            match words[i].as_str() {
                "-X" => {
                    method = Some(words[i + 1].clone());
                    i += 1;
                }
                "-H" => {
                    let (k, v) = words[i + 1].split_once(':').unwrap();
                    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    i += 1;
                }
                "-d" => {
                    body = Some(words[i + 1].clone());
                    i += 1;
                }
                other => url = Some(other.to_string()),
            }
            i += 1;
        }
        headers.sort();
        let url = url.expect("a URL");
        let path = url.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap();
        cases.push(Case {
            title: title.clone(),
            method: method.unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.into()),
            path,
            headers,
            body,
            status,
            answer,
        });
    }
    cases
}

#[test]
fn shell_words_split_like_a_shell() {
    assert_eq!(
        transcripts::shell_words(r#"-X POST http://h/x -H 'A: b c' -d '{"a": 1}' ''"#),
        [
            "-X",
            "POST",
            "http://h/x",
            "-H",
            "A: b c",
            "-d",
            r#"{"a": 1}"#,
            ""
        ]
    );
}

#[tokio::test]
async fn every_request_of_the_node_transcript_gets_the_node_engines_answer() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/examples/leanengine-3.8.0-curl-transcript.md");
    let Ok(text) = std::fs::read_to_string(&file) else {
        eprintln!(
            "{} not found: the hard-coded cases stand in for it",
            file.display()
        );
        return;
    };
    let parsed = parse_transcript(&text);
    assert!(parsed.len() >= 40, "parsed only {} cases", parsed.len());
    let (engine, _storage) = engine().await;
    let known: BTreeMap<String, Case> = transcript_cases()
        .into_iter()
        .map(|c| (c.title.clone(), c))
        .collect();
    let mut failures = Vec::new();
    for case in &parsed {
        match known.get(&case.title) {
            Some(hard_coded) if hard_coded == case => {}
            Some(hard_coded) => failures.push(format!(
                "the hard-coded case differs from the transcript:\n  file: {case:?}\n  code: {hard_coded:?}"
            )),
            None => failures.push(format!("no hard-coded case for {:?}", case.title)),
        }
        if let Err(failure) = check_case(&engine, case).await {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
