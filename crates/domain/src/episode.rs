//! Episodes of care and their placements (DESIGN.md §2): the spine of the continuum.
//!
//! An episode runs from admission to discharge and holds a sequence of placements, each at one
//! level, site and (for residential levels) bed. Placements are half-open date ranges
//! `[start, end)`: a transition on day D ends the current placement on D and starts the next on
//! D, so by construction there is never a gap, never an overlap and never more than one open
//! placement. Every change goes through [`Episode::apply`], which refuses what would break that.

use serde::Serialize;
use time::Date;

use crate::ids::{BedId, ClientId, EpisodeId, PlacementId, SiteId};
use crate::level::{Catalogue, LevelCode};

/// Why someone left treatment: the TEDS-D reason-for-discharge codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DischargeReason {
    Completed,
    LeftAgainstAdvice,
    TerminatedByFacility,
    Transferred,
    Incarcerated,
    Death,
    Other,
}

impl DischargeReason {
    pub const ALL: [DischargeReason; 7] = [
        DischargeReason::Completed,
        DischargeReason::LeftAgainstAdvice,
        DischargeReason::TerminatedByFacility,
        DischargeReason::Transferred,
        DischargeReason::Incarcerated,
        DischargeReason::Death,
        DischargeReason::Other,
    ];

    /// The TEDS code (1–7).
    pub const fn teds(self) -> u8 {
        match self {
            DischargeReason::Completed => 1,
            DischargeReason::LeftAgainstAdvice => 2,
            DischargeReason::TerminatedByFacility => 3,
            DischargeReason::Transferred => 4,
            DischargeReason::Incarcerated => 5,
            DischargeReason::Death => 6,
            DischargeReason::Other => 7,
        }
    }

    pub const fn code(self) -> &'static str {
        match self {
            DischargeReason::Completed => "completed",
            DischargeReason::LeftAgainstAdvice => "left_against_advice",
            DischargeReason::TerminatedByFacility => "terminated_by_facility",
            DischargeReason::Transferred => "transferred",
            DischargeReason::Incarcerated => "incarcerated",
            DischargeReason::Death => "death",
            DischargeReason::Other => "other",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            DischargeReason::Completed => "Treatment completed",
            DischargeReason::LeftAgainstAdvice => "Dropped out / left against professional advice",
            DischargeReason::TerminatedByFacility => "Terminated by facility",
            DischargeReason::Transferred => "Transferred to another program or facility",
            DischargeReason::Incarcerated => "Incarcerated",
            DischargeReason::Death => "Death",
            DischargeReason::Other => "Other",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code || r.teds().to_string() == code)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub id: PlacementId,
    pub level: LevelCode,
    pub site: SiteId,
    pub bed: Option<BedId>,
    pub start: Date,
    pub planned_end: Option<Date>,
    /// Exclusive: the day the next placement started or the client was discharged.
    pub end: Option<Date>,
}

impl Placement {
    pub fn is_open(&self) -> bool {
        self.end.is_none()
    }

    /// Days at this placement up to `today` (or its end).
    pub fn length_of_stay(&self, today: Date) -> i64 {
        (self.end.unwrap_or(today) - self.start).whole_days().max(0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Discharge {
    pub on: Date,
    pub reason: DischargeReason,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Episode {
    pub id: EpisodeId,
    pub client: ClientId,
    pub admitted_on: Date,
    pub placements: Vec<Placement>,
    pub discharge: Option<Discharge>,
    /// The client's previous episode, for readmissions.
    pub previous: Option<EpisodeId>,
}

/// Where the next placement is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub id: PlacementId,
    pub level: LevelCode,
    pub site: SiteId,
    pub bed: Option<BedId>,
    pub planned_end: Option<Date>,
}

/// A decision that changes an episode. Who made it, when and why is recorded by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    Extend {
        new_planned_end: Date,
    },
    StepDown {
        on: Date,
        to: Destination,
    },
    StepUp {
        on: Date,
        to: Destination,
    },
    /// Same level, another site or bed.
    Transfer {
        on: Date,
        to: Destination,
    },
    Discharge {
        on: Date,
        reason: DischargeReason,
    },
}

impl Transition {
    pub const fn kind(&self) -> TransitionKind {
        match self {
            Transition::Extend { .. } => TransitionKind::Extend,
            Transition::StepDown { .. } => TransitionKind::StepDown,
            Transition::StepUp { .. } => TransitionKind::StepUp,
            Transition::Transfer { .. } => TransitionKind::Transfer,
            Transition::Discharge { .. } => TransitionKind::Discharge,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionKind {
    Admit,
    Extend,
    StepDown,
    StepUp,
    Transfer,
    Discharge,
}

impl TransitionKind {
    pub const ALL: [TransitionKind; 6] = [
        TransitionKind::Admit,
        TransitionKind::Extend,
        TransitionKind::StepDown,
        TransitionKind::StepUp,
        TransitionKind::Transfer,
        TransitionKind::Discharge,
    ];
    pub const fn code(self) -> &'static str {
        match self {
            TransitionKind::Admit => "admit",
            TransitionKind::Extend => "extend",
            TransitionKind::StepDown => "step_down",
            TransitionKind::StepUp => "step_up",
            TransitionKind::Transfer => "transfer",
            TransitionKind::Discharge => "discharge",
        }
    }
    pub const fn label(self) -> &'static str {
        match self {
            TransitionKind::Admit => "Admitted",
            TransitionKind::Extend => "Stay extended",
            TransitionKind::StepDown => "Stepped down",
            TransitionKind::StepUp => "Stepped up",
            TransitionKind::Transfer => "Transferred",
            TransitionKind::Discharge => "Discharged",
        }
    }
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Why a transition was refused. Each names the rule, in words a clinician understands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the episode is closed: the client was discharged")]
    EpisodeClosed,
    #[error("the date must be after the current placement started ({start})")]
    BeforeCurrentStart { start: Date },
    #[error("the date must not be in the future")]
    InFuture,
    #[error("a discharge date cannot be before the admission date")]
    BeforeAdmission,
    #[error("unknown level of care")]
    UnknownLevel,
    #[error("a step down must go to a less intensive level than {from}")]
    NotAStepDown { from: LevelCode },
    #[error("a step up must go to a more intensive level than {from}")]
    NotAStepUp { from: LevelCode },
    #[error("a transfer keeps the level; use step down or step up to change it")]
    TransferChangesLevel,
    #[error("a transfer must move the client to another site or bed")]
    TransferGoesNowhere,
    #[error("this level is residential: choose a bed")]
    BedRequired,
    #[error("this level is not residential: it has no bed")]
    BedNotAllowed,
    #[error("the new planned end must be after the current one")]
    PlannedEndNotLater,
    #[error("the planned end must be after the start")]
    PlannedEndBeforeStart,
}

fn check_destination(catalogue: &Catalogue, to: &Destination, start: Date) -> Result<u16, TransitionError> {
    let level = catalogue.get(&to.level).ok_or(TransitionError::UnknownLevel)?;
    match (level.setting.needs_bed(), to.bed.is_some()) {
        (true, false) => return Err(TransitionError::BedRequired),
        (false, true) => return Err(TransitionError::BedNotAllowed),
        _ => {}
    }
    if to.planned_end.is_some_and(|end| end <= start) {
        return Err(TransitionError::PlannedEndBeforeStart);
    }
    Ok(level.rank)
}

fn placement(to: Destination, start: Date) -> Placement {
    Placement { id: to.id, level: to.level, site: to.site, bed: to.bed, start, planned_end: to.planned_end, end: None }
}

impl Episode {
    /// Opens an episode with its first placement.
    pub fn admit(
        id: EpisodeId,
        client: ClientId,
        on: Date,
        first: Destination,
        previous: Option<EpisodeId>,
        catalogue: &Catalogue,
        today: Date,
    ) -> Result<Self, TransitionError> {
        if on > today {
            return Err(TransitionError::InFuture);
        }
        check_destination(catalogue, &first, on)?;
        Ok(Episode { id, client, admitted_on: on, placements: vec![placement(first, on)], discharge: None, previous })
    }

    pub fn is_open(&self) -> bool {
        self.discharge.is_none()
    }

    /// The placement the client is in now, if the episode is open.
    pub fn current(&self) -> Option<&Placement> {
        self.placements.last().filter(|p| p.is_open())
    }

    /// Applies `t`, or refuses it and leaves the episode as it was.
    pub fn apply(&mut self, t: Transition, catalogue: &Catalogue, today: Date) -> Result<(), TransitionError> {
        let current = self.current().cloned().ok_or(TransitionError::EpisodeClosed)?;
        let current_rank = catalogue.get(&current.level).map(|l| l.rank).ok_or(TransitionError::UnknownLevel)?;
        match t {
            Transition::Extend { new_planned_end } => {
                let floor = current.planned_end.unwrap_or(current.start);
                if new_planned_end <= floor {
                    return Err(TransitionError::PlannedEndNotLater);
                }
                if let Some(p) = self.placements.last_mut() {
                    p.planned_end = Some(new_planned_end);
                }
                Ok(())
            }
            Transition::Discharge { on, reason } => {
                if on > today {
                    return Err(TransitionError::InFuture);
                }
                if on < current.start {
                    return Err(if on < self.admitted_on {
                        TransitionError::BeforeAdmission
                    } else {
                        TransitionError::BeforeCurrentStart { start: current.start }
                    });
                }
                if let Some(p) = self.placements.last_mut() {
                    p.end = Some(on);
                }
                self.discharge = Some(Discharge { on, reason });
                Ok(())
            }
            Transition::StepDown { on, to } => {
                self.move_to(on, to, TransitionKind::StepDown, current, current_rank, catalogue, today)
            }
            Transition::StepUp { on, to } => {
                self.move_to(on, to, TransitionKind::StepUp, current, current_rank, catalogue, today)
            }
            Transition::Transfer { on, to } => {
                self.move_to(on, to, TransitionKind::Transfer, current, current_rank, catalogue, today)
            }
        }
    }

    /// Ends the current placement on `on` and starts the next there, after checking that the
    /// move is the kind of move it claims to be.
    #[allow(clippy::too_many_arguments)]
    fn move_to(
        &mut self,
        on: Date,
        to: Destination,
        kind: TransitionKind,
        current: Placement,
        current_rank: u16,
        catalogue: &Catalogue,
        today: Date,
    ) -> Result<(), TransitionError> {
        if on > today {
            return Err(TransitionError::InFuture);
        }
        if on <= current.start {
            return Err(TransitionError::BeforeCurrentStart { start: current.start });
        }
        let rank = check_destination(catalogue, &to, on)?;
        match kind {
            TransitionKind::StepDown if rank >= current_rank => {
                return Err(TransitionError::NotAStepDown { from: current.level });
            }
            TransitionKind::StepUp if rank <= current_rank => {
                return Err(TransitionError::NotAStepUp { from: current.level });
            }
            TransitionKind::Transfer if to.level != current.level => return Err(TransitionError::TransferChangesLevel),
            TransitionKind::Transfer if to.site == current.site && to.bed == current.bed => {
                return Err(TransitionError::TransferGoesNowhere);
            }
            _ => {}
        }
        if let Some(p) = self.placements.last_mut() {
            p.end = Some(on);
        }
        self.placements.push(placement(to, on));
        Ok(())
    }

    /// How long the episode has lasted up to `today` (or its discharge).
    pub fn length_of_stay(&self, today: Date) -> i64 {
        let end = self.discharge.as_ref().map(|d| d.on).unwrap_or(today);
        (end - self.admitted_on).whole_days().max(0)
    }

    /// The invariants every episode keeps; tests check them after every transition.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        let first = self.placements.first().ok_or("an episode has at least one placement")?;
        if first.start != self.admitted_on {
            return Err("the first placement starts on the admission date");
        }
        let open = self.placements.iter().filter(|p| p.is_open()).count();
        match (&self.discharge, open) {
            (None, 1) if self.placements.last().is_some_and(Placement::is_open) => {}
            (None, _) => return Err("an open episode has exactly one open placement, the last"),
            (Some(_), 0) => {}
            (Some(_), _) => return Err("a closed episode has no open placement"),
        }
        for pair in self.placements.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.end != Some(b.start) {
                return Err("placements follow each other without gap or overlap");
            }
            if b.start <= a.start {
                return Err("placement dates only move forward");
            }
        }
        if let (Some(d), Some(last)) = (&self.discharge, self.placements.last())
            && (last.end != Some(d.on) || d.on < last.start)
        {
            return Err("the last placement ends on the discharge date");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;
    use uuid::Uuid;

    fn cat() -> Catalogue {
        Catalogue::builtin("asam-3").unwrap()
    }
    fn site(n: u128) -> SiteId {
        SiteId::from_uuid(Uuid::from_u128(n))
    }
    fn bed(n: u128) -> Option<BedId> {
        Some(BedId::from_uuid(Uuid::from_u128(1000 + n)))
    }
    fn dest(level: &str, site_n: u128, bed_n: Option<u128>) -> Destination {
        Destination {
            id: PlacementId::from_uuid(Uuid::now_v7()),
            level: cat().level(level).unwrap().code.clone(),
            site: site(site_n),
            bed: bed_n.and_then(bed),
            planned_end: None,
        }
    }
    const TODAY: Date = date!(2026 - 11 - 27);

    fn residential() -> Episode {
        let e = Episode::admit(
            EpisodeId::from_uuid(Uuid::from_u128(1)),
            ClientId::from_uuid(Uuid::from_u128(2)),
            date!(2026 - 10 - 01),
            Destination { planned_end: Some(date!(2026 - 10 - 31)), ..dest("3.5", 1, Some(1)) },
            None,
            &cat(),
            TODAY,
        )
        .unwrap();
        e.check_invariants().unwrap();
        e
    }

    #[test]
    fn a_typical_stay_residential_extended_stepped_down_and_discharged() {
        let c = cat();
        let mut e = residential();
        e.apply(Transition::Extend { new_planned_end: date!(2026 - 11 - 14) }, &c, TODAY).unwrap();
        e.apply(Transition::StepDown { on: date!(2026 - 11 - 10), to: dest("2.1", 1, None) }, &c, TODAY).unwrap();
        e.check_invariants().unwrap();
        assert_eq!(e.placements[0].end, Some(date!(2026 - 11 - 10)));
        assert_eq!(e.placements[0].planned_end, Some(date!(2026 - 11 - 14)));
        assert_eq!(e.current().map(|p| p.level.as_str()), Some("2.1"));
        e.apply(Transition::Discharge { on: date!(2026 - 11 - 27), reason: DischargeReason::Completed }, &c, TODAY)
            .unwrap();
        e.check_invariants().unwrap();
        assert!(!e.is_open() && e.current().is_none());
        assert_eq!(e.length_of_stay(date!(2027 - 01 - 01)), 57);
    }

    /// Every illegal transition, with the error it must give; none may change the episode.
    #[test]
    fn illegal_transitions_are_refused_and_change_nothing() {
        let c = cat();
        let cases: Vec<(Transition, TransitionError)> = vec![
            (Transition::Extend { new_planned_end: date!(2026 - 10 - 31) }, TransitionError::PlannedEndNotLater),
            (Transition::Extend { new_planned_end: date!(2026 - 10 - 15) }, TransitionError::PlannedEndNotLater),
            (
                Transition::StepDown { on: date!(2026 - 10 - 01), to: dest("2.1", 1, None) },
                TransitionError::BeforeCurrentStart { start: date!(2026 - 10 - 01) },
            ),
            (
                Transition::StepDown { on: date!(2026 - 09 - 20), to: dest("2.1", 1, None) },
                TransitionError::BeforeCurrentStart { start: date!(2026 - 10 - 01) },
            ),
            (Transition::StepDown { on: date!(2026 - 12 - 01), to: dest("2.1", 1, None) }, TransitionError::InFuture),
            (
                Transition::StepDown { on: date!(2026 - 11 - 01), to: dest("3.7", 1, Some(2)) },
                TransitionError::NotAStepDown { from: c.level("3.5").unwrap().code.clone() },
            ),
            (
                Transition::StepDown { on: date!(2026 - 11 - 01), to: dest("3.5", 1, Some(2)) },
                TransitionError::NotAStepDown { from: c.level("3.5").unwrap().code.clone() },
            ),
            (
                Transition::StepUp { on: date!(2026 - 11 - 01), to: dest("2.1", 1, None) },
                TransitionError::NotAStepUp { from: c.level("3.5").unwrap().code.clone() },
            ),
            (
                Transition::StepDown { on: date!(2026 - 11 - 01), to: dest("3.1", 1, None) },
                TransitionError::BedRequired,
            ),
            (
                Transition::StepDown { on: date!(2026 - 11 - 01), to: dest("2.1", 1, Some(3)) },
                TransitionError::BedNotAllowed,
            ),
            (
                Transition::Transfer { on: date!(2026 - 11 - 01), to: dest("3.5", 1, Some(1)) },
                TransitionError::TransferGoesNowhere,
            ),
            (
                Transition::Transfer { on: date!(2026 - 11 - 01), to: dest("3.7", 2, Some(5)) },
                TransitionError::TransferChangesLevel,
            ),
            (
                Transition::StepDown {
                    on: date!(2026 - 11 - 01),
                    to: Destination { planned_end: Some(date!(2026 - 10 - 30)), ..dest("2.1", 1, None) },
                },
                TransitionError::PlannedEndBeforeStart,
            ),
            (
                Transition::StepDown {
                    on: date!(2026 - 11 - 01),
                    to: Destination { level: LevelCode("9.9".into()), ..dest("2.1", 1, None) },
                },
                TransitionError::UnknownLevel,
            ),
            (
                Transition::Discharge { on: date!(2026 - 09 - 01), reason: DischargeReason::Completed },
                TransitionError::BeforeAdmission,
            ),
            (
                Transition::Discharge { on: date!(2026 - 12 - 01), reason: DischargeReason::Completed },
                TransitionError::InFuture,
            ),
        ];
        for (t, want) in cases {
            let mut e = residential();
            let before = e.clone();
            assert_eq!(e.apply(t.clone(), &c, TODAY), Err(want), "{t:?}");
            assert_eq!(e, before, "{t:?} changed the episode");
        }
        let mut closed = residential();
        closed
            .apply(
                Transition::Discharge { on: date!(2026 - 10 - 05), reason: DischargeReason::LeftAgainstAdvice },
                &c,
                TODAY,
            )
            .unwrap();
        for t in [
            Transition::Extend { new_planned_end: date!(2026 - 12 - 01) },
            Transition::StepDown { on: date!(2026 - 11 - 01), to: dest("2.1", 1, None) },
            Transition::Discharge { on: date!(2026 - 11 - 01), reason: DischargeReason::Completed },
        ] {
            assert_eq!(closed.clone().apply(t, &c, TODAY), Err(TransitionError::EpisodeClosed));
        }
    }

    #[test]
    fn admission_rules() {
        let c = cat();
        let ids = (EpisodeId::from_uuid(Uuid::from_u128(1)), ClientId::from_uuid(Uuid::from_u128(2)));
        assert_eq!(
            Episode::admit(ids.0, ids.1, date!(2026 - 12 - 01), dest("2.1", 1, None), None, &c, TODAY),
            Err(TransitionError::InFuture)
        );
        assert_eq!(
            Episode::admit(ids.0, ids.1, TODAY, dest("3.5", 1, None), None, &c, TODAY),
            Err(TransitionError::BedRequired)
        );
        let same_day = Episode::admit(ids.0, ids.1, TODAY, dest("2.1", 1, None), None, &c, TODAY);
        let mut e = same_day.unwrap();
        e.apply(Transition::Discharge { on: TODAY, reason: DischargeReason::LeftAgainstAdvice }, &c, TODAY).unwrap();
        e.check_invariants().unwrap();
        assert_eq!(e.length_of_stay(TODAY), 0);
    }

    #[test]
    fn teds_codes() {
        let codes: Vec<u8> = DischargeReason::ALL.iter().map(|r| r.teds()).collect();
        assert_eq!(codes, [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(DischargeReason::parse("2"), Some(DischargeReason::LeftAgainstAdvice));
        assert_eq!(DischargeReason::parse("completed"), Some(DischargeReason::Completed));
        assert_eq!(DischargeReason::parse("8"), None);
    }
}
