//! Loading a settings folder: the example loads, a broken folder is refused with the
//! file and the problem named, an empty class folder makes the class.

use super::*;

// ---- loading -------------------------------------------------------------------------------

#[test]
fn the_example_folder_loads_every_class_with_its_rows() {
    let settings = example();
    let names: Vec<&str> = settings.classes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Business", "Review", "_User"]);
    let mut store = lc_model::Store::default();
    let applied = settings.apply_to(&mut store).unwrap();
    assert_eq!((applied.classes, applied.objects), (3, 5));
    let review = store.object("Review", REVIEW).unwrap();
    assert_eq!(
        lc_model::store::StoredObject::get(review, "updatedAt"),
        Some(json!("2024-01-13T10:30:00.000Z"))
    );
    assert_eq!(
        store.class("Review").unwrap().settings.unique,
        vec![vec!["business".to_string(), "author".to_string()]]
    );
    assert_eq!(store.session_user(ALICE_SESSION), Some(ALICE));
    let alice = store.object("_User", ALICE).unwrap();
    assert_eq!(
        alice.to_map()["ACL"],
        json!({ALICE: {"read": true, "write": true}, "*": {"read": true}}),
        "a user row owns itself through the _owner default ACL"
    );
    assert!(!alice.to_map().contains_key("password"));
}

/// A scratch settings folder, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "lc-mock-settings-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, rel: &str, text: &str) -> &Self {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    fn load_err(&self) -> LoadError {
        match Settings::load(&self.0).and_then(|s| {
            s.apply_to(&mut lc_model::Store::default())?;
            Ok(s)
        }) {
            Ok(_) => panic!("{} should not load", self.0.display()),
            Err(e) => e,
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_broken_folder_is_refused_with_the_file_and_the_problem() {
    let s = Scratch::new("misspelt-file");
    s.write("Post/schema.json", r#"{"columns": {}}"#)
        .write("Post/permission.json", "{}");
    let e = s.load_err();
    assert_eq!(e.path, s.0.join("Post/permission.json"));
    assert_eq!(
        e.problem,
        "unknown settings file (expected schema.json, indexes.json, permissions.json, population.json)"
    );

    let s = Scratch::new("stray-file");
    s.write("Post.json", "{}")
        .write("README.md", "notes are fine");
    let e = s.load_err();
    assert_eq!(e.path, s.0.join("Post.json"));
    assert!(e.problem.starts_with("unexpected file"), "{e}");

    let s = Scratch::new("bad-json");
    s.write("Post/schema.json", "{\"columns\": {\n  \"a\": }\n}");
    let e = s.load_err();
    assert_eq!(e.path, s.0.join("Post/schema.json"));
    assert_eq!(e.problem, "invalid JSON: expected value at line 2 column 8");

    let s = Scratch::new("misspelt-key");
    s.write(
        "Post/schema.json",
        r#"{"columns": {"title": {"type": "String", "hiden": true}}}"#,
    );
    assert_eq!(
        s.load_err().to_string(),
        format!(
            "{}: at columns.title.hiden: unknown key 'hiden' (expected one of: type, className, read_only, hidden, required, default, description)",
            s.0.join("Post/schema.json").display()
        )
    );

    let s = Scratch::new("bad-class");
    s.write("Po-st/schema.json", "{}");
    let e = s.load_err();
    assert_eq!(e.path, s.0.join("Po-st"));
    assert!(e.problem.starts_with("Invalid class name 'Po-st'"), "{e}");

    let s = Scratch::new("bad-row");
    s.write(
        "Post/schema.json",
        r#"{"columns": {"title": {"type": "String", "required": true}}}"#,
    )
    .write("Post/population.json", r#"[{"title": "a"}, {"body": "b"}]"#);
    let e = s.load_err();
    assert_eq!(e.path, s.0.join("Post/population.json"));
    assert_eq!(
        e.problem,
        "at [1]: Missing required key: 'title'. (code 113)"
    );

    let missing = Settings::load(s.0.join("nothing-here")).unwrap_err();
    assert_eq!(
        missing.problem,
        "not a folder (expected one folder per class)"
    );
}

#[test]
fn an_empty_class_folder_makes_the_class_exist() {
    let s = Scratch::new("empty-class");
    std::fs::create_dir_all(s.0.join("Empty")).unwrap();
    s.write("Empty/.gitkeep", "");
    let settings = Settings::load(&s.0).unwrap();
    let mut store = lc_model::Store::default();
    settings.apply_to(&mut store).unwrap();
    assert!(store.class("Empty").is_some());
}
