//! `where` with `$regex`.

use super::*;

// ---- where: regex ---------------------------------------------------------------------

fn titles() -> Store {
    let mut s = store();
    put(
        &mut s,
        "Post",
        1,
        json!({"title": "Single line description."}),
    );
    put(
        &mut s,
        "Post",
        2,
        json!({"title": "First line\nSecond line"}),
    );
    put(
        &mut s,
        "Post",
        3,
        json!({"title": "Many spaces before     line"}),
    );
    put(
        &mut s,
        "Post",
        4,
        json!({"title": "Multiple\nline description"}),
    );
    put(&mut s, "Post", 5, json!({"title": "abc123"}));
    put(&mut s, "Post", 6, json!({"title": "a.b*c (1)"}));
    put(&mut s, "Post", 7, json!({"title": 42}));
    s
}

#[test]
fn regex_options_follow_the_documented_examples() {
    let s = titles();
    let q = |re: &str, opt: &str| json!({"title": {"$regex": re, "$options": opt}}).to_string();
    assert_eq!(matching(&s, "Post", &q("single", "i")), these(&[1]));
    assert_eq!(matching(&s, "Post", &q("single", "")), these(&[]));
    assert_eq!(matching(&s, "Post", &q("^S", "m")), these(&[1, 2]));
    assert_eq!(matching(&s, "Post", &q("^S", "")), these(&[1]));
    assert_eq!(
        matching(&s, "Post", &q("abc #category code\n123 #item number", "x")),
        these(&[5])
    );
    assert_eq!(matching(&s, "Post", &q("m.*line", "si")), these(&[3, 4]));
    assert_eq!(matching(&s, "Post", &q("m.*line", "sixm")), these(&[3, 4]));
}

#[test]
fn regex_without_options_and_on_non_strings() {
    let s = titles();
    assert_eq!(
        matching(&s, "Post", r#"{"title":{"$regex":"^abc\\d+$"}}"#),
        these(&[5])
    );
    assert_eq!(
        matching(&s, "Post", r#"{"title":{"$regex":"42"}}"#),
        these(&[])
    );
}

#[test]
fn quoted_regex_text_matches_literally_as_the_javascript_sdk_sends_it() {
    let s = titles();
    // startsWith("a.b*c (") and endsWith("(1)") as the JavaScript SDK encodes them.
    assert_eq!(
        matching(&s, "Post", r#"{"title":{"$regex":"^\\Qa.b*c (\\E"}}"#),
        these(&[6])
    );
    assert_eq!(
        matching(&s, "Post", r#"{"title":{"$regex":"\\Q(1)\\E$"}}"#),
        these(&[6])
    );
    assert_eq!(
        matching(&s, "Post", r#"{"title":{"$regex":"^\\Qa.b\\E"}}"#),
        these(&[6])
    );
    assert_eq!(
        matching(&s, "Post", r#"{"title":{"$regex":"^\\Qabc\\E"}}"#),
        these(&[5])
    );
}

#[test]
fn a_bad_regex_or_option_is_an_invalid_query() {
    let s = titles();
    for w in [
        r#"{"title":{"$regex":"("}}"#,
        r#"{"title":{"$regex":"a","$options":"z"}}"#,
        r#"{"title":{"$regex":5}}"#,
        r#"{"title":{"$options":"i"}}"#,
    ] {
        let e = find_error(&s, "Post", &[("where", w)]);
        assert_eq!(e.code, code::INVALID_QUERY, "{w}: {e}");
    }
}
