//! What the engine tests share.

use leancloud::Request;
use leancloud::Transport;
use leancloud::engine::RunningEngine;
use leancloud::transport::HttpTransport;
use serde_json::Value;

/// Send `request` to `engine` over HTTP: (status, JSON body); panics, with the body,
/// when the answer is not JSON.
pub async fn send(engine: &RunningEngine, request: Request) -> (u16, Value) {
    let response = HttpTransport::new(&engine.uri())
        .send(request)
        .await
        .unwrap();
    let body = response.body_json().unwrap_or_else(|e| {
        panic!(
            "non-JSON answer {}: {e}",
            String::from_utf8_lossy(&response.body)
        )
    });
    (response.status, body)
}
