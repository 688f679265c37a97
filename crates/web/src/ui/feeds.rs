//! Calendar feeds in the web UI: "Your calendar feed" on the account page, and a client's
//! feed in the chart's program block. Issuing shows the URL once, on the page the form posts
//! to (never in a redirect, so it is not in a URL or the browser's history).

use app::ports::CalendarFeed;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use domain::ids::ClientId;

use super::login::Empty;
use super::{Chrome, fmt_time, ok};
use crate::AppState;
use crate::auth::Signed;
use crate::error::UiError;
use crate::forms::CsrfForm;

/// What a page shows of someone's feed: whether one works, since when, and how to stop it.
pub struct FeedPanel {
    /// The live feed's id, for the revoke form.
    pub id: String,
    pub since: String,
}

/// The live feed among `feeds`, if any.
pub fn live(feeds: &[CalendarFeed]) -> Option<FeedPanel> {
    feeds
        .iter()
        .rev()
        .find(|f| f.revoked_at.is_none())
        .map(|f| FeedPanel { id: f.id.to_string(), since: fmt_time(f.created_at) })
}

#[derive(Template)]
#[template(path = "calendar_feed.html")]
struct IssuedPage {
    chrome: Chrome,
    /// "your" or "the client's": whose sessions the feed shows.
    whose: &'static str,
    url: String,
    back_href: String,
    back_label: &'static str,
}

fn parse<T: std::str::FromStr>(raw: &str) -> Result<T, UiError> {
    raw.parse().map_err(|_| UiError::App(app::AppError::NotFound))
}

pub async fn issue_mine(
    State(state): State<AppState>,
    Signed(auth): Signed,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    let issued = state.app.issue_my_feed(&auth.ctx).await?;
    let (_, url) = crate::ics::feed_location(&state, &headers, &issued.token);
    ok(&IssuedPage {
        chrome: Chrome::for_user(&auth, "/account"),
        whose: "your",
        url,
        back_href: "/account/sessions#calendar-feed".into(),
        back_label: "Back to your account",
    })
}

pub async fn revoke_mine(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    state.app.revoke_feed(&auth.ctx, parse(&id)?).await?;
    Ok(Redirect::to("/account/sessions?done=feed-revoked#calendar-feed").into_response())
}

pub async fn issue_for_client(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    let client: ClientId = parse(&id)?;
    let issued = state.app.issue_client_feed(&auth.ctx, client).await?;
    let (_, url) = crate::ics::feed_location(&state, &headers, &issued.token);
    ok(&IssuedPage {
        chrome: Chrome::for_user(&auth, "/clients"),
        whose: "the client's",
        url,
        back_href: format!("/clients/{client}#program"),
        back_label: "Back to the client's record",
    })
}

pub async fn revoke_for_client(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path((id, feed)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, UiError> {
    let client: ClientId = parse(&id)?;
    // Authorized against the feed's own owner, whatever client the path names.
    state.app.revoke_feed(&auth.ctx, parse(&feed)?).await?;
    Ok(Redirect::to(&format!("/clients/{client}#program")).into_response())
}
