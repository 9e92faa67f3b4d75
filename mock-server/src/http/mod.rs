//! The fronts that put the api on a socket.

pub mod console;
pub mod cors;
pub mod head_errors;
pub mod live;
pub mod standalone;
pub mod wiremock;
