//! Refusals that are answered "not found" (so the answer does not tell whether a record
//! exists) are refusals all the same: each is an `access.denied` event naming the client whose
//! record was reached for. And a readmission needs a real identification.

use domain::role::Role;
use reqwest::Method;
use serde_json::{Value, json};
use testkit::{TestApp, spawn_app};

use crate::{call, events};

struct Two {
    app: TestApp,
    sup: String,
    intake: String,
    coun: String,
    mine: String,
    theirs: String,
    theirs_episode: String,
    site: String,
}

async fn two() -> Two {
    let app = spawn_app().await;
    let (_, admin) = app.full_token("boss", Role::Admin).await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let (_, intake) = app.full_token("intake", Role::Admissions).await;
    let (coun_user, coun) = app.full_token("coun", Role::Counselor).await;
    let (s, site) =
        call(&app, Method::POST, "/api/v1/sites", &admin, Some(json!({"name": "Main", "time_zone": "UTC"}))).await;
    assert_eq!(s, 201);
    let site = site["id"].as_str().unwrap().to_owned();
    // The admissions coordinator registers `mine` (and so joins its team); the counselor too.
    let (s, m) = call(
        &app,
        Method::POST,
        "/api/v1/clients",
        &intake,
        Some(json!({"given_name": "Ana", "family_name": "Alvarez", "date_of_birth": "1990-02-27"})),
    )
    .await;
    assert_eq!(s, 201, "{m}");
    let mine = m["id"].as_str().unwrap().to_owned();
    let (s, _) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/clients/{mine}/care-team/{}", coun_user.id),
        &sup,
        Some(json!({"team_role": "primary_counselor"})),
    )
    .await;
    assert_eq!(s, 204);
    let (s, b) = call(
        &app,
        Method::POST,
        "/api/v1/clients",
        &sup,
        Some(json!({"given_name": "Ben", "family_name": "Brooks", "date_of_birth": "1990-02-27", "phone": "555-010-9876"})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let theirs = b["id"].as_str().unwrap().to_owned();
    let began = (app.app.today_in("UTC") - time::Duration::days(10)).to_string();
    let (s, e) = call(
        &app,
        Method::POST,
        &format!("/api/v1/clients/{theirs}/episodes"),
        &sup,
        Some(json!({"on": began, "level": "2.1", "site_id": site, "reason": "Relapse after a loss"})),
    )
    .await;
    assert_eq!(s, 201, "{e}");
    let theirs_episode = e["id"].as_str().unwrap().to_owned();
    Two { app, sup, intake, coun, mine, theirs, theirs_episode, site }
}

/// The `access.denied` events that name `client`.
async fn denials_of(app: &TestApp, client: &str) -> usize {
    events(app, "access.denied")
        .await
        .iter()
        .filter(|e| e.event.client.map(|c| c.to_string()) == Some(client.into()))
        .count()
}

#[tokio::test]
async fn another_clients_record_under_my_clients_path_is_a_recorded_refusal() {
    let t = two().await;
    let (app, theirs) = (&t.app, t.theirs.as_str());
    let (s, r) = call(
        app,
        Method::POST,
        &format!("/api/v1/clients/{theirs}/responses"),
        &t.sup,
        Some(json!({"form": "phq-9", "answers": {"1": 1}})),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let response = r["response"]["id"].as_str().unwrap().to_owned();
    let (s, contact) = call(
        app,
        Method::POST,
        &format!("/api/v1/clients/{theirs}/contacts"),
        &t.sup,
        Some(json!({"name": "Cara Brooks", "relationship": "sister", "phone": "555-010-4444"})),
    )
    .await;
    assert_eq!(s, 201, "{contact}");
    let (s, coverage) = call(
        app,
        Method::POST,
        &format!("/api/v1/clients/{theirs}/coverages"),
        &t.sup,
        Some(json!({"payer": "Acme Health", "member_id": "X123", "priority": "primary"})),
    )
    .await;
    assert_eq!(s, 201, "{coverage}");

    let mine = &t.mine;
    let ep = &t.theirs_episode;
    let probes: [(&str, Method, String); 5] = [
        (&t.coun, Method::GET, format!("/api/v1/clients/{mine}/responses/{response}")),
        (&t.coun, Method::GET, format!("/api/v1/clients/{mine}/episodes/{ep}/aftercare")),
        (&t.coun, Method::GET, format!("/api/v1/clients/{mine}/episodes/{ep}/review")),
        (&t.intake, Method::DELETE, format!("/api/v1/clients/{mine}/contacts/{}", contact["id"].as_str().unwrap())),
        (&t.intake, Method::DELETE, format!("/api/v1/clients/{mine}/coverages/{}", coverage["id"].as_str().unwrap())),
    ];
    for (n, (token, method, path)) in probes.into_iter().enumerate() {
        let (s, _) = call(app, method, &path, token, None).await;
        assert_eq!(s, 404, "{path}");
        assert_eq!(denials_of(app, theirs).await, n + 1, "{path} is recorded against the client reached for");
    }
    // A genuinely unknown id is only not found.
    let (s, _) =
        call(app, Method::GET, &format!("/api/v1/clients/{mine}/responses/{}", uuid::Uuid::new_v4()), &t.coun, None)
            .await;
    assert_eq!(s, 404);
    assert_eq!(events(app, "access.denied").await.len(), 5);
    // Nothing was removed.
    let (_, record) = call(app, Method::GET, &format!("/api/v1/clients/{theirs}"), &t.sup, None).await;
    assert_eq!(record["contacts"].as_array().map(Vec::len), Some(1), "{record}");
    assert_eq!(record["coverages"].as_array().map(Vec::len), Some(1), "{record}");
}

#[tokio::test]
async fn revoking_someone_elses_session_is_a_recorded_refusal() {
    let t = two().await;
    let (s, sessions) = call(&t.app, Method::GET, "/api/v1/me/sessions", &t.sup, None).await;
    assert_eq!(s, 200);
    let theirs = sessions[0]["id"].as_str().unwrap().to_owned();
    let before = events(&t.app, "access.denied").await.len();
    let (s, _) = call(&t.app, Method::DELETE, &format!("/api/v1/me/sessions/{theirs}"), &t.coun, None).await;
    assert_eq!(s, 404);
    assert_eq!(events(&t.app, "access.denied").await.len(), before + 1);
    let (s, _) = call(&t.app, Method::GET, "/api/v1/me/sessions", &t.sup, None).await;
    assert_eq!(s, 200, "the supervisor is still signed in");
}

fn inquiry(given: &str, family: &str, dob: Option<&str>, phone: &str) -> Value {
    json!({"caller_name": "Self", "caller_relationship": "self", "given_name": given, "family_name": family,
           "date_of_birth": dob, "phone": phone, "urgency": "routine"})
}

#[tokio::test]
async fn a_phone_number_alone_never_readmits_a_stranger() {
    let t = two().await;
    let app = &t.app;
    // Ben had a stay, was discharged; his chart holds clinical content.
    let today = app.app.today_in("UTC").to_string();
    let (s, d) = call(
        app,
        Method::POST,
        &format!("/api/v1/clients/{}/episodes/{}/decisions", t.theirs, t.theirs_episode),
        &t.sup,
        Some(json!({"kind": "discharge", "on": today, "reason": "Completed; disclosed a family secret", "discharge_reason": "completed"})),
    )
    .await;
    assert!(s == 200 || s == 201, "{s} {d}");

    // Anyone can call with any name and his phone number: the match is shown, not trusted.
    let (s, i) =
        call(app, Method::POST, "/api/v1/inquiries", &t.intake, Some(inquiry("Zed", "Nobody", None, "555-010-9876")))
            .await;
    assert_eq!(s, 201, "{i}");
    let id = i["id"].as_str().unwrap().to_owned();
    let (_, view) = call(app, Method::GET, &format!("/api/v1/inquiries/{id}"), &t.intake, None).await;
    assert!(view["possible_matches"].as_array().unwrap().iter().any(|m| m["id"] == t.theirs.as_str()), "{view}");
    let admit =
        json!({"on": today, "level": "2.1", "site_id": t.site, "reason": "Returning", "existing_client_id": t.theirs});
    let before = denials_of(app, &t.theirs).await;
    let (s, _) =
        call(app, Method::POST, &format!("/api/v1/inquiries/{id}/admit"), &t.intake, Some(admit.clone())).await;
    assert_eq!(s, 403, "a phone number is not an identification");
    assert_eq!(denials_of(app, &t.theirs).await, before + 1);
    let (s, _) = call(app, Method::GET, &format!("/api/v1/clients/{}", t.theirs), &t.intake, None).await;
    assert_eq!(s, 403, "and the chart stays closed");

    // With his name and date of birth the coordinator readmits him, and sees what admission
    // needs — not why his earlier stay went as it did, nor its clinical record.
    let (_, i) =
        call(app, Method::POST, "/api/v1/inquiries", &t.intake, Some(inquiry("Ben", "Brooks", Some("1990-02-27"), "")))
            .await;
    let id = i["id"].as_str().unwrap().to_owned();
    let (s, conv) = call(app, Method::POST, &format!("/api/v1/inquiries/{id}/admit"), &t.intake, Some(admit)).await;
    assert_eq!(s, 201, "{conv}");
    let (s, eps) = call(app, Method::GET, &format!("/api/v1/clients/{}/episodes", t.theirs), &t.intake, None).await;
    assert_eq!(s, 200);
    let text = eps.to_string();
    assert!(!text.contains("family secret") && !text.contains("loss"), "{text}");
    for path in [
        format!("/api/v1/clients/{}/measures", t.theirs),
        format!("/api/v1/clients/{}/episodes/{}/aftercare", t.theirs, t.theirs_episode),
    ] {
        let (s, _) = call(app, Method::GET, &path, &t.intake, None).await;
        assert_eq!(s, 403, "{path}");
    }
    // The supervisor still sees it all.
    let (_, eps) = call(app, Method::GET, &format!("/api/v1/clients/{}/episodes", t.theirs), &t.sup, None).await;
    assert!(eps.to_string().contains("family secret"));
}

#[tokio::test]
async fn a_supervisor_confirms_a_readmission_the_details_do_not_prove() {
    let t = two().await;
    let today = t.app.app.today_in("UTC").to_string();
    let (_, i) =
        call(&t.app, Method::POST, "/api/v1/inquiries", &t.intake, Some(inquiry("Benjamin", "B", None, ""))).await;
    let id = i["id"].as_str().unwrap().to_owned();
    let (s, d) = call(
        &t.app,
        Method::POST,
        &format!("/api/v1/clients/{}/episodes/{}/decisions", t.theirs, t.theirs_episode),
        &t.sup,
        Some(json!({"kind": "discharge", "on": today, "reason": "Completed", "discharge_reason": "completed"})),
    )
    .await;
    assert!(s == 200 || s == 201, "{s} {d}");
    let admit =
        json!({"on": today, "level": "2.1", "site_id": t.site, "reason": "Returning", "existing_client_id": t.theirs});
    let (s, conv) = call(&t.app, Method::POST, &format!("/api/v1/inquiries/{id}/admit"), &t.sup, Some(admit)).await;
    assert_eq!(s, 201, "{conv}");
    assert_eq!(conv["client_id"], t.theirs.as_str());
}
