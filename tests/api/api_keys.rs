//! API keys: minted and shown once, stored as a hash, revoked (on every instance),
//! read-only keys, a partner's limits when minting, and every kind of wrong key.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, eventually, Role, TestApp};

#[tokio::test]
async fn a_minted_key_is_shown_once_works_and_stops_working_when_revoked() {
    let app = TestApp::spawn().await;
    let c = app.create_customer("Max", None).await;
    let res = app
        .admin(
            Method::POST,
            "/v1/api-keys",
            Some(json!({"role": "customer", "customer_id": c, "description": "CP"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let created: Value = res.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("mpk_") && key.len() >= 60, "{key}");
    assert!(key.starts_with(created["prefix"].as_str().unwrap()));

    let res = app
        .call(Method::GET, "/v1/customers", Some(&key), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Lists never show the key itself, and only its hash is stored.
    let list: Value = app
        .admin(Method::GET, "/v1/api-keys", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(!list.to_string().contains(&key));
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT secret_hash FROM api_keys WHERE id = $1::uuid")
            .bind(created["id"].as_str().unwrap())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored.len(), 32);
    let used: Value = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == created["id"])
        .unwrap()
        .clone();
    assert!(used["last_used_at"].is_string(), "{used}");

    let res = app
        .admin(
            Method::DELETE,
            &format!("/v1/api-keys/{}", created["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .call(Method::GET, "/v1/customers", Some(&key), None)
        .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn wrong_keys_are_all_unauthorized() {
    let app = TestApp::spawn().await;
    let mut tampered = app.admin_key.clone();
    tampered.pop();
    tampered.push(if app.admin_key.ends_with('A') {
        'B'
    } else {
        'A'
    });
    for key in [
        "",
        "mpk_",
        "mpk_nothing_here",
        "Basic abc",
        tampered.as_str(),
    ] {
        let res = app.call(Method::GET, "/v1/domains", Some(key), None).await;
        let res_headers = res.headers().clone();
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
        assert_eq!(res_headers["www-authenticate"], "Bearer");
    }
}

#[tokio::test]
async fn a_read_only_key_may_only_read() {
    let app = TestApp::spawn().await;
    let key = app.mint(Role::Admin, None, None, true).await;
    assert_eq!(
        app.call(Method::GET, "/v1/partners", Some(&key), None)
            .await
            .status(),
        StatusCode::OK
    );
    let res = app
        .call(
            Method::POST,
            "/v1/partners",
            Some(&key),
            Some(&json!({"name": "x"})),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn a_partner_cannot_mint_keys_above_its_reach() {
    let app = TestApp::spawn().await;
    let a = app.create_partner("A").await;
    let b = app.create_partner("B").await;
    let key = app.partner_key(&a).await;
    let res = app
        .call(
            Method::POST,
            "/v1/api-keys",
            Some(&key),
            Some(&json!({"role": "admin"})),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .call(
            Method::POST,
            "/v1/api-keys",
            Some(&key),
            Some(&json!({"role": "partner", "partner_id": b})),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app
        .call(
            Method::POST,
            "/v1/api-keys",
            Some(&key),
            Some(&json!({"role": "partner", "read_only": true})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["partner_id"], a.as_str());
    assert_eq!(created["read_only"], true);
}

#[tokio::test]
async fn a_key_revoked_on_one_instance_stops_working_on_another() {
    let first = TestApp::spawn().await;
    let second = first.second_instance().await;
    let c = first.create_customer("Max", None).await;
    let created: Value = first
        .admin(
            Method::POST,
            "/v1/api-keys",
            Some(json!({"role": "customer", "customer_id": c})),
        )
        .await
        .json()
        .await
        .unwrap();
    let key = created["key"].as_str().unwrap();
    // The second instance has seen (and keeps) the key.
    assert_eq!(
        second
            .call(Method::GET, "/v1/customers", Some(key), None)
            .await
            .status(),
        StatusCode::OK
    );
    let res = first
        .admin(
            Method::DELETE,
            &format!("/v1/api-keys/{}", created["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let refused = eventually(|| async {
        second
            .call(Method::GET, "/v1/customers", Some(key), None)
            .await
            .status()
            == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(refused, "the second instance still accepts the revoked key");
}
