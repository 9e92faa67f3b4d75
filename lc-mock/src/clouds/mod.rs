//! Cloud code built into the program, chosen by name (`lc-mock serve --cloud NAME`,
//! `lc-mock replay --cloud NAME`).
//!
//! - `app`: this project's app (crate `cloud`, a local-business directory), the same
//!   registry `cloud-engine` serves.
//! - `conformance`: the cloud code of the app the production recordings were made
//!   against (the `IgnoreHookTest` hooks and the `AV.Cloud` functions), so that the
//!   `hooks` and `AV.Cloud` recordings can be replayed.

pub mod conformance;

use leancloud::cloud::Registry;

/// The names [`named`] knows.
pub const NAMES: &[&str] = &["app", "conformance"];

/// A built-in cloud by name: the function that makes its registry (every fresh app of a
/// replay gets a registry of its own).
pub fn named(name: &str) -> Option<fn() -> Registry> {
    match name {
        "app" => Some(cloud::registry),
        "conformance" => Some(conformance::registry),
        _ => None,
    }
}
