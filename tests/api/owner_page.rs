//! The mailbox owner's page (`/setup`) as HTML: hostile input, and the page and the
//! client formats from one source. What a real browser makes of it is
//! `peers/owner_page.rs`.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn hostile_input_is_refused_or_escaped_never_reflected() {
    let app = TestApp::with_domain().await;
    let long = format!("{}@mustermann.at", "a".repeat(10_000));
    let cases = [
        (
            "%3Cscript%3Ealert(1)%3C%2Fscript%3E%40mustermann.at",
            StatusCode::UNPROCESSABLE_ENTITY,
            "<script>alert",
        ),
        (
            "max%22%3E%3Cimg%20src%3Dx%3E%40mustermann.at",
            StatusCode::UNPROCESSABLE_ENTITY,
            "<img src=x>",
        ),
        (
            long.as_str(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "aaaaaaaaaa",
        ),
        (
            "max%40%3Cb%3Eexample.com",
            StatusCode::UNPROCESSABLE_ENTITY,
            "<b>",
        ),
        (
            "max%40not-hosted.example",
            StatusCode::NOT_FOUND,
            "not-hosted",
        ),
    ];
    for (raw, status, never) in cases {
        let (got, content_type, body) = app.get_text(&format!("/setup?emailaddress={raw}")).await;
        assert_eq!(got, status, "{raw:.60}");
        assert!(content_type.starts_with("text/html"), "{content_type}");
        assert!(!body.contains(never), "{raw:.60} is reflected");
        assert!(body.contains("<form"), "the page asks again");
    }
    // A hosted address is shown, escaped by the template.
    let (status, _, body) = app
        .get_text("/setup?emailaddress=o%27brien%40mustermann.at&lang=en")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("o&#39;brien@mustermann.at") || body.contains("o&#x27;brien@mustermann.at"),
        "{body:.2000}"
    );
    assert!(!body.contains("o'brien@mustermann.at"));
}

/// The page's server rows: (protocol, host, port, security), from its markup.
fn page_rows(html: &str) -> Vec<(String, String, String, String)> {
    let attr = |row: &str, name: &str| {
        let start = row.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        row[start..start + row[start..].find('"').unwrap()].to_owned()
    };
    html.split("<tr class=")
        .skip(1)
        .map(|row| {
            (
                attr(row, "data-protocol"),
                attr(row, "data-host"),
                attr(row, "data-port"),
                attr(row, "data-security"),
            )
        })
        .collect()
}

async fn setup_page(app: &TestApp) -> String {
    app.get_text("/setup?emailaddress=max%40mustermann.at")
        .await
        .2
}

/// One source: Thunderbird's document offers exactly the page's encrypted servers,
/// and a changed server profile changes the page at once.
#[tokio::test]
async fn the_page_and_the_client_formats_never_disagree() {
    let app = TestApp::with_account().await;
    let encrypted = |html: &str| -> Vec<(String, String, String, String)> {
        page_rows(html)
            .into_iter()
            .filter(|r| r.3 != "none")
            .collect()
    };
    let (_, _, xml) = app
        .get_text("/mail/config-v1.1.xml?emailaddress=max%40mustermann.at")
        .await;
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let offered: Vec<(String, String, String, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("incomingServer") || n.has_tag_name("outgoingServer"))
        .map(|n| {
            let security = match crate::helpers::xml_text(n, "socketType").as_str() {
                "SSL" => "tls",
                "STARTTLS" => "starttls",
                other => panic!("{other}"),
            };
            (
                n.attribute("type").unwrap().to_owned(),
                crate::helpers::xml_text(n, "hostname"),
                crate::helpers::xml_text(n, "port"),
                security.to_owned(),
            )
        })
        .collect();
    assert_eq!(encrypted(&setup_page(&app).await), offered);

    let res = app
        .admin(
            Method::PUT,
            "/v1/server-profiles/default",
            Some(
                json!({"incoming_host": "imap.example.net", "outgoing_host": "smtp.example.net",
                        "endpoints": [{"protocol": "imap", "port": 993, "security": "tls"},
                                      {"protocol": "smtp", "port": 465, "security": "tls"}]}),
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let rows = page_rows(&setup_page(&app).await);
    let hosts: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(hosts, ["imap.example.net", "smtp.example.net"]);
}
