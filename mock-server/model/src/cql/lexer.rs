//! CQL's tokens. Keywords are identifiers compared without case, as SQL does; every
//! token keeps the byte offset it starts at, which syntax errors report.

use super::{SyntaxError, syntax_error};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A name: a keyword, class, key (dotted paths included) or function.
    Ident(String),
    /// A string in single or double quotes.
    Str(String),
    /// A number as written (sign excluded: `-` is its own token).
    Num(String),
    /// Punctuation and operators: `( ) , * = != <> < <= > >= [ ] { } : ? + -`.
    Sym(&'static str),
    End,
}

impl Tok {
    /// How an error names this token.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Str(s) => format!("the string '{s}'"),
            Tok::Num(n) => format!("the number {n}"),
            Tok::Sym(s) => format!("'{s}'"),
            Tok::End => "the end of the statement".into(),
        }
    }
}

/// The tokens of `src`, each with its byte offset, ending with [`Tok::End`].
pub(crate) fn tokens(src: &str) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'.' | b'$'))
            {
                i += 1;
            }
            out.push((Tok::Ident(src[start..i].to_string()), start));
            continue;
        }
        if c.is_ascii_digit() {
            i = number_end(bytes, i);
            out.push((Tok::Num(src[start..i].to_string()), start));
            continue;
        }
        if c == b'\'' || c == b'"' {
            let (text, end) = string(src, i)?;
            out.push((Tok::Str(text), start));
            i = end;
            continue;
        }
        let two = bytes.get(i..i + 2);
        let sym: Option<&'static str> = match two {
            Some(b"!=") => Some("!="),
            Some(b"<>") => Some("<>"),
            Some(b"<=") => Some("<="),
            Some(b">=") => Some(">="),
            _ => None,
        };
        if let Some(sym) = sym {
            out.push((Tok::Sym(sym), start));
            i += 2;
            continue;
        }
        let sym = match c {
            b'(' => "(",
            b')' => ")",
            b',' => ",",
            b'*' => "*",
            b'=' => "=",
            b'<' => "<",
            b'>' => ">",
            b'[' => "[",
            b']' => "]",
            b'{' => "{",
            b'}' => "}",
            b':' => ":",
            b'?' => "?",
            b'+' => "+",
            b'-' => "-",
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(syntax_error(i, format!("unexpected character '{ch}'")));
            }
        };
        out.push((Tok::Sym(sym), start));
        i += 1;
    }
    out.push((Tok::End, src.len()));
    Ok(out)
}

/// Where the number starting at `i` ends: digits, an optional fraction, an optional
/// exponent.
fn number_end(bytes: &[u8], mut i: usize) -> usize {
    let digits = |bytes: &[u8], mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    i = digits(bytes, i);
    if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i = digits(bytes, i + 1);
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_digit) {
            i = digits(bytes, j);
        }
    }
    i
}

/// The string whose opening quote is at `start`, and the offset after its closing quote.
/// A backslash escapes the next character; a doubled quote stands for one, as in SQL.
fn string(src: &str, start: usize) -> Result<(String, usize), SyntaxError> {
    let quote = src.as_bytes()[start] as char;
    let mut text = String::new();
    let mut chars = src[start + 1..].char_indices().peekable();
    while let Some((off, ch)) = chars.next() {
        let at = start + 1 + off;
        if ch == '\\' {
            match chars.next() {
                Some((_, 'n')) => text.push('\n'),
                Some((_, 't')) => text.push('\t'),
                Some((_, 'r')) => text.push('\r'),
                Some((_, other)) => text.push(other),
                None => break,
            }
        } else if ch == quote {
            if chars.peek().is_some_and(|&(_, next)| next == quote) {
                chars.next();
                text.push(quote);
            } else {
                return Ok((text, at + 1));
            }
        } else {
            text.push(ch);
        }
    }
    Err(syntax_error(start, "a string is not closed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        tokens(src).unwrap().into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn tokens_keep_their_offsets_and_operators_of_two_characters() {
        let toks = tokens("select * from T where a<>1 and b>=2.5e3").unwrap();
        assert_eq!(toks[0], (Tok::Ident("select".into()), 0));
        assert_eq!(toks[1], (Tok::Sym("*"), 7));
        assert!(toks.contains(&(Tok::Sym("<>"), 23)));
        assert!(toks.contains(&(Tok::Num("2.5e3".into()), 34)));
        assert_eq!(toks.last().unwrap().0, Tok::End);
    }

    #[test]
    fn strings_take_either_quote_escapes_and_doubled_quotes() {
        assert_eq!(
            kinds(r#"'it''s' "say \"hi\"" 'a\\b'"#),
            [
                Tok::Str("it's".into()),
                Tok::Str("say \"hi\"".into()),
                Tok::Str("a\\b".into()),
                Tok::End
            ]
        );
    }

    #[test]
    fn unclosed_strings_and_stray_characters_are_syntax_errors_with_their_position() {
        let e = tokens("select * from T where a = 'x").unwrap_err();
        assert_eq!(e.at, 26);
        let e = tokens("select # from T").unwrap_err();
        assert_eq!(e.at, 7);
    }
}
