//! Appending to and verifying the hash-chained audit log.
//!
//! Writes of clinical data append their events inside their own transaction (see `tx.rs`).
//! Reads append through [`AuditWriter`], one task that gathers the events of concurrent
//! requests into a single transaction, so auditing every read costs one commit per batch
//! rather than one per request; each request still waits until its events are durable.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use app::StoreError;
use app::ports::ChainReport;
use domain::access::Purpose;
use domain::audit::{AuditAction, AuditEvent, BreakKind, ChainBreak, ChainVerifier, ChainedEvent, Outcome, link};
use domain::ids::{AuditEventId, ClientId, UserId};
use domain::role::Role;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};

use crate::entity::{audit_event, audit_head};
use crate::error::OrStore;
use crate::writer::WriterLock;

/// Chains `events` onto the log within the caller's transaction. Takes the head row's lock,
/// so it must run last in a transaction: the lock is then held only until commit.
pub(crate) async fn append<C: ConnectionTrait>(conn: &C, events: Vec<AuditEvent>) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut select = audit_head::Entity::find_by_id(1);
    if conn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    let head = select.one(conn).await.store()?.ok_or(StoreError::Corrupt("audit head missing"))?;
    let last_hash: [u8; 32] = head.hash.as_slice().try_into().map_err(|_| StoreError::Corrupt("audit head hash"))?;
    let chained = link(head.seq, last_hash, events);
    let Some(new_head) = chained.last().map(|c| (c.seq, c.hash)) else {
        return Ok(());
    };
    // 14 parameters a row: chunks keep every statement far below PostgreSQL's 65,535 limit,
    // however many events one request records (a census of thousands of clients).
    let mut rows: Vec<audit_event::ActiveModel> = chained.into_iter().map(to_row).collect();
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(1000));
        audit_event::Entity::insert_many(std::mem::replace(&mut rows, rest)).exec(conn).await.store()?;
    }
    audit_head::Entity::update(audit_head::ActiveModel {
        id: Set(1),
        seq: Set(new_head.0),
        hash: Set(new_head.1.to_vec()),
    })
    .exec(conn)
    .await
    .store()?;
    Ok(())
}

fn to_row(c: ChainedEvent) -> audit_event::ActiveModel {
    let e = c.event;
    audit_event::ActiveModel {
        seq: Set(c.seq),
        id: Set(e.id.as_uuid()),
        occurred_at: Set(e.occurred_at_ms),
        actor_id: Set(e.actor.map(|a| a.as_uuid())),
        actor_role: Set(e.actor_role.map(|r| r.code().to_owned())),
        action: Set(e.action.code().to_owned()),
        outcome: Set(e.outcome.code().to_owned()),
        client_id: Set(e.client.map(|c| c.as_uuid())),
        subject: Set(e.subject),
        purpose: Set(e.purpose.map(|p| p.code().to_owned())),
        source: Set(e.source),
        detail: Set(e.detail),
        prev_hash: Set(c.prev_hash.to_vec()),
        hash: Set(c.hash.to_vec()),
    }
}

fn parse_purpose(code: &str) -> Option<Purpose> {
    [Purpose::Treatment, Purpose::Payment, Purpose::Operations, Purpose::Oversight]
        .into_iter()
        .find(|p| p.code() == code)
}

/// The stored row as a chained event; `None` when a coded column holds a value we never write
/// (which can only be tampering).
pub(crate) fn from_row(m: audit_event::Model) -> Option<ChainedEvent> {
    let actor_role = match m.actor_role.as_deref() {
        Some(code) => Some(code.parse::<Role>().ok()?),
        None => None,
    };
    let purpose = match m.purpose.as_deref() {
        Some(code) => Some(parse_purpose(code)?),
        None => None,
    };
    Some(ChainedEvent {
        seq: m.seq,
        prev_hash: m.prev_hash.as_slice().try_into().ok()?,
        hash: m.hash.as_slice().try_into().ok()?,
        event: AuditEvent {
            id: AuditEventId::from_uuid(m.id),
            occurred_at_ms: m.occurred_at,
            actor: m.actor_id.map(UserId::from_uuid),
            actor_role,
            action: AuditAction::parse(&m.action)?,
            outcome: Outcome::parse(&m.outcome)?,
            client: m.client_id.map(ClientId::from_uuid),
            subject: m.subject,
            purpose,
            source: m.source,
            detail: m.detail,
        },
    })
}

/// Walks the whole chain in pages, holding one page in memory at a time.
pub(crate) async fn verify_chain(db: &DatabaseConnection) -> Result<ChainReport, StoreError> {
    const PAGE: u64 = 5_000;
    let mut verifier = ChainVerifier::default();
    let mut after = 0i64;
    loop {
        let rows = audit_event::Entity::find()
            .filter(audit_event::Column::Seq.gt(after))
            .order_by_asc(audit_event::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await
            .store()?;
        let count = rows.len();
        for row in rows {
            let seq = row.seq;
            after = seq;
            let Some(chained) = from_row(row) else {
                return Ok(ChainReport::Broken(ChainBreak { seq, kind: BreakKind::Altered }));
            };
            if let Err(b) = verifier.check(&chained) {
                return Ok(ChainReport::Broken(b));
            }
        }
        if (count as u64) < PAGE {
            break;
        }
    }
    let head =
        audit_head::Entity::find_by_id(1).one(db).await.store()?.ok_or(StoreError::Corrupt("audit head missing"))?;
    let head_hash: [u8; 32] = head.hash.as_slice().try_into().map_err(|_| StoreError::Corrupt("audit head hash"))?;
    match verifier.finish(head.seq, &head_hash) {
        Ok(events) => Ok(ChainReport::Intact { events }),
        Err(b) => Ok(ChainReport::Broken(b)),
    }
}

enum Message {
    Append(Vec<AuditEvent>, oneshot::Sender<Result<(), StoreError>>),
    Shutdown(oneshot::Sender<()>),
}

/// The group-commit writer for read events.
#[derive(Clone)]
pub(crate) struct AuditWriter {
    tx: mpsc::Sender<Message>,
    /// When the batch being written was taken up; `None` while the writer is idle.
    busy_since: Arc<std::sync::Mutex<Option<Instant>>>,
}

impl AuditWriter {
    pub(crate) fn start(db: DatabaseConnection, write_lock: Option<WriterLock>, batch: usize) -> Self {
        let (tx, rx) = mpsc::channel(4096);
        let busy_since = Arc::new(std::sync::Mutex::new(None));
        tokio::spawn(run(db, write_lock, rx, batch.max(1), busy_since.clone()));
        Self { tx, busy_since }
    }

    /// How long the batch being written has been waiting to become durable: a writer that
    /// stays busy for seconds holds up every audited read.
    pub(crate) fn oldest_waiting(&self) -> Option<Duration> {
        self.busy_since.lock().unwrap_or_else(PoisonError::into_inner).map(|t| t.elapsed())
    }

    pub(crate) async fn append(&self, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Message::Append(events, done))
            .await
            .map_err(|_| StoreError::Database("audit writer stopped".into()))?;
        wait.await.map_err(|_| StoreError::Database("audit writer stopped".into()))?
    }

    /// Returns once everything queued before the call has been written.
    pub(crate) async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Shutdown(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run(
    db: DatabaseConnection,
    write_lock: Option<WriterLock>,
    mut rx: mpsc::Receiver<Message>,
    batch: usize,
    busy_since: Arc<std::sync::Mutex<Option<Instant>>>,
) {
    let sqlite = db.get_database_backend() == DbBackend::Sqlite;
    while let Some(first) = rx.recv().await {
        let mut waiting = Vec::new();
        let mut events = Vec::new();
        let mut stop = None;
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Message::Append(e, done) => {
                    events.extend(e);
                    waiting.push(done);
                }
                Message::Shutdown(done) => {
                    stop = Some(done);
                    break;
                }
            }
            if events.len() < batch {
                next = rx.try_recv().ok();
            }
        }
        if !events.is_empty() {
            *busy_since.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
            let result = write_batch(&db, write_lock.as_ref(), sqlite, events).await;
            *busy_since.lock().unwrap_or_else(PoisonError::into_inner) = None;
            if let Err(e) = &result {
                tracing::error!(error = %e, "audit batch failed");
                if let Some(detail) = e.redacted_detail() {
                    tracing::debug!(detail = %detail, "audit batch failure detail");
                }
            }
            for done in waiting {
                let _ = done.send(result.clone());
            }
        }
        if let Some(done) = stop {
            // Writes queued behind the shutdown request are refused rather than lost silently.
            rx.close();
            while let Ok(msg) = rx.try_recv() {
                if let Message::Append(_, d) = msg {
                    let _ = d.send(Err(StoreError::Database("shutting down".into())));
                }
            }
            let _ = done.send(());
            return;
        }
    }
}

async fn write_batch(
    db: &DatabaseConnection,
    write_lock: Option<&WriterLock>,
    sqlite: bool,
    events: Vec<AuditEvent>,
) -> Result<(), StoreError> {
    let _guard = match write_lock {
        Some(l) => Some(l.acquire().await),
        None => None,
    };
    let options = TransactionOptions {
        sqlite_transaction_mode: sqlite.then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let txn = db.begin_with_options(options).await.store()?;
    append(&txn, events).await?;
    txn.commit().await.store()
}
