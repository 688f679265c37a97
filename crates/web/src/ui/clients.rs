//! The caseload list and the client chart (the continuum issue adds its tabs).

use app::clients::NewClientForm;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::{Permission, grant};
use domain::client::{Client, TeamRole};
use domain::ids::{ClientId, UserId};
use domain::user::User;
use serde::Deserialize;

use super::login::Empty;
use super::{Chrome, Errors, form_errors, ok, render};
use crate::AppState;
use crate::auth::Signed;
use crate::error::UiError;
use crate::forms::CsrfForm;

pub struct ResultRow {
    pub id: String,
    pub name: String,
    pub mrn: String,
    pub dob: String,
    pub match_note: String,
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsPage {
    chrome: Chrome,
    clients: Vec<Client>,
    can_create: bool,
    query: String,
    results: Option<Vec<ResultRow>>,
    errors: Errors,
}

pub async fn list(State(state): State<AppState>, Signed(auth): Signed) -> Result<Response, UiError> {
    let clients = state.app.clients(&auth.ctx, 200).await?;
    let can_create = grant(auth.user.role, Permission::CreateClient).is_some();
    ok(&ClientsPage {
        chrome: Chrome::for_user(&auth, "/clients"),
        clients,
        can_create,
        query: String::new(),
        results: None,
        errors: Errors::default(),
    })
}

#[derive(Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    q: String,
}

/// Search is a POST: what people type here is often a name, and names stay out of URLs.
pub async fn search(
    State(state): State<AppState>,
    Signed(auth): Signed,
    CsrfForm(f): CsrfForm<SearchForm>,
) -> Result<Response, UiError> {
    let can_create = grant(auth.user.role, Permission::CreateClient).is_some();
    let (results, errors, status) = match state.app.search_clients(&auth.ctx, &f.q).await {
        Ok(hits) => (
            Some(
                hits.into_iter()
                    .map(|h| ResultRow {
                        id: h.record.client.id.to_string(),
                        name: format!("{}, {}", h.record.client.family_name, h.record.client.given_name),
                        mrn: h.record.mrn.to_string(),
                        dob: h.record.client.date_of_birth.to_string(),
                        match_note: if h.score >= 1.0 {
                            "exact".into()
                        } else {
                            format!("{:.0}% name match", h.score * 100.0)
                        },
                    })
                    .collect(),
            ),
            Errors::default(),
            StatusCode::OK,
        ),
        Err(e) => (None, form_errors(e)?, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let page = ClientsPage {
        chrome: Chrome::for_user(&auth, "/clients"),
        clients: Vec::new(),
        can_create,
        query: f.q,
        results,
        errors,
    };
    render(status, &page)
}

/// The registration form's fields, as typed (for new and edit).
#[derive(Deserialize, Default, Clone)]
pub struct ClientForm {
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    date_of_birth: String,
    #[serde(default)]
    preferred_name: String,
    #[serde(default)]
    pronouns: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    mrn: String,
}

impl ClientForm {
    fn to_app(&self) -> NewClientForm {
        NewClientForm {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            date_of_birth: self.date_of_birth.clone(),
            preferred_name: self.preferred_name.clone(),
            pronouns: self.pronouns.clone(),
            sex: self.sex.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            address: self.address.clone(),
            mrn: self.mrn.clone(),
        }
    }

    fn from_record(r: &domain::client::ClientRecord) -> Self {
        let d = &r.demographics;
        Self {
            given_name: r.client.given_name.to_string(),
            family_name: r.client.family_name.to_string(),
            date_of_birth: r.client.date_of_birth.to_string(),
            preferred_name: d.preferred_name.clone().unwrap_or_default(),
            pronouns: d.pronouns.clone().unwrap_or_default(),
            sex: d.sex.map(|s| s.code().to_owned()).unwrap_or_default(),
            phone: d.phone.clone().unwrap_or_default(),
            email: d.email.clone().unwrap_or_default(),
            address: d.address.clone().unwrap_or_default(),
            mrn: r.mrn.to_string(),
        }
    }
}

pub struct SexOption {
    pub code: &'static str,
    pub label: &'static str,
}

fn sex_options() -> Vec<SexOption> {
    domain::client::Sex::ALL.iter().map(|s| SexOption { code: s.code(), label: s.label() }).collect()
}

#[derive(Template)]
#[template(path = "client_new.html")]
struct NewClientPage {
    chrome: Chrome,
    f: ClientForm,
    sexes: Vec<SexOption>,
    action: String,
    editing: bool,
    errors: Errors,
}

pub async fn new_form(State(state): State<AppState>, Signed(auth): Signed) -> Result<Response, UiError> {
    // Asked of `app`, so that a refusal is audited like any other.
    state.app.require_permission(&auth.ctx, Permission::CreateClient).await?;
    ok(&NewClientPage {
        chrome: Chrome::for_user(&auth, "/clients"),
        f: ClientForm::default(),
        sexes: sex_options(),
        action: "/clients/new".into(),
        editing: false,
        errors: Errors::default(),
    })
}

pub async fn create(
    State(state): State<AppState>,
    Signed(auth): Signed,
    CsrfForm(f): CsrfForm<ClientForm>,
) -> Result<Response, UiError> {
    match state.app.create_client(&auth.ctx, &f.to_app()).await {
        Ok(client) => Ok(Redirect::to(&format!("/clients/{}", client.id)).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let page = NewClientPage {
                chrome: Chrome::for_user(&auth, "/clients"),
                f,
                sexes: sex_options(),
                action: "/clients/new".into(),
                editing: false,
                errors,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let id = parse_client(&id)?;
    let view = state.app.client(&auth.ctx, id).await?;
    ok(&NewClientPage {
        chrome: Chrome::for_user(&auth, "/clients"),
        f: ClientForm::from_record(&view.record),
        sexes: sex_options(),
        action: format!("/clients/{id}/edit"),
        editing: true,
        errors: Errors::default(),
    })
}

pub async fn update(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ClientForm>,
) -> Result<Response, UiError> {
    let id = parse_client(&id)?;
    match state.app.update_client(&auth.ctx, id, &f.to_app()).await {
        Ok(_) => Ok(Redirect::to(&format!("/clients/{id}")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let page = NewClientPage {
                chrome: Chrome::for_user(&auth, "/clients"),
                f,
                sexes: sex_options(),
                action: format!("/clients/{id}/edit"),
                editing: true,
                errors,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

#[derive(Deserialize)]
pub struct ContactFields {
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    relationship: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    emergency: Option<String>,
}

pub async fn add_contact(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ContactFields>,
) -> Result<Response, UiError> {
    let client = parse_client(&id)?;
    let form = app::clients::ContactForm {
        name: f.contact_name,
        relationship: f.relationship,
        phone: f.phone,
        email: f.email,
        emergency: f.emergency.is_some(),
    };
    match state.app.add_contact(&auth.ctx, client, &form).await {
        Ok(_) => Ok(Redirect::to(&format!("/clients/{client}#contacts")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &client_page(&state, &auth, client, errors).await?)
        }
    }
}

pub async fn remove_contact(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path((id, contact)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    let client = parse_client(&id)?;
    let contact = contact.parse().map_err(|_| UiError::App(app::AppError::NotFound))?;
    state.app.remove_contact(&auth.ctx, client, contact).await?;
    Ok(Redirect::to(&format!("/clients/{client}#contacts")).into_response())
}

#[derive(Deserialize)]
pub struct CoverageFields {
    #[serde(default)]
    payer: String,
    #[serde(default)]
    member_id: String,
    #[serde(default)]
    group_number: String,
    #[serde(default)]
    priority: String,
}

pub async fn add_coverage(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<CoverageFields>,
) -> Result<Response, UiError> {
    let client = parse_client(&id)?;
    let form = app::clients::CoverageForm {
        payer: f.payer,
        member_id: f.member_id,
        group_number: f.group_number,
        priority: f.priority,
    };
    match state.app.add_coverage(&auth.ctx, client, &form).await {
        Ok(_) => Ok(Redirect::to(&format!("/clients/{client}#coverage")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &client_page(&state, &auth, client, errors).await?)
        }
    }
}

pub async fn remove_coverage(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path((id, coverage)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    let client = parse_client(&id)?;
    let coverage = coverage.parse().map_err(|_| UiError::App(app::AppError::NotFound))?;
    state.app.remove_coverage(&auth.ctx, client, coverage).await?;
    Ok(Redirect::to(&format!("/clients/{client}#coverage")).into_response())
}

pub struct TeamRoleOption {
    pub code: &'static str,
    pub label: &'static str,
}

pub struct Option2 {
    pub value: String,
    pub label: String,
}

/// The choices of the placement form (admission, decisions, inquiry conversion).
pub struct PlacementOptions {
    pub levels: Vec<Option2>,
    pub sites: Vec<Option2>,
    pub beds: Vec<Option2>,
}

pub fn placement_options(app: &app::App, sites: &[app::ports::SiteView]) -> PlacementOptions {
    PlacementOptions {
        levels: app
            .catalogue()
            .levels
            .iter()
            .rev()
            .map(|l| Option2 { value: l.code.to_string(), label: format!("{} – {}", l.code, l.name) })
            .collect(),
        sites: sites.iter().map(|s| Option2 { value: s.site.id.to_string(), label: s.site.name.clone() }).collect(),
        beds: sites
            .iter()
            .flat_map(|s| {
                s.rooms.iter().flat_map(move |r| {
                    r.beds.iter().filter(|b| b.active).map(move |b| Option2 {
                        value: b.id.to_string(),
                        label: format!("{} · {} · {}", s.site.name, r.name, b.label),
                    })
                })
            })
            .collect(),
    }
}

/// One episode as the chart shows it.
pub struct EpisodeBlock {
    pub id: String,
    pub open: bool,
    pub admitted_on: String,
    pub discharge: String,
    pub length_of_stay: i64,
    pub current: String,
    pub placements: Vec<(String, String, String, String, String, String)>,
    pub events: Vec<(String, String, String, String, String)>,
    pub plan: domain::aftercare::AftercarePlan,
    pub follow_ups: Vec<FollowUpRow>,
}

pub struct FollowUpRow {
    pub id: String,
    pub day: u16,
    pub due_on: String,
    pub answered: bool,
    pub summary: String,
}

pub fn follow_up_row(f: &app::ports::FollowUp) -> FollowUpRow {
    let summary = match &f.outcome {
        None => String::new(),
        Some(o) if !o.reached => "Not reached".into(),
        Some(o) => {
            let mut parts = vec![format!("Reached; {}", o.substance_use.map(|s| s.label()).unwrap_or(""))];
            if let Some(w) = o.working_or_in_school {
                parts.push(if w { "working or in school".into() } else { "not working or in school".into() });
            }
            if o.readmitted_elsewhere == Some(true) {
                parts.push("readmitted elsewhere".into());
            }
            parts.join("; ")
        }
    };
    FollowUpRow {
        id: f.id.to_string(),
        day: f.day,
        due_on: f.due_on.to_string(),
        answered: f.outcome.is_some(),
        summary,
    }
}

#[derive(Template)]
#[template(path = "client.html")]
pub(crate) struct ClientPage {
    /// May see the clinical content (measures, aftercare plans): not admissions staff.
    clinical: bool,
    chrome: Chrome,
    client: Client,
    record: domain::client::ClientRecord,
    can_plan: bool,
    contacts: Vec<domain::client::Contact>,
    coverages: Vec<domain::client::Coverage>,
    can_edit: bool,
    team: Vec<app::ports::TeamMember>,
    can_manage_team: bool,
    staff: Vec<User>,
    team_roles: Vec<TeamRoleOption>,
    errors: Errors,
    episodes: Vec<EpisodeBlock>,
    open_episode: Option<String>,
    can_admit: bool,
    can_decide: bool,
    levels: Vec<Option2>,
    sites: Vec<Option2>,
    beds: Vec<Option2>,
    reasons: Vec<Option2>,
    today: String,
    /// The IOP block: enrolment, sessions, the forms to enrol and book (`ui::iop`).
    program: Option<super::iop::ChartProgram>,
}

fn parse_client(raw: &str) -> Result<ClientId, UiError> {
    raw.parse().map_err(|_| UiError::App(app::AppError::NotFound))
}

fn episode_block(
    v: &app::continuum::EpisodeView,
    aftercare: app::aftercare::Aftercare,
    today: time::Date,
    site_names: &std::collections::HashMap<String, String>,
    beds: &std::collections::HashMap<String, String>,
) -> EpisodeBlock {
    let e = &v.episode;
    EpisodeBlock {
        id: e.id.to_string(),
        open: e.is_open(),
        admitted_on: e.admitted_on.to_string(),
        discharge: e
            .discharge
            .as_ref()
            .map(|d| format!("{} – {} (TEDS {})", d.on, d.reason.label(), d.reason.teds()))
            .unwrap_or_default(),
        length_of_stay: e.length_of_stay(today),
        current: e.current().map(|p| format!("Level {} since {}", p.level, p.start)).unwrap_or_default(),
        placements: e
            .placements
            .iter()
            .map(|p| {
                (
                    p.level.to_string(),
                    site_names.get(&p.site.to_string()).cloned().unwrap_or_default(),
                    p.bed.map(|b| beds.get(&b.to_string()).cloned().unwrap_or_default()).unwrap_or_default(),
                    p.start.to_string(),
                    p.planned_end.map(|d| d.to_string()).unwrap_or_default(),
                    p.end.map(|d| d.to_string()).unwrap_or_else(|| "current".into()),
                )
            })
            .collect(),
        events: v
            .events
            .iter()
            .map(|ev| {
                let change = match (&ev.from_level, &ev.to_level) {
                    (Some(a), Some(b)) if a != b => format!("{a} → {b}"),
                    (_, Some(b)) => b.to_string(),
                    (Some(a), None) => a.to_string(),
                    _ => String::new(),
                };
                (ev.on.to_string(), ev.kind.label().to_owned(), change, ev.decided_by_name.clone(), ev.reason.clone())
            })
            .collect(),
        plan: aftercare.plan.unwrap_or_default(),
        follow_ups: aftercare.follow_ups.iter().map(follow_up_row).collect(),
    }
}

pub(crate) async fn client_page(
    state: &AppState,
    auth: &app::auth::Authenticated,
    id: ClientId,
    errors: Errors,
) -> Result<ClientPage, UiError> {
    let view = state.app.client(&auth.ctx, id).await?;
    let can_manage_team = auth.ctx.actor.scope_for(Permission::ManageCareTeam, id).is_ok();
    let staff = if can_manage_team { state.app.staff_directory(&auth.ctx).await? } else { Vec::new() };
    let episodes = state.app.episodes(&auth.ctx, id).await?;
    let sites = state.app.sites(&auth.ctx).await?;
    let site_names = sites.iter().map(|s| (s.site.id.to_string(), s.site.name.clone())).collect();
    let bed_names = super::continuum::bed_names(&sites);
    let today = state.app.now().date();
    let open_episode = episodes.iter().find(|e| e.episode.is_open()).map(|e| e.episode.id.to_string());
    let can_admit = open_episode.is_none() && auth.ctx.actor.scope_for(Permission::AdmitClient, id).is_ok();
    let can_decide = open_episode.is_some() && auth.ctx.actor.scope_for(Permission::DecideTransition, id).is_ok();
    let PlacementOptions { levels, sites: site_options, beds: bed_options } = placement_options(&state.app, &sites);
    let reasons = domain::episode::DischargeReason::ALL
        .iter()
        .map(|r| Option2 { value: r.code().to_owned(), label: format!("{} ({})", r.label(), r.teds()) })
        .collect();
    let can_edit = auth.ctx.actor.scope_for(Permission::AdmitClient, id).is_ok();
    let mut blocks = Vec::with_capacity(episodes.len());
    // Aftercare plans are clinical content; admissions staff see the stays without them.
    let clinical = auth.ctx.actor.scope_for(Permission::ReadClinical, id).is_ok();
    for e in &episodes {
        let aftercare = if clinical {
            state.app.aftercare(&auth.ctx, id, e.episode.id).await?
        } else {
            app::aftercare::Aftercare { plan: None, follow_ups: Vec::new() }
        };
        blocks.push(episode_block(e, aftercare, today, &site_names, &bed_names));
    }
    let can_plan = auth.ctx.actor.scope_for(Permission::PlanAftercare, id).is_ok();
    let program = super::iop::chart_program(state, auth, id).await?;
    Ok(ClientPage {
        program,
        can_plan,
        clinical,
        record: view.record.clone(),
        contacts: view.contacts.clone(),
        coverages: view.coverages.clone(),
        can_edit,
        episodes: blocks,
        open_episode,
        can_admit,
        can_decide,
        levels,
        sites: site_options,
        beds: bed_options,
        reasons,
        today: today.to_string(),
        chrome: Chrome::for_user(auth, "/clients"),
        client: view.client,
        team: view.care_team,
        can_manage_team,
        staff,
        team_roles: TeamRole::ALL.iter().map(|r| TeamRoleOption { code: r.code(), label: r.label() }).collect(),
        errors,
    })
}

pub async fn show(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let id = parse_client(&id)?;
    ok(&client_page(&state, &auth, id, Errors::default()).await?)
}

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    team_role: String,
}

pub async fn add_member(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<MemberForm>,
) -> Result<Response, UiError> {
    let client = parse_client(&id)?;
    let result = match f.user_id.parse::<UserId>() {
        Ok(user) => state.app.add_care_team_member(&auth.ctx, client, user, &f.team_role).await,
        Err(_) => Err(app::AppError::invalid("user_id", "Choose a staff member")),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/clients/{client}")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &client_page(&state, &auth, client, errors).await?)
        }
    }
}

pub async fn remove_member(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path((id, user)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    let client = parse_client(&id)?;
    let user: UserId = user.parse().map_err(|_| UiError::App(app::AppError::NotFound))?;
    state.app.remove_care_team_member(&auth.ctx, client, user).await?;
    Ok(Redirect::to(&format!("/clients/{client}")).into_response())
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
}

pub async fn admit(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<AdmitFields>,
) -> Result<Response, UiError> {
    let client = parse_client(&id)?;
    let form = app::continuum::AdmitForm {
        on: f.on,
        level: f.level,
        site: f.site,
        bed: f.bed,
        planned_end: f.planned_end,
        reason: f.reason,
    };
    match state.app.admit(&auth.ctx, client, &form).await {
        Ok(_) => Ok(Redirect::to(&format!("/clients/{client}#episodes")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &client_page(&state, &auth, client, errors).await?)
        }
    }
}

#[derive(Deserialize)]
pub struct DecisionFields {
    #[serde(default)]
    kind: String,
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
    discharge_reason: String,
    #[serde(default)]
    reason: String,
}

pub async fn decide(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path((id, episode)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<DecisionFields>,
) -> Result<Response, UiError> {
    let client = parse_client(&id)?;
    let episode = episode.parse().map_err(|_| UiError::App(app::AppError::NotFound))?;
    let form = app::continuum::DecisionForm {
        kind: f.kind,
        on: f.on,
        level: f.level,
        site: f.site,
        bed: f.bed,
        planned_end: f.planned_end,
        discharge_reason: f.discharge_reason,
        reason: f.reason,
    };
    match state.app.decide(&auth.ctx, client, episode, &form).await {
        Ok(_) => Ok(Redirect::to(&format!("/clients/{client}#episodes")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &client_page(&state, &auth, client, errors).await?)
        }
    }
}

#[derive(Deserialize)]
pub struct PlanFields {
    #[serde(default)]
    referrals: String,
    #[serde(default)]
    sober_living: String,
    #[serde(default)]
    meetings: String,
    #[serde(default)]
    medication: String,
    #[serde(default)]
    appointments: String,
}

pub async fn save_plan(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path((id, episode)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<PlanFields>,
) -> Result<Response, UiError> {
    let client = parse_client(&id)?;
    let episode = episode.parse().map_err(|_| UiError::App(app::AppError::NotFound))?;
    let form = app::aftercare::PlanForm {
        referrals: f.referrals,
        sober_living: f.sober_living,
        meetings: f.meetings,
        medication: f.medication,
        appointments: f.appointments,
    };
    match state.app.save_aftercare_plan(&auth.ctx, client, episode, &form).await {
        Ok(_) => Ok(Redirect::to(&format!("/clients/{client}#episode-{episode}")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &client_page(&state, &auth, client, errors).await?)
        }
    }
}
