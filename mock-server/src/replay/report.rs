//! What a replay found: one outcome per exchange, per-suite counts, the human report,
//! the `--json` line and the floors check.
//!
//! An exchange is scored, or not scored for one of two reasons kept apart: it needs data
//! the recorded app had before the case (sent, listed with `--list-preexisting`), or
//! the upstream never answered it when it was recorded (not sent, always listed).

use super::score;
use super::seeds::SeedProblem;
use leancloud::Request;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The result of replaying one recorded exchange.
#[derive(Debug, Clone)]
pub struct ExchangeOutcome {
    pub suite: String,
    pub test: String,
    /// Position of the exchange in its test case (0-based).
    pub index: usize,
    /// Line of the recordings file (1-based).
    pub line: usize,
    /// The recorded method and path (recorded ids).
    pub method: String,
    pub path: String,
    /// The request actually sent (replayed ids, the emulator's keys); for an exchange
    /// the upstream did not answer, the request that would have been sent.
    pub request: Request,
    /// Needs data the recorded app had before the case: sent, never scored.
    pub preexisting: bool,
    /// Why it needs pre-existing data.
    pub reasons: Vec<String>,
    /// The upstream did not answer it when it was recorded (the recording's
    /// `upstream_error`): not sent, not scored.
    pub upstream_error: Option<String>,
    pub l0: bool,
    pub l1: bool,
    pub l2: bool,
    pub expected_status: u16,
    pub actual_status: u16,
    /// The recorded and the replayed body, as they were.
    pub expected: Value,
    pub actual: Value,
    /// Both bodies normalised for L2 (recorded ids mapped, generated values as
    /// placeholders, keys sorted): what the diff shows.
    pub expected_normalised: Value,
    pub actual_normalised: Value,
}

impl ExchangeOutcome {
    /// Counted in the levels: neither pre-existing nor unanswered upstream.
    pub fn scored(&self) -> bool {
        !self.preexisting && self.upstream_error.is_none()
    }

    /// Scored and below L2.
    pub fn failed(&self) -> bool {
        self.scored() && !self.l2
    }

    /// The unified diff of the normalised bodies (empty when they are equal).
    pub fn diff(&self) -> String {
        score::diff(&self.expected_normalised, &self.actual_normalised)
    }

    fn level_marks(&self) -> String {
        let mark = |ok: bool| if ok { "ok" } else { "FAIL" };
        format!(
            "L0 {} / L1 {} / L2 {}",
            mark(self.l0),
            mark(self.l1),
            mark(self.l2)
        )
    }
}

/// Counts for one suite. `l0`..`l2` count replayable exchanges only; `exchanges` is
/// `replayable + preexisting + unanswered`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SuiteSummary {
    pub exchanges: usize,
    pub replayable: usize,
    pub preexisting: usize,
    /// Not answered by the upstream when recorded: neither sent nor scored.
    pub unanswered: usize,
    pub l0: usize,
    pub l1: usize,
    pub l2: usize,
}

impl SuiteSummary {
    /// A level's count as a ratio of replayable exchanges (0 when none is replayable).
    pub fn ratio(&self, level: &str) -> Option<f64> {
        let n = match level {
            "l0" => self.l0,
            "l1" => self.l1,
            "l2" => self.l2,
            _ => return None,
        };
        Some(if self.replayable == 0 {
            0.0
        } else {
            n as f64 / self.replayable as f64
        })
    }

    fn add(&mut self, o: &ExchangeOutcome) {
        self.exchanges += 1;
        if o.upstream_error.is_some() {
            self.unanswered += 1;
            return;
        }
        if o.preexisting {
            self.preexisting += 1;
            return;
        }
        self.replayable += 1;
        self.l0 += usize::from(o.l0);
        self.l1 += usize::from(o.l1);
        self.l2 += usize::from(o.l2);
    }
}

/// Everything one replay found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub outcomes: Vec<ExchangeOutcome>,
    /// Seed lines that could not be loaded (their cases were replayed without them).
    pub seed_problems: Vec<SeedProblem>,
}

impl Report {
    /// Per-suite counts, suites by name.
    pub fn summary(&self) -> BTreeMap<String, SuiteSummary> {
        let mut out: BTreeMap<String, SuiteSummary> = BTreeMap::new();
        for o in &self.outcomes {
            out.entry(o.suite.clone()).or_default().add(o);
        }
        out
    }

    /// All suites together.
    pub fn total(&self) -> SuiteSummary {
        let mut t = SuiteSummary::default();
        self.outcomes.iter().for_each(|o| t.add(o));
        t
    }

    /// The `--json` object: per suite its counts.
    pub fn to_json(&self) -> Value {
        let suites: serde_json::Map<String, Value> = self
            .summary()
            .into_iter()
            .map(|(name, s)| {
                (
                    name,
                    json!({
                        "exchanges": s.exchanges,
                        "replayable": s.replayable,
                        "preexisting": s.preexisting,
                        "unanswered": s.unanswered,
                        "l0": s.l0,
                        "l1": s.l1,
                        "l2": s.l2,
                    }),
                )
            })
            .collect();
        Value::Object(suites)
    }

    /// Every scored exchange below L2: where, status, levels and the body diff.
    pub fn render_failures(&self) -> String {
        let mut out = String::new();
        for o in self.outcomes.iter().filter(|o| o.failed()) {
            let _ = writeln!(
                out,
                "FAIL {} :: {} [#{} line {}] {} {}",
                o.suite, o.test, o.index, o.line, o.method, o.path
            );
            let _ = writeln!(
                out,
                "  status: expected {}, got {}   ({})",
                o.expected_status,
                o.actual_status,
                o.level_marks()
            );
            for line in o.diff().lines() {
                let _ = writeln!(out, "  {line}");
            }
            out.push('\n');
        }
        out
    }

    /// One line per exchange that needs pre-existing data, with the first reason.
    pub fn render_preexisting(&self) -> String {
        let mut out = String::new();
        for o in self.outcomes.iter().filter(|o| o.preexisting) {
            let _ = writeln!(
                out,
                "PRE  {} :: {} [#{} line {}] {} {}: {}",
                o.suite,
                o.test,
                o.index,
                o.line,
                o.method,
                o.path,
                o.reasons.join("; ")
            );
        }
        out
    }

    /// One line per exchange the upstream did not answer when it was recorded.
    pub fn render_unanswered(&self) -> String {
        let mut out = String::new();
        for o in self.outcomes.iter() {
            let Some(error) = &o.upstream_error else {
                continue;
            };
            let _ = writeln!(
                out,
                "SKIP {} :: {} [#{} line {}] {} {}: not scored: the upstream did not answer ({})",
                o.suite, o.test, o.index, o.line, o.method, o.path, error
            );
        }
        out
    }

    /// The per-suite table.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        let header = format!(
            "{:<12} {:>9} {:>10} {:>11} {:>10} {:>13} {:>13} {:>13}",
            "suite", "exchanges", "replayable", "preexisting", "unanswered", "L0", "L1", "L2"
        );
        let _ = writeln!(out, "{header}");
        let _ = writeln!(out, "{}", "-".repeat(header.len()));
        let row = |out: &mut String, name: &str, s: &SuiteSummary| {
            let cell = |n: usize| {
                if s.replayable == 0 {
                    format!("{n} (  -  )")
                } else {
                    format!("{n} ({:5.1}%)", 100.0 * n as f64 / s.replayable as f64)
                }
            };
            let _ = writeln!(
                out,
                "{:<12} {:>9} {:>10} {:>11} {:>10} {:>13} {:>13} {:>13}",
                name,
                s.exchanges,
                s.replayable,
                s.preexisting,
                s.unanswered,
                cell(s.l0),
                cell(s.l1),
                cell(s.l2)
            );
        };
        for (name, s) in self.summary() {
            row(&mut out, &name, &s);
        }
        let _ = writeln!(out, "{}", "-".repeat(header.len()));
        row(&mut out, "TOTAL", &self.total());
        out
    }
}

/// Check per-suite floors, `{"Objects":{"l1":0.9}}` (ratios of replayable exchanges).
/// `selected`: the suites the replay was limited to (floors of other suites are
/// ignored), or `None` for all. Returns one message per floor not met; `Err` when the
/// floors themselves are malformed.
pub fn check_floors(
    report: &Report,
    floors: &Value,
    selected: Option<&[String]>,
) -> Result<Vec<String>, String> {
    let Value::Object(floors) = floors else {
        return Err("floors must be a JSON object like {\"Objects\":{\"l1\":0.9}}".into());
    };
    let summary = report.summary();
    let mut unmet = Vec::new();
    for (suite, levels) in floors {
        let Value::Object(levels) = levels else {
            return Err(format!(
                "floors for suite {suite} must be an object like {{\"l1\":0.9}}"
            ));
        };
        if selected.is_some_and(|sel| !sel.iter().any(|s| s == suite)) {
            continue;
        }
        let s = summary.get(suite).copied().unwrap_or_default();
        for (level, floor) in levels {
            let floor = floor
                .as_f64()
                .filter(|f| (0.0..=1.0).contains(f))
                .ok_or_else(|| format!("floor {suite}.{level} must be a number between 0 and 1"))?;
            let ratio = s.ratio(level).ok_or_else(|| {
                format!("floor {suite}.{level}: unknown level (use l0, l1 or l2)")
            })?;
            if ratio + 1e-9 < floor {
                let detail = if s.exchanges == 0 {
                    "no exchanges of this suite were replayed".to_string()
                } else {
                    format!(
                        "{:.3} ({} of {} replayable)",
                        ratio,
                        (ratio * s.replayable as f64).round() as usize,
                        s.replayable
                    )
                };
                unmet.push(format!(
                    "floor not met: suite {suite} {level} = {detail}, floor {floor}"
                ));
            }
        }
    }
    Ok(unmet)
}
