//! Calendar feeds (DESIGN.md §4, issue 5): a private, revocable iCalendar URL for a staff
//! member (the sessions they run) or a client (the sessions they are on the roster of).
//!
//! Rules, and why:
//! - **The token is the credential.** It is 256 random bits, shown once when the feed is
//!   issued and stored only as its SHA-256, like a session token. Whoever holds the URL reads
//!   the feed without signing in (calendar apps cannot sign in), so the feed carries **no
//!   clinical content**: the kind of session (its modality's label, e.g. "Group therapy"),
//!   when, and the site and room. Not the session's title ("Relapse prevention" says what the
//!   client is treated for), not the client's name, no diagnosis, no note, no other client.
//! - **One live feed per owner.** Issuing a new one revokes the old one in the same
//!   transaction, so "I lost my phone" is one click and a leaked URL stops working.
//! - **Who may issue.** A staff member for themselves (anyone who sees the program's
//!   calendars); for a client, whoever manages the program (`ManageProgram`) or may read the
//!   client's chart (`ReadClient`: the care team, or a supervisor). A staff member's feed can
//!   be revoked only by its owner (anyone else is told it does not exist); a client's by the
//!   same people who may issue it.
//! - **What a feed shows.** Sessions from [`FEED_DAYS_BACK`] days ago to [`FEED_DAYS_AHEAD`]
//!   days ahead, cancelled ones included (calendar apps then show them struck through). A
//!   staff feed has the sessions the person runs: their own without a substitute, and those
//!   they substitute in; a session handed to a substitute leaves the facilitator's feed. A
//!   staff member who is deactivated has no feed.
//! - **Every read is audited** (`calendar_feed.read`, with the client for a client's feed)
//!   before the calendar is returned.

use domain::access::{AccessDenied, Actor, ClientScope, Permission, Purpose};
use domain::audit::{AuditAction, AuditEvent, Outcome};
use domain::ids::{ClientId, IopSessionId};
use domain::iop::Modality;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::error::AppError;
use crate::iop::slot_end;
use crate::ports::{CalendarFeed, FeedOwner, SessionFilter, SiteView, Tx};
use crate::security::{random_token, token_hash};
use crate::service::{App, Ctx};

/// How far back a feed reaches, in days.
pub const FEED_DAYS_BACK: i64 = 14;
/// How far ahead a feed reaches, in days (eight weeks).
pub const FEED_DAYS_AHEAD: i64 = 56;

/// A feed just issued, with the token to show once.
#[derive(Clone, Debug)]
pub struct IssuedFeed {
    pub feed: CalendarFeed,
    pub token: String,
}

/// One session as a feed shows it: what kind, when, where, and whether it is cancelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedEvent {
    pub session: IopSessionId,
    pub modality: Modality,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub cancelled: bool,
    pub site_name: String,
    pub room_name: Option<String>,
}

/// What a feed URL answers.
#[derive(Clone, Debug)]
pub struct FeedCalendar {
    pub feed: Uuid,
    pub generated_at: OffsetDateTime,
    /// By start.
    pub events: Vec<FeedEvent>,
}

/// Who may issue, list and revoke a client's feeds: the program's managers and those who may
/// read the client's chart.
fn client_feed_check(actor: &Actor, client: ClientId) -> Result<ClientScope, AccessDenied> {
    actor
        .scope_for(Permission::ManageProgram, client)
        .or_else(|e| actor.scope_for(Permission::ReadClient, client).map_err(|_| e))
}

fn feed_subject(id: Uuid) -> String {
    format!("calendar_feed:{id}")
}

/// Where a session is on the site's calendar, as instants.
pub(crate) fn session_instants(
    sites: &[SiteView],
    s: &crate::ports::ProgramSession,
) -> (OffsetDateTime, OffsetDateTime) {
    let zone = sites.iter().find(|v| v.site.id == s.site).map(|v| v.site.time_zone.as_str()).unwrap_or("UTC");
    let start = App::civil_instant(zone, s.slot.date, s.slot.start);
    // Sessions end the day they start (see `domain::iop::program::slot`); a DST change inside
    // one is measured on the wall clock, like the session itself.
    let end = App::civil_instant(zone, s.slot.date, slot_end(&s.slot));
    (start, end.max(start))
}

pub(crate) fn site_and_room(sites: &[SiteView], s: &crate::ports::ProgramSession) -> (String, Option<String>) {
    let site = sites.iter().find(|v| v.site.id == s.site);
    let room = s.room.and_then(|r| site.and_then(|v| v.rooms.iter().find(|x| x.id == r)));
    (site.map(|v| v.site.name.clone()).unwrap_or_default(), room.map(|r| r.name.clone()))
}

impl App {
    /// Issues a feed of the sessions the signed-in staff member runs; their previous feed
    /// stops working.
    pub async fn issue_my_feed(&self, ctx: &Ctx) -> Result<IssuedFeed, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ViewProgram)).await?;
        let mut tx = self.begin().await?;
        let issued = self.issue_in(ctx, tx.as_mut(), FeedOwner::Staff(ctx.actor.user_id), None).await?;
        tx.commit().await?;
        Ok(issued)
    }

    /// Issues a feed of a client's sessions; the client's previous feed stops working.
    pub async fn issue_client_feed(&self, ctx: &Ctx, client: ClientId) -> Result<IssuedFeed, AppError> {
        let scope = self.authorize(ctx, client_feed_check(&ctx.actor, client)).await?;
        let mut tx = self.begin().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let issued = self.issue_in(ctx, tx.as_mut(), FeedOwner::Client(client), Some(client)).await?;
        tx.commit().await?;
        Ok(issued)
    }

    async fn issue_in(
        &self,
        ctx: &Ctx,
        tx: &mut dyn Tx,
        owner: FeedOwner,
        client: Option<ClientId>,
    ) -> Result<IssuedFeed, AppError> {
        let now = self.now();
        let mut events = Vec::new();
        for old in tx.calendar_feeds_of(owner).await?.into_iter().filter(|f| f.revoked_at.is_none()) {
            if tx.revoke_calendar_feed(old.id, now).await? {
                events.push(AuditEvent {
                    client,
                    subject: Some(feed_subject(old.id)),
                    detail: Some("revoked (replaced)".into()),
                    ..self.ctx_event(ctx, AuditAction::CalendarFeedChanged, Outcome::Success)
                });
            }
        }
        let token = random_token();
        let feed = CalendarFeed {
            id: self.ids.new_id(),
            token_hash: token_hash(&token),
            owner,
            created_by: ctx.actor.user_id,
            created_at: now,
            revoked_at: None,
        };
        tx.insert_calendar_feed(&feed).await?;
        events.push(AuditEvent {
            client,
            subject: Some(feed_subject(feed.id)),
            detail: Some("issued".into()),
            ..self.ctx_event(ctx, AuditAction::CalendarFeedChanged, Outcome::Success)
        });
        tx.append_audit(events).await?;
        Ok(IssuedFeed { feed, token })
    }

    /// The signed-in person's own feeds, revoked ones included, oldest first.
    pub async fn my_feeds(&self, ctx: &Ctx) -> Result<Vec<CalendarFeed>, AppError> {
        let mut tx = self.store.read().await?;
        Ok(tx.calendar_feeds_of(FeedOwner::Staff(ctx.actor.user_id)).await?)
    }

    /// A client's feeds, revoked ones included, oldest first (an audited read of the client).
    pub async fn client_feeds(&self, ctx: &Ctx, client: ClientId) -> Result<Vec<CalendarFeed>, AppError> {
        let scope = self.authorize(ctx, client_feed_check(&ctx.actor, client)).await?;
        let mut tx = self.store.read().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let feeds = tx.calendar_feeds_of(FeedOwner::Client(client)).await?;
        drop(tx);
        let event = AuditEvent {
            client: Some(client),
            detail: Some("calendar feeds".into()),
            ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
        };
        self.store.record(vec![event]).await?;
        Ok(feeds)
    }

    /// Stops a feed. A staff member's feed can be revoked only by its owner (to anyone else it
    /// does not exist); a client's by those who may issue it. Revoking twice changes nothing.
    pub async fn revoke_feed(&self, ctx: &Ctx, id: Uuid) -> Result<CalendarFeed, AppError> {
        // Read and decide before the write transaction: a refusal is audited through the
        // group-commit writer, which must not wait behind this request's own transaction.
        let mut feed = self.store.read().await?.calendar_feed(id).await?.ok_or(AppError::NotFound)?;
        let client = match feed.owner {
            FeedOwner::Staff(user) if user == ctx.actor.user_id => None,
            FeedOwner::Staff(_) => {
                // Another staff member's feed: refused and audited, answered "not found".
                let refusal = AccessDenied { permission: Permission::ManageUsers, client: None };
                return Err(self.hidden_denied(ctx, refusal).await);
            }
            FeedOwner::Client(client) => {
                self.authorize(ctx, client_feed_check(&ctx.actor, client)).await?;
                Some(client)
            }
        };
        if feed.revoked_at.is_some() {
            return Ok(feed);
        }
        let now = self.now();
        let mut tx = self.begin().await?;
        if tx.revoke_calendar_feed(id, now).await? {
            feed.revoked_at = Some(now);
            let event = AuditEvent {
                client,
                subject: Some(feed_subject(id)),
                detail: Some("revoked".into()),
                ..self.ctx_event(ctx, AuditAction::CalendarFeedChanged, Outcome::Success)
            };
            tx.append_audit(vec![event]).await?;
            tx.commit().await?;
        }
        Ok(feed)
    }

    /// What a feed URL shows. The token is the credential: an unknown or revoked token, or the
    /// feed of a deactivated staff member, is not found. The read is audited before the
    /// calendar is returned.
    pub async fn read_feed(&self, token: &str, source: Option<String>) -> Result<FeedCalendar, AppError> {
        let mut tx = self.store.read().await?;
        let feed = tx
            .calendar_feed_by_token(&token_hash(token))
            .await?
            .filter(|f| f.revoked_at.is_none())
            .ok_or(AppError::NotFound)?;
        let sites = tx.sites().await?;
        let today = sites.first().map(|s| self.today_in(s.site.time_zone.as_str())).unwrap_or(self.now().date());
        let window = SessionFilter {
            include_cancelled: true,
            ..SessionFilter::between(today - Duration::days(FEED_DAYS_BACK), today + Duration::days(FEED_DAYS_AHEAD))
        };
        let mut event = AuditEvent {
            subject: Some(feed_subject(feed.id)),
            source,
            ..self.event(None, AuditAction::CalendarFeedRead, Outcome::Success)
        };
        let sessions = match feed.owner {
            FeedOwner::Staff(user) => {
                let u = tx.user_by_id(user).await?.filter(|u| u.active).ok_or(AppError::NotFound)?;
                event.actor = Some(u.id);
                event.actor_role = Some(u.role);
                event.purpose = Some(Purpose::default_for(u.role));
                event.detail = Some("staff feed".into());
                let filter = SessionFilter { staff: Some(user), ..window };
                tx.program_sessions(&filter).await?.into_iter().filter(|s| s.staff() == user).collect::<Vec<_>>()
            }
            FeedOwner::Client(client) => {
                event.client = Some(client);
                event.detail = Some("client feed".into());
                tx.program_sessions(&SessionFilter { client: Some(client), ..window }).await?
            }
        };
        drop(tx);
        self.store.record(vec![event]).await?;
        let mut events: Vec<FeedEvent> = sessions
            .iter()
            .map(|s| {
                let (start, end) = session_instants(&sites, s);
                let (site_name, room_name) = site_and_room(&sites, s);
                FeedEvent {
                    session: s.id,
                    modality: s.modality,
                    start,
                    end,
                    cancelled: s.cancelled,
                    site_name,
                    room_name,
                }
            })
            .collect();
        events.sort_by_key(|e| (e.start, e.session));
        Ok(FeedCalendar { feed: feed.id, generated_at: self.now(), events })
    }
}
