//! [`Registry`]: the app's cloud functions and hooks by name, and the two calls that run
//! them ([`Registry::call_function`], [`Registry::run_hook`]) for the engine server and for
//! the emulator in-process alike.

use super::guard::guarded;
use super::{CloudError, FunctionRequest, HookKind, HookOutcome, HookRequest, Storage, VerifyType};
use crate::LcError;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The Node engine's default: `timeout(options.timeout || '15s')`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// The realtime (IM) hooks: functions by name, but called by the platform, so they need
/// the hook key (Node engine `realtimeHookMapping`).
const REALTIME_HOOKS: [&str; 14] = [
    "_messageReceived",
    "_receiversOffline",
    "_messageSent",
    "_messageUpdate",
    "_conversationStart",
    "_conversationStarted",
    "_conversationAdd",
    "_conversationAdded",
    "_conversationRemove",
    "_conversationRemoved",
    "_conversationUpdate",
    "_clientOnline",
    "_clientOffline",
    "_rtmClientSign",
];

/// How a cloud function may be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionOptions {
    /// Only with the hook key or the master key (`401 Internal cloud function, ...`).
    pub internal: bool,
    /// Resolve the current user from `X-LC-Session` before the call (default true).
    pub fetch_user: bool,
}

impl Default for FunctionOptions {
    fn default() -> Self {
        FunctionOptions {
            internal: false,
            fetch_user: true,
        }
    }
}

impl FunctionOptions {
    /// `{internal: true}`: callable with the hook key or the master key only.
    pub fn internal() -> Self {
        FunctionOptions {
            internal: true,
            ..Default::default()
        }
    }

    /// `{fetchUser: false}`: no `GET /1.1/users/me`; the handler sees the session token
    /// only.
    pub fn without_user(mut self) -> Self {
        self.fetch_user = false;
        self
    }
}

/// What a hook handler may return: `()` keeps the request's object (or authData) as it
/// came, a [`Value`] replaces it (beforeSave: the object to store; onAuthData: the
/// authData to use).
pub trait HookReturn: Send + 'static {
    fn into_replacement(self) -> Option<Value>;
}

impl HookReturn for () {
    fn into_replacement(self) -> Option<Value> {
        None
    }
}

impl HookReturn for Value {
    fn into_replacement(self) -> Option<Value> {
        Some(self)
    }
}

type FunctionHandler =
    Arc<dyn Fn(FunctionRequest) -> BoxFuture<'static, Result<Value, CloudError>> + Send + Sync>;
type HookHandler =
    Arc<dyn Fn(HookRequest) -> BoxFuture<'static, Result<Option<Value>, CloudError>> + Send + Sync>;

#[derive(Clone)]
enum Entry {
    Function {
        options: FunctionOptions,
        handler: FunctionHandler,
    },
    Hook(HookHandler),
}

/// The app's cloud code: functions and hooks by the names the metadata list shows, plus
/// what running them needs (storage access, the timeout). Cheap to clone.
///
/// ```
/// use leancloud::cloud::{CloudError, Registry};
/// use serde_json::json;
///
/// let mut registry = Registry::new();
/// registry.define("hello", |req| async move {
///     let name = req.params["name"].as_str().unwrap_or("world").to_string();
///     Ok(json!(format!("Hello {name}")))
/// });
/// registry.before_save("Post", |req| async move {
///     let mut post = req.object;
///     if post.get("title").is_none() {
///         return Err(CloudError::new("title is required").with_code(142));
///     }
///     post["checked"] = json!(true);
///     Ok(post)
/// });
/// assert_eq!(registry.metadata_names(), ["hello", "__before_save_for_Post"]);
/// ```
#[derive(Clone)]
pub struct Registry {
    /// Metadata names in definition order (the order the metadata list shows).
    names: Vec<String>,
    entries: HashMap<String, Entry>,
    storage: Option<Storage>,
    timeout: Duration,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("names", &self.names)
            .field("storage", &self.storage)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Registry {
    pub fn new() -> Self {
        Registry {
            names: Vec::new(),
            entries: HashMap::new(),
            storage: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    // ---- settings ----------------------------------------------------------------------

    /// The storage server handlers reach through `request.client()`.
    pub fn with_storage(mut self, storage: Storage) -> Self {
        self.storage = Some(storage);
        self
    }

    pub fn set_storage(&mut self, storage: Storage) -> &mut Self {
        self.storage = Some(storage);
        self
    }

    pub fn storage(&self) -> Option<&Storage> {
        self.storage.as_ref()
    }

    /// How long a handler may run before its caller gets 503 code 124 (default 15 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn set_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout;
        self
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    // ---- definitions -------------------------------------------------------------------

    fn insert(&mut self, name: String, entry: Entry) {
        // Defining a name again replaces its handler in place, as `AV.Cloud.define` does.
        if self.entries.insert(name.clone(), entry).is_none() {
            self.names.push(name);
        }
    }

    /// Define a cloud function. The handler returns anything serialisable; for
    /// `/1.1/call` objects in it should be typed (`value::Object::to_json()`).
    pub fn define<F, Fut, T>(&mut self, name: impl Into<String>, handler: F) -> &mut Self
    where
        F: Fn(FunctionRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, CloudError>> + Send + 'static,
        T: Serialize + 'static,
    {
        self.define_with(name, FunctionOptions::default(), handler)
    }

    /// Define a cloud function with options (`internal`, `fetch_user`).
    pub fn define_with<F, Fut, T>(
        &mut self,
        name: impl Into<String>,
        options: FunctionOptions,
        handler: F,
    ) -> &mut Self
    where
        F: Fn(FunctionRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, CloudError>> + Send + 'static,
        T: Serialize + 'static,
    {
        let handler: FunctionHandler = Arc::new(move |req| {
            handler(req)
                .map(|result| {
                    let value = result?;
                    serde_json::to_value(value).map_err(|e| {
                        CloudError::uncaught(format!("the function's result is not JSON: {e}"))
                    })
                })
                .boxed()
        });
        self.insert(name.into(), Entry::Function { options, handler });
        self
    }

    /// Define a hook of `class` (for user hooks the class is `_User` whatever is given).
    pub fn hook<F, Fut, R>(&mut self, class: &str, kind: HookKind, handler: F) -> &mut Self
    where
        F: Fn(HookRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, CloudError>> + Send + 'static,
        R: HookReturn,
    {
        let handler: HookHandler = Arc::new(move |req| {
            handler(req)
                .map(|result| result.map(HookReturn::into_replacement))
                .boxed()
        });
        self.insert(kind.metadata_name(class), Entry::Hook(handler));
        self
    }

    /// beforeSave: return the object to store (`Ok(req.object)` after changing it), or an
    /// error to refuse the save.
    pub fn before_save<F, Fut, R>(&mut self, class: &str, handler: F) -> &mut Self
    where
        F: Fn(HookRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, CloudError>> + Send + 'static,
        R: HookReturn,
    {
        self.hook(class, HookKind::BeforeSave, handler)
    }

    pub fn after_save<F, Fut, R>(&mut self, class: &str, handler: F) -> &mut Self
    where
        F: Fn(HookRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, CloudError>> + Send + 'static,
        R: HookReturn,
    {
        self.hook(class, HookKind::AfterSave, handler)
    }

    /// beforeUpdate: an error refuses the update; it cannot change the update (what it
    /// returns is only echoed, as the Node engine does).
    pub fn before_update<F, Fut, R>(&mut self, class: &str, handler: F) -> &mut Self
    where
        F: Fn(HookRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, CloudError>> + Send + 'static,
        R: HookReturn,
    {
        self.hook(class, HookKind::BeforeUpdate, handler)
    }

    pub fn after_update<F, Fut, R>(&mut self, class: &str, handler: F) -> &mut Self
    where
        F: Fn(HookRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, CloudError>> + Send + 'static,
        R: HookReturn,
    {
        self.hook(class, HookKind::AfterUpdate, handler)
    }

    /// beforeDelete: an error refuses the delete.
    pub fn before_delete<F, Fut, R>(&mut self, class: &str, handler: F) -> &mut Self
    where
        F: Fn(HookRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, CloudError>> + Send + 'static,
        R: HookReturn,
    {
        self.hook(class, HookKind::BeforeDelete, handler)
    }

    pub fn after_delete<F, Fut, R>(&mut self, class: &str, handler: F) -> &mut Self
    where
        F: Fn(HookRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, CloudError>> + Send + 'static,
        R: HookReturn,
    {
        self.hook(class, HookKind::AfterDelete, handler)
    }

    /// onLogin: `req.object` is the user logging in; an error refuses the login.
    pub fn on_login<F, Fut, R>(&mut self, handler: F) -> &mut Self
    where
        F: Fn(HookRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, CloudError>> + Send + 'static,
        R: HookReturn,
    {
        self.hook("_User", HookKind::OnLogin, handler)
    }

    /// onVerified: `req.object` is the user who verified a phone number or an email.
    pub fn on_verified<F, Fut, R>(&mut self, verified: VerifyType, handler: F) -> &mut Self
    where
        F: Fn(HookRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, CloudError>> + Send + 'static,
        R: HookReturn,
    {
        self.hook("_User", HookKind::OnVerified(verified), handler)
    }

    /// onAuthData: check `req.auth_data`; return `()` to accept it, a value to log in
    /// with that authData instead, or an error to refuse.
    pub fn on_auth_data<F, Fut, R>(&mut self, handler: F) -> &mut Self
    where
        F: Fn(HookRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, CloudError>> + Send + 'static,
        R: HookReturn,
    {
        self.hook("_User", HookKind::OnAuthData, handler)
    }

    // ---- questions -----------------------------------------------------------------------

    /// Every defined name as `GET /1.1/functions/_ops/metadatas` lists it, in definition
    /// order: function names, `__before_save_for_<Class>`, ..., `__on_login__User`,
    /// `__on_verified_sms`, `__on_authdata__User`.
    pub fn metadata_names(&self) -> Vec<String> {
        self.names.clone()
    }

    /// The options of a defined function; `None` when no function has this name.
    pub fn function_options(&self, name: &str) -> Option<FunctionOptions> {
        match self.entries.get(name) {
            Some(Entry::Function { options, .. }) => Some(*options),
            _ => None,
        }
    }

    /// Whether `class` has this hook (for user hooks the class is ignored).
    pub fn has_hook(&self, class: &str, kind: HookKind) -> bool {
        matches!(
            self.entries.get(&kind.metadata_name(class)),
            Some(Entry::Hook(_))
        )
    }

    /// May `request` call function `name`? 404 when it does not exist; realtime hooks
    /// need the hook key; `internal` functions the hook key or the master key.
    pub fn check_function(
        &self,
        name: &str,
        request: &FunctionRequest,
    ) -> Result<FunctionOptions, CloudError> {
        let options = self
            .function_options(name)
            .ok_or_else(|| CloudError::from_lc(LcError::no_such_cloud_function(name)))?;
        let address = &request.meta.remote_address;
        if REALTIME_HOOKS.contains(&name) && !request.hook_key {
            return Err(CloudError::from_lc(LcError::hook_key_check_failed(address)));
        }
        if options.internal && !(request.hook_key || request.master_key) {
            return Err(CloudError::from_lc(LcError::internal_cloud_function(
                address,
            )));
        }
        Ok(options)
    }

    // ---- running -------------------------------------------------------------------------

    /// Run function `name` (after [`Registry::check_function`]) and give its result as
    /// the engine's `{"result": ...}` carries it: for `/1.1/call` with full type
    /// information, for `/1.1/functions` with objects as plain JSON (no `__type` and
    /// `className`, as the Node engine renders AV objects there).
    pub async fn call_function(
        &self,
        name: &str,
        mut request: FunctionRequest,
    ) -> Result<Value, CloudError> {
        self.check_function(name, &request)?;
        let Some(Entry::Function { handler, .. }) = self.entries.get(name) else {
            unreachable!("check_function found the function");
        };
        if request.storage.is_none() {
            request.storage = self.storage.clone();
        }
        let rpc = request.rpc;
        let handler = handler.clone();
        let result = guarded(self.timeout, move || handler(request)).await?;
        Ok(if rpc { result } else { plain_objects(result) })
    }

    /// Run a hook of `class` and say what the engine answers (see [`HookOutcome`]). The
    /// request's `class_name` and `kind` are set here; an undefined hook is 404.
    pub async fn run_hook(
        &self,
        class: &str,
        kind: HookKind,
        mut request: HookRequest,
    ) -> Result<HookOutcome, CloudError> {
        let Some(Entry::Hook(handler)) = self.entries.get(&kind.metadata_name(class)) else {
            return Err(CloudError::from_lc(if kind.is_user_hook() {
                LcError::no_such_user_hook(kind.name())
            } else {
                LcError::no_such_class_hook(class, kind.name())
            }));
        };
        request.class_name = if kind.is_user_hook() { "_User" } else { class }.to_string();
        request.kind = kind;
        if request.storage.is_none() {
            request.storage = self.storage.clone();
        }
        let object = request.object.clone();
        let auth_data = request.auth_data.clone();
        let handler = handler.clone();
        let replacement = guarded(self.timeout, move || handler(request)).await?;
        Ok(match kind {
            HookKind::BeforeSave => HookOutcome::Save(hook_object(replacement.unwrap_or(object))),
            HookKind::BeforeUpdate | HookKind::BeforeDelete => {
                HookOutcome::Accepted(hook_object(replacement.unwrap_or(object)))
            }
            HookKind::OnAuthData => {
                HookOutcome::AuthData(replacement.or(auth_data).unwrap_or(Value::Null))
            }
            _ => HookOutcome::Ok,
        })
    }
}

/// A before-hook's object as the engine answers it: the object's JSON without the
/// `__type`/`className` of the typed form and without the anti-recursion flags.
fn hook_object(object: Value) -> Value {
    match object {
        Value::Object(mut map) => {
            map.remove("__type");
            map.remove("className");
            map.remove("__ignore_hooks");
            Value::Object(map)
        }
        other => other,
    }
}

/// `{"__type":"Object","className":...}` forms turned into the plain JSON the Node engine
/// answers on `/1.1/functions` (`AV.Object#toJSON`); other typed values stay as they are.
pub fn plain_objects(value: Value) -> Value {
    match value {
        Value::Object(mut map) => {
            if map.get("__type").and_then(Value::as_str) == Some("Object") {
                map.remove("__type");
                map.remove("className");
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, plain_objects(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(plain_objects).collect()),
        other => other,
    }
}
