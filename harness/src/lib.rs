//! # harness
//!
//! What test code imports: one [`TestApp`] per test or scenario, on the target the
//! environment names, requests sent as a chosen caller ([`Caller`], `leancloud`'s), answers checked with
//! [`Answer::assert_error`], after-hooks waited for ([`TestApp::idle`],
//! [`eventually`]), what the run created deleted at the end ([`TestApp::cleanup`],
//! [`TestApp::leftovers`]), and the shared insta settings ([`redactions`]) that hide
//! generated values so snapshots are stable.
//!
//! # Which app, and where
//!
//! The harness knows no app. A crate that does describes it once with
//! [`TestApp::builder`] (its cloud code as a registry, its database settings, the engine
//! program the `stack` target runs; see [`Builder`]) and starts every `TestApp` from
//! that: the system suite's is `system::app()`, the app's own tests have theirs in
//! `cloud/tests/cloud/support.rs`. [`Builder::start`] reads `LC_TARGET` unless
//! [`Builder::target`] names one:
//!
//! | `LC_TARGET` | what runs | requests | after-hooks ([`TestApp::idle`]) | [`TestApp::traces`] |
//! |---|---|---|---|---|
//! | `mock` (default) | the emulator in this process with the builder's registry on its settings; fresh per `TestApp` | in-process, no socket ([`Builder::over_http`]: over wiremock's HTTP front) | waited for in-process | the emulator's |
//! | `stack` | `lc-mock serve` and the builder's engine program as two processes on 127.0.0.1, wired by the real hook protocol (see below) | HTTP | `POST /__mock/idle` | `GET /__mock/traces` |
//! | `remote` | a deployed LeanCloud-compatible app (see `harness/README.md`: variables, profiles file, production guard) | HTTP | nothing to wait on: returns at once; use [`eventually`] | `None` |
//!
//! Requests go out as a chosen caller: raw with [`TestApp::send`], or typed with
//! [`TestApp::client`] (a [`leancloud::client::Client`] on the same route). An unknown
//! `LC_TARGET` stops the test with the list of targets. Mock-only steps use
//! [`TestApp::mock`] (an `Option`) or [`TestApp::emulator`] (panics elsewhere, naming the
//! target).
//!
//! ## The stack target
//!
//! The first `TestApp` of a test process builds both programs (`cargo build -p lc-mock
//! --bin lc-mock -p <package> --bin <engine>`, the engine the builder names, e.g. `-p
//! cloud --bin cloud-engine`, quietly; the executables are the ones cargo reports, so
//! `CARGO_TARGET_DIR` is respected; `LC_STACK_BIN_DIR=<dir>` takes `<dir>/lc-mock` and
//! `<dir>/<engine>` as they are). Then the engine starts with
//! `LEANCLOUD_APP_ID`/`_KEY`/`_MASTER_KEY`/`_HOOK_KEY`, `LEANCLOUD_APP_PORT=0` and
//! `LEANCLOUD_API_SERVER` pointing at a free port, and is ready when it answers `GET
//! /__engine/1/ping`; then `lc-mock serve --port <that port> --engine <engine URL>
//! --fixtures <settings>`, ready when it prints its URL. Each wait is bounded by
//! `LC_STACK_STARTUP_TIMEOUT` seconds (default 30) and fails naming the program with the
//! end of its stderr. Both processes stop when their owner is dropped and never outlive
//! the test process (a watchdog per process ends it when the test process ends, whatever
//! the way). Without an engine program the stack is `lc-mock serve` alone.
//!
//! `LC_STACK` chooses how stacks are shared:
//!
//! - `fresh` (default): every `TestApp` starts its own stack, so every test or scenario
//!   begins on the fixtures, exactly as on `mock`, and scenarios may run concurrently.
//!   Measured on the 2-core machine CI uses, with the programs built: 75 ms per stack
//!   one after another, 8 stacks started at once in 0.33 s (an in-process `mock` app:
//!   27 ms); the first stack of a process adds cargo's up-to-date check, about 0.2 s.
//! - `shared`: one stack per test process (and app description), started by the first
//!   `TestApp`; runs are kept apart by their prefix and cleanup only, as on a remote
//!   app. There is no reset between tests: `POST /__mock/reset` would wipe the data of
//!   tests running at the same time (the Gherkin runner runs 8 scenarios at once). Only
//!   tests written for a shared app pass there: a test that changes or counts the
//!   fixtures' rows sees the other tests' changes, as it would on a remote app.
//!
//! # A run's own data
//!
//! Every `TestApp` has a [`prefix`](TestApp::prefix) (`t` + 8 hex digits + `_`) for the
//! usernames, role names and other names it makes ([`TestApp::name`]), so that runs
//! sharing an app neither collide nor see each other's rows. Every object the run
//! creates through the `TestApp` is recorded: a `201` with an `objectId` to `POST
//! /1.1/classes/<C>`, `/1.1/users` or `/1.1/roles`, and such items of `/1.1/batch`.
//! Objects made another way (by a cloud function, say) can be added with
//! [`TestApp::track`]. [`TestApp::cleanup`] deletes them all with the master key, newest
//! first (so hooks see a consistent app: a review goes before its author), plus every
//! user and role whose name starts with the prefix; [`TestApp::leftovers`] lists what of
//! the run still exists. On a shared target (`remote`, `stack` with `LC_STACK=shared`)
//! dropping a `TestApp` that wrote anything runs the cleanup too, so a failing test
//! cleans up after itself; on `mock` and a fresh stack the whole app goes away instead.
//!
//! # Waiting for after-hooks
//!
//! After-hooks run after the answer. On `mock` and `stack` [`TestApp::idle`] waits until
//! every after-hook, and everything it caused, has finished. A deployed app has no such
//! call, so on `remote` `idle` is a documented no-op (it does not sleep): a check that
//! depends on an after-hook goes through [`eventually`], which polls it until it holds or
//! a deadline passes, and works on every target.
//!
//! # Keys
//!
//! Keys never appear in what this crate prints: [`RemoteConfig`]'s `Debug` and `Display`
//! show `[redacted]` ([`Secret`]), `TestApp`'s `Debug` shows the target, URL and prefix,
//! and no message or panic of this crate includes a key.
//!
//! # Layout
//!
//! - `test_app`: [`TestApp`] itself and [`Leftover`]; `builder`: [`Builder`], the app to
//!   start; `target`: [`Target`], [`StackMode`] and [`StartError`].
//! - `wire`: how requests reach the target (keys, route, recorder case) and the
//!   master-key requests the harness makes itself; `track`: what a run created.
//! - `stack`: the `lc-mock serve` and engine processes; `remote`: a deployed app's
//!   settings and the production guard.
//! - `answer`: [`Answer`] and its checks; `wait`: [`eventually`]; `redact`: the insta
//!   settings ([`redactions`]).

mod answer;
mod builder;
mod redact;
mod remote;
mod stack;
mod target;
mod test_app;
mod track;
mod wait;
mod wire;

pub use answer::Answer;
pub use builder::{Builder, EngineProgram};
pub use leancloud::Caller;
pub use mock_server::api::faults::Fault;
pub use redact::{redact_ids, redact_prefixes, redactions};
pub use remote::{DEFAULT_PROFILE, PRODUCTION, RemoteConfig, Secret, vars};
pub use target::{StackMode, StartError, Target};
pub use test_app::{Leftover, TestApp};
pub use wait::{eventually, try_eventually};
