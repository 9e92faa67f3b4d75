//! UnionID and `authData` merging.
//!
//! A platform's data may carry `unionid` and `platform` (and `main_account`): one account
//! holder across several apps of the same platform (LeanCloud's authentication guide,
//! "UnionID"; protocol notes §users). As recorded in production (issue 16):
//! - a sign-up with `{"weixin_1": {..., "platform": "weixin", "unionid": U,
//!   "main_account": true}}` is 201 and its `authData` gains `"_weixin_unionid":
//!   {"uid": U}`;
//! - then `{"weixin_2": {..., "platform": "weixin", "unionid": U, "main_account":
//!   false}}` is 200 with the same user, `weixin_2` merged into its `authData`.
//!
//! So a body's unionid is one more linked account to look the user up by
//! (`_<platform>_unionid`, whose id is its `uid`), and `main_account: true` stores it.
//! A `PUT` of `authData` on a user merges platforms (recorded: merged, not replaced):
//! each platform becomes its own `authData.<platform>` change.

use super::Link;
use serde_json::{Map, Value, json};

/// The key under which a platform's unionid is kept.
pub fn unionid_key(platform: &str) -> String {
    format!("_{platform}_unionid")
}

/// `(platform, unionid, main_account)` of one platform's data, when it names a unionid.
fn unionid_of(data: &Value) -> Option<(&str, &str, bool)> {
    let platform = data.get("platform")?.as_str().filter(|s| !s.is_empty())?;
    let unionid = data.get("unionid")?.as_str().filter(|s| !s.is_empty())?;
    let main = data.get("main_account").and_then(Value::as_bool) == Some(true);
    Some((platform, unionid, main))
}

/// The unionid links an `authData` value implies (to find the user by), and the
/// `_<platform>_unionid` entries it stores (for main accounts).
pub fn expand(auth_data: &Map<String, Value>) -> (Vec<Link>, Map<String, Value>) {
    let mut links = Vec::new();
    let mut stored = Map::new();
    for data in auth_data.values() {
        let Some((platform, unionid, main)) = unionid_of(data) else {
            continue;
        };
        let key = unionid_key(platform);
        if auth_data.contains_key(&key) {
            continue;
        }
        let link = Link {
            platform: key.clone(),
            id: unionid.to_string(),
        };
        if !links.contains(&link) {
            links.push(link);
        }
        if main {
            stored.insert(key, json!({ "uid": unionid }));
        }
    }
    (links, stored)
}

/// A body with its `authData` (when an object) completed with the unionid entries
/// [`expand`] stores.
pub fn with_unionids(body: &Map<String, Value>) -> (Map<String, Value>, Vec<Link>) {
    let Some(Value::Object(auth_data)) = body.get("authData") else {
        return (body.clone(), Vec::new());
    };
    let (links, stored) = expand(auth_data);
    let mut body = body.clone();
    if !stored.is_empty() {
        let mut auth_data = auth_data.clone();
        auth_data.extend(stored);
        body.insert("authData".into(), Value::Object(auth_data));
    }
    (body, links)
}

/// An update body whose `authData` object is sent as one change per platform
/// (`authData.<platform>`), so platforms the user already has stay; a `null` platform
/// is unlinked. Unionid entries are added as on sign-up.
pub fn merging_auth_data(body: &Map<String, Value>) -> Map<String, Value> {
    let (body, _) = with_unionids(body);
    let Some(Value::Object(auth_data)) = body.get("authData") else {
        return body;
    };
    let mut out: Map<String, Value> = body
        .iter()
        .filter(|(k, _)| *k != "authData")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (platform, data) in auth_data {
        let value = if data.is_null() {
            json!({"__op": "Delete"})
        } else {
            data.clone()
        };
        out.insert(format!("authData.{platform}"), value);
    }
    out
}
