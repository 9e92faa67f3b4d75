//! One HTTP message type used in both directions: clients build [`Request`]s and the
//! emulator's api layer answers them with [`Response`]s, over the network or in-process.
//! A [`Transport`] carries a request to whatever answers it.

use crate::LcError;
use futures::future::BoxFuture;
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// An HTTP request as the LeanCloud API sees it. Header names are lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// Uppercase method: `GET`, `POST`, `PUT`, `DELETE`, ...
    pub method: String,
    /// Path without the query string, e.g. `/1.1/classes/Post`.
    pub path: String,
    /// Decoded query parameters in order.
    pub query: Vec<(String, String)>,
    /// Headers with lowercase names.
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Self {
        Request {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            ..Default::default()
        }
    }

    /// Build from a method and a path that may carry a `?query`.
    pub fn from_target(method: &str, target: &str) -> Self {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, q),
            None => (target, ""),
        };
        let mut req = Request::new(method, path);
        req.query = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        req
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|(k, _)| *k != name);
        self.headers.push((name.into(), value.into().into()));
        self
    }

    pub fn with_query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_string(), value.into()));
        self
    }

    pub fn with_json(mut self, body: &Value) -> Self {
        self.body = serde_json::to_vec(body).expect("a serde_json::Value always serialises");
        self.with_header("content-type", "application/json")
    }

    /// Path plus the encoded query string, as it goes on the request line.
    pub fn target(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.query {
            ser.append_pair(k, v);
        }
        format!("{}?{}", self.path, ser.finish())
    }
}

/// An HTTP response. Header names are lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
}

/// A header of a [`Response`]: its lowercase name and its value, either of them a
/// constant (the headers every answer carries, [`JSON_HEADERS`], are not copied) or
/// made for this answer.
pub type Header = (Cow<'static, str>, Cow<'static, str>);

/// Header names a request to the API commonly carries (the SDKs', the engines', a
/// browser's): a request that arrives over HTTP keeps them as constants
/// ([`received_header`]) rather than a copy of each for every request.
const COMMON_REQUEST_HEADERS: [&str; 28] = [
    "host",
    "user-agent",
    "accept",
    "accept-encoding",
    "accept-language",
    "connection",
    "content-type",
    "content-length",
    "origin",
    "referer",
    "x-lc-id",
    "x-lc-key",
    "x-lc-sign",
    "x-lc-session",
    "x-lc-prod",
    "x-lc-ua",
    "x-lc-hook-key",
    "x-request-id",
    "x-forwarded-for",
    "x-real-ip",
    "x-avoscloud-application-id",
    "x-avoscloud-application-key",
    "x-avoscloud-master-key",
    "x-avoscloud-session-token",
    "x-avoscloud-request-sign",
    "x-avoscloud-application-production",
    "x-uluru-application-id",
    "x-uluru-session-token",
];

/// A header as it arrived over HTTP, its name already lowercase (as `http`'s names
/// are): a common name ([`COMMON_REQUEST_HEADERS`]) is not copied; a value that is not
/// UTF-8 is read lossily.
pub fn received_header(name: &str, value: &[u8]) -> Header {
    let name = match COMMON_REQUEST_HEADERS.iter().find(|known| **known == name) {
        Some(known) => Cow::Borrowed(*known),
        None => Cow::Owned(name.to_string()),
    };
    (name, String::from_utf8_lossy(value).into_owned().into())
}

/// The headers of every JSON answer, as the real service sends them.
pub const JSON_HEADERS: [(&str, &str); 3] = [
    ("content-type", "application/json;charset=utf-8"),
    ("cache-control", "no-cache,no-store"),
    ("pragma", "no-cache"),
];

impl Response {
    /// A JSON response with the headers the real service sends ([`JSON_HEADERS`]).
    pub fn json(status: u16, body: &Value) -> Self {
        Response {
            status,
            headers: JSON_HEADERS
                .iter()
                .map(|&(name, value)| (name.into(), value.into()))
                .collect(),
            body: serde_json::to_vec(body).expect("a serde_json::Value always serialises"),
        }
    }

    pub fn error(err: &LcError) -> Self {
        Response::json(err.status, &err.to_json())
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers
            .push((name.to_ascii_lowercase().into(), value.into().into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    /// The body as JSON (`Value::Null` for an empty body).
    pub fn body_json(&self) -> Result<Value, LcError> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            LcError::new(
                self.status,
                107,
                format!(
                    "response is not JSON ({e}): {}",
                    String::from_utf8_lossy(&self.body)
                ),
            )
        })
    }
}

/// Carries a request to a LeanCloud-compatible server and brings back its answer.
///
/// Implementations: [`crate::transport::HttpTransport`] (reqwest, feature `http`) and the
/// emulator's in-process transport, which calls its api layer without a socket.
pub trait Transport: Send + Sync {
    /// Send one request. A transport error (no HTTP answer at all) is code 100.
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>>;
}

impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<Response, LcError>> {
        (**self).send(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_received_header_keeps_a_common_name_as_a_constant() {
        let (name, value) = received_header("x-lc-id", b"app");
        assert!(matches!(name, Cow::Borrowed("x-lc-id")));
        assert_eq!(value, "app");
        let (name, value) = received_header("x-custom", b"caf\xc3\xa9 \xff");
        assert!(matches!(&name, Cow::Owned(n) if n == "x-custom"));
        assert_eq!(value, "café \u{fffd}");
        assert!(
            COMMON_REQUEST_HEADERS
                .iter()
                .all(|n| !n.bytes().any(|b| b.is_ascii_uppercase())),
            "names arrive lowercase"
        );
        let request = Request {
            headers: vec![received_header("content-type", b"application/json")],
            ..Request::default()
        };
        assert_eq!(request.header("Content-Type"), Some("application/json"));
    }
}
