//! The FHIR endpoint: AuditEvent search for privacy officers, OperationOutcome errors.

use domain::role::Role;
use serde_json::Value;
use testkit::fhir_schema::assert_valid;
use testkit::spawn_app;

#[tokio::test]
async fn audit_events_are_searchable_as_valid_fhir() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let http = reqwest::Client::new();
    let id = app.new_client(&sup, "Ana", "Alvarez").await;
    http.get(app.url(&format!("/api/v1/clients/{id}"))).bearer_auth(&sup).send().await.unwrap();
    let (_, officer) = app.full_token("priv", Role::PrivacyOfficer).await;

    let res = http
        .get(app.url(&format!("/fhir/AuditEvent?patient=Patient/{id}")))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/fhir+json");
    let bundle: Value = res.json().await.unwrap();
    assert_valid(&bundle);
    assert_eq!(bundle["type"], "searchset");
    let actions: Vec<&str> =
        bundle["entry"].as_array().unwrap().iter().map(|e| e["resource"]["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["R", "C"], "the read, then the creation (newest first)");
    for entry in bundle["entry"].as_array().unwrap() {
        assert_valid(&entry["resource"]);
        assert_eq!(entry["resource"]["meta"]["security"][2]["code"], "42CFRPart2");
    }

    let res = http.get(app.url("/fhir/AuditEvent?name=smith")).bearer_auth(&officer).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let oo: Value = res.json().await.unwrap();
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert_valid(&oo);

    let res = http.get(app.url("/fhir/AuditEvent")).bearer_auth(&sup).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let oo: Value = res.json().await.unwrap();
    assert_eq!(oo["issue"][0]["code"], "forbidden");
    let res = http.get(app.url("/fhir/AuditEvent")).send().await.unwrap();
    assert_eq!(res.status(), 401);

    let meta: Value = http.get(app.url("/fhir/metadata")).send().await.unwrap().json().await.unwrap();
    assert_eq!(meta["resourceType"], "CapabilityStatement");
    assert_eq!(meta["fhirVersion"], "4.0.1");
    // The published R4 schema predates the 4.0.1 technical correction and lists only "4.0.0".
    let mut checked = meta.clone();
    checked["fhirVersion"] = "4.0.0".into();
    assert_valid(&checked);
    let served: Vec<&str> =
        meta["rest"][0]["resource"].as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(
        served,
        ["AuditEvent", "Questionnaire", "QuestionnaireResponse", "Observation", "Appointment", "Encounter"]
    );
}
