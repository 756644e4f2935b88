//! Client settings, guidance, server profiles, DNS records and auto-configuration,
//! each document read back with a real parser and checked against the profile.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, eventually, xml_child, xml_text, TestApp, MAX};

const SETTINGS: &str = "/v1/accounts/max@mustermann.at/client-settings";
const AUTOCONFIG: &str = "/mail/config-v1.1.xml?emailaddress=max%40mustermann.at";

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
async fn apple_profiles_configure_imap_and_smtp_with_stable_identifiers() {
    let app = TestApp::with_named_account().await;
    let path = "/v1/accounts/max@mustermann.at/mobileconfig";
    let res = app.admin(Method::GET, path, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/x-apple-aspen-config"
    );
    let first = res.bytes().await.unwrap();
    let again = app
        .admin(Method::GET, path, None)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(first, again, "the same account gets the same profile");
    let value = plist::Value::from_reader_xml(first.as_ref()).unwrap();
    let root = value.as_dictionary().unwrap();
    assert_eq!(root["PayloadType"].as_string(), Some("Configuration"));
    let mail = root["PayloadContent"].as_array().unwrap()[0]
        .as_dictionary()
        .unwrap();
    assert_eq!(
        mail["PayloadType"].as_string(),
        Some("com.apple.mail.managed")
    );
    assert_eq!(mail["EmailAccountType"].as_string(), Some("EmailTypeIMAP"));
    assert_eq!(mail["EmailAddress"].as_string(), Some("max@mustermann.at"));
    assert_eq!(mail["EmailAccountName"].as_string(), Some("Max Mustermann"));
    assert_eq!(
        mail["IncomingMailServerHostName"].as_string(),
        Some("mail.ipax.at")
    );
    assert_eq!(
        mail["IncomingMailServerPortNumber"].as_signed_integer(),
        Some(993)
    );
    assert_eq!(mail["IncomingMailServerUseSSL"].as_boolean(), Some(true));
    assert_eq!(
        mail["IncomingMailServerUsername"].as_string(),
        Some("max@mustermann.at")
    );
    assert_eq!(
        mail["OutgoingMailServerPortNumber"].as_signed_integer(),
        Some(465)
    );
    assert_eq!(mail["OutgoingMailServerUseSSL"].as_boolean(), Some(true));
    assert_eq!(
        mail["OutgoingMailServerAuthentication"].as_string(),
        Some("EmailAuthPassword")
    );

    // The public endpoint answers for any local part, without the display name.
    let res = app
        .request(
            Method::GET,
            "/apple/mobileconfig?emailaddress=eva%40mustermann.at",
        )
        .send()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let value = plist::Value::from_reader_xml(res.bytes().await.unwrap().as_ref()).unwrap();
    let mail = value.as_dictionary().unwrap()["PayloadContent"]
        .as_array()
        .unwrap()[0]
        .as_dictionary()
        .unwrap()
        .clone();
    assert_eq!(mail["EmailAddress"].as_string(), Some("eva@mustermann.at"));
    assert!(!mail.contains_key("EmailAccountName"));
}

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
        StatusCode::UNPROCESSABLE_ENTITY,
        "the body is checked before the role"
    );
    let res = app
        .call(Method::GET, "/v1/server-profiles", Some(&key), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn dns_records_point_clients_at_the_profile() {
    let app = TestApp::with_named_account().await;
    let records = app
        .admin_get_json("/v1/domains/mustermann.at/dns-records")
        .await;
    let find = |name: &str| {
        records
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    assert_eq!(find("mustermann.at.")["data"], "10 mail.ipax.at.");
    assert_eq!(
        find("_imaps._tcp.mustermann.at.")["data"],
        "0 1 993 mail.ipax.at."
    );
    assert_eq!(
        find("_submissions._tcp.mustermann.at.")["data"],
        "0 1 465 mail.ipax.at."
    );
    assert_eq!(
        find("_submission._tcp.mustermann.at.")["data"],
        "10 1 587 mail.ipax.at."
    );
    assert_eq!(find("_autodiscover._tcp.mustermann.at.")["type"], "SRV");
    assert_eq!(find("autoconfig.mustermann.at.")["type"], "CNAME");
    let res = app
        .admin(
            Method::GET,
            "/v1/domains/mustermann.at/dns-records?format=zone",
            None,
        )
        .await;
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let zone = res.text().await.unwrap();
    assert!(
        zone.contains("_pop3s._tcp.mustermann.at.\t3600\tIN\tSRV\t20 1 995 mail.ipax.at."),
        "{zone}"
    );

    // A service the profile does not offer gets "." as target.
    app.admin(Method::POST, "/v1/server-profiles", Some(json!({"name": "imap-only", "incoming_host": "mail.example.at", "outgoing_host": "mail.example.at",
        "endpoints": [{"protocol": "imap", "port": 993, "security": "tls"}, {"protocol": "smtp", "port": 465, "security": "tls"}]}))).await;
    app.admin(
        Method::PATCH,
        "/v1/domains/mustermann.at",
        Some(json!({"server_profile": "imap-only"})),
    )
    .await;
    let records: Value = app
        .admin_get_json("/v1/domains/mustermann.at/dns-records")
        .await;
    let pop3 = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "_pop3._tcp.mustermann.at.")
        .unwrap()
        .clone();
    assert_eq!(pop3["data"], "0 0 0 .");
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
