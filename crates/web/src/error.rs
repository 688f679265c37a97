//! Every error leaves the server through here: `application/problem+json` (RFC 9457) for the
//! API, a friendly page for the UI. Messages never contain data from records.

use app::{AppError, FieldError};
use askama::Template;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

/// A problem in the API's words.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Always `about:blank`; `code` is the stable, machine-readable kind.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    /// A stable code: validation, unauthenticated, forbidden, not_found, conflict, throttled,
    /// csrf, bad_request, payload_too_large, unsupported_media_type, method_not_allowed, internal.
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<i64>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str) -> Self {
        Self {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            code,
            detail: None,
            errors: Vec::new(),
            retry_after_seconds: None,
        }
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.retry_after_seconds;
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut res = (status, body).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = retry
            && let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

/// How long until a throttled person may try again, in whole minutes for people.
pub fn wait_minutes(until: time::OffsetDateTime, now: time::OffsetDateTime) -> i64 {
    ((until - now).whole_seconds().max(1) + 59) / 60
}

/// An error from an API handler.
#[derive(Debug)]
pub struct ApiError(pub Problem);

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        Self(p)
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        Self(problem_for(err))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

pub fn problem_for(err: AppError) -> Problem {
    match err {
        AppError::Invalid(errors) => Problem {
            errors,
            ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", "Some fields are not valid")
        },
        AppError::Unauthenticated => Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Sign in first"),
        AppError::BadCredentials => {
            Problem::new(StatusCode::UNAUTHORIZED, "bad_credentials", "The user name or password is not right")
        }
        AppError::Denied(_) => Problem::new(StatusCode::FORBIDDEN, "forbidden", "You do not have access to this"),
        AppError::NotFound => Problem::new(StatusCode::NOT_FOUND, "not_found", "Not found"),
        AppError::Conflict(why) => {
            Problem::new(StatusCode::CONFLICT, "conflict", "The request conflicts with what is stored").detail(why)
        }
        AppError::Throttled { until } => {
            let secs = (until - time::OffsetDateTime::now_utc()).whole_seconds().max(1);
            Problem {
                retry_after_seconds: Some(secs),
                ..Problem::new(StatusCode::TOO_MANY_REQUESTS, "throttled", "Too many attempts")
                    .detail(format!("Too many failed attempts. Try again in {} minutes.", (secs + 59) / 60))
            }
        }
        AppError::Store(app::StoreError::Busy) => Problem {
            retry_after_seconds: Some(1),
            ..Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "The server is busy; try again")
        },
        AppError::Store(e) => {
            // The log names the failure and a reference the caller also gets; the driver's own
            // message, values blanked, only at debug level.
            let reference = uuid::Uuid::new_v4().simple().to_string();
            tracing::error!(error = %e, reference = %reference, "store error");
            if let Some(detail) = e.redacted_detail() {
                tracing::debug!(reference = %reference, detail = %detail, "store error detail");
            }
            internal().detail(format!("Reference {reference}"))
        }
        AppError::Internal(what) => {
            tracing::error!(error = what, "internal error");
            internal()
        }
    }
}

fn internal() -> Problem {
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Something went wrong on our side")
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    message: String,
    status: u16,
    signed_in: bool,
}

/// A friendly error page for people using the web UI.
pub fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let tpl =
        ErrorPage { title: title.to_owned(), message: message.to_owned(), status: status.as_u16(), signed_in: false };
    match tpl.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, title.to_owned()).into_response(),
    }
}

/// An error from a UI handler.
#[derive(Debug)]
pub enum UiError {
    App(AppError),
    /// The request was not signed in: go to the sign-in page.
    SignIn,
    Csrf,
    BadRequest(&'static str),
    Redirect(String),
}

impl From<AppError> for UiError {
    fn from(e: AppError) -> Self {
        UiError::App(e)
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::SignIn | UiError::App(AppError::Unauthenticated) => {
                axum::response::Redirect::to("/login").into_response()
            }
            UiError::Redirect(to) => axum::response::Redirect::to(&to).into_response(),
            UiError::Csrf => page(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "For your security the form could not be sent. Go back, reload the page and try again.",
            ),
            UiError::BadRequest(why) => page(StatusCode::BAD_REQUEST, "Something is wrong with that request", why),
            UiError::App(e) => {
                let p = problem_for(e);
                let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let message = match status {
                    StatusCode::FORBIDDEN => "You do not have access to this page. If you need it for your work, ask your supervisor or privacy officer. This attempt has been recorded.".to_owned(),
                    StatusCode::NOT_FOUND => "The page or record you asked for does not exist.".to_owned(),
                    StatusCode::UNPROCESSABLE_ENTITY if !p.errors.is_empty() => p
                        .errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                    _ => p.detail.clone().unwrap_or_else(|| "Please try again. If it keeps happening, tell your administrator.".to_owned()),
                };
                page(status, p.title, &message)
            }
        }
    }
}

pub async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        Problem::new(StatusCode::NOT_FOUND, "not_found", "Not found").into_response()
    } else {
        page(StatusCode::NOT_FOUND, "Page not found", "If you typed the web address, check it is correct.")
    }
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    internal().into_response()
}
