//! After discharge: the aftercare plan and the follow-up contacts at 30, 60 and 90 days whose
//! answers feed outcomes (DESIGN.md §2, §8).

use serde::Serialize;
use time::{Date, Duration};

use crate::text::{TextError, bounded_line};

/// The follow-up schedule after a discharge.
pub const FOLLOW_UP_DAYS: [u16; 3] = [30, 60, 90];

pub fn follow_up_dates(discharged_on: Date) -> Vec<(u16, Date)> {
    FOLLOW_UP_DAYS.iter().map(|d| (*d, discharged_on + Duration::days(i64::from(*d)))).collect()
}

/// What the plan says about each part of life after treatment. Free text, each optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AftercarePlan {
    pub referrals: Option<String>,
    pub sober_living: Option<String>,
    pub meetings: Option<String>,
    pub medication: Option<String>,
    pub appointments: Option<String>,
}

impl AftercarePlan {
    pub const MAX: usize = 2000;

    pub fn field(raw: &str) -> Result<Option<String>, TextError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        if raw.chars().count() > Self::MAX {
            return Err(TextError::TooLong { max: Self::MAX });
        }
        // Multi-line text is fine here; only control characters other than newlines are not.
        if raw.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
            return Err(TextError::ControlCharacter);
        }
        Ok(Some(raw.replace("\r\n", "\n")))
    }

    pub fn is_empty(&self) -> bool {
        self == &AftercarePlan::default()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubstanceUse {
    Abstinent,
    Using,
    Unknown,
}

impl SubstanceUse {
    pub const ALL: [SubstanceUse; 3] = [SubstanceUse::Abstinent, SubstanceUse::Using, SubstanceUse::Unknown];
    pub const fn code(self) -> &'static str {
        match self {
            SubstanceUse::Abstinent => "abstinent",
            SubstanceUse::Using => "using",
            SubstanceUse::Unknown => "unknown",
        }
    }
    pub const fn label(self) -> &'static str {
        match self {
            SubstanceUse::Abstinent => "Abstinent",
            SubstanceUse::Using => "Using",
            SubstanceUse::Unknown => "Did not say",
        }
    }
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// What a follow-up call found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FollowUpOutcome {
    pub reached: bool,
    /// Only known when the person was reached.
    pub substance_use: Option<SubstanceUse>,
    pub working_or_in_school: Option<bool>,
    pub readmitted_elsewhere: Option<bool>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutcomeError {
    #[error("say whether they were using or abstinent")]
    SubstanceUseMissing,
    #[error("answers about use, work and readmission need the person to have been reached")]
    AnswersWithoutContact,
}

impl FollowUpOutcome {
    /// A reached person has a substance-use answer; an unreached one has none of the answers.
    pub fn check(self) -> Result<Self, OutcomeError> {
        if self.reached && self.substance_use.is_none() {
            return Err(OutcomeError::SubstanceUseMissing);
        }
        if !self.reached
            && (self.substance_use.is_some()
                || self.working_or_in_school.is_some()
                || self.readmitted_elsewhere.is_some())
        {
            return Err(OutcomeError::AnswersWithoutContact);
        }
        Ok(self)
    }
}

/// Free-text notes of a follow-up call.
pub fn notes(raw: &str) -> Result<Option<String>, TextError> {
    if raw.trim().is_empty() { Ok(None) } else { bounded_line(raw, 1000).map(Some) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn follow_ups_fall_30_60_and_90_days_after_discharge() {
        assert_eq!(
            follow_up_dates(date!(2026 - 11 - 27)),
            vec![(30, date!(2026 - 12 - 27)), (60, date!(2027 - 01 - 26)), (90, date!(2027 - 02 - 25))]
        );
    }

    #[test]
    fn outcomes_must_be_coherent() {
        let reached = FollowUpOutcome {
            reached: true,
            substance_use: Some(SubstanceUse::Abstinent),
            working_or_in_school: Some(true),
            readmitted_elsewhere: Some(false),
            notes: None,
        };
        assert!(reached.clone().check().is_ok());
        assert_eq!(
            FollowUpOutcome { substance_use: None, ..reached.clone() }.check(),
            Err(OutcomeError::SubstanceUseMissing)
        );
        let not_reached = FollowUpOutcome {
            reached: false,
            substance_use: None,
            working_or_in_school: None,
            readmitted_elsewhere: None,
            notes: None,
        };
        assert!(not_reached.clone().check().is_ok());
        assert_eq!(
            FollowUpOutcome { working_or_in_school: Some(true), ..not_reached }.check(),
            Err(OutcomeError::AnswersWithoutContact)
        );
    }

    #[test]
    fn plan_fields_allow_lines_but_not_control_characters() {
        assert_eq!(AftercarePlan::field(" AA Tue/Thu\r\nSMART Sat "), Ok(Some("AA Tue/Thu\nSMART Sat".into())));
        assert_eq!(AftercarePlan::field("  "), Ok(None));
        assert_eq!(AftercarePlan::field("a\u{7}b"), Err(TextError::ControlCharacter));
        assert!(AftercarePlan::field(&"x".repeat(2001)).is_err());
    }
}
