//! # lc-mock
//!
//! The program around the emulator: `lc-mock serve`, `lc-mock record` and `lc-mock
//! replay` (the command line is `src/main.rs`), and the cloud code it can run in-process
//! by name ([`clouds`]: `app`, this project's app; `conformance`, the recorded app's).
//!
//! The emulator itself is the `mock-server` library, which knows no app: it takes cloud
//! code as a [`leancloud::cloud::Registry`] value. Naming clouds, and depending on the
//! app's crate to offer one, is this program's business only.

pub mod clouds;
