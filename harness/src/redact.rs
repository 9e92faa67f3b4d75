//! The shared insta settings ([`redactions`]): generated values (ids, dates, tokens, run
//! prefixes) become placeholders, so snapshots are stable on every target.

/// Shared insta settings: generated values are replaced by placeholders and maps are
/// sorted, so the same behaviour gives the same snapshot on every target.
pub fn redactions() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_sort_maps(true);
    s.add_redaction(".**.objectId", "[objectId]");
    s.add_redaction(".**.createdAt", "[date]");
    s.add_redaction(".**.updatedAt", "[date]");
    s.add_redaction(".**.sessionToken", "[token]");
    s.add_redaction(".**.iso", "[date]");
    // Traces: how long a hook took, and object ids inside request lines.
    s.add_redaction(".**.duration_us", "[us]");
    s.add_redaction(
        ".**.request",
        insta::dynamic_redaction(|value, _path| match value.as_str() {
            Some(line) => insta::internals::Content::from(redact_ids(line)),
            None => value,
        }),
    );
    // Run prefixes in any string (usernames, names), so runs snapshot alike.
    s.add_redaction(
        ".**",
        insta::dynamic_redaction(|value, _path| redact_content(value)),
    );
    s
}

/// `value` with [`redact_prefixes`] applied to every string in it.
fn redact_content(value: insta::internals::Content) -> insta::internals::Content {
    use insta::internals::Content;
    match value {
        Content::String(s) => Content::String(redact_prefixes(&s)),
        Content::Seq(items) => Content::Seq(items.into_iter().map(redact_content).collect()),
        Content::Map(entries) => Content::Map(
            entries
                .into_iter()
                .map(|(k, v)| (redact_content(k), redact_content(v)))
                .collect(),
        ),
        other => other,
    }
}

/// `text` with every object id (24 lowercase hex digits) replaced by `[objectId]`.
pub fn redact_ids(text: &str) -> String {
    static ID: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let id = ID.get_or_init(|| regex::Regex::new(r"\b[0-9a-f]{24}\b").expect("a valid regex"));
    id.replace_all(text, "[objectId]").into_owned()
}

/// `text` with every run prefix ([`TestApp::prefix`](crate::TestApp::prefix)) replaced by `[prefix]_`.
pub fn redact_prefixes(text: &str) -> String {
    static PREFIX: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let prefix =
        PREFIX.get_or_init(|| regex::Regex::new(r"\bt[0-9a-f]{8}_").expect("a valid regex"));
    prefix.replace_all(text, "[prefix]_").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redactions_hide_generated_values() {
        let value = json!({"objectId": "5d8307fd17b54d0068f1aa87", "n": 1,
            "nested": {"createdAt": "2019-09-19T04:45:49.090Z", "sessionToken": "abc"},
            "users": [{"username": "t0a1b2c3d_anna"}, {"username": "anna.schmidt"}]});
        redactions().bind(|| {
            insta::assert_json_snapshot!(value, @r#"
            {
              "n": 1,
              "nested": {
                "createdAt": "[date]",
                "sessionToken": "[token]"
              },
              "objectId": "[objectId]",
              "users": [
                {
                  "username": "[prefix]_anna"
                },
                {
                  "username": "anna.schmidt"
                }
              ]
            }
            "#);
        });
    }
}
