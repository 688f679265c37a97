//! Journeys through the real UI in headless Chromium: signing in, two-step verification,
//! signing out. Each test has its own server (fresh database) and its own browser.
//!
//! Run: `cargo test -p e2e` (skips with a note when chromedriver is missing;
//! `STEPDOWN_E2E=1` turns that into a failure).

use domain::role::Role;
use e2e::Browser;
use testkit::{PASSWORD, TestApp};
use thirtyfour::prelude::*;

const SESSION_COOKIE: &str = "__Host-stepdown_session";

async fn sign_in(b: &Browser, app: &TestApp, username: &str, password: &str) -> anyhow::Result<()> {
    b.goto(app.url("/login")).await?;
    assert_eq!(b.text("main h1").await?, "Sign in");
    b.fill("username", username).await?;
    b.fill("password", password).await?;
    b.click_button("main", "Sign in").await
}

/// What the authenticator app shows now, by the server's clock.
fn code_now(app: &TestApp, secret: &str) -> String {
    testkit::totp_code(secret, app.app.now())
}

async fn sign_out(b: &Browser) -> anyhow::Result<()> {
    b.click_button("header", "Sign out").await?;
    assert_eq!(b.wait_for_path("/login").await?, "/login?done=signed-out");
    assert_eq!(b.text(".notice").await?, "You have signed out.");
    Ok(())
}

/// a) A counselor signs in and lands on the dashboard; a wrong password is refused with the
/// error summary and the message beside the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counselor_signs_in_and_a_wrong_password_is_refused() -> anyhow::Result<()> {
    let Some(b) = Browser::start().await? else { return Ok(()) }; // skipped: no browser
    let app = testkit::spawn_app().await;
    app.user("casey", Role::Counselor).await;

    sign_in(&b, &app, "casey", "not the password at all").await?;
    assert_eq!(b.wait_for_path("/login").await?, "/login");
    assert_eq!(b.text(".error-summary h2").await?, "There is a problem");
    let summary_link = b.find(By::Css(".error-summary a")).await?;
    assert_eq!(summary_link.text().await?, "The user name or password is not right");
    assert_eq!(summary_link.attr("href").await?.as_deref(), Some("#username"));
    assert!(b.text("#username-error").await?.contains("The user name or password is not right"));
    // The user name is kept, the password is not.
    assert_eq!(b.find(By::Id("username")).await?.value().await?.as_deref(), Some("casey"));
    assert_eq!(b.find(By::Id("password")).await?.value().await?.as_deref(), Some(""));
    assert!(b.title().await?.starts_with("Sign in"), "title: {}", b.title().await?);
    // The summary link takes keyboard focus to the field (app.js).
    summary_link.click().await?;
    assert_eq!(b.active_element().await?.id().await?.as_deref(), Some("username"));
    b.screenshot("login-error").await;

    b.fill("password", PASSWORD).await?;
    b.click_button("main", "Sign in").await?;
    assert_eq!(b.wait_for_path("/").await?, "/");
    let heading = b.text("main h1").await?;
    assert!(heading.contains("Hello"), "dashboard heading: {heading:?}");
    assert_eq!(b.text("header .who-name").await?, "Test casey");
    assert_eq!(b.text("header .who-role").await?, Role::Counselor.label());
    // A counselor is not made to set up two-step verification, only invited to.
    assert!(b.text("main .notice").await?.contains("turn on two-step verification"));
    b.screenshot("dashboard").await;

    assert_eq!(b.console_problems(&[401]).await?, Vec::<String>::new(), "browser console");
    b.quit().await
}

/// b) An admin must set up two-step verification at first sign-in, and then needs a fresh code
/// from the authenticator to sign in again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_enrols_in_two_step_verification_then_signs_in_with_a_code() -> anyhow::Result<()> {
    let Some(b) = Browser::start().await? else { return Ok(()) }; // skipped: no browser
    let app = testkit::spawn_app().await;
    app.user("alex", Role::Admin).await;

    sign_in(&b, &app, "alex", PASSWORD).await?;
    assert_eq!(b.wait_for_path("/account/mfa").await?, "/account/mfa");
    let enrolling = b.get_named_cookie(SESSION_COOKIE).await?.value;
    assert_eq!(b.text("main h1").await?, "Set up two-step verification");
    assert!(b.text("main .notice").await?.contains("Your role requires two-step verification"));
    // Until enrolled, the rest of the app sends the admin back here.
    b.goto(app.url("/")).await?;
    assert_eq!(b.wait_for_path("/account/mfa").await?, "/account/mfa", "no dashboard before enrolment");

    // The QR code is an inline SVG image that the browser can actually draw (CSP allows data:).
    let qr = b.find(By::Css("figure.qr img")).await?;
    assert!(qr.attr("src").await?.unwrap_or_default().starts_with("data:image/svg+xml;base64,"));
    let drawn: ScriptRet = b.execute("return arguments[0].naturalWidth;", vec![qr.to_json()?]).await?;
    assert!(drawn.convert::<u64>()? > 0, "the QR code image did not load");
    // The key is hidden in a <details> until opened.
    let secret = b.find(By::Id("secret")).await?;
    assert!(!secret.is_displayed().await?);
    b.find(By::Css("details summary")).await?.click().await?;
    let secret = secret.text().await?;
    assert!(secret.len() >= 16 && secret.chars().all(|c| c.is_ascii_alphanumeric()), "secret: {secret:?}");
    b.screenshot("mfa-enrolment").await;

    // A wrong code is explained in the summary and beside the field.
    b.fill("code", "12").await?;
    b.click_button("main", "Turn on two-step verification").await?;
    assert_eq!(b.text(".error-summary h2").await?, "There is a problem");
    assert!(b.text(".error-summary").await?.contains("Enter the 6-digit code"));
    assert!(b.text(".field.has-error .field-error").await?.contains("Enter the 6-digit code"));

    let enrolment_code = code_now(&app, &secret);
    b.fill("code", &enrolment_code).await?;
    b.click_button("main", "Turn on two-step verification").await?;
    assert_eq!(b.wait_for_path("/account/sessions").await?, "/account/sessions?done=mfa-enrolled");
    assert_eq!(b.text("main .notice").await?, "Two-step verification is set up.");
    assert_ne!(b.get_named_cookie(SESSION_COOKIE).await?.value, enrolling, "a new session after enrolment");
    assert!(b.text("main dl.summary").await?.contains("On"));

    sign_out(&b).await?;
    sign_in(&b, &app, "alex", PASSWORD).await?;
    assert_eq!(b.wait_for_path("/login/mfa").await?, "/login/mfa");
    assert_eq!(b.text("main h1").await?, "Enter your code");
    let half_signed_in = b.get_named_cookie(SESSION_COOKIE).await?.value;
    // Half signed in, the rest of the app asks for the code first.
    b.goto(app.url("/account/sessions")).await?;
    assert_eq!(b.wait_for_path("/login/mfa").await?, "/login/mfa");

    // The code used to enrol cannot be used again (replay protection), even while it is
    // still within its time window.
    b.fill("code", &enrolment_code).await?;
    b.click_button("main", "Continue").await?;
    assert_eq!(b.wait_for_path("/login/mfa").await?, "/login/mfa");
    assert!(b.text(".error-summary").await?.contains("That code has already been used"));

    // The next 30-second step brings a new code. The app's clock is moved on rather than
    // waiting up to 30 s in real time.
    app.clock.advance(time::Duration::seconds(30));
    b.fill("code", &code_now(&app, &secret)).await?;
    b.screenshot("mfa-code").await;
    b.click_button("main", "Continue").await?;
    assert_eq!(b.wait_for_path("/").await?, "/");
    let heading = b.text("main h1").await?;
    assert!(heading.contains("Hello"), "dashboard heading: {heading:?}");
    assert_eq!(b.text("header .who-role").await?, Role::Admin.label());
    assert_ne!(b.get_named_cookie(SESSION_COOKIE).await?.value, half_signed_in, "a new session after the code");

    assert_eq!(b.console_problems(&[422]).await?, Vec::<String>::new(), "browser console");
    b.quit().await
}

/// c) After signing out, the session is gone: "/" sends the browser to sign in, going back in
/// history does not bring the signed-in pages back, and the old cookie is dead on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sign_out_pages_need_sign_in_again() -> anyhow::Result<()> {
    let Some(b) = Browser::start().await? else { return Ok(()) }; // skipped: no browser
    let app = testkit::spawn_app().await;
    app.user("sam", Role::Supervisor).await;

    sign_in(&b, &app, "sam", PASSWORD).await?;
    assert_eq!(b.wait_for_path("/").await?, "/");
    let session = b.get_named_cookie(SESSION_COOKIE).await?;
    assert_eq!(session.http_only, Some(true), "session cookie is HttpOnly");
    assert_eq!(session.secure, Some(true), "session cookie is Secure");
    assert_eq!(session.same_site, Some(SameSite::Strict), "session cookie is SameSite=Strict");

    sign_out(&b).await?;
    assert!(b.get_named_cookie(SESSION_COOKIE).await.is_err(), "session cookie cleared");
    b.screenshot("signed-out").await;

    // Going back in history must not show the dashboard again from a cache.
    b.back().await?;
    assert_eq!(b.wait_for_path("/login").await?, "/login", "back after sign-out");
    assert_eq!(b.text("main h1").await?, "Sign in");

    // The server ended the session too: the old cookie, put back, does not sign anyone in.
    let mut replayed = Cookie::new(SESSION_COOKIE, session.value.clone());
    replayed.set_path("/");
    replayed.set_secure(true);
    b.add_cookie(replayed).await?;
    assert_eq!(b.get_named_cookie(SESSION_COOKIE).await?.value, session.value);
    b.goto(app.url("/")).await?;
    assert_eq!(b.wait_for_path("/login").await?, "/login", "the old session cookie still works");
    b.delete_cookie(SESSION_COOKIE).await?;

    b.goto(app.url("/")).await?;
    assert_eq!(b.wait_for_path("/login").await?, "/login");
    assert_eq!(b.text("main h1").await?, "Sign in");
    assert!(b.find_all(By::XPath("//header//button[normalize-space()='Sign out']")).await?.is_empty());

    b.goto(app.url("/account/sessions")).await?;
    assert_eq!(b.wait_for_path("/login").await?, "/login");

    assert_eq!(b.console_problems(&[]).await?, Vec::<String>::new(), "browser console");
    b.quit().await
}
