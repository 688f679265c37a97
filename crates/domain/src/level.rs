//! Levels of care (DESIGN.md §2): a catalogue shipped as data, so a center can switch from
//! the ASAM 3rd to the 4th edition (or its own) by configuration, not code.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A level's code within its catalogue, e.g. `3.5`, `2.1`, `3.7-WM`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LevelCode(pub(crate) String);

impl LevelCode {
    /// A code read back from storage, where only catalogue-checked codes are ever written.
    pub fn from_stored(code: String) -> Self {
        Self(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LevelCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where care happens, which decides whether a bed is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    Outpatient,
    Day,
    Residential,
    Inpatient,
}

impl Setting {
    /// Residential and inpatient placements occupy a bed.
    pub const fn needs_bed(self) -> bool {
        matches!(self, Setting::Residential | Setting::Inpatient)
    }
    pub const fn code(self) -> &'static str {
        match self {
            Setting::Outpatient => "outpatient",
            Setting::Day => "day",
            Setting::Residential => "residential",
            Setting::Inpatient => "inpatient",
        }
    }
    pub const fn label(self) -> &'static str {
        match self {
            Setting::Outpatient => "Outpatient",
            Setting::Day => "Day / evening",
            Setting::Residential => "24-hour residential",
            Setting::Inpatient => "24-hour inpatient",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    pub code: LevelCode,
    pub name: String,
    pub setting: Setting,
    /// Intensity: a higher rank is a more intensive level. Step-down goes to a lower rank.
    pub rank: u16,
    #[serde(default)]
    pub min_hours_adult: Option<u16>,
    #[serde(default)]
    pub max_hours_adult: Option<u16>,
    #[serde(default)]
    pub min_hours_adolescent: Option<u16>,
    #[serde(default)]
    pub max_hours_adolescent: Option<u16>,
    /// Default cadence of readiness reviews at this level.
    pub review_days: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub id: String,
    pub name: String,
    pub levels: Vec<Level>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("unknown catalogue {0:?} (known: asam-3, asam-4)")]
    Unknown(String),
    #[error("catalogue data is not valid: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown level of care")]
pub struct UnknownLevel;

const ASAM_3: &str = include_str!("../data/asam-3.json");
const ASAM_4: &str = include_str!("../data/asam-4.json");

impl Catalogue {
    /// A catalogue shipped with Stepdown, by id.
    pub fn builtin(id: &str) -> Result<Self, CatalogueError> {
        let text = match id {
            "asam-3" => ASAM_3,
            "asam-4" => ASAM_4,
            other => return Err(CatalogueError::Unknown(other.to_owned())),
        };
        Self::from_json(text)
    }

    /// Parses and checks a catalogue: codes unique and non-empty, ranks unique.
    pub fn from_json(text: &str) -> Result<Self, CatalogueError> {
        let c: Catalogue = serde_json::from_str(text).map_err(|e| CatalogueError::Invalid(e.to_string()))?;
        let mut codes = std::collections::BTreeSet::new();
        let mut ranks = std::collections::BTreeSet::new();
        for l in &c.levels {
            if l.code.0.trim().is_empty() || !codes.insert(l.code.clone()) {
                return Err(CatalogueError::Invalid(format!("duplicate or empty level code {:?}", l.code.0)));
            }
            if !ranks.insert(l.rank) {
                return Err(CatalogueError::Invalid(format!("duplicate rank {}", l.rank)));
            }
            if l.review_days == 0 {
                return Err(CatalogueError::Invalid(format!("level {} needs a review cadence", l.code)));
            }
        }
        Ok(c)
    }

    /// The level with this code, which is how user input becomes a `LevelCode`.
    pub fn level(&self, code: &str) -> Result<&Level, UnknownLevel> {
        self.levels.iter().find(|l| l.code.0 == code.trim()).ok_or(UnknownLevel)
    }

    pub fn get(&self, code: &LevelCode) -> Option<&Level> {
        self.levels.iter().find(|l| &l.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogues_load_and_are_ordered_by_intensity() {
        for id in ["asam-3", "asam-4"] {
            let c = Catalogue::builtin(id).unwrap();
            assert!(c.levels.len() >= 10, "{id}");
            let iop = c.level("2.1").unwrap();
            assert_eq!((iop.min_hours_adult, iop.min_hours_adolescent, iop.review_days), (Some(9), Some(6), 14));
            let res = c.level("3.5").unwrap();
            assert!(res.setting.needs_bed() && res.rank > iop.rank && res.review_days == 7);
        }
        let three = Catalogue::builtin("asam-3").unwrap();
        assert_eq!(three.level("2.5").unwrap().min_hours_adult, Some(20));
        assert!(three.level("3.7-WM").is_ok());
        assert!(Catalogue::builtin("asam-4").unwrap().level("2.7").is_ok(), "4th edition adds 2.7");
        assert_eq!(three.level("9.9"), Err(UnknownLevel));
        assert!(matches!(Catalogue::builtin("dsm"), Err(CatalogueError::Unknown(_))));
    }

    #[test]
    fn invalid_catalogues_are_refused() {
        let dup = r#"{"id":"x","name":"x","levels":[
            {"code":"1","name":"a","setting":"outpatient","rank":1,"review_days":7},
            {"code":"1","name":"b","setting":"outpatient","rank":2,"review_days":7}]}"#;
        assert!(matches!(Catalogue::from_json(dup), Err(CatalogueError::Invalid(_))));
        assert!(Catalogue::from_json("{").is_err());
    }
}
