//! Operations: health, readiness, headers, metrics, OpenAPI, backup and restore, several
//! servers on one database, and shutdown without losing acknowledged work.

use std::sync::Arc;

use app::{App, Store, UuidV7};
use domain::role::Role;
use serde_json::{Value, json};
use stepdown::server::{ServerOptions, start};
use store::{SeaStore, StoreOptions};
use testkit::{PASSWORD, spawn_app, test_config};

use crate::{chain_intact, events};

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let res = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!((res.status().as_u16(), res.text().await.unwrap()), (200, "ok".to_owned()));
    let res = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!((res.status().as_u16(), res.text().await.unwrap()), (200, "ready".to_owned()));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/login", "/api/v1/session", "/nope", "/static/app.css"] {
        let res = reqwest::get(app.url(path)).await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["x-frame-options"], "DENY");
        if path != "/static/app.css" {
            assert_eq!(h["cache-control"], "no-store", "{path}");
        }
    }
    let html = reqwest::get(app.url("/login")).await.unwrap().text().await.unwrap();
    assert!(!html.contains("<script>") && !html.contains("style=\""), "no inline script or style");
}

#[tokio::test]
async fn the_openapi_document_matches_the_snapshot_and_is_served() {
    let doc = web::openapi_json();
    let value: Value = serde_json::from_str(&doc).unwrap();
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("openapi_document", value);
    });
    let app = spawn_app().await;
    let served: Value = reqwest::get(app.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    let local: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(served, local);
    assert!(served["paths"]["/api/v1/clients/{id}"]["get"].is_object());
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_without_ids_in_labels() {
    let app = spawn_app().await;
    let store = app.store.clone();
    let a = App::new(Arc::new(store.clone()), app.clock.clone(), Arc::new(UuidV7), test_config()).unwrap();
    let options = ServerOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        web: web::WebConfig::default(),
    };
    let running = start(store, a, options).await.unwrap();
    let base = format!("http://{}", running.addr);
    let client_id = uuid::Uuid::now_v7();
    reqwest::get(format!("{base}/login")).await.unwrap();
    reqwest::get(format!("{base}/clients/{client_id}")).await.unwrap();
    let metrics_addr = running.metrics_addr.unwrap();
    let text = reqwest::get(format!("http://{metrics_addr}/metrics")).await.unwrap().text().await.unwrap();
    assert!(text.contains("http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"}"), "{text}");
    assert!(text.contains("route=\"/clients/{id}\""), "routes are templates");
    assert!(!text.contains(&client_id.to_string()), "no ids in metrics");
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_connections"));
    // The public listener does not serve metrics.
    assert_eq!(reqwest::get(format!("{base}/metrics")).await.unwrap().status(), 404);
    running.stop().await;
}

#[tokio::test]
async fn two_servers_share_one_database() {
    let app = spawn_app().await;
    app.user("maria", Role::Supervisor).await;
    // A second, independent server process-equivalent: its own pool, app and listener.
    let store = SeaStore::connect(&app.database_url, &StoreOptions::default()).await.unwrap();
    let a = App::new(Arc::new(store.clone()), app.clock.clone(), Arc::new(UuidV7), test_config()).unwrap();
    let options =
        ServerOptions { listen: "127.0.0.1:0".parse().unwrap(), metrics_listen: None, web: web::WebConfig::default() };
    let second = start(store, a, options).await.unwrap();
    let token = app.api_token("maria", PASSWORD).await;
    let http = reqwest::Client::new();
    // Signed in on the first, working on the second.
    let res = http
        .post(format!("http://{}/api/v1/clients", second.addr))
        .bearer_auth(&token)
        .json(&json!({"given_name": "Ana", "family_name": "Alvarez", "date_of_birth": "1990-02-27"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let c: Value = res.json().await.unwrap();
    let id = c["id"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for i in 0..30 {
        let base = if i % 2 == 0 { app.base.clone() } else { format!("http://{}", second.addr) };
        let (http, token, id) = (http.clone(), token.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            http.get(format!("{base}/api/v1/clients/{id}")).bearer_auth(token).send().await.unwrap().status().as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    // Signing out on the second ends the session on the first.
    http.delete(format!("http://{}/api/v1/session", second.addr)).bearer_auth(&token).send().await.unwrap();
    let res = http.get(app.url("/api/v1/session")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 401);
    second.stop().await;
    assert_eq!(events(&app, "client.read").await.len(), 30);
    chain_intact(&app).await;
}

#[tokio::test]
async fn stopping_the_server_keeps_every_acknowledged_read_in_the_log() {
    let mut app = spawn_app().await;
    app.user("sup", Role::Supervisor).await;
    let token = app.api_token("sup", PASSWORD).await;
    let http = reqwest::Client::new();
    let c: Value = http
        .post(app.url("/api/v1/clients"))
        .bearer_auth(&token)
        .json(&json!({"given_name": "Ana", "family_name": "Alvarez", "date_of_birth": "1990-02-27"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = app.url(&format!("/api/v1/clients/{}", c["id"].as_str().unwrap()));
    let tasks: Vec<_> = (0..25)
        .map(|_| {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            tokio::spawn(async move { http.get(url).bearer_auth(token).send().await.map(|r| r.status().as_u16()).ok() })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.stop().await;
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == Some(200) {
            ok += 1;
        }
    }
    // Reopen the database as a fresh process would.
    let store = SeaStore::connect(&app.database_url, &StoreOptions::default()).await.unwrap();
    let mut tx = store.read().await.unwrap();
    let filter = app::ports::AuditFilter { action: Some("client.read".into()), limit: 1000, ..Default::default() };
    let recorded = tx.audit_events(&filter).await.unwrap().len();
    drop(tx);
    assert!(recorded >= ok, "{ok} reads answered but only {recorded} recorded");
    assert!(matches!(store.verify_audit_chain().await.unwrap(), app::ports::ChainReport::Intact { .. }));
    store.close().await;
}

#[tokio::test]
async fn a_sqlite_backup_restores_to_the_same_data_with_a_valid_chain() {
    let app = spawn_app().await;
    let Some(dir) = app.db.data_dir().cloned() else {
        return; // PostgreSQL deployments back up with pg_dump.
    };
    app.user("sup", Role::Supervisor).await;
    let token = app.api_token("sup", PASSWORD).await;
    reqwest::Client::new()
        .post(app.url("/api/v1/clients"))
        .bearer_auth(&token)
        .json(&json!({"given_name": "Ana", "family_name": "Alvarez", "date_of_birth": "1990-02-27"}))
        .send()
        .await
        .unwrap();
    let target = dir.join("backup.db");
    store::backup_sqlite(&app.store, &target).await.unwrap();
    assert!(matches!(store::backup_sqlite(&app.store, &target).await, Err(store::BackupError::Exists)));
    let events_before = chain_intact(&app).await;

    let restored =
        SeaStore::connect(&format!("sqlite://{}", target.display()), &StoreOptions::default()).await.unwrap();
    assert_eq!(restored.pending_migrations().await.unwrap(), 0);
    match restored.verify_audit_chain().await.unwrap() {
        app::ports::ChainReport::Intact { events } => assert_eq!(events, events_before),
        other => panic!("{other:?}"),
    }
    let scope = domain::access::ClientScope::All;
    let mut tx = restored.read().await.unwrap();
    let clients = tx.clients(&scope, 10).await.unwrap();
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].family_name.as_str(), "Alvarez");
    assert_eq!(tx.list_users().await.unwrap().len(), 1);
    drop(tx);
    restored.close().await;
}

#[tokio::test]
async fn readyz_notices_a_database_writer_stuck_for_seconds() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let app = spawn_app().await;
    let (_, token) = app.full_token("sup", Role::Supervisor).await;
    let client = app.new_client(&token, "Ana", "Alvarez").await;
    // Hold the writer: SQLite's writer slot, or PostgreSQL's audit head row.
    let held: Box<dyn std::any::Any + Send> = if app.db.is_postgres() {
        let txn = app.store.connection().begin().await.unwrap();
        txn.execute_unprepared("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE").await.unwrap();
        Box::new(txn)
    } else {
        Box::new(app.store.begin().await.unwrap())
    };
    // An audited read now waits for the writer.
    let url = app.url(&format!("/api/v1/clients/{client}"));
    let waiting = tokio::spawn(async move { reqwest::Client::new().get(url).bearer_auth(token).send().await });
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let res = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(res.status().as_u16(), 503);
    assert!(res.text().await.unwrap().contains("writer busy"));
    drop(held);
    assert_eq!(waiting.await.unwrap().unwrap().status().as_u16(), 200, "the read goes on once the writer is free");
    let res = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
}
