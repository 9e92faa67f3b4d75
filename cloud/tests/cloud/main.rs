//! The app's integration tests, as one test binary: each hook and function in isolation
//! against the `cloud-engine` server ([`isolation`]), the hook chains through the
//! emulator with the app's data ([`chains`]), and the app's registry and program
//! ([`registry`]); [`support`] holds what they share. The snapshot review of
//! `fixtures/hooks/` is a binary of its own (`tests/snapshots.rs`).

mod cascade_faults;
mod chains;
mod isolation;
mod registry;
mod support;
