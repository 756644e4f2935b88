//! Server profiles (`/v1/server-profiles`): a changed or replaced profile changes
//! every client document at once, invalid ones are refused with each problem named,
//! and a second instance hears of profile and domain changes.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_problem, eventually, xml_child, xml_text, TestApp};

const AUTOCONFIG: &str = "/mail/config-v1.1.xml?emailaddress=max%40mustermann.at";

#[tokio::test]
async fn a_changed_profile_changes_every_answer_at_once() {
    let app = TestApp::with_named_account().await;
    let profile = json!({
        "name": "white-label",
        "incoming_host": "imap.reseller.example",
        "outgoing_host": "smtp.reseller.example",
        "webmail_url": "https://mail.reseller.example/",
        "endpoints": [
            {"protocol": "imap", "port": 993, "security": "tls"},
            {"protocol": "smtp", "port": 587, "security": "starttls"}
        ]
    });
    let res = app
        .admin(Method::POST, "/v1/server-profiles", Some(profile.clone()))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .admin(Method::POST, "/v1/server-profiles", Some(profile))
        .await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
    app.admin(
        Method::PATCH,
        "/v1/domains/mustermann.at",
        Some(json!({"server_profile": "white-label"})),
    )
    .await;

    let (_, _, body) = app.get_text(AUTOCONFIG).await;
    let doc = roxmltree::Document::parse(&body).unwrap();
    let provider = xml_child(doc.root_element(), "emailProvider");
    assert_eq!(
        xml_text(xml_child(provider, "incomingServer"), "hostname"),
        "imap.reseller.example"
    );
    assert_eq!(
        xml_text(xml_child(provider, "outgoingServer"), "port"),
        "587"
    );
    assert!(!provider
        .children()
        .any(|c| c.attribute("type") == Some("pop3")));

    let s = app
        .admin_get_json("/v1/accounts/max@mustermann.at/client-settings")
        .await;
    assert_eq!(s["webmail_url"], "https://mail.reseller.example/");
    assert_eq!(s["outgoing"][0]["host"], "smtp.reseller.example");

    // A replaced profile, too.
    let res = app
        .admin(
            Method::PUT,
            "/v1/server-profiles/white-label",
            Some(json!({"incoming_host": "imap2.reseller.example", "outgoing_host": "smtp.reseller.example",
                        "endpoints": [{"protocol": "imap", "port": 993, "security": "tls"}, {"protocol": "smtp", "port": 465, "security": "tls"}]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, _, body) = app.get_text(AUTOCONFIG).await;
    assert!(body.contains("imap2.reseller.example"));

    // A profile in use, and the default, stay.
    let res = app
        .admin(Method::DELETE, "/v1/server-profiles/white-label", None)
        .await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
    let res = app
        .admin(Method::DELETE, "/v1/server-profiles/default", None)
        .await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
}

/// The host a second instance's auto-configuration names for this address, `None`
/// while it does not know the domain.
async fn incoming_host(app: &TestApp, address: &str) -> Option<String> {
    let path = format!(
        "/mail/config-v1.1.xml?emailaddress={}",
        address.replace('@', "%40")
    );
    let (status, _, body) = app.get_text(&path).await;
    if status != StatusCode::OK {
        return None;
    }
    let doc = roxmltree::Document::parse(&body).unwrap();
    let provider = xml_child(doc.root_element(), "emailProvider");
    Some(xml_text(xml_child(provider, "incomingServer"), "hostname"))
}

async fn served_as(app: &TestApp, address: &str, host: Option<&str>) -> bool {
    eventually(|| async { incoming_host(app, address).await.as_deref() == host }).await
}

#[tokio::test]
async fn another_instance_sees_profile_and_domain_changes() {
    let first = TestApp::with_named_account().await;
    // The second listens on a connection of its own (as behind PgBouncer), told
    // apart here by its application name.
    let listen_url = format!("{}?application_name=mailpanel-listen", first.database_url);
    let second = first
        .second_instance_with(|s| s.listen_database_url = Some(listen_url.into()))
        .await;
    let listening = eventually(|| async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE application_name = 'mailpanel-listen' AND datname = current_database()",
        )
        .fetch_one(&first.pool)
        .await
        .unwrap();
        n == 1
    })
    .await;
    assert!(listening, "the listener uses MAILPANEL_LISTEN_DATABASE_URL");

    let c = first.create_customer("Eva", None).await;
    first.create_domain("eva.example", &c).await;
    let res = first
        .admin(
            Method::POST,
            "/v1/domains",
            Some(json!({"name": "eva.at", "alias_of": "eva.example"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let default_host = incoming_host(&first, "eva@eva.example").await.unwrap();
    // Each answer is rendered once and then kept; a change must replace it.
    assert!(served_as(&second, "eva@eva.example", Some(&default_host)).await);
    assert!(served_as(&second, "eva@eva.at", Some(&default_host)).await);
    assert!(served_as(&second, "max@mustermann.at", Some(&default_host)).await);

    // The domain moves to another profile: it and its alias domain follow, the
    // domain beside them does not.
    let res = first
        .admin(
            Method::POST,
            "/v1/server-profiles",
            Some(json!({"name": "eva", "incoming_host": "imap.eva.example", "outgoing_host": "smtp.eva.example",
                        "endpoints": [{"protocol": "imap", "port": 993, "security": "tls"},
                                      {"protocol": "smtp", "port": 465, "security": "tls"}]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // A new profile drops every rendered answer; render them again.
    assert!(served_as(&second, "eva@eva.example", Some(&default_host)).await);
    assert!(served_as(&second, "eva@eva.at", Some(&default_host)).await);
    let res = first
        .admin(
            Method::PATCH,
            "/v1/domains/eva.example",
            Some(json!({"server_profile": "eva"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(served_as(&second, "eva@eva.example", Some("imap.eva.example")).await);
    assert!(served_as(&second, "eva@eva.at", Some("imap.eva.example")).await);
    assert!(served_as(&second, "max@mustermann.at", Some(&default_host)).await);

    // The profile itself changes.
    let res = first
        .admin(
            Method::PUT,
            "/v1/server-profiles/eva",
            Some(
                json!({"incoming_host": "imap2.eva.example", "outgoing_host": "smtp.eva.example",
                        "endpoints": [{"protocol": "imap", "port": 993, "security": "tls"},
                                      {"protocol": "smtp", "port": 465, "security": "tls"}]}),
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(served_as(&second, "eva@eva.example", Some("imap2.eva.example")).await);
    assert!(served_as(&second, "eva@eva.at", Some("imap2.eva.example")).await);

    // Deleted domains are no longer served.
    for domain in ["eva.at", "eva.example"] {
        let res = first
            .admin(Method::DELETE, &format!("/v1/domains/{domain}"), None)
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    assert!(served_as(&second, "eva@eva.at", None).await);
    assert!(served_as(&second, "eva@eva.example", None).await);
    assert!(served_as(&second, "max@mustermann.at", Some(&default_host)).await);
}

#[tokio::test]
async fn invalid_profiles_are_refused_with_each_problem_named() {
    let app = TestApp::spawn().await;
    let res = app
        .admin(
            Method::POST,
            "/v1/server-profiles",
            Some(json!({"name": "bad", "incoming_host": "not a host", "outgoing_host": "smtp.example.at",
                        "endpoints": [{"protocol": "imap", "port": 993, "security": "starttls"},
                                      {"protocol": "pop3", "port": 995, "security": "none"},
                                      {"protocol": "smtp", "port": 587, "security": "starttls"},
                                      {"protocol": "smtp", "port": 587, "security": "starttls"}]})),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "invalid_host",
            "implicit_tls_port",
            "implicit_tls_port",
            "duplicate"
        ]
    );
    let res = app
        .admin(
            Method::POST,
            "/v1/server-profiles",
            Some(
                json!({"name": "x", "incoming_host": "a.at", "outgoing_host": "a.at",
            "endpoints": [{"protocol": "imap", "port": 70000, "security": "tls"}]}),
            ),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let partner = app.create_partner("P").await;
    let key = app.partner_key(&partner).await;
    let res = app
        .call(
            Method::POST,
            "/v1/server-profiles",
            Some(&key),
            Some(&json!({"name": "p"})),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "the role is checked before the body"
    );
    let res = app
        .call(Method::GET, "/v1/server-profiles", Some(&key), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}
