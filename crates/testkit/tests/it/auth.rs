//! Signing in and out through the web UI: cookies, CSRF, throttling, timeouts.

use domain::role::Role;
use testkit::{PASSWORD, spawn_app, spawn_app_web, spawn_app_with, test_config};

use crate::events;

#[tokio::test]
async fn login_sets_a_hardened_session_cookie_and_lands_on_the_dashboard() {
    let app = spawn_app().await;
    app.user("maria", Role::Counselor).await;
    let client = app.client();
    // A session id planted before sign-in (fixation) is never adopted.
    client.set_cookie("__Host-stepdown_session", "planted-token");
    let res = client.login("maria", PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
    let set_cookie: Vec<_> =
        res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let session = set_cookie.iter().find(|c| c.starts_with("__Host-stepdown_session=")).expect("session cookie");
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(session.contains(attr), "{attr} missing in {session}");
    }
    assert!(!session.contains("Domain="), "__Host- cookies carry no Domain");
    assert_ne!(client.session_token().as_deref(), Some("planted-token"));
    let (status, html) = client.get_text("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("Hello, Test"), "{html}");
    assert_eq!(events(&app, "auth.login.success").await.len(), 1);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.user("maria", Role::Counselor).await;
    let client = app.client();
    let wrong = client.login("maria", "not the password at all").await;
    let wrong_status = wrong.status();
    let wrong_html = wrong.text().await.unwrap();
    let unknown = client.login("nobody", "not the password at all").await;
    let unknown_status = unknown.status();
    let unknown_html = unknown.text().await.unwrap();
    assert_eq!(wrong_status, 401);
    assert_eq!(unknown_status, 401);
    let message = "The user name or password is not right";
    assert!(wrong_html.contains(message) && unknown_html.contains(message));
    assert!(client.session_token().is_none());
    let failures = events(&app, "auth.login.failure").await;
    assert_eq!(failures.len(), 2);
    let details: Vec<_> = failures.iter().filter_map(|e| e.event.detail.clone()).collect();
    assert!(details.contains(&"wrong_password".to_owned()) && details.contains(&"unknown_account".to_owned()));
}

#[tokio::test]
async fn repeated_failures_throttle_the_account_even_with_the_right_password() {
    let app = spawn_app().await;
    app.user("maria", Role::Counselor).await;
    let client = app.client();
    for _ in 0..5 {
        assert_eq!(client.login("maria", "wrong password here").await.status(), 401);
    }
    let res = client.login("maria", PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res.text().await.unwrap().contains("Too many failed sign-in attempts"));
    assert!(client.session_token().is_none());
    assert_eq!(events(&app, "auth.login.throttled").await.len(), 1);
    // The same for a name that does not exist: the throttle does not reveal which names are real.
    for _ in 0..5 {
        client.login("ghost", "wrong password here").await;
    }
    assert_eq!(client.login("ghost", "wrong password here").await.status(), 429);
    // Once the window passes, the right password works again.
    app.clock.advance(time::Duration::minutes(16));
    assert_eq!(client.login("maria", PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.user("maria", Role::Counselor).await;
    let client = app.client();
    client.get("/login").await;
    let res = client.post_raw("/login", &[("username", "maria"), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), 403);
    let res = client.post_raw("/login", &[("csrf", "forged"), ("username", "maria"), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), 403);
    assert!(client.session_token().is_none());
    assert!(events(&app, "auth.login.success").await.is_empty());

    assert_eq!(client.login("maria", PASSWORD).await.status(), 303);
    let res = client.post_raw("/logout", &[("csrf", "forged")]).await;
    assert_eq!(res.status(), 403);
    assert_eq!(client.get("/").await.status(), 200, "still signed in");
    // A cross-site form post is refused before it reaches any handler.
    let res = reqwest::Client::new()
        .post(app.url("/logout"))
        .header("sec-fetch-site", "cross-site")
        .header("cookie", format!("__Host-stepdown_session={}", client.session_token().unwrap()))
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn forged_or_unknown_session_cookies_are_sent_to_sign_in() {
    let app = spawn_app().await;
    let client = app.client();
    client.set_cookie("__Host-stepdown_session", "forged-token-value");
    let res = client.get("/").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");
    let res = reqwest::Client::new().get(app.url("/api/v1/session")).bearer_auth("forged").send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn idle_sessions_end_after_fifteen_minutes() {
    let app = spawn_app().await;
    let (_, client) = app.signed_in("maria", Role::Counselor).await;
    app.clock.advance(time::Duration::minutes(14));
    assert_eq!(client.get("/").await.status(), 200, "activity keeps it alive");
    app.clock.advance(time::Duration::minutes(14));
    assert_eq!(client.get("/").await.status(), 200);
    app.clock.advance(time::Duration::minutes(15));
    assert_eq!(client.get("/").await.status(), 303, "idle for 15 minutes");
    let expired = events(&app, "auth.session.expired").await;
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].event.detail.as_deref(), Some("idle_timeout"));
}

#[tokio::test]
async fn sessions_end_at_the_absolute_timeout_however_busy() {
    let mut config = test_config();
    config.session.absolute_timeout = time::Duration::hours(1);
    let app = spawn_app_with(config).await;
    let (_, client) = app.signed_in("maria", Role::Counselor).await;
    for _ in 0..5 {
        app.clock.advance(time::Duration::minutes(11));
        assert_eq!(client.get("/").await.status(), 200);
    }
    app.clock.advance(time::Duration::minutes(6));
    assert_eq!(client.get("/").await.status(), 303);
    let expired = events(&app, "auth.session.expired").await;
    assert_eq!(expired[0].event.detail.as_deref(), Some("absolute_timeout"));
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    let (_, client) = app.signed_in("maria", Role::Counselor).await;
    let token = client.session_token().unwrap();
    let res = client.submit("/", "/logout", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?done=signed-out");
    assert!(client.session_token().is_none(), "cookie cleared");
    // Replaying the old cookie does not work: the session is gone server-side.
    client.set_cookie("__Host-stepdown_session", &token);
    assert_eq!(client.get("/").await.status(), 303);
    assert_eq!(events(&app, "auth.logout").await.len(), 1);
}

#[tokio::test]
async fn a_generated_password_must_be_changed_before_anything_else() {
    let app = spawn_app().await;
    let created = app
        .app
        .create_user_from_console(&app::users::NewUserForm {
            username: "newbie".into(),
            display_name: "New Person".into(),
            role: "counselor".into(),
            password: None,
        })
        .await
        .unwrap();
    let otp = created.one_time_password.expect("generated");
    let client = app.client();
    assert_eq!(client.login("newbie", &otp).await.status(), 303);
    let res = client.get("/").await;
    assert_eq!(res.headers()["location"], "/account/password");
    let res = client
        .submit(
            "/account/password",
            "/account/password",
            &[("current_password", &otp), ("new_password", "short"), ("confirm_password", "short")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Your new password must be at least 12 characters"), "{html}");
    let new = "seven copper kettles hum at dawn";
    let res = client
        .submit(
            "/account/password",
            "/account/password",
            &[("current_password", &otp), ("new_password", new), ("confirm_password", new)],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(client.get("/").await.status(), 200);
    let other = app.client();
    assert_eq!(other.login("newbie", new).await.status(), 303);
}

#[tokio::test]
async fn plain_http_mode_drops_the_secure_flag_and_the_host_prefix() {
    let web = web::WebConfig { secure_cookies: false, ..web::WebConfig::default() };
    let app = spawn_app_web(test_config(), web).await;
    app.user("maria", Role::Counselor).await;
    let client = app.client();
    let res = client.login("maria", PASSWORD).await;
    let cookies: Vec<String> =
        res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("stepdown_session="))
        .unwrap_or_else(|| panic!("{:?} {cookies:?}", res.status()));
    assert!(!session.contains("Secure") && session.contains("HttpOnly") && session.contains("SameSite=Strict"));
    assert!(!res.headers().contains_key("strict-transport-security"));
    assert_eq!(client.get("/").await.status(), 200);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_source() {
    let web = web::WebConfig { trusted_proxies: vec!["127.0.0.1".parse().unwrap()], ..web::WebConfig::default() };
    let app = spawn_app_web(test_config(), web).await;
    app.user("maria", Role::Counselor).await;
    let http = reqwest::Client::new();
    let login = |forwarded: &'static str, password: &'static str| {
        let http = http.clone();
        let url = app.url("/api/v1/session");
        async move {
            http.post(url)
                .header("x-forwarded-for", forwarded)
                .json(&serde_json::json!({"username": "maria", "password": password}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // A client-supplied first hop cannot hide the address the proxy saw.
    assert_eq!(login("6.6.6.6, 203.0.113.7", PASSWORD).await, 201);
    let ok = events(&app, "auth.login.success").await;
    assert_eq!(ok[0].event.source.as_deref(), Some("203.0.113.7"));
}

#[tokio::test]
async fn one_colleague_mistyping_never_locks_out_the_clinic_but_a_spray_is_throttled() {
    let app = spawn_app().await;
    app.user("maria", Role::Counselor).await;
    app.user("jon", Role::Counselor).await;
    let http = reqwest::Client::new();
    let login = |user: String, password: &'static str| {
        let (http, url) = (http.clone(), app.url("/api/v1/session"));
        async move {
            http.post(url)
                .json(&serde_json::json!({"username": user, "password": password}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Everyone here comes from 127.0.0.1, as a clinic behind one NAT would.
    for _ in 0..60 {
        assert!([401, 429].contains(&login("maria".into(), "wrong password here").await));
    }
    assert_eq!(login("maria".into(), PASSWORD).await, 429, "her own account waits");
    assert_eq!(login("jon".into(), PASSWORD).await, 201, "her colleague at the same address does not");
    // Twenty different accounts failing from one address is a spray: the address waits.
    for i in 0..19 {
        assert_eq!(login(format!("guess{i}"), "wrong password here").await, 401);
    }
    assert_eq!(login("jon".into(), PASSWORD).await, 429);
    app.clock.advance(time::Duration::minutes(16));
    assert_eq!(login("jon".into(), PASSWORD).await, 201);
}
