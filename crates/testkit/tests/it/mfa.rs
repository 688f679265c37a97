//! Two-step verification: enrolment required by policy, sign-in with a code, replay refusal.

use app::Clock;
use domain::role::Role;
use serde_json::{Value, json};
use testkit::{PASSWORD, TestApp, spawn_app, totp_code};

use crate::events;

async fn api(app: &TestApp, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

/// The code for the step after the one `step_of(now)` is in, and the moment it becomes valid.
fn next_step_code(secret: &str, now: time::OffsetDateTime) -> (String, time::OffsetDateTime) {
    let next = now + time::Duration::seconds(30);
    (totp_code(secret, next), next)
}

#[tokio::test]
async fn an_admin_must_enrol_then_signs_in_with_a_code_that_cannot_be_replayed() {
    let app = spawn_app().await;
    app.user("root.admin", Role::Admin).await;

    // Password accepted, but policy requires MFA: the session may only enrol.
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "root.admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["stage"], "mfa_enrol");
    let enrol_token = body["token"].as_str().unwrap().to_owned();
    let (status, problem) = api(&app, reqwest::Method::GET, "/api/v1/users", &enrol_token, None).await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("mfa_enrolment_required")));

    let (status, enrolment) = api(&app, reqwest::Method::POST, "/api/v1/me/mfa", &enrol_token, None).await;
    assert_eq!(status, 200);
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    assert!(enrolment["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/Stepdown:root.admin?"));

    let (status, problem) =
        api(&app, reqwest::Method::POST, "/api/v1/me/mfa/confirm", &enrol_token, Some(json!({"code": "000000"}))).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "code");

    let code = totp_code(&secret, app.clock.now());
    let (status, confirmed) =
        api(&app, reqwest::Method::POST, "/api/v1/me/mfa/confirm", &enrol_token, Some(json!({"code": code}))).await;
    assert_eq!(status, 200, "{confirmed}");
    let full_token = confirmed["session"]["token"].as_str().unwrap().to_owned();
    assert_eq!(confirmed["session"]["stage"], "full");
    // The enrol-only session was replaced, not upgraded in place.
    let (status, _) = api(&app, reqwest::Method::GET, "/api/v1/session", &enrol_token, None).await;
    assert_eq!(status, 401);
    let (status, _) = api(&app, reqwest::Method::GET, "/api/v1/users", &full_token, None).await;
    assert_eq!(status, 200);
    assert_eq!(events(&app, "auth.mfa.enrolled").await.len(), 1);

    // Next sign-in needs a code. The enrolment's code (same time step) is refused as a replay.
    let second = app.api_token("root.admin", PASSWORD).await;
    let (_, s) = api(&app, reqwest::Method::GET, "/api/v1/session", &second, None).await;
    assert_eq!(s["stage"], "mfa_pending");
    let (status, _) = api(&app, reqwest::Method::GET, "/api/v1/users", &second, None).await;
    assert_eq!(status, 403);
    let (status, problem) =
        api(&app, reqwest::Method::POST, "/api/v1/session/mfa", &second, Some(json!({"code": code}))).await;
    assert_eq!(status, 422);
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("already been used"), "{problem}");

    // The next step's code works once, and only once.
    let (fresh, at) = next_step_code(&secret, app.clock.now());
    app.clock.advance(at - app.clock.now());
    let (status, signed) =
        api(&app, reqwest::Method::POST, "/api/v1/session/mfa", &second, Some(json!({"code": fresh}))).await;
    assert_eq!(status, 200, "{signed}");
    let token = signed["token"].as_str().unwrap();
    let (status, _) = api(&app, reqwest::Method::GET, "/api/v1/users", token, None).await;
    assert_eq!(status, 200);
    let third = app.api_token("root.admin", PASSWORD).await;
    let (status, _) =
        api(&app, reqwest::Method::POST, "/api/v1/session/mfa", &third, Some(json!({"code": fresh}))).await;
    assert_eq!(status, 422, "a code is good for one sign-in");
    let failures = events(&app, "auth.mfa.failure").await;
    assert!(failures.iter().any(|e| e.event.detail.as_deref() == Some("replayed_code")));
}

#[tokio::test]
async fn wrong_codes_are_throttled() {
    let app = spawn_app().await;
    let user = app.user("counsel", Role::Counselor).await;
    // Enrol through the use case directly, then sign in again.
    let token = app.api_token("counsel", PASSWORD).await;
    let (_, e) = api(&app, reqwest::Method::POST, "/api/v1/me/mfa", &token, None).await;
    let secret = e["secret"].as_str().unwrap().to_owned();
    let code = totp_code(&secret, app.clock.now());
    let (status, _) =
        api(&app, reqwest::Method::POST, "/api/v1/me/mfa/confirm", &token, Some(json!({"code": code}))).await;
    assert_eq!(status, 200);
    let pending = app.api_token(user.username.as_str(), PASSWORD).await;
    for _ in 0..5 {
        let (status, _) =
            api(&app, reqwest::Method::POST, "/api/v1/session/mfa", &pending, Some(json!({"code": "123456"}))).await;
        assert_eq!(status, 422);
    }
    let (next, at) = next_step_code(&secret, app.clock.now());
    app.clock.advance(at - app.clock.now());
    let (status, problem) =
        api(&app, reqwest::Method::POST, "/api/v1/session/mfa", &pending, Some(json!({"code": next}))).await;
    assert_eq!(status, 429, "{problem}");
    assert_eq!(problem["code"], "throttled");
}

#[tokio::test]
async fn the_web_enrolment_page_shows_a_qr_code_and_the_key() {
    let app = spawn_app().await;
    app.user("privacy", Role::PrivacyOfficer).await;
    let client = app.client();
    let res = client.login("privacy", PASSWORD).await;
    assert_eq!(res.headers()["location"], "/account/mfa");
    // Everything else waits until enrolment is done.
    assert_eq!(client.get("/audit").await.headers()["location"], "/account/mfa");
    let (status, html) = client.get_text("/account/mfa").await;
    assert_eq!(status, 200);
    assert!(html.contains("data:image/svg+xml;base64,"), "QR code image");
    let start = html.find("id=\"secret\">").unwrap() + "id=\"secret\">".len();
    let secret = &html[start..start + html[start..].find('<').unwrap()];
    let code = totp_code(secret, app.clock.now());
    let res = client.submit("/account/mfa", "/account/mfa", &[("code", &code)]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account/sessions?done=mfa-enrolled");
    let (status, html) = client.get_text("/audit").await;
    assert_eq!(status, 200, "{html}");
}
