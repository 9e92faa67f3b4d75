//! The in-process front: a wiremock `MockServer` whose catch-all responder (priority
//! 255, the lowest) calls the api. Tests mount their own mocks at a higher priority (a
//! lower number, 1 for faults) to answer over the emulator.

use super::cors;
use crate::api::{Api, AppConfig, InProcess};
use leancloud::client::Client;
use leancloud::{Request, Response};
use std::sync::Arc;
use wiremock::{Mock, MockServer, Respond, ResponseTemplate, matchers::any};

/// The priority of the emulator's catch-all mock: every other priority wins over it.
pub const EMULATOR_PRIORITY: u8 = 255;

/// A LeanCloud app emulated in-process, on a wiremock server.
///
/// ```no_run
/// # async fn demo() {
/// let lc = mock_server::MockLeanCloud::start().await;
/// let client = lc.client();
/// let saved = client.create("Post", &serde_json::json!({"title": "hi"})).await.unwrap();
/// # }
/// ```
pub struct MockLeanCloud {
    /// Always `Some` until drop (see the `Drop` impl).
    server: Option<MockServer>,
    api: Arc<Api>,
}

impl Drop for MockLeanCloud {
    /// wiremock's `MockServer` verifies its mocks on drop with a nested `block_on` over a
    /// tokio lock. Inside a tokio task whose cooperative budget is spent (a test that
    /// starts many emulators in one task), that lock keeps asking to yield and the
    /// nested loop spins forever. Dropping it in an unconstrained future avoids that.
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            // The future finishes in its first poll: dropping is synchronous.
            let mut unconstrained =
                std::pin::pin!(tokio::task::coop::unconstrained(
                    async move { drop(server) }
                ));
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            let _ = std::future::Future::poll(unconstrained.as_mut(), &mut cx);
        }
    }
}

impl std::fmt::Debug for MockLeanCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockLeanCloud")
            .field("uri", &self.uri())
            .finish()
    }
}

struct Emulator(Arc<Api>);

impl Respond for Emulator {
    /// CORS as on the standalone front. Not gzip nor the connection limits: wiremock's
    /// own server carries the bytes, and it serves tests only.
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let request = from_wiremock(request);
        let origin = request.header("origin");
        if let Some(answer) = cors::preflight(&request.method, &request.path, origin) {
            return to_template(answer);
        }
        let mut response = self.0.handle(&request);
        cors::add_answer_headers(&mut response, &request.path, origin);
        to_template(response)
    }
}

/// A wiremock request as the api sees it.
pub fn from_wiremock(request: &wiremock::Request) -> Request {
    Request {
        method: request.method.as_str().to_ascii_uppercase(),
        path: request.url.path().to_string(),
        query: request
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        headers: request
            .headers
            .iter()
            .map(|(k, v)| leancloud::http::received_header(k.as_str(), v.as_bytes()))
            .collect(),
        body: request.body.clone(),
    }
}

fn to_template(response: Response) -> ResponseTemplate {
    let content_type = response
        .header("content-type")
        .unwrap_or("application/json")
        .to_string();
    let mut template =
        ResponseTemplate::new(response.status).set_body_raw(response.body, &content_type);
    for (name, value) in response.headers {
        if name != "content-type" {
            template = template.insert_header(name.as_ref(), value.as_ref());
        }
    }
    template
}

impl MockLeanCloud {
    /// An empty app with the default keys ([`AppConfig::default`]).
    pub async fn start() -> Self {
        MockLeanCloud::start_with(Api::new(AppConfig::default())).await
    }

    /// Serve a given app (keys, clock, ids, data).
    pub async fn start_with(api: Api) -> Self {
        MockLeanCloud::serve(Arc::new(api)).await
    }

    /// Serve an app whose cloud code is `registry`, run in-process: its functions answer
    /// `/1.1/functions` and `/1.1/call`, and its storage calls come back to the app
    /// without a socket.
    pub async fn start_with_cloud(
        api: Api,
        registry: leancloud::cloud::Registry,
    ) -> Result<Self, leancloud::LcError> {
        let api = Arc::new(api);
        api.attach_registry(registry)?;
        Ok(MockLeanCloud::serve(api).await)
    }

    /// Serve an app that is already shared (e.g. with cloud code attached through
    /// [`Api::attach_registry_with`]).
    pub async fn start_shared(api: Arc<Api>) -> Self {
        MockLeanCloud::serve(api).await
    }

    /// Wait until every after-hook has finished, and everything they caused.
    pub async fn idle(&self) {
        self.api.idle().await;
    }

    /// The traces of the last requests (see [`Api::traces`]).
    pub fn traces(&self) -> Vec<serde_json::Value> {
        self.api.traces()
    }

    async fn serve(api: Arc<Api>) -> Self {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(Emulator(api.clone()))
            .with_priority(EMULATOR_PRIORITY)
            .named("LeanCloud emulator")
            .mount(&server)
            .await;
        MockLeanCloud {
            server: Some(server),
            api,
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (requests go to `<uri>/1.1/...`).
    pub fn uri(&self) -> String {
        self.server().uri()
    }

    pub fn config(&self) -> &AppConfig {
        self.api.config()
    }

    /// The emulated app: its store, reset, direct in-process calls.
    pub fn api(&self) -> &Arc<Api> {
        &self.api
    }

    /// The wiremock server, to mount mocks over the emulator (give them a priority below
    /// [`EMULATOR_PRIORITY`]; do not use `mount_as_scoped` with priorities).
    pub fn server(&self) -> &MockServer {
        self.server.as_ref().expect("the server lives until drop")
    }

    /// Every request the server received, in order (the request journal).
    pub async fn received_requests(&self) -> Vec<wiremock::Request> {
        self.server().received_requests().await.unwrap_or_default()
    }

    /// A client with the app key, over HTTP to this server.
    pub fn client(&self) -> Client {
        let cfg = self.config();
        Client::new(
            Arc::new(leancloud::transport::HttpTransport::new(&self.uri())),
            &cfg.app_id,
            &cfg.app_key,
        )
        .with_master_key(&cfg.master_key)
    }

    /// A client with the app key that calls the api in-process, without a socket.
    pub fn in_process_client(&self) -> Client {
        let cfg = self.config();
        Client::new(
            Arc::new(InProcess(self.api.clone())),
            &cfg.app_id,
            &cfg.app_key,
        )
        .with_master_key(&cfg.master_key)
    }
}
