//! The store at the size of a real app's data: indexed queries, the kept count, loading
//! and writing with a unique index, memory per object, snapshots and forks.
//!
//! Memory is measured, not guessed: the benchmark's global allocator counts the bytes
//! live at any moment ([`Counting`]); a figure is the difference across the work
//! measured, divided by the objects it stored.

use lc_model::limits::Budget;
use lc_model::objects::{self, Changes};
use lc_model::query::{self, Everything, FindParams};
use lc_model::{Principal, Store};
use leancloud::Request;
use mock_server::api::{Api, AppConfig};
use mock_server::settings::Settings;
use serde_json::{Map, Value, json};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

/// The system allocator, counting the bytes it has handed out and not yet taken back.
pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call goes to the system allocator unchanged; only a counter is kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as `dealloc` and `alloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Bytes allocated and not freed, now.
pub fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// The median of `runs` timings of `f`.
fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f();
        times.push(t.elapsed());
    }
    median(times)
}

fn get(api: &Api, path: &str, query: &[(&str, &str)]) -> Request {
    let cfg = api.config();
    let mut req = Request::new("GET", path)
        .with_header("x-lc-id", &cfg.app_id)
        .with_header("x-lc-key", &cfg.app_key);
    for &(k, v) in query {
        req = req.with_query(k, v);
    }
    req
}

fn as_master(api: &Api, req: Request) -> Request {
    req.with_header("x-lc-key", format!("{},master", api.config().master_key))
}

// ---- indexed queries ---------------------------------------------------------------------

const CATEGORIES: [&str; 4] = ["cafe", "bar", "shop", "gym"];

/// `n` items in a class indexed on `name`, `category` and `score` (as an `indexes.json`
/// would), created through the create rules.
fn indexed_items(n: usize) -> Api {
    let api = Api::new(AppConfig::default());
    {
        let mut store = api.store();
        let items = store.class_mut("Item");
        for key in ["name", "category", "score"] {
            items.add_index(vec![key.into()], false);
        }
        for i in 0..n {
            let body = json!({
                "name": format!("item {i}"),
                "category": CATEGORIES[i % CATEGORIES.len()],
                "score": (i * 7919) % 1000,
                "active": !i.is_multiple_of(3),
            });
            let changes = Changes::parse(body.as_object().unwrap(), false).unwrap();
            objects::create(&mut store, "Item", &changes, &Principal::master()).unwrap();
        }
    }
    api
}

/// The median time of a find in-process, its rows (or count) checked once.
fn find_median(api: &Api, req: &Request, runs: usize, check: impl Fn(&Value)) -> Duration {
    let resp = api.handle(req);
    assert_eq!(resp.status, 200);
    check(&resp.body_json().unwrap());
    time(runs, || {
        api.handle(req);
    })
}

/// The same find scanning every row (no index), in the model, for the ratio.
fn scan_median(api: &Api, params: &[(&str, &str)], runs: usize) -> Duration {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let params = FindParams::from_query(&params).unwrap();
    let store = api.read_store();
    time(runs, || {
        query::find_within(
            &store,
            "Item",
            &params,
            &Everything,
            Budget::default().without_indexes(),
        )
        .unwrap();
    })
}

pub fn indexed_queries(quick: bool) {
    let n = if quick { 10_000 } else { 100_000 };
    let runs = if quick { 20 } else { 200 };
    let api = indexed_items(n);

    let selective = [("where", r#"{"name":"item 4242"}"#)];
    let t = find_median(
        &api,
        &get(&api, "/1.1/classes/Item", &selective),
        runs,
        |b| assert_eq!(b["results"].as_array().unwrap().len(), 1),
    );
    let scan = scan_median(&api, &selective, if quick { 3 } else { 11 });
    println!(
        "selective equality on an indexed column over {n} rows: median {} (goal <= 0.2 ms: {}); scanning instead: {} ({:.0}x)",
        ms(t),
        verdict(t <= Duration::from_micros(200)),
        ms(scan),
        scan.as_secs_f64() / t.as_secs_f64()
    );

    let count = [("count", "1"), ("limit", "0")];
    let master = as_master(&api, get(&api, "/1.1/classes/Item", &count));
    let t = find_median(&api, &master, runs, |b| {
        assert_eq!(b["count"].as_u64(), Some(n as u64))
    });
    let client = get(&api, "/1.1/classes/Item", &count);
    let t_client = find_median(&api, &client, if quick { 3 } else { 11 }, |b| {
        assert_eq!(b["count"].as_u64(), Some(n as u64))
    });
    println!(
        "count of a class of {n} rows, master key: median {} (goal <= 0.05 ms: {}); a client's count, each row's ACL read: {}",
        ms(t),
        verdict(t <= Duration::from_micros(50)),
        ms(t_client)
    );

    let ranged = [
        (
            "where",
            r#"{"score":{"$gte":100},"category":{"$in":["cafe","bar"]}}"#,
        ),
        ("order", "-score"),
        ("limit", "10"),
    ];
    let t = find_median(&api, &get(&api, "/1.1/classes/Item", &ranged), runs, |b| {
        let rows = b["results"].as_array().unwrap();
        assert_eq!(rows.len(), 10);
        assert!(rows.iter().all(|r| r["score"].as_u64() == Some(999)));
    });
    let scan = scan_median(&api, &ranged, if quick { 3 } else { 11 });
    println!(
        "$gte + $in + order + limit 10 on indexed columns over {n} rows: median {} (goal <= 5 ms: {}); scanning instead: {} ({:.0}x)",
        ms(t),
        verdict(t <= Duration::from_millis(5)),
        ms(scan),
        scan.as_secs_f64() / t.as_secs_f64()
    );
}

// ---- the app's data at size --------------------------------------------------------------

fn fixtures() -> Settings {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/database_settings");
    Settings::load(dir).expect("the app's fixtures load")
}

fn pointer(class: &str, id: &str) -> Value {
    json!({"__type": "Pointer", "className": class, "objectId": id})
}

fn user_row(id: &str, token: Option<&str>) -> lc_model::settings::Row {
    let mut fields = Map::new();
    fields.insert("username".into(), json!(format!("bench-{id}")));
    fields.insert("displayName".into(), json!("Bench"));
    lc_model::settings::Row {
        object_id: Some(id.into()),
        session_token: token.map(str::to_string),
        fields,
        ..Default::default()
    }
}

/// Session tokens of the users who write the timed reviews (none of them has one yet).
fn timed_token(k: usize) -> String {
    format!("benchtimedsession{k:08}")
}

/// The app's fixtures plus `timed` users with session tokens (reviewers to be), and
/// `extra` reviews of the active businesses by other, generated users.
fn app_settings(timed: usize, extra: usize) -> (Settings, Vec<String>) {
    let mut settings = fixtures();
    let active: Vec<String> = settings
        .classes
        .iter()
        .find(|c| c.name == "Business")
        .unwrap()
        .population
        .iter()
        .filter(|r| r.fields.get("status") == Some(&json!("active")))
        .map(|r| r.object_id.clone().unwrap())
        .collect();
    let businesses = active.len();
    let authors = extra.div_ceil(businesses);
    let users = settings
        .classes
        .iter_mut()
        .find(|c| c.name == "_User")
        .unwrap();
    for k in 0..timed {
        let id = format!("b0000000000000000{k:07}");
        users.population.push(user_row(&id, Some(&timed_token(k))));
    }
    for a in 0..authors {
        users
            .population
            .push(user_row(&format!("a0000000000000000{a:07}"), None));
    }
    let reviews = settings
        .classes
        .iter_mut()
        .find(|c| c.name == "Review")
        .unwrap();
    for i in 0..extra {
        let author = format!("a0000000000000000{:07}", i / businesses);
        let mut fields = Map::new();
        fields.insert(
            "business".into(),
            pointer("Business", &active[i % businesses]),
        );
        fields.insert("author".into(), pointer("_User", &author));
        fields.insert("stars".into(), json!(1 + i % 5));
        fields.insert("countedStars".into(), json!(1 + i % 5));
        fields.insert("text".into(), json!("Generated for the benchmark."));
        fields.insert(
            "ACL".into(),
            json!({author.clone(): {"read": true, "write": true}, "*": {"read": true}}),
        );
        reviews.population.push(lc_model::settings::Row {
            fields,
            ..Default::default()
        });
    }
    (settings, active)
}

pub fn loading(quick: bool) {
    let extra = if quick { 2_000 } else { 20_000 };
    let (settings, _) = app_settings(0, extra);
    let reviews = settings
        .classes
        .iter()
        .find(|c| c.name == "Review")
        .unwrap()
        .population
        .len();
    let mut times = Vec::new();
    for _ in 0..if quick { 1 } else { 5 } {
        let t = Instant::now();
        let api = Api::with_settings(AppConfig::default(), &settings).unwrap();
        times.push(t.elapsed());
        assert_eq!(
            api.read_store().class("Review").unwrap().objects.len(),
            reviews
        );
    }
    let t = median(times);
    println!(
        "load of the app's settings with {reviews} reviews (unique index on business + author): median {} (goal <= 1 s for 20,000: {})",
        ms(t),
        verdict(t <= Duration::from_secs(1))
    );
}

/// A review of `business` by timed user `k`, as the app's client sends it.
fn review_request(api: &Api, k: usize, business: &str) -> Request {
    let cfg = api.config();
    Request::new("POST", "/1.1/classes/Review")
        .with_header("x-lc-id", &cfg.app_id)
        .with_header("x-lc-key", &cfg.app_key)
        .with_header("x-lc-session", timed_token(k))
        .with_json(&json!({
            "business": pointer("Business", business),
            "stars": 4,
            "text": "Timed by the benchmark.",
        }))
}

/// An app with the fixtures, `extra` more reviews and users to write `creates` more,
/// the app's cloud code attached; and the active businesses.
fn review_app(extra: usize, creates: usize) -> (Arc<Api>, Vec<String>) {
    let (settings, active) = app_settings(creates.div_ceil(10), extra);
    let api = Arc::new(Api::with_settings(AppConfig::default(), &settings).unwrap());
    api.attach_registry(cloud::registry()).unwrap();
    (api, active)
}

/// One review create through the app's hooks (the `i`-th: a user and business that have
/// no review yet): the latency the client sees (afterSave runs on), and the whole cost
/// (until the afterSave and what it writes are done).
fn review_create(api: &Api, active: &[String], i: usize) -> (Duration, Duration) {
    let req = review_request(api, i / 10, &active[i % 10]);
    let t = Instant::now();
    let resp = api.handle(&req);
    let answered = t.elapsed();
    assert!(
        api.idle_blocking(Duration::from_secs(30)),
        "the afterSave finishes"
    );
    let done = t.elapsed();
    assert_eq!(resp.status, 201, "{:?}", resp.body_json());
    (answered, done)
}

pub fn hooked_review_creates(quick: bool) {
    let (warm_up, creates) = if quick { (20, 60) } else { (100, 400) };
    let extra = if quick { 2_000 } else { 20_000 };
    let (small, active) = review_app(0, warm_up + creates);
    let (big, _) = review_app(extra, warm_up + creates);
    let count = |api: &Api| api.read_store().class("Review").unwrap().objects.len();
    let (small_n, big_n) = (count(&small), count(&big));
    // The two apps take turns, so that the machine's noise falls on both alike.
    let (mut small_seen, mut small_whole, mut big_seen, mut big_whole) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..warm_up + creates {
        let (a, b) = if i % 2 == 0 {
            let a = review_create(&small, &active, i);
            (a, review_create(&big, &active, i))
        } else {
            let b = review_create(&big, &active, i);
            (review_create(&small, &active, i), b)
        };
        if i >= warm_up {
            small_seen.push(a.0);
            small_whole.push(a.1);
            big_seen.push(b.0);
            big_whole.push(b.1);
        }
    }
    let (small_seen, small_whole) = (median(small_seen), median(small_whole));
    let (big_seen, big_whole) = (median(big_seen), median(big_whole));
    let ratio = big_whole.as_secs_f64() / small_whole.as_secs_f64();
    println!(
        "the app's review create (beforeSave counts the author's reviews, afterSave moves the counters), in-process, at {small_n} reviews: answered in {}, done (afterSave included) in {} (medians of {creates}, the two apps taking turns)",
        us(small_seen),
        us(small_whole)
    );
    println!(
        "  at {big_n} reviews: answered in {} ({:.2}x), done in {} ({ratio:.2}x; goal <= 1.3x: {})",
        us(big_seen),
        big_seen.as_secs_f64() / small_seen.as_secs_f64(),
        us(big_whole),
        verdict(ratio <= 1.3)
    );
}

// ---- memory, snapshots, forks ------------------------------------------------------------

/// An object of about 200 bytes of JSON.
fn object(i: usize) -> Map<String, Value> {
    let v = json!({
        "name": format!("item {i:08}"),
        "category": CATEGORIES[i % CATEGORIES.len()],
        "score": (i * 7919) % 1000,
        "active": !i.is_multiple_of(3),
        "tags": ["coffee", "quiet"],
        "owner": pointer("_User", &format!("{:024x}", i % 5000)),
        "ACL": {"*": {"read": true, "write": true}},
    });
    v.as_object().unwrap().clone()
}

/// Bytes per object stored by `n` creates into an empty store.
fn created_bytes(n: usize) -> (Store, f64) {
    let mut store = Store::default();
    let before = live();
    for i in 0..n {
        let changes = Changes::parse(&object(i), false).unwrap();
        objects::create(&mut store, "Thing", &changes, &Principal::master()).unwrap();
    }
    let bytes = (live() - before) as f64 / n as f64;
    (store, bytes)
}

pub fn memory_snapshots_forks(quick: bool) {
    let n = if quick { 10_000 } else { 100_000 };
    let json_len = serde_json::to_string(&object(42)).unwrap().len();
    let (_, created) = created_bytes(n);
    println!(
        "memory: {created:.0} bytes per object ({json_len} bytes of JSON each) over {n} created objects, indexes included (goal <= 800: {})",
        verdict(created <= 800.0)
    );

    // The same objects as database-settings rows, loaded into an app (its reset point
    // included).
    let rows: Vec<lc_model::settings::Row> = (0..n)
        .map(|i| lc_model::settings::Row {
            fields: object(i),
            ..Default::default()
        })
        .collect();
    let settings = Settings {
        classes: vec![lc_model::settings::ClassSpec {
            name: "Thing".into(),
            population: rows,
            ..Default::default()
        }],
        ..Settings::default()
    };
    let before = live();
    let api = Api::with_settings(AppConfig::default(), &settings).unwrap();
    let loaded = (live() - before) as f64 / n as f64;
    drop(settings);
    println!(
        "  loaded from database settings into an app (reset point kept): {loaded:.0} bytes per object ({:.2}x created; goal <= 1x: {})",
        loaded / created,
        verdict(loaded <= created * 1.02)
    );

    if !quick {
        let million = 1_000_000;
        let (store, per) = created_bytes(million);
        let total = per * million as f64;
        println!(
            "  a million such objects: {:.0} MiB (goal <= 1 GiB: {})",
            total / (1024.0 * 1024.0),
            verdict(total <= 1024.0 * 1024.0 * 1024.0)
        );
        drop(store);
    }

    // Snapshots, restores, resets and forks of the app of n rows.
    let runs = if quick { 100 } else { 2000 };
    let goal = Duration::from_micros(100);
    let save = time(runs, || api.save_snapshot("bench").unwrap());
    let restore = time(runs, || api.restore_snapshot("bench").unwrap());
    let reset = time(runs, || api.reset());
    let mut forks = Vec::with_capacity(runs);
    let fork = time(runs, || forks.push(api.fork()));
    drop(forks);
    let req = as_master(&api, Request::new("POST", "/__mock/snapshots"))
        .with_header("x-lc-id", &api.config().app_id)
        .with_json(&json!({"name": "over-http"}));
    let over_http = time(runs, || {
        assert_eq!(api.handle(&req).status, 200);
    });
    println!(
        "at {n} objects: snapshot {} ({}), restore {} ({}), reset {} ({}), fork {} ({}); goal <= 100 µs each; a snapshot through POST /__mock/snapshots in-process: {}",
        us(save),
        verdict(save <= goal),
        us(restore),
        verdict(restore <= goal),
        us(reset),
        verdict(reset <= goal),
        us(fork),
        verdict(fork <= goal),
        us(over_http)
    );

    // The first write to a class a fork shares copies the path to the row, not the class.
    let class_bytes = loaded * n as f64;
    let mut firsts = Vec::new();
    let mut copied = Vec::new();
    for _ in 0..if quick { 5 } else { 21 } {
        let fork = api.fork();
        let mut store = fork.store();
        let changes = Changes::parse(&object(n + 1), false).unwrap();
        let before = live();
        let t = Instant::now();
        objects::create(&mut store, "Thing", &changes, &Principal::master()).unwrap();
        firsts.push(t.elapsed());
        copied.push(live() - before);
    }
    copied.sort();
    println!(
        "  the first create in a fork: median {}, {} bytes allocated (the class holds {:.0} MiB)",
        us(median(firsts)),
        copied[copied.len() / 2],
        class_bytes / (1024.0 * 1024.0)
    );
}

// ---- the standalone server -----------------------------------------------------------------

/// `lc-mock serve` from spawn to its one line (its URL), median of `runs` starts.
pub fn standalone_ready(quick: bool) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let runs = if quick { 5 } else { 21 };
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_lc-mock"))
            .args(["serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("lc-mock starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        times.push(t.elapsed());
        assert!(line.starts_with("http://127.0.0.1:"), "{line}");
        let _ = child.kill();
        let _ = child.wait();
    }
    let t = median(times);
    println!(
        "standalone server (lc-mock serve) ready: median {} over {runs} starts (goal <= 10 ms: {})",
        ms(t),
        verdict(t <= Duration::from_millis(10))
    );
}
