//! Loading a case's seeds into its fresh app before the first exchange.
//!
//! Every seed object of the case goes in at once, as `population.json` rows through the
//! database-settings rules ([`lc_model::settings`]): with the master key, ids, dates,
//! passwords and session tokens kept, so rows may point at each other. A class the app
//! already has settings for (from `--settings`) keeps them: the rows are added to it.
//!
//! A class whose seeds are `complete` is created even when it has no rows.
//!
//! A row that cannot be loaded (a malformed row, a duplicate id or session token, a
//! value a column refuses) is left out and reported as a [`SeedProblem`]; the others
//! still load.

use super::record::{Seed, SeedKind};
use lc_model::Store;
use lc_model::settings::{self, ClassFiles, ClassSpec, SettingsError};
use serde_json::Value;
use std::fmt;

/// A seed line that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedProblem {
    /// Line of the recordings file (1-based).
    pub line: usize,
    pub suite: String,
    pub test: String,
    pub class: String,
    pub object_id: Option<String>,
    pub problem: String,
}

impl fmt::Display for SeedProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} ({} :: {}): seed {}",
            self.line, self.suite, self.test, self.class
        )?;
        if let Some(id) = &self.object_id {
            write!(f, " {id}")?;
        }
        write!(f, " not loaded: {}", self.problem)
    }
}

impl SeedProblem {
    fn new(seed: &Seed, problem: impl Into<String>) -> Self {
        SeedProblem {
            line: seed.line,
            suite: seed.seed.suite.clone(),
            test: seed.seed.test.clone(),
            class: seed.seed.class.clone(),
            object_id: seed.seed.object_id().map(str::to_string),
            problem: problem.into(),
        }
    }
}

/// What a case's seeds put in its app.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    /// objectIds of the rows loaded, and the ids known to be absent.
    pub ids: Vec<String>,
    /// Session tokens of the `_User` rows loaded.
    pub tokens: Vec<String>,
    /// Classes with a row loaded, an absent id, or complete seeds.
    pub classes: Vec<String>,
    /// The seeds left out.
    pub problems: Vec<SeedProblem>,
}

/// A settings error about one row, in the words of a seed line (the row is the whole
/// population, so its `[i]` prefix says nothing).
fn describe(e: &SettingsError) -> String {
    let at =
        e.at.strip_prefix('[')
            .and_then(|rest| rest.split_once(']'))
            .map_or(e.at.as_str(), |(_, rest)| rest.trim_start_matches('.'));
    if at.is_empty() {
        e.message.clone()
    } else {
        format!("at {at}: {}", e.message)
    }
}

/// The row index a settings error points at (`[3]`, `[3].title`).
fn row_index(e: &SettingsError) -> Option<usize> {
    let rest = e.at.strip_prefix('[')?;
    rest.split_once(']')?.0.parse().ok()
}

/// One class's rows waiting to be loaded, each with its seed line.
struct Pending<'a> {
    class: String,
    rows: Vec<(&'a Seed, Value)>,
}

impl Pending<'_> {
    fn spec(&self) -> Result<ClassSpec, SettingsError> {
        let rows = self.rows.iter().map(|(_, row)| row.clone()).collect();
        ClassSpec::parse(
            &self.class,
            &ClassFiles {
                population: Some(Value::Array(rows)),
                ..ClassFiles::default()
            },
        )
    }
}

/// Load `seeds` into `store`. Never fails and never panics: what cannot be loaded is
/// left out and reported in [`Loaded::problems`]. Should the model panic on a row, the
/// store is put back as it was and every seed object of the case is reported.
pub fn load(seeds: &[&Seed], store: &mut Store) -> Loaded {
    let before = store.snapshot();
    let loading = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        load_rows(seeds, &mut *store)
    }));
    match loading {
        Ok(loaded) => loaded,
        Err(panic) => {
            store.restore(&before);
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Loaded {
                problems: seeds
                    .iter()
                    .filter(|s| matches!(s.seed.kind, SeedKind::Object(_)))
                    .map(|s| SeedProblem::new(s, format!("the emulator panicked: {message}")))
                    .collect(),
                ..Loaded::default()
            }
        }
    }
}

fn load_rows(seeds: &[&Seed], store: &mut Store) -> Loaded {
    let mut loaded = Loaded::default();
    let mut pending: Vec<Pending<'_>> = Vec::new();
    let mut complete: Vec<&Seed> = Vec::new();
    for &seed in seeds {
        let row = match &seed.seed.kind {
            SeedKind::Absent(id) => {
                push_new(&mut loaded.ids, id);
                push_new(&mut loaded.classes, &seed.seed.class);
                continue;
            }
            SeedKind::Complete => {
                complete.push(seed);
                continue;
            }
            SeedKind::Object(row) => row,
        };
        // A row alone first: its own faults are its own.
        let alone = Pending {
            class: seed.seed.class.clone(),
            rows: vec![(seed, row.clone())],
        };
        if let Err(e) = alone.spec() {
            loaded.problems.push(SeedProblem::new(seed, describe(&e)));
            continue;
        }
        let group = match pending.iter_mut().position(|p| p.class == seed.seed.class) {
            Some(i) => &mut pending[i],
            None => {
                pending.push(Pending {
                    class: seed.seed.class.clone(),
                    rows: Vec::new(),
                });
                pending.last_mut().expect("just pushed")
            }
        };
        let id = seed.seed.object_id();
        if let Some((first, earlier)) = group
            .rows
            .iter()
            .find(|(s, _)| id.is_some() && s.seed.object_id() == id)
        {
            // The same object seeded twice: harmless when the rows agree.
            if earlier != row {
                loaded.problems.push(SeedProblem::new(
                    seed,
                    format!(
                        "the object is seeded twice in the case with different rows (line {} is loaded)",
                        first.line
                    ),
                ));
            }
            continue;
        }
        group.rows.push((seed, row.clone()));
    }

    // All classes at once; a row refused on insert is dropped and the rest tried again
    // on the store as it was.
    let before = store.snapshot();
    loop {
        pending.retain(|p| !p.rows.is_empty());
        let mut specs = Vec::with_capacity(pending.len());
        let mut failed = None;
        for (i, p) in pending.iter().enumerate() {
            match p.spec() {
                Ok(spec) => specs.push(spec),
                Err(e) => {
                    failed = Some((i, e));
                    break;
                }
            }
        }
        let failed = match failed {
            Some(f) => Some(f),
            None => match settings::apply(store, &specs) {
                Ok(_) => None,
                Err(e) => {
                    store.restore(&before);
                    let i = pending.iter().position(|p| p.class == e.class);
                    match i {
                        Some(i) => Some((i, e)),
                        // Not about one of the seeded classes: nothing can be loaded.
                        None => {
                            for p in pending.drain(..) {
                                for (seed, _) in p.rows {
                                    loaded.problems.push(SeedProblem::new(seed, describe(&e)));
                                }
                            }
                            continue;
                        }
                    }
                }
            },
        };
        let Some((i, e)) = failed else { break };
        let group = &mut pending[i];
        match row_index(&e).filter(|&r| r < group.rows.len()) {
            Some(r) => {
                let (seed, _) = group.rows.remove(r);
                loaded.problems.push(SeedProblem::new(seed, describe(&e)));
            }
            None => {
                for (seed, _) in group.rows.drain(..) {
                    loaded.problems.push(SeedProblem::new(seed, describe(&e)));
                }
            }
        }
    }

    for seed in complete {
        match lc_model::names::check_class_name(&seed.seed.class) {
            Ok(()) => {
                store.class_mut(&seed.seed.class);
                push_new(&mut loaded.classes, &seed.seed.class);
            }
            Err(e) => loaded.problems.push(SeedProblem::new(seed, e.message)),
        }
    }
    for p in &pending {
        push_new(&mut loaded.classes, &p.class);
        for (seed, row) in &p.rows {
            if let Some(id) = seed.seed.object_id() {
                push_new(&mut loaded.ids, id);
            }
            if let Some(token) = row.get("sessionToken").and_then(Value::as_str)
                && p.class == "_User"
            {
                push_new(&mut loaded.tokens, token);
            }
        }
    }
    loaded.problems.sort_by_key(|p| p.line);
    loaded
}

fn push_new(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::record::parse_recordings;

    fn seeds(lines: &[&str]) -> Vec<Seed> {
        let r = parse_recordings(&lines.join("\n"));
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        r.seeds
    }

    #[test]
    fn good_rows_load_and_bad_ones_are_reported() {
        let seeds = seeds(&[
            r#"{"suite":"S","test":"t","seed":{"class":"Post","object":{"objectId":"aaaaaaaaaaaaaaaaaaaaaaa1","title":"ok","author":{"__type":"Pointer","className":"_User","objectId":"aaaaaaaaaaaaaaaaaaaaaaa2"}}}}"#,
            r#"{"suite":"S","test":"t","seed":{"class":"_User","object":{"objectId":"aaaaaaaaaaaaaaaaaaaaaaa2","username":"u","password":"p","sessionToken":"tokentokentokentokentoken"}}}"#,
            r#"{"suite":"S","test":"t","seed":{"class":"Post","object":{"objectId":"aaaaaaaaaaaaaaaaaaaaaaa3","createdAt":"yesterday"}}}"#,
            r#"{"suite":"S","test":"t","seed":{"class":"_User","object":{"objectId":"aaaaaaaaaaaaaaaaaaaaaaa4","username":"v","sessionToken":"tokentokentokentokentoken"}}}"#,
            r#"{"suite":"S","test":"t","seed":{"class":"Post","object":{"objectId":"aaaaaaaaaaaaaaaaaaaaaaa5","title":7}}}"#,
            r#"{"suite":"S","test":"t","seed":{"class":"Gone","absent":"aaaaaaaaaaaaaaaaaaaaaaa6"}}"#,
            r#"{"suite":"S","test":"t","seed":{"class":"Empty","complete":true}}"#,
            r#"{"suite":"S","test":"t","seed":{"class":"no such","complete":true}}"#,
        ]);
        let refs: Vec<&Seed> = seeds.iter().collect();
        let mut store = Store::default();
        let loaded = load(&refs, &mut store);
        let lines: Vec<usize> = loaded.problems.iter().map(|p| p.line).collect();
        // Line 3: a bad date; line 4: the token is taken; line 5: title is a String;
        // line 8: not a class name.
        assert_eq!(lines, vec![3, 4, 5, 8], "{:?}", loaded.problems);
        assert!(loaded.problems[0].to_string().contains("createdAt"));
        assert!(store.object("Post", "aaaaaaaaaaaaaaaaaaaaaaa1").is_some());
        assert!(store.object("_User", "aaaaaaaaaaaaaaaaaaaaaaa2").is_some());
        assert!(store.object("_User", "aaaaaaaaaaaaaaaaaaaaaaa4").is_none());
        assert_eq!(
            store.session_user("tokentokentokentokentoken"),
            Some("aaaaaaaaaaaaaaaaaaaaaaa2")
        );
        assert_eq!(loaded.tokens, vec!["tokentokentokentokentoken".to_string()]);
        assert!(loaded.ids.contains(&"aaaaaaaaaaaaaaaaaaaaaaa6".to_string()));
        assert!(!loaded.ids.contains(&"aaaaaaaaaaaaaaaaaaaaaaa3".to_string()));
        assert!(loaded.classes.contains(&"Gone".to_string()));
        assert!(store.class("Gone").is_none(), "an absent id makes no class");
        assert!(store.class("Empty").is_some_and(|c| c.objects.is_empty()));
        assert!(loaded.classes.contains(&"Empty".to_string()));
    }
}
