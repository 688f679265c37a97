//! Account administration through the web UI and the API.

use domain::role::Role;
use serde_json::{Value, json};
use testkit::{PASSWORD, TestApp, csrf_from, spawn_app};

use crate::events;

/// An administrator who has already enrolled MFA, signed in to the UI.
async fn admin_browser(app: &TestApp) -> testkit::TestClient {
    admin_with_id(app).await.1
}

async fn admin_with_id(app: &TestApp) -> (domain::user::User, testkit::TestClient) {
    use app::Clock;
    let user = app.user("boss", Role::Admin).await;
    let client = app.client();
    client.login("boss", PASSWORD).await;
    let (_, html) = client.get_text("/account/mfa").await;
    let start = html.find("id=\"secret\">").unwrap() + "id=\"secret\">".len();
    let secret = html[start..start + html[start..].find('<').unwrap()].to_owned();
    let code = testkit::totp_code(&secret, app.clock.now());
    let res = client.submit("/account/mfa", "/account/mfa", &[("code", &code)]).await;
    assert_eq!(res.status(), 303);
    (user, client)
}

#[tokio::test]
async fn an_admin_adds_a_user_who_must_choose_a_password() {
    let app = spawn_app().await;
    let admin = admin_browser(&app).await;
    let res = admin
        .submit(
            "/admin/users/new",
            "/admin/users/new",
            &[("display_name", "Dana Reyes"), ("username", "dana.reyes"), ("role", "counselor")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Account created"));
    let start = html.find("id=\"one-time-password\">").unwrap() + "id=\"one-time-password\">".len();
    let otp = html[start..start + html[start..].find('<').unwrap()].to_owned();
    assert_eq!(otp.len(), 23);

    let (_, list) = admin.get_text("/admin/users").await;
    assert!(list.contains("Dana Reyes") && list.contains("Must change password"));

    let dana = app.client();
    assert_eq!(dana.login("dana.reyes", &otp).await.status(), 303);
    assert_eq!(dana.get("/").await.headers()["location"], "/account/password");
    let created = events(&app, "user.created").await;
    assert!(created.iter().any(|e| e.event.detail.as_deref() == Some("admin;role=counselor")));
}

#[tokio::test]
async fn invalid_or_duplicate_accounts_are_refused_with_messages_next_to_fields() {
    let app = spawn_app().await;
    let admin = admin_browser(&app).await;
    let res = admin
        .submit(
            "/admin/users/new",
            "/admin/users/new",
            &[("display_name", ""), ("username", "9lives"), ("role", "root")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("There is a problem"));
    assert!(html.contains("Full name must not be empty"));
    assert!(html.contains("User name must start with a letter"));
    assert!(html.contains("Choose a role"));
    let res = admin
        .submit(
            "/admin/users/new",
            "/admin/users/new",
            &[("display_name", "Another Boss"), ("username", "boss"), ("role", "admin")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("That user name is already taken"));
    // Nothing was written for either attempt.
    assert_eq!(events(&app, "user.created").await.len(), 1, "only the admin created by the test");
}

#[tokio::test]
async fn staff_without_the_right_role_cannot_reach_admin_pages() {
    let app = spawn_app().await;
    let (_, counselor) = app.signed_in("coun", Role::Counselor).await;
    let (status, html) = counselor.get_text("/admin/users").await;
    assert_eq!(status, 403);
    assert!(html.contains("This attempt has been recorded"));
    let token = app.api_token("coun", PASSWORD).await;
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/users"))
        .bearer_auth(&token)
        .json(&json!({"username": "sneaky", "display_name": "Sneaky", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let denied = events(&app, "access.denied").await;
    assert_eq!(denied.len(), 2);
    assert!(denied.iter().all(|e| e.event.detail.as_deref() == Some("manage_users")));
    assert_eq!(counselor.get_text("/audit").await.0, 403);
}

#[tokio::test]
async fn deactivating_a_user_signs_them_out_and_blocks_sign_in() {
    let app = spawn_app().await;
    let admin = admin_browser(&app).await;
    let (target, browser) = app.signed_in("leaving", Role::Counselor).await;
    let page = format!("/admin/users/{}", target.id);
    let res = admin.submit(&page, &page, &[("display_name", "Test leaving"), ("role", "counselor")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(browser.get("/").await.status(), 303, "signed out at once");
    assert_eq!(app.client().login("leaving", PASSWORD).await.status(), 401);
    let updated = events(&app, "user.updated").await;
    assert_eq!(updated[0].event.detail.as_deref(), Some("active=false"));
}

#[tokio::test]
async fn admins_cannot_lock_themselves_out() {
    let app = spawn_app().await;
    let (me, admin) = admin_with_id(&app).await;
    let page = format!("/admin/users/{}", me.id);
    let res = admin.submit(&page, &page, &[("display_name", "Test boss"), ("role", "counselor")]).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("You cannot change your own role"));
    assert!(html.contains("You cannot deactivate your own account"));
}

#[tokio::test]
async fn resetting_a_password_and_mfa_through_the_api() {
    let app = spawn_app().await;
    let _ = admin_browser(&app).await;
    // API access for the admin needs a full session: sign in and pass MFA through the API.
    let target = app.user("forgetful", Role::Counselor).await;
    let session = app.app.login("boss", PASSWORD, &app::auth::RequestMeta::default()).await.unwrap();
    assert_eq!(session.stage, app::ports::SessionStage::MfaPending);
    let admin_token = {
        // Resolve the pending session, then finish MFA with the next step's code.
        use app::Clock;
        let auth = app.app.authenticate(&session.token, None).await.unwrap();
        let creds_secret = {
            use app::Store;
            let mut tx = app.store.read().await.unwrap();
            tx.credentials_by_id(auth.user.id).await.unwrap().unwrap().totp_secret.unwrap()
        };
        let secret = app::security::base32(&creds_secret);
        app.clock.advance(time::Duration::seconds(30));
        let code = testkit::totp_code(&secret, app.clock.now());
        app.app.verify_mfa(&auth, &code, &app::auth::RequestMeta::default()).await.unwrap().token
    };
    let worker = app.api_token("forgetful", PASSWORD).await;
    let res = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/users/{}/reset-password", target.id)))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let otp = body["one_time_password"].as_str().unwrap();
    let res = reqwest::Client::new().get(app.url("/api/v1/session")).bearer_auth(&worker).send().await.unwrap();
    assert_eq!(res.status(), 401, "reset ends their sessions");
    let fresh = app.api_token("forgetful", otp).await;
    let res = reqwest::Client::new().get(app.url("/api/v1/clients")).bearer_auth(&fresh).send().await.unwrap();
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["code"], "password_change_required");

    let res = reqwest::Client::new()
        .patch(app.url(&format!("/api/v1/users/{}", target.id)))
        .bearer_auth(&admin_token)
        .json(&json!({"role": "supervisor", "shoe_size": 9}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "unknown fields are refused");
    let res = reqwest::Client::new()
        .patch(app.url(&format!("/api/v1/users/{}", target.id)))
        .bearer_auth(&admin_token)
        .json(&json!({"role": "supervisor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!((body["role"].as_str(), body["display_name"].as_str()), (Some("supervisor"), Some("Test forgetful")));
}

#[tokio::test]
async fn a_csrf_token_only_works_in_its_own_session() {
    let app = spawn_app().await;
    let (_, first) = app.signed_in("sup", Role::Supervisor).await;
    let second = app.client();
    second.login("sup", PASSWORD).await;
    let (_, html) = first.get_text("/clients/new").await;
    let csrf = csrf_from(&html);
    let form =
        [("csrf", csrf.as_str()), ("given_name", "Eve"), ("family_name", "Evans"), ("date_of_birth", "1980-05-05")];
    assert_eq!(second.post_raw("/clients/new", &form).await.status(), 403);
    assert!(events(&app, "client.created").await.is_empty());
    assert_eq!(first.post_raw("/clients/new", &form).await.status(), 303);
    assert_eq!(events(&app, "client.created").await.len(), 1);
}
