//! What a query may learn (issue 13, findings 6 and 7): a subquery reads its class as a
//! find by the same caller would, so a class closed to `find` cannot be counted through
//! `$inQuery` and its kin; and a column hidden from clients is absent wherever a client's
//! query names it, so its values cannot be read one `$regex` at a time.

use crate::support;
use lc_model::Column;
use leancloud::value::pointer;
use leancloud::{Caller, LcError, Request};
use mock_server::api::{Api, AppConfig};
use serde_json::{Value, json};

struct App(Api);

impl App {
    fn new() -> App {
        App(Api::new(AppConfig::default()))
    }

    fn send(
        &self,
        who: Caller<&str>,
        method: &str,
        target: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let req = Request::from_target(method, target);
        self.send_request(who, req, body)
    }

    fn send_request(&self, who: Caller<&str>, req: Request, body: Option<&Value>) -> (u16, Value) {
        support::request(&self.0, &who, req, body)
    }

    fn create(&self, who: Caller<&str>, class: &str, body: Value) -> String {
        let (status, created) =
            self.send(who, "POST", &format!("/1.1/classes/{class}"), Some(&body));
        assert_eq!(status, 201, "{created}");
        created["objectId"].as_str().unwrap().to_string()
    }

    /// `GET /1.1/classes/<class>` with `params`.
    fn find(&self, who: Caller<&str>, class: &str, params: &[(&str, String)]) -> (u16, Value) {
        let mut req = Request::from_target("GET", &format!("/1.1/classes/{class}"));
        for (k, v) in params {
            req = req.with_query(k, v.clone());
        }
        self.send_request(who, req, None)
    }

    /// How many rows of `class` match `where` for `who`; the error when refused.
    fn count(&self, who: Caller<&str>, class: &str, r#where: &Value) -> Result<u64, LcError> {
        let params = [
            ("where", r#where.to_string()),
            ("count", "1".into()),
            ("limit", "0".into()),
        ];
        match self.find(who, class, &params) {
            (200, body) => Ok(body["count"].as_u64().expect("a count")),
            (status, body) => Err(LcError::from_json(status, &body).expect("an error")),
        }
    }

    /// Everything stored, to compare before and after a refused request.
    fn dump(&self) -> String {
        let store = self.0.read_store();
        let mut rows: Vec<String> = store
            .classes
            .iter()
            .flat_map(|(c, d)| d.objects.values().map(move |o| format!("{c} {o:?}")))
            .collect();
        rows.sort();
        rows.join("\n")
    }
}

/// Users `alice@x.com` and `bob@y.com`, each owning a public Business.
fn app_with_users() -> (App, Vec<String>) {
    let app = App::new();
    let mut users = Vec::new();
    for (name, email) in [("alice", "alice@x.com"), ("bob", "bob@y.com")] {
        let id = app.create(
            Caller::Master,
            "_User",
            json!({"username": name, "password": "pw", "email": email}),
        );
        app.create(
            Caller::Anonymous,
            "Business",
            json!({"name": name, "owner": pointer("_User", &id), "ownerId": id}),
        );
        users.push(id);
    }
    (app, users)
}

fn forbidden_to_find() -> LcError {
    LcError::forbidden_by_class_permissions("find")
}

#[test]
fn every_subquery_over_a_class_closed_to_find_is_refused_as_a_find_of_it_is() {
    let (app, _) = app_with_users();
    let (status, body) = app.send(Caller::Anonymous, "GET", "/1.1/users", None);
    assert_eq!(LcError::from_json(status, &body), Some(forbidden_to_find()));

    let by_email = json!({"email": {"$regex": "^a"}});
    let users = json!({"className": "_User", "where": by_email});
    let select = json!({"query": users, "key": "objectId"});
    let probes = [
        json!({"owner": {"$inQuery": users}}),
        json!({"owner": {"$notInQuery": users}}),
        json!({"ownerId": {"$select": select}}),
        json!({"ownerId": {"$dontSelect": select}}),
        json!({"$or": [{"name": "nobody"}, {"owner": {"$inQuery": users}}]}),
        // A subquery inside a subquery on an open class.
        json!({"objectId": {"$select": {"key": "objectId", "query": {"className": "Business",
            "where": {"owner": {"$inQuery": users}}}}}}),
    ];
    for probe in &probes {
        assert_eq!(
            app.count(Caller::Anonymous, "Business", probe),
            Err(forbidden_to_find()),
            "{probe}"
        );
    }
    // The master key may: the probes count what they should.
    let counts: Vec<u64> = probes
        .iter()
        .map(|p| app.count(Caller::Master, "Business", p).unwrap())
        .collect();
    assert_eq!(counts, [1, 1, 1, 1, 1, 1]);

    // In a batch, and as the condition of a write, the same refusal; nothing changes.
    let before = app.dump();
    let batch = json!({"requests": [{"method": "GET", "path": "/1.1/classes/Business",
        "params": {"where": probes[0], "count": 1, "limit": 0}}]});
    let (_, body) = app.send(Caller::Anonymous, "POST", "/1.1/batch", Some(&batch));
    assert_eq!(body[0]["error"], forbidden_to_find().to_json(), "{body}");
    let (_, found) = app.find(
        Caller::Master,
        "Business",
        &[("where", json!({"name": "alice"}).to_string())],
    );
    let business = found["results"][0]["objectId"]
        .as_str()
        .unwrap()
        .to_string();
    let req = Request::from_target("PUT", &format!("/1.1/classes/Business/{business}"))
        .with_query("where", probes[0].to_string());
    let (status, body) = app.send_request(Caller::Anonymous, req, Some(&json!({"name": "taken"})));
    assert_eq!(LcError::from_json(status, &body), Some(forbidden_to_find()));
    assert_eq!(app.dump(), before);
}

#[test]
fn a_subquery_over_an_open_class_counts_only_the_rows_the_caller_may_read() {
    let (app, users) = app_with_users();
    // Find opened to signed-in users on _User; alice's row readable by her alone.
    app.0.store().class_mut("_User").settings.permissions =
        lc_model::access::ClassPermissions::from_json(&json!({"find": {"onlySignInUsers": true}}))
            .unwrap();
    let alice = &users[0];
    let acl = json!({alice.clone(): {"read": true, "write": true}});
    {
        let mut store = app.0.store();
        let user = store.object("_User", alice).unwrap();
        let mut fields = user.to_map();
        fields.insert("ACL".into(), acl);
        let user = user.with_fields(&fields);
        store.insert_object("_User", user);
    }
    let bob_token = "bobsessiontoken000000001";
    app.0
        .store()
        .sessions
        .insert(bob_token.into(), users[1].clone());
    let alice_token = "alicesessiontoken0000001";
    app.0
        .store()
        .sessions
        .insert(alice_token.into(), alice.clone());

    let probe = json!({"owner": {"$inQuery": {"className": "_User", "where": {"email": {"$regex": "^a"}}}}});
    assert_eq!(
        app.count(Caller::Anonymous, "Business", &probe),
        Err(forbidden_to_find())
    );
    assert_eq!(
        app.count(Caller::User(bob_token), "Business", &probe),
        Ok(0)
    );
    assert_eq!(
        app.count(Caller::User(alice_token), "Business", &probe),
        Ok(1)
    );
}

/// Reviews with a hidden `moderatorNote`, created in this order: notes "zeta" (5 stars),
/// "alpha" (3 stars), "mid" (4 stars); each names its business in `businessName`. A
/// `Comment` points at the first review.
fn app_with_hidden_notes() -> (App, Vec<String>) {
    let app = App::new();
    let mut ids = Vec::new();
    for (note, stars, business) in [("zeta", 5, "Cafe"), ("alpha", 3, "Bar"), ("mid", 4, "Deli")] {
        ids.push(app.create(
            Caller::Anonymous,
            "Review",
            json!({"moderatorNote": note, "stars": stars, "businessName": business,
                   "details": {"note": note}}),
        ));
        app.create(Caller::Anonymous, "Business", json!({"name": business}));
    }
    app.create(Caller::Anonymous, "Business", json!({"name": "zeta"}));
    app.create(
        Caller::Anonymous,
        "Comment",
        json!({"review": pointer("Review", &ids[0])}),
    );
    let mut store = app.0.store();
    let columns = &mut store.class_mut("Review").columns;
    for key in ["moderatorNote", "details"] {
        let column = columns.get_mut(key).expect("a column from the first write");
        *column = Column {
            hidden: true,
            ..column.clone()
        };
    }
    drop(store);
    (app, ids)
}

#[test]
fn a_hidden_column_matches_as_if_absent_in_every_client_where() {
    let (app, _) = app_with_hidden_notes();
    let regex = |p: &str| json!({"moderatorNote": {"$regex": p}});
    // The probe: the same answer whatever the hidden values are.
    assert_eq!(app.count(Caller::Anonymous, "Review", &regex("^z")), Ok(0));
    assert_eq!(app.count(Caller::Anonymous, "Review", &regex("^q")), Ok(0));
    assert_eq!(app.count(Caller::Master, "Review", &regex("^z")), Ok(1));

    let absent_for_clients = [
        (json!({"moderatorNote": {"$exists": false}}), 3, 0),
        (json!({"moderatorNote": {"$ne": "zeta"}}), 3, 2),
        (json!({"moderatorNote": "zeta"}), 0, 1),
        (json!({"moderatorNote": {"$in": ["zeta", "mid"]}}), 0, 2),
        (json!({"moderatorNote": {"$gt": "b"}}), 0, 2),
        (
            json!({"$or": [{"moderatorNote": "alpha"}, {"stars": 5}]}),
            1,
            2,
        ),
        (
            json!({"$and": [{"moderatorNote": {"$regex": "a"}}, {"stars": {"$gte": 3}}]}),
            0,
            2,
        ),
        (json!([{"moderatorNote": "mid"}]), 0, 1),
        (json!({"details.note": "zeta"}), 0, 1),
        (json!({"details.note": {"$exists": true}}), 0, 3),
    ];
    for (r#where, client, master) in absent_for_clients {
        assert_eq!(
            app.count(Caller::Anonymous, "Review", &r#where),
            Ok(client),
            "{where}"
        );
        assert_eq!(
            app.count(Caller::Master, "Review", &r#where),
            Ok(master),
            "{where}"
        );
    }
}

#[test]
fn a_hidden_column_is_absent_in_subqueries_select_keys_and_order() {
    let (app, _) = app_with_hidden_notes();
    // Businesses named by reviews whose hidden note starts with "z".
    let named = json!({"name": {"$select": {"key": "businessName", "query": {"className": "Review",
        "where": {"moderatorNote": {"$regex": "^z"}}}}}});
    assert_eq!(app.count(Caller::Anonymous, "Business", &named), Ok(0));
    assert_eq!(app.count(Caller::Master, "Business", &named), Ok(1));
    // Businesses named like a hidden note: the business "zeta".
    let like_a_note = json!({"name": {"$select": {"key": "moderatorNote",
        "query": {"className": "Review", "where": {}}}}});
    assert_eq!(
        app.count(Caller::Anonymous, "Business", &like_a_note),
        Ok(0)
    );
    assert_eq!(app.count(Caller::Master, "Business", &like_a_note), Ok(1));
    let in_query = json!({"review": {"$inQuery": {"className": "Review",
        "where": {"moderatorNote": "zeta"}}}});
    assert_eq!(app.count(Caller::Anonymous, "Comment", &in_query), Ok(0));
    assert_eq!(app.count(Caller::Master, "Comment", &in_query), Ok(1));

    // Ordered by a hidden key, clients get creation order either way.
    let stars = |who: Caller<&str>, order: &str| -> Vec<Value> {
        let (status, body) = app.find(who, "Review", &[("order", order.to_string())]);
        assert_eq!(status, 200, "{body}");
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["stars"].clone())
            .collect()
    };
    assert_eq!(stars(Caller::Anonymous, "moderatorNote"), [5, 3, 4]);
    assert_eq!(stars(Caller::Anonymous, "-moderatorNote"), [5, 3, 4]);
    // The hidden key ties every row, so the next key decides.
    assert_eq!(stars(Caller::Anonymous, "-details.note,stars"), [3, 4, 5]);
    assert_eq!(stars(Caller::Master, "moderatorNote"), [3, 4, 5]);
    assert_eq!(stars(Caller::Master, "-moderatorNote"), [5, 4, 3]);
}

#[test]
fn a_conditional_write_on_a_hidden_column_tells_a_client_nothing_and_includes_hide_it() {
    let (app, ids) = app_with_hidden_notes();
    let before = app.dump();
    let target = format!("/1.1/classes/Review/{}", ids[0]);
    for condition in [
        json!({"moderatorNote": "zeta"}),
        json!({"moderatorNote": "other"}),
    ] {
        let req = Request::from_target("PUT", &target).with_query("where", condition.to_string());
        let (status, body) = app.send_request(Caller::Anonymous, req, Some(&json!({"stars": 1})));
        assert_eq!(
            LcError::from_json(status, &body),
            Some(LcError::no_effect()),
            "{condition}"
        );
    }
    assert_eq!(app.dump(), before);
    let req = Request::from_target("PUT", &target)
        .with_query("where", json!({"moderatorNote": "zeta"}).to_string());
    let (status, _) = app.send_request(Caller::Master, req, Some(&json!({"stars": 1})));
    assert_eq!(status, 200);

    let include = [("include", "review".to_string())];
    let (_, client) = app.find(Caller::Anonymous, "Comment", &include);
    let review = &client["results"][0]["review"];
    assert_eq!(review["stars"], 1, "{client}");
    assert!(
        review.get("moderatorNote").is_none() && review.get("details").is_none(),
        "{client}"
    );
    let (_, master) = app.find(Caller::Master, "Comment", &include);
    assert_eq!(master["results"][0]["review"]["moderatorNote"], "zeta");
}
