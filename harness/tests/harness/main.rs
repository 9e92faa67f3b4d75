//! The harness's integration tests, as one test binary: choosing and reaching targets,
//! keys kept out of everything printed, the checks' messages, `eventually`
//! ([`targets`]), and the redactions of traces ([`traces`]).

mod targets;
mod traces;
