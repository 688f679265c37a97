//! Signing in through the API: the token returned is sent as `Authorization: Bearer …`.

use app::AppError;
use app::auth::SignIn;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, fmt_rfc3339, path_id};
use crate::AppState;
use crate::auth::{ApiAnyStage, ApiAuth, Meta};
use crate::error::{ApiError, Problem};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    /// Bearer token for this session. Shown once; store it like a password.
    pub token: String,
    /// Needed in `X-CSRF-Token` only when authenticating with the cookie instead of the token.
    pub csrf_token: String,
    /// `full`, `mfa_pending` (post a code to /session/mfa) or `mfa_enrol` (set up MFA first).
    pub stage: String,
    pub user_id: String,
}

fn session_response(s: SignIn) -> SessionResponse {
    SessionResponse {
        token: s.token,
        csrf_token: s.csrf_token,
        stage: s.stage.code().to_owned(),
        user_id: s.user_id.to_string(),
    }
}

/// Sign in with a user name and password.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = LoginRequest,
    responses((status = 201, body = SessionResponse), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn login(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let s = state.app.login(&req.username, &req.password, &meta).await?;
    Ok((StatusCode::CREATED, Json(session_response(s))).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct CurrentSession {
    pub user: super::users::UserDto,
    pub stage: String,
    pub csrf_token: String,
    pub expires_idle_at: String,
    pub expires_absolute_at: String,
}

/// Who the token belongs to, and where the session stands.
#[utoipa::path(get, path = "/api/v1/session", tag = "session", security(("bearer" = [])),
    responses((status = 200, body = CurrentSession), (status = 401, body = Problem)))]
pub async fn current(State(state): State<AppState>, ApiAnyStage(auth): ApiAnyStage) -> Json<CurrentSession> {
    let policy = state.app.config().session;
    Json(CurrentSession {
        user: (&auth.user).into(),
        stage: auth.session.stage.code().to_owned(),
        csrf_token: auth.session.csrf_token.clone(),
        expires_idle_at: fmt_rfc3339(state.app.now() + policy.idle_timeout),
        expires_absolute_at: fmt_rfc3339(auth.session.created_at + policy.absolute_timeout),
    })
}

/// Sign out (ends this session).
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
pub async fn logout(State(state): State<AppState>, ApiAnyStage(auth): ApiAnyStage) -> Result<StatusCode, ApiError> {
    state.app.logout(&auth).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The 6-digit code from the authenticator app.
    pub code: String,
}

/// Finish signing in with a TOTP code. Returns a new token; the old one stops working.
#[utoipa::path(post, path = "/api/v1/session/mfa", tag = "session", request_body = CodeRequest, security(("bearer" = [])),
    responses((status = 200, body = SessionResponse), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem)))]
pub async fn verify_mfa(
    State(state): State<AppState>,
    ApiAnyStage(auth): ApiAnyStage,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    let s = state.app.verify_mfa(&auth, &req.code, &meta).await?;
    Ok(Json(session_response(s)))
}

#[derive(Serialize, ToSchema)]
pub struct SignInSessionDto {
    pub id: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub source: Option<String>,
    pub user_agent: Option<String>,
    pub current: bool,
}

/// The caller's own live sessions.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "session", security(("bearer" = [])),
    responses((status = 200, body = Vec<SignInSessionDto>)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
) -> Result<Json<Vec<SignInSessionDto>>, ApiError> {
    let list = state.app.my_sessions(&auth).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| SignInSessionDto {
                id: s.id.to_string(),
                created_at: fmt_rfc3339(s.created_at),
                last_seen_at: fmt_rfc3339(s.last_seen_at),
                source: s.source,
                user_agent: s.user_agent,
                current: s.current,
            })
            .collect(),
    ))
}

/// End one of the caller's own sessions.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "session", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn revoke_session(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.revoke_my_session(&auth, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Ended {
    pub sessions_ended: u64,
}

/// Sign out everywhere, this session included.
#[utoipa::path(post, path = "/api/v1/me/sessions/revoke-all", tag = "session", security(("bearer" = [])),
    responses((status = 200, body = Ended)))]
pub async fn logout_everywhere(
    State(state): State<AppState>,
    ApiAnyStage(auth): ApiAnyStage,
) -> Result<Json<Ended>, ApiError> {
    let n = state.app.logout_everywhere(&auth).await?;
    Ok(Json(Ended { sessions_ended: n }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Change the caller's password; their other sessions end.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "session", request_body = PasswordRequest, security(("bearer" = [])),
    responses((status = 204), (status = 422, body = Problem)))]
pub async fn change_password(
    State(state): State<AppState>,
    ApiAnyStage(auth): ApiAnyStage,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    if auth.session.stage != app::ports::SessionStage::Full {
        return Err(AppError::Unauthenticated.into());
    }
    state.app.change_password(&auth, &req.current_password, &req.new_password, &req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct MfaEnrolmentDto {
    /// Base32 secret for manual entry.
    pub secret: String,
    /// `otpauth://` URI for QR codes.
    pub otpauth_uri: String,
}

/// Start setting up an authenticator (TOTP).
#[utoipa::path(post, path = "/api/v1/me/mfa", tag = "session", security(("bearer" = [])),
    responses((status = 200, body = MfaEnrolmentDto)))]
pub async fn begin_mfa(
    State(state): State<AppState>,
    ApiAnyStage(auth): ApiAnyStage,
) -> Result<Json<MfaEnrolmentDto>, ApiError> {
    let e = state.app.begin_mfa_enrolment(&auth).await?;
    Ok(Json(MfaEnrolmentDto { secret: e.secret_base32, otpauth_uri: e.otpauth_uri }))
}

#[derive(Serialize, ToSchema)]
pub struct MfaConfirmed {
    /// A new session, when this session was only allowed in to enrol.
    pub session: Option<SessionResponse>,
}

/// Confirm the authenticator with a code it shows.
#[utoipa::path(post, path = "/api/v1/me/mfa/confirm", tag = "session", request_body = CodeRequest, security(("bearer" = [])),
    responses((status = 200, body = MfaConfirmed), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn confirm_mfa(
    State(state): State<AppState>,
    ApiAnyStage(auth): ApiAnyStage,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<Json<MfaConfirmed>, ApiError> {
    if auth.session.stage == app::ports::SessionStage::MfaPending {
        return Err(ApiError(Problem::new(
            StatusCode::FORBIDDEN,
            "mfa_required",
            "Enter your authentication code first",
        )));
    }
    let s = state.app.confirm_mfa_enrolment(&auth, &req.code, &meta).await?;
    Ok(Json(MfaConfirmed { session: s.map(session_response) }))
}
