//! Attendance in the browser: one screen per session that takes the whole roster at once
//! (everyone starts as present, so a full group is one click), the session note that locks it,
//! amendments after that, outreach tasks, and dose compliance per client and for the program.

use std::collections::BTreeMap;

use app::attendance::{AttendanceEntry, ComplianceRow};
use app::auth::Authenticated;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::ids::{ClientId, IopSessionId};
use domain::iop::Modality;
use domain::iop::compliance::{IsoWeek, week_of};
use domain::iop::program::AttendanceStatus;
use serde::Deserialize;

use super::{Chrome, Errors, fmt_time, form_errors, ok, render};
use crate::AppState;
use crate::api::attendance::shortfall_text;
use crate::auth::Signed;
use crate::error::UiError;
use crate::forms::CsrfForm;

fn parse<T: std::str::FromStr>(raw: &str) -> Result<T, UiError> {
    raw.parse().map_err(|_| UiError::App(app::AppError::NotFound))
}

fn hm(minutes: u32) -> String {
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

pub struct StatusOption {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

pub struct RosterRow {
    pub client_id: String,
    pub name: String,
    pub options: Vec<StatusOption>,
    pub minutes: String,
    pub recorded: String,
}

#[derive(Template)]
#[template(path = "attendance.html")]
struct AttendancePage {
    chrome: Chrome,
    action: String,
    title: String,
    when: String,
    length: u16,
    cancelled: bool,
    locked: bool,
    rows: Vec<RosterRow>,
    /// The statuses an amendment can set (the form's list, whoever is on the roster).
    statuses: Vec<StatusOption>,
    amendments: Vec<(String, String, String, String)>,
    errors: Errors,
    saved: bool,
}

async fn attendance_page(
    state: &AppState,
    auth: &Authenticated,
    id: IopSessionId,
    errors: Errors,
    saved: bool,
) -> Result<AttendancePage, UiError> {
    let s = state.app.attendance_sheet(&auth.ctx, id).await?;
    let names: BTreeMap<ClientId, String> =
        s.rows.iter().map(|r| (r.client.id, format!("{}, {}", r.client.family_name, r.client.given_name))).collect();
    let rows = s
        .rows
        .iter()
        .map(|r| {
            let current = r.record.as_ref().map(|a| a.status).unwrap_or(AttendanceStatus::Present);
            RosterRow {
                client_id: r.client.id.to_string(),
                name: format!("{}, {}", r.client.family_name, r.client.given_name),
                options: AttendanceStatus::ALL
                    .into_iter()
                    .map(|st| StatusOption { code: st.code(), label: st.label(), checked: st == current })
                    .collect(),
                minutes: r.record.as_ref().map(|a| a.minutes.to_string()).unwrap_or_default(),
                recorded: r
                    .record
                    .as_ref()
                    .map(|a| format!("{} · {} min", a.status.label(), a.minutes))
                    .unwrap_or_else(|| "not recorded".into()),
            }
        })
        .collect();
    let amendments = s
        .amendments
        .iter()
        .map(|a| {
            (
                names.get(&a.client).cloned().unwrap_or_default(),
                format!(
                    "{} {} min → {} {} min",
                    a.old_status.label(),
                    a.old_minutes,
                    a.new_status.label(),
                    a.new_minutes
                ),
                a.reason.clone(),
                fmt_time(a.at),
            )
        })
        .collect();
    let slot = s.session.slot;
    Ok(AttendancePage {
        chrome: Chrome::for_user(auth, "/program/dose"),
        action: format!("/iop/sessions/{id}"),
        title: s.session.title.clone(),
        when: format!(
            "{} {} {:02}:{:02}, {} min · {}",
            slot.date.weekday(),
            slot.date,
            slot.start.hour(),
            slot.start.minute(),
            slot.minutes,
            s.session.modality.label()
        ),
        length: slot.minutes,
        cancelled: s.session.cancelled,
        locked: s.locked,
        rows,
        statuses: AttendanceStatus::ALL
            .into_iter()
            .map(|st| StatusOption { code: st.code(), label: st.label(), checked: false })
            .collect(),
        amendments,
        errors,
        saved,
    })
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn sheet(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, UiError> {
    ok(&attendance_page(&state, &auth, parse(&id)?, Errors::default(), q.saved.is_some()).await?)
}

/// Fields named `status:<client>` and `minutes:<client>`, one pair per roster line.
pub async fn record(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let session: IopSessionId = parse(&id)?;
    let mut entries: BTreeMap<String, AttendanceEntry> = BTreeMap::new();
    for (k, v) in pairs {
        if let Some(c) = k.strip_prefix("status:") {
            entries
                .entry(c.to_owned())
                .or_insert_with(|| AttendanceEntry { client: c.to_owned(), ..Default::default() })
                .status = v;
        } else if let Some(c) = k.strip_prefix("minutes:") {
            entries
                .entry(c.to_owned())
                .or_insert_with(|| AttendanceEntry { client: c.to_owned(), ..Default::default() })
                .minutes = v;
        }
    }
    let entries: Vec<AttendanceEntry> = entries.into_values().filter(|e| !e.status.is_empty()).collect();
    match state.app.record_attendance(&auth.ctx, session, &entries).await {
        Ok(_) => Ok(Redirect::to(&format!("/iop/sessions/{session}/attendance?saved=1")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &attendance_page(&state, &auth, session, errors, false).await?)
        }
    }
}

#[derive(Deserialize)]
pub struct NoteFields {
    #[serde(default)]
    note: String,
}

pub async fn sign(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<NoteFields>,
) -> Result<Response, UiError> {
    let session: IopSessionId = parse(&id)?;
    match state.app.sign_session_note(&auth.ctx, session, &f.note).await {
        Ok(()) => Ok(Redirect::to(&format!("/iop/sessions/{session}/attendance")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &attendance_page(&state, &auth, session, errors, false).await?)
        }
    }
}

#[derive(Deserialize)]
pub struct AmendFields {
    #[serde(default)]
    client: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    reason: String,
}

pub async fn amend(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<AmendFields>,
) -> Result<Response, UiError> {
    let session: IopSessionId = parse(&id)?;
    let entry = AttendanceEntry { client: f.client, status: f.status, minutes: f.minutes };
    match state.app.amend_attendance(&auth.ctx, session, &entry, &f.reason).await {
        Ok(_) => Ok(Redirect::to(&format!("/iop/sessions/{session}/attendance")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &attendance_page(&state, &auth, session, errors, false).await?)
        }
    }
}

// ---------- dose compliance ----------

pub struct DoseRow {
    pub client_id: String,
    pub client: String,
    pub level: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub hours: String,
    pub h0015: String,
    pub shortfalls: Vec<String>,
    pub needs_action: bool,
}

fn dose_row(r: &ComplianceRow) -> DoseRow {
    let w = &r.week;
    let shown = if w.shortfalls.is_empty() { &w.forecast_shortfalls } else { &w.shortfalls };
    DoseRow {
        client_id: r.client.id.to_string(),
        client: format!("{}, {}", r.client.family_name, r.client.given_name),
        level: r.level.as_ref().map(|l| l.as_str().to_owned()).unwrap_or_default(),
        status: w.status.label(),
        status_code: w.status.code(),
        hours: format!("{} of {}", hm(w.clinical_minutes), hm(w.required_minutes)),
        // "0 of 3" where the rule counts this week, the days alone where it cannot apply.
        h0015: if w.h0015.required {
            format!("{} of {}", w.h0015.days, domain::iop::compliance::H0015_DAYS_PER_WEEK)
        } else {
            w.h0015.days.to_string()
        },
        shortfalls: shown.iter().map(|s| shortfall_text(s).1).collect(),
        needs_action: w.needs_action(),
    }
}

#[derive(Template)]
#[template(path = "dose_dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    week: String,
    previous: String,
    next: String,
    rows: Vec<DoseRow>,
    at_risk: usize,
}

#[derive(Deserialize)]
pub struct WeekQuery {
    #[serde(default)]
    week: String,
}

fn week_param(state: &AppState, raw: &str) -> Result<IsoWeek, UiError> {
    if raw.trim().is_empty() {
        return Ok(week_of(state.app.now().date()));
    }
    raw.trim().parse().map_err(|_| UiError::BadRequest("The week must look like 2026-W48."))
}

pub async fn dashboard(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Query(q): Query<WeekQuery>,
) -> Result<Response, UiError> {
    let week = week_param(&state, &q.week)?;
    let rows: Vec<DoseRow> = state.app.compliance_dashboard(&auth.ctx, week).await?.iter().map(dose_row).collect();
    ok(&DashboardPage {
        chrome: Chrome::for_user(&auth, "/program/dose"),
        week: week.to_string(),
        previous: week.previous().map(|w| w.to_string()).unwrap_or_default(),
        next: week.next().map(|w| w.to_string()).unwrap_or_default(),
        at_risk: rows.iter().filter(|r| r.needs_action).count(),
        rows,
    })
}

pub struct DayView {
    pub label: String,
    pub attended: String,
    pub scheduled: String,
    pub h0015: bool,
}

#[derive(Template)]
#[template(path = "client_dose.html")]
struct ClientDosePage {
    chrome: Chrome,
    client_id: String,
    row: DoseRow,
    week: String,
    previous: String,
    next: String,
    days: Vec<DayView>,
    modalities: Vec<(String, String, bool)>,
    availability: String,
    requirements: Vec<(&'static str, &'static str, String)>,
    errors: Errors,
}

async fn client_dose_page(
    state: &AppState,
    auth: &Authenticated,
    client: ClientId,
    week: IsoWeek,
    errors: Errors,
    typed_availability: Option<String>,
) -> Result<ClientDosePage, UiError> {
    let r = state.app.client_compliance(&auth.ctx, client, week).await?;
    let plan = state.app.plan_of(&auth.ctx, client).await?;
    let availability = typed_availability
        .unwrap_or_else(|| plan.0.iter().map(app::attendance::window_line).collect::<Vec<_>>().join("\n"));
    let w = &r.week;
    Ok(ClientDosePage {
        chrome: Chrome::for_user(auth, "/program/dose"),
        client_id: client.to_string(),
        week: week.to_string(),
        previous: week.previous().map(|w| w.to_string()).unwrap_or_default(),
        next: week.next().map(|w| w.to_string()).unwrap_or_default(),
        days: w
            .days
            .iter()
            .map(|d| DayView {
                label: format!("{} {}", d.date.weekday(), d.date),
                attended: hm(d.clinical_minutes),
                scheduled: hm(d.scheduled_clinical_minutes),
                h0015: d.h0015,
            })
            .collect(),
        modalities: w
            .modalities
            .iter()
            .map(|m| (m.modality.label().to_owned(), format!("{} session(s)", m.sessions), m.met))
            .collect(),
        availability,
        requirements: Modality::ALL
            .into_iter()
            .map(|m| {
                let n = plan.1.iter().find(|(x, _)| *x == m).map(|(_, n)| n.to_string()).unwrap_or_default();
                (m.code(), m.label(), n)
            })
            .collect(),
        row: dose_row(&r),
        errors,
    })
}

pub async fn client_dose(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> Result<Response, UiError> {
    let week = week_param(&state, &q.week)?;
    ok(&client_dose_page(&state, &auth, parse(&id)?, week, Errors::default(), None).await?)
}

#[derive(Deserialize)]
pub struct AvailabilityFields {
    #[serde(default)]
    availability: String,
}

pub async fn availability(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<AvailabilityFields>,
) -> Result<Response, UiError> {
    let client: ClientId = parse(&id)?;
    match state.app.set_availability(&auth.ctx, client, &f.availability).await {
        Ok(_) => Ok(Redirect::to(&format!("/clients/{client}/dose")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let week = week_of(state.app.now().date());
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &client_dose_page(&state, &auth, client, week, errors, Some(f.availability)).await?,
            )
        }
    }
}

pub async fn requirements(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let client: ClientId = parse(&id)?;
    let typed: BTreeMap<String, String> =
        pairs.into_iter().filter_map(|(k, v)| k.strip_prefix("req:").map(|m| (m.to_owned(), v))).collect();
    match state.app.set_requirements(&auth.ctx, client, &typed).await {
        Ok(()) => Ok(Redirect::to(&format!("/clients/{client}/dose")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let week = week_of(state.app.now().date());
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &client_dose_page(&state, &auth, client, week, errors, None).await?,
            )
        }
    }
}

// ---------- outreach ----------

#[derive(Template)]
#[template(path = "outreach.html")]
struct OutreachPage {
    chrome: Chrome,
    rows: Vec<(String, String, String, String, String)>,
    errors: Errors,
}

async fn outreach_page(state: &AppState, auth: &Authenticated, errors: Errors) -> Result<OutreachPage, UiError> {
    let rows = state
        .app
        .outreach_tasks(&auth.ctx)
        .await?
        .into_iter()
        .map(|(t, c)| {
            (
                t.id.to_string(),
                c.id.to_string(),
                format!("{}, {}", c.family_name, c.given_name),
                t.reason,
                t.due_on.to_string(),
            )
        })
        .collect();
    Ok(OutreachPage { chrome: Chrome::for_user(auth, "/outreach"), rows, errors })
}

pub async fn outreach(State(state): State<AppState>, Signed(auth): Signed) -> Result<Response, UiError> {
    ok(&outreach_page(&state, &auth, Errors::default()).await?)
}

#[derive(Deserialize)]
pub struct OutcomeFields {
    #[serde(default)]
    outcome: String,
}

pub async fn outreach_done(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<OutcomeFields>,
) -> Result<Response, UiError> {
    match state.app.complete_outreach(&auth.ctx, parse(&id)?, &f.outcome).await {
        Ok(()) => Ok(Redirect::to("/outreach").into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &outreach_page(&state, &auth, errors).await?)
        }
    }
}
