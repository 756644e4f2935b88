//! Accounts: creation with an Argon2id hash, concurrent creates, PATCH with If-Match,
//! delete and restore, the retention purge, input validation, hash imports by role and
//! the audit trail.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, verifies, TestApp, MAX, STRONG_PASSWORD};

#[tokio::test]
async fn an_account_is_created_with_an_argon2id_hash_that_dovecot_can_verify() {
    let app = TestApp::with_domain().await;
    let res = app
        .admin(
            Method::POST,
            "/v1/domains/mustermann.at/accounts",
            Some(json!({"local_part": "Max", "password": STRONG_PASSWORD, "display_name": "Max Mustermann", "quota_mb": 1024,
                        "protocols": {"imap": true, "pop3": false, "smtp": true}})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["location"], "/v1/accounts/max@mustermann.at");
    assert_eq!(res.headers()["etag"], "\"v1\"");
    let a: Value = res.json().await.unwrap();
    assert_eq!(a["address"], "max@mustermann.at");
    assert_eq!(a["local_part"], "max");
    assert_eq!(a["status"], "active");
    assert_eq!(a["quota_mb"], 1024);
    assert_eq!(
        a["protocols"],
        json!({"imap": true, "pop3": false, "smtp": true})
    );
    assert!(a.get("password").is_none() && a.get("password_hash").is_none());

    let hash: String = sqlx::query_scalar("SELECT password_hash FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        hash.starts_with("{ARGON2ID}$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(verifies(&hash, STRONG_PASSWORD));
}

#[tokio::test]
async fn two_concurrent_creates_of_one_address_give_one_201_and_one_409() {
    let app = TestApp::with_domain().await;
    for round in 0..3 {
        let lower = json!({"local_part": format!("race{round}"), "password": STRONG_PASSWORD});
        let upper = json!({"local_part": format!("RACE{round}"), "password": STRONG_PASSWORD});
        let (a, b) = tokio::join!(
            app.admin(
                Method::POST,
                "/v1/domains/mustermann.at/accounts",
                Some(lower)
            ),
            app.admin(
                Method::POST,
                "/v1/domains/mustermann.at/accounts",
                Some(upper)
            ),
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [201, 409], "round {round}");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 3);
}

#[tokio::test]
async fn patch_changes_only_what_it_names_and_honours_if_match() {
    let app = TestApp::with_domain().await;
    app.create_account("mustermann.at", "max").await;
    let res = app
        .admin(Method::GET, "/v1/accounts/MAX@Mustermann.at", None)
        .await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();

    let res = app
        .request(Method::PATCH, "/v1/accounts/max@mustermann.at")
        .key(&app.admin_key)
        .header("If-Match", &etag)
        .json(&json!({"status": "suspended", "protocols": {"pop3": false}, "display_name": "Max"}))
        .send()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_ne!(res.headers()["etag"].to_str().unwrap(), etag);
    let a: Value = res.json().await.unwrap();
    assert_eq!(a["status"], "suspended");
    assert_eq!(
        a["protocols"],
        json!({"imap": true, "pop3": false, "smtp": true})
    );
    assert_eq!(a["display_name"], "Max");
    assert_eq!(a["quota_mb"], 2048);

    // The ETag read before that change no longer matches.
    let stale = app
        .request(Method::PATCH, "/v1/accounts/max@mustermann.at")
        .key(&app.admin_key)
        .header("If-Match", &etag)
        .json(&json!({"status": "active"}))
        .send()
        .await;
    assert_problem(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;

    let cleared: Value = app
        .update_account(MAX, json!({"display_name": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["display_name"], Value::Null);
    assert_eq!(cleared["status"], "suspended");
}

#[tokio::test]
async fn a_deleted_account_is_restorable_as_it_was_and_holds_its_address() {
    let app = TestApp::with_domain().await;
    app.create_account("mustermann.at", "max").await;
    app.update_account(MAX, json!({"quota_mb": 512})).await;
    let hash_before: String = sqlx::query_scalar("SELECT password_hash FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    let res = app.delete_account(MAX).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // A retried delete is harmless.
    let res = app.delete_account(MAX).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let shown = app.admin_get_json("/v1/accounts/max@mustermann.at").await;
    assert!(shown["deleted_at"].is_string());
    assert!(shown["restorable_until"].is_string());
    let live = app
        .admin_get_json("/v1/domains/mustermann.at/accounts")
        .await;
    assert_eq!(live["items"].as_array().unwrap().len(), 0);
    let deleted = app
        .admin_get_json("/v1/domains/mustermann.at/accounts?deleted=true")
        .await;
    assert_eq!(deleted["items"][0]["address"], "max@mustermann.at");

    let res = app
        .admin(
            Method::POST,
            "/v1/domains/mustermann.at/accounts",
            Some(json!({"local_part": "max", "password": STRONG_PASSWORD})),
        )
        .await;
    let body = assert_problem(res, StatusCode::CONFLICT, "conflict").await;
    assert!(
        body["detail"].as_str().unwrap().contains("restore"),
        "{body}"
    );
    let res = app.update_account(MAX, json!({"quota_mb": 1})).await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;

    let res = app.restore_account(MAX).await;
    assert_eq!(res.status(), StatusCode::OK);
    let restored: Value = res.json().await.unwrap();
    assert_eq!(restored["quota_mb"], 512);
    assert_eq!(restored["deleted_at"], Value::Null);
    let hash_after: String = sqlx::query_scalar("SELECT password_hash FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(hash_before, hash_after);
    let res = app.restore_account(MAX).await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
}

#[tokio::test]
async fn after_the_retention_period_the_account_is_purged_and_the_address_free() {
    let app = TestApp::with_account_and(|s| {
        s.account_retention_days = 0;
        s.purge_interval_secs = 1;
    })
    .await;
    app.create_account("mustermann.at", "eva").await;
    app.delete_account(MAX).await;
    app.delete_account("eva@mustermann.at").await;

    // The address is free at once: creating purges the expired holder.
    app.create_account("mustermann.at", "max").await;
    // The background purge removes the other one.
    let mut purged = false;
    for _ in 0..100 {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts WHERE local_part = 'eva'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if n == 0 {
            purged = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(purged, "the background purge never ran");
    let res = app
        .admin(Method::GET, "/v1/accounts/eva@mustermann.at", None)
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(
        app.audit_actions("eva@mustermann.at").await[0],
        "account.purged"
    );
}

#[tokio::test]
async fn bad_account_input_names_each_bad_field() {
    let app = TestApp::with_domain().await;
    let res = app
        .admin(
            Method::POST,
            "/v1/domains/mustermann.at/accounts",
            Some(json!({"local_part": "bad local", "password": "short", "quota_mb": 0, "display_name": "x\u{7}"})),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["display_name", "local_part", "password", "quota_mb"]
    );

    let res = app
        .admin(
            Method::POST,
            "/v1/domains/mustermann.at/accounts",
            Some(json!({"local_part": "max"})),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app
        .admin(
            Method::POST,
            "/v1/domains/mustermann.at/accounts",
            Some(json!({"local_part": "a".repeat(65), "password": STRONG_PASSWORD})),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn partners_may_import_hashes_customers_may_not() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("A").await;
    let c = app.create_customer("Max", Some(&p)).await;
    app.create_domain("mustermann.at", &c).await;
    let hash = "{SHA512-CRYPT}$6$rounds=5000$saltsalt$J5bS7d3W3rTvpGbw7rJ0.t6q8y7tq0jKp1xQ3eD4cF5gH6iJ7kL8mN9oP0qR1sT2uV3wX4yZ5aB6cD7eF8gH9i";
    let body = json!({"local_part": "imported", "password_hash": hash});
    let partner = app.partner_key(&p).await;
    let customer = app.customer_key(&c).await;
    let res = app
        .call(
            Method::POST,
            "/v1/domains/mustermann.at/accounts",
            Some(&customer),
            Some(&body),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .call(
            Method::POST,
            "/v1/domains/mustermann.at/accounts",
            Some(&partner),
            Some(&body),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, hash);

    let res = app
        .call(
            Method::POST,
            "/v1/domains/mustermann.at/accounts",
            Some(&partner),
            Some(&json!({"local_part": "x", "password_hash": "{PLAIN}secret"})),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "password_hash");
}

#[tokio::test]
async fn every_change_leaves_an_audit_event_without_secrets() {
    let app = TestApp::with_domain().await;
    app.create_account("mustermann.at", "max").await;
    app.update_account(MAX, json!({"quota_mb": 100})).await;
    app.delete_account(MAX).await;
    app.restore_account(MAX).await;
    let actions = app.audit_actions(MAX).await;
    let events = app.audit_events(MAX).await;
    assert_eq!(
        actions,
        [
            "account.restored",
            "account.deleted",
            "account.updated",
            "account.created"
        ]
    );
    let text = events.to_string();
    assert!(!text.contains(STRONG_PASSWORD) && !text.contains("argon2"));
    assert_eq!(events["items"][0]["client_addr"], "127.0.0.1");
}
