//! The program's calendar: tracks with a weekly template, the sessions generated from it with
//! their exceptions, the conflicts that forbid a booking, and attendance as it is recorded.

use serde::{Deserialize, Serialize};
use time::{Date, Time, Weekday};
use uuid::Uuid;

use super::compliance::IsoWeek;
use super::{Modality, Slot};
use crate::ids::{ClientId, IopSessionId, TemplateId, UserId};

/// Groups hold at most this many clients unless the track says otherwise.
pub const DEFAULT_GROUP_LIMIT: u16 = 12;
/// The longest session the program schedules: a full IOP day.
pub const MAX_SESSION_MINUTES: u16 = 8 * 60;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    #[error("the session must end after it starts")]
    EndsBeforeStart,
    #[error("a session can be at most {max} minutes long", max = MAX_SESSION_MINUTES)]
    TooLong,
}

/// A session from `start` to `end` on `date`. Sessions end the day they start.
pub fn slot(date: Date, start: Time, end: Time) -> Result<Slot, SlotError> {
    if end <= start {
        return Err(SlotError::EndsBeforeStart);
    }
    let minutes = (end - start).whole_minutes();
    let minutes = u16::try_from(minutes).map_err(|_| SlotError::TooLong)?;
    if minutes > MAX_SESSION_MINUTES {
        return Err(SlotError::TooLong);
    }
    Ok(Slot { date, start, minutes })
}

/// A weekly availability window of a client (civil time on the site's calendar).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub weekday: Weekday,
    pub from: Time,
    pub to: Time,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an availability window must end after it starts")]
pub struct EmptyWindow;

impl Window {
    pub fn new(weekday: Weekday, from: Time, to: Time) -> Result<Self, EmptyWindow> {
        if to <= from { Err(EmptyWindow) } else { Ok(Self { weekday, from, to }) }
    }

    pub fn contains(&self, s: &Slot) -> bool {
        let end_minutes = u32::from(s.start.hour()) * 60 + u32::from(s.start.minute()) + u32::from(s.minutes);
        let to_minutes = u32::from(self.to.hour()) * 60 + u32::from(self.to.minute());
        s.date.weekday() == self.weekday && s.start >= self.from && end_minutes <= to_minutes
    }
}

/// One entry of a track's weekly template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateEntry {
    pub id: TemplateId,
    pub weekday: Weekday,
    pub start: Time,
    pub minutes: u16,
    pub modality: Modality,
    pub title: String,
    pub facilitator: UserId,
    pub room: Option<Uuid>,
}

/// A day the program does not meet (a holiday closure), for every track of the site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closure {
    pub date: Date,
    pub reason: String,
}

/// The sessions a template calls for in `week`, leaving out closed days and days outside
/// the track's active dates. Each is (template entry, slot).
pub fn occurrences(
    template: &[TemplateEntry],
    week: IsoWeek,
    active_from: Date,
    active_until: Option<Date>,
    closures: &[Closure],
) -> Vec<(TemplateId, Slot)> {
    let mut out = Vec::new();
    for day in week.days() {
        if day < active_from || active_until.is_some_and(|u| day > u) || closures.iter().any(|c| c.date == day) {
            continue;
        }
        for t in template.iter().filter(|t| t.weekday == day.weekday()) {
            out.push((t.id, Slot { date: day, start: t.start, minutes: t.minutes }));
        }
    }
    out.sort_by_key(|(_, s)| (s.date, s.start));
    out
}

/// What a booking holds: its time, its staff, its room and its clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booking {
    pub session: IopSessionId,
    pub slot: Slot,
    pub staff: Vec<UserId>,
    pub room: Option<Uuid>,
    pub clients: Vec<ClientId>,
}

/// Who or what two bookings would both need at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Collision {
    Staff(UserId),
    Room(Uuid),
    Client(ClientId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub collision: Collision,
    /// The booking it collides with.
    pub with: IopSessionId,
}

/// Every collision of `candidate` with the other bookings (cancelled sessions excluded by the
/// caller). A booking never collides with itself.
pub fn conflicts(candidate: &Booking, others: &[Booking]) -> Vec<Conflict> {
    let mut out = Vec::new();
    for o in others.iter().filter(|o| o.session != candidate.session && o.slot.overlaps(&candidate.slot)) {
        for s in candidate.staff.iter().filter(|s| o.staff.contains(s)) {
            out.push(Conflict { collision: Collision::Staff(*s), with: o.session });
        }
        if let (Some(a), Some(b)) = (candidate.room, o.room)
            && a == b
        {
            out.push(Conflict { collision: Collision::Room(a), with: o.session });
        }
        for c in candidate.clients.iter().filter(|c| o.clients.contains(c)) {
            out.push(Conflict { collision: Collision::Client(*c), with: o.session });
        }
    }
    out
}

/// How a client attended a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    Present,
    Late,
    LeftEarly,
    AbsentExcused,
    AbsentUnexcused,
}

impl AttendanceStatus {
    pub const ALL: [AttendanceStatus; 5] = [
        AttendanceStatus::Present,
        AttendanceStatus::Late,
        AttendanceStatus::LeftEarly,
        AttendanceStatus::AbsentExcused,
        AttendanceStatus::AbsentUnexcused,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            AttendanceStatus::Present => "present",
            AttendanceStatus::Late => "late",
            AttendanceStatus::LeftEarly => "left_early",
            AttendanceStatus::AbsentExcused => "absent_excused",
            AttendanceStatus::AbsentUnexcused => "absent_unexcused",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            AttendanceStatus::Present => "Present",
            AttendanceStatus::Late => "Late",
            AttendanceStatus::LeftEarly => "Left early",
            AttendanceStatus::AbsentExcused => "Absent (excused)",
            AttendanceStatus::AbsentUnexcused => "Absent (unexcused)",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub const fn is_absent(self) -> bool {
        matches!(self, AttendanceStatus::AbsentExcused | AttendanceStatus::AbsentUnexcused)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AttendanceError {
    #[error("minutes attended cannot be more than the session's {length}")]
    MoreThanSession { length: u16 },
    #[error("say how many minutes were attended when late or leaving early")]
    MinutesNeeded,
    #[error("someone late or leaving early attended less than the whole session")]
    NotPartial,
}

/// The minutes attended that a status and a typed number mean: present defaults to the whole
/// session, absent is always 0, late and left early need a number below the session's length.
pub fn minutes_attended(status: AttendanceStatus, typed: Option<u16>, length: u16) -> Result<u16, AttendanceError> {
    if typed.is_some_and(|m| m > length) {
        return Err(AttendanceError::MoreThanSession { length });
    }
    match status {
        AttendanceStatus::Present => Ok(typed.unwrap_or(length)),
        AttendanceStatus::AbsentExcused | AttendanceStatus::AbsentUnexcused => Ok(0),
        AttendanceStatus::Late | AttendanceStatus::LeftEarly => match typed {
            None => Err(AttendanceError::MinutesNeeded),
            Some(m) if m >= length => Err(AttendanceError::NotPartial),
            Some(m) => Ok(m),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, time};

    #[test]
    fn slots_end_after_they_start_and_last_at_most_a_day_of_program() {
        assert_eq!(slot(date!(2026 - 11 - 30), time!(9:00), time!(12:00)).unwrap().minutes, 180);
        assert_eq!(slot(date!(2026 - 11 - 30), time!(12:00), time!(9:00)), Err(SlotError::EndsBeforeStart));
        assert_eq!(slot(date!(2026 - 11 - 30), time!(9:00), time!(9:00)), Err(SlotError::EndsBeforeStart));
        assert_eq!(slot(date!(2026 - 11 - 30), time!(6:00), time!(23:00)), Err(SlotError::TooLong));
        assert!(Window::new(Weekday::Monday, time!(18:00), time!(18:00)).is_err());
    }

    #[test]
    fn templates_skip_closures_and_inactive_days() {
        let entry = |id: u128, weekday, h| TemplateEntry {
            id: TemplateId::from_uuid(Uuid::from_u128(id)),
            weekday,
            start: Time::from_hms(h, 0, 0).unwrap(),
            minutes: 180,
            modality: Modality::Group,
            title: "Process group".into(),
            facilitator: UserId::from_uuid(Uuid::from_u128(9)),
            room: None,
        };
        let template = [entry(1, Weekday::Monday, 18), entry(2, Weekday::Tuesday, 18), entry(3, Weekday::Thursday, 18)];
        let week = super::super::compliance::week_of(date!(2026 - 11 - 23));
        let closures = [Closure { date: date!(2026 - 11 - 26), reason: "Thanksgiving".into() }];
        let got = occurrences(&template, week, date!(2026 - 11 - 24), None, &closures);
        assert_eq!(got.len(), 1, "Monday before the track began, Thursday closed: {got:?}");
        assert_eq!(got[0].1.date, date!(2026 - 11 - 24));
    }

    #[test]
    fn conflicts_name_what_collides() {
        let s = |n: u128| IopSessionId::from_uuid(Uuid::from_u128(n));
        let staff = UserId::from_uuid(Uuid::from_u128(7));
        let room = Uuid::from_u128(8);
        let client = ClientId::from_uuid(Uuid::from_u128(5));
        let at = |h| Slot { date: date!(2026 - 11 - 30), start: Time::from_hms(h, 0, 0).unwrap(), minutes: 90 };
        let a = Booking { session: s(1), slot: at(9), staff: vec![staff], room: Some(room), clients: vec![client] };
        let b = Booking { session: s(2), slot: at(10), staff: vec![staff], room: Some(room), clients: vec![client] };
        let c = Booking { session: s(3), slot: at(11), staff: vec![staff], room: Some(room), clients: vec![client] };
        let got = conflicts(&b, &[a.clone(), c, b.clone()]);
        assert_eq!(got.len(), 6, "staff, room and client with both neighbours: {got:?}");
        let later = Booking { slot: at(13), ..b };
        assert!(conflicts(&later, &[a]).is_empty());
    }

    #[test]
    fn attendance_minutes_follow_the_status() {
        use AttendanceStatus::*;
        assert_eq!(minutes_attended(Present, None, 180), Ok(180));
        assert_eq!(minutes_attended(Late, Some(150), 180), Ok(150));
        assert_eq!(minutes_attended(Late, None, 180), Err(AttendanceError::MinutesNeeded));
        assert_eq!(minutes_attended(LeftEarly, Some(180), 180), Err(AttendanceError::NotPartial));
        assert_eq!(minutes_attended(Present, Some(181), 180), Err(AttendanceError::MoreThanSession { length: 180 }));
        assert_eq!(minutes_attended(AbsentUnexcused, None, 180), Ok(0));
    }
}
