//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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
    modifiers(&BearerAuth),
)]
struct ApiDoc;

/// The document as pretty JSON (stable ordering, so it can be snapshot-tested).
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_else(|_| "{}".into())
}

pub async fn serve() -> Json<serde_json::Value> {
    Json(serde_json::to_value(ApiDoc::openapi()).unwrap_or_default())
}
