//! The webmail's password change (`POST /v1/password-change`): JSON and form bodies,
//! the current password judged before the new one, one 401 for every kind of wrong
//! login, and failure limits per address (across instances) and per client.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, verifies, TestApp, MAX, NEW_PASSWORD, STRONG_PASSWORD};

#[tokio::test]
async fn webmail_changes_the_password_by_json_and_by_form() {
    let app = TestApp::with_account().await;
    let res = app
        .change_password("Max@Mustermann.at", STRONG_PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    assert!(verifies(&app.stored_hash("max").await, NEW_PASSWORD));

    let third = "Blauer-Himmel-Graz-2031";
    let res = app.change_password_by_form(MAX, NEW_PASSWORD, third).await;
    assert_eq!(res.status(), StatusCode::OK);
    let hash = app.stored_hash("max").await;
    assert!(verifies(&hash, third) && !verifies(&hash, NEW_PASSWORD));

    let events = app.audit_events(MAX).await;
    assert_eq!(events["items"][0]["action"], "password.changed");
    assert_eq!(events["items"][0]["channel"], "webmail");
    assert_eq!(events["items"][0]["client_addr"], "127.0.0.1");
}

#[tokio::test]
async fn webmail_judges_the_new_password_only_after_the_current_one() {
    let app = TestApp::with_account().await;
    let res = app
        .change_password_by_form(MAX, STRONG_PASSWORD, "kurz")
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "password_policy").await;
    assert_eq!(body["errors"][0]["field"], "new_password");
    let res = app
        .change_password(MAX, STRONG_PASSWORD, STRONG_PASSWORD)
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "password_policy").await;
    assert_eq!(body["errors"][0]["code"], "password_unchanged");
    // Without the current password, nothing is said about the new one.
    let res = app.change_password(MAX, "wrong", "kurz").await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn unknown_wrong_suspended_and_deleted_all_answer_the_same_401() {
    let app = TestApp::with_account().await;
    app.create_account("mustermann.at", "suspended").await;
    app.update_account("suspended@mustermann.at", json!({"status": "suspended"}))
        .await;
    app.create_account("mustermann.at", "deleted").await;
    app.delete_account("deleted@mustermann.at").await;

    let mut answers = Vec::new();
    for (address, current) in [
        ("nobody@mustermann.at", STRONG_PASSWORD),
        ("max@mustermann.at", "Falsches-Passwort-123"),
        ("suspended@mustermann.at", STRONG_PASSWORD),
        ("deleted@mustermann.at", STRONG_PASSWORD),
        ("max@unknown-domain.at", STRONG_PASSWORD),
        ("not an address", STRONG_PASSWORD),
        ("max\u{0}@mustermann.at", STRONG_PASSWORD),
        ("\u{0}", "\u{0}"),
    ] {
        let res = app.change_password(address, current, NEW_PASSWORD).await;
        let headers = res.headers().clone();
        let mut body = assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        assert!(!headers.contains_key("www-authenticate"));
        // The request id differs by design; everything else must not.
        body.as_object_mut().unwrap().remove("request_id");
        answers.push(body);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:#?}");
    // And none of them changed anything.
    assert!(verifies(
        &app.stored_hash("suspended").await,
        STRONG_PASSWORD
    ));
    assert!(verifies(&app.stored_hash("deleted").await, STRONG_PASSWORD));
}

#[tokio::test]
async fn failures_are_limited_per_address_across_instances() {
    let first = TestApp::with_account_and(|s| {
        s.webmail_max_failures_per_address = 3;
        s.webmail_window_secs = 600;
    })
    .await;
    // A second instance on the same database, with the same limits.
    let second = first
        .second_instance_with(|s| {
            s.webmail_max_failures_per_address = 3;
            s.webmail_window_secs = 600;
        })
        .await;

    for app in [&first, &second, &first] {
        let res = app.change_password(MAX, "wrong", NEW_PASSWORD).await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    for app in [&second, &first] {
        // Even the right password is refused until the window ends.
        let res = app
            .change_password(MAX, STRONG_PASSWORD, NEW_PASSWORD)
            .await;
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=600).contains(&retry), "{retry}");
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    }
    // Other addresses are not affected by this address's limit.
    first.create_account("mustermann.at", "eva").await;
    let res = second
        .change_password("eva@mustermann.at", STRONG_PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn failures_are_limited_per_client_and_forwarded_for_is_believed_only_from_trusted_proxies() {
    let app = TestApp::with_account_and(|s| {
        s.webmail_max_failures_per_client = 2;
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    // A wrong login from `client`, as the proxy on 127.0.0.1 forwards it.
    let attempt = |client: &'static str, address: &'static str| {
        app.request(Method::POST, "/v1/password-change")
            .header("x-forwarded-for", &format!("{client}, 127.0.0.1"))
            .json(&json!({"address": address, "current_password": "wrong", "new_password": NEW_PASSWORD}))
            .send()
    };
    assert_eq!(
        attempt("203.0.113.5", "a@mustermann.at").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("203.0.113.5", "b@mustermann.at").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("203.0.113.5", "c@mustermann.at").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy is not blocked.
    assert_eq!(
        attempt("198.51.100.7", "d@mustermann.at").await.status(),
        StatusCode::UNAUTHORIZED
    );
}
