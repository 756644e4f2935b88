//! Batch import: up to 1000 accounts of one domain in one call, validated first, all
//! created or none, each refused item named.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp, STRONG_PASSWORD};

const BATCH: &str = "/v1/domains/mustermann.at/accounts/batch";
/// `{SHA512-CRYPT}` of the test password, as another system stored it.
fn imported_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let params = sha_crypt::Sha512Params::new(5000).unwrap();
        format!(
            "{{SHA512-CRYPT}}{}",
            sha_crypt::sha512_simple(STRONG_PASSWORD, &params).unwrap()
        )
    })
}

fn imported(local_part: &str) -> Value {
    json!({"local_part": local_part, "password_hash": imported_hash()})
}

async fn local_parts(app: &TestApp) -> Vec<String> {
    let page = app
        .admin_get_json("/v1/domains/mustermann.at/accounts?limit=500")
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["local_part"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_batch_creates_every_account_at_once() {
    let app = TestApp::with_domain().await;
    let body = json!({"accounts": [
        {"local_part": "max", "password": STRONG_PASSWORD, "display_name": "Max"},
        imported("eva"),
        {"local_part": "Anna", "password_hash": imported_hash(), "quota_mb": 512, "protocols": {"imap": true, "pop3": false, "smtp": true}},
    ]});
    let res = app.admin(Method::POST, BATCH, Some(body)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let addresses: Vec<&str> = created["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        addresses,
        [
            "anna@mustermann.at",
            "eva@mustermann.at",
            "max@mustermann.at"
        ]
    );
    assert_eq!(created["items"][0]["quota_mb"], 512);
    assert_eq!(created["items"][0]["protocols"]["pop3"], false);
    assert!(app.stored_hash("eva").await.starts_with("{SHA512-CRYPT}"));
    assert!(app.stored_hash("max").await.starts_with("{ARGON2ID}"));
    assert!(app
        .audit_actions("eva@mustermann.at")
        .await
        .iter()
        .any(|a| a == "account.created"));
}

#[tokio::test]
async fn one_bad_item_refuses_the_whole_batch_naming_each_problem() {
    let app = TestApp::with_domain().await;
    let body = json!({"accounts": [
        imported("ok"),
        {"local_part": "bad local", "password_hash": imported_hash()},
        {"local_part": "weak", "password": "passwort"},
        {"local_part": "both", "password": STRONG_PASSWORD, "password_hash": imported_hash()},
    ]});
    let res = app.admin(Method::POST, BATCH, Some(body)).await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"accounts[1].local_part"), "{fields:?}");
    assert!(
        fields.iter().any(|f| f.starts_with("accounts[2].")),
        "{fields:?}"
    );
    assert!(
        fields.iter().any(|f| f.starts_with("accounts[3].")),
        "{fields:?}"
    );
    assert!(
        !fields.iter().any(|f| f.starts_with("accounts[0].")),
        "{fields:?}"
    );
    assert_eq!(
        local_parts(&app).await,
        Vec::<String>::new(),
        "nothing was created"
    );
}

#[tokio::test]
async fn taken_and_repeated_addresses_are_named_and_nothing_is_created() {
    let app = TestApp::with_account().await;
    app.create_alias("mustermann.at", "info", &["max@mustermann.at"])
        .await;
    let body = json!({"accounts": [imported("new"), imported("max"), imported("info")]});
    let res = app.admin(Method::POST, BATCH, Some(body)).await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let errors = problem["errors"].as_array().unwrap();
    let named: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        named,
        [
            ("accounts[1].local_part", "address_taken"),
            ("accounts[2].local_part", "address_taken")
        ]
    );
    assert_eq!(local_parts(&app).await, ["max"]);

    let body = json!({"accounts": [imported("a"), imported("b"), imported("A")]});
    let res = app.admin(Method::POST, BATCH, Some(body)).await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "accounts[2].local_part");
    assert_eq!(problem["errors"][0]["code"], "duplicate");
}

#[tokio::test]
async fn the_domains_limits_hold_for_the_whole_batch() {
    let app = TestApp::with_account().await;
    let res = app
        .admin(
            Method::PATCH,
            "/v1/domains/mustermann.at",
            Some(json!({"max_accounts": 3})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = json!({"accounts": [imported("a"), imported("b"), imported("c")]});
    let res = app.admin(Method::POST, BATCH, Some(body)).await;
    assert_problem(res, StatusCode::CONFLICT, "limit_reached").await;
    assert_eq!(local_parts(&app).await, ["max"]);
}

#[tokio::test]
async fn a_thousand_accounts_fit_in_one_call_and_no_more() {
    let app = TestApp::with_domain().await;
    let many = |n: usize| json!({"accounts": (0..n).map(|i| imported(&format!("user{i:04}"))).collect::<Vec<_>>()});
    let body = many(1000);
    assert!(
        body.to_string().len() > 64 * 1024,
        "larger than an ordinary body may be"
    );
    let res = app.admin(Method::POST, BATCH, Some(body)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["items"].as_array().unwrap().len(), 1000);
    let res = app.admin(Method::POST, BATCH, Some(many(1001))).await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "accounts");
}

#[tokio::test]
async fn only_admin_and_partner_keys_import_hashes_in_a_batch_too() {
    let app = TestApp::spawn().await;
    let t = app.tenants().await;
    let key = app.customer_key(&t.customer_a).await;
    let body = json!({"accounts": [imported("x")]});
    let res = app
        .call(
            Method::POST,
            "/v1/domains/a.example/accounts/batch",
            Some(&key),
            Some(&body),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .call(
            Method::POST,
            "/v1/domains/b.example/accounts/batch",
            Some(&key),
            Some(&json!({"accounts": [{"local_part": "x", "password": STRONG_PASSWORD}]})),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}
