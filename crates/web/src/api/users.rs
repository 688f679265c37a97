//! Account administration through the API.

use app::users::{NewUserForm, UserChanges};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::user::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, path_id};
use crate::AppState;
use crate::auth::ApiAuth;
use crate::error::{ApiError, Problem};

#[derive(Serialize, ToSchema)]
pub struct UserDto {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// admin, privacy_officer, supervisor, counselor, program_coordinator, admissions, biller
    pub role: String,
    pub active: bool,
    pub mfa_enabled: bool,
    pub must_change_password: bool,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            username: u.username.to_string(),
            display_name: u.display_name.to_string(),
            role: u.role.code().to_owned(),
            active: u.active,
            mfa_enabled: u.mfa_enabled,
            must_change_password: u.must_change_password,
        }
    }
}

/// All staff accounts.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<UserDto>), (status = 403, body = Problem)))]
pub async fn list(State(state): State<AppState>, ApiAuth(auth): ApiAuth) -> Result<Json<Vec<UserDto>>, ApiError> {
    let users = state.app.list_users(&auth.ctx).await?;
    Ok(Json(users.iter().map(UserDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// Optional: without one, a one-time password is generated and returned once.
    pub password: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedUser {
    pub user: UserDto,
    pub one_time_password: Option<String>,
}

/// Create a staff account.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserRequest, security(("bearer" = [])),
    responses((status = 201, body = CreatedUser), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(req): ApiJson<NewUserRequest>,
) -> Result<Response, ApiError> {
    let form =
        NewUserForm { username: req.username, display_name: req.display_name, role: req.role, password: req.password };
    let created = state.app.create_user(&auth.ctx, &form).await?;
    let body = CreatedUser { user: (&created.user).into(), one_time_password: created.one_time_password };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// One staff account.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = UserDto), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<UserDto>, ApiError> {
    let user = state.app.get_user(&auth.ctx, path_id(&id)?).await?;
    Ok(Json((&user).into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub active: Option<bool>,
}

/// Change an account's name, role or active state.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UserPatch, security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = UserDto), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Json<UserDto>, ApiError> {
    let id = path_id(&id)?;
    let current = state.app.get_user(&auth.ctx, id).await?;
    let changes = UserChanges {
        display_name: patch.display_name.unwrap_or_else(|| current.display_name.to_string()),
        role: patch.role.unwrap_or_else(|| current.role.code().to_owned()),
        active: patch.active.unwrap_or(current.active),
    };
    let user = state.app.update_user(&auth.ctx, id, &changes).await?;
    Ok(Json((&user).into()))
}

#[derive(Serialize, ToSchema)]
pub struct OneTimePassword {
    pub one_time_password: String,
}

/// Give an account a one-time password and sign it out everywhere.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = OneTimePassword), (status = 404, body = Problem)))]
pub async fn reset_password(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<OneTimePassword>, ApiError> {
    let one_time_password = state.app.reset_password(&auth.ctx, path_id(&id)?).await?;
    Ok(Json(OneTimePassword { one_time_password }))
}

/// Remove an account's authenticator and sign it out everywhere.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-mfa", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn reset_mfa(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.reset_mfa(&auth.ctx, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
