//! The level-of-care recommendation (DESIGN.md §2): the six dimension ratings produce the
//! least intensive level that meets every need they show, with the reasons that drove it.
//! The rules are versioned data per catalogue, not code branches; each review keeps the
//! version it used.

use serde::{Deserialize, Serialize};

use crate::level::{Catalogue, LevelCode};

/// Ratings 0 (none) to 4 (severe) for the six dimensions, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Ratings([u8; 6]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dimension {dimension} must be rated 0 to 4")]
pub struct RatingError {
    pub dimension: usize,
}

impl Ratings {
    pub fn new(values: [u8; 6]) -> Result<Self, RatingError> {
        match values.iter().position(|v| *v > 4) {
            Some(i) => Err(RatingError { dimension: i + 1 }),
            None => Ok(Self(values)),
        }
    }

    /// The rating of dimension `n` (1–6).
    pub fn get(&self, n: u8) -> u8 {
        self.0.get(usize::from(n).saturating_sub(1)).copied().unwrap_or(0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
struct Condition {
    dimension: u8,
    at_least: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
struct Rule {
    when: Vec<Condition>,
    level: String,
    reason: String,
}

/// A versioned set of rules for one catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RuleSet {
    pub catalogue: String,
    pub version: String,
    default_level: String,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSetError {
    #[error("rule set is not valid: {0}")]
    Invalid(String),
    #[error("no rule set for catalogue {0:?}")]
    Unknown(String),
}

const ASAM_3: &str = include_str!("../data/rules-asam-3.json");
const ASAM_4: &str = include_str!("../data/rules-asam-4.json");

impl RuleSet {
    /// The rule set shipped with Stepdown for a built-in catalogue (`asam-3`, `asam-4`).
    pub fn builtin(catalogue: &str) -> Result<Self, RuleSetError> {
        match catalogue {
            "asam-3" => Self::from_json(ASAM_3),
            "asam-4" => Self::from_json(ASAM_4),
            other => Err(RuleSetError::Unknown(other.to_owned())),
        }
    }

    /// Parses a rule set; every level it names must exist in `catalogue` when checked.
    pub fn from_json(text: &str) -> Result<Self, RuleSetError> {
        let r: RuleSet = serde_json::from_str(text).map_err(|e| RuleSetError::Invalid(e.to_string()))?;
        if r.rules.iter().any(|rule| {
            rule.when.is_empty() || rule.when.iter().any(|c| !(1..=6).contains(&c.dimension) || c.at_least > 4)
        }) {
            return Err(RuleSetError::Invalid("conditions name dimensions 1–6 and ratings 0–4".into()));
        }
        Ok(r)
    }

    /// Checks that every level the rules name exists in the catalogue they are for.
    pub fn check_against(&self, catalogue: &Catalogue) -> Result<(), RuleSetError> {
        for level in self.rules.iter().map(|r| r.level.as_str()).chain([self.default_level.as_str()]) {
            if catalogue.level(level).is_err() {
                return Err(RuleSetError::Invalid(format!("level {level} is not in {}", catalogue.id)));
            }
        }
        Ok(())
    }
}

/// What the ratings call for, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    pub level: LevelCode,
    /// The reasons of every rule that required this level (the ones that drove it).
    pub reasons: Vec<String>,
    pub rule_set_version: String,
}

/// The most intensive level any fired rule requires; the rule set's default when none fires.
pub fn recommend(ratings: &Ratings, rules: &RuleSet, catalogue: &Catalogue) -> Result<Recommendation, RuleSetError> {
    let rank =
        |code: &str| catalogue.level(code).map(|l| l.rank).map_err(|_| RuleSetError::Invalid(format!("level {code}")));
    let fired: Vec<&Rule> =
        rules.rules.iter().filter(|r| r.when.iter().all(|c| ratings.get(c.dimension) >= c.at_least)).collect();
    let mut best: Option<(u16, &str)> = None;
    for r in &fired {
        let k = rank(&r.level)?;
        if best.is_none_or(|(b, _)| k > b) {
            best = Some((k, r.level.as_str()));
        }
    }
    let (level, reasons) = match best {
        Some((_, level)) => (level, fired.iter().filter(|r| r.level == level).map(|r| r.reason.clone()).collect()),
        None => (rules.default_level.as_str(), vec!["No dimension calls for more than outpatient care".to_owned()]),
    };
    let code = catalogue.level(level).map_err(|_| RuleSetError::Invalid(format!("level {level}")))?.code.clone();
    Ok(Recommendation { level: code, reasons, rule_set_version: rules.version.clone() })
}
