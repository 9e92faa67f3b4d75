//! The rules' integration tests, as one test binary: queries (`where`, order, limit,
//! count, geo, subqueries) and how objects are shown (`keys`, `include`, `returnACL`),
//! on stores filled directly ([`support`]).

mod query;
mod render;
mod support;
