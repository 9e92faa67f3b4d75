//! `cloud-engine`: the app's cloud code ([`cloud::registry`]) served over LeanCloud's
//! engine protocol, as a deployed engine would serve it.
//!
//! ```text
//! cloud-engine [--record FILE]
//! ```
//!
//! Reads the real engines' variables (`LEANCLOUD_APP_ID`, `LEANCLOUD_APP_KEY`,
//! `LEANCLOUD_APP_MASTER_KEY`, `LEANCLOUD_APP_HOOK_KEY`, `LEANCLOUD_APP_PORT` (default
//! 3000; 0 = any free port), `LEANCLOUD_API_SERVER`), listens on 127.0.0.1 and prints
//! exactly one line, its URL, when ready.
//!
//! `--record FILE` (or `CLOUD_ENGINE_RECORD=FILE`; the option wins) appends every request
//! the engine receives (hook calls, function calls, metadatas, ping) and its answer to
//! FILE, one exchange of the recordings format (`mock-server/RECORDINGS.md`) per line,
//! flushed as each is answered; suite `engine`, cases named after what was called
//! (`Review/beforeSave`, `functions/<name>`, ...). The app id, keys and hook key never
//! reach the file. On Ctrl-C (or SIGTERM) it prints `cloud-engine: recorded <summary> to
//! FILE` on stderr and exits 0.
//!
//! Exit status: 0 when stopped by Ctrl-C (or SIGTERM while recording), 2 for an unknown
//! argument or a missing variable, 1 when it cannot listen or open the recording.

use leancloud::engine::{EngineConfig, serve, serve_recording};
use leancloud::recording::{MIN_SECRET_LEN, Writer};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::net::TcpListener;

const USAGE: &str = "usage: cloud-engine [--record FILE]

Serves the app's cloud code over LeanCloud's engine protocol on 127.0.0.1 and prints
its URL. Configured by LEANCLOUD_APP_ID, LEANCLOUD_APP_KEY, LEANCLOUD_APP_MASTER_KEY,
LEANCLOUD_APP_HOOK_KEY, LEANCLOUD_APP_PORT (default 3000; 0 = any free port) and
LEANCLOUD_API_SERVER.

  --record FILE   append every request received and its answer to FILE (recordings
                  format; also CLOUD_ENGINE_RECORD=FILE); Ctrl-C prints a summary";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    Serve { record: Option<PathBuf> },
    Help,
}

/// Read the arguments (without the program name); `env_record` is `CLOUD_ENGINE_RECORD`.
fn parse(
    args: impl IntoIterator<Item = String>,
    env_record: Option<String>,
) -> Result<Command, String> {
    let mut record = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--record" => match args.next() {
                Some(file) if !file.is_empty() => record = Some(PathBuf::from(file)),
                _ => return Err("--record needs a FILE".into()),
            },
            _ => match arg.strip_prefix("--record=") {
                Some("") => return Err("--record needs a FILE".into()),
                Some(file) => record = Some(PathBuf::from(file)),
                None => return Err(format!("unknown argument {arg:?}")),
            },
        }
    }
    let record = record.or_else(|| {
        env_record
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
    });
    Ok(Command::Serve { record })
}

#[tokio::main]
async fn main() -> ExitCode {
    let record = match parse(
        std::env::args().skip(1),
        std::env::var("CLOUD_ENGINE_RECORD").ok(),
    ) {
        Ok(Command::Serve { record }) => record,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("cloud-engine: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = match EngineConfig::from_env() {
        Ok(config) => config,
        Err(problem) => {
            eprintln!("cloud-engine: {problem}");
            return ExitCode::from(2);
        }
    };
    let recording = match record {
        None => None,
        Some(path) => match Writer::append(&path) {
            Ok(writer) => Some((Arc::new(writer), path)),
            Err(e) => {
                eprintln!(
                    "cloud-engine: cannot open {} to record: {e}",
                    path.display()
                );
                return ExitCode::FAILURE;
            }
        },
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
    let Some((writer, path)) = recording else {
        println!("http://{addr}");
        let _ = std::io::stdout().flush();
        return tokio::select! {
            served = serve(listener, cloud::registry(), config) => served_status(served),
            _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
        };
    };
    warn_short_keys(&config);
    eprintln!(
        "cloud-engine: recording every request to {}",
        path.display()
    );
    // Listen for Ctrl-C and SIGTERM before anyone can know where to send requests.
    let stop = leancloud::engine::stop_signal();
    println!("http://{addr}");
    let _ = std::io::stdout().flush();
    let status = tokio::select! {
        served = serve_recording(listener, cloud::registry(), config, writer.clone()) => {
            served_status(served)
        }
        () = stop => ExitCode::SUCCESS,
    };
    eprintln!(
        "cloud-engine: recorded {} to {}",
        writer.summary(),
        path.display()
    );
    status
}

fn served_status(served: std::io::Result<()>) -> ExitCode {
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cloud-engine: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Keys this short are not searched for in the recording's lines (see
/// [`leancloud::recording::MIN_SECRET_LEN`]); say so rather than leave one in the file.
fn warn_short_keys(config: &EngineConfig) {
    let keys = [
        ("LEANCLOUD_APP_ID", Some(&config.app_id)),
        ("LEANCLOUD_APP_KEY", Some(&config.app_key)),
        ("LEANCLOUD_APP_MASTER_KEY", Some(&config.master_key)),
        ("LEANCLOUD_APP_HOOK_KEY", config.hook_key.as_ref()),
    ];
    for (name, value) in keys {
        if let Some(value) = value
            && value.trim().len() < MIN_SECRET_LEN
        {
            eprintln!(
                "cloud-engine: warning: {name} is shorter than {MIN_SECRET_LEN} characters; \
                 it is not redacted where a body or answer repeats it"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn record_comes_from_the_option_or_the_environment() {
        let serve = |file: Option<&str>| {
            Ok(Command::Serve {
                record: file.map(PathBuf::from),
            })
        };
        assert_eq!(parse(args(&[]), None), serve(None));
        assert_eq!(
            parse(args(&["--record", "a.jsonl"]), None),
            serve(Some("a.jsonl"))
        );
        assert_eq!(
            parse(args(&["--record=b.jsonl"]), None),
            serve(Some("b.jsonl"))
        );
        assert_eq!(
            parse(args(&[]), Some("env.jsonl".into())),
            serve(Some("env.jsonl"))
        );
        assert_eq!(parse(args(&[]), Some(" ".into())), serve(None));
        assert_eq!(
            parse(args(&["--record", "a.jsonl"]), Some("env.jsonl".into())),
            serve(Some("a.jsonl"))
        );
        assert_eq!(parse(args(&["--help"]), None), Ok(Command::Help));
    }

    #[test]
    fn unknown_or_incomplete_arguments_are_refused() {
        assert!(parse(args(&["--recrod", "a"]), None).is_err());
        assert!(parse(args(&["serve"]), None).is_err());
        assert!(parse(args(&["--record"]), None).is_err());
        assert!(parse(args(&["--record="]), None).is_err());
    }
}
