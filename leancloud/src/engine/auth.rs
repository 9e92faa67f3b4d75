//! Who is calling the engine: app credentials as the Node engine reads and checks them
//! (`leancloud-headers` middleware in restrict mode), the hook key, the client address.

use super::EngineConfig;
use crate::Request;
use md5::{Digest, Md5};
use serde_json::{Map, Value};
use std::net::IpAddr;

/// The credentials a request carries, from headers or (browser form) from the body.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub app_id: Option<String>,
    pub key: Option<String>,
    pub master_key: Option<String>,
    pub session_token: Option<String>,
}

fn first_header(req: &Request, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| req.header(n))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl Credentials {
    /// `X-LC-Id`, `X-LC-Key` (`<masterKey>,master` is the master key), `X-LC-Session`,
    /// with their `X-AVOSCloud-*` / `X-Uluru-*` aliases.
    pub fn from_headers(req: &Request) -> Self {
        let mut creds = Credentials {
            app_id: first_header(
                req,
                &[
                    "x-lc-id",
                    "x-avoscloud-application-id",
                    "x-uluru-application-id",
                ],
            ),
            key: first_header(
                req,
                &[
                    "x-lc-key",
                    "x-avoscloud-application-key",
                    "x-uluru-application-key",
                ],
            ),
            master_key: first_header(req, &["x-avoscloud-master-key", "x-uluru-master-key"]),
            session_token: first_header(
                req,
                &[
                    "x-lc-session",
                    "x-uluru-session-token",
                    "x-avoscloud-session-token",
                ],
            ),
        };
        if let Some(key) = &creds.key
            && key.find(",master").is_some_and(|at| at > 0)
        {
            let master = key.split(',').next().unwrap_or_default().to_string();
            creds.master_key = Some(master);
            creds.key = None;
        }
        creds
    }

    /// A browser's `text/plain` body: `_ApplicationId`, `_ApplicationKey`, `_MasterKey`,
    /// `_SessionToken` are taken out, with every other `_x` key; `__x` keys stay.
    pub fn take_from_body(body: &mut Map<String, Value>) -> Self {
        let take = |body: &Map<String, Value>, key: &str| {
            body.get(key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let creds = Credentials {
            app_id: take(body, "_ApplicationId"),
            key: take(body, "_ApplicationKey"),
            master_key: take(body, "_MasterKey"),
            session_token: take(body, "_SessionToken"),
        };
        body.retain(|k, _| !k.starts_with('_') || k.starts_with("__"));
        creds
    }
}

/// Check the credentials; `Some(true)` for the master key, `Some(false)` for the app key,
/// `None` for `401 Unauthorized.`.
///
/// As the Node engine: the app key, or the master key sent as a plain key (app
/// privilege), or the master key (master privilege), or a valid `X-LC-Sign` (its hex in
/// any case; anything after `,master` is ignored).
pub(crate) fn authorize(config: &EngineConfig, creds: &Credentials, req: &Request) -> Option<bool> {
    let app_id = creds.app_id.as_deref()?;
    if app_id != config.app_id {
        return None;
    }
    let master = creds.master_key.as_deref() == Some(config.master_key.as_str());
    let key = creds.key.as_deref();
    if master || key == Some(config.app_key.as_str()) || key == Some(config.master_key.as_str()) {
        return Some(master);
    }
    let sign = first_header(req, &["x-lc-sign", "x-avoscloud-request-sign"])?;
    let mut parts = sign.split(',');
    let (sig, ts) = (parts.next()?, parts.next()?);
    let master = parts.next() == Some("master");
    let key = if master {
        &config.master_key
    } else {
        &config.app_key
    };
    let expected = hex::encode(Md5::digest(format!("{ts}{key}").as_bytes()));
    (!key.is_empty() && expected == sig.to_ascii_lowercase()).then_some(master)
}

/// The hook-key check as the Node engine makes it: the header must equal the configured
/// key; with no key configured, only a request without the header passes.
pub(crate) fn hook_key_matches(config: &EngineConfig, req: &Request) -> bool {
    req.header("x-lc-hook-key") == config.hook_key.as_deref()
}

/// The client's address: `Forwarded: for=...`, else `X-Real-IP`, else the first
/// `X-Forwarded-For` entry, else the peer (`127.0.0.1` in-process).
pub(crate) fn remote_address(req: &Request, peer: Option<IpAddr>) -> String {
    let forwarded = req.header("forwarded").and_then(|value| {
        value
            .split([';', ','])
            .filter_map(|part| part.trim().split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
            .map(|(_, v)| v.trim().trim_matches('"').to_string())
    });
    let header = forwarded
        .or_else(|| req.header("x-real-ip").map(|v| v.trim().to_string()))
        .or_else(|| {
            req.header("x-forwarded-for")
                .and_then(|v| v.split(',').next())
                .map(|v| v.trim().to_string())
        })
        .filter(|v| !v.is_empty());
    if let Some(address) = header {
        return address;
    }
    match peer {
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        Some(ip) => ip.to_string(),
        None => "127.0.0.1".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> EngineConfig {
        EngineConfig::new("app", "key", "master").with_hook_key("hook")
    }

    fn req(headers: &[(&str, &str)]) -> Request {
        headers
            .iter()
            .fold(Request::new("POST", "/1.1/functions/f"), |r, (k, v)| {
                r.with_header(k, *v)
            })
    }

    fn check(headers: &[(&str, &str)]) -> Option<bool> {
        let r = req(headers);
        authorize(&config(), &Credentials::from_headers(&r), &r)
    }

    #[test]
    fn app_and_master_keys_give_their_privilege() {
        assert_eq!(
            check(&[("x-lc-id", "app"), ("x-lc-key", "key")]),
            Some(false)
        );
        assert_eq!(
            check(&[("x-lc-id", "app"), ("x-lc-key", "master,master")]),
            Some(true)
        );
        assert_eq!(
            check(&[
                ("x-avoscloud-application-id", "app"),
                ("x-avoscloud-master-key", "master")
            ]),
            Some(true)
        );
        // The Node engine accepts the master key sent as a plain key, without privilege.
        assert_eq!(
            check(&[("x-lc-id", "app"), ("x-lc-key", "master")]),
            Some(false)
        );
    }

    #[test]
    fn wrong_or_missing_credentials_are_refused() {
        assert_eq!(check(&[]), None);
        assert_eq!(check(&[("x-lc-key", "key")]), None);
        assert_eq!(check(&[("x-lc-id", "other"), ("x-lc-key", "key")]), None);
        assert_eq!(check(&[("x-lc-id", "app"), ("x-lc-key", "nope")]), None);
        assert_eq!(
            check(&[("x-lc-id", "app"), ("x-lc-key", "key,master")]),
            None
        );
    }

    #[test]
    fn signatures_verify_in_either_case() {
        let sig = crate::sign::header_value("key", 1_795_471_649_520, false);
        assert_eq!(
            check(&[("x-lc-id", "app"), ("x-lc-sign", &sig)]),
            Some(false)
        );
        let upper = sig.to_ascii_uppercase();
        assert_eq!(
            check(&[("x-lc-id", "app"), ("x-lc-sign", &upper)]),
            Some(false)
        );
        let master = crate::sign::header_value("master", 1, true);
        assert_eq!(
            check(&[("x-lc-id", "app"), ("x-avoscloud-request-sign", &master)]),
            Some(true)
        );
        let wrong = crate::sign::header_value("nope", 1, false);
        assert_eq!(check(&[("x-lc-id", "app"), ("x-lc-sign", &wrong)]), None);
        assert_eq!(check(&[("x-lc-id", "app"), ("x-lc-sign", "garbage")]), None);
    }

    #[test]
    fn a_browser_body_gives_credentials_and_keeps_double_underscore_keys() {
        let mut body = serde_json::json!({
            "_ApplicationId": "app", "_ApplicationKey": "key", "_SessionToken": "t",
            "_other": 1, "a": 1, "__keep": 2
        })
        .as_object()
        .cloned()
        .unwrap();
        let creds = Credentials::take_from_body(&mut body);
        assert_eq!(creds.app_id.as_deref(), Some("app"));
        assert_eq!(creds.key.as_deref(), Some("key"));
        assert_eq!(creds.session_token.as_deref(), Some("t"));
        assert_eq!(
            Value::Object(body),
            serde_json::json!({"a": 1, "__keep": 2})
        );
    }

    #[test]
    fn the_remote_address_prefers_forwarding_headers() {
        let peer = Some("::ffff:10.0.0.9".parse().unwrap());
        assert_eq!(remote_address(&req(&[]), peer), "10.0.0.9");
        assert_eq!(remote_address(&req(&[]), None), "127.0.0.1");
        assert_eq!(
            remote_address(&req(&[("x-forwarded-for", "1.2.3.4, 5.6.7.8")]), peer),
            "1.2.3.4"
        );
        assert_eq!(
            remote_address(
                &req(&[("x-real-ip", "9.9.9.9"), ("x-forwarded-for", "1.2.3.4")]),
                peer
            ),
            "9.9.9.9"
        );
        assert_eq!(
            remote_address(
                &req(&[
                    ("forwarded", "proto=http;for=\"8.8.8.8\""),
                    ("x-real-ip", "9.9.9.9")
                ]),
                peer
            ),
            "8.8.8.8"
        );
    }

    #[test]
    fn the_hook_key_must_match_exactly() {
        let c = config();
        assert!(hook_key_matches(&c, &req(&[("x-lc-hook-key", "hook")])));
        assert!(!hook_key_matches(&c, &req(&[("x-lc-hook-key", "nope")])));
        assert!(!hook_key_matches(&c, &req(&[])));
        let no_key = EngineConfig::new("app", "key", "master");
        assert!(hook_key_matches(&no_key, &req(&[])));
        assert!(!hook_key_matches(&no_key, &req(&[("x-lc-hook-key", "x")])));
    }
}
