//! The cloud-code runtime: where an app's cloud functions and hooks are defined in Rust
//! and run, in-process (inside the emulator) or behind the engine server
//! ([`crate::engine`], feature `engine`).
//!
//! # Layout
//!
//! - [`registry`]: [`Registry`] (define, then [`Registry::call_function`] /
//!   [`Registry::run_hook`]) and [`FunctionOptions`].
//! - [`request`]: what handlers get: [`FunctionRequest`], [`HookRequest`], [`Meta`], and
//!   [`Storage`], the transport and keys behind `request.client()`.
//! - [`hook`]: [`HookKind`] and its names (paths, metadata, `__ignore_hooks`),
//!   [`HookOutcome`] (what the engine answers for a hook that ran).
//! - [`error`]: [`CloudError`], the `AV.Cloud.Error` of this runtime.
//! - `guard`: panics become 500 answers and slow handlers 503 (code 124), on any executor.
//!
//! ```
//! # async fn demo() {
//! use leancloud::cloud::{FunctionRequest, Registry};
//! use serde_json::json;
//! let mut registry = Registry::new();
//! registry.define("hello", |_req| async move { Ok(json!("hi")) });
//! let result = registry.call_function("hello", FunctionRequest::new(json!({}))).await;
//! assert_eq!(result, Ok(json!("hi")));
//! # }
//! ```

pub mod error;
pub(crate) mod guard;
pub mod hook;
pub mod registry;
pub mod request;
#[cfg(test)]
mod tests;

pub use error::CloudError;
pub use hook::{HookKind, HookOutcome, VerifyType};
pub use registry::{DEFAULT_TIMEOUT, FunctionOptions, HookReturn, Registry};
pub use request::{FunctionRequest, HookRequest, Meta, Storage};
