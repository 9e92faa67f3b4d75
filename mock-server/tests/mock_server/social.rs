//! Follows and the status inbox over HTTP: follow rows in `_Followee`/`_Follower` as the
//! SDK queries them, statuses to followers and to one user, inboxes read by `sinceId` and
//! `maxId` with counts and an unread reset, and who may do what.

use crate::support::send;
use leancloud::Caller;
use mock_server::api::{Api, AppConfig};
use serde_json::{Value, json};

fn user(api: &Api, name: &str) -> (String, String) {
    let (status, u) = send(
        api,
        &Caller::Anonymous,
        "POST",
        "/1.1/users",
        Some(&json!({"username": name, "password": "pw"})),
    );
    assert_eq!(status, 201, "{u}");
    (
        u["objectId"].as_str().unwrap().into(),
        u["sessionToken"].as_str().unwrap().into(),
    )
}

fn pointer(id: &str) -> Value {
    json!({"__type": "Pointer", "className": "_User", "objectId": id})
}

fn enc(v: &Value) -> String {
    percent_encoding::utf8_percent_encode(&v.to_string(), percent_encoding::NON_ALPHANUMERIC)
        .to_string()
}

#[test]
fn a_follow_makes_the_rows_the_sdk_queries_and_an_unfollow_removes_them() {
    let api = Api::new(AppConfig::default());
    let (ann, ann_t) = user(&api, "ann");
    let (bob, bob_t) = user(&api, "bob");
    let ann_as = Caller::User(ann_t.as_str());
    let (status, _) = send(
        &api,
        &ann_as,
        "POST",
        &format!("/1.1/users/{ann}/friendship/{bob}"),
        Some(&json!({"group": "friends"})),
    );
    assert_eq!(status, 200);
    // AV.User.followerQuery(bob): _Follower where user = bob.
    let (_, followers) = send(
        &api,
        &Caller::Anonymous,
        "GET",
        &format!(
            "/1.1/classes/_Follower?where={}&include=follower",
            enc(&json!({"user": pointer(&bob)}))
        ),
        None,
    );
    assert_eq!(
        followers["results"][0]["follower"]["username"], "ann",
        "{followers}"
    );
    assert_eq!(
        followers["results"][0]["group"], "friends",
        "the follow's attributes"
    );
    let (_, both) = send(
        &api,
        &Caller::Anonymous,
        "GET",
        &format!("/1.1/users/{ann}/followersAndFollowees?include=follower,followee"),
        None,
    );
    assert_eq!(
        both["followees"][0]["followee"]["username"], "bob",
        "{both}"
    );
    assert_eq!(both["followers"], json!([]));
    // Following twice keeps one follow; only ann changes whom ann follows.
    send(
        &api,
        &ann_as,
        "POST",
        &format!("/1.1/users/{ann}/friendship/{bob}"),
        None,
    );
    let (_, rows) = send(
        &api,
        &Caller::Master,
        "GET",
        "/1.1/classes/_Followee?count=1&limit=0",
        None,
    );
    assert_eq!(rows["count"], 1);
    let (status, _) = send(
        &api,
        &Caller::User(bob_t.as_str()),
        "DELETE",
        &format!("/1.1/users/{ann}/friendship/{bob}"),
        None,
    );
    assert_eq!(status, 403);
    let (status, _) = send(
        &api,
        &ann_as,
        "DELETE",
        &format!("/1.1/users/{ann}/friendship/{bob}"),
        None,
    );
    assert_eq!(status, 200);
    let (_, rows) = send(
        &api,
        &Caller::Master,
        "GET",
        "/1.1/classes/_Follower?count=1&limit=0",
        None,
    );
    assert_eq!(rows["count"], 0);
}

#[test]
fn statuses_reach_followers_inboxes_in_order_with_counts() {
    let api = Api::new(AppConfig::default());
    let (ann, ann_t) = user(&api, "ann");
    let (bob, bob_t) = user(&api, "bob");
    let (cid, cid_t) = user(&api, "cid");
    for (who, token) in [(&bob, &bob_t), (&cid, &cid_t)] {
        let (s, _) = send(
            &api,
            &Caller::User(token.as_str()),
            "POST",
            &format!("/1.1/users/{who}/friendship/{ann}"),
            None,
        );
        assert_eq!(s, 200);
    }
    let ann_as = Caller::User(ann_t.as_str());
    // AV.Status.sendStatusToFollowers: a query of ann's _Follower rows, keys follower.
    let to_followers = |text: &str| {
        json!({"query": {"className": "_Follower", "keys": "follower", "where": {"user": pointer(&ann)}},
               "data": {"message": text, "source": pointer(&ann)}, "inboxType": "default"})
    };
    let (status, first) = send(
        &api,
        &ann_as,
        "POST",
        "/1.1/statuses",
        Some(&to_followers("one")),
    );
    assert_eq!(status, 200, "{first}");
    send(
        &api,
        &ann_as,
        "POST",
        "/1.1/statuses",
        Some(&to_followers("two")),
    );
    // A private status to cid only.
    let private = json!({"query": {"className": "_User", "where": {"objectId": cid}}, "data": {"message": "psst"}, "inboxType": "private"});
    send(&api, &ann_as, "POST", "/1.1/statuses", Some(&private));

    let bob_as = Caller::User(bob_t.as_str());
    let inbox = |caller: &Caller<&str>, query: &str| {
        let (status, body) = send(
            &api,
            caller,
            "GET",
            &format!("/1.1/subscribe/statuses?{query}"),
            None,
        );
        assert_eq!(status, 200, "{body}");
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["messageId"].as_u64().unwrap(),
                    s["message"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let owner = enc(&pointer(&bob));
    assert_eq!(
        inbox(&bob_as, &format!("owner={owner}&inboxType=default")),
        [(2, "two".to_string()), (1, "one".to_string())]
    );
    assert_eq!(
        inbox(&bob_as, &format!("owner={owner}&sinceId=1")),
        [(2, "two".to_string())]
    );
    assert_eq!(
        inbox(&bob_as, &format!("owner={owner}&maxId=1")),
        [(1, "one".to_string())]
    );
    assert_eq!(
        inbox(
            &Caller::User(cid_t.as_str()),
            &format!("owner={}&inboxType=private", enc(&pointer(&cid)))
        ),
        [(1, "psst".to_string())]
    );
    let (status, _) = send(
        &api,
        &ann_as,
        "GET",
        &format!("/1.1/subscribe/statuses?owner={owner}"),
        None,
    );
    assert_eq!(status, 403, "only bob reads bob's inbox");

    let (_, count) = send(
        &api,
        &bob_as,
        "GET",
        &format!("/1.1/subscribe/statuses/count?owner={owner}&inboxType=default"),
        None,
    );
    assert_eq!(count, json!({"total": 2, "unread": 2}));
    send(
        &api,
        &bob_as,
        "POST",
        "/1.1/subscribe/statuses/resetUnreadCount",
        Some(&json!({"owner": pointer(&bob), "inboxType": "default"})),
    );
    let (_, count) = send(
        &api,
        &bob_as,
        "GET",
        &format!("/1.1/subscribe/statuses/count?owner={owner}"),
        None,
    );
    assert_eq!(count, json!({"total": 2, "unread": 0}));

    // Deleting a status is its source's; it leaves every inbox.
    let id = first["objectId"].as_str().unwrap();
    let (status, _) = send(
        &api,
        &bob_as,
        "DELETE",
        &format!("/1.1/statuses/{id}"),
        None,
    );
    assert_eq!(status, 403);
    let (status, _) = send(
        &api,
        &ann_as,
        "DELETE",
        &format!("/1.1/statuses/{id}"),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(
        inbox(&bob_as, &format!("owner={owner}")),
        [(2, "two".to_string())]
    );
    let (status, _) = send(
        &api,
        &bob_as,
        "DELETE",
        &format!("/1.1/subscribe/statuses/inbox?owner={owner}&inboxType=default&messageId=2"),
        None,
    );
    assert_eq!(status, 200);
    assert!(inbox(&bob_as, &format!("owner={owner}")).is_empty());
    let (status, _) = send(
        &api,
        &Caller::Anonymous,
        "POST",
        "/1.1/statuses",
        Some(&to_followers("x")),
    );
    assert_eq!(status, 400, "a status needs a signed-in user");
}
