//! Listing and ending one's own sessions; password changes end the others.

use domain::role::Role;
use serde_json::{Value, json};
use testkit::{PASSWORD, spawn_app};

async fn get(app: &testkit::TestApp, path: &str, token: &str) -> (u16, Value) {
    let res = reqwest::Client::new().get(app.url(path)).bearer_auth(token).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn people_list_and_revoke_their_own_sessions_only() {
    let app = spawn_app().await;
    app.user("maria", Role::Counselor).await;
    app.user("sam", Role::Counselor).await;
    let a = app.api_token("maria", PASSWORD).await;
    let b = app.api_token("maria", PASSWORD).await;
    let other = app.api_token("sam", PASSWORD).await;
    let (status, list) = get(&app, "/api/v1/me/sessions", &a).await;
    assert_eq!(status, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let current: Vec<_> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    let b_id = list.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();

    // Sam cannot end Maria's session, and learns nothing about it.
    let res = reqwest::Client::new()
        .delete(app.url(&format!("/api/v1/me/sessions/{b_id}")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(get(&app, "/api/v1/session", &b).await.0, 200);

    let res = reqwest::Client::new()
        .delete(app.url(&format!("/api/v1/me/sessions/{b_id}")))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(get(&app, "/api/v1/session", &b).await.0, 401);
    assert_eq!(get(&app, "/api/v1/session", &a).await.0, 200);
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session() {
    let app = spawn_app().await;
    app.user("maria", Role::Counselor).await;
    let tokens = [app.api_token("maria", PASSWORD).await, app.api_token("maria", PASSWORD).await];
    let (_, browser) = (0, app.client());
    browser.login("maria", PASSWORD).await;
    let res = browser.submit("/account/sessions", "/logout/everywhere", &[]).await;
    assert_eq!(res.status(), 303);
    for t in &tokens {
        assert_eq!(get(&app, "/api/v1/session", t).await.0, 401);
    }
    assert_eq!(browser.get("/").await.status(), 303);
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    let app = spawn_app().await;
    app.user("maria", Role::Counselor).await;
    let a = app.api_token("maria", PASSWORD).await;
    let b = app.api_token("maria", PASSWORD).await;
    let new = "seven copper kettles hum at dawn";
    let post = |body: Value| {
        let app = &app;
        let a = a.clone();
        async move {
            let res = reqwest::Client::new()
                .post(app.url("/api/v1/me/password"))
                .bearer_auth(a)
                .json(&body)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, problem) = post(json!({"current_password": "wrong one entirely", "new_password": new})).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "current_password");
    let (status, problem) = post(json!({"current_password": PASSWORD, "new_password": "password1234"})).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "new_password");
    assert_eq!(get(&app, "/api/v1/session", &b).await.0, 200, "failed attempts change nothing");

    let (status, _) = post(json!({"current_password": PASSWORD, "new_password": new})).await;
    assert_eq!(status, 204);
    assert_eq!(get(&app, "/api/v1/session", &b).await.0, 401);
    assert_eq!(get(&app, "/api/v1/session", &a).await.0, 200);
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "maria", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "old password no longer works");
    app.api_token("maria", new).await;
}

#[tokio::test]
async fn the_sessions_page_lists_this_browser() {
    let app = spawn_app().await;
    let (_, client) = app.signed_in("maria", Role::Counselor).await;
    let (status, html) = client.get_text("/account/sessions").await;
    assert_eq!(status, 200);
    assert!(html.contains("This session"));
    assert!(html.contains("127.0.0.1"));
}
