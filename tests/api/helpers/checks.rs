//! Checks shared by the test files: polling, problem+json answers, Argon2id hashes
//! and XML documents.

use reqwest::{Response, StatusCode};
use serde_json::Value;

/// Polls `check` until it holds (another instance hears of a change a moment later).
pub async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..50 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

pub async fn id_of(res: Response) -> String {
    let body: Value = res.json().await.unwrap();
    body["id"].as_str().expect("an id").to_owned()
}

/// Asserts a problem+json answer with this status and machine code; returns the body.
pub async fn assert_problem(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "status");
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(
        ct.as_deref(),
        Some("application/problem+json"),
        "content type"
    );
    assert!(res.headers().contains_key("x-request-id"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["request_id"].is_string());
    body
}

/// True when `hash` is a `{ARGON2ID}` hash of exactly this password.
pub fn verifies(hash: &str, password: &str) -> bool {
    use argon2::PasswordVerifier;
    let Some(phc) = hash.strip_prefix("{ARGON2ID}") else {
        return false;
    };
    let parsed = argon2::PasswordHash::new(phc).unwrap();
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// The child element `name` of an XML node; panics naming it when it is missing.
pub fn xml_child<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> roxmltree::Node<'a, 'a> {
    node.children()
        .find(|c| c.has_tag_name(name))
        .unwrap_or_else(|| panic!("no <{name}>"))
}

/// The text of the child element `name` ("" when it is empty).
pub fn xml_text(node: roxmltree::Node<'_, '_>, name: &str) -> String {
    xml_child(node, name).text().unwrap_or_default().to_owned()
}
