//! # lc-model
//!
//! Pure LeanCloud storage semantics: no HTTP, no async, no wiremock. The api layer turns
//! requests into calls on [`Store`] and renders what comes back.
//!
//! # Layout
//!
//! - [`store`]: the app's data (classes, objects, relation membership), clock and ids.
//! - [`objects`]: create, fetch, update, delete with field operations and their rules.
//! - [`query`]: `where` evaluation, order, limit/skip, count.
//! - [`render`]: how a stored object is shown: `keys`, `include`, `returnACL`.
//! - [`names`]: class and key name rules.

pub mod ids;
pub mod names;
pub mod objects;
pub mod query;
pub mod render;
pub mod store;

pub use ids::{Clock, FixedClock, IdGen, SeededIds, SystemClock};
pub use store::{ClassData, StoredObject, Store};
