//! The IOP program calendar through the API (and a few pages): tracks and templates,
//! generating a week (idempotent, closures skipped), refused bookings (bad slots, double
//! booking of staff, rooms and clients, full rosters) that change nothing, moves,
//! cancellations and substitutes, dated enrolments, calendar views, access and audit.

use domain::iop::compliance::IsoWeek;
use domain::role::Role;
use reqwest::Method;
use serde_json::{Value, json};
use testkit::{TestApp, spawn_app};
use time::{Date, Duration};

use crate::{call, chain_intact, events};

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// The program's center: a UTC site with a group room and a small room, a supervisor, a
/// program coordinator and three counselors who facilitate.
struct P {
    app: TestApp,
    sup: String,
    coord: String,
    site: String,
    room: String,
    small_room: String,
    dana: String,
    morgan: String,
    sam: String,
    /// Next ISO week: every session in it is still to come.
    week: IsoWeek,
}

async fn program() -> P {
    let app = spawn_app().await;
    let (_, admin) = app.full_token("boss", Role::Admin).await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let (_, coord) = app.full_token("casey", Role::ProgramCoordinator).await;
    let (s, site) =
        call(&app, Method::POST, "/api/v1/sites", &admin, Some(json!({"name": "Riverside", "time_zone": "UTC"}))).await;
    assert_eq!(s, 201, "{site}");
    let site = site["id"].as_str().unwrap().to_owned();
    let mut rooms = Vec::new();
    for (name, capacity) in [("Group room", 10), ("Office", 2)] {
        let (s, room) = call(
            &app,
            Method::POST,
            &format!("/api/v1/sites/{site}/rooms"),
            &admin,
            Some(json!({"name": name, "capacity": capacity})),
        )
        .await;
        assert_eq!(s, 201);
        rooms.push(room["id"].as_str().unwrap().to_owned());
    }
    let mut staff = Vec::new();
    for name in ["dana", "morgan", "sam"] {
        staff.push(app.user(name, Role::Counselor).await.id.to_string());
    }
    let week = IsoWeek::of(today()).next().unwrap();
    P {
        app,
        sup,
        coord,
        site,
        room: rooms[0].clone(),
        small_room: rooms[1].clone(),
        dana: staff[0].clone(),
        morgan: staff[1].clone(),
        sam: staff[2].clone(),
        week,
    }
}

impl P {
    fn day(&self, weekday: u8) -> Date {
        self.week.monday() + Duration::days(i64::from(weekday))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        call(&self.app, Method::POST, path, &self.coord, Some(body)).await
    }

    async fn get(&self, token: &str, path: &str) -> Value {
        let (s, v) = call(&self.app, Method::GET, path, token, None).await;
        assert_eq!(s, 200, "{path}: {v}");
        v
    }

    async fn track(&self, name: &str, limit: Option<i64>) -> String {
        let mut body =
            json!({"site_id": self.site, "name": name, "active_from": (today() - Duration::days(7)).to_string()});
        if let Some(l) = limit {
            body["group_limit"] = json!(l);
        }
        let (s, t) = self.post("/api/v1/program/tracks", body).await;
        assert_eq!(s, 201, "{t}");
        t["id"].as_str().unwrap().to_owned()
    }

    #[allow(clippy::too_many_arguments)]
    async fn entry(
        &self,
        track: &str,
        weekday: &str,
        (start, end): (&str, &str),
        modality: &str,
        title: &str,
        facilitator: &str,
        room: Option<&str>,
    ) -> (u16, Value) {
        self.post(
            &format!("/api/v1/program/tracks/{track}/templates"),
            json!({"weekday": weekday, "start": start, "end": end, "modality": modality, "title": title,
                   "facilitator_id": facilitator, "room_id": room}),
        )
        .await
    }

    async fn generate(&self, track: &str) -> Value {
        let (s, w) = self.post(&format!("/api/v1/program/tracks/{track}/weeks/{}", self.week), json!({})).await;
        assert_eq!(s, 200, "{w}");
        w
    }

    /// A client admitted to level 2.1 three days ago.
    async fn iop_client(&self, given: &str, family: &str) -> String {
        let client = self.app.new_client(&self.sup, given, family).await;
        self.admit(&client, "2.1").await;
        client
    }

    async fn admit(&self, client: &str, level: &str) {
        let (s, e) = call(
            &self.app,
            Method::POST,
            &format!("/api/v1/clients/{client}/episodes"),
            &self.sup,
            Some(json!({"on": (today() - Duration::days(3)).to_string(), "level": level, "site_id": self.site,
                        "reason": "Assessed"})),
        )
        .await;
        assert_eq!(s, 201, "{e}");
    }

    async fn enrol(&self, client: &str, track: &str, from: Date) -> (u16, Value) {
        self.post(&format!("/api/v1/clients/{client}/enrolments"), json!({"track_id": track, "from": from.to_string()}))
            .await
    }

    async fn appointment(
        &self,
        client: &str,
        facilitator: &str,
        room: Option<&str>,
        date: Date,
        (start, end): (&str, &str),
    ) -> (u16, Value) {
        self.post(
            "/api/v1/program/appointments",
            json!({"client_id": client, "modality": "individual", "facilitator_id": facilitator, "room_id": room,
                   "date": date.to_string(), "start": start, "end": end}),
        )
        .await
    }

    async fn calendar(&self, token: &str, view: &str, id: &str) -> Vec<Value> {
        let path = format!("/api/v1/program/calendar?view={view}&id={id}&from={}", self.week.monday());
        self.get(token, &path).await["sessions"].as_array().unwrap().clone()
    }

    /// The evening track: Monday relapse prevention (Dana) then psychoeducation (Morgan) in the
    /// group room, Tuesday life skills (Sam), Thursday wellness (Dana); the week generated.
    async fn evening(&self) -> (String, Vec<Value>) {
        let track = self.track("Evening track", None).await;
        let entries = [
            ("monday", ("18:00", "19:30"), "group", "Relapse prevention", &self.dana, Some(self.room.as_str())),
            ("monday", ("19:30", "21:00"), "psychoeducation", "Understanding cravings", &self.morgan, Some(&self.room)),
            ("tuesday", ("18:00", "21:00"), "life_skills", "Refusal skills", &self.sam, None),
            ("thursday", ("18:00", "21:00"), "wellness", "Mindful movement", &self.dana, Some(&self.room)),
        ];
        for (day, span, modality, title, who, room) in entries {
            let (s, e) = self.entry(&track, day, span, modality, title, who, room).await;
            assert_eq!(s, 201, "{title}: {e}");
        }
        let w = self.generate(&track).await;
        (track, w["created"].as_array().unwrap().clone())
    }
}

fn titles(sessions: &[Value]) -> Vec<String> {
    sessions.iter().map(|s| format!("{} {}", s["date"].as_str().unwrap(), s["title"].as_str().unwrap())).collect()
}

fn find<'a>(sessions: &'a [Value], title: &str) -> &'a Value {
    sessions.iter().find(|s| s["title"] == title).unwrap_or_else(|| panic!("no {title} in {sessions:?}"))
}

fn first_error(p: &Value) -> (String, String) {
    (
        p["errors"][0]["field"].as_str().unwrap_or("").to_owned(),
        p["errors"][0]["message"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn generating_a_week_is_idempotent_skips_closures_and_sizes_groups() {
    let p = program().await;
    let track = p.track("Evening track", None).await;
    let (s, _) =
        p.entry(&track, "monday", ("18:00", "19:30"), "group", "Relapse prevention", &p.dana, Some(&p.room)).await;
    assert_eq!(s, 201);
    let (s, _) = p.entry(&track, "tuesday", ("18:00", "21:00"), "life_skills", "Refusal skills", &p.sam, None).await;
    assert_eq!(s, 201);
    let (s, _) =
        p.entry(&track, "thursday", ("18:00", "19:00"), "individual", "Check-in", &p.morgan, Some(&p.small_room)).await;
    assert_eq!(s, 201);
    let (s, closure) = p
        .post(
            "/api/v1/program/closures",
            json!({"site_id": p.site, "date": p.day(3).to_string(), "reason": "Thanksgiving"}),
        )
        .await;
    assert_eq!((s, closure["cancelled_sessions"].as_u64()), (201, Some(0)), "{closure}");

    let w = p.generate(&track).await;
    let created = w["created"].as_array().unwrap();
    assert_eq!(
        titles(created),
        [format!("{} Relapse prevention", p.day(0)), format!("{} Refusal skills", p.day(1))],
        "Thursday is closed"
    );
    assert_eq!(find(created, "Relapse prevention")["capacity"], 10, "the room holds 10 (limit 12)");
    assert_eq!(find(created, "Refusal skills")["capacity"], 12, "no room: the group limit");

    let again = p.generate(&track).await;
    assert_eq!((again["created"].as_array().unwrap().len(), again["existing"].as_u64()), (0, Some(2)), "{again}");
    assert_eq!(p.calendar(&p.coord, "track", &track).await.len(), 2);

    // Once the closure is lifted, generating adds only Thursday's one-to-one session.
    let closure_id = closure["id"].as_str().unwrap();
    let (s, _) = call(&p.app, Method::DELETE, &format!("/api/v1/program/closures/{closure_id}"), &p.coord, None).await;
    assert_eq!(s, 204);
    let w = p.generate(&track).await;
    let created = w["created"].as_array().unwrap();
    assert_eq!(titles(created), [format!("{} Check-in", p.day(3))]);
    assert_eq!(created[0]["capacity"], 1, "one-to-one");

    // A closure added afterwards cancels that day's sessions.
    let (s, c) = p
        .post(
            "/api/v1/program/closures",
            json!({"site_id": p.site, "date": p.day(1).to_string(), "reason": "Staff training"}),
        )
        .await;
    assert_eq!((s, c["cancelled_sessions"].as_u64()), (201, Some(1)));
    let sessions = p.calendar(&p.coord, "track", &track).await;
    let tuesday = find(&sessions, "Refusal skills");
    assert_eq!(
        (tuesday["status"].as_str(), tuesday["status_reason"].as_str()),
        (Some("cancelled"), Some("Closed: Staff training"))
    );
    let (s, dup) = p
        .post("/api/v1/program/closures", json!({"site_id": p.site, "date": p.day(1).to_string(), "reason": "Again"}))
        .await;
    assert_eq!((s, first_error(&dup).0.as_str()), (422, "date"));

    let program = p.get(&p.coord, "/api/v1/program").await;
    assert_eq!(program["tracks"][0]["templates"].as_array().unwrap().len(), 3);
    assert_eq!(program["tracks"][0]["group_limit"], 12);
    assert!(!events(&p.app, "program.changed").await.is_empty());
    chain_intact(&p.app).await;
}

#[tokio::test]
async fn sessions_that_end_before_they_start_or_last_thirty_hours_are_refused_and_nothing_is_saved() {
    let p = program().await;
    let track = p.track("Evening track", None).await;
    let client = p.iop_client("Ana", "Alvarez").await;
    let cases = [
        (("19:00", "18:00"), "end", "must end after it starts"),
        (("18:00", "18:00"), "end", "must end after it starts"),
        (("06:00", "23:00"), "end", "at most 480 minutes"),
        (("6pm", "21:00"), "start", "a time like 18:00"),
    ];
    for (span, field, says) in cases {
        let (s, e) = p.entry(&track, "monday", span, "group", "Relapse prevention", &p.dana, None).await;
        assert_eq!(s, 422, "{span:?}: {e}");
        let (f, m) = first_error(&e);
        assert_eq!(f, field, "{e}");
        assert!(m.contains(says), "{span:?}: {m}");
    }
    let (s, e) = p.entry(&track, "funday", ("18:00", "19:00"), "group", "x", &p.dana, None).await;
    assert_eq!((s, first_error(&e).0.as_str()), (422, "weekday"));
    let (s, e) = p
        .entry(&track, "monday", ("18:00", "19:00"), "group", "x", &p.dana, Some(&uuid::Uuid::now_v7().to_string()))
        .await;
    assert_eq!((s, first_error(&e).0.as_str()), (422, "room"));
    let (s, e) =
        p.entry(&track, "monday", ("18:00", "19:00"), "group", "x", &uuid::Uuid::now_v7().to_string(), None).await;
    assert_eq!((s, first_error(&e).0.as_str()), (422, "facilitator"));
    let program = p.get(&p.coord, "/api/v1/program").await;
    assert!(program["tracks"][0]["templates"].as_array().unwrap().is_empty(), "no entry was saved");

    // A 30-hour appointment (ending the next day) and one ending before it starts.
    let monday = p.day(0);
    let thirty_hours = json!({"client_id": client, "modality": "individual", "facilitator_id": p.dana,
        "date": monday.to_string(), "start": "09:00", "end": "15:00", "end_date": p.day(1).to_string()});
    let (s, e) = p.post("/api/v1/program/appointments", thirty_hours).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(first_error(&e), ("end".to_owned(), "A session can be at most 480 minutes long".to_owned()));
    let (s, e) = p.appointment(&client, &p.dana, None, monday, ("15:00", "14:00")).await;
    assert_eq!((s, first_error(&e)), (422, ("end".to_owned(), "The session must end after it starts".to_owned())));
    let (s, e) = p
        .post(
            "/api/v1/program/appointments",
            json!({"client_id": client, "modality": "group", "facilitator_id": p.dana,
            "date": monday.to_string(), "start": "09:00", "end": "10:00"}),
        )
        .await;
    assert_eq!((s, first_error(&e).0.as_str()), (422, "modality"), "groups come from templates");
    assert!(p.calendar(&p.coord, "client", &client).await.is_empty(), "nothing was booked");
    assert!(p.calendar(&p.coord, "staff", &p.dana).await.is_empty());

    // A track refuses a bad group limit and dates in the wrong order.
    let (s, e) = p
        .post(
            "/api/v1/program/tracks",
            json!({"site_id": p.site, "name": "Day track", "group_limit": 0,
            "active_from": "2026-12-01", "active_until": "2026-11-01"}),
        )
        .await;
    assert_eq!(s, 422);
    let fields: Vec<&str> = e["errors"].as_array().unwrap().iter().map(|x| x["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["group_limit", "active_until"]);
}

#[tokio::test]
async fn double_booking_a_staff_member_a_room_or_a_client_is_refused_naming_the_collision() {
    let p = program().await;
    let (track, _) = p.evening().await;
    let ana = p.iop_client("Ana", "Alvarez").await;
    let ben = p.iop_client("Ben", "Brooks").await;
    let (s, e) = p.enrol(&ana, &track, today()).await;
    assert_eq!(s, 201, "{e}");
    assert_eq!(e["added_to"].as_array().unwrap().len(), 4, "the four group sessions of next week: {e}");
    let monday = p.day(0);
    let before = events(&p.app, "session.changed").await.len();

    // Staff: Dana runs relapse prevention 18:00–19:30.
    let (s, e) = p.appointment(&ben, &p.dana, None, monday, ("18:30", "19:00")).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(
        first_error(&e),
        ("facilitator".into(), "Test dana is facilitating Relapse prevention 18:00–19:30 then".into())
    );
    // Room: the group room is taken.
    let (s, e) = p.appointment(&ben, &p.sam, Some(&p.room), monday, ("17:30", "18:15")).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(first_error(&e), ("room".into(), "Group room is booked for Relapse prevention 18:00–19:30 then".into()));
    // Client: Ana is on the roster of relapse prevention (the supervisor may see her name).
    let (s, e) = call(
        &p.app,
        Method::POST,
        "/api/v1/program/appointments",
        &p.sup,
        Some(json!({"client_id": ana, "modality": "individual", "facilitator_id": p.sam,
            "date": monday.to_string(), "start": "19:00", "end": "19:45"})),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    let errors = e["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{e}");
    assert_eq!(errors[0]["field"], "client");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message == "Ana Alvarez is booked for Relapse prevention 18:00–19:30 then"
            || message == "Ana Alvarez is booked for Understanding cravings 19:30–21:00 then",
        "{message}"
    );
    // Nothing was saved.
    assert!(p.calendar(&p.coord, "client", &ben).await.is_empty());
    assert_eq!(p.calendar(&p.coord, "staff", &p.sam).await.len(), 1, "only Sam's Tuesday group");
    assert_eq!(p.calendar(&p.coord, "client", &ana).await.len(), 4);
    assert_eq!(events(&p.app, "session.changed").await.len(), before);

    // Free slots are booked.
    let (s, ok) = p.appointment(&ben, &p.dana, Some(&p.small_room), monday, ("16:00", "17:00")).await;
    assert_eq!((s, ok["capacity"].as_u64()), (201, Some(1)), "{ok}");
    // And the appointment now blocks the same people and room.
    let (s, e) = p.appointment(&ana, &p.sam, Some(&p.small_room), monday, ("16:30", "17:30")).await;
    assert_eq!((s, first_error(&e).0.as_str()), (422, "room"), "{e}");
    // A family session is booked the same way, one family at a time.
    let (s, family) = p
        .post(
            "/api/v1/program/appointments",
            json!({"client_id": ben, "modality": "family", "facilitator_id": p.sam,
                   "date": monday.to_string(), "start": "14:00", "end": "15:00"}),
        )
        .await;
    assert_eq!(s, 201, "{family}");
    assert_eq!((family["modality"].as_str(), family["capacity"].as_u64()), (Some("family"), Some(1)));
    // A template entry cannot promise Dana twice a week either.
    let (s, e) = p.entry(&track, "thursday", ("20:00", "21:00"), "group", "Relapse prevention II", &p.dana, None).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(
        first_error(&e),
        (
            "facilitator".into(),
            "Test dana already facilitates Mindful movement (Evening track) on Thursdays 18:00–21:00".into()
        )
    );
    chain_intact(&p.app).await;
}

#[tokio::test]
async fn a_roster_over_capacity_is_refused() {
    let p = program().await;
    let track = p.track("Small group", Some(2)).await;
    let (s, _) = p.entry(&track, "wednesday", ("10:00", "12:00"), "group", "Process group", &p.dana, None).await;
    assert_eq!(s, 201);
    let session = p.generate(&track).await["created"][0]["id"].as_str().unwrap().to_owned();
    let mut clients = Vec::new();
    for (given, family) in [("Ana", "Alvarez"), ("Ben", "Brooks"), ("Cy", "Cruz")] {
        clients.push(p.iop_client(given, family).await);
    }
    for c in &clients[..2] {
        let (s, e) = p.enrol(c, &track, today()).await;
        assert_eq!((s, e["added_to"].as_array().unwrap().len()), (201, 1), "{e}");
    }
    // Enrolling a third still enrols, but reports the full session.
    let (s, e) = p.enrol(&clients[2], &track, today()).await;
    assert_eq!(s, 201);
    assert!(e["added_to"].as_array().unwrap().is_empty());
    assert!(e["not_added"][0].as_str().unwrap().contains("The session is full (2 of 2)"), "{e}");
    let (s, e) =
        call(&p.app, Method::PUT, &format!("/api/v1/iop/sessions/{session}/roster/{}", clients[2]), &p.coord, None)
            .await;
    assert_eq!(s, 422);
    assert_eq!(first_error(&e), ("client".into(), "The session is full (2 of 2)".into()));
    let detail = p.get(&p.coord, &format!("/api/v1/iop/sessions/{session}")).await;
    assert_eq!(detail["roster_count"], 2);
    // Lowering the limit below a roster is refused too; taking someone off makes room.
    let (s, e) = call(
        &p.app,
        Method::PUT,
        &format!("/api/v1/program/tracks/{track}"),
        &p.coord,
        Some(
            json!({"name": "Small group", "group_limit": 1, "active_from": (today() - Duration::days(7)).to_string()}),
        ),
    )
    .await;
    assert_eq!((s, first_error(&e).0.as_str()), (422, "group_limit"), "{e}");
    let roster = |c: &str| format!("/api/v1/iop/sessions/{session}/roster/{c}");
    assert_eq!(call(&p.app, Method::DELETE, &roster(&clients[0]), &p.coord, None).await.0, 204);
    assert_eq!(call(&p.app, Method::PUT, &roster(&clients[2]), &p.coord, None).await.0, 204);
    // A client not enrolled in the track cannot join its sessions.
    let outsider = p.iop_client("Dee", "Diaz").await;
    assert_eq!(call(&p.app, Method::DELETE, &roster(&clients[1]), &p.coord, None).await.0, 204);
    let (s, e) = call(&p.app, Method::PUT, &roster(&outsider), &p.coord, None).await;
    assert_eq!((s, first_error(&e).1.as_str()), (422, "The client is not enrolled in this track on that date"));
    assert!(
        events(&p.app, "session.changed")
            .await
            .iter()
            .any(|e| e.event.detail.as_deref() == Some("roster: client removed"))
    );
}

#[tokio::test]
async fn sessions_move_and_are_cancelled_and_a_substitute_is_booked_like_anyone_else() {
    let p = program().await;
    let (track, created) = p.evening().await;
    let ana = p.iop_client("Ana", "Alvarez").await;
    let ben = p.iop_client("Ben", "Brooks").await;
    p.enrol(&ana, &track, today()).await;
    let relapse = find(&created, "Relapse prevention")["id"].as_str().unwrap().to_owned();
    let skills = find(&created, "Refusal skills")["id"].as_str().unwrap().to_owned();
    let monday = p.day(0);

    // Within the day: the same session, earlier.
    let (s, m) = p
        .post(
            &format!("/api/v1/iop/sessions/{relapse}/move"),
            json!({"date": monday.to_string(), "start": "16:30", "end": "18:00"}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(
        (m["id"].as_str(), m["start"].as_str(), m["room_id"].as_str()),
        (Some(relapse.as_str()), Some("16:30"), Some(p.room.as_str()))
    );
    // A move into a room too small for the roster, or onto a closed day, is refused.
    for (given, family) in [("Cy", "Cruz"), ("Dee", "Diaz")] {
        let c = p.iop_client(given, family).await;
        assert_eq!(p.enrol(&c, &track, today()).await.0, 201);
    }
    let (s, e) = p
        .post(
            &format!("/api/v1/iop/sessions/{relapse}/move"),
            json!({"date": monday.to_string(), "start": "16:30", "end": "18:00", "room_id": p.small_room}),
        )
        .await;
    assert_eq!((s, first_error(&e)), (422, ("room".into(), "That room holds 2; 3 clients are on the roster".into())));
    let (s, _) = p
        .post("/api/v1/program/closures", json!({"site_id": p.site, "date": p.day(4).to_string(), "reason": "Holiday"}))
        .await;
    assert_eq!(s, 201);
    let (s, e) = p
        .post(
            &format!("/api/v1/iop/sessions/{relapse}/move"),
            json!({"date": p.day(4).to_string(), "start": "18:00", "end": "19:30"}),
        )
        .await;
    assert_eq!((s, first_error(&e)), (422, ("date".into(), "The program is closed that day: Holiday".into())));
    // To Wednesday: the Monday session is cancelled ("Moved to …") and a new one carries the roster.
    let wednesday = p.day(2);
    let (s, moved) = p
        .post(
            &format!("/api/v1/iop/sessions/{relapse}/move"),
            json!({"date": wednesday.to_string(), "start": "18:00", "end": "19:30"}),
        )
        .await;
    assert_eq!(s, 200, "{moved}");
    let new_id = moved["id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, relapse);
    let old = p.get(&p.coord, &format!("/api/v1/iop/sessions/{relapse}")).await;
    assert_eq!(old["status"], "cancelled");
    assert_eq!(old["status_reason"].as_str().unwrap(), format!("Moved to {wednesday} 18:00"));
    let new = p.get(&p.coord, &format!("/api/v1/iop/sessions/{new_id}")).await;
    assert_eq!((new["date"].as_str(), new["roster_count"].as_u64()), (Some(wednesday.to_string().as_str()), Some(3)));
    assert_eq!(new["clients"][0]["name"], "Alvarez, Ana");
    // Generating again does not bring the Monday occurrence back.
    assert!(p.generate(&track).await["created"].as_array().unwrap().is_empty());

    // Cancelling needs a reason; a cancelled session books nothing.
    let (s, e) = p.post(&format!("/api/v1/iop/sessions/{skills}/cancel"), json!({"reason": " "})).await;
    assert_eq!((s, first_error(&e).0.as_str()), (422, "reason"));
    let tuesday = p.day(1);
    let (s, e) = p.appointment(&ben, &p.sam, None, tuesday, ("18:00", "19:00")).await;
    assert_eq!((s, first_error(&e).0.as_str()), (422, "facilitator"), "Sam runs refusal skills: {e}");
    let (s, c) = p.post(&format!("/api/v1/iop/sessions/{skills}/cancel"), json!({"reason": "Facilitator ill"})).await;
    assert_eq!(
        (s, c["status"].as_str(), c["status_reason"].as_str()),
        (200, Some("cancelled"), Some("Facilitator ill"))
    );
    let (s, appointment) = p.appointment(&ben, &p.sam, None, tuesday, ("18:00", "19:00")).await;
    assert_eq!(s, 201, "Sam is free once the group is cancelled");
    let (s, e) = p.post(&format!("/api/v1/iop/sessions/{skills}/cancel"), json!({"reason": "again"})).await;
    assert_eq!((s, first_error(&e).0.as_str()), (422, "session"));

    // Taking a cancellation back: not for a session that moved, nor while Sam is booked then.
    let reinstate = |id: &str| {
        let path = format!("/api/v1/iop/sessions/{id}/reinstate");
        let p = &p;
        async move { p.post(&path, json!({})).await }
    };
    let (s, e) = reinstate(&relapse).await;
    assert_eq!(
        (s, first_error(&e)),
        (422, ("session".into(), "This session moved to another day; change the new session instead".into()))
    );
    let (s, e) = reinstate(&skills).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(
        first_error(&e),
        ("session".into(), "Test sam is facilitating Individual therapy 18:00–19:00 then".into())
    );
    assert_eq!(p.get(&p.coord, &format!("/api/v1/iop/sessions/{skills}")).await["status"], "cancelled", "unchanged");
    let appointment = appointment["id"].as_str().unwrap().to_owned();
    let (s, _) = p.post(&format!("/api/v1/iop/sessions/{appointment}/cancel"), json!({"reason": "Rebooked"})).await;
    assert_eq!(s, 200);
    let (s, r) = reinstate(&skills).await;
    assert_eq!((s, r["status"].as_str(), r["status_reason"].as_str()), (200, Some("scheduled"), None), "{r}");
    let (s, e) = reinstate(&skills).await;
    assert_eq!((s, first_error(&e)), (422, ("session".into(), "This session is not cancelled".into())));

    // A substitute: Sam takes Thursday's wellness from Dana, and is then booked like anyone else.
    let wellness = find(&created, "Mindful movement")["id"].as_str().unwrap().to_owned();
    let thursday = p.day(3);
    let sub = |who: Option<&str>| {
        let (app, coord, path) = (&p.app, &p.coord, format!("/api/v1/iop/sessions/{wellness}/substitute"));
        let body = json!({"user_id": who});
        async move { call(app, Method::PUT, &path, coord, Some(body)).await }
    };
    let (s, e) = sub(Some(&p.dana)).await;
    assert_eq!((s, first_error(&e).0.as_str()), (422, "substitute"), "not the facilitator herself");
    let (s, w) = sub(Some(&p.sam)).await;
    assert_eq!((s, w["substitute_id"].as_str()), (200, Some(p.sam.as_str())), "{w}");
    let (s, e) = p.appointment(&ben, &p.sam, None, thursday, ("20:00", "20:45")).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(
        first_error(&e),
        ("facilitator".into(), "Test sam is facilitating Mindful movement 18:00–21:00 then".into())
    );
    let (s, _) = p.appointment(&ben, &p.dana, None, thursday, ("20:00", "20:45")).await;
    assert_eq!(s, 201, "Dana is free while Sam substitutes");
    // Dana is booked now, so she cannot take her session back.
    let (s, e) = sub(None).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(first_error(&e).1, "Test dana is facilitating Individual therapy 20:00–20:45 then");
    let staff = p.calendar(&p.coord, "staff", &p.sam).await;
    assert!(staff.iter().any(|s| s["title"] == "Mindful movement" && s["substitute_name"] == "Test sam"), "{staff:?}");

    let details: Vec<String> =
        events(&p.app, "session.changed").await.iter().filter_map(|e| e.event.detail.clone()).collect();
    for expected in ["moved", "cancelled", "reinstated", "substitute set", "appointment booked"] {
        assert!(details.iter().any(|d| d == expected), "{expected} in {details:?}");
    }
    chain_intact(&p.app).await;
}

#[tokio::test]
async fn enrolment_needs_an_iop_placement_and_a_new_one_ends_the_previous_the_day_before() {
    let p = program().await;
    let (evening, _) = p.evening().await;
    let day_track = p.track("Day track", None).await;
    let (s, _) =
        p.entry(&day_track, "friday", ("09:00", "12:00"), "group", "Morning group", &p.morgan, Some(&p.room)).await;
    assert_eq!(s, 201);
    p.generate(&day_track).await;

    let outpatient = p.app.new_client(&p.sup, "Rae", "Reed").await;
    p.admit(&outpatient, "1").await;
    let (s, e) = p.enrol(&outpatient, &evening, today()).await;
    assert_eq!(s, 422);
    assert_eq!(
        first_error(&e),
        ("track".into(), "Only a client placed at a day or evening level (IOP) can join a track".into())
    );
    let never_admitted = p.app.new_client(&p.sup, "Nia", "Noor").await;
    let (s, e) = p.enrol(&never_admitted, &evening, today()).await;
    assert_eq!((s, first_error(&e).1.as_str()), (422, "The client has no open episode of care"));
    let (s, e) = p.appointment(&never_admitted, &p.dana, None, p.day(4), ("13:00", "14:00")).await;
    assert_eq!((s, first_error(&e).0.as_str()), (422, "client"), "{e}");

    let ana = p.iop_client("Ana", "Alvarez").await;
    let (s, e) = p.enrol(&ana, &evening, today() - Duration::days(10)).await;
    assert_eq!((s, first_error(&e).0.as_str()), (422, "from"), "before the IOP placement: {e}");
    let (s, first) = p.enrol(&ana, &evening, today()).await;
    assert_eq!(s, 201, "{first}");
    let (s, e) = p.enrol(&ana, &evening, today() + Duration::days(1)).await;
    assert_eq!((s, first_error(&e).1.as_str()), (422, "The client is already enrolled in this track"));
    // The change of track starts next Wednesday: the evening enrolment ends Tuesday, Ana leaves
    // the evening sessions from Wednesday on and joins Friday's day group.
    let change = p.day(2);
    let (s, second) = p.enrol(&ana, &day_track, change).await;
    assert_eq!(s, 201, "{second}");
    assert_eq!(second["ended_enrolment_id"], first["id"]);
    assert_eq!(second["removed_from"], 1, "Thursday's wellness: {second}");
    assert_eq!(second["added_to"].as_array().unwrap().len(), 1, "{second}");
    let list = p.get(&p.coord, &format!("/api/v1/clients/{ana}/enrolments")).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0]["track_name"].as_str(), list[0]["until"].as_str()),
        (Some("Evening track"), Some((change - Duration::days(1)).to_string().as_str()))
    );
    assert_eq!(
        (list[1]["track_name"].as_str(), list[1]["from"].as_str(), list[1]["until"].as_str()),
        (Some("Day track"), Some(change.to_string().as_str()), None)
    );
    let (s, e) = p.enrol(&ana, &evening, change).await;
    assert_eq!((s, first_error(&e).0.as_str()), (422, "from"), "must start after the current enrolment: {e}");
    let mine = titles(&p.calendar(&p.coord, "client", &ana).await);
    assert_eq!(
        mine,
        [
            format!("{} Relapse prevention", p.day(0)),
            format!("{} Understanding cravings", p.day(0)),
            format!("{} Refusal skills", p.day(1)),
            format!("{} Morning group", p.day(4)),
        ]
    );
    // Ending the enrolment takes her off what is still to come after the last day.
    let day_enrolment = list[1]["id"].as_str().unwrap();
    let (s, _) = p
        .post(&format!("/api/v1/clients/{ana}/enrolments/{day_enrolment}/end"), json!({"until": p.day(3).to_string()}))
        .await;
    assert_eq!(s, 204);
    assert_eq!(p.calendar(&p.coord, "client", &ana).await.len(), 3);
    let changes = events(&p.app, "enrolment.changed").await;
    assert_eq!(changes.len(), 3);
    assert!(changes.iter().all(|e| e.event.client.map(|c| c.to_string()) == Some(ana.clone())));
    let schedule = p.get(&p.coord, &format!("/api/v1/clients/{ana}/schedule?week={}", p.week)).await;
    assert_eq!(schedule["sessions"].as_array().unwrap().len(), 3);
    assert_eq!(schedule["enrolment"]["track_name"], "Day track");
}

#[tokio::test]
async fn calendars_of_a_track_a_staff_member_a_room_and_a_client_show_their_sessions() {
    let p = program().await;
    let (evening, _) = p.evening().await;
    let day_track = p.track("Day track", None).await;
    let (s, _) =
        p.entry(&day_track, "monday", ("09:00", "12:00"), "group", "Morning group", &p.morgan, Some(&p.room)).await;
    assert_eq!(s, 201);
    p.generate(&day_track).await;
    let ana = p.iop_client("Ana", "Alvarez").await;
    p.enrol(&ana, &evening, today()).await;
    let (s, _) = p.appointment(&ana, &p.sam, Some(&p.small_room), p.day(4), ("10:00", "11:00")).await;
    assert_eq!(s, 201);

    let monday = p.day(0).to_string();
    let cases: [(&str, &str, Vec<String>); 5] = [
        (
            "track",
            &evening,
            vec![
                format!("{monday} Relapse prevention"),
                format!("{monday} Understanding cravings"),
                format!("{} Refusal skills", p.day(1)),
                format!("{} Mindful movement", p.day(3)),
            ],
        ),
        ("track", &day_track, vec![format!("{monday} Morning group")]),
        ("staff", &p.morgan, vec![format!("{monday} Morning group"), format!("{monday} Understanding cravings")]),
        ("room", &p.small_room, vec![format!("{} Individual therapy", p.day(4))]),
        (
            "client",
            &ana,
            vec![
                format!("{monday} Relapse prevention"),
                format!("{monday} Understanding cravings"),
                format!("{} Refusal skills", p.day(1)),
                format!("{} Mindful movement", p.day(3)),
                format!("{} Individual therapy", p.day(4)),
            ],
        ),
    ];
    for (view, id, expected) in cases {
        assert_eq!(titles(&p.calendar(&p.coord, view, id).await), expected, "{view}");
    }
    // A day view, and the room calendar of the group room.
    let day = p.get(&p.coord, &format!("/api/v1/program/calendar?view=room&id={}&from={monday}&days=1", p.room)).await;
    assert_eq!(titles(day["sessions"].as_array().unwrap()).len(), 3);
    let (s, e) =
        call(&p.app, Method::GET, &format!("/api/v1/program/calendar?view=planet&id={}", p.room), &p.coord, None).await;
    assert_eq!((s, first_error(&e).0.as_str()), (422, "view"));
    // The client view is a read of the client.
    let reads = events(&p.app, "client.read").await;
    assert!(reads.iter().any(|e| e.event.detail.as_deref() == Some("program calendar")
        && e.event.client.map(|c| c.to_string()) == Some(ana.clone())));

    // The pages render: program, week calendar, session, chart block and printable schedule.
    let (_, browser) = p.app.signed_in("casey2", Role::ProgramCoordinator).await;
    let (s, html) = browser.get_text("/program").await;
    assert_eq!(s, 200);
    assert!(html.contains("Evening track") && html.contains("Relapse prevention"));
    let (s, html) = browser.get_text(&format!("/program/calendar?who=track:{evening}&from={monday}")).await;
    assert_eq!(s, 200);
    assert!(html.contains("Relapse prevention") && html.contains("Roster 1 of 10"), "calendar");
    let (s, html) = browser.get_text(&format!("/clients/{ana}/schedule?week={}", p.week)).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Weekly schedule: Ana Alvarez") && html.contains("Mindful movement") && html.contains("Office")
    );
    let sessions = p.calendar(&p.coord, "track", &evening).await;
    let relapse = find(&sessions, "Relapse prevention")["id"].as_str().unwrap().to_owned();
    let page = format!("/iop/sessions/{relapse}");
    let (s, html) = browser.get_text(&page).await;
    assert_eq!(s, 200);
    assert!(html.contains("Alvarez, Ana") && html.contains("Cancel this session"), "session page");
    let res = browser.submit(&page, &format!("{page}/cancel"), &[("reason", " ")]).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("href=\"#c-reason\"") && html.contains("id=\"c-reason-error\""), "error beside the field");
    let res = browser
        .submit(
            &page,
            &format!("{page}/move"),
            &[("date", &p.day(2).to_string()), ("start", "17:00"), ("end", "18:30"), ("room", "")],
        )
        .await;
    assert_eq!(res.status(), 303, "moved to Wednesday");
    let moved_to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(moved_to.starts_with("/iop/sessions/") && !moved_to.starts_with(&page), "{moved_to}");
    let (s, html) = browser.get_text(&moved_to).await;
    assert_eq!(s, 200);
    assert!(html.contains("Session moved.") && html.contains("17:00–18:30"));
    // The old one stays cancelled; the new one is cancelled and taken back from its page.
    let (_, html) = browser.get_text(&page).await;
    assert!(html.contains("Reinstate this session"));
    let res = browser.submit(&page, &format!("{page}/reinstate"), &[]).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"ri-session-error\"") && html.contains("moved to another day"), "beside the button");
    let new_page = moved_to.split('?').next().unwrap();
    let res = browser.submit(new_page, &format!("{new_page}/cancel"), &[("reason", "Storm")]).await;
    assert_eq!(res.status(), 303);
    let res = browser.submit(new_page, &format!("{new_page}/reinstate"), &[]).await;
    assert_eq!(res.status(), 303);
    let (_, html) = browser.get_text(res.headers()["location"].to_str().unwrap()).await;
    assert!(html.contains("Session reinstated.") && !html.contains("Cancelled."), "scheduled again");
    let (s, html) = browser.get_text("/program/clients").await;
    assert_eq!(s, 200);
    assert!(html.contains("Alvarez, Ana") && html.contains("Evening track from"), "the coordinator's client list");
    let (_, supervisor) = p.app.signed_in("sup2", Role::Supervisor).await;
    let (s, html) = supervisor.get_text(&format!("/clients/{ana}")).await;
    assert_eq!(s, 200);
    assert!(html.contains("Evening track since"), "the chart shows the enrolment");
    assert!(html.contains("Sessions this week and next") || html.contains("Relapse prevention"));
}

#[tokio::test]
async fn only_program_staff_see_the_calendar_and_names_follow_the_care_team() {
    let p = program().await;
    let (evening, created) = p.evening().await;
    let ana = p.iop_client("Ana", "Alvarez").await;
    let ben = p.iop_client("Ben", "Brooks").await;
    p.enrol(&ana, &evening, today()).await;
    p.enrol(&ben, &evening, today()).await;
    let (_, biller) = p.app.full_token("bill", Role::Biller).await;
    let relapse = find(&created, "Relapse prevention")["id"].as_str().unwrap().to_owned();
    let denied_before = events(&p.app, "access.denied").await.len();
    for (method, path, body) in [
        (Method::GET, "/api/v1/program".to_owned(), None),
        (Method::GET, format!("/api/v1/program/calendar?view=track&id={evening}"), None),
        (Method::GET, format!("/api/v1/iop/sessions/{relapse}"), None),
        (Method::GET, format!("/api/v1/clients/{ana}/schedule"), None),
        (
            Method::POST,
            "/api/v1/program/tracks".to_owned(),
            Some(json!({"site_id": p.site, "name": "X", "active_from": "2026-01-01"})),
        ),
        (Method::POST, format!("/api/v1/program/tracks/{evening}/weeks/{}", p.week), None),
        (Method::PUT, format!("/api/v1/iop/sessions/{relapse}/roster/{ana}"), None),
    ] {
        let (s, _) = call(&p.app, method.clone(), &path, &biller, body).await;
        assert_eq!(s, 403, "{method} {path}");
    }
    assert_eq!(events(&p.app, "access.denied").await.len(), denied_before + 7, "every refusal is audited");

    // A counselor sees the program, names only their own clients, and changes nothing.
    let counselor = p.app.user("cora", Role::Counselor).await;
    let (s, _) = call(
        &p.app,
        Method::PUT,
        &format!("/api/v1/clients/{ana}/care-team/{}", counselor.id),
        &p.sup,
        Some(json!({"team_role": "primary_counselor"})),
    )
    .await;
    assert_eq!(s, 204);
    let cora = p.app.api_token("cora", testkit::PASSWORD).await;
    let session = p.get(&cora, &format!("/api/v1/iop/sessions/{relapse}")).await;
    assert_eq!(session["roster_count"], 2);
    let names: Vec<&str> = session["clients"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Alvarez, Ana"], "Ben is counted, not named");
    let coordinator = p.get(&p.coord, &format!("/api/v1/iop/sessions/{relapse}")).await;
    assert_eq!(coordinator["clients"].as_array().unwrap().len(), 2, "the coordinator manages everyone's place");
    assert_eq!(p.calendar(&cora, "track", &evening).await.len(), 4);
    assert_eq!(call(&p.app, Method::GET, &format!("/api/v1/clients/{ben}/schedule"), &cora, None).await.0, 403);
    assert_eq!(call(&p.app, Method::GET, &format!("/api/v1/clients/{ana}/schedule"), &cora, None).await.0, 200);
    let (s, _) = call(
        &p.app,
        Method::POST,
        &format!("/api/v1/iop/sessions/{relapse}/cancel"),
        &cora,
        Some(json!({"reason": "x"})),
    )
    .await;
    assert_eq!(s, 403);
    let searched = events(&p.app, "client.searched").await;
    assert!(
        searched
            .iter()
            .all(|e| e.event.actor != Some(counselor.id) || e.event.client.map(|c| c.to_string()) == Some(ana.clone())),
        "the counselor's reads name only Ana"
    );
    let (_, browser) = p.app.signed_in("bill2", Role::Biller).await;
    assert_eq!(browser.get("/program").await.status(), 403);
    assert_eq!(browser.get(&format!("/program/calendar?who=track:{evening}")).await.status(), 403);
    chain_intact(&p.app).await;
}

#[tokio::test]
async fn racing_bookings_cannot_both_take_one_facilitator() {
    let p = program().await;
    let ana = p.iop_client("Ana", "Alvarez").await;
    let ben = p.iop_client("Ben", "Brooks").await;
    for hour in 8..14 {
        let (start, end) = (format!("{hour:02}:00"), format!("{hour:02}:45"));
        let (a, b) = tokio::join!(
            p.appointment(&ana, &p.dana, None, p.day(2), (&start, &end)),
            p.appointment(&ben, &p.dana, None, p.day(2), (&start, &end)),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 422], "{hour}:00: {a:?} {b:?}");
    }
    assert_eq!(p.calendar(&p.coord, "staff", &p.dana).await.len(), 6, "one appointment an hour");
}
