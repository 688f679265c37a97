//! The HTTP-level test suite: real servers from `spawn_app()`, on SQLite by default and on
//! PostgreSQL when `STEPDOWN_TEST_DATABASE_URL` is set. One binary, to link once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod access;
mod admin;
mod aftercare;
mod api;
mod audit;
mod auth;
mod continuum;
mod control_chars;
mod demo;
mod fhir;
mod fhir_fuzz;
mod inquiries;
mod iop_attendance;
mod iop_calendar;
mod iop_feeds;
mod iop_schedule;
mod measurement;
mod mfa;
mod openapi;
mod ops;
mod records;
mod refusals;
mod sessions;

use serde_json::Value;
use testkit::TestApp;

/// One API call with a bearer token: the status and the JSON body (null when there is none).
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

/// Audit events with `action`, as the store holds them.
pub async fn events(app: &TestApp, action: &str) -> Vec<domain::audit::ChainedEvent> {
    use app::Store;
    let mut tx = app.store.read().await.unwrap();
    let filter = app::ports::AuditFilter { action: Some(action.into()), limit: 1000, ..Default::default() };
    tx.audit_events(&filter).await.unwrap()
}

pub async fn chain_intact(app: &TestApp) -> u64 {
    match app.app.verify_audit_chain().await.unwrap() {
        app::ports::ChainReport::Intact { events } => events,
        other => panic!("audit chain broken: {other:?}"),
    }
}
