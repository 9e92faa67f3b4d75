//! A REST client for the LeanCloud storage API over any [`Transport`]: objects, queries,
//! batch, cloud functions, users. It adds the authentication headers (protocol notes §1.2)
//! and turns error answers into [`LcError`]s carrying the response's HTTP status.
//!
//! ```no_run
//! # async fn demo(transport: std::sync::Arc<dyn leancloud::Transport>) -> Result<(), leancloud::LcError> {
//! use leancloud::client::Client;
//! use serde_json::json;
//! let client = Client::new(transport, "app-id", "app-key");
//! let created = client.create("Post", &json!({"title": "hi"})).await?;
//! let posts = client.query("Post").where_eq("title", "hi").limit(10).find().await?;
//! # Ok(()) }
//! ```

use crate::{Caller, LcError, Request, Resource, Response, Transport};
use serde_json::{Map, Value, json};
use std::fmt;
use std::sync::Arc;

/// How the client proves it holds a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// `X-LC-Key: <key>` or `X-LC-Key: <masterKey>,master`.
    #[default]
    PlainKey,
    /// `X-LC-Sign: <md5(ts+key)>,<ts>[,master]` (what the JavaScript SDK sends).
    Sign,
}

/// Everything that decides the headers a [`Client`] sends. Its `Debug` shows the app id
/// and which credentials are set, never the keys or the session token.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientConfig {
    pub app_id: String,
    pub app_key: String,
    pub master_key: Option<String>,
    /// Send the master key instead of the app key (see [`Client::as_master`]).
    pub use_master: bool,
    pub session_token: Option<String>,
    pub hook_key: Option<String>,
    /// `X-LC-Prod`: `1` (production, the default) or `0` (staging).
    pub production: bool,
    pub auth_mode: AuthMode,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |v: &Option<String>| if v.is_some() { "[set]" } else { "[none]" };
        f.debug_struct("ClientConfig")
            .field("app_id", &self.app_id)
            .field("app_key", &"[redacted]")
            .field("master_key", &set(&self.master_key))
            .field("use_master", &self.use_master)
            .field("session_token", &set(&self.session_token))
            .field("hook_key", &set(&self.hook_key))
            .field("production", &self.production)
            .field("auth_mode", &self.auth_mode)
            .finish()
    }
}

/// A LeanCloud REST client. Cheap to clone; the `with_*` / `as_*` methods return
/// configured copies sharing the same transport.
#[derive(Clone)]
pub struct Client {
    transport: Arc<dyn Transport>,
    config: ClientConfig,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(
        transport: Arc<dyn Transport>,
        app_id: impl Into<String>,
        app_key: impl Into<String>,
    ) -> Self {
        Client {
            transport,
            config: ClientConfig {
                app_id: app_id.into(),
                app_key: app_key.into(),
                master_key: None,
                use_master: false,
                session_token: None,
                hook_key: None,
                production: true,
                auth_mode: AuthMode::PlainKey,
            },
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Know the master key (still sending the app key until [`Client::as_master`]).
    pub fn with_master_key(mut self, master_key: impl Into<String>) -> Self {
        self.config.master_key = Some(master_key.into());
        self
    }

    /// A copy that sends the master key (master privilege).
    ///
    /// # Panics
    /// When no master key was given: call [`Client::with_master_key`] first.
    pub fn as_master(&self) -> Client {
        assert!(
            self.config.master_key.is_some(),
            "Client::as_master needs a master key: call with_master_key(..) first"
        );
        let mut c = self.clone();
        c.config.use_master = true;
        c
    }

    /// A copy that sends the app key again.
    pub fn as_app(&self) -> Client {
        let mut c = self.clone();
        c.config.use_master = false;
        c
    }

    /// A copy that speaks as `caller`: the app key, with the user's session token for
    /// [`Caller::User`], or the master key.
    ///
    /// # Panics
    /// For [`Caller::Nobody`] (a client always sends the app's keys), and for
    /// [`Caller::Master`] without a master key (see [`Client::as_master`]).
    #[track_caller]
    pub fn as_caller(&self, caller: &Caller) -> Client {
        match caller {
            Caller::Nobody => {
                panic!("a Client always sends the app's keys; Caller::Nobody sends none")
            }
            Caller::Anonymous => self.as_app().without_session(),
            Caller::User(token) => self.as_app().with_session(token),
            Caller::Master => self.as_master().without_session(),
        }
    }

    /// Act as the user holding this session token (`X-LC-Session`).
    pub fn with_session(mut self, token: impl Into<String>) -> Self {
        self.config.session_token = Some(token.into());
        self
    }

    /// Act as the user a sign-up or login answer describes (its `sessionToken`);
    /// unchanged when the answer has none.
    pub fn with_session_of(self, user: &Value) -> Self {
        match user.get("sessionToken").and_then(Value::as_str) {
            Some(token) => self.with_session(token),
            None => self,
        }
    }

    pub fn without_session(mut self) -> Self {
        self.config.session_token = None;
        self
    }

    /// Send `X-LC-Hook-Key` on every request, as engine SDKs do when configured.
    pub fn with_hook_key(mut self, hook_key: impl Into<String>) -> Self {
        self.config.hook_key = Some(hook_key.into());
        self
    }

    /// `X-LC-Prod: 1` (true, the default) or `0` (staging).
    pub fn with_production(mut self, production: bool) -> Self {
        self.config.production = production;
        self
    }

    pub fn with_auth_mode(mut self, mode: AuthMode) -> Self {
        self.config.auth_mode = mode;
        self
    }

    /// Sign requests (`X-LC-Sign`) instead of sending the key.
    pub fn signed(self) -> Self {
        self.with_auth_mode(AuthMode::Sign)
    }

    /// The headers this client adds to a request (lowercase names). In sign mode the
    /// signature uses the current time.
    pub fn auth_headers(&self) -> Vec<(String, String)> {
        let c = &self.config;
        let mut headers = vec![("x-lc-id".to_string(), c.app_id.clone())];
        let master = c.master_key.as_deref().filter(|_| c.use_master);
        let (key, is_master) = match master {
            Some(mk) => (mk, true),
            None => (c.app_key.as_str(), false),
        };
        match c.auth_mode {
            AuthMode::PlainKey => {
                let value = if is_master {
                    format!("{key},master")
                } else {
                    key.to_string()
                };
                headers.push(("x-lc-key".into(), value));
            }
            AuthMode::Sign => {
                let ts = chrono::Utc::now().timestamp_millis();
                let value = crate::sign::header_value(key, ts, is_master);
                headers.push(("x-lc-sign".into(), value));
            }
        }
        if let Some(token) = &c.session_token {
            headers.push(("x-lc-session".into(), token.clone()));
        }
        if let Some(hook_key) = &c.hook_key {
            headers.push(("x-lc-hook-key".into(), hook_key.clone()));
        }
        let prod = if c.production { "1" } else { "0" };
        headers.push(("x-lc-prod".into(), prod.into()));
        headers
    }

    /// Send a raw request with the authentication headers added, and return the answer
    /// whatever its status. Headers the request already carries win; when it carries its
    /// own `x-lc-key` or `x-lc-sign`, the client adds neither.
    pub async fn request(&self, mut request: Request) -> Result<Response, LcError> {
        let own_credentials =
            request.header("x-lc-key").is_some() || request.header("x-lc-sign").is_some();
        for (name, value) in self.auth_headers() {
            let is_key = name == "x-lc-key" || name == "x-lc-sign";
            if request.header(&name).is_none() && !(is_key && own_credentials) {
                request.headers.push((name.into(), value.into()));
            }
        }
        self.transport.send(request).await
    }

    /// Send and read a JSON answer: 2xx gives the body, anything else an [`LcError`]
    /// with the response status (code -1 when the body is not a LeanCloud error).
    pub async fn send_json(
        &self,
        method: &str,
        path: &str,
        query: Vec<(String, String)>,
        body: Option<&Value>,
    ) -> Result<Value, LcError> {
        let mut request = Request::new(method, path);
        request.query = query;
        if let Some(body) = body {
            request = request.with_json(body);
        }
        let response = self.request(request).await?;
        read_json(&response)
    }

    // ---- objects -------------------------------------------------------------------------

    /// `POST /1.1/classes/<class>`: `{"objectId","createdAt"}`.
    pub async fn create(&self, class: &str, body: &Value) -> Result<Value, LcError> {
        self.create_with(class, body, false).await
    }

    /// Create, with `fetchWhenSave=true` to get the whole object back.
    pub async fn create_with(
        &self,
        class: &str,
        body: &Value,
        fetch_when_save: bool,
    ) -> Result<Value, LcError> {
        let query = flag("fetchWhenSave", fetch_when_save);
        self.send_json("POST", &class_path(class), query, Some(body))
            .await
    }

    /// `GET /1.1/classes/<class>/<id>`: the object, or `{}` when the id does not exist.
    pub async fn get(&self, class: &str, id: &str) -> Result<Value, LcError> {
        self.get_with(class, id, &[]).await
    }

    /// Fetch with query parameters such as `("keys", "a,b")`, `("include", "author")`.
    pub async fn get_with(
        &self,
        class: &str,
        id: &str,
        params: &[(&str, &str)],
    ) -> Result<Value, LcError> {
        let query = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.send_json("GET", &object_path(class, id), query, None)
            .await
    }

    /// `PUT /1.1/classes/<class>/<id>`: `{"updatedAt","objectId"}`.
    pub async fn update(&self, class: &str, id: &str, body: &Value) -> Result<Value, LcError> {
        self.send_json("PUT", &object_path(class, id), Vec::new(), Some(body))
            .await
    }

    /// Conditional update: code 305 when the object does not match `where_`.
    pub async fn update_where(
        &self,
        class: &str,
        id: &str,
        body: &Value,
        where_: &Value,
    ) -> Result<Value, LcError> {
        let query = vec![("where".to_string(), where_.to_string())];
        self.send_json("PUT", &object_path(class, id), query, Some(body))
            .await
    }

    /// `DELETE /1.1/classes/<class>/<id>`: `{}`.
    pub async fn delete(&self, class: &str, id: &str) -> Result<Value, LcError> {
        self.send_json("DELETE", &object_path(class, id), Vec::new(), None)
            .await
    }

    /// A query on `class`; run it with [`Query::find`], [`Query::count`] or [`Query::first`].
    pub fn query(&self, class: &str) -> Query {
        Query {
            client: self.clone(),
            class: class.to_string(),
            where_: Map::new(),
            order: None,
            limit: None,
            skip: None,
            keys: None,
            include: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// `POST /1.1/batch`: one result per request, in order. The outer error is for the
    /// batch call itself; item errors carry the batch response's HTTP status.
    pub async fn batch(
        &self,
        requests: Vec<BatchRequest>,
    ) -> Result<Vec<Result<Value, LcError>>, LcError> {
        let body =
            json!({"requests": requests.iter().map(BatchRequest::to_json).collect::<Vec<_>>()});
        let request = Request::new("POST", &Resource::Batch.path()).with_json(&body);
        let response = self.request(request).await?;
        let answer = read_json(&response)?;
        let Value::Array(items) = answer else {
            return Err(LcError::unexpected_response(
                response.status,
                &response.body,
            ));
        };
        Ok(items
            .into_iter()
            .map(|item| batch_item(response.status, item))
            .collect())
    }

    // ---- functions -----------------------------------------------------------------------

    /// `POST /1.1/functions/<name>`: the function's `result` (`null` when absent).
    pub async fn call_function(&self, name: &str, params: &Value) -> Result<Value, LcError> {
        let path = Resource::Function(name.to_string()).path();
        let answer = self
            .send_json("POST", &path, Vec::new(), Some(params))
            .await?;
        Ok(result_of(answer))
    }

    /// `POST /1.1/call/<name>` (RPC, typed encoding both ways): the `result`, still encoded;
    /// decode it with [`crate::value::LcValue::decode`].
    pub async fn rpc(&self, name: &str, params: &Value) -> Result<Value, LcError> {
        let path = Resource::Rpc(name.to_string()).path();
        let answer = self
            .send_json("POST", &path, Vec::new(), Some(params))
            .await?;
        Ok(result_of(answer))
    }

    // ---- users ---------------------------------------------------------------------------

    /// `POST /1.1/users` with `username`, `password` and the fields of `extra` (a JSON
    /// object or `null`; anything else is code 107 without a request).
    pub async fn sign_up(
        &self,
        username: &str,
        password: &str,
        extra: &Value,
    ) -> Result<Value, LcError> {
        let mut body = match extra {
            Value::Object(map) => map.clone(),
            Value::Null => Map::new(),
            _ => return Err(LcError::invalid_json()),
        };
        body.insert("username".into(), json!(username));
        body.insert("password".into(), json!(password));
        self.send_json(
            "POST",
            &Resource::Users.path(),
            Vec::new(),
            Some(&Value::Object(body)),
        )
        .await
    }

    /// `POST /1.1/login`: the user with its `sessionToken`.
    pub async fn log_in(&self, username: &str, password: &str) -> Result<Value, LcError> {
        let body = json!({"username": username, "password": password});
        self.send_json("POST", &Resource::Login.path(), Vec::new(), Some(&body))
            .await
    }

    /// `GET /1.1/users/me`: the user of this client's session token.
    pub async fn me(&self) -> Result<Value, LcError> {
        self.send_json("GET", &Resource::Me.path(), Vec::new(), None)
            .await
    }

    /// `GET /1.1/date`: `{"__type":"Date","iso":...}`.
    pub async fn server_date(&self) -> Result<Value, LcError> {
        self.send_json("GET", &Resource::Date.path(), Vec::new(), None)
            .await
    }
}

/// `/1.1/classes/<class>`: the generic path, also for `_User` and `_Role`.
fn class_path(class: &str) -> String {
    Resource::Class(class.to_string()).path()
}

/// `/1.1/classes/<class>/<id>`.
fn object_path(class: &str, id: &str) -> String {
    Resource::Object {
        class: class.to_string(),
        id: id.to_string(),
    }
    .path()
}

fn flag(name: &str, on: bool) -> Vec<(String, String)> {
    if on {
        vec![(name.to_string(), "true".to_string())]
    } else {
        Vec::new()
    }
}

fn result_of(mut answer: Value) -> Value {
    answer
        .get_mut("result")
        .map(Value::take)
        .unwrap_or(Value::Null)
}

/// 2xx: the JSON body; otherwise the LeanCloud error it carries.
fn read_json(response: &Response) -> Result<Value, LcError> {
    if (200..300).contains(&response.status) {
        return response.body_json();
    }
    let error = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|body| LcError::from_json(response.status, &body));
    Err(error.unwrap_or_else(|| LcError::unexpected_response(response.status, &response.body)))
}

fn batch_item(status: u16, mut item: Value) -> Result<Value, LcError> {
    if let Some(success) = item.get_mut("success") {
        return Ok(success.take());
    }
    let error = item
        .get("error")
        .and_then(|e| LcError::from_json(status, e));
    Err(error.unwrap_or_else(|| LcError::unexpected_response(status, item.to_string().as_bytes())))
}

// ---- batch -------------------------------------------------------------------------------

/// One request inside `POST /1.1/batch`. `path` includes `/1.1`; `params` is a JSON object
/// of query parameters (a `where` stays an object here).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequest {
    pub method: String,
    pub path: String,
    pub body: Option<Value>,
    pub params: Option<Value>,
}

impl BatchRequest {
    pub fn new(method: &str, path: impl Into<String>) -> Self {
        BatchRequest {
            method: method.to_ascii_uppercase(),
            path: path.into(),
            body: None,
            params: None,
        }
    }
    pub fn create(class: &str, body: Value) -> Self {
        BatchRequest::new("POST", class_path(class)).with_body(body)
    }
    pub fn update(class: &str, id: &str, body: Value) -> Self {
        BatchRequest::new("PUT", object_path(class, id)).with_body(body)
    }
    pub fn delete(class: &str, id: &str) -> Self {
        BatchRequest::new("DELETE", object_path(class, id))
    }
    pub fn get(class: &str, id: &str) -> Self {
        BatchRequest::new("GET", object_path(class, id))
    }
    pub fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    pub fn with_params(mut self, params: Value) -> Self {
        self.params = Some(params);
        self
    }
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("method".into(), json!(self.method));
        map.insert("path".into(), json!(self.path));
        if let Some(body) = &self.body {
            map.insert("body".into(), body.clone());
        }
        if let Some(params) = &self.params {
            map.insert("params".into(), params.clone());
        }
        Value::Object(map)
    }
}

// ---- queries -----------------------------------------------------------------------------

/// `GET /1.1/classes/<class>` with `where` (always sent, `{}` when empty, as the JS SDK
/// does), `order`, `limit`, `skip`, `keys`, `include`.
#[derive(Debug, Clone)]
pub struct Query {
    client: Client,
    class: String,
    where_: Map<String, Value>,
    order: Option<String>,
    limit: Option<u32>,
    skip: Option<u32>,
    keys: Option<String>,
    include: Vec<String>,
    extra: Vec<(String, String)>,
}

impl Query {
    /// `{"key": value}`: equality (on an array field: contains). Replaces earlier
    /// constraints on `key`.
    pub fn where_eq(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.where_.insert(key.to_string(), value.into());
        self
    }

    /// A raw constraint such as `json!({"$gt": 3})`. Operator objects on the same key
    /// merge (`$gt` then `$lt` gives a range); anything else replaces.
    pub fn where_value(mut self, key: &str, constraint: Value) -> Self {
        let merged = match (self.where_.remove(key), constraint) {
            (Some(Value::Object(mut old)), Value::Object(new))
                if is_operator_map(&old) && is_operator_map(&new) =>
            {
                old.extend(new);
                Value::Object(old)
            }
            (_, new) => new,
        };
        self.where_.insert(key.to_string(), merged);
        self
    }

    /// `where_value(key, {op: value})`, e.g. `where_op("age", "$gte", json!(18))`.
    pub fn where_op(self, key: &str, op: &str, value: Value) -> Self {
        let mut constraint = Map::new();
        constraint.insert(op.to_string(), value);
        self.where_value(key, Value::Object(constraint))
    }

    /// Comma list, `-` for descending: `"-createdAt,name"`.
    pub fn order(mut self, order: &str) -> Self {
        self.order = Some(order.to_string());
        self
    }

    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    pub fn skip(mut self, skip: u32) -> Self {
        self.skip = Some(skip);
        self
    }

    /// Comma list of fields to return (`-a` excludes).
    pub fn keys(mut self, keys: &str) -> Self {
        self.keys = Some(keys.to_string());
        self
    }

    /// Pointer fields to include (dot paths allowed); repeated calls accumulate.
    pub fn include(mut self, key: &str) -> Self {
        self.include.push(key.to_string());
        self
    }

    /// Any other query parameter (`returnACL`, ...).
    pub fn param(mut self, name: &str, value: &str) -> Self {
        self.extra.push((name.to_string(), value.to_string()));
        self
    }

    /// The `where` object built so far.
    pub fn where_json(&self) -> Value {
        Value::Object(self.where_.clone())
    }

    /// The query parameters as sent (JSON values stringified).
    pub fn params(&self) -> Vec<(String, String)> {
        let mut params = vec![("where".to_string(), self.where_json().to_string())];
        if let Some(order) = &self.order {
            params.push(("order".into(), order.clone()));
        }
        if let Some(limit) = self.limit {
            params.push(("limit".into(), limit.to_string()));
        }
        if let Some(skip) = self.skip {
            params.push(("skip".into(), skip.to_string()));
        }
        if let Some(keys) = &self.keys {
            params.push(("keys".into(), keys.clone()));
        }
        if !self.include.is_empty() {
            params.push(("include".into(), self.include.join(",")));
        }
        params.extend(self.extra.iter().cloned());
        params
    }

    /// The matching objects (`results`).
    pub async fn find(&self) -> Result<Vec<Value>, LcError> {
        let path = class_path(&self.class);
        let response = self.run(&path, self.params()).await?;
        match read_json(&response)? {
            Value::Object(mut map) => match map.remove("results") {
                Some(Value::Array(results)) => Ok(results),
                _ => Err(LcError::unexpected_response(
                    response.status,
                    &response.body,
                )),
            },
            _ => Err(LcError::unexpected_response(
                response.status,
                &response.body,
            )),
        }
    }

    /// How many objects match (`limit=0&count=1`).
    pub async fn count(&self) -> Result<u64, LcError> {
        let mut params: Vec<(String, String)> = self
            .params()
            .into_iter()
            .filter(|(k, _)| k != "limit" && k != "count")
            .collect();
        params.push(("limit".into(), "0".into()));
        params.push(("count".into(), "1".into()));
        let path = class_path(&self.class);
        let response = self.run(&path, params).await?;
        read_json(&response)?
            .get("count")
            .and_then(Value::as_u64)
            .ok_or_else(|| LcError::unexpected_response(response.status, &response.body))
    }

    /// The first matching object (`limit=1`), `None` when nothing matches.
    pub async fn first(&self) -> Result<Option<Value>, LcError> {
        Ok(self.clone().limit(1).find().await?.into_iter().next())
    }

    async fn run(&self, path: &str, params: Vec<(String, String)>) -> Result<Response, LcError> {
        let mut request = Request::new("GET", path);
        request.query = params;
        self.client.request(request).await
    }
}

fn is_operator_map(map: &Map<String, Value>) -> bool {
    !map.is_empty() && map.keys().all(|k| k.starts_with('$'))
}

#[cfg(test)]
mod tests;
