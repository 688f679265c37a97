//! The helpline through the API.

use app::inquiries::{InquiryForm, PossibleMatch};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::inquiry::{Inquiry, Task};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, fmt_rfc3339, path_id};
use crate::AppState;
use crate::auth::ApiAuth;
use crate::error::{ApiError, Problem};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InquiryRequest {
    pub caller_name: String,
    /// self, parent, spouse or partner, other family, friend, professional, other
    pub caller_relationship: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Option<String>,
    pub phone: Option<String>,
    pub substances: Option<String>,
    /// routine, soon, urgent or crisis
    pub urgency: String,
    pub insurance: Option<String>,
    #[serde(default)]
    pub withdrawal_risk: bool,
    #[serde(default)]
    pub self_harm_thoughts: bool,
    #[serde(default)]
    pub medical_conditions: bool,
    #[serde(default)]
    pub prior_treatment: bool,
    pub heard_about: Option<String>,
    pub notes: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TaskDto {
    pub id: String,
    pub title: String,
    pub due_on: String,
    pub done: bool,
}

#[derive(Serialize, ToSchema)]
pub struct InquiryDto {
    pub id: String,
    pub received_at: String,
    pub caller_name: String,
    pub caller_relationship: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Option<String>,
    pub phone: Option<String>,
    pub substances: Option<String>,
    pub urgency: String,
    pub insurance: Option<String>,
    pub needs_immediate_attention: bool,
    pub stage: String,
    pub notes: Option<String>,
    pub client_id: Option<String>,
}

fn dto(i: &Inquiry) -> InquiryDto {
    InquiryDto {
        id: i.id.to_string(),
        received_at: fmt_rfc3339(i.received_at),
        caller_name: i.caller_name.clone(),
        caller_relationship: i.caller_relationship.clone(),
        given_name: i.given_name.clone(),
        family_name: i.family_name.clone(),
        date_of_birth: i.date_of_birth.map(|d| d.to_string()),
        phone: i.phone.clone(),
        substances: i.substances.clone(),
        urgency: i.urgency.code().to_owned(),
        insurance: i.insurance.clone(),
        needs_immediate_attention: i.screen.needs_immediate_attention(),
        stage: i.stage.code().to_owned(),
        notes: i.notes.clone(),
        client_id: i.client.map(|c| c.to_string()),
    }
}

fn task_dto(t: &Task) -> TaskDto {
    TaskDto { id: t.id.to_string(), title: t.title.clone(), due_on: t.due_on.to_string(), done: t.done_at.is_some() }
}

/// Log a helpline call.
#[utoipa::path(post, path = "/api/v1/inquiries", tag = "inquiries", request_body = InquiryRequest, security(("bearer" = [])),
    responses((status = 201, body = InquiryDto), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(r): ApiJson<InquiryRequest>,
) -> Result<Response, ApiError> {
    let form = InquiryForm {
        caller_name: r.caller_name,
        caller_relationship: r.caller_relationship,
        given_name: r.given_name,
        family_name: r.family_name,
        date_of_birth: r.date_of_birth.unwrap_or_default(),
        phone: r.phone.unwrap_or_default(),
        substances: r.substances.unwrap_or_default(),
        urgency: r.urgency,
        insurance: r.insurance.unwrap_or_default(),
        withdrawal_risk: r.withdrawal_risk,
        self_harm_thoughts: r.self_harm_thoughts,
        medical_conditions: r.medical_conditions,
        prior_treatment: r.prior_treatment,
        heard_about: r.heard_about.unwrap_or_default(),
        notes: r.notes.unwrap_or_default(),
    };
    let i = state.app.log_inquiry(&auth.ctx, &form, false).await?;
    Ok((StatusCode::CREATED, Json(dto(&i))).into_response())
}

/// The pipeline: open inquiries and those closed in the last 30 days.
#[utoipa::path(get, path = "/api/v1/inquiries", tag = "inquiries", security(("bearer" = [])),
    responses((status = 200, body = Vec<InquiryDto>)))]
pub async fn list(State(state): State<AppState>, ApiAuth(auth): ApiAuth) -> Result<Json<Vec<InquiryDto>>, ApiError> {
    let (list, _) = state.app.inquiry_board(&auth.ctx).await?;
    Ok(Json(list.iter().map(dto).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct MatchDto {
    /// client or inquiry
    pub kind: String,
    pub id: String,
    pub name: String,
    pub date_of_birth: Option<String>,
    pub mrn: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct InquiryDetail {
    pub inquiry: InquiryDto,
    pub tasks: Vec<TaskDto>,
    /// Existing clients or inquiries that look like the same person.
    pub possible_matches: Vec<MatchDto>,
}

/// One inquiry with tasks and possible duplicates.
#[utoipa::path(get, path = "/api/v1/inquiries/{id}", tag = "inquiries", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = InquiryDetail), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<InquiryDetail>, ApiError> {
    let v = state.app.inquiry(&auth.ctx, path_id(&id)?).await?;
    Ok(Json(InquiryDetail {
        inquiry: dto(&v.inquiry),
        tasks: v.tasks.iter().map(task_dto).collect(),
        possible_matches: v
            .matches
            .iter()
            .map(|m| match m {
                PossibleMatch::Client(c) => MatchDto {
                    kind: "client".into(),
                    id: c.client.id.to_string(),
                    name: format!("{} {}", c.client.given_name, c.client.family_name),
                    date_of_birth: Some(c.client.date_of_birth.to_string()),
                    mrn: Some(c.mrn.to_string()),
                },
                PossibleMatch::Inquiry(i) => MatchDto {
                    kind: "inquiry".into(),
                    id: i.id.to_string(),
                    name: format!("{} {}", i.given_name, i.family_name),
                    date_of_birth: i.date_of_birth.map(|d| d.to_string()),
                    mrn: None,
                },
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageRequest {
    /// screening, admission_scheduled, waitlist, referred_out, lost, or new (to reopen)
    pub stage: String,
    pub note: Option<String>,
}

/// Move an inquiry along the pipeline.
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/stage", tag = "inquiries", request_body = StageRequest, security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = InquiryDto), (status = 422, body = Problem)))]
pub async fn stage(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<StageRequest>,
) -> Result<Json<InquiryDto>, ApiError> {
    let i = state.app.move_inquiry(&auth.ctx, path_id(&id)?, &r.stage, r.note.as_deref().unwrap_or("")).await?;
    Ok(Json(dto(&i)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskRequest {
    pub title: String,
    pub due_on: String,
}

/// Add a follow-up task.
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/tasks", tag = "inquiries", request_body = TaskRequest, security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 201, body = TaskDto), (status = 422, body = Problem)))]
pub async fn add_task(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<TaskRequest>,
) -> Result<Response, ApiError> {
    let t = state.app.add_inquiry_task(&auth.ctx, path_id(&id)?, &r.title, &r.due_on).await?;
    Ok((StatusCode::CREATED, Json(task_dto(&t))).into_response())
}

/// Mark a task done.
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/tasks/{task_id}/done", tag = "inquiries", security(("bearer" = [])),
    params(("id" = String, Path), ("task_id" = String, Path)), responses((status = 204), (status = 409, body = Problem)))]
pub async fn complete_task(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, task)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.app.complete_inquiry_task(&auth.ctx, path_id(&id)?, path_id(&task)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertRequest {
    pub on: String,
    pub level: String,
    pub site_id: String,
    pub bed_id: Option<String>,
    pub planned_end: Option<String>,
    pub reason: String,
    /// A client from `possible_matches` when this is a readmission.
    pub existing_client_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Converted {
    pub client_id: String,
    pub episode_id: String,
}

/// Admit the person: creates (or reuses) the client record and opens the episode in one step.
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/admit", tag = "inquiries", request_body = ConvertRequest, security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 201, body = Converted), (status = 422, body = Problem), (status = 409, body = Problem)))]
pub async fn admit(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<ConvertRequest>,
) -> Result<Response, ApiError> {
    let existing = match r.existing_client_id.as_deref() {
        Some(c) => {
            Some(c.parse().map_err(|_| app::AppError::invalid("existing_client", "Choose a client from the matches"))?)
        }
        None => None,
    };
    let form = app::continuum::AdmitForm {
        on: r.on,
        level: r.level,
        site: r.site_id,
        bed: r.bed_id.unwrap_or_default(),
        planned_end: r.planned_end.unwrap_or_default(),
        reason: r.reason,
    };
    let (client, episode) = state.app.convert_inquiry(&auth.ctx, path_id(&id)?, &form, existing).await?;
    Ok((StatusCode::CREATED, Json(Converted { client_id: client.to_string(), episode_id: episode.id.to_string() }))
        .into_response())
}
