//! Storage for attendance, its amendments, session notes, outreach tasks, availability and
//! plan requirements. Civil times are stored as text (`HH:MM`), dates as `YYYY-MM-DD`.

use app::ports::{AttendanceAmendment, AttendanceRecord, AttendanceSession, OutreachTask, ProgramEntry};
use app::{StoreError, from_unix_ms, unix_ms};
use domain::access::ClientScope;
use domain::ids::{ClientId, IopSessionId, SiteId, UserId};
use domain::iop::program::{AttendanceStatus, Window};
use domain::iop::{Modality, Slot};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use time::{Date, OffsetDateTime, Time, Weekday};
use uuid::Uuid;

use crate::continuum::{fmt_date, parse_date};
use crate::entity::{
    iop_attendance, iop_attendance_amendment, iop_availability, iop_enrolment, iop_facilitator_load, iop_requirement,
    iop_roster, iop_session, outreach_task,
};
use crate::error::OrStore;

pub(crate) fn fmt_time(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

pub(crate) fn parse_time(s: &str) -> Result<Time, StoreError> {
    let (h, m) = s.split_once(':').ok_or(StoreError::Corrupt("time"))?;
    let (h, m) = (h.parse::<u8>(), m.parse::<u8>());
    match (h, m) {
        (Ok(h), Ok(m)) => Time::from_hms(h, m, 0).map_err(|_| StoreError::Corrupt("time")),
        _ => Err(StoreError::Corrupt("time")),
    }
}

fn weekday_number(d: Weekday) -> i32 {
    i32::from(d.number_from_monday())
}

fn weekday(n: i32) -> Result<Weekday, StoreError> {
    let all = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
    usize::try_from(n - 1).ok().and_then(|i| all.get(i).copied()).ok_or(StoreError::Corrupt("weekday"))
}

fn status(s: &str) -> Result<AttendanceStatus, StoreError> {
    AttendanceStatus::parse(s).ok_or(StoreError::Corrupt("attendance status"))
}

fn minutes(n: i32) -> u16 {
    u16::try_from(n).unwrap_or(0)
}

fn slot_of(m: &iop_session::Model) -> Result<Slot, StoreError> {
    Ok(Slot { date: parse_date(&m.on_date)?, start: parse_time(&m.start)?, minutes: minutes(m.minutes) })
}

pub(crate) async fn session(
    txn: &DatabaseTransaction,
    id: IopSessionId,
) -> Result<Option<AttendanceSession>, StoreError> {
    let Some(m) = iop_session::Entity::find_by_id(id.as_uuid()).one(txn).await.store()? else {
        return Ok(None);
    };
    Ok(Some(AttendanceSession {
        id,
        site: SiteId::from_uuid(m.site_id),
        modality: Modality::parse(&m.modality).ok_or(StoreError::Corrupt("modality"))?,
        title: m.title.clone(),
        slot: slot_of(&m)?,
        facilitator: UserId::from_uuid(m.facilitator_id),
        substitute: m.substitute_id.map(UserId::from_uuid),
        cancelled: m.status == "cancelled",
        note: m.note.clone(),
        note_signed_at: m.note_signed_at.map(from_unix_ms),
        note_signed_by: m.note_signed_by.map(UserId::from_uuid),
    }))
}

pub(crate) async fn roster(txn: &DatabaseTransaction, session: IopSessionId) -> Result<Vec<ClientId>, StoreError> {
    let rows = iop_roster::Entity::find()
        .filter(iop_roster::Column::SessionId.eq(session.as_uuid()))
        .order_by_asc(iop_roster::Column::AddedAt)
        .all(txn)
        .await
        .store()?;
    Ok(rows.into_iter().map(|r| ClientId::from_uuid(r.client_id)).collect())
}

fn to_record(m: iop_attendance::Model) -> Result<AttendanceRecord, StoreError> {
    Ok(AttendanceRecord {
        session: IopSessionId::from_uuid(m.session_id),
        client: ClientId::from_uuid(m.client_id),
        status: status(&m.status)?,
        minutes: minutes(m.minutes),
        recorded_by: UserId::from_uuid(m.recorded_by),
        recorded_at: from_unix_ms(m.recorded_at),
    })
}

pub(crate) async fn attendance_of(
    txn: &DatabaseTransaction,
    session: IopSessionId,
) -> Result<Vec<AttendanceRecord>, StoreError> {
    let rows = iop_attendance::Entity::find()
        .filter(iop_attendance::Column::SessionId.eq(session.as_uuid()))
        .all(txn)
        .await
        .store()?;
    rows.into_iter().map(to_record).collect()
}

pub(crate) async fn put_attendance(txn: &DatabaseTransaction, r: &AttendanceRecord) -> Result<(), StoreError> {
    let row = iop_attendance::ActiveModel {
        session_id: Set(r.session.as_uuid()),
        client_id: Set(r.client.as_uuid()),
        status: Set(r.status.code().to_owned()),
        minutes: Set(i32::from(r.minutes)),
        recorded_by: Set(r.recorded_by.as_uuid()),
        recorded_at: Set(unix_ms(r.recorded_at)),
    };
    iop_attendance::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([iop_attendance::Column::SessionId, iop_attendance::Column::ClientId])
                .update_columns([
                    iop_attendance::Column::Status,
                    iop_attendance::Column::Minutes,
                    iop_attendance::Column::RecordedBy,
                    iop_attendance::Column::RecordedAt,
                ])
                .to_owned(),
        )
        .exec(txn)
        .await
        .store()
        .map(|_| ())
}

pub(crate) async fn insert_amendment(txn: &DatabaseTransaction, a: &AttendanceAmendment) -> Result<(), StoreError> {
    let row = iop_attendance_amendment::ActiveModel {
        id: Set(a.id),
        session_id: Set(a.session.as_uuid()),
        client_id: Set(a.client.as_uuid()),
        old_status: Set(a.old_status.code().to_owned()),
        old_minutes: Set(i32::from(a.old_minutes)),
        new_status: Set(a.new_status.code().to_owned()),
        new_minutes: Set(i32::from(a.new_minutes)),
        reason: Set(a.reason.clone()),
        amended_by: Set(a.by.as_uuid()),
        amended_at: Set(unix_ms(a.at)),
    };
    iop_attendance_amendment::Entity::insert(row).exec(txn).await.store().map(|_| ())
}

pub(crate) async fn amendments(
    txn: &DatabaseTransaction,
    session: IopSessionId,
) -> Result<Vec<AttendanceAmendment>, StoreError> {
    let rows = iop_attendance_amendment::Entity::find()
        .filter(iop_attendance_amendment::Column::SessionId.eq(session.as_uuid()))
        .order_by_asc(iop_attendance_amendment::Column::AmendedAt)
        .all(txn)
        .await
        .store()?;
    rows.into_iter()
        .map(|m| {
            Ok(AttendanceAmendment {
                id: m.id,
                session: IopSessionId::from_uuid(m.session_id),
                client: ClientId::from_uuid(m.client_id),
                old_status: status(&m.old_status)?,
                old_minutes: minutes(m.old_minutes),
                new_status: status(&m.new_status)?,
                new_minutes: minutes(m.new_minutes),
                reason: m.reason,
                by: UserId::from_uuid(m.amended_by),
                at: from_unix_ms(m.amended_at),
            })
        })
        .collect()
}

pub(crate) async fn sign_note(
    txn: &DatabaseTransaction,
    session: IopSessionId,
    note: &str,
    by: UserId,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let r = iop_session::Entity::update_many()
        .col_expr(iop_session::Column::Note, Some(note.to_owned()).into())
        .col_expr(iop_session::Column::NoteSignedAt, Some(unix_ms(at)).into())
        .col_expr(iop_session::Column::NoteSignedBy, Some(by.as_uuid()).into())
        .filter(iop_session::Column::Id.eq(session.as_uuid()))
        .filter(iop_session::Column::NoteSignedAt.is_null())
        .exec(txn)
        .await
        .store()?;
    Ok(r.rows_affected == 1)
}

fn to_task(m: outreach_task::Model) -> Result<OutreachTask, StoreError> {
    Ok(OutreachTask {
        id: m.id,
        client: ClientId::from_uuid(m.client_id),
        session: m.session_id.map(IopSessionId::from_uuid),
        assigned_to: m.assigned_to.map(UserId::from_uuid),
        reason: m.reason,
        due_on: parse_date(&m.due_on)?,
        created_at: from_unix_ms(m.created_at),
        done_at: m.done_at.map(from_unix_ms),
        outcome: m.outcome,
    })
}

pub(crate) async fn insert_outreach(txn: &DatabaseTransaction, t: &OutreachTask) -> Result<bool, StoreError> {
    if let Some(session) = t.session {
        let exists = outreach_task::Entity::find()
            .filter(outreach_task::Column::SessionId.eq(session.as_uuid()))
            .filter(outreach_task::Column::ClientId.eq(t.client.as_uuid()))
            .one(txn)
            .await
            .store()?;
        if exists.is_some() {
            return Ok(false);
        }
    }
    let row = outreach_task::ActiveModel {
        id: Set(t.id),
        client_id: Set(t.client.as_uuid()),
        session_id: Set(t.session.map(|s| s.as_uuid())),
        assigned_to: Set(t.assigned_to.map(|u| u.as_uuid())),
        reason: Set(t.reason.clone()),
        due_on: Set(fmt_date(t.due_on)),
        created_at: Set(unix_ms(t.created_at)),
        done_at: Set(None),
        done_by: Set(None),
        outcome: Set(None),
    };
    outreach_task::Entity::insert(row).exec(txn).await.store()?;
    Ok(true)
}

pub(crate) async fn open_outreach(
    txn: &DatabaseTransaction,
    scope: &ClientScope,
    assigned_to: Option<UserId>,
) -> Result<Vec<OutreachTask>, StoreError> {
    let mut q = outreach_task::Entity::find().filter(outreach_task::Column::DoneAt.is_null());
    if let ClientScope::Only(ids) = scope {
        q = q.filter(outreach_task::Column::ClientId.is_in(ids.iter().map(|c| c.as_uuid())));
    }
    if let Some(u) = assigned_to {
        q = q.filter(outreach_task::Column::AssignedTo.eq(u.as_uuid()));
    }
    let rows = q.order_by_asc(outreach_task::Column::DueOn).all(txn).await.store()?;
    rows.into_iter().map(to_task).collect()
}

pub(crate) async fn outreach(txn: &DatabaseTransaction, id: Uuid) -> Result<Option<OutreachTask>, StoreError> {
    outreach_task::Entity::find_by_id(id).one(txn).await.store()?.map(to_task).transpose()
}

pub(crate) async fn complete_outreach(
    txn: &DatabaseTransaction,
    id: Uuid,
    by: UserId,
    at: OffsetDateTime,
    outcome: &str,
) -> Result<bool, StoreError> {
    let r = outreach_task::Entity::update_many()
        .col_expr(outreach_task::Column::DoneAt, Some(unix_ms(at)).into())
        .col_expr(outreach_task::Column::DoneBy, Some(by.as_uuid()).into())
        .col_expr(outreach_task::Column::Outcome, Some(outcome.to_owned()).into())
        .filter(outreach_task::Column::Id.eq(id))
        .filter(outreach_task::Column::DoneAt.is_null())
        .exec(txn)
        .await
        .store()?;
    Ok(r.rows_affected == 1)
}

/// Roster entries of `clients` in sessions dated `from..=to`, with their attendance. The date
/// range is applied in SQL, so the cost follows the sessions of the range and not the clients'
/// whole history: the dashboard asks for one week of 300 clients who may each have two years of
/// rosters behind them (bench/RESULTS.md §7).
pub(crate) async fn program_days(
    txn: &DatabaseTransaction,
    clients: &[ClientId],
    from: Date,
    to: Date,
) -> Result<Vec<ProgramEntry>, StoreError> {
    let in_range = || {
        iop_session::Entity::find()
            .filter(iop_session::Column::OnDate.gte(fmt_date(from)))
            .filter(iop_session::Column::OnDate.lte(fmt_date(to)))
    };
    let wanted: std::collections::HashSet<Uuid> = clients.iter().map(|c| c.as_uuid()).collect();
    let mut sessions: std::collections::HashMap<Uuid, iop_session::Model> = std::collections::HashMap::new();
    let mut roster = Vec::new();
    let mut attendance = Vec::new();
    if clients.len() > 64 {
        // Many clients (a program's week): the range's sessions by their date index, then every
        // roster line and record of those sessions by key, filtered here. Probing the
        // (session, client) key for every pair costs more than reading the lines, and a
        // subquery lets PostgreSQL choose a scan of the whole roster.
        sessions = in_range().all(txn).await.store()?.into_iter().map(|s| (s.id, s)).collect();
        let ids: Vec<Uuid> = sessions.keys().copied().collect();
        for chunk in ids.chunks(400) {
            roster.extend(
                iop_roster::Entity::find()
                    .filter(iop_roster::Column::SessionId.is_in(chunk.iter().copied()))
                    .all(txn)
                    .await
                    .store()?,
            );
            attendance.extend(
                iop_attendance::Entity::find()
                    .filter(iop_attendance::Column::SessionId.is_in(chunk.iter().copied()))
                    .all(txn)
                    .await
                    .store()?,
            );
        }
        roster.retain(|r| wanted.contains(&r.client_id));
    } else {
        // A few clients (one chart, perhaps over years): by client, the range as a subquery.
        let ids_in_range = || in_range().select_only().column(iop_session::Column::Id).into_query();
        for chunk in clients.chunks(400) {
            let ids = || chunk.iter().map(|c| c.as_uuid());
            roster.extend(
                iop_roster::Entity::find()
                    .filter(iop_roster::Column::ClientId.is_in(ids()))
                    .filter(iop_roster::Column::SessionId.in_subquery(ids_in_range()))
                    .all(txn)
                    .await
                    .store()?,
            );
            attendance.extend(
                iop_attendance::Entity::find()
                    .filter(iop_attendance::Column::ClientId.is_in(ids()))
                    .filter(iop_attendance::Column::SessionId.in_subquery(ids_in_range()))
                    .all(txn)
                    .await
                    .store()?,
            );
        }
        let mut session_ids: Vec<Uuid> = roster.iter().map(|r| r.session_id).collect();
        session_ids.sort_unstable();
        session_ids.dedup();
        for ids in session_ids.chunks(400) {
            for s in iop_session::Entity::find()
                .filter(iop_session::Column::Id.is_in(ids.iter().copied()))
                .all(txn)
                .await
                .store()?
            {
                sessions.insert(s.id, s);
            }
        }
    }
    let mut attended = std::collections::HashMap::new();
    for a in attendance.into_iter().filter(|a| wanted.contains(&a.client_id)) {
        attended.insert((a.session_id, a.client_id), (status(&a.status)?, minutes(a.minutes)));
    }
    let mut out = Vec::with_capacity(roster.len());
    for r in roster {
        let Some(s) = sessions.get(&r.session_id) else { continue };
        out.push(ProgramEntry {
            client: ClientId::from_uuid(r.client_id),
            session: IopSessionId::from_uuid(s.id),
            modality: Modality::parse(&s.modality).ok_or(StoreError::Corrupt("modality"))?,
            slot: slot_of(s)?,
            cancelled: s.status == "cancelled",
            attendance: attended.get(&(r.session_id, r.client_id)).copied(),
        });
    }
    out.sort_by_key(|e| (e.slot, e.client.as_uuid()));
    Ok(out)
}

pub(crate) async fn enrolment_windows(
    txn: &DatabaseTransaction,
    clients: &[ClientId],
) -> Result<Vec<(ClientId, Date, Option<Date>)>, StoreError> {
    let mut out = Vec::new();
    for chunk in clients.chunks(400) {
        for e in iop_enrolment::Entity::find()
            .filter(iop_enrolment::Column::ClientId.is_in(chunk.iter().map(|c| c.as_uuid())))
            .all(txn)
            .await
            .store()?
        {
            let until = e.until_date.as_deref().map(parse_date).transpose()?;
            out.push((ClientId::from_uuid(e.client_id), parse_date(&e.from_date)?, until));
        }
    }
    Ok(out)
}

pub(crate) async fn enrolled_between(
    txn: &DatabaseTransaction,
    scope: &ClientScope,
    from: Date,
    to: Date,
) -> Result<Vec<ClientId>, StoreError> {
    let mut q = iop_enrolment::Entity::find().filter(iop_enrolment::Column::FromDate.lte(fmt_date(to)));
    if let ClientScope::Only(ids) = scope {
        q = q.filter(iop_enrolment::Column::ClientId.is_in(ids.iter().map(|c| c.as_uuid())));
    }
    let mut out: Vec<ClientId> = Vec::new();
    for e in q.all(txn).await.store()? {
        let until = e.until_date.as_deref().map(parse_date).transpose()?;
        if until.is_none_or(|u| u >= from) {
            let c = ClientId::from_uuid(e.client_id);
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    Ok(out)
}

pub(crate) async fn availability(txn: &DatabaseTransaction, client: ClientId) -> Result<Vec<Window>, StoreError> {
    Ok(availability_of(txn, &[client]).await?.remove(&client).unwrap_or_default())
}

/// [`availability`] for many clients: one query per 400 clients.
pub(crate) async fn availability_of(
    txn: &DatabaseTransaction,
    clients: &[ClientId],
) -> Result<std::collections::BTreeMap<ClientId, Vec<Window>>, StoreError> {
    let mut out: std::collections::BTreeMap<ClientId, Vec<Window>> = std::collections::BTreeMap::new();
    for chunk in clients.chunks(400) {
        for r in iop_availability::Entity::find()
            .filter(iop_availability::Column::ClientId.is_in(chunk.iter().map(|c| c.as_uuid())))
            .order_by_asc(iop_availability::Column::Weekday)
            .order_by_asc(iop_availability::Column::FromTime)
            .all(txn)
            .await
            .store()?
        {
            let window = Window::new(weekday(r.weekday)?, parse_time(&r.from_time)?, parse_time(&r.to_time)?)
                .map_err(|_| StoreError::Corrupt("availability window"))?;
            out.entry(ClientId::from_uuid(r.client_id)).or_default().push(window);
        }
    }
    Ok(out)
}

pub(crate) async fn set_availability(
    txn: &DatabaseTransaction,
    client: ClientId,
    windows: &[Window],
) -> Result<(), StoreError> {
    iop_availability::Entity::delete_many()
        .filter(iop_availability::Column::ClientId.eq(client.as_uuid()))
        .exec(txn)
        .await
        .store()?;
    for w in windows {
        let row = iop_availability::ActiveModel {
            // A row id only: windows are replaced as a set, never referred to.
            id: Set(Uuid::now_v7()),
            client_id: Set(client.as_uuid()),
            weekday: Set(weekday_number(w.weekday)),
            from_time: Set(fmt_time(w.from)),
            to_time: Set(fmt_time(w.to)),
        };
        iop_availability::Entity::insert(row).exec(txn).await.store()?;
    }
    Ok(())
}

pub(crate) async fn requirements(
    txn: &DatabaseTransaction,
    client: ClientId,
) -> Result<Vec<(Modality, u16)>, StoreError> {
    let rows = iop_requirement::Entity::find()
        .filter(iop_requirement::Column::ClientId.eq(client.as_uuid()))
        .all(txn)
        .await
        .store()?;
    rows.into_iter()
        .map(|r| {
            Ok((Modality::parse(&r.modality).ok_or(StoreError::Corrupt("modality"))?, minutes(r.sessions_per_week)))
        })
        .collect()
}

/// [`requirements`] for many clients: one query per 400 clients.
pub(crate) async fn requirements_of(
    txn: &DatabaseTransaction,
    clients: &[ClientId],
) -> Result<std::collections::BTreeMap<ClientId, Vec<(Modality, u16)>>, StoreError> {
    let mut out: std::collections::BTreeMap<ClientId, Vec<(Modality, u16)>> = std::collections::BTreeMap::new();
    for chunk in clients.chunks(400) {
        for r in iop_requirement::Entity::find()
            .filter(iop_requirement::Column::ClientId.is_in(chunk.iter().map(|c| c.as_uuid())))
            .all(txn)
            .await
            .store()?
        {
            let modality = Modality::parse(&r.modality).ok_or(StoreError::Corrupt("modality"))?;
            out.entry(ClientId::from_uuid(r.client_id)).or_default().push((modality, minutes(r.sessions_per_week)));
        }
    }
    Ok(out)
}

pub(crate) async fn set_requirements(
    txn: &DatabaseTransaction,
    client: ClientId,
    reqs: &[(Modality, u16)],
) -> Result<(), StoreError> {
    iop_requirement::Entity::delete_many()
        .filter(iop_requirement::Column::ClientId.eq(client.as_uuid()))
        .exec(txn)
        .await
        .store()?;
    for (m, n) in reqs {
        let row = iop_requirement::ActiveModel {
            client_id: Set(client.as_uuid()),
            modality: Set(m.code().to_owned()),
            sessions_per_week: Set(i32::from(*n)),
        };
        iop_requirement::Entity::insert(row).exec(txn).await.store()?;
    }
    Ok(())
}

/// The loads set per facilitator (staff without one carry the program's default).
pub(crate) async fn facilitator_loads(txn: &DatabaseTransaction) -> Result<Vec<(UserId, u32)>, StoreError> {
    let rows = iop_facilitator_load::Entity::find().all(txn).await.store()?;
    Ok(rows.into_iter().map(|r| (UserId::from_uuid(r.user_id), u32::try_from(r.max_load).unwrap_or(0))).collect())
}

/// Sets (or, with `None`, clears) a facilitator's weekly load.
pub(crate) async fn set_facilitator_load(
    txn: &DatabaseTransaction,
    user: UserId,
    max_load: Option<u32>,
    at: OffsetDateTime,
    by: UserId,
) -> Result<(), StoreError> {
    iop_facilitator_load::Entity::delete_by_id(user.as_uuid()).exec(txn).await.store()?;
    if let Some(load) = max_load {
        let row = iop_facilitator_load::ActiveModel {
            user_id: Set(user.as_uuid()),
            max_load: Set(i32::try_from(load).map_err(|_| StoreError::Corrupt("facilitator load"))?),
            set_at: Set(unix_ms(at)),
            set_by: Set(by.as_uuid()),
        };
        iop_facilitator_load::Entity::insert(row).exec(txn).await.store()?;
    }
    Ok(())
}
