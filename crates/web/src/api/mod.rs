//! The JSON API under `/api/v1`. Request bodies are strict (unknown fields are refused);
//! every error is `application/problem+json`.

pub mod attendance;
pub mod audit;
pub mod clients;
pub mod continuum;
pub mod feeds;
pub mod inquiries;
pub mod iop;
pub mod measurement;
pub mod openapi;
pub mod schedule;
pub mod session;
pub mod users;

use axum::Router;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::{ApiError, Problem};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/session", post(session::login).get(session::current).delete(session::logout))
        .route("/session/mfa", post(session::verify_mfa))
        .route("/me/sessions", get(session::list_sessions))
        .route("/me/sessions/{id}", axum::routing::delete(session::revoke_session))
        .route("/me/sessions/revoke-all", post(session::logout_everywhere))
        .route("/me/password", post(session::change_password))
        .route("/me/mfa", post(session::begin_mfa))
        .route("/me/mfa/confirm", post(session::confirm_mfa))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::get).patch(users::update))
        .route("/users/{id}/reset-password", post(users::reset_password))
        .route("/users/{id}/reset-mfa", post(users::reset_mfa))
        .route("/clients", get(clients::list).post(clients::create))
        .route("/clients/search", post(clients::search))
        .route("/clients/{id}", get(clients::get).put(clients::update))
        .route("/clients/{id}/contacts", post(clients::add_contact))
        .route("/clients/{id}/contacts/{contact_id}", axum::routing::delete(clients::remove_contact))
        .route("/clients/{id}/coverages", post(clients::add_coverage))
        .route("/clients/{id}/coverages/{coverage_id}", axum::routing::delete(clients::remove_coverage))
        .route("/clients/{id}/care-team/{user_id}", put(clients::add_member).delete(clients::remove_member))
        .route("/audit-events", get(audit::list))
        .route("/levels", get(continuum::levels))
        .route("/sites", get(continuum::sites).post(continuum::create_site))
        .route("/sites/{id}/rooms", post(continuum::add_room))
        .route("/rooms/{id}/beds", post(continuum::add_bed))
        .route("/clients/{id}/episodes", get(continuum::episodes).post(continuum::admit))
        .route("/clients/{id}/episodes/{episode_id}/decisions", post(continuum::decide))
        .route("/census", get(continuum::census))
        .route(
            "/clients/{id}/episodes/{episode_id}/aftercare",
            get(continuum::aftercare).put(continuum::save_aftercare),
        )
        .route("/inquiries", get(inquiries::list).post(inquiries::create))
        .route("/inquiries/{id}", get(inquiries::get))
        .route("/inquiries/{id}/stage", post(inquiries::stage))
        .route("/inquiries/{id}/tasks", post(inquiries::add_task))
        .route("/inquiries/{id}/tasks/{task_id}/done", post(inquiries::complete_task))
        .route("/inquiries/{id}/admit", post(inquiries::admit))
        .route("/follow-ups", get(continuum::follow_ups_due))
        .route("/follow-ups/{id}", post(continuum::record_follow_up))
        .route("/forms", get(measurement::forms).post(measurement::import_form))
        .route("/forms/{id}/retire", post(measurement::retire_form))
        .route("/clients/{id}/measures", get(measurement::measures))
        .route("/clients/{id}/responses", post(measurement::record_response))
        .route("/clients/{id}/responses/{response_id}", get(measurement::response))
        .route("/alerts", get(measurement::alerts))
        .route("/alerts/{id}/acknowledge", post(measurement::acknowledge))
        .route("/worklist", get(measurement::worklist))
        .route("/caseload", get(measurement::caseload))
        .route("/recommendation", post(measurement::recommendation))
        .route(
            "/clients/{id}/episodes/{episode_id}/review",
            get(measurement::review_context).post(measurement::record_review),
        )
        .route("/reports/review-agreement", get(measurement::agreement_report))
        .route("/clients/{id}/client-mode", post(measurement::start_client_mode))
        .route("/client-mode", get(measurement::client_mode_form))
        .route("/client-mode/responses", post(measurement::submit_client_mode))
        .route("/iop/sessions/{id}/attendance", get(attendance::sheet).post(attendance::record))
        .route("/iop/sessions/{id}/note", post(attendance::sign))
        .route("/iop/sessions/{id}/amendments", post(attendance::amend))
        .route("/outreach", get(attendance::outreach))
        .route("/outreach/{id}/done", post(attendance::outreach_done))
        .route("/clients/{id}/dose", get(attendance::client_dose))
        .route("/iop/compliance", get(attendance::dashboard))
        .route("/clients/{id}/availability", put(attendance::availability))
        .route("/clients/{id}/program-plan", get(attendance::plan))
        .route("/clients/{id}/requirements", put(attendance::requirements))
        .route("/program", get(iop::program))
        .route("/program/tracks", post(iop::create_track))
        .route("/program/tracks/{id}", put(iop::update_track))
        .route("/program/tracks/{id}/templates", post(iop::add_template))
        .route("/program/tracks/{id}/weeks/{week}", post(iop::generate_week))
        .route("/program/templates/{id}", put(iop::update_template).delete(iop::retire_template))
        .route("/program/closures", post(iop::add_closure))
        .route("/program/closures/{id}", axum::routing::delete(iop::remove_closure))
        .route("/program/appointments", post(iop::book_appointment))
        .route("/program/calendar", get(iop::calendar))
        .route("/program/tracks/{id}/weeks/{week}/proposal", get(schedule::proposal))
        .route("/program/tracks/{id}/weeks/{week}/schedule", get(schedule::current).post(schedule::apply))
        .route("/program/facilitator-loads", get(schedule::loads))
        .route("/program/facilitator-loads/{user_id}", put(schedule::set_load))
        .route("/iop/sessions/{id}", get(iop::session))
        .route("/iop/sessions/{id}/cancel", post(iop::cancel))
        .route("/iop/sessions/{id}/reinstate", post(iop::reinstate))
        .route("/iop/sessions/{id}/move", post(iop::move_session))
        .route("/iop/sessions/{id}/substitute", put(iop::substitute))
        .route("/iop/sessions/{id}/roster/{client_id}", put(iop::add_to_roster).delete(iop::remove_from_roster))
        .route("/clients/{id}/enrolments", get(iop::enrolments).post(iop::enrol))
        .route("/clients/{id}/enrolments/{enrolment_id}/end", post(iop::end_enrolment))
        .route("/clients/{id}/schedule", get(iop::client_schedule))
        .route("/me/calendar-feeds", get(feeds::mine).post(feeds::issue_mine))
        .route("/clients/{id}/calendar-feeds", get(feeds::of_client).post(feeds::issue_for_client))
        .route("/calendar-feeds/{id}/revoke", post(feeds::revoke))
        .layer(axum::middleware::from_fn(problem_errors))
}

/// Answers axum's own refusals as problem+json too. A path or query string that does not
/// parse, a raw body over the limit and a method a route lacks are refused by axum before any
/// handler runs, in text/plain; the API promises problem+json for every error (and documents
/// it), so they are rewritten here, keeping the status and axum's reason as the detail.
async fn problem_errors(req: Request, next: axum::middleware::Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(openapi::PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return res;
    }
    let (parts, body) = res.into_parts();
    let (code, title) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "The request could not be read"),
        StatusCode::NOT_FOUND => ("not_found", "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "This method is not allowed here"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "The body's content type is not accepted"),
        StatusCode::UNPROCESSABLE_ENTITY => ("validation", "The request is not valid"),
        s if s.is_server_error() => ("internal", "Something went wrong on our side"),
        _ => ("bad_request", "The request was refused"),
    };
    let mut problem = Problem::new(status, code, title);
    // axum's reasons name the parameter and what it expected; a server error says nothing.
    if status.is_client_error()
        && let Ok(bytes) = axum::body::to_bytes(body, 4096).await
        && let Ok(text) = std::str::from_utf8(&bytes)
        && !text.trim().is_empty()
    {
        problem = problem.detail(text.trim());
    }
    let mut out = problem.into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

/// A JSON body, with every way it can be wrong answered as problem+json.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        // Read as a JSON value first, so that every text in it passes the one input check
        // before the handler's type sees it.
        match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => {
                crate::input::check_json(&v)?;
                serde_json::from_value(v).map(ApiJson).map_err(|e| {
                    ApiError(
                        Problem::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "validation",
                            "The body does not match the schema",
                        )
                        .detail(format!("Failed to deserialize the JSON body into the target type: {e}")),
                    )
                })
            }
            Err(rejection) => {
                let problem = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => Problem::new(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "unsupported_media_type",
                        "Send the body as application/json",
                    ),
                    JsonRejection::JsonSyntaxError(_) => {
                        Problem::new(StatusCode::BAD_REQUEST, "bad_request", "The body is not valid JSON")
                    }
                    JsonRejection::JsonDataError(e) => Problem::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "validation",
                        "The body does not match the schema",
                    )
                    .detail(e.body_text()),
                    JsonRejection::BytesRejection(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "The body is too large")
                    }
                    _ => Problem::new(StatusCode::BAD_REQUEST, "bad_request", "The body could not be read"),
                };
                Err(ApiError(problem))
            }
        }
    }
}

/// Parses an id from the path; a malformed id is simply not found.
pub fn path_id<T: std::str::FromStr>(raw: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError(Problem::new(StatusCode::NOT_FOUND, "not_found", "Not found")))
}

pub fn fmt_rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
