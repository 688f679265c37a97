//! A client's program sessions for the FHIR view (DESIGN.md §7, issue 5): every session the
//! client is on the roster of (an `Appointment`), and the ones they attended (an
//! `Encounter`, in the episode of care whose stay covers the session's day).
//!
//! Reading them is reading the client's record: `ReadClient` on that client, audited as a
//! `client.read` before anything is returned. Other clients on a group's roster are not part
//! of the answer; a group session is one client's visit here.

use domain::access::Permission;
use domain::audit::{AuditAction, AuditEvent, Outcome};
use domain::episode::Episode;
use domain::ids::{ClientId, EpisodeId};
use domain::iop::program::AttendanceStatus;
use std::collections::BTreeMap;
use time::{Date, Duration, OffsetDateTime};

use crate::error::AppError;
use crate::feeds::{session_instants, site_and_room};
use crate::ports::{ProgramSession, SessionFilter};
use crate::service::{App, Ctx};

/// What happened to the client's place in a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisitStatus {
    /// Scheduled, attendance not (yet) recorded.
    Booked,
    Cancelled,
    /// Present, late or left early, with the minutes attended.
    Attended(u16),
    /// Recorded absent (excused or not).
    Absent,
}

/// One client's place in one session.
#[derive(Clone, Debug)]
pub struct Visit {
    pub client: ClientId,
    pub session: ProgramSession,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub status: VisitStatus,
    /// The episode whose stay covers the session's day.
    pub episode: Option<EpisodeId>,
    pub site_name: String,
    pub room_name: Option<String>,
}

/// Session days to include, inclusive; open ends reach every session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VisitRange {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// The episode whose stay covers `on`: admitted on or before it and not discharged before it
/// (a session on the day of discharge still belongs to that stay). The latest admission wins
/// when a readmission starts the day another stay ends.
fn episode_on(episodes: &[Episode], on: Date) -> Option<EpisodeId> {
    episodes
        .iter()
        .filter(|e| e.admitted_on <= on && e.discharge.as_ref().is_none_or(|d| on <= d.on))
        .max_by_key(|e| e.admitted_on)
        .map(|e| e.id)
}

impl App {
    /// Every session the client is on the roster of, in `range`, by start.
    pub async fn client_appointments(
        &self,
        ctx: &Ctx,
        client: ClientId,
        range: VisitRange,
    ) -> Result<Vec<Visit>, AppError> {
        self.visits(ctx, client, range, "fhir appointments").await
    }

    /// The sessions in `range` the client attended (present, late or left early), by start.
    pub async fn client_encounters(
        &self,
        ctx: &Ctx,
        client: ClientId,
        range: VisitRange,
    ) -> Result<Vec<Visit>, AppError> {
        let all = self.visits(ctx, client, range, "fhir encounters").await?;
        Ok(all.into_iter().filter(|v| matches!(v.status, VisitStatus::Attended(_)) && !v.session.cancelled).collect())
    }

    async fn visits(&self, ctx: &Ctx, client: ClientId, range: VisitRange, why: &str) -> Result<Vec<Visit>, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ReadClinical, client)).await?;
        let mut tx = self.store.read().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let episodes = tx.episodes_of(client).await?;
        let mut visits = Vec::new();
        // No one is on a roster before their first admission.
        let first = episodes.iter().map(|e| e.admitted_on).min();
        if let Some(first) = first {
            let from = range.from.map_or(first, |f| f.max(first));
            let to = range.to.unwrap_or_else(|| self.now().date().saturating_add(Duration::days(3660)));
            if from <= to {
                let filter =
                    SessionFilter { client: Some(client), include_cancelled: true, ..SessionFilter::between(from, to) };
                let sessions = tx.program_sessions(&filter).await?;
                let attendance: BTreeMap<_, _> = tx
                    .program_days(&[client], from, to)
                    .await?
                    .into_iter()
                    .filter_map(|e| e.attendance.map(|a| (e.session, a)))
                    .collect();
                let sites = tx.sites().await?;
                for s in sessions {
                    let status = match attendance.get(&s.id) {
                        _ if s.cancelled => VisitStatus::Cancelled,
                        Some((st, _)) if st.is_absent() => VisitStatus::Absent,
                        Some((AttendanceStatus::Present | AttendanceStatus::Late | AttendanceStatus::LeftEarly, m)) => {
                            VisitStatus::Attended(*m)
                        }
                        Some(_) | None => VisitStatus::Booked,
                    };
                    let (start, end) = session_instants(&sites, &s);
                    let (site_name, room_name) = site_and_room(&sites, &s);
                    visits.push(Visit {
                        client,
                        episode: episode_on(&episodes, s.slot.date),
                        start,
                        end,
                        status,
                        site_name,
                        room_name,
                        session: s,
                    });
                }
            }
        }
        drop(tx);
        let event = AuditEvent {
            client: Some(client),
            detail: Some(why.to_owned()),
            ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
        };
        self.store.record(vec![event]).await?;
        visits.sort_by_key(|v| (v.start, v.session.id));
        Ok(visits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::episode::{Discharge, DischargeReason};
    use time::macros::date;
    use uuid::Uuid;

    fn episode(n: u128, from: Date, until: Option<Date>) -> Episode {
        Episode {
            id: EpisodeId::from_uuid(Uuid::from_u128(n)),
            client: ClientId::from_uuid(Uuid::from_u128(99)),
            admitted_on: from,
            placements: Vec::new(),
            discharge: until.map(|on| Discharge { on, reason: DischargeReason::Completed }),
            previous: None,
        }
    }

    #[test]
    fn the_stay_that_covers_the_day_owns_the_visit() {
        let first = episode(1, date!(2026 - 01 - 05), Some(date!(2026 - 02 - 01)));
        let second = episode(2, date!(2026 - 02 - 01), None);
        let eps = [first.clone(), second.clone()];
        assert_eq!(episode_on(&eps, date!(2026 - 01 - 04)), None, "before admission");
        assert_eq!(episode_on(&eps, date!(2026 - 01 - 05)), Some(first.id));
        assert_eq!(episode_on(&eps, date!(2026 - 02 - 01)), Some(second.id), "readmitted the day the first ended");
        assert_eq!(episode_on(std::slice::from_ref(&first), date!(2026 - 02 - 01)), Some(first.id), "day of discharge");
        assert_eq!(episode_on(&[first], date!(2026 - 02 - 02)), None, "after discharge");
        assert_eq!(episode_on(std::slice::from_ref(&second), date!(2027 - 06 - 01)), Some(second.id), "open stay");
    }

    #[test]
    fn civil_times_become_utc_instants_in_the_sites_zone() {
        use time::macros::{datetime, time};
        // Chicago: CST (UTC−6) in January, CDT (UTC−5) in July.
        let jan = App::civil_instant("America/Chicago", date!(2026 - 01 - 14), time!(18:00));
        assert_eq!(jan, datetime!(2026-01-15 00:00 UTC));
        let jul = App::civil_instant("America/Chicago", date!(2026 - 07 - 14), time!(18:00));
        assert_eq!(jul, datetime!(2026-07-14 23:00 UTC));
        // 02:30 does not exist on 2026-03-08 in Chicago: the compatible rule moves it an hour on.
        let gap = App::civil_instant("America/Chicago", date!(2026 - 03 - 08), time!(2:30));
        assert_eq!(gap, datetime!(2026-03-08 08:30 UTC));
        // 01:30 happens twice on 2026-11-01: the first one (still CDT) is taken.
        let fold = App::civil_instant("America/Chicago", date!(2026 - 11 - 01), time!(1:30));
        assert_eq!(fold, datetime!(2026-11-01 06:30 UTC));
        assert_eq!(
            App::civil_instant("Mars/Olympus", date!(2026 - 01 - 14), time!(18:00)),
            datetime!(2026-01-14 18:00 UTC)
        );
    }
}
