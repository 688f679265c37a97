//! The schedule builder through the API: a proposal that respects availability and capacity,
//! applying it to the rosters in one request, and an edit that breaks a rule refused whole.

use app::iop::{EnrolForm, TemplateForm, TrackForm};
use domain::iop::compliance::week_of;
use domain::role::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::call;

#[tokio::test]
async fn the_builder_fills_next_week_within_availability_and_capacity() {
    let app = testkit::spawn_app().await;
    let (sup_user, sup) = app.full_token("sup", Role::Supervisor).await;
    let (site, clients) = riverside_clients(&app, &sup, &[("Ana", "Alvarez"), ("Ben", "Bell"), ("Cy", "Cho")]).await;
    let today = app.app.today_in("America/Chicago");
    let ctx = app.app.authenticate(&sup, Some("127.0.0.1")).await.unwrap().ctx;
    let next = week_of(today).next().unwrap();
    let track = app
        .app
        .create_track(
            &ctx,
            &TrackForm {
                site: site.clone(),
                name: "Mixed".into(),
                group_limit: "2".into(),
                active_from: today.to_string(),
                active_until: String::new(),
            },
        )
        .await
        .unwrap();
    // Three-hour groups Monday to Thursday mornings and evenings: 24 h offered, 9 h needed.
    for day in ["monday", "tuesday", "wednesday", "thursday"] {
        for (start, end) in [("09:00", "12:00"), ("18:00", "21:00")] {
            app.app
                .add_template(
                    &ctx,
                    track.id,
                    &TemplateForm {
                        weekday: day.into(),
                        start: start.into(),
                        end: end.into(),
                        modality: "group".into(),
                        title: "Group".into(),
                        facilitator: sup_user.id.to_string(),
                        room: String::new(),
                    },
                )
                .await
                .unwrap();
        }
    }
    app.app.ensure_week(&ctx, track.id, next).await.unwrap();
    for c in &clients {
        app.app
            .enrol(
                &ctx,
                c.parse().unwrap(),
                &EnrolForm { track: track.id.to_string(), from: today.to_string(), until: String::new() },
            )
            .await
            .unwrap();
    }
    // Ana works days: evenings only.
    let (s, _) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/clients/{}/availability", clients[0]),
        &sup,
        Some(json!({"windows": ["mon 17:00 22:00", "tue 17:00 22:00", "wed 17:00 22:00", "thu 17:00 22:00"]})),
    )
    .await;
    assert_eq!(s, 204);
    // A window of zero length, or one that ends before it starts, is refused; nothing changes.
    for bad in ["mon 18:00 18:00", "tue 21:00 17:00", "someday 18:00 21:00"] {
        let (s, e) = call(
            &app,
            Method::PUT,
            &format!("/api/v1/clients/{}/availability", clients[0]),
            &sup,
            Some(json!({"windows": ["wed 17:00 22:00", bad]})),
        )
        .await;
        assert_eq!((s, e["errors"][0]["field"].as_str()), (422, Some("availability")), "{bad}: {e}");
        assert!(e["errors"][0]["message"].as_str().unwrap().starts_with("Line 2: "), "{e}");
    }
    let (s, plan) = call(&app, Method::GET, &format!("/api/v1/clients/{}/program-plan", clients[0]), &sup, None).await;
    assert_eq!(s, 200, "{plan}");
    assert_eq!(
        plan["windows"],
        json!(["mon 17:00 22:00", "tue 17:00 22:00", "wed 17:00 22:00", "thu 17:00 22:00"]),
        "unchanged by the refused saves"
    );
    assert!(
        crate::events(&app, "client.read").await.iter().any(|e| e.event.detail.as_deref() == Some("program plan")),
        "the read is audited"
    );

    let base = format!("/api/v1/program/tracks/{}/weeks/{next}", track.id);
    let (s, p) = call(&app, Method::GET, &format!("{base}/proposal"), &sup, None).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["placed"], 3, "{p}");
    let sessions: Vec<Value> = p["sessions"].as_array().unwrap().clone();
    let start_of =
        |id: &str| sessions.iter().find(|s| s["session_id"] == id).unwrap()["start"].as_str().unwrap().to_owned();
    let ana = p["clients"].as_array().unwrap().iter().find(|c| c["client_id"] == clients[0]).unwrap();
    assert!(ana["sessions"].as_array().unwrap().len() >= 3);
    for s in ana["sessions"].as_array().unwrap() {
        assert_eq!(start_of(s.as_str().unwrap()), "18:00", "evening sessions for someone who works days");
    }
    let assignments: serde_json::Map<String, Value> = p["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["client_id"].as_str().unwrap().to_owned(), c["sessions"].clone()))
        .collect();
    let (s, a) =
        call(&app, Method::POST, &format!("{base}/schedule"), &sup, Some(json!({"assignments": assignments}))).await;
    assert_eq!(s, 200, "{a}");
    // Enrolment had already put everyone on next week's groups up to capacity; the proposal
    // replaces that with its own assignment.
    assert!(a["added"].as_u64().unwrap() + a["removed"].as_u64().unwrap() > 0, "{a}");
    let rostered = |client: &str| {
        let (app, client) = (&app, client.to_owned());
        async move {
            use app::Store;
            let mut tx = app.store.read().await.unwrap();
            let mut f = app::ports::SessionFilter::between(next.monday(), next.sunday());
            f.client = Some(client.parse().unwrap());
            tx.program_sessions(&f).await.unwrap()
        }
    };
    // The rosters as they stand read back as the proposal applied.
    let (s, now) = call(&app, Method::GET, &format!("{base}/schedule"), &sup, None).await;
    assert_eq!((s, &now["placed"]), (200, &json!(3)), "{now}");
    for c in now["clients"].as_array().unwrap() {
        let mut got: Vec<&str> = c["sessions"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
        let mut want: Vec<&str> = assignments[c["client_id"].as_str().unwrap()]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "as applied");
    }
    let ana_week = rostered(&clients[0]).await;
    assert!(ana_week.len() >= 3, "{ana_week:?}");
    assert!(ana_week.iter().all(|s| s.slot.start.hour() == 18), "applied as proposed: evenings for Ana");

    // Everyone into the first session (capacity 2): refused whole, nothing changed.
    let first = sessions[0]["session_id"].as_str().unwrap();
    let crowded: serde_json::Map<String, Value> = clients.iter().map(|c| (c.clone(), json!([first]))).collect();
    let (s, e) =
        call(&app, Method::POST, &format!("{base}/schedule"), &sup, Some(json!({"assignments": crowded}))).await;
    assert_eq!((s, e["errors"][0]["field"].as_str()), (422, Some("assignments")), "{e}");
    let (_, again) = call(&app, Method::GET, &format!("{base}/schedule"), &sup, None).await;
    assert_eq!(again["clients"], now["clients"], "rosters unchanged by the refused edit");

    let (_, biller) = app.full_token("bill", Role::Biller).await;
    let (s, _) = call(&app, Method::GET, &format!("{base}/proposal"), &biller, None).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn a_facilitators_load_caps_the_proposal_across_tracks_and_appointments() {
    let app = testkit::spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let dana = app.user("dana", Role::Counselor).await;
    let people = [("Ana", "Alvarez"), ("Ben", "Bell"), ("Cy", "Cho"), ("Dee", "Diaz")];
    let (site, clients) = riverside_clients(&app, &sup, &people).await;
    let today = app.app.today_in("America/Chicago");
    let ctx = app.app.authenticate(&sup, Some("127.0.0.1")).await.unwrap().ctx;
    let next = week_of(today).next().unwrap();
    let form = TrackForm {
        site: site.clone(),
        name: "Mornings".into(),
        group_limit: "3".into(),
        active_from: today.to_string(),
        active_until: String::new(),
    };
    let track = app.app.create_track(&ctx, &form).await.unwrap();
    // Dana runs every group: three-hour groups Monday to Thursday mornings, 9 h needed each.
    for day in ["monday", "tuesday", "wednesday", "thursday"] {
        let entry = TemplateForm {
            weekday: day.into(),
            start: "09:00".into(),
            end: "12:00".into(),
            modality: "group".into(),
            title: "Group".into(),
            facilitator: dana.id.to_string(),
            room: String::new(),
        };
        app.app.add_template(&ctx, track.id, &entry).await.unwrap();
    }
    app.app.ensure_week(&ctx, track.id, next).await.unwrap();
    for c in &clients[..3] {
        let enrol = EnrolForm { track: track.id.to_string(), from: today.to_string(), until: String::new() };
        app.app.enrol(&ctx, c.parse().unwrap(), &enrol).await.unwrap();
    }
    let proposal = format!("/api/v1/program/tracks/{}/weeks/{next}/proposal", track.id);
    assert_eq!(get_ok(&app, &sup, &proposal).await["placed"], 3, "the default load (60) holds nine assignments");

    // Seven notes a week at most: two clients of three.
    let load_path = format!("/api/v1/program/facilitator-loads/{}", dana.id);
    let (s, e) = call(&app, Method::PUT, &load_path, &sup, Some(json!({"max_load": 7}))).await;
    assert_eq!(s, 204, "{e}");
    let p = get_ok(&app, &sup, &proposal).await;
    assert_eq!(p["placed"], 2, "{p}");
    let reasons: Vec<&str> =
        p["clients"].as_array().unwrap().iter().filter_map(|c| c["unplaced_reason"].as_str()).collect();
    assert_eq!(reasons, ["The facilitators of the sessions that would fit are at their load"]);

    // Nine, but Dana also sees Dee (not on this track) next Monday afternoon: that counts too.
    let (s, _) = call(&app, Method::PUT, &load_path, &sup, Some(json!({"max_load": 9}))).await;
    assert_eq!(s, 204);
    assert_eq!(get_ok(&app, &sup, &proposal).await["placed"], 3);
    let (s, a) = call(
        &app,
        Method::POST,
        "/api/v1/program/appointments",
        &sup,
        Some(json!({"client_id": clients[3], "modality": "individual", "facilitator_id": dana.id.to_string(),
                    "date": next.monday().to_string(), "start": "14:00", "end": "15:00"})),
    )
    .await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(get_ok(&app, &sup, &proposal).await["placed"], 2, "the appointment takes one of the nine");

    // Bad loads are refused and change nothing.
    for (body, field) in [
        (json!({"max_load": 0}), "max_load"),
        (json!({"max_load": 301}), "max_load"),
        (json!({"max_load": "many"}), ""),
        (json!({"max_load": 5, "extra": 1}), ""),
    ] {
        let (s, e) = call(&app, Method::PUT, &load_path, &sup, Some(body.clone())).await;
        assert!(s == 422 || s == 400, "{body}: {s} {e}");
        if !field.is_empty() {
            assert_eq!(e["errors"][0]["field"], field, "{e}");
        }
    }
    let (s, e) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/program/facilitator-loads/{}", clients[0]),
        &sup,
        Some(json!({"max_load": 5})),
    )
    .await;
    assert_eq!((s, e["errors"][0]["field"].as_str()), (422, Some("user")), "a client is no facilitator: {e}");
    let (s, loads) = call(&app, Method::GET, "/api/v1/program/facilitator-loads", &sup, None).await;
    assert_eq!(s, 200);
    let mine = loads.as_array().unwrap().iter().find(|l| l["user_id"] == dana.id.to_string()).unwrap().clone();
    assert_eq!((mine["max_load"].as_u64(), mine["set"].as_bool()), (Some(9), Some(true)), "unchanged: {loads}");
    // What Dana carries this week: nothing yet, then Dee's session today.
    assert_eq!(mine["this_week"], 0, "{mine}");
    let (s, a) = call(
        &app,
        Method::POST,
        "/api/v1/program/appointments",
        &sup,
        Some(json!({"client_id": clients[3], "modality": "individual", "facilitator_id": dana.id.to_string(),
                    "date": today.to_string(), "start": "22:00", "end": "23:00"})),
    )
    .await;
    assert_eq!(s, 201, "{a}");
    let (_, loads) = call(&app, Method::GET, "/api/v1/program/facilitator-loads", &sup, None).await;
    let mine = loads.as_array().unwrap().iter().find(|l| l["user_id"] == dana.id.to_string()).unwrap().clone();
    assert_eq!(mine["this_week"], 1, "{mine}");
    let (_, biller) = app.full_token("bill", Role::Biller).await;
    let (s, _) = call(&app, Method::PUT, &load_path, &biller, Some(json!({"max_load": 50}))).await;
    assert_eq!(s, 403);
    // Null goes back to the default.
    let (s, _) = call(&app, Method::PUT, &load_path, &sup, Some(json!({"max_load": null}))).await;
    assert_eq!(s, 204);
    let (_, loads) = call(&app, Method::GET, "/api/v1/program/facilitator-loads", &sup, None).await;
    let mine = loads.as_array().unwrap().iter().find(|l| l["user_id"] == dana.id.to_string()).unwrap().clone();
    assert_eq!((mine["max_load"].as_u64(), mine["set"].as_bool()), (Some(60), Some(false)));
    let details: Vec<String> =
        crate::events(&app, "program.changed").await.iter().filter_map(|e| e.event.detail.clone()).collect();
    for expected in ["facilitator load 7", "facilitator load 9", "facilitator load default"] {
        assert!(details.iter().any(|d| d == expected), "{expected} in {details:?}");
    }

    // The page: the table, an error beside the field, and a save.
    let (_, browser) = app.signed_in("casey", Role::ProgramCoordinator).await;
    let (s, html) = browser.get_text("/program/loads").await;
    assert_eq!(s, 200);
    assert!(html.contains("Facilitator loads") && html.contains("Test dana"), "the page lists Dana");
    let dana_id = dana.id.to_string();
    let res = browser.submit("/program/loads", "/program/loads", &[("user", &dana_id), ("max_load", "0")]).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"max_load-error\"") && html.contains("href=\"#max_load\""), "beside the field");
    let res = browser.submit("/program/loads", "/program/loads", &[("user", &dana_id), ("max_load", "40")]).await;
    assert_eq!(res.status(), 303);
    let (_, html) = browser.get_text("/program/loads?saved=1").await;
    assert!(html.contains("Load saved.") && html.contains("<td>40</td>"), "saved");
}

async fn get_ok(app: &testkit::TestApp, token: &str, path: &str) -> Value {
    let (s, v) = call(app, Method::GET, path, token, None).await;
    assert_eq!(s, 200, "{path}: {v}");
    v
}

/// A site in Chicago and clients admitted there to 2.1 two days ago.
async fn riverside_clients(app: &testkit::TestApp, sup: &str, people: &[(&str, &str)]) -> (String, Vec<String>) {
    let (_, admin) = app.full_token("boss", Role::Admin).await;
    let (s, site) = call(
        app,
        Method::POST,
        "/api/v1/sites",
        &admin,
        Some(json!({"name": "Riverside", "time_zone": "America/Chicago"})),
    )
    .await;
    assert_eq!(s, 201, "{site}");
    let site = site["id"].as_str().unwrap().to_owned();
    let admitted = app.app.today_in("America/Chicago") - time::Duration::days(2);
    let mut clients = Vec::new();
    for (given, family) in people {
        let c = app.new_client(sup, given, family).await;
        let (s, e) = call(
            app,
            Method::POST,
            &format!("/api/v1/clients/{c}/episodes"),
            sup,
            Some(json!({"on": admitted.to_string(), "level": "2.1", "site_id": site, "reason": "IOP"})),
        )
        .await;
        assert_eq!(s, 201, "{e}");
        clients.push(c);
    }
    (site, clients)
}
