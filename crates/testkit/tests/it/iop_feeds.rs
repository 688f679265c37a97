//! Calendar feeds and the program's FHIR view: a feed is iCalendar with the sessions' UTC
//! times and no clinical content, stops when revoked, can be stopped only by who may manage
//! it, and every read is audited; a client's sessions are valid FHIR Appointments and the
//! attended ones Encounters in the episode of care, for those who may read the chart only.

use std::sync::Arc;

use app::iop::{EnrolForm, TemplateForm, TrackForm};
use app::{App, UuidV7};
use domain::iop::compliance::week_of;
use domain::role::Role;
use reqwest::Method;
use serde_json::{Value, json};
use stepdown::server::{ServerOptions, start};
use testkit::fhir_schema::assert_valid;
use testkit::{TestApp, spawn_app, test_config};

use crate::{call, events};

const ZONE: &str = "America/Chicago";

struct Setup {
    app: TestApp,
    sup: String,
    sup_id: String,
    counselor: String,
    counselor_id: String,
    biller: String,
    client: String,
    episode: String,
    /// A three-hour process group today, 00:00–03:00 Chicago time.
    group: String,
    /// "Relapse prevention" (psychoeducation) today, 04:00–05:30.
    psychoed: String,
    today: time::Date,
}

/// A site in Chicago with a group room, a client admitted to 2.1 with a primary counselor,
/// an evening track with two sessions today run by the supervisor, the client on both.
async fn setup() -> Setup {
    let app = spawn_app().await;
    let (_, admin) = app.full_token("boss", Role::Admin).await;
    let (s, site) =
        call(&app, Method::POST, "/api/v1/sites", &admin, Some(json!({"name": "Riverside", "time_zone": ZONE}))).await;
    assert_eq!(s, 201, "{site}");
    let site = site["id"].as_str().unwrap().to_owned();
    let (s, room) = call(
        &app,
        Method::POST,
        &format!("/api/v1/sites/{site}/rooms"),
        &admin,
        Some(json!({"name": "Group room 2", "capacity": 10})),
    )
    .await;
    assert_eq!(s, 201, "{room}");
    let room = room["id"].as_str().unwrap().to_owned();
    let (sup_user, sup) = app.full_token("sup", Role::Supervisor).await;
    let (counselor_user, counselor) = app.full_token("coun", Role::Counselor).await;
    let (_, biller) = app.full_token("bill", Role::Biller).await;
    let client = app.new_client(&sup, "Ana", "Alvarez").await;
    let today = app.app.today_in(ZONE);
    let (s, e) = call(
        &app,
        Method::POST,
        &format!("/api/v1/clients/{client}/episodes"),
        &sup,
        Some(json!({"on": (today - time::Duration::days(10)).to_string(), "level": "2.1", "site_id": site, "reason": "IOP"})),
    )
    .await;
    assert_eq!(s, 201, "{e}");
    let episode = e["id"].as_str().unwrap().to_owned();
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
    for (start, end, modality, title, room) in [
        ("00:00", "03:00", "group", "Process group", room.as_str()),
        ("04:00", "05:30", "psychoeducation", "Relapse prevention", ""),
    ] {
        app.app
            .add_template(
                &ctx,
                track.id,
                &TemplateForm {
                    weekday: today.weekday().number_from_monday().to_string(),
                    start: start.into(),
                    end: end.into(),
                    modality: modality.into(),
                    title: title.into(),
                    facilitator: sup_user.id.to_string(),
                    room: room.into(),
                },
            )
            .await
            .unwrap();
    }
    let generated = app.app.ensure_week(&ctx, track.id, week).await.unwrap();
    let todays: Vec<_> = generated.created.iter().filter(|s| s.slot.date == today).collect();
    let group = todays.iter().find(|s| s.title == "Process group").expect("the group").id;
    let psychoed = todays.iter().find(|s| s.title == "Relapse prevention").expect("psychoeducation").id;
    app.app
        .enrol(
            &ctx,
            client.parse().unwrap(),
            &EnrolForm { track: track.id.to_string(), from: week.monday().to_string(), until: String::new() },
        )
        .await
        .unwrap();
    // Enrolment adds the client to sessions still to come; the earlier ones by hand.
    for s in [group, psychoed] {
        let _ = app.app.add_to_roster(&ctx, s, client.parse().unwrap()).await;
    }
    Setup {
        app,
        sup,
        sup_id: sup_user.id.to_string(),
        counselor,
        counselor_id: counselor_user.id.to_string(),
        biller,
        client,
        episode,
        group: group.to_string(),
        psychoed: psychoed.to_string(),
        today,
    }
}

/// Reads a feed without signing in: the status and the body.
async fn read(app: &TestApp, path: &str) -> (u16, String, String) {
    let res = reqwest::get(app.url(path)).await.unwrap();
    let status = res.status().as_u16();
    let kind = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, kind, res.text().await.unwrap())
}

/// The VEVENTs of an iCalendar text, unfolded, each as its property lines.
fn vevents(ics: &str) -> Vec<Vec<String>> {
    let unfolded = ics.replace("\r\n ", "");
    let mut out = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in unfolded.split("\r\n") {
        match line {
            "BEGIN:VEVENT" => current = Some(Vec::new()),
            "END:VEVENT" => out.extend(current.take()),
            l => {
                if let Some(c) = current.as_mut() {
                    c.push(l.to_owned());
                }
            }
        }
    }
    out
}

fn prop<'a>(event: &'a [String], name: &str) -> Option<&'a str> {
    event.iter().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
}

fn event_of<'a>(events: &'a [Vec<String>], session: &str) -> &'a [String] {
    events.iter().find(|e| prop(e, "UID") == Some(&format!("{session}@stepdown"))).expect("the session's event")
}

/// `20261126T060000Z` for a civil time today in Chicago, computed with jiff on its own.
fn utc_of(today: time::Date, hour: i8, minute: i8) -> String {
    let tz = jiff::tz::TimeZone::get(ZONE).unwrap();
    let civil =
        jiff::civil::date(today.year() as i16, u8::from(today.month()) as i8, today.day() as i8).at(hour, minute, 0, 0);
    let ts = tz.to_timestamp(civil).unwrap();
    ts.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn feed_path(issued: &Value) -> String {
    issued["path"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_client_feed_is_icalendar_without_clinical_content_and_every_read_is_audited() {
    let c = setup().await;
    let (s, issued) =
        call(&c.app, Method::POST, &format!("/api/v1/clients/{}/calendar-feeds", c.client), &c.counselor, None).await;
    assert_eq!(s, 201, "the care team may issue: {issued}");
    let path = feed_path(&issued);
    assert!(path.starts_with("/calendar/") && path.ends_with(".ics"), "{path}");
    assert!(issued["url"].as_str().unwrap().ends_with(&path));
    assert_eq!(issued["owner_kind"], "client");

    let (s, kind, ics) = read(&c.app, &path).await;
    assert_eq!(s, 200, "{ics}");
    assert!(kind.starts_with("text/calendar"), "{kind}");
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"), "{ics}");
    assert!(ics.contains("\r\nVERSION:2.0\r\n") && ics.contains("\r\nPRODID:"));
    assert!(ics.split("\r\n").all(|l| l.len() <= 75), "lines fold at 75 octets");
    let events = vevents(&ics);
    assert_eq!(events.len(), 2, "{ics}");
    let group = event_of(&events, &c.group);
    assert_eq!(prop(group, "DTSTART"), Some(utc_of(c.today, 0, 0).as_str()), "{group:?}");
    assert_eq!(prop(group, "DTEND"), Some(utc_of(c.today, 3, 0).as_str()));
    assert_eq!(prop(group, "SUMMARY"), Some("Group therapy"));
    assert_eq!(prop(group, "LOCATION"), Some("Riverside\\, Group room 2"));
    assert_eq!(prop(group, "STATUS"), Some("CONFIRMED"));
    let psychoed = event_of(&events, &c.psychoed);
    assert_eq!(prop(psychoed, "DTSTART"), Some(utc_of(c.today, 4, 0).as_str()));
    assert_eq!(prop(psychoed, "DTEND"), Some(utc_of(c.today, 5, 30).as_str()));
    assert_eq!(prop(psychoed, "SUMMARY"), Some("Psychoeducation"));
    assert_eq!(prop(psychoed, "LOCATION"), Some("Riverside"), "no room: the site");
    for secret in ["Ana", "Alvarez", "Process group", "Relapse prevention", &c.client] {
        assert!(!ics.contains(secret), "{secret:?} in the feed:\n{ics}");
    }

    // The read is audited, against the client, with no one signed in.
    let reads = events_of(&c.app, "calendar_feed.read").await;
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].client.map(|x| x.to_string()), Some(c.client.clone()));
    assert_eq!(reads[0].actor, None);
    assert_eq!(reads[0].subject.as_deref(), Some(format!("calendar_feed:{}", issued["id"].as_str().unwrap()).as_str()));

    // A cancellation shows at the next read.
    let (s, _) = call(
        &c.app,
        Method::POST,
        &format!("/api/v1/iop/sessions/{}/cancel", c.psychoed),
        &c.sup,
        Some(json!({"reason": "Facilitator ill"})),
    )
    .await;
    assert_eq!(s, 200);
    let (_, _, ics) = read(&c.app, &path).await;
    let events = vevents(&ics);
    assert_eq!(prop(event_of(&events, &c.psychoed), "STATUS"), Some("CANCELLED"));
    assert_eq!(prop(event_of(&events, &c.group), "STATUS"), Some("CONFIRMED"));
    assert!(!ics.contains("ill"), "no reasons either");
    assert_eq!(events_of(&c.app, "calendar_feed.read").await.len(), 2);

    // The list shows the feed, without the token.
    let (s, list) =
        call(&c.app, Method::GET, &format!("/api/v1/clients/{}/calendar-feeds", c.client), &c.sup, None).await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0]["revoked_at"].is_null());
    assert!(!list.to_string().contains(path.trim_start_matches("/calendar/").trim_end_matches(".ics")));
}

async fn events_of(app: &TestApp, action: &str) -> Vec<domain::audit::AuditEvent> {
    events(app, action).await.into_iter().map(|e| e.event).collect()
}

#[tokio::test]
async fn revoked_and_unknown_feeds_are_not_found_and_only_managers_revoke() {
    let c = setup().await;
    let (s, mine) = call(&c.app, Method::POST, "/api/v1/me/calendar-feeds", &c.sup, None).await;
    assert_eq!(s, 201, "{mine}");
    let (s, _, ics) = read(&c.app, &feed_path(&mine)).await;
    assert_eq!(s, 200);
    assert_eq!(vevents(&ics).len(), 2, "the sessions the supervisor runs");
    let staff_reads = events_of(&c.app, "calendar_feed.read").await;
    assert_eq!(staff_reads[0].actor.map(|a| a.to_string()), Some(c.sup_id.clone()), "a staff feed is its owner's read");

    // Someone else's feed: to another staff member it does not exist.
    let mine_id = mine["id"].as_str().unwrap();
    let (s, _) =
        call(&c.app, Method::POST, &format!("/api/v1/calendar-feeds/{mine_id}/revoke"), &c.counselor, None).await;
    assert_eq!(s, 404);
    assert_eq!(read(&c.app, &feed_path(&mine)).await.0, 200, "still works");

    // A client's feed: a biller may neither issue nor revoke it (and the refusal is audited).
    let (s, _) =
        call(&c.app, Method::POST, &format!("/api/v1/clients/{}/calendar-feeds", c.client), &c.biller, None).await;
    assert_eq!(s, 403);
    let (s, theirs) =
        call(&c.app, Method::POST, &format!("/api/v1/clients/{}/calendar-feeds", c.client), &c.sup, None).await;
    assert_eq!(s, 201);
    let theirs_id = theirs["id"].as_str().unwrap();
    let denied = events(&c.app, "access.denied").await.len();
    let (s, _) =
        call(&c.app, Method::POST, &format!("/api/v1/calendar-feeds/{theirs_id}/revoke"), &c.biller, None).await;
    assert_eq!(s, 403);
    assert_eq!(events(&c.app, "access.denied").await.len(), denied + 1);
    assert_eq!(read(&c.app, &feed_path(&theirs)).await.0, 200);

    // The owner revokes: the URL is gone, and so is an unknown one.
    let (s, _) = call(&c.app, Method::POST, &format!("/api/v1/calendar-feeds/{mine_id}/revoke"), &c.sup, None).await;
    assert_eq!(s, 204);
    let (s, _, body) = read(&c.app, &feed_path(&mine)).await;
    assert_eq!(s, 404, "{body}");
    assert_eq!(read(&c.app, "/calendar/not-a-real-token.ics").await.0, 404);
    let token = feed_path(&theirs).trim_start_matches("/calendar/").trim_end_matches(".ics").to_owned();
    assert_eq!(read(&c.app, &format!("/calendar/{token}")).await.0, 404, "the .ics suffix is part of the address");
    let (_, list) = call(&c.app, Method::GET, "/api/v1/me/calendar-feeds", &c.sup, None).await;
    assert!(list[0]["revoked_at"].is_string(), "{list}");

    // Issuing again replaces the client's feed: the old address stops working.
    let (s, again) =
        call(&c.app, Method::POST, &format!("/api/v1/clients/{}/calendar-feeds", c.client), &c.counselor, None).await;
    assert_eq!(s, 201);
    assert_eq!(read(&c.app, &feed_path(&theirs)).await.0, 404);
    assert_eq!(read(&c.app, &feed_path(&again)).await.0, 200);
    let changes = events_of(&c.app, "calendar_feed.changed").await;
    assert!(changes.iter().any(|e| e.detail.as_deref() == Some("revoked (replaced)")));

    // A session handed to a substitute leaves the facilitator's feed for the substitute's.
    let (s, fresh) = call(&c.app, Method::POST, "/api/v1/me/calendar-feeds", &c.sup, None).await;
    assert_eq!(s, 201);
    let (s, sub) = call(&c.app, Method::POST, "/api/v1/me/calendar-feeds", &c.counselor, None).await;
    assert_eq!(s, 201);
    let (s, e) = call(
        &c.app,
        Method::PUT,
        &format!("/api/v1/iop/sessions/{}/substitute", c.group),
        &c.sup,
        Some(json!({"user_id": c.counselor_id})),
    )
    .await;
    assert_eq!(s, 200, "{e}");
    let (_, _, sup_ics) = read(&c.app, &feed_path(&fresh)).await;
    let (_, _, sub_ics) = read(&c.app, &feed_path(&sub)).await;
    assert!(!sup_ics.contains(&c.group) && sup_ics.contains(&c.psychoed), "{sup_ics}");
    assert!(sub_ics.contains(&c.group) && !sub_ics.contains(&c.psychoed), "{sub_ics}");
}

#[tokio::test]
async fn feed_tokens_stay_out_of_metrics_and_logs() {
    let c = setup().await;
    let (_, issued) =
        call(&c.app, Method::POST, &format!("/api/v1/clients/{}/calendar-feeds", c.client), &c.sup, None).await;
    let path = feed_path(&issued);
    let token = path.trim_start_matches("/calendar/").trim_end_matches(".ics").to_owned();
    // A second server on the same database, with its metrics listener.
    let store = c.app.store.clone();
    let a = App::new(Arc::new(store.clone()), c.app.clock.clone(), Arc::new(UuidV7), test_config()).unwrap();
    let options = ServerOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        web: web::WebConfig::default(),
    };
    let running = start(store, a, options).await.unwrap();
    let res = reqwest::get(format!("http://{}{path}", running.addr)).await.unwrap();
    assert_eq!(res.status(), 200);
    let metrics = reqwest::get(format!("http://{}/metrics", running.metrics_addr.unwrap())).await.unwrap();
    let text = metrics.text().await.unwrap();
    assert!(text.contains("route=\"/calendar/{token}\""), "labelled by the route template:\n{text}");
    assert!(!text.contains(&token), "the token is not a label");
    running.stop().await;
}

#[tokio::test]
async fn sessions_are_fhir_appointments_and_attended_ones_encounters() {
    let c = setup().await;
    let (s, r) = call(
        &c.app,
        Method::POST,
        &format!("/api/v1/iop/sessions/{}/attendance", c.group),
        &c.sup,
        Some(json!({"entries": [{"client_id": c.client, "status": "late", "minutes": 150}]})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let (s, _) = call(
        &c.app,
        Method::POST,
        &format!("/api/v1/iop/sessions/{}/cancel", c.psychoed),
        &c.sup,
        Some(json!({"reason": "Holiday"})),
    )
    .await;
    assert_eq!(s, 200);

    let http = reqwest::Client::new();
    let search = |path: String, token: String| {
        let http = http.clone();
        let url = c.app.url(&path);
        async move {
            let res = http.get(url).bearer_auth(token).send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let (s, bundle) = search(format!("/fhir/Appointment?patient=Patient/{}", c.client), c.counselor.clone()).await;
    assert_eq!(s, 200, "{bundle}");
    assert_valid(&bundle);
    assert_eq!(bundle["total"], 2);
    let appointments: Vec<&Value> = bundle["entry"].as_array().unwrap().iter().map(|e| &e["resource"]).collect();
    for a in &appointments {
        assert_valid(a);
        assert_eq!(a["meta"]["security"][2]["code"], "42CFRPart2");
    }
    let group = appointments.iter().find(|a| a["id"] == c.group.as_str()).unwrap();
    assert_eq!(group["status"], "fulfilled");
    assert_eq!(group["serviceType"][0]["coding"][0]["code"], "group");
    let start = utc_of(c.today, 0, 0);
    let expected = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &start[0..4],
        &start[4..6],
        &start[6..8],
        &start[9..11],
        &start[11..13],
        &start[13..15]
    );
    assert_eq!(group["start"], expected.as_str());
    assert_eq!(group["minutesDuration"], 180);
    assert_eq!(group["participant"][0]["actor"]["reference"], format!("Patient/{}", c.client));
    assert_eq!(group["participant"][1]["actor"]["reference"], format!("Practitioner/{}", c.sup_id));
    assert!(group["participant"][2]["actor"]["reference"].as_str().unwrap().starts_with("Location/"));
    let psychoed = appointments.iter().find(|a| a["id"] == c.psychoed.as_str()).unwrap();
    assert_eq!(psychoed["status"], "cancelled");

    // A date narrows to session days; another day has none.
    let (s, day) =
        search(format!("/fhir/Appointment?patient={}&date={}", c.client, c.today), c.counselor.clone()).await;
    assert_eq!((s, day["total"].as_u64()), (200, Some(2)));
    let (_, none) = search(
        format!("/fhir/Appointment?patient={}&date=gt{}", c.client, c.today + time::Duration::days(1)),
        c.counselor.clone(),
    )
    .await;
    assert_eq!(none["total"], 0);

    let (s, bundle) = search(format!("/fhir/Encounter?patient={}", c.client), c.sup.clone()).await;
    assert_eq!(s, 200, "{bundle}");
    assert_valid(&bundle);
    assert_eq!(bundle["total"], 1, "only the attended session");
    let e = &bundle["entry"][0]["resource"];
    assert_valid(e);
    assert_eq!(e["status"], "finished");
    assert_eq!(e["class"]["code"], "AMB");
    assert_eq!(e["subject"]["reference"], format!("Patient/{}", c.client));
    assert_eq!(e["episodeOfCare"][0]["reference"], format!("EpisodeOfCare/{}", c.episode));
    assert_eq!(e["appointment"][0]["reference"], format!("Appointment/{}", c.group));
    assert_eq!(e["length"]["value"], 150, "the minutes attended");
    assert_eq!(e["meta"]["security"][2]["code"], "42CFRPart2");

    // The reads are audited against the client.
    let reads = events_of(&c.app, "client.read").await;
    for why in ["fhir appointments", "fhir encounters"] {
        assert!(
            reads
                .iter()
                .any(|r| r.detail.as_deref() == Some(why) && r.client.map(|x| x.to_string()) == Some(c.client.clone())),
            "{why}"
        );
    }

    // A biller may not read them; the refusal is an OperationOutcome.
    for kind in ["Appointment", "Encounter"] {
        let (s, oo) = search(format!("/fhir/{kind}?patient={}", c.client), c.biller.clone()).await;
        assert_eq!(s, 403, "{oo}");
        assert_eq!(oo["resourceType"], "OperationOutcome");
        assert_eq!(oo["issue"][0]["code"], "forbidden");
    }
    let (s, oo) = search(format!("/fhir/Encounter?subject={}", c.client), c.sup.clone()).await;
    assert_eq!((s, oo["issue"][0]["code"].as_str()), (400, Some("invalid")));
}

#[tokio::test]
async fn the_account_page_and_the_chart_issue_feeds_and_show_the_address_once() {
    let c = setup().await;
    let (_, browser) = c.app.signed_in("casey", Role::ProgramCoordinator).await;
    let (s, html) = browser.get_text("/account/sessions").await;
    assert_eq!(s, 200);
    assert!(html.contains("Your calendar feed") && html.contains("You have no calendar feed"), "{html}");
    let res = browser.submit("/account/sessions", "/account/calendar-feed", &[]).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let start = page.find("/calendar/").expect("the address is shown");
    let path: String = page[start..].chars().take_while(|ch| *ch != '"').collect();
    assert!(path.ends_with(".ics"), "{path}");
    assert_eq!(read(&c.app, &path).await.0, 200);
    let (_, html) = browser.get_text("/account/sessions").await;
    assert!(html.contains("Your feed is on") && !html.contains(&path), "shown once");

    // The chart's program block, for a supervisor.
    let (_, browser) = c.app.signed_in("sup2", Role::Supervisor).await;
    let (s, chart) = browser.get_text(&format!("/clients/{}", c.client)).await;
    assert_eq!(s, 200);
    assert!(chart.contains("Calendar feed for the client"), "{chart}");
    let res =
        browser.submit(&format!("/clients/{}", c.client), &format!("/clients/{}/calendar-feed", c.client), &[]).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let start = page.find("/calendar/").expect("the client's address is shown");
    let client_path: String = page[start..].chars().take_while(|ch| *ch != '"').collect();
    let (_, _, ics) = read(&c.app, &client_path).await;
    assert_eq!(vevents(&ics).len(), 2);
    let (_, chart) = browser.get_text(&format!("/clients/{}", c.client)).await;
    assert!(chart.contains("A feed is on"));
    let (_, feeds) =
        call(&c.app, Method::GET, &format!("/api/v1/clients/{}/calendar-feeds", c.client), &c.sup, None).await;
    let id = feeds[0]["id"].as_str().unwrap();
    let res = browser
        .submit(&format!("/clients/{}", c.client), &format!("/clients/{}/calendar-feed/{id}/revoke", c.client), &[])
        .await;
    assert!(res.status().is_redirection() || res.status() == 200, "{}", res.status());
    assert_eq!(read(&c.app, &client_path).await.0, 404);
}
