//! SQLite's single writer slot in this process, and who holds it.
//!
//! Write transactions and the audit group-commit writer queue here before `BEGIN IMMEDIATE`.
//! Knowing the holder lets the store refuse, at once, a request that would wait for a slot it
//! already holds (it would otherwise hang every other writer behind it), and lets `/readyz`
//! report a writer that has been stuck for seconds. Durations are measured on the monotonic
//! clock: they are operational figures, never stored.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, OwnedMutexGuard};

#[derive(Clone, Default)]
pub(crate) struct WriterLock {
    slot: Arc<Mutex<()>>,
    holder: Arc<std::sync::Mutex<Option<Holder>>>,
}

#[derive(Clone, Copy)]
struct Holder {
    task: Option<tokio::task::Id>,
    since: Instant,
}

/// The slot, held until dropped.
pub(crate) struct WriterGuard {
    _slot: OwnedMutexGuard<()>,
    holder: Arc<std::sync::Mutex<Option<Holder>>>,
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        *self.holder.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

impl WriterLock {
    pub(crate) async fn acquire(&self) -> WriterGuard {
        let slot = self.slot.clone().lock_owned().await;
        *self.holder.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Holder { task: tokio::task::try_id(), since: Instant::now() });
        WriterGuard { _slot: slot, holder: self.holder.clone() }
    }

    /// Whether the task asking holds the slot (an open write transaction of its own).
    pub(crate) fn held_by_current_task(&self) -> bool {
        let Some(me) = tokio::task::try_id() else { return false };
        self.holder.lock().unwrap_or_else(PoisonError::into_inner).is_some_and(|h| h.task == Some(me))
    }

    /// How long the current holder has held the slot.
    pub(crate) fn held_for(&self) -> Option<Duration> {
        self.holder.lock().unwrap_or_else(PoisonError::into_inner).map(|h| h.since.elapsed())
    }
}
