//! The helpline: logging inquiries, the pipeline board, duplicate detection, follow-up tasks,
//! and converting an inquiry into an admitted client without re-typing anything.

use domain::access::{ClientScope, Permission};
use domain::audit::{AuditAction, AuditEvent, Outcome};
use domain::client::{ClientRecord, TeamRole};
use domain::episode::Episode;
use domain::ids::{ClientId, InquiryId, TaskId};
use domain::inquiry::{Inquiry, PreScreen, Stage, Task, Urgency};
use domain::search::{MATCH_THRESHOLD, phone_digits, similarity, trigrams};
use domain::text::bounded_line;
use std::collections::BTreeSet;
use time::{Date, Duration};

use crate::clients::NewClientForm;
use crate::continuum::AdmitForm;
use crate::error::{AppError, Problems};
use crate::ports::ClientQuery;
use crate::service::{App, Ctx};

#[derive(Clone, Debug, Default)]
pub struct InquiryForm {
    pub caller_name: String,
    pub caller_relationship: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub phone: String,
    pub substances: String,
    pub urgency: String,
    pub insurance: String,
    pub withdrawal_risk: bool,
    pub self_harm_thoughts: bool,
    pub medical_conditions: bool,
    pub prior_treatment: bool,
    pub heard_about: String,
    pub notes: String,
}

pub const RELATIONSHIPS: [&str; 7] =
    ["self", "parent", "spouse or partner", "other family", "friend", "professional", "other"];

/// Someone already known who may be the person the inquiry is about.
#[derive(Clone, Debug)]
pub enum PossibleMatch {
    Client(ClientRecord),
    Inquiry(Inquiry),
}

#[derive(Clone, Debug)]
pub struct InquiryView {
    pub inquiry: Inquiry,
    pub tasks: Vec<Task>,
    pub matches: Vec<PossibleMatch>,
}

fn opt(p: &mut Problems, field: &'static str, label: &str, raw: &str, max: usize) -> Option<Option<String>> {
    if raw.trim().is_empty() { Some(None) } else { p.check(field, label, bounded_line(raw, max)).map(Some) }
}

fn parse_day(raw: &str) -> Result<Date, &'static str> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim(), f).map_err(|_| "must be a real date, like 2026-11-27")
}

impl App {
    fn inquiry_event(&self, ctx: &Ctx, action: AuditAction, id: InquiryId, detail: &str) -> AuditEvent {
        AuditEvent {
            subject: Some(format!("inquiry:{id}")),
            detail: Some(detail.to_owned()),
            ..self.ctx_event(ctx, action, Outcome::Success)
        }
    }

    fn parse_inquiry(&self, ctx: &Ctx, f: &InquiryForm) -> Result<Inquiry, AppError> {
        let mut p = Problems::default();
        let caller_name = p.check("caller_name", "Caller's name", bounded_line(&f.caller_name, 200));
        let relationship = RELATIONSHIPS.iter().find(|r| **r == f.caller_relationship.trim()).map(|r| (*r).to_owned());
        if relationship.is_none() {
            p.add("caller_relationship", "Choose the caller's relationship to the person");
        }
        let given = p.check("given_name", "First name", bounded_line(&f.given_name, 200));
        let family = p.check("family_name", "Last name", bounded_line(&f.family_name, 200));
        let dob = if f.date_of_birth.trim().is_empty() {
            Some(None)
        } else {
            match parse_day(&f.date_of_birth) {
                Ok(d) => p
                    .check("date_of_birth", "Date of birth", domain::client::check_birth_date(d, self.now().date()))
                    .map(Some),
                Err(m) => {
                    p.add("date_of_birth", format!("Date of birth {m}"));
                    None
                }
            }
        };
        let phone = opt(&mut p, "phone", "Phone", &f.phone, 40);
        if let Some(Some(ph)) = &phone
            && !(7..=15).contains(&phone_digits(ph).len())
        {
            p.add("phone", "Phone must have 7 to 15 digits");
        }
        let substances = opt(&mut p, "substances", "Substances", &f.substances, 500);
        let urgency = Urgency::parse(f.urgency.trim());
        if urgency.is_none() {
            p.add("urgency", "Choose how urgent it is");
        }
        let insurance = opt(&mut p, "insurance", "Insurance", &f.insurance, 200);
        let heard = opt(&mut p, "heard_about", "How they heard of us", &f.heard_about, 200);
        let notes = opt(&mut p, "notes", "Notes", &f.notes, 2000);
        p.into_result()?;
        match (caller_name, relationship, given, family, dob, phone, substances, urgency, insurance, heard, notes) {
            (
                Some(caller_name),
                Some(caller_relationship),
                Some(given_name),
                Some(family_name),
                Some(date_of_birth),
                Some(phone),
                Some(substances),
                Some(urgency),
                Some(insurance),
                Some(heard_about),
                Some(notes),
            ) => Ok(Inquiry {
                id: InquiryId::from_uuid(self.ids.new_id()),
                received_at: self.now(),
                caller_name,
                caller_relationship,
                given_name,
                family_name,
                date_of_birth,
                phone,
                substances,
                urgency,
                insurance,
                screen: PreScreen {
                    withdrawal_risk: f.withdrawal_risk,
                    self_harm_thoughts: f.self_harm_thoughts,
                    medical_conditions: f.medical_conditions,
                    prior_treatment: f.prior_treatment,
                },
                heard_about,
                stage: Stage::New,
                notes,
                client: None,
                taken_by: ctx.actor.user_id,
            }),
            _ => Err(AppError::Internal("validated inquiry incomplete")),
        }
    }

    /// Logs a call. A first callback task is created, due sooner the more urgent the call.
    pub async fn log_inquiry(&self, ctx: &Ctx, form: &InquiryForm, is_demo: bool) -> Result<Inquiry, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageInquiries)).await?;
        let inquiry = self.parse_inquiry(ctx, form)?;
        let days = match inquiry.urgency {
            Urgency::Crisis | Urgency::Urgent => 0,
            Urgency::Soon => 1,
            Urgency::Routine => 2,
        };
        let task = Task {
            id: TaskId::from_uuid(self.ids.new_id()),
            inquiry: inquiry.id,
            title: "Call back".into(),
            due_on: self.now().date() + Duration::days(days),
            done_at: None,
        };
        let mut tx = self.begin().await?;
        tx.insert_inquiry(&inquiry, is_demo).await?;
        tx.insert_inquiry_task(&task).await?;
        tx.append_audit(vec![self.inquiry_event(ctx, AuditAction::InquiryChanged, inquiry.id, "logged")]).await?;
        tx.commit().await?;
        Ok(inquiry)
    }

    /// The pipeline: open inquiries and those closed in the last 30 days, with open tasks.
    pub async fn inquiry_board(&self, ctx: &Ctx) -> Result<(Vec<Inquiry>, Vec<Task>), AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageInquiries)).await?;
        let mut tx = self.store.read().await?;
        let list = tx.inquiries(self.now() - Duration::days(30), 500).await?;
        let tasks = tx.inquiry_tasks(None, true).await?;
        drop(tx);
        let events = list.iter().map(|i| self.inquiry_event(ctx, AuditAction::InquiryRead, i.id, "board")).collect();
        self.store.record(events).await?;
        Ok((list, tasks))
    }

    /// One inquiry with its tasks and anyone already known who may be the same person.
    pub async fn inquiry(&self, ctx: &Ctx, id: InquiryId) -> Result<InquiryView, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageInquiries)).await?;
        let mut tx = self.store.read().await?;
        let inquiry = tx.inquiry(id).await?.ok_or(AppError::NotFound)?;
        let tasks = tx.inquiry_tasks(Some(id), false).await?;
        let name = format!("{} {}", inquiry.given_name, inquiry.family_name);
        let grams = trigrams(&name);
        // Duplicate detection looks at every client: a returning client must be found even by
        // staff who are not on their care team. Only the match is shown, not the chart.
        let query = ClientQuery {
            trigrams: grams.iter().cloned().collect(),
            mrn: None,
            date_of_birth: inquiry.date_of_birth,
            phone_digits: inquiry.phone.as_deref().map(phone_digits).filter(|d| d.len() >= 7),
        };
        let candidates = tx.search_clients(&ClientScope::All, &query, 50).await?;
        let similar = tx.similar_inquiries(inquiry.date_of_birth, inquiry.phone.as_deref(), id).await?;
        drop(tx);
        let phone = inquiry.phone.as_deref().map(phone_digits);
        let same_person = |dob: Option<Date>, candidate_phone: Option<&str>, candidate_name: &str| {
            let phone_match = phone.is_some() && candidate_phone.map(phone_digits) == phone;
            let name_close = similarity(&grams, &trigrams(candidate_name)) >= MATCH_THRESHOLD;
            phone_match || (name_close && dob.is_some() && dob == inquiry.date_of_birth)
        };
        let mut matches: Vec<PossibleMatch> = candidates
            .into_iter()
            .filter(|c| {
                let cname = format!("{} {}", c.client.given_name, c.client.family_name);
                same_person(Some(c.client.date_of_birth), c.demographics.phone.as_deref(), &cname)
            })
            .map(PossibleMatch::Client)
            .collect();
        matches.extend(
            similar
                .into_iter()
                .filter(|i| {
                    same_person(i.date_of_birth, i.phone.as_deref(), &format!("{} {}", i.given_name, i.family_name))
                })
                .map(PossibleMatch::Inquiry),
        );
        let mut events = vec![self.inquiry_event(ctx, AuditAction::InquiryRead, id, "detail")];
        for m in &matches {
            if let PossibleMatch::Client(c) = m {
                events.push(AuditEvent {
                    client: Some(c.client.id),
                    detail: Some("duplicate_check".into()),
                    ..self.ctx_event(ctx, AuditAction::ClientSearched, Outcome::Success)
                });
            }
        }
        self.store.record(events).await?;
        Ok(InquiryView { inquiry, tasks, matches })
    }

    /// Moves an inquiry along the pipeline (never to Admitted: that is `convert_inquiry`).
    pub async fn move_inquiry(&self, ctx: &Ctx, id: InquiryId, stage: &str, note: &str) -> Result<Inquiry, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageInquiries)).await?;
        let to = Stage::parse(stage.trim()).ok_or_else(|| AppError::invalid("stage", "Choose a stage"))?;
        let mut p = Problems::default();
        let note = opt(&mut p, "note", "Note", note, 2000);
        p.into_result()?;
        let note = note.flatten();
        let mut tx = self.begin().await?;
        let mut inquiry = tx.inquiry(id).await?.ok_or(AppError::NotFound)?;
        if !inquiry.stage.can_move_to(to) {
            let why = if to == Stage::Admitted {
                "Admit through “Admit this person” so the client record and episode are created".to_owned()
            } else {
                format!("An inquiry cannot move from {} to {}", inquiry.stage.label(), to.label())
            };
            return Err(AppError::invalid("stage", why));
        }
        inquiry.stage = to;
        if let Some(n) = note {
            let stamp = self.now().date();
            inquiry.notes = Some(match inquiry.notes.take() {
                Some(old) => format!("{old}\n{stamp}: {n}"),
                None => format!("{stamp}: {n}"),
            });
        }
        tx.update_inquiry(&inquiry).await?;
        tx.append_audit(vec![self.inquiry_event(ctx, AuditAction::InquiryChanged, id, to.code())]).await?;
        tx.commit().await?;
        Ok(inquiry)
    }

    pub async fn add_inquiry_task(
        &self,
        ctx: &Ctx,
        id: InquiryId,
        title: &str,
        due_on: &str,
    ) -> Result<Task, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageInquiries)).await?;
        let mut p = Problems::default();
        let title = p.check("title", "Task", bounded_line(title, 200));
        let due = match parse_day(due_on) {
            Ok(d) => Some(d),
            Err(m) => {
                p.add("due_on", format!("Due date {m}"));
                None
            }
        };
        p.into_result()?;
        let (Some(title), Some(due_on)) = (title, due) else {
            return Err(AppError::Internal("validated task incomplete"));
        };
        let task = Task { id: TaskId::from_uuid(self.ids.new_id()), inquiry: id, title, due_on, done_at: None };
        let mut tx = self.begin().await?;
        tx.inquiry(id).await?.ok_or(AppError::NotFound)?;
        tx.insert_inquiry_task(&task).await?;
        tx.append_audit(vec![self.inquiry_event(ctx, AuditAction::InquiryChanged, id, "task_added")]).await?;
        tx.commit().await?;
        Ok(task)
    }

    pub async fn complete_inquiry_task(&self, ctx: &Ctx, id: InquiryId, task: TaskId) -> Result<(), AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageInquiries)).await?;
        let mut tx = self.begin().await?;
        let tasks = tx.inquiry_tasks(Some(id), false).await?;
        if !tasks.iter().any(|t| t.id == task) {
            return Err(AppError::NotFound);
        }
        if !tx.complete_inquiry_task(task, self.now()).await? {
            return Err(AppError::Conflict("that task is already done"));
        }
        tx.append_audit(vec![self.inquiry_event(ctx, AuditAction::InquiryChanged, id, "task_done")]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Admits the person an inquiry is about, in one transaction: creates the client record from
    /// what the inquiry holds (or readmits `existing`, a client found by duplicate detection),
    /// opens the episode, and closes the inquiry as admitted.
    pub async fn convert_inquiry(
        &self,
        ctx: &Ctx,
        id: InquiryId,
        admit: &AdmitForm,
        existing: Option<ClientId>,
    ) -> Result<(ClientId, Episode), AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageInquiries)).await?;
        self.authorize(ctx, ctx.actor.require(Permission::CreateClient)).await?;
        let mut tx = self.begin().await?;
        let mut inquiry = tx.inquiry(id).await?.ok_or(AppError::NotFound)?;
        if !inquiry.stage.is_open() {
            return Err(AppError::Conflict("this inquiry is closed; reopen it as new to admit"));
        }
        let client = match existing {
            Some(c) => {
                let record = tx
                    .client_record(&ClientScope::All, c)
                    .await?
                    .ok_or_else(|| AppError::invalid("existing_client", "Choose a client from the matches"))?;
                // Readmitting someone outside one's reach is allowed only for a client whom this
                // inquiry identifies: the name and the date of birth, both. A phone number is
                // shared, recycled and easy to learn, so it suggests a match but never proves
                // one; otherwise a made-up caller with a stranger's number opens their chart.
                // Without that, a supervisor (who reaches every client) does the readmission.
                let identified = {
                    let name = trigrams(&format!("{} {}", inquiry.given_name, inquiry.family_name));
                    let cname = trigrams(&format!("{} {}", record.client.given_name, record.client.family_name));
                    let dob_match = inquiry.date_of_birth == Some(record.client.date_of_birth);
                    dob_match && similarity(&name, &cname) >= MATCH_THRESHOLD
                };
                if !identified && ctx.actor.scope_for(Permission::AdmitClient, c).is_err() {
                    return Err(self
                        .denied_in(
                            tx.as_mut(),
                            ctx,
                            domain::access::AccessDenied { permission: Permission::AdmitClient, client: Some(c) },
                        )
                        .await);
                }
                c
            }
            None => {
                let dob = inquiry.date_of_birth.ok_or_else(|| {
                    AppError::invalid("date_of_birth", "Record the date of birth on the inquiry before admitting")
                })?;
                let form = NewClientForm {
                    given_name: inquiry.given_name.clone(),
                    family_name: inquiry.family_name.clone(),
                    date_of_birth: dob.to_string(),
                    phone: inquiry.phone.clone().unwrap_or_default(),
                    ..Default::default()
                };
                self.create_client_in(ctx, tx.as_mut(), &form, false).await?.client.id
            }
        };
        // Whoever admits joins the team as intake, so they can finish the admission paperwork.
        tx.add_team_member(client, ctx.actor.user_id, TeamRole::Intake, self.now()).await?;
        let scope = ClientScope::Only(BTreeSet::from([client]));
        let episode = self.admit_in(ctx, tx.as_mut(), &scope, client, admit).await?;
        inquiry.stage = Stage::Admitted;
        inquiry.client = Some(client);
        tx.update_inquiry(&inquiry).await?;
        let mut event = self.inquiry_event(ctx, AuditAction::InquiryChanged, id, "admitted");
        event.client = Some(client);
        tx.append_audit(vec![event]).await?;
        tx.commit().await?;
        Ok((client, episode))
    }
}
