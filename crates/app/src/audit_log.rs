//! Reading the audit log (privacy officer) and checking its chain.

use domain::access::Permission;
use domain::audit::{AuditAction, ChainBreak, ChainedEvent, GENESIS_HASH, Outcome};
use domain::audit_checkpoint::{Checkpoint, SignedCheckpoint, Witness, witness};

use crate::error::AppError;
use crate::ports::{AuditFilter, ChainReport};
use crate::service::{App, Ctx, unix_ms};

impl App {
    /// Events matching `filter`, newest first. Looking is itself recorded.
    pub async fn audit_events(&self, ctx: &Ctx, filter: &AuditFilter) -> Result<Vec<ChainedEvent>, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ViewAuditLog)).await?;
        if let Some(action) = &filter.action
            && AuditAction::parse(action).is_none()
        {
            return Err(AppError::invalid("action", "Choose an action from the list"));
        }
        if let (Some(from), Some(to)) = (filter.from_ms, filter.to_ms)
            && from > to
        {
            return Err(AppError::invalid("to", "The end date must be on or after the start date"));
        }
        let filter = AuditFilter { limit: filter.limit.clamp(1, 500), ..filter.clone() };
        let mut tx = self.store.read().await?;
        let events = tx.audit_events(&filter).await?;
        drop(tx);
        let mut event = self.ctx_event(ctx, AuditAction::AuditViewed, Outcome::Success);
        event.client = filter.client;
        self.store.record(vec![event]).await?;
        Ok(events)
    }

    pub async fn verify_audit_chain(&self) -> Result<ChainReport, AppError> {
        Ok(self.store.verify_audit_chain().await?)
    }

    /// A checkpoint of the chain's newest event now, signed with `key`. For the server's
    /// periodic checkpoints: it does not walk the chain first (that is `audit verify`'s job,
    /// and every checkpoint in a file is checked, so one taken after tampering hides nothing
    /// that an earlier one saw).
    pub async fn audit_checkpoint(&self, key: &[u8]) -> Result<SignedCheckpoint, AppError> {
        let (seq, hash) = self.audit_chain_end().await?;
        Ok(Checkpoint { seq, hash, at_ms: unix_ms(self.clock.now()) }.sign(key))
    }

    /// A checkpoint of the chain as far as it verifies now, or where it is broken. For
    /// `stepdown audit checkpoint`: an operator's checkpoint never vouches for a broken chain.
    pub async fn verified_audit_checkpoint(
        &self,
        key: &[u8],
    ) -> Result<Result<SignedCheckpoint, ChainBreak>, AppError> {
        let events = match self.store.verify_audit_chain().await? {
            ChainReport::Intact { events } => events,
            ChainReport::Broken(b) => return Ok(Err(b)),
        };
        // An intact chain numbers its events 1..=events; later ones may have arrived since.
        let seq = i64::try_from(events).map_err(|_| AppError::Internal("audit sequence out of range"))?;
        let hash = if seq == 0 {
            GENESIS_HASH
        } else {
            self.audit_hash_at(seq).await?.ok_or(AppError::Internal("verified audit event vanished"))?
        };
        Ok(Ok(Checkpoint { seq, hash, at_ms: unix_ms(self.clock.now()) }.sign(key)))
    }

    /// Whether the chain still reaches `checkpoint`'s event with its hash. Verify the chain
    /// first: this answers only for the checkpoint's position.
    pub async fn audit_witness(&self, checkpoint: &Checkpoint) -> Result<Witness, AppError> {
        let (head_seq, _) = self.audit_chain_end().await?;
        let hash = if checkpoint.seq > 0 { self.audit_hash_at(checkpoint.seq).await? } else { None };
        Ok(witness(checkpoint, head_seq, hash))
    }

    /// The newest event's position and hash (0 and the genesis hash for an empty chain).
    async fn audit_chain_end(&self) -> Result<(i64, [u8; 32]), AppError> {
        let mut tx = self.store.read().await?;
        let newest = tx.audit_events(&AuditFilter { limit: 1, ..AuditFilter::default() }).await?;
        Ok(newest.first().map(|e| (e.seq, e.hash)).unwrap_or((0, GENESIS_HASH)))
    }

    async fn audit_hash_at(&self, seq: i64) -> Result<Option<[u8; 32]>, AppError> {
        let mut tx = self.store.read().await?;
        let filter = AuditFilter { before_seq: Some(seq.saturating_add(1)), limit: 1, ..AuditFilter::default() };
        let found = tx.audit_events(&filter).await?;
        Ok(found.first().filter(|e| e.seq == seq).map(|e| e.hash))
    }
}
