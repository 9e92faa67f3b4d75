//! CQL, LeanCloud's SQL-like query language (`GET`/`POST /1.1/cloudQuery`), compiled
//! into the query parameters a REST find takes (`where`, `order`, `limit`, `skip`,
//! `count`, `keys`, `include`), so that a CQL query runs through the one query engine
//! and answers what its `where` equivalent answers.
//!
//! The grammar follows LeanCloud's CQL guide (leancloud/docs `views/cql_guide.md`;
//! protocol notes §1.6): `select [include k,] cols|*|count(*) from C [where …]
//! [limit [skip,] n] [order by …]`, with `= != <> < <= > >=`, `[not] like`,
//! `[not] regexp`, `[not] in (list | subquery)`, `is [not] exists`, `size(k) = n`,
//! `k all (…)`, `near` with `min`/`max` distances, `within … and …`,
//! `related k to pointer(…)`, `and` binding tighter than `or`, the functions `date`,
//! `pointer`, `geopoint`, `file`, `base64`, `current_timestamp`, JSON literals, and `?`
//! placeholders filled from `pvalues`. `insert`, `update` and `delete` statements are not
//! served (see the README's CQL section).
//!
//! Choices where the guide is silent, each the closest to the service's documented
//! behaviour: `like` is anchored at both ends (SQL's meaning; the guide's example
//! `like 'dennis%'` finds names starting with dennis), `regexp` is not; `not like` and
//! `not regexp` become `{"$not": {"$regex": …}}` (MongoDB's form, which the service's
//! storage speaks); `select count(*) from C` alone answers the count with no rows; a
//! syntax error's detail names the byte offset it was found at.

mod lexer;
mod parser;

use leancloud::LcError;
use serde_json::{Map, Value};

pub use parser::compile;

/// The longest CQL statement accepted, in bytes (the CQL guide: "要求在 4096 字节以内").
pub const MAX_CQL_BYTES: usize = 4096;

/// The deepest nesting of parentheses, subqueries and literals a statement may have;
/// deeper is a syntax error, never a deep recursion.
pub const MAX_CQL_DEPTH: usize = 32;

/// A compiled `select`: the class it reads and the REST find parameters it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct CqlQuery {
    pub class: String,
    /// `where` (an object), `order`, `limit`, `skip`, `count`, `keys`, `include`, as
    /// [`crate::query::FindParams::from_json`] reads them.
    pub params: Map<String, Value>,
}

/// The service's answer to a statement it cannot read: 400, code 300, `CQL syntax
/// error.Detail: …` (protocol notes §1.6, from a recorded answer).
pub(crate) fn syntax_error(at: usize, detail: impl std::fmt::Display) -> LcError {
    LcError::new(
        400,
        300,
        format!("CQL syntax error.Detail: {detail} at position {at}."),
    )
}

#[cfg(test)]
mod tests;
