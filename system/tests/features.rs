//! Runs every feature under `features/` on the target `LC_TARGET` names (default: the
//! in-process emulator). Undefined or skipped steps fail. A JUnit report is written to
//! `target/cucumber/junit.xml`.
//!
//! `cargo test` passes libtest arguments (filters, `--nocapture`) to every test binary;
//! those are dropped here, so cucumber's own options (`--tags`, `--name`) still work:
//! `cargo test -p system --test features -- --tags @smoke`.

use cucumber::cli::{self, Parser as _};
use cucumber::{World as _, WriterExt as _, writer};
use std::path::PathBuf;
use system::World;

/// libtest's flags that cucumber does not know.
const LIBTEST_FLAGS: &[&str] = &[
    "--nocapture",
    "--show-output",
    "--quiet",
    "-q",
    "--ignored",
    "--include-ignored",
    "--exact",
];

fn cucumber_args() -> Vec<String> {
    let mut out = Vec::new();
    let mut args = std::env::args();
    out.extend(args.next());
    let mut passthrough = false;
    let mut takes_value = false;
    for arg in args {
        if takes_value {
            out.push(arg);
            takes_value = false;
        } else if arg.starts_with('-') {
            if LIBTEST_FLAGS.contains(&arg.as_str())
                || arg.starts_with("--test-threads")
                || arg.starts_with("--format")
            {
                continue;
            }
            passthrough = true;
            takes_value = !arg.contains('=')
                && matches!(
                    arg.as_str(),
                    "--tags" | "-t" | "--name" | "-n" | "--input" | "-i" | "--concurrency" | "-c"
                );
            out.push(arg);
        } else if passthrough {
            out.push(arg);
        }
        // A bare word before any cucumber flag is a libtest name filter: dropped.
    }
    out
}

#[tokio::main]
async fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let report_dir = root.join("target").join("cucumber");
    std::fs::create_dir_all(&report_dir).expect("target/cucumber is writable");
    let junit = std::fs::File::create(report_dir.join("junit.xml")).expect("junit.xml is writable");
    World::cucumber()
        .max_concurrent_scenarios(8)
        .with_writer(
            writer::Basic::stdout()
                .summarized()
                .tee::<World, _>(writer::JUnit::for_tee(junit, 0))
                .normalized(),
        )
        .fail_on_skipped()
        .with_cli(cli::Opts::<_, _, _, cli::Empty>::parse_from(cucumber_args()))
        .run_and_exit(root.join("features"))
        .await;
}
