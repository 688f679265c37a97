//! Table mappings. Instants are stored as Unix epoch milliseconds (`BIGINT`) so the same
//! comparisons and indexes work identically on SQLite and PostgreSQL.

pub mod aftercare_plan;
pub mod audit_event;
pub mod audit_head;
pub mod bed;
pub mod care_team_member;
pub mod client;
pub mod client_contact;
pub mod client_coverage;
pub mod client_mode_handoff;
pub mod client_trigram;
pub mod episode;
pub mod episode_event;
pub mod episode_team_member;
pub mod follow_up;
pub mod form_response;
pub mod inquiry;
pub mod inquiry_task;
pub mod login_failure;
pub mod placement;
pub mod questionnaire;
pub mod readiness_review;
pub mod room;
pub mod safety_alert;
pub mod session;
pub mod setting;
pub mod site;
pub mod user;
