//! Scoring of the built-in instruments (DESIGN.md §3), exactly per their published rules.
//!
//! Answers arrive as item id → value. Scoring refuses unknown items and out-of-range values,
//! and an incomplete form is not scored (the caller keeps the answers and says so). Item
//! wording is not here: only the rules and our own short labels live in code.

mod rules;

pub use rules::*;

use serde::Serialize;
use std::collections::BTreeMap;

use crate::client::Sex;

/// An instrument Stepdown can score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
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
}

impl Instrument {
    pub const ALL: [Instrument; 9] = [
        Instrument::Phq9,
        Instrument::Gad7,
        Instrument::Audit,
        Instrument::AuditC,
        Instrument::Bam,
        Instrument::CssrsScreener,
        Instrument::Pcl5,
        Instrument::CiwaAr,
        Instrument::Cows,
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
            Instrument::Bam | Instrument::CiwaAr | Instrument::Cows => (None, None),
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.code() == code)
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

/// Scores `answers` for `instrument`.
pub fn score(instrument: Instrument, answers: &Answers, ctx: &ScoringContext) -> Result<Score, ScoreError> {
    rules::score(instrument, answers, ctx)
}
