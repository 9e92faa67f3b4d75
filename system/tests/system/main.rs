//! The system crate's integration tests, as one test binary: the step catalogue
//! ([`catalogue`]), the failure report ([`report`]), and the app on each target through
//! the harness ([`targets`]). The Gherkin suite itself runs in a binary of its own
//! (`tests/features.rs`, cucumber's runner).

mod catalogue;
mod report;
mod targets;
