//! App passwords in a real Dovecot: each logs in to its protocols only; with
//! `require_app_passwords` the main password stops working in mail clients; an expired
//! or revoked one is refused; a login with one is noted as its last use.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::dovecot::Dovecot;
use crate::helpers::{assert_problem, TestApp, MAX, NEW_PASSWORD, STRONG_PASSWORD};

const PATH: &str = "/v1/accounts/max@mustermann.at/app-passwords";

async fn create(app: &TestApp, body: Value) -> Value {
    let res = app.admin(Method::POST, PATH, Some(body)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn listed(app: &TestApp) -> Vec<Value> {
    app.admin_get_json(PATH).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn app_passwords_log_in_to_their_protocols_only() {
    let app = TestApp::with_account().await;
    let dovecot = Dovecot::start(&app).await;

    let phone = create(&app, json!({"name": "iPhone", "protocols": ["imap"]})).await;
    let secret = phone["password"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 29, "{secret}");
    assert_eq!(phone["protocols"], json!(["imap"]));
    let items = listed(&app).await;
    assert_eq!(items.len(), 1);
    assert!(
        items[0].get("password").is_none(),
        "never listed: {}",
        items[0]
    );
    assert_eq!(items[0]["last_used_at"], Value::Null);

    // 1. IMAP yes; POP3 and SMTP submission no; the main password still works.
    assert!(
        dovecot.login("imap", "tls", MAX, &secret).await,
        "{}",
        dovecot.log()
    );
    assert!(!dovecot.login("pop3", "tls", MAX, &secret).await);
    assert!(!dovecot.login("smtp", "tls", MAX, &secret).await);
    assert!(dovecot.login("imap", "tls", MAX, STRONG_PASSWORD).await);
    let items = listed(&app).await;
    assert!(
        items[0]["last_used_at"].is_string(),
        "use noted: {}",
        items[0]
    );

    // 2. Required: the main password is refused in mail clients, the app password is
    //    not.
    let res = app
        .update_account(MAX, json!({"require_app_passwords": true}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let account: Value = res.json().await.unwrap();
    assert_eq!(account["require_app_passwords"], true);
    assert!(!dovecot.login("imap", "tls", MAX, STRONG_PASSWORD).await);
    assert!(!dovecot.login("pop3", "tls", MAX, STRONG_PASSWORD).await);
    assert!(!dovecot.login("smtp", "tls", MAX, STRONG_PASSWORD).await);
    assert!(dovecot.login("imap", "tls", MAX, &secret).await);
    // The webmail keeps the main password: its password change still takes it.
    let res = app
        .change_password(MAX, STRONG_PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK, "the webmail change");
    assert!(!dovecot.login("imap", "tls", MAX, NEW_PASSWORD).await);

    // 3. Expired (its time passes): refused.
    let scanner = create(&app, json!({"name": "Scanner", "protocols": ["smtp"]})).await;
    let scanner_secret = scanner["password"].as_str().unwrap().to_owned();
    assert!(
        dovecot.login("smtp", "tls", MAX, &scanner_secret).await,
        "{}",
        dovecot.log()
    );
    sqlx::query(
        "UPDATE app_passwords SET expires_at = now() - interval '1 second' WHERE name = 'Scanner'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert!(!dovecot.login("smtp", "tls", MAX, &scanner_secret).await);

    // 4. Revoked: refused at once.
    let id = phone["id"].as_str().unwrap();
    let res = app
        .admin(Method::DELETE, &format!("{PATH}/{id}"), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(!dovecot.login("imap", "tls", MAX, &secret).await);
    let res = app
        .admin(Method::DELETE, &format!("{PATH}/{id}"), None)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // A password that merely looks like one is just a wrong password.
    assert!(
        !dovecot
            .login("imap", "tls", MAX, "aaaa-bbbb-cccc-dddd-eeee-ffff")
            .await
    );
}

#[tokio::test]
async fn app_passwords_are_bounded_and_in_reach() {
    let app = TestApp::with_account_and(|s| s.max_app_passwords = 2).await;
    for name in ["one", "two"] {
        create(&app, json!({"name": name, "protocols": ["imap", "smtp"]})).await;
    }
    let res = app
        .admin(
            Method::POST,
            PATH,
            Some(json!({"name": "three", "protocols": ["imap"]})),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "limit_reached").await;
    for (body, field) in [
        (json!({"name": "x", "protocols": []}), "protocols"),
        (json!({"name": "x", "protocols": ["ftp"]}), "protocols[0]"),
        (json!({"name": "", "protocols": ["imap"]}), "name"),
        (
            json!({"name": "x", "protocols": ["imap"], "expires_at": "2020-01-01T00:00:00Z"}),
            "expires_at",
        ),
    ] {
        let res = app.admin(Method::POST, PATH, Some(body.clone())).await;
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    // Another customer's key sees no such account.
    let other = app.create_customer("Other", None).await;
    let key = app.customer_key(&other).await;
    let res = app.call(Method::GET, PATH, Some(&key), None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
