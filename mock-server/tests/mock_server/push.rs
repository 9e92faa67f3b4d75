//! Push over HTTP (`/1.1/push`, `/1.1/push/devices`, `/1.1/tables/Notifications`,
//! `/1.1/scheduledPushMessages`): which installations a push reaches, the notification
//! each lands in the outbox with, scheduled pushes sent when the app's clock reaches
//! them, cancellation, expiry, and the refusals.

use crate::support::{ManualClock, send};
use lc_model::outbox::{Channel, Filter};
use leancloud::Caller;
use mock_server::api::Api;
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn install(api: &Api, fields: Value) -> String {
    let (status, body) = send(
        api,
        &Caller::Master,
        "POST",
        "/1.1/classes/_Installation",
        Some(&fields),
    );
    assert_eq!(status, 201, "{body}");
    body["objectId"].as_str().unwrap().to_string()
}

fn pushes(api: &Api) -> Vec<(String, String)> {
    api.outbox(&Filter {
        channel: Some(Channel::Push),
        ..Filter::default()
    })
    .iter()
    .map(|m| (m.to.clone(), m.text.clone()))
    .collect()
}

fn push(api: &Api, who: &Caller<&str>, body: Value) -> (u16, Value) {
    send(api, who, "POST", "/1.1/push", Some(&body))
}

#[test]
fn a_push_to_channels_reaches_each_subscribed_installation_through_the_outbox() {
    let clock = ManualClock::at(NOW);
    let api = clock.app();
    install(
        &api,
        json!({"deviceType": "ios", "deviceToken": "tok-a", "channels": ["news", "sports"]}),
    );
    install(
        &api,
        json!({"deviceType": "android", "installationId": "inst-b", "channels": ["news"]}),
    );
    install(
        &api,
        json!({"deviceType": "android", "installationId": "inst-c", "channels": ["weather"]}),
    );
    install(
        &api,
        json!({"deviceType": "ios", "deviceToken": "tok-off", "channels": ["news"], "valid": false}),
    );

    let (status, answer) = push(
        &api,
        &Caller::Anonymous,
        json!({"channels": ["news"], "data": {"alert": "Hello", "badge": "Increment"}}),
    );
    assert_eq!(status, 200, "{answer}");
    let mut reached = pushes(&api);
    reached.sort();
    assert_eq!(
        reached,
        [
            ("inst-b".to_string(), "Hello".to_string()),
            ("tok-a".to_string(), "Hello".to_string())
        ]
    );
    let message = api
        .last_message(&Filter {
            channel: Some(Channel::Push),
            to: Some("tok-a".into()),
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(message.purpose, "push");
    assert_eq!(message.data["data"]["badge"], "Increment");
    assert_eq!(message.data["prod"], "prod");

    let id = answer["objectId"].as_str().unwrap();
    let (status, record) = send(
        &api,
        &Caller::Anonymous,
        "GET",
        &format!("/1.1/tables/Notifications/{id}"),
        None,
    );
    assert_eq!(status, 200, "{record}");
    assert_eq!(
        (record["status"].clone(), record["devices"].clone()),
        (json!("done"), json!(2))
    );
    assert_eq!(record["where"], json!({"channels": {"$in": ["news"]}}));
}

#[test]
fn where_selects_installations_and_stale_ones_are_left_out() {
    let clock = ManualClock::at(NOW);
    let api = clock.app();
    install(
        &api,
        json!({"deviceType": "android", "installationId": "old", "vip": true}),
    );
    clock.advance(91 * DAY);
    install(
        &api,
        json!({"deviceType": "android", "installationId": "vip", "vip": true}),
    );
    install(
        &api,
        json!({"deviceType": "android", "installationId": "plain", "vip": false}),
    );
    let (status, _) = push(
        &api,
        &Caller::Master,
        json!({"where": {"vip": true}, "data": {"alert": {"title": "Sale", "body": "Today only"}}, "prod": "dev"}),
    );
    assert_eq!(status, 200);
    assert_eq!(
        pushes(&api),
        [("vip".to_string(), "Today only".to_string())],
        "not updated for 90 days: left out"
    );
    let m = api.last_message(&Filter::default()).unwrap();
    assert_eq!(
        (m.subject.as_deref(), m.data["prod"].clone()),
        (Some("Sale"), json!("dev"))
    );
    // The SDK's cql, instead of where.
    push(
        &api,
        &Caller::Master,
        json!({"cql": "select * from _Installation where vip = false", "data": {"alert": "cql"}}),
    );
    assert_eq!(
        pushes(&api).last().unwrap(),
        &("plain".to_string(), "cql".to_string())
    );
    // Everyone active, without where or channels.
    push(&api, &Caller::Master, json!({"data": {"alert": "all"}}));
    assert_eq!(pushes(&api).len(), 4);
}

#[test]
fn a_scheduled_push_waits_for_the_apps_clock_and_can_be_cancelled() {
    let clock = ManualClock::at(NOW);
    let api = clock.app();
    install(
        &api,
        json!({"deviceType": "ios", "deviceToken": "tok", "channels": ["a"]}),
    );
    let at = leancloud::value::format_date(NOW + 2 * HOUR);
    let (status, first) = push(
        &api,
        &Caller::Master,
        json!({"channels": ["a"], "push_time": at, "data": {"alert": "later"}}),
    );
    assert_eq!(status, 200, "{first}");
    let (_, second) = push(
        &api,
        &Caller::Master,
        json!({"channels": ["a"], "push_time": at, "expiration_interval": 60, "data": {"alert": "too late"}}),
    );
    let (_, third) = push(
        &api,
        &Caller::Master,
        json!({"channels": ["a"], "push_time": at, "data": {"alert": "cancelled"}}),
    );
    assert!(pushes(&api).is_empty(), "nothing sent before its time");

    let (status, _) = send(
        &api,
        &Caller::Anonymous,
        "GET",
        "/1.1/scheduledPushMessages",
        None,
    );
    assert_eq!(status, 400, "the master key lists scheduled pushes");
    let (_, listed) = send(
        &api,
        &Caller::Master,
        "GET",
        "/1.1/scheduledPushMessages",
        None,
    );
    let waiting = listed["results"].as_array().unwrap();
    assert_eq!(waiting.len(), 3);
    assert_eq!(waiting[0]["expire_time"], json!(NOW + 2 * HOUR));
    assert_eq!(waiting[0]["push_msg"]["msg"], json!({"alert": "later"}));
    let cancel_id = waiting[2]["id"].as_u64().unwrap();
    let (status, _) = send(
        &api,
        &Caller::Master,
        "DELETE",
        &format!("/1.1/scheduledPushMessages/{cancel_id}"),
        None,
    );
    assert_eq!(status, 200);
    let (status, body) = send(
        &api,
        &Caller::Master,
        "DELETE",
        &format!("/1.1/scheduledPushMessages/{cancel_id}"),
        None,
    );
    assert_eq!((status, body["code"].clone()), (404, json!(101)));

    clock.advance(2 * HOUR);
    assert_eq!(
        pushes(&api),
        [("tok".to_string(), "later".to_string())],
        "sent when the clock got there"
    );
    let record = |v: &Value| {
        let id = v["objectId"].as_str().unwrap().to_string();
        send(
            &api,
            &Caller::Anonymous,
            "GET",
            &format!("/1.1/tables/Notifications/{id}"),
            None,
        )
    };
    assert_eq!(record(&first).1["status"], "done");
    assert_eq!(
        record(&second).1["status"],
        "expired",
        "its 60 s ran out before its time"
    );
    assert_eq!(record(&third).0, 404, "a cancelled push leaves no record");
    let (_, listed) = send(
        &api,
        &Caller::Master,
        "GET",
        "/1.1/scheduledPushMessages",
        None,
    );
    assert_eq!(listed["results"], json!([]));
}

#[test]
fn a_push_to_device_ids_reaches_those_devices() {
    let clock = ManualClock::at(NOW);
    let api = clock.app();
    install(&api, json!({"deviceType": "ios", "deviceToken": "t1"}));
    install(&api, json!({"deviceType": "ios", "deviceToken": "t2"}));
    install(
        &api,
        json!({"deviceType": "android", "installationId": "t1"}),
    );
    let (status, body) = send(
        &api,
        &Caller::Master,
        "POST",
        "/1.1/push/devices",
        Some(&json!({"device_type": "ios", "device_ids": ["t1"], "data": {"alert": "hi"}})),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(pushes(&api), [("t1".to_string(), "hi".to_string())]);
    assert_eq!(
        api.last_message(&Filter::default()).unwrap().data["deviceType"],
        "ios"
    );
    let (status, _) = send(
        &api,
        &Caller::Master,
        "POST",
        "/1.1/push/devices",
        Some(&json!({"device_type": "fax", "device_ids": ["t1"], "data": {}})),
    );
    assert_eq!(status, 400);
}

#[test]
fn bad_pushes_are_refused_and_send_nothing() {
    let clock = ManualClock::at(NOW);
    let api = clock.app();
    install(
        &api,
        json!({"deviceType": "ios", "deviceToken": "t", "channels": ["a"]}),
    );
    for (body, code) in [
        (json!({"channels": ["a"]}), 107),
        (
            json!({"channels": ["no spaces"], "data": {"alert": "x"}}),
            112,
        ),
        (
            json!({"where": {"n": {"$bogus": 1}}, "data": {"alert": "x"}}),
            102,
        ),
        (json!({"prod": "staging", "data": {"alert": "x"}}), 107),
        (
            json!({"push_time": "tomorrow", "data": {"alert": "x"}}),
            107,
        ),
        (json!({"data": {"alert": "x".repeat(5000)}}), 107),
    ] {
        let (status, answer) = push(&api, &Caller::Master, body.clone());
        assert_eq!(
            (status, answer["code"].as_i64()),
            (400, Some(code)),
            "{body} -> {answer}"
        );
    }
    assert!(pushes(&api).is_empty());
}

#[test]
fn resets_and_snapshots_carry_scheduled_pushes() {
    let clock = ManualClock::at(NOW);
    let api = clock.app();
    let at = leancloud::value::format_date(NOW + HOUR);
    let before = api.snapshot();
    push(
        &api,
        &Caller::Master,
        json!({"push_time": at, "data": {"alert": "x"}}),
    );
    api.restore(&before);
    let (_, listed) = send(
        &api,
        &Caller::Master,
        "GET",
        "/1.1/scheduledPushMessages",
        None,
    );
    assert_eq!(listed["results"], json!([]));
}
