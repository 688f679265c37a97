//! Client records: MRNs, demographics, contacts, coverage and typo-tolerant search.

use domain::role::Role;
use serde_json::{Value, json};
use testkit::{TestApp, spawn_app};

use crate::{call, events};

async fn create(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    call(app, reqwest::Method::POST, "/api/v1/clients", token, Some(body)).await
}

#[tokio::test]
async fn records_get_sequential_mrns_and_hand_entered_ones_must_be_unique() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let (s, a) =
        create(&app, &sup, json!({"given_name": "Ana", "family_name": "Alvarez", "date_of_birth": "1990-02-27"})).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["mrn"], "SD-000001");
    let (_, b) = create(
        &app,
        &sup,
        json!({"given_name": "Ben", "family_name": "Brooks", "date_of_birth": "1985-05-05", "mrn": "sd-000002"}),
    )
    .await;
    assert_eq!(b["mrn"], "SD-000002");
    let (_, c) =
        create(&app, &sup, json!({"given_name": "Cal", "family_name": "Cruz", "date_of_birth": "1970-01-01"})).await;
    assert_eq!(c["mrn"], "SD-000003", "the sequence skips numbers taken by hand");
    let (s, p) = create(
        &app,
        &sup,
        json!({"given_name": "Dup", "family_name": "Licate", "date_of_birth": "1970-01-01", "mrn": "SD-000001"}),
    )
    .await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("mrn")));
    let (s, p) = create(
        &app,
        &sup,
        json!({"given_name": "Bad", "family_name": "Mrn", "date_of_birth": "1970-01-01", "mrn": "<b>1</b>"}),
    )
    .await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("mrn")));
}

#[tokio::test]
async fn demographics_are_validated_and_can_be_corrected() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let bad = [
        (json!({"phone": "12"}), "phone"),
        (json!({"email": "not-an-email"}), "email"),
        (json!({"sex": "dragon"}), "sex"),
        (json!({"pronouns": "x".repeat(41)}), "pronouns"),
    ];
    for (extra, field) in bad {
        let mut body = json!({"given_name": "Ana", "family_name": "Alvarez", "date_of_birth": "1990-02-27"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (s, p) = create(&app, &sup, body).await;
        assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some(field)), "{p}");
    }
    let (_, a) = create(
        &app,
        &sup,
        json!({"given_name": "Ana", "family_name": "Alvarez", "date_of_birth": "1990-02-27", "preferred_name": "Annie",
               "pronouns": "she/her", "sex": "female", "phone": "(555) 010-2233", "email": "ana@example.org"}),
    )
    .await;
    let id = a["id"].as_str().unwrap();
    let (s, r) = call(
        &app,
        reqwest::Method::PUT,
        &format!("/api/v1/clients/{id}"),
        &sup,
        Some(json!({"given_name": "Ana", "family_name": "Alvarez-Ruiz", "date_of_birth": "1990-02-27", "phone": "555 010 9999"})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["family_name"].as_str(), r["mrn"].as_str(), r["pronouns"].as_str()),
        (Some("Alvarez-Ruiz"), Some("SD-000001"), None)
    );
    let (_, d) = call(&app, reqwest::Method::GET, &format!("/api/v1/clients/{id}"), &sup, None).await;
    assert_eq!(d["record"]["phone"], "555 010 9999");
    assert_eq!(events(&app, "client.updated").await.len(), 1);
}

#[tokio::test]
async fn search_forgives_typos_and_finds_identifiers_within_reach() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let mut ids = Vec::new();
    for (g, f, dob, phone) in [
        ("Catherine", "Johnson", "1988-03-14", "555-010-2233"),
        ("Robert", "Smith", "1975-11-02", "555-010-4455"),
        ("José", "Núñez", "1999-07-21", "555-010-6677"),
    ] {
        let (_, c) =
            create(&app, &sup, json!({"given_name": g, "family_name": f, "date_of_birth": dob, "phone": phone})).await;
        ids.push((c["id"].as_str().unwrap().to_owned(), c["mrn"].as_str().unwrap().to_owned()));
    }
    let search = |q: &str, token: &str| {
        let (app, q, token) = (&app, q.to_owned(), token.to_owned());
        async move {
            let (s, v) =
                call(app, reqwest::Method::POST, "/api/v1/clients/search", &token, Some(json!({"q": q}))).await;
            assert_eq!(s, 200, "{v}");
            v.as_array()
                .unwrap()
                .iter()
                .map(|h| h["client"]["family_name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("Katherine Jonson", &sup).await, ["Johnson"]);
    assert_eq!(search("jose nunez", &sup).await, ["Núñez"]);
    assert_eq!(search("smth", &sup).await, ["Smith"], "a dropped letter still matches");
    assert_eq!(search("Zyx Qwerty", &sup).await.len(), 0, "too far off is no match");
    assert_eq!(search("Robrt Smith", &sup).await, ["Smith"]);
    assert_eq!(search(&ids[1].1, &sup).await, ["Smith"], "by MRN");
    assert_eq!(search("1999-07-21", &sup).await, ["Núñez"], "by date of birth");
    assert_eq!(search("07/21/1999", &sup).await, ["Núñez"]);
    assert_eq!(search("(555) 010-2233", &sup).await, ["Johnson"], "by phone");
    let (s, p) =
        call(&app, reqwest::Method::POST, "/api/v1/clients/search", &sup, Some(json!({"q": "x".repeat(101)}))).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("q")));

    // A counselor finds only their own clients, however exact the query.
    let (counselor, coun) = app.full_token("coun", Role::Counselor).await;
    call(
        &app,
        reqwest::Method::PUT,
        &format!("/api/v1/clients/{}/care-team/{}", ids[0].0, counselor.id),
        &sup,
        Some(json!({"team_role": "counselor"})),
    )
    .await;
    assert_eq!(search("Catherine Johnson", &coun).await, ["Johnson"]);
    assert!(search("Robert Smith", &coun).await.is_empty());
    assert!(search(&ids[1].1, &coun).await.is_empty());

    // The web search posts the query: it never appears in a URL.
    let browser = app.client();
    browser.set_cookie("__Host-stepdown_session", &sup);
    let res = browser.submit("/clients", "/clients/search", &[("q", "Katherin Johnsen")]).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Johnson, Catherine") && html.contains("name match"));
    assert!(!html.contains("Smith"));
}

#[tokio::test]
async fn contacts_and_coverage() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let id = app.new_client(&sup, "Ana", "Alvarez").await;
    let base = format!("/api/v1/clients/{id}");
    let (s, p) = call(
        &app,
        reqwest::Method::POST,
        &format!("{base}/contacts"),
        &sup,
        Some(json!({"name": "Luis", "relationship": "Brother"})),
    )
    .await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("phone")), "a contact needs a way to reach them");
    let (s, _) = call(
        &app,
        reqwest::Method::POST,
        &format!("{base}/contacts"),
        &sup,
        Some(json!({"name": "Luis", "relationship": "Brother", "phone": "555-010-1111", "emergency": true})),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = call(
        &app,
        reqwest::Method::POST,
        &format!("{base}/contacts"),
        &sup,
        Some(json!({"name": "Marta", "relationship": "Mother", "phone": "555-010-2222", "emergency": true})),
    )
    .await;
    assert_eq!(s, 201);
    let (s, p) = call(
        &app,
        reqwest::Method::POST,
        &format!("{base}/coverages"),
        &sup,
        Some(json!({"payer": "Blue Plains Health", "member_id": "BPH123", "priority": "first"})),
    )
    .await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("priority")));
    let (s, cov) = call(
        &app,
        reqwest::Method::POST,
        &format!("{base}/coverages"),
        &sup,
        Some(json!({"payer": "Blue Plains Health", "member_id": "BPH123", "priority": "primary"})),
    )
    .await;
    assert_eq!(s, 201);
    let (_, d) = call(&app, reqwest::Method::GET, &base, &sup, None).await;
    let emergency: Vec<&str> = d["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["emergency"] == true)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(emergency, ["Marta"], "one emergency contact at a time");
    assert_eq!(d["coverages"][0]["payer"], "Blue Plains Health");
    let (s, _) =
        call(&app, reqwest::Method::DELETE, &format!("{base}/coverages/{}", cov["id"].as_str().unwrap()), &sup, None)
            .await;
    assert_eq!(s, 204);
    let (_, coun) = app.full_token("coun", Role::Counselor).await;
    let (s, _) = call(
        &app,
        reqwest::Method::POST,
        &format!("{base}/contacts"),
        &coun,
        Some(json!({"name": "X", "relationship": "Y", "phone": "555-010-3333"})),
    )
    .await;
    assert_eq!(s, 403);

    let browser = app.client();
    browser.set_cookie("__Host-stepdown_session", &sup);
    let (_, html) = browser.get_text(&format!("/clients/{id}")).await;
    assert!(html.contains("SD-000001") && html.contains("Emergency contact") && html.contains("Marta"));
}
