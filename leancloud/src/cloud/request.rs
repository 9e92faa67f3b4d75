//! What a handler is given: [`FunctionRequest`] for cloud functions, [`HookRequest`] for
//! hooks, both with [`Meta`] and a way to reach storage ([`Storage`]) through the same
//! REST [`Client`] everyone else uses.

use super::{CloudError, HookKind};
use crate::client::Client;
use crate::value::{LcValue, Object};
use crate::{LcError, Request, Resource, Transport};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;

/// How cloud code reaches the storage server: a transport (HTTP to `LEANCLOUD_API_SERVER`
/// in a deployed engine; the emulator's in-process transport inside the emulator) and the
/// app's keys. Given to a [`super::Registry`] with [`super::Registry::with_storage`].
#[derive(Clone)]
pub struct Storage {
    transport: Arc<dyn Transport>,
    pub app_id: String,
    pub app_key: String,
    pub master_key: Option<String>,
    pub hook_key: Option<String>,
}

impl Storage {
    pub fn new(
        transport: Arc<dyn Transport>,
        app_id: impl Into<String>,
        app_key: impl Into<String>,
    ) -> Self {
        Storage {
            transport,
            app_id: app_id.into(),
            app_key: app_key.into(),
            master_key: None,
            hook_key: None,
        }
    }

    pub fn with_master_key(mut self, master_key: impl Into<String>) -> Self {
        self.master_key = Some(master_key.into());
        self
    }

    pub fn with_hook_key(mut self, hook_key: impl Into<String>) -> Self {
        self.hook_key = Some(hook_key.into());
        self
    }

    pub fn transport(&self) -> Arc<dyn Transport> {
        self.transport.clone()
    }

    /// The client cloud code uses by default (protocol notes §5.7): the app key, the hook
    /// key on every request (as engine SDKs send it), no session. The master key is known,
    /// so `client.as_master()` works when the app has one.
    pub fn client(&self) -> Client {
        let mut client = Client::new(self.transport.clone(), &self.app_id, &self.app_key);
        if let Some(master_key) = &self.master_key {
            client = client.with_master_key(master_key);
        }
        if let Some(hook_key) = &self.hook_key {
            client = client.with_hook_key(hook_key);
        }
        client
    }
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

/// The storage a request's code reaches, or a panic that says how to give one (the
/// runtime turns the panic into a 500 answer).
fn storage_client(storage: Option<&Storage>) -> Client {
    match storage {
        Some(storage) => storage.client(),
        None => panic!(
            "cloud code asked for a storage client, but the registry has no storage: \
             call Registry::with_storage(Storage::new(transport, app_id, app_key)) \
             (the engine does it from EngineConfig)"
        ),
    }
}

/// Facts about the HTTP request that reached the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Meta {
    /// The client's address (`Forwarded`, `X-Real-IP`, `X-Forwarded-For`, else the peer).
    #[serde(rename = "remoteAddress")]
    pub remote_address: String,
}

impl Default for Meta {
    /// A local caller (`127.0.0.1`): what in-process calls report.
    fn default() -> Self {
        Meta {
            remote_address: "127.0.0.1".to_string(),
        }
    }
}

/// A cloud function call (`/1.1/functions/<name>` or, with typed values, `/1.1/call/<name>`).
#[derive(Clone, Debug, Default)]
pub struct FunctionRequest {
    /// The body as sent (`{}` when there was none).
    pub params: Value,
    /// `/1.1/call` only: `params` with every `{"__type": ...}` form decoded, as the Node
    /// engine decodes RPC params into AV objects, dates and pointers.
    pub decoded_params: Option<LcValue>,
    /// `/1.1/call` (RPC): the result is sent with full type information.
    pub rpc: bool,
    /// The user of the request's `X-LC-Session`, as `GET /1.1/users/me` answered it.
    pub current_user: Option<Value>,
    /// The request's session token (`X-LC-Session`).
    pub session_token: Option<String>,
    pub meta: Meta,
    /// The request carried the master key.
    pub master_key: bool,
    /// The request carried the app's hook key.
    pub hook_key: bool,
    pub(crate) storage: Option<Storage>,
}

impl FunctionRequest {
    /// A `/1.1/functions` call with these params.
    pub fn new(params: Value) -> Self {
        FunctionRequest {
            params,
            ..Default::default()
        }
    }

    /// A `/1.1/call` (RPC) call: the params are decoded as typed values; a malformed
    /// `__type` form is the decoder's error (code 111, 106, ... with HTTP 400).
    pub fn rpc(params: Value) -> Result<Self, CloudError> {
        let decoded = LcValue::decode(&params).map_err(CloudError::from_lc)?;
        Ok(FunctionRequest {
            params,
            decoded_params: Some(decoded),
            rpc: true,
            ..Default::default()
        })
    }

    /// The current user; their `sessionToken` becomes the request's session token unless
    /// one was given.
    pub fn with_user(mut self, user: Value) -> Self {
        if self.session_token.is_none() {
            self.session_token = user
                .get("sessionToken")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        self.current_user = Some(user);
        self
    }

    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(token.into());
        self
    }

    pub fn with_remote_address(mut self, address: impl Into<String>) -> Self {
        self.meta.remote_address = address.into();
        self
    }

    /// The caller used the master key (an `internal` function accepts it).
    pub fn with_master_key(mut self) -> Self {
        self.master_key = true;
        self
    }

    /// The caller sent the app's hook key (an `internal` function accepts it).
    pub fn with_hook_key(mut self) -> Self {
        self.hook_key = true;
        self
    }

    /// One decoded param of a `/1.1/call` request; `None` for `/1.1/functions` calls,
    /// whose params stay plain JSON (as the Node engine leaves them).
    pub fn typed_param(&self, key: &str) -> Option<&LcValue> {
        match &self.decoded_params {
            Some(LcValue::Map(map)) => map.get(key),
            _ => None,
        }
    }

    /// A storage client with the app key and hook key (see [`Storage::client`]).
    ///
    /// # Panics
    /// When the registry has no storage ([`super::Registry::with_storage`]).
    pub fn client(&self) -> Client {
        storage_client(self.storage.as_ref())
    }

    /// [`FunctionRequest::client`] acting as the current user (their session token).
    pub fn user_client(&self) -> Client {
        let client = self.client();
        match &self.session_token {
            Some(token) => client.with_session(token),
            None => client,
        }
    }
}

/// A hook call: the object the write concerns and the user who asked for it.
#[derive(Clone, Debug)]
pub struct HookRequest {
    /// The object's class (`_User` for user hooks). Set by [`super::Registry::run_hook`].
    pub class_name: String,
    /// Which hook runs. Set by [`super::Registry::run_hook`].
    pub kind: HookKind,
    /// The object as JSON with typed values (`{"__type":...}` forms), without `__type` and
    /// `className`; update hooks also carry `_updatedKeys`. For user hooks: the user.
    pub object: Value,
    /// The user whose request triggered the hook (with their `sessionToken`), if any.
    pub user: Option<Value>,
    /// onAuthData: the authData to check.
    pub auth_data: Option<Value>,
    pub meta: Meta,
    pub(crate) storage: Option<Storage>,
}

impl HookRequest {
    /// A hook request about `object` (a JSON object).
    pub fn new(object: Value) -> Self {
        HookRequest {
            class_name: String::new(),
            kind: HookKind::BeforeSave,
            object,
            user: None,
            auth_data: None,
            meta: Meta::default(),
            storage: None,
        }
    }

    pub fn with_user(mut self, user: Value) -> Self {
        self.user = Some(user);
        self
    }

    pub fn with_auth_data(mut self, auth_data: Value) -> Self {
        self.auth_data = Some(auth_data);
        self
    }

    pub fn with_remote_address(mut self, address: impl Into<String>) -> Self {
        self.meta.remote_address = address.into();
        self
    }

    /// beforeUpdate / afterUpdate: the keys the update request touched (`_updatedKeys`).
    pub fn updated_keys(&self) -> Vec<&str> {
        self.object
            .get("_updatedKeys")
            .and_then(Value::as_array)
            .map(|keys| keys.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// Whether the update touched `key`.
    pub fn is_updated(&self, key: &str) -> bool {
        self.updated_keys().contains(&key)
    }

    pub fn object_id(&self) -> Option<&str> {
        self.object.get("objectId").and_then(Value::as_str)
    }

    /// The requesting user's session token (`user.sessionToken`).
    pub fn session_token(&self) -> Option<&str> {
        self.user.as_ref()?.get("sessionToken")?.as_str()
    }

    /// The object decoded as a typed [`Object`] of [`HookRequest::class_name`].
    pub fn typed_object(&self) -> Result<Object, LcError> {
        let mut map = self
            .object
            .as_object()
            .cloned()
            .ok_or_else(LcError::invalid_json)?;
        map.remove("_updatedKeys");
        map.insert("__type".into(), Value::from("Object"));
        map.insert("className".into(), Value::from(self.class_name.clone()));
        Object::from_json(&Value::Object(map))
    }

    /// The hooks this hook's own writes of the object skip (`__ignore_hooks`, protocol
    /// notes §5.6): the before-hooks in a before-hook, the after-hooks in an after-hook.
    pub fn ignored_hooks(&self) -> &'static [&'static str] {
        self.kind.ignored_hooks()
    }

    /// `body` (a JSON object) with `__ignore_hooks` added, for a write of this hook's
    /// object that must not trigger the hooks again. The storage server honours it only
    /// with the hook key, which [`HookRequest::client`] sends.
    pub fn mark(&self, body: Value) -> Value {
        let ignored = self.ignored_hooks();
        match body {
            Value::Object(mut map) if !ignored.is_empty() => {
                map.insert("__ignore_hooks".into(), Value::from(ignored.to_vec()));
                Value::Object(map)
            }
            other => other,
        }
    }

    /// A storage client with the app key and hook key (see [`Storage::client`]).
    ///
    /// # Panics
    /// When the registry has no storage ([`super::Registry::with_storage`]).
    pub fn client(&self) -> Client {
        storage_client(self.storage.as_ref())
    }

    /// [`HookRequest::client`] acting as the requesting user (their session token).
    pub fn user_client(&self) -> Client {
        let client = self.client();
        match self.session_token() {
            Some(token) => client.with_session(token),
            None => client,
        }
    }

    /// Write `changes` to this hook's object, marked so that its hooks of this kind do
    /// not run again (`PUT /1.1/classes/<Class>/<id>`; `POST` when the object has no id
    /// yet, i.e. in a beforeSave).
    pub async fn save_object(&self, changes: &Value) -> Result<Value, LcError> {
        let body = self.mark(strip_hook_fields(changes));
        let client = self.client();
        match self.object_id() {
            Some(id) => client.update(&self.class_name, id, &body).await,
            None => client.create(&self.class_name, &body).await,
        }
    }

    /// Delete this hook's object, marked like [`HookRequest::save_object`]
    /// (`DELETE /1.1/classes/<Class>/<id>` with a `{"__ignore_hooks": [...]}` body).
    pub async fn delete_object(&self) -> Result<Value, LcError> {
        let id = self.object_id().ok_or_else(LcError::missing_object_id)?;
        let path = Resource::Object {
            class: self.class_name.clone(),
            id: id.to_string(),
        }
        .path();
        let body = self.mark(Value::Object(Map::new()));
        let response = self
            .client()
            .request(Request::new("DELETE", &path).with_json(&body))
            .await?;
        let answer = response.body_json()?;
        if (200..300).contains(&response.status) {
            Ok(answer)
        } else {
            Err(LcError::from_json(response.status, &answer)
                .unwrap_or_else(|| LcError::unexpected_response(response.status, &response.body)))
        }
    }
}

/// A write body without the fields the engine protocol adds to hook objects, which are
/// not the app's data.
fn strip_hook_fields(changes: &Value) -> Value {
    match changes {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "_updatedKeys"
                            | "__before"
                            | "__after"
                            | "__sign"
                            | "__type"
                            | "className"
                            | "objectId"
                            | "createdAt"
                            | "updatedAt"
                    )
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}
