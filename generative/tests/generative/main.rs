//! The differential, bad-input and concurrency suites, as one test binary: each module
//! is one property suite (its regression file is named after the property, not the
//! module: `proptest-regressions/<name>.txt`). The app's model (`tests/app_model/`) and
//! the fuzz suite (`tests/fuzz/`) are binaries of their own: each installs a
//! process-wide panic hook, which would hide the panics of the suites beside it.

mod access_diff;
mod bad_input;
mod concurrency;
mod cql_diff;
mod field_ops;
mod index_diff;
mod query_diff;
