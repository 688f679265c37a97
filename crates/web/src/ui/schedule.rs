//! The schedule builder's proposal as a grid a coordinator can edit and apply in one action.

use std::collections::{BTreeMap, BTreeSet};

use app::auth::Authenticated;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::ids::{ClientId, IopSessionId, TrackId};
use domain::iop::compliance::{IsoWeek, week_of};
use serde::Deserialize;

use super::{Chrome, Errors, form_errors, ok, render};
use crate::AppState;
use crate::auth::Signed;
use crate::error::UiError;
use crate::forms::CsrfForm;

pub struct SessionHead {
    pub label: String,
    pub open: bool,
}

pub struct Cell {
    pub session: String,
    pub label: String,
    pub checked: bool,
    pub editable: bool,
}

pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub cells: Vec<Cell>,
}

#[derive(Template)]
#[template(path = "schedule.html")]
struct SchedulePage {
    chrome: Chrome,
    track_id: String,
    track: String,
    week: String,
    sessions: Vec<SessionHead>,
    clients: Vec<ClientRow>,
    unplaced: Vec<(String, String)>,
    placed: u32,
    total: usize,
    continuity: u32,
    excess: u64,
    elapsed: u128,
    errors: Errors,
    applied: bool,
    /// The rosters as they stand rather than a new proposal.
    current: bool,
}

#[derive(Deserialize)]
pub struct WeekQuery {
    #[serde(default)]
    week: String,
    applied: Option<String>,
    /// `current`: the rosters as they stand; otherwise a new proposal.
    #[serde(default)]
    view: String,
}

fn week_param(state: &AppState, raw: &str) -> Result<IsoWeek, UiError> {
    if raw.trim().is_empty() {
        return Ok(week_of(state.app.now().date()));
    }
    raw.trim().parse().map_err(|_| UiError::BadRequest("The week must look like 2026-W48."))
}

async fn page(
    state: &AppState,
    auth: &Authenticated,
    track: TrackId,
    week: IsoWeek,
    errors: Errors,
    applied: bool,
    current: bool,
) -> Result<SchedulePage, UiError> {
    let p = if current {
        state.app.current_schedule(&auth.ctx, track, week).await?
    } else {
        state.app.propose_schedule(&auth.ctx, track, week).await?
    };
    let label = |s: &app::ports::ProgramSession| {
        format!(
            "{} {:02}:{:02} {}",
            s.slot.date.weekday().to_string().get(..3).unwrap_or(""),
            s.slot.start.hour(),
            s.slot.start.minute(),
            s.modality.label()
        )
    };
    let sessions = p.sessions.iter().map(|s| SessionHead { label: label(s), open: s.track == Some(track) }).collect();
    let clients = p
        .clients
        .iter()
        .enumerate()
        .map(|(i, c)| ClientRow {
            id: c.id.to_string(),
            name: format!("{}, {}", c.family_name, c.given_name),
            cells: p
                .sessions
                .iter()
                .enumerate()
                .map(|(n, s)| Cell {
                    session: s.id.to_string(),
                    label: label(s),
                    checked: p.assignments.get(i).is_some_and(|a| a.contains(&n)),
                    editable: s.track == Some(track) && !p.fixed.get(i).is_some_and(|f| f.contains(&n)),
                })
                .collect(),
        })
        .collect();
    Ok(SchedulePage {
        chrome: Chrome::for_user(auth, "/program"),
        track_id: track.to_string(),
        track: p.track.name.clone(),
        week: week.to_string(),
        sessions,
        unplaced: p
            .unplaced
            .iter()
            .filter_map(|(i, b)| {
                p.clients
                    .get(*i)
                    .map(|c| (format!("{}, {}", c.family_name, c.given_name), app::schedule::blocker_text(b)))
            })
            .collect(),
        placed: p.score.placed,
        total: p.clients.len(),
        continuity: p.score.continuity,
        excess: p.score.excess_minutes,
        elapsed: p.elapsed_ms,
        clients,
        errors,
        applied,
        current,
    })
}

pub async fn show(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> Result<Response, UiError> {
    let track: TrackId = id.parse().map_err(|_| UiError::App(app::AppError::NotFound))?;
    let week = week_param(&state, &q.week)?;
    // After applying, the page shows what was applied: a new proposal could differ from the
    // coordinator's edit, and applying it again would undo that edit.
    let current = q.applied.is_some() || q.view == "current";
    ok(&page(&state, &auth, track, week, Errors::default(), q.applied.is_some(), current).await?)
}

pub async fn apply(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    Query(q): Query<WeekQuery>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let track: TrackId = id.parse().map_err(|_| UiError::App(app::AppError::NotFound))?;
    let week = week_param(&state, &q.week)?;
    let proposal = state.app.propose_schedule(&auth.ctx, track, week).await?;
    // Every enrolled client is sent, so unticking all of a client's boxes empties their week.
    let mut wanted: BTreeMap<ClientId, BTreeSet<IopSessionId>> =
        proposal.clients.iter().map(|c| (c.id, BTreeSet::new())).collect();
    for (k, v) in pairs {
        if let Some(c) = k.strip_prefix("a:")
            && let (Ok(client), Ok(session)) = (c.parse::<ClientId>(), v.parse::<IopSessionId>())
        {
            wanted.entry(client).or_default().insert(session);
        }
    }
    match state.app.apply_schedule(&auth.ctx, track, week, &wanted).await {
        Ok(_) => Ok(Redirect::to(&format!("/program/tracks/{track}/schedule?week={week}&applied=1")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page(&state, &auth, track, week, errors, false, false).await?)
        }
    }
}

pub struct LoadRow {
    pub id: String,
    pub name: String,
    pub max_load: u32,
    pub set: bool,
    pub this_week: u32,
}

#[derive(Template)]
#[template(path = "facilitator_loads.html")]
struct LoadsPage {
    chrome: Chrome,
    rows: Vec<LoadRow>,
    can_manage: bool,
    default_load: u32,
    max_load: u32,
    errors: Errors,
    saved: bool,
    typed_user: String,
    typed_load: String,
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

#[derive(Deserialize)]
pub struct LoadFields {
    #[serde(default)]
    user: String,
    #[serde(default)]
    max_load: String,
}

async fn loads_page(
    state: &AppState,
    auth: &Authenticated,
    errors: Errors,
    saved: bool,
    typed: Option<&LoadFields>,
) -> Result<LoadsPage, UiError> {
    let rows = state
        .app
        .facilitator_loads(&auth.ctx)
        .await?
        .into_iter()
        .map(|l| LoadRow {
            id: l.user.to_string(),
            name: l.name,
            max_load: l.max_load,
            set: l.set,
            this_week: l.this_week,
        })
        .collect();
    Ok(LoadsPage {
        chrome: Chrome::for_user(auth, "/program"),
        rows,
        can_manage: auth.ctx.actor.require(domain::access::Permission::ManageProgram).is_ok(),
        default_load: app::schedule::DEFAULT_FACILITATOR_LOAD,
        max_load: app::schedule::MAX_FACILITATOR_LOAD,
        errors,
        saved,
        typed_user: typed.map(|f| f.user.clone()).unwrap_or_default(),
        typed_load: typed.map(|f| f.max_load.clone()).unwrap_or_default(),
    })
}

pub async fn loads(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Query(q): Query<SavedQuery>,
) -> Result<Response, UiError> {
    ok(&loads_page(&state, &auth, Errors::default(), q.saved.is_some(), None).await?)
}

pub async fn set_load(
    State(state): State<AppState>,
    Signed(auth): Signed,
    CsrfForm(f): CsrfForm<LoadFields>,
) -> Result<Response, UiError> {
    match state.app.set_facilitator_load(&auth.ctx, &f.user, &f.max_load).await {
        Ok(()) => Ok(Redirect::to("/program/loads?saved=1").into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &loads_page(&state, &auth, errors, false, Some(&f)).await?)
        }
    }
}
