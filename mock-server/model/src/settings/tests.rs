//! Unit tests of `settings`.

use super::*;
use crate::ids::{FixedClock, SeededIds};
use std::sync::Arc;

fn store() -> Store {
    Store::new(
        Arc::new(FixedClock::new(1_700_000_000_000)),
        Box::new(SeededIds::new(7)),
    )
}

fn files(schema: Value) -> ClassFiles {
    ClassFiles {
        schema: Some(schema),
        ..ClassFiles::default()
    }
}

fn parse_err(class: &str, files: ClassFiles) -> String {
    ClassSpec::parse(class, &files).unwrap_err().to_string()
}

#[test]
fn a_schema_declares_columns_with_their_flags() {
    let spec = ClassSpec::parse(
        "Review",
        &files(json!({
            "description": "reviews",
            "columns": {
                "stars": {"type": "Number", "required": true, "default": 3},
                "author": {"type": "Pointer", "className": "_User", "read_only": true},
                "note": {"type": "String", "hidden": true, "description": "staff only"}
            }
        })),
    )
    .unwrap();
    assert_eq!(spec.description.as_deref(), Some("reviews"));
    let stars = &spec.columns["stars"].column;
    assert_eq!((stars.kind.as_str(), stars.required), ("Number", true));
    assert_eq!(stars.default, Some(json!(3)));
    let author = &spec.columns["author"].column;
    assert_eq!(author.class_name.as_deref(), Some("_User"));
    assert!(author.read_only && !author.hidden);
    assert!(spec.columns["note"].column.hidden);
    assert_eq!(
        spec.columns["note"].description.as_deref(),
        Some("staff only")
    );
}

#[test]
fn misspelt_keys_and_bad_types_name_the_place() {
    assert_eq!(
        parse_err(
            "Review",
            files(json!({"columns": {"stars": {"type": "Number", "readonly": true}}}))
        ),
        "Review/schema.json at columns.stars.readonly: unknown key 'readonly' (expected one of: type, className, read_only, hidden, required, default, description)"
    );
    assert_eq!(
        parse_err("Review", files(json!({"colums": {}}))),
        "Review/schema.json at colums: unknown key 'colums' (expected one of: description, columns)"
    );
    assert!(
        parse_err(
            "Review",
            files(json!({"columns": {"s": {"type": "Strin"}}}))
        )
        .starts_with("Review/schema.json at columns.s.type: unknown type 'Strin'")
    );
    assert_eq!(
        parse_err(
            "Review",
            files(json!({"columns": {"b": {"type": "Pointer"}}}))
        ),
        "Review/schema.json at columns.b: a Pointer column needs a \"className\""
    );
    assert_eq!(
        parse_err(
            "Review",
            files(json!({"columns": {"n": {"type": "Number", "default": "x"}}}))
        ),
        "Review/schema.json at columns.n.default: the default is a String, but the column is a Number"
    );
    assert_eq!(
        parse_err(
            "Review",
            files(json!({"columns": {"createdAt": {"type": "Date"}}}))
        ),
        "Review/schema.json at columns.createdAt: 'createdAt' is a built-in column; leave it out"
    );
    assert!(
        parse_err(
            "Review",
            files(json!({"columns": {"2x": {"type": "Date"}}}))
        )
        .contains("Invalid key name '2x'")
    );
    assert!(parse_err("Re-view", ClassFiles::default()).starts_with("Re-view: Invalid class name"));
}

#[test]
fn index_keys_must_be_declared_columns_of_a_custom_class() {
    let with = |indexes: Value| ClassFiles {
        schema: Some(json!({"columns": {"name": {"type": "String"}}})),
        indexes: Some(indexes),
        ..ClassFiles::default()
    };
    let spec = ClassSpec::parse(
        "Business",
        &with(json!([{"keys": ["name"], "unique": true}, {"keys": ["createdAt"]}])),
    )
    .unwrap();
    assert_eq!(spec.unique_indexes(), vec![vec!["name".to_string()]]);
    assert_eq!(
        parse_err(
            "Business",
            with(json!([{"keys": ["nmae"], "unique": true}]))
        ),
        "Business/indexes.json at [0].keys[0]: 'nmae' is not a column of schema.json (declare it there)"
    );
    assert_eq!(
        parse_err("Business", with(json!([{"key": ["name"]}]))),
        "Business/indexes.json at [0].key: unknown key 'key' (expected one of: keys, unique, name, description)"
    );
    let user = ClassFiles {
        indexes: Some(json!([{"keys": ["email"], "unique": true}])),
        ..ClassFiles::default()
    };
    assert!(
        ClassSpec::parse("_User", &user).is_ok(),
        "built-in classes have built-in columns"
    );
}

#[test]
fn permissions_take_the_three_shapes_only_and_keep_defaults_for_the_rest() {
    let perms = |v: Value| ClassFiles {
        permissions: Some(v),
        ..ClassFiles::default()
    };
    let spec = ClassSpec::parse(
        "_User",
        &perms(json!({
            "create": {"roles": ["admin"]},
            "add_fields": {"users": [], "roles": []},
            "defaultACL": {"_owner": {"read": true, "write": true}, "*": {"read": true}}
        })),
    )
    .unwrap();
    let p = spec.permissions.unwrap();
    assert_eq!(
        p.get(ClassOp::Create),
        Permission::Only {
            users: vec![],
            roles: vec!["admin".into()]
        }
    );
    assert_eq!(
        p.get(ClassOp::Find),
        ClassPermissions::default_for("_User").get(ClassOp::Find)
    );
    assert_eq!(p.get(ClassOp::Get), Permission::Everyone);
    assert!(
        spec.default_acl.unwrap()["_owner"]["write"]
            .as_bool()
            .unwrap()
    );
    assert!(
        parse_err("Doc", perms(json!({"*": {"*": false}})))
            .starts_with("Doc/permissions.json at *: unknown key '*'")
    );
    assert!(
        parse_err("Doc", perms(json!({"get": {"*": false}})))
            .starts_with("Doc/permissions.json at get: '*' must stand alone with the value true")
    );
    assert!(
        parse_err("Doc", perms(json!({"get": {"user": ["x"]}})))
            .starts_with("Doc/permissions.json at get.user: unknown key 'user'")
    );
    assert!(
        parse_err("Doc", perms(json!({"defaultACL": {"*": {"read": 1}}})))
            .starts_with("Doc/permissions.json at defaultACL: Invalid ACL")
    );
}

fn apply_one(s: &mut Store, class: &str, f: ClassFiles) -> Result<Applied, SettingsError> {
    apply(s, &[ClassSpec::parse(class, &f)?])
}

#[test]
fn rows_keep_their_ids_and_times_and_pass_the_create_rules() {
    let mut s = store();
    let f = ClassFiles {
        schema: Some(json!({"columns": {
            "name": {"type": "String", "required": true},
            "owner": {"type": "Pointer", "className": "_User", "read_only": true}
        }})),
        indexes: Some(json!([{"keys": ["name"], "unique": true}])),
        population: Some(json!([
            {"objectId": "b1", "name": "Cafe", "createdAt": "2024-01-02T03:04:05.678Z",
             "owner": {"__type": "Pointer", "className": "_User", "objectId": "u1"}},
            {"name": "Bar", "fans": {"__op": "AddRelation", "objects": [
                {"__type": "Pointer", "className": "_User", "objectId": "u1"}]}}
        ])),
        ..ClassFiles::default()
    };
    assert_eq!(
        apply_one(&mut s, "Business", f).unwrap(),
        Applied {
            classes: 1,
            objects: 2
        }
    );
    let b1 = s.object("Business", "b1").unwrap();
    assert_eq!(
        leancloud::value::format_date(b1.created_at),
        "2024-01-02T03:04:05.678Z"
    );
    assert_eq!(b1.updated_at, b1.created_at);
    assert_eq!(b1.to_map()["ACL"], objects::public_acl());
    let bar = s
        .class("Business")
        .unwrap()
        .objects
        .values()
        .find(|o| o.to_map()["name"] == "Bar")
        .unwrap();
    assert_eq!(bar.id.len(), 24);
    assert!(
        s.relation_targets("Business", &bar.id, "fans")
            .unwrap()
            .contains("u1")
    );
    assert_eq!(s.column_target("Business", "fans"), Some("_User"));

    let dup = ClassFiles {
        population: Some(json!([{"name": "Cafe"}])),
        ..ClassFiles::default()
    };
    let err = apply_one(&mut s, "Business", dup).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Business/population.json at [0]: A unique field was given a value that is already taken. (code 137)"
    );
    let missing = ClassFiles {
        population: Some(json!([{"objectId": "b9"}])),
        ..ClassFiles::default()
    };
    assert_eq!(
        apply_one(&mut s, "Business", missing)
            .unwrap_err()
            .to_string(),
        "Business/population.json at [0]: Missing required key: 'name'. (code 113)"
    );
    let wrong = ClassFiles {
        population: Some(json!([{"name": 5}])),
        ..ClassFiles::default()
    };
    let err = apply_one(&mut s, "Business", wrong).unwrap_err();
    assert!(
        err.message
            .starts_with("Invalid value type for field 'name'"),
        "{err}"
    );
    assert!(err.message.ends_with("(code 111)"), "{err}");
}

#[test]
fn a_user_row_owns_itself_and_may_carry_a_session() {
    let mut s = store();
    let f = ClassFiles {
        permissions: Some(
            json!({"defaultACL": {"_owner": {"read": true, "write": true}, "*": {"read": true}}}),
        ),
        population: Some(
            json!([{"objectId": "u1", "username": "ann", "password": "secret", "sessionToken": "tok1"}]),
        ),
        ..ClassFiles::default()
    };
    apply_one(&mut s, "_User", f).unwrap();
    let u = s.object("_User", "u1").unwrap();
    assert_eq!(
        u.to_map()["ACL"],
        json!({"u1": {"read": true, "write": true}, "*": {"read": true}})
    );
    assert!(!u.to_map().contains_key("password") && !u.to_map().contains_key("sessionToken"));
    assert_eq!(s.session_user("tok1"), Some("u1"));
}

#[test]
fn rows_refuse_flags_duplicate_ids_and_user_keys_elsewhere() {
    let pop = |v: Value| ClassFiles {
        population: Some(v),
        ..ClassFiles::default()
    };
    assert_eq!(
        parse_err("Doc", pop(json!([{"__ignore_hooks": true}]))),
        "Doc/population.json at [0].__ignore_hooks: keys starting with '__' are request flags, not data"
    );
    assert_eq!(
        parse_err("Doc", pop(json!([{"objectId": "a"}, {"objectId": "a"}]))),
        "Doc/population.json at [1].objectId: objectId 'a' is used twice"
    );
    assert!(
        parse_err("Doc", pop(json!([{"createdAt": "yesterday"}])))
            .starts_with("Doc/population.json at [0].createdAt: expected an ISO 8601 date")
    );
    // `password` is an ordinary field outside `_User`, and must then be valid.
    assert!(ClassSpec::parse("Doc", &pop(json!([{"password": "x"}]))).is_ok());
    assert!(parse_err("Doc", pop(json!([{"a.b": 1}]))).contains("(code 105)"));
    assert_eq!(
        parse_err("Doc", pop(json!({"a": 1}))),
        "Doc/population.json: population.json must be a JSON array, not an object"
    );
}

#[test]
fn settings_reach_the_store_and_the_schema_shows_columns_with_builtins() {
    let mut s = store();
    let f = ClassFiles {
        schema: Some(json!({"columns": {
            "title": {"type": "String"},
            "fans": {"type": "Relation", "className": "_User"}
        }})),
        permissions: Some(json!({"add_fields": {"users": [], "roles": []}})),
        ..ClassFiles::default()
    };
    apply_one(&mut s, "Post", f).unwrap();
    let data = s.class("Post").unwrap();
    assert!(
        data.objects.is_empty(),
        "a declared class exists with no rows"
    );
    assert!(
        data.settings
            .permissions
            .check(ClassOp::AddFields, &Principal::anonymous())
            .is_err()
    );
    assert_eq!(
        schema(data),
        json!({
            "objectId": {"type": "String"},
            "createdAt": {"type": "Date"},
            "updatedAt": {"type": "Date"},
            "ACL": {"type": "ACL"},
            "title": {"type": "String"},
            "fans": {"type": "Relation", "className": "_User"}
        })
    );
    assert!(schemas(&s).get("_Role").is_some());
}
