//! Storage for sites, rooms, beds, episodes, placements and episode decisions.

use std::collections::HashMap;

use app::ports::{CensusRow, EpisodeEvent, RoomView, SiteView};
use app::{StoreError, from_unix_ms, unix_ms};
use domain::access::ClientScope;
use domain::episode::{Discharge, DischargeReason, Episode, Placement, TransitionKind};
use domain::ids::{BedId, ClientId, EpisodeId, PlacementId, SiteId, UserId};
use domain::level::LevelCode;
use domain::site::{BedView, Site, TimeZoneName};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::entity::{bed, client, episode, episode_event, placement, room, site, user};
use crate::error::OrStore;

const DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

pub(crate) fn fmt_date(d: Date) -> String {
    d.format(DATE).unwrap_or_default()
}

pub(crate) fn parse_date(s: &str) -> Result<Date, StoreError> {
    Date::parse(s, DATE).map_err(|_| StoreError::Corrupt("stored date"))
}

fn opt_date(s: Option<&str>) -> Result<Option<Date>, StoreError> {
    s.map(parse_date).transpose()
}

fn to_placement(m: &placement::Model) -> Result<Placement, StoreError> {
    Ok(Placement {
        id: PlacementId::from_uuid(m.id),
        level: LevelCode::from_stored(m.level_code.clone()),
        site: SiteId::from_uuid(m.site_id),
        bed: m.bed_id.map(BedId::from_uuid),
        start: parse_date(&m.start_on)?,
        planned_end: opt_date(m.planned_end_on.as_deref())?,
        end: opt_date(m.end_on.as_deref())?,
    })
}

fn to_episode(m: &episode::Model, placements: &[placement::Model]) -> Result<Episode, StoreError> {
    let discharge = match (&m.discharged_on, &m.discharge_reason) {
        (Some(on), Some(reason)) => Some(Discharge {
            on: parse_date(on)?,
            reason: DischargeReason::parse(reason).ok_or(StoreError::Corrupt("discharge reason"))?,
        }),
        _ => None,
    };
    let mut ps: Vec<&placement::Model> = placements.iter().filter(|p| p.episode_id == m.id).collect();
    ps.sort_by_key(|p| p.position);
    Ok(Episode {
        id: EpisodeId::from_uuid(m.id),
        client: ClientId::from_uuid(m.client_id),
        admitted_on: parse_date(&m.admitted_on)?,
        placements: ps.into_iter().map(to_placement).collect::<Result<_, _>>()?,
        discharge,
        previous: m.previous_episode_id.map(EpisodeId::from_uuid),
    })
}

fn scoped_clients(scope: &ClientScope, column: impl ColumnTrait) -> Condition {
    match scope {
        ClientScope::All => Condition::all(),
        ClientScope::Only(ids) => Condition::all().add(column.is_in(ids.iter().map(|c| c.as_uuid()))),
    }
}

pub(crate) async fn insert_site(txn: &DatabaseTransaction, s: &Site) -> Result<(), StoreError> {
    let row = site::ActiveModel {
        id: Set(s.id.as_uuid()),
        name: Set(s.name.clone()),
        time_zone: Set(s.time_zone.as_str().to_owned()),
        active: Set(true),
    };
    site::Entity::insert(row).exec(txn).await.map(|_| ()).map_err(|e| match crate::error::map(e) {
        StoreError::Duplicate(_) => StoreError::Duplicate("site name"),
        other => other,
    })
}

pub(crate) async fn sites(txn: &DatabaseTransaction) -> Result<Vec<SiteView>, StoreError> {
    let sites = site::Entity::find().order_by_asc(site::Column::Name).all(txn).await.store()?;
    let rooms = room::Entity::find().order_by_asc(room::Column::Name).all(txn).await.store()?;
    let beds = bed::Entity::find().order_by_asc(bed::Column::Label).all(txn).await.store()?;
    let room_names: HashMap<Uuid, String> = rooms.iter().map(|r| (r.id, r.name.clone())).collect();
    sites
        .into_iter()
        .map(|s| {
            let site_rooms = rooms
                .iter()
                .filter(|r| r.site_id == s.id)
                .map(|r| RoomView {
                    id: r.id,
                    site: SiteId::from_uuid(r.site_id),
                    name: r.name.clone(),
                    capacity: u16::try_from(r.capacity).unwrap_or(0),
                    beds: beds.iter().filter(|b| b.room_id == r.id).map(|b| bed_view(b, &room_names)).collect(),
                })
                .collect();
            Ok(SiteView {
                site: Site {
                    id: SiteId::from_uuid(s.id),
                    name: s.name,
                    time_zone: TimeZoneName::parse(&s.time_zone).map_err(|_| StoreError::Corrupt("time zone"))?,
                },
                rooms: site_rooms,
            })
        })
        .collect()
}

fn bed_view(b: &bed::Model, rooms: &HashMap<Uuid, String>) -> BedView {
    BedView {
        id: BedId::from_uuid(b.id),
        site: SiteId::from_uuid(b.site_id),
        room: rooms.get(&b.room_id).cloned().unwrap_or_default(),
        label: b.label.clone(),
        active: b.active,
    }
}

pub(crate) async fn insert_room(
    txn: &DatabaseTransaction,
    id: Uuid,
    site: SiteId,
    name: &str,
    capacity: u16,
) -> Result<(), StoreError> {
    let row = room::ActiveModel {
        id: Set(id),
        site_id: Set(site.as_uuid()),
        name: Set(name.to_owned()),
        capacity: Set(i32::from(capacity)),
    };
    room::Entity::insert(row).exec(txn).await.map(|_| ()).map_err(|e| match crate::error::map(e) {
        StoreError::Duplicate(_) => StoreError::Duplicate("room name"),
        other => other,
    })
}

pub(crate) async fn room(txn: &DatabaseTransaction, id: Uuid) -> Result<Option<(SiteId, u16, u64)>, StoreError> {
    let Some(r) = room::Entity::find_by_id(id).one(txn).await.store()? else {
        return Ok(None);
    };
    let beds = bed::Entity::find().filter(bed::Column::RoomId.eq(id)).count(txn).await.store()?;
    Ok(Some((SiteId::from_uuid(r.site_id), u16::try_from(r.capacity).unwrap_or(0), beds)))
}

pub(crate) async fn insert_bed(
    txn: &DatabaseTransaction,
    id: BedId,
    room: Uuid,
    site: SiteId,
    label: &str,
) -> Result<(), StoreError> {
    let row = bed::ActiveModel {
        id: Set(id.as_uuid()),
        room_id: Set(room),
        site_id: Set(site.as_uuid()),
        label: Set(label.to_owned()),
        active: Set(true),
    };
    bed::Entity::insert(row).exec(txn).await.map(|_| ()).map_err(|e| match crate::error::map(e) {
        StoreError::Duplicate(_) => StoreError::Duplicate("bed label"),
        other => other,
    })
}

pub(crate) async fn bed_taken(
    txn: &DatabaseTransaction,
    bed_id: BedId,
    from: Date,
    except: EpisodeId,
) -> Result<bool, StoreError> {
    if txn.get_database_backend() == DbBackend::Postgres {
        // Serializes concurrent placements into the same bed.
        bed::Entity::find_by_id(bed_id.as_uuid()).lock_exclusive().one(txn).await.store()?;
    }
    let n = placement::Entity::find()
        .filter(placement::Column::BedId.eq(bed_id.as_uuid()))
        .filter(placement::Column::EpisodeId.ne(except.as_uuid()))
        .filter(
            Condition::any().add(placement::Column::EndOn.is_null()).add(placement::Column::EndOn.gt(fmt_date(from))),
        )
        .count(txn)
        .await
        .store()?;
    Ok(n > 0)
}

pub(crate) async fn save_episode(
    txn: &DatabaseTransaction,
    e: &Episode,
    catalogue: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let row = episode::ActiveModel {
        id: Set(e.id.as_uuid()),
        client_id: Set(e.client.as_uuid()),
        admitted_on: Set(fmt_date(e.admitted_on)),
        discharged_on: Set(e.discharge.as_ref().map(|d| fmt_date(d.on))),
        discharge_reason: Set(e.discharge.as_ref().map(|d| d.reason.code().to_owned())),
        previous_episode_id: Set(e.previous.map(|p| p.as_uuid())),
        catalogue: Set(catalogue.to_owned()),
        created_at: Set(unix_ms(at)),
    };
    episode::Entity::insert(row)
        .on_conflict(
            OnConflict::column(episode::Column::Id)
                .update_columns([episode::Column::DischargedOn, episode::Column::DischargeReason])
                .to_owned(),
        )
        .exec(txn)
        .await
        .store()?;
    for (position, p) in e.placements.iter().enumerate() {
        let row = placement::ActiveModel {
            id: Set(p.id.as_uuid()),
            episode_id: Set(e.id.as_uuid()),
            client_id: Set(e.client.as_uuid()),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            level_code: Set(p.level.as_str().to_owned()),
            site_id: Set(p.site.as_uuid()),
            bed_id: Set(p.bed.map(|b| b.as_uuid())),
            start_on: Set(fmt_date(p.start)),
            planned_end_on: Set(p.planned_end.map(fmt_date)),
            end_on: Set(p.end.map(fmt_date)),
        };
        placement::Entity::insert(row)
            .on_conflict(
                OnConflict::column(placement::Column::Id)
                    .update_columns([placement::Column::PlannedEndOn, placement::Column::EndOn])
                    .to_owned(),
            )
            .exec(txn)
            .await
            .store()?;
    }
    Ok(())
}

pub(crate) async fn episode(
    txn: &DatabaseTransaction,
    scope: &ClientScope,
    id: EpisodeId,
) -> Result<Option<Episode>, StoreError> {
    let Some(m) = episode::Entity::find()
        .filter(episode::Column::Id.eq(id.as_uuid()))
        .filter(scoped_clients(scope, episode::Column::ClientId))
        .one(txn)
        .await
        .store()?
    else {
        return Ok(None);
    };
    let ps = placement::Entity::find().filter(placement::Column::EpisodeId.eq(m.id)).all(txn).await.store()?;
    to_episode(&m, &ps).map(Some)
}

pub(crate) async fn episodes_of(txn: &DatabaseTransaction, client_id: ClientId) -> Result<Vec<Episode>, StoreError> {
    let eps = episode::Entity::find()
        .filter(episode::Column::ClientId.eq(client_id.as_uuid()))
        .order_by_desc(episode::Column::AdmittedOn)
        .all(txn)
        .await
        .store()?;
    let ps =
        placement::Entity::find().filter(placement::Column::ClientId.eq(client_id.as_uuid())).all(txn).await.store()?;
    eps.iter().map(|e| to_episode(e, &ps)).collect()
}

/// [`episodes_of`] for many clients: two queries per 400 clients.
pub(crate) async fn episodes_of_clients(
    txn: &DatabaseTransaction,
    clients: &[ClientId],
) -> Result<std::collections::BTreeMap<ClientId, Vec<Episode>>, StoreError> {
    let mut out: std::collections::BTreeMap<ClientId, Vec<Episode>> = std::collections::BTreeMap::new();
    for chunk in clients.chunks(400) {
        let ids = || chunk.iter().map(|c| c.as_uuid());
        let eps = episode::Entity::find()
            .filter(episode::Column::ClientId.is_in(ids()))
            .order_by_desc(episode::Column::AdmittedOn)
            .all(txn)
            .await
            .store()?;
        let mut placements: HashMap<Uuid, Vec<placement::Model>> = HashMap::new();
        for p in placement::Entity::find().filter(placement::Column::ClientId.is_in(ids())).all(txn).await.store()? {
            placements.entry(p.episode_id).or_default().push(p);
        }
        for e in &eps {
            let ps = placements.get(&e.id).map(Vec::as_slice).unwrap_or_default();
            out.entry(ClientId::from_uuid(e.client_id)).or_default().push(to_episode(e, ps)?);
        }
    }
    Ok(out)
}

pub(crate) async fn insert_episode_event(txn: &DatabaseTransaction, ev: &EpisodeEvent) -> Result<(), StoreError> {
    let row = episode_event::ActiveModel {
        id: Set(ev.id),
        episode_id: Set(ev.episode.as_uuid()),
        kind: Set(ev.kind.code().to_owned()),
        on_date: Set(fmt_date(ev.on)),
        decided_at: Set(unix_ms(ev.decided_at)),
        decided_by: Set(ev.decided_by.as_uuid()),
        reason: Set(ev.reason.clone()),
        from_level: Set(ev.from_level.as_ref().map(|l| l.as_str().to_owned())),
        to_level: Set(ev.to_level.as_ref().map(|l| l.as_str().to_owned())),
        planned_end_on: Set(ev.planned_end.map(fmt_date)),
    };
    episode_event::Entity::insert(row).exec(txn).await.store().map(|_| ())
}

pub(crate) async fn episode_events(txn: &DatabaseTransaction, id: EpisodeId) -> Result<Vec<EpisodeEvent>, StoreError> {
    let rows = episode_event::Entity::find()
        .filter(episode_event::Column::EpisodeId.eq(id.as_uuid()))
        .order_by_asc(episode_event::Column::DecidedAt)
        .all(txn)
        .await
        .store()?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.decided_by).collect();
    let names: HashMap<Uuid, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(txn)
        .await
        .store()?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    rows.into_iter()
        .map(|r| {
            Ok(EpisodeEvent {
                id: r.id,
                episode: EpisodeId::from_uuid(r.episode_id),
                kind: TransitionKind::parse(&r.kind).ok_or(StoreError::Corrupt("episode event kind"))?,
                on: parse_date(&r.on_date)?,
                decided_at: from_unix_ms(r.decided_at),
                decided_by: UserId::from_uuid(r.decided_by),
                decided_by_name: names.get(&r.decided_by).cloned().unwrap_or_default(),
                reason: r.reason,
                from_level: r.from_level.map(LevelCode::from_stored),
                to_level: r.to_level.map(LevelCode::from_stored),
                planned_end: opt_date(r.planned_end_on.as_deref())?,
            })
        })
        .collect()
}

pub(crate) async fn census(txn: &DatabaseTransaction, scope: &ClientScope) -> Result<Vec<CensusRow>, StoreError> {
    let open = placement::Entity::find()
        .filter(placement::Column::EndOn.is_null())
        .filter(scoped_clients(scope, placement::Column::ClientId))
        .all(txn)
        .await
        .store()?;
    let client_ids: Vec<Uuid> = open.iter().map(|p| p.client_id).collect();
    let episode_ids: Vec<Uuid> = open.iter().map(|p| p.episode_id).collect();
    let mut clients: HashMap<Uuid, client::Model> = HashMap::new();
    let mut episodes: HashMap<Uuid, episode::Model> = HashMap::new();
    // Chunked IN lists keep each statement under every backend's parameter limit.
    for chunk in client_ids.chunks(500) {
        for c in client::Entity::find().filter(client::Column::Id.is_in(chunk.to_vec())).all(txn).await.store()? {
            clients.insert(c.id, c);
        }
    }
    for chunk in episode_ids.chunks(500) {
        for e in episode::Entity::find().filter(episode::Column::Id.is_in(chunk.to_vec())).all(txn).await.store()? {
            episodes.insert(e.id, e);
        }
    }
    let mut rows = Vec::with_capacity(open.len());
    for p in &open {
        let (Some(c), Some(e)) = (clients.get(&p.client_id), episodes.get(&p.episode_id)) else {
            return Err(StoreError::Corrupt("placement without client or episode"));
        };
        rows.push(CensusRow {
            client: crate::tx::to_client(c.clone())?,
            episode: EpisodeId::from_uuid(e.id),
            admitted_on: parse_date(&e.admitted_on)?,
            placement: to_placement(p)?,
        });
    }
    Ok(rows)
}

pub(crate) async fn episode_team(
    txn: &DatabaseTransaction,
    episode_id: EpisodeId,
) -> Result<Vec<app::ports::TeamMember>, StoreError> {
    use crate::entity::episode_team_member as etm;
    let rows = etm::Entity::find().filter(etm::Column::EpisodeId.eq(episode_id.as_uuid())).all(txn).await.store()?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.user_id).collect();
    let names: HashMap<Uuid, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(txn)
        .await
        .store()?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let mut team = rows
        .into_iter()
        .map(|r| {
            Ok(app::ports::TeamMember {
                user_id: UserId::from_uuid(r.user_id),
                display_name: names.get(&r.user_id).cloned().unwrap_or_default(),
                team_role: domain::client::TeamRole::parse(&r.team_role).ok_or(StoreError::Corrupt("team role"))?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    team.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    Ok(team)
}

pub(crate) async fn add_episode_team_member(
    txn: &DatabaseTransaction,
    episode_id: EpisodeId,
    client_id: ClientId,
    user_id: UserId,
    role: domain::client::TeamRole,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    use crate::entity::episode_team_member as etm;
    let row = etm::ActiveModel {
        episode_id: Set(episode_id.as_uuid()),
        user_id: Set(user_id.as_uuid()),
        client_id: Set(client_id.as_uuid()),
        team_role: Set(role.code().to_owned()),
        since: Set(unix_ms(at)),
    };
    etm::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([etm::Column::EpisodeId, etm::Column::UserId])
                .update_column(etm::Column::TeamRole)
                .to_owned(),
        )
        .exec(txn)
        .await
        .store()
        .map(|_| ())
}

pub(crate) async fn remove_episode_team_member(
    txn: &DatabaseTransaction,
    episode_id: EpisodeId,
    user_id: UserId,
) -> Result<bool, StoreError> {
    use crate::entity::episode_team_member as etm;
    let r = etm::Entity::delete_many()
        .filter(etm::Column::EpisodeId.eq(episode_id.as_uuid()))
        .filter(etm::Column::UserId.eq(user_id.as_uuid()))
        .exec(txn)
        .await
        .store()?;
    Ok(r.rows_affected > 0)
}

pub(crate) async fn on_any_episode_team(
    txn: &DatabaseTransaction,
    client_id: ClientId,
    user_id: UserId,
) -> Result<bool, StoreError> {
    use crate::entity::episode_team_member as etm;
    let n = etm::Entity::find()
        .filter(etm::Column::ClientId.eq(client_id.as_uuid()))
        .filter(etm::Column::UserId.eq(user_id.as_uuid()))
        .count(txn)
        .await
        .store()?;
    Ok(n > 0)
}
