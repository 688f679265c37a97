//! A client's place in a program session as an R4 `Appointment`: the kind of session (its
//! modality, in Stepdown's code system), when, with whom and where. One client per resource:
//! other clients on a group's roster are not disclosed to someone reading this client.

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use domain::iop::Modality;

use crate::datatypes::{CodeableConcept, Coding, Meta, Reference, date_time, part2_labels};

/// Stepdown's codes for the kinds of program session (`domain::iop::Modality`).
pub const MODALITY_SYSTEM: &str = "https://stepdown.example.org/fhir/CodeSystem/modality";
/// Stepdown's service categories: treatment time (counts toward the level's weekly hours)
/// or case management.
pub const SERVICE_CATEGORY_SYSTEM: &str = "https://stepdown.example.org/fhir/CodeSystem/service-category";

/// What became of the client's place in the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisitOutcome {
    /// Scheduled; attendance not recorded (yet).
    Booked,
    Cancelled,
    /// Present, late or left early: the minutes attended.
    Attended(u16),
    /// Recorded absent.
    Absent,
}

/// What the FHIR view of one client's session is built from.
#[derive(Clone, Debug)]
pub struct VisitFacts<'a> {
    pub session: Uuid,
    pub client: Uuid,
    pub modality: Modality,
    /// The session's title; only in the Appointment's description, for readers of the chart.
    pub title: &'a str,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    /// Who runs it: the substitute when there is one.
    pub practitioner: Uuid,
    /// The room and how to name it ("Group room 2, Riverside").
    pub location: Option<(Uuid, String)>,
    pub outcome: VisitOutcome,
    /// The episode of care whose stay covers the session's day.
    pub episode: Option<Uuid>,
}

impl VisitFacts<'_> {
    pub(crate) fn service_type(&self) -> CodeableConcept {
        let m = self.modality;
        CodeableConcept {
            coding: vec![Coding::new(MODALITY_SYSTEM, m.code(), m.label())],
            text: Some(m.label().to_owned()),
        }
    }

    pub(crate) fn service_category(&self) -> CodeableConcept {
        let coding = if self.modality.is_clinical() {
            Coding::new(SERVICE_CATEGORY_SYSTEM, "treatment", "Treatment")
        } else {
            Coding::new(SERVICE_CATEGORY_SYSTEM, "case-management", "Case management")
        };
        CodeableConcept { coding: vec![coding], text: None }
    }

    pub(crate) fn patient(&self) -> Reference {
        Reference::to(format!("Patient/{}", self.client))
    }

    pub(crate) fn practitioner(&self) -> Reference {
        Reference::to(format!("Practitioner/{}", self.practitioner))
    }

    pub(crate) fn location(&self) -> Option<Reference> {
        self.location
            .as_ref()
            .map(|(id, name)| Reference { reference: Some(format!("Location/{id}")), display: Some(name.clone()) })
    }

    /// Whole minutes from start to end, at least 1 (`positiveInt`).
    pub(crate) fn scheduled_minutes(&self) -> u32 {
        u32::try_from((self.end - self.start).whole_minutes()).unwrap_or(0).max(1)
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Appointment {
    pub resource_type: &'static str,
    pub id: String,
    pub meta: Meta,
    pub status: &'static str,
    pub service_category: Vec<CodeableConcept>,
    pub service_type: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub start: String,
    pub end: String,
    pub minutes_duration: u32,
    pub participant: Vec<AppointmentParticipant>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AppointmentParticipant {
    pub actor: Reference,
    pub status: &'static str,
}

/// The session as one client's `Appointment`, with the session's id: booked, cancelled,
/// fulfilled (attended) or noshow (recorded absent).
pub fn appointment(f: &VisitFacts) -> Appointment {
    let status = match f.outcome {
        VisitOutcome::Booked => "booked",
        VisitOutcome::Cancelled => "cancelled",
        VisitOutcome::Attended(_) => "fulfilled",
        VisitOutcome::Absent => "noshow",
    };
    let accepted = |actor| AppointmentParticipant { actor, status: "accepted" };
    let mut participant = vec![accepted(f.patient()), accepted(f.practitioner())];
    participant.extend(f.location().map(accepted));
    Appointment {
        resource_type: "Appointment",
        id: f.session.to_string(),
        meta: Meta { security: part2_labels() },
        status,
        service_category: vec![f.service_category()],
        service_type: vec![f.service_type()],
        description: Some(f.title.to_owned()).filter(|t| !t.trim().is_empty()),
        start: date_time(f.start),
        end: date_time(f.end),
        minutes_duration: f.scheduled_minutes(),
        participant,
    }
}
