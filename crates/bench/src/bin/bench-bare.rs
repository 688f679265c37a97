//! The baseline for the page-render figure: a bare axum 0.8 server on the same SQLite file,
//! opened with the same pool settings as `store::SeaStore`, whose `GET /clients/{id}` runs the
//! same SeaORM select on `clients` by id and returns a tiny HTML string. No sessions, no
//! authorization, no audit event, no templates, no middleware.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use clap::Parser;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, EntityTrait};
use store::SeaStore;

/// The `clients` table, column for column as `store` maps it.
mod client {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "clients")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub given_name: String,
        pub family_name: String,
        pub date_of_birth: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(Parser)]
#[command(about = "Bare axum + SQLite baseline for GET /clients/{id}")]
struct Args {
    /// A Stepdown data directory (its stepdown.db is opened, never written).
    #[arg(long)]
    data_dir: PathBuf,
    #[arg(long, default_value = "127.0.0.1:18283")]
    listen: SocketAddr,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn show(State(db): State<DatabaseConnection>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match client::Entity::find_by_id(id).one(&db).await {
        Ok(Some(c)) => Html(format!(
            "<!doctype html><title>Client</title><h1>{} {}</h1><p>Born {}</p>",
            escape(&c.given_name),
            escape(&c.family_name),
            escape(&c.date_of_birth)
        ))
        .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mut opts = ConnectOptions::new(SeaStore::sqlite_url(&args.data_dir));
    // As in store::SeaStore::connect.
    opts.sqlx_logging(false)
        .max_connections(16)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    opts.map_sqlx_sqlite_opts(|o| {
        o.journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
    });
    let db = Database::connect(opts).await?;
    let router = Router::new().route("/clients/{id}", get(show)).with_state(db.clone());
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!("bare baseline listening on http://{}/", listener.local_addr()?);
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    db.close().await?;
    Ok(())
}
