//! The access matrix: class permissions x object ACLs x principals x operations, each
//! case against a fresh app, compared with a table written from the protocol notes
//! ([`expected`]). Every case runs in-process through `Api::handle`; a spread sample of
//! them runs again over HTTP against the standalone server, to show the fronts agree.
//!
//! The world of every case: users `owner`, `stranger`, `member`, `inheritor`; role
//! `Editors` (users: member; roles: Chiefs) and role `Chiefs` (users: inheritor); one
//! `Doc` row (`title: "original"`) with the case's ACL; for includes, a public `Holder`
//! row whose `ref` points at the Doc. The class permission under test is set on `Doc`
//! for the case's operation only.

mod expected;

use crate::support::keys;
use expected::{AclShape, Case, ClassPerm, Op, Outcome, Persona};
use lc_model::access::ClassPermissions;
use leancloud::value::pointer;
use leancloud::{Caller, Request};
use mock_server::api::{Api, AppConfig};
use mock_server::http::standalone::Standalone;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How many cases (at least) also run over HTTP, spread evenly over the operations.
const HTTP_SAMPLE: usize = 30;

/// Where requests go: `Api::handle` directly, or the standalone server over HTTP.
enum Front {
    InProcess(Box<Api>),
    Http {
        server: Standalone,
        http: reqwest::Client,
    },
}

impl Front {
    fn in_process() -> Front {
        Front::InProcess(Box::new(Api::new(AppConfig::default())))
    }

    async fn http() -> Front {
        let api = Arc::new(Api::new(AppConfig::default()));
        let server = Standalone::start("127.0.0.1:0".parse().unwrap(), api)
            .await
            .expect("the standalone server starts");
        Front::Http {
            server,
            http: reqwest::Client::new(),
        }
    }

    fn api(&self) -> &Api {
        match self {
            Front::InProcess(api) => api,
            Front::Http { server, .. } => &server.api,
        }
    }

    async fn send(
        &self,
        caller: &Caller,
        method: &str,
        target: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let cfg = self.api().config().clone();
        match self {
            Front::InProcess(api) => {
                let mut req = caller.sign(Request::from_target(method, target), &keys(&cfg));
                if let Some(body) = body {
                    req = req.with_json(body);
                }
                let resp = api.handle(&req);
                let body = resp.body_json().unwrap_or_else(|e| {
                    panic!("{method} {target}: the answer is not JSON ({e:?})")
                });
                (resp.status, body)
            }
            Front::Http { server, http } => {
                let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
                let mut req = http.request(method.clone(), format!("{}{target}", server.uri()));
                for (name, value) in caller.headers(&keys(&cfg)) {
                    req = req.header(name, value);
                }
                if let Some(body) = body {
                    req = req
                        .header("content-type", "application/json")
                        .body(body.to_string());
                }
                let resp = req.send().await.expect("the standalone server answers");
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap();
                let body = serde_json::from_str(&text).unwrap_or_else(|e| {
                    panic!("{method} {target}: the answer is not JSON ({e}): {text}")
                });
                (status, body)
            }
        }
    }

    /// A master-key request that must succeed.
    async fn master(&self, method: &str, target: &str, body: Option<&Value>) -> Value {
        let (status, answer) = self.send(&Caller::Master, method, target, body).await;
        assert!(
            status < 300,
            "setup: {method} {target} with the master key: {status} {answer}"
        );
        answer
    }
}

struct User {
    id: String,
    token: String,
}

/// The users, roles and rows of one case.
struct World {
    owner: User,
    stranger: User,
    member: User,
    inheritor: User,
    editors_id: String,
    doc_id: String,
    holder_id: Option<String>,
}

fn id_of(body: &Value) -> String {
    body["objectId"]
        .as_str()
        .unwrap_or_else(|| panic!("no objectId in {body}"))
        .to_string()
}

/// A user and their session token, through sign-up as a client does it.
async fn sign_up(front: &Front, name: &str) -> User {
    let body = json!({"username": name, "password": format!("pw-{name}")});
    let (status, user) = front
        .send(&Caller::Anonymous, "POST", "/1.1/users", Some(&body))
        .await;
    assert_eq!(status, 201, "setup: sign-up of {name}: {user}");
    let token = user["sessionToken"]
        .as_str()
        .unwrap_or_else(|| panic!("setup: sign-up of {name} gave no sessionToken: {user}"));
    User {
        id: id_of(&user),
        token: token.to_string(),
    }
}

/// A role with a public-read ACL (a role needs one, §1.8), and its members.
async fn role(front: &Front, name: &str, users: &[&str], roles: &[&str]) -> String {
    let mut body = json!({"name": name, "ACL": {"*": {"read": true}}});
    if !users.is_empty() {
        let objects: Vec<Value> = users.iter().map(|id| pointer("_User", id)).collect();
        body["users"] = json!({"__op": "AddRelation", "objects": objects});
    }
    if !roles.is_empty() {
        let objects: Vec<Value> = roles.iter().map(|id| pointer("_Role", id)).collect();
        body["roles"] = json!({"__op": "AddRelation", "objects": objects});
    }
    id_of(&front.master("POST", "/1.1/roles", Some(&body)).await)
}

fn acl_json(acl: AclShape, owner: &str) -> Value {
    let rw = json!({"read": true, "write": true});
    match acl {
        AclShape::PublicReadWrite => json!({"*": rw}),
        AclShape::PublicReadOnly => json!({"*": {"read": true}}),
        AclShape::OwnerOnly => json!({owner: rw}),
        AclShape::EditorsOnly => json!({"role:Editors": rw}),
        AclShape::ChiefsOnly => json!({"role:Chiefs": rw}),
        AclShape::Nobody => json!({}),
    }
}

fn perm_json(perm: ClassPerm, w: &World) -> Value {
    match perm {
        ClassPerm::Everyone => json!({"*": true}),
        ClassPerm::SignedIn => json!({"onlySignInUsers": true}),
        ClassPerm::OwnerById => json!({"users": [w.owner.id], "roles": []}),
        ClassPerm::OwnerByName => json!({"users": ["owner"], "roles": []}),
        ClassPerm::RoleByName => json!({"users": [], "roles": ["Editors"]}),
        ClassPerm::RoleById => json!({"users": [], "roles": [w.editors_id]}),
        ClassPerm::InheritingRole => json!({"users": [], "roles": ["Chiefs"]}),
        ClassPerm::Nobody => json!({"users": [], "roles": []}),
    }
}

async fn build_world(front: &Front, case: &Case) -> World {
    let owner = sign_up(front, "owner").await;
    let stranger = sign_up(front, "stranger").await;
    let member = sign_up(front, "member").await;
    let inheritor = sign_up(front, "inheritor").await;
    let chiefs = role(front, "Chiefs", &[&inheritor.id], &[]).await;
    let editors_id = role(front, "Editors", &[&member.id], &[&chiefs]).await;
    // Create and add_fields cases write next to a public row that fixes the columns;
    // the ACL under test is the one the create sends.
    let seed_acl = match case.op {
        Op::Create | Op::AddFieldsOnCreate | Op::AddFieldsOnUpdate => AclShape::PublicReadWrite,
        _ => case.acl,
    };
    let doc = json!({"title": "original", "ACL": acl_json(seed_acl, &owner.id)});
    let doc_id = id_of(&front.master("POST", "/1.1/classes/Doc", Some(&doc)).await);
    let holder_id = match case.op {
        Op::IncludeOnGet | Op::IncludeOnFind => {
            let holder = json!({"ref": pointer("Doc", &doc_id), "ACL": {"*": {"read": true}}});
            let created = front
                .master("POST", "/1.1/classes/Holder", Some(&holder))
                .await;
            Some(id_of(&created))
        }
        _ => None,
    };
    let world = World {
        owner,
        stranger,
        member,
        inheritor,
        editors_id,
        doc_id,
        holder_id,
    };
    if let Some(op) = case.op.class_op() {
        let perms = json!({op: perm_json(case.perm, &world)});
        front.api().store().class_mut("Doc").settings.permissions =
            ClassPermissions::from_json(&perms).expect("valid class permissions");
    }
    world
}

fn caller(who: Persona, w: &World) -> Caller {
    let session = |u: &User| Caller::User(u.token.clone());
    match who {
        Persona::Anonymous => Caller::Anonymous,
        Persona::Stranger => session(&w.stranger),
        Persona::Owner => session(&w.owner),
        Persona::Member => session(&w.member),
        Persona::Inheritor => session(&w.inheritor),
        Persona::Master => Caller::Master,
        Persona::UnknownToken => Caller::User("0000000000notissuedbyapp0".into()),
    }
}

/// An error answer as an outcome; anything else as `Other`.
fn as_error(status: u16, body: &Value) -> Outcome {
    match (body["code"].as_i64(), body["error"].as_str()) {
        (Some(code), Some(error)) if status >= 400 => Outcome::Denied {
            status,
            code,
            error: error.to_string(),
        },
        _ => Outcome::Other(format!("unexpected answer {status} {body}")),
    }
}

/// A denial must leave the data as it was; `unchanged` says whether it did.
fn denied_without_effect(status: u16, body: &Value, unchanged: bool, what: &str) -> Outcome {
    match as_error(status, body) {
        denied @ Outcome::Denied { .. } if !unchanged => {
            Outcome::Other(format!("{denied}, but {what}"))
        }
        other => other,
    }
}

/// An included `ref`: expanded (fields, still typed as a pointer) or a bare pointer.
fn included(r: &Value, doc_id: &str) -> Outcome {
    if *r == pointer("Doc", doc_id) {
        return Outcome::Expanded(false);
    }
    if r["__type"] == "Pointer"
        && r["className"] == "Doc"
        && r["objectId"] == doc_id
        && r["title"] == "original"
    {
        return Outcome::Expanded(true);
    }
    Outcome::Other(format!("ref is neither expanded nor a bare pointer: {r}"))
}

/// Run one case on a fresh app of `front` and say what came of it.
async fn run(front: &Front, case: &Case) -> Outcome {
    let w = build_world(front, case).await;
    let who = caller(case.who, &w);
    let doc_path = format!("/1.1/classes/Doc/{}", w.doc_id);
    let stored = || async { front.master("GET", &doc_path, None).await };
    let doc_count = || async {
        front
            .master("GET", "/1.1/classes/Doc?count=1&limit=0", None)
            .await["count"]
            .as_u64()
    };
    match case.op {
        Op::Get => {
            let (s, b) = front.send(&who, "GET", &doc_path, None).await;
            if s == 200 && b["objectId"] == w.doc_id.as_str() && b["title"] == "original" {
                Outcome::Allowed
            } else {
                as_error(s, &b)
            }
        }
        Op::Find => {
            let (s, b) = front
                .send(&who, "GET", "/1.1/classes/Doc?count=1", None)
                .await;
            if s != 200 {
                return as_error(s, &b);
            }
            let Some(rows) = b["results"].as_array() else {
                return Outcome::Other(format!("no results: {b}"));
            };
            let listed = rows.iter().any(|r| r["objectId"] == w.doc_id.as_str());
            if b["count"].as_u64() != Some(rows.len() as u64) || rows.len() > 1 {
                return Outcome::Other(format!("{} rows but count {}", rows.len(), b["count"]));
            }
            Outcome::Listed(listed)
        }
        Op::Create | Op::AddFieldsOnCreate => {
            let mut body = json!({"title": "new", "ACL": acl_json(case.acl, &w.owner.id)});
            if case.op == Op::AddFieldsOnCreate {
                body["extra"] = json!(1);
            }
            let (s, b) = front
                .send(&who, "POST", "/1.1/classes/Doc", Some(&body))
                .await;
            if s == 201 {
                let Some(id) = b["objectId"].as_str() else {
                    return Outcome::Other(format!("201 without objectId: {b}"));
                };
                let saved = front
                    .master("GET", &format!("/1.1/classes/Doc/{id}"), None)
                    .await;
                let want_extra = if case.op == Op::AddFieldsOnCreate {
                    json!(1)
                } else {
                    Value::Null
                };
                if saved["title"] == "new" && saved["extra"] == want_extra {
                    Outcome::Allowed
                } else {
                    Outcome::Other(format!("201, but stored {saved}"))
                }
            } else {
                let unchanged = doc_count().await == Some(1);
                denied_without_effect(s, &b, unchanged, "a row was created")
            }
        }
        Op::Update | Op::AddFieldsOnUpdate => {
            let (key, value) = match case.op {
                Op::Update => ("title", json!("changed")),
                _ => ("extra", json!(1)),
            };
            let body = json!({key: value});
            let (s, b) = front.send(&who, "PUT", &doc_path, Some(&body)).await;
            let after = stored().await;
            if s == 200 && b["objectId"] == w.doc_id.as_str() {
                if after[key] == value {
                    Outcome::Allowed
                } else {
                    Outcome::Other(format!("200, but stored {after}"))
                }
            } else {
                let unchanged = after["title"] == "original" && after.get("extra").is_none();
                denied_without_effect(s, &b, unchanged, &format!("stored {after}"))
            }
        }
        Op::Delete => {
            let (s, b) = front.send(&who, "DELETE", &doc_path, None).await;
            let after = stored().await;
            if s == 200 && b == json!({}) {
                if after == json!({}) {
                    Outcome::Allowed
                } else {
                    Outcome::Other(format!("200, but still stored: {after}"))
                }
            } else {
                let unchanged = after["title"] == "original";
                denied_without_effect(s, &b, unchanged, "the row is gone")
            }
        }
        Op::IncludeOnGet => {
            let holder = w.holder_id.as_deref().unwrap();
            let target = format!("/1.1/classes/Holder/{holder}?include=ref");
            let (s, b) = front.send(&who, "GET", &target, None).await;
            if s != 200 {
                return as_error(s, &b);
            }
            included(&b["ref"], &w.doc_id)
        }
        Op::IncludeOnFind => {
            let (s, b) = front
                .send(&who, "GET", "/1.1/classes/Holder?include=ref", None)
                .await;
            if s != 200 {
                return as_error(s, &b);
            }
            match b["results"].as_array().map(Vec::as_slice) {
                Some([row]) => included(&row["ref"], &w.doc_id),
                _ => Outcome::Other(format!("expected the one Holder row: {b}")),
            }
        }
    }
}

/// Every failing case in one message.
fn report(title: &str, failures: &[String]) {
    if !failures.is_empty() {
        panic!(
            "{title}: {} case(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

#[tokio::test]
async fn every_case_of_the_access_matrix_matches_the_protocol_notes() {
    let cases = expected::all_cases();
    assert!(cases.len() >= 300, "only {} cases", cases.len());
    let mut tally: BTreeMap<Op, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in &cases {
        let want = expected::expect(case);
        let entry = tally.entry(case.op).or_default();
        if want.is_allowed() {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
        let got = run(&Front::in_process(), case).await;
        if got != want {
            failures.push(format!("{case}: expected {want}, got {got}"));
        }
    }
    println!("access matrix: {} cases in-process", cases.len());
    println!(
        "  {:<18} {:>5} {:>8} {:>7}",
        "operation", "cases", "allowed", "denied"
    );
    for (op, (allowed, denied)) in &tally {
        let name = format!("{op:?}");
        let total = allowed + denied;
        println!("  {name:<18} {total:>5} {allowed:>8} {denied:>7}");
    }
    report("access matrix (in-process)", &failures);
}

#[tokio::test]
async fn a_sample_of_the_matrix_answers_the_same_over_http() {
    let cases = expected::all_cases();
    // The same number of cases from each operation, spread over its principals and shapes.
    let mut by_op: BTreeMap<Op, Vec<&Case>> = BTreeMap::new();
    for case in &cases {
        by_op.entry(case.op).or_default().push(case);
    }
    let per_op = HTTP_SAMPLE.div_ceil(by_op.len());
    let mut sample = Vec::new();
    for (g, group) in by_op.values().enumerate() {
        for j in 0..per_op {
            sample.push(group[(j * group.len() / per_op + 2 * j + g) % group.len()]);
        }
    }
    let mut failures = Vec::new();
    for case in &sample {
        let want = expected::expect(case);
        let over_http = run(&Front::http().await, case).await;
        let in_process = run(&Front::in_process(), case).await;
        if over_http != want || in_process != want {
            failures.push(format!(
                "{case}: expected {want}, got {over_http} over HTTP and {in_process} in-process"
            ));
        }
    }
    let ops: std::collections::BTreeSet<Op> = sample.iter().map(|c| c.op).collect();
    println!(
        "access matrix over HTTP: {} cases covering {} operations",
        sample.len(),
        ops.len()
    );
    report("access matrix (standalone over HTTP)", &failures);
}
