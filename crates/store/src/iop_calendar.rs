//! Storage for the IOP program calendar: tracks, template entries, closures, sessions, rosters
//! and enrolments. Times of day are `HH:MM` text and dates ISO text, so ordering and
//! comparisons are the same on SQLite and PostgreSQL.

use app::ports::{ProgramSession, RosterEntry, SessionFilter, SiteClosure, Track, TrackEnrolment, TrackTemplate};
use app::{StoreError, from_unix_ms, unix_ms};
use domain::access::ClientScope;
use domain::client::Client;
use domain::ids::{ClientId, EnrolmentId, EpisodeId, IopSessionId, SiteId, TemplateId, TrackId, UserId};
use domain::iop::program::{Closure, TemplateEntry};
use domain::iop::{Modality, Slot};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter, QueryOrder,
};
use time::{Date, Time, Weekday};
use uuid::Uuid;

use crate::continuum::{fmt_date, parse_date};
use crate::entity::{client, iop_closure, iop_enrolment, iop_roster, iop_session, iop_template, iop_track};
use crate::error::OrStore;

const SCHEDULED: &str = "scheduled";
const CANCELLED: &str = "cancelled";

/// An arbitrary, fixed key for PostgreSQL's advisory lock on the program calendar.
const CALENDAR_LOCK: i64 = 0x5344_494f_5043_414c;

fn fmt_time(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn parse_time(s: &str) -> Result<Time, StoreError> {
    app::iop::parse_time(s).ok_or(StoreError::Corrupt("stored time"))
}

fn minutes(n: i32) -> Result<u16, StoreError> {
    u16::try_from(n).map_err(|_| StoreError::Corrupt("stored minutes"))
}

fn modality(code: &str) -> Result<Modality, StoreError> {
    Modality::parse(code).ok_or(StoreError::Corrupt("modality"))
}

fn weekday(n: i32) -> Result<Weekday, StoreError> {
    usize::try_from(n)
        .ok()
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| app::iop::WEEKDAYS.get(i).copied())
        .ok_or(StoreError::Corrupt("weekday"))
}

pub(crate) async fn lock(txn: &DatabaseTransaction) -> Result<(), StoreError> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({CALENDAR_LOCK})")).await.store()?;
    }
    Ok(())
}

fn to_track(m: iop_track::Model) -> Result<Track, StoreError> {
    Ok(Track {
        id: TrackId::from_uuid(m.id),
        site: SiteId::from_uuid(m.site_id),
        name: m.name,
        group_limit: u16::try_from(m.group_limit).map_err(|_| StoreError::Corrupt("group limit"))?,
        active_from: parse_date(&m.active_from)?,
        active_until: m.active_until.as_deref().map(parse_date).transpose()?,
    })
}

pub(crate) async fn tracks(txn: &DatabaseTransaction) -> Result<Vec<Track>, StoreError> {
    let rows = iop_track::Entity::find().order_by_asc(iop_track::Column::Name).all(txn).await.store()?;
    rows.into_iter().map(to_track).collect()
}

pub(crate) async fn save_track(
    txn: &DatabaseTransaction,
    t: &Track,
    at: time::OffsetDateTime,
) -> Result<(), StoreError> {
    let row = iop_track::ActiveModel {
        id: Set(t.id.as_uuid()),
        site_id: Set(t.site.as_uuid()),
        name: Set(t.name.clone()),
        group_limit: Set(i32::from(t.group_limit)),
        active_from: Set(fmt_date(t.active_from)),
        active_until: Set(t.active_until.map(fmt_date)),
        created_at: Set(unix_ms(at)),
    };
    iop_track::Entity::insert(row)
        .on_conflict(
            OnConflict::column(iop_track::Column::Id)
                .update_columns([
                    iop_track::Column::Name,
                    iop_track::Column::GroupLimit,
                    iop_track::Column::ActiveFrom,
                    iop_track::Column::ActiveUntil,
                ])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .store()
        .map(|_| ())
}

fn to_template(m: iop_template::Model) -> Result<TrackTemplate, StoreError> {
    Ok(TrackTemplate {
        track: TrackId::from_uuid(m.track_id),
        entry: TemplateEntry {
            id: TemplateId::from_uuid(m.id),
            weekday: weekday(m.weekday)?,
            start: parse_time(&m.start)?,
            minutes: minutes(m.minutes)?,
            modality: modality(&m.modality)?,
            title: m.title,
            facilitator: UserId::from_uuid(m.facilitator_id),
            room: m.room_id,
        },
        retired: m.retired,
    })
}

pub(crate) async fn templates(
    txn: &DatabaseTransaction,
    track: Option<TrackId>,
) -> Result<Vec<TrackTemplate>, StoreError> {
    let mut q = iop_template::Entity::find();
    if let Some(t) = track {
        q = q.filter(iop_template::Column::TrackId.eq(t.as_uuid()));
    }
    let rows = q
        .order_by_asc(iop_template::Column::Weekday)
        .order_by_asc(iop_template::Column::Start)
        .order_by_asc(iop_template::Column::Id)
        .all(txn)
        .await
        .store()?;
    rows.into_iter().map(to_template).collect()
}

pub(crate) async fn save_template(txn: &DatabaseTransaction, t: &TrackTemplate) -> Result<(), StoreError> {
    let e = &t.entry;
    let row = iop_template::ActiveModel {
        id: Set(e.id.as_uuid()),
        track_id: Set(t.track.as_uuid()),
        weekday: Set(i32::from(e.weekday.number_from_monday())),
        start: Set(fmt_time(e.start)),
        minutes: Set(i32::from(e.minutes)),
        modality: Set(e.modality.code().to_owned()),
        title: Set(e.title.clone()),
        facilitator_id: Set(e.facilitator.as_uuid()),
        room_id: Set(e.room),
        retired: Set(t.retired),
    };
    iop_template::Entity::insert(row)
        .on_conflict(
            OnConflict::column(iop_template::Column::Id)
                .update_columns([
                    iop_template::Column::Weekday,
                    iop_template::Column::Start,
                    iop_template::Column::Minutes,
                    iop_template::Column::Modality,
                    iop_template::Column::Title,
                    iop_template::Column::FacilitatorId,
                    iop_template::Column::RoomId,
                    iop_template::Column::Retired,
                ])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .store()
        .map(|_| ())
}

pub(crate) async fn closures(
    txn: &DatabaseTransaction,
    site: Option<SiteId>,
    from: Date,
    to: Date,
) -> Result<Vec<SiteClosure>, StoreError> {
    let mut q = iop_closure::Entity::find()
        .filter(iop_closure::Column::OnDate.gte(fmt_date(from)))
        .filter(iop_closure::Column::OnDate.lte(fmt_date(to)));
    if let Some(s) = site {
        q = q.filter(iop_closure::Column::SiteId.eq(s.as_uuid()));
    }
    let rows = q.order_by_asc(iop_closure::Column::OnDate).all(txn).await.store()?;
    rows.into_iter()
        .map(|m| {
            Ok(SiteClosure {
                id: m.id,
                site: SiteId::from_uuid(m.site_id),
                closure: Closure { date: parse_date(&m.on_date)?, reason: m.reason },
            })
        })
        .collect()
}

pub(crate) async fn insert_closure(txn: &DatabaseTransaction, c: &SiteClosure) -> Result<(), StoreError> {
    let row = iop_closure::ActiveModel {
        id: Set(c.id),
        site_id: Set(c.site.as_uuid()),
        on_date: Set(fmt_date(c.closure.date)),
        reason: Set(c.closure.reason.clone()),
    };
    iop_closure::Entity::insert(row).exec_without_returning(txn).await.map(|_| ()).map_err(|e| match crate::error::map(
        e,
    ) {
        StoreError::Duplicate(_) => StoreError::Duplicate("closure date"),
        other => other,
    })
}

pub(crate) async fn delete_closure(txn: &DatabaseTransaction, id: Uuid) -> Result<bool, StoreError> {
    let r = iop_closure::Entity::delete_by_id(id).exec(txn).await.store()?;
    Ok(r.rows_affected > 0)
}

fn session_row(s: &ProgramSession) -> iop_session::ActiveModel {
    iop_session::ActiveModel {
        id: Set(s.id.as_uuid()),
        site_id: Set(s.site.as_uuid()),
        track_id: Set(s.track.map(|t| t.as_uuid())),
        template_id: Set(s.template.map(|t| t.as_uuid())),
        modality: Set(s.modality.code().to_owned()),
        title: Set(s.title.clone()),
        on_date: Set(fmt_date(s.slot.date)),
        start: Set(fmt_time(s.slot.start)),
        minutes: Set(i32::from(s.slot.minutes)),
        facilitator_id: Set(s.facilitator.as_uuid()),
        substitute_id: Set(s.substitute.map(|u| u.as_uuid())),
        room_id: Set(s.room),
        capacity: Set(i32::from(s.capacity)),
        status: Set(if s.cancelled { CANCELLED } else { SCHEDULED }.to_owned()),
        status_reason: Set(s.status_reason.clone()),
        note: NotSet,
        note_signed_at: NotSet,
        note_signed_by: NotSet,
        created_at: Set(unix_ms(s.created_at)),
    }
}

fn to_session(m: iop_session::Model) -> Result<ProgramSession, StoreError> {
    Ok(ProgramSession {
        id: IopSessionId::from_uuid(m.id),
        site: SiteId::from_uuid(m.site_id),
        track: m.track_id.map(TrackId::from_uuid),
        template: m.template_id.map(TemplateId::from_uuid),
        modality: modality(&m.modality)?,
        title: m.title,
        slot: Slot { date: parse_date(&m.on_date)?, start: parse_time(&m.start)?, minutes: minutes(m.minutes)? },
        facilitator: UserId::from_uuid(m.facilitator_id),
        substitute: m.substitute_id.map(UserId::from_uuid),
        room: m.room_id,
        capacity: u16::try_from(m.capacity).map_err(|_| StoreError::Corrupt("capacity"))?,
        cancelled: match m.status.as_str() {
            SCHEDULED => false,
            CANCELLED => true,
            _ => return Err(StoreError::Corrupt("session status")),
        },
        status_reason: m.status_reason,
        created_at: from_unix_ms(m.created_at),
    })
}

pub(crate) async fn insert_session(txn: &DatabaseTransaction, s: &ProgramSession) -> Result<bool, StoreError> {
    let mut row = session_row(s);
    row.note = Set(None);
    row.note_signed_at = Set(None);
    row.note_signed_by = Set(None);
    // A template's occurrence on a day exists at most once (generating twice adds nothing).
    let n = iop_session::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([iop_session::Column::TemplateId, iop_session::Column::OnDate]).do_nothing().to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .store()?;
    Ok(n > 0)
}

pub(crate) async fn update_session(txn: &DatabaseTransaction, s: &ProgramSession) -> Result<(), StoreError> {
    let mut row = session_row(s);
    row.created_at = NotSet;
    iop_session::Entity::update(row).exec(txn).await.store().map(|_| ())
}

pub(crate) async fn session(txn: &DatabaseTransaction, id: IopSessionId) -> Result<Option<ProgramSession>, StoreError> {
    iop_session::Entity::find_by_id(id.as_uuid()).one(txn).await.store()?.map(to_session).transpose()
}

pub(crate) async fn sessions(txn: &DatabaseTransaction, f: &SessionFilter) -> Result<Vec<ProgramSession>, StoreError> {
    let mut q = iop_session::Entity::find()
        .filter(iop_session::Column::OnDate.gte(fmt_date(f.from)))
        .filter(iop_session::Column::OnDate.lte(fmt_date(f.to)));
    if !f.include_cancelled {
        q = q.filter(iop_session::Column::Status.eq(SCHEDULED));
    }
    if let Some(t) = f.track {
        q = q.filter(iop_session::Column::TrackId.eq(t.as_uuid()));
    }
    if let Some(u) = f.staff {
        q = q.filter(
            Condition::any()
                .add(iop_session::Column::FacilitatorId.eq(u.as_uuid()))
                .add(iop_session::Column::SubstituteId.eq(u.as_uuid())),
        );
    }
    if let Some(r) = f.room {
        q = q.filter(iop_session::Column::RoomId.eq(r));
    }
    if let Some(c) = f.client {
        let on_roster = Query::select()
            .column(iop_roster::Column::SessionId)
            .from(iop_roster::Entity)
            .and_where(iop_roster::Column::ClientId.eq(c.as_uuid()))
            .to_owned();
        q = q.filter(iop_session::Column::Id.in_subquery(on_roster));
    }
    let rows = q
        .order_by_asc(iop_session::Column::OnDate)
        .order_by_asc(iop_session::Column::Start)
        .order_by_asc(iop_session::Column::Title)
        .order_by_asc(iop_session::Column::Id)
        .all(txn)
        .await
        .store()?;
    rows.into_iter().map(to_session).collect()
}

pub(crate) async fn roster(
    txn: &DatabaseTransaction,
    sessions: &[IopSessionId],
) -> Result<Vec<RosterEntry>, StoreError> {
    let mut out = Vec::new();
    // Chunked IN lists keep each statement under every backend's parameter limit.
    for chunk in sessions.chunks(500) {
        let ids: Vec<Uuid> = chunk.iter().map(|s| s.as_uuid()).collect();
        let rows = iop_roster::Entity::find()
            .filter(iop_roster::Column::SessionId.is_in(ids))
            .order_by_asc(iop_roster::Column::AddedAt)
            .all(txn)
            .await
            .store()?;
        out.extend(rows.into_iter().map(|m| RosterEntry {
            session: IopSessionId::from_uuid(m.session_id),
            client: ClientId::from_uuid(m.client_id),
            added_at: from_unix_ms(m.added_at),
            added_by: UserId::from_uuid(m.added_by),
        }));
    }
    Ok(out)
}

pub(crate) async fn add_to_roster(txn: &DatabaseTransaction, e: &RosterEntry) -> Result<bool, StoreError> {
    let row = iop_roster::ActiveModel {
        session_id: Set(e.session.as_uuid()),
        client_id: Set(e.client.as_uuid()),
        added_at: Set(unix_ms(e.added_at)),
        added_by: Set(e.added_by.as_uuid()),
    };
    let n = iop_roster::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([iop_roster::Column::SessionId, iop_roster::Column::ClientId]).do_nothing().to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .store()?;
    Ok(n > 0)
}

pub(crate) async fn remove_from_roster(
    txn: &DatabaseTransaction,
    session: IopSessionId,
    client_id: ClientId,
) -> Result<bool, StoreError> {
    // Never from a session whose note is signed: that roster is part of the signed record.
    let unsigned = sea_orm::sea_query::Query::select()
        .column(iop_session::Column::Id)
        .from(iop_session::Entity)
        .and_where(iop_session::Column::Id.eq(session.as_uuid()))
        .and_where(iop_session::Column::NoteSignedAt.is_null())
        .to_owned();
    let r = iop_roster::Entity::delete_many()
        .filter(iop_roster::Column::SessionId.eq(session.as_uuid()))
        .filter(iop_roster::Column::ClientId.eq(client_id.as_uuid()))
        .filter(iop_roster::Column::SessionId.in_subquery(unsigned))
        .exec(txn)
        .await
        .store()?;
    Ok(r.rows_affected > 0)
}

pub(crate) async fn clients_among(
    txn: &DatabaseTransaction,
    scope: &ClientScope,
    ids: &[ClientId],
) -> Result<Vec<Client>, StoreError> {
    let wanted: Vec<Uuid> = ids.iter().filter(|c| scope.contains(**c)).map(|c| c.as_uuid()).collect();
    let mut out = Vec::new();
    for chunk in wanted.chunks(500) {
        let rows = client::Entity::find().filter(client::Column::Id.is_in(chunk.to_vec())).all(txn).await.store()?;
        for m in rows {
            out.push(crate::tx::to_client(m)?);
        }
    }
    Ok(out)
}

fn to_enrolment(m: iop_enrolment::Model) -> Result<TrackEnrolment, StoreError> {
    Ok(TrackEnrolment {
        id: EnrolmentId::from_uuid(m.id),
        client: ClientId::from_uuid(m.client_id),
        episode: EpisodeId::from_uuid(m.episode_id),
        track: TrackId::from_uuid(m.track_id),
        from: parse_date(&m.from_date)?,
        until: m.until_date.as_deref().map(parse_date).transpose()?,
        created_by: UserId::from_uuid(m.created_by),
        created_at: from_unix_ms(m.created_at),
    })
}

pub(crate) async fn enrolments(
    txn: &DatabaseTransaction,
    client_id: Option<ClientId>,
    track: Option<TrackId>,
) -> Result<Vec<TrackEnrolment>, StoreError> {
    let mut q = iop_enrolment::Entity::find();
    if let Some(c) = client_id {
        q = q.filter(iop_enrolment::Column::ClientId.eq(c.as_uuid()));
    }
    if let Some(t) = track {
        q = q.filter(iop_enrolment::Column::TrackId.eq(t.as_uuid()));
    }
    let rows = q
        .order_by_asc(iop_enrolment::Column::FromDate)
        .order_by_asc(iop_enrolment::Column::CreatedAt)
        .all(txn)
        .await
        .store()?;
    rows.into_iter().map(to_enrolment).collect()
}

pub(crate) async fn insert_enrolment(txn: &DatabaseTransaction, e: &TrackEnrolment) -> Result<(), StoreError> {
    let row = iop_enrolment::ActiveModel {
        id: Set(e.id.as_uuid()),
        client_id: Set(e.client.as_uuid()),
        episode_id: Set(e.episode.as_uuid()),
        track_id: Set(e.track.as_uuid()),
        from_date: Set(fmt_date(e.from)),
        until_date: Set(e.until.map(fmt_date)),
        created_by: Set(e.created_by.as_uuid()),
        created_at: Set(unix_ms(e.created_at)),
    };
    iop_enrolment::Entity::insert(row).exec_without_returning(txn).await.store().map(|_| ())
}

pub(crate) async fn set_enrolment_until(
    txn: &DatabaseTransaction,
    id: EnrolmentId,
    until: Option<Date>,
) -> Result<(), StoreError> {
    let row = iop_enrolment::ActiveModel {
        id: Set(id.as_uuid()),
        until_date: Set(until.map(fmt_date)),
        ..Default::default()
    };
    iop_enrolment::Entity::update(row).exec(txn).await.store().map(|_| ())
}
