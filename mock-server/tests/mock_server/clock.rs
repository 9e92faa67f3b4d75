//! The app's clock (`GET`/`POST /__mock/clock`, `Api::clock`): frozen, set and advanced,
//! it is what createdAt, updatedAt, ids, the log-in lockout and `/1.1/date` read; a
//! reset puts it back on real time and snapshots do not move it.

use mock_server::api::{Api, AppConfig};
use serde_json::{Value, json};
use std::sync::Arc;

/// As the master key or anonymously (the app key).
fn send(api: &Api, master: bool, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let who = if master {
        leancloud::Caller::Master
    } else {
        leancloud::Caller::Anonymous
    };
    crate::support::send(api, &who, method, path, body.as_ref())
}

fn clock(api: &Api, body: Value) -> Value {
    let (status, answer) = send(api, true, "POST", "/__mock/clock", Some(body));
    assert_eq!(status, 200, "{answer}");
    answer
}

const NEW_YEAR_2030: &str = "2030-01-01T00:00:00.000Z";
const NEW_YEAR_2030_MS: i64 = 1_893_456_000_000;

#[test]
fn a_frozen_clock_is_what_objects_ids_and_the_server_date_show() {
    let api = Api::new(AppConfig::default());
    let state = clock(&api, json!({"freeze": true, "set": NEW_YEAR_2030}));
    assert_eq!(
        state,
        json!({"now": NEW_YEAR_2030, "ms": NEW_YEAR_2030_MS, "frozen": true, "offsetMs": 0})
    );
    let (_, created) = send(
        &api,
        false,
        "POST",
        "/1.1/classes/Post",
        Some(json!({"n": 1})),
    );
    assert_eq!(created["createdAt"], NEW_YEAR_2030);
    let id = created["objectId"].as_str().unwrap();
    let secs = u32::from_str_radix(&id[..8], 16).unwrap();
    assert_eq!(
        i64::from(secs),
        NEW_YEAR_2030_MS / 1000,
        "the id's time part"
    );

    clock(&api, json!({"advance": 3_600_000}));
    let (_, updated) = send(
        &api,
        false,
        "PUT",
        &format!("/1.1/classes/Post/{id}"),
        Some(json!({"n": 2})),
    );
    assert_eq!(updated["updatedAt"], "2030-01-01T01:00:00.000Z");
    let (_, date) = send(&api, false, "GET", "/1.1/date", None);
    assert_eq!(date["iso"], "2030-01-01T01:00:00.000Z");
    let (_, shown) = send(&api, true, "GET", "/__mock/clock", None);
    assert_eq!(shown["now"], "2030-01-01T01:00:00.000Z");
}

#[test]
fn a_locked_out_user_signs_in_once_the_clock_passes_the_lockout_without_waiting() {
    let api = Api::new(AppConfig::default());
    clock(&api, json!({"freeze": true}));
    let user = json!({"username": "ann", "password": "pw"});
    let (status, _) = send(&api, false, "POST", "/1.1/users", Some(user.clone()));
    assert_eq!(status, 201);
    let wrong = json!({"username": "ann", "password": "no"});
    for _ in 0..7 {
        let (status, body) = send(&api, false, "POST", "/1.1/login", Some(wrong.clone()));
        assert_eq!((status, body["code"].clone()), (400, json!(210)), "{body}");
    }
    let (_, locked) = send(&api, false, "POST", "/1.1/login", Some(user.clone()));
    assert_eq!(locked["code"], 219, "{locked}");
    clock(
        &api,
        json!({"advance": lc_model::users::LOCKOUT_WINDOW_MS - 1}),
    );
    let (_, still) = send(&api, false, "POST", "/1.1/login", Some(user.clone()));
    assert_eq!(still["code"], 219, "{still}");
    clock(&api, json!({"advance": 1}));
    let (status, body) = send(&api, false, "POST", "/1.1/login", Some(user));
    assert_eq!(status, 200, "{body}");
}

#[test]
fn resume_runs_on_from_the_set_instant_and_real_returns_to_the_wall_clock() {
    let api = Api::new(AppConfig::default());
    let state = clock(&api, json!({"set": NEW_YEAR_2030_MS}));
    assert_eq!(state["frozen"], false);
    assert!(state["ms"].as_i64().unwrap() >= NEW_YEAR_2030_MS);
    assert!(state["offsetMs"].as_i64().unwrap() > 0);
    clock(&api, json!({"freeze": true}));
    let frozen = api.clock().now_ms();
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(
        api.clock().now_ms(),
        frozen,
        "frozen, real time passing changes nothing"
    );
    let resumed = clock(&api, json!({"resume": true}));
    assert_eq!(resumed["frozen"], false);
    let real = clock(&api, json!({"real": true}));
    assert!(real["ms"].as_i64().unwrap() < NEW_YEAR_2030_MS);
    assert_eq!(real["offsetMs"], 0);
}

#[test]
fn a_reset_returns_to_real_time_and_a_snapshot_does_not_move_the_clock() {
    let api = Api::new(AppConfig::default());
    api.clock().freeze();
    api.clock().set(NEW_YEAR_2030_MS);
    let snapshot = api.snapshot();
    api.clock().advance(1_000);
    api.restore(&snapshot);
    assert_eq!(
        api.clock().now_ms(),
        NEW_YEAR_2030_MS + 1_000,
        "time is not data"
    );
    api.reset();
    let state = api.clock().state();
    assert!(!state.frozen);
    assert_eq!(state.offset_ms, 0);
    assert!(state.now_ms < NEW_YEAR_2030_MS);
}

#[test]
fn a_fork_starts_at_the_original_time_and_moves_apart() {
    let api = Arc::new(Api::new(AppConfig::default()));
    api.clock().freeze();
    api.clock().set(NEW_YEAR_2030_MS);
    let fork = api.fork();
    assert_eq!(fork.clock().now_ms(), NEW_YEAR_2030_MS);
    fork.clock().advance(60_000);
    assert_eq!(api.clock().now_ms(), NEW_YEAR_2030_MS);
}

#[test]
fn the_clock_takes_the_master_key_and_refuses_what_it_cannot_do_without_moving() {
    let api = Api::new(AppConfig::default());
    clock(&api, json!({"freeze": true, "set": NEW_YEAR_2030}));
    let (status, body) = send(
        &api,
        false,
        "POST",
        "/__mock/clock",
        Some(json!({"advance": 1})),
    );
    assert_eq!(
        body,
        json!({"code": 1, "error": "The request must be signed by master key."})
    );
    assert_eq!(status, 400);
    let (status, _) = send(&api, false, "GET", "/__mock/clock", None);
    assert_eq!(status, 400);
    for bad in [
        json!({}),
        json!({"advance": "1h"}),
        json!({"advance": 1.5}),
        json!({"set": "yesterday"}),
        json!({"set": -1}),
        json!({"set": "10000-01-01T00:00:00Z"}),
        json!({"freeze": "yes"}),
        json!({"freeze": true, "resume": true}),
        json!({"jump": 1}),
        json!({"advance": 10, "set": "nonsense"}),
    ] {
        let (status, body) = send(&api, true, "POST", "/__mock/clock", Some(bad.clone()));
        assert_eq!(
            (status, body["code"].clone()),
            (400, json!(107)),
            "{bad}: {body}"
        );
    }
    assert_eq!(api.clock().now_ms(), NEW_YEAR_2030_MS, "nothing moved");
    let (_, at) = send(
        &api,
        true,
        "POST",
        "/__mock/clock",
        Some(json!({"set": {"__type": "Date", "iso": "2031-06-01T12:00:00Z"}})),
    );
    assert_eq!(at["now"], "2031-06-01T12:00:00.000Z");
}
