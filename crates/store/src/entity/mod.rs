//! Table mappings. Instants are stored as Unix epoch milliseconds (`BIGINT`) so the same
//! comparisons and indexes work identically on SQLite and PostgreSQL.

pub mod audit_event;
pub mod audit_head;
pub mod care_team_member;
pub mod client;
pub mod login_failure;
pub mod session;
pub mod user;
