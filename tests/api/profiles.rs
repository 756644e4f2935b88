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

#[tokio::test]
async fn another_instance_sees_profile_and_domain_changes() {
    let first = TestApp::with_named_account().await;
    let second = first.second_instance().await;
    let c = first.create_customer("Eva", None).await;
    first.create_domain("eva.example", &c).await;
    let found = eventually(|| async {
        second
            .get_text("/mail/config-v1.1.xml?emailaddress=eva%40eva.example")
            .await
            .0
            == StatusCode::OK
    })
    .await;
    assert!(found, "the second instance never heard of the new domain");
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
