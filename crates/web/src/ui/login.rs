//! Signing in (password, then the second factor) and out.

use app::AppError;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Chrome, Errors, ok, render};
use crate::AppState;
use crate::auth::{
    AnyStage, Meta, clear_session_cookie, cookie_value, login_csrf_cookie_name, set_login_csrf_cookie,
    set_session_cookie,
};
use crate::error::{UiError, wait_minutes};
use crate::forms::CsrfForm;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    username: String,
    errors: Errors,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    done: Option<String>,
}

fn notice_for(done: Option<&str>) -> Option<String> {
    match done? {
        "signed-out" => Some("You have signed out.".into()),
        "password-changed" => Some("Your password was changed. Sign in with your new password.".into()),
        "expired" => Some("Your session ended. Sign in again.".into()),
        _ => None,
    }
}

/// The sign-in page sets its own CSRF cookie (double submit): there is no session yet.
pub async fn form(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Result<Response, UiError> {
    let token = cookie_value(&headers, login_csrf_cookie_name(state.config.secure_cookies))
        .unwrap_or_else(app::security::random_token);
    let page = LoginPage {
        chrome: Chrome::anonymous(token.clone()),
        username: String::new(),
        errors: Errors::default(),
        notice: notice_for(q.done.as_deref()),
    };
    let mut res = ok(&page)?;
    set_login_csrf_cookie(&mut res, &state, &token);
    Ok(res)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    csrf: String,
}

pub async fn submit(
    State(state): State<AppState>,
    Meta(meta): Meta,
    CsrfForm(f): CsrfForm<LoginForm>,
) -> Result<Response, UiError> {
    let errors = match state.app.login(&f.username, &f.password, &meta).await {
        Ok(sign_in) => {
            let mut res = Redirect::to(match sign_in.stage {
                app::ports::SessionStage::MfaPending => "/login/mfa",
                app::ports::SessionStage::MfaEnrolRequired => "/account/mfa",
                app::ports::SessionStage::Full => "/",
            })
            .into_response();
            set_session_cookie(&mut res, &state, &sign_in);
            return Ok(res);
        }
        Err(AppError::BadCredentials) => {
            vec![app::FieldError::new("username", "The user name or password is not right")]
        }
        Err(AppError::Throttled { until }) => vec![app::FieldError::new(
            "username",
            format!(
                "Too many failed sign-in attempts. Wait {} minutes, then try again.",
                wait_minutes(until, state.app.now())
            ),
        )],
        Err(other) => return Err(other.into()),
    };
    let status = if errors.iter().any(|e| e.message.starts_with("Too many")) {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::UNAUTHORIZED
    };
    let page =
        LoginPage { chrome: Chrome::anonymous(f.csrf), username: f.username, errors: Errors(errors), notice: None };
    render(status, &page)
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaPage {
    chrome: Chrome,
    errors: Errors,
}

pub async fn mfa_form(AnyStage(auth): AnyStage) -> Result<Response, UiError> {
    if auth.session.stage != app::ports::SessionStage::MfaPending {
        return Err(UiError::Redirect("/".into()));
    }
    ok(&MfaPage { chrome: Chrome::limited(&auth), errors: Errors::default() })
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub code: String,
}

pub async fn mfa_submit(
    State(state): State<AppState>,
    AnyStage(auth): AnyStage,
    Meta(meta): Meta,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> Result<Response, UiError> {
    match state.app.verify_mfa(&auth, &f.code, &meta).await {
        Ok(sign_in) => {
            let mut res = Redirect::to("/").into_response();
            set_session_cookie(&mut res, &state, &sign_in);
            Ok(res)
        }
        Err(AppError::Throttled { until }) => {
            let errors = Errors(vec![app::FieldError::new(
                "code",
                format!("Too many wrong codes. Wait {} minutes, then try again.", wait_minutes(until, state.app.now())),
            )]);
            render(StatusCode::TOO_MANY_REQUESTS, &MfaPage { chrome: Chrome::limited(&auth), errors })
        }
        Err(e) => {
            let errors = super::form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &MfaPage { chrome: Chrome::limited(&auth), errors })
        }
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(state): State<AppState>,
    AnyStage(auth): AnyStage,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    state.app.logout(&auth).await?;
    let mut res = Redirect::to("/login?done=signed-out").into_response();
    clear_session_cookie(&mut res, &state);
    Ok(res)
}
