//! The application service: the ports, the configuration, and helpers every use case shares.

use domain::access::{AccessDenied, Actor, Purpose};
use domain::audit::{AuditAction, AuditEvent, Outcome};
use domain::ids::AuditEventId;
use domain::role::Role;
use domain::session::SessionPolicy;
use domain::throttle::ThrottlePolicy;
use std::collections::BTreeSet;
use std::sync::Arc;
use time::OffsetDateTime;

use crate::error::AppError;
use crate::ports::{Clock, IdGen, Store, Tx};
use crate::security::HashParams;

#[derive(Clone, Debug)]
pub struct AppConfig {
    pub session: SessionPolicy,
    pub throttle: ThrottlePolicy,
    pub hash: HashParams,
    /// Roles that must use a second factor to sign in.
    pub mfa_required: BTreeSet<Role>,
    /// Shown in authenticator apps next to the account name.
    pub issuer: String,
    /// Which level-of-care catalogue the center uses (`asam-3`, `asam-4`).
    pub catalogue: String,
    /// How new medical record numbers look, e.g. `SD-{seq:06}`.
    pub mrn_format: String,
    /// CIWA-Ar severity bands (center-set).
    pub ciwa: domain::instruments::CiwaThresholds,
    /// Where withdrawal scales raise an alert.
    pub withdrawal_alerts: domain::instruments::WithdrawalAlerts,
    /// Readiness review cadence overrides, days by level code.
    pub review_days: std::collections::BTreeMap<String, u16>,
    /// Which forms are due when, per level.
    pub schedule: domain::measurement::Schedule,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            session: SessionPolicy::default(),
            throttle: ThrottlePolicy::default(),
            hash: HashParams::default(),
            // ASVS 4.3.1 asks MFA of administrators; privacy officers see the whole audit log.
            mfa_required: BTreeSet::from([Role::Admin, Role::PrivacyOfficer]),
            issuer: "Stepdown".into(),
            catalogue: "asam-3".into(),
            mrn_format: "SD-{seq:06}".into(),
            ciwa: domain::instruments::CiwaThresholds::default(),
            withdrawal_alerts: domain::instruments::WithdrawalAlerts::default(),
            review_days: std::collections::BTreeMap::new(),
            #[allow(clippy::expect_used)] // the built-in schedule is checked by a domain test
            schedule: domain::measurement::Schedule::builtin().expect("built-in schedule parses"),
        }
    }
}

/// Who is asking, and from where: every use case that touches data takes one.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub actor: Actor,
    pub source: Option<String>,
}

#[derive(Clone)]
pub struct App {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGen>,
    pub(crate) config: AppConfig,
    /// A hash to verify against when the account does not exist, so that a wrong user name
    /// takes as long as a wrong password.
    pub(crate) dummy_hash: Arc<str>,
    pub(crate) catalogue: Arc<domain::level::Catalogue>,
    pub(crate) mrn_format: domain::client::MrnFormat,
}

impl App {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
        config: AppConfig,
    ) -> Result<Self, AppError> {
        let dummy_hash = config.hash.hash(&crate::security::random_token())?.into();
        let catalogue = domain::level::Catalogue::builtin(&config.catalogue)
            .map_err(|_| AppError::Internal("unknown level-of-care catalogue"))?;
        let mrn_format = domain::client::MrnFormat::parse(&config.mrn_format)
            .map_err(|_| AppError::Internal("invalid MRN format"))?;
        Ok(Self { store, clock, ids, config, dummy_hash, catalogue: Arc::new(catalogue), mrn_format })
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    pub fn catalogue(&self) -> &domain::level::Catalogue {
        &self.catalogue
    }

    /// Today's date where a site is: days, weeks and stays are counted in the site's own zone,
    /// not the server's. Falls back to UTC for a zone the database does not know.
    pub fn today_in(&self, time_zone: &str) -> time::Date {
        let now = self.now();
        let local = jiff::Timestamp::from_millisecond(unix_ms(now))
            .ok()
            .zip(jiff::tz::TimeZone::get(time_zone).ok())
            .map(|(ts, tz)| tz.to_datetime(ts).date());
        local
            .and_then(|d| {
                let month = time::Month::try_from(u8::try_from(d.month()).ok()?).ok()?;
                time::Date::from_calendar_date(i32::from(d.year()), month, u8::try_from(d.day()).ok()?).ok()
            })
            .unwrap_or(now.date())
    }

    /// The instant a civil date and time on a site's calendar happens, in UTC. A time that a
    /// DST change skips is taken as the same length after the gap, a time that occurs twice as
    /// the first one (jiff's "compatible" rule, as RFC 5545 asks). A zone the database does
    /// not know is taken as UTC.
    pub fn civil_instant(time_zone: &str, date: time::Date, at: time::Time) -> OffsetDateTime {
        let fallback = time::PrimitiveDateTime::new(date, at).assume_utc();
        let civil = || {
            jiff::civil::DateTime::new(
                i16::try_from(date.year()).ok()?,
                i8::try_from(u8::from(date.month())).ok()?,
                i8::try_from(date.day()).ok()?,
                i8::try_from(at.hour()).ok()?,
                i8::try_from(at.minute()).ok()?,
                i8::try_from(at.second()).ok()?,
                0,
            )
            .ok()
        };
        civil()
            .zip(jiff::tz::TimeZone::get(time_zone).ok())
            .and_then(|(dt, tz)| tz.to_timestamp(dt).ok())
            .map(|ts| from_unix_ms(ts.as_millisecond()))
            .unwrap_or(fallback)
    }

    /// Whether the time-zone database knows `name`.
    pub fn known_time_zone(name: &str) -> bool {
        jiff::tz::TimeZone::get(name).is_ok()
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub(crate) async fn begin(&self) -> Result<Box<dyn Tx>, AppError> {
        Ok(self.store.begin().await?)
    }

    /// A new event stamped now, by `actor` if there is one.
    pub(crate) fn event(&self, actor: Option<&Actor>, action: AuditAction, outcome: Outcome) -> AuditEvent {
        AuditEvent {
            id: AuditEventId::from_uuid(self.ids.new_id()),
            occurred_at_ms: unix_ms(self.clock.now()),
            actor: actor.map(|a| a.user_id),
            actor_role: actor.map(|a| a.role),
            action,
            outcome,
            client: None,
            subject: None,
            purpose: actor.map(|a| a.purpose),
            source: None,
            detail: None,
        }
    }

    pub(crate) fn ctx_event(&self, ctx: &Ctx, action: AuditAction, outcome: Outcome) -> AuditEvent {
        AuditEvent { source: ctx.source.clone(), ..self.event(Some(&ctx.actor), action, outcome) }
    }

    /// Hashes a password off the async runtime (Argon2id takes tens of milliseconds of CPU).
    pub(crate) async fn hash_password(&self, password: &str) -> Result<String, AppError> {
        let (params, password) = (self.config.hash, password.to_owned());
        tokio::task::spawn_blocking(move || params.hash(&password))
            .await
            .map_err(|_| AppError::Internal("password hashing was interrupted"))?
    }

    /// Checks a password against a stored hash off the async runtime.
    pub(crate) async fn verify_password(&self, password: &str, hash: &str) -> Result<bool, AppError> {
        let (params, password, hash) = (self.config.hash, password.to_owned(), hash.to_owned());
        tokio::task::spawn_blocking(move || params.verify(&password, &hash))
            .await
            .map_err(|_| AppError::Internal("password check was interrupted"))
    }

    /// Records a refused request in the audit log and turns it into the error to return.
    pub(crate) async fn denied(&self, ctx: &Ctx, denied: AccessDenied) -> AppError {
        let event = self.denial_event(ctx, &denied);
        match self.store.record(vec![event]).await {
            Ok(()) => AppError::Denied(denied),
            Err(e) => AppError::Store(e),
        }
    }

    /// Runs `check`; when it refuses, the refusal is audited.
    pub(crate) async fn authorize<T>(&self, ctx: &Ctx, check: Result<T, AccessDenied>) -> Result<T, AppError> {
        match check {
            Ok(v) => Ok(v),
            Err(denied) => Err(self.denied(ctx, denied).await),
        }
    }

    /// Records a refusal found while `tx` is open, through `tx` (whose work so far is
    /// discarded), and turns it into the error to return. Recording it beside an open write
    /// transaction would wait for the writer slot that transaction holds.
    pub(crate) async fn denied_in(&self, tx: &mut dyn Tx, ctx: &Ctx, denied: AccessDenied) -> AppError {
        let event = self.denial_event(ctx, &denied);
        match tx.refuse(vec![event]).await {
            Ok(()) => AppError::Denied(denied),
            Err(e) => AppError::Store(e),
        }
    }

    /// A refusal answered as "not found", so that the answer does not tell whether the record
    /// exists: audited like any other refusal.
    pub(crate) async fn hidden_denied_in(&self, tx: &mut dyn Tx, ctx: &Ctx, denied: AccessDenied) -> AppError {
        as_not_found(self.denied_in(tx, ctx, denied).await)
    }

    /// [`App::hidden_denied_in`] with no unit of work open.
    pub(crate) async fn hidden_denied(&self, ctx: &Ctx, denied: AccessDenied) -> AppError {
        as_not_found(self.denied(ctx, denied).await)
    }

    /// [`App::authorize`] while `tx` is open.
    pub(crate) async fn authorize_in<T>(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        check: Result<T, AccessDenied>,
    ) -> Result<T, AppError> {
        match check {
            Ok(v) => Ok(v),
            Err(denied) => Err(self.denied_in(tx, ctx, denied).await),
        }
    }

    fn denial_event(&self, ctx: &Ctx, denied: &AccessDenied) -> AuditEvent {
        AuditEvent {
            client: denied.client,
            detail: Some(denied.permission.code().to_owned()),
            ..self.ctx_event(ctx, AuditAction::AccessDenied, Outcome::Denied)
        }
    }
}

/// A recorded refusal, answered "not found"; a failure to record it stays what it is.
fn as_not_found(err: AppError) -> AppError {
    match err {
        AppError::Denied(_) => AppError::NotFound,
        other => other,
    }
}

/// The refusal of a request that named, under a client the actor may reach, a record of
/// `other` client: audited against the client whose record was reached for.
pub(crate) fn other_client(permission: domain::access::Permission, other: domain::ids::ClientId) -> AccessDenied {
    AccessDenied { permission, client: Some(other) }
}

pub fn unix_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub fn from_unix_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A purpose-of-use that the actor's role permits by default; later issues add break-glass.
pub fn default_purpose(role: Role) -> Purpose {
    Purpose::default_for(role)
}
