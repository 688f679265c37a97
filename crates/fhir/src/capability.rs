//! The server's `CapabilityStatement` (`GET /fhir/metadata`).

use serde_json::{Value, json};

pub fn capability_statement(version: &str, date: &str) -> Value {
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "kind": "instance",
        "software": {"name": "Stepdown", "version": version},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "security": {
                "description": "Bearer tokens from POST /api/v1/session. Every read is audited; records of substance-use treatment carry 42 CFR Part 2 security labels."
            },
            "resource": [{
                "type": "AuditEvent",
                "interaction": [{"code": "search-type"}],
                "searchParam": [
                    {"name": "patient", "type": "reference"},
                    {"name": "agent", "type": "reference"},
                    {"name": "date", "type": "date"},
                    {"name": "action", "type": "token"}
                ]
            }, {
                "type": "Questionnaire",
                "interaction": [{"code": "search-type"}],
                "searchParam": [{"name": "url", "type": "uri"}]
            }, {
                "type": "QuestionnaireResponse",
                "interaction": [{"code": "search-type"}],
                "searchParam": [{"name": "patient", "type": "reference"}]
            }, {
                "type": "Observation",
                "interaction": [{"code": "search-type"}],
                "searchParam": [
                    {"name": "patient", "type": "reference"},
                    {"name": "category", "type": "token"}
                ]
            }, {
                "type": "Appointment",
                "interaction": [{"code": "search-type"}],
                "searchParam": [
                    {"name": "patient", "type": "reference"},
                    {"name": "date", "type": "date"}
                ]
            }, {
                "type": "Encounter",
                "interaction": [{"code": "search-type"}],
                "searchParam": [
                    {"name": "patient", "type": "reference"},
                    {"name": "date", "type": "date"}
                ]
            }]
        }]
    })
}
