//! Measurement-based care: which forms are due for a placement and when, when the next
//! readiness review falls, and whether a client's scores are improving.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use crate::forms::FormAnswers;
use crate::ids::{AlertId, ClientId, EpisodeId, PlacementId, ResponseId, UserId};
use crate::instruments::{Instrument, SafetyFlag};
use crate::level::{Catalogue, Level};

/// Who filled in a form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// A staff member asked the questions (or rated, for withdrawal scales).
    Staff,
    /// The client answered alone in client mode.
    Client,
}

impl ResponseMode {
    pub const fn code(self) -> &'static str {
        match self {
            ResponseMode::Staff => "staff",
            ResponseMode::Client => "client",
        }
    }
    pub fn parse(code: &str) -> Option<Self> {
        [ResponseMode::Staff, ResponseMode::Client].into_iter().find(|m| m.code() == code)
    }
}

/// A saved set of answers. Written once; a correction is a new response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FormResponse {
    pub id: ResponseId,
    pub client: ClientId,
    pub episode: Option<EpisodeId>,
    pub placement: Option<PlacementId>,
    pub form_url: String,
    pub form_version: String,
    pub instrument: Option<Instrument>,
    pub answers: FormAnswers,
    /// Every required question answered; only complete forms are scored.
    pub complete: bool,
    pub total: Option<i64>,
    pub band: Option<String>,
    pub band_label: Option<String>,
    pub subscores: Vec<(String, i64)>,
    pub flags: Vec<SafetyFlag>,
    pub mode: ResponseMode,
    pub recorded_by: UserId,
    pub authored_at: OffsetDateTime,
}

impl FormResponse {
    /// The value charted for this response, when it was scored.
    pub fn trend_value(&self) -> Option<i64> {
        let i = self.instrument?;
        if !self.complete {
            return None;
        }
        match i {
            Instrument::Bam => self.subscore("use"),
            Instrument::CheckIn => self.subscore("craving"),
            _ => self.total,
        }
    }

    pub fn subscore(&self, name: &str) -> Option<i64> {
        self.subscores.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

/// Why an alert was raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "cause")]
pub enum AlertKind {
    Safety(SafetyFlag),
    /// A withdrawal scale reached the center's threshold.
    Withdrawal(Instrument),
}

impl AlertKind {
    pub fn code(self) -> String {
        match self {
            AlertKind::Safety(f) => f.code().to_owned(),
            AlertKind::Withdrawal(i) => format!("withdrawal:{}", i.code()),
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code.strip_prefix("withdrawal:") {
            Some(i) => Instrument::parse(i).map(AlertKind::Withdrawal),
            None => SafetyFlag::parse(code).map(AlertKind::Safety),
        }
    }

    pub fn label(self) -> String {
        match self {
            AlertKind::Safety(f) => f.label().to_owned(),
            AlertKind::Withdrawal(i) => format!("{} at or above the alert threshold", i.title()),
        }
    }

    pub const fn is_safety(self) -> bool {
        matches!(self, AlertKind::Safety(_))
    }
}

/// What the clinician did about an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// An action taken (seen by the clinician, physician called, medication given…).
    Action,
    /// A safety plan written with the client.
    SafetyPlan,
}

impl AlertAction {
    pub const fn code(self) -> &'static str {
        match self {
            AlertAction::Action => "action",
            AlertAction::SafetyPlan => "safety_plan",
        }
    }
    pub fn parse(code: &str) -> Option<Self> {
        [AlertAction::Action, AlertAction::SafetyPlan].into_iter().find(|a| a.code() == code)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Acknowledgement {
    pub by: UserId,
    pub at: OffsetDateTime,
    pub action: AlertAction,
    pub text: String,
}

/// An alert to the care team: open until a clinician acknowledges it with what was done.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub id: AlertId,
    pub client: ClientId,
    pub response: Option<ResponseId>,
    pub kind: AlertKind,
    /// Non-identifying detail, e.g. "CIWA-Ar 14 (alert from 10)".
    pub detail: String,
    pub raised_at: OffsetDateTime,
    pub acknowledgement: Option<Acknowledgement>,
}

/// When an instrument is given at a level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleRule {
    pub instrument: Instrument,
    /// Given on the first day of the placement.
    pub at_start: bool,
    /// Repeated this long after the last completed form.
    pub every: Option<Duration>,
    /// Given in the last days before the planned end.
    pub at_end: bool,
    /// Repeats only once a clinician has started the series in this placement (withdrawal
    /// scales: the nurse chooses CIWA-Ar or COWS by the substance).
    pub once_started: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleJson {
    instrument: String,
    #[serde(default)]
    at_start: bool,
    every_days: Option<u16>,
    every_hours: Option<u16>,
    #[serde(default)]
    at_end: bool,
    #[serde(default)]
    once_started: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleJson {
    version: String,
    /// By setting (`inpatient`, `residential`, `day`, `outpatient`), then by level code,
    /// the more specific winning.
    #[serde(default)]
    settings: BTreeMap<String, Vec<RuleJson>>,
    #[serde(default)]
    levels: BTreeMap<String, Vec<RuleJson>>,
    /// Given at every level.
    #[serde(default)]
    all: Vec<RuleJson>,
}

/// A center's measurement schedule (data, versioned).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub version: String,
    settings: BTreeMap<String, Vec<ScheduleRule>>,
    levels: BTreeMap<String, Vec<ScheduleRule>>,
    all: Vec<ScheduleRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("measurement schedule is not valid: {0}")]
pub struct ScheduleError(pub String);

const DEFAULT_SCHEDULE: &str = include_str!("../data/measurement-schedule.json");

impl Schedule {
    pub fn builtin() -> Result<Self, ScheduleError> {
        Self::from_json(DEFAULT_SCHEDULE)
    }

    pub fn from_json(text: &str) -> Result<Self, ScheduleError> {
        let raw: ScheduleJson = serde_json::from_str(text).map_err(|e| ScheduleError(e.to_string()))?;
        let convert = |rules: Vec<RuleJson>| -> Result<Vec<ScheduleRule>, ScheduleError> {
            rules
                .into_iter()
                .map(|r| {
                    let instrument = Instrument::parse(&r.instrument)
                        .ok_or_else(|| ScheduleError(format!("unknown instrument {:?}", r.instrument)))?;
                    let every = match (r.every_days, r.every_hours) {
                        (Some(_), Some(_)) => {
                            return Err(ScheduleError(format!(
                                "{}: every_days or every_hours, not both",
                                r.instrument
                            )));
                        }
                        (Some(0), _) | (_, Some(0)) => {
                            return Err(ScheduleError(format!("{}: an interval must be positive", r.instrument)));
                        }
                        (Some(d), None) => Some(Duration::days(i64::from(d))),
                        (None, Some(h)) => Some(Duration::hours(i64::from(h))),
                        (None, None) => None,
                    };
                    if !r.at_start && every.is_none() && !r.at_end {
                        return Err(ScheduleError(format!("{}: say when it is given", r.instrument)));
                    }
                    Ok(ScheduleRule {
                        instrument,
                        at_start: r.at_start,
                        every,
                        at_end: r.at_end,
                        once_started: r.once_started,
                    })
                })
                .collect()
        };
        let mut settings = BTreeMap::new();
        for (k, v) in raw.settings {
            settings.insert(k, convert(v)?);
        }
        let mut levels = BTreeMap::new();
        for (k, v) in raw.levels {
            levels.insert(k, convert(v)?);
        }
        Ok(Self { version: raw.version, settings, levels, all: convert(raw.all)? })
    }

    /// The rules for a level: the level's own, else its setting's, plus those for every level.
    /// A more specific rule for an instrument replaces a general one.
    pub fn rules_for(&self, level: &Level) -> Vec<ScheduleRule> {
        let specific = self.levels.get(level.code.as_str()).or_else(|| self.settings.get(level.setting.code()));
        let mut out: Vec<ScheduleRule> = specific.cloned().unwrap_or_default();
        for r in &self.all {
            if !out.iter().any(|o| o.instrument == r.instrument) {
                out.push(r.clone());
            }
        }
        out
    }
}

/// Why a form is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DueReason {
    Start,
    Repeat,
    End,
}

impl DueReason {
    pub const fn label(self) -> &'static str {
        match self {
            DueReason::Start => "at the start of this level",
            DueReason::Repeat => "repeat",
            DueReason::End => "before the planned end",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Due {
    pub instrument: Instrument,
    pub due_at: OffsetDateTime,
    pub overdue: bool,
    pub reason: DueReason,
}

/// What is known about a placement to tell what is due.
#[derive(Clone, Debug)]
pub struct PlacementWindow {
    /// The first instant of the placement's first day, in the site's zone.
    pub start: OffsetDateTime,
    pub planned_end: Option<OffsetDateTime>,
}

/// Days before the planned end in which the end-of-level forms are due.
const END_WINDOW_DAYS: i64 = 3;
/// A start-of-level form is overdue after its first day.
const START_GRACE: Duration = Duration::days(1);

/// The forms due now (or overdue) for one placement. `completed` holds, per instrument, the
/// times of completed forms in this placement, and `started` the instruments with any form.
pub fn due(
    rules: &[ScheduleRule],
    window: &PlacementWindow,
    completed: &BTreeMap<Instrument, Vec<OffsetDateTime>>,
    now: OffsetDateTime,
) -> Vec<Due> {
    let mut out = Vec::new();
    for rule in rules {
        let done = completed.get(&rule.instrument).map(Vec::as_slice).unwrap_or_default();
        let last = done.iter().max().copied();
        if rule.once_started && last.is_none() {
            continue;
        }
        if rule.at_end
            && let Some(end) = window.planned_end
        {
            let opens = end - Duration::days(END_WINDOW_DAYS);
            if now >= opens && !done.iter().any(|t| *t >= opens) {
                out.push(Due { instrument: rule.instrument, due_at: end, overdue: now > end, reason: DueReason::End });
                continue;
            }
        }
        if rule.at_start && last.is_none() {
            out.push(Due {
                instrument: rule.instrument,
                due_at: window.start,
                overdue: now > window.start + START_GRACE,
                reason: DueReason::Start,
            });
            continue;
        }
        if let Some(every) = rule.every {
            let due_at = last.unwrap_or(window.start) + every;
            if due_at <= now + Duration::hours(if every >= Duration::days(1) { 24 } else { 0 }) {
                // Day-scale forms show a day ahead; hourly ones at their hour.
                let grace = if every >= Duration::days(1) { Duration::days(1) } else { Duration::minutes(30) };
                out.push(Due {
                    instrument: rule.instrument,
                    due_at,
                    overdue: now > due_at + grace,
                    reason: DueReason::Repeat,
                });
            }
        }
    }
    out.sort_by_key(|d| d.due_at);
    out
}

/// Review cadence per level: the catalogue's, with a center's overrides by level code.
pub fn review_days(catalogue: &Catalogue, level: &str, overrides: &BTreeMap<String, u16>) -> Option<u16> {
    overrides.get(level).copied().or_else(|| catalogue.level(level).ok().map(|l| l.review_days)).filter(|d| *d > 0)
}

/// The next readiness review: the cadence after the last review in this placement, or after
/// the placement started.
pub fn next_review(placement_start: Date, last_review: Option<Date>, cadence_days: u16) -> Date {
    let base = last_review.filter(|d| *d >= placement_start).unwrap_or(placement_start);
    base.saturating_add(Duration::days(i64::from(cadence_days)))
}

/// How a client's scores moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Improving,
    Unchanged,
    Worsening,
}

impl Trend {
    pub const fn label(self) -> &'static str {
        match self {
            Trend::Improving => "Improving",
            Trend::Unchanged => "No reliable change",
            Trend::Worsening => "Worsening",
        }
    }
}

/// Compares the first and latest totals against the instrument's reliable change. Lower is
/// better, except on the self-assessment where higher is better.
pub fn trend(instrument: Instrument, first: i64, latest: i64) -> Option<Trend> {
    let rc = instrument.reliable_change()?;
    let better = if instrument == Instrument::SelfAssessment { latest - first } else { first - latest };
    Some(if better >= rc {
        Trend::Improving
    } else if -better >= rc {
        Trend::Worsening
    } else {
        Trend::Unchanged
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn rule(i: Instrument, at_start: bool, every: Option<Duration>, at_end: bool) -> ScheduleRule {
        ScheduleRule { instrument: i, at_start, every, at_end, once_started: false }
    }

    fn window() -> PlacementWindow {
        PlacementWindow { start: datetime!(2026-11-01 00:00 UTC), planned_end: Some(datetime!(2026-12-01 00:00 UTC)) }
    }

    #[test]
    fn start_forms_are_due_on_day_one_and_overdue_after() {
        let rules = [rule(Instrument::Phq9, true, Some(Duration::days(14)), true)];
        let d = due(&rules, &window(), &BTreeMap::new(), datetime!(2026-11-01 10:00 UTC));
        assert_eq!(d.len(), 1);
        assert!(!d[0].overdue);
        assert_eq!(d[0].reason, DueReason::Start);
        let d = due(&rules, &window(), &BTreeMap::new(), datetime!(2026-11-03 10:00 UTC));
        assert!(d[0].overdue);
    }

    #[test]
    fn repeats_count_from_the_last_completed_form() {
        let rules = [rule(Instrument::Phq9, true, Some(Duration::days(14)), false)];
        let done = BTreeMap::from([(Instrument::Phq9, vec![datetime!(2026-11-01 09:00 UTC)])]);
        assert!(due(&rules, &window(), &done, datetime!(2026-11-10 09:00 UTC)).is_empty());
        let d = due(&rules, &window(), &done, datetime!(2026-11-15 08:00 UTC));
        assert_eq!(d[0].due_at, datetime!(2026-11-15 09:00 UTC));
        assert!(!d[0].overdue);
        assert!(due(&rules, &window(), &done, datetime!(2026-11-16 10:00 UTC))[0].overdue);
    }

    #[test]
    fn end_forms_open_three_days_before_the_planned_end() {
        let rules = [rule(Instrument::Gad7, false, None, true)];
        assert!(due(&rules, &window(), &BTreeMap::new(), datetime!(2026-11-27 00:00 UTC)).is_empty());
        let d = due(&rules, &window(), &BTreeMap::new(), datetime!(2026-11-28 00:00 UTC));
        assert_eq!(d[0].reason, DueReason::End);
        let done = BTreeMap::from([(Instrument::Gad7, vec![datetime!(2026-11-29 00:00 UTC)])]);
        assert!(due(&rules, &window(), &done, datetime!(2026-11-30 00:00 UTC)).is_empty());
    }

    #[test]
    fn withdrawal_series_repeat_by_the_hour_once_started() {
        let mut r = rule(Instrument::CiwaAr, false, Some(Duration::hours(4)), false);
        r.once_started = true;
        assert!(due(&[r.clone()], &window(), &BTreeMap::new(), datetime!(2026-11-02 00:00 UTC)).is_empty());
        let done = BTreeMap::from([(Instrument::CiwaAr, vec![datetime!(2026-11-02 08:00 UTC)])]);
        assert!(due(&[r.clone()], &window(), &done, datetime!(2026-11-02 11:59 UTC)).is_empty());
        let d = due(&[r.clone()], &window(), &done, datetime!(2026-11-02 12:00 UTC));
        assert!(!d[0].overdue);
        assert!(due(&[r], &window(), &done, datetime!(2026-11-02 12:31 UTC))[0].overdue);
    }

    #[test]
    fn the_builtin_schedule_names_real_levels_and_instruments() {
        let s = Schedule::builtin().unwrap();
        for cat in ["asam-3", "asam-4"] {
            let c = Catalogue::builtin(cat).unwrap();
            for level in &c.levels {
                let rules = s.rules_for(level);
                assert!(rules.iter().any(|r| r.instrument == Instrument::CheckIn), "{cat} {}", level.code.as_str());
            }
        }
        let c = Catalogue::builtin("asam-3").unwrap();
        let res = s.rules_for(c.level("3.5").unwrap());
        assert!(res.iter().any(|r| r.instrument == Instrument::Phq9 && r.at_start && r.at_end));
        let wm = s.rules_for(c.level("3.7-WM").unwrap());
        assert!(wm.iter().any(|r| r.instrument == Instrument::CiwaAr && r.once_started));
    }

    #[test]
    fn schedules_refuse_nonsense() {
        assert!(Schedule::from_json(r#"{"version":"x","all":[{"instrument":"nope","at_start":true}]}"#).is_err());
        assert!(Schedule::from_json(r#"{"version":"x","all":[{"instrument":"phq-9","every_days":0}]}"#).is_err());
        assert!(Schedule::from_json(r#"{"version":"x","all":[{"instrument":"phq-9"}]}"#).is_err());
    }

    #[test]
    fn next_review_counts_from_the_last_review_in_the_placement() {
        let start = time::macros::date!(2026 - 11 - 01);
        assert_eq!(next_review(start, None, 7), time::macros::date!(2026 - 11 - 08));
        assert_eq!(
            next_review(start, Some(time::macros::date!(2026 - 11 - 09)), 7),
            time::macros::date!(2026 - 11 - 16)
        );
        // A review from an earlier placement does not count.
        assert_eq!(
            next_review(start, Some(time::macros::date!(2026 - 10 - 30)), 7),
            time::macros::date!(2026 - 11 - 08)
        );
    }

    #[test]
    fn trends_use_reliable_change() {
        assert_eq!(trend(Instrument::Phq9, 18, 13), Some(Trend::Improving));
        assert_eq!(trend(Instrument::Phq9, 18, 14), Some(Trend::Unchanged));
        assert_eq!(trend(Instrument::Phq9, 8, 13), Some(Trend::Worsening));
        assert_eq!(trend(Instrument::SelfAssessment, 6, 10), Some(Trend::Improving));
        assert_eq!(trend(Instrument::CssrsScreener, 0, 1), None);
    }
}
