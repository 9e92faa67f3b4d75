//! Step definitions, one module per domain concept.

pub mod objects;
pub mod queries;
pub mod responses;
