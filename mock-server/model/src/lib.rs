//! # lc-model
//!
//! Pure LeanCloud storage semantics: no HTTP, no async, no wiremock. The api layer turns
//! requests into calls on [`Store`] and renders what comes back.
//!
//! # Layout
//!
//! - [`access`]: the caller ([`access::Principal`]), ACLs, roles, class permissions.
//! - [`store`]: the app's data (classes, objects, relation membership), clock and ids.
//! - [`clock`]: the app's clock, which tests freeze, set and advance.
//! - [`objects`]: create, fetch, update, delete with field operations and their rules.
//! - [`query`]: `where` evaluation, order, limit/skip, count.
//! - [`cql`]: CQL `select` statements compiled into the same find parameters.
//! - [`presentation`]: how an object is shown, to a client (`keys`, `include`,
//!   `returnACL`, hidden columns, defaults, a user's own session token) and to a hook.
//! - [`roles`]: `_Role` rules (required ACL, name rules).
//! - [`settings`]: database settings (columns, indexes, permissions, seed rows) from
//!   JSON, applied to a store; the schema as `GET /1.1/schemas` shows it.
//! - [`users`]: `_User` rules: sign-up, log-in and lockout, session tokens, passwords.
//! - [`names`]: class and key name rules.
//! - [`leaderboard`]: leaderboards, users' statistics, ranks, versions and archives.
//! - [`push`]: push notifications: the installations a push reaches, scheduled pushes.
//! - [`social`]: follows (`_Followee`/`_Follower`) and the status inboxes.
//! - [`files`]: `_File` rows, their bytes, uploads, File fields expanded on read.
//! - [`outbox`]: what the app would send to the outside world (SMS, email, push,
//!   captcha), kept for tests to read.
//! - [`live`]: LiveQuery: which event (create, update, enter, leave, delete) a change of
//!   an object is to a subscription, as its subscriber may see it.
//! - [`limits`]: the bounds every request stays within (nesting, query work).

pub mod access;
pub mod clock;
pub mod cql;
pub mod decisions;
pub mod files;
pub mod ids;
pub mod leaderboard;
pub mod limits;
pub mod live;
pub mod names;
pub mod objects;
pub mod outbox;
pub mod presentation;
pub mod push;
pub mod query;
pub mod roles;
pub mod serde_pairs;
pub mod settings;
pub mod social;
pub mod store;
pub mod users;
pub mod verification;

pub use access::Principal;
pub use ids::{Clock, FixedClock, IdGen, SeededIds, SystemClock};
pub use store::{ClassData, ClassSettings, Column, Store, StoredObject};
