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
    Router::new().route("/metadata", get(metadata)).route("/AuditEvent", get(audit_events))
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

fn day_ms(raw: &str) -> Option<i64> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw.get(..10)?, f).ok().map(|d| app::unix_ms(d.midnight().assume_utc()))
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
                let (prefix, rest) = v.split_at(v.len().min(2));
                let ms = day_ms(rest).ok_or("date must be like ge2026-01-01 or lt2026-02-01")?;
                match prefix {
                    "ge" => f.from_ms = Some(ms),
                    "gt" => f.from_ms = Some(ms + 86_400_000),
                    "le" => f.to_ms = Some(ms + 86_400_000),
                    "lt" => f.to_ms = Some(ms),
                    _ => return Err("date needs a ge, gt, le or lt prefix".into()),
                }
            }
            "_count" => f.limit = v.parse::<u64>().map_err(|_| "_count must be a number")?.clamp(1, 500),
            other => return Err(format!("unknown search parameter {other:?}")),
        }
    }
    Ok(f)
}

async fn audit_events(
    State(state): State<AppState>,
    auth: Result<ApiAuth, crate::error::ApiError>,
    RawQuery(q): RawQuery,
) -> Response {
    let ApiAuth(auth) = match auth {
        Ok(a) => a,
        Err(e) => {
            let status = StatusCode::from_u16(e.0.status).unwrap_or(StatusCode::UNAUTHORIZED);
            return outcome(status, if status == StatusCode::UNAUTHORIZED { "login" } else { "forbidden" }, e.0.title);
        }
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
            let bundle = fhir::searchset("/fhir", "AuditEvent", resources);
            fhir(StatusCode::OK, serde_json::to_value(bundle).unwrap_or_default())
        }
        Err(e) => app_outcome(e),
    }
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
    }
}
