//! Audit log entries as R4 `AuditEvent`s (in the spirit of IHE Basic Audit Log Patterns).

use domain::access::Purpose;
use domain::audit::{AuditAction, ChainedEvent, Outcome};
use serde::Serialize;

use crate::datatypes::{CodeableConcept, Coding, Meta, Reference, part2_labels};

const DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";
const EVENT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-event-type";
const RESTFUL: &str = "http://hl7.org/fhir/restful-interaction";
const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub resource_type: &'static str,
    pub id: String,
    pub meta: Meta,
    #[serde(rename = "type")]
    pub kind: Coding,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subtype: Vec<Coding>,
    pub action: &'static str,
    pub recorded: String,
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome_desc: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub purpose_of_event: Vec<CodeableConcept>,
    pub agent: Vec<Agent>,
    pub source: Source,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entity: Vec<Entity>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<CodeableConcept>,
    pub who: Reference,
    pub requestor: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Network {
    pub address: String,
    /// 2 = IP address.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Source {
    pub site: &'static str,
    pub observer: Reference,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Entity {
    pub what: Reference,
    #[serde(rename = "type")]
    pub kind: Coding,
}

fn purpose(p: Purpose) -> CodeableConcept {
    let coding = match p {
        Purpose::Treatment => Coding::new(ACT_REASON, "TREAT", "treatment"),
        Purpose::Payment => Coding::new(ACT_REASON, "HPAYMT", "healthcare payment"),
        Purpose::Operations => Coding::new(ACT_REASON, "HOPERAT", "healthcare operations"),
        Purpose::Oversight => Coding::new(ACT_REASON, "HCOMPL", "health compliance"),
    };
    CodeableConcept { coding: vec![coding], text: None }
}

/// (type, subtype, CRUDE action) for each of our actions.
fn classify(action: AuditAction) -> (Coding, Option<Coding>, &'static str) {
    use AuditAction::*;
    let auth = Coding::new(DCM, "110114", "User Authentication");
    match action {
        LoginSuccess | LoginFailure | LoginThrottled | MfaSuccess | MfaFailure => {
            (auth, Some(Coding::new(DCM, "110122", "Login")), "E")
        }
        Logout | SessionRevoked | SessionExpired => (auth, Some(Coding::new(DCM, "110123", "Logout")), "E"),
        MfaEnrolled | MfaReset | PasswordChanged | PasswordReset | UserCreated | UserUpdated => (
            Coding::new(DCM, "110136", "Security Roles Changed"),
            None,
            if matches!(action, UserCreated) { "C" } else { "U" },
        ),
        AccessDenied => (Coding::new(DCM, "110113", "Security Alert"), None, "E"),
        ClientCreated => {
            (Coding::new(EVENT_TYPE, "rest", "RESTful Operation"), Some(Coding::new(RESTFUL, "create", "create")), "C")
        }
        ClientRead => {
            (Coding::new(EVENT_TYPE, "rest", "RESTful Operation"), Some(Coding::new(RESTFUL, "read", "read")), "R")
        }
        ClientSearched => (
            Coding::new(EVENT_TYPE, "rest", "RESTful Operation"),
            Some(Coding::new(RESTFUL, "search-type", "search type")),
            "E",
        ),
        ClientUpdated => {
            (Coding::new(EVENT_TYPE, "rest", "RESTful Operation"), Some(Coding::new(RESTFUL, "update", "update")), "U")
        }
        CareTeamChanged => {
            (Coding::new(EVENT_TYPE, "rest", "RESTful Operation"), Some(Coding::new(RESTFUL, "update", "update")), "U")
        }
        AuditViewed => (Coding::new(DCM, "110101", "Audit Log Used"), None, "R"),
        SiteChanged => (Coding::new(DCM, "110100", "Application Activity"), None, "U"),
        EpisodeAdmitted => {
            (Coding::new(EVENT_TYPE, "rest", "RESTful Operation"), Some(Coding::new(RESTFUL, "create", "create")), "C")
        }
        InquiryRead => {
            (Coding::new(EVENT_TYPE, "rest", "RESTful Operation"), Some(Coding::new(RESTFUL, "read", "read")), "R")
        }
        ResponseRecorded | AlertRaised | ReviewRecorded | ClientModeStarted => {
            (Coding::new(EVENT_TYPE, "rest", "RESTful Operation"), Some(Coding::new(RESTFUL, "create", "create")), "C")
        }
        FormImported | ProgramChanged | CalendarFeedChanged => {
            (Coding::new(DCM, "110100", "Application Activity"), None, "U")
        }
        CalendarFeedRead => {
            (Coding::new(EVENT_TYPE, "rest", "RESTful Operation"), Some(Coding::new(RESTFUL, "read", "read")), "R")
        }
        SessionChanged | EnrolmentChanged | AttendanceRecorded | AttendanceAmended => {
            (Coding::new(EVENT_TYPE, "rest", "RESTful Operation"), Some(Coding::new(RESTFUL, "update", "update")), "U")
        }
        ReportViewed => (Coding::new(DCM, "110106", "Export"), None, "R"),
        AftercareSaved | FollowUpRecorded | InquiryChanged | AlertAcknowledged => {
            (Coding::new(EVENT_TYPE, "rest", "RESTful Operation"), Some(Coding::new(RESTFUL, "update", "update")), "U")
        }
        EpisodeDecided => {
            (Coding::new(EVENT_TYPE, "rest", "RESTful Operation"), Some(Coding::new(RESTFUL, "update", "update")), "U")
        }
    }
}

/// The R4 form of one stored audit event. Events naming a client carry the Part 2 labels.
pub fn audit_event(chained: &ChainedEvent, recorded_rfc3339: String) -> AuditEvent {
    let e = &chained.event;
    let (kind, subtype, action) = classify(e.action);
    let agent = Agent {
        kind: e.actor_role.map(|r| CodeableConcept { coding: Vec::new(), text: Some(r.label().to_owned()) }),
        who: match e.actor {
            Some(a) => Reference { reference: Some(format!("Practitioner/{a}")), display: None },
            None => Reference { reference: None, display: Some("anonymous".into()) },
        },
        requestor: true,
        network: e.source.clone().map(|address| Network { address, kind: "2" }),
    };
    let mut entity = Vec::new();
    if let Some(c) = e.client {
        entity.push(Entity {
            what: Reference { reference: Some(format!("Patient/{c}")), display: None },
            kind: Coding::new("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person"),
        });
    }
    AuditEvent {
        resource_type: "AuditEvent",
        id: e.id.to_string(),
        meta: Meta { security: if e.client.is_some() { part2_labels() } else { Vec::new() } },
        kind,
        subtype: subtype.into_iter().collect(),
        action,
        recorded: recorded_rfc3339,
        outcome: match e.outcome {
            Outcome::Success => "0",
            Outcome::Failure => "4",
            Outcome::Denied => "8",
        },
        outcome_desc: (e.outcome != Outcome::Success).then(|| e.action.code().to_owned()),
        purpose_of_event: e.purpose.map(purpose).into_iter().collect(),
        agent: vec![agent],
        source: Source { site: "Stepdown", observer: Reference { reference: None, display: Some("Stepdown".into()) } },
        entity,
    }
}
