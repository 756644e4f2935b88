//! The welcome message: queued with the account it announces, sent through the
//! configured relay, the same settings as the client-settings JSON, never the
//! password; a relay that is down delays it without failing the create.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp, MAX, STRONG_PASSWORD};
use crate::peers::mailserver::dovecot::{free_port, smtp_sink, smtp_sink_on};

fn create_with_welcome(send_to: &str, language: &str) -> Value {
    json!({"local_part": "max", "password": STRONG_PASSWORD,
           "welcome": {"send_to": send_to, "language": language}})
}

/// The message as a mail client decodes it (tests/mail/parse.py).
async fn parsed(raw: &str) -> Value {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/parse.py");
    let mut child = tokio::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut stdin = child.stdin.take().unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stdin, raw.as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    serde_json::from_slice(&out.stdout).expect("parse.py prints JSON")
}

async fn first_message(sink: &std::sync::Mutex<Vec<String>>, within: Duration) -> Option<String> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(m) = sink.lock().unwrap().first() {
            return Some(m.clone());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

#[tokio::test]
async fn the_welcome_message_carries_the_settings_and_never_the_password() {
    let (port, sink) = smtp_sink().await;
    let app = TestApp::with_domain_and(|s| {
        s.smtp_relay = Some(("127.0.0.1".into(), port));
        s.outbox_poll_ms = 100;
    })
    .await;
    let res = app
        .admin(
            Method::POST,
            "/v1/domains/mustermann.at/accounts",
            Some(create_with_welcome("max.privat@example.net", "en")),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let raw = first_message(&sink, Duration::from_secs(10))
        .await
        .expect("the welcome arrives");
    let mail = parsed(&raw).await;
    assert_eq!(mail["to"], "max.privat@example.net");
    assert_eq!(
        mail["subject"],
        format!("Your email account {MAX} is ready")
    );
    assert_eq!(mail["content_type"], "multipart/alternative");
    let parts = mail["parts"].as_array().unwrap();
    let types: Vec<&str> = parts.iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["text/plain", "text/html"]);

    // Every server of the JSON, in both parts, and the way to the owner's page.
    let settings = app
        .admin_get_json(&format!("/v1/accounts/{MAX}/client-settings?lang=en"))
        .await;
    for part in parts {
        let text = part["text"].as_str().unwrap();
        for entry in ["incoming", "outgoing"]
            .iter()
            .flat_map(|k| settings[k].as_array().unwrap())
        {
            let security = match entry["security"].as_str().unwrap() {
                "tls" => "SSL/TLS",
                "starttls" => "STARTTLS",
                _ => "not recommended",
            };
            let line = format!(
                "{} {}, port {}, {security}",
                entry["protocol"].as_str().unwrap().to_uppercase(),
                entry["host"].as_str().unwrap(),
                entry["port"]
            );
            assert!(text.contains(&line), "{} lacks {line}", part["type"]);
        }
        assert!(text.contains(MAX), "the user name");
        // HTML escapes the `&` (as `&#38;`); a browser follows the same link.
        let unescaped = text.replace("&#38;", "&").replace("&amp;", "&");
        assert!(
            unescaped.contains(
                "https://autoconfig.ipax.at/setup?emailaddress=max%40mustermann.at&lang=en"
            ),
            "{} lacks the link to the owner's page",
            part["type"]
        );
    }
    assert!(!raw.contains(STRONG_PASSWORD), "never the password");
    assert!(app
        .audit_events(MAX)
        .await
        .to_string()
        .contains("max.privat@example.net"));
}

#[tokio::test]
async fn a_relay_that_is_down_delays_the_welcome_without_failing_the_create() {
    let port = free_port();
    let app = TestApp::with_domain_and(|s| {
        s.smtp_relay = Some(("127.0.0.1".into(), port));
        s.outbox_poll_ms = 100;
        s.outbox_retry_secs = 1;
    })
    .await;
    let res = app
        .admin(
            Method::POST,
            "/v1/domains/mustermann.at/accounts",
            Some(create_with_welcome("max.privat@example.net", "de")),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "the relay being down fails nothing"
    );

    // The first attempt fails and is recorded.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (attempts, error): (i32, Option<String>) =
            sqlx::query_as("SELECT attempts, last_error FROM outbox_mail")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        if attempts >= 1 {
            assert!(error.is_some());
            break;
        }
        assert!(Instant::now() < deadline, "no attempt was made");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (_, _, metrics) = app.get_text("/metrics").await;
    assert!(metrics.contains("mailpanel_outbox_pending 1"), "{metrics}");

    // The relay comes back on its port: the retry delivers it.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let sink = smtp_sink_on(listener);
    let raw = first_message(&sink, Duration::from_secs(15))
        .await
        .expect("delivered after the relay came back");
    let mail = parsed(&raw).await;
    assert_eq!(
        mail["subject"],
        format!("Ihr E-Mail-Konto {MAX} ist eingerichtet")
    );
    let sent: bool = sqlx::query_scalar("SELECT sent_at IS NOT NULL FROM outbox_mail")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(sent);
    let (_, _, metrics) = app.get_text("/metrics").await;
    assert!(metrics.contains("mailpanel_outbox_pending 0"));
}

#[tokio::test]
async fn without_a_relay_a_welcome_is_refused_and_nothing_is_created() {
    let app = TestApp::with_domain().await;
    let res = app
        .admin(
            Method::POST,
            "/v1/domains/mustermann.at/accounts",
            Some(create_with_welcome("max.privat@example.net", "de")),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "mail_not_configured");
    let res = app
        .admin(Method::GET, &format!("/v1/accounts/{MAX}"), None)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
