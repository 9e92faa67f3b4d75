//! The engine server's integration tests, as one test binary: the official engines'
//! transcripts answered as they were (Node's in [`engine`], Python's in
//! [`engine_python`], read with [`transcripts`]) and an engine that records
//! ([`engine_record`]); [`support`] holds what they share.

mod engine;
mod engine_python;
mod engine_record;
mod support;
mod transcripts;
