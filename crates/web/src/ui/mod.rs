//! The server-rendered web UI. Works without JavaScript; `static/app.js` only enhances.

mod account;
mod admin;
mod attendance;
pub(crate) mod audit;
pub(crate) mod clients;
mod continuum;
mod dashboard;
mod feeds;
mod follow_ups;
mod inquiries;
mod iop;
mod login;
mod measurement;
mod schedule;

use app::FieldError;
use app::auth::Authenticated;
use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use domain::access::{Permission, grant};

use crate::AppState;
use crate::error::UiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::show))
        .route("/login", get(login::form).post(login::submit))
        .route("/login/mfa", get(login::mfa_form).post(login::mfa_submit))
        .route("/logout", post(login::logout))
        .route("/logout/everywhere", post(account::logout_everywhere))
        .route("/account/mfa", get(account::enrol_form).post(account::enrol_submit))
        .route("/account/password", get(account::password_form).post(account::password_submit))
        .route("/account/sessions", get(account::sessions))
        .route("/account/sessions/{id}/revoke", post(account::revoke))
        .route("/account/calendar-feed", post(feeds::issue_mine))
        .route("/account/calendar-feed/{id}/revoke", post(feeds::revoke_mine))
        .route("/admin/users", get(admin::list))
        .route("/admin/users/new", get(admin::new_form).post(admin::create))
        .route("/admin/users/{id}", get(admin::edit_form).post(admin::update))
        .route("/admin/users/{id}/reset-password", post(admin::reset_password))
        .route("/admin/users/{id}/reset-mfa", post(admin::reset_mfa))
        .route("/audit", get(audit::show))
        .route("/clients", get(clients::list))
        .route("/clients/new", get(clients::new_form).post(clients::create))
        .route("/clients/search", post(clients::search))
        .route("/clients/{id}", get(clients::show))
        .route("/clients/{id}/edit", get(clients::edit_form).post(clients::update))
        .route("/clients/{id}/contacts", post(clients::add_contact))
        .route("/clients/{id}/contacts/{contact}/remove", post(clients::remove_contact))
        .route("/clients/{id}/coverages", post(clients::add_coverage))
        .route("/clients/{id}/coverages/{coverage}/remove", post(clients::remove_coverage))
        .route("/clients/{id}/team", post(clients::add_member))
        .route("/clients/{id}/team/{user}/remove", post(clients::remove_member))
        .route("/clients/{id}/admit", post(clients::admit))
        .route("/clients/{id}/episodes/{episode}/decide", post(clients::decide))
        .route("/census", get(continuum::census))
        .route("/inquiries", get(inquiries::board))
        .route("/inquiries/new", get(inquiries::new_form).post(inquiries::create))
        .route("/inquiries/{id}", get(inquiries::show))
        .route("/inquiries/{id}/stage", post(inquiries::move_stage))
        .route("/inquiries/{id}/tasks", post(inquiries::add_task))
        .route("/inquiries/{id}/tasks/{task}/done", post(inquiries::complete_task))
        .route("/inquiries/{id}/admit", post(inquiries::admit))
        .route("/follow-ups", get(follow_ups::list))
        .route("/follow-ups/{id}", post(follow_ups::record))
        .route("/clients/{id}/episodes/{episode}/aftercare", post(clients::save_plan))
        .route("/admin/sites", get(continuum::sites).post(continuum::create_site))
        .route("/admin/sites/{id}/rooms", post(continuum::add_room))
        .route("/admin/rooms/{id}/beds", post(continuum::add_bed))
        .route("/clients/{id}/measures", get(measurement::show))
        .route("/clients/{id}/measures/new", get(measurement::fill_form))
        .route("/clients/{id}/responses", post(measurement::record))
        .route("/clients/{id}/client-mode", post(measurement::start_client_mode))
        .route("/client-mode", get(measurement::client_mode).post(measurement::client_mode_submit))
        .route("/alerts", get(measurement::alerts))
        .route("/alerts/{id}/acknowledge", post(measurement::acknowledge))
        .route(
            "/clients/{id}/episodes/{episode}/review",
            get(measurement::review_form).post(measurement::review_submit),
        )
        .route("/caseload", get(measurement::caseload))
        .route("/admin/forms", get(measurement::forms).post(measurement::import))
        .route("/admin/forms/{id}/retire", post(measurement::retire))
        .route("/reports/reviews", get(measurement::report))
        .route("/iop/sessions/{id}/attendance", get(attendance::sheet).post(attendance::record))
        .route("/iop/sessions/{id}/note", post(attendance::sign))
        .route("/iop/sessions/{id}/amend", post(attendance::amend))
        .route("/program/dose", get(attendance::dashboard))
        .route("/program/tracks/{id}/schedule", get(schedule::show).post(schedule::apply))
        .route("/program/loads", get(schedule::loads).post(schedule::set_load))
        .route("/clients/{id}/dose", get(attendance::client_dose))
        .route("/clients/{id}/availability", post(attendance::availability))
        .route("/clients/{id}/requirements", post(attendance::requirements))
        .route("/outreach", get(attendance::outreach))
        .route("/outreach/{id}/done", post(attendance::outreach_done))
        .route("/program", get(iop::program))
        .route("/program/tracks", post(iop::create_track))
        .route("/program/tracks/{id}", post(iop::update_track))
        .route("/program/tracks/{id}/templates", post(iop::add_template))
        .route("/program/tracks/{id}/generate", post(iop::generate))
        .route("/program/templates/{id}", post(iop::update_template))
        .route("/program/templates/{id}/retire", post(iop::retire_template))
        .route("/program/closures", post(iop::add_closure))
        .route("/program/closures/{id}/remove", post(iop::remove_closure))
        .route("/program/calendar", get(iop::calendar))
        .route("/program/clients", get(iop::program_clients))
        .route("/iop/sessions/{id}", get(iop::session))
        .route("/iop/sessions/{id}/roster", post(iop::add_to_roster))
        .route("/iop/sessions/{id}/roster/{client}/remove", post(iop::remove_from_roster))
        .route("/iop/sessions/{id}/cancel", post(iop::cancel))
        .route("/iop/sessions/{id}/reinstate", post(iop::reinstate))
        .route("/iop/sessions/{id}/move", post(iop::move_session))
        .route("/iop/sessions/{id}/substitute", post(iop::substitute))
        .route("/clients/{id}/enrolments", post(iop::enrol))
        .route("/clients/{id}/enrolments/{enrolment}/end", post(iop::end_enrolment))
        .route("/clients/{id}/appointments", post(iop::book_appointment))
        .route("/clients/{id}/schedule", get(iop::client_schedule))
        .route("/clients/{id}/calendar-feed", post(feeds::issue_for_client))
        .route("/clients/{id}/calendar-feed/{feed}/revoke", post(feeds::revoke_for_client))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .route("/static/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
}

async fn css() -> Response {
    static_file("text/css; charset=utf-8", include_str!("../../static/app.css"))
}

async fn js() -> Response {
    static_file("text/javascript; charset=utf-8", include_str!("../../static/app.js"))
}

async fn favicon() -> Response {
    static_file("image/svg+xml", include_str!("../../static/favicon.svg"))
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
    /// A count shown beside the label (open alerts).
    pub badge: usize,
}

/// What every page's frame needs: who is signed in, where they can go, the CSRF token.
pub struct Chrome {
    pub signed_in: bool,
    pub user_name: String,
    pub role_label: &'static str,
    pub nav: Vec<NavItem>,
    pub csrf: String,
}

impl Chrome {
    pub fn anonymous(csrf: String) -> Self {
        Self { signed_in: false, user_name: String::new(), role_label: "", nav: Vec::new(), csrf }
    }

    /// Signed in, but still finishing sign-in: no navigation yet.
    pub fn limited(auth: &Authenticated) -> Self {
        Self {
            signed_in: true,
            user_name: auth.user.display_name.to_string(),
            role_label: auth.user.role.label(),
            nav: Vec::new(),
            csrf: auth.session.csrf_token.clone(),
        }
    }

    pub fn for_user(auth: &Authenticated, current: &str) -> Self {
        let role = auth.user.role;
        let mut nav = vec![NavItem { href: "/", label: "Dashboard", current: current == "/", badge: 0 }];
        let mut add = |href, label, permission| {
            if grant(role, permission).is_some() {
                nav.push(NavItem { href, label, current: current == href, badge: 0 });
            }
        };
        add("/inquiries", "Inquiries", Permission::ManageInquiries);
        add("/clients", "Clients", Permission::ReadClient);
        add("/alerts", "Alerts", Permission::AcknowledgeAlert);
        add("/caseload", "Caseload", Permission::ReadClinical);
        add("/census", "Census", Permission::ViewCensus);
        add("/program", "Program", Permission::ViewProgram);
        add("/program/calendar", "Calendar", Permission::ViewProgram);
        add("/program/dose", "Dose", Permission::ViewProgram);
        add("/outreach", "Outreach", Permission::RecordAttendance);
        add("/follow-ups", "Follow-ups", Permission::PlanAftercare);
        add("/admin/users", "Users", Permission::ManageUsers);
        add("/admin/sites", "Sites and beds", Permission::ManageSites);
        add("/admin/forms", "Forms", Permission::ManageForms);
        add("/reports/reviews", "Review agreement", Permission::ViewReports);
        add("/audit", "Audit log", Permission::ViewAuditLog);
        nav.push(NavItem {
            href: "/account/sessions",
            label: "Your account",
            current: current == "/account",
            badge: 0,
        });
        if let Some(item) = nav.iter_mut().find(|n| n.href == "/alerts") {
            item.badge = auth.open_alerts;
        }
        Self { nav, ..Self::limited(auth) }
    }
}

/// Field errors as a template sees them.
#[derive(Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
    pub fn all(&self) -> &[FieldError] {
        &self.0
    }
}

/// Renders a page with a status code.
pub fn render(status: StatusCode, page: &impl Template) -> Result<Response, UiError> {
    let html = page.render().map_err(|_| UiError::App(app::AppError::Internal("template failed")))?;
    Ok((status, Html(html)).into_response())
}

pub fn ok(page: &impl Template) -> Result<Response, UiError> {
    render(StatusCode::OK, page)
}

/// Splits an error into field errors to show on the form, or a page-level error.
pub fn form_errors(err: app::AppError) -> Result<Errors, UiError> {
    match err {
        app::AppError::Invalid(errors) => Ok(Errors(errors)),
        other => Err(UiError::App(other)),
    }
}

pub fn fmt_time(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.format(f).unwrap_or_default()
}

pub fn fmt_ms(ms: i64) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    app::from_unix_ms(ms).format(f).unwrap_or_default()
}
