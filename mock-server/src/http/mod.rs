//! The fronts that put the api on a socket.

pub mod standalone;
pub mod wiremock;
