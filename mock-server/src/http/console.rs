//! The console at `/console/` on the standalone server: three static files built into
//! the binary (no front-end toolchain) and `config.json`, which tells the page the app
//! id and, when it may, the master key it then uses for every request.
//!
//! Who may open it without keys: a server listening on a loopback address hands the
//! master key to a page loaded from a loopback `Host` (`127.0.0.1`, `localhost`, `[::1]`),
//! when any `Origin` sent is that same loopback origin. That shuts out pages of other
//! sites (their requests carry their origin) and DNS rebinding (a hostile name resolving
//! to 127.0.0.1 arrives with that name as `Host`). Any other server serves the page but
//! not the key: the page asks for it. The files themselves hold no secret.

use crate::api::AppConfig;
use leancloud::Response;
use serde_json::json;

/// The console's files: path under `/console/`, content type, contents.
const FILES: [(&str, &str, &str); 3] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../console/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../console/style.css"),
    ),
];

/// Headers every console answer carries: no framing by other sites, scripts and
/// requests from this origin only, nothing cached.
const HARDENING: [(&str, &str); 5] = [
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
];

/// Whether `path` is the console's.
pub fn is_console(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/")
}

/// Whether `host` (a `Host` header: name and optional port) names this machine.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().map(|h| format!("[{h}]")),
        None => host.split(':').next().map(str::to_string),
    };
    matches!(name.as_deref(), Some("127.0.0.1" | "localhost" | "[::1]"))
}

/// The console's answer to `GET path` with `host` and `origin` (`open`: the server
/// listens on a loopback address).
pub fn answer(
    path: &str,
    method: &str,
    host: Option<&str>,
    origin: Option<&str>,
    open: bool,
    config: &AppConfig,
) -> Response {
    let mut response = if method != "GET" && method != "HEAD" {
        Response::json(
            405,
            &json!({"code": 1, "error": "The console is read with GET."}),
        )
    } else if path == "/console" {
        Response {
            status: 308,
            headers: vec![("location".into(), "/console/".into())],
            body: Vec::new(),
        }
    } else {
        let file = path.strip_prefix("/console/").unwrap_or("");
        let file = if file.is_empty() { "index.html" } else { file };
        if file == "config.json" {
            config_json(host, origin, open, config)
        } else {
            match FILES.iter().find(|(name, _, _)| *name == file) {
                Some((_, kind, body)) => Response {
                    status: 200,
                    headers: vec![("content-type".into(), (*kind).into())],
                    body: body.as_bytes().to_vec(),
                },
                None => Response::json(
                    404,
                    &json!({"code": 1, "error": format!("The console has no file '{file}'.")}),
                ),
            }
        }
    };
    for (k, v) in HARDENING {
        response.headers.push((k.into(), v.into()));
    }
    response
}

fn config_json(
    host: Option<&str>,
    origin: Option<&str>,
    open: bool,
    config: &AppConfig,
) -> Response {
    let same_origin = match (origin, host) {
        (None, _) => true,
        (Some(o), Some(h)) => o == format!("http://{h}"),
        (Some(_), None) => false,
    };
    if !same_origin {
        return Response::json(
            403,
            &json!({"code": 1, "error": "The console answers pages of its own origin only."}),
        );
    }
    let keyless = open && host.is_some_and(loopback_host);
    let body = if keyless {
        json!({"appId": config.app_id, "appKey": config.app_key, "masterKey": config.master_key, "keyless": true})
    } else {
        json!({"appId": config.app_id, "keyless": false})
    };
    Response::json(200, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_of(r: &Response) -> serde_json::Value {
        r.body_json().unwrap()
    }

    #[test]
    fn a_loopback_server_gives_a_loopback_page_the_master_key() {
        let cfg = AppConfig::default();
        for host in [
            "127.0.0.1:3000",
            "localhost:8080",
            "[::1]:9000",
            "localhost",
        ] {
            let r = answer("/console/config.json", "GET", Some(host), None, true, &cfg);
            assert_eq!(
                config_of(&r)["masterKey"],
                cfg.master_key.as_str(),
                "{host}"
            );
            let origin = format!("http://{host}");
            let r = answer(
                "/console/config.json",
                "GET",
                Some(host),
                Some(&origin),
                true,
                &cfg,
            );
            assert_eq!(config_of(&r)["keyless"], true, "{host} with its own origin");
        }
    }

    #[test]
    fn other_hosts_origins_and_servers_get_no_key() {
        let cfg = AppConfig::default();
        // DNS rebinding: a hostile name that resolves to 127.0.0.1.
        let r = answer(
            "/console/config.json",
            "GET",
            Some("evil.example:3000"),
            None,
            true,
            &cfg,
        );
        assert_eq!(config_of(&r)["keyless"], false);
        assert!(config_of(&r).get("masterKey").is_none());
        // Another site's page asking.
        let r = answer(
            "/console/config.json",
            "GET",
            Some("127.0.0.1:3000"),
            Some("http://evil.example"),
            true,
            &cfg,
        );
        assert_eq!(r.status, 403);
        // A server on another address: the page asks for the key.
        let r = answer(
            "/console/config.json",
            "GET",
            Some("127.0.0.1:3000"),
            None,
            false,
            &cfg,
        );
        assert!(config_of(&r).get("masterKey").is_none());
    }

    #[test]
    fn the_files_are_served_hardened_and_unknown_ones_are_404() {
        let cfg = AppConfig::default();
        let r = answer("/console/", "GET", Some("127.0.0.1"), None, true, &cfg);
        assert_eq!(r.status, 200);
        assert!(String::from_utf8_lossy(&r.body).contains("lc-mock console"));
        assert!(
            r.headers
                .iter()
                .any(|(k, v)| k == "x-frame-options" && v == "DENY")
        );
        assert_eq!(
            answer("/console", "GET", None, None, true, &cfg).status,
            308
        );
        assert_eq!(
            answer("/console/../Cargo.toml", "GET", None, None, true, &cfg).status,
            404
        );
        assert_eq!(
            answer("/console/app.js", "POST", None, None, true, &cfg).status,
            405
        );
    }
}
