//! The Gherkin writer: a sequence of steps as a scenario of the system suite
//! ([`feature`]), so a failing sequence becomes a regression QA can keep.

use super::*;
use serde_json::Value;
use std::fmt::Write as _;

fn gherkin_class(object: ObjRef) -> &'static str {
    object.class()
}

/// A `| field | value |` cell: a pointer as `the Business "x"`, an id as
/// `"{Business:x}"`, a long run of `x` as `a text of N characters`, other values as
/// JSON (so strings keep their spaces and numbers stay numbers).
fn render_cell(state: &AppState, cell: &Cell) -> String {
    let text = match cell {
        Cell::Pointer(o) => format!(
            "the {} \"{}\"",
            gherkin_class(*o),
            o.label(state).unwrap_or_default()
        ),
        Cell::IdOf(o) => format!(
            "\"{{{}:{}}}\"",
            gherkin_class(*o),
            o.label(state).unwrap_or_default()
        ),
        Cell::Json(Value::String(s)) if s.len() > 40 && s.chars().all(|c| c == 'x') => {
            format!("a text of {} characters", s.len())
        }
        Cell::Json(v) => v.to_string(),
    };
    text.replace('\\', "\\\\").replace('|', "\\|")
}

fn render_table(out: &mut String, state: &AppState, rows: &[(String, Cell)]) {
    let cells: Vec<(String, String)> = rows
        .iter()
        .map(|(k, v)| (k.clone(), render_cell(state, v)))
        .collect();
    let key_width = cells.iter().map(|(k, _)| k.len()).max().unwrap_or(0).max(5);
    let value_width = cells
        .iter()
        .map(|(_, v)| v.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut row = |k: &str, v: &str| {
        let pad = value_width - v.chars().count();
        let _ = writeln!(out, "      | {k:<key_width$} | {v}{} |", " ".repeat(pad));
    };
    row("field", "value");
    for (k, v) in &cells {
        row(k, v);
    }
}

/// A JSON doc string for a function's params, ids written `{Business:x}`.
fn render_params(out: &mut String, state: &AppState, params: &[(String, Cell)]) {
    let fields: Vec<String> = params
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Cell::IdOf(o) => format!(
                    "\"{{{}:{}}}\"",
                    gherkin_class(*o),
                    o.label(state).unwrap_or_default()
                ),
                Cell::Pointer(o) => format!(
                    "\"@{}:{}\"",
                    gherkin_class(*o),
                    o.label(state).unwrap_or_default()
                ),
                Cell::Json(v) => v.to_string(),
            };
            format!("{}: {value}", Value::from(k.as_str()))
        })
        .collect();
    let _ = writeln!(out, "      \"\"\"json");
    let _ = writeln!(out, "      {{{}}}", fields.join(", "));
    let _ = writeln!(out, "      \"\"\"");
}

fn render_expect(out: &mut String, state: &AppState, expect: &Expect) {
    match expect {
        Expect::Has(object, fields) => {
            let Some(label) = object.label(state) else {
                return;
            };
            let _ = writeln!(
                out,
                "    Then the {} \"{label}\" has:",
                gherkin_class(*object)
            );
            render_table(out, state, fields);
        }
        Expect::Gone(object) => {
            if let Some(label) = object.label(state) {
                let _ = writeln!(
                    out,
                    "    Then the {} \"{label}\" is gone",
                    gherkin_class(*object)
                );
            }
        }
    }
}

fn describe_step(state: &AppState, step: &Step) -> String {
    let who = match sender(step) {
        None => "nobody signed in".to_string(),
        Some(Who::Master) => "the master key".to_string(),
        Some(Who::User(u)) => state.users[u].username.clone(),
    };
    format!("{step:?} as {who}")
}

/// The sequence `steps` from `initial` as a Gherkin feature of the system suite (tagged
/// `@generated @fresh-app`), named `name`: each step sent as the model's user, then its
/// predicted answer and the predicted state of every object it touched. `note` goes
/// into the header comment (why the feature was written).
pub fn feature(name: &str, note: &str, initial: &AppState, steps: &[Step]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Written by the model-based test generative/tests/app_model/ from a sequence of\n\
         # user actions, shrunk; each Then is what the reference model (generative/src/app/)\n\
         # predicts. Keep it as a regression, or delete it once the cause is fixed and\n\
         # understood."
    );
    for line in note.lines() {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "@generated @fresh-app");
    let _ = writeln!(out, "Feature: Generated: {name}\n");
    let _ = writeln!(out, "  Scenario: {name}");
    let mut state = initial.clone();
    // Who "I" am in the scenario: nobody until a step says.
    let mut me: Option<Who> = None;
    for (i, step) in steps.iter().enumerate() {
        let _ = writeln!(out, "    # step {}: {}", i + 1, describe_step(&state, step));
        let predicted = outcome(&state, step);
        let request = request_of(&state, step);
        if let Some(who) = sender(step)
            && me != Some(who)
        {
            match who {
                Who::Master => {
                    let _ = writeln!(out, "    Given I use the master key");
                }
                Who::User(u) => {
                    let _ = writeln!(
                        out,
                        "    Given I am signed in as \"{}\"",
                        state.users[u].username
                    );
                }
            }
            me = Some(who);
        }
        match &request {
            Request::SignUp { user, fields } => {
                let username = &state.users[*user].username;
                if fields.is_empty() {
                    let _ = writeln!(out, "    When I sign up as \"{username}\"");
                } else {
                    let _ = writeln!(out, "    When I sign up as \"{username}\" with:");
                    render_table(&mut out, &state, fields);
                }
                if predicted.accepted() {
                    me = Some(Who::User(*user));
                }
            }
            Request::Create {
                class,
                label,
                fields,
            } => {
                let _ = writeln!(out, "    When I create a {class} \"{label}\" with:");
                render_table(&mut out, &state, fields);
            }
            Request::Update { target, fields } => {
                let _ = writeln!(
                    out,
                    "    When I update the {} \"{}\" with:",
                    gherkin_class(*target),
                    target.label(&state).unwrap_or_default()
                );
                render_table(&mut out, &state, fields);
            }
            Request::Delete { target } => {
                let _ = writeln!(
                    out,
                    "    When I delete the {} \"{}\"",
                    gherkin_class(*target),
                    target.label(&state).unwrap_or_default()
                );
            }
            Request::Call { function, params } => {
                let _ = writeln!(out, "    When I call \"{function}\" with:");
                render_params(&mut out, &state, params);
            }
        }
        match predicted {
            Outcome::Accepted(status) => {
                let _ = writeln!(out, "    Then the status is {status}");
            }
            Outcome::Refused(status, code) => {
                let _ = writeln!(
                    out,
                    "    Then the request fails with {status} and code {code}"
                );
            }
        }
        let answer = answer_expectations(&state, step);
        if !answer.is_empty() {
            let _ = writeln!(out, "    Then the answer has:");
            render_table(&mut out, &state, &answer);
        }
        let objects = touched(&state, step);
        state = next_state(state, step);
        for object in objects {
            render_expect(&mut out, &state, &expectation(&state, object));
        }
    }
    out
}
