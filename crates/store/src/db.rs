//! Connecting, migrating and handing out units of work.

use std::path::Path;
use std::time::Duration;

use app::ports::{ChainReport, Readiness};
use app::{Store, StoreError, Tx};
use async_trait::async_trait;
use domain::audit::AuditEvent;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crate::audit::{AuditWriter, verify_chain};
use crate::error::OrStore;
use crate::migration::Migrator;
use crate::tx::{SeaTx, TxOpener};
use crate::writer::WriterLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("could not open the database: {0}")]
    Open(String),
    #[error("could not apply migrations: {0}")]
    Migrate(String),
}

#[derive(Clone, Debug)]
pub struct StoreOptions {
    pub max_connections: u32,
    /// Audit events that one group commit may hold.
    pub audit_batch: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { max_connections: 16, audit_batch: 512 }
    }
}

/// The SeaORM-backed store. Cheap to clone; all state lives in the database.
#[derive(Clone)]
pub struct SeaStore {
    pub(crate) db: DatabaseConnection,
    backend: Backend,
    /// SQLite allows one writer at a time; queueing writers here (instead of in SQLite's busy
    /// handler) keeps them from holding pooled connections while they wait.
    pub(crate) write_lock: Option<WriterLock>,
    audit: AuditWriter,
}

impl SeaStore {
    /// Opens `url`, creating a SQLite file if needed. Does not migrate.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self, ConnectError> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(ConnectError::UnsupportedUrl);
        };
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .max_connections(options.max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30));
        if backend == Backend::Sqlite {
            opts.map_sqlx_sqlite_opts(|o| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // FULL: an acknowledged write survives power loss, not only a crash.
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
            });
            // A local file connection cannot go stale; the default ping on every checkout is a
            // wasted round trip to the connection's worker thread.
            opts.map_sqlx_sqlite_pool_opts(|o| o.test_before_acquire(false));
        }
        let db = Database::connect(opts).await.map_err(|e| ConnectError::Open(e.to_string()))?;
        let write_lock = (backend == Backend::Sqlite).then(WriterLock::default);
        let audit = AuditWriter::start(db.clone(), write_lock.clone(), options.audit_batch);
        Ok(Self { db, backend, write_lock, audit })
    }

    /// The default SQLite file inside a data directory.
    pub fn sqlite_url(data_dir: &Path) -> String {
        format!("sqlite://{}?mode=rwc", data_dir.join("stepdown.db").display())
    }

    pub async fn migrate(&self) -> Result<(), ConnectError> {
        Migrator::up(&self.db, None).await.map_err(|e| ConnectError::Migrate(e.to_string()))
    }

    pub async fn pending_migrations(&self) -> Result<usize, StoreError> {
        Migrator::get_pending_migrations(&self.db).await.map(|v| v.len()).store()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Waits until every audit event handed to the group-commit writer is on disk, then closes.
    pub async fn close(&self) {
        self.audit.shutdown().await;
        let _ = self.db.clone().close().await;
    }

    /// Connections in use and idle, for the metrics endpoint.
    pub fn pool_usage(&self) -> (u32, usize) {
        match self.backend {
            Backend::Sqlite => {
                let p = self.db.get_sqlite_connection_pool();
                (p.size(), p.num_idle())
            }
            Backend::Postgres => {
                let p = self.db.get_postgres_connection_pool();
                (p.size(), p.num_idle())
            }
        }
    }

    async fn open_tx(&self, write: bool) -> Result<SeaTx, StoreError> {
        let guard = match (&self.write_lock, write) {
            (Some(lock), true) => {
                if lock.held_by_current_task() {
                    // Waiting would hang this request and every writer queued behind it.
                    tracing::error!("a write transaction was opened inside another one");
                    return Err(StoreError::Database("nested write transaction".into()));
                }
                Some(lock.acquire().await)
            }
            _ => None,
        };
        let options = TransactionOptions {
            // IMMEDIATE takes SQLite's write lock up front, so a transaction that read first
            // cannot fail later because another process wrote in between.
            sqlite_transaction_mode: (self.backend == Backend::Sqlite && write)
                .then_some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = self.db.begin_with_options(options).await.store()?;
        let opener = TxOpener { db: self.db.clone(), options, audit: self.audit.clone() };
        Ok(SeaTx::new(txn, guard, opener))
    }
}

#[async_trait]
impl Store for SeaStore {
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(self.open_tx(true).await?))
    }

    async fn read(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(self.open_tx(false).await?))
    }

    async fn record(&self, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        if self.write_lock.as_ref().is_some_and(WriterLock::held_by_current_task) {
            // The events would queue behind this request's own write transaction, which
            // waits for them: refuse at once (a bug: use `Tx::refuse` inside a transaction).
            tracing::error!("audit events recorded from inside a write transaction");
            return Err(StoreError::Database("audit recorded inside a write transaction".into()));
        }
        self.audit.append(events).await
    }

    async fn readiness(&self) -> Readiness {
        let database = self.db.execute_unprepared("SELECT 1").await.is_ok();
        let pending_migrations = self.pending_migrations().await.unwrap_or(usize::MAX);
        let writer_held = self.write_lock.as_ref().and_then(WriterLock::held_for);
        let audit_waiting = self.audit.oldest_waiting();
        let writer_busy_for = writer_held.max(audit_waiting);
        Readiness { database, pending_migrations, writer_busy_for }
    }

    async fn verify_audit_chain(&self) -> Result<ChainReport, StoreError> {
        verify_chain(&self.db).await
    }
}
