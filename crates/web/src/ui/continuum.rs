//! Sites and beds (administrators), and the live census board.

use app::ports::{CensusRow, SiteView};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Chrome, Errors, form_errors, ok, render};
use crate::AppState;
use crate::auth::Signed;
use crate::error::UiError;
use crate::forms::CsrfForm;

#[derive(Template)]
#[template(path = "sites.html")]
struct SitesPage {
    chrome: Chrome,
    sites: Vec<SiteView>,
    errors: Errors,
    name: String,
    time_zone: String,
}

async fn sites_page(
    state: &AppState,
    auth: &app::auth::Authenticated,
    errors: Errors,
    name: String,
    time_zone: String,
) -> Result<SitesPage, UiError> {
    // Asking the use case for the admin-only part first keeps refusals audited.
    let sites = state.app.sites(&auth.ctx).await?;
    Ok(SitesPage { chrome: Chrome::for_user(auth, "/admin/sites"), sites, errors, name, time_zone })
}

pub async fn sites(State(state): State<AppState>, Signed(auth): Signed) -> Result<Response, UiError> {
    // Asked of `app`, so that a refusal is audited like any other.
    state.app.require_permission(&auth.ctx, domain::access::Permission::ManageSites).await?;
    ok(&sites_page(&state, &auth, Errors::default(), String::new(), "America/Chicago".into()).await?)
}

#[derive(Deserialize)]
pub struct SiteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    time_zone: String,
}

pub async fn create_site(
    State(state): State<AppState>,
    Signed(auth): Signed,
    CsrfForm(f): CsrfForm<SiteForm>,
) -> Result<Response, UiError> {
    match state.app.create_site(&auth.ctx, &f.name, &f.time_zone).await {
        Ok(_) => Ok(Redirect::to("/admin/sites").into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &sites_page(&state, &auth, errors, f.name, f.time_zone).await?)
        }
    }
}

#[derive(Deserialize)]
pub struct RoomForm {
    #[serde(default)]
    room_name: String,
    #[serde(default)]
    capacity: String,
}

pub async fn add_room(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(site): Path<String>,
    CsrfForm(f): CsrfForm<RoomForm>,
) -> Result<Response, UiError> {
    let site = site.parse().map_err(|_| UiError::App(app::AppError::NotFound))?;
    match state.app.add_room(&auth.ctx, site, &f.room_name, &f.capacity).await {
        Ok(_) => Ok(Redirect::to("/admin/sites").into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &sites_page(&state, &auth, errors, String::new(), String::new()).await?,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct BedForm {
    #[serde(default)]
    bed_label: String,
}

pub async fn add_bed(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(room): Path<String>,
    CsrfForm(f): CsrfForm<BedForm>,
) -> Result<Response, UiError> {
    let room = room.parse().map_err(|_| UiError::App(app::AppError::NotFound))?;
    match state.app.add_bed(&auth.ctx, room, &f.bed_label).await {
        Ok(_) => Ok(Redirect::to("/admin/sites").into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &sites_page(&state, &auth, errors, String::new(), String::new()).await?,
            )
        }
    }
}

/// One line of the census as the page shows it.
pub struct CensusLine {
    pub client_id: String,
    pub name: String,
    pub level: String,
    pub bed: String,
    pub admitted_on: String,
    pub stay_days: i64,
    pub level_days: i64,
    pub planned_end: String,
    pub flag: &'static str,
}

pub struct SiteBlock {
    pub name: String,
    pub beds_total: usize,
    pub beds_occupied: usize,
    pub beds_free: usize,
    pub hidden: usize,
    pub groups: Vec<(String, String, Vec<CensusLine>)>,
}

#[derive(Template)]
#[template(path = "census.html")]
struct CensusPage {
    chrome: Chrome,
    today: String,
    sites: Vec<SiteBlock>,
    ending_soon: Vec<CensusLine>,
    past_planned_end: Vec<CensusLine>,
    total: usize,
}

pub fn line(row: &CensusRow, today: time::Date, beds: &std::collections::HashMap<String, String>) -> CensusLine {
    let p = &row.placement;
    let flag = match p.planned_end {
        Some(end) if end < today => "past planned end",
        Some(end) if end <= today + time::Duration::days(7) => "ends within 7 days",
        _ => "",
    };
    CensusLine {
        client_id: row.client.id.to_string(),
        name: format!("{}, {}", row.client.family_name, row.client.given_name),
        level: p.level.to_string(),
        bed: p.bed.map(|b| beds.get(&b.to_string()).cloned().unwrap_or_default()).unwrap_or_default(),
        admitted_on: row.admitted_on.to_string(),
        stay_days: (today - row.admitted_on).whole_days(),
        level_days: p.length_of_stay(today),
        planned_end: p.planned_end.map(|d| d.to_string()).unwrap_or_default(),
        flag,
    }
}

pub fn bed_names(sites: &[SiteView]) -> std::collections::HashMap<String, String> {
    sites
        .iter()
        .flat_map(|s| {
            s.rooms
                .iter()
                .flat_map(|r| r.beds.iter().map(move |b| (b.id.to_string(), format!("{} · {}", r.name, b.label))))
        })
        .collect()
}

pub async fn census(State(state): State<AppState>, Signed(auth): Signed) -> Result<Response, UiError> {
    let census = state.app.census(&auth.ctx).await?;
    let beds = bed_names(&census.site_views);
    let today = census.today;
    let mut total = 0;
    let blocks = census
        .sites
        .iter()
        .map(|s| {
            let groups: Vec<(String, String, Vec<CensusLine>)> = s
                .groups
                .iter()
                .map(|g| {
                    (g.level.clone(), g.level_name.clone(), g.clients.iter().map(|r| line(r, today, &beds)).collect())
                })
                .collect();
            total += groups.iter().map(|g| g.2.len()).sum::<usize>() + s.hidden;
            SiteBlock {
                name: s.site.name.clone(),
                beds_total: s.beds_total,
                beds_occupied: s.beds_occupied,
                beds_free: s.beds_total.saturating_sub(s.beds_occupied),
                hidden: s.hidden,
                groups,
            }
        })
        .collect();
    ok(&CensusPage {
        chrome: Chrome::for_user(&auth, "/census"),
        today: today.to_string(),
        sites: blocks,
        ending_soon: census.ending_soon.iter().map(|r| line(r, today, &beds)).collect(),
        past_planned_end: census.past_planned_end.iter().map(|r| line(r, today, &beds)).collect(),
        total,
    })
}
