//! Measurement-based care in the browser: the measures tab of a chart with its trend charts,
//! giving a form (in the chart, or handed to the client in a locked client mode), alerts and
//! their acknowledgement, readiness reviews, the caseload view, forms and the agreement report.

use std::collections::BTreeMap;

use app::auth::Authenticated;
use app::measurement::{Measures, Worklist};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::forms::{FormDefinition, ItemKind, RawAnswer};
use domain::ids::{AlertId, ClientId, EpisodeId, FormId};
use domain::instruments::Instrument;
use serde::Deserialize;
use time::Duration;

use super::{Chrome, Errors, fmt_time, form_errors, ok, render};
use crate::AppState;
use crate::auth::{
    Signed, clear_client_mode_cookie, clear_session_cookie, client_mode_cookie_name, cookie_value,
    set_client_mode_cookie,
};
use crate::charts;
use crate::error::UiError;
use crate::forms::CsrfForm;

fn not_found() -> UiError {
    UiError::App(app::AppError::NotFound)
}

fn parse<T: std::str::FromStr>(raw: &str) -> Result<T, UiError> {
    raw.parse().map_err(|_| not_found())
}

fn name(c: &domain::client::Client) -> String {
    format!("{}, {}", c.family_name, c.given_name)
}

// ---------- forms as pages ----------

pub struct OptionView {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

pub struct QuestionView {
    pub field: String,
    pub text: String,
    /// choice, integer, boolean, text or display
    pub kind: &'static str,
    pub options: Vec<OptionView>,
    pub value: String,
    pub required: bool,
}

fn questions(form: &FormDefinition, typed: &BTreeMap<String, String>) -> Vec<QuestionView> {
    form.items
        .iter()
        .map(|i| {
            let value = typed.get(&i.link_id).cloned().unwrap_or_default();
            let (kind, options) = match &i.kind {
                ItemKind::Choice { options } => (
                    "choice",
                    options
                        .iter()
                        .map(|o| OptionView {
                            value: o.value.to_string(),
                            label: o.label.clone(),
                            checked: value == o.value.to_string(),
                        })
                        .collect(),
                ),
                ItemKind::Integer { .. } => ("integer", Vec::new()),
                ItemKind::Boolean => (
                    "choice",
                    [("true", "Yes"), ("false", "No")]
                        .into_iter()
                        .map(|(v, l)| OptionView { value: v.into(), label: l.into(), checked: value == v })
                        .collect(),
                ),
                ItemKind::Text => ("text", Vec::new()),
                ItemKind::Display => ("display", Vec::new()),
            };
            QuestionView {
                field: format!("a:{}", i.link_id),
                text: i.text.clone(),
                kind,
                options,
                value,
                required: i.required,
            }
        })
        .collect()
}

/// Answers from a posted form: fields named `a:<linkId>`; blanks are unanswered.
/// Form fields by name.
type Fields = BTreeMap<String, String>;

fn posted_answers(body: &[u8]) -> Result<(Fields, Fields), UiError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|_| UiError::BadRequest("The form could not be read."))?;
    crate::input::check_form(&pairs)?;
    Ok(split_answers(pairs))
}

fn split_answers(pairs: Vec<(String, String)>) -> (Fields, Fields) {
    let mut answers = BTreeMap::new();
    let mut other = BTreeMap::new();
    for (k, v) in pairs {
        match k.strip_prefix("a:") {
            Some(id) if !v.trim().is_empty() => {
                answers.insert(id.to_owned(), v);
            }
            Some(_) => {}
            None => {
                other.insert(k, v);
            }
        }
    }
    (answers, other)
}

fn raw(answers: &BTreeMap<String, String>) -> BTreeMap<String, RawAnswer> {
    answers.iter().map(|(k, v)| (k.clone(), RawAnswer::Text(v.clone()))).collect()
}

// ---------- the measures tab ----------

pub struct ChartView {
    pub svg: String,
}

pub struct ResponseRow {
    pub when: String,
    pub form: String,
    pub score: String,
    pub band: String,
    pub mode: &'static str,
    pub flagged: bool,
}

pub struct AlertView {
    pub id: String,
    pub client_id: String,
    pub client: String,
    pub kind: String,
    pub detail: String,
    pub raised: String,
    pub safety: bool,
    pub open: bool,
    pub acknowledged: String,
}

pub struct DueView {
    pub client_id: String,
    pub client: String,
    pub form: String,
    pub form_url: String,
    pub due: String,
    pub reason: &'static str,
    pub overdue: bool,
}

pub struct FormChoice {
    pub url: String,
    pub title: String,
    pub self_report: bool,
}

#[derive(Template)]
#[template(path = "measures.html")]
struct MeasuresPage {
    chrome: Chrome,
    client_id: String,
    client: String,
    charts: Vec<ChartView>,
    responses: Vec<ResponseRow>,
    alerts: Vec<AlertView>,
    due: Vec<DueView>,
    forms: Vec<FormChoice>,
    review_href: Option<String>,
    errors: Errors,
    saved: Option<String>,
}

fn alert_view(a: &domain::measurement::Alert, client: &domain::client::Client) -> AlertView {
    AlertView {
        id: a.id.to_string(),
        client_id: client.id.to_string(),
        client: name(client),
        kind: a.kind.label(),
        detail: a.detail.clone(),
        raised: fmt_time(a.raised_at),
        safety: a.kind.is_safety(),
        open: a.acknowledgement.is_none(),
        acknowledged: a
            .acknowledgement
            .as_ref()
            .map(|k| {
                let what = match k.action {
                    domain::measurement::AlertAction::Action => "Action",
                    domain::measurement::AlertAction::SafetyPlan => "Safety plan",
                };
                format!("{what} ({}): {}", fmt_time(k.at), k.text)
            })
            .unwrap_or_default(),
    }
}

/// The chart of one series, with level changes marked.
pub fn chart(m: &Measures, s: &app::measurement::Series) -> ChartView {
    let max = s.max as f64;
    let bands = s
        .bands
        .iter()
        .enumerate()
        .map(|(n, (from, label))| charts::Band {
            from: *from as f64,
            to: s.bands.get(n + 1).map(|(f, _)| *f as f64).unwrap_or(max),
            label: (*label).to_owned(),
        })
        .collect();
    let first = s.points.first().map(|p| p.0);
    let markers = m
        .level_changes
        .iter()
        .filter(|e| first.is_some_and(|f| e.on.midnight().assume_utc() >= f - Duration::days(30)))
        .map(|e| charts::Marker {
            at: e.on.midnight().assume_utc(),
            label: e.to_level.as_ref().map(|l| format!("→ {}", l.as_str())).unwrap_or_default(),
        })
        .collect();
    let title = match s.instrument {
        Instrument::Bam => "BAM-R use (items 4–6)".to_owned(),
        Instrument::CheckIn => "Daily check-in: craving".to_owned(),
        i => format!("{} total", i.title()),
    };
    let c = charts::TrendChart {
        title,
        y_min: 0.0,
        y_max: max,
        bands,
        points: s.points.iter().map(|(at, v)| charts::Point { at: *at, value: *v as f64 }).collect(),
        markers,
        threshold: s.threshold.map(|t| (t as f64, format!("alert at {t}"))),
    };
    ChartView { svg: charts::render(&c) }
}

async fn measures_page(
    state: &AppState,
    auth: &Authenticated,
    client: ClientId,
    errors: Errors,
    saved: Option<String>,
) -> Result<MeasuresPage, UiError> {
    let m = state.app.measures(&auth.ctx, client).await?;
    let episodes = state.app.episodes(&auth.ctx, client).await.ok();
    let review_href = episodes
        .and_then(|v| v.into_iter().find(|e| e.episode.is_open()))
        .filter(|_| domain::access::grant(auth.user.role, domain::access::Permission::ReviewReadiness).is_some())
        .map(|e| format!("/clients/{client}/episodes/{}/review", e.episode.id));
    let charts = m.series.iter().map(|s| chart(&m, s)).collect();
    let titles: BTreeMap<String, String> =
        m.forms.iter().map(|f| (format!("{}|{}", f.form.url, f.form.version), f.form.title.clone())).collect();
    let responses = m
        .responses
        .iter()
        .rev()
        .map(|r| ResponseRow {
            when: fmt_time(r.authored_at),
            form: r
                .instrument
                .map(|i| i.title().to_owned())
                .or_else(|| titles.get(&format!("{}|{}", r.form_url, r.form_version)).cloned())
                .unwrap_or_else(|| r.form_url.clone()),
            score: if !r.complete {
                "Incomplete — not scored".into()
            } else {
                match (r.total, r.instrument) {
                    (Some(t), _) => t.to_string(),
                    (None, Some(_)) => {
                        r.subscores.iter().map(|(n, v)| format!("{n} {v}")).collect::<Vec<_>>().join(", ")
                    }
                    (None, None) => "Unscored".into(),
                }
            },
            band: r.band_label.clone().unwrap_or_default(),
            mode: match r.mode {
                domain::measurement::ResponseMode::Staff => "Staff",
                domain::measurement::ResponseMode::Client => "Client mode",
            },
            flagged: !r.flags.is_empty(),
        })
        .collect();
    let alerts = m.alerts.iter().map(|a| alert_view(a, &m.client)).collect();
    let due = m
        .due
        .iter()
        .map(|d| DueView {
            client_id: client.to_string(),
            client: name(&m.client),
            form: d.instrument.title().to_owned(),
            form_url: FormDefinition::builtin(d.instrument).url,
            due: fmt_time(d.due_at),
            reason: d.reason.label(),
            overdue: d.overdue,
        })
        .collect();
    let forms = m
        .forms
        .iter()
        .map(|f| FormChoice {
            url: f.form.url.clone(),
            title: if f.builtin { f.form.title.clone() } else { format!("{} (v{})", f.form.title, f.form.version) },
            self_report: f.form.instrument.is_none_or(|i| i.self_report()),
        })
        .collect();
    Ok(MeasuresPage {
        chrome: Chrome::for_user(auth, "/clients"),
        client_id: client.to_string(),
        client: name(&m.client),
        charts,
        responses,
        alerts,
        due,
        forms,
        review_href,
        errors,
        saved,
    })
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, UiError> {
    let client = parse(&id)?;
    let saved = q.saved.map(|s| match s.as_str() {
        "incomplete" => "Saved. Not every question was answered, so the form was not scored.".to_owned(),
        "alert" => "Saved. A safety alert was raised to the care team.".to_owned(),
        _ => "Saved and scored.".to_owned(),
    });
    ok(&measures_page(&state, &auth, client, Errors::default(), saved).await?)
}

// ---------- giving a form in the chart ----------

#[derive(Template)]
#[template(path = "form_fill.html")]
struct FillPage {
    chrome: Chrome,
    client_id: String,
    client: String,
    title: String,
    form_url: String,
    form_version: String,
    questions: Vec<QuestionView>,
    errors: Errors,
}

#[derive(Deserialize)]
pub struct FillQuery {
    #[serde(default)]
    form: String,
}

async fn find_form(state: &AppState, auth: &Authenticated, url: &str) -> Result<FormDefinition, UiError> {
    let url = match Instrument::parse(url) {
        Some(i) => FormDefinition::builtin(i).url,
        None => url.to_owned(),
    };
    let forms = state.app.forms(&auth.ctx).await?;
    forms
        .into_iter()
        .rev()
        .find(|f| f.form.url == url && f.status == app::ports::FormStatus::Active)
        .map(|f| f.form)
        .ok_or_else(|| UiError::App(app::AppError::invalid("form", "Choose a form")))
}

pub async fn fill_form(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    Query(q): Query<FillQuery>,
) -> Result<Response, UiError> {
    let client: ClientId = parse(&id)?;
    let m = state.app.measures(&auth.ctx, client).await?;
    let form = find_form(&state, &auth, &q.form).await?;
    ok(&FillPage {
        chrome: Chrome::for_user(&auth, "/clients"),
        client_id: client.to_string(),
        client: name(&m.client),
        title: form.title.clone(),
        form_url: form.url.clone(),
        form_version: form.version.clone(),
        questions: questions(&form, &BTreeMap::new()),
        errors: Errors::default(),
    })
}

pub async fn record(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let client: ClientId = parse(&id)?;
    let (typed, other) = split_answers(pairs);
    let url = other.get("form_url").cloned().unwrap_or_default();
    let version = other.get("form_version").cloned();
    let result = state.app.record_response(&auth.ctx, client, &url, version.as_deref(), &raw(&typed), None).await;
    match result {
        Ok(r) => {
            let saved = if !r.alerts.is_empty() {
                "alert"
            } else if r.response.complete {
                "scored"
            } else {
                "incomplete"
            };
            Ok(Redirect::to(&format!("/clients/{client}/measures?saved={saved}")).into_response())
        }
        Err(e) => {
            let errors = form_errors(e)?;
            let form = find_form(&state, &auth, &url).await?;
            let m = state.app.measures(&auth.ctx, client).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &FillPage {
                    chrome: Chrome::for_user(&auth, "/clients"),
                    client_id: client.to_string(),
                    client: name(&m.client),
                    title: form.title.clone(),
                    form_url: form.url.clone(),
                    form_version: form.version.clone(),
                    questions: questions(&form, &typed),
                    errors,
                },
            )
        }
    }
}

// ---------- client mode ----------

#[derive(Deserialize)]
pub struct HandFields {
    #[serde(default)]
    form: String,
}

/// Hands a form to the client: the staff session on this device ends, and the device can
/// then open only that form until it is submitted or the hand-off expires.
pub async fn start_client_mode(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<HandFields>,
) -> Result<Response, UiError> {
    let client: ClientId = parse(&id)?;
    let url = match Instrument::parse(&f.form) {
        Some(i) => FormDefinition::builtin(i).url,
        None => f.form.clone(),
    };
    match state.app.start_client_mode(&auth.ctx, client, &url).await {
        Ok((token, _)) => {
            state.app.logout(&auth).await?;
            let mut res = Redirect::to("/client-mode").into_response();
            clear_session_cookie(&mut res, &state);
            set_client_mode_cookie(&mut res, &state, &token, app::measurement::HANDOFF_MINUTES);
            Ok(res)
        }
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &measures_page(&state, &auth, client, errors, None).await?)
        }
    }
}

#[derive(Template)]
#[template(path = "client_mode.html")]
struct ClientModePage {
    title: String,
    questions: Vec<QuestionView>,
    csrf: String,
    errors: Errors,
    done: bool,
    expired: bool,
}

fn client_mode_token(state: &AppState, headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, client_mode_cookie_name(state.config.secure_cookies)).filter(|t| !t.is_empty())
}

fn closed_page(state: &AppState, done: bool) -> Result<Response, UiError> {
    let page = ClientModePage {
        title: String::new(),
        questions: Vec::new(),
        csrf: String::new(),
        errors: Errors::default(),
        done,
        expired: !done,
    };
    let mut res = render(if done { StatusCode::OK } else { StatusCode::UNAUTHORIZED }, &page)?;
    clear_client_mode_cookie(&mut res, state);
    Ok(res)
}

pub async fn client_mode(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, UiError> {
    let Some(token) = client_mode_token(&state, &headers) else {
        return closed_page(&state, false);
    };
    match state.app.handoff(&token).await {
        Ok(v) => ok(&ClientModePage {
            title: v.form.title.clone(),
            questions: questions(&v.form, &BTreeMap::new()),
            csrf: v.csrf_token,
            errors: Errors::default(),
            done: false,
            expired: false,
        }),
        Err(app::AppError::Unauthenticated) => closed_page(&state, false),
        Err(e) => Err(UiError::App(e)),
    }
}

pub async fn client_mode_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, UiError> {
    let Some(token) = client_mode_token(&state, &headers) else {
        return closed_page(&state, false);
    };
    let (typed, other) = posted_answers(&body)?;
    match state.app.handoff_csrf_ok(&token, other.get("csrf").map(String::as_str).unwrap_or("")).await {
        Ok(true) => {}
        Ok(false) => return Err(UiError::Csrf),
        Err(app::AppError::Unauthenticated) => return closed_page(&state, false),
        Err(e) => return Err(UiError::App(e)),
    }
    match state.app.submit_handoff(&token, &raw(&typed)).await {
        Ok(_) => closed_page(&state, true),
        Err(app::AppError::Unauthenticated) => closed_page(&state, false),
        Err(e) => {
            let errors = form_errors(e)?;
            let v = state.app.handoff(&token).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ClientModePage {
                    title: v.form.title.clone(),
                    questions: questions(&v.form, &typed),
                    csrf: v.csrf_token,
                    errors,
                    done: false,
                    expired: false,
                },
            )
        }
    }
}

// ---------- alerts ----------

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    chrome: Chrome,
    alerts: Vec<AlertView>,
    errors: Errors,
    failed: String,
}

async fn alerts_page(
    state: &AppState,
    auth: &Authenticated,
    errors: Errors,
    failed: String,
) -> Result<AlertsPage, UiError> {
    let alerts = state.app.open_alerts(&auth.ctx).await?;
    Ok(AlertsPage {
        chrome: Chrome::for_user(auth, "/alerts"),
        alerts: alerts.iter().map(|a| alert_view(&a.alert, &a.client)).collect(),
        errors,
        failed,
    })
}

pub async fn alerts(State(state): State<AppState>, Signed(auth): Signed) -> Result<Response, UiError> {
    ok(&alerts_page(&state, &auth, Errors::default(), String::new()).await?)
}

#[derive(Deserialize)]
pub struct AckFields {
    #[serde(default)]
    action: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    back: String,
}

pub async fn acknowledge(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<AckFields>,
) -> Result<Response, UiError> {
    let alert: AlertId = parse(&id)?;
    match state.app.acknowledge_alert(&auth.ctx, alert, &f.action, &f.text).await {
        Ok(a) => {
            let to = if f.back == "chart" { format!("/clients/{}/measures", a.client) } else { "/alerts".into() };
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &alerts_page(&state, &auth, errors, id).await?)
        }
    }
}

// ---------- dashboard work list ----------

pub struct ReviewDueView {
    pub client: String,
    pub href: String,
    pub level: String,
    pub due: String,
    pub overdue: bool,
}

pub struct WorklistView {
    pub alerts: Vec<AlertView>,
    pub forms_due: Vec<DueView>,
    pub reviews_due: Vec<ReviewDueView>,
}

pub fn worklist_view(w: &Worklist) -> WorklistView {
    WorklistView {
        alerts: w.alerts.iter().map(|a| alert_view(&a.alert, &a.client)).collect(),
        forms_due: w
            .forms_due
            .iter()
            .take(50)
            .map(|d| DueView {
                client_id: d.client.id.to_string(),
                client: name(&d.client),
                form: d.due.instrument.title().to_owned(),
                form_url: d.due.instrument.code().to_owned(),
                due: fmt_time(d.due.due_at),
                reason: d.due.reason.label(),
                overdue: d.due.overdue,
            })
            .collect(),
        reviews_due: w
            .reviews_due
            .iter()
            .map(|r| ReviewDueView {
                client: name(&r.client),
                href: format!("/clients/{}/episodes/{}/review", r.client.id, r.episode),
                level: r.level.as_str().to_owned(),
                due: r.next_review.to_string(),
                overdue: r.overdue,
            })
            .collect(),
    }
}

// ---------- readiness reviews ----------

pub struct DimensionView {
    pub n: usize,
    pub field: String,
    pub rationale_field: String,
    pub name: &'static str,
    pub rating: String,
    pub rationale: String,
}

pub struct EvidenceView {
    pub title: String,
    pub value: String,
    pub band: String,
    pub on: String,
    pub direction: &'static str,
}

pub struct PastReview {
    pub on: String,
    pub level: String,
    pub ratings: String,
    pub recommended: String,
    pub decision: String,
    pub agrees: bool,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    chrome: Chrome,
    client_id: String,
    client: String,
    action: String,
    level: String,
    level_name: String,
    placement_start: String,
    next_review: String,
    evidence: Vec<EvidenceView>,
    self_assessment: Option<EvidenceView>,
    open_alerts: usize,
    weekly_hours: Option<String>,
    dimensions: Vec<DimensionView>,
    levels: Vec<(String, String)>,
    sites: Vec<(String, String)>,
    beds: Vec<(String, String)>,
    f: ReviewFields,
    recommendation: Option<(String, Vec<String>, String)>,
    past: Vec<PastReview>,
    errors: Errors,
}

const DIMENSIONS: [&str; 6] = [
    "Intoxication and withdrawal",
    "Biomedical conditions",
    "Emotional, behavioural or cognitive conditions",
    "Readiness to change",
    "Relapse or continued-use potential",
    "Recovery environment",
];

#[derive(Deserialize, Default)]
pub struct ReviewFields {
    #[serde(default)]
    d1: String,
    #[serde(default)]
    d2: String,
    #[serde(default)]
    d3: String,
    #[serde(default)]
    d4: String,
    #[serde(default)]
    d5: String,
    #[serde(default)]
    d6: String,
    #[serde(default)]
    d1_rationale: String,
    #[serde(default)]
    d2_rationale: String,
    #[serde(default)]
    d3_rationale: String,
    #[serde(default)]
    d4_rationale: String,
    #[serde(default)]
    d5_rationale: String,
    #[serde(default)]
    d6_rationale: String,
    #[serde(default)]
    pub drug_screen: String,
    #[serde(default)]
    pub drug_screen_substances: String,
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub site: String,
    #[serde(default)]
    pub bed: String,
    #[serde(default)]
    pub on: String,
    #[serde(default)]
    pub planned_end: String,
    #[serde(default)]
    pub discharge_reason: String,
    #[serde(default)]
    pub disagreement_reason: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    preview: String,
}

impl ReviewFields {
    fn ratings(&self) -> [String; 6] {
        [&self.d1, &self.d2, &self.d3, &self.d4, &self.d5, &self.d6].map(|s| s.clone())
    }
    fn rationales(&self) -> [String; 6] {
        [
            &self.d1_rationale,
            &self.d2_rationale,
            &self.d3_rationale,
            &self.d4_rationale,
            &self.d5_rationale,
            &self.d6_rationale,
        ]
        .map(|s| s.clone())
    }
}

async fn review_page(
    state: &AppState,
    auth: &Authenticated,
    client: ClientId,
    episode: EpisodeId,
    f: ReviewFields,
    errors: Errors,
) -> Result<ReviewPage, UiError> {
    let c = state.app.review_context(&auth.ctx, client, episode).await?;
    let sites = state.app.sites(&auth.ctx).await?;
    let cat = state.app.catalogue();
    let ev = |e: &domain::review::EvidenceScore| EvidenceView {
        title: e.title.clone(),
        value: e.value.map(|v| v.to_string()).unwrap_or_else(|| "—".into()),
        band: e.band_label.clone(),
        on: e.on.to_string(),
        direction: match (e.previous, e.value) {
            (Some(p), Some(v)) if v < p => "down from before",
            (Some(p), Some(v)) if v > p => "up from before",
            (Some(_), Some(_)) => "same as before",
            _ => "",
        },
    };
    let ratings = f.ratings();
    let rationales = f.rationales();
    let dimensions = (0..6)
        .map(|n| DimensionView {
            n: n + 1,
            field: format!("d{}", n + 1),
            rationale_field: format!("d{}_rationale", n + 1),
            name: DIMENSIONS[n],
            rating: ratings[n].clone(),
            rationale: rationales[n].clone(),
        })
        .collect();
    let parsed: Option<[u8; 6]> = {
        let v: Vec<u8> = ratings.iter().filter_map(|r| r.trim().parse::<u8>().ok()).filter(|r| *r <= 4).collect();
        <[u8; 6]>::try_from(v).ok()
    };
    let recommendation = parsed.and_then(|r| state.app.recommend(r).ok()).map(|r| {
        let name = cat.get(&r.level).map(|l| l.name.clone()).unwrap_or_default();
        (format!("{} — {}", r.level.as_str(), name), r.reasons, r.rule_set_version)
    });
    let past = c
        .reviews
        .iter()
        .map(|r| PastReview {
            on: r.reviewed_on.to_string(),
            level: r.level.as_str().to_owned(),
            ratings: r.ratings.iter().map(|d| d.rating.to_string()).collect::<Vec<_>>().join(" "),
            recommended: r.recommended_level.as_str().to_owned(),
            decision: match &r.decision_level {
                Some(l) => format!("{} to {}", r.decision.label(), l.as_str()),
                None => r.decision.label().to_owned(),
            },
            agrees: r.agrees,
            reason: r.disagreement_reason.clone().unwrap_or_default(),
        })
        .collect();
    Ok(ReviewPage {
        chrome: Chrome::for_user(auth, "/clients"),
        client_id: client.to_string(),
        client: name(&c.client),
        action: format!("/clients/{client}/episodes/{episode}/review"),
        level: c.placement.level.as_str().to_owned(),
        level_name: cat.get(&c.placement.level).map(|l| l.name.clone()).unwrap_or_default(),
        placement_start: c.placement.start.to_string(),
        next_review: c.next_review.map(|d| d.to_string()).unwrap_or_default(),
        evidence: c.evidence.scores.iter().map(ev).collect(),
        self_assessment: c.evidence.self_assessment.as_ref().map(ev),
        open_alerts: c.evidence.open_alerts,
        weekly_hours: c.evidence.weekly_hours.clone(),
        dimensions,
        levels: state
            .app
            .level_codes()
            .into_iter()
            .map(|l| {
                let n = cat.get(&l).map(|x| x.name.clone()).unwrap_or_default();
                (l.as_str().to_owned(), format!("{} — {n}", l.as_str()))
            })
            .collect(),
        sites: sites.iter().map(|s| (s.site.id.to_string(), s.site.name.to_string())).collect(),
        beds: super::clients::placement_options(&state.app, &sites)
            .beds
            .into_iter()
            .map(|b| (b.value, b.label))
            .collect(),
        f,
        recommendation,
        past,
        errors,
    })
}

pub async fn review_form(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path((id, episode)): Path<(String, String)>,
) -> Result<Response, UiError> {
    let (client, episode) = (parse(&id)?, parse(&episode)?);
    ok(&review_page(&state, &auth, client, episode, ReviewFields::default(), Errors::default()).await?)
}

pub async fn review_submit(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path((id, episode)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<ReviewFields>,
) -> Result<Response, UiError> {
    let (client, episode): (ClientId, EpisodeId) = (parse(&id)?, parse(&episode)?);
    if !f.preview.is_empty() {
        return ok(&review_page(&state, &auth, client, episode, f, Errors::default()).await?);
    }
    let form = app::reviews::ReviewForm {
        ratings: f.ratings(),
        rationales: f.rationales(),
        drug_screen: f.drug_screen.clone(),
        drug_screen_substances: f.drug_screen_substances.clone(),
        decision: f.decision.clone(),
        transition: app::continuum::DecisionForm {
            kind: String::new(),
            on: f.on.clone(),
            level: f.level.clone(),
            site: f.site.clone(),
            bed: f.bed.clone(),
            planned_end: f.planned_end.clone(),
            discharge_reason: f.discharge_reason.clone(),
            reason: String::new(),
        },
        disagreement_reason: f.disagreement_reason.clone(),
        note: f.note.clone(),
    };
    match state.app.record_review(&auth.ctx, client, episode, &form).await {
        Ok(_) => Ok(Redirect::to(&format!("/clients/{client}/measures?saved=review")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &review_page(&state, &auth, client, episode, f, errors).await?)
        }
    }
}

// ---------- caseload ----------

pub struct CaseloadView {
    pub client_id: String,
    pub client: String,
    pub instrument: String,
    pub first: String,
    pub latest: String,
    pub trend: &'static str,
    pub trend_class: &'static str,
}

#[derive(Template)]
#[template(path = "caseload.html")]
struct CaseloadPage {
    chrome: Chrome,
    rows: Vec<CaseloadView>,
    improving: usize,
    unchanged: usize,
    worsening: usize,
}

pub async fn caseload(State(state): State<AppState>, Signed(auth): Signed) -> Result<Response, UiError> {
    use domain::measurement::Trend;
    let rows = state.app.caseload(&auth.ctx).await?;
    let count = |t: Trend| rows.iter().filter(|r| r.trend == t).count();
    let (improving, unchanged, worsening) = (count(Trend::Improving), count(Trend::Unchanged), count(Trend::Worsening));
    let rows = rows
        .iter()
        .map(|r| CaseloadView {
            client_id: r.client.id.to_string(),
            client: name(&r.client),
            instrument: r.instrument.title().to_owned(),
            first: format!("{} ({})", r.first.1, r.first.0),
            latest: format!("{} ({})", r.latest.1, r.latest.0),
            trend: r.trend.label(),
            trend_class: match r.trend {
                Trend::Improving => "good",
                Trend::Unchanged => "neutral",
                Trend::Worsening => "bad",
            },
        })
        .collect();
    ok(&CaseloadPage { chrome: Chrome::for_user(&auth, "/caseload"), rows, improving, unchanged, worsening })
}

// ---------- forms administration ----------

pub struct FormRow {
    pub id: String,
    pub title: String,
    pub url: String,
    pub version: String,
    pub scorer: String,
    pub builtin: bool,
    pub active: bool,
    pub items: usize,
}

#[derive(Template)]
#[template(path = "forms_admin.html")]
struct FormsPage {
    chrome: Chrome,
    rows: Vec<FormRow>,
    definition: String,
    errors: Errors,
    imported: bool,
}

async fn forms_page(
    state: &AppState,
    auth: &Authenticated,
    definition: String,
    errors: Errors,
    imported: bool,
) -> Result<FormsPage, UiError> {
    let forms = state.app.forms(&auth.ctx).await?;
    let rows = forms
        .into_iter()
        .map(|f| FormRow {
            id: f.id.map(|i| i.to_string()).unwrap_or_default(),
            title: f.form.title.clone(),
            url: f.form.url.clone(),
            version: f.form.version.clone(),
            scorer: f.form.instrument.map(|i| i.code().to_owned()).unwrap_or_else(|| "unscored".into()),
            builtin: f.builtin,
            active: f.status == app::ports::FormStatus::Active,
            items: f.form.items.len(),
        })
        .collect();
    Ok(FormsPage { chrome: Chrome::for_user(auth, "/admin/forms"), rows, definition, errors, imported })
}

#[derive(Deserialize)]
pub struct ImportedQuery {
    imported: Option<String>,
}

pub async fn forms(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Query(q): Query<ImportedQuery>,
) -> Result<Response, UiError> {
    state.app.require_permission(&auth.ctx, domain::access::Permission::ManageForms).await?;
    ok(&forms_page(&state, &auth, String::new(), Errors::default(), q.imported.is_some()).await?)
}

#[derive(Deserialize)]
pub struct ImportFields {
    #[serde(default)]
    definition: String,
}

pub async fn import(
    State(state): State<AppState>,
    Signed(auth): Signed,
    CsrfForm(f): CsrfForm<ImportFields>,
) -> Result<Response, UiError> {
    let result = match fhir::questionnaire::parse_questionnaire(&f.definition) {
        Ok(q) => {
            let import = app::measurement::ImportForm {
                form: q.form,
                loinc_codes: q.loinc_codes,
                definition: f.definition.clone(),
            };
            state.app.import_form(&auth.ctx, import).await.map(|_| ())
        }
        Err(e) => Err(app::AppError::invalid("definition", e.to_string())),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/admin/forms?imported=1").into_response()),
        Err(app::AppError::Conflict(m)) => render(
            StatusCode::CONFLICT,
            &forms_page(&state, &auth, f.definition, Errors(vec![app::FieldError::new("definition", m)]), false)
                .await?,
        ),
        Err(e) => {
            let errors = form_errors(e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &forms_page(&state, &auth, f.definition, errors, false).await?)
        }
    }
}

pub async fn retire(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<super::login::Empty>,
) -> Result<Response, UiError> {
    let id: FormId = parse(&id)?;
    state.app.retire_form(&auth.ctx, id).await?;
    Ok(Redirect::to("/admin/forms").into_response())
}

// ---------- agreement report ----------

#[derive(Template)]
#[template(path = "review_report.html")]
struct ReportPage {
    chrome: Chrome,
    from: String,
    to: String,
    reviews: usize,
    disagreements: usize,
    rate: String,
    by_reviewer: Vec<(String, usize, usize, String)>,
    by_level: Vec<(String, usize, usize, String)>,
    by_rule_set: Vec<(String, usize, usize, String)>,
    errors: Errors,
}

#[derive(Deserialize)]
pub struct PeriodQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub async fn report(
    State(state): State<AppState>,
    Signed(auth): Signed,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, UiError> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    let today = state.app.now().date();
    let mut errors = Errors::default();
    let from =
        if q.from.is_empty() { Some(today - Duration::days(90)) } else { time::Date::parse(q.from.trim(), f).ok() };
    let to = if q.to.is_empty() { Some(today) } else { time::Date::parse(q.to.trim(), f).ok() };
    if from.is_none() {
        errors.0.push(app::FieldError::new("from", "From must be a real date, like 2026-11-27"));
    }
    if to.is_none() {
        errors.0.push(app::FieldError::new("to", "To must be a real date, like 2026-11-27"));
    }
    // A refused period shows the form again with its errors and no figures.
    let refused = |q: PeriodQuery, errors: Errors| ReportPage {
        chrome: Chrome::for_user(&auth, "/reports/reviews"),
        from: q.from,
        to: q.to,
        reviews: 0,
        disagreements: 0,
        rate: String::new(),
        by_reviewer: Vec::new(),
        by_level: Vec::new(),
        by_rule_set: Vec::new(),
        errors,
    };
    let (Some(from), Some(to)) = (from, to) else {
        state.app.require_permission(&auth.ctx, domain::access::Permission::ViewReports).await?;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &refused(q, errors));
    };
    let r = match state.app.agreement_report(&auth.ctx, from, to).await {
        Ok(r) => r,
        Err(e) => return render(StatusCode::UNPROCESSABLE_ENTITY, &refused(q, form_errors(e)?)),
    };
    let rows = |v: &[(String, usize, usize)]| {
        v.iter().map(|(k, n, d)| (k.clone(), *n, *d, app::reviews::AgreementReport::rate(*n, *d))).collect()
    };
    ok(&ReportPage {
        chrome: Chrome::for_user(&auth, "/reports/reviews"),
        from: from.to_string(),
        to: to.to_string(),
        reviews: r.reviews,
        disagreements: r.disagreements,
        rate: app::reviews::AgreementReport::rate(r.reviews, r.disagreements),
        by_reviewer: rows(&r.by_reviewer),
        by_level: rows(&r.by_level),
        by_rule_set: rows(&r.by_rule_set),
        errors,
    })
}
