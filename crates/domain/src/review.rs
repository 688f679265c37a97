//! Readiness reviews (DESIGN.md §2): six dimension ratings with a rationale each, the evidence
//! beside them, the engine's recommendation with the rule-set version, and the clinician's
//! decision, which may disagree with a written reason.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::ids::{ClientId, EpisodeId, PlacementId, ReviewId, UserId};
use crate::level::{Catalogue, LevelCode};

/// What the clinician decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Continue,
    Extend,
    StepDown,
    StepUp,
    Discharge,
}

impl Decision {
    pub const ALL: [Decision; 5] =
        [Decision::Continue, Decision::Extend, Decision::StepDown, Decision::StepUp, Decision::Discharge];

    pub const fn code(self) -> &'static str {
        match self {
            Decision::Continue => "continue",
            Decision::Extend => "extend",
            Decision::StepDown => "step_down",
            Decision::StepUp => "step_up",
            Decision::Discharge => "discharge",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Decision::Continue => "Continue at this level",
            Decision::Extend => "Extend the stay",
            Decision::StepDown => "Step down",
            Decision::StepUp => "Step up",
            Decision::Discharge => "Discharge",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.code() == code)
    }

    /// Step down and step up name the level they go to.
    pub const fn moves(self) -> bool {
        matches!(self, Decision::StepDown | Decision::StepUp)
    }
}

/// Does the decision follow the recommendation? A decision agrees when the level the client
/// will be at is the recommended one; a discharge agrees when the engine recommends the
/// catalogue's least intensive level (care continues as aftercare).
pub fn agrees(
    decision: Decision,
    current: &LevelCode,
    to: Option<&LevelCode>,
    recommended: &LevelCode,
    catalogue: &Catalogue,
) -> bool {
    match decision {
        Decision::Continue | Decision::Extend => current == recommended,
        Decision::StepDown | Decision::StepUp => to == Some(recommended),
        Decision::Discharge => {
            let least = catalogue.levels.iter().min_by_key(|l| l.rank).map(|l| &l.code);
            let least_two: Vec<&LevelCode> = {
                let mut v: Vec<_> = catalogue.levels.iter().collect();
                v.sort_by_key(|l| l.rank);
                v.into_iter().take(2).map(|l| &l.code).collect()
            };
            // Early intervention (0.5) and outpatient (1) both mean "no structured program".
            least == Some(recommended) || least_two.contains(&recommended)
        }
    }
}

/// A drug screen result entered with the review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrugScreen {
    /// not_done, negative or positive
    pub result: String,
    /// What it was positive for.
    pub substances: String,
}

/// A score shown beside the ratings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceScore {
    pub instrument: String,
    pub title: String,
    pub value: Option<i64>,
    pub band_label: String,
    pub on: Date,
    /// The value at the previous administration, to show the direction.
    pub previous: Option<i64>,
}

/// What the reviewer saw, kept with the review.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub scores: Vec<EvidenceScore>,
    pub self_assessment: Option<EvidenceScore>,
    pub open_alerts: usize,
    pub drug_screen: Option<DrugScreen>,
    /// Attended clinical hours last week, once the IOP program records attendance.
    pub weekly_hours: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionRating {
    pub rating: u8,
    pub rationale: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReadinessReview {
    pub id: ReviewId,
    pub client: ClientId,
    pub episode: EpisodeId,
    pub placement: PlacementId,
    pub level: LevelCode,
    pub reviewed_on: Date,
    pub reviewed_at: OffsetDateTime,
    pub reviewed_by: UserId,
    pub ratings: Vec<DimensionRating>,
    pub evidence: Evidence,
    pub recommended_level: LevelCode,
    pub reasons: Vec<String>,
    pub rule_set_version: String,
    pub decision: Decision,
    pub decision_level: Option<LevelCode>,
    pub agrees: bool,
    pub disagreement_reason: Option<String>,
    pub note: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_follows_the_resulting_level() {
        let c = Catalogue::builtin("asam-3").unwrap();
        let l = |s: &str| c.level(s).unwrap().code.clone();
        assert!(agrees(Decision::Continue, &l("3.5"), None, &l("3.5"), &c));
        assert!(!agrees(Decision::Continue, &l("3.5"), None, &l("2.1"), &c));
        assert!(agrees(Decision::StepDown, &l("3.5"), Some(&l("2.1")), &l("2.1"), &c));
        assert!(!agrees(Decision::StepDown, &l("3.5"), Some(&l("2.5")), &l("2.1"), &c));
        assert!(agrees(Decision::Discharge, &l("2.1"), None, &l("1"), &c));
        assert!(!agrees(Decision::Discharge, &l("3.5"), None, &l("3.5"), &c));
    }
}
