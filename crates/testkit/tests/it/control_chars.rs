//! Control characters in submitted text (a NUL, an escape sequence) are refused in one place,
//! before any handler: a 422 naming the field, and nothing saved. Tab and line breaks pass.

use domain::role::Role;
use reqwest::Method;
use serde_json::json;
use testkit::spawn_app;

use crate::call;

const URL: &str = "https://center.example/fhir/Questionnaire/feedback";

fn questionnaire(title: &str, text: &str) -> serde_json::Value {
    json!({"resourceType": "Questionnaire", "url": URL, "version": "1", "title": title, "status": "active",
           "item": [{"linkId": "q1", "text": text, "type": "string"}]})
}

#[tokio::test]
async fn control_characters_are_refused_with_the_field_named_and_nothing_saved() {
    let app = spawn_app().await;
    let (_, sup) = app.full_token("sup", Role::Supervisor).await;
    let (_, intake) = app.full_token("intake", Role::Admissions).await;
    let client = app.new_client(&sup, "Ana", "Alvarez").await;

    for (body, field) in [
        (questionnaire("Feedback\u{0}", "What helped?"), "title"),
        (questionnaire("Feedback", "What\u{1b}[2J helped?"), "item[0].text"),
    ] {
        let (s, p) = call(&app, Method::POST, "/api/v1/forms", &sup, Some(body)).await;
        assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some(field)), "{p}");
    }
    let (_, forms) = call(&app, Method::GET, "/api/v1/forms", &sup, None).await;
    assert!(!forms.to_string().contains(URL), "no form was imported");

    let (s, i) = call(&app, Method::POST, "/api/v1/forms", &sup, Some(questionnaire("Feedback", "What helped?"))).await;
    assert_eq!(s, 201, "{i}");
    let path = format!("/api/v1/clients/{client}/responses");
    let (s, p) =
        call(&app, Method::POST, &path, &sup, Some(json!({"form": URL, "answers": {"q1": "kind\u{0}staff"}}))).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("answers.q1")), "{p}");
    let (s, r) = call(
        &app,
        Method::POST,
        &path,
        &sup,
        Some(json!({"form": URL, "answers": {"q1": "kind staff,\r\n\tgood groups"}})),
    )
    .await;
    assert_eq!(s, 201, "tab and line breaks are text: {r}");

    let body = json!({"caller_name": "Self", "caller_relationship": "self", "given_name": "Eli", "family_name": "Ward",
                      "urgency": "routine", "substances": "alcohol\u{7f}"});
    let (s, p) = call(&app, Method::POST, "/api/v1/inquiries", &intake, Some(body)).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("substances")), "{p}");

    // The web forms: the same check, the field named on the page.
    let (_, browser) = app.signed_in("intake2", Role::Admissions).await;
    let res = browser
        .submit(
            "/inquiries/new",
            "/inquiries/new",
            &[
                ("caller_name", "Self"),
                ("caller_relationship", "self"),
                ("given_name", "Eli\u{0}"),
                ("family_name", "Ward"),
                ("urgency", "routine"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("given_name: must not contain control characters"));
    let (_, list) = call(&app, Method::GET, "/api/v1/inquiries", &intake, None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(0), "no inquiry was saved");
}
