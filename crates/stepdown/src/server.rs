//! Starting and stopping a server: the web application on one listener, metrics on another,
//! a background sweeper for dead sessions, and a graceful shutdown that finishes in-flight
//! requests and flushes the audit writer before the process exits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use app::{App, Store};
use store::SeaStore;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use web::{AppState, MetricsSource, Readiness, WebConfig};

pub struct ServerOptions {
    pub listen: SocketAddr,
    pub metrics_listen: Option<SocketAddr>,
    pub web: WebConfig,
}

struct StoreReadiness(SeaStore);

/// How long one unit of work may hold the database writer before `/readyz` says so.
const WRITER_STUCK_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

#[async_trait::async_trait]
impl Readiness for StoreReadiness {
    async fn ready(&self) -> Result<(), String> {
        let r = self.0.readiness().await;
        if !r.database {
            return Err("database unreachable".into());
        }
        if r.pending_migrations > 0 {
            return Err(format!("{} migrations pending", r.pending_migrations));
        }
        // A healthy write or audit batch takes milliseconds; seconds mean everyone waits.
        if let Some(busy) = r.writer_busy_for.filter(|d| *d >= WRITER_STUCK_AFTER) {
            return Err(format!("database writer busy for {} s", busy.as_secs()));
        }
        Ok(())
    }
}

struct StorePool(SeaStore);

impl MetricsSource for StorePool {
    fn pool_usage(&self) -> (u32, usize) {
        self.0.pool_usage()
    }
}

/// A server that is accepting connections.
pub struct Running {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    store: SeaStore,
}

pub fn app_state(app: App, store: &SeaStore, web: WebConfig) -> AppState {
    AppState { app, config: Arc::new(web), readiness: Arc::new(StoreReadiness(store.clone())) }
}

pub async fn start(store: SeaStore, app: App, options: ServerOptions) -> Result<Running> {
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();

    let listener =
        TcpListener::bind(options.listen).await.with_context(|| format!("listening on {}", options.listen))?;
    let addr = listener.local_addr()?;
    let router = web::router(app_state(app.clone(), &store, options.web));
    let mut shutdown = stopped.clone();
    tasks.push(tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                let _ = shutdown.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "web server stopped with an error");
        }
    }));

    let metrics_addr = match options.metrics_listen {
        Some(m) => {
            let listener = TcpListener::bind(m).await.with_context(|| format!("metrics listening on {m}"))?;
            let local = listener.local_addr()?;
            if let Some(handle) = web::install_recorder() {
                let router = web::metrics_router(handle, Arc::new(StorePool(store.clone())));
                let mut shutdown = stopped.clone();
                tasks.push(tokio::spawn(async move {
                    let _ = axum::serve(listener, router)
                        .with_graceful_shutdown(async move {
                            let _ = shutdown.wait_for(|s| *s).await;
                        })
                        .await;
                }));
            }
            Some(local)
        }
        None => None,
    };

    let mut shutdown = stopped.clone();
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(300));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = app.sweep_sessions().await {
                        tracing::warn!(error = %e, "session sweep failed");
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    }));

    Ok(Running { addr, metrics_addr, stop, tasks, store })
}

impl Running {
    /// Stops accepting connections, lets in-flight requests finish, then makes every queued
    /// audit event durable and closes the database.
    pub async fn stop(mut self) {
        self.finish_requests().await;
        self.store.close().await;
    }

    /// Stops accepting connections and lets in-flight requests and background tasks finish,
    /// leaving the database open (for a last audit checkpoint before [`Running::stop`]).
    pub async fn finish_requests(&mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }

    pub fn store(&self) -> &SeaStore {
        &self.store
    }
}

/// Resolves when the process is asked to stop (SIGTERM or Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
