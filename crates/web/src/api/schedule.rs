//! The schedule builder through the API: a proposal for a track's week, and applying it (or
//! an edited version) to the rosters in one request.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::ids::{ClientId, IopSessionId, TrackId};
use domain::iop::compliance::IsoWeek;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, path_id};
use crate::AppState;
use crate::auth::ApiAuth;
use crate::error::{ApiError, Problem};

#[derive(Serialize, ToSchema)]
pub struct ProposedSessionDto {
    pub session_id: String,
    pub date: String,
    pub start: String,
    pub minutes: u16,
    pub modality: String,
    pub title: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProposedClientDto {
    pub client_id: String,
    pub client_name: String,
    pub sessions: Vec<String>,
    /// Why the builder could not place the client; null when placed.
    pub unplaced_reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProposalDto {
    pub track_id: String,
    pub week: String,
    pub sessions: Vec<ProposedSessionDto>,
    pub clients: Vec<ProposedClientDto>,
    pub placed: u32,
    pub continuity: u32,
    pub excess_minutes: u64,
    pub objective: i64,
    pub elapsed_ms: u64,
}

fn week(raw: &str) -> Result<IsoWeek, ApiError> {
    raw.parse().map_err(|_| ApiError::from(app::AppError::invalid("week", "Give an ISO week like 2026-W48")))
}

/// A proposal for a track's week.
#[utoipa::path(get, path = "/api/v1/program/tracks/{id}/weeks/{week}/proposal", tag = "iop", security(("bearer" = [])),
    params(("id" = String, Path), ("week" = String, Path)), responses((status = 200, body = ProposalDto), (status = 422, body = Problem)))]
pub async fn proposal(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, w)): Path<(String, String)>,
) -> Result<Json<ProposalDto>, ApiError> {
    let track: TrackId = path_id(&id)?;
    let p = state.app.propose_schedule(&auth.ctx, track, week(&w)?).await?;
    Ok(Json(proposal_dto(track, &p)))
}

/// The track's week as the rosters stand, in the proposal's shape: each client's sessions, the
/// objective, and why anyone falls short.
#[utoipa::path(get, path = "/api/v1/program/tracks/{id}/weeks/{week}/schedule", tag = "iop", security(("bearer" = [])),
    params(("id" = String, Path), ("week" = String, Path)), responses((status = 200, body = ProposalDto), (status = 422, body = Problem)))]
pub async fn current(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, w)): Path<(String, String)>,
) -> Result<Json<ProposalDto>, ApiError> {
    let track: TrackId = path_id(&id)?;
    let p = state.app.current_schedule(&auth.ctx, track, week(&w)?).await?;
    Ok(Json(proposal_dto(track, &p)))
}

fn proposal_dto(track: TrackId, p: &app::schedule::ScheduleProposal) -> ProposalDto {
    ProposalDto {
        track_id: track.to_string(),
        week: p.week.to_string(),
        sessions: p
            .sessions
            .iter()
            .map(|s| ProposedSessionDto {
                session_id: s.id.to_string(),
                date: s.slot.date.to_string(),
                start: format!("{:02}:{:02}", s.slot.start.hour(), s.slot.start.minute()),
                minutes: s.slot.minutes,
                modality: s.modality.code().to_owned(),
                title: s.title.clone(),
            })
            .collect(),
        clients: p
            .clients
            .iter()
            .enumerate()
            .map(|(i, c)| ProposedClientDto {
                client_id: c.id.to_string(),
                client_name: format!("{} {}", c.given_name, c.family_name),
                sessions: p.assignments.get(i).into_iter().flatten().map(|n| p.sessions[*n].id.to_string()).collect(),
                unplaced_reason: p.unplaced.iter().find(|(u, _)| *u == i).map(|(_, b)| app::schedule::blocker_text(b)),
            })
            .collect(),
        placed: p.score.placed,
        continuity: p.score.continuity,
        excess_minutes: p.score.excess_minutes,
        objective: p.score.objective,
        elapsed_ms: u64::try_from(p.elapsed_ms).unwrap_or(u64::MAX),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// Client id → the session ids of this week they attend.
    pub assignments: BTreeMap<String, Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct AppliedDto {
    pub added: usize,
    pub removed: usize,
}

/// Apply a week's assignments to the rosters, all or nothing.
#[utoipa::path(post, path = "/api/v1/program/tracks/{id}/weeks/{week}/schedule", tag = "iop", request_body = ApplyRequest,
    security(("bearer" = [])), params(("id" = String, Path), ("week" = String, Path)),
    responses((status = 200, body = AppliedDto), (status = 422, body = Problem)))]
pub async fn apply(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, w)): Path<(String, String)>,
    ApiJson(req): ApiJson<ApplyRequest>,
) -> Result<Json<AppliedDto>, ApiError> {
    let track: TrackId = path_id(&id)?;
    let mut wanted: BTreeMap<ClientId, BTreeSet<IopSessionId>> = BTreeMap::new();
    for (c, sessions) in req.assignments {
        let client: ClientId =
            c.parse().map_err(|_| ApiError::from(app::AppError::invalid("assignments", "Unknown client")))?;
        let set = sessions
            .iter()
            .map(|s| s.parse().map_err(|_| ApiError::from(app::AppError::invalid("assignments", "Unknown session"))))
            .collect::<Result<BTreeSet<IopSessionId>, ApiError>>()?;
        wanted.insert(client, set);
    }
    let a = state.app.apply_schedule(&auth.ctx, track, week(&w)?, &wanted).await?;
    Ok(Json(AppliedDto { added: a.added, removed: a.removed }))
}

#[derive(Serialize, ToSchema)]
pub struct FacilitatorLoadDto {
    pub user_id: String,
    pub name: String,
    /// Client-assignments a week the schedule builder may give them, across tracks.
    pub max_load: u32,
    /// Set for them; otherwise the program default.
    pub set: bool,
    /// Client-assignments they carry this ISO week, across tracks and appointments.
    pub this_week: u32,
}

/// Everyone who may facilitate, with their weekly load.
#[utoipa::path(get, path = "/api/v1/program/facilitator-loads", tag = "iop", security(("bearer" = [])),
    responses((status = 200, body = [FacilitatorLoadDto])))]
pub async fn loads(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
) -> Result<Json<Vec<FacilitatorLoadDto>>, ApiError> {
    let rows = state.app.facilitator_loads(&auth.ctx).await?;
    Ok(Json(
        rows.into_iter()
            .map(|l| FacilitatorLoadDto {
                user_id: l.user.to_string(),
                name: l.name,
                max_load: l.max_load,
                set: l.set,
                this_week: l.this_week,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadRequest {
    /// 1 to 300; null goes back to the default.
    pub max_load: Option<u32>,
}

/// Set (or, with null, clear) a facilitator's weekly load.
#[utoipa::path(put, path = "/api/v1/program/facilitator-loads/{user_id}", tag = "iop", request_body = LoadRequest,
    security(("bearer" = [])), params(("user_id" = String, Path)),
    responses((status = 204), (status = 422, body = Problem)))]
pub async fn set_load(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(user): Path<String>,
    ApiJson(req): ApiJson<LoadRequest>,
) -> Result<StatusCode, ApiError> {
    let load = req.max_load.map(|n| n.to_string()).unwrap_or_default();
    state.app.set_facilitator_load(&auth.ctx, &user, &load).await?;
    Ok(StatusCode::NO_CONTENT)
}
