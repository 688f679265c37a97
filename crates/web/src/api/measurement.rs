//! Measurement-based care through the API: forms (built-in and imported FHIR Questionnaires),
//! responses with their scores, alerts, the work list and caseload, readiness reviews with the
//! level recommendation, the agreement report, and client mode for a tablet.
//!
//! Every handler calls one use case in `app` (which authorizes and audits). Client-mode
//! answers must never carry the client's name or anything from the chart.

use std::collections::BTreeMap;

use app::AppError;
use app::measurement::{AlertRow, FormSummary, ImportForm, Recorded};
use app::reviews::ReviewForm;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::access::Permission;
use domain::forms::{AnswerValue, FormDefinition, FormItem, ItemKind, RawAnswer};
use domain::instruments::Instrument;
use domain::measurement::{Alert, Due, FormResponse};
use domain::review::{Evidence, EvidenceScore, ReadinessReview};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use super::{ApiJson, fmt_rfc3339, path_id};
use crate::AppState;
use crate::auth::ApiAuth;
use crate::error::{ApiError, Problem};

/// The header a tablet in client mode sends its hand-off token in.
pub const CLIENT_MODE_HEADER: &str = "x-client-mode-token";

// ---------------------------------------------------------------------------------------
// Forms

#[derive(Serialize, ToSchema)]
pub struct AnswerOptionDto {
    /// The score of this answer; send it as the answer.
    pub value: i64,
    pub label: String,
}

#[derive(Serialize, ToSchema)]
pub struct FormItemDto {
    pub link_id: String,
    pub text: String,
    /// choice, integer, boolean, text or display (display items take no answer)
    pub kind: String,
    /// The answers a choice question takes.
    pub options: Vec<AnswerOptionDto>,
    /// Bounds of an integer question.
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub required: bool,
}

/// A form version without its place in the center's list (for reading back and client mode).
#[derive(Serialize, ToSchema)]
pub struct FormDefinitionDto {
    /// Canonical URL.
    pub url: String,
    pub version: String,
    pub title: String,
    /// The built-in scorer (e.g. phq-9); null for an unscored form.
    pub instrument: Option<String>,
    pub items: Vec<FormItemDto>,
}

#[derive(Serialize, ToSchema)]
pub struct FormDto {
    /// The id of an imported version (for retiring it); null for a built-in form.
    pub id: Option<String>,
    pub url: String,
    pub version: String,
    pub title: String,
    /// The built-in scorer (e.g. phq-9); null for an unscored form.
    pub instrument: Option<String>,
    pub builtin: bool,
    /// active or retired
    pub status: String,
    pub items: Vec<FormItemDto>,
}

fn item_dto(i: &FormItem) -> FormItemDto {
    let (kind, options, min, max) = match &i.kind {
        ItemKind::Choice { options } => (
            "choice",
            options.iter().map(|o| AnswerOptionDto { value: o.value, label: o.label.clone() }).collect(),
            None,
            None,
        ),
        ItemKind::Integer { min, max } => ("integer", Vec::new(), Some(*min), Some(*max)),
        ItemKind::Boolean => ("boolean", Vec::new(), None, None),
        ItemKind::Text => ("text", Vec::new(), None, None),
        ItemKind::Display => ("display", Vec::new(), None, None),
    };
    FormItemDto {
        link_id: i.link_id.clone(),
        text: i.text.clone(),
        kind: kind.to_owned(),
        options,
        min,
        max,
        required: i.required,
    }
}

fn definition_dto(f: &FormDefinition) -> FormDefinitionDto {
    FormDefinitionDto {
        url: f.url.clone(),
        version: f.version.clone(),
        title: f.title.clone(),
        instrument: f.instrument.map(|i| i.code().to_owned()),
        items: f.items.iter().map(item_dto).collect(),
    }
}

fn form_dto(s: &FormSummary) -> FormDto {
    let d = definition_dto(&s.form);
    FormDto {
        id: s.id.map(|i| i.to_string()),
        url: d.url,
        version: d.version,
        title: d.title,
        instrument: d.instrument,
        builtin: s.builtin,
        status: s.status.code().to_owned(),
        items: d.items,
    }
}

/// Every form the center can give: the built-in instruments, then imported versions.
#[utoipa::path(get, path = "/api/v1/forms", tag = "measurement", security(("bearer" = [])),
    responses((status = 200, body = Vec<FormDto>), (status = 403, body = Problem)))]
pub async fn forms(State(state): State<AppState>, ApiAuth(auth): ApiAuth) -> Result<Json<Vec<FormDto>>, ApiError> {
    let forms = state.app.forms(&auth.ctx).await?;
    Ok(Json(forms.iter().map(form_dto).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct ImportedDto {
    pub form: FormDto,
    /// Older active versions of the same form that this import retired.
    pub retired_versions: u64,
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || essence == "application/fhir+json"
}

/// Import a FHIR R4 Questionnaire (the body is the Questionnaire itself, kept verbatim). A
/// LOINC panel code of a built-in instrument binds its scorer; any other form is unscored. The
/// new version retires older active versions of the same form.
#[utoipa::path(post, path = "/api/v1/forms", tag = "measurement", security(("bearer" = [])),
    request_body(content = Object, description = "An R4 Questionnaire", content_type = "application/fhir+json"),
    responses((status = 201, body = ImportedDto), (status = 409, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn import_form(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    // Refuse (and audit) a caller who may not import before reading what they sent.
    state.app.require_permission(&auth.ctx, Permission::ManageForms).await?;
    if !is_json(&headers) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the Questionnaire as application/fhir+json or application/json",
        )
        .into());
    }
    let definition = String::from_utf8(body.to_vec())
        .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, "bad_request", "The body is not UTF-8 text"))?;
    // Text that is not JSON at all is the parser's to refuse, just below.
    if let Ok(value) = serde_json::from_str(&definition) {
        crate::input::check_json(&value)?;
    }
    let parsed = fhir::parse_questionnaire(&definition).map_err(|e| invalid_definition(&e.to_string()))?;
    if matches!(parsed.status.as_str(), "retired" | "entered-in-error") {
        return Err(invalid_definition("the Questionnaire's status is retired; import an active or draft version"));
    }
    let import = ImportForm { form: parsed.form, loinc_codes: parsed.loinc_codes, definition };
    let imported = state.app.import_form(&auth.ctx, import).await?;
    let s = imported.stored;
    let summary = FormSummary { form: s.form, id: Some(s.id), builtin: false, status: s.status };
    Ok((
        StatusCode::CREATED,
        Json(ImportedDto { form: form_dto(&summary), retired_versions: imported.retired_versions }),
    )
        .into_response())
}

/// A questionnaire that cannot be imported: the reason names the item, never client data.
fn invalid_definition(why: &str) -> ApiError {
    // By characters, not bytes: the reason can start with an item's own (non-ASCII) text.
    let mut chars = why.chars();
    let mut message: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    message.push_str(chars.as_str());
    ApiError(Problem {
        errors: vec![app::FieldError::new("definition", message.clone())],
        ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", "The questionnaire cannot be imported")
            .detail(message)
    })
}

/// Retire an imported form version: it can no longer be given; past answers stay.
#[utoipa::path(post, path = "/api/v1/forms/{id}/retire", tag = "measurement", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 403, body = Problem)))]
pub async fn retire_form(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.retire_form(&auth.ctx, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------
// Responses, alerts and measures

#[derive(Serialize, ToSchema)]
pub struct SubscoreDto {
    pub name: String,
    pub value: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ResponseDto {
    pub id: String,
    pub client_id: String,
    pub episode_id: Option<String>,
    pub placement_id: Option<String>,
    pub form_url: String,
    pub form_version: String,
    /// The built-in scorer; null for an unscored form.
    pub instrument: Option<String>,
    /// Answers by link id: a number (the option's score), true/false or text.
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, AnswerValue>,
    /// Every required question answered; only complete forms are scored.
    pub complete: bool,
    pub total: Option<i64>,
    pub band: Option<String>,
    pub band_label: Option<String>,
    pub subscores: Vec<SubscoreDto>,
    /// Safety flags the answers raised (e.g. phq9_item9).
    pub flags: Vec<String>,
    /// staff or client (client mode)
    pub mode: String,
    pub recorded_by: String,
    /// RFC 3339.
    pub authored_at: String,
}

fn response_dto(r: &FormResponse) -> ResponseDto {
    ResponseDto {
        id: r.id.to_string(),
        client_id: r.client.to_string(),
        episode_id: r.episode.map(|e| e.to_string()),
        placement_id: r.placement.map(|p| p.to_string()),
        form_url: r.form_url.clone(),
        form_version: r.form_version.clone(),
        instrument: r.instrument.map(|i| i.code().to_owned()),
        answers: r.answers.clone(),
        complete: r.complete,
        total: r.total,
        band: r.band.clone(),
        band_label: r.band_label.clone(),
        subscores: r.subscores.iter().map(|(n, v)| SubscoreDto { name: n.clone(), value: *v }).collect(),
        flags: r.flags.iter().map(|f| f.code().to_owned()).collect(),
        mode: r.mode.code().to_owned(),
        recorded_by: r.recorded_by.to_string(),
        authored_at: fmt_rfc3339(r.authored_at),
    }
}

#[derive(Serialize, ToSchema)]
pub struct AcknowledgementDto {
    pub by: String,
    pub at: String,
    /// action or safety_plan
    pub action: String,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct AlertDto {
    pub id: String,
    pub client_id: String,
    pub response_id: Option<String>,
    /// safety or withdrawal
    pub kind: String,
    /// A stable code: phq9_item9, cssrs_moderate, cssrs_high, check_in_self_harm, withdrawal:ciwa-ar, withdrawal:cows
    pub code: String,
    pub label: String,
    pub detail: String,
    pub raised_at: String,
    /// Open until acknowledged.
    pub open: bool,
    pub acknowledgement: Option<AcknowledgementDto>,
}

fn alert_dto(a: &Alert) -> AlertDto {
    AlertDto {
        id: a.id.to_string(),
        client_id: a.client.to_string(),
        response_id: a.response.map(|r| r.to_string()),
        kind: if a.kind.is_safety() { "safety" } else { "withdrawal" }.to_owned(),
        code: a.kind.code(),
        label: a.kind.label(),
        detail: a.detail.clone(),
        raised_at: fmt_rfc3339(a.raised_at),
        open: a.acknowledgement.is_none(),
        acknowledgement: a.acknowledgement.as_ref().map(|k| AcknowledgementDto {
            by: k.by.to_string(),
            at: fmt_rfc3339(k.at),
            action: k.action.code().to_owned(),
            text: k.text.clone(),
        }),
    }
}

#[derive(Serialize, ToSchema)]
pub struct DueDto {
    pub instrument: String,
    pub title: String,
    pub due_at: String,
    pub overdue: bool,
    /// start, repeat or end
    pub reason: String,
}

fn due_dto(d: &Due) -> DueDto {
    DueDto {
        instrument: d.instrument.code().to_owned(),
        title: d.instrument.title().to_owned(),
        due_at: fmt_rfc3339(d.due_at),
        overdue: d.overdue,
        reason: match d.reason {
            domain::measurement::DueReason::Start => "start",
            domain::measurement::DueReason::Repeat => "repeat",
            domain::measurement::DueReason::End => "end",
        }
        .to_owned(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct PointDto {
    pub at: String,
    pub value: i64,
}

#[derive(Serialize, ToSchema)]
pub struct BandDto {
    /// The lowest value in the band.
    pub from: i64,
    pub label: String,
}

#[derive(Serialize, ToSchema)]
pub struct SeriesDto {
    pub instrument: String,
    pub title: String,
    pub points: Vec<PointDto>,
    pub bands: Vec<BandDto>,
    pub max: i64,
    /// The withdrawal alert threshold (CIWA-Ar, COWS).
    pub threshold: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct LevelChangeDto {
    pub on: String,
    pub from_level: Option<String>,
    pub to_level: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MeasuresDto {
    pub client_id: String,
    /// Oldest first.
    pub responses: Vec<ResponseDto>,
    pub alerts: Vec<AlertDto>,
    /// Forms due now or overdue in the current placement.
    pub due: Vec<DueDto>,
    pub series: Vec<SeriesDto>,
    /// Level changes, for marking charts.
    pub level_changes: Vec<LevelChangeDto>,
}

/// A client's measures: every response, alerts, what is due and chart series.
#[utoipa::path(get, path = "/api/v1/clients/{id}/measures", tag = "measurement", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MeasuresDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn measures(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<MeasuresDto>, ApiError> {
    let m = state.app.measures(&auth.ctx, path_id(&id)?).await?;
    Ok(Json(MeasuresDto {
        client_id: m.client.id.to_string(),
        responses: m.responses.iter().map(response_dto).collect(),
        alerts: m.alerts.iter().map(alert_dto).collect(),
        due: m.due.iter().map(due_dto).collect(),
        series: m
            .series
            .iter()
            .map(|s| SeriesDto {
                instrument: s.instrument.code().to_owned(),
                title: s.instrument.title().to_owned(),
                points: s.points.iter().map(|(at, v)| PointDto { at: fmt_rfc3339(*at), value: *v }).collect(),
                bands: s
                    .bands
                    .iter()
                    .map(|(from, label)| BandDto { from: *from, label: (*label).to_owned() })
                    .collect(),
                max: s.max,
                threshold: s.threshold,
            })
            .collect(),
        level_changes: m
            .level_changes
            .iter()
            .map(|e| LevelChangeDto {
                on: e.on.to_string(),
                from_level: e.from_level.as_ref().map(|l| l.to_string()),
                to_level: e.to_level.as_ref().map(|l| l.to_string()),
            })
            .collect(),
    }))
}

/// One answer: a number (a choice's score or an integer), true/false, or text.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AnswerIn {
    Number(i64),
    Bool(bool),
    Text(String),
}

fn raw_answers(answers: BTreeMap<String, AnswerIn>) -> BTreeMap<String, RawAnswer> {
    answers
        .into_iter()
        .map(|(k, v)| {
            let raw = match v {
                AnswerIn::Number(n) => RawAnswer::Number(n),
                AnswerIn::Bool(b) => RawAnswer::Bool(b),
                AnswerIn::Text(t) => RawAnswer::Text(t),
            };
            (k, raw)
        })
        .collect()
}

/// A built-in instrument's code (`phq-9`) stands for its form's canonical URL.
fn form_url(form: &str) -> String {
    let form = form.trim();
    match Instrument::parse(form) {
        Some(i) => FormDefinition::builtin(i).url,
        None => form.to_owned(),
    }
}

/// The form and version asked for: `version` wins; otherwise a canonical `url|version`.
fn form_and_version(form: &str, version: Option<String>) -> (String, Option<String>) {
    match (version, form.split_once('|')) {
        (Some(v), _) => (form_url(form), Some(v)),
        (None, Some((url, v))) if !v.is_empty() => (form_url(url), Some(v.to_owned())),
        (None, _) => (form_url(form), None),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseRequest {
    /// A form's canonical URL (optionally `url|version`), or a built-in instrument code like phq-9.
    pub form: String,
    /// The form version; the current active version when absent.
    pub version: Option<String>,
    /// Answers by link id.
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, AnswerIn>,
    /// When the client answered (RFC 3339); now when absent. Up to a year back.
    pub authored: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RecordedDto {
    pub response: ResponseDto,
    /// Alerts the response raised.
    pub alerts: Vec<AlertDto>,
    /// Required questions left unanswered (the response was saved but not scored).
    pub missing: Vec<String>,
}

fn recorded_dto(r: &Recorded) -> RecordedDto {
    RecordedDto {
        response: response_dto(&r.response),
        alerts: r.alerts.iter().map(alert_dto).collect(),
        missing: r.missing.clone(),
    }
}

/// Record a client's answers to a form (asked by staff, or entered from paper).
#[utoipa::path(post, path = "/api/v1/clients/{id}/responses", tag = "measurement", request_body = ResponseRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 201, body = RecordedDto), (status = 422, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn record_response(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ResponseRequest>,
) -> Result<Response, ApiError> {
    let client = path_id(&id)?;
    let authored = match req.authored.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => Some(OffsetDateTime::parse(t, &Rfc3339).map_err(|_| {
            AppError::invalid("authored", "Give the time answered as RFC 3339, e.g. 2026-01-31T09:30:00Z")
        })?),
    };
    let (url, version) = form_and_version(&req.form, req.version);
    let answers = raw_answers(req.answers);
    let recorded = state.app.record_response(&auth.ctx, client, &url, version.as_deref(), &answers, authored).await?;
    Ok((StatusCode::CREATED, Json(recorded_dto(&recorded))).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct ResponseDetailDto {
    pub response: ResponseDto,
    /// The form version answered.
    pub form: FormDefinitionDto,
}

/// One response with the form version it answers.
#[utoipa::path(get, path = "/api/v1/clients/{id}/responses/{response_id}", tag = "measurement", security(("bearer" = [])),
    params(("id" = String, Path), ("response_id" = String, Path)),
    responses((status = 200, body = ResponseDetailDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn response(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, response_id)): Path<(String, String)>,
) -> Result<Json<ResponseDetailDto>, ApiError> {
    let (r, form) = state.app.response(&auth.ctx, path_id(&id)?, path_id(&response_id)?).await?;
    Ok(Json(ResponseDetailDto { response: response_dto(&r), form: definition_dto(&form) }))
}

#[derive(Serialize, ToSchema)]
pub struct AlertRowDto {
    pub alert: AlertDto,
    pub client_name: String,
}

fn alert_row_dto(a: &AlertRow) -> AlertRowDto {
    AlertRowDto { alert: alert_dto(&a.alert), client_name: format!("{} {}", a.client.given_name, a.client.family_name) }
}

/// Open alerts for the clients in the caller's reach, oldest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "measurement", security(("bearer" = [])),
    responses((status = 200, body = Vec<AlertRowDto>)))]
pub async fn alerts(State(state): State<AppState>, ApiAuth(auth): ApiAuth) -> Result<Json<Vec<AlertRowDto>>, ApiError> {
    let alerts = state.app.open_alerts(&auth.ctx).await?;
    Ok(Json(alerts.iter().map(alert_row_dto).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeRequest {
    /// action (an action was taken) or safety_plan (a safety plan was made)
    pub action: String,
    /// What was done. Required.
    #[serde(default)]
    pub text: String,
}

/// Acknowledge an alert with the action taken or the safety plan made (once).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "measurement", request_body = AcknowledgeRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = AlertDto), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AcknowledgeRequest>,
) -> Result<Json<AlertDto>, ApiError> {
    let alert = state.app.acknowledge_alert(&auth.ctx, path_id(&id)?, &req.action, &req.text).await?;
    Ok(Json(alert_dto(&alert)))
}

#[derive(Serialize, ToSchema)]
pub struct FormDueDto {
    pub client_id: String,
    pub client_name: String,
    pub level: String,
    pub due: DueDto,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewDueDto {
    pub client_id: String,
    pub client_name: String,
    pub episode_id: String,
    pub level: String,
    pub next_review: String,
    pub overdue: bool,
}

#[derive(Serialize, ToSchema)]
pub struct WorklistDto {
    pub alerts: Vec<AlertRowDto>,
    pub forms_due: Vec<FormDueDto>,
    pub reviews_due: Vec<ReviewDueDto>,
}

fn name(c: &domain::client::Client) -> String {
    format!("{} {}", c.given_name, c.family_name)
}

/// The caller's work list: open alerts, forms due and readiness reviews due.
#[utoipa::path(get, path = "/api/v1/worklist", tag = "measurement", security(("bearer" = [])),
    responses((status = 200, body = WorklistDto)))]
pub async fn worklist(State(state): State<AppState>, ApiAuth(auth): ApiAuth) -> Result<Json<WorklistDto>, ApiError> {
    let w = state.app.worklist(&auth.ctx).await?;
    Ok(Json(WorklistDto {
        alerts: w.alerts.iter().map(alert_row_dto).collect(),
        forms_due: w
            .forms_due
            .iter()
            .map(|d| FormDueDto {
                client_id: d.client.id.to_string(),
                client_name: name(&d.client),
                level: d.level.to_string(),
                due: due_dto(&d.due),
            })
            .collect(),
        reviews_due: w
            .reviews_due
            .iter()
            .map(|r| ReviewDueDto {
                client_id: r.client.id.to_string(),
                client_name: name(&r.client),
                episode_id: r.episode.to_string(),
                level: r.level.to_string(),
                next_review: r.next_review.to_string(),
                overdue: r.overdue,
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct CaseloadDto {
    pub client_id: String,
    pub client_name: String,
    pub instrument: String,
    pub first_on: String,
    pub first: i64,
    pub latest_on: String,
    pub latest: i64,
    /// improving, unchanged or worsening (by the instrument's reliable change)
    pub trend: String,
}

/// Who on the caller's caseload is improving and who is not, worsening first.
#[utoipa::path(get, path = "/api/v1/caseload", tag = "measurement", security(("bearer" = [])),
    responses((status = 200, body = Vec<CaseloadDto>), (status = 403, body = Problem)))]
pub async fn caseload(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
) -> Result<Json<Vec<CaseloadDto>>, ApiError> {
    let rows = state.app.caseload(&auth.ctx).await?;
    Ok(Json(
        rows.iter()
            .map(|c| CaseloadDto {
                client_id: c.client.id.to_string(),
                client_name: name(&c.client),
                instrument: c.instrument.code().to_owned(),
                first_on: c.first.0.to_string(),
                first: c.first.1,
                latest_on: c.latest.0.to_string(),
                latest: c.latest.1,
                trend: match c.trend {
                    domain::measurement::Trend::Improving => "improving",
                    domain::measurement::Trend::Unchanged => "unchanged",
                    domain::measurement::Trend::Worsening => "worsening",
                }
                .to_owned(),
            })
            .collect(),
    ))
}

// ---------------------------------------------------------------------------------------
// Readiness reviews

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendationRequest {
    /// Six dimension ratings, 0–4, dimension 1 first.
    pub ratings: Vec<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct RecommendationDto {
    pub level: String,
    /// The reasons of the rules that drove the level.
    pub reasons: Vec<String>,
    pub rule_set_version: String,
}

/// The engine's level-of-care recommendation for six dimension ratings.
#[utoipa::path(post, path = "/api/v1/recommendation", tag = "measurement", request_body = RecommendationRequest,
    security(("bearer" = [])), responses((status = 200, body = RecommendationDto), (status = 422, body = Problem)))]
pub async fn recommendation(
    State(state): State<AppState>,
    ApiAuth(_auth): ApiAuth,
    ApiJson(req): ApiJson<RecommendationRequest>,
) -> Result<Json<RecommendationDto>, ApiError> {
    let ratings: [i64; 6] = req
        .ratings
        .try_into()
        .map_err(|_| AppError::invalid("ratings", "Give six ratings, one per dimension, dimension 1 first"))?;
    // Anything outside 0–255 becomes 255, which the rules refuse naming the dimension.
    let ratings = ratings.map(|r| u8::try_from(r).unwrap_or(u8::MAX));
    let r = state.app.recommend(ratings)?;
    Ok(Json(RecommendationDto { level: r.level.to_string(), reasons: r.reasons, rule_set_version: r.rule_set_version }))
}

#[derive(Serialize, ToSchema)]
pub struct EvidenceScoreDto {
    pub instrument: String,
    pub title: String,
    pub value: Option<i64>,
    pub band_label: String,
    pub on: String,
    pub previous: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct DrugScreenDto {
    /// negative or positive
    pub result: String,
    pub substances: String,
}

#[derive(Serialize, ToSchema)]
pub struct EvidenceDto {
    pub scores: Vec<EvidenceScoreDto>,
    pub self_assessment: Option<EvidenceScoreDto>,
    pub open_alerts: usize,
    pub drug_screen: Option<DrugScreenDto>,
    pub weekly_hours: Option<String>,
}

fn evidence_score_dto(e: &EvidenceScore) -> EvidenceScoreDto {
    EvidenceScoreDto {
        instrument: e.instrument.clone(),
        title: e.title.clone(),
        value: e.value,
        band_label: e.band_label.clone(),
        on: e.on.to_string(),
        previous: e.previous,
    }
}

fn evidence_dto(e: &Evidence) -> EvidenceDto {
    EvidenceDto {
        scores: e.scores.iter().map(evidence_score_dto).collect(),
        self_assessment: e.self_assessment.as_ref().map(evidence_score_dto),
        open_alerts: e.open_alerts,
        drug_screen: e
            .drug_screen
            .as_ref()
            .map(|d| DrugScreenDto { result: d.result.clone(), substances: d.substances.clone() }),
        weekly_hours: e.weekly_hours.clone(),
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingDto {
    /// 0–4.
    #[schema(value_type = i64)]
    pub rating: serde_json::Value,
    pub rationale: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewDto {
    pub id: String,
    pub client_id: String,
    pub episode_id: String,
    pub placement_id: String,
    /// The level reviewed.
    pub level: String,
    pub reviewed_on: String,
    pub reviewed_at: String,
    pub reviewed_by: String,
    /// Dimension 1 first.
    pub ratings: Vec<RatingDto>,
    pub evidence: EvidenceDto,
    pub recommended_level: String,
    pub reasons: Vec<String>,
    pub rule_set_version: String,
    /// continue, extend, step_down, step_up or discharge
    pub decision: String,
    /// The level stepped to.
    pub decision_level: Option<String>,
    pub agrees: bool,
    pub disagreement_reason: Option<String>,
    pub note: String,
}

fn review_dto(r: &ReadinessReview) -> ReviewDto {
    ReviewDto {
        id: r.id.to_string(),
        client_id: r.client.to_string(),
        episode_id: r.episode.to_string(),
        placement_id: r.placement.to_string(),
        level: r.level.to_string(),
        reviewed_on: r.reviewed_on.to_string(),
        reviewed_at: fmt_rfc3339(r.reviewed_at),
        reviewed_by: r.reviewed_by.to_string(),
        ratings: r
            .ratings
            .iter()
            .map(|d| RatingDto { rating: serde_json::Value::from(d.rating), rationale: d.rationale.clone() })
            .collect(),
        evidence: evidence_dto(&r.evidence),
        recommended_level: r.recommended_level.to_string(),
        reasons: r.reasons.clone(),
        rule_set_version: r.rule_set_version.clone(),
        decision: r.decision.code().to_owned(),
        decision_level: r.decision_level.as_ref().map(|l| l.to_string()),
        agrees: r.agrees,
        disagreement_reason: r.disagreement_reason.clone(),
        note: r.note.clone(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReviewPlacementDto {
    pub id: String,
    pub level: String,
    pub site_id: String,
    pub bed_id: Option<String>,
    pub start: String,
    pub planned_end: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewContextDto {
    pub client_id: String,
    pub episode_id: String,
    /// The open placement under review.
    pub placement: ReviewPlacementDto,
    pub next_review: Option<String>,
    pub evidence: EvidenceDto,
    /// Earlier reviews of this client.
    pub reviews: Vec<ReviewDto>,
    pub rule_set_version: String,
}

/// What a readiness review needs: the open placement, when the review is due, the evidence.
#[utoipa::path(get, path = "/api/v1/clients/{id}/episodes/{episode_id}/review", tag = "measurement",
    security(("bearer" = [])), params(("id" = String, Path), ("episode_id" = String, Path)),
    responses((status = 200, body = ReviewContextDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn review_context(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, episode)): Path<(String, String)>,
) -> Result<Json<ReviewContextDto>, ApiError> {
    let c = state.app.review_context(&auth.ctx, path_id(&id)?, path_id(&episode)?).await?;
    Ok(Json(ReviewContextDto {
        client_id: c.client.id.to_string(),
        episode_id: c.episode.id.to_string(),
        placement: ReviewPlacementDto {
            id: c.placement.id.to_string(),
            level: c.placement.level.to_string(),
            site_id: c.placement.site.to_string(),
            bed_id: c.placement.bed.map(|b| b.to_string()),
            start: c.placement.start.to_string(),
            planned_end: c.placement.planned_end.map(|d| d.to_string()),
        },
        next_review: c.next_review.map(|d| d.to_string()),
        evidence: evidence_dto(&c.evidence),
        reviews: c.reviews.iter().map(review_dto).collect(),
        rule_set_version: c.rule_set_version,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrugScreenRequest {
    /// not_done, negative or positive
    pub result: String,
    /// What it was positive for (required when positive).
    pub substances: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// Six ratings (0–4) with a rationale each, dimension 1 first.
    pub ratings: Vec<RatingDto>,
    /// continue, extend, step_down, step_up or discharge
    pub decision: String,
    /// The level stepped to (step_down, step_up).
    pub level: Option<String>,
    /// The site of the new placement (step_down, step_up).
    pub site_id: Option<String>,
    pub bed_id: Option<String>,
    /// The date the decision takes effect, YYYY-MM-DD (not for continue or extend).
    pub on: Option<String>,
    /// The new planned end (extend), or the next placement's planned end.
    pub planned_end: Option<String>,
    /// TEDS reason for a discharge.
    pub discharge_reason: Option<String>,
    /// The reason recorded with the decision; defaults to the review.
    pub reason: Option<String>,
    pub drug_screen: Option<DrugScreenRequest>,
    /// Required when the decision differs from the recommended level.
    pub disagreement_reason: Option<String>,
    pub note: Option<String>,
}

/// A rating as the use case reads it: an integer's digits, anything else left unparseable so
/// the use case refuses it naming the dimension.
fn rating_text(v: &serde_json::Value) -> String {
    v.as_i64().map(|n| n.to_string()).unwrap_or_default()
}

/// Record a readiness review. A decision that changes the stay is applied to the episode in
/// the same transaction: both are saved or neither is.
#[utoipa::path(post, path = "/api/v1/clients/{id}/episodes/{episode_id}/review", tag = "measurement",
    request_body = ReviewRequest, security(("bearer" = [])), params(("id" = String, Path), ("episode_id" = String, Path)),
    responses((status = 201, body = ReviewDto), (status = 422, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn record_review(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path((id, episode)): Path<(String, String)>,
    ApiJson(req): ApiJson<ReviewRequest>,
) -> Result<Response, ApiError> {
    let ratings: [RatingDto; 6] = req
        .ratings
        .try_into()
        .map_err(|_| AppError::invalid("ratings", "Give six ratings with a rationale each, dimension 1 first"))?;
    let (drug_screen, substances) = match req.drug_screen {
        Some(d) => (d.result, d.substances.unwrap_or_default()),
        None => (String::new(), String::new()),
    };
    let form = ReviewForm {
        ratings: ratings.each_ref().map(|r| rating_text(&r.rating)),
        rationales: ratings.map(|r| r.rationale),
        drug_screen,
        drug_screen_substances: substances,
        decision: req.decision,
        transition: app::continuum::DecisionForm {
            kind: String::new(),
            on: req.on.unwrap_or_default(),
            level: req.level.unwrap_or_default(),
            site: req.site_id.unwrap_or_default(),
            bed: req.bed_id.unwrap_or_default(),
            planned_end: req.planned_end.unwrap_or_default(),
            discharge_reason: req.discharge_reason.unwrap_or_default(),
            reason: req.reason.unwrap_or_default(),
        },
        disagreement_reason: req.disagreement_reason.unwrap_or_default(),
        note: req.note.unwrap_or_default(),
    };
    let review = state.app.record_review(&auth.ctx, path_id(&id)?, path_id(&episode)?, &form).await?;
    Ok((StatusCode::CREATED, Json(review_dto(&review))).into_response())
}

#[derive(Deserialize)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TallyDto {
    /// The reviewer's name, the recommended level or the rule-set version.
    pub key: String,
    pub reviews: usize,
    pub disagreements: usize,
}

#[derive(Serialize, ToSchema)]
pub struct AgreementDto {
    pub from: String,
    pub to: String,
    pub reviews: usize,
    pub disagreements: usize,
    pub by_reviewer: Vec<TallyDto>,
    pub by_level: Vec<TallyDto>,
    pub by_rule_set: Vec<TallyDto>,
}

fn tally(rows: &[(String, usize, usize)]) -> Vec<TallyDto> {
    rows.iter().map(|(k, n, d)| TallyDto { key: k.clone(), reviews: *n, disagreements: *d }).collect()
}

fn query_date(p: &mut app::error::Problems, field: &'static str, raw: Option<&str>) -> Option<time::Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => match time::Date::parse(s, f) {
            Ok(d) => Some(d),
            Err(_) => {
                p.add(field, "Give the date as YYYY-MM-DD");
                None
            }
        },
        None => {
            p.add(field, "Give the date as YYYY-MM-DD");
            None
        }
    }
}

/// How often clinicians' decisions differ from the engine's recommendation, by reviewer,
/// recommended level and rule-set version (counts only; no client appears).
#[utoipa::path(get, path = "/api/v1/reports/review-agreement", tag = "measurement", security(("bearer" = [])),
    params(("from" = String, Query, description = "YYYY-MM-DD"), ("to" = String, Query, description = "YYYY-MM-DD")),
    responses((status = 200, body = AgreementDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn agreement_report(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Query(q): Query<PeriodQuery>,
) -> Result<Json<AgreementDto>, ApiError> {
    let mut p = app::error::Problems::default();
    let from = query_date(&mut p, "from", q.from.as_deref());
    let to = query_date(&mut p, "to", q.to.as_deref());
    p.into_result()?;
    let (Some(from), Some(to)) = (from, to) else {
        return Err(AppError::Internal("validated period incomplete").into());
    };
    let r = state.app.agreement_report(&auth.ctx, from, to).await?;
    Ok(Json(AgreementDto {
        from: r.from.to_string(),
        to: r.to.to_string(),
        reviews: r.reviews,
        disagreements: r.disagreements,
        by_reviewer: tally(&r.by_reviewer),
        by_level: tally(&r.by_level),
        by_rule_set: tally(&r.by_rule_set),
    }))
}

// ---------------------------------------------------------------------------------------
// Client mode

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientModeRequest {
    /// A form's canonical URL or a built-in instrument code like phq-9 (its current version).
    pub form: String,
}

#[derive(Serialize, ToSchema)]
pub struct ClientModeDto {
    /// Send as `X-Client-Mode-Token`; it opens this one form, once.
    pub token: String,
    pub expires_at: String,
}

/// Hand a form to the client on a tablet: a one-time token that opens only that form.
#[utoipa::path(post, path = "/api/v1/clients/{id}/client-mode", tag = "client mode", request_body = ClientModeRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 201, body = ClientModeDto), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn start_client_mode(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ClientModeRequest>,
) -> Result<Response, ApiError> {
    let (token, handoff) = state.app.start_client_mode(&auth.ctx, path_id(&id)?, &form_url(&req.form)).await?;
    Ok((StatusCode::CREATED, Json(ClientModeDto { token, expires_at: fmt_rfc3339(handoff.expires_at) }))
        .into_response())
}

/// The hand-off token of a client-mode request (`X-Client-Mode-Token`), required before the
/// body is read. Whether it is live is the use case's to say; any failure is the same 401, so
/// a tablet learns nothing about tokens it does not hold.
pub struct HandoffToken(String);

impl<S: Send + Sync> FromRequestParts<S> for HandoffToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .headers
            .get(CLIENT_MODE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| HandoffToken(t.to_owned()))
            .ok_or_else(client_mode_refused)
    }
}

fn client_mode_refused() -> ApiError {
    ApiError(
        Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", "This form is no longer open")
            .detail("The hand-off token is missing, used, expired or not valid; ask a staff member"),
    )
}

fn client_mode_error(e: AppError) -> ApiError {
    match e {
        AppError::Unauthenticated => client_mode_refused(),
        other => other.into(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ClientModeFormDto {
    pub form: FormDefinitionDto,
    pub expires_at: String,
}

/// The form a hand-off token opens (nothing else: no name, no chart).
#[utoipa::path(get, path = "/api/v1/client-mode", tag = "client mode",
    params(("X-Client-Mode-Token" = String, Header, description = "The hand-off token")),
    responses((status = 200, body = ClientModeFormDto), (status = 401, body = Problem)))]
pub async fn client_mode_form(
    State(state): State<AppState>,
    HandoffToken(token): HandoffToken,
) -> Result<Json<ClientModeFormDto>, ApiError> {
    let view = state.app.handoff(&token).await.map_err(client_mode_error)?;
    Ok(Json(ClientModeFormDto { form: definition_dto(&view.form), expires_at: fmt_rfc3339(view.expires_at) }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientModeAnswers {
    /// Answers by link id.
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, AnswerIn>,
}

#[derive(Serialize, ToSchema)]
pub struct ClientModeDone {
    /// Always true: the answers were saved and the token is used up.
    pub received: bool,
}

/// The client's answers from client mode; the token is used up once they are saved. The answer
/// carries no score and nothing from the chart.
#[utoipa::path(post, path = "/api/v1/client-mode/responses", tag = "client mode", request_body = ClientModeAnswers,
    params(("X-Client-Mode-Token" = String, Header, description = "The hand-off token")),
    responses((status = 201, body = ClientModeDone), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn submit_client_mode(
    State(state): State<AppState>,
    HandoffToken(token): HandoffToken,
    ApiJson(req): ApiJson<ClientModeAnswers>,
) -> Result<Response, ApiError> {
    state.app.submit_handoff(&token, &raw_answers(req.answers)).await.map_err(client_mode_error)?;
    Ok((StatusCode::CREATED, Json(ClientModeDone { received: true })).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_import_refusal_is_capitalised_by_character() {
        let message = |why: &str| super::invalid_definition(why).0.detail.unwrap_or_default();
        assert_eq!(message("item x has no type"), "Item x has no type");
        assert_eq!(message("élan is not a type"), "Élan is not a type");
        assert_eq!(message(""), "");
    }
}
