//! The loaded settings over HTTP on both fronts: `/1.1/schemas`, column types, read-only,
//! required and hidden columns, defaults and class permissions.

use super::*;

#[tokio::test]
async fn schemas_are_for_the_master_key_and_show_loaded_columns() {
    for front in FRONTS {
        let app = example_app(front).await;
        let base = app.uri();
        assert_eq!(
            send(&base, "GET", "/1.1/schemas", None, Caller::Anonymous).await,
            err(leancloud::LcError::master_key_required()),
            "{front:?}"
        );
        assert_eq!(
            send(
                &base,
                "GET",
                "/1.1/schemas/Review",
                None,
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::master_key_required())
        );
        let (status, review) =
            send(&base, "GET", "/1.1/schemas/Review", None, Caller::Master).await;
        assert_eq!(status, 200);
        assert_eq!(
            review,
            json!({
                "objectId": {"type": "String"},
                "createdAt": {"type": "Date"},
                "updatedAt": {"type": "Date"},
                "ACL": {"type": "ACL"},
                "business": {"type": "Pointer", "className": "Business"},
                "author": {"type": "Pointer", "className": "_User"},
                "stars": {"type": "Number"},
                "text": {"type": "String"},
                "moderatorNote": {"type": "String"}
            })
        );
        let (status, all) = send(&base, "GET", "/1.1/schemas", None, Caller::Master).await;
        assert_eq!(status, 200);
        assert_eq!(all["Review"], review);
        for class in ["_User", "_Role", "_File", "_Installation", "Business"] {
            assert_eq!(all[class]["objectId"], json!({"type": "String"}), "{class}");
        }
        assert_eq!(all["_User"]["reviewCount"], json!({"type": "Number"}));
        assert_eq!(
            send(&base, "GET", "/1.1/schemas/Nope", None, Caller::Master).await,
            err(leancloud::LcError::class_or_object_not_found())
        );
    }
}

#[tokio::test]
async fn a_new_column_keeps_the_type_of_its_first_write() {
    for front in FRONTS {
        let app = example_app(front).await;
        let base = app.uri();
        let (status, _) = send(
            &base,
            "POST",
            "/1.1/classes/Note",
            Some(json!({"n": 1})),
            Caller::Anonymous,
        )
        .await;
        assert_eq!(status, 201, "{front:?}");
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Note",
                Some(json!({"n": "one"})),
                Caller::Anonymous
            )
            .await,
            err(leancloud::LcError::incorrect_type("n", "Number", "String"))
        );
        // A declared column has its type from the start.
        let review = json!({
            "business": pointer("Business", NOODLES),
            "author": pointer("_User", ALICE),
            "stars": "five"
        });
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Review",
                Some(review),
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::incorrect_type(
                "stars", "Number", "String"
            ))
        );
        let wrong_target = json!({
            "business": pointer("_User", BOB),
            "author": pointer("_User", ALICE),
            "stars": 3
        });
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Review",
                Some(wrong_target),
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::incorrect_type(
                "business",
                "Pointer<Business>",
                "Pointer<_User>"
            ))
        );
    }
}

#[tokio::test]
async fn read_only_columns_refuse_clients_and_let_the_master_key_write() {
    for front in FRONTS {
        let app = example_app(front).await;
        let base = app.uri();
        let path = format!("/1.1/classes/_User/{ALICE}");
        assert_eq!(
            send(
                &base,
                "PUT",
                &path,
                Some(json!({"role": "admin"})),
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::read_only_key("role")),
            "{front:?}"
        );
        let (status, _) = send(
            &base,
            "PUT",
            &path,
            Some(json!({"displayName": "Al"})),
            Caller::User(ALICE_SESSION),
        )
        .await;
        assert_eq!(status, 200, "other columns stay writable");
        let (status, _) = send(
            &base,
            "PUT",
            &path,
            Some(json!({"role": "admin"})),
            Caller::Master,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            app.api().store().object("_User", ALICE).unwrap().to_map()["role"],
            "admin"
        );
    }
}

#[tokio::test]
async fn required_columns_and_class_permissions_hold_on_create() {
    for front in FRONTS {
        let app = example_app(front).await;
        let base = app.uri();
        let partial =
            json!({"business": pointer("Business", NOODLES), "author": pointer("_User", ALICE)});
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Review",
                Some(partial.clone()),
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::missing_required_key("stars")),
            "{front:?}"
        );
        let full = json!({"business": pointer("Business", NOODLES), "author": pointer("_User", ALICE), "stars": 5});
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Review",
                Some(full.clone()),
                Caller::Anonymous
            )
            .await,
            err(leancloud::LcError::forbidden_by_class_permissions("create")),
            "creating a review needs a signed-in user"
        );
        let mut extra = full.clone();
        extra["photos"] = json!(["a.jpg"]);
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Review",
                Some(extra.clone()),
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::forbidden_by_class_permissions(
                "add_fields"
            ))
        );
        let (status, created) = send(
            &base,
            "POST",
            "/1.1/classes/Review",
            Some(full.clone()),
            Caller::User(ALICE_SESSION),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let id = created["objectId"].as_str().unwrap();
        assert_eq!(
            app.api().store().object("Review", id).unwrap().to_map()["ACL"],
            json!({ALICE: {"read": true, "write": true}, "*": {"read": true}}),
            "the default ACL names the creator as _owner"
        );
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Review",
                Some(full),
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::duplicate_value()),
            "one review per author and business"
        );
        let (status, _) = send(
            &base,
            "POST",
            "/1.1/classes/Review",
            Some({
                extra["business"] = pointer("Business", CAFE);
                extra["author"] = pointer("_User", BOB);
                extra
            }),
            Caller::Master,
        )
        .await;
        assert_eq!(status, 201, "the master key adds columns");
        assert_eq!(
            send(
                &base,
                "POST",
                "/1.1/classes/Business",
                Some(json!({"name": "Mine"})),
                Caller::User(ALICE_SESSION)
            )
            .await,
            err(leancloud::LcError::forbidden_by_class_permissions("create"))
        );
    }
}

#[tokio::test]
async fn hidden_columns_are_for_the_master_key_and_defaults_show_at_read_time() {
    for front in FRONTS {
        let app = example_app(front).await;
        let base = app.uri();
        let review = format!("/1.1/classes/Review/{REVIEW}");
        let (_, client) = send(&base, "GET", &review, None, Caller::Anonymous).await;
        assert_eq!(client["stars"], 4, "{front:?}");
        assert!(client.get("moderatorNote").is_none(), "{client}");
        let (_, master) = send(&base, "GET", &review, None, Caller::Master).await;
        assert_eq!(master["moderatorNote"], "checked");

        let (_, found) = send(&base, "GET", "/1.1/classes/Review", None, Caller::Anonymous).await;
        assert!(
            found["results"][0].get("moderatorNote").is_none(),
            "{found}"
        );

        let (_, noodles) = send(
            &base,
            "GET",
            &format!("/1.1/classes/Business/{NOODLES}"),
            None,
            Caller::Anonymous,
        )
        .await;
        assert_eq!(
            (&noodles["category"], &noodles["rating"]),
            (&json!("other"), &json!(0))
        );
        let (_, cafe) = send(
            &base,
            "GET",
            &format!("/1.1/classes/Business/{CAFE}"),
            None,
            Caller::Anonymous,
        )
        .await;
        assert_eq!(
            (&cafe["category"], &cafe["rating"]),
            (&json!("cafe"), &json!(4))
        );
        assert!(
            app.api()
                .store()
                .object("Business", NOODLES)
                .unwrap()
                .to_map()
                .get("rating")
                .is_none(),
            "defaults are shown, not stored"
        );

        let bob = format!("/1.1/classes/_User/{BOB}");
        let (_, client) = send(&base, "GET", &bob, None, Caller::User(ALICE_SESSION)).await;
        assert_eq!(
            (&client["role"], &client["reviewCount"]),
            (&json!("admin"), &json!(0))
        );
        assert!(
            client.get("banned").is_none() && client.get("password").is_none(),
            "{client}"
        );
        let (_, master) = send(&base, "GET", &bob, None, Caller::Master).await;
        assert_eq!(
            master["banned"], false,
            "a hidden column's default, for the master key"
        );
    }
}
