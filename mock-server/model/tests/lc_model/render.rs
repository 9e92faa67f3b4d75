//! How objects are shown: built-ins, `returnACL`, `keys`, `include`.

use crate::support::*;
use lc_model::presentation::View;
use lc_model::{Store, StoredObject};
use leancloud::error::code;
use serde_json::{Value, json};

fn view(query: &[(&str, &str)]) -> View {
    View::from_query(&params(query)).expect("a valid view")
}

fn show(store: &Store, class: &str, n: u32, query: &[(&str, &str)]) -> Value {
    let obj = store.object(class, &id(n)).expect("fixture object");
    view(query).render(store, obj, &everyone).expect("rendered")
}

const PUBLIC: fn() -> Value = || json!({"*": {"read": true, "write": true}});

/// Object n's `createdAt`/`updatedAt` as rendered.
fn at(n: u32) -> String {
    leancloud::value::format_date(T0 + i64::from(n) * 1000)
}

fn blog() -> Store {
    let mut s = store();
    put(
        &mut s,
        "Person",
        1,
        json!({"name": "1", "company": "leancloud", "likes": {"__type": "Relation", "className": "Post"}, "ACL": PUBLIC()}),
    );
    put(
        &mut s,
        "Person",
        2,
        json!({"name": "2", "company": "leancloud", "ACL": PUBLIC()}),
    );
    put(
        &mut s,
        "Post",
        3,
        json!({"title": "post1", "author1": pointer("Person", 1), "author2": pointer("Person", 2),
               "meta": {"a": 1, "b": {"c": 2, "d": 3}}, "score": 5, "ACL": PUBLIC()}),
    );
    put(
        &mut s,
        "Comment",
        4,
        json!({"content": "comment1", "post": pointer("Post", 3), "ACL": PUBLIC()}),
    );
    put(
        &mut s,
        "Comment",
        5,
        json!({"post": pointer("Post", 99), "ghost": pointer("Nope", 1)}),
    );
    put(
        &mut s,
        "Post",
        6,
        json!({"authors": [pointer("Person", 1), "not a pointer", pointer("Person", 2)]}),
    );
    s
}

fn person(n: u32) -> Value {
    let mut p = json!({
        "__type": "Pointer", "className": "Person", "objectId": id(n),
        "name": n.to_string(), "company": "leancloud",
        "createdAt": at(n), "updatedAt": at(n),
    });
    if n == 1 {
        p["likes"] = json!({"__type": "Relation", "className": "Post"});
    }
    p
}

#[test]
fn an_object_shows_its_fields_and_built_ins_but_not_its_acl() {
    let s = blog();
    assert_eq!(
        show(&s, "Person", 2, &[]),
        json!({"name": "2", "company": "leancloud", "objectId": id(2), "createdAt": at(2), "updatedAt": at(2)})
    );
}

#[test]
fn relation_fields_show_their_marker() {
    let s = blog();
    assert_eq!(
        show(&s, "Person", 1, &[])["likes"],
        json!({"__type": "Relation", "className": "Post"})
    );
}

#[test]
fn return_acl_shows_the_acl() {
    let s = blog();
    assert_eq!(
        show(&s, "Person", 2, &[("returnACL", "true")])["ACL"],
        PUBLIC()
    );
    assert_eq!(
        show(&s, "Person", 2, &[("returnACL", "false")]).get("ACL"),
        None
    );
}

#[test]
fn keys_keep_only_the_named_fields_and_the_built_ins() {
    let s = blog();
    assert_eq!(
        show(&s, "Person", 2, &[("keys", "name")]),
        json!({"name": "2", "objectId": id(2), "createdAt": at(2), "updatedAt": at(2)})
    );
    assert_eq!(
        show(&s, "Post", 3, &[("keys", "score,missing")]),
        json!({"score": 5, "objectId": id(3), "createdAt": at(3), "updatedAt": at(3)})
    );
}

#[test]
fn negative_keys_remove_fields_including_built_ins() {
    let s = blog();
    assert_eq!(
        show(
            &s,
            "Person",
            2,
            &[("keys", "-company,-createdAt,-updatedAt,-objectId")]
        ),
        json!({"name": "2"})
    );
}

#[test]
fn dotted_keys_select_or_remove_sub_fields_of_object_fields() {
    let s = blog();
    let shown = show(&s, "Post", 3, &[("keys", "meta.b.c,title")]);
    assert_eq!(shown["meta"], json!({"b": {"c": 2}}));
    assert_eq!(shown["title"], json!("post1"));
    assert_eq!(shown.get("score"), None);
    let shown = show(&s, "Post", 3, &[("keys", "-meta.b.d,-meta.a")]);
    assert_eq!(shown["meta"], json!({"b": {"c": 2}}));
    assert_eq!(shown["score"], json!(5));
    let shown = show(&s, "Post", 3, &[("keys", "meta,meta.a")]);
    assert_eq!(shown["meta"], json!({"a": 1, "b": {"c": 2, "d": 3}}));
}

#[test]
fn include_expands_pointers_into_the_full_target_marked_as_a_pointer() {
    let s = blog();
    let shown = show(&s, "Post", 3, &[("include", "author1,author2")]);
    assert_eq!(shown["author1"], person(1));
    assert_eq!(shown["author2"], person(2));
    assert_eq!(shown["title"], json!("post1"));
}

#[test]
fn include_tolerates_spaces_after_commas() {
    let s = blog();
    let shown = show(&s, "Post", 3, &[("include", "author1, author2")]);
    assert_eq!(
        (shown["author1"].clone(), shown["author2"].clone()),
        (person(1), person(2))
    );
}

#[test]
fn including_a_non_pointer_or_missing_key_is_ignored() {
    let s = blog();
    let plain = show(&s, "Post", 3, &[]);
    assert_eq!(
        show(&s, "Post", 3, &[("include", "score,title,meta,nothing")]),
        plain
    );
}

#[test]
fn nested_include_follows_dot_paths() {
    let s = blog();
    let shown = show(&s, "Comment", 4, &[("include", "post.author1")]);
    assert_eq!(shown["post"]["__type"], json!("Pointer"));
    assert_eq!(shown["post"]["className"], json!("Post"));
    assert_eq!(shown["post"]["title"], json!("post1"));
    assert_eq!(shown["post"]["author1"], person(1));
    assert_eq!(shown["post"]["author2"], pointer("Person", 2));
}

#[test]
fn a_missing_or_invisible_target_stays_a_bare_pointer() {
    let s = blog();
    let shown = show(&s, "Comment", 5, &[("include", "post,ghost")]);
    assert_eq!(shown["post"], pointer("Post", 99));
    assert_eq!(shown["ghost"], pointer("Nope", 1));

    let obj = s.object("Post", &id(3)).unwrap();
    let no_person_2 = |class: &str, o: &StoredObject| !(class == "Person" && o.id == id(2));
    let shown = view(&[("include", "author1,author2")])
        .render(&s, obj, &no_person_2)
        .unwrap();
    assert_eq!(shown["author1"], person(1));
    assert_eq!(shown["author2"], pointer("Person", 2));
}

#[test]
fn included_targets_show_their_acl_only_with_return_acl() {
    let s = blog();
    let shown = show(&s, "Post", 3, &[("include", "author1")]);
    assert_eq!(shown["author1"].get("ACL"), None);
    let shown = show(
        &s,
        "Post",
        3,
        &[("include", "author1"), ("returnACL", "true")],
    );
    assert_eq!(shown["author1"]["ACL"], PUBLIC());
    assert_eq!(shown["ACL"], PUBLIC());
}

#[test]
fn include_follows_arrays_of_pointers() {
    let s = blog();
    let shown = show(&s, "Post", 6, &[("include", "authors")]);
    assert_eq!(
        shown["authors"],
        json!([person(1), "not a pointer", person(2)])
    );
}

#[test]
fn keys_and_include_combine() {
    let s = blog();
    // A key that is also included keeps its expansion.
    let shown = show(
        &s,
        "Post",
        3,
        &[("keys", "author1"), ("include", "author1")],
    );
    assert_eq!(
        shown,
        json!({"author1": person(1), "objectId": id(3), "createdAt": at(3), "updatedAt": at(3)})
    );
    // A dotted key into a pointer expands it and keeps only that sub-key.
    let shown = show(&s, "Post", 3, &[("keys", "author1.name")]);
    assert_eq!(
        shown["author1"],
        json!({"__type": "Pointer", "className": "Person", "objectId": id(1), "name": "1",
               "createdAt": at(1), "updatedAt": at(1)})
    );
    // Negative dotted keys trim an included target.
    let shown = show(
        &s,
        "Post",
        3,
        &[
            (
                "keys",
                "-author1.createdAt,-author1.updatedAt,-author1.likes",
            ),
            ("include", "author1"),
        ],
    );
    assert_eq!(
        shown["author1"],
        json!({"__type": "Pointer", "className": "Person", "objectId": id(1), "name": "1", "company": "leancloud"})
    );
    // An included key that `keys` leaves out is left out.
    let shown = show(&s, "Post", 3, &[("keys", "title"), ("include", "author1")]);
    assert_eq!(shown.get("author1"), None);
}

#[test]
fn views_parse_from_query_and_batch_parameters() {
    let v = view(&[
        ("keys", " a, -b.c ,"),
        ("include", "x, y.z"),
        ("returnACL", "1"),
    ]);
    assert_eq!(v.keys, Some(vec!["a".to_string(), "-b.c".to_string()]));
    assert_eq!(
        v.include,
        vec![
            vec!["x".to_string()],
            vec!["y".to_string(), "z".to_string()]
        ]
    );
    assert!(v.return_acl);
    assert_eq!(view(&[("keys", "")]).keys, None);
    assert_eq!(view(&[]), View::default());
    let batch = json!({"keys": "a", "include": ["x", "y"], "returnACL": true});
    let v = View::from_json(batch.as_object().unwrap()).unwrap();
    assert_eq!(v.include.len(), 2);
    assert!(v.return_acl);
    let bad = json!({"keys": 5});
    assert_eq!(
        View::from_json(bad.as_object().unwrap()).unwrap_err().code,
        code::INVALID_QUERY
    );
}

#[test]
fn a_find_renders_its_rows_with_the_view() {
    let s = blog();
    let found = try_find(
        &s,
        "Comment",
        &[
            ("where", r#"{"content":"comment1"}"#),
            ("include", "post"),
            ("keys", "post.title"),
        ],
    )
    .unwrap();
    assert_eq!(
        found.results,
        vec![json!({
            "post": {"__type": "Pointer", "className": "Post", "objectId": id(3), "title": "post1",
                     "createdAt": at(3), "updatedAt": at(3)},
            "objectId": id(4), "createdAt": at(4), "updatedAt": at(4)
        })]
    );
}
