//! Access decisions, differential: random worlds (users, roles with inheritance, a
//! class's permissions per operation and default ACL, objects with random ACLs) are
//! loaded as database settings; random requests (get; find with count and a window over
//! the objects in objectId order; create with or without an ACL; update; delete; some
//! writes adding a column, so `add_fields` matters) are sent in-process, alone or as a
//! `/1.1/batch` item, by random principals (master key, anonymous, signed-in users). Each answer is compared with
//! [`generative::access::World`], the reference decision written from the protocol notes
//! (§4, §6): the status, code and whole message of a refusal, the objects a find shows
//! (unreadable ones left out before the window and the count), and afterwards what is
//! stored (nothing changes on a refusal; an object created without an ACL gets the
//! class's default ACL with `_owner` made the creator).
//!
//! Cases: 256 by default (`PROPTEST_CASES` to change), each with up to 11 requests.

use generative::access::{
    self, AccessCase, Action, Denial, Principal, arb_access_case, doc_id, extra_field, role_id,
    role_name, session_token, user_id, username,
};
use generative::check;
use lc_model::settings::{ClassFiles, ClassSpec};
use leancloud::Request;
use mock_server::api::{Api, AppConfig};
use mock_server::settings::Settings;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

fn spec(class: &str, files: ClassFiles) -> ClassSpec {
    ClassSpec::parse(class, &files).unwrap_or_else(|e| panic!("settings of {class}: {e}"))
}

fn relation(class: &str, ids: Vec<String>) -> Value {
    let objects: Vec<Value> = ids
        .iter()
        .map(|id| json!({"__type": "Pointer", "className": class, "objectId": id}))
        .collect();
    json!({"__op": "AddRelation", "objects": objects})
}

/// The case's world as database settings.
fn app(case: &AccessCase) -> Api {
    let users = (0..access::USERS)
        .map(|i| json!({"objectId": user_id(i), "username": username(i), "sessionToken": session_token(i)}))
        .collect();
    let roles = (0..access::ROLES)
        .map(|r| {
            let mut row =
                json!({"objectId": role_id(r), "name": role_name(r), "ACL": {"*": {"read": true}}});
            let members = &case.world.roles.users[r];
            if !members.is_empty() {
                row["users"] = relation("_User", members.iter().map(|&u| user_id(u)).collect());
            }
            let children = &case.world.roles.roles[r];
            if !children.is_empty() {
                row["roles"] = relation("_Role", children.iter().map(|&c| role_id(c)).collect());
            }
            row
        })
        .collect();
    let docs = case
        .objects
        .iter()
        .enumerate()
        .map(|(i, acl)| json!({"objectId": doc_id(i), "title": format!("t{i}"), "ACL": acl.to_json()}))
        .collect();
    let settings = Settings {
        classes: vec![
            spec(
                "_Role",
                ClassFiles {
                    population: Some(Value::Array(roles)),
                    ..ClassFiles::default()
                },
            ),
            spec(
                "_User",
                ClassFiles {
                    population: Some(Value::Array(users)),
                    ..ClassFiles::default()
                },
            ),
            spec(
                access::CLASS,
                ClassFiles {
                    schema: Some(json!({"columns": {"title": {"type": "String"}}})),
                    permissions: Some(case.world.perms.to_json(case.default_acl.as_ref())),
                    population: Some(Value::Array(docs)),
                    ..ClassFiles::default()
                },
            ),
        ],
        ..Settings::default()
    };
    Api::with_settings(AppConfig::default(), &settings).expect("the world loads")
}

fn send(
    api: &Api,
    who: Principal,
    method: &str,
    target: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let cfg = api.config();
    let key = match who {
        Principal::Master => format!("{},master", cfg.master_key),
        _ => cfg.app_key.clone(),
    };
    let mut req = Request::from_target(method, target)
        .with_header("x-lc-id", &cfg.app_id)
        .with_header("x-lc-key", key);
    if let Principal::User(u) = who {
        req = req.with_header("x-lc-session", session_token(u));
    }
    if let Some(body) = body {
        req = req.with_json(body);
    }
    let resp = api.handle(&req);
    (
        resp.status,
        resp.body_json().expect("the emulator answers JSON"),
    )
}

/// The same request as the one item of a `/1.1/batch` (notes §1.4), with the caller's
/// keys. An item has no status of its own: a `success` is read as the status the single
/// request answers (201 for a create, else 200), an `error` as 403 for code 403, else
/// 400.
fn send_in_batch(
    api: &Api,
    who: Principal,
    method: &str,
    target: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let params: Map<String, Value> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let mut item = json!({"method": method, "path": path});
    if let Some(body) = body {
        item["body"] = body.clone();
    }
    if !params.is_empty() {
        item["params"] = Value::Object(params);
    }
    let (status, answer) = send(
        api,
        who,
        "POST",
        "/1.1/batch",
        Some(&json!({"requests": [item]})),
    );
    if status != 200 {
        return (status, answer);
    }
    match &answer[0] {
        Value::Object(m) if m.contains_key("success") => {
            let status = if method == "POST" { 201 } else { 200 };
            (status, m["success"].clone())
        }
        Value::Object(m) if m.contains_key("error") => {
            let error = m["error"].clone();
            let status = if error["code"] == json!(403) {
                403
            } else {
                400
            };
            (status, error)
        }
        other => (500, json!({"unexpected batch answer": other})),
    }
}

/// An object as the reference knows it.
#[derive(Debug, Clone, PartialEq)]
struct Doc {
    title: String,
    acl: Value,
}

/// Objects by id, and the columns the class has.
#[derive(Debug, Default)]
struct State {
    docs: BTreeMap<String, Doc>,
    columns: BTreeSet<String>,
    writes: usize,
}

impl State {
    fn pick(&self, i: &prop::sample::Index) -> Option<(String, Doc)> {
        if self.docs.is_empty() {
            return None;
        }
        self.docs
            .iter()
            .nth(i.index(self.docs.len()))
            .map(|(id, d)| (id.clone(), d.clone()))
    }

    /// The extra field a write names, and whether the class lacks it so far.
    fn extra(&self, e: Option<usize>) -> (Option<String>, bool) {
        let field = e.map(extra_field);
        let adds = field.as_ref().is_some_and(|f| !self.columns.contains(f));
        (field, adds)
    }
}

/// The answer must be the refusal, or one of the refusals, the reference allows.
fn refused(what: &str, denials: &[Denial], status: u16, body: &Value) -> Result<(), TestCaseError> {
    let allowed: Vec<(u16, Value)> = denials.iter().map(|d| d.answer()).collect();
    prop_assert!(
        allowed.contains(&(status, body.clone())),
        "{}: expected one of {:?}, got {} {}",
        what,
        allowed,
        status,
        body
    );
    Ok(())
}

/// What the store holds of the class, as the reference would hold it.
fn stored(api: &Api) -> BTreeMap<String, Doc> {
    let store = api.store();
    let Some(class) = store.class(access::CLASS) else {
        return BTreeMap::new();
    };
    class
        .objects
        .values()
        .map(|o| {
            let doc = Doc {
                title: o
                    .field("title")
                    .as_ref()
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string(),
                acl: o.field("ACL").unwrap_or(Value::Null),
            };
            (o.id.to_string(), doc)
        })
        .collect()
}

fn run(case: &AccessCase) -> Result<(), TestCaseError> {
    let api = app(case);
    let world = &case.world;
    let mut state = State {
        columns: ["title".to_string()].into(),
        ..State::default()
    };
    for (i, acl) in case.objects.iter().enumerate() {
        let doc = Doc {
            title: format!("t{i}"),
            acl: acl.to_json(),
        };
        state.docs.insert(doc_id(i), doc);
    }
    let path = format!("/1.1/classes/{}", access::CLASS);
    for (action, batch) in &case.actions {
        let what = format!("{action:?}{}", if *batch { " in a batch" } else { "" });
        let send = |api: &Api, who, method: &str, target: &str, body: Option<&Value>| match batch {
            true => send_in_batch(api, who, method, target, body),
            false => send(api, who, method, target, body),
        };
        match action {
            Action::Get(who, i) => {
                let Some((id, doc)) = state.pick(i) else {
                    continue;
                };
                let (status, body) = send(&api, *who, "GET", &format!("{path}/{id}"), None);
                match world.get(*who, &doc.acl) {
                    Ok(()) => {
                        prop_assert_eq!(status, 200, "{} -> {}", what, body);
                        prop_assert_eq!(&body["objectId"], &json!(id), "{}", what);
                        prop_assert_eq!(&body["title"], &json!(doc.title), "{}", what);
                    }
                    Err(d) => refused(&what, &d, status, &body)?,
                }
            }
            Action::Find {
                who,
                count,
                limit,
                skip,
            } => {
                let mut target = format!("{path}?order=objectId");
                if *count {
                    target.push_str("&count=1");
                }
                if let Some(n) = limit {
                    target.push_str(&format!("&limit={n}"));
                }
                if let Some(n) = skip {
                    target.push_str(&format!("&skip={n}"));
                }
                let (status, body) = send(&api, *who, "GET", &target, None);
                match world.find(*who) {
                    Ok(()) => {
                        prop_assert_eq!(status, 200, "{} -> {}", what, body);
                        let got: Vec<&str> = body["results"]
                            .as_array()
                            .map(|rs| rs.iter().filter_map(|r| r["objectId"].as_str()).collect())
                            .unwrap_or_default();
                        // Unreadable objects are left out before the window and the count.
                        let readable: Vec<&str> = state
                            .docs
                            .iter()
                            .filter(|(_, d)| world.acl_allows(&d.acl, *who, "read"))
                            .map(|(id, _)| id.as_str())
                            .collect();
                        let want: Vec<&str> = readable
                            .iter()
                            .copied()
                            .skip(skip.unwrap_or(0))
                            .take(limit.unwrap_or(100))
                            .collect();
                        prop_assert_eq!(&got, &want, "{}", what);
                        if *count {
                            prop_assert_eq!(&body["count"], &json!(readable.len()), "{}", what);
                        }
                    }
                    Err(d) => refused(&what, &d, status, &body)?,
                }
            }
            Action::Create(who, acl, extra) => {
                let (field, adds) = state.extra(*extra);
                state.writes += 1;
                let title = format!("c{}", state.writes);
                let mut body = Map::new();
                body.insert("title".into(), json!(title));
                if let Some(f) = &field {
                    body.insert(f.clone(), json!(1));
                }
                if let Some(acl) = acl {
                    body.insert("ACL".into(), acl.to_json());
                }
                let (status, answer) = send(&api, *who, "POST", &path, Some(&Value::Object(body)));
                match world.create(*who, adds) {
                    Ok(()) => {
                        prop_assert_eq!(status, 201, "{} -> {}", what, answer);
                        let id = answer["objectId"].as_str().unwrap_or_default().to_string();
                        let acl = match (acl, &case.default_acl) {
                            (Some(acl), _) => acl.to_json(),
                            (None, Some(default)) => default.for_creator(*who),
                            (None, None) => json!({"*": {"read": true, "write": true}}),
                        };
                        state.docs.insert(id, Doc { title, acl });
                        state.columns.extend(field);
                    }
                    Err(d) => refused(&what, &d, status, &answer)?,
                }
            }
            Action::Update(who, i, extra) => {
                let Some((id, doc)) = state.pick(i) else {
                    continue;
                };
                let (field, adds) = state.extra(*extra);
                state.writes += 1;
                let title = format!("u{}", state.writes);
                let mut body = json!({"title": title});
                if let Some(f) = &field {
                    body[f] = json!(2);
                }
                let (status, answer) =
                    send(&api, *who, "PUT", &format!("{path}/{id}"), Some(&body));
                match world.update(*who, &doc.acl, adds) {
                    Ok(()) => {
                        prop_assert_eq!(status, 200, "{} -> {}", what, answer);
                        prop_assert_eq!(&answer["objectId"], &json!(id), "{}", what);
                        state.docs.insert(id, Doc { title, ..doc });
                        state.columns.extend(field);
                    }
                    Err(d) => refused(&what, &d, status, &answer)?,
                }
            }
            Action::Delete(who, i) => {
                let Some((id, doc)) = state.pick(i) else {
                    continue;
                };
                let (status, answer) = send(&api, *who, "DELETE", &format!("{path}/{id}"), None);
                match world.delete(*who, &doc.acl) {
                    Ok(()) => {
                        prop_assert_eq!((status, &answer), (200, &json!({})), "{}", what);
                        state.docs.remove(&id);
                    }
                    Err(d) => refused(&what, &d, status, &answer)?,
                }
            }
        }
        prop_assert_eq!(
            stored(&api),
            state.docs.clone(),
            "what is stored after {}",
            what
        );
    }
    Ok(())
}

#[test]
fn access_decisions_match_the_reference() {
    check("access_diff", 256, arb_access_case(), |case| run(&case));
}
