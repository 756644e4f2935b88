//! The DNS records a domain needs (`/v1/domains/{name}/dns-records`), as JSON and as
//! a zone file, pointing clients at the domain's server profile.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::TestApp;

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
