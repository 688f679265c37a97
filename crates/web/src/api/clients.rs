//! Clients and care teams through the API. Every read is audited by the use case.

use app::clients::NewClientForm;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::client::Client;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, path_id};
use crate::AppState;
use crate::auth::ApiAuth;
use crate::error::{ApiError, Problem};

#[derive(Serialize, ToSchema)]
pub struct ClientDto {
    pub id: String,
    pub given_name: String,
    pub family_name: String,
    /// ISO 8601 date.
    pub date_of_birth: String,
}

#[derive(Serialize, ToSchema)]
pub struct ClientRecordDto {
    pub id: String,
    pub mrn: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub preferred_name: Option<String>,
    pub pronouns: Option<String>,
    /// female, male, other or unknown
    pub sex: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

impl From<&domain::client::ClientRecord> for ClientRecordDto {
    fn from(r: &domain::client::ClientRecord) -> Self {
        let d = &r.demographics;
        Self {
            id: r.client.id.to_string(),
            mrn: r.mrn.to_string(),
            given_name: r.client.given_name.to_string(),
            family_name: r.client.family_name.to_string(),
            date_of_birth: r.client.date_of_birth.to_string(),
            preferred_name: d.preferred_name.clone(),
            pronouns: d.pronouns.clone(),
            sex: d.sex.map(|s| s.code().to_owned()),
            phone: d.phone.clone(),
            email: d.email.clone(),
            address: d.address.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ContactDto {
    pub id: String,
    pub name: String,
    pub relationship: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub emergency: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CoverageDto {
    pub id: String,
    pub payer: String,
    pub member_id: String,
    pub group_number: Option<String>,
    pub priority: String,
}

impl From<&Client> for ClientDto {
    fn from(c: &Client) -> Self {
        Self {
            id: c.id.to_string(),
            given_name: c.given_name.to_string(),
            family_name: c.family_name.to_string(),
            date_of_birth: c.date_of_birth.to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TeamMemberDto {
    pub user_id: String,
    pub display_name: String,
    pub team_role: String,
}

#[derive(Serialize, ToSchema)]
pub struct ClientDetail {
    pub client: ClientDto,
    pub record: ClientRecordDto,
    pub contacts: Vec<ContactDto>,
    pub coverages: Vec<CoverageDto>,
    pub care_team: Vec<TeamMemberDto>,
}

/// Clients the caller may see.
#[utoipa::path(get, path = "/api/v1/clients", tag = "clients", security(("bearer" = [])),
    responses((status = 200, body = Vec<ClientDto>), (status = 403, body = Problem)))]
pub async fn list(State(state): State<AppState>, ApiAuth(auth): ApiAuth) -> Result<Json<Vec<ClientDto>>, ApiError> {
    let clients = state.app.clients(&auth.ctx, 200).await?;
    Ok(Json(clients.iter().map(ClientDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClientRequest {
    pub given_name: String,
    pub family_name: String,
    /// ISO 8601 date, e.g. 1990-02-27.
    pub date_of_birth: String,
    pub preferred_name: Option<String>,
    pub pronouns: Option<String>,
    /// female, male, other or unknown
    pub sex: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    /// Leave out to number the record from the center's MRN sequence.
    pub mrn: Option<String>,
}

impl NewClientRequest {
    fn into_form(self) -> NewClientForm {
        NewClientForm {
            given_name: self.given_name,
            family_name: self.family_name,
            date_of_birth: self.date_of_birth,
            preferred_name: self.preferred_name.unwrap_or_default(),
            pronouns: self.pronouns.unwrap_or_default(),
            sex: self.sex.unwrap_or_default(),
            phone: self.phone.unwrap_or_default(),
            email: self.email.unwrap_or_default(),
            address: self.address.unwrap_or_default(),
            mrn: self.mrn.unwrap_or_default(),
        }
    }
}

/// Add a client.
#[utoipa::path(post, path = "/api/v1/clients", tag = "clients", request_body = NewClientRequest, security(("bearer" = [])),
    responses((status = 201, body = ClientDto), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(req): ApiJson<NewClientRequest>,
) -> Result<Response, ApiError> {
    let record = state.app.create_client_record(&auth.ctx, &req.into_form(), false).await?;
    Ok((StatusCode::CREATED, Json(ClientRecordDto::from(&record))).into_response())
}

/// One client, with their care team.
#[utoipa::path(get, path = "/api/v1/clients/{id}", tag = "clients", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ClientDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<ClientDetail>, ApiError> {
    let view = state.app.client(&auth.ctx, path_id(&id)?).await?;
    Ok(Json(ClientDetail {
        client: (&view.client).into(),
        record: (&view.record).into(),
        contacts: view
            .contacts
            .iter()
            .map(|c| ContactDto {
                id: c.id.to_string(),
                name: c.name.clone(),
                relationship: c.relationship.clone(),
                phone: c.phone.clone(),
                email: c.email.clone(),
                emergency: c.emergency,
            })
            .collect(),
        coverages: view
            .coverages
            .iter()
            .map(|c| CoverageDto {
                id: c.id.to_string(),
                payer: c.payer.clone(),
                member_id: c.member_id.clone(),
                group_number: c.group_number.clone(),
                priority: c.priority.code().to_owned(),
            })
            .collect(),
        care_team: view
            .care_team
            .into_iter()
            .map(|m| TeamMemberDto {
                user_id: m.user_id.to_string(),
                display_name: m.display_name,
                team_role: m.team_role.code().to_owned(),
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamRoleRequest {
    /// primary_counselor, counselor, intake or other
    pub team_role: String,
}

/// Put a staff member on a client's care team (or change their team role).
#[utoipa::path(put, path = "/api/v1/clients/{id}/care-team/{user_id}", tag = "clients", request_body = TeamRoleRequest,
    security(("bearer" = [])), params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn add_member(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, user_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<TeamRoleRequest>,
) -> Result<StatusCode, ApiError> {
    let user = user_id.parse().map_err(|_| app::AppError::invalid("user_id", "Choose an active staff member"))?;
    state.app.add_care_team_member(&auth.ctx, path_id(&id)?, user, &req.team_role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take a staff member off a client's care team.
#[utoipa::path(delete, path = "/api/v1/clients/{id}/care-team/{user_id}", tag = "clients", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_member(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.app.remove_care_team_member(&auth.ctx, path_id(&id)?, path_id(&user_id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Correct a client's registration details (name, date of birth, demographics; not the MRN).
#[utoipa::path(put, path = "/api/v1/clients/{id}", tag = "clients", request_body = NewClientRequest, security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = ClientRecordDto), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NewClientRequest>,
) -> Result<Json<ClientRecordDto>, ApiError> {
    let record = state.app.update_client(&auth.ctx, path_id(&id)?, &req.into_form()).await?;
    Ok(Json((&record).into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// A name (typos are tolerated), an MRN, a date of birth (YYYY-MM-DD or MM/DD/YYYY) or a phone number.
    pub q: String,
}

#[derive(Serialize, ToSchema)]
pub struct SearchHitDto {
    pub client: ClientRecordDto,
    /// 1.0 for an exact identifier; otherwise how much of the query's name matched.
    pub score: f64,
}

/// Search clients within the caller's reach. A POST so that names never appear in URLs.
#[utoipa::path(post, path = "/api/v1/clients/search", tag = "clients", request_body = SearchRequest, security(("bearer" = [])),
    responses((status = 200, body = Vec<SearchHitDto>), (status = 422, body = Problem)))]
pub async fn search(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(req): ApiJson<SearchRequest>,
) -> Result<Json<Vec<SearchHitDto>>, ApiError> {
    let hits = state.app.search_clients(&auth.ctx, &req.q).await?;
    Ok(Json(hits.iter().map(|h| SearchHitDto { client: (&h.record).into(), score: h.score }).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    pub name: String,
    pub relationship: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub emergency: bool,
}

/// Add a contact (an emergency contact replaces the previous one's flag).
#[utoipa::path(post, path = "/api/v1/clients/{id}/contacts", tag = "clients", request_body = ContactRequest, security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 201, body = ContactDto), (status = 422, body = Problem)))]
pub async fn add_contact(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ContactRequest>,
) -> Result<Response, ApiError> {
    let form = app::clients::ContactForm {
        name: req.name,
        relationship: req.relationship,
        phone: req.phone.unwrap_or_default(),
        email: req.email.unwrap_or_default(),
        emergency: req.emergency,
    };
    let c = state.app.add_contact(&auth.ctx, path_id(&id)?, &form).await?;
    let dto = ContactDto {
        id: c.id.to_string(),
        name: c.name,
        relationship: c.relationship,
        phone: c.phone,
        email: c.email,
        emergency: c.emergency,
    };
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// Remove a contact.
#[utoipa::path(delete, path = "/api/v1/clients/{id}/contacts/{contact_id}", tag = "clients", security(("bearer" = [])),
    params(("id" = String, Path), ("contact_id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_contact(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, contact)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.app.remove_contact(&auth.ctx, path_id(&id)?, path_id(&contact)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageRequest {
    pub payer: String,
    pub member_id: String,
    pub group_number: Option<String>,
    /// primary, secondary or tertiary
    pub priority: String,
}

/// Add payer coverage.
#[utoipa::path(post, path = "/api/v1/clients/{id}/coverages", tag = "clients", request_body = CoverageRequest, security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 201, body = CoverageDto), (status = 422, body = Problem)))]
pub async fn add_coverage(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CoverageRequest>,
) -> Result<Response, ApiError> {
    let form = app::clients::CoverageForm {
        payer: req.payer,
        member_id: req.member_id,
        group_number: req.group_number.unwrap_or_default(),
        priority: req.priority,
    };
    let c = state.app.add_coverage(&auth.ctx, path_id(&id)?, &form).await?;
    let dto = CoverageDto {
        id: c.id.to_string(),
        payer: c.payer,
        member_id: c.member_id,
        group_number: c.group_number,
        priority: c.priority.code().to_owned(),
    };
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// Remove payer coverage.
#[utoipa::path(delete, path = "/api/v1/clients/{id}/coverages/{coverage_id}", tag = "clients", security(("bearer" = [])),
    params(("id" = String, Path), ("coverage_id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_coverage(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, coverage)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.app.remove_coverage(&auth.ctx, path_id(&id)?, path_id(&coverage)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
