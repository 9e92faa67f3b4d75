//! Coverage of the app's behaviour: which of its functions and hooks ran and how each
//! call ended (accepted, refused with which code, failed), which class-permission and
//! ACL decisions were taken (allowed and refused, per class and operation), and which
//! error codes clients received. What the app defines (its engine's functions and hooks,
//! the operations of each class it holds) but nothing reached is listed first.
//!
//! Each app counts what it saw ([`super::Api::coverage`], `GET /__mock/coverage`,
//! `DELETE /__mock/coverage` to start again; a reset does not clear it, since a suite
//! resets between tests); every app of the process also counts into one tally for the
//! whole run ([`run`]), which a suite's runner writes out with [`write_report`] as JSON
//! and as an HTML page. A runner adds what only it knows (the Gherkin steps used) with
//! [`Report::with_steps`].

use super::routes::Call;
use super::{HandlerResult, Reply};
use lc_model::access::ClassOp;
use lc_model::decisions::{Decision, Rule};
use leancloud::LcError;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

/// How many names each table of a coverage report keeps (functions, hooks, classes,
/// error codes): clients name functions and classes freely, and a long run must not
/// grow without end. Past it, new names count together under [`OTHERS`].
pub const MAX_COVERAGE_NAMES: usize = 10_000;
/// The entry names past [`MAX_COVERAGE_NAMES`] count under.
pub const OTHERS: &str = "(others)";

/// The entry of `key` in `map`, or of [`OTHERS`] when the map is full.
fn slot<'a, V: Default>(map: &'a mut BTreeMap<String, V>, key: &str) -> &'a mut V {
    // Counted on every request: a name already there is found without making its key.
    if !map.contains_key(key) {
        let key = if map.len() >= MAX_COVERAGE_NAMES {
            OTHERS
        } else {
            key
        };
        return map.entry(key.to_string()).or_default();
    }
    map.get_mut(key).expect("the key is there")
}

/// How the calls of one function or hook ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    /// Answered with success.
    pub accepted: u64,
    /// Answered with an error: code -> calls.
    pub refused: BTreeMap<i64, u64>,
    /// Gave no valid answer: why (`timeout`, `unreachable`, `invalid answer`,
    /// `too deep`) -> calls.
    pub failed: BTreeMap<String, u64>,
}

/// How many requests one rule allowed and refused one operation in (a request that
/// checks twice, before and after its hook, or reads many rows, counts once each way).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Decided {
    pub allowed: u64,
    pub refused: u64,
}

/// How a call ended, as [`Coverage::call`] counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Refused(i64),
    Failed(&'static str),
}

#[derive(Debug, Default, Clone)]
struct Tally {
    defined_functions: BTreeSet<String>,
    defined_hooks: BTreeSet<String>,
    defined_classes: BTreeSet<String>,
    functions: BTreeMap<String, Outcomes>,
    hooks: BTreeMap<String, Outcomes>,
    permissions: BTreeMap<String, BTreeMap<String, Decided>>,
    acl: BTreeMap<String, BTreeMap<String, Decided>>,
    errors: BTreeMap<i64, u64>,
}

/// What one app (or the whole run) saw.
#[derive(Debug, Default)]
pub struct Coverage {
    tally: Mutex<Tally>,
}

/// The tally of every app of this process: a suite's run.
pub fn run() -> &'static Coverage {
    static RUN: OnceLock<Coverage> = OnceLock::new();
    RUN.get_or_init(Coverage::default)
}

/// `Class.hook` from an engine's metadata name (`__before_save_for_Review`, ...); `None`
/// for a function's name.
fn hook_of(name: &str) -> Option<String> {
    let rest = name.strip_prefix("__")?;
    const CLASS_HOOKS: [(&str, &str); 6] = [
        ("before_save_for_", "beforeSave"),
        ("after_save_for_", "afterSave"),
        ("before_update_for_", "beforeUpdate"),
        ("after_update_for_", "afterUpdate"),
        ("before_delete_for_", "beforeDelete"),
        ("after_delete_for_", "afterDelete"),
    ];
    for (prefix, hook) in CLASS_HOOKS {
        if let Some(class) = rest.strip_prefix(prefix) {
            return Some(format!("{class}.{hook}"));
        }
    }
    Some(match rest {
        "on_login__User" => "_User.onLogin".to_string(),
        "on_authdata__User" => "_User.onAuthData".to_string(),
        other if other.starts_with("on_verified_") => "_User.onVerified".to_string(),
        other => other.to_string(),
    })
}

impl Coverage {
    fn with(&self, f: impl FnOnce(&mut Tally)) {
        f(&mut self.tally.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// The app's cloud code defines these (its engine's metadata names).
    pub fn define_cloud(&self, names: &BTreeSet<String>) {
        self.with(|t| {
            for name in names.iter().take(MAX_COVERAGE_NAMES) {
                match hook_of(name) {
                    Some(hook) => t.defined_hooks.insert(hook),
                    None => t.defined_functions.insert(name.clone()),
                };
            }
        });
    }

    /// The app holds these classes: each operation of each is a decision to reach.
    pub fn define_classes<'a>(&self, classes: impl IntoIterator<Item = &'a str>) {
        self.with(|t| {
            t.defined_classes
                .extend(classes.into_iter().map(str::to_string))
        });
    }

    /// One call of a function (`hook` false) or of the hook `Class.hook`, and how it ended.
    pub fn call(&self, hook: bool, name: &str, outcome: &Outcome) {
        self.with(|t| {
            let map = if hook { &mut t.hooks } else { &mut t.functions };
            let entry = slot(map, name);
            match outcome {
                Outcome::Accepted => entry.accepted += 1,
                Outcome::Refused(code) => *entry.refused.entry(*code).or_default() += 1,
                Outcome::Failed(why) => *entry.failed.entry((*why).to_string()).or_default() += 1,
            }
        });
    }

    /// The decisions one request took (each kind counts once for it).
    pub fn decisions(&self, decisions: &[Decision]) {
        if decisions.is_empty() {
            return;
        }
        self.with(|t| {
            for d in decisions {
                let map = match d.rule {
                    Rule::ClassPermission => &mut t.permissions,
                    Rule::Acl => &mut t.acl,
                };
                let entry = slot(slot(map, &d.class), d.op);
                if d.allowed {
                    entry.allowed += 1;
                } else {
                    entry.refused += 1;
                }
            }
        });
    }

    /// A client received an error with this code.
    pub fn error(&self, code: i64) {
        self.with(|t| {
            if t.errors.len() < MAX_COVERAGE_NAMES || t.errors.contains_key(&code) {
                *t.errors.entry(code).or_default() += 1;
            }
        });
    }

    /// Start counting again (what the app defines stays).
    pub fn clear(&self) {
        self.with(|t| {
            *t = Tally {
                defined_functions: std::mem::take(&mut t.defined_functions),
                defined_hooks: std::mem::take(&mut t.defined_hooks),
                defined_classes: std::mem::take(&mut t.defined_classes),
                ..Tally::default()
            }
        });
    }

    /// What was seen so far, unreached definitions first.
    pub fn report(&self) -> Report {
        let t = self.tally.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let ran = |map: &BTreeMap<String, Outcomes>, name: &String| map.contains_key(name);
        let unreached_permissions = t
            .defined_classes
            .iter()
            .flat_map(|class| {
                let seen = t.permissions.get(class);
                ClassOp::ALL
                    .iter()
                    .filter(move |op| seen.is_none_or(|s| !s.contains_key(op.name())))
                    .map(move |op| format!("{class}.{}", op.name()))
            })
            .collect();
        Report {
            never_reached: Unreached {
                functions: t
                    .defined_functions
                    .iter()
                    .filter(|f| !ran(&t.functions, f))
                    .cloned()
                    .collect(),
                hooks: t
                    .defined_hooks
                    .iter()
                    .filter(|h| !ran(&t.hooks, h))
                    .cloned()
                    .collect(),
                permissions: unreached_permissions,
                steps: None,
            },
            seen: Seen {
                functions: t.functions,
                hooks: t.hooks,
                permissions: t.permissions,
                acl: t.acl,
                errors: t.errors,
                steps: None,
            },
        }
    }
}

/// What the app defines that nothing reached.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unreached {
    /// Functions never called.
    pub functions: Vec<String>,
    /// Hooks (`Class.hook`) never called.
    pub hooks: Vec<String>,
    /// Class operations (`Class.op`) whose class permission no client's request was
    /// decided by (the master key decides nothing).
    pub permissions: Vec<String>,
    /// Steps of the Gherkin catalogue no scenario used (a Gherkin run only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<String>>,
}

/// A coverage report: `GET /__mock/coverage`'s answer and the file a run writes. Its
/// two parts sort in the order they are meant to be read, so any JSON reader shows what
/// nothing reached first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub never_reached: Unreached,
    pub seen: Seen,
}

/// What the app's rules did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Seen {
    /// Function -> how its calls ended.
    pub functions: BTreeMap<String, Outcomes>,
    /// `Class.hook` -> how its calls ended.
    pub hooks: BTreeMap<String, Outcomes>,
    /// Class -> operation -> class-permission decisions.
    pub permissions: BTreeMap<String, BTreeMap<String, Decided>>,
    /// Class -> `read` / `write` -> ACL decisions.
    pub acl: BTreeMap<String, BTreeMap<String, Decided>>,
    /// Error code -> how many answers to clients carried it.
    pub errors: BTreeMap<i64, u64>,
    /// Step of the catalogue (`file:line pattern`) -> times used (a Gherkin run only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<BTreeMap<String, u64>>,
}

impl Report {
    /// The report with the steps of a Gherkin catalogue: every step defined, and how
    /// often each was used.
    pub fn with_steps(mut self, defined: &[String], used: &BTreeMap<String, u64>) -> Report {
        let mut steps: BTreeMap<String, u64> = defined.iter().map(|s| (s.clone(), 0)).collect();
        for (step, n) in used {
            *steps.entry(step.clone()).or_default() += n;
        }
        self.never_reached.steps = Some(
            steps
                .iter()
                .filter(|(_, n)| **n == 0)
                .map(|(s, _)| s.clone())
                .collect(),
        );
        self.seen.steps = Some(steps);
        self
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// A page a person reads: what nothing reached first, then each table.
    pub fn to_html(&self, title: &str) -> String {
        let mut page = String::new();
        page.push_str(&format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\
             body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:1.5em}}\
             td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:left}}\
             .none{{color:#b00}}</style></head><body>\n<h1>{}</h1>\n",
            escape(title),
            escape(title)
        ));
        page.push_str("<h2>Defined, never reached</h2>\n");
        let mut lists = vec![
            ("Functions", &self.never_reached.functions),
            ("Hooks", &self.never_reached.hooks),
            ("Class permissions", &self.never_reached.permissions),
        ];
        if let Some(steps) = &self.never_reached.steps {
            lists.push(("Gherkin steps", steps));
        }
        for (name, list) in lists {
            page.push_str(&format!("<h3>{name} ({})</h3>\n<ul>", list.len()));
            for item in list {
                page.push_str(&format!("<li class=\"none\">{}</li>", escape(item)));
            }
            page.push_str("</ul>\n");
        }
        let seen = &self.seen;
        for (name, map) in [("Functions", &seen.functions), ("Hooks", &seen.hooks)] {
            page.push_str(&format!(
                "<h2>{name}</h2>\n<table><tr><th>name</th><th>accepted</th>\
                 <th>refused (code: calls)</th><th>failed</th></tr>\n"
            ));
            for (what, o) in map {
                page.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                    escape(what),
                    o.accepted,
                    escape(&counts(&o.refused)),
                    escape(&counts(&o.failed))
                ));
            }
            page.push_str("</table>\n");
        }
        for (name, map) in [
            ("Class permissions", &seen.permissions),
            ("ACLs", &seen.acl),
        ] {
            page.push_str(&format!(
                "<h2>{name}</h2>\n<table><tr><th>class</th><th>operation</th>\
                 <th>allowed</th><th>refused</th></tr>\n"
            ));
            for (class, ops) in map {
                for (op, d) in ops {
                    page.push_str(&format!(
                        "<tr><td>{}</td><td>{op}</td><td>{}</td><td>{}</td></tr>\n",
                        escape(class),
                        d.allowed,
                        d.refused
                    ));
                }
            }
            page.push_str("</table>\n");
        }
        page.push_str(
            "<h2>Error codes clients received</h2>\n<table><tr><th>code</th><th>answers</th></tr>\n",
        );
        for (code, n) in &seen.errors {
            page.push_str(&format!("<tr><td>{code}</td><td>{n}</td></tr>\n"));
        }
        page.push_str("</table>\n");
        if let Some(steps) = &seen.steps {
            page.push_str("<h2>Gherkin steps</h2>\n<table><tr><th>step</th><th>used</th></tr>\n");
            for (step, n) in steps {
                page.push_str(&format!("<tr><td>{}</td><td>{n}</td></tr>\n", escape(step)));
            }
            page.push_str("</table>\n");
        }
        page.push_str("</body></html>\n");
        page
    }
}

fn counts<K: std::fmt::Display>(map: &BTreeMap<K, u64>) -> String {
    map.iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Write `report` as `<dir>/coverage-<name>.json` and `.html`; the paths written.
pub fn write_report(
    report: &Report,
    dir: &Path,
    name: &str,
) -> std::io::Result<(std::path::PathBuf, std::path::PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let json_path = dir.join(format!("coverage-{name}.json"));
    let html_path = dir.join(format!("coverage-{name}.html"));
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(&json_path, json + "\n")?;
    std::fs::write(
        &html_path,
        report.to_html(&format!("Coverage of the app's behaviour: {name}")),
    )?;
    Ok((json_path, html_path))
}

/// `GET /__mock/coverage`: the app's [`Report`].
pub fn show(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    Ok(Reply::ok(call.api.coverage().to_json()))
}

/// `DELETE /__mock/coverage`: start counting again.
pub fn clear(call: &Call<'_>) -> HandlerResult {
    if !call.ctx.is_master() {
        return Err(LcError::master_key_required());
    }
    call.api.clear_coverage();
    Ok(Reply::ok(serde_json::json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_names_read_as_hooks_or_functions() {
        assert_eq!(
            hook_of("__before_save_for_Review").as_deref(),
            Some("Review.beforeSave")
        );
        assert_eq!(
            hook_of("__on_login__User").as_deref(),
            Some("_User.onLogin")
        );
        assert_eq!(hook_of("businessSummary"), None);
    }

    #[test]
    fn what_is_defined_and_never_reached_is_listed_first() {
        let c = Coverage::default();
        c.define_cloud(&["hello".into(), "bye".into(), "__after_save_for_Post".into()].into());
        c.define_classes(["Post"]);
        c.call(false, "hello", &Outcome::Refused(1));
        c.decisions(&[Decision {
            rule: Rule::ClassPermission,
            class: "Post".into(),
            op: "create",
            allowed: true,
            count: 2,
        }]);
        let r = c.report();
        assert_eq!(r.never_reached.functions, vec!["bye"]);
        assert_eq!(r.never_reached.hooks, vec!["Post.afterSave"]);
        assert!(
            !r.never_reached
                .permissions
                .contains(&"Post.create".to_string())
        );
        assert!(
            r.never_reached
                .permissions
                .contains(&"Post.delete".to_string())
        );
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.starts_with("{\"neverReached\""), "{json}");
        assert!(r.to_html("t").contains("<li class=\"none\">bye</li>"));
        c.clear();
        assert_eq!(c.report().never_reached.functions, vec!["bye", "hello"]);
    }

    #[test]
    fn names_past_the_limit_count_together() {
        let c = Coverage::default();
        for i in 0..MAX_COVERAGE_NAMES + 5 {
            c.call(false, &format!("f{i}"), &Outcome::Accepted);
        }
        let r = c.report();
        assert_eq!(r.seen.functions.len(), MAX_COVERAGE_NAMES + 1);
        assert_eq!(r.seen.functions[OTHERS].accepted, 5);
    }
}
