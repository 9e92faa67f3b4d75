//! How much memory the traces hold, measured: this test binary counts every heap byte
//! allocated and freed (a counting global allocator), so the figures are the live and
//! peak heap of the process, not an estimate of the traces' own accounting. Its tests
//! take turns, so that nothing else allocates while one measures.
//!
//! Issue 13, finding 3: 60 creates of a 15 MiB string, each refused with 105, grew the
//! server from 17 MB to 1.8 GB (the body and the error naming the string were both kept
//! whole), and `GET /__mock/traces` answered 944 MB.

use leancloud::Request;
use mock_server::api::trace::{TRACE_BODY_BYTES, TRACE_BYTES, TraceLimits};
use mock_server::api::{Api, AppConfig};
use serde_json::{Map, Value, json};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One measuring test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is passed to the system allocator unchanged; only counters are kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: usize = 1024 * 1024;

fn signed(req: Request, key: &str) -> Request {
    req.with_header("x-lc-id", "lc-mock-app")
        .with_header("x-lc-key", key)
}

/// `N` of a `[cut: N bytes]` marker.
fn cut_bytes(marker: &str) -> usize {
    marker
        .strip_prefix("[cut: ")
        .and_then(|m| m.strip_suffix(" bytes]"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a cut marker: {marker}"))
}

#[test]
fn sixty_refused_fifteen_mib_creates_leave_the_process_far_under_200_mb() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let api = Api::new(AppConfig::default());
    // A 15 MiB string under a key the service refuses, and (every tenth create) a 15 MiB
    // key, which the 105 error names: both the body and the error are that large.
    let mut value_body = b"{\"bad key\":\"".to_vec();
    value_body.resize(value_body.len() + 15 * MIB, b'v');
    value_body.extend_from_slice(b"\"}");
    let mut key_body = b"{\"".to_vec();
    key_body.resize(key_body.len() + 15 * MIB, b'k');
    key_body.extend_from_slice(b"\":1}");
    // The two bodies are the client's; what the server holds is counted from here.
    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    for i in 0..60 {
        let mut create = signed(Request::new("POST", "/1.1/classes/Big"), "lc-mock-key");
        create.body = if i % 10 == 9 { &key_body } else { &value_body }.clone();
        let answer = api.handle(&create);
        assert_eq!(answer.status, 400);
        assert!(answer.body.starts_with(b"{\"code\":105,"), "create {i}");
    }
    let retained = LIVE.load(Ordering::Relaxed).saturating_sub(baseline);
    let counted = api.trace_bytes();

    let shown = api.handle(&signed(
        Request::new("GET", "/__mock/traces"),
        "lc-mock-master,master",
    ));
    assert_eq!(shown.status, 200);
    let traces = shown.body_json().unwrap();
    let traces = traces["results"].as_array().unwrap();
    assert_eq!(traces.len(), 60, "every refused create is still traced");
    let body = traces[0]["body"]["bad key"].as_str().unwrap();
    let (kept, cut) = body.split_once('…').unwrap();
    assert_eq!(
        kept.len() + cut_bytes(cut),
        15 * MIB,
        "the 15 MiB string in the body is cut with a marker saying how much: {cut}"
    );
    let error = traces[9]["error"]["error"].as_str().unwrap();
    assert!(
        error.contains("…[cut: ") && error.len() <= TRACE_BODY_BYTES + 64,
        "the 15 MiB key in the error is cut with a marker: {}",
        &error[error.len().saturating_sub(60)..]
    );
    let peak = PEAK.load(Ordering::Relaxed) - baseline;

    println!(
        "finding 3: heap retained after 60 refused 15 MiB creates {:.2} MiB (traces count \
         {:.2} MiB of their {} MiB limit); GET /__mock/traces answered {:.2} MiB; peak heap \
         {:.1} MiB",
        retained as f64 / MIB as f64,
        counted as f64 / MIB as f64,
        TRACE_BYTES / MIB,
        shown.body.len() as f64 / MIB as f64,
        peak as f64 / MIB as f64,
    );
    assert!(counted <= TRACE_BYTES);
    assert!(
        retained < 60 * 3 * TRACE_BODY_BYTES,
        "each refused create keeps at most its cut body and cut error: {retained} bytes"
    );
    assert!(shown.body.len() < 60 * 3 * TRACE_BODY_BYTES);
    // The peak holds one request at a time: its 15 MiB body, the parsed key, and the
    // error message naming it until it is cut (the process itself adds its code and
    // stacks, some 20 MB).
    assert!(peak < 100 * MIB, "peak heap {peak} bytes");
}

#[test]
fn full_traces_hold_about_their_byte_limit_of_heap_however_their_bodies_are_shaped() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let api = Api::new(AppConfig::default());
    let limit = 4 * MIB;
    api.set_trace_limits(TraceLimits {
        total_bytes: limit,
        ..TraceLimits::default()
    });
    // Many small keys: parsed, such a body takes several times its JSON's size.
    let fields: Map<String, Value> = (0..1500).map(|i| (format!("k{i}"), json!(i))).collect();
    let body = serde_json::to_vec(&fields).unwrap();
    let baseline = LIVE.load(Ordering::Relaxed);
    for _ in 0..600 {
        // Refused (103: not a class name), so that the store stays empty and the heap
        // that grows is the traces'.
        let mut create = signed(Request::new("POST", "/1.1/classes/1Wide"), "lc-mock-key");
        create.body = body.clone();
        assert_eq!(api.handle(&create).status, 400);
    }
    let retained = LIVE.load(Ordering::Relaxed).saturating_sub(baseline);
    println!(
        "full traces: {} kept, counted {:.2} MiB of {:.0} MiB, heap retained {:.2} MiB",
        api.traces().len(),
        api.trace_bytes() as f64 / MIB as f64,
        limit as f64 / MIB as f64,
        retained as f64 / MIB as f64,
    );
    assert!(api.trace_bytes() <= limit);
    assert!(
        retained < limit + limit / 4,
        "heap retained {retained} bytes for a {limit}-byte limit"
    );
}
