//! The IOP program calendar through the API: tracks and templates, closures, generating a
//! week, appointments, session exceptions, rosters, enrolments, calendars and a client's week.
//!
//! Every handler calls one use case in `app` (which authorizes and audits). Times are civil
//! times on the site's calendar: dates `YYYY-MM-DD`, times `HH:MM`, weeks `2026-W49`.

use app::iop::{
    AppointmentForm, Calendar, CalendarEntry, CalendarView, ClosureForm, ClosureView, EnrolForm, EnrolmentView,
    MoveForm, SlotForm, TemplateForm, TemplateView, TrackForm, TrackView, hm, slot_end, weekday_code,
};
use app::ports::{ProgramSession, Track, TrackTemplate};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::iop::compliance::IsoWeek;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::continuum::Created;
use super::{ApiJson, path_id};
use crate::AppState;
use crate::auth::ApiAuth;
use crate::error::{ApiError, Problem};

// ---------------------------------------------------------------------------------------
// Tracks, templates, closures

#[derive(Serialize, ToSchema)]
pub struct TemplateDto {
    pub id: String,
    pub track_id: String,
    /// monday … sunday
    pub weekday: String,
    /// HH:MM
    pub start: String,
    pub end: String,
    pub minutes: u16,
    /// individual, group, psychoeducation, life_skills, wellness, family or case_management
    pub modality: String,
    pub title: String,
    pub facilitator_id: String,
    pub facilitator_name: String,
    pub room_id: Option<String>,
    pub room_name: Option<String>,
}

fn template_dto(t: &TrackTemplate, facilitator_name: String, room_name: Option<String>) -> TemplateDto {
    let e = &t.entry;
    let slot = domain::iop::Slot { date: time::Date::MIN, start: e.start, minutes: e.minutes };
    TemplateDto {
        id: e.id.to_string(),
        track_id: t.track.to_string(),
        weekday: weekday_code(e.weekday).to_owned(),
        start: hm(e.start),
        end: hm(slot_end(&slot)),
        minutes: e.minutes,
        modality: e.modality.code().to_owned(),
        title: e.title.clone(),
        facilitator_id: e.facilitator.to_string(),
        facilitator_name,
        room_id: e.room.map(|r| r.to_string()),
        room_name,
    }
}

fn template_view_dto(v: &TemplateView) -> TemplateDto {
    template_dto(&v.template, v.facilitator_name.clone(), v.room_name.clone())
}

#[derive(Serialize, ToSchema)]
pub struct TrackDto {
    pub id: String,
    pub site_id: String,
    pub site_name: String,
    pub name: String,
    /// The most clients a group session holds (default 12).
    pub group_limit: u16,
    pub active_from: String,
    pub active_until: Option<String>,
    /// Active template entries, by weekday and time.
    pub templates: Vec<TemplateDto>,
    /// Clients enrolled today.
    pub enrolled: usize,
}

fn track_dto(t: &Track, site_name: String, templates: Vec<TemplateDto>, enrolled: usize) -> TrackDto {
    TrackDto {
        id: t.id.to_string(),
        site_id: t.site.to_string(),
        site_name,
        name: t.name.clone(),
        group_limit: t.group_limit,
        active_from: t.active_from.to_string(),
        active_until: t.active_until.map(|d| d.to_string()),
        templates,
        enrolled,
    }
}

fn track_view_dto(v: &TrackView) -> TrackDto {
    track_dto(&v.track, v.site_name.clone(), v.templates.iter().map(template_view_dto).collect(), v.enrolled)
}

#[derive(Serialize, ToSchema)]
pub struct ClosureDto {
    pub id: String,
    pub site_id: String,
    pub site_name: String,
    pub date: String,
    pub reason: String,
}

fn closure_dto(c: &ClosureView) -> ClosureDto {
    ClosureDto {
        id: c.closure.id.to_string(),
        site_id: c.closure.site.to_string(),
        site_name: c.site_name.clone(),
        date: c.closure.closure.date.to_string(),
        reason: c.closure.closure.reason.clone(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProgramDto {
    pub today: String,
    pub tracks: Vec<TrackDto>,
    /// Closures from 30 days ago on.
    pub closures: Vec<ClosureDto>,
}

/// The program: tracks with their weekly templates, and closures.
#[utoipa::path(get, path = "/api/v1/program", tag = "program", security(("bearer" = [])),
    responses((status = 200, body = ProgramDto), (status = 403, body = Problem)))]
pub async fn program(State(state): State<AppState>, ApiAuth(auth): ApiAuth) -> Result<Json<ProgramDto>, ApiError> {
    let p = state.app.program(&auth.ctx).await?;
    Ok(Json(ProgramDto {
        today: p.today.to_string(),
        tracks: p.tracks.iter().map(track_view_dto).collect(),
        closures: p.closures.iter().map(closure_dto).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackRequest {
    /// Only when creating; a track stays at its site.
    pub site_id: Option<String>,
    pub name: String,
    /// 1–50; 12 when left out.
    pub group_limit: Option<i64>,
    pub active_from: String,
    pub active_until: Option<String>,
}

fn track_form(req: TrackRequest) -> TrackForm {
    TrackForm {
        site: req.site_id.unwrap_or_default(),
        name: req.name,
        group_limit: req.group_limit.map(|n| n.to_string()).unwrap_or_default(),
        active_from: req.active_from,
        active_until: req.active_until.unwrap_or_default(),
    }
}

/// Create a track at a site (program coordinators, supervisors).
#[utoipa::path(post, path = "/api/v1/program/tracks", tag = "program", request_body = TrackRequest, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create_track(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(req): ApiJson<TrackRequest>,
) -> Result<Response, ApiError> {
    let t = state.app.create_track(&auth.ctx, &track_form(req)).await?;
    Ok((StatusCode::CREATED, Json(Created { id: t.id.to_string() })).into_response())
}

/// Change a track's name, group limit or active dates.
#[utoipa::path(put, path = "/api/v1/program/tracks/{id}", tag = "program", request_body = TrackRequest, security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = TrackDto), (status = 422, body = Problem), (status = 404, body = Problem)))]
pub async fn update_track(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TrackRequest>,
) -> Result<Json<TrackDto>, ApiError> {
    let t = state.app.update_track(&auth.ctx, path_id(&id)?, &track_form(req)).await?;
    Ok(Json(track_dto(&t, String::new(), Vec::new(), 0)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    /// monday … sunday (or 1–7)
    pub weekday: String,
    /// HH:MM
    pub start: String,
    /// HH:MM, after the start (at most 8 hours later).
    pub end: String,
    pub modality: String,
    pub title: String,
    pub facilitator_id: String,
    /// A room at the track's site.
    pub room_id: Option<String>,
}

fn template_form(req: TemplateRequest) -> TemplateForm {
    TemplateForm {
        weekday: req.weekday,
        start: req.start,
        end: req.end,
        modality: req.modality,
        title: req.title,
        facilitator: req.facilitator_id,
        room: req.room_id.unwrap_or_default(),
    }
}

/// Add an entry to a track's weekly template.
#[utoipa::path(post, path = "/api/v1/program/tracks/{id}/templates", tag = "program", request_body = TemplateRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 201, body = TemplateDto), (status = 422, body = Problem), (status = 404, body = Problem)))]
pub async fn add_template(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TemplateRequest>,
) -> Result<Response, ApiError> {
    let t = state.app.add_template(&auth.ctx, path_id(&id)?, &template_form(req)).await?;
    Ok((StatusCode::CREATED, Json(template_dto(&t, String::new(), None))).into_response())
}

/// Change a template entry (weeks generated afterwards follow it).
#[utoipa::path(put, path = "/api/v1/program/templates/{id}", tag = "program", request_body = TemplateRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = TemplateDto), (status = 422, body = Problem), (status = 404, body = Problem)))]
pub async fn update_template(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TemplateRequest>,
) -> Result<Json<TemplateDto>, ApiError> {
    let t = state.app.update_template(&auth.ctx, path_id(&id)?, &template_form(req)).await?;
    Ok(Json(template_dto(&t, String::new(), None)))
}

/// Retire a template entry: it generates no more sessions.
#[utoipa::path(delete, path = "/api/v1/program/templates/{id}", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn retire_template(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.retire_template(&auth.ctx, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosureRequest {
    pub site_id: String,
    pub date: String,
    /// e.g. Thanksgiving
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct ClosureAddedDto {
    pub id: String,
    /// Sessions of that site and day it cancelled.
    pub cancelled_sessions: usize,
}

/// Close a site's program on a day (a holiday); its sessions that day are cancelled.
#[utoipa::path(post, path = "/api/v1/program/closures", tag = "program", request_body = ClosureRequest, security(("bearer" = [])),
    responses((status = 201, body = ClosureAddedDto), (status = 422, body = Problem)))]
pub async fn add_closure(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(req): ApiJson<ClosureRequest>,
) -> Result<Response, ApiError> {
    let form = ClosureForm { site: req.site_id, date: req.date, reason: req.reason };
    let added = state.app.add_closure(&auth.ctx, &form).await?;
    let body = ClosureAddedDto { id: added.closure.id.to_string(), cancelled_sessions: added.cancelled };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Remove a closure (the sessions it cancelled stay cancelled).
#[utoipa::path(delete, path = "/api/v1/program/closures/{id}", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_closure(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.remove_closure(&auth.ctx, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------
// Sessions

#[derive(Serialize, ToSchema)]
pub struct IopSessionDto {
    pub id: String,
    pub site_id: String,
    pub track_id: Option<String>,
    pub template_id: Option<String>,
    pub modality: String,
    pub title: String,
    pub date: String,
    pub start: String,
    pub end: String,
    pub minutes: u16,
    pub facilitator_id: String,
    pub substitute_id: Option<String>,
    pub room_id: Option<String>,
    pub capacity: u16,
    /// scheduled or cancelled
    pub status: String,
    /// Why it was cancelled, or where it moved to.
    pub status_reason: Option<String>,
}

fn session_dto(s: &ProgramSession) -> IopSessionDto {
    IopSessionDto {
        id: s.id.to_string(),
        site_id: s.site.to_string(),
        track_id: s.track.map(|t| t.to_string()),
        template_id: s.template.map(|t| t.to_string()),
        modality: s.modality.code().to_owned(),
        title: s.title.clone(),
        date: s.slot.date.to_string(),
        start: hm(s.slot.start),
        end: hm(slot_end(&s.slot)),
        minutes: s.slot.minutes,
        facilitator_id: s.facilitator.to_string(),
        substitute_id: s.substitute.map(|u| u.to_string()),
        room_id: s.room.map(|r| r.to_string()),
        capacity: s.capacity,
        status: if s.cancelled { "cancelled" } else { "scheduled" }.to_owned(),
        status_reason: s.status_reason.clone(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct RosterClientDto {
    pub id: String,
    pub name: String,
}

/// A session with names, as calendars show it.
#[derive(Serialize, ToSchema)]
pub struct CalendarSessionDto {
    #[serde(flatten)]
    pub session: IopSessionDto,
    pub site_name: String,
    pub track_name: Option<String>,
    pub room_name: Option<String>,
    pub facilitator_name: String,
    pub substitute_name: Option<String>,
    pub roster_count: usize,
    /// Clients on the roster the caller may see by name; the others are only counted.
    pub clients: Vec<RosterClientDto>,
}

fn calendar_session_dto(e: &CalendarEntry) -> CalendarSessionDto {
    CalendarSessionDto {
        session: session_dto(&e.session),
        site_name: e.site_name.clone(),
        track_name: e.track_name.clone(),
        room_name: e.room_name.clone(),
        facilitator_name: e.facilitator_name.clone(),
        substitute_name: e.substitute_name.clone(),
        roster_count: e.roster_count,
        clients: e
            .clients
            .iter()
            .map(|c| RosterClientDto { id: c.id.to_string(), name: format!("{}, {}", c.family_name, c.given_name) })
            .collect(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct WeekDto {
    pub week: String,
    pub created: Vec<IopSessionDto>,
    /// Sessions of the week that already existed.
    pub existing: usize,
}

fn parse_week(raw: &str) -> Result<IsoWeek, ApiError> {
    raw.parse::<IsoWeek>().map_err(|_| ApiError::from(app::AppError::invalid("week", "Week must look like 2026-W49")))
}

/// Generate a week's sessions from the track's template (idempotent: only what is missing).
#[utoipa::path(post, path = "/api/v1/program/tracks/{id}/weeks/{week}", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path), ("week" = String, Path, description = "ISO week, e.g. 2026-W49")),
    responses((status = 200, body = WeekDto), (status = 422, body = Problem), (status = 404, body = Problem)))]
pub async fn generate_week(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, week)): Path<(String, String)>,
) -> Result<Json<WeekDto>, ApiError> {
    let track = path_id(&id)?;
    let week = parse_week(&week)?;
    let done = state.app.ensure_week(&auth.ctx, track, week).await?;
    Ok(Json(WeekDto {
        week: done.week.to_string(),
        created: done.created.iter().map(session_dto).collect(),
        existing: done.existing,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentRequest {
    pub client_id: String,
    /// individual, family or case_management
    pub modality: String,
    pub title: Option<String>,
    pub facilitator_id: String,
    pub room_id: Option<String>,
    pub date: String,
    pub start: String,
    pub end: String,
    /// Only when it would end on another day (which is refused).
    pub end_date: Option<String>,
}

/// Book an individual, family or case-management appointment for a client in the program.
#[utoipa::path(post, path = "/api/v1/program/appointments", tag = "program", request_body = AppointmentRequest,
    security(("bearer" = [])), responses((status = 201, body = IopSessionDto), (status = 404, body = Problem), (status = 422, body = Problem),
        (status = 403, body = Problem)))]
pub async fn book_appointment(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    ApiJson(req): ApiJson<AppointmentRequest>,
) -> Result<Response, ApiError> {
    let form = AppointmentForm {
        client: req.client_id,
        modality: req.modality,
        title: req.title.unwrap_or_default(),
        facilitator: req.facilitator_id,
        room: req.room_id.unwrap_or_default(),
        slot: SlotForm { date: req.date, start: req.start, end: req.end, end_date: req.end_date.unwrap_or_default() },
    };
    let s = state.app.book_appointment(&auth.ctx, &form).await?;
    Ok((StatusCode::CREATED, Json(session_dto(&s))).into_response())
}

/// One session with its roster.
#[utoipa::path(get, path = "/api/v1/iop/sessions/{id}", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = CalendarSessionDto), (status = 404, body = Problem)))]
pub async fn session(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<CalendarSessionDto>, ApiError> {
    let d = state.app.program_session(&auth.ctx, path_id(&id)?).await?;
    Ok(Json(calendar_session_dto(&d.entry)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    pub reason: String,
}

/// Cancel one session (the roster is kept).
#[utoipa::path(post, path = "/api/v1/iop/sessions/{id}/cancel", tag = "program", request_body = CancelRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = IopSessionDto), (status = 422, body = Problem), (status = 404, body = Problem)))]
pub async fn cancel(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CancelRequest>,
) -> Result<Json<IopSessionDto>, ApiError> {
    let s = state.app.cancel_session(&auth.ctx, path_id(&id)?, &req.reason).await?;
    Ok(Json(session_dto(&s)))
}

/// Take back a cancellation. Refused (422) when the session moved to another day, falls on a
/// closed day, or its facilitator, room or roster is now taken at that time.
#[utoipa::path(post, path = "/api/v1/iop/sessions/{id}/reinstate", tag = "program",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = IopSessionDto), (status = 422, body = Problem), (status = 404, body = Problem)))]
pub async fn reinstate(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<IopSessionDto>, ApiError> {
    let s = state.app.reinstate_session(&auth.ctx, path_id(&id)?).await?;
    Ok(Json(session_dto(&s)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    pub date: String,
    pub start: String,
    pub end: String,
    pub end_date: Option<String>,
    /// Left out: the session keeps its room.
    pub room_id: Option<String>,
}

/// Move a session to another time, day or room. A move to another day cancels the session
/// ("Moved to …") and answers with the new one.
#[utoipa::path(post, path = "/api/v1/iop/sessions/{id}/move", tag = "program", request_body = MoveRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = IopSessionDto), (status = 422, body = Problem), (status = 404, body = Problem)))]
pub async fn move_session(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<MoveRequest>,
) -> Result<Json<IopSessionDto>, ApiError> {
    let form = MoveForm {
        slot: SlotForm { date: req.date, start: req.start, end: req.end, end_date: req.end_date.unwrap_or_default() },
        room: req.room_id.unwrap_or_default(),
    };
    let s = state.app.move_session(&auth.ctx, path_id(&id)?, &form).await?;
    Ok(Json(session_dto(&s)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubstituteRequest {
    /// null clears the substitute.
    pub user_id: Option<String>,
}

/// Set or clear a substitute facilitator.
#[utoipa::path(put, path = "/api/v1/iop/sessions/{id}/substitute", tag = "program", request_body = SubstituteRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = IopSessionDto), (status = 422, body = Problem), (status = 404, body = Problem)))]
pub async fn substitute(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SubstituteRequest>,
) -> Result<Json<IopSessionDto>, ApiError> {
    let s = state.app.substitute(&auth.ctx, path_id(&id)?, req.user_id.as_deref().unwrap_or("")).await?;
    Ok(Json(session_dto(&s)))
}

/// Put a client on a session's roster (refused when full, not enrolled, or booked then).
#[utoipa::path(put, path = "/api/v1/iop/sessions/{id}/roster/{client_id}", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path), ("client_id" = String, Path)),
    responses((status = 204), (status = 422, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The session note is signed: its roster is locked")))]
pub async fn add_to_roster(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, client)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.app.add_to_roster(&auth.ctx, path_id(&id)?, path_id(&client)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take a client off a session's roster.
#[utoipa::path(delete, path = "/api/v1/iop/sessions/{id}/roster/{client_id}", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path), ("client_id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The session note is signed: its roster is locked")))]
pub async fn remove_from_roster(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, client)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.app.remove_from_roster(&auth.ctx, path_id(&id)?, path_id(&client)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------
// Calendars

#[derive(Deserialize)]
pub struct CalendarQuery {
    pub view: Option<String>,
    pub id: Option<String>,
    pub from: Option<String>,
    pub days: Option<u8>,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarDto {
    /// track, staff, room or client
    pub view: String,
    pub id: String,
    pub title: String,
    pub from: String,
    pub days: u8,
    pub sessions: Vec<CalendarSessionDto>,
    pub closures: Vec<ClosureDto>,
}

/// The calendar view a query names.
pub fn calendar_view(view: &str, id: &str) -> Result<CalendarView, app::AppError> {
    let bad = || app::AppError::invalid("id", "Choose whose calendar to show");
    Ok(match view {
        "track" => CalendarView::Track(id.parse().map_err(|_| bad())?),
        "staff" => CalendarView::Staff(id.parse().map_err(|_| bad())?),
        "room" => CalendarView::Room(id.parse().map_err(|_| bad())?),
        "client" => CalendarView::Client(id.parse().map_err(|_| bad())?),
        _ => return Err(app::AppError::invalid("view", "View must be track, staff, room or client")),
    })
}

pub fn view_parts(v: CalendarView) -> (&'static str, String) {
    match v {
        CalendarView::Track(id) => ("track", id.to_string()),
        CalendarView::Staff(id) => ("staff", id.to_string()),
        CalendarView::Room(id) => ("room", id.to_string()),
        CalendarView::Client(id) => ("client", id.to_string()),
    }
}

fn calendar_dto(c: &Calendar) -> CalendarDto {
    let (view, id) = view_parts(c.view);
    CalendarDto {
        view: view.to_owned(),
        id,
        title: c.title.clone(),
        from: c.from.to_string(),
        days: c.days,
        sessions: c.entries.iter().map(calendar_session_dto).collect(),
        closures: c.closures.iter().map(closure_dto).collect(),
    }
}

/// A day (days=1) or week (days=7, from its Monday) of a track's, staff member's, room's or
/// client's sessions, cancelled ones included.
#[utoipa::path(get, path = "/api/v1/program/calendar", tag = "program", security(("bearer" = [])),
    params(("view" = String, Query, description = "track, staff, room or client"), ("id" = String, Query),
           ("from" = Option<String>, Query, description = "YYYY-MM-DD; today when left out"),
           ("days" = Option<u8>, Query, description = "1 or 7 (default)")),
    responses((status = 200, body = CalendarDto), (status = 404, body = Problem), (status = 422, body = Problem),
        (status = 403, body = Problem)))]
pub async fn calendar(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Query(q): Query<CalendarQuery>,
) -> Result<Json<CalendarDto>, ApiError> {
    let view = calendar_view(q.view.as_deref().unwrap_or(""), q.id.as_deref().unwrap_or(""))?;
    let from = match q.from.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(raw) => Some(
            time::Date::parse(raw.trim(), time::macros::format_description!("[year]-[month]-[day]"))
                .map_err(|_| app::AppError::invalid("from", "From must be a date like 2026-11-27"))?,
        ),
        None => None,
    };
    let days = match q.days {
        None | Some(7) => 7,
        Some(1) => 1,
        Some(_) => return Err(app::AppError::invalid("days", "Days must be 1 or 7").into()),
    };
    let c = state.app.calendar(&auth.ctx, view, from, days).await?;
    Ok(Json(calendar_dto(&c)))
}

// ---------------------------------------------------------------------------------------
// Enrolments and a client's week

#[derive(Serialize, ToSchema)]
pub struct EnrolmentDto {
    pub id: String,
    pub episode_id: String,
    pub track_id: String,
    pub track_name: String,
    /// First day.
    pub from: String,
    /// Last day, when set.
    pub until: Option<String>,
}

fn enrolment_dto(e: &EnrolmentView) -> EnrolmentDto {
    EnrolmentDto {
        id: e.enrolment.id.to_string(),
        episode_id: e.enrolment.episode.to_string(),
        track_id: e.enrolment.track.to_string(),
        track_name: e.track_name.clone(),
        from: e.enrolment.from.to_string(),
        until: e.enrolment.until.map(|d| d.to_string()),
    }
}

/// A client's track enrolments, oldest first.
#[utoipa::path(get, path = "/api/v1/clients/{id}/enrolments", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Vec<EnrolmentDto>), (status = 403, body = Problem)))]
pub async fn enrolments(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<Vec<EnrolmentDto>>, ApiError> {
    let list = state.app.enrolments(&auth.ctx, path_id(&id)?).await?;
    Ok(Json(list.iter().map(enrolment_dto).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    pub track_id: String,
    /// First day in the track.
    pub from: String,
    /// Last day, if known.
    pub until: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EnrolledDto {
    pub id: String,
    /// The previous enrolment, now ended the day before.
    pub ended_enrolment_id: Option<String>,
    /// Sessions of this week and next the client was put on.
    pub added_to: Vec<String>,
    /// Sessions the client could not be put on, and why.
    pub not_added: Vec<String>,
    /// Sessions of the old track the client was taken off.
    pub removed_from: usize,
}

/// Enrol a client in a track (or change track): the previous enrolment ends the day before.
#[utoipa::path(post, path = "/api/v1/clients/{id}/enrolments", tag = "program", request_body = EnrolRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 201, body = EnrolledDto), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn enrol(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<EnrolRequest>,
) -> Result<Response, ApiError> {
    let form = EnrolForm { track: req.track_id, from: req.from, until: req.until.unwrap_or_default() };
    let done = state.app.enrol(&auth.ctx, path_id(&id)?, &form).await?;
    let body = EnrolledDto {
        id: done.enrolment.id.to_string(),
        ended_enrolment_id: done.ended.map(|e| e.to_string()),
        added_to: done.added_to.iter().map(|s| s.to_string()).collect(),
        not_added: done.not_added,
        removed_from: done.removed_from,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndEnrolmentRequest {
    /// Last day in the track.
    pub until: String,
}

/// End an enrolment on a day; the client leaves the track's sessions still to come after it.
#[utoipa::path(post, path = "/api/v1/clients/{id}/enrolments/{enrolment_id}/end", tag = "program",
    request_body = EndEnrolmentRequest, security(("bearer" = [])), params(("id" = String, Path), ("enrolment_id" = String, Path)),
    responses((status = 204), (status = 422, body = Problem), (status = 404, body = Problem)))]
pub async fn end_enrolment(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, enrolment)): Path<(String, String)>,
    ApiJson(req): ApiJson<EndEnrolmentRequest>,
) -> Result<StatusCode, ApiError> {
    state.app.end_enrolment(&auth.ctx, path_id(&id)?, path_id(&enrolment)?, &req.until).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct WeekQuery {
    pub week: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ClientWeekDto {
    pub client_id: String,
    pub week: String,
    pub enrolment: Option<EnrolmentDto>,
    pub sessions: Vec<CalendarSessionDto>,
    pub closures: Vec<ClosureDto>,
}

/// A client's sessions in one ISO week (the printable schedule).
#[utoipa::path(get, path = "/api/v1/clients/{id}/schedule", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path), ("week" = Option<String>, Query, description = "ISO week, e.g. 2026-W49; this week when left out")),
    responses((status = 200, body = ClientWeekDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn client_schedule(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> Result<Json<ClientWeekDto>, ApiError> {
    let week = match q.week.as_deref().filter(|w| !w.trim().is_empty()) {
        Some(w) => Some(parse_week(w)?),
        None => None,
    };
    let w = state.app.client_week(&auth.ctx, path_id(&id)?, week).await?;
    Ok(Json(ClientWeekDto {
        client_id: w.client.id.to_string(),
        week: w.week.to_string(),
        enrolment: w.enrolment.as_ref().map(enrolment_dto),
        sessions: w.entries.iter().map(calendar_session_dto).collect(),
        closures: w.closures.iter().map(closure_dto).collect(),
    }))
}
