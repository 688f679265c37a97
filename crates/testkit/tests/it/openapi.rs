//! The OpenAPI document describes the server: every error an operation can meet is documented
//! as the problem+json it is, and what the server really answers conforms to the document
//! (the status, the content type and the body's schema). `.ci/schemathesis.sh` checks the
//! same over every operation with generated input; these tests pin the cases found wrong.

use domain::role::Role;
use serde_json::{Value, json};
use testkit::{TestApp, spawn_app};

fn document() -> Value {
    serde_json::from_str(&web::openapi_json()).unwrap()
}

/// Follows a `$ref` inside the document.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling {r}")),
        None => value,
    }
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.to_uppercase(), path.clone(), op));
        }
    }
    ops
}

#[test]
fn every_error_is_documented_as_problem_json_where_the_server_can_answer_it() {
    let doc = document();
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        for (status, response) in responses {
            let response = resolve(&doc, response);
            assert!(response["description"].as_str().is_some_and(|d| !d.is_empty()), "{method} {path} {status}");
            if status.starts_with('4') || status.starts_with('5') {
                let content = response["content"].as_object().unwrap();
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    ["application/problem+json"],
                    "{method} {path} {status}"
                );
                assert_eq!(content["application/problem+json"]["schema"]["$ref"], "#/components/schemas/Problem");
            }
        }
        let documents = |status: &str| responses.contains_key(status);
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let has = |place: &str| params.iter().any(|p| p["in"] == place);
        if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
            assert!(documents("401") && documents("403"), "{method} {path}: the bearer extractor's refusals");
        }
        if method != "GET" {
            assert!(documents("403"), "{method} {path}: the cross-site guard");
        }
        if op["requestBody"].is_object() {
            for status in ["400", "413", "415", "422"] {
                assert!(documents(status), "{method} {path}: a body can be refused with {status}");
            }
        }
        if has("path") {
            assert!(documents("400") && documents("404"), "{method} {path}: a path id");
        }
        if has("query") {
            assert!(documents("400"), "{method} {path}: a query string");
        }
    }
    // Each schema is its type's own: the sign-in sessions are not the program's sessions.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas["SignInSessionDto"]["properties"]["current"].is_object());
    assert!(schemas["IopSessionDto"]["properties"]["track_id"].is_object());
    assert!(!schemas.contains_key("SessionDto"));
}

/// Asserts that the answer to `method path` (`template` in the document) is documented: its
/// status, its content type and, for JSON, its body against the schema.
async fn assert_documented(doc: &Value, method: &str, template: &str, res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let content_type = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let op = &doc["paths"][template][method.to_lowercase()];
    assert!(op.is_object(), "{method} {template} is not documented");
    let response = op["responses"]
        .get(status.to_string())
        .unwrap_or_else(|| panic!("{method} {template} answered an undocumented {status}: {body}"));
    let response = resolve(doc, response);
    let Some(content_type) = content_type else {
        assert!(response["content"].is_null(), "{method} {template} {status} sent no body");
        return (status, body);
    };
    let media = &response["content"][content_type.as_str()];
    assert!(media.is_object(), "{method} {template} {status} sent {content_type}, documented: {}", response["content"]);
    let mut schema = media["schema"].clone();
    schema["components"] = doc["components"].clone();
    if let Err(e) = jsonschema::validate(&schema, &body) {
        panic!("{method} {template} {status}: the body does not match its schema: {e}\n{body}");
    }
    (status, body)
}

async fn bearer(app: &TestApp) -> String {
    app.full_token("sup", Role::Supervisor).await.1
}

#[tokio::test]
async fn the_session_list_is_described_by_its_own_schema() {
    let (app, doc) = (spawn_app().await, document());
    let token = bearer(&app).await;
    let res = reqwest::Client::new().get(app.url("/api/v1/me/sessions")).bearer_auth(&token).send().await.unwrap();
    let (status, body) = assert_documented(&doc, "GET", "/api/v1/me/sessions", res).await;
    assert_eq!(status, 200);
    assert_eq!(body[0]["current"], true);
}

#[tokio::test]
async fn refusals_are_problem_json_as_documented() {
    let (app, doc) = (spawn_app().await, document());
    let token = bearer(&app).await;
    let http = reqwest::Client::new();

    // No token, and a token that is not one.
    let res = http.get(app.url("/api/v1/clients")).send().await.unwrap();
    assert_eq!(assert_documented(&doc, "GET", "/api/v1/clients", res).await.0, 401);
    let res = http.get(app.url("/api/v1/census")).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(assert_documented(&doc, "GET", "/api/v1/census", res).await.0, 401);

    // A body in a content type the operation does not read.
    let res = http.post(app.url("/api/v1/clients")).bearer_auth(&token).body("given_name=Ana").send().await.unwrap();
    assert_eq!(assert_documented(&doc, "POST", "/api/v1/clients", res).await.0, 415);

    // A query string that does not parse: axum refused it in text/plain before.
    let res = http
        .get(app.url("/api/v1/program/calendar?view=track&id=x&days=300"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, body) = assert_documented(&doc, "GET", "/api/v1/program/calendar", res).await;
    assert_eq!((status, &body["code"]), (400, &json!("bad_request")));

    // A path segment that is not UTF-8: likewise.
    let res = http.get(app.url("/api/v1/clients/%FF%FE")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(assert_documented(&doc, "GET", "/api/v1/clients/{id}", res).await.0, 400);

    // A raw body over the limit (the questionnaire import reads bytes): likewise.
    let big = vec![b' '; 300 * 1024];
    let res = http
        .post(app.url("/api/v1/forms"))
        .bearer_auth(&token)
        .header("content-type", "application/fhir+json")
        .body(big)
        .send()
        .await
        .unwrap();
    let (status, body) = assert_documented(&doc, "POST", "/api/v1/forms", res).await;
    assert_eq!((status, &body["code"]), (413, &json!("payload_too_large")));

    // A method the route does not have is problem+json too, and says which it has.
    let res = http.delete(app.url("/api/v1/census")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(res.headers()["allow"], "GET,HEAD");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "method_not_allowed");
}

/// Refusals of the use cases that Schemathesis found undocumented: a calendar or an
/// appointment naming a record that does not exist (404), and finishing a sign-in step that
/// is not pending (409).
#[tokio::test]
async fn use_case_refusals_found_by_fuzzing_are_documented() {
    let (app, doc) = (spawn_app().await, document());
    let token = bearer(&app).await;
    let http = reqwest::Client::new();
    let nobody = uuid::Uuid::now_v7();

    let res = http
        .get(app.url(&format!("/api/v1/program/calendar?view=track&id={nobody}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(assert_documented(&doc, "GET", "/api/v1/program/calendar", res).await.0, 404);

    let appointment = json!({
        "client_id": nobody.to_string(), "modality": "individual", "facilitator_id": nobody.to_string(),
        "date": "2026-12-04", "start": "10:00", "end": "11:00",
    });
    let res =
        http.post(app.url("/api/v1/program/appointments")).bearer_auth(&token).json(&appointment).send().await.unwrap();
    assert_eq!(assert_documented(&doc, "POST", "/api/v1/program/appointments", res).await.0, 404);

    // A fully signed-in session is not waiting for a code, nor enrolling an authenticator.
    for path in ["/api/v1/session/mfa", "/api/v1/me/mfa/confirm"] {
        let res = http.post(app.url(path)).bearer_auth(&token).json(&json!({"code": "123456"})).send().await.unwrap();
        assert_eq!(assert_documented(&doc, "POST", path, res).await.0, 409, "{path}");
    }
}
