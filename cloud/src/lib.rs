//! # cloud
//!
//! The app's cloud code: a local-business directory (`Business`, `Address`, `Review`,
//! users). This crate depends on the protocol crate only and plugs into the emulator
//! through the cloud-code registry.
//!
//! # Layout
//!
//! - [`rules`]: the pure rules the hooks apply (phone numbers, postal codes, ratings),
//!   with the messages a client can show.

pub mod rules;
