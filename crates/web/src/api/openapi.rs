//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::{attendance, audit, clients, continuum, feeds, inquiries, iop, measurement, schedule, session, users};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The content type of every error the API answers (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The error responses, each documented once under `components/responses` and referred to by
/// every operation that can answer it: (status, component name, why).
const ERRORS: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "The request could not be read: a body that is not JSON, or a path or query string that does not parse.",
    ),
    ("401", "Unauthenticated", "Not signed in: no bearer token (or session cookie), or an unknown or expired one."),
    (
        "403",
        "Forbidden",
        "Not allowed: the caller's role or care team does not permit it, signing in is not finished \
         (mfa_required, mfa_enrolment_required, password_change_required), a cookie-authenticated write lacks \
         its X-CSRF-Token, or a browser sent a write from another site.",
    ),
    ("404", "NotFound", "Not found, or not an id."),
    ("409", "Conflict", "The request conflicts with what is stored."),
    ("413", "PayloadTooLarge", "The body is larger than the server accepts."),
    ("415", "UnsupportedMediaType", "The body is not sent with a content type this operation reads."),
    ("422", "Invalid", "The request is well-formed but not valid; `errors` names the fields."),
    ("429", "Throttled", "Too many failed attempts; `Retry-After` says in how many seconds to try again."),
];

/// Documents the errors an operation answers because of how it is called, whatever its
/// handler does: the extractors and middleware that produce them run before (or around) every
/// handler, so listing them in each annotation would only let the two drift apart. What a
/// handler's use case can refuse (a missing record, 409, 422, 429) stays in its annotation.
/// Every error then refers to its shared response: problem+json with the `Problem` schema
/// (utoipa alone would document `body = Problem` as `application/json`).
struct ErrorResponses;

impl ErrorResponses {
    fn component(status: &str, description: &str) -> Response {
        let schema = RefOr::Ref(Ref::from_schema_name("Problem"));
        let mut response = ResponseBuilder::new()
            .description(description)
            .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(schema)).build());
        if status == "429" {
            let seconds = utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::Integer);
            let header = utoipa::openapi::HeaderBuilder::new()
                .schema(Some(seconds))
                .description(Some("Seconds until another attempt is considered."))
                .build();
            response = response.header("Retry-After", header);
        }
        response.build()
    }

    /// The errors every call of `op` can meet before or around its handler.
    fn implied(is_get: bool, op: &Operation) -> Vec<&'static str> {
        let (mut in_path, mut in_query) = (false, false);
        for p in op.parameters.iter().flatten() {
            if let RefOr::T(p) = p {
                in_path |= matches!(p.parameter_in, ParameterIn::Path);
                in_query |= matches!(p.parameter_in, ParameterIn::Query);
            }
        }
        let mut statuses = Vec::new();
        if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
            // The bearer extractors: no token or a dead one; a session not fully signed in.
            statuses.extend(["401", "403"]);
        }
        if !is_get {
            // `headers::refuse_cross_site` runs before every write.
            statuses.push("403");
        }
        if op.request_body.is_some() {
            // `ApiJson` and the body limit: not JSON, too large, wrong content type, wrong shape.
            statuses.extend(["400", "413", "415", "422"]);
        }
        if in_path {
            // `path_id`: a malformed id is not found; a segment that is not UTF-8 is unreadable.
            statuses.extend(["400", "404"]);
        }
        if in_query {
            // A query string that does not parse into the operation's parameters.
            statuses.push("400");
        }
        statuses
    }

    fn operation(is_get: bool, op: &mut Operation) {
        let implied = Self::implied(is_get, op);
        let responses = &mut op.responses.responses;
        for status in implied {
            responses.entry(status.to_owned()).or_insert_with(|| RefOr::T(Response::default()));
        }
        for (status, response) in responses.iter_mut() {
            let RefOr::T(inline) = response else { continue };
            if let Some((_, name, _)) = ERRORS.iter().find(|(s, _, _)| s == status) {
                *response = RefOr::Ref(Ref::from_response_name(*name));
            } else if inline.description.is_empty() {
                // A response object needs a description; the success ones say what they carry.
                let reason = status.parse().ok().and_then(|s| axum::http::StatusCode::from_u16(s).ok());
                inline.description = reason.and_then(|s| s.canonical_reason()).unwrap_or("Response").to_owned();
            }
        }
    }
}

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            if let Some(op) = item.get.as_mut() {
                Self::operation(true, op);
            }
            for op in [&mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten() {
                Self::operation(false, op);
            }
        }
        if let Some(components) = openapi.components.as_mut() {
            for (status, name, why) in ERRORS {
                components.responses.insert((*name).to_owned(), RefOr::T(Self::component(status, why)));
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Stepdown API", description = "The JSON API of Stepdown, a step-down continuum-of-care system. Errors are application/problem+json (RFC 9457)."),
    paths(
        session::login, session::current, session::logout, session::verify_mfa, session::list_sessions,
        session::revoke_session, session::logout_everywhere, session::change_password, session::begin_mfa,
        session::confirm_mfa,
        users::list, users::create, users::get, users::update, users::reset_password, users::reset_mfa,
        clients::list, clients::create, clients::get, clients::add_member, clients::remove_member,
        clients::update, clients::search, clients::add_contact, clients::remove_contact, clients::add_coverage,
        clients::remove_coverage,
        audit::list,
        continuum::levels, continuum::sites, continuum::create_site, continuum::add_room, continuum::add_bed,
        continuum::episodes, continuum::admit, continuum::decide, continuum::census,
        continuum::aftercare, continuum::save_aftercare, continuum::follow_ups_due, continuum::record_follow_up,
        inquiries::create, inquiries::list, inquiries::get, inquiries::stage, inquiries::add_task, inquiries::complete_task,
        inquiries::admit,
        measurement::forms, measurement::import_form, measurement::retire_form, measurement::measures,
        measurement::record_response, measurement::response, measurement::alerts, measurement::acknowledge,
        measurement::worklist, measurement::caseload, measurement::recommendation, measurement::review_context,
        measurement::record_review, measurement::agreement_report, measurement::start_client_mode,
        measurement::client_mode_form, measurement::submit_client_mode,
        attendance::sheet, attendance::record, attendance::sign, attendance::amend, attendance::outreach,
        attendance::outreach_done, attendance::client_dose, attendance::dashboard, attendance::availability,
        attendance::requirements, attendance::plan, schedule::proposal, schedule::current, schedule::apply, schedule::loads, schedule::set_load,
        iop::program, iop::create_track, iop::update_track, iop::add_template, iop::update_template,
        iop::retire_template, iop::add_closure, iop::remove_closure, iop::generate_week, iop::book_appointment,
        iop::session, iop::cancel, iop::reinstate, iop::move_session, iop::substitute, iop::add_to_roster, iop::remove_from_roster,
        iop::calendar, iop::enrolments, iop::enrol, iop::end_enrolment, iop::client_schedule,
        feeds::issue_mine, feeds::mine, feeds::issue_for_client, feeds::of_client, feeds::revoke,
    ),
    modifiers(&BearerAuth, &ErrorResponses),
)]
struct ApiDoc;

/// The document as pretty JSON (stable ordering, so it can be snapshot-tested).
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_else(|_| "{}".into())
}

pub async fn serve() -> Json<serde_json::Value> {
    Json(serde_json::to_value(ApiDoc::openapi()).unwrap_or_default())
}
