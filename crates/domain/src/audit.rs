//! The audit trail's content and its hash chain (HIPAA 164.312(b), ONC 170.315(d)(2)).
//!
//! Each record's hash is `SHA-256(previous hash || canonical(record))`, so editing, deleting or
//! reordering a stored row breaks every hash after it. The canonical encoding is length-prefixed
//! and versioned so no two different records encode to the same bytes.
//!
//! Audit events must never carry PHI in `detail`: ids point at records, the records stay put.

use crate::access::Purpose;
use crate::ids::{AuditEventId, ClientId, UserId};
use crate::role::Role;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;

/// What happened. Codes are stable: reports and filters depend on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum AuditAction {
    LoginSuccess,
    LoginFailure,
    LoginThrottled,
    MfaSuccess,
    MfaFailure,
    MfaEnrolled,
    MfaReset,
    Logout,
    SessionRevoked,
    SessionExpired,
    PasswordChanged,
    UserCreated,
    UserUpdated,
    PasswordReset,
    AccessDenied,
    ClientCreated,
    ClientUpdated,
    ClientRead,
    ClientSearched,
    CareTeamChanged,
    AuditViewed,
    SiteChanged,
    EpisodeAdmitted,
    EpisodeDecided,
    AftercareSaved,
    FollowUpRecorded,
    InquiryRead,
    InquiryChanged,
    FormImported,
    ResponseRecorded,
    AlertRaised,
    AlertAcknowledged,
    ReviewRecorded,
    ClientModeStarted,
    ReportViewed,
    ProgramChanged,
    SessionChanged,
    EnrolmentChanged,
    AttendanceRecorded,
    AttendanceAmended,
    CalendarFeedChanged,
    CalendarFeedRead,
}

impl AuditAction {
    pub const ALL: [AuditAction; 42] = [
        AuditAction::LoginSuccess,
        AuditAction::LoginFailure,
        AuditAction::LoginThrottled,
        AuditAction::MfaSuccess,
        AuditAction::MfaFailure,
        AuditAction::MfaEnrolled,
        AuditAction::MfaReset,
        AuditAction::Logout,
        AuditAction::SessionRevoked,
        AuditAction::SessionExpired,
        AuditAction::PasswordChanged,
        AuditAction::UserCreated,
        AuditAction::UserUpdated,
        AuditAction::PasswordReset,
        AuditAction::AccessDenied,
        AuditAction::ClientCreated,
        AuditAction::ClientUpdated,
        AuditAction::ClientRead,
        AuditAction::ClientSearched,
        AuditAction::CareTeamChanged,
        AuditAction::AuditViewed,
        AuditAction::SiteChanged,
        AuditAction::EpisodeAdmitted,
        AuditAction::EpisodeDecided,
        AuditAction::AftercareSaved,
        AuditAction::FollowUpRecorded,
        AuditAction::InquiryRead,
        AuditAction::InquiryChanged,
        AuditAction::FormImported,
        AuditAction::ResponseRecorded,
        AuditAction::AlertRaised,
        AuditAction::AlertAcknowledged,
        AuditAction::ReviewRecorded,
        AuditAction::ClientModeStarted,
        AuditAction::ReportViewed,
        AuditAction::ProgramChanged,
        AuditAction::SessionChanged,
        AuditAction::EnrolmentChanged,
        AuditAction::AttendanceRecorded,
        AuditAction::AttendanceAmended,
        AuditAction::CalendarFeedChanged,
        AuditAction::CalendarFeedRead,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            AuditAction::LoginSuccess => "auth.login.success",
            AuditAction::LoginFailure => "auth.login.failure",
            AuditAction::LoginThrottled => "auth.login.throttled",
            AuditAction::MfaSuccess => "auth.mfa.success",
            AuditAction::MfaFailure => "auth.mfa.failure",
            AuditAction::MfaEnrolled => "auth.mfa.enrolled",
            AuditAction::MfaReset => "auth.mfa.reset",
            AuditAction::Logout => "auth.logout",
            AuditAction::SessionRevoked => "auth.session.revoked",
            AuditAction::SessionExpired => "auth.session.expired",
            AuditAction::PasswordChanged => "auth.password.changed",
            AuditAction::UserCreated => "user.created",
            AuditAction::UserUpdated => "user.updated",
            AuditAction::PasswordReset => "user.password_reset",
            AuditAction::AccessDenied => "access.denied",
            AuditAction::ClientCreated => "client.created",
            AuditAction::ClientUpdated => "client.updated",
            AuditAction::ClientRead => "client.read",
            AuditAction::ClientSearched => "client.searched",
            AuditAction::CareTeamChanged => "client.care_team.changed",
            AuditAction::AuditViewed => "audit.viewed",
            AuditAction::SiteChanged => "site.changed",
            AuditAction::EpisodeAdmitted => "episode.admitted",
            AuditAction::EpisodeDecided => "episode.decided",
            AuditAction::AftercareSaved => "aftercare.saved",
            AuditAction::FollowUpRecorded => "follow_up.recorded",
            AuditAction::InquiryRead => "inquiry.read",
            AuditAction::InquiryChanged => "inquiry.changed",
            AuditAction::FormImported => "form.imported",
            AuditAction::ResponseRecorded => "measure.recorded",
            AuditAction::AlertRaised => "alert.raised",
            AuditAction::AlertAcknowledged => "alert.acknowledged",
            AuditAction::ReviewRecorded => "review.recorded",
            AuditAction::ClientModeStarted => "client_mode.started",
            AuditAction::ReportViewed => "report.viewed",
            AuditAction::ProgramChanged => "program.changed",
            AuditAction::SessionChanged => "session.changed",
            AuditAction::EnrolmentChanged => "enrolment.changed",
            AuditAction::AttendanceRecorded => "attendance.recorded",
            AuditAction::AttendanceAmended => "attendance.amended",
            AuditAction::CalendarFeedChanged => "calendar_feed.changed",
            AuditAction::CalendarFeedRead => "calendar_feed.read",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    pub const fn code(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
    pub fn parse(code: &str) -> Option<Self> {
        [Outcome::Success, Outcome::Failure, Outcome::Denied].into_iter().find(|o| o.code() == code)
    }
}

/// One event, before it takes its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub id: AuditEventId,
    /// Unix epoch milliseconds, UTC.
    pub occurred_at_ms: i64,
    pub actor: Option<UserId>,
    pub actor_role: Option<Role>,
    pub action: AuditAction,
    pub outcome: Outcome,
    pub client: Option<ClientId>,
    /// The kind and id of the record touched, e.g. `user:0190…`. Never PHI.
    pub subject: Option<String>,
    pub purpose: Option<Purpose>,
    /// The network address of the request, when there was one.
    pub source: Option<String>,
    /// Short, PHI-free detail such as a reason code.
    pub detail: Option<String>,
}

/// A stored, chained event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainedEvent {
    pub seq: i64,
    pub event: AuditEvent,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

pub const GENESIS_HASH: [u8; 32] = [0; 32];
const ENCODING_VERSION: u8 = 1;

fn put(buf: &mut Vec<u8>, field: Option<&[u8]>) {
    match field {
        None => buf.push(0),
        Some(bytes) => {
            buf.push(1);
            // Fields are bounded far below 4 GiB; saturate rather than wrap if one ever is not.
            let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            buf.extend_from_slice(&len.to_be_bytes());
            buf.extend_from_slice(bytes);
        }
    }
}

/// The bytes that are hashed for `event` at position `seq`.
pub fn canonical(seq: i64, event: &AuditEvent) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    buf.push(ENCODING_VERSION);
    buf.extend_from_slice(&seq.to_be_bytes());
    put(&mut buf, Some(event.id.as_uuid().as_bytes()));
    buf.extend_from_slice(&event.occurred_at_ms.to_be_bytes());
    put(&mut buf, event.actor.map(|a| a.as_uuid().into_bytes()).as_ref().map(|b| &b[..]));
    put(&mut buf, event.actor_role.map(|r| r.code().as_bytes()));
    put(&mut buf, Some(event.action.code().as_bytes()));
    put(&mut buf, Some(event.outcome.code().as_bytes()));
    put(&mut buf, event.client.map(|c| c.as_uuid().into_bytes()).as_ref().map(|b| &b[..]));
    put(&mut buf, event.subject.as_deref().map(str::as_bytes));
    put(&mut buf, event.purpose.map(|p| p.code().as_bytes()));
    put(&mut buf, event.source.as_deref().map(str::as_bytes));
    put(&mut buf, event.detail.as_deref().map(str::as_bytes));
    buf
}

pub fn chain_hash(prev_hash: &[u8; 32], seq: i64, event: &AuditEvent) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash);
    hasher.update(canonical(seq, event));
    hasher.finalize().into()
}

/// Links `events` onto a chain whose head is (`last_seq`, `last_hash`).
pub fn link(last_seq: i64, last_hash: [u8; 32], events: Vec<AuditEvent>) -> Vec<ChainedEvent> {
    let mut prev = last_hash;
    let mut seq = last_seq;
    events
        .into_iter()
        .map(|event| {
            seq += 1;
            let hash = chain_hash(&prev, seq, &event);
            let chained = ChainedEvent { seq, event, prev_hash: prev, hash };
            prev = hash;
            chained
        })
        .collect()
}

/// How a chain is broken at a given row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakKind {
    /// A row is missing before this one (sequence gap).
    Missing { expected_seq: i64 },
    /// This row does not point at the row before it: rows were removed or moved.
    Relinked,
    /// This row's content no longer matches its hash: it was edited.
    Altered,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: i64,
    pub kind: BreakKind,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            BreakKind::Missing { expected_seq } => {
                write!(f, "event {expected_seq} is missing (next present is {})", self.seq)
            }
            BreakKind::Relinked => write!(f, "event {} does not follow the event before it", self.seq),
            BreakKind::Altered => write!(f, "event {} was altered after it was written", self.seq),
        }
    }
}

/// Walks a chain in order, one row at a time, so a verifier never holds the whole log.
#[derive(Clone, Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: [u8; 32],
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { expected_seq: 1, prev_hash: GENESIS_HASH, checked: 0 }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, row: &ChainedEvent) -> Result<(), ChainBreak> {
        if row.seq != self.expected_seq {
            return Err(ChainBreak { seq: row.seq, kind: BreakKind::Missing { expected_seq: self.expected_seq } });
        }
        if row.prev_hash != self.prev_hash {
            return Err(ChainBreak { seq: row.seq, kind: BreakKind::Relinked });
        }
        if chain_hash(&row.prev_hash, row.seq, &row.event) != row.hash {
            return Err(ChainBreak { seq: row.seq, kind: BreakKind::Altered });
        }
        self.expected_seq += 1;
        self.prev_hash = row.hash;
        self.checked += 1;
        Ok(())
    }

    /// The chain ended: compare with the head we recorded, which catches truncation of the tail.
    pub fn finish(&self, head_seq: i64, head_hash: &[u8; 32]) -> Result<u64, ChainBreak> {
        let last = self.expected_seq - 1;
        if last != head_seq {
            return Err(ChainBreak { seq: head_seq, kind: BreakKind::Missing { expected_seq: last + 1 } });
        }
        if &self.prev_hash != head_hash {
            return Err(ChainBreak { seq: head_seq, kind: BreakKind::Altered });
        }
        Ok(self.checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn event(n: u128) -> AuditEvent {
        AuditEvent {
            id: AuditEventId::from_uuid(Uuid::from_u128(n)),
            occurred_at_ms: 1_700_000_000_000 + i64::try_from(n).unwrap_or(0),
            actor: Some(UserId::from_uuid(Uuid::from_u128(7))),
            actor_role: Some(Role::Counselor),
            action: AuditAction::ClientRead,
            outcome: Outcome::Success,
            client: Some(ClientId::from_uuid(Uuid::from_u128(9))),
            subject: None,
            purpose: Some(Purpose::Treatment),
            source: Some("127.0.0.1".into()),
            detail: None,
        }
    }

    fn verify(rows: &[ChainedEvent], head: (i64, [u8; 32])) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for r in rows {
            v.check(r)?;
        }
        v.finish(head.0, &head.1)
    }

    fn chain(n: u128) -> (Vec<ChainedEvent>, (i64, [u8; 32])) {
        let rows = link(0, GENESIS_HASH, (1..=n).map(event).collect());
        let head = rows.last().map(|r| (r.seq, r.hash)).unwrap_or((0, GENESIS_HASH));
        (rows, head)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (rows, head) = chain(5);
        assert_eq!(verify(&rows, head), Ok(5));
        assert_eq!(verify(&[], (0, GENESIS_HASH)), Ok(0));
    }

    #[test]
    fn linking_in_batches_equals_linking_at_once() {
        let (all, _) = chain(6);
        let first = link(0, GENESIS_HASH, (1..=2).map(event).collect());
        let second = link(2, first[1].hash, (3..=6).map(event).collect());
        assert_eq!(all, [first, second].concat());
    }

    #[test]
    fn an_edited_row_is_found() {
        let (mut rows, head) = chain(5);
        rows[2].event.detail = Some("changed".into());
        assert_eq!(verify(&rows, head), Err(ChainBreak { seq: 3, kind: BreakKind::Altered }));
    }

    #[test]
    fn a_deleted_row_is_found() {
        let (mut rows, head) = chain(5);
        rows.remove(1);
        assert_eq!(verify(&rows, head), Err(ChainBreak { seq: 3, kind: BreakKind::Missing { expected_seq: 2 } }));
    }

    #[test]
    fn reordered_rows_are_found() {
        let (mut rows, head) = chain(5);
        // Swap the content of rows 2 and 3 but keep their sequence numbers in order.
        let (a, b) = (rows[1].clone(), rows[2].clone());
        rows[1] = ChainedEvent { seq: 2, ..b };
        rows[2] = ChainedEvent { seq: 3, ..a };
        assert_eq!(verify(&rows, head), Err(ChainBreak { seq: 2, kind: BreakKind::Relinked }));
    }

    #[test]
    fn a_truncated_tail_is_found() {
        let (mut rows, head) = chain(5);
        rows.pop();
        assert_eq!(verify(&rows, head), Err(ChainBreak { seq: 5, kind: BreakKind::Missing { expected_seq: 5 } }));
    }

    #[test]
    fn distinct_events_encode_distinctly() {
        let mut a = event(1);
        let mut b = event(1);
        a.subject = Some("ab".into());
        a.detail = Some("c".into());
        b.subject = Some("a".into());
        b.detail = Some("bc".into());
        assert_ne!(canonical(1, &a), canonical(1, &b));
        let mut c = event(1);
        c.subject = Some(String::new());
        assert_ne!(canonical(1, &event(1)), canonical(1, &c), "empty is not absent");
    }

    #[test]
    fn action_codes_round_trip() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.code()), Some(a));
        }
    }
}
