//! Reading the audit log (privacy officer) and checking its chain.

use domain::access::Permission;
use domain::audit::{AuditAction, ChainedEvent, Outcome};

use crate::error::AppError;
use crate::ports::{AuditFilter, ChainReport};
use crate::service::{App, Ctx};

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
}
