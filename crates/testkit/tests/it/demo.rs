//! The demo center: believable data on every screen, deterministic, never over real data.

use std::collections::BTreeSet;

use domain::role::Role;
use serde_json::Value;
use testkit::spawn_app;

use crate::chain_intact;

#[tokio::test]
async fn the_demo_center_fills_every_screen_and_only_once() {
    let app = spawn_app().await;
    let summary = app.app.seed_demo(42).await.unwrap();
    assert!(summary.created);
    assert!(summary.clients >= 60, "{summary:?}");
    let token = app.api_token("demo.supervisor", app::demo::DEMO_PASSWORD).await;
    let get = |path: &str| {
        let (app, token, path) = (&app, token.clone(), path.to_owned());
        async move {
            let res = reqwest::Client::new().get(app.url(&path)).bearer_auth(token).send().await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            res.json::<Value>().await.unwrap()
        }
    };
    let census = get("/api/v1/census").await;
    let active: usize =
        census["sites"].as_array().unwrap().iter().map(|s| s["clients"].as_array().unwrap().len()).sum();
    assert!(active >= 15, "a busy census: {active}");
    assert!(census["sites"][0]["beds_occupied"].as_u64().unwrap() > 0);
    let inquiries = get("/api/v1/inquiries").await;
    let stages: BTreeSet<&str> = inquiries.as_array().unwrap().iter().map(|i| i["stage"].as_str().unwrap()).collect();
    for stage in ["new", "screening", "admission_scheduled", "waitlist", "admitted", "referred_out", "lost"] {
        assert!(stages.contains(stage), "no inquiry in {stage}: {stages:?}");
    }
    let clients = get("/api/v1/clients").await;
    assert!(clients.as_array().unwrap().len() >= 60);
    assert!(!get("/api/v1/follow-ups").await.as_array().unwrap().is_empty() || active > 0);
    // Measurement: an open safety alert, reviews and forms due, a caseload that moves both ways.
    let work = get("/api/v1/worklist").await;
    assert!(!work["alerts"].as_array().unwrap().is_empty(), "an open alert: {work}");
    assert!(!work["reviews_due"].as_array().unwrap().is_empty(), "reviews due");
    assert!(!work["forms_due"].as_array().unwrap().is_empty(), "forms due");
    let caseload = get("/api/v1/caseload").await;
    let trends: BTreeSet<&str> = caseload.as_array().unwrap().iter().map(|c| c["trend"].as_str().unwrap()).collect();
    assert!(trends.contains("improving") && trends.len() >= 2, "{trends:?}");
    // The IOP program: a day and an evening track with sessions this week, enrolled clients on
    // the rosters, a holiday, a cancelled session and a substitute facilitator next week.
    let program = get("/api/v1/program").await;
    let tracks: Vec<String> =
        program["tracks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(tracks.len(), 2, "{program}");
    assert_eq!(program["closures"][0]["reason"], "Center holiday");
    let next_week = app.app.today_in("America/Chicago") + time::Duration::days(7);
    let (mut this_week, mut on_rosters, mut cancelled, mut substitutes) = (0, 0, 0, 0);
    for id in &tracks {
        for from in [String::new(), format!("&from={next_week}")] {
            let path = format!("/api/v1/program/calendar?view=track&id={id}{from}");
            let res = reqwest::Client::new().get(app.url(&path)).bearer_auth(&token).send().await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            let sessions = res.json::<Value>().await.unwrap()["sessions"].as_array().unwrap().clone();
            if from.is_empty() {
                this_week += sessions.len();
            }
            on_rosters += sessions.iter().map(|s| s["roster_count"].as_u64().unwrap()).sum::<u64>();
            cancelled += sessions.iter().filter(|s| s["status"] == "cancelled").count();
            substitutes += sessions.iter().filter(|s| !s["substitute_id"].is_null()).count();
        }
    }
    assert!(this_week >= 10, "the program has sessions this week: {this_week}");
    assert!(on_rosters > 0, "clients on the rosters");
    assert!(cancelled >= 1 && substitutes >= 1, "cancelled {cancelled}, substitutes {substitutes}");
    // The schedule builder places at least half of each track's clients next week (individual sessions
    // are booked ahead), and names the reason for anyone it cannot.
    let next = domain::iop::compliance::week_of(next_week);
    for id in &tracks {
        let p = get(&format!("/api/v1/program/tracks/{id}/weeks/{next}/proposal")).await;
        let clients = p["clients"].as_array().unwrap();
        let placed = p["placed"].as_u64().unwrap() as usize;
        assert!(!clients.is_empty() && placed * 2 >= clients.len(), "{placed} of {}: {p}", clients.len());
        assert!(clients.iter().filter(|c| !c["unplaced_reason"].is_null()).count() == clients.len() - placed);
    }
    // Attendance: a dose dashboard with someone to act on this week, and outreach to do.
    let dose = get("/api/v1/iop/compliance").await;
    let dose = dose.as_array().unwrap();
    assert!(!dose.is_empty(), "dose rows");
    assert!(dose.iter().any(|r| r["needs_action"] == true), "someone at risk this week: {dose:?}");
    assert!(!get("/api/v1/outreach").await.as_array().unwrap().is_empty(), "outreach after an unexcused absence");
    let last_week = get_week(&app, &token, app.app.today_in("America/Chicago") - time::Duration::days(7)).await;
    assert!(
        last_week.iter().any(|r| r["clinical_minutes"].as_u64().unwrap() > 0),
        "last week's attendance counts: {last_week:?}"
    );
    // Every account signs in with the published password.
    for (username, _, role) in app::demo::ACCOUNTS {
        let res = reqwest::Client::new()
            .post(app.url("/api/v1/session"))
            .json(&serde_json::json!({"username": username, "password": app::demo::DEMO_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{username}");
        let stage = res.json::<Value>().await.unwrap()["stage"].as_str().unwrap().to_owned();
        let expected = if matches!(role, Role::Admin | Role::PrivacyOfficer) { "mfa_enrol" } else { "full" };
        assert_eq!(stage, expected, "{username}");
    }
    chain_intact(&app).await;
    // A second run finds it already there.
    assert!(!app.app.seed_demo(42).await.unwrap().created);
}

async fn get_week(app: &testkit::TestApp, token: &str, day: time::Date) -> Vec<Value> {
    let week = domain::iop::compliance::week_of(day);
    let path = format!("/api/v1/iop/compliance?week={week}");
    let res = reqwest::Client::new().get(app.url(&path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json::<Value>().await.unwrap().as_array().unwrap().clone()
}

#[tokio::test]
async fn the_demo_center_refuses_a_database_with_real_records() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    app.new_client(&sup, "Real", "Person").await;
    match app.app.seed_demo(42).await {
        Err(e @ app::demo::DemoError::NotEmpty(_)) => {
            assert!(e.to_string().contains("holds 1 user account and 1 client not made by the demo"), "{e}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let (_, list) = {
        let res = reqwest::Client::new().get(app.url("/api/v1/clients")).bearer_auth(&sup).send().await.unwrap();
        (res.status(), res.json::<Value>().await.unwrap())
    };
    assert_eq!(list.as_array().unwrap().len(), 1, "nothing was added");
}

#[tokio::test]
async fn the_demo_center_refuses_a_database_whose_only_record_is_an_administrator() {
    // `serve`, then `serve --demo`: a real administrator with two-step verification and not
    // one client or inquiry. The demo's published password must not come in beside them.
    let app = spawn_app().await;
    let (admin, token) = app.full_token("root.admin", Role::Admin).await;
    assert!(admin.role == Role::Admin);
    match app.app.seed_demo(42).await {
        Err(e @ app::demo::DemoError::NotEmpty(_)) => {
            assert!(e.to_string().contains("holds 1 user account not made by the demo"), "{e}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({"username": "demo.admin", "password": app::demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "no demo account was made");
    let res = reqwest::Client::new().get(app.url("/api/v1/users")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap().as_array().unwrap().len(), 1);
    // Refused again on a second try: nothing was half-made in between.
    assert!(matches!(app.app.seed_demo(42).await, Err(app::demo::DemoError::NotEmpty(_))));
    chain_intact(&app).await;
}
