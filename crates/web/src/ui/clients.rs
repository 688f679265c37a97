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

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsPage {
    chrome: Chrome,
    clients: Vec<Client>,
    can_create: bool,
}

pub async fn list(State(state): State<AppState>, Signed(auth): Signed) -> Result<Response, UiError> {
    let clients = state.app.clients(&auth.ctx, 200).await?;
    let can_create = grant(auth.user.role, Permission::CreateClient).is_some();
    ok(&ClientsPage { chrome: Chrome::for_user(&auth, "/clients"), clients, can_create })
}

#[derive(Template)]
#[template(path = "client_new.html")]
struct NewClientPage {
    chrome: Chrome,
    given_name: String,
    family_name: String,
    date_of_birth: String,
    errors: Errors,
}

pub async fn new_form(Signed(auth): Signed) -> Result<Response, UiError> {
    if grant(auth.user.role, Permission::CreateClient).is_none() {
        return Err(UiError::App(app::AppError::Denied(domain::access::AccessDenied {
            permission: Permission::CreateClient,
            client: None,
        })));
    }
    ok(&NewClientPage {
        chrome: Chrome::for_user(&auth, "/clients"),
        given_name: String::new(),
        family_name: String::new(),
        date_of_birth: String::new(),
        errors: Errors::default(),
    })
}

#[derive(Deserialize)]
pub struct ClientForm {
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    date_of_birth: String,
}

pub async fn create(
    State(state): State<AppState>,
    Signed(auth): Signed,
    CsrfForm(f): CsrfForm<ClientForm>,
) -> Result<Response, UiError> {
    let form = NewClientForm {
        given_name: f.given_name.clone(),
        family_name: f.family_name.clone(),
        date_of_birth: f.date_of_birth.clone(),
    };
    match state.app.create_client(&auth.ctx, &form).await {
        Ok(client) => Ok(Redirect::to(&format!("/clients/{}", client.id)).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let page = NewClientPage {
                chrome: Chrome::for_user(&auth, "/clients"),
                given_name: f.given_name,
                family_name: f.family_name,
                date_of_birth: f.date_of_birth,
                errors,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

pub struct TeamRoleOption {
    pub code: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "client.html")]
struct ClientPage {
    chrome: Chrome,
    client: Client,
    team: Vec<app::ports::TeamMember>,
    can_manage_team: bool,
    staff: Vec<User>,
    team_roles: Vec<TeamRoleOption>,
    errors: Errors,
}

fn parse_client(raw: &str) -> Result<ClientId, UiError> {
    raw.parse().map_err(|_| UiError::App(app::AppError::NotFound))
}

async fn client_page(
    state: &AppState,
    auth: &app::auth::Authenticated,
    id: ClientId,
    errors: Errors,
) -> Result<ClientPage, UiError> {
    let view = state.app.client(&auth.ctx, id).await?;
    let can_manage_team = auth.ctx.actor.scope_for(Permission::ManageCareTeam, id).is_ok();
    let staff = if can_manage_team { state.app.staff_directory(&auth.ctx).await? } else { Vec::new() };
    Ok(ClientPage {
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
