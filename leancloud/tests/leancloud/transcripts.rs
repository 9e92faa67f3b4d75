//! What the transcript tests share: reading curl command lines and the transcript files
//! beside the workspace.

use std::path::PathBuf;

/// Words of a command line: split at blanks, except inside single quotes, which go
/// (`''` is an empty word).
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        if c == '\'' {
            quoted = !quoted;
            current.get_or_insert_with(String::new);
        } else if c.is_whitespace() && !quoted {
            words.extend(current.take());
        } else {
            current.get_or_insert_with(String::new).push(c);
        }
    }
    words.extend(current);
    words
}

/// A file of `../shared` (path relative to this crate), when this checkout has it; `None`
/// (with a note on stderr) when not, so that tests pass without it.
pub fn shared_file(relative: &str) -> Option<String> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    match std::fs::read_to_string(&file) {
        Ok(text) => Some(text),
        Err(_) => {
            eprintln!(
                "{} not found: the hard-coded table stands in for it",
                file.display()
            );
            None
        }
    }
}
