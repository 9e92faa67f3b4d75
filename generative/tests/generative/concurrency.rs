//! Concurrency on the standalone server (axum over 127.0.0.1): several clients, each a
//! tokio task with its own HTTP client, send their requests at the same time; afterwards
//! nothing accepted is lost and the counters agree with what was done.
//!
//! - `increments_and_appends_lose_nothing`: an empty app; clients increment counters
//!   (asking for the new value, `new=true`), append their own tokens to lists and create
//!   objects. Every request must be accepted; afterwards each counter holds the sum of
//!   its increments, each list every token appended, every created object exists; and
//!   the values the increments answered are those of one increment after another (the
//!   sorted answers step by exactly the amounts), so no two increments saw the same
//!   counter.
//! - `reviews_keep_the_rating_counters_right`: the app (fixtures from
//!   `fixtures/database_settings` and its cloud code, `cloud::registry()`); each client
//!   logs in as a different fixture user (`<username>-pass`) and reviews businesses it
//!   may review, sometimes changing the stars at once, sometimes having the review
//!   deleted at once with the master key, racing its own after-hooks. After
//!   `Api::idle`, for every business `ratingCount`, `ratingSum` and `ratingAvg` (half up
//!   to 2 decimals) agree with its reviews, every user's `reviewCount` with the reviews
//!   they wrote, and every accepted review is stored with its last accepted stars.
//!
//! Sizes (environment variables, read once): `GENERATIVE_CLIENTS` (default 8; at most 14
//! for the reviews, one per fixture user who may log in), `GENERATIVE_OPS_PER_CLIENT`
//! (default 25), `GENERATIVE_REVIEWS_PER_CLIENT` (default 3),
//! `GENERATIVE_CONCURRENCY_CASES` (runs of each test, default 3 and 2; each run is a
//! whole server, so `PROPTEST_CASES` does not apply). Every run is bounded by a 60 s
//! timeout.

use generative::check_with;
use mock_server::api::{Api, AppConfig};
use mock_server::http::standalone::Standalone;
use mock_server::settings::Settings;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn clients() -> usize {
    env_usize("GENERATIVE_CLIENTS", 8).max(1)
}

/// A run's settings: few cases, each a whole server; shrinking a failure reruns it, so
/// keep that short too.
fn config(default_cases: usize) -> Config {
    Config {
        cases: env_usize("GENERATIVE_CONCURRENCY_CASES", default_cases) as u32,
        max_shrink_iters: 16,
        ..Config::default()
    }
}

const RUN_LIMIT: Duration = Duration::from_secs(60);

/// HTTP requests each test sent, for the figures (the tests run at the same time).
static COUNTER_REQUESTS: AtomicU64 = AtomicU64::new(0);
static REVIEW_REQUESTS: AtomicU64 = AtomicU64::new(0);

/// Run `body` and print how many requests it sent, and how fast.
fn with_figures(name: &str, requests: &AtomicU64, body: impl FnOnce()) {
    use std::io::Write;
    let before = requests.load(Ordering::Relaxed);
    let start = std::time::Instant::now();
    body();
    let secs = start.elapsed().as_secs_f64();
    let sent = requests.load(Ordering::Relaxed) - before;
    let _ = writeln!(
        std::io::stderr(),
        "[generative] {name}: {sent} HTTP requests from {} clients in {secs:.2} s, {:.0} requests/s",
        clients(),
        sent as f64 / secs.max(1e-9),
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The keys a request carries.
#[derive(Debug, Clone)]
enum Key {
    Master,
    App,
    Session(String),
}

#[derive(Clone)]
struct Http {
    client: reqwest::Client,
    base: String,
    config: AppConfig,
    requests: &'static AtomicU64,
}

impl Http {
    fn new(base: &str, config: &AppConfig, requests: &'static AtomicU64) -> Http {
        Http {
            client: reqwest::Client::new(),
            base: base.to_string(),
            config: config.clone(),
            requests,
        }
    }

    async fn send(
        &self,
        key: &Key,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-lc-id", &self.config.app_id);
        req = match key {
            Key::Master => req.header("x-lc-key", format!("{},master", self.config.master_key)),
            Key::App => req.header("x-lc-key", &self.config.app_key),
            Key::Session(token) => req
                .header("x-lc-key", &self.config.app_key)
                .header("x-lc-session", token),
        };
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap_or_default();
                (
                    status,
                    serde_json::from_str(&text).unwrap_or(json!({"unparsed": text})),
                )
            }
            Err(e) => (0, json!({"transport": e.to_string()})),
        }
    }
}

// ---- increments, appends, creates ---------------------------------------------------------

const COUNTERS: usize = 3;

#[derive(Debug, Clone)]
enum CounterOp {
    Increment(usize, i64),
    Append(usize),
    Create,
    Read(usize),
}

fn arb_counter_op() -> impl Strategy<Value = CounterOp> {
    prop_oneof![
        4 => (0..COUNTERS, 1i64..=5).prop_map(|(c, d)| CounterOp::Increment(c, d)),
        2 => (0..COUNTERS).prop_map(CounterOp::Append),
        1 => Just(CounterOp::Create),
        1 => (0..COUNTERS).prop_map(CounterOp::Read),
    ]
}

/// What one accepted request did.
#[derive(Debug)]
enum Done {
    Incremented {
        counter: usize,
        amount: i64,
        seen: i64,
    },
    Appended {
        counter: usize,
        token: String,
    },
    Created(String),
    Read,
    Refused(String),
}

async fn run_counter_client(
    http: Http,
    client: usize,
    ids: Vec<String>,
    plan: Vec<CounterOp>,
) -> Vec<Done> {
    let key = if client.is_multiple_of(2) {
        Key::App
    } else {
        Key::Master
    };
    let mut done = Vec::with_capacity(plan.len());
    for (seq, op) in plan.into_iter().enumerate() {
        let (status, body, record) = match &op {
            CounterOp::Increment(c, d) => {
                let path = format!("/1.1/classes/Counter/{}?new=true", ids[*c]);
                let (s, b) = http
                    .send(
                        &key,
                        "PUT",
                        &path,
                        Some(&json!({"a": {"__op": "Increment", "amount": d}})),
                    )
                    .await;
                let seen = b["a"].as_i64().unwrap_or(i64::MIN);
                (
                    s,
                    b,
                    Done::Incremented {
                        counter: *c,
                        amount: *d,
                        seen,
                    },
                )
            }
            CounterOp::Append(c) => {
                let token = format!("c{client}-{seq}");
                let path = format!("/1.1/classes/Counter/{}", ids[*c]);
                let (s, b) = http
                    .send(
                        &key,
                        "PUT",
                        &path,
                        Some(&json!({"log": {"__op": "Add", "objects": [token]}})),
                    )
                    .await;
                (s, b, Done::Appended { counter: *c, token })
            }
            CounterOp::Create => {
                let (s, b) = http
                    .send(
                        &key,
                        "POST",
                        "/1.1/classes/Note",
                        Some(&json!({"client": client, "seq": seq})),
                    )
                    .await;
                let id = b["objectId"].as_str().unwrap_or_default().to_string();
                (s, b, Done::Created(id))
            }
            CounterOp::Read(c) => {
                let (s, b) = http
                    .send(
                        &key,
                        "GET",
                        &format!("/1.1/classes/Counter/{}", ids[*c]),
                        None,
                    )
                    .await;
                (s, b, Done::Read)
            }
        };
        done.push(if (200..300).contains(&status) {
            record
        } else {
            Done::Refused(format!("client {client}: {op:?} -> {status} {body}"))
        });
    }
    done
}

async fn counters_case(plans: Vec<Vec<CounterOp>>) -> Result<(), TestCaseError> {
    let config = AppConfig::default();
    let api = Arc::new(Api::new(config.clone()));
    let server = Standalone::start("127.0.0.1:0".parse().unwrap(), api.clone())
        .await
        .expect("the standalone server starts");
    let setup = Http::new(&server.uri(), &config, &COUNTER_REQUESTS);
    let mut ids = Vec::new();
    for _ in 0..COUNTERS {
        let (status, body) = setup
            .send(
                &Key::Master,
                "POST",
                "/1.1/classes/Counter",
                Some(&json!({"a": 0, "log": []})),
            )
            .await;
        prop_assert_eq!(status, 201, "setup: {}", body);
        ids.push(body["objectId"].as_str().unwrap().to_string());
    }
    let tasks: Vec<_> = plans
        .into_iter()
        .enumerate()
        .map(|(client, plan)| {
            let http = Http::new(&server.uri(), &config, &COUNTER_REQUESTS);
            tokio::spawn(run_counter_client(http, client, ids.clone(), plan))
        })
        .collect();
    let mut done = Vec::new();
    for task in tasks {
        done.extend(task.await.expect("a client task ends"));
    }

    let refused: Vec<&String> = done
        .iter()
        .filter_map(|d| match d {
            Done::Refused(r) => Some(r),
            _ => None,
        })
        .collect();
    prop_assert!(refused.is_empty(), "refused: {:?}", refused);
    for (c, id) in ids.iter().enumerate() {
        let (_, stored) = setup
            .send(
                &Key::Master,
                "GET",
                &format!("/1.1/classes/Counter/{id}"),
                None,
            )
            .await;
        let amounts: Vec<i64> = done
            .iter()
            .filter_map(|d| match d {
                Done::Incremented {
                    counter, amount, ..
                } if *counter == c => Some(*amount),
                _ => None,
            })
            .collect();
        prop_assert_eq!(
            stored["a"].as_i64(),
            Some(amounts.iter().sum::<i64>()),
            "counter {}: {}",
            c,
            stored
        );
        // One increment after another: the answers, sorted, step by exactly the amounts.
        let mut seen: Vec<i64> = done
            .iter()
            .filter_map(|d| match d {
                Done::Incremented { counter, seen, .. } if *counter == c => Some(*seen),
                _ => None,
            })
            .collect();
        seen.sort_unstable();
        let mut steps: Vec<i64> = seen
            .iter()
            .scan(0, |prev, &s| {
                let step = s - *prev;
                *prev = s;
                Some(step)
            })
            .collect();
        let mut sorted_amounts = amounts.clone();
        steps.sort_unstable();
        sorted_amounts.sort_unstable();
        prop_assert_eq!(
            steps,
            sorted_amounts,
            "counter {}: increments answered {:?}",
            c,
            seen
        );
        let mut log: Vec<String> = stored["log"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut tokens: Vec<String> = done
            .iter()
            .filter_map(|d| match d {
                Done::Appended { counter, token } if *counter == c => Some(token.clone()),
                _ => None,
            })
            .collect();
        log.sort();
        tokens.sort();
        prop_assert_eq!(log, tokens, "counter {}'s list", c);
    }
    let created: BTreeSet<String> = done
        .iter()
        .filter_map(|d| match d {
            Done::Created(id) => Some(id.clone()),
            _ => None,
        })
        .collect();
    if !created.is_empty() {
        let (status, body) = setup
            .send(
                &Key::Master,
                "GET",
                "/1.1/classes/Note?limit=1000&keys=objectId",
                None,
            )
            .await;
        prop_assert_eq!(status, 200, "{}", body);
        let stored: BTreeSet<String> = body["results"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| r["objectId"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        prop_assert_eq!(stored, created, "created notes");
    }
    Ok(())
}

#[test]
fn increments_and_appends_lose_nothing() {
    let rt = runtime();
    let ops = env_usize("GENERATIVE_OPS_PER_CLIENT", 25);
    let plans = prop::collection::vec(prop::collection::vec(arb_counter_op(), ops), clients());
    with_figures("concurrency_counters", &COUNTER_REQUESTS, || {
        check_with("concurrency_counters", config(3), plans, |plans| {
            rt.block_on(async {
                tokio::time::timeout(RUN_LIMIT, counters_case(plans))
                    .await
                    .unwrap_or_else(|_| {
                        Err(TestCaseError::fail(format!(
                            "not done within {RUN_LIMIT:?}"
                        )))
                    })
            })
        });
    });
}

// ---- reviews ------------------------------------------------------------------------------

/// One review a client writes: which of the businesses it may still review, its stars,
/// then maybe new stars, then maybe its deletion.
#[derive(Debug, Clone)]
struct ReviewPlan {
    business: Index,
    stars: i64,
    edit: Option<i64>,
    delete: bool,
}

fn arb_review_plan() -> impl Strategy<Value = ReviewPlan> {
    (
        any::<Index>(),
        1i64..=5,
        prop::option::weighted(0.4, 1i64..=5),
        prop::bool::weighted(0.25),
    )
        .prop_map(|(business, stars, edit, delete)| ReviewPlan {
            business,
            stars,
            edit,
            delete,
        })
}

fn id_of(v: &Value, key: &str) -> Option<String> {
    v.get(key)?.get("objectId")?.as_str().map(str::to_string)
}

async fn all(http: &Http, class: &str) -> Vec<Value> {
    let (status, body) = http
        .send(
            &Key::Master,
            "GET",
            &format!("/1.1/classes/{class}?limit=1000"),
            None,
        )
        .await;
    assert_eq!(status, 200, "listing {class}: {body}");
    body["results"].as_array().cloned().unwrap_or_default()
}

/// A review as a client left it: `None` stars when it was deleted.
#[derive(Debug)]
struct Outcome {
    id: String,
    stars: Option<i64>,
}

/// The average the app stores: half up to 2 decimals, 0 without reviews.
fn average(sum: i64, count: i64) -> f64 {
    if count == 0 {
        return 0.0;
    }
    let hundredths = (2 * 100 * sum + count).div_euclid(2 * count);
    hundredths as f64 / 100.0
}

async fn run_reviewer(
    http: Http,
    token: String,
    targets: Vec<String>,
    plan: Vec<ReviewPlan>,
) -> Result<Vec<Outcome>, String> {
    let me = Key::Session(token);
    let mut left = targets;
    let mut out = Vec::new();
    for p in plan {
        if left.is_empty() {
            break;
        }
        let business = left.remove(p.business.index(left.len()));
        let body = json!({
            "business": {"__type": "Pointer", "className": "Business", "objectId": business},
            "stars": p.stars,
            "text": format!("{} stars", p.stars),
        });
        let (status, answer) = http
            .send(&me, "POST", "/1.1/classes/Review", Some(&body))
            .await;
        if status != 201 {
            return Err(format!("review of {business}: {status} {answer}"));
        }
        let id = answer["objectId"].as_str().unwrap_or_default().to_string();
        let mut stars = Some(p.stars);
        if let Some(edit) = p.edit {
            let path = format!("/1.1/classes/Review/{id}");
            let (status, answer) = http
                .send(&me, "PUT", &path, Some(&json!({"stars": edit})))
                .await;
            if status != 200 {
                return Err(format!("edit of {id}: {status} {answer}"));
            }
            stars = Some(edit);
        }
        if p.delete {
            let path = format!("/1.1/classes/Review/{id}");
            let (status, answer) = http.send(&Key::Master, "DELETE", &path, None).await;
            if status != 200 {
                return Err(format!("delete of {id}: {status} {answer}"));
            }
            stars = None;
        }
        out.push(Outcome { id, stars });
    }
    Ok(out)
}

async fn reviews_case(plans: Vec<Vec<ReviewPlan>>) -> Result<(), TestCaseError> {
    let config = AppConfig::default();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/database_settings");
    let settings = Settings::load(dir).expect("the app's fixtures load");
    let api = Arc::new(Api::with_settings(config.clone(), &settings).expect("the fixtures apply"));
    api.attach_registry(cloud::registry())
        .expect("the app's cloud code attaches");
    let server = Standalone::start("127.0.0.1:0".parse().unwrap(), api.clone())
        .await
        .expect("the standalone server starts");
    let admin = Http::new(&server.uri(), &config, &REVIEW_REQUESTS);

    // Who may review what: active businesses the user does not own and has not reviewed.
    let users = all(&admin, "_User").await;
    let businesses = all(&admin, "Business").await;
    let reviews = all(&admin, "Review").await;
    let reviewers: Vec<&Value> = users
        .iter()
        .filter(|u| u["banned"] != json!(true))
        .take(plans.len())
        .collect();
    let mut tasks = Vec::new();
    for (user, plan) in reviewers.iter().zip(plans) {
        let name = user["username"].as_str().unwrap_or_default();
        let user_id = user["objectId"].as_str().unwrap_or_default();
        let (status, login) = admin
            .send(
                &Key::App,
                "POST",
                "/1.1/login",
                Some(&json!({"username": name, "password": format!("{name}-pass")})),
            )
            .await;
        prop_assert_eq!(status, 200, "login of {}: {}", name, login);
        let token = login["sessionToken"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let reviewed: BTreeSet<String> = reviews
            .iter()
            .filter(|r| id_of(r, "author").as_deref() == Some(user_id))
            .filter_map(|r| id_of(r, "business"))
            .collect();
        let targets: Vec<String> = businesses
            .iter()
            .filter(|b| b["status"] == json!("active"))
            .filter(|b| id_of(b, "owner").as_deref() != Some(user_id))
            .filter_map(|b| b["objectId"].as_str().map(str::to_string))
            .filter(|b| !reviewed.contains(b))
            .collect();
        let http = Http::new(&server.uri(), &config, &REVIEW_REQUESTS);
        tasks.push(tokio::spawn(run_reviewer(http, token, targets, plan)));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        match task.await.expect("a client task ends") {
            Ok(o) => outcomes.extend(o),
            Err(e) => prop_assert!(false, "refused: {}", e),
        }
    }
    let idle = tokio::time::timeout(Duration::from_secs(30), api.idle()).await;
    prop_assert!(idle.is_ok(), "the after-hooks did not finish within 30 s");

    let reviews = all(&admin, "Review").await;
    let by_id: BTreeMap<String, &Value> = reviews
        .iter()
        .filter_map(|r| Some((r["objectId"].as_str()?.to_string(), r)))
        .collect();
    for o in &outcomes {
        match o.stars {
            Some(stars) => {
                let stored = by_id.get(&o.id);
                prop_assert!(stored.is_some(), "accepted review {} is gone", o.id);
                prop_assert_eq!(
                    stored.unwrap()["stars"].as_i64(),
                    Some(stars),
                    "review {}",
                    o.id
                );
            }
            None => prop_assert!(
                !by_id.contains_key(&o.id),
                "deleted review {} is back",
                o.id
            ),
        }
    }
    let mut per_business: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut per_author: BTreeMap<String, i64> = BTreeMap::new();
    for r in &reviews {
        let stars = r["stars"].as_i64().unwrap_or(0);
        if let Some(b) = id_of(r, "business") {
            let e = per_business.entry(b).or_default();
            e.0 += 1;
            e.1 += stars;
        }
        if let Some(a) = id_of(r, "author") {
            *per_author.entry(a).or_default() += 1;
        }
    }
    for b in all(&admin, "Business").await {
        let id = b["objectId"].as_str().unwrap_or_default();
        let (count, sum) = per_business.get(id).copied().unwrap_or_default();
        let shown = format!(
            "business {id}: {}",
            json!({"ratingCount": b["ratingCount"], "ratingSum": b["ratingSum"], "ratingAvg": b["ratingAvg"]})
        );
        prop_assert_eq!(b["ratingCount"].as_i64().unwrap_or(0), count, "{}", shown);
        prop_assert_eq!(b["ratingSum"].as_i64().unwrap_or(0), sum, "{}", shown);
        let avg = b["ratingAvg"].as_f64().unwrap_or(0.0);
        prop_assert!(
            (avg - average(sum, count)).abs() < 1e-9,
            "{}: expected average {}",
            shown,
            average(sum, count)
        );
    }
    for u in all(&admin, "_User").await {
        let id = u["objectId"].as_str().unwrap_or_default();
        let want = per_author.get(id).copied().unwrap_or(0);
        prop_assert_eq!(
            u["reviewCount"].as_i64().unwrap_or(0),
            want,
            "reviewCount of {}",
            u["username"]
        );
    }
    Ok(())
}

#[test]
fn reviews_keep_the_rating_counters_right() {
    let rt = runtime();
    let per_client = env_usize("GENERATIVE_REVIEWS_PER_CLIENT", 3);
    let plans = prop::collection::vec(
        prop::collection::vec(arb_review_plan(), per_client),
        clients().min(14),
    );
    with_figures("concurrency_reviews", &REVIEW_REQUESTS, || {
        check_with("concurrency_reviews", config(2), plans, |plans| {
            rt.block_on(async {
                tokio::time::timeout(RUN_LIMIT, reviews_case(plans))
                    .await
                    .unwrap_or_else(|_| {
                        Err(TestCaseError::fail(format!(
                            "not done within {RUN_LIMIT:?}"
                        )))
                    })
            })
        });
    });
}

#[test]
fn the_average_is_rounded_half_up_to_two_decimals() {
    // The fixtures' own examples (fixtures/database_settings/README.md).
    assert_eq!(average(31, 7), 4.43);
    assert_eq!(average(33, 8), 4.13);
    assert_eq!(average(0, 0), 0.0);
    assert_eq!(average(8, 2), 4.0);
}
