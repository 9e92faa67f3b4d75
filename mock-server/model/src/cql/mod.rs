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
//! syntax error has the recorded answer's form (line, column, caret, alternatives), with
//! this parser's alternatives rather than the service's.

mod lexer;
mod parser;

use leancloud::LcError;
use leancloud::error::code;
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

/// Where and why a statement does not parse.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    /// The byte offset of the token the parser stopped at.
    pub at: usize,
    /// What could have come there instead (empty when `reason` says it).
    pub expected: Vec<String>,
    pub reason: Option<String>,
}

pub(crate) fn syntax_error(at: usize, reason: impl Into<String>) -> SyntaxError {
    SyntaxError {
        at,
        expected: Vec::new(),
        reason: Some(reason.into()),
    }
}

impl SyntaxError {
    /// The service's answer to a statement it cannot read, as recorded
    /// (`Queries/#cloudQuery/should return syntax error.`, leancloud/javascript-sdk's
    /// recordings): 400, code 300, `CQL syntax error.Detail: Parse error at line L,
    /// column C:`, the line, a caret under the column, and `Expected one of:` with the
    /// alternatives a line each (or the reason, where nothing else could have come).
    pub(crate) fn into_error(self, src: &str) -> LcError {
        let at = char_floor(src, self.at);
        let before = &src[..at];
        let line_no = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_end = src[at..].find('\n').map_or(src.len(), |i| at + i);
        let column = src[line_start..at].chars().count() + 1;
        let mut detail = format!(
            "Parse error at line {line_no}, column {column}:\n{}\n{}^\n",
            &src[line_start..line_end],
            " ".repeat(column - 1)
        );
        match self.reason {
            Some(reason) => {
                detail.push_str(&reason);
                detail.push('\n');
            }
            None => {
                detail.push_str("Expected one of:\n");
                for alternative in &self.expected {
                    detail.push_str(alternative);
                    detail.push('\n');
                }
                detail.push('\n');
            }
        }
        LcError::new(
            400,
            code::CQL_SYNTAX_ERROR,
            format!("CQL syntax error.Detail: {detail}"),
        )
    }
}

/// The largest offset at most `i` that starts a character of `s`.
pub(crate) fn char_floor(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests;
