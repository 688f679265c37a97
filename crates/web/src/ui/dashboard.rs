//! The landing page after sign-in: what needs this person's attention, by role.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use domain::access::{Permission, grant};

use super::{Chrome, ok};
use crate::AppState;
use crate::auth::Signed;
use crate::error::UiError;

pub struct Card {
    pub title: &'static str,
    pub body: String,
    pub href: &'static str,
    pub link: &'static str,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    first_name: String,
    cards: Vec<Card>,
    mfa_enabled: bool,
    work: super::measurement::WorklistView,
}

pub async fn show(State(state): State<AppState>, Signed(auth): Signed) -> Result<Response, UiError> {
    let role = auth.user.role;
    let mut cards = Vec::new();
    if let Some(reach) = grant(role, Permission::ReadClient) {
        let count = auth.ctx.actor.care_team.len();
        let body = match reach {
            domain::access::Reach::AllClients => "You can open every client's chart.".to_owned(),
            _ => format!("You are on the care team of {count} client{}.", if count == 1 { "" } else { "s" }),
        };
        cards.push(Card { title: "Clients", body, href: "/clients", link: "Open the client list" });
    }
    if grant(role, Permission::ManageUsers).is_some() {
        let users = state.app.list_users(&auth.ctx).await?;
        let active = users.iter().filter(|u| u.active).count();
        let without_mfa = users.iter().filter(|u| u.active && !u.mfa_enabled).count();
        cards.push(Card {
            title: "Staff accounts",
            body: format!("{active} active accounts; {without_mfa} without two-step verification."),
            href: "/admin/users",
            link: "Manage accounts",
        });
    }
    if grant(role, Permission::ViewAuditLog).is_some() {
        cards.push(Card {
            title: "Audit log",
            body: "Every sign-in, read and change is recorded in a tamper-evident log.".into(),
            href: "/audit",
            link: "Review the audit log",
        });
    }
    let work = super::measurement::worklist_view(&state.app.worklist(&auth.ctx).await?);
    let first_name = auth.user.display_name.as_str().split_whitespace().next().unwrap_or("").to_owned();
    ok(&DashboardPage {
        chrome: Chrome::for_user(&auth, "/"),
        first_name,
        cards,
        mfa_enabled: auth.user.mfa_enabled,
        work,
    })
}
