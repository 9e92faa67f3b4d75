//! The outbox (`GET`/`DELETE /__mock/outbox`, and the same on `Api`): what the app would
//! have sent to the outside world, filtered by channel, recipient and purpose, stamped
//! with the app's clock, kept by snapshots and emptied by a reset.

use crate::support::send;
use lc_model::outbox::{Channel, Draft, Filter};
use leancloud::error::code;
use leancloud::{Caller, LcError};
use mock_server::api::{Api, AppConfig};
use serde_json::{Value, json};

fn sms(to: &str, purpose: &str, code: &str) -> Draft {
    Draft {
        purpose: purpose.into(),
        to: to.into(),
        text: format!("Your code is {code}"),
        code: Some(code.into()),
        ..Draft::default()
    }
}

fn ids(body: &Value) -> Vec<&str> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect()
}

#[test]
fn the_outbox_lists_what_was_sent_oldest_first_filtered_by_what_the_reader_asks() {
    let api = Api::new(AppConfig::default());
    let first = api.send_message(Channel::Sms, sms("+8618600000001", "login", "123456"));
    let email = api.send_message(
        Channel::Email,
        Draft {
            purpose: "verifyEmail".into(),
            to: "a@example.com".into(),
            subject: Some("Verify".into()),
            link: Some("http://127.0.0.1/verify".into()),
            ..Draft::default()
        },
    );
    let third = api.send_message(Channel::Sms, sms("+8618600000002", "login", "654321"));

    let (status, all) = send(&api, &Caller::Master, "GET", "/__mock/outbox", None);
    assert_eq!(status, 200, "{all}");
    assert_eq!(ids(&all), [&*first.id, &*email.id, &*third.id]);
    assert_eq!(all["results"][0]["channel"], "sms");
    assert_eq!(all["results"][0]["code"], "123456");
    assert_eq!(all["results"][1]["subject"], "Verify");
    assert!(
        all["results"][1].get("code").is_none(),
        "absent fields are left out"
    );
    assert_eq!(
        all["results"][0]["sentAt"],
        json!(first.sent_at),
        "stamped with the app's clock"
    );

    let (_, smses) = send(
        &api,
        &Caller::Master,
        "GET",
        "/__mock/outbox?channel=sms",
        None,
    );
    assert_eq!(ids(&smses), [&*first.id, &*third.id]);
    let (_, one) = send(
        &api,
        &Caller::Master,
        "GET",
        "/__mock/outbox?to=%2B8618600000002",
        None,
    );
    assert_eq!(ids(&one), [&*third.id]);
    let (_, none) = send(
        &api,
        &Caller::Master,
        "GET",
        "/__mock/outbox?channel=sms&purpose=verifyEmail",
        None,
    );
    assert_eq!(ids(&none), Vec::<&str>::new());

    let last = api
        .last_message(&Filter {
            channel: Some(Channel::Sms),
            ..Filter::default()
        })
        .expect("an SMS");
    assert_eq!(last.code.as_deref(), Some("654321"));
}

#[test]
fn the_outbox_needs_the_master_key_and_a_known_channel() {
    let api = Api::new(AppConfig::default());
    api.send_message(Channel::Push, Draft::default());
    for (method, path) in [("GET", "/__mock/outbox"), ("DELETE", "/__mock/outbox")] {
        let (status, body) = send(&api, &Caller::Anonymous, method, path, None);
        assert_eq!(
            LcError::from_json(status, &body),
            Some(LcError::master_key_required()),
            "{method} {path}"
        );
    }
    assert_eq!(
        api.outbox(&Filter::default()).len(),
        1,
        "nothing was cleared"
    );
    let (status, body) = send(
        &api,
        &Caller::Master,
        "GET",
        "/__mock/outbox?channel=pigeon",
        None,
    );
    assert_eq!(
        (status, body["code"].as_i64()),
        (400, Some(code::INVALID_JSON)),
        "{body}"
    );
}

#[test]
fn clearing_resetting_and_restoring_the_app_carry_the_outbox_with_them() {
    let api = Api::new(AppConfig::default());
    api.send_message(Channel::Sms, sms("+8618600000001", "login", "1"));
    let before = api.snapshot();
    api.send_message(Channel::Sms, sms("+8618600000001", "login", "2"));
    api.restore(&before);
    let kept = api.outbox(&Filter::default());
    assert_eq!(
        kept.len(),
        1,
        "a restore returns the outbox to what it held"
    );
    assert_eq!(kept[0].code.as_deref(), Some("1"));

    let (status, _) = send(&api, &Caller::Master, "DELETE", "/__mock/outbox", None);
    assert_eq!(status, 200);
    assert!(api.outbox(&Filter::default()).is_empty());

    api.send_message(Channel::Captcha, Draft::default());
    api.reset();
    assert!(
        api.outbox(&Filter::default()).is_empty(),
        "a reset empties it"
    );
}
