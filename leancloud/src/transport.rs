//! The HTTP [`Transport`]: a reqwest client (rustls, no OpenSSL) talking to a base URL.
//! Anything that keeps a request from getting an HTTP answer is code 100: a connection
//! that could not be made is [`LcError::connection_failed`], one that broke after it was
//! made (the server closed it before answering, or mid-answer) is
//! [`LcError::connection_lost`].

use crate::{LcError, Request, Response, Transport};
use futures::FutureExt;
use futures::future::BoxFuture;
use std::error::Error as _;

/// Sends requests to `<base URL><path>?<query>` over HTTP.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    base_url: String,
}

impl HttpTransport {
    /// `base_url` is scheme and authority (and an optional prefix), e.g.
    /// `http://127.0.0.1:1234`; a trailing `/` is ignored.
    pub fn new(base_url: &str) -> Self {
        HttpTransport::with_client(reqwest::Client::new(), base_url)
    }

    /// Use a configured reqwest client (timeouts, proxies, ...).
    pub fn with_client(client: reqwest::Client, base_url: &str) -> Self {
        HttpTransport {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

/// The error and its causes, which is where reqwest says what actually went wrong.
pub fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl Transport for HttpTransport {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
        let client = self.client.clone();
        let url = format!("{}{}", self.base_url, request.target());
        async move {
            let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|_| {
                LcError::connection_failed(format!("invalid HTTP method {:?}", request.method))
            })?;
            let mut builder = client.request(method, &url);
            for (name, value) in &request.headers {
                builder = builder.header(name.as_ref(), value.as_ref());
            }
            if !request.body.is_empty() {
                builder = builder.body(request.body);
            }
            let response = builder.send().await.map_err(|e| {
                if e.is_connect() || e.is_builder() {
                    LcError::connection_failed(describe(&e))
                } else {
                    LcError::connection_lost(describe(&e))
                }
            })?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_ascii_lowercase().into(),
                        String::from_utf8_lossy(value.as_bytes())
                            .into_owned()
                            .into(),
                    )
                })
                .collect();
            let body = response
                .bytes()
                .await
                .map_err(|e| LcError::connection_lost(describe(&e)))?
                .to_vec();
            Ok(Response {
                status,
                headers,
                body,
            })
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::code;
    use serde_json::json;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Serve one connection: answer `reply` and hand back the raw request text.
    async fn serve_once(reply: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = sock.read(&mut buf).await.unwrap();
                raw.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&raw).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if raw.len() >= end + 4 + length || n == 0 {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            sock.write_all(reply.as_bytes()).await.unwrap();
            sock.shutdown().await.unwrap();
            String::from_utf8_lossy(&raw).to_string()
        });
        (base, task)
    }

    #[tokio::test]
    async fn requests_and_answers_cross_http_intact() {
        let (base, server) = serve_once(
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Custom-Header: Yes\r\n\
             Content-Length: 17\r\nConnection: close\r\n\r\n{\"objectId\":\"p1\"}",
        )
        .await;
        let transport = HttpTransport::new(&format!("{base}/"));
        let request = Request::new("POST", "/1.1/classes/Post")
            .with_query("fetchWhenSave", "true")
            .with_header("X-LC-Id", "app")
            .with_json(&json!({"title": "t"}));
        let response = transport.send(request).await.unwrap();
        assert_eq!(response.status, 201);
        assert_eq!(response.header("x-custom-header"), Some("Yes"));
        assert!(
            response
                .headers
                .iter()
                .all(|(k, _)| *k == k.to_ascii_lowercase())
        );
        assert_eq!(response.body_json().unwrap(), json!({"objectId": "p1"}));

        let raw = server.await.unwrap();
        assert!(
            raw.starts_with("POST /1.1/classes/Post?fetchWhenSave=true HTTP/1.1\r\n"),
            "{raw}"
        );
        let lower = raw.to_ascii_lowercase();
        assert!(lower.contains("x-lc-id: app\r\n"), "{raw}");
        assert!(
            lower.contains("content-type: application/json\r\n"),
            "{raw}"
        );
        assert!(raw.ends_with("{\"title\":\"t\"}"), "{raw}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_code_100_without_status() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let transport = HttpTransport::new(&format!("http://{addr}"));
        let err = transport
            .send(Request::new("GET", "/1.1/date"))
            .await
            .unwrap_err();
        assert_eq!((err.status, err.code), (0, code::CONNECTION_FAILED));
        assert!(
            err.message
                .starts_with("The connection to the LeanCloud server failed: ")
        );
        assert!(!err.is_connection_lost());
    }

    #[tokio::test]
    async fn a_connection_closed_before_or_during_the_answer_is_lost_not_refused() {
        for reply in [
            "",
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"resu",
            "HTTP/1.1 20",
        ] {
            let (base, server) = serve_once(reply).await;
            let err = HttpTransport::new(&base)
                .send(Request::new("POST", "/1.1/functions/f").with_json(&json!({})))
                .await
                .unwrap_err();
            assert_eq!(
                (err.status, err.code),
                (0, code::CONNECTION_FAILED),
                "{reply:?}"
            );
            assert!(err.is_connection_lost(), "{reply:?}: {}", err.message);
            server.await.unwrap();
        }
        let refused = LcError::connection_failed("refused");
        assert!(!refused.is_connection_lost());
    }

    #[tokio::test]
    async fn an_invalid_method_or_header_is_an_error_not_a_panic() {
        let transport = HttpTransport::new("http://127.0.0.1:9");
        let mut bad_method = Request::new("GET", "/1.1/date");
        bad_method.method = "GE T".into();
        assert_eq!(
            transport.send(bad_method).await.unwrap_err().code,
            code::CONNECTION_FAILED
        );
        let bad_header = Request::new("GET", "/1.1/date").with_header("x-bad", "a\nb");
        assert_eq!(
            transport.send(bad_header).await.unwrap_err().code,
            code::CONNECTION_FAILED
        );
    }

    #[test]
    fn the_base_url_loses_its_trailing_slash() {
        assert_eq!(HttpTransport::new("http://h:1/").base_url(), "http://h:1");
    }
}
