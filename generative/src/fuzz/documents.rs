//! What goes inside requests: paths and their lists (`keys`, `include`, `order`),
//! `where` documents with every operator, typed values and field operations in their
//! right and wrong shapes, and object bodies.

use super::{Depths, placeholder, rep};
use crate::values;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

/// The classes the app's rows live in, and the one the fuzz suite writes freely.
pub(super) const CLASSES: &[&str] = &["Business", "Review", "Address", "_User", "_Role", "Thing"];

/// Field names of the fixture classes, the built-in and reserved ones, and those the
/// fuzz class `Thing` uses.
const FIELDS: &[&str] = &[
    "name",
    "category",
    "status",
    "stars",
    "text",
    "location",
    "address",
    "business",
    "author",
    "owner",
    "ratingCount",
    "ratingSum",
    "ratingAvg",
    "countedStars",
    "phone",
    "street",
    "city",
    "postalCode",
    "country",
    "username",
    "email",
    "displayName",
    "role",
    "banned",
    "reviewCount",
    "emailVerified",
    "mobilePhoneNumber",
    "mobilePhoneVerified",
    "users",
    "roles",
    "n",
    "tags",
    "next",
    "stats",
    "objectId",
    "createdAt",
    "updatedAt",
    "ACL",
    "sessionToken",
    "password",
    "authData",
];

/// Pointer fields, for include paths.
const POINTERS: &[&str] = &[
    "business",
    "author",
    "owner",
    "address",
    "next",
    "business.owner",
    "business.address",
    "author.role",
];

/// Names no client should be able to use as keys.
const BAD_NAMES: &[&str] = &[
    "",
    ".",
    "a..b",
    ".a",
    "a.",
    "$or",
    "$x",
    "-name",
    " name",
    "a.$b",
    "__type",
    "__op",
    "_private",
    "2x",
    "a-b",
    "ÿ",
    "a b",
    "a\u{0}b",
    "⟨",
    "objectId.x",
];

fn field() -> impl Strategy<Value = String> {
    select(FIELDS).prop_map(str::to_string)
}

/// A key path: a field, a dot path, a deep dotted path (up to `depths.dotted`
/// segments), or a malformed name.
pub(super) fn arb_path(depths: Depths) -> impl Strategy<Value = String> {
    prop_oneof![
        8 => field(),
        3 => (field(), field()).prop_map(|(a, b)| format!("{a}.{b}")),
        1 => (1..=depths.dotted).prop_map(|n| format!("{}z", rep(n, "z."))),
        2 => select(BAD_NAMES).prop_map(str::to_string),
        1 => "[ -~]{0,8}",
    ]
}

fn comma_list(items: impl Strategy<Value = String>, max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(items, 0..=max).prop_map(|items| items.join(","))
}

/// A `keys` parameter: paths, some excluded with `-`.
pub fn arb_keys(depths: Depths) -> impl Strategy<Value = String> {
    comma_list(
        (any::<bool>(), arb_path(depths)).prop_map(
            |(minus, p)| {
                if minus { format!("-{p}") } else { p }
            },
        ),
        5,
    )
}

/// An `include` parameter: pointer paths, chains over a pointer that may point at its
/// own object (`next.next...`, up to `depths.chain`), and anything else.
pub fn arb_include(depths: Depths) -> impl Strategy<Value = String> {
    let item = prop_oneof![
        4 => select(POINTERS).prop_map(str::to_string),
        1 => (1..=depths.chain).prop_map(|n| format!("{}next", rep(n, "next."))),
        2 => arb_path(depths),
    ];
    comma_list(item, 4)
}

/// An `order` parameter: paths, descending with `-`.
pub fn arb_order(depths: Depths) -> impl Strategy<Value = String> {
    comma_list(
        (
            prop_oneof![Just(""), Just("-"), Just("+"), Just("--")],
            arb_path(depths),
        )
            .prop_map(|(sign, p)| format!("{sign}{p}")),
        3,
    )
}

/// A pointer to an object of the app (real, through a placeholder) or a made-up one.
fn arb_pointer() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (select(CLASSES), 0..40usize).prop_map(|(c, n)| {
            values::pointer(c, &placeholder(&format!("obj:{c}:{n}")))
        }),
        1 => values::arb_pointer(),
    ]
}

/// A typed value (`__type`) in a valid form, or in one of the wrong shapes.
pub fn arb_typed_or_wrong() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => values::arb_typed_value(),
        2 => arb_pointer(),
        1 => Just(json!({"__type": "Pointer"})),
        1 => Just(json!({"__type": "Pointer", "className": 5, "objectId": []})),
        1 => Just(json!({"__type": "Pointer", "className": "Nope", "objectId": "x"})),
        1 => Just(json!({"__type": "Date", "iso": "yesterday"})),
        1 => Just(json!({"__type": "Date"})),
        1 => Just(json!({"__type": "Date", "iso": "9999999-01-01T00:00:00.000Z"})),
        1 => Just(json!({"__type": "GeoPoint", "latitude": 91, "longitude": 0})),
        1 => Just(json!({"__type": "GeoPoint", "latitude": "a", "longitude": null})),
        1 => Just(json!({"__type": "Bytes", "base64": "!!!"})),
        1 => Just(json!({"__type": "File"})),
        1 => Just(json!({"__type": "Relation", "className": ""})),
        1 => Just(json!({"__type": "Object"})),
        1 => Just(json!({"__type": "Nope"})),
        1 => Just(json!({"__type": 1})),
    ]
}

fn arb_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (-10i64..10).prop_map(Value::from),
        1 => select(&[i64::MIN, i64::MAX, -1, 0, 1 << 53, (1 << 53) + 1][..]).prop_map(Value::from),
        1 => Just(json!(u64::MAX)),
        1 => select(&[0.5, -0.0, 1e308, -1e308, 5e-324, 3.25][..]).prop_map(|f| json!(f)),
    ]
}

/// Strings: short ones mostly; long ones (to a megabyte) rarely, since every layer
/// copies them.
fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        60 => "[a-zA-Z0-9 .]{0,12}",
        20 => "[\\PC]{0,6}",
        10 => select(&["active", "pending", "suspended", "cafe", "owner", "Moderators"][..])
            .prop_map(str::to_string),
        4 => (1..2_000usize).prop_map(|n| rep(n, "x")),
        1 => (1..1_000_000usize).prop_map(|n| rep(n, "y")),
    ]
}

/// Any scalar, typed value, or a small array or object of them.
pub(super) fn arb_literal() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::from),
        3 => arb_number(),
        3 => arb_string().prop_map(Value::from),
        2 => arb_typed_or_wrong(),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z$_.]{0,4}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A field operation (`{"__op": ...}`) of every kind, with its arguments in the right
/// shape or a wrong one.
pub fn arb_field_op() -> impl Strategy<Value = Value> {
    let op = prop_oneof![
        2 => Just(json!({"__op": "Delete"})),
        2 => (select(&["Increment", "Decrement"][..]), arb_number())
            .prop_map(|(op, n)| json!({"__op": op, "amount": n})),
        2 => (select(&["Add", "AddUnique", "Remove"][..]), prop::collection::vec(arb_literal(), 0..4))
            .prop_map(|(op, xs)| json!({"__op": op, "objects": xs})),
        2 => (select(&["AddRelation", "RemoveRelation"][..]), prop::collection::vec(arb_pointer(), 0..3))
            .prop_map(|(op, xs)| json!({"__op": op, "objects": xs})),
        2 => (select(&["BitAnd", "BitOr", "BitXor"][..]), arb_number())
            .prop_map(|(op, n)| json!({"__op": op, "value": n})),
        // Wrong shapes.
        1 => (select(&["Increment", "Add", "AddRelation", "BitOr", "Batch", "Delete"][..]), arb_literal())
            .prop_map(|(op, v)| json!({"__op": op, "amount": v, "objects": v, "value": v, "ops": v})),
        1 => (select(&["Increment", "Add", "BitAnd", "Batch"][..])).prop_map(|op| json!({"__op": op})),
        1 => arb_literal().prop_map(|v| json!({"__op": v})),
        1 => Just(json!({"__op": "Explode"})),
    ];
    op.prop_recursive(2, 8, 3, |inner| {
        prop::collection::vec(inner, 0..3).prop_map(|ops| json!({"__op": "Batch", "ops": ops}))
    })
}

/// An ACL: public, per user (real ids), per role, or malformed.
fn arb_acl() -> impl Strategy<Value = Value> {
    let perms = prop_oneof![
        3 => (any::<bool>(), any::<bool>()).prop_map(|(r, w)| json!({"read": r, "write": w})),
        1 => arb_literal(),
    ];
    let who = prop_oneof![
        3 => Just("*".to_string()),
        3 => (0..20usize).prop_map(|n| placeholder(&format!("user:{n}"))),
        2 => Just("role:Moderators".to_string()),
        1 => "[ -~]{0,8}",
    ];
    prop_oneof![
        5 => prop::collection::btree_map(who, perms, 0..3)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        1 => arb_literal(),
    ]
}

/// A value of a body field: a literal, a typed value, a field operation, an ACL.
pub(super) fn arb_field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        5 => arb_literal(),
        3 => arb_field_op(),
        1 => arb_acl(),
    ]
}

/// A body key: a known field, a reserved one, a dot path (deep ones included), a bad
/// name, `__ignore_hooks`.
fn arb_body_key(depths: Depths) -> impl Strategy<Value = String> {
    prop_oneof![
        10 => field(),
        3 => arb_path(depths),
        1 => Just("__ignore_hooks".to_string()),
        1 => Just("ACL".to_string()),
    ]
}

/// The bodies the app's hooks accept (some of the time), so that writes get past them.
fn arb_app_body() -> impl Strategy<Value = Map<String, Value>> {
    let n = || 0..40usize;
    let business = (n(), "[A-Z][a-z]{2,10}", select(&["cafe", "bar", "Bakery", "nope"][..]))
        .prop_map(|(a, name, cat)| {
            json!({"name": name, "category": cat,
                   "address": values::pointer("Address", &placeholder(&format!("obj:Address:{a}")))})
        });
    let review = (n(), 0..7i64, "[a-z ]{0,20}").prop_map(|(b, stars, text)| {
        json!({"business": values::pointer("Business", &placeholder(&format!("obj:Business:{b}"))),
               "stars": stars, "text": text})
    });
    let address = (
        values::arb_geopoint(),
        select(
            &[
                ("CN", "200025"),
                ("US", "94110"),
                ("DE", "10999"),
                ("FR", "x"),
            ][..],
        ),
    )
        .prop_map(|(at, (country, code))| {
            json!({"street": "1 Main St", "city": "Town", "postalCode": code,
                   "country": country, "location": at})
        });
    let thing = (arb_number(), prop::collection::vec(0i64..5, 0..4))
        .prop_map(|(n, tags)| json!({"n": n, "tags": tags}));
    prop_oneof![business, review, address, thing]
        .prop_map(|v| v.as_object().cloned().unwrap_or_default())
}

/// An object body: fields the app knows or not, with any values; sometimes one the
/// app's hooks accept, with a few more fields.
pub fn arb_object_body(depths: Depths) -> impl Strategy<Value = Value> {
    let fields = prop::collection::vec((arb_body_key(depths), arb_field_value()), 0..6);
    prop_oneof![
        3 => fields.prop_map(|kv| Value::Object(kv.into_iter().collect())),
        2 => (arb_app_body(), prop::collection::vec((arb_body_key(depths), arb_field_value()), 0..2))
            .prop_map(|(mut m, extra)| {
                m.extend(extra);
                Value::Object(m)
            }),
    ]
}

/// A subquery `{"className", "where", ...}`, or a malformed one.
fn subquery(inner: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (select(CLASSES), inner.clone()).prop_map(|(c, w)| json!({"className": c, "where": w})),
        1 => (select(CLASSES), inner.clone(), arb_number(), "[-a-z]{0,8}")
            .prop_map(|(c, w, n, o)| json!({"className": c, "where": w, "limit": n, "skip": n, "order": o})),
        1 => ("[ -~]{0,6}", arb_literal()).prop_map(|(c, w)| json!({"className": c, "where": w})),
        1 => arb_literal(),
    ]
}

fn arb_geo_condition() -> impl Strategy<Value = Value> {
    let point = prop_oneof![3 => values::arb_geopoint(), 1 => arb_typed_or_wrong()];
    let distance = select(
        &[
            "$maxDistance",
            "$maxDistanceInKilometers",
            "$maxDistanceInMiles",
            "$maxDistanceInRadians",
            "$minDistance",
            "$minDistanceInKilometers",
            "$minDistanceInMiles",
            "$minDistanceInRadians",
        ][..],
    );
    prop_oneof![
        (point.clone(), prop::option::of((distance, arb_number()))).prop_map(|(p, d)| {
            let mut m = Map::new();
            m.insert("$nearSphere".into(), p);
            if let Some((k, v)) = d {
                m.insert(k.into(), v);
            }
            Value::Object(m)
        }),
        (point.clone(), point).prop_map(|(a, b)| json!({"$within": {"$box": [a, b]}})),
        arb_literal().prop_map(|v| json!({"$within": v})),
    ]
}

/// A condition on one key (no subqueries).
fn arb_condition() -> impl Strategy<Value = Value> {
    let comparison = select(&["$ne", "$lt", "$lte", "$gt", "$gte", "$eq", "$foo", "$where"][..]);
    let set_op = select(&["$in", "$nin", "$all"][..]);
    let regex = select(
        &[
            "^c",
            "a.*b",
            "(",
            "[",
            "\\",
            "(?i)x",
            "a{99999}",
            "(a{1000}){1000}",
            "\\p{Han}",
            "",
            "(?P<x>a)\\k<x>",
            "^\\Q.\\E",
        ][..],
    );
    prop_oneof![
        4 => arb_literal(),
        4 => (comparison, arb_literal()).prop_map(|(op, v)| json!({op: v})),
        2 => (set_op, prop_oneof![prop::collection::vec(arb_literal(), 0..4).prop_map(Value::Array), arb_literal()])
            .prop_map(|(op, v)| json!({op: v})),
        1 => arb_literal().prop_map(|v| json!({"$exists": v})),
        1 => arb_literal().prop_map(|v| json!({"$size": v})),
        2 => (regex, prop::option::of(prop_oneof![Just(json!("i")), Just(json!("imxs")), Just(json!("z")), Just(json!(5))]))
            .prop_map(|(r, o)| match o {
                Some(o) => json!({"$regex": r, "$options": o}),
                None => json!({"$regex": r}),
            }),
        2 => arb_geo_condition(),
        1 => (arb_literal(), arb_literal()).prop_map(|(a, b)| json!({"$gt": a, "$lt": b})),
    ]
}

/// A `where` document: conditions on keys (dot paths and deep ones included) with every
/// operator, nested `$or`/`$and`, subqueries (`$inQuery`, `$notInQuery`, `$select`,
/// `$dontSelect`), `$relatedTo`, and wrong shapes of each.
pub fn arb_where(depths: Depths) -> BoxedStrategy<Value> {
    let leaf = prop::collection::btree_map(arb_path(depths), arb_condition(), 0..3)
        .prop_map(|m| Value::Object(m.into_iter().collect()));
    leaf.prop_recursive(3, 24, 4, move |inner| {
        let inner = inner.boxed();
        prop_oneof![
            (
                select(&["$or", "$and"][..]),
                prop::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(op, docs)| json!({op: docs})),
            (select(&["$or", "$and"][..]), arb_literal()).prop_map(|(op, v)| json!({op: v})),
            (
                arb_path(depths),
                select(&["$inQuery", "$notInQuery"][..]),
                subquery(inner.clone())
            )
                .prop_map(|(key, op, q)| json!({key: {op: q}})),
            (
                arb_path(depths),
                select(&["$select", "$dontSelect"][..]),
                subquery(inner.clone()),
                arb_path(depths)
            )
                .prop_map(|(key, op, q, k)| json!({key: {op: {"query": q, "key": k}}})),
            (
                arb_pointer(),
                select(&["users", "roles", "tags", "nope"][..])
            )
                .prop_map(|(p, key)| json!({"$relatedTo": {"object": p, "key": key}})),
            arb_literal().prop_map(|v| json!({"$relatedTo": v})),
            (inner.clone(), inner).prop_map(|(a, b)| {
                let mut m = a.as_object().cloned().unwrap_or_default();
                if let Value::Object(b) = b {
                    m.extend(b);
                }
                Value::Object(m)
            }),
        ]
    })
    .boxed()
}
