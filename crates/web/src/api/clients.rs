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
}

/// Add a client.
#[utoipa::path(post, path = "/api/v1/clients", tag = "clients", request_body = NewClientRequest, security(("bearer" = [])),
    responses((status = 201, body = ClientDto), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(req): ApiJson<NewClientRequest>,
) -> Result<Response, ApiError> {
    let form =
        NewClientForm { given_name: req.given_name, family_name: req.family_name, date_of_birth: req.date_of_birth };
    let client = state.app.create_client(&auth.ctx, &form).await?;
    Ok((StatusCode::CREATED, Json(ClientDto::from(&client))).into_response())
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
