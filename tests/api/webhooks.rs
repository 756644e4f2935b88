//! Webhooks: every change in the owner's reach POSTed to its receiver, signed as
//! Standard Webhooks describes (checked with the specification's own Rust library),
//! retried until it is taken, across a restart, once with two instances running,
//! and never to the provider's own network.

use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest, HttpResponse, HttpServer};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};
use mailpanel::config::Settings;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    fn id(&self) -> String {
        self.headers["webhook-id"].to_str().unwrap().to_owned()
    }
}

#[derive(Default)]
struct Script {
    got: Vec<Received>,
    /// Statuses to answer, in turn; then `otherwise`.
    answers: VecDeque<u16>,
    otherwise: u16,
    /// Keep every request waiting, never answering.
    hang: bool,
}

/// A partner's receiver on a loopback port: records every request, answers as told.
struct Receiver {
    url: String,
    port: u16,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let script = Arc::new(Mutex::new(Script {
            otherwise: 204,
            ..Script::default()
        }));
        let shared = web::Data::new(script.clone());
        let server = HttpServer::new(move || {
            actix_web::App::new()
                .app_data(shared.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/hooks/mailpanel"),
            port,
            script,
        }
    }

    fn answer(&self, statuses: &[u16], otherwise: u16) {
        let mut s = self.script.lock().unwrap();
        s.answers = statuses.iter().copied().collect();
        s.otherwise = otherwise;
    }

    fn got(&self) -> Vec<Received> {
        self.script.lock().unwrap().got.clone()
    }

    /// Waits until a request satisfies `wanted` (or 20 s pass); the requests so far.
    async fn wait_for(&self, wanted: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.got();
            if wanted(&got) || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    script: web::Data<Arc<Mutex<Script>>>,
) -> HttpResponse {
    let mut headers = HeaderMap::new();
    for (name, value) in req.headers() {
        headers.insert(
            HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
            HeaderValue::from_bytes(value.as_bytes()).unwrap(),
        );
    }
    let (status, hang) = {
        let mut s = script.lock().unwrap();
        s.got.push(Received {
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        (s.answers.pop_front().unwrap_or(s.otherwise), s.hang)
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

/// A lab: receivers on loopback over http are allowed; polls and retries are quick.
fn lab(s: &mut Settings) {
    s.webhook_allow_http = true;
    s.webhook_allowed_networks = vec!["127.0.0.0/8".parse().unwrap()];
    s.webhook_poll_ms = 50;
    s.webhook_retry_ms = 100;
    s.webhook_timeout_ms = 2000;
}

async fn subscribe(app: &TestApp, key: &str, url: &str, types: Value) -> Value {
    let res = app
        .call(
            Method::POST,
            "/v1/webhooks",
            Some(key),
            Some(&json!({ "url": url, "event_types": types })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

/// Whether the standard's own library accepts the request under this secret.
fn signed_by(secret: &str, r: &Received) -> bool {
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(r.body.as_bytes(), &r.headers)
        .is_ok()
}

fn about<'a>(got: &'a [Received], kind: &str, address: &str) -> Vec<&'a Received> {
    got.iter()
        .filter(|r| {
            let e = r.json();
            e["type"] == kind && e["subject"]["address"] == address
        })
        .collect()
}

#[tokio::test]
async fn a_change_reaches_the_receiver_signed_and_only_in_reach() {
    let app = TestApp::spawn_with(lab).await;
    let t = app.tenants().await;
    let key = app.partner_key(&t.partner_a).await;
    let receiver = Receiver::start();
    let hook = subscribe(&app, &key, &receiver.url, json!(["account.*"])).await;
    let secret = hook["signing_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{hook}");
    let id = hook["id"].as_str().unwrap();

    // The secret is shown once.
    let shown = app.admin_get_json(&format!("/v1/webhooks/{id}")).await;
    assert!(shown.get("signing_secret").is_none(), "{shown}");
    assert_eq!(shown["event_types"], json!(["account.*"]));

    app.create_account("b.example", "outsider").await;
    app.create_customer("Not an account event", Some(&t.partner_a))
        .await;
    app.create_account("a.example", "anna").await;

    let got = receiver
        .wait_for(|g| !about(g, "account.created", "anna@a.example").is_empty())
        .await;
    let anna = about(&got, "account.created", "anna@a.example");
    assert_eq!(anna.len(), 1, "{got:?}");
    let r = anna[0];
    assert!(signed_by(&secret, r), "signature: {:?}", r.headers);
    assert!(!signed_by("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", r));
    assert_eq!(r.headers["content-type"], "application/json");
    let event = r.json();
    assert_eq!(
        r.id(),
        event["id"].to_string(),
        "webhook-id is the event's id"
    );
    assert_eq!(event["subject"]["domain"], "a.example");
    assert!(event["cursor"].is_string());
    // Partner B's account and the customer event were not for this subscription.
    for r in &got {
        let e = r.json();
        assert!(e["type"].as_str().unwrap().starts_with("account."), "{e}");
        assert_ne!(e["subject"]["domain"], "b.example", "{e}");
    }

    // The receiver holds the event before its answer reaches the sender, which only
    // then notes the delivery: wait for that.
    let mut deliveries = Value::Null;
    for _ in 0..100 {
        let res = app
            .call(
                Method::GET,
                &format!("/v1/webhooks/{id}/deliveries"),
                Some(&key),
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        deliveries = res.json().await.unwrap();
        if deliveries["items"][0]["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first = &deliveries["items"][0];
    assert_eq!(first["status"], "delivered", "{deliveries}");
    assert_eq!(first["attempts"], 1);
    assert_eq!(first["last_status"], 204);
    assert_eq!(first["event_type"], "account.created");
}

#[tokio::test]
async fn a_failing_receiver_gets_the_event_again_until_it_takes_it() {
    let app = TestApp::spawn_with(lab).await;
    let receiver = Receiver::start();
    receiver.answer(&[500, 503, 500], 204);
    let hook = subscribe(
        &app,
        &app.admin_key,
        &receiver.url,
        json!(["partner.created"]),
    )
    .await;
    let secret = hook["signing_secret"].as_str().unwrap();
    app.create_partner("Retried GmbH").await;

    let got = receiver.wait_for(|g| g.len() >= 4).await;
    assert_eq!(got.len(), 4, "three failures, then the delivery: {got:?}");
    let ids: Vec<String> = got.iter().map(Received::id).collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "one event, one id: {ids:?}"
    );
    assert!(
        got.iter().all(|r| signed_by(secret, r)),
        "every attempt signed anew"
    );
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "the same body each time"
    );

    let id = hook["id"].as_str().unwrap();
    let d = app
        .admin_get_json(&format!("/v1/webhooks/{id}/deliveries"))
        .await;
    let d = &d["items"][0];
    assert_eq!(d["status"], "delivered", "{d}");
    assert_eq!(d["attempts"], 4, "{d}");
}

#[tokio::test]
async fn a_receiver_that_hangs_does_not_hold_up_the_others() {
    let app = TestApp::spawn_with(|s| {
        lab(s);
        // Longer than the test waits: a request to the hanging receiver stays open.
        s.webhook_timeout_ms = 60_000;
    })
    .await;
    let stuck = Receiver::start();
    stuck.script.lock().unwrap().hang = true;
    let healthy = Receiver::start();
    subscribe(&app, &app.admin_key, &stuck.url, json!(["partner.created"])).await;
    subscribe(
        &app,
        &app.admin_key,
        &healthy.url,
        json!(["partner.created"]),
    )
    .await;

    // More events than an instance has requests in flight (64).
    for i in 0..80 {
        app.create_partner(&format!("Busy {i}")).await;
    }
    let got = healthy.wait_for(|g| g.len() >= 80).await;
    assert_eq!(got.len(), 80, "the healthy receiver gets every event");
    let held = stuck.got().len();
    assert!(
        held < 64,
        "the hanging one holds a few slots, not all: {held}"
    );
}

#[tokio::test]
async fn a_delivery_in_retry_survives_a_restart() {
    let first = TestApp::spawn_with(|s| {
        lab(s);
        // Long enough that the first instance is gone before its retry is due.
        s.webhook_retry_ms = 2000;
    })
    .await;
    let receiver = Receiver::start();
    receiver.answer(&[500], 204);
    let hook = subscribe(
        &first,
        &first.admin_key,
        &receiver.url,
        json!(["partner.*"]),
    )
    .await;
    let id = hook["id"].as_str().unwrap().to_owned();
    first.create_partner("Restart AG").await;

    let got = receiver.wait_for(|g| !g.is_empty()).await;
    assert_eq!(got.len(), 1, "the first attempt failed");
    // The receiver holds the request before the sender has noted its 500: stopping
    // in between would test a lost attempt, not a delivery in retry.
    let deliveries = format!("/v1/webhooks/{id}/deliveries");
    let noted = crate::helpers::eventually(|| async {
        let d = first.admin_get_json(&deliveries).await;
        d["items"][0]["attempts"] == 1 && d["items"][0]["last_status"] == 500
    })
    .await;
    assert!(noted, "the failed attempt is noted");
    first.stop().await;

    let second = first.second_instance_with(lab).await;
    let got = receiver.wait_for(|g| g.len() >= 2).await;
    assert_eq!(got.len(), 2, "delivered by the new instance: {got:?}");
    assert_eq!(got[0].id(), got[1].id());
    let delivered = crate::helpers::eventually(|| async {
        let d = second.admin_get_json(&deliveries).await;
        d["items"][0]["status"] == "delivered" && d["items"][0]["attempts"] == 2
    })
    .await;
    let d = second.admin_get_json(&deliveries).await;
    assert!(delivered, "delivered on the second attempt: {d}");
}

/// `{SHA512-CRYPT}` of a password, as another system stored it: cheap to import.
fn imported_hash() -> String {
    let params = sha_crypt::Sha512Params::new(5000).unwrap();
    format!(
        "{{SHA512-CRYPT}}{}",
        sha_crypt::sha512_simple("Fahrrad-Kaffee-Wien-2026", &params).unwrap()
    )
}

#[tokio::test]
async fn two_instances_deliver_each_event_once() {
    // Both instances look for work every 10 ms, so they race for every batch.
    let quick = |s: &mut Settings| {
        lab(s);
        s.webhook_poll_ms = 10;
    };
    let first = TestApp::spawn_with(quick).await;
    let second = first.second_instance_with(quick).await;
    let receiver = Receiver::start();
    subscribe(
        &first,
        &first.admin_key,
        &receiver.url,
        json!(["account.created"]),
    )
    .await;
    let customer = first.create_customer("Batch Kunde", None).await;
    first.create_domain("batch.example", &customer).await;

    // Three batches of 40 accounts: 40 events become visible at once each time.
    let hash = imported_hash();
    let mut addresses = Vec::new();
    for round in 0..3 {
        let app = if round % 2 == 0 { &first } else { &second };
        let accounts: Vec<Value> = (0..40)
            .map(|i| json!({"local_part": format!("r{round}n{i}"), "password_hash": hash}))
            .collect();
        addresses.extend((0..40).map(|i| format!("r{round}n{i}@batch.example")));
        let res = app
            .admin(
                Method::POST,
                "/v1/domains/batch.example/accounts/batch",
                Some(json!({ "accounts": accounts })),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let got = receiver.wait_for(|g| g.len() >= 120).await;
    // Both instances keep polling; give a duplicate the time to show.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_after = receiver.got();
    assert!(got.len() >= 120, "every event: {}", got.len());
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for r in &got_after {
        *per_id.entry(r.id()).or_default() += 1;
    }
    let twice: Vec<_> = per_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    let delivered: Vec<Value> = got_after
        .iter()
        .map(|r| r.json()["subject"]["address"].clone())
        .collect();
    for a in &addresses {
        assert!(delivered.contains(&json!(a)), "{a} missing");
    }
}

#[tokio::test]
async fn receivers_in_the_providers_network_are_refused() {
    // The defaults: https only, public addresses only.
    let app = TestApp::spawn().await;
    let create = |url: &'static str| {
        let app = &app;
        async move {
            app.admin(Method::POST, "/v1/webhooks", Some(json!({ "url": url })))
                .await
        }
    };
    for url in [
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://vm/hook",
        "https://[::1]/hook",
        "https://10.0.0.7/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:192.168.1.1]/",
    ] {
        let body = assert_problem(
            create(url).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(
            body["errors"][0]["code"], "receiver_not_allowed",
            "{url}: {body}"
        );
        assert_eq!(body["errors"][0]["field"], "url");
    }
    let body = assert_problem(
        create("http://crm.example.net/hook").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "https_required", "{body}");

    // A public receiver is fine (its name need not resolve yet); moving it home is not.
    let res = create("https://crm.example.net/hook").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .admin(
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            Some(json!({ "url": "https://127.0.0.1:9000/" })),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "receiver_not_allowed");
}

#[tokio::test]
async fn a_name_that_turns_private_later_is_refused_where_it_connects() {
    let app = TestApp::spawn_with(|s| {
        lab(s);
        s.webhook_allowed_networks = vec![];
    })
    .await;
    let receiver = Receiver::start();
    let res = app
        .admin(
            Method::POST,
            "/v1/webhooks",
            Some(json!({ "url": "http://crm.example.net/hook", "event_types": ["partner.*"] })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // DNS changes after the check: the receiver's name now points to this machine
    // (`vm` resolves to 127.0.0.1 here).
    sqlx::query("UPDATE webhooks SET url = $1")
        .bind(format!("http://vm:{}/hook", receiver.port))
        .execute(&app.pool)
        .await
        .unwrap();
    app.create_partner("Rebinding Ltd").await;

    let deliveries = app
        .admin_get_json_once(&format!("/v1/webhooks/{id}/deliveries"), |d| {
            d["items"][0]["last_error"].is_string()
        })
        .await;
    let delivery = &deliveries["items"][0];
    let error = delivery["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("refused") && error.contains("127.0.0.1"),
        "{delivery}"
    );
    assert_eq!(delivery["status"], "pending");
    assert!(receiver.got().is_empty(), "nothing reached the machine");
}

#[tokio::test]
async fn a_subscription_that_keeps_failing_is_switched_off_and_resumes_when_switched_on() {
    let app = TestApp::spawn_with(|s| {
        lab(s);
        s.webhook_give_up_secs = 1;
    })
    .await;
    let receiver = Receiver::start();
    receiver.answer(&[], 500);
    let hook = subscribe(
        &app,
        &app.admin_key,
        &receiver.url,
        json!(["partner.created"]),
    )
    .await;
    let id = hook["id"].as_str().unwrap().to_owned();
    app.create_partner("Gone Dark KG").await;

    let off = app
        .admin_get_json_once(&format!("/v1/webhooks/{id}"), |w| w["active"] == false)
        .await;
    assert_eq!(off["active"], false, "{off}");
    let reason = off["disabled_reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("500"),
        "the reason names the last error: {off}"
    );
    // The feed shows it once every older transaction of the cluster has ended.
    let in_feed = crate::helpers::eventually(|| async {
        let feed = app.admin_get_json("/v1/events?limit=500").await;
        feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "webhook.disabled")
    })
    .await;
    assert!(in_feed, "the feed says so");

    // Fixed and switched on: what it missed arrives.
    let failed_attempts = receiver.got().len();
    receiver.answer(&[], 204);
    let res = app
        .admin(
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            Some(json!({ "active": true })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let on: Value = res.json().await.unwrap();
    assert_eq!(on["disabled_reason"], Value::Null);
    let got = receiver.wait_for(|g| g.len() > failed_attempts).await;
    assert!(got.len() > failed_attempts, "delivered once switched on");
    let d = app
        .admin_get_json(&format!("/v1/webhooks/{id}/deliveries?status=delivered"))
        .await;
    assert_eq!(d["items"].as_array().unwrap().len(), 1, "{d}");
}

#[tokio::test]
async fn another_owners_subscription_answers_404() {
    let app = TestApp::spawn_with(lab).await;
    let t = app.tenants().await;
    let a = app.partner_key(&t.partner_a).await;
    let b = app.partner_key(&t.partner_b).await;
    let customer_a = app.customer_key(&t.customer_a).await;
    let hook = subscribe(&app, &a, "http://127.0.0.1:9/hook", json!(["*"])).await;
    let id = hook["id"].as_str().unwrap();
    assert_eq!(hook["partner_id"], json!(t.partner_a));

    for key in [&b, &customer_a] {
        for (method, path, body) in [
            (Method::GET, format!("/v1/webhooks/{id}"), None),
            (Method::GET, format!("/v1/webhooks/{id}/deliveries"), None),
            (
                Method::PATCH,
                format!("/v1/webhooks/{id}"),
                Some(json!({"active": false})),
            ),
            (Method::DELETE, format!("/v1/webhooks/{id}"), None),
        ] {
            let res = app
                .call(method.clone(), &path, Some(key), body.as_ref())
                .await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {path}");
        }
        let list: Value = app
            .call(Method::GET, "/v1/webhooks", Some(key), None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"], json!([]), "{list}");
    }
    let list: Value = app
        .call(Method::GET, "/v1/webhooks", Some(&a), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let res = app
        .call(
            Method::DELETE,
            &format!("/v1/webhooks/{id}"),
            Some(&a),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn an_owner_has_at_most_the_configured_number_of_subscriptions() {
    let app = TestApp::spawn_with(|s| {
        lab(s);
        s.max_webhooks = 2;
    })
    .await;
    for _ in 0..2 {
        subscribe(
            &app,
            &app.admin_key,
            "http://127.0.0.1:9/hook",
            json!(["*"]),
        )
        .await;
    }
    let res = app
        .admin(
            Method::POST,
            "/v1/webhooks",
            Some(json!({ "url": "http://127.0.0.1:9/hook" })),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "limit_reached").await;
    let res = app
        .admin(
            Method::POST,
            "/v1/webhooks",
            Some(json!({ "url": "http://127.0.0.1:9/hook", "event_types": ["account.made"] })),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "event_types[0]");
}
