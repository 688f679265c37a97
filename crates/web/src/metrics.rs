//! Prometheus metrics on their own listener, and request logging without PHI: routes are
//! logged and counted by their template (`/clients/{id}`), never by the concrete path or query.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder once; later calls return the same handle.
pub fn install_recorder() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
                )
                .ok()?
                .install_recorder()
                .ok()
        })
        .clone()
}

fn route_of(req: &Request) -> String {
    req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| {
        if req.uri().path().starts_with("/static/") { "/static/{file}".into() } else { "unmatched".into() }
    })
}

pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = route_of(&req);
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2]).record(start.elapsed().as_secs_f64());
    res
}

pub async fn trace_request(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = route_of(&req);
    let res = next.run(req).await;
    let status = res.status().as_u16();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::warn!(%method, %route, status, ms, "request failed");
    } else {
        tracing::info!(%method, %route, status, ms, "request");
    }
    res
}

/// Reports the database pool for the metrics page.
pub trait MetricsSource: Send + Sync {
    /// (open connections, idle connections)
    fn pool_usage(&self) -> (u32, usize);
}

#[derive(Clone)]
struct MetricsState {
    handle: PrometheusHandle,
    source: std::sync::Arc<dyn MetricsSource>,
}

/// The router for the metrics listener: `/metrics` only.
pub fn metrics_router(handle: PrometheusHandle, source: std::sync::Arc<dyn MetricsSource>) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(s): State<MetricsState>| async move {
                let (size, idle) = s.source.pool_usage();
                metrics::gauge!("db_pool_connections").set(f64::from(size));
                metrics::gauge!("db_pool_idle_connections").set(idle as f64);
                metrics::gauge!("db_pool_in_use_connections").set(f64::from(size) - idle as f64);
                s.handle.render()
            }),
        )
        .with_state(MetricsState { handle, source })
}
