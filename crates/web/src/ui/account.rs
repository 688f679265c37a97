//! The signed-in person's own account: two-step verification, password, sessions.

use app::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use serde::Deserialize;

use super::login::{CodeForm, Empty};
use super::{Chrome, Errors, fmt_time, form_errors, ok, render};
use crate::AppState;
use crate::auth::{AnyStage, Meta, Signed, clear_session_cookie, set_session_cookie};
use crate::error::UiError;
use crate::forms::CsrfForm;

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    chrome: Chrome,
    qr_data_uri: String,
    secret: String,
    required: bool,
    already: bool,
    errors: Errors,
}

fn qr_data_uri(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => {
            let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(220, 220).build();
            format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(svg))
        }
        Err(_) => String::new(),
    }
}

fn chrome_for(auth: &app::auth::Authenticated) -> Chrome {
    if auth.session.stage == app::ports::SessionStage::Full && !auth.user.must_change_password {
        Chrome::for_user(auth, "/account")
    } else {
        Chrome::limited(auth)
    }
}

async fn enrol_page(state: &AppState, auth: &app::auth::Authenticated, errors: Errors) -> Result<EnrolPage, UiError> {
    let enrolment = state.app.begin_mfa_enrolment(auth).await?;
    Ok(EnrolPage {
        chrome: chrome_for(auth),
        qr_data_uri: qr_data_uri(&enrolment.otpauth_uri),
        secret: enrolment.secret_base32,
        required: auth.session.stage == app::ports::SessionStage::MfaEnrolRequired,
        already: auth.user.mfa_enabled,
        errors,
    })
}

pub async fn enrol_form(State(state): State<AppState>, AnyStage(auth): AnyStage) -> Result<Response, UiError> {
    if auth.session.stage == app::ports::SessionStage::MfaPending {
        return Err(UiError::Redirect("/login/mfa".into()));
    }
    ok(&enrol_page(&state, &auth, Errors::default()).await?)
}

pub async fn enrol_submit(
    State(state): State<AppState>,
    AnyStage(auth): AnyStage,
    Meta(meta): Meta,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> Result<Response, UiError> {
    if auth.session.stage == app::ports::SessionStage::MfaPending {
        return Err(UiError::Redirect("/login/mfa".into()));
    }
    match state.app.confirm_mfa_enrolment(&auth, &f.code, &meta).await {
        Ok(new_session) => {
            let mut res = Redirect::to("/account/sessions?done=mfa-enrolled").into_response();
            if let Some(sign_in) = new_session {
                set_session_cookie(&mut res, &state, &sign_in);
            }
            Ok(res)
        }
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &enrol_page(&state, &auth, errors).await?)
        }
    }
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    chrome: Chrome,
    must_change: bool,
    errors: Errors,
}

pub async fn password_form(AnyStage(auth): AnyStage) -> Result<Response, UiError> {
    if auth.session.stage != app::ports::SessionStage::Full {
        return Err(UiError::Redirect("/".into()));
    }
    ok(&PasswordPage {
        chrome: chrome_for(&auth),
        must_change: auth.user.must_change_password,
        errors: Errors::default(),
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

pub async fn password_submit(
    State(state): State<AppState>,
    AnyStage(auth): AnyStage,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> Result<Response, UiError> {
    if auth.session.stage != app::ports::SessionStage::Full {
        return Err(UiError::Redirect("/".into()));
    }
    match state.app.change_password(&auth, &f.current_password, &f.new_password, &f.confirm_password).await {
        Ok(()) => Ok(Redirect::to("/account/sessions?done=password-changed").into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let page = PasswordPage { chrome: chrome_for(&auth), must_change: auth.user.must_change_password, errors };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

pub struct SessionRow {
    pub id: String,
    pub started: String,
    pub last_seen: String,
    pub source: String,
    pub device: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    chrome: Chrome,
    username: String,
    role_label: &'static str,
    mfa_enabled: bool,
    sessions: Vec<SessionRow>,
    notice: Option<&'static str>,
    /// May have a calendar feed (sees the program's calendars).
    feed_allowed: bool,
    /// The feed that works now.
    feed: Option<super::feeds::FeedPanel>,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn sessions(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Query(q): Query<DoneQuery>,
) -> Result<Response, UiError> {
    let list = state.app.my_sessions(&auth).await?;
    let sessions = list
        .into_iter()
        .map(|s| SessionRow {
            id: s.id.to_string(),
            started: fmt_time(s.created_at),
            last_seen: fmt_time(s.last_seen_at),
            source: s.source.unwrap_or_else(|| "unknown".into()),
            device: s.user_agent.unwrap_or_else(|| "unknown".into()),
            current: s.current,
        })
        .collect();
    let notice = match q.done.as_deref() {
        Some("password-changed") => Some("Your password was changed. Your other sessions were signed out."),
        Some("mfa-enrolled") => Some("Two-step verification is set up."),
        Some("revoked") => Some("That session was signed out."),
        Some("feed-revoked") => Some("Your calendar feed was stopped. Its address no longer works."),
        _ => None,
    };
    let feed_allowed = auth.ctx.actor.require(domain::access::Permission::ViewProgram).is_ok();
    let feed = if feed_allowed { super::feeds::live(&state.app.my_feeds(&auth.ctx).await?) } else { None };
    ok(&SessionsPage {
        chrome: Chrome::for_user(&auth, "/account"),
        username: auth.user.username.to_string(),
        role_label: auth.user.role.label(),
        mfa_enabled: auth.user.mfa_enabled,
        sessions,
        notice,
        feed_allowed,
        feed,
    })
}

pub async fn revoke(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    let id = id.parse().map_err(|_| UiError::App(AppError::NotFound))?;
    state.app.revoke_my_session(&auth, id).await?;
    if id == auth.session.id {
        let mut res = Redirect::to("/login?done=signed-out").into_response();
        clear_session_cookie(&mut res, &state);
        return Ok(res);
    }
    Ok(Redirect::to("/account/sessions?done=revoked").into_response())
}

pub async fn logout_everywhere(
    State(state): State<AppState>,
    AnyStage(auth): AnyStage,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    state.app.logout_everywhere(&auth).await?;
    let mut res = Redirect::to("/login?done=signed-out").into_response();
    clear_session_cookie(&mut res, &state);
    Ok(res)
}
