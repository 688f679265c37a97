//! Measurement-based care through the API: responses and scores, safety and withdrawal alerts,
//! acknowledgement, imported questionnaires, readiness reviews applied to the episode, client
//! mode, access and audit, and the FHIR views of responses and scores.

use domain::role::Role;
use reqwest::Method;
use serde_json::{Value, json};
use testkit::fhir_schema::assert_valid;
use testkit::{TestApp, spawn_app};

use crate::{call, chain_intact, events};

fn day(offset: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(offset)).to_string()
}

fn phq9(values: [i64; 9]) -> Value {
    Value::Object((1..=9).map(|i| (i.to_string(), json!(values[i - 1]))).collect())
}

fn ciwa(nausea: i64, tremor: i64, sweats: i64, anxiety: i64) -> Value {
    json!({"nausea": nausea, "tremor": tremor, "sweats": sweats, "anxiety": anxiety, "agitation": 0, "tactile": 0,
           "auditory": 0, "visual": 0, "headache": 0, "orientation": 0})
}

fn cssrs(yes: &[&str]) -> Value {
    Value::Object(
        ["1", "2", "3", "4", "5", "6"].iter().map(|q| ((*q).to_owned(), json!(i64::from(yes.contains(q))))).collect(),
    )
}

fn check_in(self_harm: i64) -> Value {
    json!({"mood": 5, "craving": 3, "triggers": 0, "sleep": 2, "used": 0, "self_harm": self_harm})
}

/// Records answers as `token`; the status and body.
async fn record(app: &TestApp, token: &str, client: &str, form: &str, answers: Value) -> (u16, Value) {
    call(
        app,
        Method::POST,
        &format!("/api/v1/clients/{client}/responses"),
        token,
        Some(json!({"form": form, "answers": answers})),
    )
    .await
}

async fn measures(app: &TestApp, token: &str, client: &str) -> Value {
    let (s, m) = call(app, Method::GET, &format!("/api/v1/clients/{client}/measures"), token, None).await;
    assert_eq!(s, 200, "{m}");
    m
}

async fn response_count(app: &TestApp, token: &str, client: &str) -> usize {
    measures(app, token, client).await["responses"].as_array().unwrap().len()
}

async fn open_alerts(app: &TestApp, token: &str, client: &str) -> Vec<Value> {
    let m = measures(app, token, client).await;
    m["alerts"].as_array().unwrap().iter().filter(|a| a["open"] == true).cloned().collect()
}

/// A center with a site, a room and a bed, and a supervisor.
struct Center {
    app: TestApp,
    admin: String,
    sup: String,
    site: String,
    bed: String,
}

async fn center() -> Center {
    let app = spawn_app().await;
    let (_, admin) = app.full_token("boss", Role::Admin).await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let (s, site) =
        call(&app, Method::POST, "/api/v1/sites", &admin, Some(json!({"name": "Lakeside", "time_zone": "UTC"}))).await;
    assert_eq!(s, 201, "{site}");
    let site = site["id"].as_str().unwrap().to_owned();
    let (s, room) = call(
        &app,
        Method::POST,
        &format!("/api/v1/sites/{site}/rooms"),
        &admin,
        Some(json!({"name": "Cedar", "capacity": 2})),
    )
    .await;
    assert_eq!(s, 201);
    let room = room["id"].as_str().unwrap().to_owned();
    let (s, bed) =
        call(&app, Method::POST, &format!("/api/v1/rooms/{room}/beds"), &admin, Some(json!({"label": "A"}))).await;
    assert_eq!(s, 201);
    let bed = bed["id"].as_str().unwrap().to_owned();
    Center { app, admin, sup, site, bed }
}

impl Center {
    /// Admits `client` to 3.5 in the bed, `days_ago` days back; the episode id.
    async fn admit_residential(&self, client: &str, days_ago: i64) -> String {
        let (s, e) = call(
            &self.app,
            Method::POST,
            &format!("/api/v1/clients/{client}/episodes"),
            &self.sup,
            Some(json!({"on": day(-days_ago), "level": "3.5", "site_id": self.site, "bed_id": self.bed,
                        "planned_end": day(30), "reason": "Daily use; unsafe at home"})),
        )
        .await;
        assert_eq!(s, 201, "{e}");
        e["id"].as_str().unwrap().to_owned()
    }

    async fn current_level(&self, client: &str) -> (String, usize) {
        let (s, eps) =
            call(&self.app, Method::GET, &format!("/api/v1/clients/{client}/episodes"), &self.sup, None).await;
        assert_eq!(s, 200);
        let placements = eps[0]["placements"].as_array().unwrap();
        let current = placements.iter().find(|p| p["end"].is_null()).unwrap();
        (current["level"].as_str().unwrap().to_owned(), placements.len())
    }
}

#[tokio::test]
async fn each_safety_trigger_raises_exactly_one_open_alert() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let cases: [(&str, &str, Value, &str); 4] = [
        ("Ana", "phq-9", phq9([0, 0, 0, 0, 0, 0, 0, 0, 1]), "phq9_item9"),
        ("Ben", "c-ssrs-screener", cssrs(&["1", "2", "3"]), "cssrs_moderate"),
        ("Cy", "c-ssrs-screener", cssrs(&["1", "2", "3", "4"]), "cssrs_high"),
        ("Dee", "daily-check-in", check_in(1), "check_in_self_harm"),
    ];
    let mut alert_ids = Vec::new();
    for (given, form, answers, code) in cases {
        let client = app.new_client(&sup, given, "Tester").await;
        let (s, r) = record(&app, &sup, &client, form, answers).await;
        assert_eq!(s, 201, "{form}: {r}");
        assert_eq!(r["response"]["complete"], true, "{r}");
        assert_eq!(r["alerts"].as_array().unwrap().len(), 1, "{form}: {r}");
        assert_eq!(r["alerts"][0]["code"], code);
        assert_eq!(r["alerts"][0]["kind"], "safety");
        assert_eq!(r["response"]["flags"], json!([code]));
        let open = open_alerts(&app, &sup, &client).await;
        assert_eq!(open.len(), 1, "{form}: exactly one open alert");
        assert_eq!(open[0]["code"], code);
        assert_eq!(open[0]["response_id"], r["response"]["id"]);
        alert_ids.push(open[0]["id"].as_str().unwrap().to_owned());
    }

    let clean = app.new_client(&sup, "Eve", "Tester").await;
    let (s, r) = record(&app, &sup, &clean, "phq-9", phq9([1, 1, 0, 0, 0, 0, 0, 0, 0])).await;
    assert_eq!(s, 201);
    assert_eq!(r["alerts"], json!([]));
    assert_eq!(r["response"]["total"], 2);
    assert_eq!(r["response"]["band"], "minimal");
    assert!(open_alerts(&app, &sup, &clean).await.is_empty());

    // The alert list and the work list show exactly those four, with names for the clinician.
    let (s, list) = call(&app, Method::GET, "/api/v1/alerts", &sup, None).await;
    assert_eq!(s, 200);
    let mut listed: Vec<String> =
        list.as_array().unwrap().iter().map(|a| a["alert"]["id"].as_str().unwrap().to_owned()).collect();
    listed.sort();
    alert_ids.sort();
    assert_eq!(listed, alert_ids);
    assert!(list.as_array().unwrap().iter().all(|a| a["client_name"].as_str().unwrap().ends_with("Tester")));
    let (s, w) = call(&app, Method::GET, "/api/v1/worklist", &sup, None).await;
    assert_eq!(s, 200);
    assert_eq!(w["alerts"].as_array().unwrap().len(), 4);
    assert_eq!(events(&app, "alert.raised").await.len(), 4);
    chain_intact(&app).await;
}

#[tokio::test]
async fn a_partly_answered_form_still_raises_the_safety_alert_its_answers_call_for() {
    // Safety is never optional: an unscored form still alerts on what the client did say.
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let cases: [(&str, Value, &str); 3] = [
        ("phq-9", json!({"1": 1, "9": 2}), "phq9_item9"),
        ("c-ssrs-screener", json!({"4": 1}), "cssrs_high"),
        ("daily-check-in", json!({"self_harm": 1}), "check_in_self_harm"),
    ];
    for (form, answers, code) in cases {
        let client = app.new_client(&sup, "Ana", "Alvarez").await;
        let (s, r) = record(&app, &sup, &client, form, answers).await;
        assert_eq!(s, 201, "{form}: {r}");
        assert_eq!(r["response"]["complete"], false);
        assert!(r["response"]["total"].is_null() && r["response"]["band"].is_null(), "still unscored: {r}");
        assert_eq!(r["response"]["flags"], json!([code]), "{form}: {r}");
        assert_eq!(open_alerts(&app, &sup, &client).await.len(), 1, "{form}");
    }
    // Unanswered questions never raise one.
    let client = app.new_client(&sup, "Ben", "Brooks").await;
    let (_, r) = record(&app, &sup, &client, "c-ssrs-screener", json!({"1": 0, "6": 0})).await;
    assert_eq!(r["response"]["complete"], false);
    assert_eq!(r["alerts"], json!([]));
    let (_, r) = record(&app, &sup, &client, "phq-9", json!({"1": 3, "2": 3})).await;
    assert_eq!(r["alerts"], json!([]));
}

#[tokio::test]
async fn the_withdrawal_alert_fires_on_crossing_the_threshold_not_on_every_high_score() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let client = app.new_client(&sup, "Ana", "Alvarez").await;
    // 12, then 14 (still high), then 5 (below), then 11 (crossing again).
    let mut raised = Vec::new();
    for (answers, total) in
        [(ciwa(3, 3, 3, 3), 12), (ciwa(4, 4, 3, 3), 14), (ciwa(2, 2, 1, 0), 5), (ciwa(3, 3, 3, 2), 11)]
    {
        let (s, r) = record(&app, &sup, &client, "ciwa-ar", answers).await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["response"]["total"], total);
        raised.push(r["alerts"].as_array().unwrap().len());
        if let Some(a) = r["alerts"].as_array().unwrap().first() {
            assert_eq!(a["code"], "withdrawal:ciwa-ar");
            assert_eq!(a["kind"], "withdrawal");
        }
    }
    assert_eq!(raised, [1, 0, 0, 1]);
    assert_eq!(open_alerts(&app, &sup, &client).await.len(), 2);
    let m = measures(&app, &sup, &client).await;
    let series = m["series"].as_array().unwrap().iter().find(|s| s["instrument"] == "ciwa-ar").unwrap();
    let points: Vec<i64> = series["points"].as_array().unwrap().iter().map(|p| p["value"].as_i64().unwrap()).collect();
    assert_eq!(points, [12, 14, 5, 11]);
    assert_eq!(series["threshold"], 10);
}

#[tokio::test]
async fn an_alert_is_acknowledged_once_and_never_without_saying_what_was_done() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let client = app.new_client(&sup, "Ana", "Alvarez").await;
    let (_, r) = record(&app, &sup, &client, "phq-9", phq9([0, 0, 0, 0, 0, 0, 0, 0, 2])).await;
    let alert = r["alerts"][0]["id"].as_str().unwrap().to_owned();
    let ack = format!("/api/v1/alerts/{alert}/acknowledge");

    for body in [json!({"action": "safety_plan", "text": "   "}), json!({"action": "safety_plan"})] {
        let (s, p) = call(&app, Method::POST, &ack, &sup, Some(body)).await;
        assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("text")), "{p}");
    }
    let (s, p) = call(&app, Method::POST, &ack, &sup, Some(json!({"action": "ignored", "text": "x"}))).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("action")));
    assert_eq!(open_alerts(&app, &sup, &client).await.len(), 1, "still open");

    let body = json!({"action": "safety_plan", "text": "Safety plan written with the client; physician told"});
    let (s, a) = call(&app, Method::POST, &ack, &sup, Some(body.clone())).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["open"], false);
    assert_eq!(a["acknowledgement"]["action"], "safety_plan");
    assert!(open_alerts(&app, &sup, &client).await.is_empty());
    let (s, list) = call(&app, Method::GET, "/api/v1/alerts", &sup, None).await;
    assert_eq!((s, list), (200, json!([])));

    let (s, p) = call(&app, Method::POST, &ack, &sup, Some(body)).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("conflict")));
    assert_eq!(events(&app, "alert.acknowledged").await.len(), 1);
    let body = json!({"action": "action", "text": "Called"});
    let (s, _) = call(&app, Method::POST, "/api/v1/alerts/not-an-id/acknowledge", &sup, Some(body)).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn an_incomplete_phq9_is_saved_unscored() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let client = app.new_client(&sup, "Ana", "Alvarez").await;
    let (s, r) = record(&app, &sup, &client, "phq-9", json!({"1": 2, "2": 3, "3": 1, "4": 0, "5": 1})).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["response"]["complete"], false);
    assert!(r["response"]["total"].is_null());
    assert!(r["response"]["band"].is_null());
    assert_eq!(r["missing"], json!(["6", "7", "8", "9"]));
    let id = r["response"]["id"].as_str().unwrap();
    let (s, detail) = call(&app, Method::GET, &format!("/api/v1/clients/{client}/responses/{id}"), &sup, None).await;
    assert_eq!(s, 200);
    assert_eq!(detail["response"]["answers"]["2"], 3);
    assert_eq!(detail["response"]["complete"], false);
    assert_eq!(detail["form"]["instrument"], "phq-9");
    assert_eq!(detail["form"]["items"].as_array().unwrap().len(), 9);
    let m = measures(&app, &sup, &client).await;
    assert!(m["series"].as_array().unwrap().is_empty(), "an unscored form is not charted");
    let other = app.new_client(&sup, "Ben", "Brooks").await;
    let (s, _) = call(&app, Method::GET, &format!("/api/v1/clients/{other}/responses/{id}"), &sup, None).await;
    assert_eq!(s, 404, "a response is found only under its own client");
}

#[tokio::test]
async fn bad_input_is_refused_and_saves_nothing() {
    let c = center().await;
    let app = &c.app;
    let client = app.new_client(&c.sup, "Ana", "Alvarez").await;
    let path = format!("/api/v1/clients/{client}/responses");
    let full = phq9([1, 1, 1, 1, 1, 1, 1, 1, 0]);
    let mut out_of_range = full.clone();
    out_of_range["1"] = json!(4);
    let mut unknown = full.clone();
    unknown["10"] = json!(0);
    let mut fractional = full.clone();
    fractional["2"] = json!(1.5);
    let cases = [
        ("out of range", json!({"form": "phq-9", "answers": out_of_range}), Some("answers")),
        ("unknown item", json!({"form": "phq-9", "answers": unknown}), Some("answers")),
        ("not a whole number", json!({"form": "phq-9", "answers": fractional}), None),
        ("nothing answered", json!({"form": "phq-9", "answers": {}}), Some("answers")),
        ("unknown form", json!({"form": "https://nowhere.example/q", "answers": full}), Some("form")),
        ("unknown version", json!({"form": "phq-9", "version": "7", "answers": full}), Some("version")),
        (
            "in the future",
            json!({"form": "phq-9", "answers": full, "authored": "2999-01-01T00:00:00Z"}),
            Some("authored"),
        ),
        ("not a time", json!({"form": "phq-9", "answers": full, "authored": "yesterday"}), Some("authored")),
        ("unknown field", json!({"form": "phq-9", "answers": full, "score": 99}), None),
    ];
    for (what, body, field) in cases {
        let (s, p) = call(app, Method::POST, &path, &c.sup, Some(body)).await;
        assert_eq!(s, 422, "{what}: {p}");
        assert_eq!(p["errors"][0]["field"].as_str(), field, "{what}: {p}");
    }
    assert_eq!(response_count(app, &c.sup, &client).await, 0);

    // An imported form's retired version cannot be answered.
    let v1 = survey_questionnaire("1");
    let (s, i) = call(app, Method::POST, "/api/v1/forms", &c.sup, Some(v1.clone())).await;
    assert_eq!((s, i["retired_versions"].as_u64()), (201, Some(0)), "{i}");
    let (s, p) = call(app, Method::POST, "/api/v1/forms", &c.sup, Some(v1)).await;
    assert_eq!(s, 409, "the same version twice: {p}");
    let (s, i2) = call(app, Method::POST, "/api/v1/forms", &c.sup, Some(survey_questionnaire("2"))).await;
    assert_eq!((s, i2["retired_versions"].as_u64()), (201, Some(1)), "{i2}");
    let (_, forms) = call(app, Method::GET, "/api/v1/forms", &c.sup, None).await;
    let status = |v: &str| {
        forms.as_array().unwrap().iter().find(|f| f["url"] == SURVEY_URL && f["version"] == v).unwrap()["status"]
            .clone()
    };
    assert_eq!((status("1"), status("2")), (json!("retired"), json!("active")));
    let answers = json!({"q1": 2, "q2": "Kind staff"});
    let (s, p) =
        call(app, Method::POST, &path, &c.sup, Some(json!({"form": SURVEY_URL, "version": "1", "answers": answers})))
            .await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("version")), "{p}");
    let (s, p) =
        call(app, Method::POST, &path, &c.sup, Some(json!({"form": format!("{SURVEY_URL}|1"), "answers": answers})))
            .await;
    assert_eq!(s, 422, "url|version names the retired version too: {p}");
    assert_eq!(response_count(app, &c.sup, &client).await, 0);
    let (s, r) = record(app, &c.sup, &client, SURVEY_URL, answers.clone()).await;
    assert_eq!(s, 201, "the current version is answered: {r}");
    assert_eq!(r["response"]["form_version"], "2");
    // Retiring the current version leaves nothing to answer.
    let v2 = i2["form"]["id"].as_str().unwrap();
    let (s, _) = call(app, Method::POST, &format!("/api/v1/forms/{v2}/retire"), &c.sup, None).await;
    assert_eq!(s, 204);
    let (s, _) = call(app, Method::POST, &format!("/api/v1/forms/{v2}/retire"), &c.sup, None).await;
    assert_eq!(s, 409);
    let (s, _) = record(app, &c.sup, &client, SURVEY_URL, answers).await;
    assert_eq!(s, 422);
    assert_eq!(response_count(app, &c.sup, &client).await, 1);

    // Ratings outside 0–4, and reviews of a closed stay.
    let (s, p) =
        call(app, Method::POST, "/api/v1/recommendation", &c.sup, Some(json!({"ratings": [1, 1, 5, 1, 1, 1]}))).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("d3")), "{p}");
    let (s, p) = call(app, Method::POST, "/api/v1/recommendation", &c.sup, Some(json!({"ratings": [1, 1]}))).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("ratings")));
    let episode = c.admit_residential(&client, 10).await;
    let review = format!("/api/v1/clients/{client}/episodes/{episode}/review");
    for (bad, field) in [(json!(5), "d4"), (json!(-1), "d4"), (json!(2.5), "d4"), (json!("2"), "d4")] {
        let mut body = review_body([1, 1, 1, 1, 4, 1], "continue");
        body["ratings"][3]["rating"] = bad.clone();
        let (s, p) = call(app, Method::POST, &review, &c.sup, Some(body)).await;
        assert_eq!(s, 422, "{bad}: {p}");
        assert!(p["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{bad}: {p}");
    }
    let mut body = review_body([1, 1, 1, 1, 4, 1], "continue");
    body["ratings"][0]["rationale"] = json!("");
    let (s, p) = call(app, Method::POST, &review, &c.sup, Some(body)).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("d1_rationale")));
    let (s, e) = call(
        app,
        Method::POST,
        &format!("/api/v1/clients/{client}/episodes/{episode}/decisions"),
        &c.sup,
        Some(json!({"kind": "discharge", "on": day(0), "discharge_reason": "completed", "reason": "Completed"})),
    )
    .await;
    assert_eq!(s, 200, "{e}");
    let (s, p) = call(app, Method::POST, &review, &c.sup, Some(review_body([1, 1, 1, 1, 1, 1], "continue"))).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("episode")), "{p}");
    let (s, _) = call(app, Method::GET, &review, &c.sup, None).await;
    assert_eq!(s, 422);
    assert!(events(app, "review.recorded").await.is_empty());
    assert_eq!(response_count(app, &c.sup, &client).await, 1);
}

const SURVEY_URL: &str = "https://center.example/fhir/Questionnaire/satisfaction";

/// A questionnaire no built-in scorer knows.
fn survey_questionnaire(version: &str) -> Value {
    json!({
        "resourceType": "Questionnaire",
        "url": SURVEY_URL,
        "version": version,
        "title": "Satisfaction with care",
        "status": "active",
        "item": [
            {"linkId": "q1", "text": "How satisfied are you?", "type": "choice", "required": true,
             "answerOption": [{"valueString": "Not at all"}, {"valueString": "Somewhat"}, {"valueString": "Very"}]},
            {"linkId": "q2", "text": "What helped most?", "type": "string"},
            {"linkId": "q3", "text": "Would you recommend us?", "type": "boolean"}
        ]
    })
}

/// A center's licensed PHQ-9 (placeholder wording), bound by its LOINC panel code. Questions
/// 1–5 score by valueInteger, 6–9 by valueCoding with ordinalValue.
fn licensed_phq9() -> Value {
    let items: Vec<Value> = (1..=9)
        .map(|n| {
            let options: Vec<Value> = if n <= 5 {
                (0..=3).map(|v| json!({"valueInteger": v})).collect()
            } else {
                (0..=3)
                    .map(|v| {
                        json!({"valueCoding": {"system": "http://loinc.org", "code": format!("LA-placeholder-{v}"),
                                               "display": format!("Answer {v}")},
                               "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue",
                                              "valueDecimal": v}]})
                    })
                    .collect()
            };
            json!({"linkId": format!("/44250-{n}"), "text": format!("Placeholder question {n}"), "type": "choice",
                   "required": true, "answerOption": options})
        })
        .collect();
    json!({
        "resourceType": "Questionnaire",
        "url": "https://center.example/fhir/Questionnaire/phq-9-licensed",
        "version": "2024.1",
        "title": "PHQ-9 (licensed wording)",
        "status": "active",
        "code": [{"system": "http://loinc.org", "code": "44249-1"}],
        "item": [{"linkId": "group", "type": "group", "item": items}]
    })
}

#[tokio::test]
async fn an_imported_loinc_phq9_is_scored_and_an_unrelated_form_is_not() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let (_, counselor) = app.full_token("coun", Role::Counselor).await;
    let client = app.new_client(&sup, "Ana", "Alvarez").await;

    let (s, _) = call(&app, Method::POST, "/api/v1/forms", &counselor, Some(licensed_phq9())).await;
    assert_eq!(s, 403, "only supervisors and administrators import forms");
    let (s, _) = call(&app, Method::POST, "/api/v1/forms", &counselor, Some(json!({"resourceType": "Patient"}))).await;
    assert_eq!(s, 403, "refused before the body is read");
    let (s, i) = call(&app, Method::POST, "/api/v1/forms", &sup, Some(licensed_phq9())).await;
    assert_eq!(s, 201, "{i}");
    assert_eq!(i["form"]["instrument"], "phq-9");
    assert_eq!(i["form"]["builtin"], false);
    assert_eq!(i["form"]["items"].as_array().unwrap().len(), 9);
    assert_eq!(i["form"]["items"][8]["options"][3], json!({"value": 3, "label": "Answer 3"}));
    let answers: Value =
        Value::Object((1..=9).map(|n| (format!("/44250-{n}"), json!(if n == 9 { 0 } else { 2 }))).collect());
    let (s, r) = record(&app, &sup, &client, "https://center.example/fhir/Questionnaire/phq-9-licensed", answers).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["response"]["instrument"], "phq-9");
    assert_eq!(r["response"]["total"], 16);
    assert_eq!(r["response"]["band"], "moderately_severe");
    assert_eq!(r["response"]["form_version"], "2024.1");

    let (s, i) = call(&app, Method::POST, "/api/v1/forms", &sup, Some(survey_questionnaire("1"))).await;
    assert_eq!(s, 201, "{i}");
    assert!(i["form"]["instrument"].is_null());
    assert_eq!(i["form"]["items"][0]["options"][2], json!({"value": 2, "label": "Very"}));
    let (s, r) = record(&app, &sup, &client, SURVEY_URL, json!({"q1": 2, "q2": "The groups", "q3": true})).await;
    assert_eq!(s, 201, "{r}");
    assert!(r["response"]["instrument"].is_null());
    assert!(r["response"]["total"].is_null());
    assert_eq!(r["response"]["complete"], true);
    assert_eq!(r["response"]["answers"], json!({"q1": 2, "q2": "The groups", "q3": true}));

    // Questionnaires that cannot be imported are refused with the reason.
    let mut bad = survey_questionnaire("3");
    bad["item"][0]["type"] = json!("attachment");
    let (s, p) = call(&app, Method::POST, "/api/v1/forms", &sup, Some(bad)).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("definition")), "{p}");
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("attachment"), "{p}");
    let mut wrong_scores = licensed_phq9();
    wrong_scores["version"] = json!("2024.2");
    wrong_scores["item"][0]["item"][0]["answerOption"] = json!([{"valueInteger": 0}, {"valueInteger": 5}]);
    let (s, p) = call(&app, Method::POST, "/api/v1/forms", &sup, Some(wrong_scores)).await;
    assert_eq!(s, 422, "a LOINC PHQ-9 must score like the PHQ-9: {p}");
    let (s, p) = call(&app, Method::POST, "/api/v1/forms", &sup, Some(json!({"resourceType": "Patient"}))).await;
    assert_eq!(s, 422, "{p}");
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/forms"))
        .bearer_auth(&sup)
        .header("content-type", "text/plain")
        .body(survey_questionnaire("4").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    // fhir+json is taken as well.
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/forms"))
        .bearer_auth(&sup)
        .header("content-type", "application/fhir+json")
        .body(survey_questionnaire("5").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let (_, forms) = call(&app, Method::GET, "/api/v1/forms", &sup, None).await;
    let forms = forms.as_array().unwrap();
    assert_eq!(forms.iter().filter(|f| f["builtin"] == true).count(), 11);
    assert_eq!(forms.iter().filter(|f| f["builtin"] == false).count(), 3);
    assert_eq!(events(&app, "form.imported").await.len(), 3);
}

fn review_body(ratings: [i64; 6], decision: &str) -> Value {
    json!({
        "ratings": ratings.iter().enumerate()
            .map(|(n, r)| json!({"rating": r, "rationale": format!("Dimension {} as observed this week", n + 1)}))
            .collect::<Vec<_>>(),
        "decision": decision,
    })
}

#[tokio::test]
async fn a_review_applies_its_decision_to_the_episode_in_the_same_request() {
    let c = center().await;
    let app = &c.app;
    let client = app.new_client(&c.sup, "Ana", "Alvarez").await;
    let episode = c.admit_residential(&client, 20).await;
    let review = format!("/api/v1/clients/{client}/episodes/{episode}/review");

    let (s, ctx) = call(app, Method::GET, &review, &c.sup, None).await;
    assert_eq!(s, 200, "{ctx}");
    assert_eq!(ctx["placement"]["level"], "3.5");
    assert_eq!(ctx["next_review"].as_str(), Some(day(-13).as_str()), "7 days after the start");
    assert_eq!(ctx["rule_set_version"], "asam-3/2026.1");
    let (_, w) = call(app, Method::GET, "/api/v1/worklist", &c.sup, None).await;
    let due: Vec<&Value> = w["reviews_due"].as_array().unwrap().iter().filter(|r| r["episode_id"] == episode).collect();
    assert_eq!(due.len(), 1, "{w}");
    assert_eq!(due[0]["overdue"], true);

    let (s, rec) =
        call(app, Method::POST, "/api/v1/recommendation", &c.sup, Some(json!({"ratings": [1, 1, 1, 1, 2, 1]}))).await;
    assert_eq!(s, 200);
    assert_eq!(rec["level"], "2.1");
    assert!(!rec["reasons"].as_array().unwrap().is_empty());

    // A transition the episode refuses (a "step down" to a more intensive level) saves nothing.
    let mut body = review_body([1, 3, 1, 1, 1, 1], "step_down");
    body["level"] = json!("3.7");
    body["site_id"] = json!(c.site);
    body["bed_id"] = json!(c.bed);
    body["on"] = json!(day(0));
    let (s, p) = call(app, Method::POST, &review, &c.sup, Some(body)).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("level")), "{p}");
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("less intensive"), "{p}");
    assert_eq!(c.current_level(&client).await, ("3.5".to_owned(), 1));
    assert!(events(app, "review.recorded").await.is_empty());
    assert!(events(app, "episode.decided").await.is_empty());

    // Disagreeing with the engine needs a reason.
    let (s, p) = call(app, Method::POST, &review, &c.sup, Some(review_body([1, 1, 1, 1, 2, 1], "continue"))).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("disagreement_reason")), "{p}");
    let mut body = review_body([1, 1, 1, 1, 2, 1], "continue");
    body["disagreement_reason"] = json!("Housing falls through next week; stay until it is settled");
    body["drug_screen"] = json!({"result": "negative"});
    let (s, r) = call(app, Method::POST, &review, &c.sup, Some(body)).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!((r["agrees"].as_bool(), r["recommended_level"].as_str()), (Some(false), Some("2.1")));
    assert_eq!(r["evidence"]["drug_screen"]["result"], "negative");
    assert_eq!(c.current_level(&client).await, ("3.5".to_owned(), 1));

    // Stepping down as recommended moves the client in the same request.
    let mut body = review_body([1, 1, 1, 1, 2, 1], "step_down");
    body["level"] = json!("2.1");
    body["site_id"] = json!(c.site);
    body["on"] = json!(day(0));
    body["note"] = json!("Ready for IOP");
    let (s, r) = call(app, Method::POST, &review, &c.sup, Some(body)).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["agrees"], true);
    assert_eq!(r["decision"], "step_down");
    assert_eq!(r["decision_level"], "2.1");
    assert_eq!(r["level"], "3.5", "the level reviewed");
    assert_eq!(r["ratings"][4], json!({"rating": 2, "rationale": "Dimension 5 as observed this week"}));
    assert_eq!(c.current_level(&client).await, ("2.1".to_owned(), 2));
    let (s, ctx) = call(app, Method::GET, &review, &c.sup, None).await;
    assert_eq!(s, 200);
    assert_eq!(ctx["placement"]["level"], "2.1");
    assert_eq!(ctx["reviews"].as_array().unwrap().len(), 2);
    let (_, w) = call(app, Method::GET, "/api/v1/worklist", &c.sup, None).await;
    assert!(w["reviews_due"].as_array().unwrap().iter().all(|r| r["episode_id"] != episode), "{w}");
    assert_eq!(events(app, "review.recorded").await.len(), 2);
    assert_eq!(events(app, "episode.decided").await.len(), 1);

    // The agreement report counts the disagreement.
    let report = format!("/api/v1/reports/review-agreement?from={}&to={}", day(-1), day(1));
    let (s, rep) = call(app, Method::GET, &report, &c.sup, None).await;
    assert_eq!(s, 200, "{rep}");
    assert_eq!((rep["reviews"].as_u64(), rep["disagreements"].as_u64()), (Some(2), Some(1)));
    assert_eq!(rep["by_level"], json!([{"key": "2.1", "reviews": 2, "disagreements": 1}]));
    assert_eq!(rep["by_reviewer"][0]["key"], "Test sup");
    let (s, p) = call(app, Method::GET, "/api/v1/reports/review-agreement?from=soon", &c.sup, None).await;
    assert_eq!(s, 422, "{p}");
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["from", "to"]);
    let (s, _) = call(app, Method::GET, &report, &c.admin, None).await;
    assert_eq!(s, 403, "administrators do not see clinical reports");
}

#[tokio::test]
async fn the_caseload_shows_who_improves_over_the_stay() {
    let c = center().await;
    let app = &c.app;
    let client = app.new_client(&c.sup, "Ana", "Alvarez").await;
    c.admit_residential(&client, 20).await;
    let earlier = (time::OffsetDateTime::now_utc() - time::Duration::days(10))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (s, r) = call(
        app,
        Method::POST,
        &format!("/api/v1/clients/{client}/responses"),
        &c.sup,
        Some(json!({"form": "phq-9", "answers": phq9([2, 2, 2, 2, 2, 2, 2, 2, 0]), "authored": earlier})),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let (s, _) = record(app, &c.sup, &client, "phq-9", phq9([1, 1, 1, 1, 1, 1, 1, 1, 0])).await;
    assert_eq!(s, 201);
    let (s, rows) = call(app, Method::GET, "/api/v1/caseload", &c.sup, None).await;
    assert_eq!(s, 200);
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(
        (&rows[0]["client_id"], &rows[0]["first"], &rows[0]["latest"], &rows[0]["trend"]),
        (&json!(client), &json!(16), &json!(8), &json!("improving"))
    );
}

async fn client_mode(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, String) {
    let mut req = reqwest::Client::new().request(method, app.url(path));
    if let Some(t) = token {
        req = req.header("X-Client-Mode-Token", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn client_mode_opens_one_form_once_and_shows_nothing_of_the_chart() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let client = app.new_client(&sup, "Zuzanna", "Quillfeather").await;
    let start = format!("/api/v1/clients/{client}/client-mode");

    let (s, p) = call(&app, Method::POST, &start, &sup, Some(json!({"form": "ciwa-ar"}))).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("form")), "a clinician rates the CIWA-Ar: {p}");
    let (s, h) = call(&app, Method::POST, &start, &sup, Some(json!({"form": "phq-9"}))).await;
    assert_eq!(s, 201, "{h}");
    let token = h["token"].as_str().unwrap().to_owned();
    assert!(h["expires_at"].as_str().is_some());

    let (s, text) = client_mode(&app, Method::GET, "/api/v1/client-mode", Some(&token), None).await;
    assert_eq!(s, 200, "{text}");
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(view["form"]["instrument"], "phq-9");
    assert_eq!(view["form"]["items"].as_array().unwrap().len(), 9);
    // Sorted: key order depends on whether serde_json preserves it in this build.
    let mut keys: Vec<&String> = view.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["expires_at", "form"], "the form only");
    for secret in ["Zuzanna", "Quillfeather", client.as_str()] {
        assert!(!text.contains(secret), "client mode shows no chart data");
    }
    let (s, _) = client_mode(&app, Method::GET, "/api/v1/client-mode", None, None).await;
    assert_eq!(s, 401);
    let (s, _) = client_mode(&app, Method::GET, "/api/v1/client-mode", Some("not-a-token"), None).await;
    assert_eq!(s, 401);
    let (s, _) = client_mode(&app, Method::POST, "/api/v1/client-mode/responses", None, Some(json!({"nope": 1}))).await;
    assert_eq!(s, 401, "no token: refused before the body is read");
    // The hand-off token is no staff session: it opens nothing in the API.
    let (s, _) = call(&app, Method::GET, &format!("/api/v1/clients/{client}/measures"), &token, None).await;
    assert_eq!(s, 401);

    let (s, p) = client_mode(
        &app,
        Method::POST,
        "/api/v1/client-mode/responses",
        Some(&token),
        Some(json!({"answers": {"1": 9}})),
    )
    .await;
    assert_eq!(s, 422, "bad answers leave the token open: {p}");
    let answers = json!({"answers": phq9([1, 1, 1, 1, 1, 1, 1, 1, 1])});
    let (s, text) =
        client_mode(&app, Method::POST, "/api/v1/client-mode/responses", Some(&token), Some(answers.clone())).await;
    assert_eq!(s, 201, "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), json!({"received": true}), "no score, no alert");

    let m = measures(&app, &sup, &client).await;
    let responses = m["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0]["mode"], "client");
    assert_eq!(responses[0]["total"], 9);
    assert_eq!(open_alerts(&app, &sup, &client).await.len(), 1, "item 9 still alerts the team");

    let (s, _) = client_mode(&app, Method::POST, "/api/v1/client-mode/responses", Some(&token), Some(answers)).await;
    assert_eq!(s, 401, "the token is used up");
    let (s, text) = client_mode(&app, Method::GET, "/api/v1/client-mode", Some(&token), None).await;
    assert_eq!(s, 401);
    assert!(text.contains("\"unauthenticated\""), "{text}");
    assert_eq!(response_count(&app, &sup, &client).await, 1);
    assert_eq!(events(&app, "client_mode.started").await.len(), 1);

    // An expired token opens nothing.
    let (_, h) = call(&app, Method::POST, &start, &sup, Some(json!({"form": "daily-check-in"}))).await;
    let late = h["token"].as_str().unwrap().to_owned();
    app.clock.advance(time::Duration::minutes(31));
    let (s, _) = client_mode(&app, Method::GET, "/api/v1/client-mode", Some(&late), None).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn access_follows_the_care_team_and_every_write_is_audited() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let (counselor_user, counselor) = app.full_token("coun", Role::Counselor).await;
    let (_, biller) = app.full_token("bill", Role::Biller).await;
    let (_, officer) = app.full_token("priv", Role::PrivacyOfficer).await;
    let client = app.new_client(&sup, "Ana", "Alvarez").await;

    let (s, p) = record(&app, &counselor, &client, "phq-9", phq9([0, 0, 0, 0, 0, 0, 0, 0, 1])).await;
    assert_eq!((s, p["code"].as_str()), (403, Some("forbidden")), "not on the care team");
    let (s, _) = call(&app, Method::GET, &format!("/api/v1/clients/{client}/measures"), &counselor, None).await;
    assert_eq!(s, 403);
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/clients/{client}/client-mode"),
        &counselor,
        Some(json!({"form": "phq-9"})),
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(response_count(&app, &sup, &client).await, 0);

    let (s, _) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/clients/{client}/care-team/{}", counselor_user.id),
        &sup,
        Some(json!({"team_role": "primary_counselor"})),
    )
    .await;
    assert_eq!(s, 204);
    let (s, r) = record(&app, &counselor, &client, "phq-9", phq9([0, 0, 0, 0, 0, 0, 0, 0, 1])).await;
    assert_eq!(s, 201, "on the care team now: {r}");
    let alert = r["alerts"][0]["id"].as_str().unwrap().to_owned();
    let (s, list) = call(&app, Method::GET, "/api/v1/alerts", &counselor, None).await;
    assert_eq!((s, list.as_array().unwrap().len()), (200, 1));

    let (s, p) = call(&app, Method::GET, &format!("/api/v1/clients/{client}/measures"), &biller, None).await;
    assert_eq!((s, p["code"].as_str()), (403, Some("forbidden")), "billing does not read measures");
    let (s, list) = call(&app, Method::GET, "/api/v1/alerts", &biller, None).await;
    assert_eq!((s, list), (200, json!([])));
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/alerts/{alert}/acknowledge"),
        &biller,
        Some(json!({"action": "action", "text": "x"})),
    )
    .await;
    assert_eq!(s, 403);

    let audit = |action: &str| format!("/api/v1/audit-events?client={client}&action={action}");
    let (s, page) = call(&app, Method::GET, &audit("measure.recorded"), &officer, None).await;
    assert_eq!(s, 200, "{page}");
    let recorded = page["events"].as_array().unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["actor_id"], json!(counselor_user.id.to_string()));
    assert_eq!(recorded[0]["subject"], json!(format!("response:{}", r["response"]["id"].as_str().unwrap())));
    assert_eq!(recorded[0]["detail"], "phq-9");
    let (_, page) = call(&app, Method::GET, &audit("alert.raised"), &officer, None).await;
    let raised = page["events"].as_array().unwrap();
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0]["subject"], json!(format!("alert:{alert}")));
    assert_eq!(raised[0]["detail"], "phq9_item9");
    let (_, page) = call(&app, Method::GET, &audit("access.denied"), &officer, None).await;
    assert!(page["events"].as_array().unwrap().len() >= 3, "refusals are audited: {page}");
    let (_, page) = call(&app, Method::GET, &audit("client.read"), &officer, None).await;
    assert!(
        page["events"].as_array().unwrap().iter().any(|e| e["detail"] == "measures"),
        "reading measures is audited: {page}"
    );
    chain_intact(&app).await;
}

#[tokio::test]
async fn responses_and_scores_are_valid_fhir() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let (_, biller) = app.full_token("bill", Role::Biller).await;
    let client = app.new_client(&sup, "Ana", "Alvarez").await;
    let (s, _) = call(&app, Method::POST, "/api/v1/forms", &sup, Some(survey_questionnaire("1"))).await;
    assert_eq!(s, 201);
    let (s, _) = call(&app, Method::POST, "/api/v1/forms", &sup, Some(licensed_phq9())).await;
    assert_eq!(s, 201);
    let licensed: Value = Value::Object((1..=9).map(|n| (format!("/44250-{n}"), json!(1))).collect());
    let recorded = [
        ("phq-9", phq9([3, 3, 2, 2, 1, 1, 0, 0, 0])),
        ("phq-9", json!({"1": 1, "2": 1})),
        ("daily-check-in", check_in(0)),
        ("c-ssrs-screener", cssrs(&[])),
        ("ciwa-ar", ciwa(3, 3, 3, 3)),
        (SURVEY_URL, json!({"q1": 1, "q2": "The groups", "q3": false})),
        ("https://center.example/fhir/Questionnaire/phq-9-licensed", licensed),
    ];
    for (form, answers) in recorded {
        let (s, r) = record(&app, &sup, &client, form, answers).await;
        assert_eq!(s, 201, "{form}: {r}");
    }
    let http = reqwest::Client::new();
    let get = |path: String, token: String| {
        let (http, app) = (&http, &app);
        async move {
            let res = http.get(app.url(&path)).bearer_auth(token).send().await.unwrap();
            let status = res.status().as_u16();
            assert_eq!(res.headers()["content-type"], "application/fhir+json");
            (status, res.json::<Value>().await.unwrap())
        }
    };

    let (s, bundle) = get(format!("/fhir/QuestionnaireResponse?patient=Patient/{client}"), sup.clone()).await;
    assert_eq!(s, 200, "{bundle}");
    assert_valid(&bundle);
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 7);
    for e in entries {
        assert_valid(&e["resource"]);
        assert_eq!(e["resource"]["subject"]["reference"], json!(format!("Patient/{client}")));
    }
    let statuses: Vec<&str> = entries.iter().map(|e| e["resource"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "in-progress").count(), 1);

    let (s, bundle) = get(format!("/fhir/Observation?patient={client}&category=survey"), sup.clone()).await;
    assert_eq!(s, 200, "{bundle}");
    assert_valid(&bundle);
    let entries = bundle["entry"].as_array().unwrap();
    // Complete and scored: PHQ-9, check-in, CIWA-Ar, licensed PHQ-9 (not the partial PHQ-9,
    // the C-SSRS screener or the unscored survey).
    assert_eq!(entries.len(), 4, "{bundle}");
    for e in entries {
        assert_valid(&e["resource"]);
        assert_eq!(e["resource"]["category"][0]["coding"][0]["code"], "survey");
    }
    let phq: Vec<i64> = entries
        .iter()
        .filter(|e| e["resource"]["code"]["coding"][0]["code"] == "44261-6")
        .map(|e| e["resource"]["valueInteger"].as_i64().unwrap())
        .collect();
    assert_eq!(phq, [12, 9]);
    let (s, other) = get(format!("/fhir/Observation?patient={client}&category=laboratory"), sup.clone()).await;
    assert_eq!((s, other["total"].as_u64()), (200, Some(0)));

    let (s, bundle) = get("/fhir/Questionnaire".into(), sup.clone()).await;
    assert_eq!(s, 200);
    assert_valid(&bundle);
    assert_eq!(bundle["entry"].as_array().unwrap().len(), 13);
    for e in bundle["entry"].as_array().unwrap() {
        assert_valid(&e["resource"]);
    }
    let (_, one) = get(format!("/fhir/Questionnaire?url={SURVEY_URL}"), sup.clone()).await;
    assert_eq!(one["entry"][0]["resource"]["title"], "Satisfaction with care");

    let (s, oo) = get(format!("/fhir/QuestionnaireResponse?patient={client}"), biller.clone()).await;
    assert_eq!((s, oo["issue"][0]["code"].as_str()), (403, Some("forbidden")));
    assert_valid(&oo);
    let (s, oo) = get("/fhir/QuestionnaireResponse".into(), sup.clone()).await;
    assert_eq!(s, 400);
    assert_valid(&oo);
    let (s, _) = get(format!("/fhir/Observation?patient={client}&name=x"), sup.clone()).await;
    assert_eq!(s, 400);
}
