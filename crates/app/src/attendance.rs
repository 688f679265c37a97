//! Attendance of IOP sessions, the session note that locks it, amendments after that, the
//! outreach an unexcused absence opens, and dose compliance per client and week.

use std::collections::{BTreeMap, BTreeSet};

use domain::access::{ClientScope, Permission};
use domain::audit::{AuditAction, AuditEvent, Outcome};
use domain::client::{Client, TeamRole};
use domain::ids::{ClientId, IopSessionId};
use domain::iop::compliance::{
    Amount, Attended, Enrolment, IsoWeek, ModalityRequirement, Upcoming, WeekCompliance, WeeklyDose, WeeklyMinimum,
    assess,
};
use domain::iop::program::{AttendanceStatus, Window, minutes_attended};
use domain::iop::{AgeGroup, Modality};
use domain::level::LevelCode;
use domain::text::bounded_line;
use time::{Date, Duration, Time, Weekday};
use uuid::Uuid;

use crate::error::{AppError, Problems};
use crate::ports::{AttendanceAmendment, AttendanceRecord, AttendanceSession, OutreachTask, ProgramEntry, Tx};
use crate::service::{App, Ctx};

/// One roster line as typed on the attendance screen.
#[derive(Clone, Debug, Default)]
pub struct AttendanceEntry {
    pub client: String,
    pub status: String,
    pub minutes: String,
}

#[derive(Clone, Debug)]
pub struct SheetRow {
    pub client: Client,
    pub record: Option<AttendanceRecord>,
}

/// Everything the attendance screen of one session shows.
#[derive(Clone, Debug)]
pub struct AttendanceSheet {
    pub session: AttendanceSession,
    pub rows: Vec<SheetRow>,
    pub amendments: Vec<AttendanceAmendment>,
    /// The note is signed: attendance changes only by amendment.
    pub locked: bool,
}

/// One client's week for the compliance dashboard.
#[derive(Clone, Debug)]
pub struct ComplianceRow {
    pub client: Client,
    pub level: Option<LevelCode>,
    pub week: WeekCompliance,
}

fn field_error(field: &'static str, e: impl std::fmt::Display) -> AppError {
    let text = e.to_string();
    let mut s = text.get(..1).map(str::to_uppercase).unwrap_or_default();
    s.push_str(text.get(1..).unwrap_or(""));
    AppError::invalid(field, s)
}

impl App {
    /// Who may record a session's attendance: its facilitator or substitute for the whole
    /// roster; otherwise the clients `RecordAttendance` reaches.
    async fn attendance_scope(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        session: &AttendanceSession,
        roster: &[ClientId],
    ) -> Result<ClientScope, AppError> {
        let me = ctx.actor.user_id;
        if session.facilitator == me || session.substitute == Some(me) {
            return Ok(ClientScope::Only(roster.iter().copied().collect()));
        }
        self.authorize_in(tx, ctx, ctx.actor.scope(Permission::RecordAttendance)).await
    }

    async fn sheet_in(&self, tx: &mut dyn Tx, ctx: &Ctx, id: IopSessionId) -> Result<AttendanceSheet, AppError> {
        let session = tx.attendance_session(id).await?.ok_or(AppError::NotFound)?;
        let roster = tx.attendance_roster(id).await?;
        let scope = self.attendance_scope(tx, ctx, &session, &roster).await?;
        let records = tx.attendance_of(id).await?;
        let mut rows = Vec::new();
        for c in &roster {
            if let Some(client) = tx.client(&scope, *c).await? {
                rows.push(SheetRow { record: records.iter().find(|r| r.client == *c).cloned(), client });
            }
        }
        if rows.is_empty() && !roster.is_empty() {
            return Err(self
                .denied_in(
                    tx,
                    ctx,
                    domain::access::AccessDenied {
                        permission: Permission::RecordAttendance,
                        client: roster.first().copied(),
                    },
                )
                .await);
        }
        let amendments = tx.attendance_amendments(id).await?;
        Ok(AttendanceSheet { locked: session.note_signed_at.is_some(), session, rows, amendments })
    }

    /// The attendance screen of a session: its roster with what is recorded.
    pub async fn attendance_sheet(&self, ctx: &Ctx, id: IopSessionId) -> Result<AttendanceSheet, AppError> {
        let mut tx = self.store.read().await?;
        let sheet = self.sheet_in(tx.as_mut(), ctx, id).await?;
        drop(tx);
        let events = sheet
            .rows
            .iter()
            .map(|r| AuditEvent {
                client: Some(r.client.id),
                subject: Some(format!("iop_session:{id}")),
                detail: Some("attendance".into()),
                ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
            })
            .collect::<Vec<_>>();
        if !events.is_empty() {
            self.store.record(events).await?;
        }
        Ok(sheet)
    }

    /// Records attendance for the roster in one go. Every line is checked before anything is
    /// saved; an unexcused absence opens an outreach task for the client's primary counselor.
    pub async fn record_attendance(
        &self,
        ctx: &Ctx,
        id: IopSessionId,
        entries: &[AttendanceEntry],
    ) -> Result<Vec<OutreachTask>, AppError> {
        let mut tx = self.begin().await?;
        let sheet = self.sheet_in(tx.as_mut(), ctx, id).await?;
        if sheet.session.cancelled {
            return Err(AppError::invalid("session", "This session was cancelled; there is no attendance to take"));
        }
        if sheet.locked {
            return Err(AppError::Conflict("the session note is signed; amend attendance instead"));
        }
        let today = self.today_for_site(tx.as_mut(), sheet.session.site).await?;
        if sheet.session.slot.date > today {
            return Err(AppError::invalid("session", "Attendance is taken on or after the day of the session"));
        }
        let length = sheet.session.slot.minutes;
        let mut p = Problems::default();
        let mut checked: Vec<(ClientId, AttendanceStatus, u16)> = Vec::new();
        for e in entries {
            let Ok(client) = e.client.trim().parse::<ClientId>() else {
                p.add("client", "Unknown client");
                continue;
            };
            if !sheet.rows.iter().any(|r| r.client.id == client) {
                p.add("client", "A client who is not on this session's roster cannot be marked");
                continue;
            }
            let Some(status) = AttendanceStatus::parse(e.status.trim()) else {
                p.add("status", "Choose present, late, left early or absent");
                continue;
            };
            let typed = match e.minutes.trim() {
                "" => None,
                m => match m.parse::<u16>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        p.add("minutes", "Minutes must be a whole number");
                        continue;
                    }
                },
            };
            match minutes_attended(status, typed, length) {
                Ok(m) => checked.push((client, status, m)),
                Err(err) => p.add("minutes", {
                    let t = err.to_string();
                    let mut s = t.get(..1).map(str::to_uppercase).unwrap_or_default();
                    s.push_str(t.get(1..).unwrap_or(""));
                    s
                }),
            }
        }
        p.into_result()?;
        if checked.is_empty() {
            return Err(AppError::invalid("status", "Mark at least one client"));
        }
        let now = self.now();
        let mut tasks = Vec::new();
        let mut audit = Vec::new();
        for (client, status, minutes) in checked {
            tx.put_attendance(&AttendanceRecord {
                session: id,
                client,
                status,
                minutes,
                recorded_by: ctx.actor.user_id,
                recorded_at: now,
            })
            .await?;
            audit.push(AuditEvent {
                client: Some(client),
                subject: Some(format!("iop_session:{id}")),
                detail: Some(status.code().to_owned()),
                ..self.ctx_event(ctx, AuditAction::AttendanceRecorded, Outcome::Success)
            });
            if status == AttendanceStatus::AbsentUnexcused {
                let primary = tx
                    .care_team(client)
                    .await?
                    .into_iter()
                    .find(|m| m.team_role == TeamRole::PrimaryCounselor)
                    .map(|m| m.user_id);
                let task = OutreachTask {
                    id: self.ids.new_id(),
                    client,
                    session: Some(id),
                    assigned_to: primary,
                    reason: format!("Missed {} on {} without excuse", sheet.session.title, sheet.session.slot.date),
                    due_on: today.next_day().unwrap_or(today),
                    created_at: now,
                    done_at: None,
                    outcome: None,
                };
                if tx.insert_outreach(&task).await? {
                    tasks.push(task);
                }
            }
        }
        tx.append_audit(audit).await?;
        tx.commit().await?;
        Ok(tasks)
    }

    async fn today_for_site(&self, tx: &mut dyn Tx, site: domain::ids::SiteId) -> Result<Date, AppError> {
        let sites = tx.sites().await?;
        Ok(sites
            .iter()
            .find(|s| s.site.id == site)
            .map(|s| self.today_in(s.site.time_zone.as_str()))
            .unwrap_or(self.now().date()))
    }

    /// Signs the session note. Every roster client needs attendance first; afterwards
    /// attendance changes only by amendment.
    pub async fn sign_session_note(&self, ctx: &Ctx, id: IopSessionId, note: &str) -> Result<(), AppError> {
        let mut tx = self.begin().await?;
        let sheet = self.sheet_in(tx.as_mut(), ctx, id).await?;
        let me = ctx.actor.user_id;
        if sheet.session.facilitator != me
            && sheet.session.substitute != Some(me)
            && ctx.actor.scope(Permission::ManageProgram).is_err()
        {
            return Err(self
                .denied_in(
                    tx.as_mut(),
                    ctx,
                    domain::access::AccessDenied { permission: Permission::ManageProgram, client: None },
                )
                .await);
        }
        let note = bounded_line(note, 8000).map_err(|e| field_error("note", format!("The note {e}")))?;
        if sheet.rows.iter().any(|r| r.record.is_none()) {
            return Err(AppError::invalid("note", "Record attendance for everyone on the roster before signing"));
        }
        if !tx.sign_session_note(id, &note, me, self.now()).await? {
            return Err(AppError::Conflict("the session note is already signed"));
        }
        let audit = AuditEvent {
            subject: Some(format!("iop_session:{id}")),
            detail: Some("note signed".into()),
            ..self.ctx_event(ctx, AuditAction::SessionChanged, Outcome::Success)
        };
        tx.append_audit(vec![audit]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes a client's attendance after the note was signed, keeping what it was and why.
    pub async fn amend_attendance(
        &self,
        ctx: &Ctx,
        id: IopSessionId,
        entry: &AttendanceEntry,
        reason: &str,
    ) -> Result<AttendanceAmendment, AppError> {
        let mut tx = self.begin().await?;
        let sheet = self.sheet_in(tx.as_mut(), ctx, id).await?;
        if !sheet.locked {
            return Err(AppError::Conflict("the note is not signed yet; correct the attendance directly"));
        }
        let client: ClientId =
            entry.client.trim().parse().map_err(|_| AppError::invalid("client", "Unknown client"))?;
        let Some(row) = sheet.rows.iter().find(|r| r.client.id == client) else {
            return Err(AppError::invalid("client", "A client who is not on this session's roster cannot be marked"));
        };
        let old = row.record.clone().ok_or(AppError::Internal("signed session without attendance"))?;
        let status = AttendanceStatus::parse(entry.status.trim())
            .ok_or_else(|| AppError::invalid("status", "Choose present, late, left early or absent"))?;
        let typed = match entry.minutes.trim() {
            "" => None,
            m => Some(m.parse::<u16>().map_err(|_| AppError::invalid("minutes", "Minutes must be a whole number"))?),
        };
        let minutes =
            minutes_attended(status, typed, sheet.session.slot.minutes).map_err(|e| field_error("minutes", e))?;
        let reason = bounded_line(reason, 2000).map_err(|_| AppError::invalid("reason", "Say why it is amended"))?;
        let now = self.now();
        let amendment = AttendanceAmendment {
            id: self.ids.new_id(),
            session: id,
            client,
            old_status: old.status,
            old_minutes: old.minutes,
            new_status: status,
            new_minutes: minutes,
            reason,
            by: ctx.actor.user_id,
            at: now,
        };
        tx.insert_attendance_amendment(&amendment).await?;
        tx.put_attendance(&AttendanceRecord {
            status,
            minutes,
            recorded_by: ctx.actor.user_id,
            recorded_at: now,
            ..old
        })
        .await?;
        let audit = AuditEvent {
            client: Some(client),
            subject: Some(format!("iop_session:{id}")),
            detail: Some(format!("{} → {}", amendment.old_status.code(), status.code())),
            ..self.ctx_event(ctx, AuditAction::AttendanceAmended, Outcome::Success)
        };
        tx.append_audit(vec![audit]).await?;
        tx.commit().await?;
        Ok(amendment)
    }

    /// Open outreach tasks for the actor's clients (all of them for program managers), with
    /// the client, oldest due first.
    pub async fn outreach_tasks(&self, ctx: &Ctx) -> Result<Vec<(OutreachTask, Client)>, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope(Permission::ReadClient)).await?;
        let mut tx = self.store.read().await?;
        let tasks = tx.open_outreach(&scope, None).await?;
        let mut out = Vec::new();
        for t in tasks {
            if let Some(c) = tx.client(&scope, t.client).await? {
                out.push((t, c));
            }
        }
        drop(tx);
        let events: Vec<AuditEvent> = out
            .iter()
            .map(|(_, c)| c.id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|c| AuditEvent {
                client: Some(c),
                detail: Some("outreach".into()),
                ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
            })
            .collect();
        if !events.is_empty() {
            self.store.record(events).await?;
        }
        Ok(out)
    }

    /// Records how an outreach call went, once.
    pub async fn complete_outreach(&self, ctx: &Ctx, id: Uuid, outcome: &str) -> Result<(), AppError> {
        let mut tx = self.begin().await?;
        let task = tx.outreach(id).await?.ok_or(AppError::NotFound)?;
        let scope =
            self.authorize_in(tx.as_mut(), ctx, ctx.actor.scope_for(Permission::ReadClient, task.client)).await?;
        tx.client(&scope, task.client).await?.ok_or(AppError::NotFound)?;
        let outcome = bounded_line(outcome, 2000).map_err(|_| AppError::invalid("outcome", "Say how the call went"))?;
        if !tx.complete_outreach(id, ctx.actor.user_id, self.now(), &outcome).await? {
            return Err(AppError::Conflict("this outreach task is already done"));
        }
        let audit = AuditEvent {
            client: Some(task.client),
            subject: Some(format!("outreach:{id}")),
            detail: Some("outreach done".into()),
            ..self.ctx_event(ctx, AuditAction::AttendanceRecorded, Outcome::Success)
        };
        tx.append_audit(vec![audit]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The dose a client's level and plan call for.
    fn dose_for(&self, level: Option<&LevelCode>, age: AgeGroup, plan: &[(Modality, u16)]) -> WeeklyDose {
        let minimum = level
            .and_then(|l| self.catalogue.get(l))
            .and_then(|l| WeeklyMinimum::for_level(l, age))
            .unwrap_or(WeeklyMinimum::NONE);
        WeeklyDose {
            minimum,
            modalities: plan
                .iter()
                .map(|(m, n)| ModalityRequirement { modality: *m, at_least: Amount::Sessions(*n) })
                .collect(),
            // Three 3-hour days cannot fit an adolescent 6-hour week.
            h0015_applies: age == AgeGroup::Adult,
        }
    }

    /// Compliance of many clients for one week, in one pass over their program days.
    pub(crate) async fn compliance_for(
        &self,
        tx: &mut dyn Tx,
        clients: &[Client],
        week: IsoWeek,
    ) -> Result<Vec<ComplianceRow>, AppError> {
        self.compliance_of(tx, clients, week).await
    }

    async fn compliance_of(
        &self,
        tx: &mut dyn Tx,
        clients: &[Client],
        week: IsoWeek,
    ) -> Result<Vec<ComplianceRow>, AppError> {
        let ids: Vec<ClientId> = clients.iter().map(|c| c.id).collect();
        let entries = tx.program_days(&ids, week.monday(), week.sunday()).await?;
        let windows = tx.enrolment_windows(&ids).await?;
        let sites = tx.sites().await?;
        let zone = sites.first().map(|s| s.site.time_zone.as_str().to_owned());
        let now = self.now();
        let (today, now_time) = match zone.as_deref().and_then(|z| jiff::tz::TimeZone::get(z).ok()) {
            Some(tz) => {
                let local = jiff::Timestamp::from_millisecond(crate::unix_ms(now)).map(|ts| tz.to_datetime(ts)).ok();
                let t = local
                    .and_then(|d| Time::from_hms(u8::try_from(d.hour()).ok()?, u8::try_from(d.minute()).ok()?, 0).ok());
                (self.today_in(zone.as_deref().unwrap_or("UTC")), t.unwrap_or(now.time()))
            }
            None => (now.date(), now.time()),
        };
        let mut by_client: BTreeMap<ClientId, Vec<&ProgramEntry>> = BTreeMap::new();
        for e in &entries {
            by_client.entry(e.client).or_default().push(e);
        }
        // Batched: one client's queries each are a round trip, and the dashboard has hundreds.
        let episodes = tx.episodes_of_clients(&ids).await?;
        let plans = tx.requirements_of(&ids).await?;
        let mut out = Vec::new();
        for c in clients {
            let episodes = episodes.get(&c.id).map(Vec::as_slice).unwrap_or_default();
            let level = episodes.iter().find(|e| e.is_open()).and_then(|e| e.current()).map(|p| p.level.clone());
            let age = if c.date_of_birth.saturating_add(Duration::days(18 * 365 + 4)) > week.monday() {
                AgeGroup::Adolescent
            } else {
                AgeGroup::Adult
            };
            let plan = plans.get(&c.id).map(Vec::as_slice).unwrap_or_default();
            let dose = self.dose_for(level.as_ref(), age, plan);
            let (first, last) = windows.iter().filter(|(id, _, _)| *id == c.id).fold(
                (None::<Date>, None::<Option<Date>>),
                |(f, l), (_, from, until)| {
                    (
                        Some(f.map_or(*from, |x: Date| x.min(*from))),
                        Some(match (l, until) {
                            (Some(None), _) | (_, None) => None,
                            (Some(Some(a)), Some(b)) => Some(a.max(*b)),
                            (None, Some(b)) => Some(*b),
                        }),
                    )
                },
            );
            let enrolment = match first {
                Some(f) => Enrolment::new(Some(f), last.flatten()).unwrap_or(Enrolment::starting(f)),
                None => Enrolment::new(Some(week.sunday().next_day().unwrap_or(week.sunday())), None)
                    .unwrap_or(Enrolment::open()),
            };
            let mine = by_client.get(&c.id).map(Vec::as_slice).unwrap_or_default();
            let attended: Vec<Attended> = mine
                .iter()
                .filter(|e| !e.cancelled)
                .filter_map(|e| e.attendance.map(|(_, m)| Attended { slot: e.slot, modality: e.modality, minutes: m }))
                .collect();
            let upcoming: Vec<Upcoming> = mine
                .iter()
                .filter(|e| !e.cancelled && e.attendance.is_none())
                .map(|e| Upcoming { slot: e.slot, modality: e.modality })
                .collect();
            let week_c = assess(week, enrolment, &dose, &attended, &upcoming, today, now_time);
            out.push(ComplianceRow { client: c.clone(), level, week: week_c });
        }
        Ok(out)
    }

    /// One client's dose for an ISO week (the chart).
    pub async fn client_compliance(
        &self,
        ctx: &Ctx,
        client: ClientId,
        week: IsoWeek,
    ) -> Result<ComplianceRow, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ReadClinical, client)).await?;
        let mut tx = self.store.read().await?;
        let c = tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let row = self.compliance_of(tx.as_mut(), &[c], week).await?.pop().ok_or(AppError::Internal("no row"))?;
        drop(tx);
        self.store
            .record(vec![AuditEvent {
                client: Some(client),
                detail: Some("dose compliance".into()),
                ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
            }])
            .await?;
        Ok(row)
    }

    /// Every enrolled client the actor may read, for one week: those at risk while the week is
    /// still open first.
    pub async fn compliance_dashboard(&self, ctx: &Ctx, week: IsoWeek) -> Result<Vec<ComplianceRow>, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope(Permission::ReadClient)).await?;
        let mut tx = self.store.read().await?;
        let ids = tx.enrolled_between(&scope, week.monday(), week.sunday()).await?;
        let clients = tx.clients_among(&scope, &ids).await?;
        let mut rows = self.compliance_of(tx.as_mut(), &clients, week).await?;
        drop(tx);
        rows.sort_by_key(|r| (!r.week.needs_action(), r.week.status.code(), r.client.family_name.as_str().to_owned()));
        let events: Vec<AuditEvent> = rows
            .iter()
            .map(|r| AuditEvent {
                client: Some(r.client.id),
                detail: Some("dose compliance".into()),
                ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
            })
            .collect();
        if !events.is_empty() {
            self.store.record(events).await?;
        }
        Ok(rows)
    }

    /// A client's stated availability and the modalities their plan requires each week.
    pub async fn plan_of(&self, ctx: &Ctx, client: ClientId) -> Result<(Vec<Window>, Vec<(Modality, u16)>), AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ReadClinical, client)).await?;
        let mut tx = self.store.read().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let plan = (tx.availability(client).await?, tx.requirements(client).await?);
        drop(tx);
        self.store
            .record(vec![AuditEvent {
                client: Some(client),
                detail: Some("program plan".into()),
                ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
            }])
            .await?;
        Ok(plan)
    }

    /// Replaces a client's weekly availability: lines of "weekday from to", e.g. `mon 18:00 21:00`.
    pub async fn set_availability(&self, ctx: &Ctx, client: ClientId, text: &str) -> Result<Vec<Window>, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ManageProgram, client)).await?;
        let mut windows = Vec::new();
        for (n, line) in text.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
            windows.push(
                parse_window(line).map_err(|m| AppError::invalid("availability", format!("Line {}: {m}", n + 1)))?,
            );
        }
        let mut tx = self.begin().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        tx.set_availability(client, &windows).await?;
        tx.append_audit(vec![AuditEvent {
            client: Some(client),
            detail: Some("availability".into()),
            ..self.ctx_event(ctx, AuditAction::EnrolmentChanged, Outcome::Success)
        }])
        .await?;
        tx.commit().await?;
        Ok(windows)
    }

    /// Replaces the modalities a client's plan requires each week (sessions per modality).
    pub async fn set_requirements(
        &self,
        ctx: &Ctx,
        client: ClientId,
        requirements: &BTreeMap<String, String>,
    ) -> Result<(), AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ManageProgram, client)).await?;
        let mut reqs = Vec::new();
        for (code, n) in requirements {
            let m = Modality::parse(code).ok_or_else(|| AppError::invalid("modality", "Unknown modality"))?;
            match n.trim() {
                "" | "0" => {}
                v => match v.parse::<u16>() {
                    Ok(k) if k <= 14 => reqs.push((m, k)),
                    _ => return Err(AppError::invalid("modality", "Sessions a week must be a number from 0 to 14")),
                },
            }
        }
        let mut tx = self.begin().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        tx.set_requirements(client, &reqs).await?;
        tx.append_audit(vec![AuditEvent {
            client: Some(client),
            detail: Some("plan requirements".into()),
            ..self.ctx_event(ctx, AuditAction::EnrolmentChanged, Outcome::Success)
        }])
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A window as [`parse_window`] reads it: `mon 18:00 21:00`.
pub fn window_line(w: &Window) -> String {
    format!(
        "{} {:02}:{:02} {:02}:{:02}",
        w.weekday.to_string().get(..3).unwrap_or("").to_lowercase(),
        w.from.hour(),
        w.from.minute(),
        w.to.hour(),
        w.to.minute()
    )
}

/// `mon 18:00 21:00` → a window; an empty or reversed window is refused.
pub fn parse_window(line: &str) -> Result<Window, String> {
    let parts: Vec<&str> = line.split_whitespace().collect();
    let [day, from, to] = parts.as_slice() else {
        return Err("write a weekday and two times, like \"mon 18:00 21:00\"".into());
    };
    let weekday = match day.to_lowercase().get(..3) {
        Some("mon") => Weekday::Monday,
        Some("tue") => Weekday::Tuesday,
        Some("wed") => Weekday::Wednesday,
        Some("thu") => Weekday::Thursday,
        Some("fri") => Weekday::Friday,
        Some("sat") => Weekday::Saturday,
        Some("sun") => Weekday::Sunday,
        _ => return Err(format!("{day:?} is not a weekday")),
    };
    let time = |s: &str| -> Result<Time, String> {
        let (h, m) = s.split_once(':').ok_or_else(|| format!("{s:?} is not a time like 18:00"))?;
        let (h, m) = (h.parse::<u8>().map_err(|_| "bad hour")?, m.parse::<u8>().map_err(|_| "bad minute")?);
        Time::from_hms(h, m, 0).map_err(|_| format!("{s:?} is not a time"))
    };
    Window::new(weekday, time(from)?, time(to)?).map_err(|e| e.to_string())
}
