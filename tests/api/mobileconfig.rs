//! Apple configuration profiles: the account's own (with its display name, the same
//! bytes every time) and the public one for any local part, read back as plists.

use reqwest::{Method, StatusCode};

use crate::helpers::TestApp;

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
