//! Customers: a partner creates and sees only its own, an external reference is
//! unique per partner, and a customer with domains stays.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};

#[tokio::test]
async fn a_partner_creates_customers_of_its_own_and_sees_only_those() {
    let app = TestApp::spawn().await;
    let a = app.create_partner("A").await;
    let b = app.create_partner("B").await;
    app.create_customer("of B", Some(&b)).await;
    let key = app.partner_key(&a).await;

    let res = app
        .call(
            Method::POST,
            "/v1/customers",
            Some(&key),
            Some(&json!({"name": "Max"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["partner_id"], a.as_str());

    let res = app
        .call(
            Method::POST,
            "/v1/customers",
            Some(&key),
            Some(&json!({"name": "X", "partner_id": b})),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "partner_id");

    let list: Value = app
        .call(Method::GET, "/v1/customers", Some(&key), None)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Max"]);
}

#[tokio::test]
async fn a_retried_create_with_the_same_external_ref_does_not_make_a_second_customer() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("A").await;
    let key = app.partner_key(&p).await;
    let body = json!({"name": "Max", "external_ref": "crm-4711"});
    let first = app
        .call(Method::POST, "/v1/customers", Some(&key), Some(&body))
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let again = app
        .call(Method::POST, "/v1/customers", Some(&key), Some(&body))
        .await;
    assert_problem(again, StatusCode::CONFLICT, "conflict").await;
    // Another partner may use the same reference for its own customer.
    let other = app.create_partner("B").await;
    let key_b = app.partner_key(&other).await;
    let res = app
        .call(Method::POST, "/v1/customers", Some(&key_b), Some(&body))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_customer_with_domains_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let c = app.create_customer("Max", None).await;
    app.create_domain("max.example", &c).await;
    let res = app
        .admin(Method::DELETE, &format!("/v1/customers/{c}"), None)
        .await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
    app.admin(Method::DELETE, "/v1/domains/max.example", None)
        .await;
    let res = app
        .admin(Method::DELETE, &format!("/v1/customers/{c}"), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_customer_is_found_by_its_name_and_reference_as_they_are_now() {
    let app = TestApp::spawn().await;
    let a = app.create_partner("A").await;
    let b = app.create_partner("B").await;
    let key = app.partner_key(&a).await;
    let res = app
        .call(
            Method::POST,
            "/v1/customers",
            Some(&key),
            Some(&json!({"name": "Müller Bau GmbH", "external_ref": "CRM-4711"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.create_customer("Müller of B", Some(&b)).await;
    let found = |q: &'static str| {
        let (app, key) = (&app, &key);
        async move {
            let page: Value = app
                .call(
                    Method::GET,
                    &format!("/v1/customers?q={q}"),
                    Some(key),
                    None,
                )
                .await
                .json()
                .await
                .unwrap();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    // Anywhere in the name or the reference, in any case; only what the partner reaches.
    assert_eq!(found("m%C3%BCller").await, ["Müller Bau GmbH"]);
    assert_eq!(found("bau%20g").await, ["Müller Bau GmbH"]);
    assert_eq!(found("crm-47").await, ["Müller Bau GmbH"]);

    let res = app
        .call(
            Method::PATCH,
            &format!("/v1/customers/{id}"),
            Some(&key),
            Some(&json!({"name": "Schmidt Bau", "external_ref": "erp-1"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(found("m%C3%BCller").await.is_empty());
    assert!(found("crm").await.is_empty());
    assert_eq!(found("SCHMIDT").await, ["Schmidt Bau"]);
    assert_eq!(found("erp-1").await, ["Schmidt Bau"]);
}

#[tokio::test]
async fn a_search_found_in_many_customers_late_in_the_list_pages_through_all_of_them() {
    let app = TestApp::spawn().await;
    // 1,100 matches (more than a search reads by key), all after 2,100 customers
    // without one (more than the admin's walk reads).
    sqlx::query(
        "INSERT INTO customers (id, name)
         SELECT (CASE WHEN i <= 2100 THEN '00000000' ELSE 'ffffffff' END
                 || '-0000-7000-8000-' || lpad(i::text, 12, '0'))::uuid,
                CASE WHEN i <= 2100 THEN 'Early ' ELSE 'Late ' END || i
           FROM generate_series(1, 3200) AS i",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let mut seen = Vec::new();
    let mut path = "/v1/customers?q=LATE&limit=400".to_owned();
    loop {
        let page = app.admin_get_json(&path).await;
        for c in page["items"].as_array().unwrap() {
            seen.push(c["id"].as_str().unwrap().to_owned());
            assert!(c["name"].as_str().unwrap().starts_with("Late "), "{c}");
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/customers?q=LATE&limit=400&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 1100);
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "in id order, each once"
    );
}
