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

/// Sex recorded at birth, where a scoring rule needs it (AUDIT-C cut-offs differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Other,
    Unknown,
}

impl Sex {
    pub const ALL: [Sex; 4] = [Sex::Female, Sex::Male, Sex::Other, Sex::Unknown];
    pub const fn code(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
            Sex::Unknown => "unknown",
        }
    }
    pub const fn label(self) -> &'static str {
        match self {
            Sex::Female => "Female",
            Sex::Male => "Male",
            Sex::Other => "Other",
            Sex::Unknown => "Not recorded",
        }
    }
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// A medical record number, unique within the center.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Mrn(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrnError {
    #[error("must be 1 to 32 letters, digits or dashes")]
    Shape,
    #[error("format must contain {{seq}} or {{seq:N}} once, e.g. SD-{{seq:06}}")]
    Format,
}

impl Mrn {
    pub fn parse(raw: &str) -> Result<Self, MrnError> {
        let raw = raw.trim().to_uppercase();
        let ok = (1..=32).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if ok { Ok(Self(raw)) } else { Err(MrnError::Shape) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Mrn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a center numbers its records: a prefix, a zero-padded sequence and a suffix, written
/// like `SD-{seq:06}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MrnFormat {
    prefix: String,
    width: usize,
    suffix: String,
}

impl MrnFormat {
    pub fn parse(template: &str) -> Result<Self, MrnError> {
        let start = template.find("{seq").ok_or(MrnError::Format)?;
        let end = template[start..].find('}').map(|i| start + i).ok_or(MrnError::Format)?;
        let spec = &template[start + 4..end];
        let width = match spec.strip_prefix(':') {
            Some(w) => w.parse::<usize>().map_err(|_| MrnError::Format)?,
            None if spec.is_empty() => 0,
            None => return Err(MrnError::Format),
        };
        let (prefix, suffix) = (&template[..start], &template[end + 1..]);
        if width > 12 || suffix.contains("{seq") {
            return Err(MrnError::Format);
        }
        let check = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !check(prefix) || !check(suffix) {
            return Err(MrnError::Format);
        }
        Ok(Self { prefix: prefix.to_uppercase(), width, suffix: suffix.to_uppercase() })
    }

    pub fn render(&self, seq: u64) -> Result<Mrn, MrnError> {
        Mrn::parse(&format!("{}{:0width$}{}", self.prefix, seq, self.suffix, width = self.width))
    }
}

impl Default for MrnFormat {
    fn default() -> Self {
        Self { prefix: "SD-".into(), width: 6, suffix: String::new() }
    }
}

/// The parts of a client's record beyond their name, all optional.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct Demographics {
    pub preferred_name: Option<String>,
    pub pronouns: Option<String>,
    pub sex: Option<Sex>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

/// Someone to contact about the client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub id: crate::ids::ContactId,
    pub name: String,
    pub relationship: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The one to call in an emergency.
    pub emergency: bool,
}

/// Which payer is billed first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoveragePriority {
    Primary,
    Secondary,
    Tertiary,
}

impl CoveragePriority {
    pub const ALL: [CoveragePriority; 3] =
        [CoveragePriority::Primary, CoveragePriority::Secondary, CoveragePriority::Tertiary];
    pub const fn code(self) -> &'static str {
        match self {
            CoveragePriority::Primary => "primary",
            CoveragePriority::Secondary => "secondary",
            CoveragePriority::Tertiary => "tertiary",
        }
    }
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }
}

/// A payer that covers the client's care.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub id: crate::ids::CoverageId,
    pub payer: String,
    pub member_id: String,
    pub group_number: Option<String>,
    pub priority: CoveragePriority,
}

/// A full client record as the chart shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClientRecord {
    pub client: Client,
    pub mrn: Mrn,
    pub demographics: Demographics,
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
    fn mrn_formats() {
        let f = MrnFormat::parse("SD-{seq:06}").unwrap();
        assert_eq!(f.render(42).unwrap().as_str(), "SD-000042");
        assert_eq!(MrnFormat::parse("{seq}x").unwrap().render(7).unwrap().as_str(), "7X");
        assert_eq!(MrnFormat::parse("SD-"), Err(MrnError::Format));
        assert_eq!(MrnFormat::parse("SD {seq}"), Err(MrnError::Format));
        assert_eq!(Mrn::parse(" sd-12 ").unwrap().as_str(), "SD-12");
        assert_eq!(Mrn::parse("<b>"), Err(MrnError::Shape));
    }

    #[test]
    fn birth_dates() {
        let today = date!(2026 - 11 - 27);
        assert_eq!(check_birth_date(date!(1990 - 02 - 03), today), Ok(date!(1990 - 02 - 03)));
        assert_eq!(check_birth_date(today, today), Ok(today));
        assert_eq!(check_birth_date(date!(2026 - 11 - 28), today), Err(BirthDateError::InFuture));
        assert_eq!(check_birth_date(date!(1900 - 01 - 01), today), Err(BirthDateError::TooOld));
    }
}
