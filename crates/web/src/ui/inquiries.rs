//! The helpline pages: log a call, the pipeline board, one inquiry with its tasks, matches and
//! the admission that converts it.

use app::inquiries::{InquiryForm, PossibleMatch, RELATIONSHIPS};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::inquiry::{Inquiry, Stage, Task, Urgency};
use serde::Deserialize;

use super::clients::Option2;
use super::{Chrome, Errors, form_errors, ok, render};
use crate::AppState;
use crate::auth::Signed;
use crate::error::UiError;
use crate::forms::CsrfForm;

pub struct Column {
    pub label: &'static str,
    pub items: Vec<Inquiry>,
}

#[derive(Template)]
#[template(path = "inquiries.html")]
struct BoardPage {
    chrome: Chrome,
    columns: Vec<Column>,
    tasks: Vec<(Task, String)>,
    today: time::Date,
}

pub async fn board(State(state): State<AppState>, Signed(auth): Signed) -> Result<Response, UiError> {
    let (list, tasks) = state.app.inquiry_board(&auth.ctx).await?;
    let columns = [
        Stage::New,
        Stage::Screening,
        Stage::AdmissionScheduled,
        Stage::Waitlist,
        Stage::Admitted,
        Stage::ReferredOut,
        Stage::Lost,
    ]
    .into_iter()
    .map(|stage| Column { label: stage.label(), items: list.iter().filter(|i| i.stage == stage).cloned().collect() })
    .collect();
    let names: std::collections::HashMap<_, _> =
        list.iter().map(|i| (i.id, format!("{} {}", i.given_name, i.family_name))).collect();
    let tasks = tasks.into_iter().filter_map(|t| names.get(&t.inquiry).cloned().map(|n| (t, n))).collect();
    ok(&BoardPage { chrome: Chrome::for_user(&auth, "/inquiries"), columns, tasks, today: state.app.now().date() })
}

#[derive(Template)]
#[template(path = "inquiry_new.html")]
struct NewPage {
    chrome: Chrome,
    f: Fields,
    relationships: &'static [&'static str],
    urgencies: Vec<Option2>,
    errors: Errors,
}

#[derive(Deserialize, Default)]
pub struct Fields {
    #[serde(default)]
    caller_name: String,
    #[serde(default)]
    caller_relationship: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    date_of_birth: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    substances: String,
    #[serde(default)]
    urgency: String,
    #[serde(default)]
    insurance: String,
    withdrawal_risk: Option<String>,
    self_harm_thoughts: Option<String>,
    medical_conditions: Option<String>,
    prior_treatment: Option<String>,
    #[serde(default)]
    heard_about: String,
    #[serde(default)]
    notes: String,
}

fn urgencies() -> Vec<Option2> {
    Urgency::ALL.iter().map(|u| Option2 { value: u.code().to_owned(), label: u.label().to_owned() }).collect()
}

pub async fn new_form(State(state): State<AppState>, Signed(auth): Signed) -> Result<Response, UiError> {
    state.app.inquiry_board(&auth.ctx).await.map(|_| ())?;
    ok(&NewPage {
        chrome: Chrome::for_user(&auth, "/inquiries"),
        f: Fields { urgency: "routine".into(), ..Fields::default() },
        relationships: &RELATIONSHIPS,
        urgencies: urgencies(),
        errors: Errors::default(),
    })
}

pub async fn create(
    State(state): State<AppState>,
    Signed(auth): Signed,
    CsrfForm(f): CsrfForm<Fields>,
) -> Result<Response, UiError> {
    let form = InquiryForm {
        caller_name: f.caller_name.clone(),
        caller_relationship: f.caller_relationship.clone(),
        given_name: f.given_name.clone(),
        family_name: f.family_name.clone(),
        date_of_birth: f.date_of_birth.clone(),
        phone: f.phone.clone(),
        substances: f.substances.clone(),
        urgency: f.urgency.clone(),
        insurance: f.insurance.clone(),
        withdrawal_risk: f.withdrawal_risk.is_some(),
        self_harm_thoughts: f.self_harm_thoughts.is_some(),
        medical_conditions: f.medical_conditions.is_some(),
        prior_treatment: f.prior_treatment.is_some(),
        heard_about: f.heard_about.clone(),
        notes: f.notes.clone(),
    };
    match state.app.log_inquiry(&auth.ctx, &form, false).await {
        Ok(i) => Ok(Redirect::to(&format!("/inquiries/{}", i.id)).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let page = NewPage {
                chrome: Chrome::for_user(&auth, "/inquiries"),
                f,
                relationships: &RELATIONSHIPS,
                urgencies: urgencies(),
                errors,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

pub struct MatchRow {
    pub kind: &'static str,
    pub id: String,
    pub label: String,
    pub client: bool,
}

#[derive(Template)]
#[template(path = "inquiry.html")]
struct DetailPage {
    chrome: Chrome,
    i: Inquiry,
    tasks: Vec<Task>,
    matches: Vec<MatchRow>,
    stages: Vec<Option2>,
    levels: Vec<Option2>,
    sites: Vec<Option2>,
    beds: Vec<Option2>,
    today: String,
    errors: Errors,
}

async fn detail_page(
    state: &AppState,
    auth: &app::auth::Authenticated,
    id: domain::ids::InquiryId,
    errors: Errors,
) -> Result<DetailPage, UiError> {
    let view = state.app.inquiry(&auth.ctx, id).await?;
    let sites = state.app.sites(&auth.ctx).await?;
    let options = super::clients::placement_options(&state.app, &sites);
    let matches = view
        .matches
        .iter()
        .map(|m| match m {
            PossibleMatch::Client(c) => MatchRow {
                kind: "Client",
                id: c.client.id.to_string(),
                label: format!(
                    "{} {} · born {} · MRN {}",
                    c.client.given_name, c.client.family_name, c.client.date_of_birth, c.mrn
                ),
                client: true,
            },
            PossibleMatch::Inquiry(i) => MatchRow {
                kind: "Inquiry",
                id: i.id.to_string(),
                label: format!("{} {} · {} · {}", i.given_name, i.family_name, i.received_at.date(), i.stage.label()),
                client: false,
            },
        })
        .collect();
    let stages = Stage::ALL
        .iter()
        .filter(|s| view.inquiry.stage.can_move_to(**s))
        .map(|s| Option2 { value: s.code().to_owned(), label: s.label().to_owned() })
        .collect();
    Ok(DetailPage {
        chrome: Chrome::for_user(auth, "/inquiries"),
        i: view.inquiry,
        tasks: view.tasks,
        matches,
        stages,
        levels: options.levels,
        sites: options.sites,
        beds: options.beds,
        today: state.app.now().date().to_string(),
        errors,
    })
}

fn parse_id(raw: &str) -> Result<domain::ids::InquiryId, UiError> {
    raw.parse().map_err(|_| UiError::App(app::AppError::NotFound))
}

pub async fn show(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    ok(&detail_page(&state, &auth, parse_id(&id)?, Errors::default()).await?)
}

async fn after(
    state: &AppState,
    auth: &app::auth::Authenticated,
    id: domain::ids::InquiryId,
    r: Result<(), app::AppError>,
) -> Result<Response, UiError> {
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/inquiries/{id}")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &detail_page(state, auth, id, errors).await?)
        }
    }
}

#[derive(Deserialize)]
pub struct StageFields {
    #[serde(default)]
    stage: String,
    #[serde(default)]
    note: String,
}

pub async fn move_stage(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<StageFields>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let r = state.app.move_inquiry(&auth.ctx, id, &f.stage, &f.note).await.map(|_| ());
    after(&state, &auth, id, r).await
}

#[derive(Deserialize)]
pub struct TaskFields {
    #[serde(default)]
    title: String,
    #[serde(default)]
    due_on: String,
}

pub async fn add_task(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<TaskFields>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let r = state.app.add_inquiry_task(&auth.ctx, id, &f.title, &f.due_on).await.map(|_| ());
    after(&state, &auth, id, r).await
}

pub async fn complete_task(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path((id, task)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<super::login::Empty>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let task = task.parse().map_err(|_| UiError::App(app::AppError::NotFound))?;
    let r = state.app.complete_inquiry_task(&auth.ctx, id, task).await;
    after(&state, &auth, id, r).await
}

#[derive(Deserialize)]
pub struct AdmitFields {
    #[serde(default)]
    on: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    bed: String,
    #[serde(default)]
    planned_end: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    existing_client: String,
}

pub async fn admit(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<AdmitFields>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let existing = if f.existing_client.trim().is_empty() {
        None
    } else {
        Some(
            f.existing_client
                .trim()
                .parse()
                .map_err(|_| UiError::App(app::AppError::invalid("existing_client", "Choose a match")))?,
        )
    };
    let form = app::continuum::AdmitForm {
        on: f.on,
        level: f.level,
        site: f.site,
        bed: f.bed,
        planned_end: f.planned_end,
        reason: f.reason,
    };
    match state.app.convert_inquiry(&auth.ctx, id, &form, existing).await {
        Ok((client, _)) => Ok(Redirect::to(&format!("/clients/{client}#episodes")).into_response()),
        Err(e) => after(&state, &auth, id, Err(e)).await,
    }
}
