//! Who sees which clients: the exact sets, on the UI and the API, with refusals audited.

use domain::role::Role;
use serde_json::{Value, json};
use testkit::{PASSWORD, TestApp, spawn_app};

use crate::events;

async fn api(app: &TestApp, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

struct World {
    app: TestApp,
    supervisor: String,
    counselor: String,
    counselor_id: String,
    mine: String,
    theirs: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    app.user("sup", Role::Supervisor).await;
    let counselor = app.user("coun", Role::Counselor).await;
    let supervisor = app.api_token("sup", PASSWORD).await;
    let mut ids = Vec::new();
    for (given, family) in [("Ana", "Alvarez"), ("Ben", "Brooks")] {
        let (status, c) = api(
            &app,
            reqwest::Method::POST,
            "/api/v1/clients",
            &supervisor,
            Some(json!({"given_name": given, "family_name": family, "date_of_birth": "1990-02-27"})),
        )
        .await;
        assert_eq!(status, 201, "{c}");
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    let (status, _) = api(
        &app,
        reqwest::Method::PUT,
        &format!("/api/v1/clients/{}/care-team/{}", ids[0], counselor.id),
        &supervisor,
        Some(json!({"team_role": "primary_counselor"})),
    )
    .await;
    assert_eq!(status, 204);
    let counselor_token = app.api_token("coun", PASSWORD).await;
    World {
        supervisor,
        counselor: counselor_token,
        counselor_id: counselor.id.to_string(),
        mine: ids[0].clone(),
        theirs: ids[1].clone(),
        app,
    }
}

fn ids(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_counselor_sees_exactly_their_care_team_clients() {
    let w = world().await;
    let (status, list) = api(&w.app, reqwest::Method::GET, "/api/v1/clients", &w.counselor, None).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&list), vec![w.mine.clone()], "exactly the care-team client, nothing more");
    let (status, list) = api(&w.app, reqwest::Method::GET, "/api/v1/clients", &w.supervisor, None).await;
    assert_eq!(status, 200);
    let mut all = vec![w.mine.clone(), w.theirs.clone()];
    all.sort();
    assert_eq!(ids(&list), all);

    let (status, detail) =
        api(&w.app, reqwest::Method::GET, &format!("/api/v1/clients/{}", w.mine), &w.counselor, None).await;
    assert_eq!(status, 200);
    assert_eq!(detail["care_team"][0]["user_id"], w.counselor_id.as_str());
    assert_eq!(detail["care_team"][0]["team_role"], "primary_counselor");

    // Another client's id, guessed or copied, is refused and the refusal is recorded.
    let (status, problem) =
        api(&w.app, reqwest::Method::GET, &format!("/api/v1/clients/{}", w.theirs), &w.counselor, None).await;
    assert_eq!(status, 403);
    assert_eq!(problem["code"], "forbidden");
    assert!(problem.to_string().find("Brooks").is_none(), "no data in the refusal");
    let denied = events(&w.app, "access.denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].event.client.map(|c| c.to_string()), Some(w.theirs.clone()));
    assert_eq!(denied[0].event.outcome, domain::audit::Outcome::Denied);

    // The web UI applies the same rule.
    let client = w.app.client();
    client.login("coun", PASSWORD).await;
    let (status, html) = client.get_text("/clients").await;
    assert_eq!(status, 200);
    assert!(html.contains("Alvarez") && !html.contains("Brooks"));
    let (status, html) = client.get_text(&format!("/clients/{}", w.theirs)).await;
    assert_eq!(status, 403);
    assert!(!html.contains("Brooks"));
}

#[tokio::test]
async fn roles_without_clinical_access_cannot_read_clients() {
    let w = world().await;
    for (name, role) in [("bill", Role::Biller), ("coord", Role::ProgramCoordinator), ("intake", Role::Admissions)] {
        w.app.user(name, role).await;
        let token = w.app.api_token(name, PASSWORD).await;
        let (status, _) = api(&w.app, reqwest::Method::GET, &format!("/api/v1/clients/{}", w.mine), &token, None).await;
        assert_eq!(status, 403, "{name}");
    }
    // A biller's list is refused outright; a coordinator's is empty (no care teams yet).
    let bill = w.app.api_token("bill", PASSWORD).await;
    assert_eq!(api(&w.app, reqwest::Method::GET, "/api/v1/clients", &bill, None).await.0, 403);
    let coord = w.app.api_token("coord", PASSWORD).await;
    let (status, list) = api(&w.app, reqwest::Method::GET, "/api/v1/clients", &coord, None).await;
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(0)));
}

#[tokio::test]
async fn only_supervisors_manage_care_teams() {
    let w = world().await;
    let (status, _) = api(
        &w.app,
        reqwest::Method::PUT,
        &format!("/api/v1/clients/{}/care-team/{}", w.theirs, w.counselor_id),
        &w.counselor,
        Some(json!({"team_role": "counselor"})),
    )
    .await;
    assert_eq!(status, 403, "a counselor cannot add themselves to another client's team");
    let (status, list) = api(&w.app, reqwest::Method::GET, "/api/v1/clients", &w.counselor, None).await;
    assert_eq!((status, ids(&list)), (200, vec![w.mine.clone()]));

    let (status, problem) = api(
        &w.app,
        reqwest::Method::PUT,
        &format!("/api/v1/clients/{}/care-team/{}", w.theirs, w.counselor_id),
        &w.supervisor,
        Some(json!({"team_role": "chief"})),
    )
    .await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("team_role")));

    let (status, _) = api(
        &w.app,
        reqwest::Method::DELETE,
        &format!("/api/v1/clients/{}/care-team/{}", w.mine, w.counselor_id),
        &w.supervisor,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) =
        api(&w.app, reqwest::Method::GET, &format!("/api/v1/clients/{}", w.mine), &w.counselor, None).await;
    assert_eq!(status, 403, "removal takes effect at once");
}

#[tokio::test]
async fn an_admissions_coordinator_joins_the_team_of_the_client_they_add() {
    let app = spawn_app().await;
    app.user("intake", Role::Admissions).await;
    let token = app.api_token("intake", PASSWORD).await;
    let (status, c) = api(
        &app,
        reqwest::Method::POST,
        "/api/v1/clients",
        &token,
        Some(json!({"given_name": "Cal", "family_name": "Cruz", "date_of_birth": "2001-07-04"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, detail) =
        api(&app, reqwest::Method::GET, &format!("/api/v1/clients/{}", c["id"].as_str().unwrap()), &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(detail["care_team"][0]["team_role"], "intake");
}

#[tokio::test]
async fn unknown_and_malformed_client_ids_are_not_found() {
    let w = world().await;
    let missing = uuid::Uuid::now_v7();
    let (status, _) =
        api(&w.app, reqwest::Method::GET, &format!("/api/v1/clients/{missing}"), &w.supervisor, None).await;
    assert_eq!(status, 404);
    let (status, p) = api(&w.app, reqwest::Method::GET, "/api/v1/clients/1%20OR%201=1", &w.supervisor, None).await;
    assert_eq!((status, p["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn bad_client_input_is_refused_with_field_errors_and_nothing_is_saved() {
    let w = world().await;
    let future = (time::OffsetDateTime::now_utc().date() + time::Duration::days(2)).to_string();
    let huge = "x".repeat(10_000);
    for (body, field) in [
        (json!({"given_name": "", "family_name": "Doe", "date_of_birth": "1990-01-01"}), "given_name"),
        (json!({"given_name": "Jo", "family_name": huge, "date_of_birth": "1990-01-01"}), "family_name"),
        (json!({"given_name": "Jo", "family_name": "Doe", "date_of_birth": future}), "date_of_birth"),
        (json!({"given_name": "Jo", "family_name": "Doe", "date_of_birth": "1990-02-30"}), "date_of_birth"),
        (json!({"given_name": "Jo\u{0}", "family_name": "Doe", "date_of_birth": "1990-01-01"}), "given_name"),
    ] {
        let (status, problem) = api(&w.app, reqwest::Method::POST, "/api/v1/clients", &w.supervisor, Some(body)).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["errors"][0]["field"], field);
    }
    let (_, list) = api(&w.app, reqwest::Method::GET, "/api/v1/clients", &w.supervisor, None).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "nothing half-written");
}

#[tokio::test]
async fn names_with_markup_are_shown_escaped() {
    let w = world().await;
    let (status, c) = api(
        &w.app,
        reqwest::Method::POST,
        "/api/v1/clients",
        &w.supervisor,
        Some(json!({"given_name": "<script>alert(1)</script>", "family_name": "\"><img src=x onerror=alert(2)>", "date_of_birth": "1990-01-01"})),
    )
    .await;
    assert_eq!(status, 201);
    let client = w.app.client();
    client.login("sup", PASSWORD).await;
    for path in ["/clients".to_owned(), format!("/clients/{}", c["id"].as_str().unwrap())] {
        let (status, html) = client.get_text(&path).await;
        assert_eq!(status, 200);
        assert!(!html.contains("<script>alert(1)</script>"), "{path}");
        assert!(!html.contains("<img src=x"), "{path}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || html.contains("&#60;script&#62;"), "{path}");
    }
}
