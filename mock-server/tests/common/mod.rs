//! What the replay test files share: the fresh app each case runs in, and the command
//! run in-process.

use mock_server::api::Api;
use mock_server::replay::{self, ReplayOptions};
use std::sync::Arc;

/// A fresh app without cloud code, as `lc-mock replay` builds for each case.
pub fn fresh() -> Arc<Api> {
    replay::fresh_app(None)
}

/// Run `lc-mock replay` in-process: (exit code, stdout, stderr).
pub fn run(args: &ReplayOptions) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = replay::run(args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).expect("stdout is UTF-8"),
        String::from_utf8(err).expect("stderr is UTF-8"),
    )
}
