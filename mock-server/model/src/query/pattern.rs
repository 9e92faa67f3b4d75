//! `$regex` / `$options`: the service's PCRE-style patterns on the Rust `regex` crate.
//!
//! The one PCRE feature SDKs rely on that `regex` lacks is `\Q…\E` quoting (the
//! JavaScript SDK sends `startsWith("p")` as `^\Qp\E`); it is rewritten into escaped text
//! before compiling. Patterns `regex` cannot express (look-around, back-references) are
//! rejected as invalid queries.

use leancloud::LcError;
use regex::{Regex, RegexBuilder};

/// Compiled size cap: a hostile pattern costs at most this much memory.
const SIZE_LIMIT: usize = 1 << 22;

/// Compile a `$regex` with its `$options` (`i`, `m`, `x`, `s`, combinable; `u` accepted
/// and meaningless since matching is always Unicode).
pub(crate) fn compile(pattern: &str, options: &str) -> Result<Regex, LcError> {
    let translated = translate_quotes(pattern);
    let mut builder = RegexBuilder::new(&translated);
    builder.size_limit(SIZE_LIMIT);
    for flag in options.chars() {
        match flag {
            'i' => builder.case_insensitive(true),
            'm' => builder.multi_line(true),
            'x' => builder.ignore_whitespace(true),
            's' => builder.dot_matches_new_line(true),
            'u' => &mut builder,
            other => {
                return Err(LcError::invalid_query(format!(
                    "invalid $options flag '{other}'"
                )));
            }
        };
    }
    builder
        .build()
        .map_err(|_| LcError::invalid_query(format!("invalid $regex '{pattern}'")))
}

/// Replace every `\Q…\E` (or `\Q…` to the end) with the same text escaped. A stray `\E`
/// is dropped, as PCRE does. Escaped backslashes (`\\Q`) are not quotes.
pub(crate) fn translate_quotes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Q') => {
                while let Some(q) = chars.next() {
                    if q == '\\' && chars.peek() == Some(&'E') {
                        chars.next();
                        break;
                    }
                    push_literal(&mut out, q);
                }
            }
            Some('E') => {}
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// One literal character, safe in any position and under the `x` flag (where bare
/// whitespace would be ignored).
fn push_literal(out: &mut String, c: char) {
    if c.is_whitespace() {
        out.push_str(&format!("\\x{{{:x}}}", u32::from(c)));
    } else {
        out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leancloud::error::code;

    #[test]
    fn quoted_text_becomes_escaped_text() {
        assert_eq!(translate_quotes(r"^\Qa.b\E$"), r"^a\.b$");
        assert_eq!(translate_quotes(r"\Q(x)*"), r"\(x\)\*");
        assert_eq!(translate_quotes(r"a\\Qb"), r"a\\Qb");
        assert_eq!(translate_quotes(r"a\Eb"), "ab");
        assert_eq!(translate_quotes(r"\d+\Q \E"), r"\d+\x{20}");
    }

    #[test]
    fn a_quote_matches_its_text_literally_even_with_the_x_flag() {
        let re = compile(r"^\Qa b.\E", "x").unwrap();
        assert!(re.is_match("a b."));
        assert!(!re.is_match("ab."));
        assert!(!re.is_match("a bc"));
    }

    #[test]
    fn unknown_flags_and_unsupported_syntax_are_invalid_queries() {
        assert_eq!(compile("a", "q").unwrap_err().code, code::INVALID_QUERY);
        assert_eq!(compile("(?=a)", "").unwrap_err().code, code::INVALID_QUERY);
        assert_eq!(compile("(", "").unwrap_err().code, code::INVALID_QUERY);
    }
}
