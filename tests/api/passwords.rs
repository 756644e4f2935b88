//! Passwords: the published policy, the Control Panel's set (every rule, stored as
//! sent, reach and deletion) and the bounded hashing queue. The webmail change and
//! imported legacy hashes are in the submodules.

mod legacy_hashes;
mod webmail;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, verifies, TestApp, MAX, NEW_PASSWORD, STRONG_PASSWORD};

#[tokio::test]
async fn the_policy_is_published_in_both_languages() {
    let app = TestApp::spawn().await;
    let policy: Value = app
        .call(Method::GET, "/v1/password-policy", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(policy["min_length"], 15);
    assert_eq!(policy["max_length"], 128);
    assert_eq!(policy["min_strength_score"], 3);
    let codes: Vec<&str> = policy["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "password_too_short",
            "password_too_long",
            "password_control_characters",
            "password_contains_local_part",
            "password_too_weak",
            "password_unchanged"
        ]
    );
    assert!(policy["rules"][0]["messages"]["de"]
        .as_str()
        .unwrap()
        .contains("mindestens 15 Zeichen"));
    assert!(policy["rules"][0]["messages"]["en"]
        .as_str()
        .unwrap()
        .contains("at least 15 characters"));
}

#[tokio::test]
async fn the_control_panel_set_enforces_every_rule() {
    let app = TestApp::with_account().await;
    let cases = [
        ("Kurz-2026!".to_owned(), "password_too_short"),
        ("Lang-".repeat(30), "password_too_long"),
        (
            "Fahrrad\u{0}Kaffee-Wien-2026".to_owned(),
            "password_control_characters",
        ),
        (
            "Fahrrad-Kaffee\nWien-2026".to_owned(),
            "password_control_characters",
        ),
        (
            "Fahrrad-MAX-Kaffee-2026".to_owned(),
            "password_contains_local_part",
        ),
        ("passwordpassword1".to_owned(), "password_too_weak"),
        ("mustermann.at.2026".to_owned(), "password_too_weak"),
        (STRONG_PASSWORD.to_owned(), "password_unchanged"),
    ];
    for (password, code) in cases {
        let res = app.set_password(MAX, &password).await;
        let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "password_policy").await;
        assert_eq!(body["errors"][0]["code"], code, "{password:?}: {body}");
        assert_eq!(body["errors"][0]["field"], "password");
        assert!(
            body["errors"][0]["messages"]["de"].is_string()
                && body["errors"][0]["messages"]["en"].is_string()
        );
    }
    assert!(
        verifies(&app.stored_hash("max").await, STRONG_PASSWORD),
        "nothing changed"
    );
}

#[tokio::test]
async fn the_control_panel_sets_a_password_that_is_stored_exactly_as_sent() {
    let app = TestApp::with_account().await;
    // Non-ASCII, leading and trailing spaces: all kept, nothing normalised.
    let password = " Grüße aus Wien 2026! ";
    let res = app.set_password(MAX, password).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let hash = app.stored_hash("max").await;
    assert!(verifies(&hash, password));
    assert!(!verifies(&hash, password.trim()));
    assert!(
        !verifies(&hash, &password.replace('ü', "u\u{308}")),
        "no Unicode normalisation"
    );

    let events = app.audit_events(MAX).await;
    assert_eq!(events["items"][0]["action"], "password.set");
    assert_eq!(events["items"][0]["channel"], "api");
    assert!(!events.to_string().contains("Wien"));
}

#[tokio::test]
async fn the_control_panel_set_respects_reach_and_deletion() {
    let app = TestApp::with_account().await;
    // Another customer's key does not even learn that the account exists.
    let other = app.create_customer("Other", None).await;
    let key = app.customer_key(&other).await;
    let res = app
        .request(Method::PUT, "/v1/accounts/max@mustermann.at/password")
        .key(&key)
        .json(&json!({"password": NEW_PASSWORD}))
        .send()
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    app.delete_account(MAX).await;
    let res = app.set_password(MAX, NEW_PASSWORD).await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
}

#[tokio::test]
async fn a_full_hashing_queue_answers_503_with_retry_after() {
    let app = TestApp::with_account_and(|s| {
        s.hash_concurrency = 1;
        s.hash_queue = 0;
    })
    .await;
    for i in 0..8 {
        app.create_account("mustermann.at", &format!("u{i}")).await;
    }
    let sets: Vec<(String, String)> = (0..8)
        .map(|i| (format!("u{i}@mustermann.at"), format!("{NEW_PASSWORD}-{i}")))
        .collect();
    // All at once, so that they meet in the hashing pool.
    let calls = sets
        .iter()
        .map(|(address, password)| app.set_password(address, password));
    let responses = futures_util::future::join_all(calls).await;
    let mut overloaded = 0;
    for res in responses {
        match res.status() {
            StatusCode::NO_CONTENT => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                overloaded += 1;
                assert_eq!(res.headers()["retry-after"], "1");
                assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "overloaded").await;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        overloaded > 0,
        "eight hashes at once never filled a queue of one"
    );
}
