//! Unit tests of `value`.

use super::*;
use crate::error::code;

fn round_trip(v: Value) {
    let decoded = LcValue::decode(&v).unwrap();
    assert_eq!(decoded.encode(), v, "round trip of {v}");
    assert_eq!(LcValue::decode(&decoded.encode()).unwrap(), decoded);
}

fn code(r: Result<(), LcError>) -> i64 {
    r.unwrap_err().code
}

#[test]
fn dates_are_formatted_with_three_fraction_digits_and_z() {
    assert_eq!(format_date(1_568_868_349_090), "2019-09-19T04:45:49.090Z");
    assert_eq!(format_date(0), "1970-01-01T00:00:00.000Z");
}

#[test]
fn dates_are_formatted_as_rfc3339_with_milliseconds_across_the_range() {
    let rfc3339 = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    // Before 1970, leap days, the last millisecond of a year, years 0 and 9999, and past
    // them (chrono's own form).
    let mut samples = vec![
        -1,
        -62_167_219_200_000,
        -62_167_219_200_001,
        951_782_400_000,
        1_704_067_199_999,
        253_402_300_799_999,
        253_402_300_800_000,
        i64::MAX,
        i64::MIN,
    ];
    let mut x: i64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..10_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        samples.push(x % 300_000_000_000_000);
    }
    for ms in samples {
        assert_eq!(format_date(ms), rfc3339(ms), "{ms}");
    }
}

#[test]
fn parse_date_accepts_any_rfc3339_form() {
    let ms = 1_568_868_349_090;
    assert_eq!(parse_date("2019-09-19T04:45:49.090Z"), Some(ms));
    assert_eq!(parse_date("2019-09-19T04:45:49.09Z"), Some(ms));
    assert_eq!(parse_date("2019-09-19T12:45:49.090+08:00"), Some(ms));
    assert_eq!(parse_date("2019-09-19T04:45:49.090123Z"), Some(ms));
    assert_eq!(parse_date("2019-09-19T04:45:49Z"), Some(ms - 90));
    assert_eq!(parse_date("2019-09-19"), None);
    assert_eq!(parse_date("not a date"), None);
}

#[test]
fn date_from_iso_normalises_to_the_leancloud_form() {
    let d = Date::from_iso("2019-09-19T12:45:49.09+08:00").unwrap();
    assert_eq!(
        d.to_json(),
        json!({"__type":"Date","iso":"2019-09-19T04:45:49.090Z"})
    );
    assert_eq!(Date::from_json(&d.to_json()), Ok(d));
}

#[test]
fn numbers_compare_by_value_and_integers_exactly() {
    assert!(same_value(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
    assert!(!same_value(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    assert!(!same_value(&json!([1, 2]), &json!([2, 1])));
    // 2^53 + 1 and 2^53 are one f64, but two integers.
    assert!(!same_value(
        &json!(9_007_199_254_740_993_i64),
        &json!(9_007_199_254_740_992_i64)
    ));
    assert!(same_value(&json!(-0.0), &json!(0)));
    assert!(!same_value(&json!("1"), &json!(1)));
}

#[test]
fn every_type_round_trips_through_json() {
    round_trip(json!({"__type":"Date","iso":"2015-06-21T18:02:52.249Z"}));
    round_trip(json!({"__type":"Pointer","className":"Post","objectId":"5d81a2b5"}));
    round_trip(json!({"__type":"Relation","className":"_User"}));
    round_trip(json!({"__type":"GeoPoint","latitude":39.9,"longitude":116.4}));
    round_trip(json!({"__type":"GeoPoint","latitude":-90,"longitude":180}));
    round_trip(json!({"__type":"File","id":"f1"}));
    round_trip(
        json!({"__type":"File","objectId":"f1","name":"a.txt","url":"http://x/a.txt",
        "mime_type":"text/plain","metaData":{"size":3}}),
    );
    round_trip(json!({"__type":"Bytes","base64":"aGVsbG8="}));
    round_trip(
        json!({"__type":"Object","className":"Post","objectId":"p1","title":"t",
        "when":{"__type":"Date","iso":"2015-06-21T18:02:52.249Z"},
        "author":{"__type":"Pointer","className":"_User","objectId":"u1"}}),
    );
    round_trip(json!({"__type":"Pointer","className":"_User","objectId":"u1","name":"x"}));
    round_trip(
        json!({"plain":[1, 2.5, "s", null, true, {"nested":{"__type":"Bytes","base64":""}}]}),
    );
}

#[test]
fn typed_values_decode_to_their_variants() {
    let ptr = json!({"__type":"Pointer","className":"Post","objectId":"p1"});
    assert_eq!(
        LcValue::decode(&ptr).unwrap(),
        LcValue::Pointer(Pointer::new("Post", "p1"))
    );
    let included = json!({"__type":"Pointer","className":"Post","objectId":"p1","t":1});
    let LcValue::Included(obj) = LcValue::decode(&included).unwrap() else {
        panic!("an included pointer decodes as Included");
    };
    assert_eq!(obj.pointer(), Some(Pointer::new("Post", "p1")));
    let o = json!({"__type":"Object","className":"Post","objectId":"p1","n":1});
    let LcValue::Object(obj) = LcValue::decode(&o).unwrap() else {
        panic!("an Object decodes as Object");
    };
    assert_eq!(obj.class_name, "Post");
    assert_eq!(obj.object_id(), Some("p1"));
    assert_eq!(obj.get("n"), Some(&LcValue::Number(1.into())));
}

#[test]
fn constructors_build_the_wire_forms() {
    assert_eq!(
        Pointer::new("Post", "p1").to_json(),
        json!({"__type":"Pointer","className":"Post","objectId":"p1"})
    );
    assert_eq!(
        Relation::new("_User").to_json(),
        json!({"__type":"Relation","className":"_User"})
    );
    assert_eq!(
        GeoPoint::new(39.9, 116.4).unwrap().to_json(),
        json!({"__type":"GeoPoint","latitude":39.9,"longitude":116.4})
    );
    assert_eq!(
        File::reference("f1").to_json(),
        json!({"__type":"File","id":"f1"})
    );
    assert_eq!(File::reference("f1").object_id(), Some("f1"));
    assert_eq!(
        Bytes::new("aGk=").to_json(),
        json!({"__type":"Bytes","base64":"aGk="})
    );
    assert_eq!(
        Object::new("Post")
            .with("n", LcValue::Number(2.into()))
            .to_json(),
        json!({"__type":"Object","className":"Post","n":2})
    );
    assert_eq!(
        Date::from_ms(1_568_868_349_090).to_json(),
        json!({"__type":"Date","iso":"2019-09-19T04:45:49.090Z"})
    );
}

#[test]
fn geopoint_out_of_range_is_code_302() {
    assert_eq!(
        GeoPoint::new(90.1, 0.0).unwrap_err().code,
        code::INVALID_GEOPOINT
    );
    assert_eq!(
        GeoPoint::new(0.0, -180.5).unwrap_err().code,
        code::INVALID_GEOPOINT
    );
    let bad = json!({"__type":"GeoPoint","latitude":10,"longitude":200});
    assert_eq!(
        validate("loc", &bad),
        Err(LcError::invalid_geopoint(
            "longitude 200 is outside [-180, 180]."
        ))
    );
    let not_numbers = json!({"__type":"GeoPoint","latitude":"1","longitude":2});
    assert_eq!(code(validate("loc", &not_numbers)), code::INVALID_GEOPOINT);
}

#[test]
fn acl_round_trips_and_keeps_unknown_keys_verbatim() {
    let v = json!({"*":{"read":true},"u1":{"read":true,"write":true},
        "role:Admin":{"write":true},"read-only":{"read":true},"nobody":{"read":false}});
    let acl = Acl::from_json(&v).unwrap();
    assert_eq!(acl.to_json(), v);
    assert!(acl.can_read(&["*"]));
    assert!(!acl.can_write(&["*"]));
    assert!(acl.can_write(&["*", "role:Admin"]));
    assert!(!acl.can_read(&["nobody"]));
    assert_eq!(
        Acl::public().to_json(),
        json!({"*":{"read":true,"write":true}})
    );
    assert_eq!(
        Acl::new().allow_read(Acl::role("Mod")).to_json(),
        json!({"role:Mod":{"read":true}})
    );
}

#[test]
fn malformed_acls_are_code_123() {
    for bad in [
        json!([]),
        json!({"*": true}),
        json!({"*": {"read": "yes"}}),
        json!({"*": {"delete": true}}),
    ] {
        assert_eq!(code(validate("ACL", &bad)), code::INVALID_ACL, "{bad}");
    }
    assert_eq!(validate("ACL", &json!({"*":{"read":true}})), Ok(()));
}

#[test]
fn malformed_pointers_are_code_106() {
    let bad = json!({"__type":"Pointer","className":"Post"});
    assert_eq!(
        validate("post", &bad),
        Err(LcError::invalid_pointer(
            "a pointer for field 'post' needs string className and objectId, got {\"__type\":\"Pointer\",\"className\":\"Post\"}."
        ))
    );
    let id_number = json!({"__type":"Pointer","className":"Post","objectId":1});
    assert_eq!(code(validate("post", &id_number)), code::INVALID_POINTER);
}

#[test]
fn bad_dates_files_bytes_and_objects_are_code_111() {
    for bad in [
        json!({"__type":"Date","iso":"yesterday"}),
        json!({"__type":"Date"}),
        json!({"__type":"File","name":"a.txt"}),
        json!({"__type":"Bytes","base64":1}),
        json!({"__type":"Object","objectId":"x"}),
    ] {
        assert_eq!(code(validate("f", &bad)), code::INCORRECT_TYPE, "{bad}");
    }
}

#[test]
fn unknown_type_is_code_111() {
    assert_eq!(
        validate("f", &json!({"__type":"Money","amount":1})),
        Err(LcError::incorrect_type_detail(
            "Unknown __type \"Money\" for field 'f'."
        ))
    );
    assert_eq!(
        code(validate("f", &json!({"__type":7}))),
        code::INCORRECT_TYPE
    );
}

#[test]
fn a_relation_may_be_written_only_as_the_marker() {
    assert_eq!(
        validate("likes", &json!({"__type":"Relation","className":"_User"})),
        Ok(())
    );
    let with_objects = json!({"__type":"Relation","className":"_User","objects":[]});
    assert_eq!(code(validate("likes", &with_objects)), code::INCORRECT_TYPE);
    assert_eq!(
        code(validate("likes", &json!({"__type":"Relation"}))),
        code::INCORRECT_TYPE
    );
}

#[test]
fn nested_keys_with_dollar_or_dot_are_code_121() {
    assert_eq!(
        validate("o", &json!({"a":{"$gt":1}})),
        Err(LcError::invalid_nested_key("$gt"))
    );
    assert_eq!(
        code(validate("o", &json!({"a.b":1}))),
        code::INVALID_NESTED_KEY
    );
    assert_eq!(
        code(validate("o", &json!([{"ok":[{"x.y":1}]}]))),
        code::INVALID_NESTED_KEY
    );
    let in_object = json!({"__type":"Object","className":"P","m":{"$x":1}});
    assert_eq!(code(validate("o", &in_object)), code::INVALID_NESTED_KEY);
    assert_eq!(validate("o", &json!({"a":{"b":[1,{"c":null}]}})), Ok(()));
}

#[test]
fn typed_values_nested_in_plain_values_are_checked() {
    let nested = json!({"list":[{"__type":"Pointer","className":"P"}]});
    assert_eq!(code(validate("o", &nested)), code::INVALID_POINTER);
    let ok = json!({"list":[{"__type":"Date","iso":"2015-06-21T18:02:52.249Z"}]});
    assert_eq!(validate("o", &ok), Ok(()));
}

#[test]
fn scalars_are_always_valid() {
    for v in [json!(null), json!(1), json!("$.x"), json!(true), json!([])] {
        assert_eq!(validate("k", &v), Ok(()));
    }
}

#[test]
fn type_names_follow_the_schema_names() {
    assert_eq!(type_name(&json!("s")), "String");
    assert_eq!(type_name(&json!(1.5)), "Number");
    assert_eq!(type_name(&json!([1])), "Array");
    assert_eq!(type_name(&json!({"a":1})), "Object");
    assert_eq!(type_name(&Pointer::new("P", "1").to_json()), "Pointer");
    assert_eq!(type_name(&Date::from_ms(0).to_json()), "Date");
}
