//! Stepdown's use cases.
//!
//! Every use case takes an [`Actor`](domain::Actor) and follows one shape:
//! authorize → load (scoped by the actor) → apply domain rules → store → audit, with the
//! audit event written in the same transaction as the change. This crate is the only place
//! that decides who may see what; it knows nothing of HTTP or SQL.

pub mod aftercare;
pub mod attendance;
pub mod audit_log;
pub mod auth;
pub mod clients;
pub mod continuum;
pub mod demo;
pub mod error;
pub mod feeds;
pub mod inquiries;
pub mod iop;
pub mod measurement;
pub mod ports;
pub mod reviews;
pub mod schedule;
pub mod security;
pub mod users;
pub mod visits;

mod service;

pub use error::{AppError, FieldError};
pub use ports::{Clock, IdGen, Store, StoreError, SystemClock, Tx, UuidV7};
pub use service::{App, AppConfig, Ctx, from_unix_ms, unix_ms};
