//! Database settings from disk: a folder with one sub-folder per class, each holding
//! `schema.json`, `indexes.json`, `permissions.json` and `population.json` (all
//! optional). The format is documented in `fixtures/database_settings/README.md`; the
//! rules that parse and apply it are in [`lc_model::settings`].
//!
//! Errors name the file (or folder) and the problem, so a broken fixture says where to
//! look.

use crate::api::{Api, AppConfig};
use crate::http::wiremock::MockLeanCloud;
use lc_model::Store;
use lc_model::settings::{self, Applied, ClassFiles, ClassSpec, SettingsError, SettingsFile};
use std::fmt;
use std::path::{Path, PathBuf};

/// The settings of every class of an app, as read from a folder.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    /// The folder they were read from.
    pub dir: PathBuf,
    /// In class-name order.
    pub classes: Vec<ClassSpec>,
}

/// A settings folder that cannot be used: the path at fault and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: PathBuf,
    pub problem: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    fn new(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        LoadError {
            path: path.into(),
            problem: problem.into(),
        }
    }

    /// A model error, located in its class's folder under `dir`.
    fn located(dir: &Path, e: SettingsError) -> Self {
        let mut path = dir.join(&e.class);
        if let Some(file) = e.file {
            path.push(file.file_name());
        }
        let problem = if e.at.is_empty() {
            e.message
        } else {
            format!("at {}: {}", e.at, e.message)
        };
        LoadError { path, problem }
    }
}

/// Files that may sit beside the settings without being settings: notes and hidden
/// files (editor swap files, `.gitkeep`).
fn is_ignored(name: &str) -> bool {
    name.starts_with('.') || name.ends_with(".md")
}

/// The names in a folder, sorted, each with whether it is a folder.
fn entries(dir: &Path) -> Result<Vec<(String, bool)>, LoadError> {
    let read = std::fs::read_dir(dir)
        .map_err(|e| LoadError::new(dir, format!("cannot read the folder: {e}")))?;
    let mut out = Vec::new();
    for entry in read {
        let entry =
            entry.map_err(|e| LoadError::new(dir, format!("cannot read the folder: {e}")))?;
        let path = entry.path();
        let name = entry
            .file_name()
            .into_string()
            .map_err(|_| LoadError::new(&path, "the name is not UTF-8"))?;
        let is_dir = std::fs::metadata(&path)
            .map_err(|e| LoadError::new(&path, format!("cannot read: {e}")))?
            .is_dir();
        out.push((name, is_dir));
    }
    out.sort();
    Ok(out)
}

impl Settings {
    /// Read and check every class folder under `dir`.
    pub fn load(dir: impl AsRef<Path>) -> Result<Settings, LoadError> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(LoadError::new(
                dir,
                "not a folder (expected one folder per class)",
            ));
        }
        let mut classes = Vec::new();
        for (name, is_dir) in entries(dir)? {
            if is_ignored(&name) {
                continue;
            }
            if !is_dir {
                return Err(LoadError::new(
                    dir.join(&name),
                    "unexpected file: settings live in one folder per class (<Class>/schema.json, ...)",
                ));
            }
            classes.push(load_class(dir, &name)?);
        }
        Ok(Settings {
            dir: dir.to_path_buf(),
            classes,
        })
    }

    /// These settings without their rows: the classes' columns, indexes and permissions.
    pub fn without_population(&self) -> Settings {
        let mut out = self.clone();
        out.classes.iter_mut().for_each(|c| c.population.clear());
        out
    }

    /// Give a store these settings and rows (see [`lc_model::settings::apply`]).
    pub fn apply_to(&self, store: &mut Store) -> Result<Applied, LoadError> {
        settings::apply(store, &self.classes).map_err(|e| LoadError::located(&self.dir, e))
    }
}

fn load_class(dir: &Path, class: &str) -> Result<ClassSpec, LoadError> {
    let folder = dir.join(class);
    let mut files = ClassFiles::default();
    for (name, is_dir) in entries(&folder)? {
        if is_ignored(&name) {
            continue;
        }
        let path = folder.join(&name);
        let file = match SettingsFile::from_file_name(&name) {
            Some(file) if !is_dir => file,
            _ => {
                let expected: Vec<&str> = SettingsFile::ALL.iter().map(|f| f.file_name()).collect();
                return Err(LoadError::new(
                    path,
                    format!("unknown settings file (expected {})", expected.join(", ")),
                ));
            }
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| LoadError::new(&path, format!("cannot read: {e}")))?;
        let value = serde_json::from_str(&text)
            .map_err(|e| LoadError::new(&path, format!("invalid JSON: {e}")))?;
        *files.slot(file) = Some(value);
    }
    ClassSpec::parse(class, &files).map_err(|e| LoadError::located(dir, e))
}

impl Api {
    /// An app (system clock, random ids) holding `settings` and their rows.
    pub fn with_settings(config: AppConfig, settings: &Settings) -> Result<Api, LoadError> {
        let mut store = Store::default();
        settings.apply_to(&mut store)?;
        Ok(Api::with_store(config, store))
    }
}

impl MockLeanCloud {
    /// An app with the default keys, loaded from a settings folder.
    pub async fn start_with_settings(dir: impl AsRef<Path>) -> Result<MockLeanCloud, LoadError> {
        let settings = Settings::load(dir)?;
        let api = Api::with_settings(AppConfig::default(), &settings)?;
        Ok(MockLeanCloud::start_with(api).await)
    }
}

/// The app the database settings in `dir` make (default keys, system clock), loaded once
/// per process and kept: every call with the same folder returns the same app. It is
/// meant to be forked, never served or written to: a suite that gives each test a fresh
/// app with the same large settings calls
///
/// ```ignore
/// let app = Arc::new(mock_server::settings::shared_app(dir)?.fork());
/// app.attach_registry(registry)?;               // cloud code, if any
/// let lc = MockLeanCloud::start_shared(app).await;
/// ```
///
/// so the settings are read, checked and their passwords hashed once, and a fork costs
/// the same whatever their size ([`Api::fork`]). A folder that fails to load is not
/// kept: the next call tries again.
pub fn shared_app(dir: impl AsRef<Path>) -> Result<std::sync::Arc<Api>, LoadError> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static APPS: OnceLock<Mutex<HashMap<PathBuf, Arc<Api>>>> = OnceLock::new();
    let dir = dir.as_ref();
    let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    // Held while loading: a second test asking for the same folder waits for the first
    // load rather than doing it again.
    let mut apps = APPS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(app) = apps.get(&key) {
        return Ok(app.clone());
    }
    let settings = Settings::load(dir)?;
    let app = Arc::new(Api::with_settings(AppConfig::default(), &settings)?);
    apps.insert(key, app.clone());
    Ok(app)
}
