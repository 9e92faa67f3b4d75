//! The emulator's integration tests, as one test binary: each module is one area, and
//! [`support`] holds what they share. (`trace_memory.rs` is a binary of its own: it
//! counts every heap byte of its process.)

mod access_matrix;
mod authdata;
mod bounds;
mod clock;
mod console;
mod coverage;
mod cql;
mod faults;
mod files;
mod fronts;
mod functions;
mod hooks;
mod http_edges;
mod leaderboard;
mod livequery;
mod outbox;
mod phone;
mod push;
mod query_access;
mod record_upstream;
mod replay;
mod replay_extended;
mod roles;
mod settings;
mod snapshots;
mod social;
mod support;
mod traces;
mod users;
mod users_verified;
