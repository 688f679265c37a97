//! The helpline: logging calls, the pipeline, duplicate detection, tasks, conversion.

use domain::role::Role;
use serde_json::{Value, json};
use testkit::spawn_app;

use crate::{call, events};

fn day(offset: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(offset)).to_string()
}

fn call_body(given: &str, family: &str, dob: Option<&str>, phone: &str) -> Value {
    json!({"caller_name": "Maria", "caller_relationship": "parent", "given_name": given, "family_name": family,
           "date_of_birth": dob, "phone": phone, "substances": "alcohol, opioids", "urgency": "soon",
           "insurance": "Blue Plains Health", "prior_treatment": true, "heard_about": "Search engine"})
}

#[tokio::test]
async fn a_call_moves_through_the_pipeline_and_converts_without_retyping() {
    let app = spawn_app().await;
    let (_, admin) = app.full_token("boss", Role::Admin).await;
    let (_, intake) = app.full_token("intake", Role::Admissions).await;
    let (_, site) =
        call(&app, reqwest::Method::POST, "/api/v1/sites", &admin, Some(json!({"name": "Main", "time_zone": "UTC"})))
            .await;
    let site = site["id"].as_str().unwrap().to_owned();

    let (s, i) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/inquiries",
        &intake,
        Some(call_body("Dana", "Reyes", Some("1994-06-01"), "555-010-7788")),
    )
    .await;
    assert_eq!(s, 201, "{i}");
    let id = i["id"].as_str().unwrap().to_owned();
    assert_eq!(i["stage"], "new");
    let (_, detail) = call(&app, reqwest::Method::GET, &format!("/api/v1/inquiries/{id}"), &intake, None).await;
    assert_eq!(detail["tasks"][0]["title"], "Call back");
    assert_eq!(detail["tasks"][0]["due_on"].as_str(), Some(day(1).as_str()), "soon: call back tomorrow");

    let (s, p) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/inquiries/{id}/stage"),
        &intake,
        Some(json!({"stage": "admitted"})),
    )
    .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("stage")),
        "admitting is a conversion, not a stage move"
    );
    let (s, _) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/inquiries/{id}/stage"),
        &intake,
        Some(json!({"stage": "screening", "note": "Screened by phone"})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, i) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/inquiries/{id}/stage"),
        &intake,
        Some(json!({"stage": "admission_scheduled"})),
    )
    .await;
    assert_eq!(s, 200);
    assert!(i["notes"].as_str().unwrap().contains("Screened by phone"));

    let task = detail["tasks"][0]["id"].as_str().unwrap();
    let (s, _) =
        call(&app, reqwest::Method::POST, &format!("/api/v1/inquiries/{id}/tasks/{task}/done"), &intake, None).await;
    assert_eq!(s, 204);
    let (s, _) =
        call(&app, reqwest::Method::POST, &format!("/api/v1/inquiries/{id}/tasks/{task}/done"), &intake, None).await;
    assert_eq!(s, 409);

    let admit = json!({"on": day(0), "level": "2.1", "site_id": site, "reason": "Ready for IOP"});
    let (s, conv) =
        call(&app, reqwest::Method::POST, &format!("/api/v1/inquiries/{id}/admit"), &intake, Some(admit.clone())).await;
    assert_eq!(s, 201, "{conv}");
    let client = conv["client_id"].as_str().unwrap();
    let (s, c) = call(&app, reqwest::Method::GET, &format!("/api/v1/clients/{client}"), &intake, None).await;
    assert_eq!(s, 200, "the admitting coordinator can open the new chart");
    assert_eq!(
        (c["client"]["given_name"].as_str(), c["record"]["phone"].as_str()),
        (Some("Dana"), Some("555-010-7788"))
    );
    assert_eq!(c["record"]["mrn"], "SD-000001");
    let (_, eps) = call(&app, reqwest::Method::GET, &format!("/api/v1/clients/{client}/episodes"), &intake, None).await;
    assert_eq!(eps[0]["placements"][0]["level"], "2.1");
    let (_, i) = call(&app, reqwest::Method::GET, &format!("/api/v1/inquiries/{id}"), &intake, None).await;
    assert_eq!((i["inquiry"]["stage"].as_str(), i["inquiry"]["client_id"].as_str()), (Some("admitted"), Some(client)));
    let (s, _) =
        call(&app, reqwest::Method::POST, &format!("/api/v1/inquiries/{id}/admit"), &intake, Some(admit)).await;
    assert_eq!(s, 409, "an admitted inquiry is closed");
    assert!(!events(&app, "inquiry.changed").await.is_empty());
}

#[tokio::test]
async fn duplicates_are_found_and_a_returning_client_is_readmitted() {
    let app = spawn_app().await;
    let (_, admin) = app.full_token("boss", Role::Admin).await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let (_, intake) = app.full_token("intake", Role::Admissions).await;
    let (_, site) =
        call(&app, reqwest::Method::POST, "/api/v1/sites", &admin, Some(json!({"name": "Main", "time_zone": "UTC"})))
            .await;
    let site = site["id"].as_str().unwrap().to_owned();
    let (_, old) = call(&app, reqwest::Method::POST, "/api/v1/clients", &sup, Some(json!({"given_name": "Catherine", "family_name": "Johnson", "date_of_birth": "1988-03-14", "phone": "555-010-2233"}))).await;
    let old_id = old["id"].as_str().unwrap().to_owned();
    let (_, stranger) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/clients",
        &sup,
        Some(json!({"given_name": "Robert", "family_name": "Smith", "date_of_birth": "1975-11-02"})),
    )
    .await;

    // A typo in the name, same date of birth: still the same person.
    let (_, i) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/inquiries",
        &intake,
        Some(call_body("Katherine", "Jonson", Some("1988-03-14"), "")),
    )
    .await;
    let id = i["id"].as_str().unwrap().to_owned();
    let (_, d) = call(&app, reqwest::Method::GET, &format!("/api/v1/inquiries/{id}"), &intake, None).await;
    let matches = d["possible_matches"].as_array().unwrap();
    assert_eq!(matches.len(), 1, "{matches:?}");
    assert_eq!((matches[0]["kind"].as_str(), matches[0]["id"].as_str()), (Some("client"), Some(old_id.as_str())));
    // A second call about the same person is found too (same phone).
    let (_, again) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/inquiries",
        &intake,
        Some(call_body("Cathy", "J", None, "555 010 2233")),
    )
    .await;
    let (_, d2) = call(
        &app,
        reqwest::Method::GET,
        &format!("/api/v1/inquiries/{}", again["id"].as_str().unwrap()),
        &intake,
        None,
    )
    .await;
    assert!(d2["possible_matches"].as_array().unwrap().iter().any(|m| m["kind"] == "client"));

    // Readmitting the match works; pointing at an unrelated client does not open their chart.
    let admit = |existing: &str| json!({"on": day(0), "level": "2.1", "site_id": site, "reason": "Returning", "existing_client_id": existing});
    let (s, _) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/inquiries/{id}/admit"),
        &intake,
        Some(admit(stranger["id"].as_str().unwrap())),
    )
    .await;
    assert_eq!(s, 403);
    let (s, conv) =
        call(&app, reqwest::Method::POST, &format!("/api/v1/inquiries/{id}/admit"), &intake, Some(admit(&old_id)))
            .await;
    assert_eq!(s, 201, "{conv}");
    assert_eq!(conv["client_id"], old_id.as_str());
    let (_, list) = call(&app, reqwest::Method::GET, "/api/v1/clients", &sup, None).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "no duplicate record was created");
}

#[tokio::test]
async fn bad_calls_are_refused_and_only_admissions_staff_see_inquiries() {
    let app = spawn_app().await;
    let (_, intake) = app.full_token("intake", Role::Admissions).await;
    let (_, coun) = app.full_token("coun", Role::Counselor).await;
    for (patch, field) in [
        (json!({"caller_relationship": "landlord"}), "caller_relationship"),
        (json!({"urgency": "whenever"}), "urgency"),
        (json!({"date_of_birth": day(3)}), "date_of_birth"),
        (json!({"given_name": ""}), "given_name"),
        (json!({"phone": "12"}), "phone"),
    ] {
        let mut body = call_body("Dana", "Reyes", Some("1994-06-01"), "555-010-7788");
        body.as_object_mut().unwrap().extend(patch.as_object().unwrap().clone());
        let (s, p) = call(&app, reqwest::Method::POST, "/api/v1/inquiries", &intake, Some(body)).await;
        assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some(field)), "{p}");
    }
    let (_, list) = call(&app, reqwest::Method::GET, "/api/v1/inquiries", &intake, None).await;
    assert_eq!(list.as_array().unwrap().len(), 0, "nothing was saved");
    let (s, _) = call(&app, reqwest::Method::GET, "/api/v1/inquiries", &coun, None).await;
    assert_eq!(s, 403);

    // The web pages: log a call, see it on the board, with the crisis flag.
    let browser = app.client();
    browser.set_cookie("__Host-stepdown_session", &intake);
    let res = browser
        .submit(
            "/inquiries/new",
            "/inquiries/new",
            &[
                ("caller_name", "Self"),
                ("caller_relationship", "self"),
                ("given_name", "Eli"),
                ("family_name", "Ward"),
                ("urgency", "crisis"),
                ("self_harm_thoughts", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (s, html) = browser.get_text("/inquiries").await;
    assert_eq!(s, 200);
    assert!(html.contains("Eli Ward") && html.contains("needs clinician now"));
    let res = browser.submit("/inquiries/new", "/inquiries/new", &[("caller_name", ""), ("urgency", "crisis")]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Choose the caller"));
}
