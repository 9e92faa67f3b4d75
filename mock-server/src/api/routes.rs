//! The one routes table. A request no route serves gets a LeanCloud-shaped 404 that
//! names its method and path.

use super::{Api, Ctx, HandlerResult, batch, control, objects};
use leancloud::{LcError, Request};
use serde_json::{Map, Value};

/// Everything a handler gets for one request.
pub struct Call<'a> {
    pub api: &'a Api,
    pub ctx: &'a Ctx,
    pub request: &'a Request,
    pub body: &'a Map<String, Value>,
    /// Values of the `:name` segments of the route, in order.
    pub params: Vec<String>,
}

impl Call<'_> {
    pub fn param(&self, i: usize) -> &str {
        &self.params[i]
    }
}

type Handler = fn(&Call<'_>) -> HandlerResult;

/// `(method, pattern, handler)`. `:x` matches one path segment.
pub const ROUTES: &[(&str, &str, Handler)] = &[
    ("GET", "/1.1/date", control::server_date),
    ("POST", "/1.1/batch", batch::batch),
    ("POST", "/1.1/classes/:class", objects::create_object),
    ("GET", "/1.1/classes/:class", objects::find_objects),
    ("GET", "/1.1/classes/:class/:id", objects::get_object),
    ("PUT", "/1.1/classes/:class/:id", objects::update_object),
    ("DELETE", "/1.1/classes/:class/:id", objects::delete_object),
    ("GET", "/1.1/scan/classes/:class", objects::scan_objects),
    ("POST", "/__mock/reset", control::reset),
];

fn matches(pattern: &str, path: &str) -> Option<Vec<String>> {
    let mut params = Vec::new();
    let mut pat = pattern.split('/');
    let mut segs = path.split('/');
    loop {
        match (pat.next(), segs.next()) {
            (None, None) => return Some(params),
            (Some(p), Some(s)) if p.starts_with(':') => {
                if s.is_empty() {
                    return None;
                }
                let decoded = percent_encoding::percent_decode_str(s).decode_utf8().ok()?;
                params.push(decoded.into_owned());
            }
            (Some(p), Some(s)) if p == s => {}
            _ => return None,
        }
    }
}

/// Find the route for a request and run it.
pub fn route(api: &Api, ctx: &Ctx, request: &Request, body: &Map<String, Value>) -> HandlerResult {
    let path = request.path.strip_suffix('/').unwrap_or(&request.path);
    for (method, pattern, handler) in ROUTES {
        if *method != request.method {
            continue;
        }
        if let Some(params) = matches(pattern, path) {
            let call = Call {
                api,
                ctx,
                request,
                body,
                params,
            };
            return handler(&call);
        }
    }
    Err(LcError::route_not_found(&request.method, &request.path))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_capture_segments_and_need_the_same_length() {
        assert_eq!(
            matches("/1.1/classes/:class/:id", "/1.1/classes/Post/abc"),
            Some(vec!["Post".to_string(), "abc".to_string()])
        );
        assert_eq!(matches("/1.1/classes/:class", "/1.1/classes/Post/abc"), None);
        assert_eq!(matches("/1.1/classes/:class", "/1.1/classes/"), None);
        assert_eq!(matches("/1.1/date", "/1.1/date"), Some(vec![]));
    }
}
