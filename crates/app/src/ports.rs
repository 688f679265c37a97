//! The ports the use cases need from the outside world. `store` implements the storage ports;
//! tests and the binary choose the clock and the id generator.

use async_trait::async_trait;
use domain::access::ClientScope;
use domain::audit::{AuditEvent, ChainBreak, ChainedEvent};
use domain::client::{Client, ClientRecord, Contact, Coverage, Mrn, TeamRole};
use domain::episode::{Episode, Placement, TransitionKind};
use domain::ids::{
    AlertId, BedId, ClientId, ContactId, CoverageId, EpisodeId, IopSessionId, PlacementId, ResponseId, SessionId,
    SiteId, UserId,
};
use domain::level::LevelCode;
use domain::measurement::{Acknowledgement, Alert, FormResponse};
use domain::review::ReadinessReview;
use domain::site::{BedView, Site};
use domain::user::{User, Username};
use std::collections::{BTreeMap, BTreeSet};
use time::Date;
use time::OffsetDateTime;
use uuid::Uuid;

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

pub trait IdGen: Send + Sync {
    fn new_id(&self) -> Uuid;
}

/// Time-ordered UUIDs, so ids sort by creation and index well.
pub struct UuidV7;

impl IdGen for UuidV7 {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// A storage failure. Its `Display` carries no data from the rows involved: a driver's message
/// can quote the values of a row (a duplicate key, a failing check), so it is shown only by
/// [`StoreError::redacted_detail`], for debug logs.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a unique value is already taken: {0}")]
    Duplicate(&'static str),
    #[error("the database is busy; try again")]
    Busy,
    #[error("stored data is inconsistent: {0}")]
    Corrupt(&'static str),
    #[error("database error")]
    Database(String),
}

impl StoreError {
    /// The driver's message, if any, with every quoted or bracketed part blanked: the shape of
    /// the failure (which statement, which constraint) without the values in it.
    pub fn redacted_detail(&self) -> Option<String> {
        let StoreError::Database(text) = self else { return None };
        let mut out = String::with_capacity(text.len());
        let mut closing: Vec<char> = Vec::new();
        for c in text.chars() {
            match (closing.last().copied(), c) {
                (Some(end), c) if c == end => {
                    closing.pop();
                    if closing.is_empty() {
                        out.push(c);
                    }
                }
                (Some(_), '(') => closing.push(')'),
                (Some(_), _) => {}
                (None, '\'' | '"') => {
                    out.push(c);
                    out.push('…');
                    closing.push(c);
                }
                (None, '(') => {
                    out.push_str("(…");
                    closing.push(')');
                }
                (None, c) => out.push(c),
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod store_error_tests {
    use super::StoreError;

    #[test]
    fn a_drivers_values_never_reach_the_message() {
        let e = StoreError::Database(
            r#"duplicate key value violates unique constraint "clients_mrn_key": Key (mrn)=(SD-000123) already exists"#
                .into(),
        );
        assert_eq!(e.to_string(), "database error");
        assert_eq!(
            e.redacted_detail().as_deref(),
            Some(r#"duplicate key value violates unique constraint "…": Key (…)=(…) already exists"#)
        );
        assert_eq!(
            StoreError::Database("invalid input 'Ana (O'Neil)' here".into()).redacted_detail().as_deref(),
            Some("invalid input '…' here"),
            "nested and unbalanced quotes stay blanked"
        );
        assert_eq!(StoreError::Busy.redacted_detail(), None);
    }
}

/// What a login needs to know about an account, including its secrets.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
    pub totp_secret: Option<Vec<u8>>,
    /// The TOTP time step last accepted, so a code cannot be replayed.
    pub totp_last_step: Option<i64>,
    pub totp_pending_secret: Option<Vec<u8>>,
}

/// Where a session stands on the way to full sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStage {
    /// The password was right; a TOTP code is still needed.
    MfaPending,
    /// The password was right; policy requires MFA and the user has not enrolled yet.
    MfaEnrolRequired,
    Full,
}

impl SessionStage {
    pub const fn code(self) -> &'static str {
        match self {
            SessionStage::MfaPending => "mfa_pending",
            SessionStage::MfaEnrolRequired => "mfa_enrol",
            SessionStage::Full => "full",
        }
    }
    pub fn parse(code: &str) -> Option<Self> {
        [SessionStage::MfaPending, SessionStage::MfaEnrolRequired, SessionStage::Full]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

#[derive(Clone, Debug)]
pub struct SessionRecord {
    pub id: SessionId,
    /// SHA-256 of the bearer token; the token itself is never stored.
    pub token_hash: String,
    pub user_id: UserId,
    pub stage: SessionStage,
    pub csrf_token: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// Network address and user agent at sign-in, for the "your sessions" list.
    pub source: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThrottleKey<'a> {
    Account(&'a str),
    Address(&'a str),
}

#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<UserId>,
    pub client: Option<ClientId>,
    pub action: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Return events with `seq` below this, newest first (keyset paging).
    pub before_seq: Option<i64>,
    pub limit: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamMember {
    pub user_id: UserId,
    pub display_name: String,
    pub team_role: TeamRole,
}

/// A follow-up contact: scheduled at discharge, answered later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FollowUp {
    pub id: domain::ids::FollowUpId,
    pub episode: EpisodeId,
    pub client: ClientId,
    /// 30, 60 or 90.
    pub day: u16,
    pub due_on: Date,
    pub outcome: Option<domain::aftercare::FollowUpOutcome>,
    pub recorded_at: Option<OffsetDateTime>,
    pub recorded_by: Option<UserId>,
}

/// What a client search looks for; any part may be empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientQuery {
    pub trigrams: Vec<String>,
    pub mrn: Option<Mrn>,
    pub date_of_birth: Option<Date>,
    pub phone_digits: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomView {
    pub id: Uuid,
    pub site: SiteId,
    pub name: String,
    pub capacity: u16,
    pub beds: Vec<BedView>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteView {
    pub site: Site,
    pub rooms: Vec<RoomView>,
}

/// A recorded decision about an episode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpisodeEvent {
    pub id: Uuid,
    pub episode: EpisodeId,
    pub kind: TransitionKind,
    pub on: Date,
    pub decided_at: OffsetDateTime,
    pub decided_by: UserId,
    /// Filled in when read back.
    pub decided_by_name: String,
    pub reason: String,
    pub from_level: Option<LevelCode>,
    pub to_level: Option<LevelCode>,
    pub planned_end: Option<Date>,
}

/// One client in an open placement, for the census board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CensusRow {
    pub client: Client,
    pub episode: EpisodeId,
    pub admitted_on: Date,
    pub placement: Placement,
}

/// Whether an imported questionnaire version may still be administered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormStatus {
    Active,
    Retired,
}

impl FormStatus {
    pub const fn code(self) -> &'static str {
        match self {
            FormStatus::Active => "active",
            FormStatus::Retired => "retired",
        }
    }
    pub fn parse(code: &str) -> Option<Self> {
        [FormStatus::Active, FormStatus::Retired].into_iter().find(|s| s.code() == code)
    }
}

/// One version of an imported questionnaire, with the FHIR text as it arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredForm {
    pub id: domain::ids::FormId,
    pub form: domain::forms::FormDefinition,
    pub status: FormStatus,
    pub definition: String,
    pub imported_by: UserId,
    pub imported_at: OffsetDateTime,
}

/// A form handed to a client on a tablet: the only thing the token opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handoff {
    pub id: Uuid,
    /// SHA-256 of the bearer token; the token itself is never stored.
    pub token_hash: String,
    pub csrf_token: String,
    pub client: ClientId,
    pub form_url: String,
    pub form_version: String,
    pub created_by: UserId,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

/// An IOP session as attendance sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttendanceSession {
    pub id: IopSessionId,
    pub site: SiteId,
    pub modality: domain::iop::Modality,
    pub title: String,
    pub slot: domain::iop::Slot,
    pub facilitator: UserId,
    pub substitute: Option<UserId>,
    pub cancelled: bool,
    pub note: Option<String>,
    pub note_signed_at: Option<OffsetDateTime>,
    pub note_signed_by: Option<UserId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttendanceRecord {
    pub session: IopSessionId,
    pub client: ClientId,
    pub status: domain::iop::program::AttendanceStatus,
    pub minutes: u16,
    pub recorded_by: UserId,
    pub recorded_at: OffsetDateTime,
}

/// A change to attendance after the session note was signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttendanceAmendment {
    pub id: Uuid,
    pub session: IopSessionId,
    pub client: ClientId,
    pub old_status: domain::iop::program::AttendanceStatus,
    pub old_minutes: u16,
    pub new_status: domain::iop::program::AttendanceStatus,
    pub new_minutes: u16,
    pub reason: String,
    pub by: UserId,
    pub at: OffsetDateTime,
}

/// A call to make: opened by an unexcused absence, for the client's primary counselor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutreachTask {
    pub id: Uuid,
    pub client: ClientId,
    pub session: Option<IopSessionId>,
    pub assigned_to: Option<UserId>,
    pub reason: String,
    pub due_on: Date,
    pub created_at: OffsetDateTime,
    pub done_at: Option<OffsetDateTime>,
    pub outcome: Option<String>,
}

/// One client on one session's roster, with the attendance if recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramEntry {
    pub client: ClientId,
    pub session: IopSessionId,
    pub modality: domain::iop::Modality,
    pub slot: domain::iop::Slot,
    pub cancelled: bool,
    pub attendance: Option<(domain::iop::program::AttendanceStatus, u16)>,
}

/// Records the demo center did not make. Clients and inquiries carry a demo mark; accounts
/// and sites do not, so all of them count: the demo asks only before it has made its own.
/// Everything else is made by a signed-in account, and accounts are never deleted, so a
/// database with none of these holds nothing of anyone's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RealRecords {
    pub users: u64,
    pub clients: u64,
    pub inquiries: u64,
    pub sites: u64,
}

impl RealRecords {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainReport {
    Intact { events: u64 },
    Broken(ChainBreak),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub database: bool,
    pub pending_migrations: usize,
    /// How long the database writer has been busy with one unit of work (a write
    /// transaction, or a batch of audit events not yet durable); `None` when idle.
    pub writer_busy_for: Option<std::time::Duration>,
}

// IOP program calendar: tracks, templates, closures, sessions, rosters and enrolments.

/// An IOP track: clients who meet on the same weekly template at one site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    pub id: domain::ids::TrackId,
    pub site: SiteId,
    pub name: String,
    /// The most clients a group session of this track holds.
    pub group_limit: u16,
    pub active_from: Date,
    pub active_until: Option<Date>,
}

/// One entry of a track's weekly template. Retired entries generate no more sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackTemplate {
    pub track: domain::ids::TrackId,
    pub entry: domain::iop::program::TemplateEntry,
    pub retired: bool,
}

/// A day a site's program does not meet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteClosure {
    pub id: Uuid,
    pub site: SiteId,
    pub closure: domain::iop::program::Closure,
}

/// A session on the program's calendar: generated from a track's template, or booked as an
/// individual or family appointment (no track).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramSession {
    pub id: IopSessionId,
    pub site: SiteId,
    pub track: Option<domain::ids::TrackId>,
    pub template: Option<domain::ids::TemplateId>,
    pub modality: domain::iop::Modality,
    pub title: String,
    pub slot: domain::iop::Slot,
    pub facilitator: UserId,
    pub substitute: Option<UserId>,
    pub room: Option<Uuid>,
    pub capacity: u16,
    pub cancelled: bool,
    /// Why it was cancelled (or where it moved to).
    pub status_reason: Option<String>,
    pub created_at: OffsetDateTime,
}

impl ProgramSession {
    /// Who runs it: the substitute when there is one, else the facilitator.
    pub fn staff(&self) -> UserId {
        self.substitute.unwrap_or(self.facilitator)
    }
}

/// Which sessions to read: those dated `from..=to`, narrowed by each filter that is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionFilter {
    pub from: Date,
    pub to: Date,
    pub track: Option<domain::ids::TrackId>,
    /// Facilitating or substituting.
    pub staff: Option<UserId>,
    pub room: Option<Uuid>,
    /// On the roster.
    pub client: Option<ClientId>,
    pub include_cancelled: bool,
}

impl SessionFilter {
    /// Every scheduled (not cancelled) session dated `from..=to`.
    pub fn between(from: Date, to: Date) -> Self {
        Self { from, to, track: None, staff: None, room: None, client: None, include_cancelled: false }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterEntry {
    pub session: IopSessionId,
    pub client: ClientId,
    pub added_at: OffsetDateTime,
    pub added_by: UserId,
}

/// A client's place in a track, first and last day inclusive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackEnrolment {
    pub id: domain::ids::EnrolmentId,
    pub client: ClientId,
    pub episode: EpisodeId,
    pub track: domain::ids::TrackId,
    pub from: Date,
    pub until: Option<Date>,
    pub created_by: UserId,
    pub created_at: OffsetDateTime,
}

/// Whose sessions a calendar feed shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedOwner {
    /// The sessions a staff member runs.
    Staff(UserId),
    /// The sessions a client is on the roster of.
    Client(ClientId),
}

/// A private iCalendar URL. Only the SHA-256 of its token is stored; the token is shown once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarFeed {
    pub id: Uuid,
    pub token_hash: String,
    pub owner: FeedOwner,
    pub created_by: UserId,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// The database as the use cases see it.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A unit of work that may write.
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError>;
    /// A unit of work that only reads: it never waits for writers (SQLite serializes writers).
    async fn read(&self) -> Result<Box<dyn Tx>, StoreError>;
    /// Appends events that record *reads*; batched with other requests' events into one
    /// transaction, and returns only once they are durable.
    async fn record(&self, events: Vec<AuditEvent>) -> Result<(), StoreError>;
    async fn readiness(&self) -> Readiness;
    /// Walks the whole audit chain.
    async fn verify_audit_chain(&self) -> Result<ChainReport, StoreError>;
}

/// One unit of work. Dropping it without `commit` rolls everything back.
#[async_trait]
pub trait Tx: Send {
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    /// Records a refusal durably and discards this unit's work so far; the unit goes on,
    /// empty. A refusal found while a unit of work is open is recorded here, never through
    /// `Store::record`, which on SQLite would wait for the writer slot this unit holds.
    async fn refuse(&mut self, events: Vec<AuditEvent>) -> Result<(), StoreError>;

    // Accounts
    async fn count_users(&mut self) -> Result<u64, StoreError>;
    async fn insert_user(&mut self, user: &User, password_hash: &str) -> Result<(), StoreError>;
    async fn update_user(&mut self, user: &User) -> Result<(), StoreError>;
    async fn credentials_by_username(&mut self, name: &Username) -> Result<Option<Credentials>, StoreError>;
    async fn credentials_by_id(&mut self, id: UserId) -> Result<Option<Credentials>, StoreError>;
    async fn user_by_id(&mut self, id: UserId) -> Result<Option<User>, StoreError>;
    async fn list_users(&mut self) -> Result<Vec<User>, StoreError>;
    async fn set_password(&mut self, id: UserId, hash: &str, must_change: bool) -> Result<(), StoreError>;
    async fn set_totp(
        &mut self,
        id: UserId,
        secret: Option<&[u8]>,
        pending: Option<&[u8]>,
        last_step: Option<i64>,
    ) -> Result<(), StoreError>;
    /// Moves the last accepted TOTP step forward; false when `step` is not newer (a replay).
    async fn advance_totp_step(&mut self, id: UserId, step: i64) -> Result<bool, StoreError>;

    // Sessions
    async fn insert_session(&mut self, session: &SessionRecord) -> Result<(), StoreError>;
    async fn session_by_token_hash(&mut self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError>;
    async fn touch_session(&mut self, id: SessionId, at: OffsetDateTime) -> Result<(), StoreError>;
    async fn delete_session(&mut self, id: SessionId) -> Result<bool, StoreError>;
    /// Ends every session of `user` except `keep`; returns how many ended.
    async fn delete_user_sessions(&mut self, user: UserId, keep: Option<SessionId>) -> Result<u64, StoreError>;
    async fn sessions_of(&mut self, user: UserId) -> Result<Vec<SessionRecord>, StoreError>;
    async fn delete_sessions_idle_since(
        &mut self,
        before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> Result<u64, StoreError>;

    // Sign-in throttling
    /// One failed sign-in: counted against the account name as typed and against the address,
    /// which remembers the account (both as keyed digests).
    async fn record_login_failure(
        &mut self,
        account: &str,
        address: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The failures from an address since `since`, each with the account it tried.
    async fn address_failures_since(
        &mut self,
        address: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<(OffsetDateTime, String)>, StoreError>;
    async fn login_failures_since(
        &mut self,
        key: ThrottleKey<'_>,
        since: OffsetDateTime,
    ) -> Result<Vec<OffsetDateTime>, StoreError>;
    async fn clear_login_failures(&mut self, key: ThrottleKey<'_>) -> Result<(), StoreError>;

    // Clients and care teams
    /// Inserts the record and indexes its names for search.
    async fn insert_client(
        &mut self,
        record: &ClientRecord,
        is_demo: bool,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn update_client(&mut self, record: &ClientRecord) -> Result<(), StoreError>;
    async fn client_record(&mut self, scope: &ClientScope, id: ClientId) -> Result<Option<ClientRecord>, StoreError>;
    async fn mrn_taken(&mut self, mrn: &Mrn) -> Result<bool, StoreError>;
    async fn contacts(&mut self, client: ClientId) -> Result<Vec<Contact>, StoreError>;
    async fn insert_contact(&mut self, client: ClientId, contact: &Contact) -> Result<(), StoreError>;
    async fn delete_contact(&mut self, client: ClientId, id: ContactId) -> Result<bool, StoreError>;
    /// The client a contact belongs to, whoever that is (to tell a probe from a typo).
    async fn contact_owner(&mut self, id: ContactId) -> Result<Option<ClientId>, StoreError>;
    /// The client a coverage belongs to, whoever that is.
    async fn coverage_owner(&mut self, id: CoverageId) -> Result<Option<ClientId>, StoreError>;
    async fn coverages(&mut self, client: ClientId) -> Result<Vec<Coverage>, StoreError>;
    async fn insert_coverage(&mut self, client: ClientId, coverage: &Coverage) -> Result<(), StoreError>;
    async fn delete_coverage(&mut self, client: ClientId, id: CoverageId) -> Result<bool, StoreError>;
    /// What the database holds that the demo center did not make (see [`RealRecords`]).
    async fn count_real_records(&mut self) -> Result<RealRecords, StoreError>;
    async fn setting(&mut self, key: &str) -> Result<Option<String>, StoreError>;
    async fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError>;
    /// The next number of the center's MRN sequence (starts at 1).
    async fn next_mrn_seq(&mut self) -> Result<u64, StoreError>;
    /// Candidates for a search, best first: by shared name trigrams, or by exact MRN, date of
    /// birth or phone digits.
    async fn search_clients(
        &mut self,
        scope: &ClientScope,
        query: &ClientQuery,
        limit: u64,
    ) -> Result<Vec<ClientRecord>, StoreError>;
    async fn client(&mut self, scope: &ClientScope, id: ClientId) -> Result<Option<Client>, StoreError>;
    async fn clients(&mut self, scope: &ClientScope, limit: u64) -> Result<Vec<Client>, StoreError>;
    async fn care_team_clients(&mut self, user: UserId) -> Result<BTreeSet<ClientId>, StoreError>;
    async fn care_team(&mut self, client: ClientId) -> Result<Vec<TeamMember>, StoreError>;
    async fn add_team_member(
        &mut self,
        client: ClientId,
        user: UserId,
        role: TeamRole,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn remove_team_member(&mut self, client: ClientId, user: UserId) -> Result<bool, StoreError>;
    async fn episode_team(&mut self, episode: EpisodeId) -> Result<Vec<TeamMember>, StoreError>;
    async fn add_episode_team_member(
        &mut self,
        episode: EpisodeId,
        client: ClientId,
        user: UserId,
        role: TeamRole,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn remove_episode_team_member(&mut self, episode: EpisodeId, user: UserId) -> Result<bool, StoreError>;
    /// Whether `user` was on the team of any of the client's episodes.
    async fn on_any_episode_team(&mut self, client: ClientId, user: UserId) -> Result<bool, StoreError>;

    // Sites, rooms, beds
    async fn insert_site(&mut self, site: &Site) -> Result<(), StoreError>;
    async fn sites(&mut self) -> Result<Vec<SiteView>, StoreError>;
    async fn insert_room(&mut self, id: Uuid, site: SiteId, name: &str, capacity: u16) -> Result<(), StoreError>;
    /// The room's site, capacity and number of beds.
    async fn room(&mut self, id: Uuid) -> Result<Option<(SiteId, u16, u64)>, StoreError>;
    async fn insert_bed(&mut self, id: BedId, room: Uuid, site: SiteId, label: &str) -> Result<(), StoreError>;
    /// True when another episode's placement holds `bed` on `from` or later. Locks the bed row
    /// (PostgreSQL) so two admissions cannot both take it.
    async fn bed_taken(&mut self, bed: BedId, from: Date, except: EpisodeId) -> Result<bool, StoreError>;

    // Episodes
    /// Writes the episode and its placements as they now stand (placements are never removed).
    async fn save_episode(&mut self, episode: &Episode, catalogue: &str, at: OffsetDateTime) -> Result<(), StoreError>;
    async fn episode(&mut self, scope: &ClientScope, id: EpisodeId) -> Result<Option<Episode>, StoreError>;
    async fn episodes_of(&mut self, client: ClientId) -> Result<Vec<Episode>, StoreError>;
    /// [`Tx::episodes_of`] for many clients in a few queries (clients with none are absent).
    async fn episodes_of_clients(
        &mut self,
        clients: &[ClientId],
    ) -> Result<BTreeMap<ClientId, Vec<Episode>>, StoreError>;
    async fn insert_episode_event(&mut self, event: &EpisodeEvent) -> Result<(), StoreError>;
    async fn episode_events(&mut self, episode: EpisodeId) -> Result<Vec<EpisodeEvent>, StoreError>;
    /// Everyone in an open placement, within `scope`.
    async fn census(&mut self, scope: &ClientScope) -> Result<Vec<CensusRow>, StoreError>;

    // Aftercare
    async fn aftercare_plan(
        &mut self,
        episode: EpisodeId,
    ) -> Result<Option<domain::aftercare::AftercarePlan>, StoreError>;
    async fn save_aftercare_plan(
        &mut self,
        episode: EpisodeId,
        plan: &domain::aftercare::AftercarePlan,
        by: UserId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn schedule_follow_ups(&mut self, items: &[FollowUp]) -> Result<(), StoreError>;
    async fn follow_ups_of(&mut self, episode: EpisodeId) -> Result<Vec<FollowUp>, StoreError>;
    async fn follow_up(
        &mut self,
        scope: &ClientScope,
        id: domain::ids::FollowUpId,
    ) -> Result<Option<FollowUp>, StoreError>;
    /// Unanswered follow-ups due on or before `until`, oldest first.
    async fn follow_ups_due(
        &mut self,
        scope: &ClientScope,
        until: Date,
        limit: u64,
    ) -> Result<Vec<FollowUp>, StoreError>;
    /// Records the outcome once; false when it was already recorded.
    async fn record_follow_up(
        &mut self,
        id: domain::ids::FollowUpId,
        outcome: &domain::aftercare::FollowUpOutcome,
        by: UserId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    // Inquiries
    async fn insert_inquiry(&mut self, inquiry: &domain::inquiry::Inquiry, is_demo: bool) -> Result<(), StoreError>;
    async fn update_inquiry(&mut self, inquiry: &domain::inquiry::Inquiry) -> Result<(), StoreError>;
    async fn inquiry(&mut self, id: domain::ids::InquiryId) -> Result<Option<domain::inquiry::Inquiry>, StoreError>;
    /// Open inquiries, and closed ones received since `since`, newest first.
    async fn inquiries(
        &mut self,
        since: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<domain::inquiry::Inquiry>, StoreError>;
    /// Other inquiries with the same date of birth or phone digits.
    async fn similar_inquiries(
        &mut self,
        dob: Option<Date>,
        phone: Option<&str>,
        except: domain::ids::InquiryId,
    ) -> Result<Vec<domain::inquiry::Inquiry>, StoreError>;
    async fn inquiry_tasks(
        &mut self,
        inquiry: Option<domain::ids::InquiryId>,
        open_only: bool,
    ) -> Result<Vec<domain::inquiry::Task>, StoreError>;
    async fn insert_inquiry_task(&mut self, task: &domain::inquiry::Task) -> Result<(), StoreError>;
    async fn complete_inquiry_task(&mut self, id: domain::ids::TaskId, at: OffsetDateTime) -> Result<bool, StoreError>;

    // Measurement
    async fn imported_forms(&mut self) -> Result<Vec<StoredForm>, StoreError>;
    async fn insert_form(&mut self, form: &StoredForm) -> Result<(), StoreError>;
    /// Retires every active version of `url` except `keep`; returns how many.
    async fn retire_forms(&mut self, url: &str, keep: Option<&str>) -> Result<u64, StoreError>;
    /// Retires one version; false when it was not active.
    async fn retire_form(&mut self, id: domain::ids::FormId) -> Result<bool, StoreError>;
    async fn insert_response(&mut self, response: &FormResponse) -> Result<(), StoreError>;
    async fn response(&mut self, id: ResponseId) -> Result<Option<FormResponse>, StoreError>;
    /// A client's responses, oldest first.
    async fn responses_of(&mut self, client: ClientId) -> Result<Vec<FormResponse>, StoreError>;
    /// Responses of many clients authored at or after `since`, oldest first.
    async fn responses_of_clients(
        &mut self,
        clients: &[ClientId],
        since: OffsetDateTime,
    ) -> Result<Vec<FormResponse>, StoreError>;
    async fn insert_alert(&mut self, alert: &Alert) -> Result<(), StoreError>;
    async fn alert(&mut self, id: AlertId) -> Result<Option<Alert>, StoreError>;
    /// Alerts within `scope` (of one client when given), newest first.
    async fn alerts(
        &mut self,
        scope: &ClientScope,
        client: Option<ClientId>,
        open_only: bool,
    ) -> Result<Vec<Alert>, StoreError>;
    /// Records the acknowledgement once; false when the alert was already acknowledged.
    async fn acknowledge_alert(&mut self, id: AlertId, ack: &Acknowledgement) -> Result<bool, StoreError>;
    async fn insert_review(&mut self, review: &ReadinessReview) -> Result<(), StoreError>;
    /// A client's reviews, newest first.
    async fn reviews_of(&mut self, client: ClientId) -> Result<Vec<ReadinessReview>, StoreError>;
    /// The date of the latest review of each placement that has one.
    async fn last_reviews(&mut self, placements: &[PlacementId]) -> Result<BTreeMap<PlacementId, Date>, StoreError>;
    /// Every review in a time range, for the agreement report.
    async fn reviews_between(
        &mut self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<ReadinessReview>, StoreError>;
    async fn insert_handoff(&mut self, handoff: &Handoff) -> Result<(), StoreError>;
    async fn handoff_by_token(&mut self, token_hash: &str) -> Result<Option<Handoff>, StoreError>;
    /// Marks the hand-off used; false when it already was.
    async fn use_handoff(&mut self, id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError>;

    // IOP: program calendar (tracks, templates, closures, sessions, roster, enrolments)
    /// Serializes bookings, so two transactions cannot both find a slot free and take it (a
    /// transaction-scoped lock on PostgreSQL; SQLite's single writer already does it).
    async fn lock_program_calendar(&mut self) -> Result<(), StoreError>;
    async fn tracks(&mut self) -> Result<Vec<Track>, StoreError>;
    /// Inserts or updates a track.
    async fn save_track(&mut self, track: &Track, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Template entries of one track, or of every track; retired ones included.
    async fn templates(&mut self, track: Option<domain::ids::TrackId>) -> Result<Vec<TrackTemplate>, StoreError>;
    /// Inserts or updates a template entry.
    async fn save_template(&mut self, template: &TrackTemplate) -> Result<(), StoreError>;
    /// Closures dated `from..=to`, of one site or of all.
    async fn closures(&mut self, site: Option<SiteId>, from: Date, to: Date) -> Result<Vec<SiteClosure>, StoreError>;
    /// `Duplicate` when the site is already closed that day.
    async fn insert_closure(&mut self, closure: &SiteClosure) -> Result<(), StoreError>;
    async fn delete_closure(&mut self, id: Uuid) -> Result<bool, StoreError>;
    /// False (and nothing written) when the session's template already has a session that day.
    async fn insert_program_session(&mut self, session: &ProgramSession) -> Result<bool, StoreError>;
    /// Writes the calendar fields of a session (not the attendance note).
    async fn update_program_session(&mut self, session: &ProgramSession) -> Result<(), StoreError>;
    async fn program_session(&mut self, id: IopSessionId) -> Result<Option<ProgramSession>, StoreError>;
    /// Sessions by date, then start.
    async fn program_sessions(&mut self, filter: &SessionFilter) -> Result<Vec<ProgramSession>, StoreError>;
    async fn roster(&mut self, sessions: &[IopSessionId]) -> Result<Vec<RosterEntry>, StoreError>;
    /// False when the client was already on the roster.
    async fn add_to_roster(&mut self, entry: &RosterEntry) -> Result<bool, StoreError>;
    async fn remove_from_roster(&mut self, session: IopSessionId, client: ClientId) -> Result<bool, StoreError>;
    /// The clients among `ids` that `scope` reaches.
    async fn clients_among(&mut self, scope: &ClientScope, ids: &[ClientId]) -> Result<Vec<Client>, StoreError>;
    /// A client's enrolments, oldest first.
    async fn enrolments_of(&mut self, client: ClientId) -> Result<Vec<TrackEnrolment>, StoreError>;
    /// Every enrolment in a track, oldest first.
    async fn track_enrolments(&mut self, track: domain::ids::TrackId) -> Result<Vec<TrackEnrolment>, StoreError>;
    async fn insert_enrolment(&mut self, enrolment: &TrackEnrolment) -> Result<(), StoreError>;
    async fn set_enrolment_until(
        &mut self,
        id: domain::ids::EnrolmentId,
        until: Option<Date>,
    ) -> Result<(), StoreError>;

    // IOP: attendance, outreach, availability, requirements, calendar feeds
    /// A session as attendance needs it.
    async fn attendance_session(&mut self, id: IopSessionId) -> Result<Option<AttendanceSession>, StoreError>;
    async fn attendance_roster(&mut self, session: IopSessionId) -> Result<Vec<ClientId>, StoreError>;
    async fn attendance_of(&mut self, session: IopSessionId) -> Result<Vec<AttendanceRecord>, StoreError>;
    /// Inserts or replaces one client's attendance of a session.
    async fn put_attendance(&mut self, record: &AttendanceRecord) -> Result<(), StoreError>;
    async fn insert_attendance_amendment(&mut self, amendment: &AttendanceAmendment) -> Result<(), StoreError>;
    async fn attendance_amendments(&mut self, session: IopSessionId) -> Result<Vec<AttendanceAmendment>, StoreError>;
    /// Signs the session note once; false when it was already signed.
    async fn sign_session_note(
        &mut self,
        session: IopSessionId,
        note: &str,
        by: UserId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Creates the outreach task unless one exists for the same session and client.
    async fn insert_outreach(&mut self, task: &OutreachTask) -> Result<bool, StoreError>;
    /// Open outreach tasks, of one assignee when given, within `scope`.
    async fn open_outreach(
        &mut self,
        scope: &ClientScope,
        assigned_to: Option<UserId>,
    ) -> Result<Vec<OutreachTask>, StoreError>;
    async fn outreach(&mut self, id: Uuid) -> Result<Option<OutreachTask>, StoreError>;
    async fn complete_outreach(
        &mut self,
        id: Uuid,
        by: UserId,
        at: OffsetDateTime,
        outcome: &str,
    ) -> Result<bool, StoreError>;
    /// Every roster entry of `clients` in sessions dated `from..=to`, with its attendance.
    async fn program_days(
        &mut self,
        clients: &[ClientId],
        from: Date,
        to: Date,
    ) -> Result<Vec<ProgramEntry>, StoreError>;
    /// Enrolment windows (first day, last day) of each client.
    async fn enrolment_windows(
        &mut self,
        clients: &[ClientId],
    ) -> Result<Vec<(ClientId, Date, Option<Date>)>, StoreError>;
    /// Clients with an enrolment covering any day of `from..=to`, within `scope`.
    async fn enrolled_between(
        &mut self,
        scope: &ClientScope,
        from: Date,
        to: Date,
    ) -> Result<Vec<ClientId>, StoreError>;
    async fn availability(&mut self, client: ClientId) -> Result<Vec<domain::iop::program::Window>, StoreError>;
    /// [`Tx::availability`] for many clients in a few queries (clients with none are absent).
    async fn availability_of(
        &mut self,
        clients: &[ClientId],
    ) -> Result<BTreeMap<ClientId, Vec<domain::iop::program::Window>>, StoreError>;
    async fn set_availability(
        &mut self,
        client: ClientId,
        windows: &[domain::iop::program::Window],
    ) -> Result<(), StoreError>;
    /// The plan's required modalities: (modality, sessions a week).
    async fn requirements(&mut self, client: ClientId) -> Result<Vec<(domain::iop::Modality, u16)>, StoreError>;
    /// [`Tx::requirements`] for many clients in a few queries (clients with none are absent).
    async fn requirements_of(
        &mut self,
        clients: &[ClientId],
    ) -> Result<BTreeMap<ClientId, Vec<(domain::iop::Modality, u16)>>, StoreError>;
    async fn set_requirements(
        &mut self,
        client: ClientId,
        requirements: &[(domain::iop::Modality, u16)],
    ) -> Result<(), StoreError>;
    /// Weekly loads set per facilitator (client-assignments); others carry the default.
    async fn facilitator_loads(&mut self) -> Result<Vec<(UserId, u32)>, StoreError>;
    /// Sets a facilitator's weekly load, or clears it (back to the default) with `None`.
    async fn set_facilitator_load(
        &mut self,
        user: UserId,
        max_load: Option<u32>,
        at: OffsetDateTime,
        by: UserId,
    ) -> Result<(), StoreError>;

    // IOP: calendar feeds
    async fn insert_calendar_feed(&mut self, feed: &CalendarFeed) -> Result<(), StoreError>;
    async fn calendar_feed(&mut self, id: Uuid) -> Result<Option<CalendarFeed>, StoreError>;
    async fn calendar_feed_by_token(&mut self, token_hash: &str) -> Result<Option<CalendarFeed>, StoreError>;
    /// An owner's feeds, revoked ones included, oldest first.
    async fn calendar_feeds_of(&mut self, owner: FeedOwner) -> Result<Vec<CalendarFeed>, StoreError>;
    /// Revokes a feed once; false when it already was (or does not exist).
    async fn revoke_calendar_feed(&mut self, id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError>;

    // Audit
    /// Chains `events` onto the log inside this transaction.
    async fn append_audit(&mut self, events: Vec<AuditEvent>) -> Result<(), StoreError>;
    async fn audit_events(&mut self, filter: &AuditFilter) -> Result<Vec<ChainedEvent>, StoreError>;
}
