//! The follow-up work queue: calls due at 30, 60 and 90 days after discharge.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Chrome, Errors, form_errors, ok, render};
use crate::AppState;
use crate::auth::Signed;
use crate::error::UiError;
use crate::forms::CsrfForm;

pub struct DueRow {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub day: u16,
    pub due_on: String,
}

#[derive(Template)]
#[template(path = "follow_ups.html")]
struct FollowUpsPage {
    chrome: Chrome,
    rows: Vec<DueRow>,
    errors: Errors,
    done: bool,
}

async fn page(
    state: &AppState,
    auth: &app::auth::Authenticated,
    errors: Errors,
    done: bool,
) -> Result<FollowUpsPage, UiError> {
    let due = state.app.follow_ups_due(&auth.ctx).await?;
    let rows = due
        .into_iter()
        .map(|(f, c)| DueRow {
            id: f.id.to_string(),
            client_id: c.id.to_string(),
            name: format!("{}, {}", c.family_name, c.given_name),
            day: f.day,
            due_on: f.due_on.to_string(),
        })
        .collect();
    Ok(FollowUpsPage { chrome: Chrome::for_user(auth, "/follow-ups"), rows, errors, done })
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Signed(auth): Signed,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Result<Response, UiError> {
    ok(&page(&state, &auth, Errors::default(), q.done.is_some()).await?)
}

#[derive(Deserialize)]
pub struct OutcomeFields {
    #[serde(default)]
    reached: String,
    #[serde(default)]
    substance_use: String,
    #[serde(default)]
    working_or_in_school: String,
    #[serde(default)]
    readmitted_elsewhere: String,
    #[serde(default)]
    notes: String,
}

pub async fn record(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<OutcomeFields>,
) -> Result<Response, UiError> {
    let id = id.parse().map_err(|_| UiError::App(app::AppError::NotFound))?;
    let form = app::aftercare::OutcomeForm {
        reached: f.reached,
        substance_use: f.substance_use,
        working_or_in_school: f.working_or_in_school,
        readmitted_elsewhere: f.readmitted_elsewhere,
        notes: f.notes,
    };
    match state.app.record_follow_up(&auth.ctx, id, &form).await {
        Ok(_) => Ok(Redirect::to("/follow-ups?done=1").into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page(&state, &auth, errors, false).await?)
        }
    }
}
