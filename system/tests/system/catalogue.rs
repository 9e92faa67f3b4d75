//! The step catalogue `features/STEPS.md` is generated from the step definitions, so
//! it cannot drift from them. This test reads every `#[given]`, `#[when]` and `#[then]`
//! in `system/src/steps/*.rs` with the doc comment above it, checks that each pattern
//! has an example written with its keyword, that every example is valid Gherkin and is
//! matched by exactly that step definition, renders the catalogue and compares it with
//! the file. When they differ it fails and prints the regenerated text; regenerate with
//!
//! ```sh
//! UPDATE_STEPS=1 cargo test -p system --test system catalogue
//! ```

use cucumber::World as _;
use cucumber::gherkin::{Feature, GherkinEnv, Step};
use std::path::{Path, PathBuf};

/// The order of the modules in the catalogue (a module not listed comes last).
const MODULE_ORDER: [&str; 6] = [
    "users",
    "objects",
    "queries",
    "permissions",
    "hooks",
    "responses",
];

/// One `#[given/when/then(...)]` attribute and what documents it.
#[derive(Debug)]
struct StepDef {
    keyword: &'static str,
    /// The pattern as written: a cucumber expression, a regex or a literal.
    pattern: String,
    is_regex: bool,
    /// 1-based line of the attribute (what cucumber reports as the step's location).
    line: usize,
    description: Vec<String>,
    /// Examples: each a Gherkin step line and the table or doc string lines after it.
    examples: Vec<Vec<String>>,
}

#[derive(Debug)]
struct Module {
    name: String,
    file: String,
    title: String,
    doc: Vec<String>,
    steps: Vec<StepDef>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The contents of a Rust string literal at the start of `text` (`"..."` with escapes,
/// `r"..."` or `r#"..."#`).
fn string_literal(text: &str) -> Option<String> {
    let text = text.trim_start();
    if let Some(raw) = text.strip_prefix('r') {
        let hashes = raw.chars().take_while(|c| *c == '#').count();
        let body = raw[hashes..].strip_prefix('"')?;
        let end = format!("\"{}", "#".repeat(hashes));
        return body.find(&end).map(|i| body[..i].to_string());
    }
    let mut out = String::new();
    let mut chars = text.strip_prefix('"')?.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// `#[then(expr = "...")]` -> (keyword, pattern, is_regex).
fn parse_attribute(attr: &str) -> Option<(&'static str, String, bool)> {
    let inner = attr.trim().strip_prefix("#[")?.strip_suffix(")]")?;
    let (name, args) = inner.split_once('(')?;
    let keyword = match name.trim() {
        "given" => "Given",
        "when" => "When",
        "then" => "Then",
        _ => return None,
    };
    let args = args.trim();
    let (is_regex, literal) = if let Some(rest) = args.strip_prefix("regex") {
        (true, rest.trim_start().strip_prefix('=')?)
    } else if let Some(rest) = args.strip_prefix("expr") {
        (false, rest.trim_start().strip_prefix('=')?)
    } else {
        (false, args)
    };
    Some((keyword, string_literal(literal)?, is_regex))
}

/// Split a step's doc comment into its description and its examples.
fn split_doc(doc: &[String]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut description = Vec::new();
    let mut examples: Vec<Vec<String>> = Vec::new();
    let mut in_example = false;
    for line in doc {
        if let Some(example) = line.strip_prefix("Example: ") {
            examples.push(vec![example.trim().to_string()]);
            in_example = true;
        } else if in_example && line.starts_with("    ") {
            if let Some(example) = examples.last_mut() {
                example.push(line[4..].to_string());
            }
        } else {
            in_example = false;
            description.push(line.clone());
        }
    }
    while description.first().is_some_and(|l| l.is_empty()) {
        description.remove(0);
    }
    while description.last().is_some_and(|l| l.is_empty()) {
        description.pop();
    }
    (description, examples)
}

fn doc_text(line: &str, marker: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix(marker)?;
    Some(rest.strip_prefix(' ').unwrap_or(rest).to_string())
}

fn read_module(path: &Path) -> Module {
    let text = std::fs::read_to_string(path).expect("a readable step file");
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    let mut module_doc = Vec::new();
    let mut steps = Vec::new();
    let mut doc: Vec<String> = Vec::new();
    // Attributes of the function being read: (line, text).
    let mut attrs: Vec<(usize, String)> = Vec::new();
    let mut open_attr: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some((start, mut attr)) = open_attr.take() {
            attr.push_str(trimmed);
            if trimmed.ends_with(")]") {
                attrs.push((start, attr));
            } else {
                open_attr = Some((start, attr));
            }
        } else if let Some(d) = doc_text(line, "//!") {
            module_doc.push(d);
        } else if let Some(d) = doc_text(line, "///") {
            doc.push(d);
        } else if trimmed.starts_with("#[given")
            || trimmed.starts_with("#[when")
            || trimmed.starts_with("#[then")
        {
            if trimmed.ends_with(")]") {
                attrs.push((i + 1, trimmed.to_string()));
            } else {
                open_attr = Some((i + 1, trimmed.to_string()));
            }
        } else if trimmed.starts_with("#[") {
            // Other attributes keep the doc comment.
        } else {
            if trimmed.starts_with("async fn") || trimmed.starts_with("fn") {
                let (description, examples) = split_doc(&doc);
                for (line, attr) in &attrs {
                    let (keyword, pattern, is_regex) = parse_attribute(attr).unwrap_or_else(|| {
                        panic!(
                            "{}:{line}: cannot read the attribute {attr}",
                            path.display()
                        )
                    });
                    let examples = examples
                        .iter()
                        .filter(|e| e[0].starts_with(&format!("{keyword} ")))
                        .cloned()
                        .collect();
                    steps.push(StepDef {
                        keyword,
                        pattern,
                        is_regex,
                        line: *line,
                        description: description.clone(),
                        examples,
                    });
                }
            }
            doc.clear();
            attrs.clear();
        }
    }
    // The first line is `Title: what the steps do.`
    let (title, doc) = match module_doc.split_first() {
        Some((first, rest)) => {
            let (title, after) = first.split_once(": ").unwrap_or((first.as_str(), ""));
            let mut chars = after.chars();
            let after: String = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            let mut doc = vec![after];
            doc.extend(rest.iter().cloned());
            (title.trim_end_matches('.').to_string(), doc)
        }
        None => (name.clone(), Vec::new()),
    };
    Module {
        file: format!("system/src/steps/{name}.rs"),
        name,
        title,
        doc,
        steps,
    }
}

fn read_modules() -> Vec<Module> {
    let dir = root().join("system/src/steps");
    let mut modules: Vec<Module> = std::fs::read_dir(&dir)
        .expect("system/src/steps exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs") && !p.ends_with("mod.rs"))
        .map(|p| read_module(&p))
        .collect();
    let rank = |m: &Module| {
        MODULE_ORDER
            .iter()
            .position(|n| *n == m.name)
            .unwrap_or(MODULE_ORDER.len())
    };
    modules.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.name.cmp(&b.name)));
    modules
}

/// The crate docs from "## What a scenario remembers" on: the conventions every step
/// shares.
fn conventions() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("system/src/lib.rs")).expect("lib.rs");
    let docs: Vec<String> = text.lines().filter_map(|l| doc_text(l, "//!")).collect();
    let start = docs
        .iter()
        .position(|l| l == "## What a scenario remembers")
        .expect("lib.rs has the section \"## What a scenario remembers\"");
    docs[start..].to_vec()
}

/// Parse an example as Gherkin (so tables and doc strings are checked too).
fn parse_example(example: &[String]) -> Result<Step, String> {
    let mut text = String::from("Feature: catalogue\n  Scenario: example\n");
    for line in example {
        text.push_str("    ");
        text.push_str(line);
        text.push('\n');
    }
    let feature = Feature::parse(&text, GherkinEnv::default()).map_err(|e| e.to_string())?;
    let scenario = feature.scenarios.first().ok_or("no scenario parsed")?;
    match scenario.steps.as_slice() {
        [step] => Ok(step.clone()),
        steps => Err(format!("{} steps parsed, not 1", steps.len())),
    }
}

/// Every problem with the step definitions' documentation.
fn problems(modules: &[Module]) -> Vec<String> {
    let collection = system::World::collection();
    let mut out = Vec::new();
    for module in modules {
        for step in &module.steps {
            let at = format!("{}:{}", module.file, step.line);
            if step.examples.is_empty() {
                out.push(format!(
                    "{at}: `{} {}` has no example: add a doc line `/// Example: {} ...`",
                    step.keyword, step.pattern, step.keyword
                ));
            }
            for example in &step.examples {
                let parsed = match parse_example(example) {
                    Ok(step) => step,
                    Err(e) => {
                        out.push(format!(
                            "{at}: the example `{}` is not Gherkin: {e}",
                            example[0]
                        ));
                        continue;
                    }
                };
                match collection.find(&parsed) {
                    Ok(Some((_, _, Some(loc), _)))
                        if loc.path == module.file && loc.line as usize == step.line => {}
                    Ok(Some((_, _, loc, _))) => out.push(format!(
                        "{at}: the example `{}` is matched by the step at {}",
                        example[0],
                        loc.map_or_else(|| "an unknown place".into(), |l| l.to_string())
                    )),
                    Ok(None) => out.push(format!(
                        "{at}: the example `{}` matches no step",
                        example[0]
                    )),
                    Err(e) => out.push(format!(
                        "{at}: the example `{}` matches several steps: {e}",
                        example[0]
                    )),
                }
            }
        }
    }
    out
}

fn render(modules: &[Module]) -> String {
    let count: usize = modules.iter().map(|m| m.steps.len()).sum();
    let mut out = String::new();
    out.push_str("# Step catalogue\n\n");
    out.push_str(
        "<!-- Generated from system/src/steps/*.rs by `cargo test -p system --test system catalogue`.\n\
         Do not edit: change the step's doc comment, then run\n\
         UPDATE_STEPS=1 cargo test -p system --test system catalogue -->\n\n",
    );
    out.push_str(&format!(
        "Every step the features can use ({count} patterns), with an example each. \
         How to write and run features: [README.md](README.md).\n\n"
    ));
    out.push_str(
        "Notation: `{string}` is a text in double quotes, `{int}` a whole number, `{word}` \
         one word such as a class name. Steps written as regular expressions are shown with \
         `\"<text>\"`, `<number>`, `<word>` and `<value>` (the rest of the line) for what \
         varies, `[...]` for an optional part and `{a | b}` for a choice.\n\n",
    );
    out.push_str("Contents:\n\n- [Conventions](#conventions)\n");
    for m in modules {
        out.push_str(&format!("- [{}](#{})\n", m.title, anchor(&m.title)));
    }
    out.push_str("\n## Conventions\n\n");
    for line in conventions().iter().skip(2) {
        let line = line
            .strip_prefix("## ")
            .map_or_else(|| line.clone(), |heading| format!("### {heading}"));
        out.push_str(&line);
        out.push('\n');
    }
    for m in modules {
        out.push_str(&format!("\n## {}\n\n", m.title));
        out.push_str(m.doc.join("\n").trim());
        out.push_str(&format!(" (`{}`)\n", m.file));
        for step in &m.steps {
            if step.is_regex {
                out.push_str(&format!(
                    "\n### {} `{}`\n\nRegular expression: `{}`\n\n",
                    step.keyword,
                    readable(&step.pattern),
                    step.pattern
                ));
            } else {
                out.push_str(&format!("\n### {} `{}`\n\n", step.keyword, step.pattern));
            }
            if !step.description.is_empty() {
                out.push_str(&step.description.join("\n"));
                out.push_str("\n\n");
            }
            out.push_str("```gherkin\n");
            for example in &step.examples {
                for (i, line) in example.iter().enumerate() {
                    out.push_str(if i == 0 { "" } else { "  " });
                    out.push_str(line);
                    out.push('\n');
                }
            }
            out.push_str("```\n");
        }
    }
    out
}

/// A regular expression as a QA reader sees it: `"<text>"`, `<number>`, `<word>`,
/// `<value>` for the captures, `[...]` for optional parts, `{a | b}` for choices.
fn readable(regex: &str) -> String {
    let mut text = regex
        .trim_start_matches('^')
        .trim_end_matches('$')
        .to_string();
    for (from, to) in [
        (r#""([^"]*)""#, r#""<text>""#),
        (r#""([^"]+)""#, r#""<text>""#),
        (r#""(.*)""#, r#""<text>""#),
        (r"(\d+)", "<number>"),
        (r"(\w+)", "<word>"),
        (r"(.+)", "<value>"),
    ] {
        text = text.replace(from, to);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut closers: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '(' => {
                // Find the matching parenthesis to see whether the group is optional.
                let mut depth = 0;
                let mut end = i;
                for (j, c) in chars.iter().enumerate().skip(i) {
                    match c {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                end = j;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let optional = chars.get(end + 1) == Some(&'?');
                out.push(if optional { '[' } else { '{' });
                closers.push(if optional { "]" } else { "}" });
                if chars.get(i + 1) == Some(&'?') && chars.get(i + 2) == Some(&':') {
                    i += 2;
                }
            }
            ')' => {
                out.push_str(closers.pop().unwrap_or(")"));
                if chars.get(i + 1) == Some(&'?') {
                    i += 1;
                }
            }
            '|' => out.push_str(" | "),
            '\\' => {
                if let Some(c) = chars.get(i + 1) {
                    out.push(*c);
                    i += 1;
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// A GitHub-style heading anchor.
fn anchor(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn every_step_has_an_example_that_it_matches() {
    let modules = read_modules();
    let steps: usize = modules.iter().map(|m| m.steps.len()).sum();
    assert!(steps > 0, "no step definitions were found");
    // Every step cucumber knows was read here (none hides in an unusual layout).
    let collection = system::World::collection();
    let defined = format!("{collection:?}").matches("Location {").count();
    assert_eq!(
        defined, steps,
        "cucumber has {defined} steps, the catalogue reader found {steps}"
    );
    let problems = problems(&modules);
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn the_catalogue_lists_exactly_the_steps() {
    let modules = read_modules();
    let generated = render(&modules);
    let path = root().join("features/STEPS.md");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current == generated {
        return;
    }
    if std::env::var_os("UPDATE_STEPS").is_some() {
        std::fs::write(&path, &generated).expect("features/STEPS.md is writable");
        return;
    }
    panic!(
        "features/STEPS.md is not what the step definitions say. Regenerate it with\n\n    \
         UPDATE_STEPS=1 cargo test -p system --test system catalogue\n\n\
         The regenerated text:\n\n{generated}"
    );
}

#[test]
fn regular_expressions_read_as_plain_patterns() {
    assert_eq!(
        readable(r#"^I query (\w+)(?: ordered by "([^"]*)")?(?: limited to (\d+))? where:$"#),
        r#"I query <word>[ ordered by "<text>"][ limited to <number>] where:"#
    );
    assert_eq!(
        readable(r#"^(?:"([^"]+)"|nobody signed in) can see the (\w+) "([^"]+)"$"#),
        r#"{"<text>" | nobody signed in} can see the <word> "<text>""#
    );
}
