//! After discharge: the aftercare plan and the 30/60/90-day follow-ups.

use domain::role::Role;
use serde_json::json;
use testkit::{TestApp, spawn_app};

use crate::{call, events};

fn day(offset: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(offset)).to_string()
}

/// A client admitted and discharged `days_ago`, and the episode id.
async fn discharged(app: &TestApp, sup: &str, site: &str, name: &str, days_ago: i64) -> (String, String) {
    let client = app.new_client(sup, name, "Discharged").await;
    let eps = format!("/api/v1/clients/{client}/episodes");
    let (s, e) = call(
        app,
        reqwest::Method::POST,
        &eps,
        sup,
        Some(json!({"on": day(-days_ago - 30), "level": "2.1", "site_id": site, "reason": "x"})),
    )
    .await;
    assert_eq!(s, 201, "{e}");
    let episode = e["id"].as_str().unwrap().to_owned();
    let (s, e) = call(
        app,
        reqwest::Method::POST,
        &format!("{eps}/{episode}/decisions"),
        sup,
        Some(
            json!({"kind": "discharge", "on": day(-days_ago), "discharge_reason": "completed", "reason": "Completed"}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{e}");
    (client, episode)
}

#[tokio::test]
async fn discharge_schedules_follow_ups_and_their_outcomes_are_recorded_once() {
    let app = spawn_app().await;
    let (_, admin) = app.full_token("boss", Role::Admin).await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let (_, site) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/sites",
        &admin,
        Some(json!({"name": "Main", "time_zone": "America/Denver"})),
    )
    .await;
    let site = site["id"].as_str().unwrap().to_owned();
    let (client, episode) = discharged(&app, &sup, &site, "Ana", 95).await;
    let (recent, _) = discharged(&app, &sup, &site, "Ben", 40).await;

    let (s, a) =
        call(&app, reqwest::Method::GET, &format!("/api/v1/clients/{client}/episodes/{episode}/aftercare"), &sup, None)
            .await;
    assert_eq!(s, 200);
    let dues: Vec<(u64, &str)> = a["follow_ups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["day"].as_u64().unwrap(), f["due_on"].as_str().unwrap()))
        .collect();
    assert_eq!(dues, [(30, day(-65).as_str()), (60, day(-35).as_str()), (90, day(-5).as_str())]);

    let (s, due) = call(&app, reqwest::Method::GET, "/api/v1/follow-ups", &sup, None).await;
    assert_eq!(s, 200);
    let due = due.as_array().unwrap();
    assert_eq!(due.iter().filter(|f| f["client_id"] == client.as_str()).count(), 3);
    assert_eq!(due.iter().filter(|f| f["client_id"] == recent.as_str()).count(), 1, "only the 30-day call is due");

    let first = a["follow_ups"][0]["id"].as_str().unwrap().to_owned();
    let record = format!("/api/v1/follow-ups/{first}");
    let (s, p) = call(&app, reqwest::Method::POST, &record, &sup, Some(json!({"reached": true}))).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("substance_use")));
    let (s, p) =
        call(&app, reqwest::Method::POST, &record, &sup, Some(json!({"reached": false, "working_or_in_school": true})))
            .await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("reached")));
    let (s, _) = call(
        &app,
        reqwest::Method::POST,
        &record,
        &sup,
        Some(json!({"reached": true, "substance_use": "abstinent", "working_or_in_school": true, "readmitted_elsewhere": false})),
    )
    .await;
    assert_eq!(s, 204);
    let (s, p) = call(&app, reqwest::Method::POST, &record, &sup, Some(json!({"reached": false}))).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("conflict")), "answered once");
    let (_, a) =
        call(&app, reqwest::Method::GET, &format!("/api/v1/clients/{client}/episodes/{episode}/aftercare"), &sup, None)
            .await;
    assert_eq!(a["follow_ups"][0]["substance_use"], "abstinent");
    assert_eq!(events(&app, "follow_up.recorded").await.len(), 1);

    // Someone outside the care team cannot answer it.
    let (_, coun) = app.full_token("coun", Role::Counselor).await;
    let second = a["follow_ups"][1]["id"].as_str().unwrap();
    let (s, _) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/follow-ups/{second}"),
        &coun,
        Some(json!({"reached": false})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, list) = call(&app, reqwest::Method::GET, "/api/v1/follow-ups", &coun, None).await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(0)));

    // The web work queue records outcomes too.
    let browser = app.client();
    browser.set_cookie("__Host-stepdown_session", &sup);
    let (s, html) = browser.get_text("/follow-ups").await;
    assert_eq!(s, 200);
    assert!(html.contains("Discharged, Ana") && html.contains("60-day follow-up"));
    let res = browser.submit("/follow-ups", &format!("/follow-ups/{second}"), &[("reached", "no")]).await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn the_aftercare_plan_is_kept_with_the_episode() {
    let app = spawn_app().await;
    let (_, admin) = app.full_token("boss", Role::Admin).await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let (_, site) =
        call(&app, reqwest::Method::POST, "/api/v1/sites", &admin, Some(json!({"name": "Main", "time_zone": "UTC"})))
            .await;
    let (client, episode) = discharged(&app, &sup, site["id"].as_str().unwrap(), "Cal", 1).await;
    let url = format!("/api/v1/clients/{client}/episodes/{episode}/aftercare");
    let (s, p) = call(&app, reqwest::Method::PUT, &url, &sup, Some(json!({"meetings": "x".repeat(2001)}))).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("meetings")));
    let plan = json!({"referrals": "Outpatient therapy, Dr. Reyes", "sober_living": "Oak House", "meetings": "AA Tue/Thu\nSMART Sat",
                      "medication": "Buprenorphine, refill 12/05", "appointments": "Primary care 12/10"});
    let (s, _) = call(&app, reqwest::Method::PUT, &url, &sup, Some(plan.clone())).await;
    assert_eq!(s, 204);
    let (_, a) = call(&app, reqwest::Method::GET, &url, &sup, None).await;
    assert_eq!(a["plan"], plan);
    let browser = app.client();
    browser.set_cookie("__Host-stepdown_session", &sup);
    let (_, html) = browser.get_text(&format!("/clients/{client}")).await;
    assert!(html.contains("Oak House") && html.contains("Follow-up contacts"));
}
