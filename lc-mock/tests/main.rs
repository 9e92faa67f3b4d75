//! The tests of the `lc-mock` program and its built-in clouds, as one test binary.

mod conformance_cloud;
mod console_browser;
mod deploy;
mod durable;
mod import_export;
mod record_cli;
mod record_roundtrip;
mod replay;
mod serve;
mod traces;
mod workspace;
