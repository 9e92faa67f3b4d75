//! Unit tests of `client`.

use super::*;
use crate::caller::Keys;
use crate::error::code;
use futures::FutureExt;
use futures::executor::block_on;
use futures::future::BoxFuture;
use std::collections::VecDeque;
use std::sync::Mutex;

#[test]
fn debug_output_never_shows_keys_or_the_session() {
    let client = Client::new(Arc::new(Recorder::default()), "the-app", "app-key-123")
        .with_master_key("master-key-456")
        .with_hook_key("hook-key-789")
        .with_session("session-token-0ab");
    let shown = format!("{client:?} {:?}", client.as_master());
    assert!(shown.contains("the-app"), "{shown}");
    for secret in [
        "app-key-123",
        "master-key-456",
        "hook-key-789",
        "session-token-0ab",
    ] {
        assert!(!shown.contains(secret), "{secret} shown in {shown}");
    }
}

/// Records what the client sends and answers with queued responses (`{}` when empty).
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Request>>,
    answers: Mutex<VecDeque<Result<Response, LcError>>>,
}

impl Transport for Recorder {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
        self.seen.lock().unwrap().push(request);
        let answer = self
            .answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Ok(Response::json(200, &json!({}))));
        async move { answer }.boxed()
    }
}

fn setup() -> (Arc<Recorder>, Client) {
    let rec = Arc::new(Recorder::default());
    let client = Client::new(rec.clone(), "app", "key").with_master_key("mkey");
    (rec, client)
}

fn answer(rec: &Recorder, status: u16, body: Value) {
    rec.answers
        .lock()
        .unwrap()
        .push_back(Ok(Response::json(status, &body)));
}

fn last(rec: &Recorder) -> Request {
    rec.seen
        .lock()
        .unwrap()
        .last()
        .cloned()
        .expect("a request was sent")
}

fn body(req: &Request) -> Value {
    serde_json::from_slice(&req.body).unwrap()
}

#[test]
fn requests_carry_app_id_key_and_production_flag() {
    let (rec, client) = setup();
    block_on(client.get("Post", "p1")).unwrap();
    let req = last(&rec);
    assert_eq!(req.header("x-lc-id"), Some("app"));
    assert_eq!(req.header("x-lc-key"), Some("key"));
    assert_eq!(req.header("x-lc-prod"), Some("1"));
    assert_eq!(req.header("x-lc-session"), None);
    assert_eq!(req.header("x-lc-hook-key"), None);
    assert_eq!(req.header("x-lc-sign"), None);
}

#[test]
fn master_client_sends_the_master_suffix_and_as_app_reverts() {
    let (rec, client) = setup();
    block_on(client.as_master().get("Post", "p1")).unwrap();
    assert_eq!(last(&rec).header("x-lc-key"), Some("mkey,master"));
    block_on(client.as_master().as_app().get("Post", "p1")).unwrap();
    assert_eq!(last(&rec).header("x-lc-key"), Some("key"));
}

#[test]
fn a_client_speaks_as_each_caller_with_the_keys_the_caller_sends() {
    let (rec, client) = setup();
    let keys = Keys {
        app_id: "app",
        app_key: "key",
        master_key: "mkey",
    };
    let user = client.as_caller(&Caller::User("tok".into()));
    for caller in [
        Caller::Anonymous,
        Caller::User("tok".into()),
        Caller::Master,
    ] {
        block_on(user.as_caller(&caller).get("Post", "p1")).unwrap();
        let sent = last(&rec);
        for (name, value) in caller.headers(&keys) {
            assert_eq!(sent.header(name), Some(value.as_str()), "{caller:?}");
        }
        let session = caller.user().map(String::as_str);
        assert_eq!(sent.header("x-lc-session"), session, "{caller:?}");
    }
}

#[test]
#[should_panic(expected = "Caller::Nobody")]
fn a_client_cannot_speak_as_nobody() {
    let (_, client) = setup();
    let _ = client.as_caller(&Caller::Nobody);
}

#[test]
#[should_panic(expected = "with_master_key")]
fn as_master_without_a_master_key_says_how_to_fix_it() {
    let client = Client::new(Arc::new(Recorder::default()), "app", "key");
    let _ = client.as_master();
}

#[test]
fn sign_mode_sends_a_signature_the_server_can_verify() {
    let (rec, client) = setup();
    let client = client.signed();
    block_on(client.get("Post", "p1")).unwrap();
    let req = last(&rec);
    assert_eq!(req.header("x-lc-key"), None);
    let sign = req.header("x-lc-sign").unwrap();
    assert_eq!(
        crate::sign::verify(sign, "key", "mkey"),
        Some(crate::sign::Privilege::App)
    );
    block_on(client.as_master().get("Post", "p1")).unwrap();
    let sign = last(&rec).header("x-lc-sign").unwrap().to_string();
    assert!(sign.ends_with(",master"));
    assert_eq!(
        crate::sign::verify(&sign, "key", "mkey"),
        Some(crate::sign::Privilege::Master)
    );
}

#[test]
fn session_hook_key_and_staging_are_sent() {
    let (rec, client) = setup();
    let client = client
        .with_session("tok")
        .with_hook_key("hk")
        .with_production(false);
    block_on(client.me()).unwrap();
    let req = last(&rec);
    assert_eq!(req.header("x-lc-session"), Some("tok"));
    assert_eq!(req.header("x-lc-hook-key"), Some("hk"));
    assert_eq!(req.header("x-lc-prod"), Some("0"));
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("GET", "/1.1/users/me")
    );
    block_on(client.without_session().me()).unwrap();
    assert_eq!(last(&rec).header("x-lc-session"), None);
}

#[test]
fn with_session_of_takes_the_token_from_a_user() {
    let (rec, client) = setup();
    let client = client.with_session_of(&json!({"objectId":"u","sessionToken":"t1"}));
    block_on(client.me()).unwrap();
    assert_eq!(last(&rec).header("x-lc-session"), Some("t1"));
}

#[test]
fn raw_requests_keep_their_own_credentials() {
    let (rec, client) = setup();
    let req = Request::new("GET", "/1.1/date").with_header("x-lc-key", "wrong");
    let resp = block_on(client.signed().request(req)).unwrap();
    assert_eq!(resp.status, 200);
    let sent = last(&rec);
    assert_eq!(sent.header("x-lc-key"), Some("wrong"));
    assert_eq!(sent.header("x-lc-sign"), None);
    assert_eq!(sent.header("x-lc-id"), Some("app"));
}

#[test]
fn create_posts_a_json_body() {
    let (rec, client) = setup();
    answer(
        &rec,
        201,
        json!({"objectId":"p1","createdAt":"2019-09-19T04:45:49.090Z"}),
    );
    let got = block_on(client.create("Post", &json!({"title":"t"}))).unwrap();
    assert_eq!(got["objectId"], "p1");
    let req = last(&rec);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/1.1/classes/Post")
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(body(&req), json!({"title":"t"}));
    assert!(req.query.is_empty());
}

#[test]
fn create_with_fetch_when_save_asks_for_the_whole_object() {
    let (rec, client) = setup();
    block_on(client.create_with("Post", &json!({}), true)).unwrap();
    assert_eq!(last(&rec).query_param("fetchWhenSave"), Some("true"));
}

#[test]
fn get_with_passes_its_params() {
    let (rec, client) = setup();
    block_on(client.get_with("Post", "p1", &[("keys", "a,b"), ("include", "author")])).unwrap();
    let req = last(&rec);
    assert_eq!(req.path, "/1.1/classes/Post/p1");
    assert_eq!(
        req.target(),
        "/1.1/classes/Post/p1?keys=a%2Cb&include=author"
    );
}

#[test]
fn update_where_sends_the_condition_as_a_json_string() {
    let (rec, client) = setup();
    let cond = json!({"score": {"$gt": 1}});
    block_on(client.update_where("Post", "p1", &json!({"a":1}), &cond)).unwrap();
    let req = last(&rec);
    assert_eq!(req.method, "PUT");
    assert_eq!(
        serde_json::from_str::<Value>(req.query_param("where").unwrap()).unwrap(),
        cond
    );
    assert_eq!(body(&req), json!({"a":1}));
}

#[test]
fn update_and_delete_use_the_object_path() {
    let (rec, client) = setup();
    block_on(client.update("Post", "p1", &json!({"a":1}))).unwrap();
    assert_eq!(last(&rec).method, "PUT");
    block_on(client.delete("Post", "p1")).unwrap();
    let req = last(&rec);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("DELETE", "/1.1/classes/Post/p1")
    );
    assert!(req.body.is_empty());
}

#[test]
fn path_segments_are_percent_encoded() {
    let (rec, client) = setup();
    block_on(client.get("Po st", "a/b?c")).unwrap();
    assert_eq!(last(&rec).path, "/1.1/classes/Po%20st/a%2Fb%3Fc");
}

#[test]
fn error_answers_become_errors_with_their_status() {
    let (rec, client) = setup();
    answer(
        &rec,
        404,
        json!({"code":101,"error":"Class or object doesn't exists."}),
    );
    let err = block_on(client.get("Nope", "x")).unwrap_err();
    assert_eq!(err, LcError::class_or_object_not_found());
}

#[test]
fn non_json_error_bodies_keep_status_and_text() {
    let (rec, client) = setup();
    rec.answers.lock().unwrap().push_back(Ok(Response {
        status: 502,
        headers: vec![],
        body: b"<html>Bad Gateway</html>".to_vec(),
    }));
    let err = block_on(client.get("Post", "p1")).unwrap_err();
    assert_eq!(
        err,
        LcError::unexpected_response(502, b"<html>Bad Gateway</html>")
    );
    assert_eq!(err.code, code::OTHER_CAUSE);
    assert!(err.message.contains("<html>Bad Gateway</html>"));
}

#[test]
fn json_error_bodies_without_a_code_are_unexpected() {
    let (rec, client) = setup();
    answer(&rec, 500, json!({"message":"boom"}));
    let err = block_on(client.get("Post", "p1")).unwrap_err();
    assert_eq!((err.status, err.code), (500, code::OTHER_CAUSE));
}

#[test]
fn transport_failures_pass_through() {
    let (rec, client) = setup();
    rec.answers
        .lock()
        .unwrap()
        .push_back(Err(LcError::connection_failed("refused")));
    let err = block_on(client.get("Post", "p1")).unwrap_err();
    assert_eq!(err, LcError::connection_failed("refused"));
}

#[test]
fn query_sends_every_parameter_and_returns_results() {
    let (rec, client) = setup();
    answer(
        &rec,
        200,
        json!({"results":[{"objectId":"a"},{"objectId":"b"}]}),
    );
    let found = block_on(
        client
            .query("Post")
            .where_eq("title", "t")
            .order("-createdAt,name")
            .limit(5)
            .skip(10)
            .keys("title")
            .include("author")
            .include("post.author")
            .param("returnACL", "true")
            .find(),
    )
    .unwrap();
    assert_eq!(
        found,
        vec![json!({"objectId":"a"}), json!({"objectId":"b"})]
    );
    let req = last(&rec);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("GET", "/1.1/classes/Post")
    );
    let q: Vec<(&str, &str)> = req
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        q,
        vec![
            ("where", r#"{"title":"t"}"#),
            ("order", "-createdAt,name"),
            ("limit", "5"),
            ("skip", "10"),
            ("keys", "title"),
            ("include", "author,post.author"),
            ("returnACL", "true"),
        ]
    );
}

#[test]
fn an_empty_query_still_sends_where() {
    let (rec, client) = setup();
    answer(&rec, 200, json!({"results":[]}));
    assert_eq!(
        block_on(client.query("Post").find()).unwrap(),
        Vec::<Value>::new()
    );
    assert_eq!(
        last(&rec).query,
        vec![("where".to_string(), "{}".to_string())]
    );
}

#[test]
fn operator_constraints_on_one_key_merge() {
    let (_, client) = setup();
    let q = client
        .query("Post")
        .where_op("n", "$gt", json!(1))
        .where_value("n", json!({"$lt": 5}))
        .where_eq("t", "x")
        .where_value("t", json!({"$ne": "y"}));
    assert_eq!(
        q.where_json(),
        json!({"n":{"$gt":1,"$lt":5},"t":{"$ne":"y"}})
    );
}

#[test]
fn count_asks_for_no_rows_and_reads_count() {
    let (rec, client) = setup();
    answer(&rec, 200, json!({"results":[],"count":7}));
    let n = block_on(client.query("Post").limit(3).where_eq("a", 1).count()).unwrap();
    assert_eq!(n, 7);
    let req = last(&rec);
    assert_eq!(req.query_param("limit"), Some("0"));
    assert_eq!(req.query_param("count"), Some("1"));
    assert_eq!(req.query.iter().filter(|(k, _)| k == "limit").count(), 1);
    assert_eq!(req.query_param("where"), Some(r#"{"a":1}"#));
}

#[test]
fn first_asks_for_one_row() {
    let (rec, client) = setup();
    answer(&rec, 200, json!({"results":[{"objectId":"a"}]}));
    let got = block_on(client.query("Post").first()).unwrap();
    assert_eq!(got, Some(json!({"objectId":"a"})));
    assert_eq!(last(&rec).query_param("limit"), Some("1"));
    answer(&rec, 200, json!({"results":[]}));
    assert_eq!(block_on(client.query("Post").first()).unwrap(), None);
}

#[test]
fn a_query_answer_without_results_is_an_error() {
    let (rec, client) = setup();
    answer(&rec, 200, json!({"nothing":1}));
    assert_eq!(
        block_on(client.query("Post").find()).unwrap_err().code,
        code::OTHER_CAUSE
    );
    answer(&rec, 200, json!({"results":[]}));
    assert_eq!(
        block_on(client.query("Post").count()).unwrap_err().code,
        code::OTHER_CAUSE
    );
}

#[test]
fn batch_sends_requests_and_splits_item_results() {
    let (rec, client) = setup();
    answer(
        &rec,
        200,
        json!([
            {"success":{"objectId":"a"}},
            {"error":{"code":1,"error":"Could not find object by id 'x' for class 'Post'."}},
            {"success":{}},
            {"odd":true},
        ]),
    );
    let results = block_on(client.batch(vec![
            BatchRequest::create("Post", json!({"n":1})),
            BatchRequest::update("Post", "x", json!({"n":2}))
                .with_params(json!({"fetchWhenSave":true})),
            BatchRequest::delete("Post", "y"),
            BatchRequest::get("Post", "z"),
        ]))
    .unwrap();
    assert_eq!(results[0], Ok(json!({"objectId":"a"})));
    let err = results[1].clone().unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (1, "Could not find object by id 'x' for class 'Post'.")
    );
    assert_eq!(err.status, 200);
    assert_eq!(results[2], Ok(json!({})));
    assert_eq!(results[3].clone().unwrap_err().code, code::OTHER_CAUSE);
    let req = last(&rec);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/1.1/batch")
    );
    assert_eq!(
        body(&req),
        json!({"requests":[
            {"method":"POST","path":"/1.1/classes/Post","body":{"n":1}},
            {"method":"PUT","path":"/1.1/classes/Post/x","body":{"n":2},"params":{"fetchWhenSave":true}},
            {"method":"DELETE","path":"/1.1/classes/Post/y"},
            {"method":"GET","path":"/1.1/classes/Post/z"},
        ]})
    );
}

#[test]
fn a_batch_answer_that_is_not_an_array_is_an_error() {
    let (rec, client) = setup();
    answer(&rec, 200, json!({"results":[]}));
    assert_eq!(
        block_on(client.batch(vec![])).unwrap_err().code,
        code::OTHER_CAUSE
    );
}

#[test]
fn functions_return_their_result() {
    let (rec, client) = setup();
    answer(&rec, 200, json!({"result":{"n":3}}));
    let got = block_on(client.call_function("add", &json!({"a":1}))).unwrap();
    assert_eq!(got, json!({"n":3}));
    let req = last(&rec);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/1.1/functions/add")
    );
    assert_eq!(body(&req), json!({"a":1}));
    answer(
        &rec,
        200,
        json!({"result":{"__type":"Date","iso":"2019-09-19T04:45:49.090Z"}}),
    );
    let got = block_on(client.rpc("when", &json!({}))).unwrap();
    assert_eq!(got["__type"], "Date");
    assert_eq!(last(&rec).path, "/1.1/call/when");
}

#[test]
fn function_errors_keep_the_engine_status() {
    let (rec, client) = setup();
    answer(
        &rec,
        404,
        json!({"code":1,"error":"No such cloud function 'nope'"}),
    );
    let err = block_on(client.call_function("nope", &json!({}))).unwrap_err();
    assert_eq!(
        err,
        LcError::new(404, code::GENERIC, "No such cloud function 'nope'")
    );
}

#[test]
fn sign_up_merges_extra_fields_and_log_in_posts_credentials() {
    let (rec, client) = setup();
    block_on(client.sign_up("u", "p", &json!({"email":"u@x.io"}))).unwrap();
    let req = last(&rec);
    assert_eq!(req.path, "/1.1/users");
    assert_eq!(
        body(&req),
        json!({"username":"u","password":"p","email":"u@x.io"})
    );
    block_on(client.sign_up("u", "p", &Value::Null)).unwrap();
    assert_eq!(body(&last(&rec)), json!({"username":"u","password":"p"}));
    block_on(client.log_in("u", "p")).unwrap();
    let req = last(&rec);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/1.1/login")
    );
    assert_eq!(body(&req), json!({"username":"u","password":"p"}));
}

#[test]
fn sign_up_with_non_object_extra_fails_without_sending() {
    let (rec, client) = setup();
    let err = block_on(client.sign_up("u", "p", &json!([1]))).unwrap_err();
    assert_eq!(err, LcError::invalid_json());
    assert!(rec.seen.lock().unwrap().is_empty());
}

#[test]
fn server_date_gets_the_date_route() {
    let (rec, client) = setup();
    answer(
        &rec,
        200,
        json!({"__type":"Date","iso":"2019-09-19T04:45:49.090Z"}),
    );
    let got = block_on(client.server_date()).unwrap();
    assert_eq!(got["iso"], "2019-09-19T04:45:49.090Z");
    assert_eq!(last(&rec).path, "/1.1/date");
}
