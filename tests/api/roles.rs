//! A caller whose role a route does not admit learns that before anything else:
//! whatever its body holds, the answer is 403, never a judgement of the body.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

/// A caller whose role may not use a route learns that first, whatever its body
/// holds: an incomplete, mistyped or oversized body must not answer 422 or 413 and
/// so tell the caller what the route would accept.
#[tokio::test]
async fn a_role_that_may_not_call_a_route_learns_it_before_its_body_is_judged() {
    let app = TestApp::spawn().await;
    let t = app.tenants().await;
    let partner = app.partner_key(&t.partner_a).await;
    let customer = app.customer_key(&t.customer_a).await;
    let cases = [
        (&partner, Method::POST, "/v1/partners", json!({})),
        (&partner, Method::POST, "/v1/partners", json!({"name": 42})),
        (
            &partner,
            Method::POST,
            "/v1/server-profiles",
            json!({"bogus": true}),
        ),
        (
            &partner,
            Method::PUT,
            "/v1/server-profiles/default",
            json!({}),
        ),
        (
            &customer,
            Method::POST,
            "/v1/customers",
            json!({"name": ""}),
        ),
        (
            &customer,
            Method::PATCH,
            "/v1/domains/a.example",
            json!({"server_profile": 7}),
        ),
    ];
    for (key, method, path, body) in cases {
        let res = app
            .request(method.clone(), path)
            .key(key)
            .json(&body)
            .send()
            .await;
        assert_eq!(res.status(), 403, "{method} {path} {body}");
    }
    // The same with a body far over the limit, sent by a key outside the role.
    let huge = json!({"name": "x".repeat(200_000)});
    let res = app
        .request(Method::POST, "/v1/partners")
        .key(&partner)
        .json(&huge)
        .send()
        .await;
    assert_eq!(res.status(), 403);
    // An admin with the same incomplete body is told about the body.
    let res = app
        .admin(Method::POST, "/v1/partners", Some(json!({})))
        .await;
    assert_eq!(res.status(), 422);
}
