//! The continuum: sites and beds, admission, decisions, discharge, readmission, census.

use domain::role::Role;
use serde_json::{Value, json};
use testkit::{TestApp, spawn_app};

use crate::{call, chain_intact, events};

fn day(offset: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(offset)).to_string()
}

struct Center {
    app: TestApp,
    admin: String,
    sup: String,
    site: String,
    room: String,
    beds: Vec<String>,
}

async fn center() -> Center {
    let app = spawn_app().await;
    let (_, admin) = app.full_token("boss", Role::Admin).await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let (s, site) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/sites",
        &admin,
        Some(json!({"name": "Lakeside", "time_zone": "UTC"})),
    )
    .await;
    assert_eq!(s, 201, "{site}");
    let site = site["id"].as_str().unwrap().to_owned();
    let (s, room) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/sites/{site}/rooms"),
        &admin,
        Some(json!({"name": "Cedar", "capacity": 2})),
    )
    .await;
    assert_eq!(s, 201);
    let room = room["id"].as_str().unwrap().to_owned();
    let mut beds = Vec::new();
    for label in ["A", "B"] {
        let (s, bed) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/rooms/{room}/beds"),
            &admin,
            Some(json!({"label": label})),
        )
        .await;
        assert_eq!(s, 201);
        beds.push(bed["id"].as_str().unwrap().to_owned());
    }
    Center { app, admin, sup, site, room, beds }
}

#[tokio::test]
async fn rooms_hold_no_more_beds_than_their_capacity() {
    let c = center().await;
    let (s, p) = call(
        &c.app,
        reqwest::Method::POST,
        &format!("/api/v1/rooms/{}/beds", c.room),
        &c.admin,
        Some(json!({"label": "C"})),
    )
    .await;
    assert_eq!(s, 422);
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("capacity (2)"), "{p}");
    let (s, p) = call(
        &c.app,
        reqwest::Method::POST,
        "/api/v1/sites",
        &c.admin,
        Some(json!({"name": "X", "time_zone": "Mars/Olympus Mons"})),
    )
    .await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("time_zone")));
    let (s, _) =
        call(&c.app, reqwest::Method::POST, "/api/v1/sites", &c.sup, Some(json!({"name": "Y", "time_zone": "UTC"})))
            .await;
    assert_eq!(s, 403, "only administrators manage sites");
    let (_, sites) = call(&c.app, reqwest::Method::GET, "/api/v1/sites", &c.sup, None).await;
    assert_eq!(sites[0]["rooms"][0]["beds"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_stay_from_admission_through_step_down_to_discharge_and_readmission() {
    let c = center().await;
    let client = c.app.new_client(&c.sup, "Ana", "Alvarez").await;
    let eps = format!("/api/v1/clients/{client}/episodes");
    let admit = json!({"on": day(-40), "level": "3.5", "site_id": c.site, "bed_id": c.beds[0], "planned_end": day(-10), "reason": "Daily use; unsafe at home"});
    let (s, e) = call(&c.app, reqwest::Method::POST, &eps, &c.sup, Some(admit.clone())).await;
    assert_eq!(s, 201, "{e}");
    let episode = e["id"].as_str().unwrap().to_owned();
    let decide = format!("{eps}/{episode}/decisions");

    let (s, p) = call(&c.app, reqwest::Method::POST, &eps, &c.sup, Some(admit)).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("on")), "no second open episode");

    let (s, e) = call(
        &c.app,
        reqwest::Method::POST,
        &decide,
        &c.sup,
        Some(json!({"kind": "extend", "planned_end": day(-5), "reason": "Cravings still high"})),
    )
    .await;
    assert_eq!(s, 200, "{e}");
    let (s, e) = call(
        &c.app,
        reqwest::Method::POST,
        &decide,
        &c.sup,
        Some(json!({"kind": "step_down", "on": day(-8), "level": "2.1", "site_id": c.site, "reason": "Ready for IOP"})),
    )
    .await;
    assert_eq!(s, 200, "{e}");
    let placements = e["placements"].as_array().unwrap();
    assert_eq!(placements.len(), 2);
    assert_eq!(placements[0]["end"], placements[1]["start"], "no gap, no overlap");
    assert_eq!(placements[0]["planned_end"].as_str(), Some(day(-5).as_str()));
    assert!(placements[1]["end"].is_null());

    // The bed was freed on the step-down date: another client can take it from then on.
    let other = c.app.new_client(&c.sup, "Ben", "Brooks").await;
    let busy = json!({"on": day(-9), "level": "3.5", "site_id": c.site, "bed_id": c.beds[0], "reason": "x"});
    let (s, p) =
        call(&c.app, reqwest::Method::POST, &format!("/api/v1/clients/{other}/episodes"), &c.sup, Some(busy)).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("bed")), "bed over capacity: {p}");
    let free = json!({"on": day(-8), "level": "3.5", "site_id": c.site, "bed_id": c.beds[0], "reason": "x"});
    let (s, _) =
        call(&c.app, reqwest::Method::POST, &format!("/api/v1/clients/{other}/episodes"), &c.sup, Some(free)).await;
    assert_eq!(s, 201);

    let (s, e) = call(
        &c.app,
        reqwest::Method::POST,
        &decide,
        &c.sup,
        Some(json!({"kind": "discharge", "on": day(-1), "discharge_reason": "completed", "reason": "Completed IOP"})),
    )
    .await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["discharge_teds_code"], 1);
    let (s, _) = call(
        &c.app,
        reqwest::Method::POST,
        &decide,
        &c.sup,
        Some(json!({"kind": "extend", "planned_end": day(30), "reason": "x"})),
    )
    .await;
    assert_eq!(s, 422, "a closed episode takes no more decisions");

    let readmit = json!({"on": day(0), "level": "2.1", "site_id": c.site, "reason": "Relapse after discharge"});
    let (s, e) = call(&c.app, reqwest::Method::POST, &eps, &c.sup, Some(readmit)).await;
    assert_eq!(s, 201, "{e}");
    assert_eq!(e["previous_episode_id"], episode.as_str());

    let (_, list) = call(&c.app, reqwest::Method::GET, &eps, &c.sup, None).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let kinds: Vec<&str> =
        list[1]["decisions"].as_array().unwrap().iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["admit", "extend", "step_down", "discharge"]);
    assert!(list[1]["decisions"].as_array().unwrap().iter().all(|d| d["decided_by_name"] == "Test sup"));
    assert_eq!(events(&c.app, "episode.decided").await.len(), 3);
    assert_eq!(events(&c.app, "episode.admitted").await.len(), 3);
    chain_intact(&c.app).await;
}

#[tokio::test]
async fn bad_admissions_are_refused_and_nothing_is_written() {
    let c = center().await;
    let client = c.app.new_client(&c.sup, "Ana", "Alvarez").await;
    let eps = format!("/api/v1/clients/{client}/episodes");
    let cases = [
        (json!({"on": day(3), "level": "2.1", "site_id": c.site, "reason": "x"}), "on"),
        (json!({"on": "2026-02-30", "level": "2.1", "site_id": c.site, "reason": "x"}), "on"),
        (json!({"on": day(0), "level": "9.9", "site_id": c.site, "reason": "x"}), "level"),
        (json!({"on": day(0), "level": "3.5", "site_id": c.site, "reason": "x"}), "bed"),
        (json!({"on": day(0), "level": "2.1", "site_id": c.site, "bed_id": c.beds[0], "reason": "x"}), "bed"),
        (json!({"on": day(0), "level": "2.1", "site_id": uuid::Uuid::now_v7().to_string(), "reason": "x"}), "site"),
        (json!({"on": day(0), "level": "2.1", "site_id": c.site, "reason": ""}), "reason"),
        (
            json!({"on": day(0), "level": "2.1", "site_id": c.site, "planned_end": day(-3), "reason": "x"}),
            "planned_end",
        ),
    ];
    for (body, field) in cases {
        let (s, p) = call(&c.app, reqwest::Method::POST, &eps, &c.sup, Some(body.clone())).await;
        assert_eq!(s, 422, "{body} → {p}");
        assert_eq!(p["errors"][0]["field"], field, "{body} → {p}");
    }
    let (s, e) = call(
        &c.app,
        reqwest::Method::POST,
        &eps,
        &c.sup,
        Some(json!({"on": day(-5), "level": "2.1", "site_id": c.site, "reason": "x"})),
    )
    .await;
    assert_eq!(s, 201, "{e}");
    let decide = format!("{eps}/{}/decisions", e["id"].as_str().unwrap());
    let bad = [
        (json!({"kind": "discharge", "on": day(-9), "discharge_reason": "completed", "reason": "x"}), "on"),
        (json!({"kind": "discharge", "on": day(0), "discharge_reason": "9", "reason": "x"}), "discharge_reason"),
        (json!({"kind": "step_up", "on": day(0), "level": "1", "site_id": c.site, "reason": "x"}), "level"),
        (
            json!({"kind": "step_down", "on": day(0), "level": "3.5", "site_id": c.site, "bed_id": c.beds[1], "reason": "x"}),
            "level",
        ),
        (json!({"kind": "hibernate", "reason": "x"}), "kind"),
    ];
    for (body, field) in bad {
        let (s, p) = call(&c.app, reqwest::Method::POST, &decide, &c.sup, Some(body.clone())).await;
        assert_eq!(s, 422, "{body} → {p}");
        assert_eq!(p["errors"][0]["field"], field, "{body} → {p}");
    }
    let (_, list) = call(&c.app, reqwest::Method::GET, &eps, &c.sup, None).await;
    assert_eq!(list[0]["placements"].as_array().unwrap().len(), 1, "nothing half-written");
    assert_eq!(list[0]["decisions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn two_admissions_racing_for_one_bed_cannot_both_win() {
    let c = center().await;
    let mut tasks = Vec::new();
    for i in 0..6 {
        let client = c.app.new_client(&c.sup, "Racer", &format!("Number{i}")).await;
        let url = c.app.url(&format!("/api/v1/clients/{client}/episodes"));
        let body = json!({"on": day(0), "level": "3.5", "site_id": c.site, "bed_id": c.beds[1], "reason": "x"});
        let token = c.sup.clone();
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new().post(url).bearer_auth(token).json(&body).send().await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 422), "{statuses:?}");
}

#[tokio::test]
async fn the_census_shows_occupancy_and_names_only_within_reach() {
    let c = center().await;
    let (counselor, coun) = c.app.full_token("coun", Role::Counselor).await;
    let mut ids = Vec::new();
    for (i, (given, family)) in [("Ana", "Alvarez"), ("Ben", "Brooks"), ("Cal", "Cruz")].iter().enumerate() {
        let id = c.app.new_client(&c.sup, given, family).await;
        let body = if i < 2 {
            json!({"on": day(-20), "level": "3.5", "site_id": c.site, "bed_id": c.beds[i], "planned_end": day(3), "reason": "x"})
        } else {
            json!({"on": day(-20), "level": "2.1", "site_id": c.site, "planned_end": day(-2), "reason": "x"})
        };
        let (s, _) =
            call(&c.app, reqwest::Method::POST, &format!("/api/v1/clients/{id}/episodes"), &c.sup, Some(body)).await;
        assert_eq!(s, 201);
        ids.push(id);
    }
    let (s, _) = call(
        &c.app,
        reqwest::Method::PUT,
        &format!("/api/v1/clients/{}/care-team/{}", ids[0], counselor.id),
        &c.sup,
        Some(json!({"team_role": "primary_counselor"})),
    )
    .await;
    assert_eq!(s, 204);

    let (s, census) = call(&c.app, reqwest::Method::GET, "/api/v1/census", &c.sup, None).await;
    assert_eq!(s, 200);
    let site = &census["sites"][0];
    assert_eq!((site["beds_total"].as_u64(), site["beds_occupied"].as_u64()), (Some(2), Some(2)));
    assert_eq!(site["clients"].as_array().unwrap().len(), 3);
    assert_eq!(census["ending_within_7_days"].as_array().unwrap().len(), 2);
    assert_eq!(census["past_planned_end"][0], ids[2].as_str());

    let (s, census) = call(&c.app, reqwest::Method::GET, "/api/v1/census", &coun, None).await;
    assert_eq!(s, 200);
    let site = &census["sites"][0];
    let names: Vec<&str> = site["clients"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ana Alvarez"], "only the counselor's own client by name");
    assert_eq!(site["others"], 2);
    assert_eq!(site["beds_occupied"], 2, "occupancy is not hidden");

    // The board in the browser.
    let browser = c.app.client();
    browser.set_cookie("__Host-stepdown_session", &c.sup);
    let (s, html) = browser.get_text("/census").await;
    assert_eq!(s, 200);
    assert!(html.contains("2</strong> of 2 beds occupied"), "{html}");
    assert!(html.contains("Cruz, Cal") && html.contains("past planned end"));
    let (s, _) = {
        let (_, biller) = c.app.full_token("bill", Role::Biller).await;
        call(&c.app, reqwest::Method::GET, "/api/v1/census", &biller, None).await
    };
    assert_eq!(s, 403);
}

#[tokio::test]
async fn the_chart_admits_and_records_decisions_through_forms() {
    let c = center().await;
    let client = c.app.new_client(&c.sup, "Ana", "Alvarez").await;
    let browser = c.app.client();
    browser.set_cookie("__Host-stepdown_session", &c.sup);
    let chart = format!("/clients/{client}");
    let (s, html) = browser.get_text(&chart).await;
    assert_eq!(s, 200);
    assert!(html.contains("Not admitted yet") && html.contains("action=\"/clients/"));
    let res = browser
        .submit(
            &chart,
            &format!("{chart}/admit"),
            &[("on", &day(0)), ("level", "3.5"), ("site", &c.site), ("bed", ""), ("reason", "x")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("This level is residential: choose a bed"));
    let res = browser
        .submit(
            &chart,
            &format!("{chart}/admit"),
            &[
                ("on", &day(-3)),
                ("level", "3.5"),
                ("site", &c.site),
                ("bed", &c.beds[0]),
                ("planned_end", &day(27)),
                ("reason", "Detox completed"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = browser.get_text(&chart).await;
    assert!(html.contains("Level 3.5 since") && html.contains("Record a decision"));
    let (_, list) =
        call(&c.app, reqwest::Method::GET, &format!("/api/v1/clients/{client}/episodes"), &c.sup, None).await;
    let episode = list[0]["id"].as_str().unwrap();
    let res = browser
        .submit(
            &chart,
            &format!("{chart}/episodes/{episode}/decide"),
            &[
                ("kind", "step_down"),
                ("on", &day(0)),
                ("level", "2.1"),
                ("site", &c.site),
                ("bed", ""),
                ("reason", "Ready"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = browser.get_text(&chart).await;
    assert!(html.contains("Level 2.1 since") && html.contains("Stepped down") && html.contains("3.5 → 2.1"));
}

#[tokio::test]
async fn dates_are_judged_by_the_calendar_at_the_site() {
    use app::Clock;
    let c = center().await;
    let (s, chicago) = call(
        &c.app,
        reqwest::Method::POST,
        "/api/v1/sites",
        &c.admin,
        Some(json!({"name": "Chicago", "time_zone": "America/Chicago"})),
    )
    .await;
    assert_eq!(s, 201);
    let (s, p) = call(
        &c.app,
        reqwest::Method::POST,
        "/api/v1/sites",
        &c.admin,
        Some(json!({"name": "Nowhere", "time_zone": "Atlantis/Sunken"})),
    )
    .await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("time_zone")), "zones must exist");
    let client = c.app.new_client(&c.sup, "Ana", "Alvarez").await;

    // Move the clock to 03:00 UTC: still yesterday evening in Chicago.
    let now = c.app.clock.now();
    let mut target = now.replace_time(time::macros::time!(03:00));
    if target <= now {
        target += time::Duration::days(1);
    }
    c.app.clock.advance(target - now);
    let utc_today = target.date();
    let chicago_today = utc_today - time::Duration::days(1);
    assert_eq!(c.app.app.today_in("America/Chicago"), chicago_today);
    assert_eq!(c.app.app.today_in("Not/AZone"), utc_today, "unknown zones fall back to UTC");
    // The earlier session idled out while the clock moved; sign in again.
    let sup = c.app.api_token("sup", testkit::PASSWORD).await;

    let eps = format!("/api/v1/clients/{client}/episodes");
    let admit = json!({"on": (chicago_today - time::Duration::days(5)).to_string(), "level": "2.1", "site_id": chicago["id"], "reason": "x"});
    let (s, e) = call(&c.app, reqwest::Method::POST, &eps, &sup, Some(admit)).await;
    assert_eq!(s, 201, "{e}");
    let decide = format!("{eps}/{}/decisions", e["id"].as_str().unwrap());
    let discharge = |on: time::Date| json!({"kind": "discharge", "on": on.to_string(), "discharge_reason": "completed", "reason": "x"});
    let (s, p) = call(&c.app, reqwest::Method::POST, &decide, &sup, Some(discharge(utc_today))).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("on")), "tomorrow in Chicago is in the future");
    let (s, _) = call(&c.app, reqwest::Method::POST, &decide, &sup, Some(discharge(chicago_today))).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn each_stay_has_its_own_care_team() {
    let c = center().await;
    let (a, a_token) = c.app.full_token("alex", Role::Counselor).await;
    let (b, _) = c.app.full_token("blake", Role::Counselor).await;
    let (d, d_token) = c.app.full_token("drew", Role::Counselor).await;
    let client = c.app.new_client(&c.sup, "Ana", "Alvarez").await;
    let team = |user: &domain::user::User, method: reqwest::Method| {
        let (app, sup, path) = (&c.app, c.sup.clone(), format!("/api/v1/clients/{client}/care-team/{}", user.id));
        async move { call(app, method, &path, &sup, Some(json!({"team_role": "counselor"}))).await.0 }
    };
    assert_eq!(team(&a, reqwest::Method::PUT).await, 204, "assigned before admission");
    let eps = format!("/api/v1/clients/{client}/episodes");
    let (_, e) = call(
        &c.app,
        reqwest::Method::POST,
        &eps,
        &c.sup,
        Some(json!({"on": day(-30), "level": "2.1", "site_id": c.site, "reason": "x"})),
    )
    .await;
    let first = e["id"].as_str().unwrap().to_owned();
    assert_eq!(team(&b, reqwest::Method::PUT).await, 204, "joins the current stay");
    let names = |v: &Value| -> Vec<String> {
        let mut n: Vec<String> =
            v["care_team"].as_array().unwrap().iter().map(|m| m["display_name"].as_str().unwrap().to_owned()).collect();
        n.sort();
        n
    };
    let (_, detail) = call(&c.app, reqwest::Method::GET, &format!("/api/v1/clients/{client}"), &c.sup, None).await;
    assert_eq!(names(&detail), ["Test alex", "Test blake", "Test sup"], "the creator is on the team too");
    call(
        &c.app,
        reqwest::Method::POST,
        &format!("{eps}/{first}/decisions"),
        &c.sup,
        Some(json!({"kind": "discharge", "on": day(-10), "discharge_reason": "completed", "reason": "x"})),
    )
    .await;
    let (s, _) = call(
        &c.app,
        reqwest::Method::POST,
        &eps,
        &c.sup,
        Some(json!({"on": day(-2), "level": "2.1", "site_id": c.site, "reason": "Relapse"})),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(team(&d, reqwest::Method::PUT).await, 204);
    // Off the new stay's team: Alex treated the client in the first stay and keeps access;
    // Drew was only on this stay and loses it.
    assert_eq!(team(&a, reqwest::Method::DELETE).await, 204);
    assert_eq!(team(&d, reqwest::Method::DELETE).await, 204);
    let (_, detail) = call(&c.app, reqwest::Method::GET, &format!("/api/v1/clients/{client}"), &c.sup, None).await;
    assert_eq!(names(&detail), ["Test blake", "Test sup"], "the team of this stay");
    assert_eq!(call(&c.app, reqwest::Method::GET, &format!("/api/v1/clients/{client}"), &a_token, None).await.0, 200);
    assert_eq!(call(&c.app, reqwest::Method::GET, &format!("/api/v1/clients/{client}"), &d_token, None).await.0, 403);
}
