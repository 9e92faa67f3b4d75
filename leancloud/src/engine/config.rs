//! [`EngineConfig`]: the app's keys, the port, and where storage is, read from the
//! variables a LeanCloud engine gets (`LEANCLOUD_APP_ID`, ...; protocol notes §5.2).

use crate::cloud::Storage;
use crate::transport::HttpTransport;
use crate::{LcError, Request, Response, Transport};
use futures::FutureExt;
use futures::future::BoxFuture;
use std::fmt;
use std::sync::Arc;

/// The port an engine listens on when `LEANCLOUD_APP_PORT` is not set.
pub const DEFAULT_PORT: u16 = 3000;

/// Everything the engine server needs besides the registry.
#[derive(Clone)]
pub struct EngineConfig {
    pub app_id: String,
    pub app_key: String,
    pub master_key: String,
    /// `LEANCLOUD_APP_HOOK_KEY`. Hook requests must carry exactly this key; without one,
    /// only requests without `X-LC-Hook-Key` pass (as the Node engine compares).
    pub hook_key: Option<String>,
    pub port: u16,
    /// The storage server's base URL, which cloud code calls back
    /// (`LEANCLOUD_API_SERVER`, or `LC_API_SERVER`).
    pub api_server: Option<String>,
    /// Run functions without a user when `X-LC-Session` is invalid, instead of answering
    /// 401 code 211 (the Node engine's `ignoreInvalidSessionToken`).
    pub ignore_invalid_session_token: bool,
    /// Reach storage through this transport instead of HTTP to `api_server` (tests, or
    /// the emulator in-process).
    pub storage_transport: Option<Arc<dyn Transport>>,
}

impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineConfig")
            .field("app_id", &self.app_id)
            .field("port", &self.port)
            .field("api_server", &self.api_server)
            .field(
                "ignore_invalid_session_token",
                &self.ignore_invalid_session_token,
            )
            .field("storage_transport", &self.storage_transport.is_some())
            .finish_non_exhaustive()
    }
}

impl EngineConfig {
    pub fn new(
        app_id: impl Into<String>,
        app_key: impl Into<String>,
        master_key: impl Into<String>,
    ) -> Self {
        EngineConfig {
            app_id: app_id.into(),
            app_key: app_key.into(),
            master_key: master_key.into(),
            hook_key: None,
            port: DEFAULT_PORT,
            api_server: None,
            ignore_invalid_session_token: false,
            storage_transport: None,
        }
    }

    pub fn with_hook_key(mut self, hook_key: impl Into<String>) -> Self {
        self.hook_key = Some(hook_key.into());
        self
    }

    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    pub fn with_api_server(mut self, url: impl Into<String>) -> Self {
        self.api_server = Some(url.into());
        self
    }

    pub fn with_storage_transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.storage_transport = Some(transport);
        self
    }

    pub fn ignoring_invalid_session_tokens(mut self) -> Self {
        self.ignore_invalid_session_token = true;
        self
    }

    /// Read the real engines' variables: `LEANCLOUD_APP_ID`, `LEANCLOUD_APP_KEY`,
    /// `LEANCLOUD_APP_MASTER_KEY` (required), `LEANCLOUD_APP_HOOK_KEY`,
    /// `LEANCLOUD_APP_PORT` (default 3000), `LEANCLOUD_API_SERVER` (or `LC_API_SERVER`).
    pub fn from_env() -> Result<Self, String> {
        EngineConfig::from_vars(|name| std::env::var(name).ok())
    }

    /// [`EngineConfig::from_env`] over any source of variables. Empty values count as
    /// unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let required = |name: &str| get(name).ok_or_else(|| format!("{name} is not set"));
        let mut config = EngineConfig::new(
            required("LEANCLOUD_APP_ID")?,
            required("LEANCLOUD_APP_KEY")?,
            required("LEANCLOUD_APP_MASTER_KEY")?,
        );
        config.hook_key = get("LEANCLOUD_APP_HOOK_KEY");
        if let Some(port) = get("LEANCLOUD_APP_PORT") {
            config.port = port
                .trim()
                .parse()
                .map_err(|_| format!("LEANCLOUD_APP_PORT must be a port number, got {port:?}"))?;
        }
        config.api_server = get("LEANCLOUD_API_SERVER").or_else(|| get("LC_API_SERVER"));
        Ok(config)
    }

    /// How cloud code reaches storage with these keys: the given transport, else HTTP to
    /// `api_server`; `None` when neither is set.
    pub fn storage(&self) -> Option<Storage> {
        let transport: Arc<dyn Transport> = match (&self.storage_transport, &self.api_server) {
            (Some(transport), _) => transport.clone(),
            (None, Some(url)) => Arc::new(HttpTransport::new(url)),
            (None, None) => return None,
        };
        Some(self.storage_over(transport))
    }

    pub(crate) fn storage_over(&self, transport: Arc<dyn Transport>) -> Storage {
        let storage =
            Storage::new(transport, &self.app_id, &self.app_key).with_master_key(&self.master_key);
        match &self.hook_key {
            Some(hook_key) => storage.with_hook_key(hook_key),
            None => storage,
        }
    }
}

/// Storage for an engine started without `LEANCLOUD_API_SERVER`: every call fails with a
/// message that says what to set.
#[derive(Debug)]
pub(crate) struct NoStorage;

impl Transport for NoStorage {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
        let detail = format!(
            "{} {}: the engine has no storage server; set LEANCLOUD_API_SERVER",
            request.method, request.path
        );
        async move { Err(LcError::connection_failed(detail)) }.boxed()
    }
}
