//! Snapshot review of the engine's answers: every request file under `fixtures/hooks/`
//! (format: `fixtures/hooks/README.md`) runs on a fresh emulator and engine, and the
//! answer (status, body, and the objects the case inspects) is a snapshot in
//! `tests/snapshots/`, with the shared redactions (ids, dates, tokens) and the seeded
//! ids written as `@id:<name>`.
//!
//! This file holds nothing but the `glob!` test: insta's glob collects failures from
//! every thread of its process, so it gets a process of its own.

#[path = "cloud/support.rs"]
mod support;

/// Every fixture answers as its snapshot says.
#[test]
fn fixtures() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    insta::glob!("../../fixtures/hooks", "**/*.json", |path| {
        let outcome = runtime.block_on(support::run_fixture(path));
        let mut settings = harness::redactions();
        settings.set_description(outcome.about);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_json_snapshot!(outcome.answer));
    });
}
