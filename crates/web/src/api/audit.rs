//! The audit log through the API (privacy officers and administrators).

use axum::Json;
use axum::extract::{Query, State};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::ApiAuth;
use crate::error::{ApiError, Problem};
use crate::ui::audit::{AuditQuery, filter_from};

#[derive(Serialize, ToSchema)]
pub struct AuditEventDto {
    pub seq: i64,
    pub id: String,
    /// RFC 3339, UTC.
    pub occurred_at: String,
    pub actor_id: Option<String>,
    pub actor_role: Option<String>,
    pub action: String,
    pub outcome: String,
    pub client_id: Option<String>,
    pub subject: Option<String>,
    pub purpose: Option<String>,
    pub source: Option<String>,
    pub detail: Option<String>,
    /// Hex SHA-256 of the previous event's hash and this event's canonical encoding.
    pub hash: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditEventDto>,
    /// Pass as `before` to get the next (older) page.
    pub next_before: Option<i64>,
}

const PAGE: u64 = 200;

/// Audit events, newest first, filtered by user, client, action and date range (YYYY-MM-DD).
#[utoipa::path(get, path = "/api/v1/audit-events", tag = "audit", security(("bearer" = [])),
    params(("user" = Option<String>, Query), ("client" = Option<String>, Query), ("action" = Option<String>, Query),
           ("from" = Option<String>, Query), ("to" = Option<String>, Query), ("before" = Option<i64>, Query)),
    responses((status = 200, body = AuditPage), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let filter = filter_from(&q, PAGE).map_err(app::AppError::Invalid)?;
    let events = state.app.audit_events(&auth.ctx, &filter).await?;
    let next_before = if events.len() as u64 == PAGE { events.last().map(|e| e.seq) } else { None };
    let events = events
        .into_iter()
        .map(|c| {
            let e = c.event;
            AuditEventDto {
                seq: c.seq,
                id: e.id.to_string(),
                occurred_at: super::fmt_rfc3339(app::from_unix_ms(e.occurred_at_ms)),
                actor_id: e.actor.map(|a| a.to_string()),
                actor_role: e.actor_role.map(|r| r.code().to_owned()),
                action: e.action.code().to_owned(),
                outcome: e.outcome.code().to_owned(),
                client_id: e.client.map(|c| c.to_string()),
                subject: e.subject,
                purpose: e.purpose.map(|p| p.code().to_owned()),
                source: e.source,
                detail: e.detail,
                hash: hex::encode(c.hash),
            }
        })
        .collect();
    Ok(Json(AuditPage { events, next_before }))
}
