//! Scores of a complete response as an R4 `Observation` (category survey), derived from the
//! `QuestionnaireResponse`. A partly answered or unscored form has no observation: a score
//! must never be published for answers the instrument's rules did not score.

use serde::Serialize;
use uuid::Uuid;

use crate::datatypes::{CodeableConcept, Coding, LOINC, Meta, Reference, date_time, part2_labels};
use crate::questionnaire_response::ResponseFacts;

const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// Stepdown's codes for scores that have no LOINC code.
pub const INSTRUMENT_SYSTEM: &str = "https://stepdown.example.org/fhir/CodeSystem/instrument";
/// Stepdown's codes for score bands (e.g. `moderate`).
pub const BAND_SYSTEM: &str = "https://stepdown.example.org/fhir/CodeSystem/band";

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    pub resource_type: &'static str,
    pub id: String,
    pub meta: Meta,
    pub status: &'static str,
    pub category: Vec<CodeableConcept>,
    pub code: CodeableConcept,
    pub subject: Reference,
    pub effective_date_time: String,
    pub performer: Vec<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_integer: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interpretation: Vec<CodeableConcept>,
    pub derived_from: Vec<Reference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub component: Vec<ObservationComponent>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ObservationComponent {
    pub code: CodeableConcept,
    pub value_integer: i64,
}

/// The score observation of a response; `None` when it is incomplete, its form is bound to
/// no instrument, or it has neither a total nor subscores (the C-SSRS screener: a risk level
/// only).
pub fn score_observation(facts: &ResponseFacts, observation_id: Uuid) -> Option<Observation> {
    let instrument = facts.form.instrument?;
    if !facts.complete || (facts.total.is_none() && facts.subscores.is_empty()) {
        return None;
    }
    let code = match (facts.total, instrument.loinc().1) {
        (Some(_), Some(loinc)) => CodeableConcept {
            coding: vec![Coding::owned(LOINC, loinc, None::<String>)],
            text: Some(format!("{} total score", instrument.title())),
        },
        (Some(_), None) => CodeableConcept {
            coding: vec![Coding::owned(
                INSTRUMENT_SYSTEM,
                format!("{}-total", instrument.code()),
                Some(format!("{} total score", instrument.title())),
            )],
            text: Some(format!("{} total score", instrument.title())),
        },
        (None, _) => CodeableConcept {
            coding: vec![Coding::owned(INSTRUMENT_SYSTEM, instrument.code(), Some(instrument.title()))],
            text: Some(instrument.title().to_owned()),
        },
    };
    let component = facts
        .subscores
        .iter()
        .map(|(name, value)| ObservationComponent {
            code: CodeableConcept {
                coding: vec![Coding::owned(
                    INSTRUMENT_SYSTEM,
                    format!("{}-{name}", instrument.code()),
                    Some(format!("{} {name}", instrument.title())),
                )],
                text: Some(name.clone()),
            },
            value_integer: *value,
        })
        .collect();
    let interpretation = facts
        .band
        .map(|(code, label)| CodeableConcept {
            coding: vec![Coding::owned(BAND_SYSTEM, code.to_owned(), Some(label.to_owned()))],
            text: Some(label.to_owned()),
        })
        .into_iter()
        .collect();
    Some(Observation {
        resource_type: "Observation",
        id: observation_id.to_string(),
        meta: Meta { security: part2_labels() },
        status: "final",
        category: vec![CodeableConcept {
            coding: vec![Coding::new(OBSERVATION_CATEGORY, "survey", "Survey")],
            text: None,
        }],
        code,
        subject: Reference::to(format!("Patient/{}", facts.client)),
        effective_date_time: date_time(facts.authored),
        performer: vec![facts.author_reference()],
        value_integer: facts.total,
        interpretation,
        derived_from: vec![Reference::to(format!("QuestionnaireResponse/{}", facts.id))],
        component,
    })
}
