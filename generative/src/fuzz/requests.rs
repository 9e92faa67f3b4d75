//! Whole requests: paths from the routes table (plus unknown ones, bad percent-encoding,
//! odd segment counts), the keys and headers a client sends, query parameters, bodies
//! per route, batches, the browser's method override; and cases: sequences that start
//! by making the ids and tokens later steps use, with calls to an engine mixed in
//! (`engine.rs`).

use super::documents::{
    CLASSES, arb_field_value, arb_include, arb_keys, arb_literal, arb_object_body, arb_order,
    arb_where,
};
use super::{App, Body, Case, Depths, Step, placeholder, rep};
use base64::Engine as _;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The request surface the generator covers: the api's routes (`(method, pattern)`,
/// `:x` matching one segment, as in `mock_server::api::routes::ROUTES`) and how deep
/// to go.
#[derive(Debug, Clone)]
pub struct Surface {
    pub routes: Vec<(String, String)>,
    pub depths: Depths,
    /// The most steps a case has after its setup.
    pub max_steps: usize,
}

impl Surface {
    pub fn new<'a>(routes: impl IntoIterator<Item = (&'a str, &'a str)>) -> Surface {
        Surface {
            routes: routes
                .into_iter()
                .map(|(m, p)| (m.to_string(), p.to_string()))
                .collect(),
            depths: Depths::current(),
            max_steps: 24,
        }
    }
}

/// The app's cloud functions, and names that are not.
pub(super) const FUNCTIONS: &[&str] = &[
    "normalizePhone",
    "nearbyBusinesses",
    "businessSummary",
    "moderateBusiness",
    "nope",
    "_ops",
    "",
];

/// Classes for the `:class` segment, by weight: the app's, the fuzz class, the
/// built-in ones, and names no class may have (percent-encoded when sent).
const PATH_CLASSES: &[(u32, &str)] = &[
    (6, "Business"),
    (6, "Review"),
    (4, "Address"),
    (4, "_User"),
    (2, "_Role"),
    (6, "Thing"),
    (1, "_File"),
    (1, "_Installation"),
    (1, "_Session"),
    (1, "Unknown"),
    (1, "2x"),
    (1, "a-b"),
    (1, "_private"),
    (1, "$set"),
    (1, "Ünï"),
    (1, "a b"),
    (1, "a/b"),
];

fn path_class() -> impl Strategy<Value = &'static str> {
    Union::new_weighted(PATH_CLASSES.iter().map(|(w, c)| (*w, Just(*c))).collect())
}

/// How often a route is tried: the object and query routes most, since most of the
/// surface (`where`, field operations, ACLs, hooks) is behind them.
fn route_weight(pattern: &str) -> u32 {
    if pattern.starts_with("/1.1/classes/:class") {
        8
    } else if pattern.starts_with("/__mock/") || pattern == "/1.1/date" {
        1
    } else {
        3
    }
}

/// Path segments as sent on the request line, not valid after decoding or oddly encoded.
const RAW_SEGMENTS: &[&str] = &[
    "%",
    "%zz",
    "%ff%fe",
    "%00",
    "%2F",
    "..",
    ".",
    "%E2%9F%A8",
    "a%20b",
    "%C3%28",
];

pub(super) fn n() -> impl Strategy<Value = usize> {
    0..40usize
}

/// What a client percent-encodes in a path segment (as a URL library does): controls,
/// space, the delimiters, `%`; and everything beyond ASCII.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

pub(super) fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Keys a client sends: app, master, signatures, legacy headers, none, wrong ones; a
/// session token (real, unknown, empty); the hook key; `X-LC-Prod`.
fn arb_auth() -> impl Strategy<Value = Vec<(String, String)>> {
    let keys = prop_oneof![
        20 => Just(vec![("x-lc-id", "⟨id⟩"), ("x-lc-key", "⟨key⟩")]),
        8 => Just(vec![("x-lc-id", "⟨id⟩"), ("x-lc-key", "⟨master⟩,master")]),
        1 => Just(vec![("x-lc-id", "⟨id⟩"), ("x-lc-sign", "⟨sign:app⟩")]),
        1 => Just(vec![("x-lc-id", "⟨id⟩"), ("x-lc-sign", "⟨sign:master⟩")]),
        1 => Just(vec![("x-lc-id", "⟨id⟩"), ("x-lc-sign", "⟨sign:wrong⟩")]),
        1 => Just(vec![("x-lc-id", "⟨id⟩"), ("x-lc-sign", "garbage,,master")]),
        1 => Just(vec![("x-avoscloud-application-id", "⟨id⟩"), ("x-avoscloud-application-key", "⟨key⟩")]),
        1 => Just(vec![("x-avoscloud-application-id", "⟨id⟩"), ("x-avoscloud-master-key", "⟨master⟩")]),
        1 => Just(vec![]),
        1 => Just(vec![("x-lc-id", "⟨id⟩"), ("x-lc-key", "wrong")]),
        1 => Just(vec![("x-lc-id", "⟨id⟩"), ("x-lc-key", "⟨key⟩,master")]),
        1 => Just(vec![("x-lc-id", "other-app"), ("x-lc-key", "⟨key⟩")]),
    ];
    let session = prop_oneof![
        6 => Just(None),
        5 => n().prop_map(|i| Some(placeholder(&format!("token:{i}")))),
        1 => Just(Some("r:unknown-token".to_string())),
        1 => Just(Some(String::new())),
    ];
    let hook = prop_oneof![
        10 => Just(None),
        1 => Just(Some("⟨hook⟩")),
        1 => Just(Some("wrong-hook")),
    ];
    let prod = prop_oneof![10 => Just(None), 1 => Just(Some("0")), 1 => Just(Some("1")), 1 => Just(Some("yes"))];
    let content_type = prop_oneof![
        10 => Just(Some("application/json")),
        1 => Just(None),
        1 => Just(Some("application/x-www-form-urlencoded")),
        1 => Just(Some("text/plain")),
    ];
    (keys, session, hook, prod, content_type).prop_map(|(keys, session, hook, prod, ct)| {
        let mut out: Vec<(String, String)> = keys
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let optional = [
            ("x-lc-session", session),
            ("x-lc-hook-key", hook.map(str::to_string)),
            ("x-lc-prod", prod.map(str::to_string)),
            ("content-type", ct.map(str::to_string)),
        ];
        out.extend(
            optional
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_string(), v))),
        );
        out
    })
}

fn arb_flag() -> impl Strategy<Value = String> {
    select(&["1", "true", "0", "false", "TRUE", "yes", ""][..]).prop_map(str::to_string)
}

fn arb_integer_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0..200i64).prop_map(|n| n.to_string()),
        1 => select(&["-1", "1001", "0", "1e3", "2.5", "abc", "", "99999999999999999999", " 7 "][..])
            .prop_map(str::to_string),
    ]
}

/// The text of a `where` parameter: a document, a huge `$or`, broken or non-object
/// JSON, nesting past the JSON parser's limit.
fn arb_where_text(depths: Depths) -> impl Strategy<Value = String> {
    // While finding 2 is open a large `$or` is kept small enough not to stall the run.
    let branches = if super::is_open(2) { 2_000 } else { 50_000 };
    prop_oneof![
        8 => arb_where(depths).prop_map(|w| w.to_string()),
        1 => (1..branches as usize, arb_where(depths)).prop_map(|(n, w)| {
            format!(r#"{{"$or":[{}{}]}}"#, rep(n, r#"{"stars":{"$gte":3}},"#), w)
        }),
        1 => select(&["{", "", "null", "[]", "1", "\"x\"", "{\"a\":}", "[{}]", "{\"$or\":{}}"][..])
            .prop_map(str::to_string),
        1 => select(&[10usize, 60, 63, 64, 65, 127, 128, 1_000][..])
            .prop_map(|d| format!("{}{{}}{}", rep(d, r#"{"$and":["#), rep(d, "]}"))),
        // Subqueries in subqueries, as deep as the JSON parser lets them (three levels
        // each) and past it.
        1 => (1..45usize).prop_map(|d| format!(
            "{}{{}}{}",
            rep(d, r#"{"next":{"$inQuery":{"className":"Thing","where":"#),
            rep(d, "}}}")
        )),
        1 => (1..35usize).prop_map(|d| format!(
            "{}{{}}{}",
            rep(d, r#"{"n":{"$select":{"key":"n","query":{"className":"Thing","where":"#),
            rep(d, "}}}}")
        )),
    ]
}

/// Query parameters: those `method` requests read, and any other now and then.
fn arb_query(method: &str, depths: Depths) -> BoxedStrategy<Vec<(String, String)>> {
    let find = prop_oneof![
        5 => arb_where_text(depths).prop_map(|v| ("where", v)),
        3 => arb_keys(depths).prop_map(|v| ("keys", v)),
        3 => arb_include(depths).prop_map(|v| ("include", v)),
        2 => arb_order(depths).prop_map(|v| ("order", v)),
        2 => arb_integer_text().prop_map(|v| ("limit", v)),
        1 => arb_integer_text().prop_map(|v| ("skip", v)),
        2 => arb_flag().prop_map(|v| ("count", v)),
        1 => arb_flag().prop_map(|v| ("returnACL", v)),
        1 => arb_keys(depths).prop_map(|v| ("excludeKeys", v)),
        1 => prop_oneof![
            (0..300usize).prop_map(|n| format!("c{n:x}")),
            "[ -~]{0,8}".prop_map(|s| s),
            Just("c".to_string()),
            Just("cffffffffffffffffffffffff".to_string())
        ].prop_map(|v| ("cursor", v)),
        1 => arb_order(depths).prop_map(|v| ("scan_key", v)),
        1 => "[ -~]{0,10}".prop_map(|v| ("unknown", v)),
    ];
    let write = prop_oneof![
        3 => arb_where_text(depths).prop_map(|v| ("where", v)),
        3 => arb_flag().prop_map(|v| ("fetchWhenSave", v)),
        2 => arb_flag().prop_map(|v| ("new", v)),
        1 => arb_keys(depths).prop_map(|v| ("keys", v)),
        1 => "[ -~]{0,10}".prop_map(|v| ("unknown", v)),
    ];
    let param = if method == "GET" {
        find.boxed()
    } else {
        write.boxed()
    };
    prop::collection::vec(param, 0..4)
        .prop_map(|pairs| pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        .boxed()
}

/// Bodies no route accepts: broken JSON, JSON that is not an object, binary, nesting
/// past the parser's limit, huge strings, a body over the 20 MB limit.
pub(super) fn arb_wrong_body() -> impl Strategy<Value = Body> {
    prop_oneof![
        9 => select(&["{", "nul", "{\"a\":}", "[1,", "\u{feff}{}", "{}}", "{\"a\":1}{}", "a=1&b=2"][..])
            .prop_map(|t| Body::Text(t.to_string())),
        3 => "[ -~]{0,20}".prop_map(Body::Text),
        9 => arb_literal()
            .prop_filter("not an object", |v| !v.is_object())
            .prop_map(Body::Json),
        6 => prop::collection::vec(any::<u8>(), 0..64)
            .prop_map(|b| Body::Base64(base64::engine::general_purpose::STANDARD.encode(b))),
        3 => select(&[10usize, 127, 128, 129, 5_000][..]).prop_flat_map(|d| {
            prop_oneof![
                Just(Body::Text(format!("{}{}", rep(d, "["), rep(d, "]")))),
                Just(Body::Text(format!("{}1{}", rep(d, "{\"a\":"), rep(d, "}")))),
            ]
        }),
        1 => (1..3_000_000usize).prop_map(|n| Body::Json(json!({"s": rep(n, "x")}))),
        // Over the 20 MB limit: rare, since it costs 20 MB per request.
        1 => (0..50u8).prop_map(|roll| if roll == 0 {
            Body::Text(rep(20 * 1024 * 1024 + 1, "x"))
        } else {
            Body::Text(rep(100_000, " "))
        }),
    ]
}

fn username() -> impl Strategy<Value = String> {
    "fz[a-z]{3,8}"
}

fn sign_up_body() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => username().prop_map(|u| json!({"username": u, "password": format!("{u}-pass"), "email": format!("{u}@example.com")})),
        1 => n().prop_map(|i| json!({"username": placeholder(&format!("name:{i}")), "password": "x"})),
        1 => "[a-z0-9]{4,12}".prop_map(|id| json!({"authData": {"anonymous": {"id": id}}})),
        1 => (arb_literal(), arb_literal()).prop_map(|(u, p)| json!({"username": u, "password": p})),
        1 => (username(), arb_field_value()).prop_map(|(u, v)| json!({
            "username": u, "password": "p", "emailVerified": v, "role": v, "banned": v,
            "reviewCount": v, "sessionToken": v, "authData": v
        })),
    ]
}

fn log_in_body() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => n().prop_map(|i| json!({"username": placeholder(&format!("name:{i}")), "password": placeholder(&format!("pass:{i}"))})),
        1 => n().prop_map(|i| json!({"username": placeholder(&format!("name:{i}")), "password": "wrong"})),
        1 => (arb_literal(), arb_literal()).prop_map(|(u, p)| json!({"username": u, "password": p})),
        1 => arb_literal().prop_map(|e| json!({"email": e, "password": "x"})),
        1 => arb_literal().prop_map(|p| json!({"mobilePhoneNumber": p, "smsCode": p})),
    ]
}

fn role_body(depths: Depths) -> impl Strategy<Value = Value> {
    let users = prop::collection::vec(n(), 0..3).prop_map(|ids| {
        let objects: Vec<Value> = ids
            .into_iter()
            .map(|i| crate::values::pointer("_User", &placeholder(&format!("user:{i}"))))
            .collect();
        json!({"__op": "AddRelation", "objects": objects})
    });
    prop_oneof![
        3 => ("[A-Za-z][A-Za-z0-9_]{0,8}", users).prop_map(|(name, users)| json!({
            "name": name, "ACL": {"*": {"read": true}}, "users": users
        })),
        1 => (arb_literal(), arb_field_value()).prop_map(|(name, acl)| json!({"name": name, "ACL": acl})),
        1 => arb_object_body(depths),
    ]
}

pub(super) fn function_body() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => (select(&["13800138000", "+86 138 0013 8000", "", "abc"][..]), select(&["CN", "us", "", "ZZ"][..]))
            .prop_map(|(p, c)| json!({"phone": p, "country": c})),
        2 => (-90.0f64..90.0, -180.0f64..180.0, 0.0f64..60.0, 0..120i64, select(&["cafe", "bar", "Nope"][..]))
            .prop_map(|(lat, lng, r, limit, c)| json!({"lat": lat, "lng": lng, "radiusKm": r, "limit": limit, "category": c})),
        1 => (-100.0f64..100.0, -200.0f64..200.0, arb_literal(), arb_literal())
            .prop_map(|(lat, lng, r, limit)| json!({"lat": lat, "lng": lng, "radiusKm": r, "limit": limit})),
        2 => n().prop_map(|i| json!({"businessId": placeholder(&format!("obj:Business:{i}"))})),
        2 => (n(), select(&["active", "suspended", "pending", "gone"][..]))
            .prop_map(|(i, s)| json!({"businessId": placeholder(&format!("obj:Business:{i}")), "status": s})),
        1 => prop::collection::btree_map("[a-zA-Z]{1,10}", arb_literal(), 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
    ]
}

/// The body a route reads, most of the time, or a wrong one.
fn route_body(
    method: &str,
    pattern: &str,
    depths: Depths,
    batch: Option<BoxedStrategy<Body>>,
) -> BoxedStrategy<Body> {
    let json = |s: BoxedStrategy<Value>| s.prop_map(Body::Json).boxed();
    let right: BoxedStrategy<Body> = if pattern == "/1.1/batch" {
        match batch {
            Some(batch) => return batch,
            None => Just(Body::Json(json!({"requests": []}))).boxed(),
        }
    } else if pattern.ends_with("/login") {
        json(log_in_body().boxed())
    } else if method == "POST" && (pattern == "/1.1/users" || pattern == "/1.1/classes/_User") {
        json(sign_up_body().boxed())
    } else if pattern.ends_with("/updatePassword") {
        json(
            (arb_literal(), arb_literal())
                .prop_map(|(o, n)| json!({"old_password": o, "new_password": n}))
                .boxed(),
        )
    } else if pattern.ends_with("requestPasswordReset") || pattern.ends_with("requestEmailVerify") {
        json(
            prop_oneof![Just(json!("mei.lin@example.com")), arb_literal()]
                .prop_map(|e| json!({"email": e}))
                .boxed(),
        )
    } else if pattern.starts_with("/1.1/roles") && method != "GET" && method != "DELETE" {
        json(role_body(depths).boxed())
    } else if pattern.contains("/functions/") || pattern.contains("/call/") {
        json(function_body().boxed())
    } else if method == "POST" || method == "PUT" {
        json(arb_object_body(depths).boxed())
    } else {
        Just(Body::None).boxed()
    };
    prop_oneof![6 => right, 1 => arb_wrong_body()].boxed()
}

/// Which way a `:x` segment is filled.
#[derive(Debug, Clone)]
enum Segment {
    /// A real id (through a placeholder), the N-th.
    Real(usize),
    /// A well-formed id nobody has.
    Unknown(String),
    /// Sent as is: bad percent-encoding, dots, a very long segment.
    Raw(String),
}

fn arb_segment() -> impl Strategy<Value = Segment> {
    prop_oneof![
        8 => n().prop_map(Segment::Real),
        1 => "[0-9a-f]{24}".prop_map(Segment::Unknown),
        1 => prop_oneof![
            select(RAW_SEGMENTS).prop_map(str::to_string),
            (1..5_000usize).prop_map(|n| rep(n, "a")),
        ].prop_map(Segment::Raw),
    ]
}

/// A path for `pattern` with its `:class`, `:id` and `:name` segments filled.
fn fill(pattern: &str, class: &str, id: &Segment, name: &str) -> String {
    let id_class = if pattern.starts_with("/1.1/users") || pattern.contains("/_User/") {
        "_User"
    } else if pattern.starts_with("/1.1/roles") {
        "_Role"
    } else if CLASSES.contains(&class) {
        class
    } else {
        "*"
    };
    pattern
        .split('/')
        .map(|seg| match seg {
            ":class" => encode(class),
            ":name" => encode(name),
            ":id" => match id {
                Segment::Real(i) if id_class == "_User" => placeholder(&format!("user:{i}")),
                Segment::Real(i) => placeholder(&format!("obj:{id_class}:{i}")),
                Segment::Unknown(s) | Segment::Raw(s) => s.clone(),
            },
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "FOO",
];

/// A request on one route: usually its own method, with its parameters, body and any
/// keys. `batch` makes the bodies of `/1.1/batch` (inside a batch: none).
fn routed(
    method: &str,
    pattern: &str,
    depths: Depths,
    batch: Option<BoxedStrategy<Body>>,
) -> BoxedStrategy<Step> {
    let query = arb_query(method, depths);
    let body = route_body(method, pattern, depths, batch);
    let (method, pattern) = (method.to_string(), pattern.to_string());
    let chosen_method =
        prop_oneof![12 => Just(method), 1 => select(METHODS).prop_map(str::to_string)];
    (
        chosen_method,
        path_class(),
        arb_segment(),
        select(FUNCTIONS),
        prop_oneof![6 => Just(None), 1 => Just(Some("/"))],
        query,
        body,
        arb_auth(),
    )
        .prop_map(
            move |(method, class, id, name, trailing, query, body, auth)| {
                let mut path = fill(&pattern, class, &id, name);
                if let Some(t) = trailing {
                    path.push_str(t);
                }
                Step::api(&method, path)
                    .query(query)
                    .headers(auth)
                    .body(body)
            },
        )
        .boxed()
}

/// A request on any route (see [`routed`]); `in_batch` for the items of a batch.
fn routed_any(surface: &Surface, in_batch: bool) -> BoxedStrategy<Step> {
    let batch = (!in_batch).then(|| arb_batch_body(surface).boxed());
    let all: Vec<(u32, BoxedStrategy<Step>)> = surface
        .routes
        .iter()
        .map(|(m, p)| (route_weight(p), routed(m, p, surface.depths, batch.clone())))
        .collect();
    Union::new_weighted(all).boxed()
}

/// A path no route has: unknown roots, odd segment counts, empty and encoded segments.
fn arb_odd_path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        3 => select(&["1.1", "classes", "users", "roles", "functions", "call", "scan", "batch",
                      "login", "me", "date", "schemas", "__mock", "reset", "traces", "1", "2",
                      "Thing", "Business", ""][..]).prop_map(str::to_string),
        1 => n().prop_map(|i| placeholder(&format!("obj:*:{i}"))),
        1 => select(RAW_SEGMENTS).prop_map(str::to_string),
        1 => "[ -~&&[^/?#]]{0,6}".prop_map(|s| encode(&s)),
    ];
    prop_oneof![
        4 => prop::collection::vec(segment, 0..8).prop_map(|s| format!("/{}", s.join("/"))),
        1 => Just(String::new()),
        1 => Just("//1.1//classes//Thing".to_string()),
        1 => (1..3_000usize).prop_map(|n| format!("/1.1/classes/Thing/{}", rep(n, "a/"))),
    ]
}

fn odd_path_step() -> impl Strategy<Value = Step> {
    (
        select(METHODS),
        arb_odd_path(),
        arb_auth(),
        prop_oneof![Just(Body::None), arb_wrong_body()],
    )
        .prop_map(|(m, path, auth, body)| Step::api(m, path).headers(auth).body(body))
}

/// A batch body: items made like requests on the routes, items with paths with and
/// without the `/1.1` prefix (nested batches included), and malformed items.
fn arb_batch_body(surface: &Surface) -> BoxedStrategy<Body> {
    let depths = surface.depths;
    let item = prop_oneof![
        3 => batch_item(depths),
        3 => routed_any(surface, true).prop_map(|step| step_item(&step)),
        1 => arb_literal(),
        1 => (arb_literal(), arb_literal()).prop_map(|(m, p)| json!({"method": m, "path": p})),
        1 => Just(json!({"method": "POST", "path": "/1.1/batch", "body": {"requests": []}})),
    ];
    prop_oneof![
        8 => prop::collection::vec(item, 0..8).prop_map(|items| Body::Json(json!({"requests": items}))),
        1 => arb_literal().prop_map(|v| Body::Json(json!({"requests": v}))),
        1 => Just(Body::Json(json!({}))),
    ]
    .boxed()
}

/// A request as a batch item: its method, path, query as `params`, body.
fn step_item(step: &Step) -> Value {
    let mut item = Map::new();
    item.insert("method".into(), json!(step.method));
    item.insert("path".into(), json!(step.path));
    if !step.query.is_empty() {
        let params: Map<String, Value> = step
            .query
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        item.insert("params".into(), Value::Object(params));
    }
    match &step.body {
        Body::None => {}
        Body::Json(v) => {
            item.insert("body".into(), v.clone());
        }
        Body::Text(t) | Body::Base64(t) => {
            item.insert("body".into(), json!(t));
        }
    }
    Value::Object(item)
}

fn batch_item(depths: Depths) -> impl Strategy<Value = Value> {
    let path = prop_oneof![
        4 => (select(&["Thing", "Business", "Review", "Address", "_User", "Nope"][..]), prop::option::of(n()))
            .prop_map(|(c, id)| match id {
                Some(i) => format!("/1.1/classes/{c}/{}", placeholder(&format!("obj:{c}:{i}"))),
                None => format!("/1.1/classes/{c}"),
            }),
        1 => n().prop_map(|i| format!("/1.1/users/{}", placeholder(&format!("user:{i}")))),
        1 => select(&["/1.1/users", "/1.1/login", "/1.1/roles", "/1.1/users/me", "classes/Thing",
                      "/classes/Thing", "1.1/classes/Thing", "/1.1/functions/businessSummary",
                      "/1.1/scan/classes/Thing", "/1.1/date", "/__mock/reset", "", "/"][..])
            .prop_map(str::to_string),
        1 => arb_odd_path(),
    ];
    let params = prop_oneof![
        3 => Just(None),
        2 => arb_query("GET", depths).prop_map(|q| Some(Value::Object(
            q.into_iter().map(|(k, v)| (k, Value::String(v))).collect()))),
        1 => arb_where(depths).prop_map(|w| Some(json!({"where": w, "limit": 5}))),
        1 => arb_literal().prop_map(Some),
    ];
    let body = prop_oneof![
        2 => Just(None),
        4 => arb_object_body(depths).prop_map(Some),
        1 => arb_literal().prop_map(Some),
    ];
    (select(METHODS), path, params, body).prop_map(|(m, path, params, body)| {
        let mut item = Map::new();
        item.insert("method".into(), json!(m));
        item.insert("path".into(), json!(path));
        if let Some(p) = params {
            item.insert("params".into(), p);
        }
        if let Some(b) = body {
            item.insert("body".into(), b);
        }
        Value::Object(item)
    })
}

/// The browser form: `POST` with a `text/plain` JSON body carrying `_method`, the keys
/// and the session token, instead of headers.
fn override_step(surface: &Surface) -> BoxedStrategy<Step> {
    let creds = prop_oneof![
        4 => Just(json!({"_ApplicationId": "⟨id⟩", "_ApplicationKey": "⟨key⟩"})),
        2 => Just(json!({"_ApplicationId": "⟨id⟩", "_MasterKey": "⟨master⟩"})),
        1 => Just(json!({"_ApplicationId": "⟨id⟩", "_ApplicationKey": "wrong"})),
        1 => Just(json!({"_ApplicationId": 5})),
        1 => Just(json!({})),
    ];
    let extra = prop_oneof![
        3 => Just(json!({})),
        2 => n().prop_map(|i| json!({"_SessionToken": placeholder(&format!("token:{i}"))})),
        1 => select(&["0", "1"][..]).prop_map(|p| json!({"_ApplicationProduction": p})),
        1 => arb_literal().prop_map(|v| json!({"_method": v, "_SessionToken": v})),
    ];
    (routed_any(surface, false), creds, extra, any::<bool>())
        .prop_map(|(step, creds, extra, as_text)| {
            let mut body = match &step.body {
                Body::Json(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            body.insert("_method".into(), json!(step.method));
            for part in [creds, extra] {
                if let Value::Object(m) = part {
                    body.extend(m);
                }
            }
            let body = Value::Object(body);
            Step::api("POST", step.path)
                .query(step.query)
                .header("content-type", "text/plain;charset=UTF-8")
                .body(if as_text {
                    Body::Text(body.to_string())
                } else {
                    Body::Json(body)
                })
        })
        .boxed()
}

fn app_keys() -> Vec<(String, String)> {
    vec![
        ("x-lc-id".into(), "⟨id⟩".into()),
        ("x-lc-key".into(), "⟨key⟩".into()),
        ("content-type".into(), "application/json".into()),
    ]
}

fn master_keys() -> Vec<(String, String)> {
    vec![
        ("x-lc-id".into(), "⟨id⟩".into()),
        ("x-lc-key".into(), "⟨master⟩,master".into()),
        ("content-type".into(), "application/json".into()),
    ]
}

/// Steps that make what later steps refer to: sessions, users, objects, roles, a
/// pointer to its own object (for include chains).
fn setup_step() -> impl Strategy<Value = Step> {
    let thing = |i: usize| crate::values::pointer("Thing", &placeholder(&format!("obj:Thing:{i}")));
    prop_oneof![
        4 => n().prop_map(|i| Step::api("POST", "/1.1/login").headers(app_keys()).body(Body::Json(json!({
            "username": placeholder(&format!("name:{i}")),
            "password": placeholder(&format!("pass:{i}")),
        })))),
        2 => username().prop_map(|u| Step::api("POST", "/1.1/users").headers(app_keys()).body(Body::Json(json!({
            "username": u, "password": format!("{u}-pass"), "email": format!("{u}@example.com"),
        })))),
        2 => (-5i64..5, n()).prop_map(move |(v, i)| Step::api("POST", "/1.1/classes/Thing")
            .headers(master_keys())
            .body(Body::Json(json!({"n": v, "tags": [v], "next": thing(i), "stats": {"n": v}})))),
        1 => n().prop_map(move |i| Step::api("PUT", format!("/1.1/classes/Thing/{}", placeholder(&format!("obj:Thing:{i}"))))
            .headers(master_keys())
            .body(Body::Json(json!({"next": thing(i)})))),
        1 => ("[A-Z][a-z]{3,8}", n()).prop_map(|(name, i)| Step::api("POST", "/1.1/roles")
            .headers(master_keys())
            .body(Body::Json(json!({
                "name": name, "ACL": {"*": {"read": true}},
                "users": {"__op": "AddRelation", "objects": [crate::values::pointer("_User", &placeholder(&format!("user:{i}")))]},
            })))),
    ]
}

/// One step of a case.
pub fn arb_step(surface: Arc<Surface>) -> impl Strategy<Value = Step> {
    prop_oneof![
        14 => routed_any(&surface, false),
        3 => (arb_batch_body(&surface), any::<bool>()).prop_map(|(b, master)| {
            let keys = if master { master_keys() } else { app_keys() };
            Step::api("POST", "/1.1/batch").headers(keys).body(b)
        }),
        1 => odd_path_step(),
        1 => override_step(&surface),
        3 => super::engine::engine_step(surface.depths),
        2 => setup_step(),
    ]
}

/// A case: an app, a few setup steps, then up to `surface.max_steps` steps.
pub fn arb_case(surface: Arc<Surface>) -> impl Strategy<Value = Case> {
    let app = prop_oneof![
        4 => Just(App::Plain),
        4 => Just(App::Cloud),
        1 => any::<u32>().prop_map(App::Faulty),
    ];
    (
        app,
        prop::collection::vec(setup_step(), 0..4),
        prop::collection::vec(arb_step(surface.clone()), 1..=surface.max_steps),
    )
        .prop_map(|(app, setup, steps)| Case {
            app,
            steps: setup.into_iter().chain(steps).collect(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_filled_for_the_route() {
        let real = Segment::Real(3);
        assert_eq!(
            fill("/1.1/classes/:class/:id", "Business", &real, "f"),
            "/1.1/classes/Business/⟨obj:Business:3⟩"
        );
        assert_eq!(
            fill("/1.1/users/:id/updatePassword", "Thing", &real, "f"),
            "/1.1/users/⟨user:3⟩/updatePassword"
        );
        assert_eq!(
            fill("/1.1/classes/:class/:id", "a b", &real, "f"),
            "/1.1/classes/a%20b/⟨obj:*:3⟩"
        );
        assert_eq!(
            fill("/1.1/call/:name", "X", &Segment::Raw("%zz".into()), "fn"),
            "/1.1/call/fn"
        );
    }
}
