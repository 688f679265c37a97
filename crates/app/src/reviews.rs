//! Readiness reviews at regular intervals: ratings with rationale, evidence, the engine's
//! recommendation, and the decision, applied to the episode in the same transaction.

use std::collections::BTreeMap;

use domain::access::Permission;
use domain::audit::{AuditAction, AuditEvent, Outcome};
use domain::client::Client;
use domain::episode::{Episode, Placement};
use domain::ids::{ClientId, EpisodeId, ReviewId, UserId};
use domain::instruments::Instrument;
use domain::level::LevelCode;
use domain::measurement::{FormResponse, next_review, review_days};
use domain::recommend::{Ratings, Recommendation, RuleSet, recommend};
use domain::review::{Decision, DimensionRating, DrugScreen, Evidence, EvidenceScore, ReadinessReview, agrees};
use domain::text::bounded_line;
use time::{Date, OffsetDateTime};

use crate::continuum::DecisionForm;
use crate::error::{AppError, Problems};
use crate::service::{App, Ctx};

/// The dimension field names, for errors next to the right field.
const DIMENSION_FIELDS: [&str; 6] = ["d1", "d2", "d3", "d4", "d5", "d6"];
const RATIONALE_FIELDS: [&str; 6] =
    ["d1_rationale", "d2_rationale", "d3_rationale", "d4_rationale", "d5_rationale", "d6_rationale"];

/// A review as typed.
#[derive(Clone, Debug, Default)]
pub struct ReviewForm {
    /// Six ratings, as typed ("0"–"4").
    pub ratings: [String; 6],
    pub rationales: [String; 6],
    pub drug_screen: String,
    pub drug_screen_substances: String,
    /// continue, extend, step_down, step_up, discharge
    pub decision: String,
    /// Where the decision moves the client, and the rest of a continuum decision.
    pub transition: DecisionForm,
    pub disagreement_reason: String,
    pub note: String,
}

/// What the review page shows before anything is typed.
#[derive(Clone, Debug)]
pub struct ReviewContext {
    pub client: Client,
    pub episode: Episode,
    pub placement: Placement,
    pub next_review: Option<Date>,
    pub evidence: Evidence,
    pub reviews: Vec<ReadinessReview>,
    pub rule_set_version: String,
}

/// Agreement between clinicians and the engine.
#[derive(Clone, Debug)]
pub struct AgreementReport {
    pub from: Date,
    pub to: Date,
    pub reviews: usize,
    pub disagreements: usize,
    /// (reviewer name, reviews, disagreements)
    pub by_reviewer: Vec<(String, usize, usize)>,
    /// (recommended level, reviews, disagreements)
    pub by_level: Vec<(String, usize, usize)>,
    /// (rule-set version, reviews, disagreements)
    pub by_rule_set: Vec<(String, usize, usize)>,
}

impl AgreementReport {
    pub fn rate(n: usize, d: usize) -> String {
        if n == 0 { "—".into() } else { format!("{:.0} %", 100.0 * d as f64 / n as f64) }
    }
}

fn parse_ratings(p: &mut Problems, form: &ReviewForm) -> Option<(Ratings, Vec<DimensionRating>)> {
    let mut values = [0u8; 6];
    let mut out = Vec::new();
    let mut ok = true;
    for n in 0..6 {
        match form.ratings[n].trim().parse::<u8>() {
            Ok(v) if v <= 4 => values[n] = v,
            _ => {
                p.add(DIMENSION_FIELDS[n], format!("Rate dimension {} from 0 to 4", n + 1));
                ok = false;
            }
        }
        match bounded_line(&form.rationales[n], 1000) {
            Ok(text) => out.push(DimensionRating { rating: values[n], rationale: text }),
            Err(_) => {
                p.add(RATIONALE_FIELDS[n], format!("Give a short rationale for dimension {}", n + 1));
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    for (n, r) in out.iter_mut().enumerate() {
        r.rating = values[n];
    }
    Ratings::new(values).ok().map(|r| (r, out))
}

fn evidence_from(responses: &[FormResponse], since: OffsetDateTime, open_alerts: usize) -> Evidence {
    let mut scores = Vec::new();
    let mut self_assessment = None;
    for i in Instrument::ALL {
        let mine: Vec<&FormResponse> =
            responses.iter().filter(|r| r.instrument == Some(i) && r.complete && r.authored_at >= since).collect();
        let Some(last) = mine.last() else { continue };
        let e = EvidenceScore {
            instrument: i.code().to_owned(),
            title: i.title().to_owned(),
            value: last.trend_value(),
            band_label: last.band_label.clone().unwrap_or_default(),
            on: last.authored_at.date(),
            previous: mine.iter().rev().nth(1).and_then(|r| r.trend_value()),
        };
        if i == Instrument::SelfAssessment {
            self_assessment = Some(e);
        } else {
            scores.push(e);
        }
    }
    Evidence { scores, self_assessment, open_alerts, drug_screen: None, weekly_hours: None }
}

impl App {
    fn rule_set(&self) -> Result<RuleSet, AppError> {
        RuleSet::builtin(&self.catalogue.id)
            .map_err(|_| AppError::Internal("no recommendation rules for this catalogue"))
    }

    /// The engine's recommendation for a set of ratings (for a live preview while rating).
    pub fn recommend(&self, ratings: [u8; 6]) -> Result<Recommendation, AppError> {
        let r =
            Ratings::new(ratings).map_err(|e| AppError::invalid(DIMENSION_FIELDS[e.dimension - 1], e.to_string()))?;
        recommend(&r, &self.rule_set()?, &self.catalogue)
            .map_err(|_| AppError::Internal("recommendation rules invalid"))
    }

    /// What the reviewer needs: the open placement, its next review, and the evidence.
    pub async fn review_context(
        &self,
        ctx: &Ctx,
        client: ClientId,
        episode: EpisodeId,
    ) -> Result<ReviewContext, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ReviewReadiness, client)).await?;
        let mut tx = self.store.read().await?;
        let who = tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let ep = self.episode_of_in(tx.as_mut(), ctx, &scope, client, episode, Permission::ReviewReadiness).await?;
        let placement = ep.current().cloned().ok_or_else(|| {
            AppError::invalid("episode", "This stay is closed; a discharged placement is not reviewed")
        })?;
        let responses = tx.responses_of(client).await?;
        let open_alerts = tx.alerts(&scope, Some(client), true).await?.len();
        let reviews = tx.reviews_of(client).await?;
        drop(tx);
        let last = reviews.iter().filter(|r| r.placement == placement.id).map(|r| r.reviewed_on).max();
        let next = review_days(&self.catalogue, placement.level.as_str(), &self.config.review_days)
            .map(|d| next_review(placement.start, last, d));
        let since = ep.admitted_on.midnight().assume_utc();
        let mut evidence = evidence_from(&responses, since, open_alerts);
        evidence.weekly_hours = self.last_week_dose(ctx, client).await?;
        self.record_reads_one(ctx, client, "review").await?;
        Ok(ReviewContext {
            client: who,
            episode: ep,
            placement,
            next_review: next,
            evidence,
            reviews,
            rule_set_version: self.rule_set()?.version,
        })
    }

    /// Last full week's attended clinical hours against the level's minimum, for clients in
    /// the IOP program (`None` for anyone without attendance records that week).
    async fn last_week_dose(&self, ctx: &Ctx, client: ClientId) -> Result<Option<String>, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ReadClient, client)).await?;
        let mut tx = self.store.read().await?;
        self.last_week_dose_in(tx.as_mut(), &scope, client).await
    }

    async fn last_week_dose_in(
        &self,
        tx: &mut dyn crate::ports::Tx,
        scope: &domain::access::ClientScope,
        client: ClientId,
    ) -> Result<Option<String>, AppError> {
        let Some(c) = tx.client(scope, client).await? else { return Ok(None) };
        let Some(last_week) = domain::iop::compliance::week_of(self.now().date()).previous() else { return Ok(None) };
        let entries = tx.program_days(&[client], last_week.monday(), last_week.sunday()).await?;
        if !entries.iter().any(|e| e.attendance.is_some()) {
            return Ok(None);
        }
        let row = self.compliance_for(tx, &[c], last_week).await?;
        Ok(row.first().map(|r| {
            let w = &r.week;
            format!(
                "{}: {}:{:02} of {}:{:02} h, {} H0015 day(s) — {}",
                last_week,
                w.clinical_minutes / 60,
                w.clinical_minutes % 60,
                w.required_minutes / 60,
                w.required_minutes % 60,
                w.h0015.days,
                w.status.label()
            )
        }))
    }

    async fn record_reads_one(&self, ctx: &Ctx, client: ClientId, detail: &str) -> Result<(), AppError> {
        let event = AuditEvent {
            client: Some(client),
            detail: Some(detail.to_owned()),
            ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
        };
        self.store.record(vec![event]).await?;
        Ok(())
    }

    /// Records a readiness review. A decision that changes the stay (extend, step down or up,
    /// discharge) is applied as a continuum decision in the same transaction, so either both
    /// are saved or neither is.
    pub async fn record_review(
        &self,
        ctx: &Ctx,
        client: ClientId,
        episode: EpisodeId,
        form: &ReviewForm,
    ) -> Result<ReadinessReview, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ReviewReadiness, client)).await?;
        let mut p = Problems::default();
        let ratings = parse_ratings(&mut p, form);
        let decision = Decision::parse(form.decision.trim());
        if decision.is_none() {
            p.add("decision", "Choose a decision");
        }
        let drug_screen = match form.drug_screen.trim() {
            "" | "not_done" => None,
            r @ ("negative" | "positive") => {
                let substances = form.drug_screen_substances.trim().to_owned();
                if r == "positive" && substances.is_empty() {
                    p.add("drug_screen_substances", "Say what the screen was positive for");
                }
                if substances.chars().count() > 300 {
                    p.add("drug_screen_substances", "Substances must be at most 300 characters");
                }
                Some(DrugScreen { result: r.to_owned(), substances })
            }
            _ => {
                p.add("drug_screen", "Choose not done, negative or positive");
                None
            }
        };
        let note = form.note.trim().to_owned();
        if note.chars().count() > 4000 {
            p.add("note", "The note must be at most 4000 characters");
        }
        p.into_result()?;
        let (Some((ratings, dimension_ratings)), Some(decision)) = (ratings, decision) else {
            return Err(AppError::Internal("validated review incomplete"));
        };
        let rules = self.rule_set()?;
        let rec = recommend(&ratings, &rules, &self.catalogue)
            .map_err(|_| AppError::Internal("recommendation rules invalid"))?;

        let mut tx = self.begin().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let ep = self.episode_of_in(tx.as_mut(), ctx, &scope, client, episode, Permission::ReviewReadiness).await?;
        let placement = ep.current().cloned().ok_or_else(|| {
            AppError::invalid("episode", "This stay is closed; a discharged placement is not reviewed")
        })?;
        let to_level = if decision.moves() {
            let code = form.transition.level.trim();
            let level = self
                .catalogue
                .level(code)
                .map_err(|_| AppError::invalid("level", "Choose the level the client moves to"))?;
            Some(level.code.clone())
        } else {
            None
        };
        let agree = agrees(decision, &placement.level, to_level.as_ref(), &rec.level, &self.catalogue);
        let disagreement_reason = if agree {
            None
        } else {
            match bounded_line(&form.disagreement_reason, 2000) {
                Ok(r) => Some(r),
                Err(_) => {
                    return Err(AppError::invalid(
                        "disagreement_reason",
                        format!("The decision differs from the recommended level {}; say why", rec.level.as_str()),
                    ));
                }
            }
        };
        let responses = tx.responses_of(client).await?;
        let open_alerts = tx.alerts(&scope, Some(client), true).await?.len();
        let mut evidence = evidence_from(&responses, ep.admitted_on.midnight().assume_utc(), open_alerts);
        evidence.drug_screen = drug_screen;
        evidence.weekly_hours = self.last_week_dose_in(tx.as_mut(), &scope, client).await?;

        if decision != Decision::Continue {
            // Changing the stay is a continuum decision and needs that permission too.
            let decide_scope =
                self.authorize_in(tx.as_mut(), ctx, ctx.actor.scope_for(Permission::DecideTransition, client)).await?;
            let mut t = form.transition.clone();
            t.kind = match decision {
                Decision::Extend => "extend",
                Decision::StepDown => "step_down",
                Decision::StepUp => "step_up",
                Decision::Discharge => "discharge",
                Decision::Continue => "",
            }
            .to_owned();
            if t.reason.trim().is_empty() {
                t.reason = format!("Readiness review: {}", decision.label().to_lowercase());
            }
            self.decide_in(ctx, tx.as_mut(), &decide_scope, client, episode, &t).await?;
        }
        let sites = tx.sites().await?;
        let today = sites
            .iter()
            .find(|s| s.site.id == placement.site)
            .map(|s| self.today_in(s.site.time_zone.as_str()))
            .unwrap_or(self.now().date());
        let review = ReadinessReview {
            id: ReviewId::from_uuid(self.ids.new_id()),
            client,
            episode,
            placement: placement.id,
            level: placement.level.clone(),
            reviewed_on: today,
            reviewed_at: self.now(),
            reviewed_by: ctx.actor.user_id,
            ratings: dimension_ratings,
            evidence,
            recommended_level: rec.level.clone(),
            reasons: rec.reasons,
            rule_set_version: rec.rule_set_version,
            decision,
            decision_level: to_level,
            agrees: agree,
            disagreement_reason,
            note,
        };
        tx.insert_review(&review).await?;
        let audit = AuditEvent {
            client: Some(client),
            subject: Some(format!("review:{}", review.id)),
            detail: Some(format!("{}{}", decision.code(), if agree { "" } else { " (disagrees)" })),
            ..self.ctx_event(ctx, AuditAction::ReviewRecorded, Outcome::Success)
        };
        tx.append_audit(vec![audit]).await?;
        tx.commit().await?;
        Ok(review)
    }

    /// How often clinicians disagree with the engine, overall and by reviewer, recommended
    /// level and rule-set version. Counts only: no client appears.
    pub async fn agreement_report(&self, ctx: &Ctx, from: Date, to: Date) -> Result<AgreementReport, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ViewReports)).await?;
        if to < from {
            return Err(AppError::invalid("to", "The end of the period must not be before its start"));
        }
        let mut tx = self.store.read().await?;
        let end = to.next_day().unwrap_or(to).midnight().assume_utc();
        let reviews = tx.reviews_between(from.midnight().assume_utc(), end).await?;
        let users = tx.list_users().await?;
        drop(tx);
        let name = |id: UserId| {
            users.iter().find(|u| u.id == id).map(|u| u.display_name.as_str().to_owned()).unwrap_or_default()
        };
        let tally = |key: &dyn Fn(&ReadinessReview) -> String| {
            let mut m: BTreeMap<String, (usize, usize)> = BTreeMap::new();
            for r in &reviews {
                let e = m.entry(key(r)).or_default();
                e.0 += 1;
                e.1 += usize::from(!r.agrees);
            }
            m.into_iter().map(|(k, (n, d))| (k, n, d)).collect::<Vec<_>>()
        };
        let report = AgreementReport {
            from,
            to,
            reviews: reviews.len(),
            disagreements: reviews.iter().filter(|r| !r.agrees).count(),
            by_reviewer: tally(&|r| name(r.reviewed_by)),
            by_level: tally(&|r| r.recommended_level.as_str().to_owned()),
            by_rule_set: tally(&|r| r.rule_set_version.clone()),
        };
        let audit = AuditEvent {
            detail: Some("review agreement".into()),
            ..self.ctx_event(ctx, AuditAction::ReportViewed, Outcome::Success)
        };
        self.store.record(vec![audit]).await?;
        Ok(report)
    }

    /// The level codes of the catalogue, most intensive last (for forms).
    pub fn level_codes(&self) -> Vec<LevelCode> {
        let mut v: Vec<_> = self.catalogue.levels.iter().collect();
        v.sort_by_key(|l| l.rank);
        v.into_iter().map(|l| l.code.clone()).collect()
    }
}
