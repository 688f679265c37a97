//! Scoring of the built-in instruments (DESIGN.md §3), exactly per their published rules.
//!
//! Answers arrive as item id → value. Scoring refuses unknown items and out-of-range values,
//! and an incomplete form is not scored (the caller keeps the answers and says so). Item
//! wording is not here: only the rules and our own short labels live in code.

mod rules;

pub use rules::*;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

use crate::client::Sex;

/// An instrument Stepdown can score. Serialized as its code (`phq-9`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Instrument {
    Phq9,
    Gad7,
    Audit,
    AuditC,
    Bam,
    CssrsScreener,
    Pcl5,
    CiwaAr,
    Cows,
    /// Our own daily check-in: mood, craving, triggers, sleep, use, thoughts of self-harm.
    CheckIn,
    /// Our own readiness self-rating, filled in by the client before a review.
    SelfAssessment,
}

impl Instrument {
    pub const ALL: [Instrument; 11] = [
        Instrument::Phq9,
        Instrument::Gad7,
        Instrument::Audit,
        Instrument::AuditC,
        Instrument::Bam,
        Instrument::CssrsScreener,
        Instrument::Pcl5,
        Instrument::CiwaAr,
        Instrument::Cows,
        Instrument::CheckIn,
        Instrument::SelfAssessment,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Instrument::Phq9 => "phq-9",
            Instrument::Gad7 => "gad-7",
            Instrument::Audit => "audit",
            Instrument::AuditC => "audit-c",
            Instrument::Bam => "bam-r",
            Instrument::CssrsScreener => "c-ssrs-screener",
            Instrument::Pcl5 => "pcl-5",
            Instrument::CiwaAr => "ciwa-ar",
            Instrument::Cows => "cows",
            Instrument::CheckIn => "daily-check-in",
            Instrument::SelfAssessment => "readiness-self-assessment",
        }
    }

    /// The name shown to people.
    pub const fn title(self) -> &'static str {
        match self {
            Instrument::Phq9 => "PHQ-9 (depression)",
            Instrument::Gad7 => "GAD-7 (anxiety)",
            Instrument::Audit => "AUDIT (alcohol use)",
            Instrument::AuditC => "AUDIT-C (alcohol use, short)",
            Instrument::Bam => "BAM-R (brief addiction monitor)",
            Instrument::CssrsScreener => "C-SSRS screener (suicide risk)",
            Instrument::Pcl5 => "PCL-5 (post-traumatic stress)",
            Instrument::CiwaAr => "CIWA-Ar (alcohol withdrawal)",
            Instrument::Cows => "COWS (opioid withdrawal)",
            Instrument::CheckIn => "Daily check-in",
            Instrument::SelfAssessment => "Readiness self-assessment",
        }
    }

    /// Forms a client may fill in on their own in client mode; the others are
    /// clinician-rated (withdrawal scales) or need a clinician beside them.
    pub const fn self_report(self) -> bool {
        !matches!(self, Instrument::CiwaAr | Instrument::Cows)
    }

    /// The smallest change in the total that counts as real (reliable change), for the
    /// caseload view; `None` where a total trend means nothing.
    pub const fn reliable_change(self) -> Option<i64> {
        match self {
            Instrument::Phq9 => Some(5),
            Instrument::Gad7 => Some(4),
            Instrument::Pcl5 => Some(10),
            Instrument::Audit => Some(4),
            Instrument::SelfAssessment => Some(3),
            _ => None,
        }
    }

    /// The value charted over time: the total, or for forms without one the subscore that
    /// matters most (BAM use, check-in craving); `None` for the C-SSRS.
    pub fn trend_value(self, score: &Score) -> Option<i64> {
        match self {
            Instrument::Bam => score.subscore("use"),
            Instrument::CheckIn => score.subscore("craving"),
            _ => score.total,
        }
    }

    /// Bands for charts, as (from, label); the last reaches `max_value`.
    pub fn chart_bands(self, ctx: &ScoringContext) -> Vec<(i64, &'static str)> {
        match self {
            Instrument::Phq9 => {
                vec![(0, "minimal"), (5, "mild"), (10, "moderate"), (15, "moderately severe"), (20, "severe")]
            }
            Instrument::Gad7 => vec![(0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")],
            Instrument::Audit => vec![(0, "zone I"), (8, "zone II"), (16, "zone III"), (20, "zone IV")],
            Instrument::AuditC => vec![(0, "negative"), (if ctx.sex == Some(Sex::Male) { 4 } else { 3 }, "positive")],
            Instrument::Pcl5 => vec![(0, "below threshold"), (33, "probable PTSD")],
            Instrument::CiwaAr => {
                vec![(0, "minimal"), (ctx.ciwa.moderate_from, "moderate"), (ctx.ciwa.severe_from, "severe")]
            }
            Instrument::Cows => {
                vec![(0, "none"), (5, "mild"), (13, "moderate"), (25, "moderately severe"), (37, "severe")]
            }
            Instrument::Bam => vec![(0, "no use"), (1, "use")],
            Instrument::CheckIn => vec![(0, "low"), (4, "moderate"), (7, "strong")],
            Instrument::SelfAssessment => vec![(0, "not yet ready"), (8, "getting there"), (12, "feels ready")],
            Instrument::CssrsScreener => Vec::new(),
        }
    }

    /// The highest value `trend_value` can take.
    pub fn max_value(self) -> i64 {
        match self {
            Instrument::Bam => 12,
            Instrument::CheckIn => 10,
            _ => items(self).iter().filter(|i| i.scored).map(|i| i.values.iter().copied().max().unwrap_or(0)).sum(),
        }
    }

    /// LOINC codes of the panel and of the total score, where they exist.
    pub const fn loinc(self) -> (Option<&'static str>, Option<&'static str>) {
        match self {
            Instrument::Phq9 => (Some("44249-1"), Some("44261-6")),
            Instrument::Gad7 => (Some("69737-5"), Some("70274-6")),
            Instrument::Audit => (Some("72110-0"), Some("75624-7")),
            Instrument::AuditC => (Some("72109-2"), Some("75626-2")),
            Instrument::CssrsScreener => (Some("93245-9"), Some("93374-7")),
            Instrument::Pcl5 => (Some("101697-1"), Some("101698-9")),
            Instrument::Bam
            | Instrument::CiwaAr
            | Instrument::Cows
            | Instrument::CheckIn
            | Instrument::SelfAssessment => (None, None),
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.code() == code)
    }
}

impl Serialize for Instrument {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Instrument {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Instrument::parse(&code).ok_or_else(|| serde::de::Error::custom(format!("unknown instrument {code:?}")))
    }
}

/// Item id → answer value.
pub type Answers = BTreeMap<String, i64>;

/// Why a safety alert must be raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SafetyFlag {
    /// PHQ-9 item 9 above 0.
    Phq9Item9,
    /// C-SSRS screener at moderate or high risk.
    CssrsModerate,
    CssrsHigh,
    /// A "yes" to thoughts of harming yourself on the daily check-in.
    CheckInSelfHarm,
}

impl SafetyFlag {
    pub const fn code(self) -> &'static str {
        match self {
            SafetyFlag::Phq9Item9 => "phq9_item9",
            SafetyFlag::CssrsModerate => "cssrs_moderate",
            SafetyFlag::CssrsHigh => "cssrs_high",
            SafetyFlag::CheckInSelfHarm => "check_in_self_harm",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            SafetyFlag::Phq9Item9 => "PHQ-9 item 9: thoughts of self-harm",
            SafetyFlag::CssrsModerate => "C-SSRS screener: moderate risk",
            SafetyFlag::CssrsHigh => "C-SSRS screener: high risk",
            SafetyFlag::CheckInSelfHarm => "Daily check-in: thoughts of harming themselves",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Self::Phq9Item9, Self::CssrsModerate, Self::CssrsHigh, Self::CheckInSelfHarm]
            .into_iter()
            .find(|f| f.code() == code)
    }
}

/// A scored response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Score {
    /// The total, for instruments that have one (the BAM and C-SSRS do not).
    pub total: Option<i64>,
    /// A stable code for the band (e.g. `moderate`).
    pub band: &'static str,
    pub band_label: &'static str,
    pub subscores: Vec<(&'static str, i64)>,
    pub flags: Vec<SafetyFlag>,
}

impl Score {
    pub fn subscore(&self, name: &str) -> Option<i64> {
        self.subscores.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    #[error("item {0} is not part of this instrument")]
    UnknownItem(String),
    #[error("item {item} cannot be {value}")]
    OutOfRange { item: String, value: i64 },
    #[error("not every item is answered")]
    Incomplete { missing: Vec<String> },
}

/// What scoring needs beyond the answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScoringContext {
    pub sex: Option<Sex>,
    pub ciwa: CiwaThresholds,
}

/// CIWA-Ar bands are set by each center; these are the common defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CiwaThresholds {
    /// Lowest total that is moderate.
    pub moderate_from: i64,
    /// Lowest total that is severe.
    pub severe_from: i64,
}

impl Default for CiwaThresholds {
    fn default() -> Self {
        Self { moderate_from: 10, severe_from: 16 }
    }
}

/// Where a withdrawal scale raises an alert (center-set): the lowest total that alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WithdrawalAlerts {
    pub ciwa_from: i64,
    pub cows_from: i64,
}

impl Default for WithdrawalAlerts {
    fn default() -> Self {
        // Moderate withdrawal on either scale usually calls for the physician and medication.
        Self { ciwa_from: 10, cows_from: 13 }
    }
}

impl WithdrawalAlerts {
    pub fn threshold(&self, instrument: Instrument) -> Option<i64> {
        match instrument {
            Instrument::CiwaAr => Some(self.ciwa_from),
            Instrument::Cows => Some(self.cows_from),
            _ => None,
        }
    }

    /// True when `current` reaches the threshold and the previous score of the same scale
    /// (in the same stay) did not: an alert per crossing, not per high score.
    pub fn crossed(&self, instrument: Instrument, previous: Option<i64>, current: i64) -> bool {
        self.threshold(instrument).is_some_and(|t| current >= t && previous.is_none_or(|p| p < t))
    }
}

/// Scores `answers` for `instrument`.
pub fn score(instrument: Instrument, answers: &Answers, ctx: &ScoringContext) -> Result<Score, ScoreError> {
    rules::score(instrument, answers, ctx)
}
