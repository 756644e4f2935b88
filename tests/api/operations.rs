//! Operations: health, readiness and metrics, request ids, the OpenAPI document and
//! Swagger UI, concurrent first starts on one database, an unreachable database, CORS.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{build_application, generated_openapi, test_settings, TestApp, TestDatabase};

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.call(Method::GET, "/healthz", None, None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::GET, "/readyz", None, None).await.status(),
        StatusCode::OK
    );
    app.admin(Method::GET, "/v1/domains", None).await;
    let metrics = app
        .call(Method::GET, "/metrics", None, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "mailpanel_http_requests_total{method=\"GET\",route=\"/v1/domains\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("mailpanel_http_request_duration_seconds_bucket"));
    assert!(metrics.contains("mailpanel_db_pool_connections"));
}

#[tokio::test]
async fn the_request_id_is_echoed_when_sane_and_replaced_when_not() {
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::GET, "/healthz")
        .header("x-request-id", "cp-1234")
        .send()
        .await;
    assert_eq!(res.headers()["x-request-id"], "cp-1234");
    let res = app
        .request(Method::GET, "/healthz")
        .header("x-request-id", "a b<script>")
        .send()
        .await;
    assert_ne!(res.headers()["x-request-id"], "a b<script>");
    let res = app
        .request(Method::GET, "/nowhere")
        .header("x-request-id", "trace-7")
        .send()
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["request_id"], "trace-7");
}

#[tokio::test]
async fn the_committed_openapi_document_is_the_generated_one() {
    let generated = generated_openapi();
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap_or_default();
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"),
            format!("{generated}\n"),
        )
        .unwrap();
        return;
    }
    assert_eq!(
        committed.trim_end(),
        generated,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test openapi`"
    );
}

#[tokio::test]
async fn the_spec_and_swagger_ui_are_served() {
    let app = TestApp::spawn().await;
    let spec: Value = app
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(spec["paths"]["/v1/accounts/{address}"]["patch"].is_object());
    let docs = app.call(Method::GET, "/docs/", None, None).await;
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

#[tokio::test]
async fn several_instances_may_create_and_migrate_one_new_database_at_once() {
    // No TestApp here (it would create the database first): the guard only drops it.
    let database = TestDatabase::fresh();
    let url = database.url();
    let (a, b, c) = tokio::join!(
        build_application(test_settings(url)),
        build_application(test_settings(url)),
        build_application(test_settings(url)),
    );
    assert!(
        a.is_ok() && b.is_ok() && c.is_ok(),
        "{:?} {:?} {:?}",
        a.err(),
        b.err(),
        c.err()
    );
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error_not_a_panic() {
    let settings = test_settings("postgres://postgres@127.0.0.1:1/nothing");
    let err = build_application(settings).await.err().expect("fails");
    assert!(
        format!("{err:#}").contains("cannot connect to PostgreSQL at 127.0.0.1:1"),
        "{err:#}"
    );
}

#[tokio::test]
async fn browsers_may_call_from_configured_origins_only() {
    let app =
        TestApp::spawn_with(|s| s.cors_origins = vec!["https://panel.example.net".to_owned()])
            .await;
    let preflight = |origin: &'static str| {
        app.request(Method::OPTIONS, "/v1/domains")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://panel.example.net").await;
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://panel.example.net"
    );
    let refused = preflight("https://evil.example").await;
    assert!(!refused
        .headers()
        .contains_key("access-control-allow-origin"));
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    // A simple request from another origin gets no CORS grant either.
    let res = app
        .request(Method::GET, "/healthz")
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}
