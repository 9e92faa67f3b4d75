//! Who is asking: app credentials (`X-LC-Id` with `X-LC-Key` or `X-LC-Sign`, and the
//! legacy `X-AVOSCloud-*` aliases), the session token, the hook key, the environment.

use super::AppConfig;
use leancloud::{LcError, Request};
use serde_json::Value;
use std::borrow::Cow;

/// The privilege a request's keys give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privilege {
    /// The app key: subject to ACL and class permissions.
    App,
    /// The master key: bypasses every permission check.
    Master,
}

/// What the api knows about the caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ctx {
    pub privilege: Privilege,
    /// `X-LC-Session`, when sent.
    pub session: Option<String>,
    /// Whether the request carried the app's hook key.
    pub hook_key: bool,
    /// `X-LC-Prod`: production (default) or staging.
    pub production: bool,
    /// Inside `/1.1/batch`: some answers differ (a missing object is `null`, not `{}`).
    pub in_batch: bool,
    /// This request's trace node (hooks its writes fire are filed under it).
    pub trace: Option<super::trace::RequestNode>,
}

impl Ctx {
    pub fn is_master(&self) -> bool {
        self.privilege == Privilege::Master
    }
}

fn first_header<'a>(req: &'a Request, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| req.header(n)).map(str::trim)
}

/// Check the app credentials; 401 `Unauthorized.` when they are missing or wrong.
pub fn authenticate(config: &AppConfig, req: &Request) -> Result<Ctx, LcError> {
    let app_id = first_header(
        req,
        &[
            "x-lc-id",
            "x-avoscloud-application-id",
            "x-uluru-application-id",
        ],
    );
    if app_id != Some(config.app_id.as_str()) {
        return Err(LcError::unauthorized());
    }
    let privilege = if let Some(key) = first_header(
        req,
        &[
            "x-lc-key",
            "x-avoscloud-application-key",
            "x-uluru-application-key",
        ],
    ) {
        match key.strip_suffix(",master") {
            Some(master) if master == config.master_key => Privilege::Master,
            Some(_) => return Err(LcError::unauthorized()),
            None if key == config.app_key => Privilege::App,
            None => return Err(LcError::unauthorized()),
        }
    } else if let Some(key) = first_header(req, &["x-avoscloud-master-key", "x-uluru-master-key"]) {
        if key == config.master_key {
            Privilege::Master
        } else {
            return Err(LcError::unauthorized());
        }
    } else if let Some(sign) = first_header(req, &["x-lc-sign", "x-avoscloud-request-sign"]) {
        match leancloud::sign::verify(sign, &config.app_key, &config.master_key) {
            Some(leancloud::sign::Privilege::Master) => Privilege::Master,
            Some(leancloud::sign::Privilege::App) => Privilege::App,
            None => return Err(LcError::unauthorized()),
        }
    } else {
        return Err(LcError::unauthorized());
    };
    let session = first_header(
        req,
        &[
            "x-lc-session",
            "x-avoscloud-session-token",
            "x-uluru-session-token",
        ],
    )
    .filter(|s| !s.is_empty())
    .map(str::to_string);
    let hook_key = req.header("x-lc-hook-key") == Some(config.hook_key.as_str());
    let production =
        first_header(req, &["x-lc-prod", "x-avoscloud-application-production"]) != Some("0");
    Ok(Ctx {
        privilege,
        session,
        hook_key,
        production,
        in_batch: false,
        trace: None,
    })
}

/// Browsers send `POST` with a `text/plain` JSON body carrying `_method`,
/// `_ApplicationId`, `_ApplicationKey`, ... instead of headers. Rewrite such a request
/// into the ordinary form; keys starting with one `_` leave the body, `__` keys stay.
pub fn method_override(req: &Request) -> Result<Cow<'_, Request>, LcError> {
    let text_plain = req.header("content-type").is_some_and(|ct| {
        ct.get(..10)
            .is_some_and(|start| start.eq_ignore_ascii_case("text/plain"))
    });
    if req.method != "POST" || !text_plain {
        return Ok(Cow::Borrowed(req));
    }
    let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(&req.body) else {
        return Ok(Cow::Borrowed(req));
    };
    if !body
        .keys()
        .any(|k| k.starts_with('_') && !k.starts_with("__"))
    {
        return Ok(Cow::Borrowed(req));
    }
    let mut out = req.clone();
    let take = |body: &mut serde_json::Map<String, Value>, key: &str| {
        body.get(key).and_then(Value::as_str).map(str::to_string)
    };
    if let Some(m) = take(&mut body, "_method") {
        out.method = m.to_ascii_uppercase();
    }
    let pairs = [
        ("_ApplicationId", "x-lc-id"),
        ("_ApplicationKey", "x-lc-key"),
        ("_SessionToken", "x-lc-session"),
        ("_ApplicationProduction", "x-lc-prod"),
    ];
    for (field, header) in pairs {
        if let Some(v) = take(&mut body, field) {
            out = out.with_header(header, v);
        }
    }
    if let Some(master) = take(&mut body, "_MasterKey") {
        out = out.with_header("x-lc-key", format!("{master},master"));
    }
    body.retain(|k, _| !k.starts_with('_') || k.starts_with("__"));
    out.body = serde_json::to_vec(&Value::Object(body)).expect("JSON serialises");
    out = out.with_header("content-type", "application/json");
    Ok(Cow::Owned(out))
}
