//! Model-based test of the app (crate `cloud`) on the target `LC_TARGET` names: random
//! sequences of user actions ([`generative::app::arb_step`]) are sent through
//! `harness::TestApp`, and after every step the app is compared with the reference
//! model ([`generative::app::AppModel`]):
//!
//! - the answer: accepted or refused as the model predicts, with its status and error
//!   code (who may change what: owners, authors, `Moderators`, the master key);
//! - every object the step touched, read after the after-hooks (`idle()` on mock and
//!   stack, polled with `eventually` on remote): the fields the model knows, including
//!   each business's rating counters and each user's `reviewCount`;
//! - a refused step changed nothing: the touched objects read back exactly as before;
//! - the app agrees with itself: each touched business's counters are what its stored
//!   reviews say, and no user has two reviews of one business.
//!
//! At the start of a case, every [`FULL_EVERY`] steps and at its end, every object of the
//! model is checked that way, with the ACLs of businesses and reviews.
//!
//! A failing case is shrunk, then written as a Gherkin scenario of the system suite to
//! `features/generated/<name>.feature` (see `generative/README.md`). Cases: 128 on mock,
//! 8 on stack, 3 on remote; `GENERATIVE_CASES` (or `PROPTEST_CASES`) sets the number,
//! `GENERATIVE_STEPS` the longest sequence (30).

use generative::app::{
    self, AppModel, AppState, Cell, Expect, ObjRef, Outcome, Request, Step, Who, expectation,
};
use generative::values::same_value;
use harness::{Answer, Caller, Target, TestApp};
use proptest::test_runner::{Config, FileFailurePersistence, TestError, TestRunner};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use serde_json::{Value, json};
use std::cell::Cell as StdCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Once};
use std::time::{Duration, Instant};

/// Steps between two checks of every object of the model.
const FULL_EVERY: usize = 10;

/// Where failing seeds are kept (committed, so every run replays them first).
const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/app_model.txt"
);

/// Where a failing sequence is written as a feature.
const GENERATED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../features/generated");

/// How long a remote target may take to show an after-hook's effect.
const REMOTE_WAIT: Duration = Duration::from_secs(15);

static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
});

/// Steps applied, and the time spent in them (sending, waiting, checking).
static STEPS: AtomicUsize = AtomicUsize::new(0);
static STEP_NANOS: AtomicU64 = AtomicU64::new(0);

/// Per kind of step: how many the app accepted and refused (what the run covered).
static COVERAGE: Mutex<Vec<(&'static str, usize, usize)>> = Mutex::new(Vec::new());

fn covered(step: &Step, accepted: bool) {
    let kind = kind_of(step);
    let mut table = COVERAGE.lock().unwrap_or_else(|e| e.into_inner());
    let row = match table.iter().position(|(k, ..)| *k == kind) {
        Some(i) => &mut table[i],
        None => {
            table.push((kind, 0, 0));
            table.last_mut().expect("just pushed")
        }
    };
    if accepted {
        row.1 += 1;
    } else {
        row.2 += 1;
    }
}

fn kind_of(step: &Step) -> &'static str {
    match step {
        Step::SignUp { .. } => "sign up",
        Step::CreateAddress { .. } => "create address",
        Step::MoveAddress { .. } => "move address",
        Step::CreateBusiness { .. } => "create business",
        Step::EditBusiness { .. } => "edit business",
        Step::Moderate { .. } => "moderateBusiness",
        Step::WriteReview { .. } => "write review",
        Step::EditReview { .. } => "edit review",
        Step::DeleteReview { .. } => "delete review",
        Step::DeleteBusiness { .. } => "delete business",
    }
}

/// The app a run's cases share where each case may have the app to itself (mock, a
/// fresh stack): reset to the fixtures between cases instead of started anew.
static POOL: Mutex<Option<Arc<TestApp>>> = Mutex::new(None);

thread_local! {
    /// While set, panics on this thread are not printed: proptest catches them, and a
    /// shrinking run panics hundreds of times.
    static QUIET: StdCell<bool> = const { StdCell::new(false) };
}

fn quiet_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(StdCell::get) {
                default(info);
            }
        }));
    });
}

fn env_number(name: &str) -> Option<u32> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn target_name() -> String {
    match std::env::var("LC_TARGET") {
        Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
        _ => "mock".into(),
    }
}

/// Cases per run: `GENERATIVE_CASES`, else `PROPTEST_CASES`, else by target.
fn cases() -> u32 {
    env_number("GENERATIVE_CASES")
        .or_else(|| env_number("PROPTEST_CASES"))
        .unwrap_or(match target_name().as_str() {
            "mock" => 128,
            "stack" => 8,
            _ => 3,
        })
}

fn max_steps() -> usize {
    env_number("GENERATIVE_STEPS").map_or(30, |n| n.max(1) as usize)
}

/// A user's session on the target.
#[derive(Debug, Clone)]
struct Account {
    id: String,
    token: String,
}

/// The app under test, and what the test knows of it.
struct Sut {
    app: Arc<TestApp>,
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
    steps: usize,
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

fn object_path(class: &str, id: &str) -> String {
    match class {
        "_User" => format!("/1.1/users/{id}"),
        _ => format!("/1.1/classes/{class}/{id}"),
    }
}

fn pointer(class: &str, id: &str) -> Value {
    json!({"__type": "Pointer", "className": class, "objectId": id})
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
    async fn full_check(&mut self, model: &AppState) {
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

async fn start(model: &AppState) -> Sut {
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

struct AppTest;

impl StateMachineTest for AppTest {
    type SystemUnderTest = Sut;
    type Reference = AppModel;

    fn init_test(model: &AppState) -> Sut {
        RT.block_on(start(model))
    }

    fn apply(mut sut: Sut, after: &AppState, step: Step) -> Sut {
        let began = Instant::now();
        RT.block_on(apply_step(&mut sut, after, &step));
        sut.steps += 1;
        STEPS.fetch_add(1, Ordering::Relaxed);
        STEP_NANOS.fetch_add(began.elapsed().as_nanos() as u64, Ordering::Relaxed);
        sut
    }

    fn teardown(mut sut: Sut, model: AppState) {
        RT.block_on(async {
            if !sut.steps.is_multiple_of(FULL_EVERY) {
                sut.full_check(&model).await;
            }
            if model.shared {
                if let Err(e) = sut.app.cleanup().await {
                    panic!("cleaning up after the case: {e}");
                }
                let left = sut.app.leftovers().await;
                assert!(left.is_empty(), "the cleanup left {left:?}");
            }
            drop(sut);
        });
    }
}

async fn apply_step(sut: &mut Sut, after: &AppState, step: &Step) {
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

/// The failing sequence as a feature of the system suite; its path.
fn write_feature(reason: &str, initial: &AppState, steps: &[Step]) -> std::io::Result<String> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    format!("{steps:?}").hash(&mut hasher);
    let name = format!("app-model-{:08x}", hasher.finish() as u32);
    let last_lines: String = reason
        .lines()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    let note = format!(
        "Found on LC_TARGET={}; the model-based test failed with:\n{last_lines}",
        target_name()
    );
    let text = app::feature(&name, &note, initial, steps);
    std::fs::create_dir_all(GENERATED)?;
    let path = format!("{GENERATED}/{name}.feature");
    std::fs::write(&path, text)?;
    Ok(path)
}

#[test]
fn the_app_behaves_as_its_model_says() {
    quiet_panics();
    let cases = cases();
    let config = Config {
        cases,
        max_shrink_iters: 4096,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        source_file: Some(file!()),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config.clone());
    let strategy = AppModel::sequential_strategy(1..=max_steps());
    let began = Instant::now();
    let result = runner.run(&strategy, |(initial, steps, seen)| {
        QUIET.with(|q| q.set(true));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            AppTest::test_sequential(config.clone(), initial, steps, seen)
        }));
        QUIET.with(|q| q.set(false));
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
        Ok(())
    });
    let elapsed = began.elapsed();
    let steps = STEPS.load(Ordering::Relaxed);
    let in_steps = Duration::from_nanos(STEP_NANOS.load(Ordering::Relaxed));
    let over = match std::env::var("GENERATIVE_HTTP") {
        Ok(v) if v.trim() == "1" => " over HTTP",
        _ => "",
    };
    eprintln!(
        "app model on {}{over}: {cases} cases, {steps} steps in {:.2} s ({:.0} steps/s; {:.2} s in steps alone: {:.0} steps/s)",
        target_name(),
        elapsed.as_secs_f64(),
        steps as f64 / elapsed.as_secs_f64(),
        in_steps.as_secs_f64(),
        steps as f64 / in_steps.as_secs_f64().max(1e-9),
    );
    let table = COVERAGE.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for (kind, accepted, refused) in table {
        eprintln!("  {kind:<16} accepted {accepted:>5}, refused {refused:>5}");
    }
    // What the app's rules did in this run, beside the Gherkin run's JUnit report.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/cucumber");
    let name = format!("generative-{}", target_name());
    match mock_server::api::coverage::write_report(
        &mock_server::api::coverage::run().report(),
        &dir,
        &name,
    ) {
        Ok((json, html)) => eprintln!(
            "coverage of the app's behaviour: {}, {}",
            json.display(),
            html.display()
        ),
        Err(e) => eprintln!("(the coverage report could not be written: {e})"),
    }
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, (initial, steps, _))) => {
            let written = match write_feature(reason.message(), &initial, &steps) {
                Ok(path) => format!("written as a feature of the system suite: {path}"),
                Err(e) => format!("(the feature could not be written: {e})"),
            };
            panic!(
                "the app and its model disagree.\n{}\n\nshrunk sequence ({} steps) from {initial:?}:\n{steps:#?}\n\n{written}",
                reason.message(),
                steps.len()
            );
        }
        Err(TestError::Abort(why)) => panic!("the run stopped: {why}"),
    }
}

// ---------------------------------------------------------------------------------------
// The Gherkin writer
// ---------------------------------------------------------------------------------------

/// A sequence with every kind of step, accepted and refused, on the fixture universe.
fn fixed_sequence() -> (AppState, Vec<Step>) {
    use app::{
        BusinessChange, CategoryInput, CountryInput, DisplayNameInput, NameInput, PhoneInput,
        PostalInput, ReviewChange, StarsInput, Status, StatusInput, TextInput,
    };
    let initial = app::initial_state(false);
    let user = |name: &str| {
        initial
            .users
            .iter()
            .position(|u| u.username == name)
            .unwrap_or_else(|| panic!("no user {name}"))
    };
    let business = |name: &str| {
        initial
            .businesses
            .iter()
            .position(|b| b.label == name)
            .unwrap_or_else(|| panic!("no business {name}"))
    };
    let (mei, chen, li, anna, new1) = (
        user("mei.lin"),
        user("chen.wei"),
        user("li.na"),
        user("anna.schmidt"),
        user("new.user1"),
    );
    let kuanzhai = business("Kuanzhai Hot Pot");
    let fuxing = business("Fuxing Lane Coffee");
    let new_business = initial.businesses.len();
    let new_address = initial.addresses.len();
    let first_review = initial.reviews.len();
    let steps = vec![
        Step::SignUp {
            user: new1,
            display_name: DisplayNameInput::Blank,
        },
        Step::SignUp {
            user: new1,
            display_name: DisplayNameInput::Padded(1),
        },
        Step::CreateAddress {
            by: Who::User(new1),
            country: CountryInput::Lower(3),
            postal: PostalInput::Loose,
            spot: 1,
        },
        Step::CreateBusiness {
            by: Who::User(new1),
            owner: None,
            name: NameInput::Padded(2),
            category: CategoryInput::Capitalised(0),
            phone: Some(PhoneInput::National),
            address: Some(new_address),
        },
        Step::WriteReview {
            by: Who::User(li),
            business: new_business,
            stars: StarsInput::Valid(4),
            text: TextInput::None,
        },
        Step::Moderate {
            by: Who::User(li),
            business: new_business,
            status: StatusInput::Valid(Status::Active),
        },
        Step::Moderate {
            by: Who::User(mei),
            business: new_business,
            status: StatusInput::Valid(Status::Active),
        },
        Step::WriteReview {
            by: Who::User(li),
            business: new_business,
            stars: StarsInput::Valid(4),
            text: TextInput::Longest,
        },
        Step::WriteReview {
            by: Who::User(new1),
            business: new_business,
            stars: StarsInput::Valid(5),
            text: TextInput::None,
        },
        Step::WriteReview {
            by: Who::User(anna),
            business: new_business,
            stars: StarsInput::Valid(3),
            text: TextInput::Short(2),
        },
        Step::WriteReview {
            by: Who::User(li),
            business: fuxing,
            stars: StarsInput::Valid(1),
            text: TextInput::None,
        },
        Step::WriteReview {
            by: Who::User(new1),
            business: kuanzhai,
            stars: StarsInput::Half,
            text: TextInput::None,
        },
        Step::WriteReview {
            by: Who::User(new1),
            business: kuanzhai,
            stars: StarsInput::Valid(2),
            text: TextInput::TooLong,
        },
        Step::EditReview {
            by: Who::User(li),
            review: first_review,
            change: ReviewChange::Stars(StarsInput::Valid(1)),
        },
        Step::EditReview {
            by: Who::User(anna),
            review: first_review,
            change: ReviewChange::Stars(StarsInput::Valid(5)),
        },
        Step::EditReview {
            by: Who::User(li),
            review: first_review,
            change: ReviewChange::CountedStars(5),
        },
        Step::EditBusiness {
            by: Who::User(new1),
            business: new_business,
            change: BusinessChange::RatingCount(99),
        },
        Step::EditBusiness {
            by: Who::User(new1),
            business: new_business,
            change: BusinessChange::Name(NameInput::Padded(3)),
        },
        Step::EditBusiness {
            by: Who::User(new1),
            business: new_business,
            change: BusinessChange::Phone(PhoneInput::E164),
        },
        Step::EditBusiness {
            by: Who::User(chen),
            business: new_business,
            change: BusinessChange::Name(NameInput::Plain(1)),
        },
        Step::EditBusiness {
            by: Who::Master,
            business: kuanzhai,
            change: BusinessChange::Owner(new1),
        },
        Step::MoveAddress {
            by: Who::Master,
            address: new_address,
            spot: 2,
        },
        Step::DeleteReview {
            by: Who::User(li),
            review: first_review,
        },
        Step::DeleteReview {
            by: Who::Master,
            review: first_review,
        },
        Step::DeleteBusiness {
            by: Who::Master,
            business: new_business,
        },
        Step::Moderate {
            by: Who::User(mei),
            business: new_business,
            status: StatusInput::Valid(Status::Suspended),
        },
    ];
    let mut state = initial.clone();
    for step in &steps {
        assert!(app::valid_step(&state, step), "{step:?} is not valid here");
        state = app::next_state(state, step);
    }
    (initial, steps)
}

/// Every step of `text` (a feature) matched by exactly one step definition of the
/// system suite; the problems otherwise.
fn undefined_steps(text: &str) -> Vec<String> {
    use cucumber::World as _;
    use cucumber::gherkin::{Feature, GherkinEnv};
    let feature = match Feature::parse(text, GherkinEnv::default()) {
        Ok(f) => f,
        Err(e) => return vec![format!("not Gherkin: {e}")],
    };
    let collection = system::World::collection();
    let mut out = Vec::new();
    for scenario in &feature.scenarios {
        for step in &scenario.steps {
            match collection.find(step) {
                Ok(Some(_)) => {}
                Ok(None) => out.push(format!(
                    "line {}: no step matches `{}`",
                    step.position.line, step.value
                )),
                Err(e) => out.push(format!(
                    "line {}: `{}` matches several steps: {e}",
                    step.position.line, step.value
                )),
            }
        }
    }
    out
}

#[test]
fn a_sequence_renders_to_steps_the_suite_defines() {
    let (initial, steps) = fixed_sequence();
    let text = app::feature("fixed", "a test of the writer", &initial, &steps);
    assert!(
        text.contains("@generated @fresh-app\nFeature: Generated: fixed"),
        "{text}"
    );
    assert!(
        text.contains("When I sign up as \"new.user1\" with:"),
        "{text}"
    );
    assert!(
        text.contains("| text  | a text of 2000 characters |")
            || text.contains("a text of 2000 characters"),
        "{text}"
    );
    let problems = undefined_steps(&text);
    assert!(problems.is_empty(), "{}\n\n{text}", problems.join("\n"));
}

#[test]
fn random_sequences_render_to_steps_the_suite_defines() {
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = AppModel::sequential_strategy(1..=30);
    let result = runner.run(&strategy, |(initial, steps, _)| {
        let text = app::feature("random", "", &initial, &steps);
        let problems = undefined_steps(&text);
        proptest::prop_assert!(problems.is_empty(), "{}\n\n{text}", problems.join("\n"));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Run a feature through the system suite's World, in-process, on the target
/// `LC_TARGET` names; whether every step passed.
async fn run_feature(text: &str, tag: &str) -> bool {
    use cucumber::World as _;
    let dir = std::env::temp_dir().join(format!("generative-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    std::fs::write(dir.join(format!("{tag}.feature")), text).expect("the feature is written");
    let writer = system::World::cucumber()
        .fail_on_skipped()
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .run(&dir)
        .await;
    let _ = std::fs::remove_dir_all(&dir);
    use cucumber::writer::Stats as _;
    !writer.execution_has_failed() && writer.passed_steps() > 0
}

/// Generated scenarios change fixture rows: they run only where each scenario has an
/// app of its own.
fn own_app() -> bool {
    !app::shared_target()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_feature_passes_in_the_system_suite() {
    if !own_app() {
        eprintln!("skipped: generated features are @fresh-app");
        return;
    }
    let (initial, steps) = fixed_sequence();
    let text = app::feature("fixed sequence", "a test of the writer", &initial, &steps);
    assert!(
        run_feature(&text, "passes").await,
        "the feature failed:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_feature_fails_where_the_model_and_the_app_differ() {
    if !own_app() {
        eprintln!("skipped: generated features are @fresh-app");
        return;
    }
    let (mut initial, steps) = fixed_sequence();
    // A model that is wrong about one fixture business: the scenario must catch it.
    let kuanzhai = initial
        .businesses
        .iter()
        .position(|b| b.label == "Kuanzhai Hot Pot")
        .expect("a fixture business");
    initial.businesses[kuanzhai].base_count += 1;
    let text = app::feature("wrong model", "a test of the writer", &initial, &steps);
    assert!(
        !run_feature(&text, "fails").await,
        "the feature passed:\n{text}"
    );
}
