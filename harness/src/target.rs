//! Where tests run ([`Target`], `LC_TARGET`), how stacks are shared ([`StackMode`],
//! `LC_STACK`), and why a target could not start ([`StartError`]).

use std::fmt;

/// Where tests run (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The in-process emulator.
    Mock,
    /// `lc-mock serve` and `cloud-engine` as processes.
    Stack,
    /// A deployed LeanCloud-compatible app.
    Remote,
}

impl Target {
    /// The target `LC_TARGET` names (unset or empty: `mock`).
    pub fn from_env() -> Result<Target, StartError> {
        Target::from_vars(|name| std::env::var(name).ok())
    }

    /// [`Target::from_env`] over any source of variables.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Target, StartError> {
        match var("LC_TARGET") {
            None => Ok(Target::Mock),
            Some(name) if name.trim().is_empty() => Ok(Target::Mock),
            Some(name) => Target::parse(&name),
        }
    }

    /// A target by name.
    pub fn parse(name: &str) -> Result<Target, StartError> {
        match name.trim() {
            "mock" => Ok(Target::Mock),
            "stack" => Ok(Target::Stack),
            "remote" => Ok(Target::Remote),
            other => Err(StartError::UnknownTarget(other.to_string())),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Target::Mock => "mock",
            Target::Stack => "stack",
            Target::Remote => "remote",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a target could not be started or reached. Its text never contains a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// `LC_TARGET` names no target.
    UnknownTarget(String),
    /// `LC_STACK` names no way of sharing stacks.
    UnknownStackMode(String),
    /// The remote settings are missing, wrong or refused (production).
    Config(String),
    /// The stack could not be built or started.
    Stack(String),
    /// The in-process emulator could not be set up.
    Mock(String),
    /// The remote app does not answer or refuses the keys.
    Unreachable(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::UnknownTarget(name) => write!(
                f,
                "LC_TARGET={name:?} is not a target; use `mock` (the default: the in-process \
                 emulator), `stack` (lc-mock serve and cloud-engine as processes) or `remote` \
                 (a deployed app: see harness/README.md)"
            ),
            StartError::UnknownStackMode(name) => write!(
                f,
                "LC_STACK={name:?} is not a way of sharing stacks; use `fresh` (the default: \
                 one stack per TestApp) or `shared` (one per test process)"
            ),
            StartError::Config(text) => write!(f, "LC_TARGET=remote: {text}"),
            StartError::Stack(text) => write!(f, "LC_TARGET=stack: {text}"),
            StartError::Mock(text) => write!(f, "LC_TARGET=mock: {text}"),
            StartError::Unreachable(text) => write!(f, "LC_TARGET=remote: {text}"),
        }
    }
}

impl std::error::Error for StartError {}

/// How stack targets are shared within a test process (`LC_STACK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackMode {
    /// One stack per `TestApp` (default).
    Fresh,
    /// One stack per test process.
    Shared,
}

impl StackMode {
    /// The mode `LC_STACK` names (unset or empty: `fresh`).
    pub fn from_env() -> Result<StackMode, StartError> {
        match std::env::var("LC_STACK").ok().as_deref().map(str::trim) {
            None | Some("") | Some("fresh") => Ok(StackMode::Fresh),
            Some("shared") => Ok(StackMode::Shared),
            Some(other) => Err(StartError::UnknownStackMode(other.to_string())),
        }
    }
}
