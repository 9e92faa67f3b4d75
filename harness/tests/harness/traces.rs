//! The redactions of traces' request lines.

#[test]
fn ids_in_request_lines_are_redacted() {
    assert_eq!(
        harness::redact_ids("PUT /1.1/classes/Post/6b05857f1ba0dd95c4b44c96?x=1"),
        "PUT /1.1/classes/Post/[objectId]?x=1"
    );
    assert_eq!(harness::redact_ids("GET /1.1/date"), "GET /1.1/date");
}
