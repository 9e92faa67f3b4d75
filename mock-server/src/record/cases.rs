//! Which test case an exchange belongs to.
//!
//! In order of precedence:
//! 1. the request's `X-LC-Record-Case` header (and `X-LC-Record-Suite`, else the
//!    recorder's suite);
//! 2. the case named by the last marker request (`POST /__record/case`);
//! 3. otherwise automatic cases, `session 1`, `session 2`, ...: a new one starts when no
//!    request came for longer than the gap.
//!
//! A name that an earlier recording in the same file already used gets ` (2)`, ` (3)`,
//! ... so that two runs of one test never merge into one replayed case.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// A test case's (suite, test).
pub type CaseKey = (String, String);

#[derive(Debug)]
pub struct CaseNamer {
    suite: String,
    gap: Option<Duration>,
    marker: Option<CaseKey>,
    auto: Option<CaseKey>,
    auto_count: usize,
    last: Option<Instant>,
    /// Cases already in the file before this run.
    taken: HashSet<CaseKey>,
    /// Names asked for in this run -> the names given.
    given: HashMap<CaseKey, CaseKey>,
}

impl CaseNamer {
    /// `suite` names cases that do not name their own suite; `gap` (none: never) splits
    /// automatic cases; `taken` are the cases already in the file.
    pub fn new(suite: &str, gap: Option<Duration>, taken: HashSet<CaseKey>) -> Self {
        CaseNamer {
            suite: suite.to_string(),
            gap,
            marker: None,
            auto: None,
            auto_count: 0,
            last: None,
            taken,
            given: HashMap::new(),
        }
    }

    /// The name this run uses for a case asked for as `wanted`.
    fn give(&mut self, wanted: CaseKey) -> CaseKey {
        if let Some(given) = self.given.get(&wanted) {
            return given.clone();
        }
        let mut name = wanted.clone();
        let mut n = 1;
        while self.taken.contains(&name) {
            n += 1;
            name = (wanted.0.clone(), format!("{} ({n})", wanted.1));
        }
        self.taken.insert(name.clone());
        self.given.insert(wanted, name.clone());
        name
    }

    /// Set (or, with `None`, clear) the marker case. Returns the name it will use.
    pub fn mark(&mut self, suite: Option<&str>, test: Option<&str>) -> Option<CaseKey> {
        self.marker = test.map(|t| {
            let wanted = (suite.unwrap_or(&self.suite).to_string(), t.to_string());
            self.give(wanted)
        });
        // After a marker is cleared, automatic naming starts a new case.
        self.auto = None;
        self.marker.clone()
    }

    /// The case of a request that arrived at `now` with these header values.
    pub fn assign(&mut self, now: Instant, case: Option<&str>, suite: Option<&str>) -> CaseKey {
        let previous = self.last.replace(now);
        if let Some(test) = case.map(str::trim).filter(|t| !t.is_empty()) {
            let suite = suite
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .unwrap_or(&self.suite);
            return self.give((suite.to_string(), test.to_string()));
        }
        if let Some(marker) = &self.marker {
            return marker.clone();
        }
        let quiet_too_long = match (previous, self.gap) {
            (Some(before), Some(gap)) => now.saturating_duration_since(before) > gap,
            _ => false,
        };
        match &self.auto {
            Some(current) if !quiet_too_long => current.clone(),
            _ => loop {
                self.auto_count += 1;
                let name = (self.suite.clone(), format!("session {}", self.auto_count));
                if self.taken.insert(name.clone()) {
                    self.auto = Some(name.clone());
                    return name;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(suite: &str, test: &str) -> CaseKey {
        (suite.into(), test.into())
    }

    #[test]
    fn quiet_gaps_split_automatic_cases() {
        let t0 = Instant::now();
        let mut namer = CaseNamer::new("recorded", Some(Duration::from_secs(5)), HashSet::new());
        assert_eq!(namer.assign(t0, None, None), key("recorded", "session 1"));
        let t1 = t0 + Duration::from_secs(4);
        assert_eq!(namer.assign(t1, None, None), key("recorded", "session 1"));
        // 4 s, then 4 s again: each gap is short, so still one case.
        let t2 = t1 + Duration::from_secs(4);
        assert_eq!(namer.assign(t2, None, None), key("recorded", "session 1"));
        let t3 = t2 + Duration::from_secs(6);
        assert_eq!(namer.assign(t3, None, None), key("recorded", "session 2"));
    }

    #[test]
    fn without_a_gap_everything_is_one_case() {
        let t0 = Instant::now();
        let mut namer = CaseNamer::new("recorded", None, HashSet::new());
        namer.assign(t0, None, None);
        let later = t0 + Duration::from_secs(3600);
        assert_eq!(
            namer.assign(later, None, None),
            key("recorded", "session 1")
        );
    }

    #[test]
    fn a_header_names_its_case_and_wins_over_the_marker() {
        let t0 = Instant::now();
        let mut namer = CaseNamer::new("recorded", Some(Duration::from_secs(5)), HashSet::new());
        namer.mark(None, Some("checkout"));
        assert_eq!(namer.assign(t0, None, None), key("recorded", "checkout"));
        assert_eq!(
            namer.assign(t0, Some("login"), Some("users")),
            key("users", "login")
        );
        assert_eq!(
            namer.assign(t0, Some("  "), None),
            key("recorded", "checkout")
        );
        namer.mark(None, None);
        assert_eq!(namer.assign(t0, None, None), key("recorded", "session 1"));
    }

    #[test]
    fn names_already_in_the_file_are_not_reused() {
        let taken: HashSet<CaseKey> = [key("recorded", "session 1"), key("recorded", "login")]
            .into_iter()
            .collect();
        let t0 = Instant::now();
        let mut namer = CaseNamer::new("recorded", None, taken);
        assert_eq!(namer.assign(t0, None, None), key("recorded", "session 2"));
        assert_eq!(
            namer.assign(t0, Some("login"), None),
            key("recorded", "login (2)")
        );
        // The same header later in this run is the same case.
        assert_eq!(
            namer.assign(t0, Some("login"), None),
            key("recorded", "login (2)")
        );
    }
}
