//! The continuum through the API: levels, sites and beds, episodes and decisions, census.

use app::continuum::{AdmitForm, DecisionForm};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::episode::Episode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, path_id};
use crate::AppState;
use crate::auth::ApiAuth;
use crate::error::{ApiError, Problem};

#[derive(Serialize, ToSchema)]
pub struct LevelDto {
    pub code: String,
    pub name: String,
    /// outpatient, day, residential or inpatient
    pub setting: String,
    pub rank: u16,
    pub min_hours_adult: Option<u16>,
    pub max_hours_adult: Option<u16>,
    pub min_hours_adolescent: Option<u16>,
    pub max_hours_adolescent: Option<u16>,
    pub review_days: u16,
}

#[derive(Serialize, ToSchema)]
pub struct CatalogueDto {
    pub id: String,
    pub name: String,
    pub levels: Vec<LevelDto>,
}

/// The level-of-care catalogue in use.
#[utoipa::path(get, path = "/api/v1/levels", tag = "continuum", security(("bearer" = [])),
    responses((status = 200, body = CatalogueDto)))]
pub async fn levels(State(state): State<AppState>, ApiAuth(_auth): ApiAuth) -> Json<CatalogueDto> {
    let c = state.app.catalogue();
    Json(CatalogueDto {
        id: c.id.clone(),
        name: c.name.clone(),
        levels: c
            .levels
            .iter()
            .map(|l| LevelDto {
                code: l.code.to_string(),
                name: l.name.clone(),
                setting: format!("{:?}", l.setting).to_lowercase(),
                rank: l.rank,
                min_hours_adult: l.min_hours_adult,
                max_hours_adult: l.max_hours_adult,
                min_hours_adolescent: l.min_hours_adolescent,
                max_hours_adolescent: l.max_hours_adolescent,
                review_days: l.review_days,
            })
            .collect(),
    })
}

#[derive(Serialize, ToSchema)]
pub struct BedDto {
    pub id: String,
    pub label: String,
    pub active: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RoomDto {
    pub id: String,
    pub name: String,
    pub capacity: u16,
    pub beds: Vec<BedDto>,
}

#[derive(Serialize, ToSchema)]
pub struct SiteDto {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    pub rooms: Vec<RoomDto>,
}

/// Sites with rooms and beds.
#[utoipa::path(get, path = "/api/v1/sites", tag = "continuum", security(("bearer" = [])),
    responses((status = 200, body = Vec<SiteDto>)))]
pub async fn sites(State(state): State<AppState>, ApiAuth(auth): ApiAuth) -> Result<Json<Vec<SiteDto>>, ApiError> {
    let sites = state.app.sites(&auth.ctx).await?;
    Ok(Json(
        sites
            .into_iter()
            .map(|s| SiteDto {
                id: s.site.id.to_string(),
                name: s.site.name,
                time_zone: s.site.time_zone.as_str().to_owned(),
                rooms: s
                    .rooms
                    .into_iter()
                    .map(|r| RoomDto {
                        id: r.id.to_string(),
                        name: r.name,
                        capacity: r.capacity,
                        beds: r
                            .beds
                            .into_iter()
                            .map(|b| BedDto { id: b.id.to_string(), label: b.label, active: b.active })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    pub name: String,
    /// IANA time zone, e.g. America/Chicago.
    pub time_zone: String,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

/// Add a site (administrators).
#[utoipa::path(post, path = "/api/v1/sites", tag = "continuum", request_body = NewSite, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = Problem)))]
pub async fn create_site(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(req): ApiJson<NewSite>,
) -> Result<Response, ApiError> {
    let site = state.app.create_site(&auth.ctx, &req.name, &req.time_zone).await?;
    Ok((StatusCode::CREATED, Json(Created { id: site.id.to_string() })).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoom {
    pub name: String,
    pub capacity: i64,
}

/// Add a room with a bed capacity to a site (administrators).
#[utoipa::path(post, path = "/api/v1/sites/{id}/rooms", tag = "continuum", request_body = NewRoom, security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 201, body = Created), (status = 422, body = Problem)))]
pub async fn add_room(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NewRoom>,
) -> Result<Response, ApiError> {
    let room = state.app.add_room(&auth.ctx, path_id(&id)?, &req.name, &req.capacity.to_string()).await?;
    Ok((StatusCode::CREATED, Json(Created { id: room.to_string() })).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBed {
    pub label: String,
}

/// Add a bed to a room; refused beyond the room's capacity (administrators).
#[utoipa::path(post, path = "/api/v1/rooms/{id}/beds", tag = "continuum", request_body = NewBed, security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 201, body = Created), (status = 422, body = Problem)))]
pub async fn add_bed(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NewBed>,
) -> Result<Response, ApiError> {
    let bed = state.app.add_bed(&auth.ctx, path_id(&id)?, &req.label).await?;
    Ok((StatusCode::CREATED, Json(Created { id: bed.to_string() })).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct PlacementDto {
    pub id: String,
    pub level: String,
    pub site_id: String,
    pub bed_id: Option<String>,
    pub start: String,
    pub planned_end: Option<String>,
    /// Exclusive end date; null while current.
    pub end: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DecisionDto {
    pub kind: String,
    pub on: String,
    pub decided_at: String,
    pub decided_by: String,
    pub decided_by_name: String,
    pub reason: String,
    pub from_level: Option<String>,
    pub to_level: Option<String>,
    pub planned_end: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EpisodeDto {
    pub id: String,
    pub client_id: String,
    pub admitted_on: String,
    pub discharged_on: Option<String>,
    /// TEDS reason code 1–7 when discharged.
    pub discharge_teds_code: Option<u8>,
    pub discharge_reason: Option<String>,
    pub previous_episode_id: Option<String>,
    pub placements: Vec<PlacementDto>,
    pub decisions: Vec<DecisionDto>,
}

fn episode_dto(e: &Episode, events: &[app::ports::EpisodeEvent]) -> EpisodeDto {
    EpisodeDto {
        id: e.id.to_string(),
        client_id: e.client.to_string(),
        admitted_on: e.admitted_on.to_string(),
        discharged_on: e.discharge.as_ref().map(|d| d.on.to_string()),
        discharge_teds_code: e.discharge.as_ref().map(|d| d.reason.teds()),
        discharge_reason: e.discharge.as_ref().map(|d| d.reason.code().to_owned()),
        previous_episode_id: e.previous.map(|p| p.to_string()),
        placements: e
            .placements
            .iter()
            .map(|p| PlacementDto {
                id: p.id.to_string(),
                level: p.level.to_string(),
                site_id: p.site.to_string(),
                bed_id: p.bed.map(|b| b.to_string()),
                start: p.start.to_string(),
                planned_end: p.planned_end.map(|d| d.to_string()),
                end: p.end.map(|d| d.to_string()),
            })
            .collect(),
        decisions: events
            .iter()
            .map(|ev| DecisionDto {
                kind: ev.kind.code().to_owned(),
                on: ev.on.to_string(),
                decided_at: super::fmt_rfc3339(ev.decided_at),
                decided_by: ev.decided_by.to_string(),
                decided_by_name: ev.decided_by_name.clone(),
                reason: ev.reason.clone(),
                from_level: ev.from_level.as_ref().map(|l| l.to_string()),
                to_level: ev.to_level.as_ref().map(|l| l.to_string()),
                planned_end: ev.planned_end.map(|d| d.to_string()),
            })
            .collect(),
    }
}

/// A client's episodes of care, newest first.
#[utoipa::path(get, path = "/api/v1/clients/{id}/episodes", tag = "continuum", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Vec<EpisodeDto>), (status = 403, body = Problem)))]
pub async fn episodes(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<Vec<EpisodeDto>>, ApiError> {
    let views = state.app.episodes(&auth.ctx, path_id(&id)?).await?;
    Ok(Json(views.iter().map(|v| episode_dto(&v.episode, &v.events)).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdmitRequest {
    /// Admission date, YYYY-MM-DD.
    pub on: String,
    pub level: String,
    pub site_id: String,
    pub bed_id: Option<String>,
    pub planned_end: Option<String>,
    pub reason: String,
}

/// Admit a client: opens an episode with its first placement.
#[utoipa::path(post, path = "/api/v1/clients/{id}/episodes", tag = "continuum", request_body = AdmitRequest, security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 201, body = EpisodeDto), (status = 422, body = Problem)))]
pub async fn admit(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AdmitRequest>,
) -> Result<Response, ApiError> {
    let client = path_id(&id)?;
    let form = AdmitForm {
        on: req.on,
        level: req.level,
        site: req.site_id,
        bed: req.bed_id.unwrap_or_default(),
        planned_end: req.planned_end.unwrap_or_default(),
        reason: req.reason,
    };
    let episode = state.app.admit(&auth.ctx, client, &form).await?;
    Ok((StatusCode::CREATED, Json(episode_dto(&episode, &[]))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// extend, step_down, step_up, transfer or discharge
    pub kind: String,
    /// The date it takes effect (not for extend).
    pub on: Option<String>,
    pub level: Option<String>,
    pub site_id: Option<String>,
    pub bed_id: Option<String>,
    /// New planned end (extend), or the next placement's planned end.
    pub planned_end: Option<String>,
    /// TEDS reason for discharge: a code like left_against_advice, or 1–7.
    pub discharge_reason: Option<String>,
    pub reason: String,
}

/// Record a decision about an open episode (extend, step down, step up, transfer, discharge).
#[utoipa::path(post, path = "/api/v1/clients/{id}/episodes/{episode_id}/decisions", tag = "continuum",
    request_body = DecisionRequest, security(("bearer" = [])), params(("id" = String, Path), ("episode_id" = String, Path)),
    responses((status = 200, body = EpisodeDto), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn decide(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, episode_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<DecisionRequest>,
) -> Result<Json<EpisodeDto>, ApiError> {
    let form = DecisionForm {
        kind: req.kind,
        on: req.on.unwrap_or_default(),
        level: req.level.unwrap_or_default(),
        site: req.site_id.unwrap_or_default(),
        bed: req.bed_id.unwrap_or_default(),
        planned_end: req.planned_end.unwrap_or_default(),
        discharge_reason: req.discharge_reason.unwrap_or_default(),
        reason: req.reason,
    };
    let episode = state.app.decide(&auth.ctx, path_id(&id)?, path_id(&episode_id)?, &form).await?;
    Ok(Json(episode_dto(&episode, &[])))
}

#[derive(Serialize, ToSchema)]
pub struct CensusEntry {
    pub client_id: String,
    pub name: String,
    pub episode_id: String,
    pub admitted_on: String,
    pub level: String,
    pub bed_id: Option<String>,
    pub since: String,
    pub planned_end: Option<String>,
    pub days_in_care: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CensusSiteDto {
    pub site_id: String,
    pub name: String,
    pub beds_total: usize,
    pub beds_occupied: usize,
    /// Open placements the caller may not see by name.
    pub others: usize,
    pub clients: Vec<CensusEntry>,
}

#[derive(Serialize, ToSchema)]
pub struct CensusDto {
    pub today: String,
    pub sites: Vec<CensusSiteDto>,
    pub ending_within_7_days: Vec<String>,
    pub past_planned_end: Vec<String>,
}

/// The live census by site and level.
#[utoipa::path(get, path = "/api/v1/census", tag = "continuum", security(("bearer" = [])),
    responses((status = 200, body = CensusDto), (status = 403, body = Problem)))]
pub async fn census(State(state): State<AppState>, ApiAuth(auth): ApiAuth) -> Result<Json<CensusDto>, ApiError> {
    let c = state.app.census(&auth.ctx).await?;
    let entry = |r: &app::ports::CensusRow| CensusEntry {
        client_id: r.client.id.to_string(),
        name: format!("{} {}", r.client.given_name, r.client.family_name),
        episode_id: r.episode.to_string(),
        admitted_on: r.admitted_on.to_string(),
        level: r.placement.level.to_string(),
        bed_id: r.placement.bed.map(|b| b.to_string()),
        since: r.placement.start.to_string(),
        planned_end: r.placement.planned_end.map(|d| d.to_string()),
        days_in_care: (c.today - r.admitted_on).whole_days(),
    };
    Ok(Json(CensusDto {
        today: c.today.to_string(),
        sites: c
            .sites
            .iter()
            .map(|s| CensusSiteDto {
                site_id: s.site.id.to_string(),
                name: s.site.name.clone(),
                beds_total: s.beds_total,
                beds_occupied: s.beds_occupied,
                others: s.hidden,
                clients: s.groups.iter().flat_map(|g| g.clients.iter().map(entry)).collect(),
            })
            .collect(),
        ending_within_7_days: c.ending_soon.iter().map(|r| r.client.id.to_string()).collect(),
        past_planned_end: c.past_planned_end.iter().map(|r| r.client.id.to_string()).collect(),
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AftercarePlanDto {
    pub referrals: Option<String>,
    pub sober_living: Option<String>,
    pub meetings: Option<String>,
    pub medication: Option<String>,
    pub appointments: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FollowUpDto {
    pub id: String,
    pub client_id: String,
    pub episode_id: String,
    pub day: u16,
    pub due_on: String,
    pub recorded_at: Option<String>,
    pub reached: Option<bool>,
    pub substance_use: Option<String>,
    pub working_or_in_school: Option<bool>,
    pub readmitted_elsewhere: Option<bool>,
    pub notes: Option<String>,
}

fn follow_up_dto(f: &app::ports::FollowUp) -> FollowUpDto {
    let o = f.outcome.as_ref();
    FollowUpDto {
        id: f.id.to_string(),
        client_id: f.client.to_string(),
        episode_id: f.episode.to_string(),
        day: f.day,
        due_on: f.due_on.to_string(),
        recorded_at: f.recorded_at.map(super::fmt_rfc3339),
        reached: o.map(|o| o.reached),
        substance_use: o.and_then(|o| o.substance_use).map(|s| s.code().to_owned()),
        working_or_in_school: o.and_then(|o| o.working_or_in_school),
        readmitted_elsewhere: o.and_then(|o| o.readmitted_elsewhere),
        notes: o.and_then(|o| o.notes.clone()),
    }
}

#[derive(Serialize, ToSchema)]
pub struct AftercareDto {
    pub plan: Option<AftercarePlanDto>,
    pub follow_ups: Vec<FollowUpDto>,
}

/// An episode's aftercare plan and follow-ups.
#[utoipa::path(get, path = "/api/v1/clients/{id}/episodes/{episode_id}/aftercare", tag = "continuum", security(("bearer" = [])),
    params(("id" = String, Path), ("episode_id" = String, Path)), responses((status = 200, body = AftercareDto)))]
pub async fn aftercare(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, episode)): Path<(String, String)>,
) -> Result<Json<AftercareDto>, ApiError> {
    let a = state.app.aftercare(&auth.ctx, path_id(&id)?, path_id(&episode)?).await?;
    Ok(Json(AftercareDto {
        plan: a.plan.map(|p| AftercarePlanDto {
            referrals: p.referrals,
            sober_living: p.sober_living,
            meetings: p.meetings,
            medication: p.medication,
            appointments: p.appointments,
        }),
        follow_ups: a.follow_ups.iter().map(follow_up_dto).collect(),
    }))
}

/// Write an episode's aftercare plan (replaces the previous text).
#[utoipa::path(put, path = "/api/v1/clients/{id}/episodes/{episode_id}/aftercare", tag = "continuum",
    request_body = AftercarePlanDto, security(("bearer" = [])), params(("id" = String, Path), ("episode_id" = String, Path)),
    responses((status = 204), (status = 422, body = Problem)))]
pub async fn save_aftercare(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, episode)): Path<(String, String)>,
    ApiJson(req): ApiJson<AftercarePlanDto>,
) -> Result<StatusCode, ApiError> {
    let form = app::aftercare::PlanForm {
        referrals: req.referrals.unwrap_or_default(),
        sober_living: req.sober_living.unwrap_or_default(),
        meetings: req.meetings.unwrap_or_default(),
        medication: req.medication.unwrap_or_default(),
        appointments: req.appointments.unwrap_or_default(),
    };
    state.app.save_aftercare_plan(&auth.ctx, path_id(&id)?, path_id(&episode)?, &form).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Follow-ups due by today that nobody has answered, within the caller's caseload.
#[utoipa::path(get, path = "/api/v1/follow-ups", tag = "continuum", security(("bearer" = [])),
    responses((status = 200, body = Vec<FollowUpDto>), (status = 403, body = Problem)))]
pub async fn follow_ups_due(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
) -> Result<Json<Vec<FollowUpDto>>, ApiError> {
    let due = state.app.follow_ups_due(&auth.ctx).await?;
    Ok(Json(due.iter().map(|(f, _)| follow_up_dto(f)).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRequest {
    pub reached: bool,
    /// abstinent, using or unknown (required when reached)
    pub substance_use: Option<String>,
    pub working_or_in_school: Option<bool>,
    pub readmitted_elsewhere: Option<bool>,
    pub notes: Option<String>,
}

/// Record what a follow-up call found (once).
#[utoipa::path(post, path = "/api/v1/follow-ups/{id}", tag = "continuum", request_body = OutcomeRequest, security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record_follow_up(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<OutcomeRequest>,
) -> Result<StatusCode, ApiError> {
    let yn = |b: Option<bool>| match b {
        Some(true) => "yes".to_owned(),
        Some(false) => "no".to_owned(),
        None => String::new(),
    };
    let form = app::aftercare::OutcomeForm {
        reached: yn(Some(req.reached)),
        substance_use: req.substance_use.unwrap_or_default(),
        working_or_in_school: yn(req.working_or_in_school),
        readmitted_elsewhere: yn(req.readmitted_elsewhere),
        notes: req.notes.unwrap_or_default(),
    };
    state.app.record_follow_up(&auth.ctx, path_id(&id)?, &form).await?;
    Ok(StatusCode::NO_CONTENT)
}
