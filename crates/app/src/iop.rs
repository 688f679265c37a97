//! The IOP program calendar (DESIGN.md §4, issue 5): tracks and their weekly templates,
//! closures, the sessions generated from a template for an ISO week with their exceptions
//! (cancellations, moves, substitute facilitators), individual and family appointments,
//! rosters, enrolments, and the calendars of a track, a staff member, a room and a client.
//!
//! Rules, and why:
//! - **No double booking.** Every save that books a slot (generating a week, an appointment, a
//!   move, a substitute, a roster addition) checks [`program::conflicts`] against the other
//!   scheduled sessions of that day, under the calendar lock, and is refused with a field error
//!   that says what it collides with ("Dana Reyes is facilitating Relapse prevention
//!   18:00–19:30 then"). A session's staff is its substitute when it has one: the facilitator
//!   being replaced is free then. Cancelled sessions book nothing. Template entries are checked
//!   the same way against the other entries of tracks active at the same time, so a template
//!   cannot promise one person or room twice a week.
//! - **Generation** is idempotent: a week's sessions are keyed by (template entry, date), so
//!   generating again adds only what is missing (a new entry, a day no longer closed). Closed
//!   days and days outside the track's active dates get nothing. Capacity is the smaller of the
//!   track's group limit and the room's capacity; one-to-one modalities hold one client.
//!   Generation does not fill rosters: enrolment does for the next two weeks (below), then the
//!   schedule builder or the coordinator by hand.
//! - **Exceptions.** Cancelling keeps the roster (so people can be told). Moving a session to
//!   another day cancels it ("Moved to …") and books a new one with the same roster, so the
//!   template's occurrence is not generated again; a move within the day changes the session
//!   itself. Adding a closure cancels the site's sessions that day; removing it does not bring
//!   them back. Template changes apply to weeks generated afterwards; a new group limit also
//!   applies to the track's sessions still to come, unless one already holds more clients.
//! - **Enrolment.** A client can be enrolled only while their episode is open and their current
//!   placement is at a day/evening level (`Setting::Day`: 2.1, 2.5, …). Enrolments are dated;
//!   a new one ends the previous the day before it starts and takes the client off the old
//!   track's sessions still to come from that day. **Enrolling adds the client to the track's
//!   group sessions of the current and the next ISO week that are still to come** (on or after
//!   the enrolment's first day), except where the session is full or the client is booked
//!   elsewhere then; those are reported, not refused. `until` is optional: a discharge ends
//!   the enrolment without it, because an enrolment only counts while its episode is open.
//! - **Names.** A client's name is shown to whoever may read the chart (`ReadClient`) or
//!   manages the client's place in the program (`ManageProgram`); everyone else sees roster
//!   counts, and a collision with such a client says only that "a client on the roster is
//!   already booked then". Staff names are not client data. Every read that shows a client's
//!   name is audited.
//! - **Times** are civil times on the site's calendar (see `domain::iop`); "still to come"
//!   means starting after now in the site's zone.

use std::collections::{BTreeMap, BTreeSet};

use domain::access::{Actor, ClientScope, Permission, grant};
use domain::audit::{AuditAction, AuditEvent, Outcome};
use domain::client::Client;
use domain::episode::Episode;
use domain::ids::{ClientId, EnrolmentId, IopSessionId, SiteId, TemplateId, TrackId, UserId};
use domain::iop::compliance::IsoWeek;
use domain::iop::program::{self, Booking, Closure, Collision, DEFAULT_GROUP_LIMIT, MAX_SESSION_MINUTES, SlotError};
use domain::iop::{Modality, Slot};
use domain::level::Setting;
use domain::text::bounded_line;
use domain::user::User;
use time::{Date, Duration, PrimitiveDateTime, Time, Weekday};
use uuid::Uuid;

use crate::error::{AppError, FieldError, Problems};
use crate::ports::{
    ProgramSession, RoomView, RosterEntry, SessionFilter, SiteClosure, SiteView, StoreError, Track, TrackEnrolment,
    TrackTemplate, Tx,
};
use crate::service::{App, Ctx};

/// The largest group limit a track may set.
pub const MAX_GROUP_LIMIT: u16 = 50;

/// How a session moved to another day is marked; such a session is not reinstated.
const MOVED_TO: &str = "Moved to ";

// ---------------------------------------------------------------------------------------
// What forms carry (all text, as typed)

#[derive(Clone, Debug, Default)]
pub struct TrackForm {
    pub site: String,
    pub name: String,
    /// Blank: [`DEFAULT_GROUP_LIMIT`].
    pub group_limit: String,
    pub active_from: String,
    pub active_until: String,
}

#[derive(Clone, Debug, Default)]
pub struct TemplateForm {
    /// `monday` … `sunday`, or 1 (Monday) … 7.
    pub weekday: String,
    pub start: String,
    pub end: String,
    pub modality: String,
    pub title: String,
    pub facilitator: String,
    /// Blank: no room.
    pub room: String,
}

#[derive(Clone, Debug, Default)]
pub struct ClosureForm {
    pub site: String,
    pub date: String,
    pub reason: String,
}

/// When a session happens: a date, a start and an end on the site's calendar.
#[derive(Clone, Debug, Default)]
pub struct SlotForm {
    pub date: String,
    pub start: String,
    pub end: String,
    /// The day it ends, when not the day it starts (API callers only; such a session is
    /// refused, but the refusal can then say why).
    pub end_date: String,
}

#[derive(Clone, Debug, Default)]
pub struct AppointmentForm {
    pub client: String,
    /// individual, family or case_management.
    pub modality: String,
    /// Blank: the modality's name.
    pub title: String,
    pub facilitator: String,
    pub room: String,
    pub slot: SlotForm,
}

#[derive(Clone, Debug, Default)]
pub struct MoveForm {
    pub slot: SlotForm,
    /// Blank keeps the session's room.
    pub room: String,
}

#[derive(Clone, Debug, Default)]
pub struct EnrolForm {
    pub track: String,
    pub from: String,
    pub until: String,
}

// ---------------------------------------------------------------------------------------
// What the use cases answer

#[derive(Clone, Debug)]
pub struct TemplateView {
    pub template: TrackTemplate,
    pub facilitator_name: String,
    pub room_name: Option<String>,
}

#[derive(Clone, Debug)]
pub struct TrackView {
    pub track: Track,
    pub site_name: String,
    /// Active entries, by weekday and time.
    pub templates: Vec<TemplateView>,
    /// Clients enrolled today.
    pub enrolled: usize,
}

#[derive(Clone, Debug)]
pub struct ClosureView {
    pub closure: SiteClosure,
    pub site_name: String,
}

/// The program page: tracks with their templates, closures, and what the forms offer.
#[derive(Clone, Debug)]
pub struct Program {
    pub today: Date,
    pub tracks: Vec<TrackView>,
    /// From 30 days ago on.
    pub closures: Vec<ClosureView>,
    /// Who can facilitate: active users whose role sees the program.
    pub facilitators: Vec<User>,
    pub sites: Vec<SiteView>,
    pub can_manage: bool,
}

/// Whose calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CalendarView {
    Track(TrackId),
    Staff(UserId),
    Room(Uuid),
    Client(ClientId),
}

/// A session as the calendars show it.
#[derive(Clone, Debug)]
pub struct CalendarEntry {
    pub session: ProgramSession,
    pub track_name: Option<String>,
    pub site_name: String,
    pub room_name: Option<String>,
    pub facilitator_name: String,
    pub substitute_name: Option<String>,
    pub roster_count: usize,
    /// The clients on the roster the viewer may see by name, by family name.
    pub clients: Vec<Client>,
}

impl CalendarEntry {
    pub fn end(&self) -> Time {
        slot_end(&self.session.slot)
    }
}

#[derive(Clone, Debug)]
pub struct Calendar {
    pub view: CalendarView,
    /// Whose calendar, in words ("Evening track", "Dana Reyes", "Group room 2", a client).
    pub title: String,
    pub from: Date,
    /// 1 or 7.
    pub days: u8,
    pub today: Date,
    pub entries: Vec<CalendarEntry>,
    pub closures: Vec<ClosureView>,
}

/// One session with its roster, for the session page.
#[derive(Clone, Debug)]
pub struct SessionDetail {
    pub entry: CalendarEntry,
    /// Clients eligible to join who are not on it yet (only for those who manage the program).
    pub candidates: Vec<Client>,
    pub can_manage: bool,
    /// Rooms of the session's site, for a move.
    pub rooms: Vec<RoomView>,
    pub facilitators: Vec<User>,
    pub still_to_come: bool,
}

#[derive(Clone, Debug)]
pub struct EnrolmentView {
    pub enrolment: TrackEnrolment,
    pub track_name: String,
}

/// What the client chart shows of the program.
#[derive(Clone, Debug)]
pub struct ClientProgram {
    pub enrolments: Vec<EnrolmentView>,
    /// The enrolment that covers today or starts later.
    pub current: Option<EnrolmentView>,
    /// In a day/evening placement now.
    pub in_iop: bool,
    pub can_manage: bool,
    /// Tracks open for enrolment (for those who manage the program).
    pub tracks: Vec<Track>,
    pub facilitators: Vec<User>,
    /// Rooms at the client's current site.
    pub rooms: Vec<RoomView>,
    pub today: Date,
    /// The client's sessions from today to the end of next week.
    pub upcoming: Vec<CalendarEntry>,
}

/// A client in a day/evening placement, for the program's client list.
#[derive(Clone, Debug)]
pub struct IopClient {
    pub client: Client,
    pub level: domain::level::LevelCode,
    pub site: SiteId,
    pub since: Date,
    pub enrolment: Option<EnrolmentView>,
    /// The viewer may open the chart.
    pub chart: bool,
}

/// The program's client list.
#[derive(Clone, Debug)]
pub struct ProgramClients {
    pub today: Date,
    pub clients: Vec<IopClient>,
    /// Tracks open for enrolment.
    pub tracks: Vec<Track>,
}

/// A client's week, for the printable schedule.
#[derive(Clone, Debug)]
pub struct ClientWeek {
    pub client: Client,
    pub week: IsoWeek,
    pub enrolment: Option<EnrolmentView>,
    pub entries: Vec<CalendarEntry>,
    pub closures: Vec<ClosureView>,
}

#[derive(Clone, Debug)]
pub struct WeekGenerated {
    pub week: IsoWeek,
    pub created: Vec<ProgramSession>,
    /// Sessions of the week that already existed.
    pub existing: usize,
}

#[derive(Clone, Debug)]
pub struct Enrolled {
    pub enrolment: TrackEnrolment,
    /// The previous enrolment, now ended the day before.
    pub ended: Option<EnrolmentId>,
    pub added_to: Vec<IopSessionId>,
    /// Sessions the client was not added to, and why.
    pub not_added: Vec<String>,
    /// Sessions of the old track the client was taken off.
    pub removed_from: usize,
}

/// What a closure did.
#[derive(Clone, Debug)]
pub struct ClosureAdded {
    pub closure: SiteClosure,
    pub cancelled: usize,
}

// ---------------------------------------------------------------------------------------
// Parsing

const DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

fn parse_date(raw: &str) -> Result<Date, &'static str> {
    Date::parse(raw.trim(), DATE).map_err(|_| "must be a real date, like 2026-11-27")
}

fn required_date(p: &mut Problems, field: &'static str, label: &str, raw: &str) -> Option<Date> {
    match parse_date(raw) {
        Ok(d) => Some(d),
        Err(m) => {
            p.add(field, format!("{label} {m}"));
            None
        }
    }
}

/// `Some(None)` for a blank field.
fn optional_date(p: &mut Problems, field: &'static str, label: &str, raw: &str) -> Option<Option<Date>> {
    if raw.trim().is_empty() {
        return Some(None);
    }
    required_date(p, field, label, raw).map(Some)
}

/// A time of day, `18:00` (seconds, as some browsers send them, are allowed and must be 0).
pub fn parse_time(raw: &str) -> Option<Time> {
    let raw = raw.trim();
    let raw = raw.strip_suffix(":00").filter(|r| r.len() >= 4 && r.contains(':')).unwrap_or(raw);
    let (h, m) = raw.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

fn required_time(p: &mut Problems, field: &'static str, label: &str, raw: &str) -> Option<Time> {
    let t = parse_time(raw);
    if t.is_none() {
        p.add(field, format!("{label} must be a time like 18:00"));
    }
    t
}

pub fn parse_weekday(raw: &str) -> Option<Weekday> {
    let raw = raw.trim().to_ascii_lowercase();
    WEEKDAYS
        .into_iter()
        .enumerate()
        .find(|(i, d)| weekday_code(*d) == raw || (i + 1).to_string() == raw)
        .map(|(_, d)| d)
}

pub const WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

pub fn weekday_code(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

pub fn weekday_label(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// `18:00`.
pub fn hm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// When a slot ends (slots never pass midnight; see [`program::slot`]).
pub fn slot_end(s: &Slot) -> Time {
    s.start + Duration::minutes(i64::from(s.minutes))
}

/// `18:00–19:30`.
pub fn span(s: &Slot) -> String {
    format!("{}–{}", hm(s.start), hm(slot_end(s)))
}

/// A domain message as a sentence.
fn sentence(text: impl std::fmt::Display) -> String {
    let text = text.to_string();
    let mut s = text.get(..1).map(str::to_uppercase).unwrap_or_default();
    s.push_str(text.get(1..).unwrap_or(""));
    s
}

/// The slot a form describes: it must end after it starts, on the same day, within
/// [`MAX_SESSION_MINUTES`].
fn parse_slot(p: &mut Problems, f: &SlotForm) -> Option<Slot> {
    let date = required_date(p, "date", "Date", &f.date);
    let start = required_time(p, "start", "Start", &f.start);
    let end = required_time(p, "end", "End", &f.end);
    let end_date = optional_date(p, "end_date", "End date", &f.end_date)?;
    let (date, start, end) = (date?, start?, end?);
    match end_date {
        Some(d) if d != date => {
            let (s, e) = (PrimitiveDateTime::new(date, start), PrimitiveDateTime::new(d, end));
            let message = if e <= s {
                sentence(SlotError::EndsBeforeStart)
            } else if (e - s).whole_minutes() > i64::from(MAX_SESSION_MINUTES) {
                sentence(SlotError::TooLong)
            } else {
                "A session must end on the day it starts".to_owned()
            };
            p.add("end", message);
            None
        }
        _ => match program::slot(date, start, end) {
            Ok(s) => Some(s),
            Err(e) => {
                p.add("end", sentence(e));
                None
            }
        },
    }
}

fn parse_modality(p: &mut Problems, raw: &str) -> Option<Modality> {
    let m = Modality::parse(raw.trim());
    if m.is_none() {
        p.add("modality", "Choose the kind of session");
    }
    m
}

/// May facilitate: active, in a role that sees the program's calendar.
pub(crate) fn can_facilitate(u: &User) -> bool {
    u.active && grant(u.role, Permission::ViewProgram).is_some()
}

pub(crate) fn parse_facilitator(p: &mut Problems, field: &'static str, raw: &str, users: &[User]) -> Option<UserId> {
    let found = raw.trim().parse::<UserId>().ok().and_then(|id| users.iter().find(|u| u.id == id));
    match found {
        Some(u) if can_facilitate(u) => Some(u.id),
        Some(_) => {
            p.add(field, "Choose an active staff member who works in the program");
            None
        }
        None => {
            p.add(field, "Choose a staff member from the list");
            None
        }
    }
}

/// A room of `site`, or none for a blank field.
fn parse_room(p: &mut Problems, raw: &str, site: Option<SiteId>, sites: &[SiteView]) -> Option<Option<RoomView>> {
    if raw.trim().is_empty() {
        return Some(None);
    }
    let room =
        raw.trim().parse::<Uuid>().ok().and_then(|id| sites.iter().flat_map(|s| s.rooms.iter()).find(|r| r.id == id));
    match room {
        Some(r) if site.is_none_or(|s| s == r.site) => Some(Some(r.clone())),
        Some(_) => {
            p.add("room", "Choose a room at the track's site");
            None
        }
        None => {
            p.add("room", "Choose a room from the list");
            None
        }
    }
}

/// How many clients a session holds.
fn capacity_for(modality: Modality, group_limit: Option<u16>, room: Option<u16>) -> u16 {
    if modality.is_one_to_one() {
        return 1;
    }
    group_limit.unwrap_or(DEFAULT_GROUP_LIMIT).min(room.unwrap_or(u16::MAX)).max(1)
}

/// Ten years on: the end of "from now on" in date-range queries.
fn far_future(from: Date) -> Date {
    from.saturating_add(Duration::days(3660))
}

/// A date in any week that falls on `weekday`, to compare template entries as slots.
fn reference_date(weekday: Weekday) -> Date {
    let monday = Date::from_iso_week_date(2024, 1, Weekday::Monday).unwrap_or(Date::MIN);
    monday + Duration::days(i64::from(weekday.number_days_from_monday()))
}

/// Whether two optional date ranges (inclusive, open-ended when `None`) share a day.
fn ranges_meet(a: (Date, Option<Date>), b: (Date, Option<Date>)) -> bool {
    a.1.is_none_or(|a_end| b.0 <= a_end) && b.1.is_none_or(|b_end| a.0 <= b_end)
}

/// The clients whose names the actor may see in the program: those whose chart they may read
/// and those whose place in the program they manage.
pub fn nameable(actor: &Actor) -> ClientScope {
    let mut set = BTreeSet::new();
    for permission in [Permission::ReadClient, Permission::ManageProgram] {
        match actor.scope(permission) {
            Ok(ClientScope::All) => return ClientScope::All,
            Ok(ClientScope::Only(ids)) => set.extend(ids),
            Err(_) => {}
        }
    }
    ClientScope::Only(set)
}

/// Everything read once per request to name people, rooms and tracks.
struct Lookup {
    users: Vec<User>,
    sites: Vec<SiteView>,
    tracks: Vec<Track>,
}

impl Lookup {
    async fn load(tx: &mut dyn Tx) -> Result<Self, StoreError> {
        Ok(Self { users: tx.list_users().await?, sites: tx.sites().await?, tracks: tx.tracks().await? })
    }
    fn user_name(&self, id: UserId) -> String {
        self.users.iter().find(|u| u.id == id).map(|u| u.display_name.to_string()).unwrap_or_default()
    }
    fn room(&self, id: Uuid) -> Option<&RoomView> {
        self.sites.iter().flat_map(|s| s.rooms.iter()).find(|r| r.id == id)
    }
    fn site(&self, id: SiteId) -> Option<&SiteView> {
        self.sites.iter().find(|s| s.site.id == id)
    }
    fn site_name(&self, id: SiteId) -> String {
        self.site(id).map(|s| s.site.name.clone()).unwrap_or_default()
    }
    fn track(&self, id: TrackId) -> Option<&Track> {
        self.tracks.iter().find(|t| t.id == id)
    }
    fn facilitators(&self) -> Vec<User> {
        let mut v: Vec<User> = self.users.iter().filter(|u| can_facilitate(u)).cloned().collect();
        v.sort_by(|a, b| a.display_name.as_str().cmp(b.display_name.as_str()));
        v
    }
    fn entry(
        &self,
        session: ProgramSession,
        roster: &[RosterEntry],
        named: &BTreeMap<ClientId, Client>,
    ) -> CalendarEntry {
        let on: Vec<ClientId> = roster.iter().filter(|r| r.session == session.id).map(|r| r.client).collect();
        let mut clients: Vec<Client> = on.iter().filter_map(|c| named.get(c).cloned()).collect();
        clients.sort_by(|a, b| {
            (a.family_name.as_str(), a.given_name.as_str()).cmp(&(b.family_name.as_str(), b.given_name.as_str()))
        });
        CalendarEntry {
            track_name: session.track.and_then(|t| self.track(t)).map(|t| t.name.clone()),
            site_name: self.site_name(session.site),
            room_name: session.room.and_then(|r| self.room(r)).map(|r| r.name.clone()),
            facilitator_name: self.user_name(session.facilitator),
            substitute_name: session.substitute.map(|s| self.user_name(s)),
            roster_count: on.len(),
            clients,
            session,
        }
    }
}

/// Where each kind of collision is reported on the form.
#[derive(Clone, Copy)]
struct Fields {
    staff: &'static str,
    room: &'static str,
    client: &'static str,
}

const SESSION_FIELDS: Fields = Fields { staff: "facilitator", room: "room", client: "client" };

fn track_event_subject(id: TrackId) -> String {
    format!("iop_track:{id}")
}

fn session_subject(id: IopSessionId) -> String {
    format!("iop_session:{id}")
}

impl App {
    /// Now on the calendar of a time zone: its date and time to the minute.
    pub fn civil_now(&self, time_zone: &str) -> (Date, Time) {
        let now = self.now();
        let local = jiff::Timestamp::from_millisecond(crate::unix_ms(now))
            .ok()
            .zip(jiff::tz::TimeZone::get(time_zone).ok())
            .map(|(ts, tz)| tz.to_datetime(ts).time())
            .and_then(|t| Time::from_hms(u8::try_from(t.hour()).ok()?, u8::try_from(t.minute()).ok()?, 0).ok());
        (
            self.today_in(time_zone),
            local.unwrap_or_else(|| Time::from_hms(now.hour(), now.minute(), 0).unwrap_or(Time::MIDNIGHT)),
        )
    }

    fn site_now(&self, lookup: &Lookup, site: SiteId) -> (Date, Time) {
        match lookup.site(site) {
            Some(s) => self.civil_now(s.site.time_zone.as_str()),
            None => (self.now().date(), self.now().time()),
        }
    }

    /// Today on the first site's calendar (the program's default "today").
    fn program_today(&self, lookup: &Lookup) -> Date {
        lookup.sites.first().map(|s| self.today_in(s.site.time_zone.as_str())).unwrap_or_else(|| self.now().date())
    }

    fn still_to_come(&self, lookup: &Lookup, s: &ProgramSession) -> bool {
        (s.slot.date, s.slot.start) > self.site_now(lookup, s.site)
    }

    fn is_day_level(&self, level: &domain::level::LevelCode) -> bool {
        self.catalogue.get(level).is_some_and(|l| l.setting == Setting::Day)
    }

    /// The episode that has the client at a day/evening level on `on`.
    fn iop_episode_on<'a>(&self, episodes: &'a [Episode], on: Date) -> Option<&'a Episode> {
        episodes.iter().find(|e| {
            e.admitted_on <= on
                && e.discharge.as_ref().is_none_or(|d| on < d.on)
                && e.placements
                    .iter()
                    .any(|p| p.start <= on && p.end.is_none_or(|end| on < end) && self.is_day_level(&p.level))
        })
    }

    /// Whether `client` is enrolled in `track` on `on` (and still in that stay at an IOP level).
    async fn enrolled_on(&self, tx: &mut dyn Tx, client: ClientId, track: TrackId, on: Date) -> Result<bool, AppError> {
        let episodes = tx.episodes_of(client).await?;
        let Some(episode) = self.iop_episode_on(&episodes, on) else { return Ok(false) };
        Ok(tx
            .enrolments_of(client)
            .await?
            .iter()
            .any(|e| e.track == track && e.episode == episode.id && e.from <= on && e.until.is_none_or(|u| on <= u)))
    }

    async fn program_event(
        &self,
        ctx: &Ctx,
        tx: &mut dyn Tx,
        action: AuditAction,
        subject: String,
        detail: String,
        client: Option<ClientId>,
    ) -> Result<(), AppError> {
        let event = AuditEvent {
            client,
            subject: Some(subject),
            detail: Some(detail),
            ..self.ctx_event(ctx, action, Outcome::Success)
        };
        tx.append_audit(vec![event]).await?;
        Ok(())
    }

    /// Refuses unless the actor may see this client in the program.
    async fn authorize_client_program(&self, ctx: &Ctx, client: ClientId) -> Result<ClientScope, AppError> {
        let check = ctx
            .actor
            .scope_for(Permission::ReadClient, client)
            .or_else(|e| ctx.actor.scope_for(Permission::ManageProgram, client).map_err(|_| e));
        self.authorize(ctx, check).await
    }

    /// Refuses the booking when it collides with another scheduled session that day; the
    /// errors name what it collides with, one per field.
    async fn refuse_collisions(
        &self,
        ctx: &Ctx,
        tx: &mut dyn Tx,
        lookup: &Lookup,
        candidate: &Booking,
        fields: Fields,
    ) -> Result<(), AppError> {
        let day = candidate.slot.date;
        let others = tx.program_sessions(&SessionFilter::between(day, day)).await?;
        let ids: Vec<IopSessionId> = others.iter().map(|s| s.id).collect();
        let roster = tx.roster(&ids).await?;
        let bookings: Vec<Booking> = others
            .iter()
            .map(|s| Booking {
                session: s.id,
                slot: s.slot,
                staff: vec![s.staff()],
                room: s.room,
                clients: roster.iter().filter(|r| r.session == s.id).map(|r| r.client).collect(),
            })
            .collect();
        let found = program::conflicts(candidate, &bookings);
        if found.is_empty() {
            return Ok(());
        }
        let colliding_clients: Vec<ClientId> = found
            .iter()
            .filter_map(|c| match c.collision {
                Collision::Client(id) => Some(id),
                _ => None,
            })
            .collect();
        let named: BTreeMap<ClientId, Client> =
            tx.clients_among(&nameable(&ctx.actor), &colliding_clients).await?.into_iter().map(|c| (c.id, c)).collect();
        let mut errors: Vec<FieldError> = Vec::new();
        for c in found {
            let Some(other) = others.iter().find(|s| s.id == c.with) else { continue };
            let what = format!("{} {}", other.title, span(&other.slot));
            let (field, message) = match c.collision {
                Collision::Staff(u) => (fields.staff, format!("{} is facilitating {what} then", lookup.user_name(u))),
                Collision::Room(r) => (
                    fields.room,
                    format!(
                        "{} is booked for {what} then",
                        lookup.room(r).map(|r| r.name.as_str()).unwrap_or("The room")
                    ),
                ),
                Collision::Client(id) => match named.get(&id) {
                    Some(client) => (
                        fields.client,
                        format!("{} {} is booked for {what} then", client.given_name, client.family_name),
                    ),
                    None => (fields.client, "A client on the roster is already booked then".to_owned()),
                },
            };
            if !errors.iter().any(|e| e.field == field) {
                errors.push(FieldError::new(field, message));
            }
        }
        Err(AppError::Invalid(errors))
    }

    /// Refuses a date the site is closed.
    async fn refuse_closed(&self, tx: &mut dyn Tx, site: SiteId, on: Date) -> Result<(), AppError> {
        if let Some(c) = tx.closures(Some(site), on, on).await?.first() {
            return Err(AppError::invalid("date", format!("The program is closed that day: {}", c.closure.reason)));
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Reads

    /// The program page: tracks with their templates, closures, and the choices forms offer.
    pub async fn program(&self, ctx: &Ctx) -> Result<Program, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ViewProgram)).await?;
        let mut tx = self.store.read().await?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let today = self.program_today(&lookup);
        let templates = tx.templates(None).await?;
        let mut tracks = Vec::new();
        for t in &lookup.tracks {
            let mut entries: Vec<TemplateView> = templates
                .iter()
                .filter(|e| e.track == t.id && !e.retired)
                .map(|e| TemplateView {
                    facilitator_name: lookup.user_name(e.entry.facilitator),
                    room_name: e.entry.room.and_then(|r| lookup.room(r)).map(|r| r.name.clone()),
                    template: e.clone(),
                })
                .collect();
            entries.sort_by_key(|e| (e.template.entry.weekday.number_days_from_monday(), e.template.entry.start));
            let enrolled = tx
                .track_enrolments(t.id)
                .await?
                .iter()
                .filter(|e| e.from <= today && e.until.is_none_or(|u| today <= u))
                .count();
            tracks.push(TrackView {
                track: t.clone(),
                site_name: lookup.site_name(t.site),
                templates: entries,
                enrolled,
            });
        }
        let closures = tx
            .closures(None, today - Duration::days(30), far_future(today))
            .await?
            .into_iter()
            .map(|c| ClosureView { site_name: lookup.site_name(c.site), closure: c })
            .collect();
        Ok(Program {
            today,
            tracks,
            closures,
            facilitators: lookup.facilitators(),
            can_manage: ctx.actor.require(Permission::ManageProgram).is_ok(),
            sites: lookup.sites,
        })
    }

    /// A calendar of one or seven days from `from` (a week starts on its Monday; today on the
    /// program's calendar when `from` is not given).
    pub async fn calendar(
        &self,
        ctx: &Ctx,
        view: CalendarView,
        from: Option<Date>,
        days: u8,
    ) -> Result<Calendar, AppError> {
        if let CalendarView::Client(client) = view {
            self.authorize_client_program(ctx, client).await?;
        } else {
            self.authorize(ctx, ctx.actor.require(Permission::ViewProgram)).await?;
        }
        let mut tx = self.store.read().await?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let today = match view {
            CalendarView::Track(id) => lookup.track(id).map(|t| self.site_now(&lookup, t.site).0),
            CalendarView::Room(id) => lookup.room(id).map(|r| self.site_now(&lookup, r.site).0),
            _ => None,
        }
        .unwrap_or_else(|| self.program_today(&lookup));
        let from = from.unwrap_or(today);
        let (from, days) = if days == 1 { (from, 1) } else { (IsoWeek::of(from).monday(), 7) };
        let to = from + Duration::days(i64::from(days) - 1);
        let mut filter = SessionFilter { include_cancelled: true, ..SessionFilter::between(from, to) };
        let title = match view {
            CalendarView::Track(id) => {
                filter.track = Some(id);
                lookup.track(id).ok_or(AppError::NotFound)?.name.clone()
            }
            CalendarView::Staff(id) => {
                filter.staff = Some(id);
                lookup.users.iter().find(|u| u.id == id).ok_or(AppError::NotFound)?.display_name.to_string()
            }
            CalendarView::Room(id) => {
                filter.room = Some(id);
                lookup.room(id).ok_or(AppError::NotFound)?.name.clone()
            }
            CalendarView::Client(id) => {
                filter.client = Some(id);
                let scope = ClientScope::Only(BTreeSet::from([id]));
                let c = tx.client(&scope, id).await?.ok_or(AppError::NotFound)?;
                format!("{} {}", c.given_name, c.family_name)
            }
        };
        let sessions = tx.program_sessions(&filter).await?;
        if let CalendarView::Client(client) = view {
            let event = AuditEvent {
                client: Some(client),
                detail: Some("program calendar".into()),
                ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
            };
            self.store.record(vec![event]).await?;
        }
        let entries = self.entries(ctx, tx.as_mut(), &lookup, sessions, "program calendar").await?;
        let sites: BTreeSet<SiteId> = match view {
            CalendarView::Track(id) => lookup.track(id).map(|t| t.site).into_iter().collect(),
            CalendarView::Room(id) => lookup.room(id).map(|r| r.site).into_iter().collect(),
            _ => lookup.sites.iter().map(|s| s.site.id).collect(),
        };
        let closures = tx
            .closures(None, from, to)
            .await?
            .into_iter()
            .filter(|c| sites.contains(&c.site))
            .map(|c| ClosureView { site_name: lookup.site_name(c.site), closure: c })
            .collect();
        Ok(Calendar { view, title, from, days, today, entries, closures })
    }

    /// Names the rosters of `sessions` for the viewer and audits the names shown.
    async fn entries(
        &self,
        ctx: &Ctx,
        tx: &mut dyn Tx,
        lookup: &Lookup,
        sessions: Vec<ProgramSession>,
        why: &str,
    ) -> Result<Vec<CalendarEntry>, AppError> {
        let ids: Vec<IopSessionId> = sessions.iter().map(|s| s.id).collect();
        let roster = tx.roster(&ids).await?;
        let on: Vec<ClientId> = roster.iter().map(|r| r.client).collect::<BTreeSet<_>>().into_iter().collect();
        let named: BTreeMap<ClientId, Client> =
            tx.clients_among(&nameable(&ctx.actor), &on).await?.into_iter().map(|c| (c.id, c)).collect();
        let events: Vec<AuditEvent> = named
            .keys()
            .map(|c| AuditEvent {
                client: Some(*c),
                detail: Some(why.to_owned()),
                ..self.ctx_event(ctx, AuditAction::ClientSearched, Outcome::Success)
            })
            .collect();
        if !events.is_empty() {
            self.store.record(events).await?;
        }
        Ok(sessions.into_iter().map(|s| lookup.entry(s, &roster, &named)).collect())
    }

    /// One session with its roster.
    pub async fn program_session(&self, ctx: &Ctx, id: IopSessionId) -> Result<SessionDetail, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ViewProgram)).await?;
        let can_manage = ctx.actor.require(Permission::ManageProgram).is_ok();
        let mut tx = self.store.read().await?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let session = tx.program_session(id).await?.ok_or(AppError::NotFound)?;
        let still_to_come = self.still_to_come(&lookup, &session);
        let mut candidates = Vec::new();
        if can_manage
            && !session.cancelled
            && let Some(track) = session.track
        {
            let roster: BTreeSet<ClientId> = tx.roster(&[id]).await?.into_iter().map(|r| r.client).collect();
            let enrolled: BTreeSet<ClientId> =
                tx.track_enrolments(track).await?.into_iter().map(|e| e.client).collect();
            let mut eligible = Vec::new();
            for c in enrolled.into_iter().filter(|c| !roster.contains(c)) {
                if self.enrolled_on(tx.as_mut(), c, track, session.slot.date).await? {
                    eligible.push(c);
                }
            }
            candidates = tx.clients_among(&nameable(&ctx.actor), &eligible).await?;
            candidates.sort_by(|a, b| a.family_name.as_str().cmp(b.family_name.as_str()));
        }
        let rooms = lookup.site(session.site).map(|s| s.rooms.clone()).unwrap_or_default();
        let mut entries = self.entries(ctx, tx.as_mut(), &lookup, vec![session], "program session").await?;
        if !candidates.is_empty() {
            let events = candidates
                .iter()
                .map(|c| AuditEvent {
                    client: Some(c.id),
                    detail: Some("program session candidates".into()),
                    ..self.ctx_event(ctx, AuditAction::ClientSearched, Outcome::Success)
                })
                .collect();
            self.store.record(events).await?;
        }
        let entry = entries.pop().ok_or(AppError::NotFound)?;
        Ok(SessionDetail { entry, candidates, can_manage, rooms, facilitators: lookup.facilitators(), still_to_come })
    }

    /// A client's enrolments and what the chart offers to change them.
    pub async fn client_program(&self, ctx: &Ctx, client: ClientId) -> Result<ClientProgram, AppError> {
        let scope = self.authorize_client_program(ctx, client).await?;
        let can_manage = ctx.actor.scope_for(Permission::ManageProgram, client).is_ok();
        let mut tx = self.store.read().await?;
        let c = tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let episodes = tx.episodes_of(client).await?;
        let current_site = episodes.iter().find(|e| e.is_open()).and_then(|e| e.current()).map(|p| p.site);
        let today = match current_site {
            Some(s) => self.site_now(&lookup, s).0,
            None => self.program_today(&lookup),
        };
        let in_iop = self.iop_episode_on(&episodes, today).is_some();
        let enrolments: Vec<EnrolmentView> = tx
            .enrolments_of(client)
            .await?
            .into_iter()
            .map(|e| EnrolmentView {
                track_name: lookup.track(e.track).map(|t| t.name.clone()).unwrap_or_default(),
                enrolment: e,
            })
            .collect();
        let current = enrolments
            .iter()
            .filter(|e| e.enrolment.until.is_none_or(|u| today <= u))
            .filter(|e| {
                self.iop_episode_on(&episodes, today.max(e.enrolment.from))
                    .is_some_and(|ep| ep.id == e.enrolment.episode)
            })
            .min_by_key(|e| e.enrolment.from)
            .cloned();
        let last = IsoWeek::of(today).next().map_or(today, |w| w.sunday());
        let filter =
            SessionFilter { client: Some(client), include_cancelled: true, ..SessionFilter::between(today, last) };
        let sessions = tx.program_sessions(&filter).await?;
        let ids: Vec<IopSessionId> = sessions.iter().map(|s| s.id).collect();
        let roster = tx.roster(&ids).await?;
        let named = BTreeMap::from([(client, c)]);
        let upcoming = sessions.into_iter().map(|s| lookup.entry(s, &roster, &named)).collect();
        drop(tx);
        let event = AuditEvent {
            client: Some(client),
            detail: Some("program enrolment".into()),
            ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
        };
        self.store.record(vec![event]).await?;
        let tracks = if can_manage {
            lookup.tracks.iter().filter(|t| t.active_until.is_none_or(|u| today <= u)).cloned().collect()
        } else {
            Vec::new()
        };
        let rooms = current_site.and_then(|s| lookup.site(s)).map(|s| s.rooms.clone()).unwrap_or_default();
        Ok(ClientProgram {
            enrolments,
            current,
            in_iop,
            can_manage,
            tracks,
            facilitators: lookup.facilitators(),
            rooms,
            today,
            upcoming,
        })
    }

    /// A client's sessions in one ISO week (this week when not given), for the printable
    /// schedule.
    pub async fn client_week(
        &self,
        ctx: &Ctx,
        client: ClientId,
        week: Option<IsoWeek>,
    ) -> Result<ClientWeek, AppError> {
        let scope = self.authorize_client_program(ctx, client).await?;
        let mut tx = self.store.read().await?;
        let c = tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let week = week.unwrap_or_else(|| IsoWeek::of(self.program_today(&lookup)));
        let filter = SessionFilter {
            client: Some(client),
            include_cancelled: true,
            ..SessionFilter::between(week.monday(), week.sunday())
        };
        let sessions = tx.program_sessions(&filter).await?;
        let ids: Vec<IopSessionId> = sessions.iter().map(|s| s.id).collect();
        let roster = tx.roster(&ids).await?;
        // Only this client's own name: a schedule handed to a client names nobody else.
        let named = BTreeMap::from([(client, c.clone())]);
        let entries: Vec<CalendarEntry> = sessions.into_iter().map(|s| lookup.entry(s, &roster, &named)).collect();
        let enrolment = tx
            .enrolments_of(client)
            .await?
            .into_iter()
            .filter(|e| e.from <= week.sunday() && e.until.is_none_or(|u| week.monday() <= u))
            .max_by_key(|e| e.from)
            .map(|e| EnrolmentView {
                track_name: lookup.track(e.track).map(|t| t.name.clone()).unwrap_or_default(),
                enrolment: e,
            });
        let sites: BTreeSet<SiteId> = entries.iter().map(|e| e.session.site).collect();
        let closures = tx
            .closures(None, week.monday(), week.sunday())
            .await?
            .into_iter()
            .filter(|cl| {
                sites.contains(&cl.site)
                    || enrolment
                        .as_ref()
                        .and_then(|e| lookup.track(e.enrolment.track))
                        .is_some_and(|t| t.site == cl.site)
            })
            .map(|cl| ClosureView { site_name: lookup.site_name(cl.site), closure: cl })
            .collect();
        drop(tx);
        let event = AuditEvent {
            client: Some(client),
            detail: Some("program schedule".into()),
            ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
        };
        self.store.record(vec![event]).await?;
        Ok(ClientWeek { client: c, week, enrolment, entries, closures })
    }

    /// Everyone now in a day/evening placement whom the viewer may see by name, with their
    /// current enrolment: the coordinator's list for enrolling and changing tracks.
    pub async fn iop_clients(&self, ctx: &Ctx) -> Result<ProgramClients, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ViewProgram)).await?;
        let scope = nameable(&ctx.actor);
        let mut tx = self.store.read().await?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let rows: Vec<crate::ports::CensusRow> =
            tx.census(&scope).await?.into_iter().filter(|r| self.is_day_level(&r.placement.level)).collect();
        let mut enrolments: Vec<TrackEnrolment> = Vec::new();
        for t in &lookup.tracks {
            enrolments.extend(tx.track_enrolments(t.id).await?);
        }
        drop(tx);
        let chart = ctx.actor.scope(Permission::ReadClient).unwrap_or(ClientScope::Only(BTreeSet::new()));
        let mut out: Vec<IopClient> = rows
            .into_iter()
            .map(|r| {
                let today = self.site_now(&lookup, r.placement.site).0;
                let enrolment = enrolments
                    .iter()
                    .filter(|e| e.client == r.client.id && e.episode == r.episode && e.until.is_none_or(|u| today <= u))
                    .min_by_key(|e| e.from)
                    .map(|e| EnrolmentView {
                        track_name: lookup.track(e.track).map(|t| t.name.clone()).unwrap_or_default(),
                        enrolment: e.clone(),
                    });
                IopClient {
                    chart: chart.contains(r.client.id),
                    level: r.placement.level.clone(),
                    site: r.placement.site,
                    since: r.placement.start,
                    enrolment,
                    client: r.client,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            (a.client.family_name.as_str(), a.client.given_name.as_str())
                .cmp(&(b.client.family_name.as_str(), b.client.given_name.as_str()))
        });
        let events: Vec<AuditEvent> = out
            .iter()
            .map(|c| AuditEvent {
                client: Some(c.client.id),
                detail: Some("program clients".into()),
                ..self.ctx_event(ctx, AuditAction::ClientSearched, Outcome::Success)
            })
            .collect();
        if !events.is_empty() {
            self.store.record(events).await?;
        }
        let today = self.program_today(&lookup);
        let tracks = lookup.tracks.into_iter().filter(|t| t.active_until.is_none_or(|u| today <= u)).collect();
        Ok(ProgramClients { today, clients: out, tracks })
    }

    /// A client's enrolments, oldest first.
    pub async fn enrolments(&self, ctx: &Ctx, client: ClientId) -> Result<Vec<EnrolmentView>, AppError> {
        Ok(self.client_program(ctx, client).await?.enrolments)
    }

    // -----------------------------------------------------------------------------------
    // Tracks and templates

    fn track_fields(
        &self,
        p: &mut Problems,
        f: &TrackForm,
    ) -> (Option<String>, Option<u16>, Option<Date>, Option<Option<Date>>) {
        let name = p.check("name", "Track name", bounded_line(&f.name, 80));
        let limit = if f.group_limit.trim().is_empty() {
            Some(DEFAULT_GROUP_LIMIT)
        } else {
            match f.group_limit.trim().parse::<u16>() {
                Ok(n) if (1..=MAX_GROUP_LIMIT).contains(&n) => Some(n),
                _ => {
                    p.add(
                        "group_limit",
                        format!("Group size limit must be a whole number from 1 to {MAX_GROUP_LIMIT}"),
                    );
                    None
                }
            }
        };
        let from = required_date(p, "active_from", "First day", &f.active_from);
        let until = optional_date(p, "active_until", "Last day", &f.active_until);
        if let (Some(from), Some(Some(until))) = (from, until)
            && until < from
        {
            p.add("active_until", "Last day must not be before the first day");
        }
        (name, limit, from, until)
    }

    /// Creates a track at a site.
    pub async fn create_track(&self, ctx: &Ctx, f: &TrackForm) -> Result<Track, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageProgram)).await?;
        let mut tx = self.begin().await?;
        let sites = tx.sites().await?;
        let mut p = Problems::default();
        let site = match f.site.trim().parse::<SiteId>() {
            Ok(s) if sites.iter().any(|v| v.site.id == s) => Some(s),
            _ => {
                p.add("site", "Choose a site");
                None
            }
        };
        let (name, limit, from, until) = self.track_fields(&mut p, f);
        p.into_result()?;
        let (Some(site), Some(name), Some(group_limit), Some(active_from), Some(active_until)) =
            (site, name, limit, from, until)
        else {
            return Err(AppError::Internal("validated track incomplete"));
        };
        if tx.tracks().await?.iter().any(|t| t.site == site && t.name.eq_ignore_ascii_case(&name)) {
            return Err(AppError::invalid("name", "That site already has a track with that name"));
        }
        let track =
            Track { id: TrackId::from_uuid(self.ids.new_id()), site, name, group_limit, active_from, active_until };
        tx.save_track(&track, self.now()).await?;
        self.program_event(
            ctx,
            tx.as_mut(),
            AuditAction::ProgramChanged,
            track_event_subject(track.id),
            "track created".into(),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(track)
    }

    /// Changes a track's name, group limit or active dates (not its site). A new group limit
    /// applies to the track's group sessions still to come too.
    pub async fn update_track(&self, ctx: &Ctx, id: TrackId, f: &TrackForm) -> Result<Track, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageProgram)).await?;
        let mut tx = self.begin().await?;
        tx.lock_program_calendar().await?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let old = lookup.track(id).cloned().ok_or(AppError::NotFound)?;
        let mut p = Problems::default();
        let (name, limit, from, until) = self.track_fields(&mut p, f);
        p.into_result()?;
        let (Some(name), Some(group_limit), Some(active_from), Some(active_until)) = (name, limit, from, until) else {
            return Err(AppError::Internal("validated track incomplete"));
        };
        if lookup.tracks.iter().any(|t| t.id != id && t.site == old.site && t.name.eq_ignore_ascii_case(&name)) {
            return Err(AppError::invalid("name", "That site already has a track with that name"));
        }
        let track = Track { id, site: old.site, name, group_limit, active_from, active_until };
        if group_limit != old.group_limit {
            let (today, _) = self.site_now(&lookup, old.site);
            let filter = SessionFilter { track: Some(id), ..SessionFilter::between(today, far_future(today)) };
            let sessions: Vec<ProgramSession> = tx
                .program_sessions(&filter)
                .await?
                .into_iter()
                .filter(|s| self.still_to_come(&lookup, s) && !s.modality.is_one_to_one())
                .collect();
            let ids: Vec<IopSessionId> = sessions.iter().map(|s| s.id).collect();
            let roster = tx.roster(&ids).await?;
            for mut s in sessions {
                let capacity = capacity_for(
                    s.modality,
                    Some(group_limit),
                    s.room.and_then(|r| lookup.room(r)).map(|r| r.capacity),
                );
                let on = roster.iter().filter(|r| r.session == s.id).count();
                if on > usize::from(capacity) {
                    return Err(AppError::invalid(
                        "group_limit",
                        format!(
                            "{} on {} already has {on} clients; take some off before lowering the limit",
                            s.title, s.slot.date
                        ),
                    ));
                }
                if capacity != s.capacity {
                    s.capacity = capacity;
                    tx.update_program_session(&s).await?;
                }
            }
        }
        tx.save_track(&track, self.now()).await?;
        self.program_event(
            ctx,
            tx.as_mut(),
            AuditAction::ProgramChanged,
            track_event_subject(id),
            "track changed".into(),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(track)
    }

    /// The template entry a form describes, with the given id.
    fn template_entry(
        &self,
        id: TemplateId,
        f: &TemplateForm,
        track: &Track,
        lookup: &Lookup,
    ) -> Result<domain::iop::program::TemplateEntry, AppError> {
        let mut p = Problems::default();
        let weekday = parse_weekday(&f.weekday);
        if weekday.is_none() {
            p.add("weekday", "Choose a day of the week");
        }
        let slot = parse_slot(
            &mut p,
            &SlotForm {
                date: reference_date(weekday.unwrap_or(Weekday::Monday)).to_string(),
                start: f.start.clone(),
                end: f.end.clone(),
                end_date: String::new(),
            },
        );
        let modality = parse_modality(&mut p, &f.modality);
        let title = p.check("title", "Title", bounded_line(&f.title, 120));
        let facilitator = parse_facilitator(&mut p, "facilitator", &f.facilitator, &lookup.users);
        let room = parse_room(&mut p, &f.room, Some(track.site), &lookup.sites);
        p.into_result()?;
        match (weekday, slot, modality, title, facilitator, room) {
            (Some(weekday), Some(s), Some(modality), Some(title), Some(facilitator), Some(room)) => {
                Ok(domain::iop::program::TemplateEntry {
                    id,
                    weekday,
                    start: s.start,
                    minutes: s.minutes,
                    modality,
                    title,
                    facilitator,
                    room: room.map(|r| r.id),
                })
            }
            _ => Err(AppError::Internal("validated template entry incomplete")),
        }
    }

    /// Refuses a template entry that would have one person or room in two places every week.
    async fn refuse_template_collisions(
        &self,
        tx: &mut dyn Tx,
        lookup: &Lookup,
        track: &Track,
        entry: &domain::iop::program::TemplateEntry,
    ) -> Result<(), AppError> {
        let all = tx.templates(None).await?;
        let at = |e: &domain::iop::program::TemplateEntry| Slot {
            date: reference_date(e.weekday),
            start: e.start,
            minutes: e.minutes,
        };
        let others: Vec<(&TrackTemplate, Booking)> = all
            .iter()
            .filter(|t| !t.retired && t.entry.id != entry.id)
            .filter(|t| {
                lookup.track(t.track).is_some_and(|o| {
                    ranges_meet((o.active_from, o.active_until), (track.active_from, track.active_until))
                })
            })
            .map(|t| {
                (
                    t,
                    Booking {
                        session: IopSessionId::from_uuid(t.entry.id.as_uuid()),
                        slot: at(&t.entry),
                        staff: vec![t.entry.facilitator],
                        room: t.entry.room,
                        clients: Vec::new(),
                    },
                )
            })
            .collect();
        let candidate = Booking {
            session: IopSessionId::from_uuid(entry.id.as_uuid()),
            slot: at(entry),
            staff: vec![entry.facilitator],
            room: entry.room,
            clients: Vec::new(),
        };
        let bookings: Vec<Booking> = others.iter().map(|(_, b)| b.clone()).collect();
        let mut errors: Vec<FieldError> = Vec::new();
        for c in program::conflicts(&candidate, &bookings) {
            let Some((t, b)) = others.iter().find(|(_, b)| b.session == c.with) else { continue };
            let what = format!(
                "{} ({}) on {}s {}",
                t.entry.title,
                lookup.track(t.track).map(|x| x.name.as_str()).unwrap_or(""),
                weekday_label(t.entry.weekday),
                span(&b.slot)
            );
            let (field, message) = match c.collision {
                Collision::Staff(u) => ("facilitator", format!("{} already facilitates {what}", lookup.user_name(u))),
                Collision::Room(r) => (
                    "room",
                    format!(
                        "{} is already booked for {what}",
                        lookup.room(r).map(|r| r.name.as_str()).unwrap_or("The room")
                    ),
                ),
                Collision::Client(_) => continue,
            };
            if !errors.iter().any(|e| e.field == field) {
                errors.push(FieldError::new(field, message));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
    }

    /// Adds an entry to a track's weekly template.
    pub async fn add_template(&self, ctx: &Ctx, track: TrackId, f: &TemplateForm) -> Result<TrackTemplate, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageProgram)).await?;
        let mut tx = self.begin().await?;
        tx.lock_program_calendar().await?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let t = lookup.track(track).cloned().ok_or(AppError::NotFound)?;
        let entry = self.template_entry(TemplateId::from_uuid(self.ids.new_id()), f, &t, &lookup)?;
        self.refuse_template_collisions(tx.as_mut(), &lookup, &t, &entry).await?;
        let stored = TrackTemplate { track, entry, retired: false };
        tx.save_template(&stored).await?;
        self.program_event(
            ctx,
            tx.as_mut(),
            AuditAction::ProgramChanged,
            format!("iop_template:{}", stored.entry.id),
            "template entry added".into(),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Changes a template entry; weeks generated from now on follow it.
    pub async fn update_template(
        &self,
        ctx: &Ctx,
        id: TemplateId,
        f: &TemplateForm,
    ) -> Result<TrackTemplate, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageProgram)).await?;
        let mut tx = self.begin().await?;
        tx.lock_program_calendar().await?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let old =
            tx.templates(None).await?.into_iter().find(|t| t.entry.id == id && !t.retired).ok_or(AppError::NotFound)?;
        let t = lookup.track(old.track).cloned().ok_or(AppError::NotFound)?;
        let entry = self.template_entry(id, f, &t, &lookup)?;
        self.refuse_template_collisions(tx.as_mut(), &lookup, &t, &entry).await?;
        let stored = TrackTemplate { track: old.track, entry, retired: false };
        tx.save_template(&stored).await?;
        self.program_event(
            ctx,
            tx.as_mut(),
            AuditAction::ProgramChanged,
            format!("iop_template:{id}"),
            "template entry changed".into(),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Retires a template entry: it generates no more sessions; those generated stay.
    pub async fn retire_template(&self, ctx: &Ctx, id: TemplateId) -> Result<(), AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageProgram)).await?;
        let mut tx = self.begin().await?;
        let mut t =
            tx.templates(None).await?.into_iter().find(|t| t.entry.id == id && !t.retired).ok_or(AppError::NotFound)?;
        t.retired = true;
        tx.save_template(&t).await?;
        self.program_event(
            ctx,
            tx.as_mut(),
            AuditAction::ProgramChanged,
            format!("iop_template:{id}"),
            "template entry retired".into(),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Closures

    /// Closes a site's program on a day, cancelling its sessions that day.
    pub async fn add_closure(&self, ctx: &Ctx, f: &ClosureForm) -> Result<ClosureAdded, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageProgram)).await?;
        let mut tx = self.begin().await?;
        tx.lock_program_calendar().await?;
        let sites = tx.sites().await?;
        let mut p = Problems::default();
        let site = match f.site.trim().parse::<SiteId>() {
            Ok(s) if sites.iter().any(|v| v.site.id == s) => Some(s),
            _ => {
                p.add("site", "Choose a site");
                None
            }
        };
        let date = required_date(&mut p, "date", "Date", &f.date);
        let reason = p.check("reason", "Reason", bounded_line(&f.reason, 200));
        p.into_result()?;
        let (Some(site), Some(date), Some(reason)) = (site, date, reason) else {
            return Err(AppError::Internal("validated closure incomplete"));
        };
        let closure = SiteClosure { id: self.ids.new_id(), site, closure: Closure { date, reason } };
        match tx.insert_closure(&closure).await {
            Err(StoreError::Duplicate(_)) => {
                return Err(AppError::invalid("date", "The program is already closed at that site that day"));
            }
            other => other?,
        }
        let mut cancelled = 0;
        for mut s in
            tx.program_sessions(&SessionFilter::between(date, date)).await?.into_iter().filter(|s| s.site == site)
        {
            s.cancelled = true;
            s.status_reason = Some(format!("Closed: {}", closure.closure.reason));
            tx.update_program_session(&s).await?;
            self.program_event(
                ctx,
                tx.as_mut(),
                AuditAction::SessionChanged,
                session_subject(s.id),
                "cancelled (closure)".into(),
                None,
            )
            .await?;
            cancelled += 1;
        }
        self.program_event(
            ctx,
            tx.as_mut(),
            AuditAction::ProgramChanged,
            format!("iop_closure:{}", closure.id),
            "closure added".into(),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(ClosureAdded { closure, cancelled })
    }

    /// Removes a closure (the sessions it cancelled stay cancelled).
    pub async fn remove_closure(&self, ctx: &Ctx, id: Uuid) -> Result<(), AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageProgram)).await?;
        let mut tx = self.begin().await?;
        if !tx.delete_closure(id).await? {
            return Err(AppError::NotFound);
        }
        self.program_event(
            ctx,
            tx.as_mut(),
            AuditAction::ProgramChanged,
            format!("iop_closure:{id}"),
            "closure removed".into(),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Sessions

    /// Generates the week's sessions from the track's template; running it again adds only
    /// what is missing. Refused, with nothing generated, when one would collide.
    pub async fn ensure_week(&self, ctx: &Ctx, track: TrackId, week: IsoWeek) -> Result<WeekGenerated, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageProgram)).await?;
        let mut tx = self.begin().await?;
        tx.lock_program_calendar().await?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let t = lookup.track(track).cloned().ok_or(AppError::NotFound)?;
        let templates: Vec<TrackTemplate> =
            tx.templates(Some(track)).await?.into_iter().filter(|e| !e.retired).collect();
        let entries: Vec<domain::iop::program::TemplateEntry> = templates.iter().map(|e| e.entry.clone()).collect();
        let closures: Vec<Closure> =
            tx.closures(Some(t.site), week.monday(), week.sunday()).await?.into_iter().map(|c| c.closure).collect();
        let wanted = program::occurrences(&entries, week, t.active_from, t.active_until, &closures);
        let filter = SessionFilter {
            track: Some(track),
            include_cancelled: true,
            ..SessionFilter::between(week.monday(), week.sunday())
        };
        let existing = tx.program_sessions(&filter).await?;
        let made: BTreeSet<(TemplateId, Date)> =
            existing.iter().filter_map(|s| s.template.map(|id| (id, s.slot.date))).collect();
        let mut created = Vec::new();
        for (template, slot) in wanted {
            if made.contains(&(template, slot.date)) {
                continue;
            }
            let Some(e) = entries.iter().find(|e| e.id == template) else { continue };
            let session = ProgramSession {
                id: IopSessionId::from_uuid(self.ids.new_id()),
                site: t.site,
                track: Some(track),
                template: Some(template),
                modality: e.modality,
                title: e.title.clone(),
                slot,
                facilitator: e.facilitator,
                substitute: None,
                room: e.room,
                capacity: capacity_for(
                    e.modality,
                    Some(t.group_limit),
                    e.room.and_then(|r| lookup.room(r)).map(|r| r.capacity),
                ),
                cancelled: false,
                status_reason: None,
                created_at: self.now(),
            };
            let candidate = Booking {
                session: session.id,
                slot,
                staff: vec![session.facilitator],
                room: session.room,
                clients: Vec::new(),
            };
            match self.refuse_collisions(ctx, tx.as_mut(), &lookup, &candidate, SESSION_FIELDS).await {
                Ok(()) => {}
                Err(AppError::Invalid(errors)) => {
                    let day = format!("{} {} {}", weekday_label(slot.date.weekday()), slot.date, e.title);
                    let errors = errors.into_iter().map(|fe| FieldError::new("week", format!("{day}: {}", fe.message)));
                    return Err(AppError::Invalid(errors.collect()));
                }
                Err(other) => return Err(other),
            }
            if tx.insert_program_session(&session).await? {
                created.push(session);
            }
        }
        let detail = format!("week {week} generated ({} sessions)", created.len());
        self.program_event(ctx, tx.as_mut(), AuditAction::ProgramChanged, track_event_subject(track), detail, None)
            .await?;
        tx.commit().await?;
        Ok(WeekGenerated { week, existing: existing.len(), created })
    }

    /// Books an individual, family or case-management appointment for a client in the program.
    pub async fn book_appointment(&self, ctx: &Ctx, f: &AppointmentForm) -> Result<ProgramSession, AppError> {
        let client = f.client.trim().parse::<ClientId>().map_err(|_| AppError::invalid("client", "Choose a client"))?;
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ManageProgram, client)).await?;
        let mut tx = self.begin().await?;
        tx.lock_program_calendar().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let mut p = Problems::default();
        let modality = parse_modality(&mut p, &f.modality);
        if modality.is_some_and(|m| !m.is_one_to_one()) {
            p.add(
                "modality",
                "Appointments are individual, family or case management; groups come from a track's template",
            );
        }
        let title = if f.title.trim().is_empty() {
            Some(modality.map(|m| m.label().to_owned()).unwrap_or_default())
        } else {
            p.check("title", "Title", bounded_line(&f.title, 120))
        };
        let facilitator = parse_facilitator(&mut p, "facilitator", &f.facilitator, &lookup.users);
        let room = parse_room(&mut p, &f.room, None, &lookup.sites);
        let slot = parse_slot(&mut p, &f.slot);
        p.into_result()?;
        let (Some(modality), Some(title), Some(facilitator), Some(room), Some(slot)) =
            (modality, title, facilitator, room, slot)
        else {
            return Err(AppError::Internal("validated appointment incomplete"));
        };
        let episodes = tx.episodes_of(client).await?;
        let Some(episode) = self.iop_episode_on(&episodes, slot.date) else {
            return Err(AppError::invalid(
                "client",
                "The client is not in a day or evening program (IOP) on that date",
            ));
        };
        let placement_site = episode
            .placements
            .iter()
            .find(|p| p.start <= slot.date && p.end.is_none_or(|e| slot.date < e))
            .map(|p| p.site);
        let site = room
            .as_ref()
            .map(|r| r.site)
            .or(placement_site)
            .ok_or(AppError::Internal("IOP placement without a site"))?;
        self.refuse_closed(tx.as_mut(), site, slot.date).await?;
        let session = ProgramSession {
            id: IopSessionId::from_uuid(self.ids.new_id()),
            site,
            track: None,
            template: None,
            modality,
            title,
            slot,
            facilitator,
            substitute: None,
            room: room.map(|r| r.id),
            capacity: 1,
            cancelled: false,
            status_reason: None,
            created_at: self.now(),
        };
        let candidate =
            Booking { session: session.id, slot, staff: vec![facilitator], room: session.room, clients: vec![client] };
        self.refuse_collisions(ctx, tx.as_mut(), &lookup, &candidate, SESSION_FIELDS).await?;
        tx.insert_program_session(&session).await?;
        tx.add_to_roster(&RosterEntry {
            session: session.id,
            client,
            added_at: self.now(),
            added_by: ctx.actor.user_id,
        })
        .await?;
        self.program_event(
            ctx,
            tx.as_mut(),
            AuditAction::SessionChanged,
            session_subject(session.id),
            "appointment booked".into(),
            Some(client),
        )
        .await?;
        tx.commit().await?;
        Ok(session)
    }

    async fn scheduled_session(&self, tx: &mut dyn Tx, id: IopSessionId) -> Result<ProgramSession, AppError> {
        let s = tx.program_session(id).await?.ok_or(AppError::NotFound)?;
        if s.cancelled {
            return Err(AppError::invalid("session", "This session is cancelled"));
        }
        Ok(s)
    }

    /// Saves a changed session and records what happened to it, in the caller's transaction.
    async fn save_session_change(
        &self,
        ctx: &Ctx,
        tx: &mut dyn Tx,
        s: &ProgramSession,
        what: &str,
    ) -> Result<(), AppError> {
        tx.update_program_session(s).await?;
        self.program_event(ctx, tx, AuditAction::SessionChanged, session_subject(s.id), what.into(), None).await
    }

    /// Cancels a session (one-off); the roster is kept so people can be told.
    pub async fn cancel_session(&self, ctx: &Ctx, id: IopSessionId, reason: &str) -> Result<ProgramSession, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageProgram)).await?;
        let mut p = Problems::default();
        let reason = p.check("reason", "Reason", bounded_line(reason, 200));
        p.into_result()?;
        let reason = reason.ok_or(AppError::Internal("validated reason missing"))?;
        let mut tx = self.begin().await?;
        tx.lock_program_calendar().await?;
        let mut s = self.scheduled_session(tx.as_mut(), id).await?;
        s.cancelled = true;
        s.status_reason = Some(reason);
        self.save_session_change(ctx, tx.as_mut(), &s, "cancelled").await?;
        tx.commit().await?;
        Ok(s)
    }

    /// Takes back a cancellation (made by mistake, or a closure that was lifted): the session
    /// is checked like a new booking, so it must not fall on a closed day or collide with what
    /// its staff, room or roster took on meanwhile. A session that moved to another day stays
    /// cancelled: the new one carries its roster.
    pub async fn reinstate_session(&self, ctx: &Ctx, id: IopSessionId) -> Result<ProgramSession, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageProgram)).await?;
        let mut tx = self.begin().await?;
        tx.lock_program_calendar().await?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let mut s = tx.program_session(id).await?.ok_or(AppError::NotFound)?;
        if !s.cancelled {
            return Err(AppError::invalid("session", "This session is not cancelled"));
        }
        if s.status_reason.as_deref().is_some_and(|r| r.starts_with(MOVED_TO)) {
            return Err(AppError::invalid(
                "session",
                "This session moved to another day; change the new session instead",
            ));
        }
        if let Some(c) = tx.closures(Some(s.site), s.slot.date, s.slot.date).await?.first() {
            return Err(AppError::invalid("session", format!("The program is closed that day: {}", c.closure.reason)));
        }
        let roster: Vec<ClientId> = tx.roster(&[id]).await?.into_iter().map(|r| r.client).collect();
        let candidate = Booking { session: id, slot: s.slot, staff: vec![s.staff()], room: s.room, clients: roster };
        self.refuse_collisions(
            ctx,
            tx.as_mut(),
            &lookup,
            &candidate,
            Fields { staff: "session", room: "session", client: "session" },
        )
        .await?;
        s.cancelled = false;
        s.status_reason = None;
        self.save_session_change(ctx, tx.as_mut(), &s, "reinstated").await?;
        tx.commit().await?;
        Ok(s)
    }

    /// Moves a session to another time, day or room. A move to another day cancels this
    /// session ("Moved to …") and books a new one with the same roster.
    pub async fn move_session(&self, ctx: &Ctx, id: IopSessionId, f: &MoveForm) -> Result<ProgramSession, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageProgram)).await?;
        let mut tx = self.begin().await?;
        tx.lock_program_calendar().await?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let old = self.scheduled_session(tx.as_mut(), id).await?;
        let mut p = Problems::default();
        let slot = parse_slot(&mut p, &f.slot);
        let room = if f.room.trim().is_empty() {
            Some(old.room.and_then(|r| lookup.room(r)).cloned())
        } else {
            parse_room(&mut p, &f.room, Some(old.site), &lookup.sites)
        };
        p.into_result()?;
        let (Some(slot), Some(room)) = (slot, room) else {
            return Err(AppError::Internal("validated move incomplete"));
        };
        self.refuse_closed(tx.as_mut(), old.site, slot.date).await?;
        let roster: Vec<ClientId> = tx.roster(&[id]).await?.into_iter().map(|r| r.client).collect();
        let group_limit = old.track.and_then(|t| lookup.track(t)).map(|t| t.group_limit);
        let capacity = if old.track.is_some() {
            capacity_for(old.modality, group_limit, room.as_ref().map(|r| r.capacity))
        } else {
            old.capacity
        };
        if roster.len() > usize::from(capacity) {
            return Err(AppError::invalid(
                "room",
                format!("That room holds {capacity}; {} clients are on the roster", roster.len()),
            ));
        }
        let moved_day = slot.date != old.slot.date;
        let new_id = if moved_day { IopSessionId::from_uuid(self.ids.new_id()) } else { id };
        let candidate = Booking {
            session: id,
            slot,
            staff: vec![old.staff()],
            room: room.as_ref().map(|r| r.id),
            clients: roster.clone(),
        };
        self.refuse_collisions(
            ctx,
            tx.as_mut(),
            &lookup,
            &candidate,
            Fields { staff: "start", room: "room", client: "start" },
        )
        .await?;
        let mut moved = ProgramSession { id: new_id, slot, room: room.as_ref().map(|r| r.id), capacity, ..old.clone() };
        if moved_day {
            moved.template = None;
            moved.created_at = self.now();
            let mut original = old;
            original.cancelled = true;
            original.status_reason = Some(format!("{MOVED_TO}{} {}", slot.date, hm(slot.start)));
            tx.update_program_session(&original).await?;
            tx.insert_program_session(&moved).await?;
            for c in &roster {
                tx.add_to_roster(&RosterEntry {
                    session: new_id,
                    client: *c,
                    added_at: self.now(),
                    added_by: ctx.actor.user_id,
                })
                .await?;
            }
            self.program_event(
                ctx,
                tx.as_mut(),
                AuditAction::SessionChanged,
                session_subject(id),
                format!("moved to iop_session:{new_id}"),
                None,
            )
            .await?;
        } else {
            self.save_session_change(ctx, tx.as_mut(), &moved, "moved").await?;
        }
        tx.commit().await?;
        Ok(moved)
    }

    /// Sets (or, with a blank, clears) a substitute facilitator.
    pub async fn substitute(&self, ctx: &Ctx, id: IopSessionId, user: &str) -> Result<ProgramSession, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageProgram)).await?;
        let mut tx = self.begin().await?;
        tx.lock_program_calendar().await?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let mut s = self.scheduled_session(tx.as_mut(), id).await?;
        let substitute = if user.trim().is_empty() {
            None
        } else {
            let mut p = Problems::default();
            let u = parse_facilitator(&mut p, "substitute", user, &lookup.users);
            p.into_result()?;
            let u = u.ok_or(AppError::Internal("validated substitute missing"))?;
            if u == s.facilitator {
                return Err(AppError::invalid("substitute", "Choose someone other than the session's own facilitator"));
            }
            Some(u)
        };
        s.substitute = substitute;
        let candidate = Booking { session: id, slot: s.slot, staff: vec![s.staff()], room: None, clients: Vec::new() };
        self.refuse_collisions(
            ctx,
            tx.as_mut(),
            &lookup,
            &candidate,
            Fields { staff: "substitute", room: "substitute", client: "substitute" },
        )
        .await?;
        let detail = if substitute.is_some() { "substitute set" } else { "substitute cleared" };
        self.save_session_change(ctx, tx.as_mut(), &s, detail).await?;
        tx.commit().await?;
        Ok(s)
    }

    /// Puts a client on a session's roster: there must be room, the client must be enrolled in
    /// the track that day (or, for an appointment, be in the program), and free then.
    pub async fn add_to_roster(&self, ctx: &Ctx, id: IopSessionId, client: ClientId) -> Result<(), AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ManageProgram, client)).await?;
        let mut tx = self.begin().await?;
        tx.lock_program_calendar().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let s = self.scheduled_session(tx.as_mut(), id).await?;
        self.roster_in(ctx, tx.as_mut(), &lookup, &s, client).await?;
        self.program_event(
            ctx,
            tx.as_mut(),
            AuditAction::SessionChanged,
            session_subject(id),
            "roster: client added".into(),
            Some(client),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A signed session note locks the roster with the attendance: who was there is part of
    /// the signed record, and changes after it are amendments with a reason.
    async fn roster_unlocked(&self, tx: &mut dyn Tx, id: IopSessionId) -> Result<(), AppError> {
        match tx.attendance_session(id).await? {
            Some(s) if s.note_signed_at.is_some() => Err(AppError::Conflict(
                "the session note is signed, so its roster is locked; correct attendance with an amendment",
            )),
            _ => Ok(()),
        }
    }

    /// The checks and the write of a roster addition, inside the caller's transaction.
    async fn roster_in(
        &self,
        ctx: &Ctx,
        tx: &mut dyn Tx,
        lookup: &Lookup,
        s: &ProgramSession,
        client: ClientId,
    ) -> Result<(), AppError> {
        self.roster_unlocked(tx, s.id).await?;
        let roster: Vec<ClientId> = tx.roster(&[s.id]).await?.into_iter().map(|r| r.client).collect();
        if roster.contains(&client) {
            return Err(AppError::invalid("client", "The client is already on this session's roster"));
        }
        if roster.len() >= usize::from(s.capacity) {
            return Err(AppError::invalid(
                "client",
                format!("The session is full ({} of {})", roster.len(), s.capacity),
            ));
        }
        let eligible = match s.track {
            Some(track) => self.enrolled_on(tx, client, track, s.slot.date).await?,
            None => self.iop_episode_on(&tx.episodes_of(client).await?, s.slot.date).is_some(),
        };
        if !eligible {
            let why = match s.track {
                Some(_) => "The client is not enrolled in this track on that date",
                None => "The client is not in a day or evening program (IOP) on that date",
            };
            return Err(AppError::invalid("client", why));
        }
        let candidate = Booking { session: s.id, slot: s.slot, staff: Vec::new(), room: None, clients: vec![client] };
        self.refuse_collisions(ctx, tx, lookup, &candidate, SESSION_FIELDS).await?;
        tx.add_to_roster(&RosterEntry { session: s.id, client, added_at: self.now(), added_by: ctx.actor.user_id })
            .await?;
        Ok(())
    }

    /// Takes a client off a session's roster.
    pub async fn remove_from_roster(&self, ctx: &Ctx, id: IopSessionId, client: ClientId) -> Result<(), AppError> {
        self.authorize(ctx, ctx.actor.scope_for(Permission::ManageProgram, client)).await?;
        let mut tx = self.begin().await?;
        tx.program_session(id).await?.ok_or(AppError::NotFound)?;
        self.roster_unlocked(tx.as_mut(), id).await?;
        if !tx.remove_from_roster(id, client).await? {
            return Err(AppError::NotFound);
        }
        self.program_event(
            ctx,
            tx.as_mut(),
            AuditAction::SessionChanged,
            session_subject(id),
            "roster: client removed".into(),
            Some(client),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Enrolments

    /// Enrols a client in a track from a date (ending the previous enrolment the day before),
    /// and puts them on the track's group sessions of this week and next that are still to come.
    pub async fn enrol(&self, ctx: &Ctx, client: ClientId, f: &EnrolForm) -> Result<Enrolled, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ManageProgram, client)).await?;
        let mut tx = self.begin().await?;
        tx.lock_program_calendar().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let mut p = Problems::default();
        let track = match f.track.trim().parse::<TrackId>().ok().and_then(|t| lookup.track(t)) {
            Some(t) => Some(t.clone()),
            None => {
                p.add("track", "Choose a track");
                None
            }
        };
        let from = required_date(&mut p, "from", "First day", &f.from);
        let until = optional_date(&mut p, "until", "Last day", &f.until);
        p.into_result()?;
        let (Some(track), Some(from), Some(until)) = (track, from, until) else {
            return Err(AppError::Internal("validated enrolment incomplete"));
        };
        if until.is_some_and(|u| u < from) {
            return Err(AppError::invalid("until", "Last day must not be before the first day"));
        }
        if from < track.active_from || track.active_until.is_some_and(|u| from > u) {
            return Err(AppError::invalid("from", "The track does not meet on that date"));
        }
        let episodes = tx.episodes_of(client).await?;
        let Some(episode) = episodes.iter().find(|e| e.is_open()) else {
            return Err(AppError::invalid("track", "The client has no open episode of care"));
        };
        let Some(placement) = episode.current().filter(|p| self.is_day_level(&p.level)) else {
            return Err(AppError::invalid(
                "track",
                "Only a client placed at a day or evening level (IOP) can join a track",
            ));
        };
        if from < placement.start {
            return Err(AppError::invalid(
                "from",
                format!("First day cannot be before the IOP placement began ({})", placement.start),
            ));
        }
        let enrolments = tx.enrolments_of(client).await?;
        let previous = enrolments
            .iter()
            .filter(|e| e.episode == episode.id && e.until.is_none_or(|u| u >= from))
            .max_by_key(|e| e.from)
            .cloned();
        if let Some(prev) = &previous {
            if prev.from >= from {
                return Err(AppError::invalid(
                    "from",
                    format!("First day must be after the current enrolment began ({})", prev.from),
                ));
            }
            if prev.track == track.id && prev.until.is_none() {
                return Err(AppError::invalid("track", "The client is already enrolled in this track"));
            }
            tx.set_enrolment_until(prev.id, Some(from - Duration::days(1))).await?;
        }
        let enrolment = TrackEnrolment {
            id: EnrolmentId::from_uuid(self.ids.new_id()),
            client,
            episode: episode.id,
            track: track.id,
            from,
            until,
            created_by: ctx.actor.user_id,
            created_at: self.now(),
        };
        tx.insert_enrolment(&enrolment).await?;
        // Off the old track's sessions still to come from the first day of the new one.
        let mut removed_from = 0;
        if let Some(prev) = &previous {
            removed_from = self.leave_track(tx.as_mut(), &lookup, client, prev.track, from).await?;
        }
        let (added_to, not_added) = self.join_track(ctx, tx.as_mut(), &lookup, client, &enrolment, track.site).await?;
        let detail = if previous.is_some() { "track changed" } else { "enrolled" };
        self.program_event(
            ctx,
            tx.as_mut(),
            AuditAction::EnrolmentChanged,
            format!("iop_enrolment:{}", enrolment.id),
            detail.into(),
            Some(client),
        )
        .await?;
        tx.commit().await?;
        Ok(Enrolled { enrolment, ended: previous.map(|p| p.id), added_to, not_added, removed_from })
    }

    /// Ends an enrolment on `until` (inclusive) and takes the client off the track's sessions
    /// still to come after it.
    pub async fn end_enrolment(
        &self,
        ctx: &Ctx,
        client: ClientId,
        id: EnrolmentId,
        until: &str,
    ) -> Result<TrackEnrolment, AppError> {
        self.authorize(ctx, ctx.actor.scope_for(Permission::ManageProgram, client)).await?;
        let mut p = Problems::default();
        let until = required_date(&mut p, "until", "Last day", until);
        p.into_result()?;
        let until = until.ok_or(AppError::Internal("validated date missing"))?;
        let mut tx = self.begin().await?;
        tx.lock_program_calendar().await?;
        let lookup = Lookup::load(tx.as_mut()).await?;
        let mut e = tx.enrolments_of(client).await?.into_iter().find(|e| e.id == id).ok_or(AppError::NotFound)?;
        if until < e.from {
            return Err(AppError::invalid("until", "Last day must not be before the first day"));
        }
        e.until = Some(until);
        tx.set_enrolment_until(id, Some(until)).await?;
        self.leave_track(tx.as_mut(), &lookup, client, e.track, until + Duration::days(1)).await?;
        self.program_event(
            ctx,
            tx.as_mut(),
            AuditAction::EnrolmentChanged,
            format!("iop_enrolment:{id}"),
            "ended".into(),
            Some(client),
        )
        .await?;
        tx.commit().await?;
        Ok(e)
    }

    /// Takes a client off a track's sessions dated `from` or later that are still to come.
    async fn leave_track(
        &self,
        tx: &mut dyn Tx,
        lookup: &Lookup,
        client: ClientId,
        track: TrackId,
        from: Date,
    ) -> Result<usize, AppError> {
        let filter = SessionFilter {
            track: Some(track),
            client: Some(client),
            ..SessionFilter::between(from, far_future(from))
        };
        let mut n = 0;
        for s in tx.program_sessions(&filter).await? {
            if self.still_to_come(lookup, &s) && tx.remove_from_roster(s.id, client).await? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Adds a newly enrolled client to the track's group sessions of this week and next that
    /// are still to come; reports those it could not.
    async fn join_track(
        &self,
        ctx: &Ctx,
        tx: &mut dyn Tx,
        lookup: &Lookup,
        client: ClientId,
        e: &TrackEnrolment,
        site: SiteId,
    ) -> Result<(Vec<IopSessionId>, Vec<String>), AppError> {
        let (today, _) = self.site_now(lookup, site);
        let this_week = IsoWeek::of(today);
        let last = this_week.next().map(|w| w.sunday()).unwrap_or(this_week.sunday());
        let to = e.until.map_or(last, |u| u.min(last));
        let from = e.from.max(today);
        if to < from {
            return Ok((Vec::new(), Vec::new()));
        }
        let filter = SessionFilter { track: Some(e.track), ..SessionFilter::between(from, to) };
        let (mut added, mut skipped) = (Vec::new(), Vec::new());
        for s in tx.program_sessions(&filter).await? {
            if s.modality.is_one_to_one() || !self.still_to_come(lookup, &s) {
                continue;
            }
            match self.roster_in(ctx, tx, lookup, &s, client).await {
                Ok(()) => added.push(s.id),
                Err(AppError::Invalid(errors)) => {
                    let why = errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; ");
                    skipped.push(format!("{} {} {}: {why}", s.title, s.slot.date, span(&s.slot)));
                }
                Err(other) => return Err(other),
            }
        }
        Ok((added, skipped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, time};

    #[test]
    fn times_and_weekdays_parse() {
        assert_eq!(parse_time("18:00"), Some(time!(18:00)));
        assert_eq!(parse_time("9:30"), Some(time!(9:30)));
        assert_eq!(parse_time("09:30:00"), Some(time!(9:30)));
        for bad in ["", "25:00", "18", "18:0", "6pm", "18:00:30"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!(parse_weekday("Monday"), Some(Weekday::Monday));
        assert_eq!(parse_weekday("7"), Some(Weekday::Sunday));
        assert_eq!(parse_weekday("funday"), None);
    }

    #[test]
    fn slots_from_forms_end_the_day_they_start() {
        let form = |date: &str, start: &str, end: &str, end_date: &str| SlotForm {
            date: date.into(),
            start: start.into(),
            end: end.into(),
            end_date: end_date.into(),
        };
        let mut p = Problems::default();
        assert_eq!(parse_slot(&mut p, &form("2026-12-01", "18:00", "19:30", "")).map(|s| s.minutes), Some(90));
        let refused = |f: SlotForm| {
            let mut p = Problems::default();
            assert!(parse_slot(&mut p, &f).is_none());
            match p.into_result() {
                Err(AppError::Invalid(e)) => e[0].message.clone(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(refused(form("2026-12-01", "19:00", "18:00", "")), "The session must end after it starts");
        assert!(
            refused(form("2026-12-01", "09:00", "15:00", "2026-12-02")).contains("at most 480 minutes"),
            "30 hours"
        );
        assert_eq!(
            refused(form("2026-12-01", "22:00", "01:00", "2026-12-02")),
            "A session must end on the day it starts"
        );
        assert_eq!(refused(form("2026-12-02", "09:00", "10:00", "2026-12-01")), "The session must end after it starts");
    }

    #[test]
    fn capacity_is_the_smaller_of_limit_and_room_and_one_for_individuals() {
        assert_eq!(capacity_for(Modality::Group, Some(12), Some(8)), 8);
        assert_eq!(capacity_for(Modality::Group, None, None), DEFAULT_GROUP_LIMIT);
        assert_eq!(capacity_for(Modality::Individual, Some(12), Some(8)), 1);
        assert!(ranges_meet((date!(2026 - 01 - 01), None), (date!(2026 - 06 - 01), Some(date!(2026 - 07 - 01)))));
        assert!(!ranges_meet((date!(2026 - 01 - 01), Some(date!(2026 - 02 - 01))), (date!(2026 - 03 - 01), None)));
        assert_eq!(reference_date(Weekday::Thursday).weekday(), Weekday::Thursday);
    }
}
