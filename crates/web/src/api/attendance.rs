//! Attendance of IOP sessions, the session note, amendments, outreach tasks, dose compliance,
//! availability and plan requirements, through the API. One use case per handler.

use std::collections::BTreeMap;

use app::attendance::{AttendanceEntry, AttendanceSheet, ComplianceRow};
use app::ports::OutreachTask;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::iop::compliance::{IsoWeek, Shortfall, week_of};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, fmt_rfc3339, path_id};
use crate::AppState;
use crate::auth::ApiAuth;
use crate::error::{ApiError, Problem};

#[derive(Serialize, ToSchema)]
pub struct AttendanceLineDto {
    pub client_id: String,
    pub client_name: String,
    /// present, late, left_early, absent_excused, absent_unexcused; null until recorded
    pub status: Option<String>,
    pub minutes: Option<u16>,
}

#[derive(Serialize, ToSchema)]
pub struct AmendmentDto {
    pub client_id: String,
    pub old_status: String,
    pub old_minutes: u16,
    pub new_status: String,
    pub new_minutes: u16,
    pub reason: String,
    pub amended_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct AttendanceSheetDto {
    pub session_id: String,
    pub title: String,
    pub modality: String,
    pub date: String,
    pub start: String,
    pub minutes: u16,
    pub cancelled: bool,
    /// The note is signed: attendance changes only by amendment.
    pub locked: bool,
    pub roster: Vec<AttendanceLineDto>,
    pub amendments: Vec<AmendmentDto>,
}

fn sheet_dto(s: &AttendanceSheet) -> AttendanceSheetDto {
    AttendanceSheetDto {
        session_id: s.session.id.to_string(),
        title: s.session.title.clone(),
        modality: s.session.modality.code().to_owned(),
        date: s.session.slot.date.to_string(),
        start: format!("{:02}:{:02}", s.session.slot.start.hour(), s.session.slot.start.minute()),
        minutes: s.session.slot.minutes,
        cancelled: s.session.cancelled,
        locked: s.locked,
        roster: s
            .rows
            .iter()
            .map(|r| AttendanceLineDto {
                client_id: r.client.id.to_string(),
                client_name: format!("{} {}", r.client.given_name, r.client.family_name),
                status: r.record.as_ref().map(|a| a.status.code().to_owned()),
                minutes: r.record.as_ref().map(|a| a.minutes),
            })
            .collect(),
        amendments: s
            .amendments
            .iter()
            .map(|a| AmendmentDto {
                client_id: a.client.to_string(),
                old_status: a.old_status.code().to_owned(),
                old_minutes: a.old_minutes,
                new_status: a.new_status.code().to_owned(),
                new_minutes: a.new_minutes,
                reason: a.reason.clone(),
                amended_at: fmt_rfc3339(a.at),
            })
            .collect(),
    }
}

/// A session's roster with its attendance.
#[utoipa::path(get, path = "/api/v1/iop/sessions/{id}/attendance", tag = "iop", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = AttendanceSheetDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn sheet(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<AttendanceSheetDto>, ApiError> {
    let s = state.app.attendance_sheet(&auth.ctx, path_id(&id)?).await?;
    Ok(Json(sheet_dto(&s)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceLineRequest {
    pub client_id: String,
    pub status: String,
    /// Minutes attended; required when late or leaving early, at most the session's length.
    pub minutes: Option<u16>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceRequest {
    pub entries: Vec<AttendanceLineRequest>,
}

#[derive(Serialize, ToSchema)]
pub struct OutreachDto {
    pub id: String,
    pub client_id: String,
    pub session_id: Option<String>,
    pub assigned_to: Option<String>,
    pub reason: String,
    pub due_on: String,
}

fn outreach_dto(t: &OutreachTask) -> OutreachDto {
    OutreachDto {
        id: t.id.to_string(),
        client_id: t.client.to_string(),
        session_id: t.session.map(|s| s.to_string()),
        assigned_to: t.assigned_to.map(|u| u.to_string()),
        reason: t.reason.clone(),
        due_on: t.due_on.to_string(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct RecordedAttendanceDto {
    pub sheet: AttendanceSheetDto,
    /// Outreach tasks opened by unexcused absences.
    pub outreach: Vec<OutreachDto>,
}

/// Record attendance for some or all of the roster; every line is checked before any is saved.
#[utoipa::path(post, path = "/api/v1/iop/sessions/{id}/attendance", tag = "iop", request_body = AttendanceRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = RecordedAttendanceDto), (status = 409, body = Problem), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn record(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AttendanceRequest>,
) -> Result<Json<RecordedAttendanceDto>, ApiError> {
    let session = path_id(&id)?;
    let entries: Vec<AttendanceEntry> = req
        .entries
        .into_iter()
        .map(|e| AttendanceEntry {
            client: e.client_id,
            status: e.status,
            minutes: e.minutes.map(|m| m.to_string()).unwrap_or_default(),
        })
        .collect();
    let tasks = state.app.record_attendance(&auth.ctx, session, &entries).await?;
    let sheet = state.app.attendance_sheet(&auth.ctx, session).await?;
    Ok(Json(RecordedAttendanceDto { sheet: sheet_dto(&sheet), outreach: tasks.iter().map(outreach_dto).collect() }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub note: String,
}

/// Sign the session note; attendance is then changed only by amendment.
#[utoipa::path(post, path = "/api/v1/iop/sessions/{id}/note", tag = "iop", request_body = NoteRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn sign(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NoteRequest>,
) -> Result<StatusCode, ApiError> {
    state.app.sign_session_note(&auth.ctx, path_id(&id)?, &req.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendRequest {
    pub client_id: String,
    pub status: String,
    pub minutes: Option<u16>,
    pub reason: String,
}

/// Amend one client's attendance after the note was signed.
#[utoipa::path(post, path = "/api/v1/iop/sessions/{id}/amendments", tag = "iop", request_body = AmendRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 201, body = AmendmentDto), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn amend(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AmendRequest>,
) -> Result<(StatusCode, Json<AmendmentDto>), ApiError> {
    let entry = AttendanceEntry {
        client: req.client_id,
        status: req.status,
        minutes: req.minutes.map(|m| m.to_string()).unwrap_or_default(),
    };
    let a = state.app.amend_attendance(&auth.ctx, path_id(&id)?, &entry, &req.reason).await?;
    Ok((
        StatusCode::CREATED,
        Json(AmendmentDto {
            client_id: a.client.to_string(),
            old_status: a.old_status.code().to_owned(),
            old_minutes: a.old_minutes,
            new_status: a.new_status.code().to_owned(),
            new_minutes: a.new_minutes,
            reason: a.reason,
            amended_at: fmt_rfc3339(a.at),
        }),
    ))
}

/// Open outreach tasks for the caller's clients.
#[utoipa::path(get, path = "/api/v1/outreach", tag = "iop", security(("bearer" = [])),
    responses((status = 200, body = [OutreachDto])))]
pub async fn outreach(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
) -> Result<Json<Vec<OutreachDto>>, ApiError> {
    let tasks = state.app.outreach_tasks(&auth.ctx).await?;
    Ok(Json(tasks.iter().map(|(t, _)| outreach_dto(t)).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutreachDoneRequest {
    pub outcome: String,
}

/// Record how an outreach call went (once).
#[utoipa::path(post, path = "/api/v1/outreach/{id}/done", tag = "iop", request_body = OutreachDoneRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn outreach_done(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<OutreachDoneRequest>,
) -> Result<StatusCode, ApiError> {
    state.app.complete_outreach(&auth.ctx, path_id(&id)?, &req.outcome).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct ShortfallDto {
    /// hours, modality or h0015_days
    pub kind: String,
    pub detail: String,
}

pub fn shortfall_text(s: &Shortfall) -> (String, String) {
    match s {
        Shortfall::Hours { missing_minutes } => (
            "hours".into(),
            format!("{} h {:02} min short of the weekly minimum", missing_minutes / 60, missing_minutes % 60),
        ),
        Shortfall::Modality { modality, missing } => {
            let amount = match missing {
                domain::iop::compliance::Amount::Sessions(n) => {
                    format!("{n} session{}", if *n == 1 { "" } else { "s" })
                }
                domain::iop::compliance::Amount::Minutes(m) => format!("{m} min"),
            };
            ("modality".into(), format!("{}: {amount} missing", modality.label()))
        }
        Shortfall::H0015Days { have, need } => {
            ("h0015_days".into(), format!("{have} of {need} days with 3 hours (H0015)"))
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DayDto {
    pub date: String,
    pub clinical_minutes: u32,
    pub scheduled_minutes: u32,
    pub h0015: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ComplianceDto {
    pub client_id: String,
    pub client_name: String,
    pub level: Option<String>,
    pub week: String,
    /// met, on_track, at_risk or not_enrolled
    pub status: String,
    /// At risk while the week is still open: someone should act now.
    pub needs_action: bool,
    pub clinical_minutes: u32,
    pub required_minutes: u32,
    pub h0015_days: u8,
    pub days: Vec<DayDto>,
    pub shortfalls: Vec<ShortfallDto>,
    /// What would still be missing after every session scheduled this week.
    pub forecast_shortfalls: Vec<ShortfallDto>,
}

pub fn compliance_dto(r: &ComplianceRow) -> ComplianceDto {
    let w = &r.week;
    let sf = |v: &[Shortfall]| {
        v.iter()
            .map(|s| {
                let (kind, detail) = shortfall_text(s);
                ShortfallDto { kind, detail }
            })
            .collect()
    };
    ComplianceDto {
        client_id: r.client.id.to_string(),
        client_name: format!("{} {}", r.client.given_name, r.client.family_name),
        level: r.level.as_ref().map(|l| l.as_str().to_owned()),
        week: w.week.to_string(),
        status: w.status.code().to_owned(),
        needs_action: w.needs_action(),
        clinical_minutes: w.clinical_minutes,
        required_minutes: w.required_minutes,
        h0015_days: w.h0015.days,
        days: w
            .days
            .iter()
            .map(|d| DayDto {
                date: d.date.to_string(),
                clinical_minutes: d.clinical_minutes,
                scheduled_minutes: d.scheduled_clinical_minutes,
                h0015: d.h0015,
            })
            .collect(),
        shortfalls: sf(&w.shortfalls),
        forecast_shortfalls: sf(&w.forecast_shortfalls),
    }
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
pub struct WeekQuery {
    /// ISO week like 2026-W48; this week when absent.
    pub week: Option<String>,
}

fn parse_week(state: &AppState, q: &WeekQuery) -> Result<IsoWeek, ApiError> {
    match q.week.as_deref() {
        None | Some("") => Ok(week_of(state.app.now().date())),
        Some(w) => {
            w.parse().map_err(|_| ApiError::from(app::AppError::invalid("week", "Give an ISO week like 2026-W48")))
        }
    }
}

/// One client's dose for an ISO week.
#[utoipa::path(get, path = "/api/v1/clients/{id}/dose", tag = "iop", security(("bearer" = [])),
    params(("id" = String, Path), WeekQuery), responses((status = 200, body = ComplianceDto), (status = 422, body = Problem)))]
pub async fn client_dose(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> Result<Json<ComplianceDto>, ApiError> {
    let week = parse_week(&state, &q)?;
    let r = state.app.client_compliance(&auth.ctx, path_id(&id)?, week).await?;
    Ok(Json(compliance_dto(&r)))
}

/// The program's dose dashboard for an ISO week: clients at risk while there is time first.
#[utoipa::path(get, path = "/api/v1/iop/compliance", tag = "iop", security(("bearer" = [])),
    params(WeekQuery), responses((status = 200, body = [ComplianceDto]), (status = 422, body = Problem)))]
pub async fn dashboard(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Query(q): Query<WeekQuery>,
) -> Result<Json<Vec<ComplianceDto>>, ApiError> {
    let week = parse_week(&state, &q)?;
    let rows = state.app.compliance_dashboard(&auth.ctx, week).await?;
    Ok(Json(rows.iter().map(compliance_dto).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityRequest {
    /// Lines like "mon 18:00 21:00".
    pub windows: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PlanDto {
    /// When the client can attend, lines like "mon 18:00 21:00"; empty: whenever the program meets.
    pub windows: Vec<String>,
    /// Modality → sessions a week the treatment plan requires.
    pub requirements: BTreeMap<String, u16>,
}

/// A client's weekly availability and the modalities their plan requires.
#[utoipa::path(get, path = "/api/v1/clients/{id}/program-plan", tag = "iop", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = PlanDto), (status = 404, body = Problem)))]
pub async fn plan(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<PlanDto>, ApiError> {
    let (windows, requirements) = state.app.plan_of(&auth.ctx, path_id(&id)?).await?;
    Ok(Json(PlanDto {
        windows: windows.iter().map(app::attendance::window_line).collect(),
        requirements: requirements.into_iter().map(|(m, n)| (m.code().to_owned(), n)).collect(),
    }))
}

/// Replace a client's weekly availability.
#[utoipa::path(put, path = "/api/v1/clients/{id}/availability", tag = "iop", request_body = AvailabilityRequest,
    security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 422, body = Problem)))]
pub async fn availability(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AvailabilityRequest>,
) -> Result<StatusCode, ApiError> {
    state.app.set_availability(&auth.ctx, path_id(&id)?, &req.windows.join("\n")).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the modalities a client's plan requires each week (modality → sessions a week).
#[utoipa::path(put, path = "/api/v1/clients/{id}/requirements", tag = "iop", request_body = BTreeMap<String, u16>,
    security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 422, body = Problem)))]
pub async fn requirements(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<BTreeMap<String, u16>>,
) -> Result<StatusCode, ApiError> {
    let typed: BTreeMap<String, String> = req.into_iter().map(|(k, v)| (k, v.to_string())).collect();
    state.app.set_requirements(&auth.ctx, path_id(&id)?, &typed).await?;
    Ok(StatusCode::NO_CONTENT)
}
