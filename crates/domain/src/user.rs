//! Login accounts.

use crate::ids::UserId;
use crate::role::Role;
use crate::text::PersonName;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A login name: 3–64 characters of lowercase letters, digits, `.`, `_` and `-`, starting with
/// a letter. Compared case-insensitively by being stored lowercase.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("must be 3 to 64 characters")]
    Length,
    #[error("must start with a letter and use only letters, digits, '.', '_' or '-'")]
    Characters,
}

impl Username {
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let name = raw.trim().to_lowercase();
        let len = name.chars().count();
        if !(3..=64).contains(&len) {
            return Err(UsernameError::Length);
        }
        let mut chars = name.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if !(first_ok && rest_ok) {
            return Err(UsernameError::Characters);
        }
        Ok(Self(name))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = UsernameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}
impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the rest of the system needs to know about an account (never its secrets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub display_name: PersonName,
    pub role: Role,
    pub active: bool,
    pub mfa_enabled: bool,
    /// Set when an administrator created or reset the password: the user must choose their own.
    pub must_change_password: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" Maria.Lopez ").map(|u| u.0), Ok("maria.lopez".into()));
        assert_eq!(Username::parse("ab"), Err(UsernameError::Length));
        assert_eq!(Username::parse("1abc"), Err(UsernameError::Characters));
        assert_eq!(Username::parse("a b c"), Err(UsernameError::Characters));
        assert_eq!(Username::parse("<script>"), Err(UsernameError::Characters));
        assert!(Username::parse(&"a".repeat(64)).is_ok());
        assert_eq!(Username::parse(&"a".repeat(65)), Err(UsernameError::Length));
    }
}
