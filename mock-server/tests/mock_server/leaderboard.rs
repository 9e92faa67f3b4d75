//! Leaderboards over HTTP (`/1.1/leaderboard/...`): boards as recorded, statistics under
//! each update strategy, ranks and the window around a user, counts, versions that roll
//! at midnight China time on the app's clock, archives, and who may do what.

use crate::support::{ManualClock, send as send_as};
use leancloud::error::code;
use leancloud::{Caller, LcError};
use mock_server::api::Api;
use serde_json::{Value, json};

/// 2019-09-19T08:24:57.884Z, a Thursday: the recorded board's creation.
const RECORDED_NOW: i64 = 1_568_881_497_884;
const DAY: i64 = 86_400_000;

struct App {
    api: Api,
    clock: ManualClock,
}

impl App {
    fn new() -> App {
        let clock = ManualClock::at(RECORDED_NOW);
        App {
            api: clock.app(),
            clock,
        }
    }

    fn advance(&self, ms: i64) {
        self.clock.advance(ms);
    }

    /// One request: `who` is "master", "anon" or a session token.
    fn send(&self, who: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let caller = match who {
            "master" => Caller::Master,
            "anon" => Caller::Anonymous,
            token => Caller::User(token),
        };
        send_as(&self.api, &caller, method, path, body.as_ref())
    }

    fn ok(&self, who: &str, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.send(who, method, path, body);
        assert_eq!(status, 200, "{method} {path} -> {answer}");
        answer
    }

    /// A user: (objectId, session token).
    fn user(&self, name: &str) -> (String, String) {
        let (status, u) = self.send(
            "anon",
            "POST",
            "/1.1/users",
            Some(json!({"username": name, "password": "pw", "nick": name})),
        );
        assert_eq!(status, 201, "{u}");
        (
            u["objectId"].as_str().unwrap().into(),
            u["sessionToken"].as_str().unwrap().into(),
        )
    }

    fn board(&self, name: &str, order: &str, strategy: &str, interval: &str) -> Value {
        self.ok(
            "master",
            "POST",
            "/1.1/leaderboard/leaderboards",
            Some(json!({"statisticName": name, "order": order, "updateStrategy": strategy, "versionChangeInterval": interval})),
        )
    }

    fn submit(&self, who: &str, user: &str, stats: Value) -> Value {
        self.ok(
            who,
            "POST",
            &format!("/1.1/leaderboard/users/{user}/statistics"),
            Some(stats),
        )
    }
}

fn error((status, body): (u16, Value)) -> (u16, i64) {
    (status, body["code"].as_i64().unwrap_or(-1))
}

#[test]
fn a_board_is_created_with_the_recorded_shape_and_defaults() {
    let app = App::new();
    let board = app.board("score_board", "ascending", "better", "week");
    // Recorded: Leaderboard/shoud have properties.
    assert_eq!(board["statisticName"], "score_board");
    assert_eq!(board["version"], 0);
    assert_eq!(board["memberType"], "_User", "the guide's member type");
    assert_eq!(
        board["expiredAt"],
        json!({"__type": "Date", "iso": "2019-09-22T16:00:00.000Z"})
    );
    assert_eq!(board["activatedAt"]["__type"], "Date");
    for key in [
        "objectId",
        "createdAt",
        "updatedAt",
        "order",
        "updateStrategy",
        "versionChangeInterval",
    ] {
        assert!(board.get(key).is_some(), "{key} in {board}");
    }
    let never = app.board("score_board_2", "ascending", "better", "never");
    assert_eq!(never["expiredAt"], Value::Null, "recorded: never expires");
    let defaults = app.ok(
        "master",
        "POST",
        "/1.1/leaderboard/leaderboards",
        Some(json!({"statisticName": "plain", "order": "descending"})),
    );
    assert_eq!(
        (
            defaults["versionChangeInterval"].clone(),
            defaults["updateStrategy"].clone()
        ),
        (json!("week"), json!("better")),
        "the SDK's documented defaults"
    );
    let fetched = app.ok(
        "anon",
        "GET",
        "/1.1/leaderboard/leaderboards/score_board",
        None,
    );
    assert_eq!(fetched, board);
}

#[test]
fn only_the_master_key_changes_boards() {
    let app = App::new();
    let refused = LcError::master_key_required();
    let attempts = [
        (
            "POST",
            "/1.1/leaderboard/leaderboards",
            Some(json!({"statisticName": "x", "order": "ascending"})),
        ),
        (
            "PUT",
            "/1.1/leaderboard/leaderboards/x",
            Some(json!({"updateStrategy": "last"})),
        ),
        (
            "PUT",
            "/1.1/leaderboard/leaderboards/x/incrementVersion",
            None,
        ),
        ("DELETE", "/1.1/leaderboard/leaderboards/x", None),
        ("GET", "/1.1/leaderboard/leaderboards/x/archives", None),
    ];
    app.board("x", "ascending", "better", "never");
    for (method, path, body) in attempts {
        let (status, answer) = app.send("anon", method, path, body);
        assert_eq!(
            LcError::from_json(status, &answer),
            Some(refused.clone()),
            "{method} {path}"
        );
    }
    let board = app.ok("anon", "GET", "/1.1/leaderboard/leaderboards/x", None);
    assert_eq!(
        (board["version"].clone(), board["updateStrategy"].clone()),
        (json!(0), json!("better"))
    );
    // Bad input is refused before anything changes.
    let (status, _) = app.send(
        "master",
        "POST",
        "/1.1/leaderboard/leaderboards",
        Some(json!({"statisticName": "y", "order": "sideways"})),
    );
    assert_eq!(status, 400);
    assert_eq!(
        error(app.send("anon", "GET", "/1.1/leaderboard/leaderboards/y", None)),
        (400, code::STATISTIC_NOT_FOUND)
    );
}

#[test]
fn statistics_follow_the_boards_strategy_and_rank_from_zero() {
    let app = App::new();
    app.board("best", "descending", "better", "never");
    app.board("total", "descending", "sum", "never");
    app.board("latest", "ascending", "last", "never");
    let (ann, ann_token) = app.user("ann");
    let (bob, _) = app.user("bob");
    let (cid, _) = app.user("cid");
    let first = app.submit(
        &ann_token,
        &ann,
        json!([
            {"statisticName": "best", "statisticValue": 10},
            {"statisticName": "total", "statisticValue": 10},
            {"statisticName": "latest", "statisticValue": 10}
        ]),
    );
    assert_eq!(
        first["results"][0],
        json!({"statisticName": "best", "version": 0, "statisticValue": 10})
    );
    let second = app.submit(
        &ann_token,
        &ann,
        json!([
            {"statisticName": "best", "statisticValue": 4},
            {"statisticName": "total", "statisticValue": 4.5},
            {"statisticName": "latest", "statisticValue": 4}
        ]),
    );
    let kept: Vec<&Value> = second["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["statisticValue"])
        .collect();
    assert_eq!(kept, [&json!(10), &json!(14.5), &json!(4)]);
    let overwritten = app.ok(
        "master",
        "POST",
        &format!("/1.1/leaderboard/users/{ann}/statistics?overwrite=1"),
        Some(json!([{"statisticName": "best", "statisticValue": 7}])),
    );
    assert_eq!(overwritten["results"][0]["statisticValue"], 7);

    app.submit(
        "master",
        &bob,
        json!([{"statisticName": "best", "statisticValue": 9}]),
    );
    app.submit(
        "master",
        &cid,
        json!([{"statisticName": "best", "statisticValue": 3}]),
    );
    let ranks = app.ok(
        "anon",
        "GET",
        "/1.1/leaderboard/leaderboards/best/ranks?count=1",
        None,
    );
    let order: Vec<(i64, &str, i64)> = ranks["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rank"].as_i64().unwrap(),
                r["user"]["objectId"].as_str().unwrap(),
                r["statisticValue"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            (0, bob.as_str(), 9),
            (1, ann.as_str(), 7),
            (2, cid.as_str(), 3)
        ]
    );
    assert_eq!(ranks["count"], 3);
    assert_eq!(
        ranks["results"][0]["user"],
        json!({"__type": "Pointer", "className": "_User", "objectId": bob})
    );

    let stats = app.ok(
        "anon",
        "GET",
        &format!("/1.1/leaderboard/users/{ann}/statistics?statistics=best,latest"),
        None,
    );
    let ann_pointer = json!({"__type": "Pointer", "className": "_User", "objectId": ann});
    assert_eq!(
        stats["results"],
        json!([
            {"statisticName": "best", "version": 0, "statisticValue": 7, "user": ann_pointer},
            {"statisticName": "latest", "version": 0, "statisticValue": 4, "user": ann_pointer}
        ])
    );
    // The guide's batch read: several users' statistics on one board.
    let batch = app.ok(
        "anon",
        "POST",
        "/1.1/leaderboard/users/statistics/best",
        Some(json!({"ids": [bob, ann, "000000000000000000000000"]})),
    );
    let values: Vec<&Value> = batch["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["statisticValue"])
        .collect();
    assert_eq!(
        values,
        [&json!(9), &json!(7)],
        "only users with a statistic"
    );
    // `self` is the signed-in caller.
    let mine = app.ok(
        &ann_token,
        "POST",
        "/1.1/leaderboard/users/self/statistics",
        Some(json!([{"statisticName": "total", "statisticValue": 1}])),
    );
    assert_eq!(mine["results"][0]["statisticValue"], 15.5);
}

#[test]
fn ranks_page_select_user_keys_include_statistics_and_centre_on_a_user() {
    let app = App::new();
    app.board("score", "descending", "last", "never");
    app.board("level", "descending", "last", "never");
    let mut ids = Vec::new();
    for (i, name) in ["u0", "u1", "u2", "u3", "u4", "u5"].iter().enumerate() {
        let (id, _) = app.user(name);
        app.submit("master", &id, json!([{"statisticName": "score", "statisticValue": 100 - i as i64}, {"statisticName": "level", "statisticValue": i}]));
        ids.push(id);
    }
    let page = app.ok("anon", "GET", "/1.1/leaderboard/leaderboards/score/ranks?skip=1&limit=2&selectUserKeys=nick&includeStatistics=level", None);
    let rows = page["results"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0]["rank"].clone(), rows[0]["user"]["nick"].clone()),
        (json!(1), json!("u1"))
    );
    assert_eq!(rows[0]["user"]["__type"], "Pointer");
    assert!(rows[0]["user"].get("password").is_none());
    assert_eq!(
        rows[0]["statistics"],
        json!([{"statisticName": "level", "statisticValue": 1, "version": 0}])
    );

    let around = app.ok(
        "anon",
        "GET",
        &format!(
            "/1.1/leaderboard/leaderboards/score/ranks/{}?limit=3",
            ids[3]
        ),
        None,
    );
    let ranks: Vec<i64> = around["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rank"].as_i64().unwrap())
        .collect();
    assert_eq!(ranks, [2, 3, 4], "the user in the middle");
    let at_top = app.ok(
        "anon",
        "GET",
        &format!(
            "/1.1/leaderboard/leaderboards/score/ranks/{}?limit=3",
            ids[0]
        ),
        None,
    );
    let ranks: Vec<i64> = at_top["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rank"].as_i64().unwrap())
        .collect();
    assert_eq!(ranks, [0, 1, 2]);

    // The guide's route and names; a client never sees ranked users' email or phone.
    let (eve, token) = app.user("eve");
    app.send(
        "master",
        "PUT",
        &format!("/1.1/users/{eve}"),
        Some(json!({"email": "eve@example.com"})),
    );
    app.submit(
        &token,
        &eve,
        json!([{"statisticName": "score", "statisticValue": 1000}]),
    );
    let guide = app.ok(
        "anon",
        "GET",
        "/1.1/leaderboard/leaderboards/user/score/ranks?startPosition=0&maxResultsCount=1&selectKeys=nick,email",
        None,
    );
    assert_eq!(guide["results"][0]["user"]["nick"], "eve");
    assert!(
        guide["results"][0]["user"].get("email").is_none(),
        "{guide}"
    );
    let master = app.ok(
        "master",
        "GET",
        "/1.1/leaderboard/leaderboards/user/score/ranks?maxResultsCount=1&selectKeys=email",
        None,
    );
    assert_eq!(master["results"][0]["user"]["email"], "eve@example.com");

    // Recorded: Leaderboard/Statistics/include a non-exist statistic should throw.
    let (status, body) = app.send(
        "anon",
        "GET",
        "/1.1/leaderboard/leaderboards/score/ranks?includeStatistics=fake",
        None,
    );
    assert_eq!(
        (status, body),
        (
            400,
            json!({"code": 2100, "error": "statisticName 'fake' not found."})
        )
    );
}

#[test]
fn a_user_changes_only_their_own_statistics_and_a_bad_batch_changes_nothing() {
    let app = App::new();
    app.board("score", "descending", "last", "never");
    let (ann, ann_token) = app.user("ann");
    let (bob, _) = app.user("bob");
    let (status, _) = app.send(
        &ann_token,
        "POST",
        &format!("/1.1/leaderboard/users/{bob}/statistics"),
        Some(json!([{"statisticName": "score", "statisticValue": 1}])),
    );
    assert_eq!(status, 400, "ann may not set bob's score");
    let (status, body) = app.send(&ann_token, "POST", &format!("/1.1/leaderboard/users/{ann}/statistics"), Some(json!([{"statisticName": "score", "statisticValue": 5}, {"statisticName": "nope", "statisticValue": 1}])));
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!(code::STATISTIC_NOT_FOUND))
    );
    let stats = app.ok(
        "anon",
        "GET",
        &format!("/1.1/leaderboard/users/{ann}/statistics"),
        None,
    );
    assert_eq!(
        stats["results"],
        json!([]),
        "nothing of a refused batch is kept"
    );
    for bad in [
        json!({"statisticName": "score"}),
        json!([{"statisticName": "score", "statisticValue": "high"}]),
    ] {
        let (status, body) = app.send(
            &ann_token,
            "POST",
            &format!("/1.1/leaderboard/users/{ann}/statistics"),
            Some(bad.clone()),
        );
        assert_eq!((status, body["code"].clone()), (400, json!(107)), "{bad}");
    }
    app.submit(
        &ann_token,
        &ann,
        json!([{"statisticName": "score", "statisticValue": 5}]),
    );
    app.ok(
        &ann_token,
        "DELETE",
        &format!("/1.1/leaderboard/users/{ann}/statistics?statistics=score"),
        None,
    );
    let ranks = app.ok(
        "anon",
        "GET",
        "/1.1/leaderboard/leaderboards/score/ranks",
        None,
    );
    assert_eq!(ranks["results"], json!([]));
    assert_eq!(
        error(app.send(
            "anon",
            "GET",
            "/1.1/leaderboard/users/000000000000000000000000/statistics",
            None
        )),
        (400, 211)
    );
}

#[test]
fn versions_roll_over_on_the_apps_clock_and_resets_archive_the_last() {
    let app = App::new();
    app.board("daily", "descending", "better", "day");
    let (ann, _) = app.user("ann");
    app.submit(
        "master",
        &ann,
        json!([{"statisticName": "daily", "statisticValue": 50}]),
    );
    app.advance(DAY);
    let board = app.ok("anon", "GET", "/1.1/leaderboard/leaderboards/daily", None);
    assert_eq!(board["version"], 1, "midnight passed");
    let now = app.ok(
        "anon",
        "GET",
        "/1.1/leaderboard/leaderboards/daily/ranks",
        None,
    );
    assert_eq!(now["results"], json!([]), "a new version starts empty");
    let then = app.ok(
        "anon",
        "GET",
        "/1.1/leaderboard/leaderboards/daily/ranks?version=0",
        None,
    );
    assert_eq!(
        then["results"][0]["statisticValue"], 50,
        "the old version's ranks stay"
    );

    let reset = app.ok(
        "master",
        "PUT",
        "/1.1/leaderboard/leaderboards/daily/incrementVersion",
        None,
    );
    assert_eq!(reset["version"], 2);
    let mut keys: Vec<&String> = reset.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "activatedAt",
            "expiredAt",
            "objectId",
            "updatedAt",
            "version"
        ],
        "the guide's answer"
    );
    let archives = app.ok(
        "master",
        "GET",
        "/1.1/leaderboard/leaderboards/daily/archives",
        None,
    );
    let versions: Vec<i64> = archives["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 0], "newest first");
    assert_eq!(
        archives["results"][1]["deactivatedAt"],
        json!({"__type": "Date", "iso": "2019-09-19T16:00:00.000Z"})
    );

    let changed = app.ok(
        "master",
        "PUT",
        "/1.1/leaderboard/leaderboards/daily",
        Some(json!({"versionChangeInterval": "never", "updateStrategy": "sum"})),
    );
    // The guide's answer: the changed attributes and updatedAt.
    let mut keys: Vec<&String> = changed.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "objectId",
            "updateStrategy",
            "updatedAt",
            "versionChangeInterval"
        ]
    );
    let board = app.ok("anon", "GET", "/1.1/leaderboard/leaderboards/daily", None);
    assert_eq!(
        (board["expiredAt"].clone(), board["updateStrategy"].clone()),
        (Value::Null, json!("sum"))
    );
    app.ok(
        "master",
        "DELETE",
        "/1.1/leaderboard/leaderboards/daily",
        None,
    );
    assert_eq!(
        error(app.send("anon", "GET", "/1.1/leaderboard/leaderboards/daily", None)),
        (400, code::STATISTIC_NOT_FOUND)
    );
}

#[test]
fn snapshots_and_resets_carry_the_boards() {
    let app = App::new();
    app.board("score", "descending", "better", "never");
    let before = app.api.snapshot();
    app.ok(
        "master",
        "DELETE",
        "/1.1/leaderboard/leaderboards/score",
        None,
    );
    app.api.restore(&before);
    app.ok("anon", "GET", "/1.1/leaderboard/leaderboards/score", None);
    app.api.reset();
    assert_eq!(
        error(app.send("anon", "GET", "/1.1/leaderboard/leaderboards/score", None)),
        (400, code::STATISTIC_NOT_FOUND)
    );
}
