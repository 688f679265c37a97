//! Calendar feeds as iCalendar (RFC 5545): `GET /calendar/{token}.ics`, no session, the token
//! in the URL is the credential (see `app::feeds`).
//!
//! The route is registered as `/calendar/{token}` (axum cannot match a suffix after a
//! parameter; the handler requires `.ics`), so request logs and metrics, which name routes by
//! their template, never see a token. The body is written with the `icalendar` crate, which
//! folds lines at 75 octets, ends them with CRLF and escapes text. Each event has the
//! session's id as its UID (so calendar apps update it in place), UTC start and end, the
//! modality's label as its SUMMARY, the site and room as its LOCATION, and STATUS:CANCELLED
//! when cancelled; nothing else (no title, no names).

use app::AppError;
use app::feeds::FeedCalendar;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};

use crate::AppState;
use crate::auth::Meta;
use crate::error::problem_for;

pub fn routes() -> Router<AppState> {
    Router::new().route("/calendar/{token}", get(feed))
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Not found\n").into_response()
}

async fn feed(State(state): State<AppState>, Meta(meta): Meta, Path(file): Path<String>) -> Response {
    let Some(token) = file.strip_suffix(".ics").filter(|t| !t.is_empty()) else { return not_found() };
    match state.app.read_feed(token, meta.source).await {
        Ok(cal) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "inline; filename=\"stepdown.ics\""),
            ],
            render(&cal),
        )
            .into_response(),
        Err(AppError::NotFound) => not_found(),
        Err(e) => {
            let p = problem_for(e);
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{}\n", p.title)).into_response()
        }
    }
}

/// Where a feed is read: its path, and the absolute URL built from the request's `Host`
/// (HTTPS unless the server runs without secure cookies, i.e. on plain HTTP).
pub(crate) fn feed_location(state: &AppState, headers: &axum::http::HeaderMap, token: &str) -> (String, String) {
    let path = format!("/calendar/{token}.ics");
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if state.config.secure_cookies { "https" } else { "http" };
    let url = format!("{scheme}://{host}{path}");
    (path, url)
}

/// `20261202T000000Z`: an RFC 5545 UTC date-time.
fn utc_stamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The feed as an iCalendar document. The calendar's name names no one: a URL shared by
/// mistake must not say whose treatment it shows.
pub fn render(cal: &FeedCalendar) -> String {
    let mut c = Calendar::empty();
    c.append_property(Property::new("VERSION", "2.0"));
    c.append_property(Property::new("PRODID", "-//Stepdown//Program calendar//EN"));
    c.append_property(Property::new("CALSCALE", "GREGORIAN"));
    c.append_property(Property::new("METHOD", "PUBLISH"));
    c.name("Stepdown sessions");
    // How often subscribers should look again (RFC 7986, and the older Microsoft property).
    c.append_property(Property::new("REFRESH-INTERVAL", "PT1H").add_parameter("VALUE", "DURATION").done());
    c.append_property(Property::new("X-PUBLISHED-TTL", "PT1H"));
    let stamp = utc_stamp(cal.generated_at);
    for e in &cal.events {
        let location = match &e.room_name {
            Some(room) if !room.is_empty() => format!("{}, {room}", e.site_name),
            _ => e.site_name.clone(),
        };
        let mut ev = Event::new();
        ev.uid(&format!("{}@stepdown", e.session))
            .add_property("DTSTAMP", stamp.as_str())
            .starts(e.start)
            .ends(e.end)
            .summary(e.modality.label())
            .status(if e.cancelled { EventStatus::Cancelled } else { EventStatus::Confirmed });
        if !location.is_empty() {
            ev.location(&location);
        }
        c.push(ev.done());
    }
    c.done().to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use app::feeds::FeedEvent;
    use domain::ids::IopSessionId;
    use domain::iop::Modality;
    use time::macros::datetime;
    use uuid::Uuid;

    #[test]
    fn events_are_utc_folded_escaped_and_name_no_one() {
        let session = IopSessionId::from_uuid(Uuid::from_u128(1));
        let cal = FeedCalendar {
            feed: Uuid::from_u128(2),
            generated_at: datetime!(2026-12-01 12:00:00 UTC),
            events: vec![
                FeedEvent {
                    session,
                    modality: Modality::Group,
                    start: datetime!(2026-12-02 00:00 UTC),
                    end: datetime!(2026-12-02 01:30 UTC),
                    cancelled: false,
                    site_name: "Riverside; North campus".into(),
                    room_name: Some(
                        "Group room 2, upstairs, past the long corridor by the kitchen and the garden".into(),
                    ),
                },
                FeedEvent {
                    session: IopSessionId::from_uuid(Uuid::from_u128(3)),
                    modality: Modality::Individual,
                    start: datetime!(2026-12-03 15:00 UTC),
                    end: datetime!(2026-12-03 16:00 UTC),
                    cancelled: true,
                    site_name: "Riverside".into(),
                    room_name: None,
                },
            ],
        };
        let text = render(&cal);
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"), "{text}");
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(text.split("\r\n").all(|l| l.len() <= 75), "folded at 75 octets:\n{text}");
        assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only");
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 2);
        assert!(text.contains(&format!("UID:{session}@stepdown\r\n")));
        assert!(text.contains("DTSTART:20261202T000000Z\r\n"));
        assert!(text.contains("DTEND:20261202T013000Z\r\n"));
        assert!(text.contains("DTSTAMP:20261201T120000Z\r\n"));
        assert!(text.contains("SUMMARY:Group therapy\r\n"));
        assert!(text.contains("STATUS:CANCELLED\r\n") && text.contains("STATUS:CONFIRMED\r\n"));
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains("LOCATION:Riverside\\; North campus\\, Group room 2\\, upstairs"), "{unfolded}");
        assert!(unfolded.contains("LOCATION:Riverside\r\n"));
    }
}
