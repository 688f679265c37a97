//! Calendar feeds through the API: issue (the URL is answered once), list and revoke a staff
//! member's own feed or a client's. The feed itself is `GET /calendar/{token}.ics` (`ics.rs`).

use app::ports::{CalendarFeed, FeedOwner};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::{fmt_rfc3339, path_id};
use crate::AppState;
use crate::auth::ApiAuth;
use crate::error::{ApiError, Problem};

#[derive(Serialize, ToSchema)]
pub struct FeedDto {
    pub id: String,
    /// staff or client
    pub owner_kind: String,
    pub owner_id: String,
    pub created_by: String,
    pub created_at: String,
    /// Null while the feed works.
    pub revoked_at: Option<String>,
}

fn feed_dto(f: &CalendarFeed) -> FeedDto {
    let (kind, id) = match f.owner {
        FeedOwner::Staff(u) => ("staff", u.to_string()),
        FeedOwner::Client(c) => ("client", c.to_string()),
    };
    FeedDto {
        id: f.id.to_string(),
        owner_kind: kind.to_owned(),
        owner_id: id,
        created_by: f.created_by.to_string(),
        created_at: fmt_rfc3339(f.created_at),
        revoked_at: f.revoked_at.map(fmt_rfc3339),
    }
}

#[derive(Serialize, ToSchema)]
pub struct IssuedFeedDto {
    #[serde(flatten)]
    pub feed: FeedDto,
    /// `/calendar/{token}.ics`: shown this once, never again. Anyone with it reads the feed.
    pub path: String,
    /// The same, as an absolute URL for a calendar app (from the request's Host).
    pub url: String,
}

fn issued(state: &AppState, headers: &HeaderMap, i: &app::feeds::IssuedFeed) -> Response {
    let (path, url) = crate::ics::feed_location(state, headers, &i.token);
    (StatusCode::CREATED, Json(IssuedFeedDto { feed: feed_dto(&i.feed), path, url })).into_response()
}

/// Issue a calendar feed of the sessions you run; your previous feed stops working.
#[utoipa::path(post, path = "/api/v1/me/calendar-feeds", tag = "program", security(("bearer" = [])),
    responses((status = 201, body = IssuedFeedDto), (status = 403, body = Problem)))]
pub async fn issue_mine(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let i = state.app.issue_my_feed(&auth.ctx).await?;
    Ok(issued(&state, &headers, &i))
}

/// Your calendar feeds, revoked ones included, oldest first.
#[utoipa::path(get, path = "/api/v1/me/calendar-feeds", tag = "program", security(("bearer" = [])),
    responses((status = 200, body = Vec<FeedDto>)))]
pub async fn mine(State(state): State<AppState>, ApiAuth(auth): ApiAuth) -> Result<Json<Vec<FeedDto>>, ApiError> {
    Ok(Json(state.app.my_feeds(&auth.ctx).await?.iter().map(feed_dto).collect()))
}

/// Issue a calendar feed of a client's sessions (program managers and the client's care
/// team); the client's previous feed stops working.
#[utoipa::path(post, path = "/api/v1/clients/{id}/calendar-feeds", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 201, body = IssuedFeedDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn issue_for_client(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let i = state.app.issue_client_feed(&auth.ctx, path_id(&id)?).await?;
    Ok(issued(&state, &headers, &i))
}

/// A client's calendar feeds, revoked ones included, oldest first.
#[utoipa::path(get, path = "/api/v1/clients/{id}/calendar-feeds", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<FeedDto>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn of_client(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<Vec<FeedDto>>, ApiError> {
    Ok(Json(state.app.client_feeds(&auth.ctx, path_id(&id)?).await?.iter().map(feed_dto).collect()))
}

/// Stop a calendar feed: your own, or a client's you may manage. Revoking twice is harmless.
#[utoipa::path(post, path = "/api/v1/calendar-feeds/{id}/revoke", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.revoke_feed(&auth.ctx, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
