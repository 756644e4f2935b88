//! Bad input of every kind answers a problem+json 4xx, never a 500 or a hang, and
//! writes nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_problem, TestApp, STRONG_PASSWORD};

#[tokio::test]
async fn malformed_and_misshapen_bodies_get_a_clear_problem() {
    let app = TestApp::with_domain().await;
    let path = "/v1/domains/mustermann.at/accounts";
    let json = "application/json";
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            json,
            b"{\"local_part\":".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_request",
        ),
        (
            json,
            b"not json".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_request",
        ),
        (
            json,
            b"".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_request",
        ),
        (
            json,
            b"\xff\xfe{}".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_request",
        ),
        (
            json,
            b"[]".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json,
            b"{\"local_part\":42,\"password\":\"x\"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json,
            b"{\"local_part\":\"a\",\"password\":\"x\",\"status\":\"admin\"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json,
            format!("{{\"local_part\":\"max\\u0000\",\"password\":\"{STRONG_PASSWORD}\"}}")
                .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json,
            format!(
                "{{\"local_part\":\"{}\",\"password\":\"{STRONG_PASSWORD}\"}}",
                "a".repeat(10_000)
            )
            .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json,
            format!(
                "{{\"local_part\":\"max\",\"password\":\"{}\"}}",
                "p".repeat(10_000)
            )
            .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password_policy",
        ),
        (
            json,
            format!(
                "{{\"local_part\":\"max\",\"password\":\"{}\"}}",
                "x".repeat(1_000_000)
            )
            .into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            json,
            b"{\"local_part\":\"max\",\"quota_mb\":99999999999999,\"password\":\"x\"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json,
            b"{\"local_part\":\"max\",\"protocols\":{\"imap\":\"yes\"}}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "text/plain",
            b"{}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "application/x-www-form-urlencoded",
            b"local_part=max".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
    ];
    for (ct, body, status, code) in cases {
        let preview = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        // Raw bytes under the stated content type: the builder sends them unchanged.
        let res = app
            .request(Method::POST, path)
            .key(&app.admin_key)
            .content_type(ct)
            .body(body)
            .send()
            .await;
        assert_eq!(res.status(), status, "{ct} {preview}");
        assert_problem(res, status, code).await;
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing may be written by bad input");
}

#[tokio::test]
async fn bad_paths_and_query_strings_get_a_clear_problem() {
    let app = TestApp::with_domain().await;
    let k = Some(app.admin_key.as_str());
    let cases: Vec<(Method, &str, StatusCode, &str)> = vec![
        (
            Method::GET,
            "/v1/accounts/%FF%FE@mustermann.at",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            "/v1/accounts/max%00@mustermann.at",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            "/v1/accounts/not-an-address",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            "/v1/domains/%FF",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            "/v1/customers/not-a-uuid",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            "/v1/no-such-thing",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::PUT,
            "/v1/domains",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::DELETE,
            "/v1/partners",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::GET,
            "/v1/domains?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            Method::GET,
            "/v1/domains?limit=501",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            Method::GET,
            "/v1/domains?limit=abc",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            Method::GET,
            "/v1/domains?cursor=%%%",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            Method::GET,
            "/v1/domains?cursor=not%20ours",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            Method::GET,
            "/v1/domains?cursor=a",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            Method::GET,
            "/v1/domains?q=%00",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            Method::GET,
            "/v1/domains?bogus=1",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            Method::GET,
            "/v1/audit-events?account=%FF",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
    ];
    for (method, path, status, code) in cases {
        let res = app.call(method.clone(), path, k, None).await;
        assert_eq!(res.status(), status, "{method} {path}");
        let allow = res.headers().get("allow").cloned();
        assert_problem(res, status, code).await;
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert!(allow.is_some(), "405 without Allow for {path}");
        }
    }
    // Invalid UTF-8 in a query value is decoded lossily: it simply matches nothing.
    let res = app.call(Method::GET, "/v1/domains?q=%FF%FE", k, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let long_q = format!("/v1/domains?q={}", "x".repeat(10_000));
    let res = app.call(Method::GET, &long_q, k, None).await;
    assert!(res.status().is_client_error(), "{}", res.status());
}

#[tokio::test]
async fn a_wrong_method_names_the_allowed_ones() {
    let app = TestApp::spawn().await;
    let res = app
        .call(
            Method::PUT,
            "/v1/accounts/max@mustermann.at",
            Some(&app.admin_key),
            Some(&json!({})),
        )
        .await;
    assert_eq!(res.headers()["allow"], "GET, PATCH, DELETE");
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}
