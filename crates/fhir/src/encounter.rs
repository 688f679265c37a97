//! An attended program session as an R4 `Encounter`: ambulatory (class AMB), finished, in the
//! client's episode of care, lasting the minutes the client attended.

use serde::Serialize;
use uuid::Uuid;

use crate::appointment::{VisitFacts, VisitOutcome};
use crate::datatypes::{CodeableConcept, Coding, Meta, Minutes, Period, Reference, part2_labels};

const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Encounter {
    pub resource_type: &'static str,
    pub id: String,
    pub meta: Meta,
    pub status: &'static str,
    pub class: Coding,
    pub service_type: CodeableConcept,
    pub subject: Reference,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub episode_of_care: Vec<Reference>,
    pub participant: Vec<EncounterParticipant>,
    pub appointment: Vec<Reference>,
    pub period: Period,
    pub length: Minutes,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub location: Vec<EncounterLocation>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct EncounterParticipant {
    pub individual: Reference,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct EncounterLocation {
    pub location: Reference,
}

/// The id of one client's encounter in one session: both UUIDs in hex, 64 characters (the
/// most an R4 id holds), so it is stable and names nothing.
pub fn encounter_id(session: Uuid, client: Uuid) -> String {
    format!("{}{}", session.simple(), client.simple())
}

/// The `Encounter` of an attended session; `None` unless the client attended it (present,
/// late or left early) and it was not cancelled.
pub fn encounter(f: &VisitFacts) -> Option<Encounter> {
    let VisitOutcome::Attended(minutes) = f.outcome else { return None };
    Some(Encounter {
        resource_type: "Encounter",
        id: encounter_id(f.session, f.client),
        meta: Meta { security: part2_labels() },
        status: "finished",
        class: Coding::new(ACT_CODE, "AMB", "ambulatory"),
        service_type: f.service_type(),
        subject: f.patient(),
        episode_of_care: f.episode.map(|e| Reference::to(format!("EpisodeOfCare/{e}"))).into_iter().collect(),
        participant: vec![EncounterParticipant { individual: f.practitioner() }],
        appointment: vec![Reference::to(format!("Appointment/{}", f.session))],
        period: Period::new(f.start, f.end),
        length: Minutes::new(u32::from(minutes)),
        location: f.location().map(|location| EncounterLocation { location }).into_iter().collect(),
    })
}
