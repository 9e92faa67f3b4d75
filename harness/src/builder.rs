//! How a [`TestApp`] is started: which app runs on the targets that start one, and which
//! target. The harness knows no app; a crate that does (the system suite, the app's own
//! tests) describes it once and starts every `TestApp` from that description:
//!
//! ```no_run
//! # fn registry() -> leancloud::cloud::Registry { leancloud::cloud::Registry::new() }
//! # async fn example() {
//! use harness::TestApp;
//!
//! fn app() -> harness::Builder {
//!     TestApp::builder()
//!         .cloud(registry)                          // mock: the cloud code, in-process
//!         .settings("../fixtures/database_settings") // mock and stack: the app's data
//!         .engine("cloud", "cloud-engine")          // stack: the engine program to run
//! }
//!
//! let app = app().start().await;                    // the target LC_TARGET names
//! # }
//! ```
//!
//! | target | what the description gives it |
//! |---|---|
//! | `mock` | an emulator with the settings loaded and the registry attached, in-process |
//! | `stack` | `lc-mock serve --fixtures <settings> --engine <the engine program>`; the engine is built with `cargo build -p <package> --bin <bin>` |
//! | `remote` | nothing: a deployed app has its own cloud code and data |

use crate::test_app::Backend;
use crate::wire::{Keys, Route};
use crate::{RemoteConfig, Secret, StackMode, StartError, Target, TestApp, stack};
use leancloud::cloud::Registry;
use mock_server::MockLeanCloud;
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Makes the cloud code of a fresh app (every `TestApp` on `mock` gets its own registry).
type MakeRegistry = Arc<dyn Fn() -> Registry + Send + Sync>;

/// A cloud-engine program of the workspace: cargo package and binary. On the `stack`
/// target it is built and started beside `lc-mock serve`, with the engine environment
/// variables (`LEANCLOUD_APP_ID`, ..., `LEANCLOUD_APP_PORT=0`, `LEANCLOUD_API_SERVER`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EngineProgram {
    pub package: String,
    pub bin: String,
}

/// What a stack runs: the same description gives the same stack (for `LC_STACK=shared`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct StackSpec {
    pub settings: Option<PathBuf>,
    pub engine: Option<EngineProgram>,
}

/// Describes the app a [`TestApp`] runs, and where; [`TestApp::builder`] makes one.
/// Without [`Builder::cloud`], [`Builder::settings`] and [`Builder::engine`] it is an
/// empty app with no cloud code.
#[derive(Clone, Default)]
pub struct Builder {
    target: Option<Target>,
    stack_mode: Option<StackMode>,
    cloud: Option<MakeRegistry>,
    settings: Option<PathBuf>,
    engine: Option<EngineProgram>,
    over_http: bool,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("target", &self.target)
            .field("stack_mode", &self.stack_mode)
            .field("cloud", &self.cloud.as_ref().map(|_| "[registry]"))
            .field("settings", &self.settings)
            .field("engine", &self.engine)
            .field("over_http", &self.over_http)
            .finish()
    }
}

impl Builder {
    /// The app's cloud code on `mock`: `registry()` makes the registry each fresh app
    /// runs in-process (its storage calls come back without a socket).
    pub fn cloud(mut self, registry: impl Fn() -> Registry + Send + Sync + 'static) -> Self {
        self.cloud = Some(Arc::new(registry));
        self
    }

    /// The app's database settings folder (schema, indexes, permissions, rows; the format
    /// is in `fixtures/database_settings/README.md`), loaded once per test process on
    /// `mock` (`mock_server::settings::shared_app`), each `TestApp` getting a fork of it,
    /// and given to `lc-mock serve --fixtures` on `stack`. A relative path is taken from the test's
    /// working directory (its crate's folder under `cargo test`); `concat!(env!(
    /// "CARGO_MANIFEST_DIR"), "/../fixtures/database_settings")` names it from anywhere.
    pub fn settings(mut self, dir: impl Into<PathBuf>) -> Self {
        self.settings = Some(dir.into());
        self
    }

    /// The engine program serving the app's cloud code on `stack`: `cargo build -p
    /// <package> --bin <bin>` builds it. Without one the stack is `lc-mock serve` alone.
    pub fn engine(mut self, package: &str, bin: &str) -> Self {
        self.engine = Some(EngineProgram {
            package: package.to_string(),
            bin: bin.to_string(),
        });
        self
    }

    /// Start this target, whatever `LC_TARGET` says.
    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    /// Share stacks this way, whatever `LC_STACK` says (`stack` target only).
    pub fn stack_mode(mut self, mode: StackMode) -> Self {
        self.stack_mode = Some(mode);
        self
    }

    /// On `mock`, send requests over the emulator's HTTP front (wiremock, on a socket)
    /// instead of in-process. Requests and answers are the same either way; this is for
    /// measuring the front, or checking it.
    pub fn over_http(mut self) -> Self {
        self.over_http = true;
        self
    }

    /// Start or connect to the target (the one given, else `LC_TARGET`'s). Panics with
    /// the reason when it cannot.
    pub async fn start(self) -> TestApp {
        self.try_start().await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Builder::start`], with the reason as an error.
    pub async fn try_start(self) -> Result<TestApp, StartError> {
        let target = match self.target {
            Some(target) => target,
            None => Target::from_env()?,
        };
        match target {
            Target::Mock => self.start_mock().await,
            Target::Stack => {
                let mode = match self.stack_mode {
                    Some(mode) => mode,
                    None => StackMode::from_env()?,
                };
                self.start_stack(mode).await
            }
            Target::Remote => {
                TestApp::connect(RemoteConfig::from_env().map_err(StartError::Config)?).await
            }
        }
    }

    /// The in-process emulator with the settings loaded and the cloud code attached.
    async fn start_mock(self) -> Result<TestApp, StartError> {
        let began = Instant::now();
        let api = match &self.settings {
            None => mock_server::Api::new(mock_server::AppConfig::default()),
            // Loaded, checked and their passwords hashed once per test process; each
            // TestApp gets a fork, which costs the same whatever the settings' size and
            // starts from exactly what a fresh load would hold.
            Some(dir) => mock_server::settings::shared_app(dir)
                .map_err(|e| {
                    StartError::Mock(format!("the app's database settings do not load: {e}"))
                })?
                .fork(),
        };
        let api = Arc::new(api);
        if let Some(registry) = &self.cloud {
            api.attach_registry(registry()).map_err(|e| {
                StartError::Mock(format!("the app's cloud code does not attach: {e}"))
            })?;
        }
        let lc = MockLeanCloud::start_shared(api.clone()).await;
        let cfg = lc.config();
        let keys = Keys {
            app_id: cfg.app_id.clone(),
            app_key: Secret::new(&cfg.app_key),
            master_key: Secret::new(&cfg.master_key),
        };
        let uri = lc.uri();
        let route = if self.over_http {
            Route::Http(uri.clone())
        } else {
            Route::InProcess(api)
        };
        Ok(TestApp::assemble(
            Target::Mock,
            Backend::Mock(lc),
            &uri,
            route,
            keys,
            began,
        ))
    }

    /// `lc-mock serve` (and the engine program, when there is one) as processes.
    async fn start_stack(self, mode: StackMode) -> Result<TestApp, StartError> {
        type Shared = Arc<tokio::sync::OnceCell<Arc<stack::Stack>>>;
        static SHARED: Mutex<Option<HashMap<StackSpec, Shared>>> = Mutex::new(None);
        let began = Instant::now();
        let spec = StackSpec {
            settings: self.settings.clone(),
            engine: self.engine.clone(),
        };
        let stack = match mode {
            StackMode::Fresh => Arc::new(stack::Stack::start(&spec).await?),
            StackMode::Shared => {
                let cell = SHARED
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert_with(HashMap::new)
                    .entry(spec.clone())
                    .or_default()
                    .clone();
                cell.get_or_try_init(|| async { stack::Stack::start(&spec).await.map(Arc::new) })
                    .await?
                    .clone()
            }
        };
        let keys = Keys {
            app_id: stack::APP_ID.into(),
            app_key: Secret::new(stack::APP_KEY),
            master_key: Secret::new(stack::MASTER_KEY),
        };
        let url = stack.url.clone();
        Ok(TestApp::assemble(
            Target::Stack,
            Backend::Stack {
                stack,
                shared: mode == StackMode::Shared,
            },
            &url,
            Route::Http(url.clone()),
            keys,
            began,
        ))
    }
}
