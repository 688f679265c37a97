//! Stepdown's HTTP face: the only crate that knows HTTP, HTML and wire formats.
//!
//! Handlers are thin: they parse the request, call one use case in `app`, and render the
//! answer as HTML (the web UI) or JSON (the API under `/api/v1`). Errors are mapped once, in
//! `error.rs`. Nothing here decides who may see what; that is `app`'s job.

mod api;
mod auth;
pub mod charts;
mod error;
mod fhir_api;
mod forms;
mod headers;
mod ics;
mod input;
mod metrics;
mod ui;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

pub use api::openapi::openapi_json;
pub use metrics::{MetricsSource, install_recorder, metrics_router};

/// Settings that only concern HTTP.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Mark cookies `Secure` and use the `__Host-` prefix. Turn off only for plain-HTTP
    /// access from another machine during evaluation; browsers treat localhost as secure.
    pub secure_cookies: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Reverse proxies whose `X-Forwarded-For` is believed: behind a load balancer, throttling
    /// and the audit log need the client's address, not the balancer's.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self { secure_cookies: true, max_body_bytes: 256 * 1024, trusted_proxies: Vec::new() }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub app: app::App,
    pub config: Arc<WebConfig>,
    pub readiness: Arc<dyn Readiness>,
}

/// How `/readyz` learns whether the server can take traffic.
#[async_trait::async_trait]
pub trait Readiness: Send + Sync {
    async fn ready(&self) -> Result<(), String>;
}

/// The whole public application: UI, API, health checks and static files.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    Router::new()
        .merge(ui::routes())
        .nest("/api/v1", api::routes())
        .nest("/fhir", fhir_api::routes())
        .merge(ics::routes())
        .route("/api/openapi.json", axum::routing::get(api::openapi::serve))
        .merge(health_routes())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), headers::security_headers))
        .layer(axum::middleware::from_fn(headers::refuse_cross_site))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::from_fn(metrics::trace_request))
        .layer(TimeoutLayer::with_status_code(http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(60)))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .with_state(state)
}

fn health_routes() -> Router<AppState> {
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::get;
    Router::new().route("/healthz", get(|| async { "ok" })).route(
        "/readyz",
        get(|State(s): State<AppState>| async move {
            match s.readiness.ready().await {
                Ok(()) => (StatusCode::OK, "ready".to_owned()),
                Err(why) => (StatusCode::SERVICE_UNAVAILABLE, why),
            }
        }),
    )
}
