//! The person in care. The continuum issue adds demographics, contacts and identifiers; the
//! foundation needs only enough to scope access and audit reads.

use crate::ids::ClientId;
use crate::text::PersonName;
use serde::Serialize;
use time::Date;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Client {
    pub id: ClientId,
    pub given_name: PersonName,
    pub family_name: PersonName,
    pub date_of_birth: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BirthDateError {
    #[error("must not be in the future")]
    InFuture,
    #[error("must be within the last 120 years")]
    TooOld,
}

/// A date of birth must be today or earlier and plausible for a living person.
pub fn check_birth_date(dob: Date, today: Date) -> Result<Date, BirthDateError> {
    if dob > today {
        return Err(BirthDateError::InFuture);
    }
    if today.year() - dob.year() > 120 {
        return Err(BirthDateError::TooOld);
    }
    Ok(dob)
}

/// The role someone plays on a client's care team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamRole {
    PrimaryCounselor,
    Counselor,
    Intake,
    Other,
}

impl TeamRole {
    pub const ALL: [TeamRole; 4] = [TeamRole::PrimaryCounselor, TeamRole::Counselor, TeamRole::Intake, TeamRole::Other];
    pub const fn code(self) -> &'static str {
        match self {
            TeamRole::PrimaryCounselor => "primary_counselor",
            TeamRole::Counselor => "counselor",
            TeamRole::Intake => "intake",
            TeamRole::Other => "other",
        }
    }
    pub const fn label(self) -> &'static str {
        match self {
            TeamRole::PrimaryCounselor => "Primary counselor",
            TeamRole::Counselor => "Counselor",
            TeamRole::Intake => "Intake",
            TeamRole::Other => "Other",
        }
    }
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn birth_dates() {
        let today = date!(2026 - 11 - 27);
        assert_eq!(check_birth_date(date!(1990 - 02 - 03), today), Ok(date!(1990 - 02 - 03)));
        assert_eq!(check_birth_date(today, today), Ok(today));
        assert_eq!(check_birth_date(date!(2026 - 11 - 28), today), Err(BirthDateError::InFuture));
        assert_eq!(check_birth_date(date!(1900 - 01 - 01), today), Err(BirthDateError::TooOld));
    }
}
