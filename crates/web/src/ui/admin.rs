//! Account administration (administrators and privacy officers).

use app::users::{NewUserForm, UserChanges};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::ids::UserId;
use domain::role::Role;
use domain::user::User;
use serde::Deserialize;

use super::login::Empty;
use super::{Chrome, Errors, form_errors, ok, render};
use crate::AppState;
use crate::auth::Signed;
use crate::error::UiError;
use crate::forms::CsrfForm;

pub struct RoleOption {
    pub code: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn role_options(selected: &str) -> Vec<RoleOption> {
    Role::STAFF
        .iter()
        .map(|r| RoleOption { code: r.code(), label: r.label(), selected: r.code() == selected })
        .collect()
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<User>,
}

pub async fn list(State(state): State<AppState>, Signed(auth): Signed) -> Result<Response, UiError> {
    let users = state.app.list_users(&auth.ctx).await?;
    ok(&UsersPage { chrome: Chrome::for_user(&auth, "/admin/users"), users })
}

#[derive(Template)]
#[template(path = "user_new.html")]
struct NewUserPage {
    chrome: Chrome,
    username: String,
    display_name: String,
    roles: Vec<RoleOption>,
    errors: Errors,
}

pub async fn new_form(State(state): State<AppState>, Signed(auth): Signed) -> Result<Response, UiError> {
    // Ask the use case layer first so a refusal is audited even for the empty form.
    state.app.list_users(&auth.ctx).await?;
    ok(&NewUserPage {
        chrome: Chrome::for_user(&auth, "/admin/users"),
        username: String::new(),
        display_name: String::new(),
        roles: role_options("counselor"),
        errors: Errors::default(),
    })
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
}

#[derive(Template)]
#[template(path = "user_created.html")]
struct CreatedPage {
    chrome: Chrome,
    user: User,
    one_time_password: String,
    heading: &'static str,
}

pub async fn create(
    State(state): State<AppState>,
    Signed(auth): Signed,
    CsrfForm(f): CsrfForm<CreateForm>,
) -> Result<Response, UiError> {
    let form = NewUserForm {
        username: f.username.clone(),
        display_name: f.display_name.clone(),
        role: f.role.clone(),
        password: None,
    };
    match state.app.create_user(&auth.ctx, &form).await {
        Ok(created) => ok(&CreatedPage {
            chrome: Chrome::for_user(&auth, "/admin/users"),
            user: created.user,
            one_time_password: created.one_time_password.unwrap_or_default(),
            heading: "Account created",
        }),
        Err(e) => {
            let errors = form_errors(e)?;
            let page = NewUserPage {
                chrome: Chrome::for_user(&auth, "/admin/users"),
                username: f.username,
                display_name: f.display_name,
                roles: role_options(&f.role),
                errors,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

#[derive(Template)]
#[template(path = "user_edit.html")]
struct EditPage {
    chrome: Chrome,
    user: User,
    display_name: String,
    active: bool,
    roles: Vec<RoleOption>,
    errors: Errors,
    notice: Option<&'static str>,
    is_self: bool,
}

fn parse_id(raw: &str) -> Result<UserId, UiError> {
    raw.parse().map_err(|_| UiError::App(app::AppError::NotFound))
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn edit_form(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, UiError> {
    let user = state.app.get_user(&auth.ctx, parse_id(&id)?).await?;
    let notice = match q.done.as_deref() {
        Some("saved") => Some("Changes saved."),
        Some("mfa-reset") => Some("Two-step verification was removed. They will set it up again at next sign-in."),
        _ => None,
    };
    ok(&EditPage {
        chrome: Chrome::for_user(&auth, "/admin/users"),
        display_name: user.display_name.to_string(),
        active: user.active,
        roles: role_options(user.role.code()),
        is_self: user.id == auth.user.id,
        user,
        errors: Errors::default(),
        notice,
    })
}

#[derive(Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    /// Checkbox: present when ticked.
    active: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<UpdateForm>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let changes =
        UserChanges { display_name: f.display_name.clone(), role: f.role.clone(), active: f.active.is_some() };
    match state.app.update_user(&auth.ctx, id, &changes).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{id}?done=saved")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let user = state.app.get_user(&auth.ctx, id).await?;
            let page = EditPage {
                chrome: Chrome::for_user(&auth, "/admin/users"),
                display_name: f.display_name,
                active: f.active.is_some(),
                roles: role_options(&f.role),
                is_self: user.id == auth.user.id,
                user,
                errors,
                notice: None,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

pub async fn reset_password(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let password = state.app.reset_password(&auth.ctx, id).await?;
    let user = state.app.get_user(&auth.ctx, id).await?;
    ok(&CreatedPage {
        chrome: Chrome::for_user(&auth, "/admin/users"),
        user,
        one_time_password: password,
        heading: "Password reset",
    })
}

pub async fn reset_mfa(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    state.app.reset_mfa(&auth.ctx, id).await?;
    Ok(Redirect::to(&format!("/admin/users/{id}?done=mfa-reset")).into_response())
}
