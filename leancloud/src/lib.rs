//! # leancloud
//!
//! The LeanCloud protocol in Rust, used in both directions: clients (tests, hooks) encode
//! with these types and the emulator decodes with the same ones.
//!
//! # Layout
//!
//! - [`error`]: [`LcError`], one constructor per real error code and message, and the
//!   codes by name ([`error::code`]).
//! - [`http`]: the HTTP message types and the [`Transport`] trait.
//! - [`value`]: typed values (`Date`, `Pointer`, `Relation`, `GeoPoint`, `File`, `Bytes`,
//!   `Object`, ACL) and their JSON encoding; validation of client-sent values.
//! - [`ops`]: field operations (`{"__op": ...}`) and how they apply to a stored value.
//! - [`recording`]: writing the recordings format (exchanges and seeds, keys kept out).
//! - [`sign`]: `X-LC-Sign` request signing and verification.
//! - [`resource`]: what a REST path names ([`Resource`]), built and parsed in one place.
//! - [`caller`]: who a request speaks for ([`Caller`]: nobody, anonymous, a user, the
//!   master key) and the keys that say so.
//! - [`client`]: a REST client (objects, queries, batch, functions, users) over any transport.
//! - [`transport`]: the reqwest HTTP transport (feature `http`).
//! - [`realtime`]: the realtime service's commands (`GenericCommand`) as LiveQuery's
//!   WebSocket carries them, in protobuf, base64 and JSON.
//! - [`cloud`]: the cloud-code runtime: a registry of functions and hooks, and how they run.
//! - `engine`: the cloud-engine HTTP server that serves a registry over the hook protocol
//!   (feature `engine`).

pub mod caller;
pub mod client;
pub mod cloud;
#[cfg(feature = "engine")]
pub mod engine;
pub mod error;
pub mod http;
pub mod ops;
pub mod realtime;
pub mod recording;
pub mod resource;
pub mod sign;
#[cfg(feature = "http")]
pub mod transport;
pub mod value;

pub use caller::Caller;
pub use error::LcError;
pub use http::{Request, Response, Transport};
pub use resource::Resource;
