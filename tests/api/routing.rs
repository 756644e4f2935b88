//! Mail routing through the API: aliases, catch-alls, forwarding, alias domains,
//! package limits and renames; what Postfix makes of them is proven in
//! `mailserver/postfix.rs`.

mod limits;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp, MAX};

impl TestApp {
    pub async fn create_alias(&self, domain: &str, local_part: &str, to: &[&str]) -> Value {
        let res = self.try_alias(domain, local_part, to).await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "alias {local_part}@{domain}"
        );
        res.json().await.unwrap()
    }

    pub async fn try_alias(
        &self,
        domain: &str,
        local_part: &str,
        to: &[&str],
    ) -> reqwest::Response {
        self.admin(
            Method::POST,
            &format!("/v1/domains/{domain}/aliases"),
            Some(json!({ "local_part": local_part, "destinations": to })),
        )
        .await
    }
}

#[tokio::test]
async fn an_alias_is_created_listed_changed_and_deleted() {
    let app = TestApp::with_account().await;
    let res = app
        .admin(
            Method::POST,
            "/v1/domains/mustermann.at/aliases",
            Some(
                json!({"local_part": "Info", "destinations": [MAX, "Office@Müller.at"],
                        "description": "Anfragen"}),
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["location"], "/v1/aliases/info@mustermann.at");
    let alias: Value = res.json().await.unwrap();
    assert_eq!(alias["address"], "info@mustermann.at");
    assert_eq!(
        alias["destinations"],
        json!([MAX, "office@xn--mller-kva.at"]),
        "destinations are stored as lowercase A-labels"
    );
    assert_eq!(alias["active"], true);

    let list = app
        .admin_get_json("/v1/domains/mustermann.at/aliases?q=office")
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    let res = app
        .admin(Method::GET, "/v1/aliases/info@mustermann.at", None)
        .await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let res = app
        .request(Method::PATCH, "/v1/aliases/info@mustermann.at")
        .key(&app.admin_key)
        .header("If-Match", &etag)
        .json(&json!({"active": false, "description": null}))
        .send()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(
        (changed["active"].clone(), changed["description"].clone()),
        (json!(false), Value::Null)
    );
    // The old tag names a version that is gone.
    let res = app
        .request(Method::PATCH, "/v1/aliases/info@mustermann.at")
        .key(&app.admin_key)
        .header("If-Match", &etag)
        .json(&json!({"active": true}))
        .send()
        .await;
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);

    let res = app
        .admin(Method::DELETE, "/v1/aliases/info@mustermann.at", None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let actions = app.audit_actions("info@mustermann.at").await;
    for action in ["alias.created", "alias.updated", "alias.deleted"] {
        assert!(actions.iter().any(|a| a == action), "{actions:?}");
    }
}

#[tokio::test]
async fn another_customers_alias_and_catch_all_answer_404() {
    let app = TestApp::spawn().await;
    let t = app.tenants().await;
    app.create_alias("b.example", "info", &["eva@b.example"])
        .await;
    let key = app.customer_key(&t.customer_a).await;
    let calls = [
        (Method::GET, "/v1/aliases/info@b.example", None),
        (
            Method::PATCH,
            "/v1/aliases/info@b.example",
            Some(json!({"active": false})),
        ),
        (Method::DELETE, "/v1/aliases/info@b.example", None),
        (Method::GET, "/v1/domains/b.example/aliases", None),
        (
            Method::POST,
            "/v1/domains/b.example/aliases",
            Some(json!({"local_part": "x", "destinations": ["max@a.example"]})),
        ),
        (
            Method::PUT,
            "/v1/domains/b.example/catch-all",
            Some(json!({"destinations": ["max@a.example"]})),
        ),
        (
            Method::POST,
            "/v1/accounts/eva@b.example/rename",
            Some(json!({"local_part": "eve"})),
        ),
    ];
    for (method, path, body) in calls {
        let res = app
            .call(method.clone(), path, Some(&key), body.as_ref())
            .await;
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    // Nothing changed.
    let alias = app.admin_get_json("/v1/aliases/info@b.example").await;
    assert_eq!(alias["active"], true);
}

#[tokio::test]
async fn an_address_is_an_account_or_an_alias_never_both() {
    let app = TestApp::with_account().await;
    let res = app
        .try_alias("mustermann.at", "max", &["x@example.net"])
        .await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;

    app.create_alias("mustermann.at", "info", &[MAX]).await;
    let res = app
        .admin(
            Method::POST,
            "/v1/domains/mustermann.at/accounts",
            Some(json!({"local_part": "info", "password": crate::helpers::STRONG_PASSWORD})),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;

    // A deleted account that can still be restored keeps its address.
    app.create_account("mustermann.at", "eva").await;
    app.delete_account("eva@mustermann.at").await;
    let res = app.try_alias("mustermann.at", "eva", &[MAX]).await;
    let body = assert_problem(res, StatusCode::CONFLICT, "conflict").await;
    assert!(
        body["detail"].as_str().unwrap().contains("restored"),
        "{body}"
    );

    // A rename onto an alias's address too.
    let res = app
        .admin(
            Method::POST,
            "/v1/accounts/max@mustermann.at/rename",
            Some(json!({"local_part": "info"})),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
}

#[tokio::test]
async fn an_alias_and_an_account_racing_for_one_address_do_not_both_win() {
    let app = TestApp::with_domain().await;
    for round in 0..5 {
        let local = format!("race{round}");
        let alias = app.try_alias("mustermann.at", &local, &["x@example.net"]);
        let body = json!({"local_part": local, "password": crate::helpers::STRONG_PASSWORD});
        let path = "/v1/domains/mustermann.at/accounts";
        let account = app.admin(Method::POST, path, Some(body));
        let (a, b) = tokio::join!(alias, account);
        let created = [a.status(), b.status()]
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        assert_eq!(created, 1, "round {round}: {} {}", a.status(), b.status());
    }
}

#[tokio::test]
async fn routes_that_loop_are_refused_with_the_loop_named() {
    let app = TestApp::with_account().await;
    app.create_account("mustermann.at", "eva").await;
    // a → b → a
    app.create_alias("mustermann.at", "a", &["b@mustermann.at"])
        .await;
    let res = app
        .try_alias("mustermann.at", "b", &["a@mustermann.at", "x@example.net"])
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "routing_loop", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("b@mustermann.at → a@mustermann.at → b@mustermann.at"),
        "{body}"
    );

    // An alias naming itself.
    let res = app
        .try_alias("mustermann.at", "self", &["self@mustermann.at"])
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // Forwarding: max → eva, then eva → alias c → max.
    let res = app
        .update_account(MAX, json!({"forwarding": {"to": ["eva@mustermann.at"]}}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.create_alias("mustermann.at", "c", &[MAX]).await;
    let res = app
        .update_account(
            "eva@mustermann.at",
            json!({"forwarding": {"to": ["c@mustermann.at"], "keep_copy": false}}),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "forwarding.to");
    // The refused change left nothing behind.
    let eva = app.admin_get_json("/v1/accounts/eva@mustermann.at").await;
    assert_eq!(eva["forwarding"], Value::Null);

    // A catch-all is a route too: @domain → unknown@domain would come back to it...
    // through itself only, which Postfix delivers; but via an alias it loops.
    app.create_alias("mustermann.at", "d", &["nobody@mustermann.at"])
        .await;
    let res = app
        .admin(
            Method::PUT,
            "/v1/domains/mustermann.at/catch-all",
            Some(json!({"destinations": ["d@mustermann.at"]})),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    // Diamonds are no loops: two aliases to one mailbox, a third to both.
    app.create_alias("mustermann.at", "e", &[MAX]).await;
    app.create_alias(
        "mustermann.at",
        "f",
        &["e@mustermann.at", "c@mustermann.at"],
    )
    .await;
}

#[tokio::test]
async fn freeing_an_address_that_would_loop_through_the_catch_all_is_refused() {
    let app = TestApp::with_account().await;
    app.create_account("mustermann.at", "boss").await;
    app.create_alias("mustermann.at", "office", &["boss@mustermann.at"])
        .await;
    let res = app
        .admin(
            Method::PUT,
            "/v1/domains/mustermann.at/catch-all",
            Some(json!({"destinations": ["office@mustermann.at"]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Renamed away, boss@ would fall to the catch-all, which leads back to boss@.
    let res = app
        .admin(
            Method::POST,
            "/v1/accounts/boss@mustermann.at/rename",
            Some(json!({"local_part": "chief"})),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "keep_old_as_alias", "{body}");
    assert_eq!(
        app.admin(Method::GET, "/v1/accounts/boss@mustermann.at", None)
            .await
            .status(),
        StatusCode::OK
    );
    // Kept as an alias, it goes on to the renamed account: no loop.
    let res = app
        .admin(
            Method::POST,
            "/v1/accounts/boss@mustermann.at/rename",
            Some(json!({"local_part": "chief", "keep_old_as_alias": true})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // A deleted account's address is refused by Postfix, not given to the catch-all.
    app.update_account(MAX, json!({"forwarding": {"to": ["office@mustermann.at"]}}))
        .await;
    assert_eq!(
        app.delete_account(MAX).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn a_loop_through_another_customers_routes_names_none_of_their_addresses() {
    let app = TestApp::spawn().await;
    let t = app.tenants().await;
    app.create_alias("b.example", "relay", &["back@a.example"])
        .await;
    let key = app.customer_key(&t.customer_a).await;
    let body = json!({"local_part": "back", "destinations": ["relay@b.example"]});
    let res = app
        .call(
            Method::POST,
            "/v1/domains/a.example/aliases",
            Some(&key),
            Some(&body),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("back@a.example"), "{message}");
    assert!(!message.contains("relay@b.example"), "{message}");
}

#[tokio::test]
async fn forwarding_is_set_shown_and_ended() {
    let app = TestApp::with_account().await;
    let res = app
        .update_account(MAX, json!({"forwarding": {"to": ["Max@Example.net"]}}))
        .await;
    let account: Value = res.json().await.unwrap();
    assert_eq!(
        account["forwarding"],
        json!({"to": ["max@example.net"], "keep_copy": true})
    );
    let res = app
        .update_account(MAX, json!({"forwarding": {"to": [MAX]}}))
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app
        .update_account(MAX, json!({"forwarding": {"to": []}}))
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app.update_account(MAX, json!({"forwarding": null})).await;
    let account: Value = res.json().await.unwrap();
    assert_eq!(account["forwarding"], Value::Null);
}

#[tokio::test]
async fn a_catch_all_is_set_replaced_and_removed() {
    let app = TestApp::with_account().await;
    let path = "/v1/domains/mustermann.at/catch-all";
    let res = app.admin(Method::GET, path, None).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let body = json!({"destinations": [MAX]});
    let res = app.admin(Method::PUT, path, Some(body.clone())).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app.admin(Method::PUT, path, Some(body)).await;
    assert_eq!(res.status(), StatusCode::OK, "a repeated PUT replaces");
    assert_eq!(app.admin_get_json(path).await["destinations"], json!([MAX]));
    for _ in 0..2 {
        let res = app.admin(Method::DELETE, path, None).await;
        assert_eq!(
            res.status(),
            StatusCode::NO_CONTENT,
            "a repeated DELETE changes nothing"
        );
    }
}

#[tokio::test]
async fn an_alias_domain_delivers_to_its_target_and_holds_nothing_of_its_own() {
    let app = TestApp::with_account().await;
    let res = app
        .admin(
            Method::POST,
            "/v1/domains",
            Some(json!({"name": "Mustermann.com", "alias_of": "mustermann.at"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let domain: Value = res.json().await.unwrap();
    assert_eq!(domain["alias_of"], "mustermann.at");
    let target = app.admin_get_json("/v1/domains/mustermann.at").await;
    assert_eq!(
        domain["customer_id"], target["customer_id"],
        "it belongs to the target's customer"
    );

    let res = app.try_alias("mustermann.com", "info", &[MAX]).await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
    let res = app
        .admin(
            Method::PUT,
            "/v1/domains/mustermann.com/catch-all",
            Some(json!({"destinations": [MAX]})),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
    // An alias of an alias domain is refused; the target cannot go while it points there.
    let res = app
        .admin(
            Method::POST,
            "/v1/domains",
            Some(json!({"name": "mustermann.de", "alias_of": "mustermann.com"})),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    app.delete_account(MAX).await;
    let res = app
        .admin(Method::DELETE, "/v1/domains/mustermann.at", None)
        .await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
    app.restore_account(MAX).await;

    // Auto-configuration for the alias domain names the target's user name.
    let (status, _, xml) = app
        .get_text("/mail/config-v1.1.xml?emailaddress=max%40mustermann.com")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        xml.contains("<username>%EMAILLOCALPART%@mustermann.at</username>"),
        "{xml}"
    );
    let (_, _, plist) = app
        .get_text("/apple/mobileconfig?emailaddress=max%40mustermann.com")
        .await;
    assert!(
        plist.contains("<string>max@mustermann.at</string>"),
        "{plist}"
    );
}

#[tokio::test]
async fn a_rename_keeps_the_account_and_optionally_its_old_address() {
    let app = TestApp::with_account().await;
    let before = app.admin_get_json(&format!("/v1/accounts/{MAX}")).await;
    let res = app
        .admin(
            Method::POST,
            &format!("/v1/accounts/{MAX}/rename"),
            Some(json!({"local_part": "Maximilian", "keep_old_as_alias": true})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["location"],
        "/v1/accounts/maximilian@mustermann.at"
    );
    let after: Value = res.json().await.unwrap();
    assert_eq!(after["address"], "maximilian@mustermann.at");
    assert_eq!(after["password_changed_at"], before["password_changed_at"]);
    assert_eq!(after["created_at"], before["created_at"]);
    let alias = app.admin_get_json(&format!("/v1/aliases/{MAX}")).await;
    assert_eq!(alias["destinations"], json!(["maximilian@mustermann.at"]));
    let res = app
        .admin(Method::GET, &format!("/v1/accounts/{MAX}"), None)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(app
        .audit_actions("maximilian@mustermann.at")
        .await
        .iter()
        .any(|a| a == "account.renamed"));
}
