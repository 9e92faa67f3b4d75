//! The system under test: the app on its target as the model's objects map onto it
//! ([`Sut`]), how a step is sent and its answer checked ([`apply_step`]), and what is
//! read back to compare with the model.

use super::*;

/// A user's session on the target.
#[derive(Debug, Clone)]
struct Account {
    id: String,
    token: String,
}

/// The app under test, and what the test knows of it.
pub(super) struct Sut {
    pub(super) app: Arc<TestApp>,
    /// The app is the run's own (mock, a fresh stack): it goes back to [`POOL`].
    own: bool,
    remote: bool,
    users: Vec<Option<Account>>,
    addresses: Vec<Option<String>>,
    businesses: Vec<Option<String>>,
    reviews: Vec<Option<String>>,
    /// The last read of each object (master key), to compare with after a refusal.
    seen: HashMap<ObjRef, Value>,
    /// Per user: the target's `reviewCount` minus the model's at the start (0 on an app
    /// of the run's own; other runs' reviews on a shared app).
    offsets: Vec<i64>,
    /// On a shared app, the fixture users' `role` at the start (the run never changes
    /// it there; earlier runs and the app's history may have).
    roles: HashMap<usize, Value>,
    /// The model before the next step.
    model: AppState,
    pub(super) steps: usize,
    /// The steps so far, for messages.
    log: Vec<String>,
}

/// What one read of several objects found.
#[derive(Default)]
struct Reads {
    objects: HashMap<ObjRef, Value>,
    /// Per business: its stored reviews (`stars`, `author`).
    reviews_of: HashMap<usize, Vec<Value>>,
}

/// Where an object of the model is read: `/1.1/users/<id>` for a user.
fn object_path(class: &str, id: &str) -> String {
    Resource::object(class, id).path()
}

/// `(path, params)` of the GETs a read sends.
type Get = (String, Vec<(String, String)>);

impl Sut {
    fn who(&self, who: Option<Who>) -> Caller {
        who.map_or(Caller::Anonymous, Caller::from)
            .map(|u| match &self.users[u] {
                Some(a) => a.token.clone(),
                None => panic!("{} has no session", self.model.users[u].username),
            })
    }

    fn id(&self, object: ObjRef) -> Option<&str> {
        let slot = match object {
            ObjRef::User(i) => self.users.get(i).and_then(|u| u.as_ref().map(|a| &a.id)),
            ObjRef::Address(i) => self.addresses.get(i).and_then(Option::as_ref),
            ObjRef::Business(i) => self.businesses.get(i).and_then(Option::as_ref),
            ObjRef::Review(i) => self.reviews.get(i).and_then(Option::as_ref),
        };
        slot.map(String::as_str)
    }

    fn must_id(&self, object: ObjRef) -> String {
        self.id(object)
            .unwrap_or_else(|| panic!("the test has no id for {object:?}"))
            .to_string()
    }

    fn value(&self, cell: &Cell) -> Value {
        match cell {
            Cell::Json(v) => v.clone(),
            Cell::Pointer(o) => pointer(o.class(), &self.must_id(*o)),
            Cell::IdOf(o) => Value::String(self.must_id(*o)),
        }
    }

    fn object(&self, fields: &[(String, Cell)]) -> Value {
        Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), self.value(v)))
                .collect(),
        )
    }

    /// Send one request as `who` (on mock in-process: the same requests and headers,
    /// hooks and all, without the emulator's HTTP front, unless `GENERATIVE_HTTP=1`).
    async fn exchange(
        &self,
        who: &Caller,
        method: &str,
        target: &str,
        body: Option<&Value>,
    ) -> Answer {
        self.app.send(who, method, target, body).await
    }

    /// The username on the target: a signed-up user's under the run's prefix.
    fn username(&self, user: usize) -> String {
        let u = &self.model.users[user];
        if u.fixture {
            u.username.clone()
        } else {
            self.app.name(&u.username)
        }
    }

    /// Send `step`'s request; the answer.
    async fn send(&self, step: &Step) -> Answer {
        let who = self.who(app::sender(step));
        match app::request_of(&self.model, step) {
            Request::SignUp { user, fields } => {
                let name = self.username(user);
                let mut body = self.object(&fields);
                body["username"] = json!(name);
                body["password"] = json!(app::password_of(&name));
                self.exchange(&who, "POST", "/1.1/users", Some(&body)).await
            }
            Request::Create { class, fields, .. } => {
                let body = self.object(&fields);
                let path = format!("/1.1/classes/{class}");
                self.exchange(&who, "POST", &path, Some(&body)).await
            }
            Request::Update { target, fields } => {
                let path = format!(
                    "{}?new=true",
                    object_path(target.class(), &self.must_id(target))
                );
                let body = self.object(&fields);
                self.exchange(&who, "PUT", &path, Some(&body)).await
            }
            Request::Delete { target } => {
                let path = object_path(target.class(), &self.must_id(target));
                self.exchange(&who, "DELETE", &path, None).await
            }
            Request::Call { function, params } => {
                let body = self.object(&params);
                let path = format!("/1.1/functions/{function}");
                self.exchange(&who, "POST", &path, Some(&body)).await
            }
        }
    }

    /// Read `objects` and the reviews of `businesses` with the master key, in one batch
    /// when the target answers one (else one request each).
    async fn read(&self, objects: &[ObjRef], businesses: &[usize]) -> Reads {
        let mut gets: Vec<Get> = Vec::new();
        let mut wanted: Vec<ObjRef> = Vec::new();
        for &o in objects {
            if let Some(id) = self.id(o) {
                gets.push((
                    object_path(o.class(), id),
                    vec![("returnACL".into(), "true".into())],
                ));
                wanted.push(o);
            }
        }
        let mut queried = Vec::new();
        for &b in businesses {
            if let Some(id) = self.id(ObjRef::Business(b)) {
                let filter = json!({"business": pointer("Business", id)});
                gets.push((
                    "/1.1/classes/Review".into(),
                    vec![
                        ("where".into(), filter.to_string()),
                        ("keys".into(), "stars,author".into()),
                        ("limit".into(), "1000".into()),
                    ],
                ));
                queried.push(b);
            }
        }
        let bodies = self.get_all(&gets).await;
        let mut reads = Reads::default();
        let (objects, queries) = bodies.split_at(wanted.len());
        for (o, body) in wanted.into_iter().zip(objects) {
            reads.objects.insert(o, body.clone());
        }
        for (b, body) in queried.into_iter().zip(queries) {
            let rows = body["results"]
                .as_array()
                .cloned()
                .unwrap_or_else(|| panic!("the reviews of {b:?} could not be read: {body}"));
            reads.reviews_of.insert(b, rows);
        }
        reads
    }

    async fn get_all(&self, gets: &[Get]) -> Vec<Value> {
        if gets.is_empty() {
            return Vec::new();
        }
        let items: Vec<Value> = gets
            .iter()
            .map(|(path, params)| {
                let params: serde_json::Map<String, Value> = params
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                json!({"method": "GET", "path": path, "params": params})
            })
            .collect();
        let answer = self
            .exchange(
                &Caller::Master,
                "POST",
                "/1.1/batch",
                Some(&json!({"requests": items})),
            )
            .await;
        let results = answer.body.as_array().filter(|r| r.len() == gets.len());
        let mut out = Vec::with_capacity(gets.len());
        for (i, (path, params)) in gets.iter().enumerate() {
            match results.and_then(|r| r[i].get("success")) {
                Some(body) => out.push(body.clone()),
                None => {
                    let mut request = leancloud::Request::new("GET", path);
                    for (k, v) in params {
                        request = request.with_query(k, v.as_str());
                    }
                    let answer = self
                        .exchange(&Caller::Master, "GET", &request.target(), None)
                        .await;
                    if answer.status != 200 {
                        panic!(
                            "reading {path} answered HTTP {} {}",
                            answer.status, answer.body
                        );
                    }
                    out.push(answer.body);
                }
            }
        }
        out
    }

    /// Every difference between what the target holds and what `model` says of
    /// `objects` (and, for the businesses among them, between their counters and their
    /// stored reviews). `acls`: check the ACLs too.
    fn differences(
        &self,
        model: &AppState,
        reads: &Reads,
        objects: &[ObjRef],
        acls: bool,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for &o in objects {
            let Some(stored) = reads.objects.get(&o) else {
                if matches!(expectation(model, o), Expect::Has(..)) {
                    out.push(format!("{o:?} should exist, but the test has no id for it"));
                }
                continue;
            };
            let name = o.label(model).unwrap_or_else(|| format!("{o:?}"));
            match expectation(model, o) {
                Expect::Gone(_) => {
                    if stored.get("objectId").is_some() {
                        out.push(format!(
                            "{} {name:?} should be gone, but is stored: {stored}",
                            o.class()
                        ));
                    }
                }
                Expect::Has(_, fields) => {
                    if stored.get("objectId").is_none() {
                        out.push(format!("{} {name:?} should exist, but is gone", o.class()));
                        continue;
                    }
                    for (path, cell) in &fields {
                        let mut want = self.value(cell);
                        match (o, path.as_str()) {
                            (ObjRef::User(u), "reviewCount") => {
                                want = json!(want.as_i64().unwrap_or_default() + self.offsets[u]);
                            }
                            (ObjRef::User(u), "role") if self.roles.contains_key(&u) => {
                                want = self.roles[&u].clone();
                            }
                            _ => {}
                        }
                        let got = system::at_path(stored, path);
                        if !same_value(got, &want) {
                            out.push(format!(
                                "{} {name:?}: {path} is {got}, the model says {want}",
                                o.class()
                            ));
                        }
                    }
                    if acls {
                        out.extend(self.acl_differences(model, o, stored));
                    }
                }
            }
        }
        for (&b, rows) in &reads.reviews_of {
            let Some(stored) = reads.objects.get(&ObjRef::Business(b)) else {
                continue;
            };
            let name = &model.businesses[b].label;
            let count = rows.len() as i64;
            let sum: i64 = rows
                .iter()
                .map(|r| r["stars"].as_i64().unwrap_or(-100))
                .sum();
            if stored.get("objectId").is_none() {
                if count > 0 {
                    out.push(format!(
                        "the deleted business {name:?} still has {count} reviews"
                    ));
                }
                continue;
            }
            let counters = (
                stored["ratingCount"].as_i64(),
                stored["ratingSum"].as_i64(),
                stored["ratingAvg"].as_f64(),
            );
            let recount = (Some(count), Some(sum), Some(app::rating_avg(sum, count)));
            if counters != recount {
                out.push(format!(
                    "business {name:?}: its counters (count, sum, avg) are {counters:?}, its stored reviews say {recount:?}"
                ));
            }
            let mut authors: Vec<&str> = rows
                .iter()
                .filter_map(|r| r["author"]["objectId"].as_str())
                .collect();
            authors.sort_unstable();
            if let Some(pair) = authors.windows(2).find(|w| w[0] == w[1]) {
                out.push(format!(
                    "business {name:?} has two reviews by user {}",
                    pair[0]
                ));
            }
        }
        out
    }

    /// The ACL of a business (public read; its owner and `Moderators` write) or a
    /// review (public read; its author writes), and nobody else writes.
    fn acl_differences(&self, model: &AppState, o: ObjRef, stored: &Value) -> Vec<String> {
        let writers: Vec<String> = match o {
            ObjRef::Business(b) => vec![
                self.must_id(ObjRef::User(model.businesses[b].owner)),
                "role:Moderators".into(),
            ],
            ObjRef::Review(r) => vec![self.must_id(ObjRef::User(model.reviews[r].author))],
            _ => return Vec::new(),
        };
        let acl = &stored["ACL"];
        let mut out = Vec::new();
        let Some(entries) = acl.as_object() else {
            return vec![format!("{o:?} has no ACL: {stored}")];
        };
        if acl["*"]["read"] != true {
            out.push(format!("{o:?} is not public to read: ACL {acl}"));
        }
        for w in &writers {
            if acl[w]["write"] != true {
                out.push(format!("{o:?}: {w} cannot write it: ACL {acl}"));
            }
        }
        for (key, entry) in entries {
            if entry["write"] == true && !writers.contains(key) {
                out.push(format!("{o:?}: {key} can write it: ACL {acl}"));
            }
        }
        out
    }

    /// Wait for after-hooks where the target can say when they are done.
    async fn settle(&self) {
        if !self.remote {
            self.app.idle().await;
        }
    }

    /// Read `objects` (and the reviews of the businesses among them) until they agree
    /// with `model` (at once on mock and stack; polled on remote); the reads, or what
    /// still differs.
    async fn agree(
        &self,
        model: &AppState,
        objects: &[ObjRef],
        acls: bool,
    ) -> Result<Reads, String> {
        let businesses: Vec<usize> = objects
            .iter()
            .filter_map(|o| match o {
                ObjRef::Business(b) => Some(*b),
                _ => None,
            })
            .collect();
        let check = || async {
            let reads = self.read(objects, &businesses).await;
            let wrong = self.differences(model, &reads, objects, acls);
            if wrong.is_empty() {
                Ok(reads)
            } else {
                Err(wrong.join("\n  "))
            }
        };
        if self.remote {
            harness::try_eventually(REMOTE_WAIT, check).await
        } else {
            check().await
        }
    }

    /// Every object of the model agrees with it; the reads are kept for the next
    /// refusal's comparison.
    pub(super) async fn full_check(&mut self, model: &AppState) {
        let everything = model.everything();
        match self.agree(model, &everything, true).await {
            Ok(reads) => self.seen.extend(reads.objects),
            Err(wrong) => panic!(
                "{}the app differs from the model (full check after {} steps):\n  {wrong}",
                self.history(),
                self.steps
            ),
        }
    }

    fn history(&self) -> String {
        if self.log.is_empty() {
            return String::new();
        }
        format!("steps so far:\n  {}\n", self.log.join("\n  "))
    }
}

impl Drop for Sut {
    /// The run's own app serves the next case, also after a failing one (shrinking runs
    /// hundreds of cases).
    fn drop(&mut self) {
        if self.own {
            *POOL.lock().unwrap_or_else(|e| e.into_inner()) = Some(self.app.clone());
        }
    }
}

fn answered(answer: &Answer) -> Outcome {
    match answer.error() {
        Some(e) if answer.status >= 400 => Outcome::Refused(answer.status, e.code),
        _ => Outcome::Accepted(answer.status),
    }
}

/// The app for a case: on a shared app a run of its own (its prefix, its cleanup); else
/// the run's app, reset to the fixtures. On mock its requests go in-process, or over the
/// emulator's HTTP front with `GENERATIVE_HTTP=1`.
async fn app_for_case(own: bool) -> Arc<TestApp> {
    let pooled = if own {
        POOL.lock().unwrap_or_else(|e| e.into_inner()).take()
    } else {
        None
    };
    let (app, fresh) = match pooled {
        Some(app) => (app, false),
        None => {
            let over_http = std::env::var("GENERATIVE_HTTP").is_ok_and(|v| v.trim() == "1");
            let builder = if over_http {
                system::app().over_http()
            } else {
                system::app()
            };
            (Arc::new(builder.start().await), true)
        }
    };
    if !fresh {
        // What the last case's after-hooks do must not land after the reset.
        app.idle().await;
        let reset = app
            .send(&Caller::Master, "POST", "/__mock/reset", None)
            .await;
        assert_eq!(reset.status, 200, "resetting the app: {}", reset.body);
    }
    app
}

pub(super) async fn start(model: &AppState) -> Sut {
    let app = app_for_case(!model.shared).await;
    let remote = app.target() == Target::Remote;
    let mut sut = Sut {
        app,
        own: !model.shared,
        remote,
        users: vec![None; model.users.len()],
        addresses: vec![None; model.addresses.len()],
        businesses: vec![None; model.businesses.len()],
        reviews: vec![None; model.reviews.len()],
        seen: HashMap::new(),
        offsets: vec![0; model.users.len()],
        roles: HashMap::new(),
        model: model.clone(),
        steps: 0,
        log: Vec::new(),
    };
    for (i, u) in model.users.iter().enumerate().filter(|(_, u)| u.fixture) {
        let body = json!({"username": u.username, "password": app::password_of(&u.username)});
        let answer = sut
            .exchange(&Caller::Anonymous, "POST", "/1.1/login", Some(&body))
            .await;
        let (Some(id), Some(token)) = (
            answer.body["objectId"].as_str(),
            answer.body["sessionToken"].as_str(),
        ) else {
            panic!(
                "the fixture user {} cannot log in: HTTP {} {}",
                u.username, answer.status, answer.body
            );
        };
        sut.users[i] = Some(Account {
            id: id.into(),
            token: token.into(),
        });
    }
    // The fixture objects of the model, found by name.
    let streets: Vec<&str> = model.addresses.iter().map(|a| a.label.as_str()).collect();
    let names: Vec<&str> = model.businesses.iter().map(|b| b.label.as_str()).collect();
    let gets: Vec<Get> = vec![
        (
            "/1.1/classes/Address".into(),
            vec![
                (
                    "where".into(),
                    json!({"street": {"$in": streets}}).to_string(),
                ),
                ("limit".into(), "1000".into()),
            ],
        ),
        (
            "/1.1/classes/Business".into(),
            vec![
                ("where".into(), json!({"name": {"$in": names}}).to_string()),
                ("limit".into(), "1000".into()),
            ],
        ),
    ];
    let found = sut.get_all(&gets).await;
    let unique = |rows: &Value, key: &str, name: &str| -> String {
        let hits: Vec<&str> = rows["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r[key] == name)
            .filter_map(|r| r["objectId"].as_str())
            .collect();
        match hits.as_slice() {
            [one] => one.to_string(),
            _ => panic!(
                "the target has {} objects with {key} {name:?}, the model needs one",
                hits.len()
            ),
        }
    };
    for (i, a) in model.addresses.iter().enumerate() {
        sut.addresses[i] = Some(unique(&found[0], "street", &a.label));
    }
    for (i, b) in model.businesses.iter().enumerate() {
        sut.businesses[i] = Some(unique(&found[1], "name", &b.label));
    }
    if !model.reviews.is_empty() {
        let business_ids: Vec<Value> = sut
            .businesses
            .iter()
            .flatten()
            .map(|id| pointer("Business", id))
            .collect();
        let gets: Vec<Get> = vec![(
            "/1.1/classes/Review".into(),
            vec![
                (
                    "where".into(),
                    json!({"business": {"$in": business_ids}}).to_string(),
                ),
                ("keys".into(), "business,author".into()),
                ("limit".into(), "1000".into()),
            ],
        )];
        let rows = sut.get_all(&gets).await.remove(0);
        for (i, r) in model.reviews.iter().enumerate() {
            let business = sut.must_id(ObjRef::Business(r.business));
            let author = sut.must_id(ObjRef::User(r.author));
            let hit = rows["results"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|row| {
                    row["business"]["objectId"] == business.as_str()
                        && row["author"]["objectId"] == author.as_str()
                });
            sut.reviews[i] = hit.and_then(|h| h["objectId"].as_str()).map(str::to_string);
        }
    }
    // Review counts: on a shared app other runs' reviews count too.
    let fixture_users: Vec<ObjRef> = (0..model.users.len())
        .filter(|&u| model.users[u].fixture)
        .map(ObjRef::User)
        .collect();
    let reads = sut.read(&fixture_users, &[]).await;
    for o in fixture_users {
        let ObjRef::User(u) = o else { continue };
        let stored = &reads.objects[&o];
        sut.offsets[u] =
            stored["reviewCount"].as_i64().unwrap_or_default() - model.users[u].review_count;
        if model.shared {
            sut.roles.insert(u, stored["role"].clone());
        }
    }
    if !model.shared {
        let off: Vec<(String, i64)> = model
            .users
            .iter()
            .zip(&sut.offsets)
            .filter(|(_, o)| **o != 0)
            .map(|(u, o)| (u.username.clone(), *o))
            .collect();
        assert!(
            off.is_empty(),
            "fixture users' reviewCount differ from the fixture files: {off:?}"
        );
    }
    sut.full_check(model).await;
    sut
}

pub(super) async fn apply_step(sut: &mut Sut, after: &AppState, step: &Step) {
    let before = sut.model.clone();
    let predicted = app::outcome(&before, step);
    let objects = app::touched(&before, step);
    let who = match app::sender(step) {
        None => "nobody signed in".to_string(),
        Some(Who::Master) => "the master key".to_string(),
        Some(Who::User(u)) => before.users[u].username.clone(),
    };
    sut.log
        .push(format!("{}. {step:?} as {who}", sut.steps + 1));
    // What a refusal must leave as it is: read whatever was not read yet.
    let unread: Vec<ObjRef> = objects
        .iter()
        .copied()
        .filter(|o| !sut.seen.contains_key(o) && sut.id(*o).is_some())
        .collect();
    if !unread.is_empty() {
        let reads = sut.read(&unread, &[]).await;
        sut.seen.extend(reads.objects);
    }

    let answer = sut.send(step).await;
    let got = answered(&answer);
    covered(step, got.accepted());
    if got != predicted {
        panic!(
            "{}step {}: the model predicts {predicted}, the app answered HTTP {} {}",
            sut.history(),
            sut.steps + 1,
            answer.status,
            answer.body
        );
    }
    for (path, cell) in app::answer_expectations(&before, step) {
        let want = sut.value(&cell);
        let got = system::at_path(&answer.body, &path);
        assert!(
            same_value(got, &want),
            "{}step {}: the answer's {path} is {got}, the model says {want}",
            sut.history(),
            sut.steps + 1
        );
    }
    if predicted.accepted() {
        record_new_object(sut, &before, step, &answer);
    }

    sut.settle().await;
    let reads = match sut.agree(after, &objects, false).await {
        Ok(reads) => reads,
        Err(wrong) => panic!(
            "{}after step {} the app differs from the model:\n  {wrong}",
            sut.history(),
            sut.steps + 1
        ),
    };
    if !predicted.accepted() {
        let changed: Vec<String> = objects
            .iter()
            .filter_map(|o| {
                let old = sut.seen.get(o)?;
                let new = reads.objects.get(o)?;
                (old != new).then(|| format!("{o:?} was {old}\n    and is now {new}"))
            })
            .collect();
        assert!(
            changed.is_empty(),
            "{}step {} was refused, yet it changed:\n  {}",
            sut.history(),
            sut.steps + 1,
            changed.join("\n  ")
        );
    }
    sut.seen.extend(reads.objects);
    sut.model = after.clone();
    if (sut.steps + 1).is_multiple_of(FULL_EVERY) {
        sut.full_check(after).await;
    }
}

/// Keep the id (and a new user's session) of what an accepted create made.
fn record_new_object(sut: &mut Sut, before: &AppState, step: &Step, answer: &Answer) {
    let id = answer.body["objectId"].as_str().map(str::to_string);
    match *step {
        Step::SignUp { user, .. } => {
            let token = answer.body["sessionToken"].as_str().unwrap_or_default();
            sut.users[user] = Some(Account {
                id: id.unwrap_or_default(),
                token: token.into(),
            });
        }
        Step::CreateAddress { .. } => {
            sut.addresses.resize(before.addresses.len(), None);
            sut.addresses.push(id);
        }
        Step::CreateBusiness { .. } => {
            sut.businesses.resize(before.businesses.len(), None);
            sut.businesses.push(id);
        }
        Step::WriteReview { .. } => {
            sut.reviews.resize(before.reviews.len(), None);
            sut.reviews.push(id);
        }
        _ => {}
    }
}
