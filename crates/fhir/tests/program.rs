//! Program sessions as FHIR: a client's place in a session is a valid R4 `Appointment` in
//! each of its states, and an attended one a valid `Encounter` in the episode of care.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use domain::iop::Modality;
use fhir::{VisitFacts, VisitOutcome, appointment, encounter, encounter_id};
use serde_json::Value;
use testkit::fhir_schema::assert_valid;
use time::macros::datetime;
use uuid::Uuid;

const SESSION: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0011);
const CLIENT: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0022);
const STAFF: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0033);
const ROOM: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0044);
const EPISODE: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0055);

fn facts(outcome: VisitOutcome) -> VisitFacts<'static> {
    VisitFacts {
        session: SESSION,
        client: CLIENT,
        modality: Modality::Group,
        title: "Relapse prevention",
        // 18:00–19:30 in Chicago (CST).
        start: datetime!(2026-12-02 00:00 UTC),
        end: datetime!(2026-12-02 01:30 UTC),
        practitioner: STAFF,
        location: Some((ROOM, "Group room 2, Riverside".into())),
        outcome,
        episode: Some(EPISODE),
    }
}

fn json<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap()
}

fn labels(v: &Value) -> Vec<&str> {
    v["meta"]["security"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect()
}

#[test]
fn a_session_is_a_valid_appointment_in_every_state() {
    for (outcome, status) in [
        (VisitOutcome::Booked, "booked"),
        (VisitOutcome::Cancelled, "cancelled"),
        (VisitOutcome::Attended(90), "fulfilled"),
        (VisitOutcome::Absent, "noshow"),
    ] {
        let a = json(&appointment(&facts(outcome)));
        assert_valid(&a);
        assert_eq!(a["status"], status);
        assert_eq!(a["id"], SESSION.to_string());
        assert_eq!(labels(&a), ["R", "ETH", "42CFRPart2"]);
    }
    let a = json(&appointment(&facts(VisitOutcome::Booked)));
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("appointment_group", a);
    });
    assert_eq!(a["start"], "2026-12-02T00:00:00Z");
    assert_eq!(a["end"], "2026-12-02T01:30:00Z");
    assert_eq!(a["minutesDuration"], 90);
    assert_eq!(a["serviceType"][0]["coding"][0]["system"], fhir::appointment::MODALITY_SYSTEM);
    assert_eq!(a["serviceType"][0]["coding"][0]["code"], "group");
    assert_eq!(a["serviceCategory"][0]["coding"][0]["code"], "treatment");
    let actors: Vec<&str> =
        a["participant"].as_array().unwrap().iter().map(|p| p["actor"]["reference"].as_str().unwrap()).collect();
    assert_eq!(
        actors,
        [format!("Patient/{CLIENT}"), format!("Practitioner/{STAFF}"), format!("Location/{ROOM}")],
        "one patient: the one searched for"
    );
    assert!(a["participant"].as_array().unwrap().iter().all(|p| p["status"] == "accepted"));

    // Case management is a service, not treatment time; no room, no location.
    let mut cm = facts(VisitOutcome::Booked);
    cm.modality = Modality::CaseManagement;
    cm.location = None;
    cm.title = "";
    let a = json(&appointment(&cm));
    assert_valid(&a);
    assert_eq!(a["serviceCategory"][0]["coding"][0]["code"], "case-management");
    assert_eq!(a["participant"].as_array().unwrap().len(), 2);
    assert!(a.get("description").is_none());
}

#[test]
fn an_attended_session_is_a_finished_ambulatory_encounter_in_the_episode() {
    let e = json(&encounter(&facts(VisitOutcome::Attended(75))).unwrap());
    assert_valid(&e);
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("encounter_attended", e);
    });
    assert_eq!(e["status"], "finished");
    assert_eq!(e["class"]["system"], "http://terminology.hl7.org/CodeSystem/v3-ActCode");
    assert_eq!(e["class"]["code"], "AMB");
    assert_eq!(e["subject"]["reference"], format!("Patient/{CLIENT}"));
    assert_eq!(e["episodeOfCare"][0]["reference"], format!("EpisodeOfCare/{EPISODE}"));
    assert_eq!(e["appointment"][0]["reference"], format!("Appointment/{SESSION}"));
    assert_eq!(e["period"]["start"], "2026-12-02T00:00:00Z");
    assert_eq!(e["length"]["value"], 75, "the minutes attended, not the session's 90");
    assert_eq!(e["length"]["code"], "min");
    assert_eq!(labels(&e), ["R", "ETH", "42CFRPart2"]);
    let id = e["id"].as_str().unwrap();
    assert_eq!(id, encounter_id(SESSION, CLIENT));
    assert_eq!(id.len(), 64, "an R4 id holds at most 64 characters");

    // Not attended: no encounter.
    for outcome in [VisitOutcome::Booked, VisitOutcome::Cancelled, VisitOutcome::Absent] {
        assert!(encounter(&facts(outcome)).is_none(), "{outcome:?}");
    }
    // Without a covering episode the reference is left out, and it is still valid.
    let mut orphan = facts(VisitOutcome::Attended(90));
    orphan.episode = None;
    orphan.location = None;
    let e = json(&encounter(&orphan).unwrap());
    assert_valid(&e);
    assert!(e.get("episodeOfCare").is_none() && e.get("location").is_none());
}
