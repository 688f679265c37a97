//! Test support: `spawn_app()` starts the real server (the same wiring as `stepdown serve`)
//! on 127.0.0.1:0 with a fresh database: a new SQLite file, or a new PostgreSQL database when
//! `STEPDOWN_TEST_DATABASE_URL` names a server. Each test gets its own and it is removed after.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod client;
pub mod fhir_schema;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use app::security::HashParams;
use app::users::NewUserForm;
use app::{App, AppConfig, Clock, UuidV7};
use domain::role::Role;
use domain::user::User;
use sea_orm::{ConnectionTrait, Database};
use stepdown::server::{Running, ServerOptions};
use store::{SeaStore, StoreOptions};
use time::OffsetDateTime;

pub use client::{TestClient, csrf_from};

/// A clock that runs with real time, but can be pushed forward to test timeouts.
#[derive(Default)]
pub struct TestClock {
    offset: Mutex<time::Duration>,
}

impl TestClock {
    pub fn advance(&self, by: time::Duration) {
        *self.offset.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + *self.offset.lock().unwrap()
    }
}

/// Which database a test runs on.
pub enum TestDb {
    Sqlite { dir: PathBuf },
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn create() -> (Self, String) {
        match std::env::var("STEPDOWN_TEST_DATABASE_URL").ok().filter(|s| !s.is_empty()) {
            Some(admin_url) => {
                let name = format!("stepdown_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url).await.expect("connect to the PostgreSQL test server");
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                let _ = admin.close().await;
                let url = replace_db_name(&admin_url, &name);
                (TestDb::Postgres { admin_url, name }, url)
            }
            None => {
                let dir = std::env::temp_dir().join(format!("stepdown-test-{}", uuid::Uuid::new_v4().simple()));
                std::fs::create_dir_all(&dir).unwrap();
                let url = SeaStore::sqlite_url(&dir);
                (TestDb::Sqlite { dir }, url)
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }

    pub fn data_dir(&self) -> Option<&PathBuf> {
        match self {
            TestDb::Sqlite { dir } => Some(dir),
            TestDb::Postgres { .. } => None,
        }
    }
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDb::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs outside async context; use a private runtime on its own thread.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    rt.block_on(async move {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ =
                                admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// A running Stepdown for one test.
pub struct TestApp {
    pub base: String,
    pub app: App,
    pub store: SeaStore,
    pub clock: Arc<TestClock>,
    pub database_url: String,
    running: Option<Running>,
    // Declared last: dropped after the server is gone.
    pub db: TestDb,
}

pub fn test_config() -> AppConfig {
    AppConfig { hash: HashParams::for_tests(), ..AppConfig::default() }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_config()).await
}

pub async fn spawn_app_with(config: AppConfig) -> TestApp {
    spawn_app_web(config, web::WebConfig::default()).await
}

pub async fn spawn_app_web(config: AppConfig, web: web::WebConfig) -> TestApp {
    let (db, url) = TestDb::create().await;
    let store = SeaStore::connect(&url, &StoreOptions::default()).await.expect("connect");
    store.migrate().await.expect("migrate");
    let clock = Arc::new(TestClock::default());
    let app = App::new(Arc::new(store.clone()), clock.clone(), Arc::new(UuidV7), config).expect("app");
    let options = ServerOptions { listen: "127.0.0.1:0".parse().unwrap(), metrics_listen: None, web };
    let running = stepdown::server::start(store.clone(), app.clone(), options).await.expect("start server");
    TestApp {
        base: format!("http://{}", running.addr),
        app,
        store,
        clock,
        database_url: url,
        running: Some(running),
        db,
    }
}

/// A password every test user gets (strong enough for the policy).
pub const PASSWORD: &str = "quiet lantern orbits the harbor";

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn client(&self) -> TestClient {
        TestClient::new(&self.base)
    }

    /// Creates an account with [`PASSWORD`] that does not have to change it.
    pub async fn user(&self, username: &str, role: Role) -> User {
        let form = NewUserForm {
            username: username.into(),
            display_name: format!("Test {username}"),
            role: role.code().into(),
            password: Some(PASSWORD.into()),
        };
        self.app.create_user_from_console(&form).await.expect("create user").user
    }

    /// A client browser signed in to the UI as a new user of `role` (no MFA policy applies
    /// unless the role requires it).
    pub async fn signed_in(&self, username: &str, role: Role) -> (User, TestClient) {
        let user = self.user(username, role).await;
        let client = self.client();
        let res = client.login(username, PASSWORD).await;
        assert!(res.status().is_redirection(), "login redirect, got {}", res.status());
        (user, client)
    }

    /// Signs in through the API and returns the bearer token.
    pub async fn api_token(&self, username: &str, password: &str) -> String {
        let res = reqwest::Client::new()
            .post(self.url("/api/v1/session"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "api login");
        let body: serde_json::Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// A new user of `role` and a fully signed-in API token, enrolling two-step verification
    /// on the way when the role requires it.
    pub async fn full_token(&self, username: &str, role: Role) -> (User, String) {
        let user = self.user(username, role).await;
        let meta = app::auth::RequestMeta::default();
        let sign_in = self.app.login(username, PASSWORD, &meta).await.expect("login");
        if sign_in.stage == app::ports::SessionStage::Full {
            return (user, sign_in.token);
        }
        let auth = self.app.authenticate(&sign_in.token, None).await.expect("pending session");
        let enrolment = self.app.begin_mfa_enrolment(&auth).await.expect("enrol");
        let code = totp_code(&enrolment.secret_base32, self.clock.now());
        let full = self.app.confirm_mfa_enrolment(&auth, &code, &meta).await.expect("confirm").expect("new session");
        (user, full.token)
    }

    /// Adds a client through the API and returns its id.
    pub async fn new_client(&self, token: &str, given: &str, family: &str) -> String {
        let res = reqwest::Client::new()
            .post(self.url("/api/v1/clients"))
            .bearer_auth(token)
            .json(&serde_json::json!({"given_name": given, "family_name": family, "date_of_birth": "1990-02-27"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "create client");
        let body: serde_json::Value = res.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// Stops the server gracefully (flushing the audit writer) but keeps the database.
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

/// The current TOTP code for a base32 secret, at the app's notion of now.
pub fn totp_code(secret_base32: &str, at: OffsetDateTime) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).expect("base32 secret");
    let totp = totp_rs::Builder::new().with_secret(secret).build_noncompliant();
    totp.generate(u64::try_from(at.unix_timestamp()).unwrap()).to_string()
}

/// The admin URL's database for PostgreSQL tests, when configured.
pub fn postgres_url() -> Option<String> {
    std::env::var("STEPDOWN_TEST_DATABASE_URL").ok().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::replace_db_name;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            replace_db_name("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(replace_db_name("postgres://u@h/db?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(replace_db_name("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
    }
}
