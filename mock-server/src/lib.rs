//! # mock-server
//!
//! A LeanCloud emulator: the REST storage API with the real service's answers, in-process
//! for tests (on wiremock) or as a standalone server (the `lc-mock` program, crate
//! `lc-mock`, is its command line).
//!
//! It knows no app: cloud code comes in as a [`leancloud::cloud::Registry`] value
//! ([`Api::attach_registry`]) or as an engine over HTTP ([`Api::attach_cloud`]).
//!
//! # Layout
//!
//! - `lc_model` (crate `mock-server/model`): the rules. No HTTP.
//! - [`api`]: one routes table; thin handlers (request -> model -> response); auth; the
//!   write pipeline every write of an object runs through, and the hooks it fires.
//! - [`http`]: the fronts. [`MockLeanCloud`] owns a wiremock `MockServer` whose catch-all
//!   responder calls the api; [`http::standalone`] serves the same api on its own server.
//! - [`settings`]: reads a database-settings folder from disk.
//! - [`record`]: `lc-mock record`, a proxy that records a real app's traffic for replay.
//! - [`replay`]: replays recorded exchanges against a fresh emulator and scores them.
//!
//! Both fronts call [`api::Api::handle`], so they answer the same; the in-process
//! transport ([`api::InProcess`]) calls it without a socket.

pub mod api;
pub mod durable;
pub mod export;
pub mod http;
pub mod leancloud_export;
pub mod record;
pub mod replay;
pub mod settings;

pub use api::{Api, AppConfig};
pub use http::wiremock::MockLeanCloud;
