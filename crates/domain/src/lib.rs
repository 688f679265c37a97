//! Stepdown's domain: the types and rules of a step-down continuum of care.
//!
//! This crate must never do I/O, read a clock or generate randomness: time and ids are
//! parameters, so every rule here is a pure function that tests can pin down exactly.

pub mod access;
pub mod aftercare;
pub mod audit;
pub mod audit_checkpoint;
pub mod client;
pub mod episode;
pub mod forms;
pub mod ids;
pub mod inquiry;
pub mod instruments;
pub mod iop;
pub mod level;
pub mod measurement;
pub mod password;
pub mod recommend;
pub mod review;
pub mod role;
pub mod search;
pub mod session;
pub mod site;
pub mod text;
pub mod throttle;
pub mod user;

pub use access::{Actor, Permission, Purpose};
pub use ids::{ClientId, UserId};
pub use role::Role;
