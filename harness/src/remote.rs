//! The `remote` target's settings: which deployed LeanCloud-compatible app to use and
//! with which keys, from environment variables or a profile of a TOML file, with the
//! production guard. The keys are [`Secret`]s: nothing this module prints or returns as
//! text contains them.

use std::fmt;

/// A key that must not be shown: its `Debug` and `Display` are `[redacted]`. Read it with
/// [`Secret::expose`] only where it goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The key itself, for a request header. Never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The environment variables the remote target reads.
pub mod vars {
    /// A TOML file of named profiles.
    pub const CONFIG: &str = "LC_CONFIG";
    /// Which profile of [`CONFIG`] to use (default [`super::DEFAULT_PROFILE`]). Also names
    /// the settings given by the variables alone, for the production guard.
    pub const PROFILE: &str = "LC_PROFILE";
    pub const SERVER_URL: &str = "LC_SERVER_URL";
    pub const APP_ID: &str = "LC_APP_ID";
    pub const APP_KEY: &str = "LC_APP_KEY";
    pub const MASTER_KEY: &str = "LC_MASTER_KEY";
    pub const HOOK_KEY: &str = "LC_HOOK_KEY";
    /// `yes` lets the suite run against a production app.
    pub const ALLOW_PRODUCTION: &str = "LC_ALLOW_PRODUCTION";
}

/// The profile used when `LC_CONFIG` is set and `LC_PROFILE` is not.
pub const DEFAULT_PROFILE: &str = "test";

/// The profile name that is always taken for production.
pub const PRODUCTION: &str = "production";

/// A deployed app to run against. `Debug` and `Display` show the server, the app id and
/// the profile, never a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteConfig {
    /// The profile these settings came from (`None`: variables only, no `LC_PROFILE`).
    pub profile: Option<String>,
    /// The app's API server, e.g. `https://abcdefgh.api.lncldglobal.com`.
    pub server_url: String,
    pub app_id: String,
    pub app_key: Secret,
    pub master_key: Secret,
    /// Only needed by requests that send `X-LC-Hook-Key` themselves.
    pub hook_key: Option<Secret>,
    /// A production app: refused unless `LC_ALLOW_PRODUCTION=yes`.
    pub production: bool,
}

impl fmt::Display for RemoteConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "app {} at {}", self.app_id, self.server_url)?;
        if let Some(profile) = &self.profile {
            write!(f, " (profile {profile})")?;
        }
        Ok(())
    }
}

/// What a profile of the file may set; every field may also come from its variable.
#[derive(Default)]
struct Partial {
    server_url: Option<String>,
    app_id: Option<String>,
    app_key: Option<Secret>,
    master_key: Option<Secret>,
    hook_key: Option<Secret>,
    production: bool,
}

impl RemoteConfig {
    /// The settings from the process environment (see [`RemoteConfig::from_vars`]).
    pub fn from_env() -> Result<RemoteConfig, String> {
        RemoteConfig::from_vars(|name| std::env::var(name).ok())
    }

    /// The settings from a source of variables: the profile `LC_PROFILE` (default
    /// `test`) of the file `LC_CONFIG` when it is set, then each of `LC_SERVER_URL`,
    /// `LC_APP_ID`, `LC_APP_KEY`, `LC_MASTER_KEY`, `LC_HOOK_KEY` that is set replaces the
    /// profile's value. Empty values count as unset. A production app (profile
    /// `production`, or `production = true`) is refused unless
    /// `LC_ALLOW_PRODUCTION=yes`. Error messages name variables, files and profiles,
    /// never a key.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<RemoteConfig, String> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let file = get(vars::CONFIG);
        let profile = get(vars::PROFILE).or_else(|| file.as_ref().map(|_| DEFAULT_PROFILE.into()));
        let mut partial = match (&file, &profile) {
            (Some(path), Some(profile)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    format!(
                        "{}={path}: the profiles file cannot be read: {e}",
                        vars::CONFIG
                    )
                })?;
                profile_from_toml(&text, profile).map_err(|e| format!("{path}: {e}"))?
            }
            _ => Partial::default(),
        };
        let from = |what: &str| match (&file, &profile) {
            (Some(path), Some(profile)) => format!("{what} in profile [{profile}] of {path}"),
            _ => what.to_string(),
        };
        if let Some(v) = get(vars::SERVER_URL) {
            partial.server_url = Some(v);
        }
        if let Some(v) = get(vars::APP_ID) {
            partial.app_id = Some(v);
        }
        if let Some(v) = get(vars::APP_KEY) {
            partial.app_key = Some(Secret::new(v));
        }
        if let Some(v) = get(vars::MASTER_KEY) {
            partial.master_key = Some(Secret::new(v));
        }
        if let Some(v) = get(vars::HOOK_KEY) {
            partial.hook_key = Some(Secret::new(v));
        }
        let missing = |field: &str, var: &str| {
            format!(
                "LC_TARGET=remote needs {field}: set {var} or {}",
                from(&format!("`{field}`"))
            )
        };
        let config = RemoteConfig {
            server_url: partial
                .server_url
                .ok_or_else(|| missing("server_url", vars::SERVER_URL))?
                .trim_end_matches('/')
                .to_string(),
            app_id: partial
                .app_id
                .ok_or_else(|| missing("app_id", vars::APP_ID))?,
            app_key: partial
                .app_key
                .ok_or_else(|| missing("app_key", vars::APP_KEY))?,
            master_key: partial
                .master_key
                .ok_or_else(|| missing("master_key", vars::MASTER_KEY))?,
            hook_key: partial.hook_key,
            production: partial.production || profile.as_deref() == Some(PRODUCTION),
            profile: profile.clone(),
        };
        if !(config.server_url.starts_with("http://") || config.server_url.starts_with("https://"))
        {
            return Err(format!(
                "the server URL {:?} ({}) must start with http:// or https://",
                config.server_url,
                from("`server_url`")
            ));
        }
        if config.production && get(vars::ALLOW_PRODUCTION).as_deref() != Some("yes") {
            return Err(format!(
                "refusing to run against {config}: it is a production app, and the suite \
                 creates and deletes data. Use a test or development profile, or set {}=yes \
                 if you really mean it",
                vars::ALLOW_PRODUCTION
            ));
        }
        Ok(config)
    }
}

fn parse_toml(text: &str) -> Result<toml::Table, String> {
    // The parser's own Display quotes the offending line, which may hold a key; only its
    // message and the line number are used.
    text.parse::<toml::Table>().map_err(|e| {
        let line = e.span().map(|span| {
            let before = text.get(..span.start).unwrap_or(text);
            before.matches('\n').count() + 1
        });
        match line {
            Some(line) => format!("line {line}: {}", e.message().trim()),
            None => e.message().trim().to_string(),
        }
    })
}

/// One profile of a profiles file. Only the shapes are reported on error, never values.
fn profile_from_toml(text: &str, profile: &str) -> Result<Partial, String> {
    let table = parse_toml(text)?;
    let Some(section) = table.get(profile) else {
        let known: Vec<&str> = table.keys().map(String::as_str).collect();
        return Err(format!(
            "no profile [{profile}] (the file has: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ));
    };
    let Some(section) = section.as_table() else {
        return Err(format!("[{profile}] must be a table of settings"));
    };
    let mut partial = Partial::default();
    for (key, value) in section {
        let text = || {
            value
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("[{profile}] {key} must be a string"))
        };
        match key.as_str() {
            "server_url" => partial.server_url = Some(text()?),
            "app_id" => partial.app_id = Some(text()?),
            "app_key" => partial.app_key = Some(Secret::new(text()?)),
            "master_key" => partial.master_key = Some(Secret::new(text()?)),
            "hook_key" => partial.hook_key = Some(Secret::new(text()?)),
            "production" => {
                partial.production = value
                    .as_bool()
                    .ok_or_else(|| format!("[{profile}] production must be true or false"))?
            }
            other => {
                return Err(format!(
                    "[{profile}] has an unknown setting `{other}` (expected one of: server_url, \
                     app_id, app_key, master_key, hook_key, production)"
                ));
            }
        }
    }
    // Blank values count as unset, as for the variables.
    partial.server_url = partial.server_url.filter(|v| !v.trim().is_empty());
    partial.app_id = partial.app_id.filter(|v| !v.trim().is_empty());
    partial.app_key = partial.app_key.filter(|v| !v.0.trim().is_empty());
    partial.master_key = partial.master_key.filter(|v| !v.0.trim().is_empty());
    partial.hook_key = partial.hook_key.filter(|v| !v.0.trim().is_empty());
    Ok(partial)
}
