//! How a [`TestApp`](crate::TestApp)'s requests reach its target: the keys they are
//! signed with, the route (HTTP or in-process), the recorder case they are filed under,
//! and the master-key requests the harness makes itself (finding, cleaning up, waiting
//! for after-hooks).

use crate::track::{Ledger, Tracking};
use crate::{Answer, Caller, Secret};
use leancloud::error::code;
use leancloud::transport::HttpTransport;
use leancloud::{LcError, Request, Resource, Transport};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// The keys requests are sent with.
#[derive(Clone)]
pub(crate) struct Keys {
    pub(crate) app_id: String,
    pub(crate) app_key: Secret,
    pub(crate) master_key: Secret,
}

/// How a [`Wire`]'s requests reach the target.
#[derive(Clone)]
pub(crate) enum Route {
    /// Over HTTP to this base URL.
    Http(String),
    /// Straight into the emulator's api, without a socket (`mock`).
    InProcess(Arc<mock_server::Api>),
}

impl Route {
    pub(crate) fn transport(&self) -> Arc<dyn Transport> {
        match self {
            Route::Http(base_url) => Arc::new(HttpTransport::new(base_url)),
            Route::InProcess(api) => Arc::new(mock_server::api::InProcess(api.clone())),
        }
    }
}

/// How requests reach the target.
#[derive(Clone)]
pub(crate) struct Wire {
    pub(crate) base_url: String,
    pub(crate) route: Route,
    pub(crate) keys: Keys,
    /// The route's transport, recording what the run creates.
    pub(crate) transport: Arc<dyn Transport>,
    /// The recorder case requests are filed under ([`TestApp::record_case`](crate::TestApp::record_case)).
    pub(crate) case: Arc<Mutex<Option<String>>>,
}

impl Wire {
    pub(crate) fn new(
        base_url: &str,
        route: Route,
        keys: Keys,
        ledger: &Arc<Mutex<Ledger>>,
    ) -> Wire {
        Wire::in_case(base_url, route, keys, ledger, Arc::default())
    }

    pub(crate) fn in_case(
        base_url: &str,
        route: Route,
        keys: Keys,
        ledger: &Arc<Mutex<Ledger>>,
        case: Arc<Mutex<Option<String>>>,
    ) -> Wire {
        Wire {
            base_url: base_url.to_string(),
            keys,
            transport: Arc::new(InCase {
                inner: Arc::new(Tracking {
                    inner: route.transport(),
                    ledger: ledger.clone(),
                }),
                case: Arc::clone(&case),
            }),
            route,
            case,
        }
    }

    /// The same wire over a new transport, for use on another runtime (connections
    /// pooled by an HTTP client belong to the runtime that opened them).
    pub(crate) fn renewed(&self, ledger: &Arc<Mutex<Ledger>>) -> Wire {
        Wire::in_case(
            &self.base_url,
            self.route.clone(),
            self.keys.clone(),
            ledger,
            self.case.clone(),
        )
    }

    pub(crate) fn sign(&self, who: &Caller, request: Request) -> Request {
        let keys = &self.keys;
        who.sign(
            request,
            &leancloud::caller::Keys {
                app_id: &keys.app_id,
                app_key: keys.app_key.expose(),
                master_key: keys.master_key.expose(),
            },
        )
    }

    pub(crate) async fn exchange(&self, who: &Caller, request: Request) -> Result<Answer, LcError> {
        let response = self.transport.send(self.sign(who, request)).await?;
        Ok(Answer {
            status: response.status,
            body: response
                .body_json()
                .unwrap_or_else(|e| Value::String(e.message)),
        })
    }

    /// A master-key query of `class` (at most 1000 rows); none when the class does not
    /// exist.
    pub(crate) async fn find(
        &self,
        class: &str,
        r#where: &Value,
        keys: &str,
    ) -> Result<Vec<Value>, String> {
        let request = Request::new("GET", &Resource::collection(class).path())
            .with_query("where", r#where.to_string())
            .with_query("keys", keys)
            .with_query("limit", "1000");
        let answer = self
            .exchange(&Caller::Master, request)
            .await
            .map_err(|e| format!("querying {class}: {e}"))?;
        match answer.error() {
            None if answer.status == 200 => Ok(answer.body["results"]
                .as_array()
                .cloned()
                .unwrap_or_default()),
            Some(e) if e.code == code::OBJECT_NOT_FOUND => Ok(Vec::new()),
            _ => Err(format!(
                "querying {class} answered HTTP {} {}",
                answer.status, answer.body
            )),
        }
    }

    /// Users and roles whose name starts with `prefix`: (class, id).
    pub(crate) async fn prefixed(&self, prefix: &str) -> Result<Vec<(String, String)>, String> {
        let mut found = Vec::new();
        for (class, field) in [("_User", "username"), ("_Role", "name")] {
            let starts = json!({field: {"$regex": format!("^{prefix}")}});
            for row in self.find(class, &starts, field).await? {
                if let Some(id) = row["objectId"].as_str() {
                    found.push((class.to_string(), id.to_string()));
                }
            }
        }
        Ok(found)
    }

    /// Delete what `ledger` holds, newest first, then the prefix's users and roles.
    pub(crate) async fn cleanup(
        &self,
        ledger: &Mutex<Ledger>,
        prefix: &str,
    ) -> Result<usize, String> {
        let pending: Vec<(String, String)> = {
            let ledger = ledger.lock().unwrap_or_else(|e| e.into_inner());
            ledger.pending.iter().rev().cloned().collect()
        };
        let mut deleted = 0;
        let mut failed = Vec::new();
        let mut delete = async |class: &str, id: &str| -> Result<(), String> {
            let request = Request::new("DELETE", &Resource::object(class, id).path());
            let answer = self
                .exchange(&Caller::Master, request)
                .await
                .map_err(|e| format!("{class} {id}: {e}"))?;
            // 101: no such object; 211: no such user.
            let gone = answer.status == 404
                || answer.error().is_some_and(|e| {
                    e.code == code::OBJECT_NOT_FOUND || e.code == code::USER_NOT_FOUND
                });
            if answer.status == 200 || gone {
                ledger
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .deleted(class, id);
                if answer.status == 200 {
                    deleted += 1;
                }
                Ok(())
            } else {
                Err(format!(
                    "{class} {id}: HTTP {} {}",
                    answer.status, answer.body
                ))
            }
        };
        for (class, id) in &pending {
            if let Err(e) = delete(class, id).await {
                failed.push(e);
            }
        }
        match self.prefixed(prefix).await {
            Ok(found) => {
                for (class, id) in found {
                    if let Err(e) = delete(&class, &id).await {
                        failed.push(e);
                    }
                }
            }
            Err(e) => failed.push(e),
        }
        if failed.is_empty() {
            ledger.lock().unwrap_or_else(|e| e.into_inner()).wrote = false;
            Ok(deleted)
        } else {
            Err(format!(
                "the cleanup deleted {deleted} objects but not these:\n  {}",
                failed.join("\n  ")
            ))
        }
    }

    /// `POST /__mock/idle` (the stack's lc-mock).
    pub(crate) async fn mock_idle(&self) -> Result<(), String> {
        let answer = self
            .exchange(&Caller::Master, Request::new("POST", "/__mock/idle"))
            .await
            .map_err(|e| format!("POST /__mock/idle: {e}"))?;
        if answer.status == 200 {
            Ok(())
        } else {
            Err(format!(
                "after-hooks were still running when POST /__mock/idle gave up: HTTP {} {}",
                answer.status, answer.body
            ))
        }
    }
}

/// The header that names an `lc-mock record` case.
pub(crate) const RECORD_CASE_HEADER: &str = "x-lc-record-case";

/// Files every request under the recorder case of [`TestApp::record_case`](crate::TestApp::record_case), whether
/// [`TestApp::send`](crate::TestApp::send) or a [`TestApp::client`](crate::TestApp::client) sends it.
struct InCase {
    inner: Arc<dyn Transport>,
    pub(crate) case: Arc<Mutex<Option<String>>>,
}

impl Transport for InCase {
    fn send(
        &self,
        mut request: Request,
    ) -> futures::future::BoxFuture<'static, Result<leancloud::Response, LcError>> {
        let case = self.case.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(case) = case {
            request = request.with_header(RECORD_CASE_HEADER, case);
        }
        self.inner.send(request)
    }
}
