//! Every route with every kind of caller: admin, partner A, partner B, customer of A,
//! customer of B, a read-only key of partner A, no key and a revoked key. The target
//! objects all belong to partner A's customer, so partner B and customer B must get
//! 404 (no existence oracle), and functions outside a role 403.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Role, TestApp, STRONG_PASSWORD};

const CALLERS: [&str; 8] = [
    "admin",
    "partner A",
    "partner B",
    "customer A",
    "customer B",
    "read-only",
    "no key",
    "revoked",
];

struct Case {
    method: Method,
    /// `{pa}`, `{ca}`, `{n}` (a number unique to the call) and `{victim}` are filled in.
    path: &'static str,
    body: Option<Value>,
    expect: [u16; 8],
}

fn case(method: Method, path: &'static str, body: Option<Value>, expect: [u16; 8]) -> Case {
    Case {
        method,
        path,
        body,
        expect,
    }
}

fn profile_input() -> Value {
    json!({"incoming_host": "mail.example.at", "outgoing_host": "mail.example.at",
           "endpoints": [{"protocol": "imap", "port": 993, "security": "tls"}, {"protocol": "smtp", "port": 465, "security": "tls"}]})
}

fn profile(name: &str) -> Value {
    let mut p = profile_input();
    p["name"] = json!(name);
    p
}

#[tokio::test]
async fn every_route_answers_every_caller_as_its_role_and_reach_allow() {
    let app = TestApp::spawn().await;
    let t = app.tenants().await;
    let keys = [
        Some(app.admin_key.clone()),
        Some(app.partner_key(&t.partner_a).await),
        Some(app.partner_key(&t.partner_b).await),
        Some(app.customer_key(&t.customer_a).await),
        Some(app.customer_key(&t.customer_b).await),
        Some(
            app.mint(Role::Partner, Some(&t.partner_a), None, true)
                .await,
        ),
        None,
        // Revoked straight away, below.
        Some(app.mint(Role::Admin, None, None, false).await),
    ];
    sqlx::query("UPDATE api_keys SET revoked_at = now() WHERE lookup = $1")
        .bind(&keys[7].as_deref().unwrap()[4..16])
        .execute(&app.pool)
        .await
        .unwrap();

    use Method as M;
    let cases = vec![
        case(
            M::GET,
            "/v1/partners",
            None,
            [200, 403, 403, 403, 403, 403, 401, 401],
        ),
        case(
            M::POST,
            "/v1/partners",
            Some(json!({"name": "P{n}"})),
            [201, 403, 403, 403, 403, 403, 401, 401],
        ),
        case(
            M::GET,
            "/v1/partners/{pa}",
            None,
            [200, 403, 403, 403, 403, 403, 401, 401],
        ),
        case(
            M::PATCH,
            "/v1/partners/{pa}",
            Some(json!({"name": "Partner A"})),
            [200, 403, 403, 403, 403, 403, 401, 401],
        ),
        case(
            M::DELETE,
            "/v1/partners/{pa}",
            None,
            [409, 403, 403, 403, 403, 403, 401, 401],
        ),
        case(
            M::GET,
            "/v1/customers",
            None,
            [200, 200, 200, 200, 200, 200, 401, 401],
        ),
        case(
            M::POST,
            "/v1/customers",
            Some(json!({"name": "C{n}"})),
            [201, 201, 201, 403, 403, 403, 401, 401],
        ),
        case(
            M::GET,
            "/v1/customers/{ca}",
            None,
            [200, 200, 404, 200, 404, 200, 401, 401],
        ),
        case(
            M::PATCH,
            "/v1/customers/{ca}",
            Some(json!({"name": "Customer A"})),
            [200, 200, 404, 403, 403, 403, 401, 401],
        ),
        case(
            M::DELETE,
            "/v1/customers/{ca}",
            None,
            [409, 409, 404, 403, 403, 403, 401, 401],
        ),
        case(
            M::GET,
            "/v1/api-keys",
            None,
            [200, 200, 200, 200, 200, 200, 401, 401],
        ),
        case(
            M::POST,
            "/v1/api-keys",
            Some(json!({"role": "customer", "customer_id": "{ca}"})),
            [201, 201, 422, 201, 422, 403, 401, 401],
        ),
        case(
            M::POST,
            "/v1/api-keys",
            Some(json!({"role": "admin"})),
            [201, 403, 403, 403, 403, 403, 401, 401],
        ),
        case(
            M::DELETE,
            "/v1/api-keys/{victim}",
            None,
            [204, 204, 404, 204, 404, 403, 401, 401],
        ),
        case(
            M::GET,
            "/v1/domains",
            None,
            [200, 200, 200, 200, 200, 200, 401, 401],
        ),
        case(
            M::POST,
            "/v1/domains",
            Some(json!({"name": "d{n}.example", "customer_id": "{ca}"})),
            [201, 201, 422, 201, 422, 403, 401, 401],
        ),
        case(
            M::GET,
            "/v1/domains/a.example",
            None,
            [200, 200, 404, 200, 404, 200, 401, 401],
        ),
        case(
            M::PATCH,
            "/v1/domains/a.example",
            Some(json!({"server_profile": "default"})),
            [200, 200, 404, 403, 403, 403, 401, 401],
        ),
        case(
            M::DELETE,
            "/v1/domains/a.example",
            None,
            [409, 409, 404, 409, 404, 403, 401, 401],
        ),
        case(
            M::GET,
            "/v1/domains/a.example/accounts",
            None,
            [200, 200, 404, 200, 404, 200, 401, 401],
        ),
        case(
            M::POST,
            "/v1/domains/a.example/accounts",
            Some(json!({"local_part": "u{n}", "password": STRONG_PASSWORD})),
            [201, 201, 404, 201, 404, 403, 401, 401],
        ),
        case(
            M::GET,
            "/v1/accounts/max@a.example",
            None,
            [200, 200, 404, 200, 404, 200, 401, 401],
        ),
        case(
            M::PATCH,
            "/v1/accounts/max@a.example",
            Some(json!({"quota_mb": 1024})),
            [200, 200, 404, 200, 404, 403, 401, 401],
        ),
        case(
            M::DELETE,
            "/v1/accounts/{victim}",
            None,
            [204, 204, 404, 204, 404, 403, 401, 401],
        ),
        case(
            M::POST,
            "/v1/accounts/max@a.example/restore",
            None,
            [409, 409, 404, 409, 404, 403, 401, 401],
        ),
        case(
            M::GET,
            "/v1/audit-events",
            None,
            [200, 200, 200, 200, 200, 200, 401, 401],
        ),
        case(
            M::GET,
            "/v1/accounts/max@a.example/client-settings",
            None,
            [200, 200, 404, 200, 404, 200, 401, 401],
        ),
        case(
            M::GET,
            "/v1/accounts/max@a.example/mobileconfig",
            None,
            [200, 200, 404, 200, 404, 200, 401, 401],
        ),
        case(
            M::GET,
            "/v1/domains/a.example/dns-records",
            None,
            [200, 200, 404, 200, 404, 200, 401, 401],
        ),
        case(
            M::GET,
            "/v1/server-profiles",
            None,
            [200, 200, 200, 200, 200, 200, 401, 401],
        ),
        case(
            M::GET,
            "/v1/server-profiles/default",
            None,
            [200, 200, 200, 200, 200, 200, 401, 401],
        ),
        case(
            M::POST,
            "/v1/server-profiles",
            Some(profile("p{n}")),
            [201, 403, 403, 403, 403, 403, 401, 401],
        ),
        case(
            M::PUT,
            "/v1/server-profiles/extra",
            Some(profile_input()),
            [201, 403, 403, 403, 403, 403, 401, 401],
        ),
        case(
            M::DELETE,
            "/v1/server-profiles/p{n}",
            None,
            [404, 403, 403, 403, 403, 403, 401, 401],
        ),
        case(
            M::GET,
            "/mail/config-v1.1.xml?emailaddress=x%40a.example",
            None,
            [200; 8],
        ),
        case(M::GET, "/healthz", None, [200; 8]),
    ];

    let mut n = 0;
    let mut failures = Vec::new();
    for c in &cases {
        for (i, key) in keys.iter().enumerate() {
            n += 1;
            // Fresh victims, so that each caller's delete meets an existing object.
            let victim = if c.path.contains("api-keys/{victim}") {
                let key = app.customer_key(&t.customer_a).await;
                let id: String =
                    sqlx::query_scalar("SELECT id::text FROM api_keys WHERE lookup = $1")
                        .bind(&key[4..16])
                        .fetch_one(&app.pool)
                        .await
                        .unwrap();
                id
            } else if c.path.contains("accounts/{victim}") {
                app.create_account("a.example", &format!("victim{n}")).await["address"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            } else {
                String::new()
            };
            let fill = |s: &str| {
                s.replace("{pa}", &t.partner_a)
                    .replace("{ca}", &t.customer_a)
                    .replace("{n}", &n.to_string())
                    .replace("{victim}", &victim)
            };
            let path = fill(c.path);
            let body = c
                .body
                .as_ref()
                .map(|b| serde_json::from_str::<Value>(&fill(&b.to_string())).unwrap());
            let res = app
                .call(c.method.clone(), &path, key.as_deref(), body.as_ref())
                .await;
            let status = res.status().as_u16();
            if status != c.expect[i] {
                let text = res.text().await.unwrap_or_default();
                failures.push(format!(
                    "{} {} as {}: {} (expected {}) {}",
                    c.method, path, CALLERS[i], status, c.expect[i], text
                ));
            } else if status >= 400 {
                assert_eq!(res.headers()["content-type"], "application/problem+json");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} calls answered wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
