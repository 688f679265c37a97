//! Bounded, printable text: the shape every free-text field shares.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a piece of text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must not contain control characters")]
    ControlCharacter,
}

/// Text that is trimmed, non-empty, at most `max` characters and free of control characters
/// (which would let a value forge lines in a log or a CSV export).
pub fn bounded_line(raw: &str, max: usize) -> Result<String, TextError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(TextError::Empty);
    }
    if trimmed.chars().count() > max {
        return Err(TextError::TooLong { max });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(TextError::ControlCharacter);
    }
    Ok(trimmed.to_owned())
}

/// A person's name as they want it shown: one line, 1–200 characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    pub const MAX: usize = 200;
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        bounded_line(raw, Self::MAX).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PersonName {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PersonName> for String {
    fn from(value: PersonName) -> Self {
        value.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_single_line() {
        assert_eq!(PersonName::parse("  Ada Lovelace ").map(|n| n.0), Ok("Ada Lovelace".into()));
        assert_eq!(PersonName::parse("   "), Err(TextError::Empty));
        assert_eq!(PersonName::parse(&"x".repeat(201)), Err(TextError::TooLong { max: 200 }));
        assert_eq!(PersonName::parse("Ada\nLovelace"), Err(TextError::ControlCharacter));
        assert!(PersonName::parse(&"é".repeat(200)).is_ok(), "limit counts characters, not bytes");
    }
}
