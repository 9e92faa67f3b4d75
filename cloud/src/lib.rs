//! # cloud
//!
//! The app's cloud code: a local-business directory. Owners list their `Business`es at
//! an `Address`, moderators approve them, customers find them nearby and `Review` them.
//! This crate depends on the protocol crate only and plugs into the emulator through the
//! cloud-code registry ([`registry`]); the `cloud-engine` program serves the same
//! registry over the engine protocol.
//!
//! # Layout
//!
//! - [`schema`]: classes, the `Moderators` role, the fields the app manages.
//! - [`rules`]: the pure rules (phone numbers, postal codes, names, categories, stars,
//!   distances, rating arithmetic) with the messages a client can show.
//! - [`acl`]: the ACL each class's objects get. [`input`]: reading fields and params.
//! - [`errors`]: the kinds of refusal, with their status and code.
//! - [`store`]: reads that treat "not there" as `None`, the app's own (quiet, master)
//!   writes, conditional updates.
//! - One module per class, with its hooks: [`users`] (`_User`, onLogin, moderator
//!   membership), [`address`], [`business`], [`review`]; [`ratings`] keeps the counters
//!   the Review hooks move. [`functions`]: the cloud functions.
//! - `src/bin/cloud-engine.rs`: serves [`registry`] with `EngineConfig::from_env()`.
//!
//! # Errors
//!
//! Every refusal carries a message meant for the app's user, and a status and code a
//! client can branch on:
//!
//! | refusal | HTTP | code | examples |
//! |---|---|---|---|
//! | a value breaks a rule | 400 | 142 | "Stars must be a whole number from 1 to 5." |
//! | nobody is signed in | 401 | 401 | "Sign in to write a review." |
//! | not allowed for this caller | 403 | 403 | "Only moderators can change a business's status." |
//! | a named object does not exist | 404 | 101 | "This business does not exist." |
//! | a second copy of something unique | 400 | 137 | "You have already reviewed this business; ..." |
//!
//! Cloud functions answer these as they are. A before-hook's refusal reaches the client
//! as the platform's `142 Cloud Code validation failed. Error detail : <message>` (the
//! platform keeps the message only); onLogin's as a refused login. A storage failure the
//! code did not expect is answered with HTTP 500 and the storage's code and message.
//!
//! # Decisions where the issue was silent
//!
//! - **A hook request without a user is the master key.** The hook protocol does not
//!   say which key a write used. Review writes always need a user; a Business created
//!   without one must name its `owner` (a plain anonymous request is told to sign in);
//!   updates of businesses and reviews are closed to anonymous callers by their ACLs, and
//!   `_User` rows by the platform's own rule, so a user-less update is the master key's.
//!   For anonymous creates to be impossible, the class permissions should make `create`
//!   of `Business`, `Address` and `Review` "signed-in users only".
//! - **Phone country**: a business's national phone number is read in the country of its
//!   address, else of its own `country` field; without either only international numbers
//!   (`+...`, `00...`) are accepted. A `country` that disagrees with the address's is
//!   refused.
//! - **beforeUpdate cannot rewrite a value**, so updated names, categories, countries,
//!   phones and postal codes must already be in the app's written form; the refusal says
//!   which form to send.
//! - Creating a business makes its owner's `role` `owner`; users sign up as `customer`,
//!   not banned, with no reviews, and only the master key changes those three fields.
//! - Owners cannot review their own business; only `active` businesses can be reviewed.
//! - A business's location follows its address: set from it on create, copied again when
//!   the address pointer changes (Business afterUpdate) or the address moves (Address
//!   afterUpdate). A business without an address keeps the `location` it was given.
//! - How the rating counters stay right under concurrency: see [`ratings`].
//! - "One review per user and business" is checked with a query, which two simultaneous
//!   first reviews could both pass; only a unique index in the database settings (on a
//!   field that joins business and author) would close that gap.
//!
//! # Tests
//!
//! - Unit tests beside the pure code (`rules`, `input`, `acl`, `errors`, `store`,
//!   `address::check`): accepted and refused values, whole messages.
//! - `tests/isolation/`: each hook and function alone, over the engine protocol, against
//!   the `cloud-engine` server whose storage is an emulator seeded for the case.
//! - `tests/snapshots.rs`: every request file under `fixtures/hooks/` (format in its
//!   README), its answer an insta snapshot in `tests/snapshots/`.
//! - `tests/registry.rs`: the registry in-process and the `cloud-engine` program.

pub mod acl;
pub mod address;
pub mod business;
pub mod errors;
pub mod functions;
pub mod input;
pub mod ratings;
pub mod review;
pub mod rules;
pub mod schema;
pub mod store;
pub mod users;

use leancloud::cloud::Registry;

/// The app's cloud code: its functions ([`functions`]), then the hooks of `_User`
/// ([`users`]), `Address` ([`address`]), `Business` ([`business`]) and `Review`
/// ([`review`]).
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    functions::define(&mut registry);
    users::define(&mut registry);
    address::define(&mut registry);
    business::define(&mut registry);
    review::define(&mut registry);
    registry
}
