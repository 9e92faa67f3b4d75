//! The stack target: `lc-mock serve` and the app's `cloud-engine` as two processes, wired
//! by the real hook protocol. The first test to start a stack builds both programs.
//!
//! `cargo test -p system --test system targets::stack -- --nocapture` prints the start-up times.

use super::flow::{KUANZHAI_HOT_POT, cleanup_leaves_nothing, counters, review_flow};
use harness::{Caller, StackMode, Target, TestApp};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_write_fires_its_hooks_through_the_engine_process_and_cleanup_leaves_nothing() {
    let began = Instant::now();
    let app = stack(StackMode::Fresh).await;
    eprintln!(
        "stack: TestApp ready in {:?} (of which starting the processes {:?})",
        began.elapsed(),
        app.started_in()
    );
    assert_eq!(app.target(), Target::Stack);
    assert!(app.mock().is_none());
    let engine = app.engine_url().expect("a stack has an engine").to_string();
    assert_ne!(engine, app.server_url());

    let before = counters(&app, KUANZHAI_HOT_POT).await;
    assert_eq!(before, (0, 0), "a fresh stack starts on the fixtures");
    review_flow(&app).await;

    // The hooks ran in the engine process: lc-mock's traces show them with the engine's
    // answers.
    let traces = app.traces().expect("the stack keeps traces");
    let hooks: Vec<String> = traces
        .iter()
        .flat_map(|t| t["hooks"].as_array().cloned().unwrap_or_default())
        .map(|h| format!("{} {}", h["class"].as_str().unwrap_or(""), h["hook"]))
        .collect();
    for expected in [
        "_User \"beforeSave\"",
        "Review \"beforeSave\"",
        "Review \"afterSave\"",
    ] {
        assert!(
            hooks.iter().any(|h| h == expected),
            "no {expected} in the traces: {hooks:?}"
        );
    }

    cleanup_leaves_nothing(&app, before).await;
}

#[tokio::test]
async fn a_dropped_stack_stops_both_processes() {
    let app = stack(StackMode::Fresh).await;
    let url = app.server_url().to_string();
    let engine = app.engine_url().unwrap().to_string();
    let answer = app.send(&Caller::Anonymous, "GET", "/1.1/date", None).await;
    answer.assert_status(200);
    drop(app);
    // Both ports refuse connections once the processes are gone.
    for base in [url, engine] {
        let addr = base.trim_start_matches("http://").to_string();
        let refused = harness::try_eventually(Duration::from_secs(5), || {
            let addr = addr.clone();
            async move {
                match tokio::net::TcpStream::connect(&addr).await {
                    Ok(_) => Err(format!("{addr} still accepts connections")),
                    Err(_) => Ok(()),
                }
            }
        })
        .await;
        assert_eq!(refused, Ok(()));
    }
}

#[tokio::test]
async fn a_shared_stack_is_started_once_per_process() {
    let first = stack(StackMode::Shared).await;
    let began = Instant::now();
    let second = stack(StackMode::Shared).await;
    eprintln!(
        "shared stack: first TestApp {:?}, second {:?}",
        first.started_in(),
        began.elapsed()
    );
    assert_eq!(first.server_url(), second.server_url());
    assert_ne!(first.prefix(), second.prefix());
    // Two runs on one app see only their own users by prefix.
    let user = first
        .send(
            &Caller::Anonymous,
            "POST",
            "/1.1/users",
            Some(&serde_json::json!({"username": first.name("one"), "password": "pw"})),
        )
        .await;
    user.assert_status(201);
    assert_eq!(first.leftovers().await.len(), 1);
    assert!(second.leftovers().await.is_empty());
    assert_eq!(first.cleanup().await, Ok(1));
    assert!(first.leftovers().await.is_empty());
}

/// The app on a stack in `mode`, whatever `LC_TARGET` and `LC_STACK` say.
async fn stack(mode: StackMode) -> TestApp {
    system::app()
        .target(Target::Stack)
        .stack_mode(mode)
        .start()
        .await
}
