//! Client settings of an account (`/v1/accounts/{address}/client-settings`): the
//! endpoints the profile and the enabled protocols allow, the help-page guidance in
//! both languages, and a second instance that follows account changes.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, eventually, TestApp, MAX};

const SETTINGS: &str = "/v1/accounts/max@mustermann.at/client-settings";

#[tokio::test]
async fn client_settings_follow_the_profile_and_the_enabled_protocols() {
    let app = TestApp::with_named_account().await;
    let s = app.admin_get_json(SETTINGS).await;
    assert_eq!(s["username"], "max@mustermann.at");
    let incoming: Vec<(String, u64, String, bool)> = s["incoming"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["protocol"].as_str().unwrap().into(),
                e["port"].as_u64().unwrap(),
                e["security"].as_str().unwrap().into(),
                e["recommended"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        incoming,
        [
            ("imap".into(), 993, "tls".into(), true),
            ("imap".into(), 143, "starttls".into(), false),
            ("imap".into(), 143, "none".into(), false),
            ("pop3".into(), 995, "tls".into(), false),
            ("pop3".into(), 110, "starttls".into(), false),
            ("pop3".into(), 110, "none".into(), false),
        ]
    );
    assert!(s["incoming"][2]["warning"].is_string() && s["incoming"][0].get("warning").is_none());
    let outgoing: Vec<u64> = s["outgoing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["port"].as_u64().unwrap())
        .collect();
    assert_eq!(outgoing, [465, 587, 25]);
    assert_eq!(s["outgoing"][0]["recommended"], true);
    assert_eq!(s["outgoing"][0]["authentication"], "password");
    assert!(s["incoming"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["host"] == "mail.ipax.at"));

    app.update_account(MAX, json!({"protocols": {"pop3": false}}))
        .await;
    let s = app.admin_get_json(SETTINGS).await;
    assert!(s["incoming"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["protocol"] == "imap"));
}

#[tokio::test]
async fn guidance_covers_the_help_page_in_both_languages_with_the_accounts_values() {
    let app = TestApp::with_named_account().await;
    for (query, header, lang, phrases) in [
        (
            "",
            None,
            "de",
            vec![
                "max@mustermann.at",
                "mail.ipax.at",
                "E-Mail Konten",
                "Webmail",
                "993",
                "465",
                "täglichen Sicherungen",
                "Festplatte",
                "synchron",
                "verschlüsselt",
            ],
        ),
        (
            "?lang=en",
            None,
            "en",
            vec![
                "max@mustermann.at",
                "mail.ipax.at",
                "Control Panel",
                "webmail",
                "993",
                "465",
                "daily backups",
                "disk fails",
                "sync",
                "encrypt",
            ],
        ),
        ("", Some("en-GB,en;q=0.9"), "en", vec!["daily backups"]),
    ] {
        let mut req = app
            .request(Method::GET, &format!("{SETTINGS}{query}"))
            .key(&app.admin_key);
        if let Some(h) = header {
            req = req.header("accept-language", h);
        }
        let s: Value = req.send().await.json().await.unwrap();
        assert_eq!(s["guidance"]["language"], lang);
        let ids: Vec<&str> = s["guidance"]["sections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "credentials",
                "servers",
                "encryption",
                "imap_vs_pop3",
                "webmail"
            ]
        );
        let all = s["guidance"].to_string();
        for p in phrases {
            assert!(all.contains(p), "{lang}: {p:?} missing");
        }
        let webmail = &s["guidance"]["sections"][4]["body"];
        assert!(webmail
            .as_str()
            .unwrap()
            .contains("https://webmail.ipax.at/"));
    }
    let res = app
        .admin(Method::GET, &format!("{SETTINGS}?lang=fr"), None)
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn settings_on_another_instance_follow_account_changes() {
    let first = TestApp::with_named_account().await;
    let second = first.second_instance().await;
    let pop3_listed = |s: &Value| {
        s["incoming"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["protocol"] == "pop3")
    };
    assert!(pop3_listed(&second.admin_get_json(SETTINGS).await));
    first
        .update_account(MAX, json!({"protocols": {"pop3": false}}))
        .await;
    let followed =
        eventually(|| async { !pop3_listed(&second.admin_get_json(SETTINGS).await) }).await;
    assert!(followed, "the second instance kept the old protocols");
    // And on the instance that made the change, at once.
    assert!(!pop3_listed(&first.admin_get_json(SETTINGS).await));
}
