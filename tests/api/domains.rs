//! Domains: Unicode names stored as lowercase A-labels, unique across customers,
//! invalid names refused, deletion only without live accounts, the account count.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_problem, TestApp};

#[tokio::test]
async fn unicode_domains_are_stored_as_lowercase_a_labels() {
    let app = TestApp::spawn().await;
    let c = app.create_customer("Max", None).await;
    let domain = app.create_domain("MÜLLER.at", &c).await;
    assert_eq!(domain["name"], "xn--mller-kva.at");
    assert_eq!(domain["name_unicode"], "müller.at");
    assert_eq!(domain["server_profile"], "default");
    // Either form finds it.
    for path in [
        "/v1/domains/müller.at",
        "/v1/domains/xn--mller-kva.at",
        "/v1/domains/M%C3%BCller.AT",
    ] {
        assert_eq!(
            app.admin(Method::GET, path, None).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_domain_is_unique_across_all_customers() {
    let app = TestApp::spawn().await;
    let a = app.create_customer("A", None).await;
    let b = app.create_customer("B", None).await;
    app.create_domain("müller.at", &a).await;
    let res = app
        .admin(
            Method::POST,
            "/v1/domains",
            Some(json!({"name": "xn--mller-kva.at", "customer_id": b})),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
}

#[tokio::test]
async fn invalid_domain_names_are_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    let c = app.create_customer("A", None).await;
    for bad in [
        "",
        "localhost",
        "a..b",
        "bad_name.at",
        "1.2.3.4",
        &"a".repeat(300),
    ] {
        let res = app
            .admin(
                Method::POST,
                "/v1/domains",
                Some(json!({"name": bad, "customer_id": c})),
            )
            .await;
        let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "name", "{bad}");
    }
    let res = app
        .admin(
            Method::POST,
            "/v1/domains",
            Some(json!({"name": "ok.at", "customer_id": c, "server_profile": "nope"})),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "server_profile");
}

#[tokio::test]
async fn a_domain_with_live_accounts_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let c = app.create_customer("A", None).await;
    app.create_domain("a.example", &c).await;
    app.create_account("a.example", "max").await;
    let res = app
        .admin(Method::DELETE, "/v1/domains/a.example", None)
        .await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
    // Once its only account is deleted, the domain may go (the deleted account with it).
    app.delete_account("max@a.example").await;
    let res = app
        .admin(Method::DELETE, "/v1/domains/a.example", None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.admin(Method::GET, "/v1/domains/a.example", None).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn account_count_counts_live_accounts() {
    let app = TestApp::spawn().await;
    let c = app.create_customer("A", None).await;
    app.create_domain("a.example", &c).await;
    app.create_account("a.example", "one").await;
    app.create_account("a.example", "two").await;
    app.delete_account("two@a.example").await;
    let d = app.admin_get_json("/v1/domains/a.example").await;
    assert_eq!(d["account_count"], 1);
}
