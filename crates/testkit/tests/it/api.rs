//! API hygiene: every bad request is a 4xx problem+json that changes nothing.

use domain::role::Role;
use serde_json::{Value, json};
use testkit::{PASSWORD, spawn_app};

async fn problem(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    assert_eq!(res.headers()["content-type"], "application/problem+json", "status {status}");
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn malformed_bodies_get_problem_json() {
    let app = spawn_app().await;
    app.user("sup", Role::Supervisor).await;
    let token = app.api_token("sup", PASSWORD).await;
    let http = reqwest::Client::new();
    let url = app.url("/api/v1/clients");
    let send = |body: Vec<u8>, ct: &'static str| {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        async move { http.post(url).bearer_auth(token).header("content-type", ct).body(body).send().await.unwrap() }
    };
    let (status, p) = problem(send(b"{\"given_name\": ".to_vec(), "application/json").await).await;
    assert_eq!((status, p["code"].as_str()), (400, Some("bad_request")));
    let (status, _) =
        problem(send(vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'], "application/json").await).await;
    assert_eq!(status, 400, "invalid UTF-8");
    let (status, p) = problem(send(b"{}".to_vec(), "text/plain").await).await;
    assert_eq!((status, p["code"].as_str()), (415, Some("unsupported_media_type")));
    let body = json!({"given_name": "A", "family_name": "B", "date_of_birth": "1990-01-01", "is_admin": true});
    let (status, p) = problem(send(serde_json::to_vec(&body).unwrap(), "application/json").await).await;
    assert_eq!(status, 422);
    assert!(p["detail"].as_str().unwrap().contains("unknown field"));
    let huge = json!({"given_name": "x".repeat(300 * 1024), "family_name": "B", "date_of_birth": "1990-01-01"});
    let (status, p) = problem(send(serde_json::to_vec(&huge).unwrap(), "application/json").await).await;
    assert_eq!((status, p["code"].as_str()), (413, Some("payload_too_large")));
    let (status, _) = problem(send(b"[1,2,3]".to_vec(), "application/json").await).await;
    assert_eq!(status, 422, "wrong shape");
    // None of it was saved.
    let list: Value =
        http.get(app.url("/api/v1/clients")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn cookie_authenticated_api_writes_need_the_csrf_header() {
    let app = spawn_app().await;
    let (_, browser) = app.signed_in("sup", Role::Supervisor).await;
    let cookie = format!("__Host-stepdown_session={}", browser.session_token().unwrap());
    let http = reqwest::Client::new();
    let body = json!({"given_name": "A", "family_name": "B", "date_of_birth": "1990-01-01"});
    let res = http.post(app.url("/api/v1/clients")).header("cookie", &cookie).json(&body).send().await.unwrap();
    let (status, p) = problem(res).await;
    assert_eq!((status, p["code"].as_str()), (403, Some("csrf")));
    let current: Value =
        http.get(app.url("/api/v1/session")).header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    let csrf = current["csrf_token"].as_str().unwrap();
    let res = http
        .post(app.url("/api/v1/clients"))
        .header("cookie", &cookie)
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn unknown_routes_are_404_in_the_right_format() {
    let app = spawn_app().await;
    let res = reqwest::get(app.url("/api/v1/nothing-here")).await.unwrap();
    let (status, p) = problem(res).await;
    assert_eq!((status, p["code"].as_str()), (404, Some("not_found")));
    let res = reqwest::get(app.url("/no/such/page")).await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(res.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn api_login_failures_are_problems_without_hints() {
    let app = spawn_app().await;
    app.user("maria", Role::Counselor).await;
    let http = reqwest::Client::new();
    let mut bodies = Vec::new();
    for (u, p) in [("maria", "wrong password here"), ("nobody", "wrong password here")] {
        let res =
            http.post(app.url("/api/v1/session")).json(&json!({"username": u, "password": p})).send().await.unwrap();
        let (status, body) = problem(res).await;
        assert_eq!(status, 401);
        bodies.push(body);
    }
    assert_eq!(bodies[0], bodies[1], "the same answer whether or not the account exists");
    for _ in 0..4 {
        http.post(app.url("/api/v1/session"))
            .json(&json!({"username": "maria", "password": "x"}))
            .send()
            .await
            .unwrap();
    }
    let res = http
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "maria", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("retry-after"));
    let (status, p) = problem(res).await;
    assert_eq!((status, p["code"].as_str()), (429, Some("throttled")));
}
