//! Persistence for Stepdown. The only crate that knows SQL: SeaORM entities, the migration
//! tree (one for SQLite and PostgreSQL alike), the session and throttle tables, and the
//! hash-chained audit log with its group-commit writer.

mod aftercare;
mod audit;
mod backup;
mod client_record;
mod continuum;
mod db;
mod entity;
mod error;
pub mod files;
mod inquiries;
mod iop_attendance;
mod iop_calendar;
mod iop_feeds;
mod measurement;
mod migration;
mod tx;
mod writer;

pub use backup::{BackupError, backup_sqlite};
pub use db::{Backend, ConnectError, SeaStore, StoreOptions};
pub use migration::Migrator;
