//! `cloud-engine`: the app's cloud code ([`cloud::registry`]) served over LeanCloud's
//! engine protocol, as a deployed engine would serve it.
//!
//! Reads the real engines' variables (`LEANCLOUD_APP_ID`, `LEANCLOUD_APP_KEY`,
//! `LEANCLOUD_APP_MASTER_KEY`, `LEANCLOUD_APP_HOOK_KEY`, `LEANCLOUD_APP_PORT` (default
//! 3000; 0 = any free port), `LEANCLOUD_API_SERVER`), listens on 127.0.0.1 and prints
//! exactly one line, its URL, when ready.

use leancloud::engine::{EngineConfig, serve};
use std::io::Write;
use std::process::ExitCode;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match EngineConfig::from_env() {
        Ok(config) => config,
        Err(problem) => {
            eprintln!("cloud-engine: {problem}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(("127.0.0.1", config.port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!(
                "cloud-engine: cannot listen on 127.0.0.1:{}: {e}",
                config.port
            );
            return ExitCode::FAILURE;
        }
    };
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    println!("http://{addr}");
    let _ = std::io::stdout().flush();
    tokio::select! {
        served = serve(listener, cloud::registry(), config) => match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("cloud-engine: {e}");
                ExitCode::FAILURE
            }
        },
        _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
    }
}
