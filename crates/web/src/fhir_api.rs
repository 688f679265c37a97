//! The FHIR R4 endpoint (`/fhir`). Errors here are `OperationOutcome`s, not problem+json.

use app::AppError;
use app::ports::AuditFilter;
use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::ApiAuth;
use crate::error::problem_for;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/metadata", get(metadata))
        .route("/AuditEvent", get(audit_events))
        .route("/Questionnaire", get(questionnaires))
        .route("/QuestionnaireResponse", get(questionnaire_responses))
        .route("/Observation", get(observations))
        .route("/Appointment", get(appointments))
        .route("/Encounter", get(encounters))
}

const FHIR_JSON: &str = "application/fhir+json";

fn fhir(status: StatusCode, body: Value) -> Response {
    let mut res = (status, Json(body)).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    res
}

/// An `OperationOutcome` with one issue.
pub fn outcome(status: StatusCode, code: &str, diagnostics: &str) -> Response {
    fhir(
        status,
        json!({
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}]
        }),
    )
}

fn app_outcome(err: AppError) -> Response {
    let p = problem_for(err);
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let code = match status {
        StatusCode::UNAUTHORIZED => "login",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "invalid",
        StatusCode::TOO_MANY_REQUESTS => "throttled",
        _ => "exception",
    };
    let text = p.errors.first().map(|e| e.message.clone()).unwrap_or_else(|| p.title.to_owned());
    outcome(status, code, &text)
}

async fn metadata() -> Response {
    let date = time::OffsetDateTime::now_utc().date().to_string();
    fhir(StatusCode::OK, fhir::capability_statement(env!("CARGO_PKG_VERSION"), &date))
}

fn strip<'a>(value: &'a str, kind: &str) -> &'a str {
    value.strip_prefix(kind).and_then(|v| v.strip_prefix('/')).unwrap_or(value)
}

/// A search date's comparison prefix and the rest, split on characters: the value is whatever
/// the caller sent, so a byte index could fall inside a multi-byte character (and panic).
fn date_prefix(value: &str) -> Option<(&str, &str)> {
    ["eq", "ge", "gt", "le", "lt"].into_iter().find_map(|p| value.strip_prefix(p).map(|rest| (p, rest)))
}

/// Midnight UTC of a `YYYY-MM-DD` day, in Unix milliseconds.
fn day_ms(raw: &str) -> Option<i64> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, f).ok().map(|d| app::unix_ms(d.midnight().assume_utc()))
}

/// Parses AuditEvent search parameters; unknown parameters are an error (strict handling).
fn parse_search(raw: &str) -> Result<AuditFilter, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).map_err(|_| "malformed query".to_owned())?;
    let mut f = AuditFilter { limit: 100, ..Default::default() };
    for (k, v) in pairs {
        match k.as_str() {
            "patient" => f.client = Some(strip(&v, "Patient").parse().map_err(|_| "patient must be a Patient id")?),
            "agent" => {
                f.actor = Some(strip(&v, "Practitioner").parse().map_err(|_| "agent must be a Practitioner id")?)
            }
            "action" => {
                let action = domain::audit::AuditAction::ALL
                    .into_iter()
                    .find(|a| a.code() == v)
                    .ok_or("action must be one of Stepdown's audit action codes")?;
                f.action = Some(action.code().to_owned());
            }
            "date" => {
                let Some((prefix, rest)) = date_prefix(&v).filter(|(p, _)| *p != "eq") else {
                    return Err("date needs a ge, gt, le or lt prefix".into());
                };
                let ms = day_ms(rest).ok_or("date must be like ge2026-01-01 or lt2026-02-01")?;
                match prefix {
                    "ge" => f.from_ms = Some(ms),
                    "gt" => f.from_ms = Some(ms + 86_400_000),
                    "le" => f.to_ms = Some(ms + 86_400_000),
                    _ => f.to_ms = Some(ms),
                }
            }
            "_count" => f.limit = v.parse::<u64>().map_err(|_| "_count must be a number")?.clamp(1, 500),
            other => return Err(format!("unknown search parameter {other:?}")),
        }
    }
    Ok(f)
}

/// The OperationOutcome that refuses a caller who is not (fully) signed in.
fn refused(e: &crate::error::ApiError) -> Response {
    let status = StatusCode::from_u16(e.0.status).unwrap_or(StatusCode::UNAUTHORIZED);
    outcome(status, if status == StatusCode::UNAUTHORIZED { "login" } else { "forbidden" }, e.0.title)
}

async fn audit_events(
    State(state): State<AppState>,
    auth: Result<ApiAuth, crate::error::ApiError>,
    RawQuery(q): RawQuery,
) -> Response {
    let ApiAuth(auth) = match auth {
        Ok(a) => a,
        Err(e) => return refused(&e),
    };
    let filter = match parse_search(q.as_deref().unwrap_or("")) {
        Ok(f) => f,
        Err(why) => return outcome(StatusCode::BAD_REQUEST, "invalid", &why),
    };
    match state.app.audit_events(&auth.ctx, &filter).await {
        Ok(events) => {
            let resources = events
                .iter()
                .map(|c| {
                    let recorded = crate::api::fmt_rfc3339(app::from_unix_ms(c.event.occurred_at_ms));
                    (c.event.id.to_string(), fhir::audit_event(c, recorded))
                })
                .collect();
            searchset("AuditEvent", resources)
        }
        Err(e) => app_outcome(e),
    }
}

// ---------------------------------------------------------------------------------------
// Measurement: forms, responses and their scores. Reads go through the same use cases as the
// JSON API (`App::forms`, `App::measures`), which authorize and audit them.

fn search_pairs(raw: &str, allowed: &[&str]) -> Result<Vec<(String, String)>, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).map_err(|_| "malformed query".to_owned())?;
    match pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        Some((other, _)) => Err(format!("unknown search parameter {other:?}")),
        None => Ok(pairs),
    }
}

/// The client a `patient` search names (`123…` or `Patient/123…`); required.
fn patient_param(pairs: &[(String, String)]) -> Result<domain::ids::ClientId, String> {
    let v = pairs.iter().find(|(k, _)| k == "patient").map(|(_, v)| v).ok_or("patient is required")?;
    strip(v, "Patient").parse().map_err(|_| "patient must be a Patient id".to_owned())
}

/// The FHIR id of a form version: `phq-9-1` for a built-in, the stored id for an import.
fn questionnaire_id(f: &app::measurement::FormSummary) -> String {
    match (f.id, f.form.instrument) {
        (Some(id), _) => id.to_string(),
        (None, Some(i)) => format!("{}-{}", i.code(), f.form.version),
        (None, None) => f.form.version.clone(),
    }
}

async fn questionnaires(
    State(state): State<AppState>,
    auth: Result<ApiAuth, crate::error::ApiError>,
    RawQuery(q): RawQuery,
) -> Response {
    let ApiAuth(auth) = match auth {
        Ok(a) => a,
        Err(e) => return refused(&e),
    };
    let pairs = match search_pairs(q.as_deref().unwrap_or(""), &["url"]) {
        Ok(p) => p,
        Err(why) => return outcome(StatusCode::BAD_REQUEST, "invalid", &why),
    };
    let url = pairs.iter().find(|(k, _)| k == "url").map(|(_, v)| v.as_str());
    match state.app.forms(&auth.ctx).await {
        Ok(forms) => {
            let resources = forms
                .iter()
                .filter(|f| url.is_none_or(|u| f.form.url == u))
                .map(|f| {
                    let id = questionnaire_id(f);
                    let status = match f.status {
                        app::ports::FormStatus::Active => fhir::QuestionnaireStatus::Active,
                        app::ports::FormStatus::Retired => fhir::QuestionnaireStatus::Retired,
                    };
                    let q = fhir::questionnaire(&f.form, &id, status);
                    (id, q)
                })
                .collect();
            searchset("Questionnaire", resources)
        }
        Err(e) => app_outcome(e),
    }
}

/// A client's responses with the form version each answers: the measures read (authorized
/// and audited) and the form list (no client data).
async fn responses_with_forms(
    state: &AppState,
    auth: &app::auth::Authenticated,
    client: domain::ids::ClientId,
) -> Result<Vec<(domain::measurement::FormResponse, domain::forms::FormDefinition)>, AppError> {
    let measures = state.app.measures(&auth.ctx, client).await?;
    let forms = state.app.forms(&auth.ctx).await?;
    measures
        .responses
        .into_iter()
        .map(|r| {
            let form = forms
                .iter()
                .find(|f| f.form.url == r.form_url && f.form.version == r.form_version)
                .map(|f| f.form.clone())
                .ok_or(AppError::Internal("a response's form version is missing"))?;
            Ok((r, form))
        })
        .collect()
}

fn facts<'a>(
    r: &'a domain::measurement::FormResponse,
    form: &'a domain::forms::FormDefinition,
) -> fhir::ResponseFacts<'a> {
    fhir::ResponseFacts {
        id: r.id.as_uuid(),
        client: r.client.as_uuid(),
        episode: r.episode.map(|e| e.as_uuid()),
        form,
        answers: &r.answers,
        complete: r.complete,
        authored: r.authored_at,
        author: match r.mode {
            domain::measurement::ResponseMode::Client => fhir::Author::Client,
            domain::measurement::ResponseMode::Staff => fhir::Author::Staff(r.recorded_by.as_uuid()),
        },
        total: r.total,
        band: r.band.as_deref().zip(r.band_label.as_deref()),
        subscores: &r.subscores,
    }
}

async fn questionnaire_responses(
    State(state): State<AppState>,
    auth: Result<ApiAuth, crate::error::ApiError>,
    RawQuery(q): RawQuery,
) -> Response {
    let ApiAuth(auth) = match auth {
        Ok(a) => a,
        Err(e) => return refused(&e),
    };
    let client = match search_pairs(q.as_deref().unwrap_or(""), &["patient"]).and_then(|p| patient_param(&p)) {
        Ok(c) => c,
        Err(why) => return outcome(StatusCode::BAD_REQUEST, "invalid", &why),
    };
    match responses_with_forms(&state, &auth, client).await {
        Ok(rows) => {
            let resources = rows
                .iter()
                .map(|(r, form)| (r.id.to_string(), fhir::questionnaire_response(&facts(r, form))))
                .collect();
            searchset("QuestionnaireResponse", resources)
        }
        Err(e) => app_outcome(e),
    }
}

/// Score observations (category survey). Each has its response's id: ids are unique per
/// resource type, and one response has at most one score observation.
async fn observations(
    State(state): State<AppState>,
    auth: Result<ApiAuth, crate::error::ApiError>,
    RawQuery(q): RawQuery,
) -> Response {
    let ApiAuth(auth) = match auth {
        Ok(a) => a,
        Err(e) => return refused(&e),
    };
    let pairs = match search_pairs(q.as_deref().unwrap_or(""), &["patient", "category"]) {
        Ok(p) => p,
        Err(why) => return outcome(StatusCode::BAD_REQUEST, "invalid", &why),
    };
    let client = match patient_param(&pairs) {
        Ok(c) => c,
        Err(why) => return outcome(StatusCode::BAD_REQUEST, "invalid", &why),
    };
    // We hold survey observations only; another category matches nothing.
    let survey = pairs.iter().filter(|(k, _)| k == "category").all(|(_, v)| {
        v.split(',').any(|c| {
            let code = c.rsplit_once('|').map_or(c, |(_, code)| code);
            code == "survey"
        })
    });
    match responses_with_forms(&state, &auth, client).await {
        Ok(rows) => {
            let resources = if survey {
                rows.iter()
                    .filter_map(|(r, form)| fhir::score_observation(&facts(r, form), r.id.as_uuid()))
                    .map(|o| (o.id.clone(), o))
                    .collect()
            } else {
                Vec::new()
            };
            searchset("Observation", resources)
        }
        Err(e) => app_outcome(e),
    }
}

// ---------------------------------------------------------------------------------------
// The program: a client's sessions as Appointments, the attended ones as Encounters. Reads go
// through `App::client_appointments` / `App::client_encounters`, which authorize (ReadClient)
// and audit them.

/// The session days a search's `date` parameters allow: `2026-12-01` (that day), or with a
/// `eq`, `ge`, `gt`, `le` or `lt` prefix; repeated parameters narrow the range. Days are the
/// sessions' days on their site's calendar.
fn visit_range(pairs: &[(String, String)]) -> Result<app::visits::VisitRange, String> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    let mut r = app::visits::VisitRange::default();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "date") {
        let (prefix, rest) = date_prefix(v).unwrap_or(("eq", v.as_str()));
        let day = time::Date::parse(rest, f)
            .map_err(|_| "date must be a day like 2026-12-01, with an optional eq, ge, gt, le or lt prefix")?;
        let (from, to) = match prefix {
            "ge" => (Some(day), None),
            "gt" => (day.next_day(), None),
            "le" => (None, Some(day)),
            "lt" => (None, day.previous_day()),
            _ => (Some(day), Some(day)),
        };
        if let Some(from) = from {
            r.from = Some(r.from.map_or(from, |f| f.max(from)));
        }
        if let Some(to) = to {
            r.to = Some(r.to.map_or(to, |t| t.min(to)));
        }
    }
    Ok(r)
}

fn visit_facts(v: &app::visits::Visit) -> fhir::VisitFacts<'_> {
    use app::visits::VisitStatus;
    fhir::VisitFacts {
        session: v.session.id.as_uuid(),
        client: v.client.as_uuid(),
        modality: v.session.modality,
        title: &v.session.title,
        start: v.start,
        end: v.end,
        practitioner: v.session.staff().as_uuid(),
        location: v.session.room.map(|room| {
            let name = match &v.room_name {
                Some(r) if v.site_name.is_empty() => r.clone(),
                Some(r) => format!("{r}, {}", v.site_name),
                None => v.site_name.clone(),
            };
            (room, name)
        }),
        outcome: match v.status {
            VisitStatus::Booked => fhir::VisitOutcome::Booked,
            VisitStatus::Cancelled => fhir::VisitOutcome::Cancelled,
            VisitStatus::Attended(m) => fhir::VisitOutcome::Attended(m),
            VisitStatus::Absent => fhir::VisitOutcome::Absent,
        },
        episode: v.episode.map(|e| e.as_uuid()),
    }
}

/// The client and session days a program search names.
fn visit_search(raw: Option<&str>) -> Result<(domain::ids::ClientId, app::visits::VisitRange), String> {
    let pairs = search_pairs(raw.unwrap_or(""), &["patient", "date"])?;
    Ok((patient_param(&pairs)?, visit_range(&pairs)?))
}

async fn appointments(
    State(state): State<AppState>,
    auth: Result<ApiAuth, crate::error::ApiError>,
    RawQuery(q): RawQuery,
) -> Response {
    let ApiAuth(auth) = match auth {
        Ok(a) => a,
        Err(e) => return refused(&e),
    };
    let (client, range) = match visit_search(q.as_deref()) {
        Ok(p) => p,
        Err(why) => return outcome(StatusCode::BAD_REQUEST, "invalid", &why),
    };
    match state.app.client_appointments(&auth.ctx, client, range).await {
        Ok(visits) => {
            let resources = visits
                .iter()
                .map(|v| {
                    let a = fhir::appointment(&visit_facts(v));
                    (a.id.clone(), a)
                })
                .collect();
            searchset("Appointment", resources)
        }
        Err(e) => app_outcome(e),
    }
}

async fn encounters(
    State(state): State<AppState>,
    auth: Result<ApiAuth, crate::error::ApiError>,
    RawQuery(q): RawQuery,
) -> Response {
    let ApiAuth(auth) = match auth {
        Ok(a) => a,
        Err(e) => return refused(&e),
    };
    let (client, range) = match visit_search(q.as_deref()) {
        Ok(p) => p,
        Err(why) => return outcome(StatusCode::BAD_REQUEST, "invalid", &why),
    };
    match state.app.client_encounters(&auth.ctx, client, range).await {
        Ok(visits) => {
            let resources =
                visits.iter().filter_map(|v| fhir::encounter(&visit_facts(v))).map(|e| (e.id.clone(), e)).collect();
            searchset("Encounter", resources)
        }
        Err(e) => app_outcome(e),
    }
}

/// A search answer: the resources as a `searchset` Bundle.
fn searchset<T: serde::Serialize>(kind: &str, resources: Vec<(String, T)>) -> Response {
    fhir(StatusCode::OK, serde_json::to_value(fhir::searchset("/fhir", kind, resources)).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::parse_search;

    #[test]
    fn search_parameters() {
        let f = parse_search(
            "patient=Patient/0190a1b2-0000-7000-8000-000000000001&date=ge2026-01-01&date=lt2026-02-01&_count=5",
        )
        .unwrap();
        assert!(f.client.is_some());
        assert_eq!(f.limit, 5);
        assert!(f.from_ms.unwrap() < f.to_ms.unwrap());
        assert!(parse_search("name=smith").is_err());
        assert!(parse_search("date=2026-01-01").is_err());
        assert!(parse_search("action=client.stolen").is_err());
        assert!(parse_search("_count=ten").is_err());
        assert!(parse_search("date=eq2026-01-01").is_err(), "an audit search takes a range");
        assert!(parse_search("date=ge2026-01-01junk").is_err());
    }

    #[test]
    fn multi_byte_search_values_are_refused_not_sliced() {
        for date in ["a%C3%A9", "%C3%A9", "%C3%A92026-01-01", "g%C3%A92026-01-01", "%E2%82%AC%E2%82%AC", "%F0%9F%92%A5"]
        {
            assert!(parse_search(&format!("date={date}")).is_err(), "{date}");
            let p = "patient=0190a1b2-0000-7000-8000-000000000001";
            assert!(super::visit_search(Some(&format!("{p}&date={date}"))).is_err(), "{date}");
        }
    }

    #[test]
    fn program_search_dates_narrow_to_session_days() {
        use time::macros::date;
        let r = |q: &str| super::visit_search(Some(q)).map(|(_, r)| (r.from, r.to));
        let p = "patient=Patient/0190a1b2-0000-7000-8000-000000000001";
        assert_eq!(r(p).unwrap(), (None, None));
        assert_eq!(
            r(&format!("{p}&date=2026-12-01")).unwrap(),
            (Some(date!(2026 - 12 - 01)), Some(date!(2026 - 12 - 01)))
        );
        assert_eq!(
            r(&format!("{p}&date=gt2026-12-01&date=lt2026-12-08")).unwrap(),
            (Some(date!(2026 - 12 - 02)), Some(date!(2026 - 12 - 07)))
        );
        assert_eq!(r(&format!("{p}&date=ge2026-12-01")).unwrap(), (Some(date!(2026 - 12 - 01)), None));
        assert!(r(&format!("{p}&date=sa2026-12-01")).is_err());
        assert!(r(&format!("{p}&date=2026-12")).is_err());
        assert!(r("date=2026-12-01").is_err(), "patient is required");
        assert!(r(&format!("{p}&status=booked")).is_err(), "unknown parameter");
    }
}
