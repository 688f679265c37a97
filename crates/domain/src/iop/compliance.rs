//! Dose compliance (DESIGN.md §4, issue 5): for one client and one ISO week, the clinical time
//! attended against the level's weekly minimum, the modalities the treatment plan requires and
//! the H0015 day rule, plus a forecast from the sessions still scheduled this week, so that the
//! client chart can explain a week and a program dashboard can list the clients who will fall
//! short unless someone acts while the week is still open.
//!
//! Pure: no I/O and no clock. "Now" is a parameter (`today`, `now_time`), in the same civil
//! site-local time as every [`Slot`]; this module must never read the clock, convert to
//! instants, or guess the attendance of a session that has already started.
//!
//! # Rules, and why
//! - **Weeks** are ISO weeks (Monday first) of the site's calendar. A session belongs to the
//!   day of its civil start, all of it: sessions that would cross midnight are refused where
//!   sessions are created, so splitting them is not worth a rule. Because slots are civil and
//!   their length is stored in minutes, a DST change (a week of 167 or 169 hours) changes no
//!   session's length and no day's total.
//! - **Hours**: only [`Modality::is_clinical`] services count toward the weekly minimum and the
//!   H0015 days. Minutes attended (less than the slot when late or leaving early, 0 when absent)
//!   are capped at the slot's length: a record cannot claim more than the session lasted.
//! - **Modalities**: every attended service counts toward the plan's requirement for its own
//!   modality (case management too). A session counts toward a *sessions* requirement when at
//!   least one minute of it was attended; a *minutes* requirement sums the minutes attended.
//! - **Enrolment**: attended and scheduled sessions on days outside the client's enrolment
//!   window, or outside the week assessed, are ignored.
//! - **Prorating**: the program days of a week are the enrolled calendar weekdays Monday to
//!   Friday (not the days the client's track meets: this module knows no track, and a track
//!   change mid-week must not change the target). Every weekly quantity (the minimum minutes
//!   and each modality requirement) is multiplied by `program days / 5` and rounded up, so a
//!   full week keeps the level's number and a week with any program day keeps a requirement of
//!   at least one session. A week with no program day is [`Status::NotEnrolled`].
//! - **H0015**: a day with at least 180 attended clinical minutes is an H0015 day; the week
//!   meets the rule when it has at least 3 such days. That count is never prorated (a payer
//!   sees three qualifying days or not). It is a *requirement* (a [`Shortfall`]) only when the
//!   dose says the rule applies ([`WeeklyDose::h0015_applies`]: adolescent tracks of 6 h, for
//!   instance, cannot meet it) and the client is enrolled on all five weekdays: in a partial
//!   week it could not be met by any effort, each qualifying day is still billable on its own,
//!   and flagging every admission and discharge week would bury real risks on the dashboard.
//! - **Status**: [`Status::Met`] when nothing is missing from what was attended;
//!   [`Status::OnTrack`] when something is missing but attending every session still scheduled
//!   after now (civil start strictly after `(today, now_time)`) would meet every requirement;
//!   [`Status::AtRisk`] otherwise, which includes a week that is over and was not met. The
//!   forecast is only as good as the schedule: a week with nothing scheduled yet is at risk.
//!   Scheduled sessions must not repeat sessions already in the attended records.

use super::{AgeGroup, Modality, Slot};
use crate::level::Level;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::{Date, Duration, Time, Weekday};

/// Attended clinical minutes that make a day an H0015 day.
pub const H0015_DAY_MINUTES: u32 = 180;
/// H0015 days a week needs.
pub const H0015_DAYS_PER_WEEK: u8 = 3;
/// Program days (Monday to Friday) of a full week, the denominator of prorating.
pub const FULL_WEEK_PROGRAM_DAYS: u8 = 5;

/// An ISO week of the site's calendar: ISO year and week number, Monday first. The ISO year of
/// a week is that of its Thursday, so 2025-12-29 is in 2026-W01 and 2027-01-03 in 2026-W53.
/// Ordered chronologically; written `2026-W53`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct IsoWeek {
    // The Monday is the whole identity; year and week are derived from it.
    monday: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an ISO week: {0:?} (expected e.g. 2026-W53)")]
pub struct InvalidWeek(String);

impl IsoWeek {
    /// Week `week` of ISO year `year`; refuses week 53 of a year that has only 52.
    pub fn new(year: i32, week: u8) -> Result<Self, InvalidWeek> {
        Date::from_iso_week_date(year, week, Weekday::Monday)
            .map(|monday| Self { monday })
            .map_err(|_| InvalidWeek(format!("{year}-W{week:02}")))
    }

    /// The week a date falls in.
    pub fn of(date: Date) -> Self {
        let back = i64::from(date.weekday().number_days_from_monday());
        // Saturates only in the first days the `time` crate can represent.
        Self { monday: date.saturating_sub(Duration::days(back)) }
    }

    pub fn year(self) -> i32 {
        self.monday.to_iso_week_date().0
    }

    pub fn week(self) -> u8 {
        self.monday.to_iso_week_date().1
    }

    pub fn monday(self) -> Date {
        self.monday
    }

    pub fn sunday(self) -> Date {
        self.monday.saturating_add(Duration::days(6))
    }

    /// Monday to Sunday.
    pub fn days(self) -> [Date; 7] {
        std::array::from_fn(|i| self.monday.saturating_add(Duration::days(i as i64)))
    }

    pub fn contains(self, date: Date) -> bool {
        self.day_index(date).is_some()
    }

    pub fn next(self) -> Option<Self> {
        self.monday.checked_add(Duration::weeks(1)).map(|monday| Self { monday })
    }

    pub fn previous(self) -> Option<Self> {
        self.monday.checked_sub(Duration::weeks(1)).map(|monday| Self { monday })
    }

    /// 0 for Monday … 6 for Sunday, or `None` outside the week.
    fn day_index(self, date: Date) -> Option<usize> {
        usize::try_from((date - self.monday).whole_days()).ok().filter(|&i| i < 7)
    }
}

/// The ISO week a date falls in.
pub fn week_of(date: Date) -> IsoWeek {
    IsoWeek::of(date)
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-W{:02}", self.year(), self.week())
    }
}

impl FromStr for IsoWeek {
    type Err = InvalidWeek;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidWeek(s.to_owned());
        let (year, week) = s.trim().rsplit_once("-W").ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        let week: u8 = week.parse().map_err(|_| bad())?;
        Self::new(year, week).map_err(|_| bad())
    }
}

impl From<IsoWeek> for String {
    fn from(week: IsoWeek) -> Self {
        week.to_string()
    }
}

impl TryFrom<String> for IsoWeek {
    type Error = InvalidWeek;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// The client's days in the program: first and last day inclusive, either open-ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Enrolment {
    first_day: Option<Date>,
    last_day: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the last day in the program ({last}) is before the first ({first})")]
pub struct EnrolmentError {
    pub first: Date,
    pub last: Date,
}

impl Enrolment {
    pub fn new(first_day: Option<Date>, last_day: Option<Date>) -> Result<Self, EnrolmentError> {
        match (first_day, last_day) {
            (Some(first), Some(last)) if last < first => Err(EnrolmentError { first, last }),
            _ => Ok(Self { first_day, last_day }),
        }
    }

    /// Enrolled on every day (no known start or end).
    pub const fn open() -> Self {
        Self { first_day: None, last_day: None }
    }

    /// Enrolled from `first_day` on, no end yet.
    pub const fn starting(first_day: Date) -> Self {
        Self { first_day: Some(first_day), last_day: None }
    }

    pub const fn first_day(self) -> Option<Date> {
        self.first_day
    }

    pub const fn last_day(self) -> Option<Date> {
        self.last_day
    }

    pub fn contains(self, date: Date) -> bool {
        self.first_day.is_none_or(|f| f <= date) && self.last_day.is_none_or(|l| date <= l)
    }
}

/// The level's weekly minimum of attended clinical time, for a full week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WeeklyMinimum {
    minutes: u32,
}

impl WeeklyMinimum {
    pub const NONE: Self = Self { minutes: 0 };

    pub const fn from_minutes(minutes: u32) -> Self {
        Self { minutes }
    }

    pub const fn from_hours(hours: u16) -> Self {
        Self { minutes: hours as u32 * 60 }
    }

    /// The level's minimum for the age group (`min_hours_adult` / `min_hours_adolescent` of the
    /// catalogue), or `None` when the level sets none.
    pub fn for_level(level: &Level, age: AgeGroup) -> Option<Self> {
        let hours = match age {
            AgeGroup::Adult => level.min_hours_adult,
            AgeGroup::Adolescent => level.min_hours_adolescent,
        };
        hours.map(Self::from_hours)
    }

    pub const fn minutes(self) -> u32 {
        self.minutes
    }
}

/// How much of a modality: a number of sessions or of minutes attended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    Sessions(u16),
    Minutes(u32),
}

impl Amount {
    fn prorated(self, program_days: u8) -> Self {
        match self {
            Amount::Sessions(n) => Amount::Sessions(u16::try_from(prorate(u32::from(n), program_days)).unwrap_or(n)),
            Amount::Minutes(m) => Amount::Minutes(prorate(m, program_days)),
        }
    }
}

/// One line of the treatment plan: at least this much of this modality each week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModalityRequirement {
    pub modality: Modality,
    pub at_least: Amount,
}

/// What a client's week must contain, for a full week (prorated by [`assess`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyDose {
    /// The level's minimum of attended clinical time.
    pub minimum: WeeklyMinimum,
    /// The treatment plan's modalities.
    pub modalities: Vec<ModalityRequirement>,
    /// Whether the H0015 week (≥ 3 days of ≥ 3 h) is a requirement for this client (it is
    /// always counted and shown).
    pub h0015_applies: bool,
}

/// A session attended (or missed): `minutes` attended, less than the slot when late or leaving
/// early, 0 when absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attended {
    pub slot: Slot,
    pub modality: Modality,
    pub minutes: u16,
}

impl Attended {
    /// Present for the whole session.
    pub const fn full(slot: Slot, modality: Modality) -> Self {
        Self { slot, modality, minutes: slot.minutes }
    }

    /// Absent.
    pub const fn absent(slot: Slot, modality: Modality) -> Self {
        Self { slot, modality, minutes: 0 }
    }

    /// Minutes that count: never more than the slot.
    pub fn counted_minutes(&self) -> u32 {
        u32::from(self.minutes.min(self.slot.minutes))
    }
}

/// A session the client is scheduled for and that has not been held yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Upcoming {
    pub slot: Slot,
    pub modality: Modality,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every requirement is met by what was attended.
    Met,
    /// Not met yet, but attending every session still scheduled this week would meet it all.
    OnTrack,
    /// Even attending every session still scheduled cannot meet at least one requirement (this
    /// includes a week that is over and was not met).
    AtRisk,
    /// No program day (enrolled Monday to Friday) in this week.
    NotEnrolled,
}

impl Status {
    pub const fn code(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::OnTrack => "on_track",
            Status::AtRisk => "at_risk",
            Status::NotEnrolled => "not_enrolled",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Status::Met => "Met",
            Status::OnTrack => "On track",
            Status::AtRisk => "At risk",
            Status::NotEnrolled => "Not enrolled",
        }
    }
}

/// Something missing from a week, so a UI can say what and how much.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Shortfall {
    /// Clinical minutes below the (prorated) minimum.
    Hours { missing_minutes: u32 },
    /// Less of a modality than the (prorated) plan requires; `missing` is in the plan's unit.
    Modality { modality: Modality, missing: Amount },
    /// Fewer H0015 days than the rule needs.
    H0015Days { have: u8, need: u8 },
}

/// One day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DayCompliance {
    pub date: Date,
    /// Within the enrolment window; sessions on other days are ignored.
    pub enrolled: bool,
    /// Attended clinical minutes.
    pub clinical_minutes: u32,
    /// Clinical minutes still scheduled (after now).
    pub scheduled_clinical_minutes: u32,
    /// ≥ 180 attended clinical minutes.
    pub h0015: bool,
    /// Would be an H0015 day if every scheduled session is attended.
    pub h0015_forecast: bool,
}

/// One requirement of the plan for this week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ModalityCompliance {
    pub modality: Modality,
    /// The plan's requirement prorated to this week's program days.
    pub required: Amount,
    /// Sessions with any minute attended.
    pub sessions: u16,
    pub minutes: u32,
    pub scheduled_sessions: u16,
    pub scheduled_minutes: u32,
    pub met: bool,
}

/// The H0015 rule for the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct H0015Week {
    /// Days with ≥ 180 attended clinical minutes.
    pub days: u8,
    /// The same if every scheduled session is attended.
    pub forecast_days: u8,
    /// `days ≥ 3`, never prorated.
    pub met: bool,
    /// Whether a shortfall counts against the week: the dose applies the rule and the client is
    /// enrolled on all five weekdays.
    pub required: bool,
}

/// A client's week, as the chart and the dashboard show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WeekCompliance {
    pub week: IsoWeek,
    pub status: Status,
    /// The week has ended (today is after its Sunday): nothing can change it any more.
    pub closed: bool,
    /// Enrolled weekdays Monday to Friday, the numerator of prorating.
    pub program_days: u8,
    pub days: [DayCompliance; 7],
    /// Attended clinical minutes, the sum over the days.
    pub clinical_minutes: u32,
    /// Clinical minutes still scheduled this week (after now).
    pub scheduled_clinical_minutes: u32,
    /// The level's minimum prorated to the program days.
    pub required_minutes: u32,
    pub hours_met: bool,
    pub modalities: Vec<ModalityCompliance>,
    pub h0015: H0015Week,
    /// What is missing from what was attended (empty iff `Met`, or `NotEnrolled`).
    pub shortfalls: Vec<Shortfall>,
    /// What would still be missing after attending every scheduled session (non-empty iff
    /// `AtRisk`).
    pub forecast_shortfalls: Vec<Shortfall>,
}

impl WeekCompliance {
    /// For the program dashboard: at risk, and the week is not over, so booking extra sessions
    /// or reaching out can still change the outcome.
    pub fn needs_action(&self) -> bool {
        self.status == Status::AtRisk && !self.closed
    }
}

/// `quantity × program_days / 5`, rounded up.
fn prorate(quantity: u32, program_days: u8) -> u32 {
    let days = u64::from(program_days.min(FULL_WEEK_PROGRAM_DAYS));
    let full = u64::from(FULL_WEEK_PROGRAM_DAYS);
    u32::try_from((u64::from(quantity) * days).div_ceil(full)).unwrap_or(quantity)
}

#[derive(Clone, Copy, Default)]
struct Tally {
    sessions: u16,
    minutes: u32,
}

impl Tally {
    fn add(&mut self, minutes: u32) {
        if minutes > 0 {
            self.sessions = self.sessions.saturating_add(1);
        }
        self.minutes = self.minutes.saturating_add(minutes);
    }

    fn plus(self, other: Tally) -> Tally {
        Tally {
            sessions: self.sessions.saturating_add(other.sessions),
            minutes: self.minutes.saturating_add(other.minutes),
        }
    }

    /// What is missing of `required`, if anything.
    fn missing(self, required: Amount) -> Option<Amount> {
        match required {
            Amount::Sessions(n) => (self.sessions < n).then(|| Amount::Sessions(n - self.sessions)),
            Amount::Minutes(m) => (self.minutes < m).then(|| Amount::Minutes(m - self.minutes)),
        }
    }
}

/// Position in [`Modality::ALL`], for the per-modality tallies.
const fn modality_index(m: Modality) -> usize {
    match m {
        Modality::Individual => 0,
        Modality::Group => 1,
        Modality::Psychoeducation => 2,
        Modality::LifeSkills => 3,
        Modality::Wellness => 4,
        Modality::Family => 5,
        Modality::CaseManagement => 6,
    }
}

/// Assesses one client's `week`: see the module documentation for the rules. `attended` and
/// `upcoming` may hold sessions of other weeks or outside the enrolment; they are ignored.
/// `today` and `now_time` are civil site-local time, like the slots.
pub fn assess(
    week: IsoWeek,
    enrolment: Enrolment,
    dose: &WeeklyDose,
    attended: &[Attended],
    upcoming: &[Upcoming],
    today: Date,
    now_time: Time,
) -> WeekCompliance {
    let dates = week.days();
    let enrolled: [bool; 7] = std::array::from_fn(|i| enrolment.contains(dates[i]));
    let program_days = enrolled[..5].iter().fold(0u8, |n, &e| n + u8::from(e));
    let counted_day = |date: Date| week.day_index(date).filter(|&i| enrolled[i]);

    let mut clinical = [0u32; 7];
    let mut scheduled = [0u32; 7];
    let mut done = [Tally::default(); Modality::ALL.len()];
    let mut to_come = [Tally::default(); Modality::ALL.len()];

    for a in attended {
        let Some(day) = counted_day(a.slot.date) else { continue };
        let minutes = a.counted_minutes();
        if a.modality.is_clinical() {
            clinical[day] = clinical[day].saturating_add(minutes);
        }
        done[modality_index(a.modality)].add(minutes);
    }
    for u in upcoming {
        // Only sessions that have not started yet: one under way has its attendance to come.
        if (u.slot.date, u.slot.start) <= (today, now_time) {
            continue;
        }
        let Some(day) = counted_day(u.slot.date) else { continue };
        let minutes = u32::from(u.slot.minutes);
        if u.modality.is_clinical() {
            scheduled[day] = scheduled[day].saturating_add(minutes);
        }
        to_come[modality_index(u.modality)].add(minutes);
    }

    let days: [DayCompliance; 7] = std::array::from_fn(|i| DayCompliance {
        date: dates[i],
        enrolled: enrolled[i],
        clinical_minutes: clinical[i],
        scheduled_clinical_minutes: scheduled[i],
        h0015: clinical[i] >= H0015_DAY_MINUTES,
        h0015_forecast: clinical[i].saturating_add(scheduled[i]) >= H0015_DAY_MINUTES,
    });
    let clinical_minutes = clinical.iter().fold(0u32, |s, &m| s.saturating_add(m));
    let scheduled_clinical_minutes = scheduled.iter().fold(0u32, |s, &m| s.saturating_add(m));
    let h0015_days = days.iter().fold(0u8, |n, d| n + u8::from(d.h0015));
    let h0015_forecast_days = days.iter().fold(0u8, |n, d| n + u8::from(d.h0015_forecast));

    let required_minutes = prorate(dose.minimum.minutes(), program_days);
    let h0015 = H0015Week {
        days: h0015_days,
        forecast_days: h0015_forecast_days,
        met: h0015_days >= H0015_DAYS_PER_WEEK,
        required: dose.h0015_applies && program_days == FULL_WEEK_PROGRAM_DAYS,
    };

    let mut modalities = Vec::with_capacity(dose.modalities.len());
    let mut shortfalls = Vec::new();
    let mut forecast_shortfalls = Vec::new();

    if clinical_minutes < required_minutes {
        shortfalls.push(Shortfall::Hours { missing_minutes: required_minutes - clinical_minutes });
    }
    let forecast_minutes = clinical_minutes.saturating_add(scheduled_clinical_minutes);
    if forecast_minutes < required_minutes {
        forecast_shortfalls.push(Shortfall::Hours { missing_minutes: required_minutes - forecast_minutes });
    }
    for req in &dose.modalities {
        let i = modality_index(req.modality);
        let required = req.at_least.prorated(program_days);
        let missing_now = done[i].missing(required);
        if let Some(missing) = missing_now {
            shortfalls.push(Shortfall::Modality { modality: req.modality, missing });
        }
        if let Some(missing) = done[i].plus(to_come[i]).missing(required) {
            forecast_shortfalls.push(Shortfall::Modality { modality: req.modality, missing });
        }
        modalities.push(ModalityCompliance {
            modality: req.modality,
            required,
            sessions: done[i].sessions,
            minutes: done[i].minutes,
            scheduled_sessions: to_come[i].sessions,
            scheduled_minutes: to_come[i].minutes,
            met: missing_now.is_none(),
        });
    }
    if h0015.required {
        if h0015.days < H0015_DAYS_PER_WEEK {
            shortfalls.push(Shortfall::H0015Days { have: h0015.days, need: H0015_DAYS_PER_WEEK });
        }
        if h0015.forecast_days < H0015_DAYS_PER_WEEK {
            forecast_shortfalls.push(Shortfall::H0015Days { have: h0015.forecast_days, need: H0015_DAYS_PER_WEEK });
        }
    }

    let status = if program_days == 0 {
        // Nothing is required of a week outside the program.
        shortfalls.clear();
        forecast_shortfalls.clear();
        Status::NotEnrolled
    } else if shortfalls.is_empty() {
        Status::Met
    } else if forecast_shortfalls.is_empty() {
        Status::OnTrack
    } else {
        Status::AtRisk
    };

    WeekCompliance {
        week,
        status,
        closed: today > week.sunday(),
        program_days,
        days,
        clinical_minutes,
        scheduled_clinical_minutes,
        required_minutes,
        hours_met: clinical_minutes >= required_minutes,
        modalities,
        h0015,
        shortfalls,
        forecast_shortfalls,
    }
}
