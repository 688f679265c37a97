//! The IOP program calendar in the browser: the program page (tracks, weekly templates,
//! closures, generating a week), the calendar by track, staff member, room or client (day or
//! week), a session with its roster and exceptions, the enrolment block of the client chart,
//! and a client's printable weekly schedule. Works without JavaScript; nothing inline.

use std::collections::BTreeMap;

use app::FieldError;
use app::auth::Authenticated;
use app::iop::{
    AppointmentForm, CalendarEntry, CalendarView, ClosureForm, EnrolForm, MoveForm, SlotForm, TemplateForm, TrackForm,
    WEEKDAYS, hm, slot_end, span, weekday_code, weekday_label,
};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::{Permission, grant};
use domain::ids::{ClientId, EnrolmentId, IopSessionId, TemplateId, TrackId};
use domain::iop::Modality;
use domain::iop::compliance::IsoWeek;
use serde::Deserialize;
use time::{Date, Duration};

use super::{Chrome, Errors, form_errors, ok, render};
use crate::AppState;
use crate::auth::Signed;
use crate::error::UiError;
use crate::forms::CsrfForm;

fn not_found() -> UiError {
    UiError::App(app::AppError::NotFound)
}

fn parse<T: std::str::FromStr>(raw: &str) -> Result<T, UiError> {
    raw.parse().map_err(|_| not_found())
}

/// `Mon 1 Dec`.
fn short_day(d: Date) -> String {
    d.format(time::macros::format_description!("[weekday repr:short] [day padding:none] [month repr:short]"))
        .unwrap_or_default()
}

/// `Monday 1 December 2026`.
fn long_day(d: Date) -> String {
    d.format(time::macros::format_description!("[weekday] [day padding:none] [month repr:long] [year]"))
        .unwrap_or_default()
}

/// A choice in a `<select>`.
pub struct Opt {
    pub value: String,
    pub label: String,
}

fn opt(value: impl ToString, label: impl ToString) -> Opt {
    Opt { value: value.to_string(), label: label.to_string() }
}

/// Which form on a page failed, with its errors and what was typed, so the message shows
/// beside the right field and the summary links to it (field ids are `prefix` + name).
#[derive(Default)]
pub struct FormState {
    pub prefix: String,
    pub errors: Errors,
    pub values: BTreeMap<String, String>,
}

impl FormState {
    fn failed(prefix: impl Into<String>, errors: Errors, values: &[(&str, &str)]) -> Self {
        let values = values.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Self { prefix: prefix.into(), errors, values }
    }
    pub fn error(&self, prefix: &str, field: &str) -> Option<&str> {
        if self.prefix == prefix { self.errors.get(field) } else { None }
    }
    /// What the failed form held, or `default` for every other form.
    pub fn value(&self, prefix: &str, field: &str, default: &str) -> String {
        if self.prefix == prefix { self.values.get(field).cloned().unwrap_or_default() } else { default.to_owned() }
    }
    pub fn any(&self) -> bool {
        self.errors.any()
    }
    pub fn all(&self) -> &[FieldError] {
        self.errors.all()
    }
}

fn modality_options(one_to_one: Option<bool>) -> Vec<Opt> {
    Modality::ALL
        .into_iter()
        .filter(|m| one_to_one.is_none_or(|o| m.is_one_to_one() == o))
        .map(|m| opt(m.code(), m.label()))
        .collect()
}

fn weekday_options() -> Vec<Opt> {
    WEEKDAYS.into_iter().map(|d| opt(weekday_code(d), weekday_label(d))).collect()
}

fn facilitator_options(users: &[domain::user::User]) -> Vec<Opt> {
    users.iter().map(|u| opt(u.id, &u.display_name)).collect()
}

// ---------------------------------------------------------------------------------------
// The program page

pub struct EntryRow {
    pub id: String,
    pub prefix: String,
    pub weekday: &'static str,
    pub day: &'static str,
    pub start: String,
    pub end: String,
    pub modality: &'static str,
    pub modality_label: &'static str,
    pub title: String,
    pub facilitator_id: String,
    pub facilitator: String,
    pub room_id: String,
    pub room: String,
}

pub struct TrackBlock {
    pub id: String,
    pub edit_prefix: String,
    pub new_prefix: String,
    pub gen_prefix: String,
    pub name: String,
    pub site: String,
    pub group_limit: String,
    pub active_from: String,
    pub active_until: String,
    pub enrolled: usize,
    pub calendar_href: String,
    pub entries: Vec<EntryRow>,
    pub rooms: Vec<Opt>,
}

pub struct ClosureRow {
    pub id: String,
    pub site: String,
    pub date: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "program.html")]
struct ProgramPage {
    chrome: Chrome,
    form: FormState,
    can_manage: bool,
    tracks: Vec<TrackBlock>,
    closures: Vec<ClosureRow>,
    sites: Vec<Opt>,
    facilitators: Vec<Opt>,
    modalities: Vec<Opt>,
    weekdays: Vec<Opt>,
    weeks: Vec<Opt>,
    today: String,
    done: Option<String>,
}

async fn program_page(
    state: &AppState,
    auth: &Authenticated,
    form: FormState,
    done: Option<String>,
) -> Result<ProgramPage, UiError> {
    let p = state.app.program(&auth.ctx).await?;
    let this_week = IsoWeek::of(p.today);
    let mut weeks = Vec::new();
    let mut w = Some(this_week);
    for label in ["This week", "Next week", "The week after"] {
        if let Some(week) = w {
            weeks.push(opt(week, format!("{label} ({week}, from {})", short_day(week.monday()))));
            w = week.next();
        }
    }
    let tracks = p
        .tracks
        .iter()
        .map(|t| {
            let id = t.track.id.to_string();
            TrackBlock {
                edit_prefix: format!("t-{id}-"),
                new_prefix: format!("n-{id}-"),
                gen_prefix: format!("g-{id}-"),
                name: t.track.name.clone(),
                site: t.site_name.clone(),
                group_limit: t.track.group_limit.to_string(),
                active_from: t.track.active_from.to_string(),
                active_until: t.track.active_until.map(|d| d.to_string()).unwrap_or_default(),
                enrolled: t.enrolled,
                calendar_href: format!("/program/calendar?who=track:{id}"),
                entries: t
                    .templates
                    .iter()
                    .map(|e| {
                        let x = &e.template.entry;
                        let slot = domain::iop::Slot { date: p.today, start: x.start, minutes: x.minutes };
                        EntryRow {
                            id: x.id.to_string(),
                            prefix: format!("e-{}-", x.id),
                            weekday: weekday_code(x.weekday),
                            day: weekday_label(x.weekday),
                            start: hm(x.start),
                            end: hm(slot_end(&slot)),
                            modality: x.modality.code(),
                            modality_label: x.modality.label(),
                            title: x.title.clone(),
                            facilitator_id: x.facilitator.to_string(),
                            facilitator: e.facilitator_name.clone(),
                            room_id: x.room.map(|r| r.to_string()).unwrap_or_default(),
                            room: e.room_name.clone().unwrap_or_default(),
                        }
                    })
                    .collect(),
                rooms: p
                    .sites
                    .iter()
                    .filter(|s| s.site.id == t.track.site)
                    .flat_map(|s| s.rooms.iter().map(|r| opt(r.id, format!("{} (holds {})", r.name, r.capacity))))
                    .collect(),
                id,
            }
        })
        .collect();
    Ok(ProgramPage {
        chrome: Chrome::for_user(auth, "/program"),
        form,
        can_manage: p.can_manage,
        tracks,
        closures: p
            .closures
            .iter()
            .map(|c| ClosureRow {
                id: c.closure.id.to_string(),
                site: c.site_name.clone(),
                date: long_day(c.closure.closure.date),
                reason: c.closure.closure.reason.clone(),
            })
            .collect(),
        sites: p.sites.iter().map(|s| opt(s.site.id, &s.site.name)).collect(),
        facilitators: facilitator_options(&p.facilitators),
        modalities: modality_options(None),
        weekdays: weekday_options(),
        weeks,
        today: p.today.to_string(),
        done,
    })
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

fn done_message(code: &str) -> Option<String> {
    Some(
        match code {
            "track" => "Track saved.",
            "template" => "Template saved. Weeks generated from now on follow it.",
            "retired" => "Template entry retired. Sessions already generated stay.",
            "closure" => "Closure saved; the site's sessions that day are cancelled.",
            "closure-removed" => "Closure removed.",
            "cancelled" => "Session cancelled.",
            "reinstated" => "Session reinstated.",
            "moved" => "Session moved.",
            "substitute" => "Facilitator changed.",
            "roster" => "Roster changed.",
            _ => return None,
        }
        .to_owned(),
    )
}

pub async fn program(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Query(q): Query<DoneQuery>,
) -> Result<Response, UiError> {
    ok(&program_page(&state, &auth, FormState::default(), done_message(&q.done)).await?)
}

async fn program_failed(
    state: &AppState,
    auth: &Authenticated,
    err: app::AppError,
    prefix: String,
    values: &[(&str, &str)],
) -> Result<Response, UiError> {
    let errors = form_errors(err)?;
    let form = FormState::failed(prefix, errors, values);
    render(StatusCode::UNPROCESSABLE_ENTITY, &program_page(state, auth, form, None).await?)
}

#[derive(Deserialize)]
pub struct TrackFields {
    #[serde(default)]
    site: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    group_limit: String,
    #[serde(default)]
    active_from: String,
    #[serde(default)]
    active_until: String,
}

impl TrackFields {
    fn form(&self) -> TrackForm {
        TrackForm {
            site: self.site.clone(),
            name: self.name.clone(),
            group_limit: self.group_limit.clone(),
            active_from: self.active_from.clone(),
            active_until: self.active_until.clone(),
        }
    }
    fn values(&self) -> [(&str, &str); 5] {
        [
            ("site", &self.site),
            ("name", &self.name),
            ("group_limit", &self.group_limit),
            ("active_from", &self.active_from),
            ("active_until", &self.active_until),
        ]
    }
}

pub async fn create_track(
    State(state): State<AppState>,
    Signed(auth): Signed,
    CsrfForm(f): CsrfForm<TrackFields>,
) -> Result<Response, UiError> {
    match state.app.create_track(&auth.ctx, &f.form()).await {
        Ok(_) => Ok(Redirect::to("/program?done=track").into_response()),
        Err(e) => program_failed(&state, &auth, e, "nt-".into(), &f.values()).await,
    }
}

pub async fn update_track(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<TrackFields>,
) -> Result<Response, UiError> {
    let track: TrackId = parse(&id)?;
    match state.app.update_track(&auth.ctx, track, &f.form()).await {
        Ok(_) => Ok(Redirect::to("/program?done=track").into_response()),
        Err(e) => program_failed(&state, &auth, e, format!("t-{track}-"), &f.values()).await,
    }
}

#[derive(Deserialize)]
pub struct TemplateFields {
    #[serde(default)]
    weekday: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    modality: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    facilitator: String,
    #[serde(default)]
    room: String,
}

impl TemplateFields {
    fn form(&self) -> TemplateForm {
        TemplateForm {
            weekday: self.weekday.clone(),
            start: self.start.clone(),
            end: self.end.clone(),
            modality: self.modality.clone(),
            title: self.title.clone(),
            facilitator: self.facilitator.clone(),
            room: self.room.clone(),
        }
    }
    fn values(&self) -> [(&str, &str); 7] {
        [
            ("weekday", &self.weekday),
            ("start", &self.start),
            ("end", &self.end),
            ("modality", &self.modality),
            ("title", &self.title),
            ("facilitator", &self.facilitator),
            ("room", &self.room),
        ]
    }
}

pub async fn add_template(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<TemplateFields>,
) -> Result<Response, UiError> {
    let track: TrackId = parse(&id)?;
    match state.app.add_template(&auth.ctx, track, &f.form()).await {
        Ok(_) => Ok(Redirect::to("/program?done=template").into_response()),
        Err(e) => program_failed(&state, &auth, e, format!("n-{track}-"), &f.values()).await,
    }
}

pub async fn update_template(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<TemplateFields>,
) -> Result<Response, UiError> {
    let template: TemplateId = parse(&id)?;
    match state.app.update_template(&auth.ctx, template, &f.form()).await {
        Ok(_) => Ok(Redirect::to("/program?done=template").into_response()),
        Err(e) => program_failed(&state, &auth, e, format!("e-{template}-"), &f.values()).await,
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn retire_template(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    state.app.retire_template(&auth.ctx, parse(&id)?).await?;
    Ok(Redirect::to("/program?done=retired").into_response())
}

#[derive(Deserialize)]
pub struct GenerateFields {
    #[serde(default)]
    week: String,
}

pub async fn generate(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<GenerateFields>,
) -> Result<Response, UiError> {
    let track: TrackId = parse(&id)?;
    let result = match f.week.parse::<IsoWeek>() {
        Ok(week) => state.app.ensure_week(&auth.ctx, track, week).await,
        Err(_) => Err(app::AppError::invalid("week", "Choose a week")),
    };
    match result {
        Ok(done) => {
            let to = format!(
                "/program/calendar?who=track:{track}&from={}&generated={}",
                done.week.monday(),
                done.created.len()
            );
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => program_failed(&state, &auth, e, format!("g-{track}-"), &[("week", &f.week)]).await,
    }
}

#[derive(Deserialize)]
pub struct ClosureFields {
    #[serde(default)]
    site: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    reason: String,
}

pub async fn add_closure(
    State(state): State<AppState>,
    Signed(auth): Signed,
    CsrfForm(f): CsrfForm<ClosureFields>,
) -> Result<Response, UiError> {
    let form = ClosureForm { site: f.site.clone(), date: f.date.clone(), reason: f.reason.clone() };
    match state.app.add_closure(&auth.ctx, &form).await {
        Ok(_) => Ok(Redirect::to("/program?done=closure").into_response()),
        Err(e) => {
            let values = [("site", f.site.as_str()), ("date", f.date.as_str()), ("reason", f.reason.as_str())];
            program_failed(&state, &auth, e, "cl-".into(), &values).await
        }
    }
}

pub async fn remove_closure(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    state.app.remove_closure(&auth.ctx, parse(&id)?).await?;
    Ok(Redirect::to("/program?done=closure-removed").into_response())
}

// ---------------------------------------------------------------------------------------
// Calendars

pub struct SessionCard {
    pub href: String,
    pub time: String,
    pub title: String,
    pub modality: &'static str,
    pub track: String,
    pub room: String,
    pub facilitator: String,
    /// "Substitute: X (for Y)".
    pub substitute: String,
    pub roster: String,
    pub full: bool,
    pub cancelled: bool,
    pub reason: String,
    pub clients: Vec<String>,
}

fn card(e: &CalendarEntry) -> SessionCard {
    let s = &e.session;
    SessionCard {
        href: format!("/iop/sessions/{}", s.id),
        time: span(&s.slot),
        title: s.title.clone(),
        modality: s.modality.label(),
        track: e.track_name.clone().unwrap_or_else(|| "Appointment".into()),
        room: e.room_name.clone().unwrap_or_default(),
        facilitator: e.facilitator_name.clone(),
        substitute: e
            .substitute_name
            .as_ref()
            .map(|n| format!("Substitute: {n} (for {})", e.facilitator_name))
            .unwrap_or_default(),
        roster: format!("{} of {}", e.roster_count, s.capacity),
        full: e.roster_count >= usize::from(s.capacity),
        cancelled: s.cancelled,
        reason: s.status_reason.clone().unwrap_or_default(),
        clients: e.clients.iter().map(|c| format!("{}, {}", c.family_name, c.given_name)).collect(),
    }
}

pub struct DayColumn {
    pub label: String,
    pub today: bool,
    pub closure: String,
    pub sessions: Vec<SessionCard>,
}

pub struct ChoiceGroup {
    pub label: &'static str,
    pub options: Vec<Opt>,
}

#[derive(Template)]
#[template(path = "program_calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    title: String,
    who: String,
    choices: Vec<ChoiceGroup>,
    week: bool,
    range: String,
    from: String,
    day_href: String,
    week_href: String,
    previous_href: String,
    next_href: String,
    today_href: String,
    columns: Vec<DayColumn>,
    schedule_href: Option<String>,
    notice: Option<String>,
    can_manage: bool,
}

#[derive(Deserialize, Default)]
pub struct CalendarQuery {
    #[serde(default)]
    who: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    generated: String,
}

/// `track:<id>`, `staff:<id>`, `room:<id>` or `client:<id>`.
fn parse_who(who: &str) -> Result<CalendarView, UiError> {
    let (view, id) = who.split_once(':').ok_or_else(not_found)?;
    crate::api::iop::calendar_view(view, id).map_err(|_| not_found())
}

fn who_of(view: CalendarView) -> String {
    let (kind, id) = crate::api::iop::view_parts(view);
    format!("{kind}:{id}")
}

pub async fn calendar(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Query(q): Query<CalendarQuery>,
) -> Result<Response, UiError> {
    let sees_program = grant(auth.user.role, Permission::ViewProgram).is_some();
    let program = if sees_program { Some(state.app.program(&auth.ctx).await?) } else { None };
    let view = if q.who.trim().is_empty() {
        match program.as_ref().and_then(|p| p.tracks.first()) {
            Some(t) => CalendarView::Track(t.track.id),
            None => CalendarView::Staff(auth.user.id),
        }
    } else {
        parse_who(q.who.trim())?
    };
    let from = Date::parse(q.from.trim(), time::macros::format_description!("[year]-[month]-[day]")).ok();
    let days = if q.days.trim() == "1" { 1 } else { 7 };
    let c = state.app.calendar(&auth.ctx, view, from, days).await?;
    let who = who_of(view);
    let to = c.from + Duration::days(i64::from(c.days) - 1);
    let columns = (0..i64::from(c.days))
        .map(|i| {
            let d = c.from + Duration::days(i);
            DayColumn {
                label: short_day(d),
                today: d == c.today,
                closure: c
                    .closures
                    .iter()
                    .filter(|cl| cl.closure.closure.date == d)
                    .map(|cl| format!("Closed: {} ({})", cl.closure.closure.reason, cl.site_name))
                    .collect::<Vec<_>>()
                    .join("; "),
                sessions: c.entries.iter().filter(|e| e.session.slot.date == d).map(card).collect(),
            }
        })
        .collect();
    let href = |from: Date, days: u8| format!("/program/calendar?who={who}&from={from}&days={days}");
    let step = Duration::days(i64::from(c.days));
    let mut choices = Vec::new();
    if let Some(p) = &program {
        choices.push(ChoiceGroup {
            label: "Tracks",
            options: p.tracks.iter().map(|t| opt(format!("track:{}", t.track.id), &t.track.name)).collect(),
        });
        choices.push(ChoiceGroup {
            label: "Staff",
            options: p.facilitators.iter().map(|u| opt(format!("staff:{}", u.id), &u.display_name)).collect(),
        });
        choices.push(ChoiceGroup {
            label: "Rooms",
            options: p
                .sites
                .iter()
                .flat_map(|s| {
                    s.rooms.iter().map(move |r| opt(format!("room:{}", r.id), format!("{} ({})", r.name, s.site.name)))
                })
                .collect(),
        });
    }
    let notice = q.generated.trim().parse::<usize>().ok().map(|n| match n {
        0 => "The week was already generated; nothing was missing.".to_owned(),
        1 => "1 session generated.".to_owned(),
        n => format!("{n} sessions generated."),
    });
    ok(&CalendarPage {
        chrome: Chrome::for_user(&auth, "/program/calendar"),
        title: c.title.clone(),
        choices,
        week: c.days == 7,
        range: if c.days == 7 {
            format!("Week {} · {} to {}", IsoWeek::of(c.from), short_day(c.from), short_day(to))
        } else {
            long_day(c.from)
        },
        from: c.from.to_string(),
        day_href: href(if c.days == 7 && IsoWeek::of(c.today) == IsoWeek::of(c.from) { c.today } else { c.from }, 1),
        week_href: href(c.from, 7),
        previous_href: href(c.from - step, c.days),
        next_href: href(c.from + step, c.days),
        today_href: href(c.today, c.days),
        columns,
        schedule_href: match view {
            CalendarView::Client(id) => Some(format!("/clients/{id}/schedule?week={}", IsoWeek::of(c.from))),
            _ => None,
        },
        notice,
        can_manage: grant(auth.user.role, Permission::ManageProgram).is_some(),
        who,
    })
}

// ---------------------------------------------------------------------------------------
// A session

#[derive(Template)]
#[template(path = "iop_session.html")]
struct SessionPage {
    chrome: Chrome,
    form: FormState,
    id: String,
    title: String,
    track: String,
    calendar_href: String,
    when: String,
    modality: &'static str,
    room: String,
    facilitator: String,
    substitute: String,
    roster: String,
    cancelled: bool,
    reason: String,
    clients: Vec<Opt>,
    hidden: usize,
    candidates: Vec<Opt>,
    can_manage: bool,
    can_attend: bool,
    still_to_come: bool,
    rooms: Vec<Opt>,
    facilitators: Vec<Opt>,
    room_id: String,
    date: String,
    start: String,
    end: String,
    substitute_id: String,
    notice: Option<String>,
}

async fn session_page(
    state: &AppState,
    auth: &Authenticated,
    id: IopSessionId,
    form: FormState,
    notice: Option<String>,
) -> Result<SessionPage, UiError> {
    let d = state.app.program_session(&auth.ctx, id).await?;
    let e = &d.entry;
    let s = &e.session;
    let calendar_href = match s.track {
        Some(t) => format!("/program/calendar?who=track:{t}&from={}", s.slot.date),
        None => format!("/program/calendar?who=staff:{}&from={}", s.facilitator, s.slot.date),
    };
    let card = card(e);
    Ok(SessionPage {
        chrome: Chrome::for_user(auth, "/program/calendar"),
        form,
        id: s.id.to_string(),
        title: s.title.clone(),
        track: card.track,
        calendar_href,
        when: format!("{}, {}", long_day(s.slot.date), span(&s.slot)),
        modality: s.modality.label(),
        room: card.room,
        facilitator: e.facilitator_name.clone(),
        substitute: e.substitute_name.clone().unwrap_or_default(),
        roster: card.roster,
        cancelled: s.cancelled,
        reason: s.status_reason.clone().unwrap_or_default(),
        clients: e.clients.iter().map(|c| opt(c.id, format!("{}, {}", c.family_name, c.given_name))).collect(),
        hidden: e.roster_count.saturating_sub(e.clients.len()),
        candidates: d.candidates.iter().map(|c| opt(c.id, format!("{}, {}", c.family_name, c.given_name))).collect(),
        can_manage: d.can_manage,
        can_attend: grant(auth.user.role, Permission::RecordAttendance).is_some(),
        still_to_come: d.still_to_come,
        rooms: d.rooms.iter().map(|r| opt(r.id, format!("{} (holds {})", r.name, r.capacity))).collect(),
        facilitators: facilitator_options(&d.facilitators),
        room_id: s.room.map(|r| r.to_string()).unwrap_or_default(),
        date: s.slot.date.to_string(),
        start: hm(s.slot.start),
        end: hm(slot_end(&s.slot)),
        substitute_id: s.substitute.map(|u| u.to_string()).unwrap_or_default(),
        notice,
    })
}

pub async fn session(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, UiError> {
    ok(&session_page(&state, &auth, parse(&id)?, FormState::default(), done_message(&q.done)).await?)
}

async fn session_result<T>(
    state: &AppState,
    auth: &Authenticated,
    id: IopSessionId,
    result: Result<T, app::AppError>,
    to: impl FnOnce(T) -> String,
    prefix: &str,
    values: &[(&str, &str)],
) -> Result<Response, UiError> {
    match result {
        Ok(v) => Ok(Redirect::to(&to(v)).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let form = FormState::failed(prefix, errors, values);
            render(StatusCode::UNPROCESSABLE_ENTITY, &session_page(state, auth, id, form, None).await?)
        }
    }
}

#[derive(Deserialize)]
pub struct ClientField {
    #[serde(default)]
    client: String,
}

pub async fn add_to_roster(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ClientField>,
) -> Result<Response, UiError> {
    let session: IopSessionId = parse(&id)?;
    let result = match f.client.parse::<ClientId>() {
        Ok(c) => state.app.add_to_roster(&auth.ctx, session, c).await,
        Err(_) => Err(app::AppError::invalid("client", "Choose a client")),
    };
    let to = |()| format!("/iop/sessions/{session}?done=roster");
    session_result(&state, &auth, session, result, to, "r-", &[("client", &f.client)]).await
}

pub async fn remove_from_roster(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path((id, client)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    let session: IopSessionId = parse(&id)?;
    state.app.remove_from_roster(&auth.ctx, session, parse(&client)?).await?;
    Ok(Redirect::to(&format!("/iop/sessions/{session}?done=roster")).into_response())
}

#[derive(Deserialize)]
pub struct ReasonField {
    #[serde(default)]
    reason: String,
}

pub async fn cancel(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ReasonField>,
) -> Result<Response, UiError> {
    let session: IopSessionId = parse(&id)?;
    let result = state.app.cancel_session(&auth.ctx, session, &f.reason).await;
    let to = |_| format!("/iop/sessions/{session}?done=cancelled");
    session_result(&state, &auth, session, result, to, "c-", &[("reason", &f.reason)]).await
}

pub async fn reinstate(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    let session: IopSessionId = parse(&id)?;
    let result = state.app.reinstate_session(&auth.ctx, session).await;
    let to = |_| format!("/iop/sessions/{session}?done=reinstated");
    session_result(&state, &auth, session, result, to, "ri-", &[]).await
}

#[derive(Deserialize)]
pub struct MoveFields {
    #[serde(default)]
    date: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    room: String,
}

pub async fn move_session(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<MoveFields>,
) -> Result<Response, UiError> {
    let session: IopSessionId = parse(&id)?;
    let form = MoveForm {
        slot: SlotForm { date: f.date.clone(), start: f.start.clone(), end: f.end.clone(), end_date: String::new() },
        room: f.room.clone(),
    };
    let result = state.app.move_session(&auth.ctx, session, &form).await;
    let to = |s: app::ports::ProgramSession| format!("/iop/sessions/{}?done=moved", s.id);
    let values = [("date", f.date.as_str()), ("start", &f.start), ("end", &f.end), ("room", &f.room)];
    session_result(&state, &auth, session, result, to, "m-", &values).await
}

#[derive(Deserialize)]
pub struct SubstituteField {
    #[serde(default)]
    substitute: String,
}

pub async fn substitute(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<SubstituteField>,
) -> Result<Response, UiError> {
    let session: IopSessionId = parse(&id)?;
    let result = state.app.substitute(&auth.ctx, session, &f.substitute).await;
    let to = |_| format!("/iop/sessions/{session}?done=substitute");
    session_result(&state, &auth, session, result, to, "s-", &[("substitute", &f.substitute)]).await
}

// ---------------------------------------------------------------------------------------
// The client chart's program block

pub struct UpcomingRow {
    pub href: String,
    pub day: String,
    pub time: String,
    pub title: String,
    pub modality: &'static str,
    pub room: String,
    pub facilitator: String,
    pub cancelled: bool,
}

pub struct HistoryRow {
    pub id: String,
    pub track: String,
    pub from: String,
    pub until: String,
    pub open: bool,
}

/// What the client chart shows of the program.
pub struct ChartProgram {
    pub current: String,
    pub history: Vec<HistoryRow>,
    pub in_iop: bool,
    pub can_manage: bool,
    pub tracks: Vec<Opt>,
    pub today: String,
    pub upcoming: Vec<UpcomingRow>,
    pub schedule_href: String,
    pub calendar_href: String,
    pub facilitators: Vec<Opt>,
    pub rooms: Vec<Opt>,
    pub modalities: Vec<Opt>,
    /// The client's calendar feed that works now (whoever sees this block may manage it).
    pub feed: Option<super::feeds::FeedPanel>,
}

/// The program block of a client's chart, for those who may see the client in the program.
pub async fn chart_program(
    state: &AppState,
    auth: &Authenticated,
    client: ClientId,
) -> Result<Option<ChartProgram>, UiError> {
    let actor = &auth.ctx.actor;
    if actor.scope_for(Permission::ReadClient, client).is_err()
        && actor.scope_for(Permission::ManageProgram, client).is_err()
    {
        return Ok(None);
    }
    let p = state.app.client_program(&auth.ctx, client).await?;
    let current = match &p.current {
        Some(e) if e.enrolment.from > p.today => format!("{} from {}", e.track_name, e.enrolment.from),
        Some(e) => match e.enrolment.until {
            Some(u) => format!("{} since {} (until {u})", e.track_name, e.enrolment.from),
            None => format!("{} since {}", e.track_name, e.enrolment.from),
        },
        None => String::new(),
    };
    let current_id = p.current.as_ref().map(|e| e.enrolment.id);
    let feed = super::feeds::live(&state.app.client_feeds(&auth.ctx, client).await?);
    Ok(Some(ChartProgram {
        feed,
        current,
        history: p
            .enrolments
            .iter()
            .rev()
            .map(|e| HistoryRow {
                id: e.enrolment.id.to_string(),
                track: e.track_name.clone(),
                from: e.enrolment.from.to_string(),
                until: e.enrolment.until.map(|d| d.to_string()).unwrap_or_default(),
                open: Some(e.enrolment.id) == current_id && e.enrolment.until.is_none(),
            })
            .collect(),
        in_iop: p.in_iop,
        can_manage: p.can_manage,
        tracks: p.tracks.iter().map(|t| opt(t.id, &t.name)).collect(),
        today: p.today.to_string(),
        upcoming: p
            .upcoming
            .iter()
            .map(|e| UpcomingRow {
                href: format!("/iop/sessions/{}", e.session.id),
                day: short_day(e.session.slot.date),
                time: span(&e.session.slot),
                title: e.session.title.clone(),
                modality: e.session.modality.label(),
                room: e.room_name.clone().unwrap_or_default(),
                facilitator: e.substitute_name.clone().unwrap_or_else(|| e.facilitator_name.clone()),
                cancelled: e.session.cancelled,
            })
            .collect(),
        schedule_href: format!("/clients/{client}/schedule"),
        calendar_href: format!("/program/calendar?who=client:{client}"),
        facilitators: facilitator_options(&p.facilitators),
        rooms: p.rooms.iter().map(|r| opt(r.id, &r.name)).collect(),
        modalities: modality_options(Some(true)),
    }))
}

async fn chart_failed(
    state: &AppState,
    auth: &Authenticated,
    client: ClientId,
    err: app::AppError,
) -> Result<Response, UiError> {
    let errors = form_errors(err)?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &super::clients::client_page(state, auth, client, errors).await?)
}

#[derive(Deserialize)]
pub struct EnrolFields {
    #[serde(default)]
    track: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    /// `program` when sent from the program's client list (back there), else the chart.
    #[serde(default)]
    back: String,
}

pub async fn enrol(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<EnrolFields>,
) -> Result<Response, UiError> {
    let client: ClientId = parse(&id)?;
    let form = EnrolForm { track: f.track.clone(), from: f.from.clone(), until: f.until.clone() };
    let from_list = f.back == "program";
    match state.app.enrol(&auth.ctx, client, &form).await {
        Ok(_) if from_list => {
            Ok(Redirect::to(&format!("/program/clients?done=enrolled#client-{client}")).into_response())
        }
        Ok(_) => Ok(Redirect::to(&format!("/clients/{client}#program")).into_response()),
        Err(e) if from_list => {
            let errors = form_errors(e)?;
            let values = [("track", f.track.as_str()), ("from", f.from.as_str()), ("until", f.until.as_str())];
            let form = FormState::failed(format!("en-{client}-"), errors, &values);
            render(StatusCode::UNPROCESSABLE_ENTITY, &clients_page(&state, &auth, form, None).await?)
        }
        Err(e) => chart_failed(&state, &auth, client, e).await,
    }
}

// ---------------------------------------------------------------------------------------
// The program's clients

pub struct ClientRow {
    pub id: String,
    pub prefix: String,
    pub name: String,
    pub chart: bool,
    pub level: String,
    pub since: String,
    pub track: String,
    pub track_id: String,
    pub schedule_href: String,
    pub calendar_href: String,
}

#[derive(Template)]
#[template(path = "program_clients.html")]
struct ClientsPage {
    chrome: Chrome,
    form: FormState,
    rows: Vec<ClientRow>,
    tracks: Vec<Opt>,
    can_manage: bool,
    today: String,
    done: Option<String>,
}

async fn clients_page(
    state: &AppState,
    auth: &Authenticated,
    form: FormState,
    done: Option<String>,
) -> Result<ClientsPage, UiError> {
    let list = state.app.iop_clients(&auth.ctx).await?;
    let rows = list
        .clients
        .iter()
        .map(|c| {
            let id = c.client.id.to_string();
            ClientRow {
                prefix: format!("en-{id}-"),
                name: format!("{}, {}", c.client.family_name, c.client.given_name),
                chart: c.chart,
                level: c.level.to_string(),
                since: c.since.to_string(),
                track: c
                    .enrolment
                    .as_ref()
                    .map(|e| format!("{} from {}", e.track_name, e.enrolment.from))
                    .unwrap_or_default(),
                track_id: c.enrolment.as_ref().map(|e| e.enrolment.track.to_string()).unwrap_or_default(),
                schedule_href: format!("/clients/{id}/schedule"),
                calendar_href: format!("/program/calendar?who=client:{id}"),
                id,
            }
        })
        .collect();
    Ok(ClientsPage {
        chrome: Chrome::for_user(auth, "/program"),
        form,
        rows,
        tracks: list.tracks.iter().map(|t| opt(t.id, &t.name)).collect(),
        can_manage: grant(auth.user.role, Permission::ManageProgram).is_some(),
        today: list.today.to_string(),
        done,
    })
}

pub async fn program_clients(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Query(q): Query<DoneQuery>,
) -> Result<Response, UiError> {
    let done = (q.done == "enrolled").then(|| {
        "Enrolled. The client is on the track's group sessions of this week and next that had room.".to_owned()
    });
    ok(&clients_page(&state, &auth, FormState::default(), done).await?)
}

#[derive(Deserialize)]
pub struct UntilField {
    #[serde(default)]
    until: String,
}

pub async fn end_enrolment(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path((id, enrolment)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<UntilField>,
) -> Result<Response, UiError> {
    let client: ClientId = parse(&id)?;
    let enrolment: EnrolmentId = parse(&enrolment)?;
    match state.app.end_enrolment(&auth.ctx, client, enrolment, &f.until).await {
        Ok(_) => Ok(Redirect::to(&format!("/clients/{client}#program")).into_response()),
        Err(e) => chart_failed(&state, &auth, client, e).await,
    }
}

#[derive(Deserialize)]
pub struct AppointmentFields {
    #[serde(default)]
    modality: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    facilitator: String,
    #[serde(default)]
    room: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
}

pub async fn book_appointment(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<AppointmentFields>,
) -> Result<Response, UiError> {
    let client: ClientId = parse(&id)?;
    let form = AppointmentForm {
        client: client.to_string(),
        modality: f.modality,
        title: f.title,
        facilitator: f.facilitator,
        room: f.room,
        slot: SlotForm { date: f.date, start: f.start, end: f.end, end_date: String::new() },
    };
    match state.app.book_appointment(&auth.ctx, &form).await {
        Ok(s) => Ok(Redirect::to(&format!("/iop/sessions/{}", s.id)).into_response()),
        Err(e) => chart_failed(&state, &auth, client, e).await,
    }
}

// ---------------------------------------------------------------------------------------
// A client's printable week

pub struct ScheduleRow {
    pub time: String,
    pub title: String,
    pub modality: &'static str,
    pub room: String,
    pub facilitator: String,
    pub cancelled: bool,
    pub reason: String,
}

pub struct ScheduleDay {
    pub label: String,
    pub closure: String,
    pub rows: Vec<ScheduleRow>,
}

#[derive(Template)]
#[template(path = "client_schedule.html")]
struct SchedulePage {
    chrome: Chrome,
    client: String,
    week: String,
    range: String,
    track: String,
    days: Vec<ScheduleDay>,
    previous_href: String,
    next_href: String,
    /// The chart when the viewer may open it, else the program's client list.
    back_href: String,
    back_label: &'static str,
}

#[derive(Deserialize, Default)]
pub struct WeekQuery {
    #[serde(default)]
    week: String,
}

pub async fn client_schedule(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> Result<Response, UiError> {
    let client: ClientId = parse(&id)?;
    let week = q.week.trim().parse::<IsoWeek>().ok();
    let w = state.app.client_week(&auth.ctx, client, week).await?;
    let chart = auth.ctx.actor.scope_for(Permission::ReadClient, client).is_ok();
    let days = w
        .week
        .days()
        .into_iter()
        .map(|d| ScheduleDay {
            label: long_day(d),
            closure: w
                .closures
                .iter()
                .filter(|c| c.closure.closure.date == d)
                .map(|c| format!("Closed: {}", c.closure.closure.reason))
                .collect::<Vec<_>>()
                .join("; "),
            rows: w
                .entries
                .iter()
                .filter(|e| e.session.slot.date == d)
                .map(|e| ScheduleRow {
                    time: span(&e.session.slot),
                    title: e.session.title.clone(),
                    modality: e.session.modality.label(),
                    room: e.room_name.clone().unwrap_or_default(),
                    facilitator: e.substitute_name.clone().unwrap_or_else(|| e.facilitator_name.clone()),
                    cancelled: e.session.cancelled,
                    reason: e.session.status_reason.clone().unwrap_or_default(),
                })
                .collect(),
        })
        .filter(|d| !d.rows.is_empty() || !d.closure.is_empty())
        .collect();
    let href = |week: Option<IsoWeek>| {
        week.map(|wk| format!("/clients/{client}/schedule?week={wk}"))
            .unwrap_or_else(|| format!("/clients/{client}/schedule"))
    };
    ok(&SchedulePage {
        chrome: Chrome::for_user(&auth, "/clients"),
        client: format!("{} {}", w.client.given_name, w.client.family_name),
        week: w.week.to_string(),
        range: format!("{} to {}", long_day(w.week.monday()), long_day(w.week.sunday())),
        track: w.enrolment.as_ref().map(|e| e.track_name.clone()).unwrap_or_default(),
        days,
        previous_href: href(w.week.previous()),
        next_href: href(w.week.next()),
        back_href: if chart {
            format!("/clients/{client}#program")
        } else {
            format!("/program/clients#client-{client}")
        },
        back_label: if chart { "Back to the chart" } else { "Back to the clients in the program" },
    })
}
