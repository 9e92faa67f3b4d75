//! CORS as the real service offers it, for both fronts.
//!
//! The REST API "supports cross-origin resource sharing" for browser apps (protocol notes
//! §7b, leancloud/docs docs/sdk/storage/rest.mdx). What exactly it sends was not recorded;
//! the closest evidence is the official Node engine's middleware (leanengine 3.8.0,
//! middleware/cors.js), which every LeanEngine app answered with:
//! - every answer: `Access-Control-Allow-Origin` = the request's `Origin`, else `*`;
//! - `OPTIONS`: 200 with an empty body, `Access-Control-Max-Age: 86400`,
//!   `Access-Control-Allow-Methods: HEAD, GET, POST, PUT, DELETE, OPTIONS` and
//!   `Access-Control-Allow-Headers` = the `leancloud-cors-headers` package's list
//!   (0.1.0, the package the engine takes it from), reproduced in [`ALLOW_HEADERS`].
//!
//! No `Access-Control-Expose-Headers`: the engine sends none, and SDKs read only bodies and
//! statuses. The list of allowed headers is fixed, as there: a browser app that needs a
//! header outside it would fail on the real service too, so it fails here first.
//!
//! CORS covers the LeanCloud API only ([`is_api_path`]). The emulator's extras
//! (`/__mock/`, which the master key drives) and anything else stay closed to browser
//! pages: no CORS headers, and a preflight there goes to the api like any request (and
//! is refused), so a page cannot learn it was allowed.
//!
//! Shared by the standalone front and the wiremock front; it is a handful of constant
//! headers, so it lives here rather than in a CORS layer only one of the fronts could use.

use leancloud::Response;
use leancloud::http::Header;

/// Path prefixes of the LeanCloud API (`/1/` is the legacy version the service also
/// answers).
const API_PREFIXES: [&str; 3] = ["/1.1/", "/1/", "/v1/route"];

/// How long a browser may cache a preflight answer, in seconds (the Node engine's).
pub const MAX_AGE_SECS: u32 = 86_400;

/// `Access-Control-Allow-Methods` of a preflight answer.
pub const ALLOW_METHODS: &str = "HEAD, GET, POST, PUT, DELETE, OPTIONS";

/// `Access-Control-Allow-Headers` of a preflight answer: the headers LeanCloud SDKs send
/// (current `X-LC-*`, the older `X-AVOSCloud-*` and `X-Uluru-*`), as the
/// `leancloud-cors-headers` package lists them.
pub const ALLOW_HEADERS: &str = "Content-Type, X-AVOSCloud-Application-Id, \
X-AVOSCloud-Application-Key, X-AVOSCloud-Application-Production, X-AVOSCloud-Client-Version, \
X-AVOSCloud-Request-Sign, X-AVOSCloud-Session-Token, X-AVOSCloud-Super-Key, X-LC-Hook-Key, \
X-LC-Id, X-LC-Key, X-LC-Prod, X-LC-Session, X-LC-Sign, X-LC-UA, X-Requested-With, \
X-Uluru-Application-Id, X-Uluru-Application-Key, X-Uluru-Application-Production, \
X-Uluru-Client-Version, X-Uluru-Session-Token";

/// `Access-Control-Allow-Origin` of an answer to a request without an `Origin`.
pub const ANY_ORIGIN: &str = "*";

/// Whether `path` is part of the LeanCloud API, the only part CORS opens.
pub fn is_api_path(path: &str) -> bool {
    API_PREFIXES.iter().any(|p| path.starts_with(p))
}

/// The headers every answer to `path` carries (none outside the API). `origin` is the
/// request's `Origin` header.
pub fn answer_headers(path: &str, origin: Option<&str>) -> Vec<Header> {
    if !is_api_path(path) {
        return Vec::new();
    }
    const ALLOW: &str = "access-control-allow-origin";
    match origin {
        // The answer depends on the request's origin: caches must key on it.
        Some(origin) => vec![
            (ALLOW.into(), origin.to_string().into()),
            ("vary".into(), "Origin".into()),
        ],
        None => vec![(ALLOW.into(), ANY_ORIGIN.into())],
    }
}

/// Add the headers every answer to `path` carries.
pub fn add_answer_headers(response: &mut Response, path: &str, origin: Option<&str>) {
    response.headers.extend(answer_headers(path, origin));
}

/// The answer to a preflight, when the request is one the API answers: any `OPTIONS` on
/// an API path, keyless (a browser never sends keys on a preflight). `None` for
/// everything else, which goes to the api.
pub fn preflight(method: &str, path: &str, origin: Option<&str>) -> Option<Response> {
    if !method.eq_ignore_ascii_case("OPTIONS") || !is_api_path(path) {
        return None;
    }
    let mut headers = answer_headers(path, origin);
    headers.extend([
        (
            "access-control-max-age".into(),
            MAX_AGE_SECS.to_string().into(),
        ),
        ("access-control-allow-methods".into(), ALLOW_METHODS.into()),
        ("access-control-allow-headers".into(), ALLOW_HEADERS.into()),
    ]);
    Some(Response {
        status: 200,
        headers,
        body: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_api_paths_are_opened() {
        assert!(is_api_path("/1.1/classes/Post"));
        assert!(is_api_path("/1/classes/Post"));
        for closed in [
            "/__mock/traces",
            "/console/",
            "/",
            "/1.1",
            "/12/x",
            "/__mock/1.1/",
        ] {
            assert!(!is_api_path(closed), "{closed}");
            assert!(answer_headers(closed, Some("http://a.test")).is_empty());
            assert!(preflight("OPTIONS", closed, None).is_none());
        }
    }

    #[test]
    fn the_origin_is_echoed_else_any() {
        let pair = |k: &'static str, v: &'static str| (k.into(), v.into());
        assert_eq!(
            answer_headers("/1.1/date", Some("http://a.test")),
            [
                pair("access-control-allow-origin", "http://a.test"),
                pair("vary", "Origin")
            ]
        );
        assert_eq!(
            answer_headers("/1.1/date", None),
            [pair("access-control-allow-origin", "*")]
        );
        assert!(preflight("GET", "/1.1/date", None).is_none());
        let pre = preflight("options", "/1.1/date", None).unwrap();
        assert_eq!((pre.status, pre.body.len()), (200, 0));
        let allowed = pre.header("access-control-allow-headers").unwrap();
        assert!(
            allowed.split(", ").any(|h| h == "X-LC-Hook-Key"),
            "{allowed}"
        );
    }
}
