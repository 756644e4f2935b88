//! `TestApp`: a running mailpanel on a random port with a database of its own (dropped
//! when the test ends), and the fixtures every test file starts from. Its request
//! builder is in `helpers/request.rs`, its typed calls in `helpers/calls.rs`.

mod calls;
mod checks;
mod request;

pub use checks::{assert_problem, eventually, id_of, verifies, xml_child, xml_text};

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sqlx::PgPool;

// ---------------------------------------------------------------------------------
// The library's API: the only code of the tests that names `mailpanel`, so that a
// change of its paths or types is re-pointed here, in one place.
// ---------------------------------------------------------------------------------

use mailpanel::domain::api_key::mint as mint_key;
pub use mailpanel::domain::Role;
use mailpanel::startup::{Application, Stopper};
use mailpanel::{config::Settings, routes::openapi, store};

/// Settings for a test instance on this database: a random port, one worker.
pub fn test_settings(database_url: &str) -> Settings {
    Settings {
        database_url: SecretString::from(database_url.to_owned()),
        database_max_connections: 5,
        bind: "127.0.0.1:0".to_owned(),
        workers: 1,
        ..Settings::read(["mailpanel"]).expect("the default settings")
    }
}

/// Builds (creates and migrates the database, binds the port) without running.
pub async fn build_application(settings: Settings) -> anyhow::Result<Application> {
    Application::build(settings).await
}

/// Builds an instance and runs it in the background: its base URL, database URL and
/// the handle that stops it.
async fn start(settings: Settings) -> (String, String, Stopper) {
    let database_url = settings.database_url.expose_secret().to_owned();
    let app = build_application(settings)
        .await
        .expect("the application builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let stopper = app.stopper();
    tokio::spawn(app.run_until_stopped());
    (base, database_url, stopper)
}

/// A pool on this database, made the way the application makes its own.
pub async fn connect(database_url: &str, max_connections: u32) -> PgPool {
    let url = SecretString::from(database_url.to_owned());
    store::database::connect(&url, max_connections)
        .await
        .unwrap()
}

/// Puts a key straight into the database, as `mailpanel create-api-key` does; returns
/// the key.
async fn insert_key(
    pool: &PgPool,
    role: Role,
    partner: Option<&str>,
    customer: Option<&str>,
    read_only: bool,
) -> String {
    let key = mint_key();
    let parse = |id: Option<&str>| id.map(|i| uuid::Uuid::parse_str(i).unwrap());
    let row = store::api_keys::NewKeyRow {
        lookup: &key.lookup,
        secret_hash: &key.hash,
        role,
        partner_id: parse(partner),
        customer_id: parse(customer),
        read_only,
        description: "test",
    };
    store::api_keys::insert(pool, &row).await.unwrap();
    key.plaintext.expose_secret().to_owned()
}

/// The OpenAPI document the code generates (the committed one must equal it).
pub fn generated_openapi() -> String {
    openapi::spec_json()
}

// ---------------------------------------------------------------------------------
// The application and its database
// ---------------------------------------------------------------------------------

pub const STRONG_PASSWORD: &str = "Fahrrad-Kaffee-Wien-2026";
/// A second password that passes the policy, for changes away from `STRONG_PASSWORD`.
pub const NEW_PASSWORD: &str = "Gruene-Tomaten-Linz-1999";

pub struct TestApp {
    pub pool: PgPool,
    pub admin_key: String,
    pub database_url: String,
    base: String,
    client: reqwest::Client,
    stopper: Stopper,
    /// Only on the instance that made the database: dropping the app drops it. A
    /// second instance on the same database (`spawn_on`) has `None` here.
    _database: Option<TestDatabase>,
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
        let (base, database_url, stopper) = start(settings).await;
        let mut app = Self {
            pool: connect(&database_url, 2).await,
            admin_key: String::new(),
            database_url,
            base,
            client: reqwest::Client::new(),
            stopper,
            _database: database,
        };
        app.admin_key = app.mint(Role::Admin, None, None, false).await;
        app
    }

    /// Stops this instance as a crash would (its database stays): requests in flight
    /// are cut and its background work ends.
    pub async fn stop(&self) {
        self.stopper.stop().await;
    }

    /// Another instance on this instance's database, as a second server would run.
    pub async fn second_instance(&self) -> Self {
        self.second_instance_with(|_| {}).await
    }

    pub async fn second_instance_with(&self, adjust: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = test_settings(&self.database_url);
        adjust(&mut settings);
        Self::spawn_on(settings).await
    }

    /// A key of this role and reach, put straight into the database.
    pub async fn mint(
        &self,
        role: Role,
        partner: Option<&str>,
        customer: Option<&str>,
        read_only: bool,
    ) -> String {
        insert_key(&self.pool, role, partner, customer, read_only).await
    }

    /// A key of this partner.
    pub async fn partner_key(&self, partner: &str) -> String {
        self.mint(Role::Partner, Some(partner), None, false).await
    }

    /// A key of this customer.
    pub async fn customer_key(&self, customer: &str) -> String {
        self.mint(Role::Customer, None, Some(customer), false).await
    }
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

fn server_url() -> String {
    std::env::var("TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

// ---------------------------------------------------------------------------------
// Fixtures: what a test starts from, made here only
// ---------------------------------------------------------------------------------

/// The account of the fixtures below.
pub const MAX: &str = "max@mustermann.at";

impl TestApp {
    /// A fresh app with customer "Max" (no partner) owning the domain `mustermann.at`.
    pub async fn with_domain() -> Self {
        Self::with_domain_and(|_| {}).await
    }

    pub async fn with_domain_and(adjust: impl FnOnce(&mut Settings)) -> Self {
        let app = Self::spawn_with(adjust).await;
        let c = app.create_customer("Max", None).await;
        app.create_domain("mustermann.at", &c).await;
        app
    }

    /// The same with the account `max@mustermann.at` (password `STRONG_PASSWORD`).
    pub async fn with_account() -> Self {
        Self::with_account_and(|_| {}).await
    }

    pub async fn with_account_and(adjust: impl FnOnce(&mut Settings)) -> Self {
        let app = Self::with_domain_and(adjust).await;
        app.create_account("mustermann.at", "max").await;
        app
    }

    /// The same whose account has the display name "Max Mustermann", as the client
    /// configuration documents show it.
    pub async fn with_named_account() -> Self {
        let app = Self::with_account().await;
        app.update_account(MAX, json!({"display_name": "Max Mustermann"}))
            .await;
        app
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
