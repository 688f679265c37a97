//! Attendance of IOP sessions through the API: the roster taken in one request, bad lines
//! refused with nothing saved, outreach on an unexcused absence, the signed note that locks
//! attendance, amendments, and the dose it adds up to.

use app::iop::{EnrolForm, TemplateForm, TrackForm};
use domain::iop::compliance::week_of;
use domain::role::Role;
use reqwest::Method;
use serde_json::{Value, json};
use testkit::{TestApp, spawn_app};

use crate::{call, events};

struct Setup {
    app: TestApp,
    sup: String,
    counselor: String,
    client: String,
    session: String,
}

/// A site in Chicago, a client admitted to 2.1 with a primary counselor, an evening track
/// with a three-hour group today, and the client on its roster.
async fn setup() -> Setup {
    let app = spawn_app().await;
    let (_, admin) = app.full_token("boss", Role::Admin).await;
    let (s, site) = call(
        &app,
        Method::POST,
        "/api/v1/sites",
        &admin,
        Some(json!({"name": "Riverside", "time_zone": "America/Chicago"})),
    )
    .await;
    assert_eq!(s, 201, "{site}");
    let site = site["id"].as_str().unwrap().to_owned();
    let (sup_user, sup) = app.full_token("sup", Role::Supervisor).await;
    let (counselor_user, counselor) = app.full_token("coun", Role::Counselor).await;
    let client = app.new_client(&sup, "Ana", "Alvarez").await;
    let today = app.app.today_in("America/Chicago");
    let (s, e) = call(
        &app,
        Method::POST,
        &format!("/api/v1/clients/{client}/episodes"),
        &sup,
        // Before this week's Monday, whatever today is: the enrolment below starts on Monday.
        Some(json!({"on": (today - time::Duration::days(10)).to_string(), "level": "2.1", "site_id": site, "reason": "IOP"})),
    )
    .await;
    assert_eq!(s, 201, "{e}");
    let (s, t) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/clients/{client}/care-team/{}", counselor_user.id),
        &sup,
        Some(json!({"team_role": "primary_counselor"})),
    )
    .await;
    assert!(s == 201 || s == 204 || s == 200, "{s} {t}");

    let ctx = app.app.authenticate(&sup, Some("127.0.0.1")).await.unwrap().ctx;
    let week = week_of(today);
    let track = app
        .app
        .create_track(
            &ctx,
            &TrackForm {
                site: site.clone(),
                name: "Evening".into(),
                group_limit: String::new(),
                active_from: week.monday().to_string(),
                active_until: String::new(),
            },
        )
        .await
        .unwrap();
    app.app
        .add_template(
            &ctx,
            track.id,
            &TemplateForm {
                weekday: (today.weekday().number_from_monday()).to_string(),
                start: "00:00".into(),
                end: "03:00".into(),
                modality: "group".into(),
                title: "Process group".into(),
                facilitator: sup_user.id.to_string(),
                room: String::new(),
            },
        )
        .await
        .unwrap();
    let generated = app.app.ensure_week(&ctx, track.id, week).await.unwrap();
    let session = generated.created.iter().find(|s| s.slot.date == today).expect("today's session").id;
    app.app
        .enrol(
            &ctx,
            client.parse().unwrap(),
            &EnrolForm { track: track.id.to_string(), from: week.monday().to_string(), until: String::new() },
        )
        .await
        .unwrap();
    let _ = app.app.add_to_roster(&ctx, session, client.parse().unwrap()).await;
    Setup { app, sup, counselor, client, session: session.to_string() }
}

async fn sheet(c: &Setup) -> Value {
    let (s, v) =
        call(&c.app, Method::GET, &format!("/api/v1/iop/sessions/{}/attendance", c.session), &c.sup, None).await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn take(c: &Setup, entries: Value) -> (u16, Value) {
    call(
        &c.app,
        Method::POST,
        &format!("/api/v1/iop/sessions/{}/attendance", c.session),
        &c.sup,
        Some(json!({"entries": entries})),
    )
    .await
}

#[tokio::test]
async fn bad_attendance_lines_are_refused_and_nothing_is_saved() {
    let c = setup().await;
    assert_eq!(sheet(&c).await["roster"][0]["client_id"], c.client);
    let other = c.app.new_client(&c.sup, "Ben", "Bell").await;
    for (entries, field) in [
        (json!([{"client_id": other, "status": "present"}]), "client"),
        (json!([{"client_id": c.client, "status": "present", "minutes": 181}]), "minutes"),
        (json!([{"client_id": c.client, "status": "late"}]), "minutes"),
        (json!([{"client_id": c.client, "status": "asleep"}]), "status"),
    ] {
        let (s, p) = take(&c, entries).await;
        assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some(field)), "{p}");
    }
    assert!(sheet(&c).await["roster"][0]["status"].is_null(), "nothing saved");
}

#[tokio::test]
async fn an_unexcused_absence_opens_outreach_for_the_primary_counselor() {
    let c = setup().await;
    let (s, r) = take(&c, json!([{"client_id": c.client, "status": "absent_unexcused"}])).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["outreach"].as_array().unwrap().len(), 1);
    let (s, tasks) = call(&c.app, Method::GET, "/api/v1/outreach", &c.counselor, None).await;
    assert_eq!(s, 200);
    assert_eq!(tasks[0]["client_id"], c.client, "{tasks}");
    // Taking it again does not open a second task.
    let (_, r) = take(&c, json!([{"client_id": c.client, "status": "absent_unexcused"}])).await;
    assert!(r["outreach"].as_array().unwrap().is_empty());
    let id = tasks[0]["id"].as_str().unwrap();
    let (s, _) =
        call(&c.app, Method::POST, &format!("/api/v1/outreach/{id}/done"), &c.counselor, Some(json!({"outcome": ""})))
            .await;
    assert_eq!(s, 422, "an outcome is needed");
    let (s, _) = call(
        &c.app,
        Method::POST,
        &format!("/api/v1/outreach/{id}/done"),
        &c.counselor,
        Some(json!({"outcome": "Reached; back Thursday"})),
    )
    .await;
    assert_eq!(s, 204);
    let (_, tasks) = call(&c.app, Method::GET, "/api/v1/outreach", &c.counselor, None).await;
    assert!(tasks.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_signed_note_locks_attendance_and_amendments_keep_the_old_value() {
    let c = setup().await;
    let note = format!("/api/v1/iop/sessions/{}/note", c.session);
    let (s, p) = call(&c.app, Method::POST, &note, &c.sup, Some(json!({"note": "Worked on triggers"}))).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("note")), "attendance first: {p}");
    let (s, _) = take(&c, json!([{"client_id": c.client, "status": "late", "minutes": 150}])).await;
    assert_eq!(s, 200);
    let (s, _) = call(&c.app, Method::POST, &note, &c.sup, Some(json!({"note": "Worked on triggers"}))).await;
    assert_eq!(s, 204);
    let (s, _) = take(&c, json!([{"client_id": c.client, "status": "present"}])).await;
    assert_eq!(s, 409, "locked once signed");
    let amend = format!("/api/v1/iop/sessions/{}/amendments", c.session);
    let (s, _) = call(
        &c.app,
        Method::POST,
        &amend,
        &c.sup,
        Some(json!({"client_id": c.client, "status": "present", "reason": ""})),
    )
    .await;
    assert_eq!(s, 422, "an amendment needs a reason");
    let (s, a) = call(
        &c.app,
        Method::POST,
        &amend,
        &c.sup,
        Some(json!({"client_id": c.client, "status": "present", "reason": "Sign-in sheet shows on time"})),
    )
    .await;
    assert_eq!(s, 201, "{a}");
    assert_eq!((a["old_status"].as_str(), a["old_minutes"].as_u64()), (Some("late"), Some(150)));
    let v = sheet(&c).await;
    assert_eq!((v["locked"].as_bool(), v["roster"][0]["minutes"].as_u64()), (Some(true), Some(180)));
    assert_eq!(v["amendments"].as_array().unwrap().len(), 1);
    assert!(!events(&c.app, "attendance.amended").await.is_empty());
}

#[tokio::test]
async fn attended_minutes_count_toward_the_weeks_dose() {
    let c = setup().await;
    let (s, _) = take(&c, json!([{"client_id": c.client, "status": "present"}])).await;
    assert_eq!(s, 200);
    let (s, d) = call(&c.app, Method::GET, &format!("/api/v1/clients/{}/dose", c.client), &c.sup, None).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["clinical_minutes"], 180);
    assert_eq!(d["level"], "2.1");
    assert!(d["required_minutes"].as_u64().unwrap() > 0);
    let (s, rows) = call(&c.app, Method::GET, "/api/v1/iop/compliance", &c.sup, None).await;
    assert_eq!(s, 200);
    assert!(rows.as_array().unwrap().iter().any(|r| r["client_id"] == c.client), "{rows}");
    let (s, _) = call(&c.app, Method::GET, "/api/v1/iop/compliance?week=not-a-week", &c.sup, None).await;
    assert_eq!(s, 422);
    let (_, biller) = c.app.full_token("bill", Role::Biller).await;
    let (s, _) =
        call(&c.app, Method::GET, &format!("/api/v1/iop/sessions/{}/attendance", c.session), &biller, None).await;
    assert_eq!(s, 403);
}

/// Every write the biller is refused, answered within this: a refusal inside a write
/// transaction once waited on its own writer slot (SQLite) and hung the whole server for 60 s.
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

async fn within_deadline(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> u16 {
    let what = format!("{method} {path}");
    let (s, v) = tokio::time::timeout(DEADLINE, call(app, method, path, token, body))
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {DEADLINE:?}"));
    assert!(s < 500 && s != 408, "{what}: {s} {v}");
    s
}

#[tokio::test]
async fn refused_writes_answer_at_once_while_others_read_and_write() {
    let c = setup().await;
    let (s, r) = take(&c, json!([{"client_id": c.client, "status": "absent_unexcused"}])).await;
    assert_eq!(s, 200, "{r}");
    let outreach = r["outreach"][0]["id"].as_str().unwrap().to_owned();
    let (_, biller) = c.app.full_token("bill", Role::Biller).await;
    let denied_before = events(&c.app, "access.denied").await.len();

    // Others keep working meanwhile: reads of the chart and writes of new records.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut others = Vec::new();
    for n in 0..2 {
        let (app, sup, client, stop) = (c.app.url(""), c.sup.clone(), c.client.clone(), stop.clone());
        others.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let read = http.get(format!("{app}/api/v1/clients/{client}")).bearer_auth(&sup);
                let write = http.post(format!("{app}/api/v1/clients/{client}/contacts")).bearer_auth(&sup).json(
                    &json!({"name": format!("Helper {n} {i}"), "relationship": "friend", "phone": "555-010-1234"}),
                );
                for req in [read, write] {
                    let res =
                        tokio::time::timeout(DEADLINE, req.send()).await.expect("others are not held up").unwrap();
                    assert!(res.status().as_u16() < 500, "{}", res.status());
                }
                i += 1;
            }
            i
        }));
    }

    let session = &c.session;
    let refused = [
        (
            Method::POST,
            format!("/api/v1/iop/sessions/{session}/attendance"),
            json!({"entries": [{"client_id": c.client, "status": "present"}]}),
        ),
        (
            Method::POST,
            format!("/api/v1/iop/sessions/{session}/amendments"),
            json!({"client_id": c.client, "status": "present", "reason": "x"}),
        ),
        (Method::POST, format!("/api/v1/iop/sessions/{session}/note"), json!({"note": "n"})),
        (Method::POST, format!("/api/v1/outreach/{outreach}/done"), json!({"outcome": "reached"})),
    ];
    for (method, path, body) in refused {
        assert_eq!(within_deadline(&c.app, method, &path, &biller, Some(body)).await, 403, "{path}");
    }
    // The same through the web forms.
    let (_, browser) = c.app.signed_in("bill2", Role::Biller).await;
    for (path, form) in [
        (format!("/iop/sessions/{session}/attendance"), vec![(format!("status:{}", c.client), "present")]),
        (
            format!("/iop/sessions/{session}/amend"),
            vec![("client".into(), c.client.as_str()), ("status".into(), "present"), ("reason".into(), "x")],
        ),
        (format!("/iop/sessions/{session}/note"), vec![("note".into(), "n")]),
        (format!("/outreach/{outreach}/done"), vec![("outcome".into(), "reached")]),
    ] {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let res = tokio::time::timeout(DEADLINE, browser.submit("/", &path, &form)).await.expect("UI refusal in time");
        assert_eq!(res.status().as_u16(), 403, "{path}");
    }
    assert!(events(&c.app, "access.denied").await.len() >= denied_before + 8, "every refusal is audited");

    // Every other write operation of the API, refused or malformed, answers in time too.
    let (_, doc) = call(&c.app, Method::GET, "/api/openapi.json", &biller, None).await;
    let mut swept = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (verb, method) in
            [("post", Method::POST), ("put", Method::PUT), ("delete", Method::DELETE), ("patch", Method::PATCH)]
        {
            if item.get(verb).is_none() || path.contains("/session") && verb == "delete" {
                continue; // signing out would end the sweep's own token
            }
            let concrete = path
                .trim_start_matches("/api/v1")
                .replace("/iop/sessions/{id}", &format!("/iop/sessions/{session}"))
                .replace("/clients/{id}", &format!("/clients/{}", c.client))
                .replace("{client_id}", &c.client)
                .replace("{week}", "2026-W10");
            let concrete = concrete
                .split('/')
                .map(|seg| if seg.starts_with('{') { uuid::Uuid::new_v4().to_string() } else { seg.to_owned() })
                .collect::<Vec<_>>()
                .join("/");
            within_deadline(&c.app, method.clone(), &format!("/api/v1{concrete}"), &biller, Some(json!({}))).await;
            swept += 1;
        }
    }
    assert!(swept > 40, "the sweep reached the write operations ({swept})");

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for o in others {
        assert!(o.await.unwrap() > 0, "the others got work done meanwhile");
    }
    crate::chain_intact(&c.app).await;
}

#[tokio::test]
async fn a_signed_roster_is_locked_like_its_attendance() {
    let c = setup().await;
    let (s, _) = take(&c, json!([{"client_id": c.client, "status": "present"}])).await;
    assert_eq!(s, 200);
    let note = format!("/api/v1/iop/sessions/{}/note", c.session);
    let (s, _) = call(&c.app, Method::POST, &note, &c.sup, Some(json!({"note": "Worked on triggers"}))).await;
    assert_eq!(s, 204);
    let roster = format!("/api/v1/iop/sessions/{}/roster/{}", c.session, c.client);
    let (s, p) = call(&c.app, Method::DELETE, &roster, &c.sup, None).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("conflict")), "{p}");
    let v = sheet(&c).await;
    assert_eq!(
        (v["roster"][0]["client_id"].as_str(), v["roster"][0]["status"].as_str()),
        (Some(c.client.as_str()), Some("present")),
        "the signed sheet keeps its attendance: {v}"
    );
    let other = c.app.new_client(&c.sup, "Ben", "Bell").await;
    let (s, _) =
        call(&c.app, Method::PUT, &format!("/api/v1/iop/sessions/{}/roster/{other}", c.session), &c.sup, None).await;
    assert_eq!(s, 409, "nor can anyone be added after signing");
    // The web form says the same.
    let (_, browser) = c.app.signed_in("sup2", Role::Supervisor).await;
    let res = browser.submit("/", &format!("/iop/sessions/{}/roster/{}/remove", c.session, c.client), &[]).await;
    assert_eq!(res.status().as_u16(), 409);
    assert_eq!(sheet(&c).await["roster"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_signed_session_with_an_empty_roster_shows_its_page() {
    let c = setup().await;
    let roster = format!("/api/v1/iop/sessions/{}/roster/{}", c.session, c.client);
    let (s, _) = call(&c.app, Method::DELETE, &roster, &c.sup, None).await;
    assert_eq!(s, 204);
    let note = format!("/api/v1/iop/sessions/{}/note", c.session);
    let (s, _) = call(&c.app, Method::POST, &note, &c.sup, Some(json!({"note": "Nobody came; room set up"}))).await;
    assert_eq!(s, 204);
    let (_, browser) = c.app.signed_in("sup2", Role::Supervisor).await;
    let (s, html) = browser.get_text(&format!("/iop/sessions/{}/attendance", c.session)).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("No one was on the roster"), "{html}");
}
