//! Partners: create, list, rename (with If-Match) and delete; a retried create is a
//! conflict; lists page through every item exactly once and search literally.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};

#[tokio::test]
async fn a_partner_is_created_listed_renamed_and_deleted() {
    let app = TestApp::spawn().await;
    let res = app
        .admin(
            Method::POST,
            "/v1/partners",
            Some(json!({"name": "  Reseller GmbH "})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["name"], "Reseller GmbH");
    assert_eq!(
        location,
        format!("/v1/partners/{}", created["id"].as_str().unwrap())
    );

    let res = app.admin(Method::GET, &location, None).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let res = app
        .call(
            Method::PATCH,
            &location,
            Some(&app.admin_key),
            Some(&json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The old ETag no longer matches.
    let stale = app
        .request(Method::PATCH, &location)
        .key(&app.admin_key)
        .header("If-Match", &etag)
        .json(&json!({"name": "Again"}))
        .send()
        .await;
    assert_problem(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;

    let res = app.admin(Method::DELETE, &location, None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.admin(Method::GET, &location, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_retried_partner_create_answers_conflict_instead_of_a_second_partner() {
    let app = TestApp::spawn().await;
    app.create_partner("Same").await;
    let res = app
        .admin(Method::POST, "/v1/partners", Some(json!({"name": "Same"})))
        .await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
}

#[tokio::test]
async fn lists_page_through_every_item_exactly_once() {
    let app = TestApp::spawn().await;
    for i in 0..7 {
        app.create_partner(&format!("Partner {i}")).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/partners?limit=3&cursor={c}"),
            None => "/v1/partners?limit=3".to_owned(),
        };
        let page: Value = app
            .admin(Method::GET, &path, None)
            .await
            .json()
            .await
            .unwrap();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["name"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    seen.sort();
    let expected: Vec<String> = (0..7).map(|i| format!("Partner {i}")).collect();
    assert_eq!(seen, expected);

    let found: Value = app
        .admin(Method::GET, "/v1/partners?q=ner%205", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    // LIKE wildcards in q match literally.
    let none: Value = app
        .admin(Method::GET, "/v1/partners?q=%25", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
}

/// A change that names no version (no If-Match) is not refused because another write
/// landed meanwhile: eight renames at once all answer 200, and the last one stands.
#[tokio::test]
async fn concurrent_changes_without_if_match_all_apply() {
    let app = TestApp::spawn().await;
    let id = app.create_partner("Busy").await;
    let path = format!("/v1/partners/{id}");
    let customer = app.create_customer("Busy customer", Some(&id)).await;
    let customer_path = format!("/v1/customers/{customer}");
    let renames = (0..8).map(|i| {
        let (app, path, customer_path) = (&app, path.clone(), customer_path.clone());
        async move {
            let partner = app
                .admin(
                    Method::PATCH,
                    &path,
                    Some(json!({"name": format!("Busy {i}")})),
                )
                .await
                .status();
            let customer = app
                .admin(
                    Method::PATCH,
                    &customer_path,
                    Some(json!({"name": format!("Customer {i}")})),
                )
                .await
                .status();
            (partner, customer)
        }
    });
    let statuses = futures_util::future::join_all(renames).await;
    assert!(
        statuses
            .iter()
            .all(|s| *s == (StatusCode::OK, StatusCode::OK)),
        "{statuses:?}"
    );
    let partner = app.admin_get_json(&path).await;
    assert!(
        partner["name"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Busy "),
        "{partner}"
    );
}
