//! The audit log: every read recorded, hash-chained, append-only, tamper-evident, viewable.

use domain::role::Role;
use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::{Value, json};
use testkit::{TestApp, spawn_app};

use crate::{chain_intact, events};

async fn setup_client(app: &TestApp) -> (String, String) {
    let (_, token) = app.full_token("sup", Role::Supervisor).await;
    let id = app.new_client(&token, "Ana", "Alvarez").await;
    (token, id)
}

#[tokio::test]
async fn every_client_read_is_recorded_with_who_why_and_from_where() {
    let app = spawn_app().await;
    let (token, id) = setup_client(&app).await;
    let res =
        reqwest::Client::new().get(app.url(&format!("/api/v1/clients/{id}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let reads = events(&app, "client.read").await;
    assert_eq!(reads.len(), 1);
    let e = &reads[0].event;
    assert_eq!(e.client.map(|c| c.to_string()), Some(id.clone()));
    assert_eq!(e.actor_role, Some(Role::Supervisor));
    assert_eq!(e.purpose, Some(domain::access::Purpose::Treatment));
    assert_eq!(e.source.as_deref(), Some("127.0.0.1"));
    // Listing is a read of every client listed.
    reqwest::Client::new().get(app.url("/api/v1/clients")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(events(&app, "client.searched").await.len(), 1);
    chain_intact(&app).await;
}

#[tokio::test]
async fn concurrent_reads_are_all_recorded_and_the_chain_stays_intact() {
    let app = spawn_app().await;
    let (token, id) = setup_client(&app).await;
    let http = reqwest::Client::new();
    let url = app.url(&format!("/api/v1/clients/{id}"));
    let requests = (0..40).map(|_| {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        tokio::spawn(async move { http.get(url).bearer_auth(token).send().await.unwrap().status().as_u16() })
    });
    for r in requests {
        assert_eq!(r.await.unwrap(), 200);
    }
    assert_eq!(events(&app, "client.read").await.len(), 40);
    let total = chain_intact(&app).await;
    assert!(total >= 43, "{total}");
}

#[tokio::test]
async fn the_log_refuses_updates_and_deletes() {
    let app = spawn_app().await;
    setup_client(&app).await;
    let db = app.store.connection();
    assert!(db.execute_unprepared("UPDATE audit_events SET detail = 'x' WHERE seq = 1").await.is_err());
    assert!(db.execute_unprepared("DELETE FROM audit_events WHERE seq = 1").await.is_err());
    chain_intact(&app).await;
}

async fn bypass_triggers(app: &TestApp) {
    let db = app.store.connection();
    let sql: &[&str] = match db.get_database_backend() {
        DbBackend::Postgres => &["ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"],
        _ => &["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"],
    };
    for s in sql {
        db.execute_unprepared(s).await.unwrap();
    }
}

fn broken(report: app::ports::ChainReport) -> domain::audit::ChainBreak {
    match report {
        app::ports::ChainReport::Broken(b) => b,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[tokio::test]
async fn an_edited_row_is_found_by_verification() {
    let app = spawn_app().await;
    setup_client(&app).await;
    let n = chain_intact(&app).await;
    assert!(n >= 3);
    bypass_triggers(&app).await;
    app.store
        .connection()
        .execute_unprepared("UPDATE audit_events SET source = '10.9.9.9' WHERE seq = 2")
        .await
        .unwrap();
    let b = broken(app.app.verify_audit_chain().await.unwrap());
    assert_eq!(b, domain::audit::ChainBreak { seq: 2, kind: domain::audit::BreakKind::Altered });
}

#[tokio::test]
async fn a_deleted_row_is_found_by_verification() {
    let app = spawn_app().await;
    setup_client(&app).await;
    bypass_triggers(&app).await;
    app.store.connection().execute_unprepared("DELETE FROM audit_events WHERE seq = 2").await.unwrap();
    let b = broken(app.app.verify_audit_chain().await.unwrap());
    assert_eq!(b, domain::audit::ChainBreak { seq: 3, kind: domain::audit::BreakKind::Missing { expected_seq: 2 } });
}

#[tokio::test]
async fn a_failed_change_leaves_no_audit_event() {
    let app = spawn_app().await;
    let (token, _) = setup_client(&app).await;
    let before = chain_intact(&app).await;
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/clients"))
        .bearer_auth(&token)
        .json(&json!({"given_name": "Jo", "family_name": "Doe", "date_of_birth": "2999-01-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(chain_intact(&app).await, before);
}

#[tokio::test]
async fn the_privacy_officer_filters_the_log_by_user_client_action_and_date() {
    let app = spawn_app().await;
    let (token, id) = setup_client(&app).await;
    reqwest::Client::new().get(app.url(&format!("/api/v1/clients/{id}"))).bearer_auth(&token).send().await.unwrap();
    // A privacy officer with MFA enrolled (enrolment is required for the role).
    let (officer, officer_token) = app.full_token("priv", Role::PrivacyOfficer).await;
    let get = |q: String| {
        let (app, token) = (&app, officer_token.clone());
        async move {
            let res = reqwest::Client::new()
                .get(app.url(&format!("/api/v1/audit-events{q}")))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, page) = get(format!("?client={id}&action=client.read")).await;
    assert_eq!(status, 200);
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["client_id"], id.as_str());
    assert_eq!(events[0]["hash"].as_str().unwrap().len(), 64);

    let (_, page) = get(format!("?user={}", officer.id)).await;
    let actions: Vec<&str> = page["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"auth.mfa.enrolled") && actions.contains(&"auth.login.success"), "{actions:?}");
    assert!(actions.iter().all(|a| !a.starts_with("client.")));

    let today = time::OffsetDateTime::now_utc().date();
    let (_, page) = get(format!("?from={today}&to={today}&action=client.created")).await;
    assert_eq!(page["events"].as_array().unwrap().len(), 1);
    let (_, page) = get("?to=2000-01-01".into()).await;
    assert_eq!(page["events"].as_array().unwrap().len(), 0);

    let (status, problem) = get("?from=yesterday".into()).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("from")));
    let (status, problem) = get("?action=client.stolen".into()).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("action")));
    let (status, _) = get("?from=2026-02-01&to=2026-01-01".into()).await;
    assert_eq!(status, 422);

    // Looking at the log is itself in the log.
    assert!(!crate::events(&app, "audit.viewed").await.is_empty());

    // And the web page shows the same, filtered.
    let browser = app.client();
    browser.set_cookie("__Host-stepdown_session", &officer_token);
    let (status, html) = browser.get_text(&format!("/audit?client={id}&action=client.read")).await;
    assert_eq!(status, 200);
    assert!(html.contains("client.read") && html.contains(&id));
    let (status, html) = browser.get_text("/audit?from=not-a-date").await;
    assert_eq!(status, 422);
    assert!(html.contains("From must be a date"));
}

#[tokio::test]
async fn thousands_of_events_from_one_request_are_recorded() {
    use app::Store;
    let app = spawn_app().await;
    let events: Vec<domain::audit::AuditEvent> = (0..5_000u128)
        .map(|n| domain::audit::AuditEvent {
            id: domain::ids::AuditEventId::from_uuid(uuid::Uuid::from_u128(n + 1)),
            occurred_at_ms: 1_790_000_000_000,
            actor: None,
            actor_role: None,
            action: domain::audit::AuditAction::ClientSearched,
            outcome: domain::audit::Outcome::Success,
            client: Some(domain::ids::ClientId::from_uuid(uuid::Uuid::from_u128(n + 1))),
            subject: None,
            purpose: None,
            source: None,
            detail: Some("census".into()),
        })
        .collect();
    app.store.record(events).await.unwrap();
    assert_eq!(chain_intact(&app).await, 5_000);
}

#[tokio::test]
async fn pages_refused_before_any_data_are_audited_too() {
    let app = spawn_app().await;
    let (_, browser) = app.signed_in("coun", Role::Counselor).await;
    for (path, permission) in [("/clients/new", "create_client"), ("/admin/sites", "manage_sites")] {
        let before = events(&app, "access.denied").await.len();
        let (status, _) = browser.get_text(path).await;
        assert_eq!(status.as_u16(), 403, "{path}");
        let denied = events(&app, "access.denied").await;
        assert_eq!(denied.len(), before + 1, "{path} is recorded");
        assert_eq!(denied.iter().filter(|e| e.event.detail.as_deref() == Some(permission)).count(), 1, "{path}");
    }
}
