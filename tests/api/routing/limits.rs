//! Package limits per domain: set by admin and partner keys, exact under
//! concurrency, counted on create, restore, quota raise and rename.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp, MAX, STRONG_PASSWORD};

async fn set_limits(app: &TestApp, limits: Value) -> Value {
    let res = app
        .admin(Method::PATCH, "/v1/domains/mustermann.at", Some(limits))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn account(local_part: &str, quota_mb: i32) -> Value {
    json!({"local_part": local_part, "password": STRONG_PASSWORD, "quota_mb": quota_mb})
}

#[tokio::test]
async fn the_last_slot_claimed_twice_at_once_goes_to_one() {
    let app = TestApp::with_account().await;
    for round in 0..5 {
        // One slot left each round.
        let domain = set_limits(&app, json!({"max_accounts": round + 2})).await;
        assert_eq!(domain["account_count"], round + 1);
        let path = "/v1/domains/mustermann.at/accounts";
        let a = app.admin(Method::POST, path, Some(account(&format!("a{round}"), 100)));
        let b = app.admin(Method::POST, path, Some(account(&format!("b{round}"), 100)));
        let (a, b) = tokio::join!(a, b);
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::CREATED, StatusCode::CONFLICT],
            "round {round}"
        );
        let loser = if a.status() == StatusCode::CONFLICT {
            a
        } else {
            b
        };
        assert_problem(loser, StatusCode::CONFLICT, "limit_reached").await;
    }
}

#[tokio::test]
async fn aliases_quota_and_restores_count_against_the_limits() {
    let app = TestApp::with_account().await;
    let domain = set_limits(&app, json!({"max_aliases": 1, "max_quota_mb": 3000})).await;
    assert_eq!(
        (
            domain["max_aliases"].clone(),
            domain["quota_mb_allocated"].clone()
        ),
        (json!(1), json!(2048))
    );
    app.create_alias("mustermann.at", "info", &[MAX]).await;
    let res = app.try_alias("mustermann.at", "office", &[MAX]).await;
    assert_problem(res, StatusCode::CONFLICT, "limit_reached").await;
    // Renaming while keeping the old address needs an alias slot as well.
    let res = app
        .admin(
            Method::POST,
            &format!("/v1/accounts/{MAX}/rename"),
            Some(json!({"local_part": "m", "keep_old_as_alias": true})),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "limit_reached").await;
    assert_eq!(
        app.admin(Method::GET, &format!("/v1/accounts/{MAX}"), None)
            .await
            .status(),
        StatusCode::OK,
        "the refused rename changed nothing"
    );

    let res = app
        .admin(
            Method::POST,
            "/v1/domains/mustermann.at/accounts",
            Some(account("eva", 1000)),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "limit_reached").await;
    let res = app.update_account(MAX, json!({"quota_mb": 3001})).await;
    assert_problem(res, StatusCode::CONFLICT, "limit_reached").await;
    let res = app.update_account(MAX, json!({"quota_mb": 1024})).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "lowering a quota is always allowed"
    );
    let res = app
        .admin(
            Method::POST,
            "/v1/domains/mustermann.at/accounts",
            Some(account("eva", 1976)),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "exactly up to the limit");

    // A deleted account frees its slot; bringing it back needs one.
    app.delete_account("eva@mustermann.at").await;
    set_limits(&app, json!({"max_accounts": 1})).await;
    let res = app.restore_account("eva@mustermann.at").await;
    assert_problem(res, StatusCode::CONFLICT, "limit_reached").await;
    set_limits(&app, json!({"max_accounts": null, "max_quota_mb": null})).await;
    let res = app.restore_account("eva@mustermann.at").await;
    assert_eq!(res.status(), StatusCode::OK, "null is unlimited");
}

#[tokio::test]
async fn only_admin_and_partner_keys_set_limits() {
    let app = TestApp::spawn().await;
    let t = app.tenants().await;
    let key = app.customer_key(&t.customer_a).await;
    let body = json!({"max_accounts": 1000});
    let res = app
        .call(
            Method::PATCH,
            "/v1/domains/a.example",
            Some(&key),
            Some(&body),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let partner = app.partner_key(&t.partner_a).await;
    let res = app
        .call(
            Method::PATCH,
            "/v1/domains/a.example",
            Some(&partner),
            Some(&body),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .call(
            Method::PATCH,
            "/v1/domains/a.example",
            Some(&partner),
            Some(&json!({"max_aliases": -1})),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}
