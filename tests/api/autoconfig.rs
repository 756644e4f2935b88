//! The public auto-configuration endpoints: Thunderbird's autoconfig and Outlook's
//! Autodiscover, read back with a real XML parser, and bad input on every public
//! endpoint (Apple's included) answered small and never with a 500.

use reqwest::{Method, StatusCode};

use crate::helpers::{xml_child, xml_text, TestApp};

#[tokio::test]
async fn thunderbird_autoconfig_lists_only_encrypted_endpoints_for_any_local_part() {
    let app = TestApp::with_named_account().await;
    for path in [
        "/mail/config-v1.1.xml?emailaddress=nobody%40mustermann.at",
        "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=Max%40Mustermann.AT",
    ] {
        let (status, ct, body) = app.get_text(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(ct.starts_with("application/xml"));
        let doc = roxmltree::Document::parse(&body).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "clientConfig");
        assert_eq!(root.attribute("version"), Some("1.1"));
        let provider = xml_child(root, "emailProvider");
        assert_eq!(xml_text(provider, "domain"), "mustermann.at");
        let servers: Vec<(String, String, String, String, String)> = provider
            .children()
            .filter(|c| c.has_tag_name("incomingServer") || c.has_tag_name("outgoingServer"))
            .map(|s| {
                (
                    s.attribute("type").unwrap().into(),
                    xml_text(s, "hostname"),
                    xml_text(s, "port"),
                    xml_text(s, "socketType"),
                    xml_text(s, "username"),
                )
            })
            .collect();
        let expected = [
            ("imap", "993", "SSL"),
            ("imap", "143", "STARTTLS"),
            ("pop3", "995", "SSL"),
            ("pop3", "110", "STARTTLS"),
            ("smtp", "465", "SSL"),
            ("smtp", "587", "STARTTLS"),
        ];
        assert_eq!(servers.len(), expected.len());
        for ((kind, host, port, socket, user), (ek, ep, es)) in servers.iter().zip(expected) {
            assert_eq!(
                (kind.as_str(), port.as_str(), socket.as_str()),
                (ek, ep, es)
            );
            assert_eq!(host, "mail.ipax.at");
            assert_eq!(user, "%EMAILADDRESS%");
        }
    }
    // The domain may also come from the autoconfig host name alone.
    let res = app
        .request(Method::GET, "/.well-known/autoconfig/mail/config-v1.1.xml")
        .header("host", "autoconfig.mustermann.at")
        .send()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Domains not hosted here are not found.
    let (status, _, _) = app
        .get_text("/mail/config-v1.1.xml?emailaddress=max%40elsewhere.at")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn autodiscover_answers_outlook_in_its_own_schema() {
    let app = TestApp::with_named_account().await;
    let request = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request><EMailAddress>anyone@mustermann.at</EMailAddress>
  <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>
</Autodiscover>"#;
    // Outlook spells the path in any case.
    for path in [
        "/autodiscover/autodiscover.xml",
        "/Autodiscover/Autodiscover.xml",
        "/AUTODISCOVER/AUTODISCOVER.XML",
    ] {
        let res = app
            .request(Method::POST, path)
            .content_type("text/xml")
            .body(request)
            .send()
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let body = res.text().await.unwrap();
        let doc = roxmltree::Document::parse(&body).unwrap();
        let account = xml_child(xml_child(doc.root_element(), "Response"), "Account");
        assert_eq!(xml_text(account, "AccountType"), "email");
        assert_eq!(xml_text(account, "Action"), "settings");
        let protocols: Vec<(String, String, String, String, String)> = account
            .children()
            .filter(|c| c.has_tag_name("Protocol"))
            .map(|p| {
                (
                    xml_text(p, "Type"),
                    xml_text(p, "Server"),
                    xml_text(p, "Port"),
                    xml_text(p, "Encryption"),
                    xml_text(p, "LoginName"),
                )
            })
            .collect();
        assert_eq!(
            protocols,
            [
                (
                    "IMAP".into(),
                    "mail.ipax.at".into(),
                    "993".into(),
                    "SSL".into(),
                    "anyone@mustermann.at".into()
                ),
                (
                    "POP3".into(),
                    "mail.ipax.at".into(),
                    "995".into(),
                    "SSL".into(),
                    "anyone@mustermann.at".into()
                ),
                (
                    "SMTP".into(),
                    "mail.ipax.at".into(),
                    "465".into(),
                    "SSL".into(),
                    "anyone@mustermann.at".into()
                ),
            ]
        );
    }
}

#[tokio::test]
async fn autodiscover_escapes_what_an_address_may_hold() {
    let app = TestApp::with_named_account().await;
    let request = "<Autodiscover><Request><EMailAddress>o&apos;brien&amp;co@mustermann.at</EMailAddress></Request></Autodiscover>";
    // Sent without a content type, as some clients do.
    let res = app
        .request(Method::POST, "/autodiscover/autodiscover.xml")
        .body(request)
        .send()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("<LoginName>o&apos;brien&amp;co@mustermann.at</LoginName>"),
        "{body}"
    );
    let doc = roxmltree::Document::parse(&body).unwrap();
    let account = xml_child(xml_child(doc.root_element(), "Response"), "Account");
    assert_eq!(
        xml_text(xml_child(account, "Protocol"), "LoginName"),
        "o'brien&co@mustermann.at"
    );
}

#[tokio::test]
async fn bad_input_on_the_public_endpoints_is_small_and_never_a_500() {
    let app = TestApp::with_named_account().await;
    let long = "a".repeat(10_000);
    let gets = [
        "/mail/config-v1.1.xml".to_owned(),
        "/mail/config-v1.1.xml?emailaddress=".to_owned(),
        "/mail/config-v1.1.xml?emailaddress=no-at-sign".to_owned(),
        format!("/mail/config-v1.1.xml?emailaddress={long}%40mustermann.at"),
        format!("/mail/config-v1.1.xml?emailaddress=x%40{long}.at"),
        "/mail/config-v1.1.xml?emailaddress=m%C3%A4x%40mustermann.at".to_owned(),
        "/mail/config-v1.1.xml?emailaddress=%FF%FE%40mustermann.at".to_owned(),
        "/mail/config-v1.1.xml?emailaddress=x%00%40mustermann.at".to_owned(),
        "/apple/mobileconfig".to_owned(),
        "/apple/mobileconfig?emailaddress=%3Cscript%3E%40mustermann.at".to_owned(),
        format!("/apple/mobileconfig?emailaddress={long}"),
        "/.well-known/autoconfig/mail/config-v1.1.xml".to_owned(),
    ];
    for path in &gets {
        let (status, _, body) = app.get_text(path).await;
        assert!(status.is_client_error(), "{path}: {status}");
        assert!(body.len() < 4096, "{path}: {} bytes", body.len());
    }
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><Autodiscover><Request><EMailAddress>&lol2;</EMailAddress></Request></Autodiscover>"#;
    let external = r#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><Autodiscover><Request><EMailAddress>&x;</EMailAddress></Request></Autodiscover>"#;
    let bodies: Vec<(Vec<u8>, StatusCode)> = vec![
        (Vec::new(), StatusCode::BAD_REQUEST),
        (b"this is not xml".to_vec(), StatusCode::BAD_REQUEST),
        (b"\xff\xfe<Autodiscover/>".to_vec(), StatusCode::BAD_REQUEST),
        (laughs.as_bytes().to_vec(), StatusCode::BAD_REQUEST),
        (external.as_bytes().to_vec(), StatusCode::BAD_REQUEST),
        (b"<Autodiscover><Request><EMailAddress>no-at</EMailAddress></Request></Autodiscover>".to_vec(), StatusCode::BAD_REQUEST),
        (b"<Autodiscover><Request><EMailAddress>x@elsewhere.at</EMailAddress></Request></Autodiscover>".to_vec(), StatusCode::NOT_FOUND),
        (vec![b'<'; 1_000_000], StatusCode::PAYLOAD_TOO_LARGE),
        (format!("<a>{}</a>", "<b>".repeat(1000)).into_bytes(), StatusCode::BAD_REQUEST),
    ];
    for (body, expected) in bodies {
        let preview = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
        let res = app
            .request(Method::POST, "/autodiscover/autodiscover.xml")
            .content_type("text/xml")
            .body(body)
            .send()
            .await;
        assert_eq!(res.status(), expected, "{preview}");
        let text = res.text().await.unwrap();
        assert!(text.len() < 4096, "{preview}: {} bytes", text.len());
        assert!(!text.contains("root:"), "an external entity was resolved");
    }
}
