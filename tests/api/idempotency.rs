//! Retried writes with an `Idempotency-Key` answer what the first one answered.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp, MAX, NEW_PASSWORD};

/// A JSON request with this API key and `Idempotency-Key`.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    idem: &str,
    body: &Value,
) -> reqwest::Response {
    app.request(method, path)
        .key(key)
        .header("idempotency-key", idem)
        .json(body)
        .send()
        .await
}

#[tokio::test]
async fn a_retried_create_returns_the_first_answer_and_creates_nothing_more() {
    let app = TestApp::spawn().await;
    let partner = app.create_partner("A").await;
    let key = app.partner_key(&partner).await;
    let body = json!({"name": "Max"});
    let first = send(
        &app,
        Method::POST,
        "/v1/customers",
        &key,
        "crm-sync-1",
        &body,
    )
    .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();
    let again = send(
        &app,
        Method::POST,
        "/v1/customers",
        &key,
        "crm-sync-1",
        &body,
    )
    .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], location);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM customers")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);

    // The same key for another request is a mistake, said so.
    let other = send(
        &app,
        Method::POST,
        "/v1/customers",
        &key,
        "crm-sync-1",
        &json!({"name": "Eva"}),
    )
    .await;
    let body = assert_problem(other, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "idempotency_key_reused");
    // Keys are per API key: another caller's key of the same name is its own.
    let admin = send(
        &app,
        Method::POST,
        "/v1/customers",
        &app.admin_key.clone(),
        "crm-sync-1",
        &json!({"name": "Eva"}),
    )
    .await;
    assert_eq!(admin.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_retried_password_set_is_not_refused_as_unchanged() {
    let app = TestApp::with_account().await;
    let body = json!({"password": NEW_PASSWORD});
    let path = "/v1/accounts/max@mustermann.at/password";
    let admin = app.admin_key.clone();
    let first = send(&app, Method::PUT, path, &admin, "pw-1", &body).await;
    assert_eq!(first.status(), StatusCode::NO_CONTENT);
    let again = send(&app, Method::PUT, path, &admin, "pw-1", &body).await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    // Without the key the same set is the policy's "unchanged".
    let plain = app.set_password(MAX, NEW_PASSWORD).await;
    assert_problem(plain, StatusCode::UNPROCESSABLE_ENTITY, "password_policy").await;
}

#[tokio::test]
async fn bad_keys_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    let res = send(
        &app,
        Method::POST,
        "/v1/partners",
        &admin,
        "with space",
        &json!({"name": "P"}),
    )
    .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "Idempotency-Key");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM partners")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_secret_shown_once_is_kept_for_the_retry_only_sealed() {
    let app = TestApp::spawn().await;
    let c = app.create_customer("Max", None).await;
    let body = json!({"role": "customer", "customer_id": c, "description": "CP"});
    let admin = app.admin_key.clone();
    let first = send(&app, Method::POST, "/v1/api-keys", &admin, "mint-1", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let secret = first["key"].as_str().unwrap();

    // What the table keeps does not show the key.
    let kept: Vec<u8> =
        sqlx::query_scalar("SELECT sealed_body FROM idempotency_keys WHERE key = 'mint-1'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(!kept.is_empty());
    assert!(!kept.windows(secret.len()).any(|w| w == secret.as_bytes()));
    let prefix = first["prefix"].as_str().unwrap();
    assert!(!kept.windows(prefix.len()).any(|w| w == prefix.as_bytes()));

    // The retry gets it, and nothing was minted twice.
    let again = send(&app, Method::POST, "/v1/api-keys", &admin, "mint-1", &body).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE customer_id IS NOT NULL")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}
