//! What Dovecot reports back, in a real Dovecot: a 1 MB APPEND shows in the account's
//! `usage`, an APPEND past the quota (from `quota_mb`) is refused by Dovecot, and a
//! login sets `last_login`.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::process::Command;

use super::dovecot::Dovecot;
use crate::helpers::{TestApp, MAX, STRONG_PASSWORD};

/// Appends a message of about `size` bytes; the exit status and what was printed.
async fn append(dovecot: &Dovecot, size: usize) -> (i32, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mail/append.py");
    let out = Command::new("python3")
        .args([
            script,
            &dovecot.imaps_port().to_string(),
            MAX,
            STRONG_PASSWORD,
            &size.to_string(),
        ])
        .output()
        .await
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), said)
}

#[tokio::test]
async fn dovecot_reports_use_and_logins_and_enforces_the_quota() {
    let app = TestApp::with_account().await;
    let res = app.update_account(MAX, json!({"quota_mb": 2})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let before = app.admin_get_json(&format!("/v1/accounts/{MAX}")).await;
    assert_eq!(before["usage"], Value::Null, "nothing reported yet");
    assert_eq!(before["last_login"], Value::Null);
    let dovecot = Dovecot::start(&app).await;
    let started = Utc::now() - chrono::Duration::seconds(1);

    let (status, said) = append(&dovecot, 1_100_000).await;
    assert_eq!(status, 0, "a 1 MB APPEND: {said}\n{}", dovecot.log());
    let account = app
        .admin_get_json_once(&format!("/v1/accounts/{MAX}"), |a| {
            a["usage"]["storage_bytes"].as_i64().unwrap_or(0) >= 1_000_000
        })
        .await;
    let usage = &account["usage"];
    assert!(
        usage["storage_bytes"].as_i64().unwrap_or(0) >= 1_000_000,
        "{account}\n{}",
        dovecot.log()
    );
    assert_eq!(usage["messages"], 1);
    assert_eq!(usage["quota_bytes"], 2 * 1024 * 1024);
    assert!(
        (50..=100).contains(&usage["percent"].as_i64().unwrap()),
        "{usage}"
    );

    // Past the quota: Dovecot refuses it, and the use stays.
    let (status, said) = append(&dovecot, 1_100_000).await;
    assert_eq!(status, 3, "refused by Dovecot: {said}");
    assert!(said.to_lowercase().contains("quota"), "{said}");

    // The IMAP logins set last_login.
    let account = app
        .admin_get_json_once(&format!("/v1/accounts/{MAX}"), |a| {
            a["last_login"]["at"].is_string()
        })
        .await;
    let at: DateTime<Utc> = account["last_login"]["at"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .unwrap_or_default();
    assert!(
        at >= started,
        "last login {at}, test began {started}: {account}"
    );

    // Lists carry the same.
    let list = app
        .admin_get_json("/v1/domains/mustermann.at/accounts")
        .await;
    assert_eq!(list["items"][0]["usage"]["messages"], 1, "{list}");
}
