//! `where` on GeoPoints: `$nearSphere`, distance limits, `$within`.

use super::*;

// ---- where: geo -----------------------------------------------------------------------

fn geo(lat: f64, lng: f64) -> Value {
    json!({"__type": "GeoPoint", "latitude": lat, "longitude": lng})
}

/// Points due east of (0, 0) along the equator: 1° of longitude is 111.19 km there.
pub(super) fn places() -> Store {
    let mut s = store();
    put(
        &mut s,
        "Place",
        1,
        json!({"name": "far", "loc": geo(0.0, 3.0)}),
    );
    put(
        &mut s,
        "Place",
        2,
        json!({"name": "near", "loc": geo(0.0, 1.0)}),
    );
    put(
        &mut s,
        "Place",
        3,
        json!({"name": "here", "loc": geo(0.0, 0.0)}),
    );
    put(
        &mut s,
        "Place",
        4,
        json!({"name": "mid", "loc": geo(0.0, 2.0)}),
    );
    put(&mut s, "Place", 5, json!({"name": "nowhere"}));
    s
}

fn near(extra: Value) -> String {
    let mut cond = json!({"$nearSphere": {"__type": "GeoPoint", "latitude": 0, "longitude": 0}});
    if let (Some(c), Value::Object(e)) = (cond.as_object_mut(), extra) {
        c.extend(e);
    }
    json!({ "loc": cond }).to_string()
}

#[test]
fn near_sphere_returns_points_nearest_first() {
    let s = places();
    assert_eq!(
        matching(&s, "Place", &near(json!({}))),
        these(&[3, 2, 4, 1])
    );
    assert_eq!(
        ids(&s, "Place", &[("where", &near(json!({}))), ("limit", "2")]),
        these(&[3, 2])
    );
}

#[test]
fn near_sphere_distance_limits_in_radians_kilometres_and_miles() {
    let s = places();
    let deg = 1f64.to_radians();
    assert_eq!(
        matching(&s, "Place", &near(json!({"$maxDistance": 1.5 * deg}))),
        these(&[3, 2])
    );
    assert_eq!(
        matching(
            &s,
            "Place",
            &near(json!({"$maxDistanceInRadians": 2.5 * deg}))
        ),
        these(&[3, 2, 4])
    );
    assert_eq!(
        matching(
            &s,
            "Place",
            &near(json!({"$maxDistanceInKilometers": 120.0}))
        ),
        these(&[3, 2])
    );
    assert_eq!(
        matching(
            &s,
            "Place",
            &near(json!({"$maxDistanceInKilometers": 110.0}))
        ),
        these(&[3])
    );
    // 1° ≈ 69.09 miles.
    assert_eq!(
        matching(&s, "Place", &near(json!({"$maxDistanceInMiles": 140.0}))),
        these(&[3, 2, 4])
    );
    assert_eq!(
        matching(
            &s,
            "Place",
            &near(json!({"$minDistance": 0.5 * deg, "$maxDistanceInMiles": 140.0}))
        ),
        these(&[2, 4])
    );
    assert_eq!(
        matching(
            &s,
            "Place",
            &near(json!({"$minDistanceInKilometers": 300.0}))
        ),
        these(&[1])
    );
}

#[test]
fn an_explicit_order_overrides_distance_ordering() {
    let s = places();
    assert_eq!(
        ids(
            &s,
            "Place",
            &[("where", &near(json!({}))), ("order", "name")]
        ),
        these(&[1, 3, 4, 2])
    );
}

#[test]
fn near_sphere_inside_or_filters_without_sorting() {
    let s = places();
    let w = json!({"$or": [
        {"loc": {"$nearSphere": geo(0.0, 0.0), "$maxDistanceInKilometers": 120.0}},
        {"name": "far"}
    ]});
    assert_eq!(matching(&s, "Place", &w.to_string()), these(&[1, 2, 3]));
}

#[test]
fn within_box_selects_points_inside_the_box() {
    let mut s = store();
    put(&mut s, "Post", 1, json!({"loc": geo(39.98, 116.35)}));
    put(&mut s, "Post", 2, json!({"loc": geo(39.96, 116.35)}));
    put(&mut s, "Post", 3, json!({"loc": geo(39.98, 116.38)}));
    put(&mut s, "Post", 4, json!({"loc": geo(0.0, 179.5)}));
    put(&mut s, "Post", 5, json!({"loc": geo(0.0, -179.5)}));
    let b = |sw: Value, ne: Value| json!({"loc": {"$within": {"$box": [sw, ne]}}}).to_string();
    assert_eq!(
        matching(&s, "Post", &b(geo(39.97, 116.33), geo(39.99, 116.37))),
        these(&[1])
    );
    // A box whose west edge is east of its east edge crosses the antimeridian.
    assert_eq!(
        matching(&s, "Post", &b(geo(-1.0, 179.0), geo(1.0, -179.0))),
        these(&[4, 5])
    );
    let upside_down = b(geo(40.0, 116.33), geo(39.0, 116.37));
    assert_eq!(
        find_error(&s, "Post", &[("where", &upside_down)]).code,
        code::INVALID_QUERY
    );
}

#[test]
fn malformed_geo_queries_are_rejected() {
    let s = places();
    let cases = [
        (r#"{"loc":{"$nearSphere":[0,0]}}"#, code::INVALID_QUERY),
        (
            r#"{"loc":{"$nearSphere":{"latitude":"0","longitude":0}}}"#,
            code::INVALID_QUERY,
        ),
        (
            r#"{"loc":{"$nearSphere":{"latitude":91,"longitude":0}}}"#,
            code::INVALID_GEOPOINT,
        ),
        (r#"{"loc":{"$maxDistance":1}}"#, code::INVALID_QUERY),
        (
            r#"{"loc":{"$within":{"$polygon":[]}}}"#,
            code::INVALID_QUERY,
        ),
        (
            r#"{"loc":{"$within":{"$box":[{"latitude":0,"longitude":0}]}}}"#,
            code::INVALID_QUERY,
        ),
    ];
    for (w, expected) in cases {
        assert_eq!(
            find_error(&s, "Place", &[("where", w)]).code,
            expected,
            "{w}"
        );
    }
}
