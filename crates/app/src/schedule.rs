//! The schedule builder in the program: turns a track's week (its sessions, the clients
//! enrolled, their level's hours, their plan's modalities and their availability) into a
//! builder instance, asks `domain::iop::builder` for a proposal, and applies the proposal —
//! as proposed or as the coordinator edited it — to the rosters in one transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use domain::access::Permission;
use domain::audit::{AuditAction, AuditEvent, Outcome};
use domain::client::Client;
use domain::ids::{ClientId, IopSessionId, TrackId};
use domain::iop::builder::{self, Blocker, Instance, Need, Proposal, Score};
use domain::iop::compliance::{IsoWeek, WeeklyMinimum};
use domain::iop::{AgeGroup, Slot};
use time::{Duration, Time, Weekday};

use crate::error::AppError;
use crate::ports::{ProgramSession, RosterEntry, SessionFilter, Track, Tx};
use crate::service::{App, Ctx};

/// Client-assignments a facilitator carries in a week unless set for them: four three-hour
/// groups of twelve plus a few individual sessions.
pub const DEFAULT_FACILITATOR_LOAD: u32 = 60;
/// The most a load may be set to: a full-time facilitator with groups every session of a
/// 2.5 week does not reach it.
pub const MAX_FACILITATOR_LOAD: u32 = 300;

/// A staff member who may facilitate, and the weekly load they may carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FacilitatorLoad {
    pub user: domain::ids::UserId,
    pub name: String,
    pub max_load: u32,
    /// Set for them (otherwise the default).
    pub set: bool,
    /// Client-assignments they carry this week, across tracks and appointments.
    pub this_week: u32,
}

/// A proposal as the coordinator reviews it.
#[derive(Clone, Debug)]
pub struct ScheduleProposal {
    pub track: Track,
    pub week: IsoWeek,
    /// The week's sessions the builder may fill (the track's, and each client's own
    /// appointments, which stay as booked).
    pub sessions: Vec<ProgramSession>,
    pub clients: Vec<Client>,
    /// Per client (same order), the sessions assigned (indices into `sessions`).
    pub assignments: Vec<Vec<usize>>,
    /// Sessions that already started, or one-to-one appointments: not the builder's to move.
    pub fixed: Vec<Vec<usize>>,
    pub unplaced: Vec<(usize, Blocker)>,
    pub score: Score,
    pub elapsed_ms: u128,
}

/// What applying changed.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    pub added: usize,
    pub removed: usize,
}

struct Built {
    track: Track,
    sessions: Vec<ProgramSession>,
    clients: Vec<Client>,
    instance: Instance,
    fixed: Vec<Vec<usize>>,
    /// Per client, the sessions whose rosters they are on now.
    current: Vec<Vec<usize>>,
    /// Sessions not yet started (the only ones a proposal may change).
    open: BTreeSet<usize>,
}

pub fn blocker_text(b: &Blocker) -> String {
    match b {
        Blocker::NoAvailability => "No session of the week falls inside the client's availability".into(),
        Blocker::ModalityUnavailable(m) => {
            format!("{} is not offered inside the client's availability (book an appointment)", m.label())
        }
        Blocker::NotEnoughHoursInAvailability { max_minutes, needed } => format!(
            "Only {}:{:02} h of sessions fit the client's availability; the level needs {}:{:02} h",
            max_minutes / 60,
            max_minutes % 60,
            needed / 60,
            needed % 60
        ),
        Blocker::RequirementsConflict => "The hours and the modalities cannot both be met: the sessions clash".into(),
        Blocker::CapacityExhausted => "The sessions that would meet the requirement are full".into(),
        Blocker::FacilitatorLoad => "The facilitators of the sessions that would fit are at their load".into(),
    }
}

/// Client-assignments per person running `sessions` (the substitute where there is one).
fn assignments_by_staff(sessions: &[ProgramSession], roster: &[RosterEntry]) -> BTreeMap<domain::ids::UserId, u32> {
    let staff: BTreeMap<IopSessionId, domain::ids::UserId> = sessions.iter().map(|s| (s.id, s.staff())).collect();
    let mut carried = BTreeMap::new();
    for r in roster {
        if let Some(who) = staff.get(&r.session) {
            *carried.entry(*who).or_insert(0) += 1;
        }
    }
    carried
}

fn weekday_all() -> [Weekday; 7] {
    [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ]
}

impl App {
    async fn build_instance(&self, tx: &mut dyn Tx, track_id: TrackId, week: IsoWeek) -> Result<Built, AppError> {
        let track = tx.tracks().await?.into_iter().find(|t| t.id == track_id).ok_or(AppError::NotFound)?;
        let sites = tx.sites().await?;
        let site = sites.iter().find(|s| s.site.id == track.site);
        let zone = site.map(|s| s.site.time_zone.as_str().to_owned()).unwrap_or_else(|| "UTC".into());
        let (today, now) = self.civil_now(&zone);
        let enrolments = tx.track_enrolments(track_id).await?;
        let client_ids: Vec<ClientId> = enrolments
            .iter()
            .filter(|e| e.from <= week.sunday() && e.until.is_none_or(|u| u >= week.monday()))
            .map(|e| e.client)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // The whole program's week, read once: the track's sessions, each enrolled client's
        // own appointments (they count toward their week and stay put), and what every
        // facilitator carries elsewhere.
        let week_sessions = tx.program_sessions(&SessionFilter::between(week.monday(), week.sunday())).await?;
        let week_ids: Vec<IopSessionId> = week_sessions.iter().map(|s| s.id).collect();
        let week_roster = tx.roster(&week_ids).await?;
        let enrolled: BTreeSet<ClientId> = client_ids.iter().copied().collect();
        let booked: BTreeSet<IopSessionId> =
            week_roster.iter().filter(|r| enrolled.contains(&r.client)).map(|r| r.session).collect();
        let mut sessions: Vec<ProgramSession> =
            week_sessions.iter().filter(|s| s.track == Some(track_id) || booked.contains(&s.id)).cloned().collect();
        sessions.sort_by_key(|s| (s.slot.date, s.slot.start, s.id.as_uuid()));
        let in_instance: BTreeSet<IopSessionId> = sessions.iter().map(|s| s.id).collect();
        let roster: Vec<RosterEntry> =
            week_roster.iter().filter(|r| in_instance.contains(&r.session)).cloned().collect();
        // Last week's series per client, for continuity.
        let mut last = SessionFilter::between(week.monday() - Duration::days(7), week.monday() - Duration::days(1));
        last.track = Some(track_id);
        let last_sessions = tx.program_sessions(&last).await?;
        let last_ids: Vec<IopSessionId> = last_sessions.iter().map(|s| s.id).collect();
        let last_roster = tx.roster(&last_ids).await?;

        let mut series: BTreeMap<uuid::Uuid, u32> = BTreeMap::new();
        let mut series_of = |s: &ProgramSession| -> u32 {
            let key = s.template.map(|t| t.as_uuid()).unwrap_or(s.id.as_uuid());
            let next = u32::try_from(series.len()).unwrap_or(u32::MAX);
            *series.entry(key).or_insert(next)
        };
        let mut staff: Vec<domain::ids::UserId> = Vec::new();
        let mut rooms: Vec<Option<uuid::Uuid>> = Vec::new();
        let room_capacity = |id: Option<uuid::Uuid>, fallback: u16| -> u16 {
            id.and_then(|r| sites.iter().flat_map(|s| s.rooms.iter()).find(|x| x.id == r))
                .map(|r| r.capacity)
                .unwrap_or(fallback)
        };
        let mut inst = Instance::default();
        let mut room_caps: Vec<u16> = Vec::new();
        let mut open = BTreeSet::new();
        for (n, s) in sessions.iter().enumerate() {
            let who = s.substitute.unwrap_or(s.facilitator);
            let f = staff.iter().position(|x| *x == who).unwrap_or_else(|| {
                staff.push(who);
                staff.len() - 1
            });
            // A session without a room gets a room of its own, as large as its group.
            let r = match s.room {
                Some(room) => rooms.iter().position(|x| *x == Some(room)).unwrap_or_else(|| {
                    rooms.push(Some(room));
                    room_caps.push(room_capacity(Some(room), s.capacity).max(1));
                    rooms.len() - 1
                }),
                None => {
                    rooms.push(None);
                    room_caps.push(s.capacity.max(1));
                    rooms.len() - 1
                }
            };
            if (s.slot.date, s.slot.start) > (today, now) {
                open.insert(n);
            }
            inst.sessions.push(builder::Session {
                slot: s.slot,
                modality: s.modality,
                capacity: s.capacity.max(1),
                facilitator: f,
                room: r,
                series: series_of(s),
            });
        }
        // Each facilitator's cap, less what they carry this week outside this instance (other
        // tracks' rosters, other clients' appointments): the load is the person's, not the track's.
        let set_loads = tx.facilitator_loads().await?;
        let outside: Vec<ProgramSession> =
            week_sessions.iter().filter(|s| !in_instance.contains(&s.id)).cloned().collect();
        let carried = assignments_by_staff(&outside, &week_roster);
        let caps: Vec<u32> = staff
            .iter()
            .map(|who| {
                let cap = set_loads.iter().find(|(u, _)| u == who).map_or(DEFAULT_FACILITATOR_LOAD, |(_, l)| *l);
                cap.saturating_sub(carried.get(who).copied().unwrap_or(0))
            })
            .collect();
        inst.rooms = room_caps.iter().map(|c| builder::Room { capacity: *c }).collect();

        let scope = domain::access::ClientScope::All;
        let clients = tx.clients_among(&scope, &client_ids).await?;
        let mut fixed = Vec::new();
        let mut current = Vec::new();
        let mut episodes = tx.episodes_of_clients(&client_ids).await?;
        let mut requirements = tx.requirements_of(&client_ids).await?;
        let mut stated_of = tx.availability_of(&client_ids).await?;
        for c in &clients {
            let episodes = episodes.remove(&c.id).unwrap_or_default();
            let level = episodes.iter().find(|e| e.is_open()).and_then(|e| e.current()).map(|p| p.level.clone());
            let age = if c.date_of_birth.saturating_add(Duration::days(18 * 365 + 4)) > week.monday() {
                AgeGroup::Adolescent
            } else {
                AgeGroup::Adult
            };
            let minutes = level
                .as_ref()
                .and_then(|l| self.catalogue.get(l))
                .and_then(|l| WeeklyMinimum::for_level(l, age))
                .map(WeeklyMinimum::minutes)
                .unwrap_or(0);
            let needs: Vec<Need> = requirements
                .remove(&c.id)
                .unwrap_or_default()
                .into_iter()
                .map(|(modality, n)| Need { modality, count: u8::try_from(n).unwrap_or(u8::MAX) })
                .collect();
            let stated = stated_of.remove(&c.id).unwrap_or_default();
            // No stated availability: free whenever the program meets.
            let availability: Vec<builder::Window> = if stated.is_empty() {
                weekday_all()
                    .into_iter()
                    .map(|d| builder::Window {
                        weekday: d,
                        start: Time::MIDNIGHT,
                        end: Time::from_hms(23, 59, 0).unwrap_or(Time::MIDNIGHT),
                    })
                    .collect()
            } else {
                stated.iter().map(|w| builder::Window { weekday: w.weekday, start: w.from, end: w.to }).collect()
            };
            let mine: Vec<usize> = roster
                .iter()
                .filter(|r| r.client == c.id)
                .filter_map(|r| sessions.iter().position(|s| s.id == r.session))
                .collect();
            // Started sessions and the client's own appointments are kept as they are.
            let keep: Vec<usize> = mine
                .iter()
                .copied()
                .filter(|n| !open.contains(n) || sessions[*n].track != Some(track_id))
                .filter(|n| {
                    let s: &Slot = &sessions[*n].slot;
                    availability.iter().any(|w| w.contains(s))
                })
                .collect();
            let last_week: Vec<u32> = last_roster
                .iter()
                .filter(|r| r.client == c.id)
                .filter_map(|r| last_sessions.iter().find(|s| s.id == r.session))
                .filter_map(|s| s.template.and_then(|t| series.get(&t.as_uuid()).copied()))
                .collect();
            fixed.push(keep.clone());
            current.push(mine);
            inst.clients.push(builder::Client {
                required_minutes: minutes,
                required_modalities: needs,
                availability,
                fixed: keep,
                last_week,
            });
        }
        // A cap never below what the fixed assignments already take (they stay as they are).
        let mut fixed_load = vec![0u32; staff.len()];
        for keep in &fixed {
            for &n in keep {
                fixed_load[inst.sessions[n].facilitator] += 1;
            }
        }
        inst.facilitators =
            caps.iter().zip(&fixed_load).map(|(c, f)| builder::Facilitator { max_load: (*c).max(*f) }).collect();
        Ok(Built { track, sessions, clients, instance: inst, fixed, current, open })
    }

    /// Everyone who may facilitate, with the weekly load the builder holds them to.
    pub async fn facilitator_loads(&self, ctx: &Ctx) -> Result<Vec<FacilitatorLoad>, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ViewProgram)).await?;
        let mut tx = self.store.read().await?;
        let set = tx.facilitator_loads().await?;
        let mut users: Vec<domain::user::User> =
            tx.list_users().await?.into_iter().filter(crate::iop::can_facilitate).collect();
        users.sort_by(|a, b| a.display_name.as_str().cmp(b.display_name.as_str()));
        let zone = tx.sites().await?.first().map(|s| s.site.time_zone.as_str().to_owned());
        let week = domain::iop::compliance::week_of(zone.map_or_else(|| self.now().date(), |z| self.today_in(&z)));
        let sessions = tx.program_sessions(&SessionFilter::between(week.monday(), week.sunday())).await?;
        let ids: Vec<IopSessionId> = sessions.iter().map(|s| s.id).collect();
        let carried = assignments_by_staff(&sessions, &tx.roster(&ids).await?);
        Ok(users
            .into_iter()
            .map(|u| {
                let mine = set.iter().find(|(id, _)| *id == u.id).map(|(_, l)| *l);
                FacilitatorLoad {
                    user: u.id,
                    name: u.display_name.to_string(),
                    max_load: mine.unwrap_or(DEFAULT_FACILITATOR_LOAD),
                    set: mine.is_some(),
                    this_week: carried.get(&u.id).copied().unwrap_or(0),
                }
            })
            .collect())
    }

    /// Sets the weekly load (client-assignments) a facilitator may carry; blank goes back to
    /// the default. Applies to proposals from now on; rosters already filled stay.
    pub async fn set_facilitator_load(&self, ctx: &Ctx, user: &str, load: &str) -> Result<(), AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageProgram)).await?;
        let mut tx = self.begin().await?;
        let users = tx.list_users().await?;
        let mut p = crate::error::Problems::default();
        let who = crate::iop::parse_facilitator(&mut p, "user", user, &users);
        let load = match load.trim() {
            "" => None,
            raw => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_FACILITATOR_LOAD).contains(&n) => Some(n),
                _ => {
                    p.add("max_load", format!("Enter a whole number from 1 to {MAX_FACILITATOR_LOAD}, or leave it blank for the default ({DEFAULT_FACILITATOR_LOAD})"));
                    None
                }
            },
        };
        p.into_result()?;
        let who = who.ok_or(AppError::Internal("validated facilitator missing"))?;
        tx.set_facilitator_load(who, load, self.now(), ctx.actor.user_id).await?;
        tx.append_audit(vec![AuditEvent {
            subject: Some(format!("user:{who}")),
            detail: Some(match load {
                Some(n) => format!("facilitator load {n}"),
                None => "facilitator load default".into(),
            }),
            ..self.ctx_event(ctx, AuditAction::ProgramChanged, Outcome::Success)
        }])
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A proposal for a track's week: who goes to which session, who cannot be placed and why.
    pub async fn propose_schedule(
        &self,
        ctx: &Ctx,
        track: TrackId,
        week: IsoWeek,
    ) -> Result<ScheduleProposal, AppError> {
        self.schedule_view(ctx, track, week, |b| builder::build(&b.instance)).await
    }

    /// The track's week as the rosters stand (after an apply, say), read the way a proposal is:
    /// its objective, and who falls short of their hours or modalities and why.
    pub async fn current_schedule(
        &self,
        ctx: &Ctx,
        track: TrackId,
        week: IsoWeek,
    ) -> Result<ScheduleProposal, AppError> {
        self.schedule_view(ctx, track, week, |b| builder::proposal_from(&b.instance, b.current.clone())).await
    }

    async fn schedule_view(
        &self,
        ctx: &Ctx,
        track: TrackId,
        week: IsoWeek,
        assign: impl FnOnce(&Built) -> Result<Proposal, builder::InstanceError>,
    ) -> Result<ScheduleProposal, AppError> {
        self.authorize(ctx, ctx.actor.scope(Permission::ManageProgram)).await?;
        let mut tx = self.store.read().await?;
        let b = self.build_instance(tx.as_mut(), track, week).await?;
        drop(tx);
        let started = Instant::now();
        let p: Proposal = assign(&b)
            .map_err(|e| AppError::invalid("week", format!("The week cannot be scheduled as it stands: {e}")))?;
        let elapsed_ms = started.elapsed().as_millis();
        let events: Vec<AuditEvent> = b
            .clients
            .iter()
            .map(|c| AuditEvent {
                client: Some(c.id),
                detail: Some("schedule proposal".into()),
                ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
            })
            .collect();
        if !events.is_empty() {
            self.store.record(events).await?;
        }
        Ok(ScheduleProposal {
            track: b.track,
            week,
            sessions: b.sessions,
            clients: b.clients,
            assignments: p.assignments,
            fixed: b.fixed,
            unplaced: p.unplaced.iter().map(|u| (u.client, u.reason)).collect(),
            score: p.score,
            elapsed_ms,
        })
    }

    /// Applies a week's assignments (the proposal, or the coordinator's edit of it) to the
    /// rosters of the sessions still to come, in one transaction. Every hard constraint is
    /// checked first; a violation refuses the whole change.
    pub async fn apply_schedule(
        &self,
        ctx: &Ctx,
        track: TrackId,
        week: IsoWeek,
        wanted: &BTreeMap<ClientId, BTreeSet<IopSessionId>>,
    ) -> Result<Applied, AppError> {
        self.authorize(ctx, ctx.actor.scope(Permission::ManageProgram)).await?;
        let mut tx = self.begin().await?;
        tx.lock_program_calendar().await?;
        let b = self.build_instance(tx.as_mut(), track, week).await?;
        let mut assignments: Vec<Vec<usize>> = Vec::new();
        for (i, c) in b.clients.iter().enumerate() {
            let mut set: BTreeSet<usize> = b.fixed[i].iter().copied().collect();
            if let Some(w) = wanted.get(&c.id) {
                for s in w {
                    let n = b.sessions.iter().position(|x| x.id == *s).ok_or_else(|| {
                        AppError::invalid("assignments", "A session is not part of this track's week")
                    })?;
                    if !b.open.contains(&n) && !b.fixed[i].contains(&n) {
                        return Err(AppError::invalid(
                            "assignments",
                            "A session that already started cannot be changed",
                        ));
                    }
                    set.insert(n);
                }
            }
            assignments.push(set.into_iter().collect());
        }
        if wanted.keys().any(|c| !b.clients.iter().any(|x| x.id == *c)) {
            return Err(AppError::invalid("assignments", "A client is not enrolled in this track that week"));
        }
        let proposal = Proposal { assignments: assignments.clone(), unplaced: Vec::new(), score: Score::default() };
        let hard: Vec<String> = builder::check(&b.instance, &proposal)
            .into_iter()
            // A coordinator may leave someone short of their hours (that shows on the dose
            // dashboard); capacity, overlaps, availability and loads are never negotiable.
            .filter(|v| {
                !matches!(v, builder::Violation::MinutesShort { .. } | builder::Violation::ModalityShort { .. })
            })
            .map(|v| v.to_string())
            .collect();
        if !hard.is_empty() {
            return Err(AppError::invalid("assignments", format!("The schedule breaks a rule: {}", hard.join("; "))));
        }
        let ids: Vec<IopSessionId> = b.sessions.iter().map(|s| s.id).collect();
        let roster = tx.roster(&ids).await?;
        let now = self.now();
        let mut applied = Applied::default();
        let mut audit = Vec::new();
        for (i, c) in b.clients.iter().enumerate() {
            let want: BTreeSet<IopSessionId> = assignments[i].iter().map(|n| b.sessions[*n].id).collect();
            let have: BTreeSet<IopSessionId> = roster
                .iter()
                .filter(|r| r.client == c.id)
                .map(|r| r.session)
                .filter(|s| b.sessions.iter().position(|x| x.id == *s).is_some_and(|n| b.open.contains(&n)))
                .filter(|s| b.sessions.iter().any(|x| x.id == *s && x.track == Some(track)))
                .collect();
            let mut changed = false;
            for s in want.iter().filter(|s| !have.contains(s)) {
                let n = b.sessions.iter().position(|x| x.id == *s).unwrap_or(0);
                if !b.open.contains(&n) || b.sessions[n].track != Some(track) {
                    continue;
                }
                if tx
                    .add_to_roster(&RosterEntry {
                        session: *s,
                        client: c.id,
                        added_at: now,
                        added_by: ctx.actor.user_id,
                    })
                    .await?
                {
                    applied.added += 1;
                    changed = true;
                }
            }
            for s in have.iter().filter(|s| !want.contains(s)) {
                if tx.remove_from_roster(*s, c.id).await? {
                    applied.removed += 1;
                    changed = true;
                }
            }
            if changed {
                audit.push(AuditEvent {
                    client: Some(c.id),
                    subject: Some(format!("iop_track:{track}")),
                    detail: Some(format!("schedule {week}")),
                    ..self.ctx_event(ctx, AuditAction::SessionChanged, Outcome::Success)
                });
            }
        }
        tx.append_audit(audit).await?;
        tx.commit().await?;
        Ok(applied)
    }
}
