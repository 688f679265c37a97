//! Password rules (ASVS 4.0 V2.1): length and strength, never composition rules.

use std::fmt;

/// A password the policy accepts. Its text is never printed by `Debug`.
pub struct NewPassword(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("must be at least {min} characters")]
    TooShort { min: usize },
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("is too easy to guess{}", hint.as_ref().map(|h| format!(": {h}")).unwrap_or_default())]
    TooWeak { hint: Option<String> },
}

impl NewPassword {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 128;
    /// zxcvbn's score runs 0–4; 3 means "safely unguessable: moderate protection from an
    /// offline slow-hash scenario", which is the situation a stolen database puts us in.
    pub const MIN_SCORE: u8 = 3;

    /// Checks `raw` against the policy. `context` holds words an attacker would try first (the
    /// user name, the person's name, the product name); zxcvbn penalises passwords built on them.
    pub fn parse(raw: &str, context: &[&str]) -> Result<Self, PasswordError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(PasswordError::TooShort { min: Self::MIN_CHARS });
        }
        if chars > Self::MAX_CHARS {
            return Err(PasswordError::TooLong { max: Self::MAX_CHARS });
        }
        let estimate = zxcvbn::zxcvbn(raw, context);
        if u8::from(estimate.score()) < Self::MIN_SCORE {
            let hint = estimate.feedback().and_then(|f| f.warning()).map(|w| w.to_string()).filter(|w| !w.is_empty());
            return Err(PasswordError::TooWeak { hint });
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds() {
        assert!(matches!(NewPassword::parse("short", &[]), Err(PasswordError::TooShort { min: 12 })));
        assert!(matches!(
            NewPassword::parse(&"correct horse battery staple ".repeat(5), &[]),
            Err(PasswordError::TooLong { max: 128 })
        ));
    }

    #[test]
    fn weak_and_contextual_passwords_are_refused() {
        assert!(matches!(NewPassword::parse("password1234", &[]), Err(PasswordError::TooWeak { .. })));
        assert!(matches!(NewPassword::parse("aaaaaaaaaaaaaaaa", &[]), Err(PasswordError::TooWeak { .. })));
        assert!(matches!(
            NewPassword::parse("maria.lopez2026", &["maria.lopez", "stepdown"]),
            Err(PasswordError::TooWeak { .. })
        ));
    }

    #[test]
    fn long_passphrases_without_composition_rules_pass() {
        assert!(NewPassword::parse("quiet lantern orbits the harbor", &[]).is_ok());
        assert!(NewPassword::parse("tQ8#mv2!Lp0z", &[]).is_ok());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let p = NewPassword::parse("quiet lantern orbits the harbor", &[]).map(|p| format!("{p:?}"));
        assert_eq!(p.as_deref(), Ok("NewPassword(**redacted**)"));
    }
}
