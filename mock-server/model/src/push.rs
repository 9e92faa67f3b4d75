//! Push notifications (`POST /1.1/push`, `/1.1/push/devices`, scheduled pushes): who a
//! push reaches among `_Installation` rows, and the notification each of them would get,
//! kept in the app's outbox instead of going to APNs or a vendor.
//!
//! Facts from LeanCloud's push guide (weakish/docs `views/push_guide.md`, a 2019 copy of
//! leancloud/docs): a push selects `_Installation` rows by `where` (any query) and/or
//! `channels`, only valid ones (`valid` not `false`) updated in the last 90 days; `data`
//! is required; `prod` is `dev` or `prod`; `expiration_time` (ISO date) or
//! `expiration_interval` (seconds from the call); `push_time` (ISO date) less than a
//! minute away is sent at once, later ones are scheduled, listed (master key) at
//! `GET /1.1/scheduledPushMessages` as `{"id", "expire_time", "push_msg", "createdAt"}`
//! and cancelled with `DELETE /1.1/scheduledPushMessages/<id>`; the request body is under
//! 4,096 characters; a notification record (`GET /1.1/tables/Notifications/<objectId>`)
//! has `data`, `where`, `prod`, `status` (`scheduled`, `in-queue`, `done`), `devices` and
//! `successes`; the JS SDK may send `cql` (a CQL select over `_Installation`) for
//! `where`; channel names are letters and digits; error 112 is an invalid channel
//! (protocol notes §5). `/1.1/push/devices` takes `device_type` and up to 500
//! `device_ids` (`deviceToken` on iOS, `installationId` on Android).
//! Choices: the answer to a push is `{"objectId", "createdAt"}` of its notification
//! record (the guide says the call returns the record's objectId); a push past its
//! expiration when due is recorded `expired` and reaches nobody; clients may push (the
//! guide's examples use the app key; the console switch that forbids it is not emulated).

use crate::outbox::{Channel, Draft};
use crate::query::{Everything, Matcher};
use crate::store::Store;
use imbl::OrdMap;
use leancloud::LcError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Bytes in a push request's body (the guide: under 4,096 characters).
pub const MAX_PUSH_BODY_BYTES: usize = 4096;
/// Scheduled pushes waiting at once (the guide: 1,000 for a commercial app).
pub const MAX_SCHEDULED_PUSHES: usize = 1000;
/// Notification records kept (the service keeps a week's); the oldest go first.
pub const MAX_NOTIFICATIONS: usize = 10_000;
/// Device ids in one `/1.1/push/devices` request (the guide).
pub const MAX_DEVICE_IDS: usize = 500;
/// An installation not updated for this long is not pushed to (the guide: 90 days).
pub const ACTIVE_WINDOW_MS: i64 = 90 * 86_400_000;
/// A `push_time` closer than this is sent at once (the guide: one minute).
pub const IMMEDIATE_MS: i64 = 60_000;

/// One push request, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub object_id: String,
    /// What the service calls the notification (the request's `notification_id` or a
    /// generated one).
    pub notification_id: String,
    pub data: Value,
    /// The `_Installation` query it targets.
    pub r#where: Value,
    pub prod: String,
    pub status: String,
    pub devices: usize,
    pub successes: usize,
    pub push_time: Option<i64>,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Its number in the scheduled list while it waits.
    pub schedule_id: Option<u64>,
}

impl Notification {
    pub fn to_json(&self) -> Value {
        let date = leancloud::value::format_date;
        json!({
            "objectId": self.object_id,
            "notificationId": self.notification_id,
            "data": self.data,
            "where": self.r#where,
            "prod": self.prod,
            "status": self.status,
            "devices": self.devices,
            "successes": self.successes,
            "createdAt": date(self.created_at),
            "updatedAt": date(self.updated_at),
        })
    }

    /// As `GET /1.1/scheduledPushMessages` lists it.
    pub fn scheduled_json(&self, app_id: &str) -> Value {
        json!({
            "id": self.schedule_id,
            "expire_time": self.push_time,
            "push_msg": {
                "app-id": app_id,
                "where": {"query": self.r#where},
                "prod": self.prod,
                "api-version": "1.1",
                "msg": self.data,
                "id": self.object_id,
                "notificationId": self.notification_id,
            },
            "createdAt": leancloud::value::format_date(self.created_at),
        })
    }
}

/// The app's push records and the scheduled list. Persistent: snapshots copy nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Pushes {
    notifications: OrdMap<String, Notification>,
    /// Schedule id -> notification objectId, in schedule order.
    #[serde(with = "crate::serde_pairs")]
    scheduled: OrdMap<u64, String>,
    next_schedule_id: u64,
}

impl Pushes {
    /// Whether `other` is this very state (a copy that shares its maps).
    pub fn same(&self, other: &Pushes) -> bool {
        self.next_schedule_id == other.next_schedule_id
            && self.notifications.ptr_eq(&other.notifications)
            && self.scheduled.ptr_eq(&other.scheduled)
    }

    pub fn get(&self, object_id: &str) -> Option<&Notification> {
        self.notifications.get(object_id)
    }

    /// The pushes waiting, in schedule order.
    pub fn scheduled(&self) -> Vec<&Notification> {
        self.scheduled
            .values()
            .filter_map(|id| self.notifications.get(id))
            .collect()
    }

    /// Take a scheduled push off the list; `false` when there is none with that id.
    pub fn cancel(&mut self, schedule_id: u64, now: i64) -> bool {
        let Some(object_id) = self.scheduled.remove(&schedule_id) else {
            return false;
        };
        // The guide: a cancelled push is removed from the records.
        self.notifications.remove(&object_id);
        let _ = now;
        true
    }

    fn keep(&mut self, n: Notification) {
        self.notifications.insert(n.object_id.clone(), n);
        while self.notifications.len() > MAX_NOTIFICATIONS {
            let oldest = self
                .notifications
                .values()
                .filter(|n| n.schedule_id.is_none())
                .min_by_key(|n| n.created_at)
                .map(|n| n.object_id.clone());
            match oldest {
                Some(id) => {
                    self.notifications.remove(&id);
                }
                None => break,
            }
        }
    }
}

/// What a push request asks, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub data: Value,
    pub r#where: Value,
    pub prod: String,
    pub push_time: Option<i64>,
    pub expires_at: Option<i64>,
    pub notification_id: Option<String>,
}

fn bad(detail: impl std::fmt::Display) -> LcError {
    LcError::invalid_json_detail(detail)
}

/// Channel names are letters and digits (the empty channel is the broadcast one the
/// guide's examples use); anything else is 112.
pub fn check_channel(name: &str) -> Result<(), LcError> {
    if name.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(LcError::new(
            400,
            112,
            format!("Invalid channel name: '{name}'. A channel name is letters and digits."),
        ))
    }
}

fn date_param(body: &serde_json::Map<String, Value>, key: &str) -> Result<Option<i64>, LcError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(iso)) => leancloud::value::parse_date(iso)
            .map(Some)
            .ok_or_else(|| bad(format!("{key} is a UTC date like 2019-04-01T06:19:29.000Z"))),
        Some(_) => Err(bad(format!("{key} is a date string"))),
    }
}

impl Request {
    /// Read `POST /1.1/push`'s body at `now`: `data`, `where`, `channels`, `prod`,
    /// `push_time`, `expiration_time`, `expiration_interval`, `notification_id`.
    pub fn parse(body: &serde_json::Map<String, Value>, now: i64) -> Result<Request, LcError> {
        let data = match body.get("data") {
            Some(Value::Object(d)) => Value::Object(d.clone()),
            _ => return Err(bad("data is required: a JSON object")),
        };
        let mut conditions = Vec::new();
        match body.get("where") {
            None | Some(Value::Null) => {}
            Some(Value::Object(w)) => conditions.push(Value::Object(w.clone())),
            Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                Ok(w @ Value::Object(_)) => conditions.push(w),
                _ => return Err(bad("where is a JSON object")),
            },
            Some(_) => return Err(bad("where is a JSON object")),
        }
        // The SDK's `cql`: a CQL select over `_Installation` instead of `where`.
        match body.get("cql") {
            None | Some(Value::Null) => {}
            Some(Value::String(cql)) => {
                let compiled = crate::cql::compile(cql, &[], now)?;
                if compiled.class != "_Installation" {
                    return Err(bad("cql selects from _Installation"));
                }
                let w = compiled.params.get("where").cloned().unwrap_or(json!({}));
                conditions.push(w);
            }
            Some(_) => return Err(bad("cql is a string")),
        }
        match body.get("channels") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                let mut names = Vec::with_capacity(list.len());
                for c in list {
                    let name = c.as_str().ok_or_else(|| bad("channels are strings"))?;
                    check_channel(name)?;
                    names.push(Value::String(name.to_string()));
                }
                conditions.push(json!({"channels": {"$in": names}}));
            }
            Some(_) => return Err(bad("channels is an array of names")),
        }
        let r#where = match conditions.len() {
            0 => json!({}),
            1 => conditions.pop().unwrap_or_default(),
            _ => json!({ "$and": conditions }),
        };
        let prod = match body.get("prod") {
            None | Some(Value::Null) => "prod".to_string(),
            Some(Value::String(p)) if p == "prod" || p == "dev" => p.clone(),
            Some(_) => return Err(bad("prod is dev or prod")),
        };
        let push_time = date_param(body, "push_time")?;
        let interval = match body.get("expiration_interval") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(_) => None,
        };
        if body
            .get("expiration_interval")
            .is_some_and(|v| !v.is_null())
            && interval.is_none()
        {
            return Err(bad("expiration_interval is a number of seconds"));
        }
        let expires_at = match (date_param(body, "expiration_time")?, interval) {
            (Some(at), _) => Some(at),
            (None, Some(secs)) if secs >= 0.0 => Some(now + (secs * 1000.0) as i64),
            (None, Some(_)) => return Err(bad("expiration_interval is not negative")),
            (None, None) => None,
        };
        let notification_id = match body.get("notification_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id))
                if !id.is_empty()
                    && id.len() <= 16
                    && id.chars().all(|c| c.is_ascii_alphanumeric()) =>
            {
                Some(id.clone())
            }
            Some(_) => return Err(bad("notification_id is 1 to 16 letters and digits")),
        };
        Ok(Request {
            data,
            r#where,
            prod,
            push_time,
            expires_at,
            notification_id,
        })
    }
}

/// Record a push made at `now`: sent at once (each installation it reaches gets a
/// message in the outbox) or scheduled. The notification as recorded.
pub fn submit(store: &mut Store, request: Request, now: i64) -> Result<Notification, LcError> {
    // The query is checked now, so a bad `where` is refused, not recorded.
    Matcher::compile_for(store, "_Installation", &request.r#where, &Everything)?;
    let scheduled = request.push_time.is_some_and(|t| t - now >= IMMEDIATE_MS);
    if scheduled && store.services.pushes.scheduled.len() >= MAX_SCHEDULED_PUSHES {
        return Err(LcError::generic(format!(
            "An app has at most {MAX_SCHEDULED_PUSHES} scheduled pushes waiting."
        )));
    }
    let object_id = store.ids.object_id(now);
    let notification_id = request
        .notification_id
        .clone()
        .unwrap_or_else(|| store.ids.token()[..16].to_string());
    let mut n = Notification {
        object_id,
        notification_id,
        data: request.data,
        r#where: request.r#where,
        prod: request.prod,
        status: "in-queue".into(),
        devices: 0,
        successes: 0,
        push_time: request.push_time,
        expires_at: request.expires_at,
        created_at: now,
        updated_at: now,
        schedule_id: None,
    };
    if scheduled {
        let pushes = &mut store.services.pushes;
        pushes.next_schedule_id += 1;
        let id = pushes.next_schedule_id;
        n.status = "scheduled".into();
        n.schedule_id = Some(id);
        pushes.scheduled.insert(id, n.object_id.clone());
        pushes.keep(n.clone());
        return Ok(n);
    }
    deliver(store, &mut n, now);
    store.services.pushes.keep(n.clone());
    Ok(n)
}

/// Send every scheduled push whose time has come by `now`.
pub fn send_due(store: &mut Store, now: i64) {
    let due: Vec<(u64, String)> = store
        .services
        .pushes
        .scheduled
        .iter()
        .filter(|(_, id)| {
            store
                .services
                .pushes
                .notifications
                .get(*id)
                .and_then(|n| n.push_time)
                .is_some_and(|t| t <= now)
        })
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    for (schedule_id, object_id) in due {
        store.services.pushes.scheduled.remove(&schedule_id);
        let Some(mut n) = store.services.pushes.notifications.get(&object_id).cloned() else {
            continue;
        };
        n.schedule_id = None;
        let at = n.push_time.unwrap_or(now);
        deliver(store, &mut n, at);
        store.services.pushes.keep(n);
    }
}

/// The installation a device id names: `deviceToken` on iOS, `installationId` (or the
/// vendor's `registrationId`) on Android.
pub fn devices_where(device_type: &str, ids: &[String]) -> Value {
    let key = match device_type {
        "ios" => "deviceToken",
        _ => "installationId",
    };
    let mut alternatives = vec![json!({ key: {"$in": ids} })];
    if device_type == "android" {
        alternatives.push(json!({"registrationId": {"$in": ids}}));
    }
    json!({"deviceType": device_type, "$or": alternatives})
}

/// Put one message per reached installation in the outbox and mark `n` done (or
/// expired, reaching nobody, when its time is past).
fn deliver(store: &mut Store, n: &mut Notification, at: i64) {
    n.updated_at = at;
    if n.expires_at.is_some_and(|end| end <= at) {
        n.status = "expired".into();
        return;
    }
    let targets: Vec<Value> =
        match Matcher::compile_for(store, "_Installation", &n.r#where, &Everything) {
            Ok(matcher) => store
                .class("_Installation")
                .map(|data| {
                    data.objects
                        .values()
                        .filter(|obj| matcher.matches(obj))
                        .filter(|obj| obj.get("valid") != Some(Value::Bool(false)))
                        .filter(|obj| at - obj.updated_at <= ACTIVE_WINDOW_MS)
                        .map(|obj| {
                            let mut v = obj.to_map();
                            v.insert("objectId".into(), json!(obj.id.to_string()));
                            Value::Object(v)
                        })
                        .collect()
                })
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
    let (title, text) = alert_text(&n.data);
    for inst in &targets {
        let to = [
            "deviceToken",
            "installationId",
            "registrationId",
            "objectId",
        ]
        .iter()
        .find_map(|k| inst.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_string();
        let draft = Draft {
            purpose: "push".into(),
            to,
            subject: title.clone(),
            text: text.clone(),
            data: json!({
                "notificationId": n.notification_id,
                "pushId": n.object_id,
                "installation": inst.get("objectId"),
                "deviceType": inst.get("deviceType"),
                "prod": n.prod,
                "expiresAt": n.expires_at.map(leancloud::value::format_date),
                "data": n.data,
            }),
            ..Draft::default()
        };
        store.services.outbox.send(Channel::Push, draft, at);
    }
    n.devices = targets.len();
    n.successes = targets.len();
    n.status = "done".into();
}

/// The title and the text a device would show: `alert` as a string, or its `title` and
/// `body` when it is an object.
fn alert_text(data: &Value) -> (Option<String>, String) {
    let title = data
        .get("title")
        .and_then(Value::as_str)
        .map(str::to_string);
    match data.get("alert") {
        Some(Value::String(s)) => (title, s.clone()),
        Some(Value::Object(a)) => (
            a.get("title")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or(title),
            a.get("body")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        ),
        _ => (title, String::new()),
    }
}
