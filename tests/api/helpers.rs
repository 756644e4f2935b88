//! `TestApp`: a running mailpanel on a random port with a database of its own (dropped
//! when the test ends), plus typed helpers for the calls the tests make over and over.

use mailpanel::auth::mint_key;
use mailpanel::config::Settings;
use mailpanel::startup::Application;
use mailpanel::store;
use reqwest::{Method, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use sqlx::PgPool;

pub struct TestApp {
    pub base: String,
    pub pool: PgPool,
    pub client: reqwest::Client,
    pub admin_key: String,
    pub database_url: String,
    /// Only on the instance that made the database: dropping the app drops it. A
    /// second instance on the same database (`spawn_on`) has `None` here.
    _database: Option<TestDatabase>,
}

fn server_url() -> String {
    std::env::var("TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// A database `mailpanel_test_<uuid>` that is dropped, with whoever is still
/// connected, when this guard is: test runs leave no databases behind. The
/// application creates it on its first start.
pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    pub fn fresh() -> Self {
        let name = format!("mailpanel_test_{}", uuid::Uuid::new_v4().simple());
        let url = format!("{}/{name}", server_url());
        Self { name, url }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let maintenance = format!("{}/postgres", server_url());
        let drop = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop runs at the end of a #[tokio::test], inside its runtime, which cannot
        // block on a future of its own: a thread with a runtime of its own does the
        // work. Errors are ignored: a panic in a drop during a failing test's unwinding
        // would abort the whole binary.
        let dropper = std::thread::Builder::new().spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&maintenance).await {
                    let _ = sqlx::query(&drop).execute(&mut conn).await;
                    let _ = conn.close().await;
                }
            });
        });
        if let Ok(dropper) = dropper {
            let _ = dropper.join();
        }
    }
}

pub fn test_settings(database_url: &str) -> Settings {
    Settings {
        database_url: SecretString::from(database_url.to_owned()),
        database_max_connections: 5,
        bind: "127.0.0.1:0".to_owned(),
        workers: 1,
        ..Settings::default()
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts an instance on a fresh database of its own, with adjusted settings.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let database = TestDatabase::fresh();
        let mut settings = test_settings(database.url());
        adjust(&mut settings);
        Self::launch(settings, Some(database)).await
    }

    /// Starts an instance with exactly these settings; it does not own the database
    /// (e.g. a second instance on the first one's database).
    pub async fn spawn_on(settings: Settings) -> Self {
        Self::launch(settings, None).await
    }

    async fn launch(settings: Settings, database: Option<TestDatabase>) -> Self {
        let database_url = settings.database_url.expose_secret().to_owned();
        let app = Application::build(settings)
            .await
            .expect("the application builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        let pool = store::database::connect(&SecretString::from(database_url.clone()), 2)
            .await
            .unwrap();
        let mut app = Self {
            base,
            pool,
            client: reqwest::Client::new(),
            admin_key: String::new(),
            database_url,
            _database: database,
        };
        app.admin_key = app.mint("admin", None, None, false).await;
        app
    }

    /// Puts a key straight into the database, as `mailpanel create-api-key` does.
    pub async fn mint(
        &self,
        role: &str,
        partner: Option<&str>,
        customer: Option<&str>,
        read_only: bool,
    ) -> String {
        let key = mint_key();
        let parse = |id: Option<&str>| id.map(|i| uuid::Uuid::parse_str(i).unwrap());
        store::api_keys::insert(
            &self.pool,
            &store::api_keys::NewKeyRow {
                lookup: &key.lookup,
                secret_hash: &key.hash,
                role,
                partner_id: parse(partner),
                customer_id: parse(customer),
                read_only,
                description: "test",
            },
        )
        .await
        .unwrap();
        key.plaintext.expose_secret().to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request with an optional key and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.expect("request sent")
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        self.call(method, path, Some(&self.admin_key.clone()), body.as_ref())
            .await
    }

    pub async fn create_partner(&self, name: &str) -> String {
        let res = self
            .admin(Method::POST, "/v1/partners", Some(json!({ "name": name })))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        id_of(res).await
    }

    pub async fn create_customer(&self, name: &str, partner: Option<&str>) -> String {
        let res = self
            .admin(
                Method::POST,
                "/v1/customers",
                Some(json!({ "name": name, "partner_id": partner })),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        id_of(res).await
    }

    pub async fn create_domain(&self, name: &str, customer: &str) -> Value {
        let res = self
            .admin(
                Method::POST,
                "/v1/domains",
                Some(json!({ "name": name, "customer_id": customer })),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "creating domain {name}");
        res.json().await.unwrap()
    }

    pub async fn create_account(&self, domain: &str, local_part: &str) -> Value {
        let res = self
            .admin(
                Method::POST,
                &format!("/v1/domains/{domain}/accounts"),
                Some(json!({ "local_part": local_part, "password": STRONG_PASSWORD })),
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "creating {local_part}@{domain}"
        );
        res.json().await.unwrap()
    }

    /// A fresh app with a customer's domain `mustermann.at`.
    pub async fn with_domain(adjust: impl FnOnce(&mut Settings)) -> Self {
        let app = Self::spawn_with(adjust).await;
        let c = app.create_customer("Max", None).await;
        app.create_domain("mustermann.at", &c).await;
        app
    }

    /// The same with the account `max@mustermann.at` (password `STRONG_PASSWORD`).
    pub async fn with_account(adjust: impl FnOnce(&mut Settings)) -> Self {
        let app = Self::with_domain(adjust).await;
        app.create_account("mustermann.at", "max").await;
        app
    }

    /// An account's audit trail, newest first.
    pub async fn audit_events(&self, address: &str) -> Value {
        let path = format!("/v1/audit-events?account={address}");
        self.admin(Method::GET, &path, None)
            .await
            .json()
            .await
            .unwrap()
    }

    /// The actions of an account's audit trail, newest first.
    pub async fn audit_actions(&self, address: &str) -> Vec<String> {
        let events = self.audit_events(address).await;
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Two partners with one customer each, each customer with a domain and an
    /// account: the fixture of the authorization tests.
    pub async fn tenants(&self) -> Tenants {
        let partner_a = self.create_partner("Partner A").await;
        let partner_b = self.create_partner("Partner B").await;
        let customer_a = self.create_customer("Customer A", Some(&partner_a)).await;
        let customer_b = self.create_customer("Customer B", Some(&partner_b)).await;
        self.create_domain("a.example", &customer_a).await;
        self.create_domain("b.example", &customer_b).await;
        self.create_account("a.example", "max").await;
        self.create_account("b.example", "eva").await;
        Tenants {
            partner_a,
            partner_b,
            customer_a,
            customer_b,
        }
    }
}

pub struct Tenants {
    pub partner_a: String,
    pub partner_b: String,
    pub customer_a: String,
    pub customer_b: String,
}

pub const STRONG_PASSWORD: &str = "Fahrrad-Kaffee-Wien-2026";

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
