//! Measurement-based care: the forms a center uses, giving them (in the chart or in client
//! mode), scoring, the alerts scores raise, what is due, and how each client is doing.

use std::collections::{BTreeMap, BTreeSet};

use domain::access::{ClientScope, Permission};
use domain::audit::{AuditAction, AuditEvent, Outcome};
use domain::client::Client;
use domain::forms::{FormDefinition, FormError, RawAnswer};
use domain::ids::{AlertId, ClientId, FormId, ResponseId};
use domain::instruments::{Answers, Instrument, SafetyFlag, ScoringContext, items, score};
use domain::level::LevelCode;
use domain::measurement::{
    Acknowledgement, Alert, AlertAction, AlertKind, Due, FormResponse, PlacementWindow, ResponseMode, Trend, due,
    next_review, review_days, trend,
};
use domain::text::bounded_line;
use time::{Date, Duration, OffsetDateTime};

use crate::error::AppError;
use crate::ports::{CensusRow, EpisodeEvent, FormStatus, Handoff, StoredForm, Tx};
use crate::security::{random_token, token_hash};
use crate::service::{App, Ctx};

/// How long a form handed to a client stays open.
pub const HANDOFF_MINUTES: i64 = 30;
/// Oldest a form's "answered at" time may be when entered later from paper.
const BACKDATE_DAYS: i64 = 366;

/// A form as offered in the lists.
#[derive(Clone, Debug)]
pub struct FormSummary {
    pub form: FormDefinition,
    pub id: Option<FormId>,
    pub builtin: bool,
    pub status: FormStatus,
}

/// A questionnaire a center imports, already read from its FHIR text by the caller.
#[derive(Clone, Debug)]
pub struct ImportForm {
    pub form: FormDefinition,
    /// LOINC codes the questionnaire names; a built-in panel code binds its scorer.
    pub loinc_codes: Vec<String>,
    /// The FHIR text as received, kept verbatim.
    pub definition: String,
}

/// What the import did.
#[derive(Clone, Debug)]
pub struct Imported {
    pub stored: StoredForm,
    pub retired_versions: u64,
}

/// A response with the alerts it raised.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub response: FormResponse,
    pub alerts: Vec<Alert>,
    /// Required questions left unanswered (the form was saved but not scored).
    pub missing: Vec<String>,
}

/// An alert with the client's name, for those who may read the chart.
#[derive(Clone, Debug)]
pub struct AlertRow {
    pub alert: Alert,
    pub client: Client,
}

/// A form due for a client.
#[derive(Clone, Debug)]
pub struct DueRow {
    pub client: Client,
    pub level: LevelCode,
    pub due: Due,
}

/// A placement whose readiness review is due.
#[derive(Clone, Debug)]
pub struct ReviewDueRow {
    pub client: Client,
    pub episode: domain::ids::EpisodeId,
    pub level: LevelCode,
    pub next_review: Date,
    pub overdue: bool,
}

/// The clinician's work list: open alerts, forms due, reviews due.
#[derive(Clone, Debug, Default)]
pub struct Worklist {
    pub alerts: Vec<AlertRow>,
    pub forms_due: Vec<DueRow>,
    pub reviews_due: Vec<ReviewDueRow>,
}

/// One instrument's scores over time for a chart.
#[derive(Clone, Debug)]
pub struct Series {
    pub instrument: Instrument,
    pub points: Vec<(OffsetDateTime, i64)>,
    pub bands: Vec<(i64, &'static str)>,
    pub max: i64,
    /// The withdrawal alert threshold, for CIWA-Ar and COWS.
    pub threshold: Option<i64>,
}

/// Everything the measures tab of a chart shows.
#[derive(Clone, Debug)]
pub struct Measures {
    pub client: Client,
    pub responses: Vec<FormResponse>,
    pub alerts: Vec<Alert>,
    pub series: Vec<Series>,
    /// Level changes, for marking charts.
    pub level_changes: Vec<EpisodeEvent>,
    pub due: Vec<Due>,
    pub forms: Vec<FormSummary>,
}

/// One client on the caseload view.
#[derive(Clone, Debug)]
pub struct CaseloadRow {
    pub client: Client,
    pub instrument: Instrument,
    pub first: (Date, i64),
    pub latest: (Date, i64),
    pub trend: Trend,
}

/// What a form handed to a client shows.
#[derive(Clone, Debug)]
pub struct HandoffView {
    pub form: FormDefinition,
    pub csrf_token: String,
    pub expires_at: OffsetDateTime,
}

fn form_error(e: &FormError) -> AppError {
    let text = e.to_string();
    let mut s = text.get(..1).map(str::to_uppercase).unwrap_or_default();
    s.push_str(text.get(1..).unwrap_or(""));
    AppError::invalid("answers", s)
}

/// Safety flags of a partly answered form, which is not scored: safety is never optional, so
/// what the client did answer still raises its alert. Unanswered items count at their lowest
/// value, so only answers actually given can raise a flag.
fn partial_safety_flags(instrument: Instrument, answers: &Answers, ctx: &ScoringContext) -> Vec<SafetyFlag> {
    let mut filled = answers.clone();
    for item in items(instrument) {
        filled.entry(item.id.to_owned()).or_insert_with(|| item.values.iter().copied().min().unwrap_or(0));
    }
    score(instrument, &filled, ctx).map(|s| s.flags).unwrap_or_default()
}

impl App {
    /// Refuses (and audits the refusal) unless the actor holds `permission`; for pages that
    /// show nothing of a client but belong to one role.
    pub async fn require_permission(&self, ctx: &Ctx, permission: Permission) -> Result<(), AppError> {
        self.authorize(ctx, ctx.actor.require(permission)).await
    }

    /// Every form the center can give: the built-ins, then imported versions.
    pub async fn forms(&self, ctx: &Ctx) -> Result<Vec<FormSummary>, AppError> {
        if !ctx.actor.role.is_staff() {
            return Err(self
                .denied(ctx, domain::access::AccessDenied { permission: Permission::ReadClient, client: None })
                .await);
        }
        let mut tx = self.store.read().await?;
        let imported = tx.imported_forms().await?;
        Ok(self.form_list(imported))
    }

    fn form_list(&self, imported: Vec<StoredForm>) -> Vec<FormSummary> {
        let mut out: Vec<FormSummary> = Instrument::ALL
            .into_iter()
            .map(|i| FormSummary {
                form: FormDefinition::builtin(i),
                id: None,
                builtin: true,
                status: FormStatus::Active,
            })
            .collect();
        out.extend(imported.into_iter().map(|s| FormSummary {
            form: s.form,
            id: Some(s.id),
            builtin: false,
            status: s.status,
        }));
        out
    }

    /// Finds a form version: a built-in or an imported one.
    async fn resolve_form(
        &self,
        tx: &mut dyn Tx,
        url: &str,
        version: Option<&str>,
    ) -> Result<(FormDefinition, FormStatus), AppError> {
        if let Some(i) = Instrument::ALL.into_iter().find(|i| FormDefinition::builtin(*i).url == url) {
            let f = FormDefinition::builtin(i);
            if version.is_some_and(|v| v != f.version) {
                return Err(AppError::invalid("version", "That version of the form does not exist"));
            }
            return Ok((f, FormStatus::Active));
        }
        let imported = tx.imported_forms().await?;
        let candidates: Vec<&StoredForm> = imported.iter().filter(|s| s.form.url == url).collect();
        let chosen = match version {
            Some(v) => candidates.into_iter().find(|s| s.form.version == v),
            None => candidates.into_iter().rev().find(|s| s.status == FormStatus::Active),
        };
        let s = chosen.ok_or_else(|| AppError::invalid("form", "No such form or version"))?;
        Ok((s.form.clone(), s.status))
    }

    /// Imports a questionnaire. A LOINC panel code of a built-in instrument binds its scorer
    /// (the questions must score exactly like the built-in's); any other form is unscored.
    /// The new version retires older active versions of the same form.
    pub async fn import_form(&self, ctx: &Ctx, import: ImportForm) -> Result<Imported, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageForms)).await?;
        let mut form = import.form;
        if form.is_builtin() {
            return Err(AppError::invalid("definition", "That URL belongs to Stepdown's built-in forms; use your own"));
        }
        if form.url.len() > 500 || form.version.len() > 100 || form.title.chars().count() > 300 {
            return Err(AppError::invalid("definition", "The URL, version or title is too long"));
        }
        let bound = Instrument::ALL.into_iter().find(|i| {
            let (panel, _) = i.loinc();
            panel.is_some_and(|p| import.loinc_codes.iter().any(|c| c == p))
        });
        if let Some(i) = bound {
            form.bind(i).map_err(|e| AppError::invalid("definition", e.to_string()))?;
        }
        let mut tx = self.begin().await?;
        if tx.imported_forms().await?.iter().any(|s| s.form.url == form.url && s.form.version == form.version) {
            return Err(AppError::Conflict("this version of the questionnaire is already imported"));
        }
        let stored = StoredForm {
            id: FormId::from_uuid(self.ids.new_id()),
            form,
            status: FormStatus::Active,
            definition: import.definition,
            imported_by: ctx.actor.user_id,
            imported_at: self.now(),
        };
        let retired_versions = tx.retire_forms(&stored.form.url, Some(&stored.form.version)).await?;
        tx.insert_form(&stored).await?;
        let audit = AuditEvent {
            subject: Some(format!("questionnaire:{}", stored.id)),
            detail: Some(stored.form.instrument.map_or("unscored", |i| i.code()).to_owned()),
            ..self.ctx_event(ctx, AuditAction::FormImported, Outcome::Success)
        };
        tx.append_audit(vec![audit]).await?;
        tx.commit().await?;
        Ok(Imported { stored, retired_versions })
    }

    /// Retires an imported form version: it can no longer be given; past answers stay.
    pub async fn retire_form(&self, ctx: &Ctx, id: FormId) -> Result<(), AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageForms)).await?;
        let mut tx = self.begin().await?;
        tx.imported_forms().await?.into_iter().find(|s| s.id == id).ok_or(AppError::NotFound)?;
        if !tx.retire_form(id).await? {
            return Err(AppError::Conflict("this version is already retired"));
        }
        let audit = AuditEvent {
            subject: Some(format!("questionnaire:{id}")),
            detail: Some("retired".into()),
            ..self.ctx_event(ctx, AuditAction::FormImported, Outcome::Success)
        };
        tx.append_audit(vec![audit]).await?;
        tx.commit().await?;
        Ok(())
    }

    fn scoring_context(&self, record: &domain::client::ClientRecord) -> ScoringContext {
        ScoringContext { sex: record.demographics.sex, ciwa: self.config.ciwa }
    }

    /// Records answers to a form for a client given by a staff member.
    pub async fn record_response(
        &self,
        ctx: &Ctx,
        client: ClientId,
        form_url: &str,
        form_version: Option<&str>,
        answers: &BTreeMap<String, RawAnswer>,
        authored_at: Option<OffsetDateTime>,
    ) -> Result<Recorded, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::AdministerForms, client)).await?;
        let mut tx = self.begin().await?;
        let recorded = self
            .record_in(
                tx.as_mut(),
                &scope,
                ctx,
                client,
                (form_url, form_version),
                answers,
                authored_at,
                ResponseMode::Staff,
            )
            .await?;
        tx.commit().await?;
        Ok(recorded)
    }

    #[allow(clippy::too_many_arguments)] // one call site per mode; a struct would only rename them
    async fn record_in(
        &self,
        tx: &mut dyn Tx,
        scope: &ClientScope,
        ctx: &Ctx,
        client: ClientId,
        (form_url, form_version): (&str, Option<&str>),
        answers: &BTreeMap<String, RawAnswer>,
        authored_at: Option<OffsetDateTime>,
        mode: ResponseMode,
    ) -> Result<Recorded, AppError> {
        let now = self.now();
        let authored_at = authored_at.unwrap_or(now);
        if authored_at > now + Duration::minutes(5) {
            return Err(AppError::invalid("authored", "The time answered cannot be in the future"));
        }
        if authored_at < now - Duration::days(BACKDATE_DAYS) {
            return Err(AppError::invalid("authored", "The time answered cannot be more than a year ago"));
        }
        let record = tx.client_record(scope, client).await?.ok_or(AppError::NotFound)?;
        let (form, status) = self.resolve_form(tx, form_url, form_version).await?;
        if status == FormStatus::Retired {
            return Err(AppError::invalid("version", "This version of the form is retired; use the current one"));
        }
        if mode == ResponseMode::Client && form.instrument.is_some_and(|i| !i.self_report()) {
            return Err(AppError::invalid("form", "A clinician rates this scale; it cannot be handed to the client"));
        }
        let checked = form.check(answers).map_err(|e| form_error(&e))?;
        if checked.is_empty() {
            return Err(AppError::invalid("answers", "Answer at least one question"));
        }
        let missing = form.missing(&checked);
        let complete = missing.is_empty();
        let score = match (complete, form.instrument) {
            (true, Some(i)) => Some(
                score(i, &form.scoring_answers(&checked), &self.scoring_context(&record))
                    .map_err(|e| AppError::invalid("answers", e.to_string()))?,
            ),
            _ => None,
        };
        let flags = match (&score, form.instrument) {
            (Some(s), _) => s.flags.clone(),
            (None, Some(i)) => partial_safety_flags(i, &form.scoring_answers(&checked), &self.scoring_context(&record)),
            (None, None) => Vec::new(),
        };
        // The stay and level the client was in when they answered (forms entered later from
        // paper belong to the placement of their own date).
        let episodes = tx.episodes_of(client).await?;
        let on = authored_at.date();
        let open = episodes.iter().find(|e| {
            e.admitted_on <= on && e.discharge.as_ref().is_none_or(|d| on < d.on || (on == d.on && e.is_open()))
        });
        let open = open.or_else(|| episodes.iter().find(|e| e.is_open() && on >= e.admitted_on));
        let placement = open.and_then(|e| {
            e.placements.iter().rev().find(|p| p.start <= on && p.end.is_none_or(|end| on < end)).or(e.current())
        });
        let response = FormResponse {
            id: ResponseId::from_uuid(self.ids.new_id()),
            client,
            episode: open.map(|e| e.id),
            placement: placement.map(|p| p.id),
            form_url: form.url.clone(),
            form_version: form.version.clone(),
            instrument: form.instrument,
            answers: checked,
            complete,
            total: score.as_ref().and_then(|s| s.total),
            band: score.as_ref().map(|s| s.band.to_owned()),
            band_label: score.as_ref().map(|s| s.band_label.to_owned()),
            subscores: score
                .as_ref()
                .map(|s| s.subscores.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect())
                .unwrap_or_default(),
            flags,
            mode,
            recorded_by: ctx.actor.user_id,
            authored_at,
        };
        let mut alerts: Vec<Alert> = response
            .flags
            .iter()
            .map(|f| Alert {
                id: AlertId::from_uuid(self.ids.new_id()),
                client,
                response: Some(response.id),
                kind: AlertKind::Safety(*f),
                detail: f.label().to_owned(),
                raised_at: now,
                acknowledgement: None,
            })
            .collect();
        if let (Some(i), Some(total)) = (response.instrument, response.total)
            && let Some(threshold) = self.config.withdrawal_alerts.threshold(i)
        {
            // The previous score of the same scale in this stay decides whether this one crosses.
            let previous = tx
                .responses_of(client)
                .await?
                .into_iter()
                .filter(|r| r.instrument == Some(i) && r.complete && r.episode == response.episode)
                .filter(|r| r.authored_at <= authored_at)
                .max_by_key(|r| r.authored_at)
                .and_then(|r| r.total);
            if self.config.withdrawal_alerts.crossed(i, previous, total) {
                alerts.push(Alert {
                    id: AlertId::from_uuid(self.ids.new_id()),
                    client,
                    response: Some(response.id),
                    kind: AlertKind::Withdrawal(i),
                    detail: format!("{} {total} (alert from {threshold})", i.title()),
                    raised_at: now,
                    acknowledgement: None,
                });
            }
        }
        tx.insert_response(&response).await?;
        let mut audit = vec![AuditEvent {
            client: Some(client),
            subject: Some(format!("response:{}", response.id)),
            detail: Some(format!(
                "{}{}",
                form.instrument.map_or("unscored", |i| i.code()),
                if mode == ResponseMode::Client { " (client mode)" } else { "" }
            )),
            ..self.ctx_event(ctx, AuditAction::ResponseRecorded, Outcome::Success)
        }];
        for a in &alerts {
            tx.insert_alert(a).await?;
            audit.push(AuditEvent {
                client: Some(client),
                subject: Some(format!("alert:{}", a.id)),
                detail: Some(a.kind.code()),
                ..self.ctx_event(ctx, AuditAction::AlertRaised, Outcome::Success)
            });
        }
        tx.append_audit(audit).await?;
        Ok(Recorded { response, alerts, missing })
    }

    /// Acknowledges an alert with the action taken or the safety plan made. Never silent:
    /// the text is required, and an alert is acknowledged once.
    pub async fn acknowledge_alert(&self, ctx: &Ctx, id: AlertId, action: &str, text: &str) -> Result<Alert, AppError> {
        let mut tx = self.begin().await?;
        // Read unscoped to learn the client, then authorize against that client.
        let mut alert = tx.alert(id).await?.ok_or(AppError::NotFound)?;
        drop(tx);
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::AcknowledgeAlert, alert.client)).await?;
        let mut p = crate::error::Problems::default();
        let action = AlertAction::parse(action.trim());
        if action.is_none() {
            p.add("action", "Say whether you took an action or made a safety plan");
        }
        let text = p.check("text", "What was done", bounded_line(text, 4000));
        p.into_result()?;
        let (Some(action), Some(text)) = (action, text) else {
            return Err(AppError::Internal("validated acknowledgement incomplete"));
        };
        let mut tx = self.begin().await?;
        tx.client(&scope, alert.client).await?.ok_or(AppError::NotFound)?;
        let ack = Acknowledgement { by: ctx.actor.user_id, at: self.now(), action, text };
        if !tx.acknowledge_alert(id, &ack).await? {
            return Err(AppError::Conflict("this alert was already acknowledged"));
        }
        let audit = AuditEvent {
            client: Some(alert.client),
            subject: Some(format!("alert:{id}")),
            detail: Some(action.code().to_owned()),
            ..self.ctx_event(ctx, AuditAction::AlertAcknowledged, Outcome::Success)
        };
        tx.append_audit(vec![audit]).await?;
        tx.commit().await?;
        alert.acknowledgement = Some(ack);
        Ok(alert)
    }

    /// How many open alerts the actor's care teams have (for the navigation badge; no names).
    pub async fn open_alert_count(&self, ctx: &Ctx) -> Result<usize, AppError> {
        let Ok(scope) = ctx.actor.scope(Permission::AcknowledgeAlert) else {
            return Ok(0);
        };
        let mut tx = self.store.read().await?;
        Ok(tx.alerts(&scope, None, true).await?.len())
    }

    /// Open alerts on the actor's care teams, with the client's name: each named client is
    /// an audited read. An actor who may not acknowledge alerts gets none.
    pub async fn open_alerts(&self, ctx: &Ctx) -> Result<Vec<AlertRow>, AppError> {
        let Ok(scope) = ctx.actor.scope(Permission::AcknowledgeAlert) else {
            return Ok(Vec::new());
        };
        let mut tx = self.store.read().await?;
        let alerts = tx.alerts(&scope, None, true).await?;
        let mut clients: BTreeMap<ClientId, Client> = BTreeMap::new();
        for a in &alerts {
            if !clients.contains_key(&a.client)
                && let Some(c) = tx.client(&scope, a.client).await?
            {
                clients.insert(c.id, c);
            }
        }
        drop(tx);
        let rows: Vec<AlertRow> = alerts
            .into_iter()
            .filter_map(|alert| clients.get(&alert.client).cloned().map(|client| AlertRow { alert, client }))
            .collect();
        self.record_reads(ctx, &clients.keys().copied().collect(), "alerts").await?;
        Ok(rows)
    }

    /// The work list for the dashboard: open alerts, forms due and readiness reviews due,
    /// for the clients the actor may read. Each client named is an audited read.
    pub async fn worklist(&self, ctx: &Ctx) -> Result<Worklist, AppError> {
        let Ok(scope) = ctx.actor.scope(Permission::ReadClinical) else {
            return Ok(Worklist::default());
        };
        let mut tx = self.store.read().await?;
        let rows = tx.census(&scope).await?;
        let sites = tx.sites().await?;
        let alerts = match ctx.actor.scope(Permission::AcknowledgeAlert) {
            Ok(s) => tx.alerts(&s, None, true).await?,
            Err(_) => Vec::new(),
        };
        let clients: Vec<ClientId> = rows.iter().map(|r| r.client.id).collect();
        let earliest = rows.iter().map(|r| r.placement.start).min().unwrap_or(self.now().date());
        let since = earliest.midnight().assume_utc() - Duration::days(1);
        let responses = tx.responses_of_clients(&clients, since).await?;
        let placements: Vec<_> = rows.iter().map(|r| r.placement.id).collect();
        let last_reviews = tx.last_reviews(&placements).await?;
        let mut alert_clients: Vec<Client> = Vec::new();
        for a in &alerts {
            if !rows.iter().any(|r| r.client.id == a.client)
                && !alert_clients.iter().any(|c| c.id == a.client)
                && let Some(c) = tx.client(&scope, a.client).await?
            {
                alert_clients.push(c);
            }
        }
        drop(tx);
        let now = self.now();
        let mut list = Worklist::default();
        for a in alerts {
            let client = rows.iter().map(|r| &r.client).chain(alert_clients.iter()).find(|c| c.id == a.client).cloned();
            if let Some(client) = client {
                list.alerts.push(AlertRow { alert: a, client });
            }
        }
        for r in &rows {
            let tz = sites.iter().find(|s| s.site.id == r.placement.site).map(|s| s.site.time_zone.as_str().to_owned());
            let today = tz.as_deref().map(|z| self.today_in(z)).unwrap_or(now.date());
            for d in self.due_for(r, &responses, now) {
                list.forms_due.push(DueRow { client: r.client.clone(), level: r.placement.level.clone(), due: d });
            }
            if let Some(days) = review_days(&self.catalogue, r.placement.level.as_str(), &self.config.review_days) {
                let next = next_review(r.placement.start, last_reviews.get(&r.placement.id).copied(), days);
                if next <= today {
                    list.reviews_due.push(ReviewDueRow {
                        client: r.client.clone(),
                        episode: r.episode,
                        level: r.placement.level.clone(),
                        next_review: next,
                        overdue: next < today,
                    });
                }
            }
        }
        list.forms_due.sort_by_key(|d| (!d.due.overdue, d.due.due_at));
        list.reviews_due.sort_by_key(|r| r.next_review);
        let named: BTreeSet<ClientId> = list
            .alerts
            .iter()
            .map(|a| a.client.id)
            .chain(list.forms_due.iter().map(|d| d.client.id))
            .chain(list.reviews_due.iter().map(|r| r.client.id))
            .collect();
        self.record_reads(ctx, &named, "worklist").await?;
        Ok(list)
    }

    async fn record_reads(&self, ctx: &Ctx, clients: &BTreeSet<ClientId>, detail: &str) -> Result<(), AppError> {
        if clients.is_empty() {
            return Ok(());
        }
        let events = clients
            .iter()
            .map(|c| AuditEvent {
                client: Some(*c),
                detail: Some(detail.to_owned()),
                ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
            })
            .collect();
        self.store.record(events).await?;
        Ok(())
    }

    fn due_for(&self, row: &CensusRow, responses: &[FormResponse], now: OffsetDateTime) -> Vec<Due> {
        let Some(level) = self.catalogue.get(&row.placement.level) else {
            return Vec::new();
        };
        let rules = self.config.schedule.rules_for(level);
        let mut completed: BTreeMap<Instrument, Vec<OffsetDateTime>> = BTreeMap::new();
        for r in responses.iter().filter(|r| r.client == row.client.id && r.placement == Some(row.placement.id)) {
            if let (Some(i), true) = (r.instrument, r.complete) {
                completed.entry(i).or_default().push(r.authored_at);
            }
        }
        let window = PlacementWindow {
            start: row.placement.start.midnight().assume_utc(),
            planned_end: row.placement.planned_end.map(|d| d.midnight().assume_utc()),
        };
        due(&rules, &window, &completed, now)
    }

    /// The measures tab of a chart: every response, alerts, charts and what is due.
    pub async fn measures(&self, ctx: &Ctx, client: ClientId) -> Result<Measures, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ReadClinical, client)).await?;
        let mut tx = self.store.read().await?;
        let who = tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let responses = tx.responses_of(client).await?;
        let alerts = tx.alerts(&scope, Some(client), false).await?;
        let episodes = tx.episodes_of(client).await?;
        let mut level_changes = Vec::new();
        for e in &episodes {
            level_changes.extend(tx.episode_events(e.id).await?.into_iter().filter(|ev| ev.to_level.is_some()));
        }
        let imported = tx.imported_forms().await?;
        let sex = tx.client_record(&scope, client).await?.and_then(|r| r.demographics.sex);
        drop(tx);
        level_changes.sort_by_key(|e| e.on);
        let ctx_score = ScoringContext { sex, ciwa: self.config.ciwa };
        let mut series = Vec::new();
        for i in Instrument::ALL {
            let points: Vec<(OffsetDateTime, i64)> = responses
                .iter()
                .filter(|r| r.instrument == Some(i))
                .filter_map(|r| r.trend_value().map(|v| (r.authored_at, v)))
                .collect();
            if !points.is_empty() && i != Instrument::CssrsScreener {
                series.push(Series {
                    instrument: i,
                    points,
                    bands: i.chart_bands(&ctx_score),
                    max: i.max_value(),
                    threshold: self.config.withdrawal_alerts.threshold(i),
                });
            }
        }
        let due = match episodes.iter().find(|e| e.is_open()).and_then(|e| e.current().map(|p| (e, p.clone()))) {
            Some((e, placement)) => {
                let row = CensusRow { client: who.clone(), episode: e.id, admitted_on: e.admitted_on, placement };
                self.due_for(&row, &responses, self.now())
            }
            None => Vec::new(),
        };
        self.record_reads(ctx, &BTreeSet::from([client]), "measures").await?;
        Ok(Measures {
            client: who,
            responses,
            alerts,
            series,
            level_changes,
            due,
            forms: self.form_list(imported).into_iter().filter(|f| f.status == FormStatus::Active).collect(),
        })
    }

    /// One response with its form, for reading back (and the FHIR view).
    pub async fn response(
        &self,
        ctx: &Ctx,
        client: ClientId,
        id: ResponseId,
    ) -> Result<(FormResponse, FormDefinition), AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ReadClinical, client)).await?;
        let mut tx = self.store.read().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let r = match tx.response(id).await? {
            Some(r) if r.client == client => r,
            Some(r) => {
                return Err(self
                    .hidden_denied_in(
                        tx.as_mut(),
                        ctx,
                        crate::service::other_client(Permission::ReadClinical, r.client),
                    )
                    .await);
            }
            None => return Err(AppError::NotFound),
        };
        let (form, _) = self.resolve_form(tx.as_mut(), &r.form_url, Some(&r.form_version)).await?;
        drop(tx);
        self.record_reads(ctx, &BTreeSet::from([client]), "response").await?;
        Ok((r, form))
    }

    /// Who on the actor's caseload is improving and who is not: first and latest score of
    /// each instrument with a reliable-change rule, over the current stay.
    pub async fn caseload(&self, ctx: &Ctx) -> Result<Vec<CaseloadRow>, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope(Permission::ReadClinical)).await?;
        let mut tx = self.store.read().await?;
        let rows = tx.census(&scope).await?;
        let clients: Vec<ClientId> = rows.iter().map(|r| r.client.id).collect();
        let earliest = rows.iter().map(|r| r.admitted_on).min().unwrap_or(self.now().date());
        let responses = tx.responses_of_clients(&clients, earliest.midnight().assume_utc()).await?;
        drop(tx);
        let mut out = Vec::new();
        for r in &rows {
            let since = r.admitted_on.midnight().assume_utc();
            for i in Instrument::ALL.into_iter().filter(|i| i.reliable_change().is_some()) {
                let points: Vec<(OffsetDateTime, i64)> = responses
                    .iter()
                    .filter(|x| x.client == r.client.id && x.instrument == Some(i) && x.authored_at >= since)
                    .filter_map(|x| x.trend_value().map(|v| (x.authored_at, v)))
                    .collect();
                if let (Some(first), Some(latest)) = (points.first(), points.last())
                    && points.len() >= 2
                    && let Some(t) = trend(i, first.1, latest.1)
                {
                    out.push(CaseloadRow {
                        client: r.client.clone(),
                        instrument: i,
                        first: (first.0.date(), first.1),
                        latest: (latest.0.date(), latest.1),
                        trend: t,
                    });
                }
            }
        }
        // Those getting worse first, then no change, then improving.
        out.sort_by_key(|c| {
            (
                match c.trend {
                    Trend::Worsening => 0,
                    Trend::Unchanged => 1,
                    Trend::Improving => 2,
                },
                c.client.family_name.as_str().to_owned(),
            )
        });
        let named: BTreeSet<ClientId> = out.iter().map(|c| c.client.id).collect();
        self.record_reads(ctx, &named, "caseload").await?;
        Ok(out)
    }

    /// Hands a form to the client: returns a one-time token that opens only that form, for
    /// `HANDOFF_MINUTES`. The caller ends the staff session on that device.
    pub async fn start_client_mode(
        &self,
        ctx: &Ctx,
        client: ClientId,
        form_url: &str,
    ) -> Result<(String, Handoff), AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::AdministerForms, client)).await?;
        let mut tx = self.begin().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let (form, status) = self.resolve_form(tx.as_mut(), form_url, None).await?;
        if status == FormStatus::Retired {
            return Err(AppError::invalid("form", "This form is retired"));
        }
        if form.instrument.is_some_and(|i| !i.self_report()) {
            return Err(AppError::invalid("form", "A clinician rates this scale; it cannot be handed to the client"));
        }
        let token = random_token();
        let now = self.now();
        let handoff = Handoff {
            id: self.ids.new_id(),
            token_hash: token_hash(&token),
            csrf_token: random_token(),
            client,
            form_url: form.url.clone(),
            form_version: form.version.clone(),
            created_by: ctx.actor.user_id,
            created_at: now,
            expires_at: now + Duration::minutes(HANDOFF_MINUTES),
            used_at: None,
        };
        tx.insert_handoff(&handoff).await?;
        let audit = AuditEvent {
            client: Some(client),
            subject: Some(format!("handoff:{}", handoff.id)),
            detail: form.instrument.map(|i| i.code().to_owned()),
            ..self.ctx_event(ctx, AuditAction::ClientModeStarted, Outcome::Success)
        };
        tx.append_audit(vec![audit]).await?;
        tx.commit().await?;
        Ok((token, handoff))
    }

    async fn live_handoff(&self, tx: &mut dyn Tx, token: &str) -> Result<Handoff, AppError> {
        let h = tx.handoff_by_token(&token_hash(token)).await?.ok_or(AppError::Unauthenticated)?;
        if h.used_at.is_some() || h.expires_at <= self.now() {
            return Err(AppError::Unauthenticated);
        }
        Ok(h)
    }

    /// The form a hand-off token opens (nothing else: no name, no chart).
    pub async fn handoff(&self, token: &str) -> Result<HandoffView, AppError> {
        let mut tx = self.store.read().await?;
        let h = self.live_handoff(tx.as_mut(), token).await?;
        let (form, _) = self.resolve_form(tx.as_mut(), &h.form_url, Some(&h.form_version)).await?;
        Ok(HandoffView { form, csrf_token: h.csrf_token, expires_at: h.expires_at })
    }

    /// The client's answers from client mode. The token is used up once this succeeds.
    pub async fn submit_handoff(
        &self,
        token: &str,
        answers: &BTreeMap<String, RawAnswer>,
    ) -> Result<Recorded, AppError> {
        let mut tx = self.begin().await?;
        let h = self.live_handoff(tx.as_mut(), token).await?;
        let staff = tx.user_by_id(h.created_by).await?.ok_or(AppError::Unauthenticated)?;
        // Acts as the staff member who handed the tablet over, under their current rights.
        let care_team = tx.care_team_clients(staff.id).await?;
        let actor = domain::Actor {
            user_id: staff.id,
            role: staff.role,
            session_id: None,
            care_team,
            purpose: domain::Purpose::Treatment,
        };
        let ctx = Ctx { actor, source: None };
        let scope =
            ctx.actor.scope_for(Permission::AdministerForms, h.client).map_err(|_| AppError::Unauthenticated)?;
        let recorded = self
            .record_in(
                tx.as_mut(),
                &scope,
                &ctx,
                h.client,
                (&h.form_url, Some(&h.form_version)),
                answers,
                None,
                ResponseMode::Client,
            )
            .await?;
        if !tx.use_handoff(h.id, self.now()).await? {
            return Err(AppError::Unauthenticated);
        }
        tx.commit().await?;
        Ok(recorded)
    }

    /// Checks the CSRF token of a client-mode form post.
    pub async fn handoff_csrf_ok(&self, token: &str, csrf: &str) -> Result<bool, AppError> {
        let view = self.handoff(token).await?;
        Ok(crate::security::constant_time_eq(&view.csrf_token, csrf))
    }
}
