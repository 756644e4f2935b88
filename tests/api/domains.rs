//! Domains: Unicode names stored as lowercase A-labels, unique across customers,
//! invalid names refused, deletion only without live accounts, the account count.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_problem, TestApp};

#[tokio::test]
async fn unicode_domains_are_stored_as_lowercase_a_labels() {
    let app = TestApp::spawn().await;
    let c = app.create_customer("Max", None).await;
    let domain = app.create_domain("MÜLLER.at", &c).await;
    assert_eq!(domain["name"], "xn--mller-kva.at");
    assert_eq!(domain["name_unicode"], "müller.at");
    assert_eq!(domain["server_profile"], "default");
    // Either form finds it.
    for path in [
        "/v1/domains/müller.at",
        "/v1/domains/xn--mller-kva.at",
        "/v1/domains/M%C3%BCller.AT",
    ] {
        assert_eq!(
            app.admin(Method::GET, path, None).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_domain_is_unique_across_all_customers() {
    let app = TestApp::spawn().await;
    let a = app.create_customer("A", None).await;
    let b = app.create_customer("B", None).await;
    app.create_domain("müller.at", &a).await;
    let res = app
        .admin(
            Method::POST,
            "/v1/domains",
            Some(json!({"name": "xn--mller-kva.at", "customer_id": b})),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
}

#[tokio::test]
async fn invalid_domain_names_are_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    let c = app.create_customer("A", None).await;
    for bad in [
        "",
        "localhost",
        "a..b",
        "bad_name.at",
        "1.2.3.4",
        &"a".repeat(300),
    ] {
        let res = app
            .admin(
                Method::POST,
                "/v1/domains",
                Some(json!({"name": bad, "customer_id": c})),
            )
            .await;
        let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "name", "{bad}");
    }
    let res = app
        .admin(
            Method::POST,
            "/v1/domains",
            Some(json!({"name": "ok.at", "customer_id": c, "server_profile": "nope"})),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "server_profile");
}

#[tokio::test]
async fn a_domain_with_live_accounts_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let c = app.create_customer("A", None).await;
    app.create_domain("a.example", &c).await;
    app.create_account("a.example", "max").await;
    let res = app
        .admin(Method::DELETE, "/v1/domains/a.example", None)
        .await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
    // Once its only account is deleted, the domain may go (the deleted account with it).
    app.delete_account("max@a.example").await;
    let res = app
        .admin(Method::DELETE, "/v1/domains/a.example", None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.admin(Method::GET, "/v1/domains/a.example", None).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

/// The domain's figures (kept on its row, not counted per list row) follow every
/// way its accounts and aliases change, and agree with a count of the rows.
#[tokio::test]
async fn account_count_counts_live_accounts() {
    let app = TestApp::spawn().await;
    let c = app.create_customer("A", None).await;
    app.create_domain("a.example", &c).await;
    let figures = || async {
        let d = app.admin_get_json("/v1/domains/a.example").await;
        (
            d["account_count"].as_i64().unwrap(),
            d["quota_mb_allocated"].as_i64().unwrap(),
            d["alias_count"].as_i64().unwrap(),
        )
    };
    app.create_account("a.example", "one").await;
    app.create_account("a.example", "two").await;
    let quota = app.admin_get_json("/v1/accounts/one@a.example").await["quota_mb"]
        .as_i64()
        .unwrap();
    assert_eq!(figures().await, (2, 2 * quota, 0));

    app.delete_account("two@a.example").await;
    assert_eq!(
        figures().await,
        (1, quota, 0),
        "a deleted account does not count"
    );
    app.restore_account("two@a.example").await;
    assert_eq!(
        figures().await,
        (2, 2 * quota, 0),
        "restored, it counts again"
    );
    let res = app
        .update_account("two@a.example", json!({"quota_mb": quota + 100}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(figures().await, (2, 2 * quota + 100, 0));

    let res = app
        .admin(
            Method::POST,
            "/v1/domains/a.example/accounts/batch",
            Some(json!({"accounts": [
                {"local_part": "three", "password": "Fahrrad-Kaffee-Wien-2026"},
                {"local_part": "four", "password": "Fahrrad-Kaffee-Wien-2026"}]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .admin(
            Method::POST,
            "/v1/domains/a.example/aliases",
            Some(json!({"local_part": "info", "destinations": ["one@a.example"]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(figures().await, (4, 4 * quota + 100, 1));
    let res = app
        .admin(Method::DELETE, "/v1/aliases/info@a.example", None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // Purged for good: still not counted.
    app.delete_account("four@a.example").await;
    sqlx::query(
        "UPDATE accounts SET purge_after = now() - interval '1 second' WHERE local_part = 'four'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM accounts WHERE local_part = 'four'")
        .execute(&app.pool)
        .await
        .unwrap();
    let counted: (i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(quota_mb), 0)::bigint FROM accounts WHERE deleted_at IS NULL",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(figures().await, (counted.0, counted.1, 0));
    assert_eq!(counted.0, 3);
}

/// A partner's list comes from the partner kept on each domain: a domain moved to
/// another partner's customer leaves the first partner's list and joins the other's.
#[tokio::test]
async fn a_moved_domain_changes_partner_lists() {
    let app = TestApp::spawn().await;
    let t = app.tenants().await;
    let a = app.partner_key(&t.partner_a).await;
    let b = app.partner_key(&t.partner_b).await;
    let names = |key: String| {
        let app = &app;
        async move {
            let page: serde_json::Value = app
                .call(Method::GET, "/v1/domains?limit=100", Some(&key), None)
                .await
                .json()
                .await
                .unwrap();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names(a.clone()).await, ["a.example"]);
    let res = app
        .admin(
            Method::PATCH,
            "/v1/domains/a.example",
            Some(json!({"customer_id": t.customer_b})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(names(a.clone()).await.is_empty());
    assert_eq!(names(b.clone()).await, ["a.example", "b.example"]);
    let found: serde_json::Value = app
        .call(Method::GET, "/v1/domains?q=a.ex", Some(&b), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["name"], "a.example", "{found}");
}

/// The names of a page of `GET path` as `key`, and the cursor to the next.
async fn page_of_names(app: &TestApp, path: &str, key: &str) -> (Vec<String>, Option<String>) {
    let res = app.call(Method::GET, path, Some(key), None).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let page: serde_json::Value = res.json().await.unwrap();
    let names = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect();
    (names, page["next_cursor"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn a_domain_search_finds_the_text_anywhere_in_either_form_of_the_name() {
    let app = TestApp::spawn().await;
    let c = app.create_customer("Shops", None).await;
    for name in [
        "alpha-shop.example",
        "beta.example",
        "shop.test",
        "müller.example",
    ] {
        app.create_domain(name, &c).await;
    }
    let key = app.admin_key.clone();
    let found = |q: &'static str| {
        let (app, key) = (&app, &key);
        async move {
            page_of_names(app, &format!("/v1/domains?q={q}"), key)
                .await
                .0
        }
    };
    assert_eq!(found("SHOP").await, ["alpha-shop.example", "shop.test"]);
    assert_eq!(found("p.ex").await, ["alpha-shop.example"]);
    // The Unicode form and the ASCII form of the same name.
    assert_eq!(found("m%C3%BCller").await, ["xn--mller-kva.example"]);
    assert_eq!(found("xn--m").await, ["xn--mller-kva.example"]);
    // Wildcards are text, not patterns.
    assert!(found("%25").await.is_empty());
    assert!(found("_").await.is_empty());
    // Longer than the 16 characters the index keeps: the rest still has to match.
    assert_eq!(found("alpha-shop.example").await, ["alpha-shop.example"]);
    assert!(found("alpha-shop.examplX").await.is_empty());
}

#[tokio::test]
async fn a_search_found_in_many_domains_late_in_the_list_pages_through_all_of_them_in_reach() {
    let app = TestApp::spawn().await;
    let t = app.tenants().await;
    // More matches than a search reads by key (1,000), all of them after more names
    // without one than the admin's walk reads (1,000).
    sqlx::query(
        "INSERT INTO domains (id, name, name_unicode, customer_id, server_profile)
         SELECT gen_random_uuid(), n, n, $1::uuid, 'default'
           FROM generate_series(1, 3200) AS i,
                LATERAL (SELECT CASE WHEN i <= 2100 THEN 'aaa' ELSE 'many' END || i || '.example' AS n) AS x",
    )
    .bind(uuid::Uuid::parse_str(&t.customer_a).unwrap())
    .execute(&app.pool)
    .await
    .unwrap();
    let partner_b = app.partner_key(&t.partner_b).await;
    app.create_domain("b-many.example", &t.customer_b).await;
    for (key, expected) in [(app.admin_key.clone(), 1101), (partner_b, 1)] {
        let mut seen = Vec::new();
        let mut path = "/v1/domains?q=MANY&limit=500".to_owned();
        loop {
            let (names, next) = page_of_names(&app, &path, &key).await;
            seen.extend(names);
            match next {
                Some(cursor) => path = format!("/v1/domains?q=MANY&limit=500&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen.len(), expected);
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "in name order, each once"
        );
        assert!(seen.iter().all(|n| n.contains("many")));
    }
}
