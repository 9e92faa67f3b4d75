//! An engine that answers wrongly, for the app of `App::Faulty`: the other side of the
//! hook protocol. Behind it is the app's real registry; in front, for each hook or
//! function, one way of failing (or none), chosen from the case's number and the path,
//! so that a case replays the same.

use leancloud::engine::Engine;
use leancloud::{LcError, Request, Response, Transport};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};

type Answer = Pin<Box<dyn Future<Output = Result<Response, LcError>> + Send + 'static>>;

/// How an answer goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The real engine's answer.
    None,
    /// No answer: the connection closed (a transport error).
    Closed,
    /// 200 with an HTML page.
    NotJson,
    /// 200 with `null`.
    Null,
    /// 200 with an array.
    Array,
    /// 200 with an error body.
    ErrorWith200,
    /// 500 with `{}`.
    ServerErrorEmptyObject,
    /// 503 with a text body.
    Unavailable,
    /// 404 with a LeanCloud-shaped error.
    NotFound,
}

const FAULTS: &[Fault] = &[
    Fault::None,
    Fault::None,
    Fault::None,
    Fault::Closed,
    Fault::NotJson,
    Fault::Null,
    Fault::Array,
    Fault::ErrorWith200,
    Fault::ServerErrorEmptyObject,
    Fault::Unavailable,
    Fault::NotFound,
];

/// The engine in front of the app's registry.
pub struct Faulty {
    pub engine: Engine,
    /// The running case's number (`App::Faulty(n)`).
    pub case: AtomicU32,
}

impl Faulty {
    /// The fault of a request to `path` in the running case.
    pub fn fault(&self, path: &str) -> Fault {
        fault_of(self.case.load(Ordering::SeqCst), path)
    }
}

/// The fault of `path` in case `n`: FNV-1a over both, a hash that stays the same
/// across toolchains (std's does not promise to), so that corpus cases replay alike.
pub fn fault_of(n: u32, path: &str) -> Fault {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in n.to_le_bytes().iter().chain(path.as_bytes()) {
        h ^= u64::from(*byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    FAULTS[(h % FAULTS.len() as u64) as usize]
}

fn answer(status: u16, content_type: &str, body: &[u8]) -> Response {
    Response {
        status,
        headers: vec![("content-type".into(), content_type.to_string().into())],
        body: body.to_vec(),
    }
}

impl Transport for Faulty {
    fn send(&self, request: Request) -> Answer {
        // The hook list is always right: without it no hook would be called at all.
        if request.path.ends_with("/_ops/metadatas") {
            return self.engine.send(request);
        }
        let json = "application/json";
        let wrong = match self.fault(&request.path) {
            Fault::None => return self.engine.send(request),
            Fault::Closed => Err(LcError::connection_failed(
                "the engine closed the connection",
            )),
            Fault::NotJson => Ok(answer(200, "text/html", b"<html>Bad Gateway</html>")),
            Fault::Null => Ok(answer(200, json, b"null")),
            Fault::Array => Ok(answer(200, json, b"[1,2]")),
            Fault::ErrorWith200 => Ok(answer(200, json, br#"{"code":1,"error":"engine failed"}"#)),
            Fault::ServerErrorEmptyObject => Ok(answer(500, json, b"{}")),
            Fault::Unavailable => Ok(answer(503, "text/plain", b"Service Unavailable")),
            Fault::NotFound => Ok(answer(404, json, br#"{"code":1,"error":"Not found"}"#)),
        };
        Box::pin(std::future::ready(wrong))
    }
}
