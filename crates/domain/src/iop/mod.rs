//! The intensive outpatient program (DESIGN.md §4): the kinds of service, the weekly dose a
//! level requires, and (in submodules) dose compliance and the schedule builder.
//!
//! Times here are civil times on the site's calendar (`time::Date` + `time::Time`), never
//! instants: a 9:00 group is at 9:00 on both sides of a DST change, and a week is the site's
//! ISO week. Converting to instants is the caller's job, with the site's zone.

pub mod builder;
pub mod compliance;
pub mod program;
use serde::{Deserialize, Serialize};

/// The six kinds of service of an IOP, plus case management.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    Individual,
    Group,
    Psychoeducation,
    LifeSkills,
    Wellness,
    Family,
    CaseManagement,
}

impl Modality {
    pub const ALL: [Modality; 7] = [
        Modality::Individual,
        Modality::Group,
        Modality::Psychoeducation,
        Modality::LifeSkills,
        Modality::Wellness,
        Modality::Family,
        Modality::CaseManagement,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Modality::Individual => "individual",
            Modality::Group => "group",
            Modality::Psychoeducation => "psychoeducation",
            Modality::LifeSkills => "life_skills",
            Modality::Wellness => "wellness",
            Modality::Family => "family",
            Modality::CaseManagement => "case_management",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Modality::Individual => "Individual therapy",
            Modality::Group => "Group therapy",
            Modality::Psychoeducation => "Psychoeducation",
            Modality::LifeSkills => "Life skills",
            Modality::Wellness => "Wellness",
            Modality::Family => "Family therapy",
            Modality::CaseManagement => "Case management",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == code)
    }

    /// Counts toward the level's weekly clinical hours. Case management is a service but not
    /// treatment time.
    pub const fn is_clinical(self) -> bool {
        !matches!(self, Modality::CaseManagement)
    }

    /// Held for one client at a time (individual, family); the others are groups.
    pub const fn is_one_to_one(self) -> bool {
        matches!(self, Modality::Individual | Modality::Family | Modality::CaseManagement)
    }
}

/// Adult and adolescent minimums differ (2.1: 9 h adults, 6 h adolescents).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeGroup {
    Adult,
    Adolescent,
}

/// When a session happens, on the site's calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Slot {
    pub date: time::Date,
    pub start: time::Time,
    /// Length in minutes.
    pub minutes: u16,
}

impl Slot {
    /// Minutes since midnight at which it starts and ends (ends may pass 24 h for a session
    /// that runs past midnight; such sessions are refused where sessions are created).
    pub fn span(&self) -> (u32, u32) {
        let s = u32::from(self.start.hour()) * 60 + u32::from(self.start.minute());
        (s, s + u32::from(self.minutes))
    }

    /// True when the two slots share a minute on the same day.
    pub fn overlaps(&self, other: &Slot) -> bool {
        if self.date != other.date {
            return false;
        }
        let (a0, a1) = self.span();
        let (b0, b1) = other.span();
        a0 < b1 && b0 < a1
    }
}
