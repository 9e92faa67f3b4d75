//! The one routes table. A request no route serves gets a LeanCloud-shaped 404 that
//! names its method and path.

use super::{Api, Ctx, HandlerResult, batch, cloud, control, objects, roles};
use lc_model::{Principal, Store};
use leancloud::{LcError, Request};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;

/// Everything a handler gets for one request.
pub struct Call<'a> {
    pub api: &'a Api,
    pub ctx: &'a Ctx,
    pub request: &'a Request,
    pub body: &'a Map<String, Value>,
    /// Values of the `:name` segments of the route, in order (percent-decoded; borrowed
    /// from the path when nothing was encoded).
    pub params: Vec<Cow<'a, str>>,
}

impl Call<'_> {
    pub fn param(&self, i: usize) -> &str {
        &self.params[i]
    }

    /// The same call with `class` as its first parameter: `/1.1/users/<id>` and
    /// `/1.1/roles/<id>` are the generic object handlers on `_User` and `_Role`.
    pub fn for_class<'b>(&'b self, class: &'b str) -> Call<'b> {
        let mut params = vec![Cow::Borrowed(class)];
        params.extend(self.params.iter().cloned());
        Call {
            api: self.api,
            ctx: self.ctx,
            request: self.request,
            body: self.body,
            params,
        }
    }

    /// Whether a query parameter is `true` (or `1`).
    pub fn flag(&self, name: &str) -> bool {
        self.request
            .query_param(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    }

    /// The caller as the model sees it: master, a signed-in user (from the session
    /// token), or anonymous. An unknown session token is 211 unless the master key is
    /// used.
    pub fn principal(&self, store: &Store) -> Result<Principal, LcError> {
        self.caller(store, false)
    }

    /// The caller for sign-up and log-in, which ignore a session token nobody holds (the
    /// recordings sign up and log in while sending a deleted user's token).
    pub fn principal_ignoring_unknown_token(&self, store: &Store) -> Principal {
        self.caller(store, true)
            .expect("an unknown token is ignored, so there is no error")
    }

    fn caller(&self, store: &Store, ignore_unknown_token: bool) -> Result<Principal, LcError> {
        let user = match &self.ctx.session {
            None => None,
            Some(token) => match store.session_user(token) {
                Some(id) => Some(id.to_string()),
                None if self.ctx.is_master() || ignore_unknown_token => None,
                None => return Err(LcError::user_not_found()),
            },
        };
        let mut who = match user {
            Some(id) => Principal::user(store, &id),
            None => Principal::anonymous(),
        };
        who.master = self.ctx.is_master();
        Ok(who)
    }
}

type Handler = fn(&Call<'_>) -> HandlerResult;

/// `(method, pattern, handler)`. `:x` matches one path segment.
pub const ROUTES: &[(&str, &str, Handler)] = &[
    ("GET", "/1.1/date", control::server_date),
    ("POST", "/1.1/batch", batch::batch),
    // LiveQuery (its events go over the realtime WebSocket: api/livequery.rs).
    (
        "POST",
        "/1.1/LiveQuery/subscribe",
        super::livequery::subscribe,
    ),
    (
        "POST",
        "/1.1/LiveQuery/unsubscribe",
        super::livequery::unsubscribe,
    ),
    // Users, before the generic class routes: `_User` has its own rules there.
    ("POST", "/1.1/users", super::users::sign_up),
    ("POST", "/1.1/classes/_User", super::users::sign_up),
    ("POST", "/1.1/login", super::users::log_in),
    ("GET", "/1.1/users/me", super::users::current_user),
    ("GET", "/1.1/users", super::users::find_users),
    ("GET", "/1.1/users/:id", super::users::get_user),
    ("GET", "/1.1/classes/_User/:id", super::users::get_user),
    ("PUT", "/1.1/users/:id", super::users::update_user),
    ("PUT", "/1.1/classes/_User/:id", super::users::update_user),
    ("DELETE", "/1.1/users/:id", super::users::delete_user),
    (
        "PUT",
        "/1.1/users/:id/refreshSessionToken",
        super::users::refresh_session_token,
    ),
    (
        "PUT",
        "/1.1/users/:id/updatePassword",
        super::users::update_password,
    ),
    (
        "POST",
        "/1.1/requestPasswordReset",
        super::email::request_password_reset,
    ),
    (
        "POST",
        "/1.1/requestEmailVerify",
        super::email::request_email_verify,
    ),
    // SMS and phone flows (i16; api/phone.rs).
    (
        "POST",
        "/1.1/requestSmsCode",
        super::phone::request_sms_code,
    ),
    (
        "POST",
        "/1.1/verifySmsCode/:code",
        super::phone::verify_sms_code,
    ),
    (
        "POST",
        "/1.1/usersByMobilePhone",
        super::phone::users_by_mobile_phone,
    ),
    (
        "POST",
        "/1.1/requestMobilePhoneVerify",
        super::phone::request_mobile_phone_verify,
    ),
    (
        "POST",
        "/1.1/verifyMobilePhone/:code",
        super::phone::verify_mobile_phone,
    ),
    (
        "POST",
        "/1.1/requestLoginSmsCode",
        super::phone::request_login_sms_code,
    ),
    (
        "POST",
        "/1.1/requestChangePhoneNumber",
        super::phone::request_change_phone_number,
    ),
    (
        "POST",
        "/1.1/changePhoneNumber",
        super::phone::change_phone_number,
    ),
    (
        "POST",
        "/1.1/requestPasswordResetBySmsCode",
        super::phone::request_password_reset_by_sms_code,
    ),
    (
        "PUT",
        "/1.1/resetPasswordBySmsCode/:code",
        super::phone::reset_password_by_sms_code,
    ),
    // Email and captcha (i16; api/email.rs, api/captcha.rs).
    (
        "GET",
        "/1.1/requestCaptcha",
        super::captcha::request_captcha,
    ),
    ("POST", "/1.1/verifyCaptcha", super::captcha::verify_captcha),
    ("POST", "/1.1/classes/:class", objects::create_object),
    ("GET", "/1.1/classes/:class", objects::find_objects),
    ("GET", "/1.1/classes/:class/:id", objects::get_object),
    ("PUT", "/1.1/classes/:class/:id", objects::update_object),
    ("DELETE", "/1.1/classes/:class/:id", objects::delete_object),
    ("GET", "/1.1/scan/classes/:class", objects::scan_objects),
    // CQL (lc_model::cql): the same find as `GET /1.1/classes/<Class>`.
    ("GET", "/1.1/cloudQuery", super::cql::cloud_query),
    ("POST", "/1.1/cloudQuery", super::cql::cloud_query),
    // Follows and the status inbox (lc_model::social).
    (
        "POST",
        "/1.1/users/:id/friendship/:target",
        super::social::follow,
    ),
    (
        "DELETE",
        "/1.1/users/:id/friendship/:target",
        super::social::unfollow,
    ),
    (
        "GET",
        "/1.1/users/:id/followersAndFollowees",
        super::social::followers_and_followees,
    ),
    ("POST", "/1.1/statuses", super::social::send),
    ("DELETE", "/1.1/statuses/:id", super::social::delete),
    ("GET", "/1.1/subscribe/statuses", super::social::inbox),
    ("GET", "/1.1/subscribe/statuses/count", super::social::count),
    (
        "POST",
        "/1.1/subscribe/statuses/resetUnreadCount",
        super::social::reset_unread,
    ),
    (
        "DELETE",
        "/1.1/subscribe/statuses/inbox",
        super::social::delete_entry,
    ),
    // Files (lc_model::files; the bytes and uploads are keyless, api/files.rs).
    ("POST", "/1.1/fileTokens", super::files::file_token),
    ("POST", "/1.1/fileCallback", super::files::file_callback),
    ("POST", "/1.1/files", super::files::create_external),
    ("POST", "/1.1/files/:name", super::files::upload_direct),
    ("GET", "/1.1/files/:id", super::files::get_file),
    ("DELETE", "/1.1/files/:id", super::files::delete_file),
    // Push (lc_model::push).
    ("POST", "/1.1/push", super::push::send),
    ("POST", "/1.1/push/devices", super::push::send_to_devices),
    (
        "GET",
        "/1.1/tables/Notifications/:id",
        super::push::notification,
    ),
    ("GET", "/1.1/scheduledPushMessages", super::push::scheduled),
    (
        "DELETE",
        "/1.1/scheduledPushMessages/:id",
        super::push::cancel,
    ),
    // Leaderboards (lc_model::leaderboard).
    (
        "POST",
        "/1.1/leaderboard/leaderboards",
        super::leaderboard::create,
    ),
    (
        "GET",
        "/1.1/leaderboard/leaderboards/:name",
        super::leaderboard::fetch,
    ),
    (
        "PUT",
        "/1.1/leaderboard/leaderboards/:name",
        super::leaderboard::update,
    ),
    (
        "DELETE",
        "/1.1/leaderboard/leaderboards/:name",
        super::leaderboard::delete,
    ),
    (
        "PUT",
        "/1.1/leaderboard/leaderboards/:name/incrementVersion",
        super::leaderboard::increment_version,
    ),
    (
        "GET",
        "/1.1/leaderboard/leaderboards/:name/archives",
        super::leaderboard::archives,
    ),
    // The guide's routes for user boards, beside the SDK's.
    (
        "GET",
        "/1.1/leaderboard/leaderboards/user/:name/ranks",
        super::leaderboard::ranks,
    ),
    (
        "GET",
        "/1.1/leaderboard/leaderboards/user/:name/ranks/:user",
        super::leaderboard::ranks,
    ),
    (
        "POST",
        "/1.1/leaderboard/users/statistics/:name",
        super::leaderboard::statistics_of_users,
    ),
    (
        "GET",
        "/1.1/leaderboard/leaderboards/:name/ranks",
        super::leaderboard::ranks,
    ),
    (
        "GET",
        "/1.1/leaderboard/leaderboards/:name/ranks/:user",
        super::leaderboard::ranks,
    ),
    (
        "GET",
        "/1.1/leaderboard/users/:user/statistics",
        super::leaderboard::get_statistics,
    ),
    (
        "POST",
        "/1.1/leaderboard/users/:user/statistics",
        super::leaderboard::update_statistics,
    ),
    (
        "DELETE",
        "/1.1/leaderboard/users/:user/statistics",
        super::leaderboard::delete_statistics,
    ),
    ("POST", "/1.1/roles", roles::create_role),
    ("GET", "/1.1/roles", roles::find_roles),
    ("GET", "/1.1/roles/:id", roles::get_role),
    ("PUT", "/1.1/roles/:id", roles::update_role),
    ("DELETE", "/1.1/roles/:id", roles::delete_role),
    ("GET", "/1.1/schemas", super::schemas::schemas),
    ("GET", "/1.1/schemas/:class", super::schemas::schema),
    ("POST", "/1.1/functions/:name", cloud::call_function),
    ("POST", "/1.1/call/:name", cloud::call_function),
    ("POST", "/__mock/reset", control::reset),
    ("POST", "/__mock/snapshots", control::save_snapshot),
    (
        "POST",
        "/__mock/snapshots/:name/restore",
        control::restore_snapshot,
    ),
    ("POST", "/__mock/idle", control::idle),
    ("GET", "/__mock/traces", control::traces),
    ("DELETE", "/__mock/traces", control::clear_traces),
    ("GET", "/__mock/outbox", control::outbox),
    ("DELETE", "/__mock/outbox", control::clear_outbox),
    // Issue 20: what only an emulator gives a test (the clock, faults, coverage).
    ("GET", "/__mock/clock", super::clock::show),
    ("POST", "/__mock/clock", super::clock::change),
    ("POST", "/__mock/faults", super::faults::add),
    ("GET", "/__mock/faults", super::faults::list),
    ("DELETE", "/__mock/faults", super::faults::clear),
    ("GET", "/__mock/coverage", super::coverage::show),
    // What the console reads beyond the API (api::console).
    ("GET", "/__mock/classes", super::console::classes),
    ("POST", "/__mock/export", super::console::export),
    ("POST", "/__mock/load", super::console::load),
    ("GET", "/__mock/sessions", super::console::sessions),
    ("GET", "/__mock/cloud", super::console::show),
    ("POST", "/__mock/cloud/hook", super::console::call_hook),
    ("DELETE", "/__mock/coverage", super::coverage::clear),
    // Issue 19: the health of a deployed emulator (api::health).
    ("GET", "/__mock/health", super::health::health),
];

/// A route's pattern, split once: its segments, each fixed text or a `:name` parameter.
struct Pattern {
    method: &'static str,
    segments: Vec<Option<&'static str>>,
    handler: Handler,
}

impl Pattern {
    fn new(method: &'static str, pattern: &'static str, handler: Handler) -> Self {
        let segments = pattern
            .split('/')
            .map(|s| (!s.starts_with(':')).then_some(s))
            .collect();
        Pattern {
            method,
            segments,
            handler,
        }
    }

    /// The decoded parameters when the path's segments (`path.split('/')`) match: the same
    /// number of segments, the fixed ones equal, a parameter not empty.
    fn matches<'p>(&self, path: &[&'p str]) -> Option<Vec<Cow<'p, str>>> {
        if self.segments.len() != path.len() {
            return None;
        }
        let fits = self
            .segments
            .iter()
            .zip(path)
            .all(|(fixed, s)| fixed.map_or(!s.is_empty(), |f| f == *s));
        if !fits {
            return None;
        }
        self.segments
            .iter()
            .zip(path)
            .filter(|(fixed, _)| fixed.is_none())
            .map(|(_, s)| percent_encoding::percent_decode_str(s).decode_utf8().ok())
            .collect()
    }
}

/// The most segments a route's pattern has (`path.split('/')`, the empty one before the
/// first `/` included); a test holds every route to it.
const MAX_ROUTE_SEGMENTS: usize = 10;

/// Where a route's path is told apart first: its third segment (`classes` in
/// `/1.1/classes/:class`), fixed in every route.
const BUCKET_SEGMENT: usize = 2;

/// [`ROUTES`], split once and grouped by their [`BUCKET_SEGMENT`], each group in the
/// table's order: a request is matched against its group only, in that order.
static PATTERNS: std::sync::LazyLock<HashMap<&'static str, Vec<Pattern>>> =
    std::sync::LazyLock::new(|| {
        let mut groups: HashMap<&'static str, Vec<Pattern>> = HashMap::new();
        for &(method, pattern, handler) in ROUTES {
            let pattern = Pattern::new(method, pattern, handler);
            let bucket = pattern.segments.get(BUCKET_SEGMENT).copied().flatten();
            groups
                .entry(bucket.expect("every route's third segment is fixed"))
                .or_default()
                .push(pattern);
        }
        groups
    });

/// Find the route for a request and run it.
pub fn route(api: &Api, ctx: &Ctx, request: &Request, body: &Map<String, Value>) -> HandlerResult {
    let path = request.path.strip_suffix('/').unwrap_or(&request.path);
    // No route has more segments than this: a longer path matches none.
    let mut segments = [""; MAX_ROUTE_SEGMENTS];
    let mut count = 0;
    for segment in path.split('/') {
        if count == MAX_ROUTE_SEGMENTS {
            return Err(LcError::route_not_found(&request.method, &request.path));
        }
        segments[count] = segment;
        count += 1;
    }
    let segments = &segments[..count];
    let group = segments
        .get(BUCKET_SEGMENT)
        .and_then(|s| PATTERNS.get(s))
        .map_or(&[][..], Vec::as_slice);
    for pattern in group {
        if pattern.method != request.method {
            continue;
        }
        if let Some(params) = pattern.matches(segments) {
            let call = Call {
                api,
                ctx,
                request,
                body,
                params,
            };
            return (pattern.handler)(&call);
        }
    }
    Err(LcError::route_not_found(&request.method, &request.path))
}

#[cfg(test)]
mod tests {
    use super::Pattern;
    use leancloud::LcError;

    fn matches(pattern: &'static str, path: &str) -> Option<Vec<String>> {
        let never = |_: &super::Call<'_>| Err(LcError::route_not_found("GET", "/"));
        let segments: Vec<&str> = path.split('/').collect();
        let params = Pattern::new("GET", pattern, never).matches(&segments)?;
        Some(params.into_iter().map(|p| p.into_owned()).collect())
    }

    #[test]
    fn patterns_capture_segments_and_need_the_same_length() {
        assert_eq!(
            matches("/1.1/classes/:class/:id", "/1.1/classes/Post/abc"),
            Some(vec!["Post".to_string(), "abc".to_string()])
        );
        assert_eq!(
            matches("/1.1/classes/:class", "/1.1/classes/Post/abc"),
            None
        );
        assert_eq!(matches("/1.1/classes/:class", "/1.1/classes/"), None);
        assert_eq!(matches("/1.1/date", "/1.1/date"), Some(vec![]));
        // Parameters are percent-decoded; one that is not UTF-8 once decoded matches nothing.
        assert_eq!(
            matches("/1.1/classes/:class/:id", "/1.1/classes/Post/a%20b"),
            Some(vec!["Post".to_string(), "a b".to_string()])
        );
        assert_eq!(matches("/1.1/files/:name", "/1.1/files/%FF"), None);
    }

    #[test]
    fn every_route_is_in_the_group_of_its_third_segment_and_fits_the_segment_buffer() {
        let grouped: usize = super::PATTERNS.values().map(Vec::len).sum();
        assert_eq!(grouped, super::ROUTES.len());
        for pattern in super::PATTERNS.values().flatten() {
            assert!(pattern.segments.len() <= super::MAX_ROUTE_SEGMENTS);
        }
    }
}
