//! Step definitions, one module per domain concept. Every step has a doc comment with
//! an `Example:` line (and, for tables and doc strings, the indented lines after it):
//! `features/STEPS.md` is generated from them (`cargo test -p system --test system catalogue`).

pub mod faults;
pub mod hooks;
pub mod leaderboards;
pub mod live;
pub mod objects;
pub mod permissions;
pub mod phone;
pub mod push;
pub mod queries;
pub mod responses;
pub mod social;
pub mod users;
