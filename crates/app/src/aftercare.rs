//! Aftercare plans and follow-up contacts after discharge.

use domain::access::Permission;
use domain::aftercare::{AftercarePlan, FollowUpOutcome, SubstanceUse, follow_up_dates, notes};
use domain::audit::{AuditAction, AuditEvent, Outcome};
use domain::client::Client;
use domain::episode::Episode;
use domain::ids::{ClientId, EpisodeId, FollowUpId};

use crate::error::{AppError, Problems};
use crate::ports::FollowUp;
use crate::service::{App, Ctx};

#[derive(Clone, Debug, Default)]
pub struct PlanForm {
    pub referrals: String,
    pub sober_living: String,
    pub meetings: String,
    pub medication: String,
    pub appointments: String,
}

#[derive(Clone, Debug, Default)]
pub struct OutcomeForm {
    /// "yes" or "no"
    pub reached: String,
    pub substance_use: String,
    /// "yes", "no" or empty
    pub working_or_in_school: String,
    pub readmitted_elsewhere: String,
    pub notes: String,
}

#[derive(Clone, Debug)]
pub struct Aftercare {
    pub plan: Option<AftercarePlan>,
    pub follow_ups: Vec<FollowUp>,
}

fn yes_no(p: &mut Problems, field: &'static str, label: &str, raw: &str) -> Option<Option<bool>> {
    match raw.trim() {
        "" => Some(None),
        "yes" => Some(Some(true)),
        "no" => Some(Some(false)),
        _ => {
            p.add(field, format!("{label}: choose yes or no"));
            None
        }
    }
}

impl App {
    /// The follow-ups a discharge schedules, to be stored in the discharge's transaction.
    pub(crate) fn follow_ups_for(&self, episode: &Episode) -> Vec<FollowUp> {
        let Some(discharge) = &episode.discharge else {
            return Vec::new();
        };
        follow_up_dates(discharge.on)
            .into_iter()
            .map(|(day, due_on)| FollowUp {
                id: FollowUpId::from_uuid(self.ids.new_id()),
                episode: episode.id,
                client: episode.client,
                day,
                due_on,
                outcome: None,
                recorded_at: None,
                recorded_by: None,
            })
            .collect()
    }

    pub async fn aftercare(&self, ctx: &Ctx, client: ClientId, episode: EpisodeId) -> Result<Aftercare, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ReadClinical, client)).await?;
        let mut tx = self.store.read().await?;
        self.episode_of_in(tx.as_mut(), ctx, &scope, client, episode, Permission::ReadClinical).await?;
        let plan = tx.aftercare_plan(episode).await?;
        let follow_ups = tx.follow_ups_of(episode).await?;
        drop(tx);
        let event = AuditEvent {
            client: Some(client),
            detail: Some("aftercare".into()),
            ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
        };
        self.store.record(vec![event]).await?;
        Ok(Aftercare { plan, follow_ups })
    }

    pub async fn save_aftercare_plan(
        &self,
        ctx: &Ctx,
        client: ClientId,
        episode: EpisodeId,
        form: &PlanForm,
    ) -> Result<AftercarePlan, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::PlanAftercare, client)).await?;
        let mut p = Problems::default();
        let plan = AftercarePlan {
            referrals: p.check("referrals", "Referrals", AftercarePlan::field(&form.referrals)).flatten(),
            sober_living: p.check("sober_living", "Sober living", AftercarePlan::field(&form.sober_living)).flatten(),
            meetings: p.check("meetings", "Meetings", AftercarePlan::field(&form.meetings)).flatten(),
            medication: p
                .check("medication", "Medication continuity", AftercarePlan::field(&form.medication))
                .flatten(),
            appointments: p.check("appointments", "Appointments", AftercarePlan::field(&form.appointments)).flatten(),
        };
        p.into_result()?;
        let mut tx = self.begin().await?;
        self.episode_of_in(tx.as_mut(), ctx, &scope, client, episode, Permission::PlanAftercare).await?;
        tx.save_aftercare_plan(episode, &plan, ctx.actor.user_id, self.now()).await?;
        let event = AuditEvent {
            client: Some(client),
            subject: Some(format!("episode:{episode}")),
            ..self.ctx_event(ctx, AuditAction::AftercareSaved, Outcome::Success)
        };
        tx.append_audit(vec![event]).await?;
        tx.commit().await?;
        Ok(plan)
    }

    /// Follow-ups due by today that nobody has answered, with whose they are.
    pub async fn follow_ups_due(&self, ctx: &Ctx) -> Result<Vec<(FollowUp, Client)>, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope(Permission::PlanAftercare)).await?;
        let mut tx = self.store.read().await?;
        let due = tx.follow_ups_due(&scope, self.now().date(), 200).await?;
        // One query for all their clients, still inside the actor's reach.
        let wanted: std::collections::BTreeSet<ClientId> =
            due.iter().map(|f| f.client).filter(|c| scope.contains(*c)).collect();
        let clients = tx.clients(&domain::access::ClientScope::Only(wanted), 500).await?;
        drop(tx);
        let out: Vec<(FollowUp, Client)> = due
            .into_iter()
            .filter_map(|f| clients.iter().find(|c| c.id == f.client).cloned().map(|c| (f, c)))
            .collect();
        let events = out
            .iter()
            .map(|(_, c)| AuditEvent {
                client: Some(c.id),
                detail: Some("follow_ups_due".into()),
                ..self.ctx_event(ctx, AuditAction::ClientSearched, Outcome::Success)
            })
            .collect();
        self.store.record(events).await?;
        Ok(out)
    }

    /// Records what a follow-up call found. Each follow-up is answered once.
    pub async fn record_follow_up(
        &self,
        ctx: &Ctx,
        id: FollowUpId,
        form: &OutcomeForm,
    ) -> Result<FollowUpOutcome, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope(Permission::PlanAftercare)).await?;
        let mut p = Problems::default();
        let reached = match form.reached.trim() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => {
                p.add("reached", "Say whether you reached them");
                None
            }
        };
        let substance_use = if form.substance_use.trim().is_empty() {
            Some(None)
        } else {
            match SubstanceUse::parse(form.substance_use.trim()) {
                Some(s) => Some(Some(s)),
                None => {
                    p.add("substance_use", "Choose abstinent, using or did not say");
                    None
                }
            }
        };
        let working = yes_no(&mut p, "working_or_in_school", "Working or in school", &form.working_or_in_school);
        let readmitted = yes_no(&mut p, "readmitted_elsewhere", "Readmitted elsewhere", &form.readmitted_elsewhere);
        let note = p.check("notes", "Notes", notes(&form.notes));
        p.into_result()?;
        let (Some(reached), Some(substance_use), Some(working), Some(readmitted), Some(note)) =
            (reached, substance_use, working, readmitted, note)
        else {
            return Err(AppError::Internal("validated outcome incomplete"));
        };
        let outcome = FollowUpOutcome {
            reached,
            substance_use,
            working_or_in_school: working,
            readmitted_elsewhere: readmitted,
            notes: note,
        }
        .check()
        .map_err(|e| {
            let field = match e {
                domain::aftercare::OutcomeError::SubstanceUseMissing => "substance_use",
                domain::aftercare::OutcomeError::AnswersWithoutContact => "reached",
            };
            AppError::invalid(field, format!("Outcome: {e}"))
        })?;
        let mut tx = self.begin().await?;
        let f = match tx.follow_up(&scope, id).await? {
            Some(f) => f,
            None => {
                drop(tx);
                return Err(self
                    .denied(ctx, domain::access::AccessDenied { permission: Permission::PlanAftercare, client: None })
                    .await);
            }
        };
        if f.due_on > self.now().date() + time::Duration::days(7) {
            return Err(AppError::invalid("reached", format!("This follow-up is not due until {}", f.due_on)));
        }
        if !tx.record_follow_up(id, &outcome, ctx.actor.user_id, self.now()).await? {
            return Err(AppError::Conflict("this follow-up was already recorded"));
        }
        let event = AuditEvent {
            client: Some(f.client),
            subject: Some(format!("follow_up:{id}")),
            detail: Some(format!("day_{}", f.day)),
            ..self.ctx_event(ctx, AuditAction::FollowUpRecorded, Outcome::Success)
        };
        tx.append_audit(vec![event]).await?;
        tx.commit().await?;
        Ok(outcome)
    }
}
