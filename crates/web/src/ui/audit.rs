//! The audit log viewer for privacy officers, with filters by user, client, action and dates.

use app::ports::AuditFilter;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::audit::AuditAction;
use serde::Deserialize;
use std::collections::HashMap;

use super::{Chrome, Errors, fmt_ms, ok, render};
use crate::AppState;
use crate::auth::Signed;
use crate::error::UiError;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub client: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub before: String,
}

pub struct Row {
    pub seq: i64,
    pub when: String,
    pub who: String,
    pub role: String,
    pub action: &'static str,
    pub outcome: &'static str,
    pub client: String,
    pub subject: String,
    pub source: String,
    pub detail: String,
}

pub struct ActionOption {
    pub code: &'static str,
    pub selected: bool,
}

pub struct UserOption {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    q: AuditQuery,
    actions: Vec<ActionOption>,
    users: Vec<UserOption>,
    rows: Vec<Row>,
    next_before: Option<i64>,
    errors: Errors,
}

const PAGE: u64 = 100;

fn parse_day(raw: &str) -> Option<Result<i64, ()>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Some(time::Date::parse(raw, f).map(|d| app::unix_ms(d.midnight().assume_utc())).map_err(|_| ()))
}

/// Turns the query string into a filter, or field errors.
pub fn filter_from(q: &AuditQuery, page: u64) -> Result<AuditFilter, Vec<app::FieldError>> {
    let mut errors = Vec::new();
    let mut filter = AuditFilter { limit: page, ..Default::default() };
    if !q.before.trim().is_empty() {
        match q.before.trim().parse::<i64>() {
            Ok(seq) => filter.before_seq = Some(seq),
            Err(_) => errors.push(app::FieldError::new("before", "Before must be an event number")),
        }
    }
    if !q.user.trim().is_empty() {
        match q.user.trim().parse() {
            Ok(id) => filter.actor = Some(id),
            Err(_) => errors.push(app::FieldError::new("user", "Choose a user from the list")),
        }
    }
    if !q.client.trim().is_empty() {
        match q.client.trim().parse() {
            Ok(id) => filter.client = Some(id),
            Err(_) => errors.push(app::FieldError::new("client", "Client id must be a client's identifier")),
        }
    }
    if !q.action.is_empty() {
        filter.action = Some(q.action.clone());
    }
    match parse_day(&q.from) {
        Some(Ok(ms)) => filter.from_ms = Some(ms),
        Some(Err(())) => errors.push(app::FieldError::new("from", "From must be a date like 2026-11-01")),
        None => {}
    }
    match parse_day(&q.to) {
        // "to" is inclusive of that whole day.
        Some(Ok(ms)) => filter.to_ms = Some(ms + 86_400_000),
        Some(Err(())) => errors.push(app::FieldError::new("to", "To must be a date like 2026-11-30")),
        None => {}
    }
    if errors.is_empty() { Ok(filter) } else { Err(errors) }
}

pub async fn show(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Query(q): Query<AuditQuery>,
) -> Result<Response, UiError> {
    let users = state.app.list_users(&auth.ctx).await.unwrap_or_default();
    let names: HashMap<String, String> =
        users.iter().map(|u| (u.id.to_string(), format!("{} ({})", u.display_name, u.username))).collect();
    let actions =
        AuditAction::ALL.iter().map(|a| ActionOption { code: a.code(), selected: a.code() == q.action }).collect();
    let user_options = users
        .iter()
        .map(|u| UserOption {
            id: u.id.to_string(),
            label: format!("{} ({})", u.display_name, u.username),
            selected: u.id.to_string() == q.user.trim(),
        })
        .collect();
    let (events, errors) = match filter_from(&q, PAGE) {
        Ok(filter) => match state.app.audit_events(&auth.ctx, &filter).await {
            Ok(events) => (events, Vec::new()),
            Err(app::AppError::Invalid(errors)) => (Vec::new(), errors),
            Err(e) => return Err(e.into()),
        },
        Err(errors) => {
            // Still a request to see the log: ask the use case with no rows so it is checked and audited.
            state
                .app
                .audit_events(&auth.ctx, &AuditFilter { limit: 1, before_seq: Some(0), ..Default::default() })
                .await?;
            (Vec::new(), errors)
        }
    };
    let next_before = if events.len() as u64 == PAGE { events.last().map(|e| e.seq) } else { None };
    let rows = events
        .into_iter()
        .map(|c| {
            let e = c.event;
            let who = e
                .actor
                .map(|a| names.get(&a.to_string()).cloned().unwrap_or_else(|| a.to_string()))
                .unwrap_or_else(|| "—".into());
            Row {
                seq: c.seq,
                when: fmt_ms(e.occurred_at_ms),
                who,
                role: e.actor_role.map(|r| r.label().to_owned()).unwrap_or_default(),
                action: e.action.code(),
                outcome: e.outcome.code(),
                client: e.client.map(|c| c.to_string()).unwrap_or_default(),
                subject: e.subject.unwrap_or_default(),
                source: e.source.unwrap_or_default(),
                detail: e.detail.unwrap_or_default(),
            }
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = AuditPage {
        chrome: Chrome::for_user(&auth, "/audit"),
        q,
        actions,
        users: user_options,
        rows,
        next_before,
        errors: Errors(errors),
    };
    if status == StatusCode::OK { ok(&page) } else { render(status, &page) }
}
