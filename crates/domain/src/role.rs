//! The roles people hold in a treatment center (DESIGN.md §1).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    PrivacyOfficer,
    Supervisor,
    Counselor,
    ProgramCoordinator,
    Admissions,
    Biller,
    /// A person in care, using the portal (later issues).
    Client,
    /// A family member with the client's consent (later issues).
    Family,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Admin,
        Role::PrivacyOfficer,
        Role::Supervisor,
        Role::Counselor,
        Role::ProgramCoordinator,
        Role::Admissions,
        Role::Biller,
        Role::Client,
        Role::Family,
    ];

    /// Roles a staff account can hold; the portal roles are created through their own flows.
    pub const STAFF: [Role; 7] = [
        Role::Admin,
        Role::PrivacyOfficer,
        Role::Supervisor,
        Role::Counselor,
        Role::ProgramCoordinator,
        Role::Admissions,
        Role::Biller,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::PrivacyOfficer => "privacy_officer",
            Role::Supervisor => "supervisor",
            Role::Counselor => "counselor",
            Role::ProgramCoordinator => "program_coordinator",
            Role::Admissions => "admissions",
            Role::Biller => "biller",
            Role::Client => "client",
            Role::Family => "family",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::PrivacyOfficer => "Privacy officer",
            Role::Supervisor => "Clinical supervisor",
            Role::Counselor => "Counselor",
            Role::ProgramCoordinator => "Program coordinator",
            Role::Admissions => "Admissions coordinator",
            Role::Biller => "Biller / utilization reviewer",
            Role::Client => "Client",
            Role::Family => "Family member",
        }
    }

    pub const fn is_staff(self) -> bool {
        !matches!(self, Role::Client | Role::Family)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role")]
pub struct UnknownRole;

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.code() == s).ok_or(UnknownRole)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.code().parse::<Role>(), Ok(role));
        }
        assert_eq!("root".parse::<Role>(), Err(UnknownRole));
    }
}
