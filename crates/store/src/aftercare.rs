//! Storage for aftercare plans and follow-ups.

use app::ports::FollowUp;
use app::{StoreError, from_unix_ms, unix_ms};
use domain::access::ClientScope;
use domain::aftercare::{AftercarePlan, FollowUpOutcome, SubstanceUse};
use domain::ids::{ClientId, EpisodeId, FollowUpId, UserId};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use time::{Date, OffsetDateTime};

use crate::continuum::{fmt_date, parse_date};
use crate::entity::{aftercare_plan, follow_up};
use crate::error::OrStore;

pub(crate) async fn plan(txn: &DatabaseTransaction, episode: EpisodeId) -> Result<Option<AftercarePlan>, StoreError> {
    let row = aftercare_plan::Entity::find_by_id(episode.as_uuid()).one(txn).await.store()?;
    Ok(row.map(|r| AftercarePlan {
        referrals: r.referrals,
        sober_living: r.sober_living,
        meetings: r.meetings,
        medication: r.medication,
        appointments: r.appointments,
    }))
}

pub(crate) async fn save_plan(
    txn: &DatabaseTransaction,
    episode: EpisodeId,
    p: &AftercarePlan,
    by: UserId,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let row = aftercare_plan::ActiveModel {
        episode_id: Set(episode.as_uuid()),
        referrals: Set(p.referrals.clone()),
        sober_living: Set(p.sober_living.clone()),
        meetings: Set(p.meetings.clone()),
        medication: Set(p.medication.clone()),
        appointments: Set(p.appointments.clone()),
        updated_at: Set(unix_ms(at)),
        updated_by: Set(by.as_uuid()),
    };
    aftercare_plan::Entity::insert(row)
        .on_conflict(
            OnConflict::column(aftercare_plan::Column::EpisodeId)
                .update_columns([
                    aftercare_plan::Column::Referrals,
                    aftercare_plan::Column::SoberLiving,
                    aftercare_plan::Column::Meetings,
                    aftercare_plan::Column::Medication,
                    aftercare_plan::Column::Appointments,
                    aftercare_plan::Column::UpdatedAt,
                    aftercare_plan::Column::UpdatedBy,
                ])
                .to_owned(),
        )
        .exec(txn)
        .await
        .store()
        .map(|_| ())
}

fn to_follow_up(m: follow_up::Model) -> Result<FollowUp, StoreError> {
    let outcome = match (m.reached, m.recorded_at) {
        (Some(reached), Some(_)) => Some(FollowUpOutcome {
            reached,
            substance_use: m
                .substance_use
                .as_deref()
                .map(|s| SubstanceUse::parse(s).ok_or(StoreError::Corrupt("substance use")))
                .transpose()?,
            working_or_in_school: m.working_or_in_school,
            readmitted_elsewhere: m.readmitted_elsewhere,
            notes: m.notes,
        }),
        _ => None,
    };
    Ok(FollowUp {
        id: FollowUpId::from_uuid(m.id),
        episode: EpisodeId::from_uuid(m.episode_id),
        client: ClientId::from_uuid(m.client_id),
        day: u16::try_from(m.day).unwrap_or(0),
        due_on: parse_date(&m.due_on)?,
        outcome,
        recorded_at: m.recorded_at.map(from_unix_ms),
        recorded_by: m.recorded_by.map(UserId::from_uuid),
    })
}

pub(crate) async fn schedule(txn: &DatabaseTransaction, items: &[FollowUp]) -> Result<(), StoreError> {
    for f in items {
        let row = follow_up::ActiveModel {
            id: Set(f.id.as_uuid()),
            episode_id: Set(f.episode.as_uuid()),
            client_id: Set(f.client.as_uuid()),
            day: Set(i32::from(f.day)),
            due_on: Set(fmt_date(f.due_on)),
            reached: Set(None),
            substance_use: Set(None),
            working_or_in_school: Set(None),
            readmitted_elsewhere: Set(None),
            notes: Set(None),
            recorded_at: Set(None),
            recorded_by: Set(None),
        };
        follow_up::Entity::insert(row).exec(txn).await.store()?;
    }
    Ok(())
}

fn scoped(scope: &ClientScope) -> Condition {
    match scope {
        ClientScope::All => Condition::all(),
        ClientScope::Only(ids) => {
            Condition::all().add(follow_up::Column::ClientId.is_in(ids.iter().map(|c| c.as_uuid())))
        }
    }
}

pub(crate) async fn of_episode(txn: &DatabaseTransaction, episode: EpisodeId) -> Result<Vec<FollowUp>, StoreError> {
    let rows = follow_up::Entity::find()
        .filter(follow_up::Column::EpisodeId.eq(episode.as_uuid()))
        .order_by_asc(follow_up::Column::Day)
        .all(txn)
        .await
        .store()?;
    rows.into_iter().map(to_follow_up).collect()
}

pub(crate) async fn one(
    txn: &DatabaseTransaction,
    scope: &ClientScope,
    id: FollowUpId,
) -> Result<Option<FollowUp>, StoreError> {
    let row = follow_up::Entity::find()
        .filter(follow_up::Column::Id.eq(id.as_uuid()))
        .filter(scoped(scope))
        .one(txn)
        .await
        .store()?;
    row.map(to_follow_up).transpose()
}

pub(crate) async fn due(
    txn: &DatabaseTransaction,
    scope: &ClientScope,
    until: Date,
    limit: u64,
) -> Result<Vec<FollowUp>, StoreError> {
    let rows = follow_up::Entity::find()
        .filter(follow_up::Column::RecordedAt.is_null())
        .filter(follow_up::Column::DueOn.lte(fmt_date(until)))
        .filter(scoped(scope))
        .order_by_asc(follow_up::Column::DueOn)
        .limit(limit)
        .all(txn)
        .await
        .store()?;
    rows.into_iter().map(to_follow_up).collect()
}

pub(crate) async fn record(
    txn: &DatabaseTransaction,
    id: FollowUpId,
    o: &FollowUpOutcome,
    by: UserId,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    // Recorded once: a second answer for the same call is refused rather than overwriting it.
    let r = follow_up::Entity::update_many()
        .col_expr(follow_up::Column::Reached, o.reached.into())
        .col_expr(follow_up::Column::SubstanceUse, o.substance_use.map(|s| s.code().to_owned()).into())
        .col_expr(follow_up::Column::WorkingOrInSchool, o.working_or_in_school.into())
        .col_expr(follow_up::Column::ReadmittedElsewhere, o.readmitted_elsewhere.into())
        .col_expr(follow_up::Column::Notes, o.notes.clone().into())
        .col_expr(follow_up::Column::RecordedAt, Some(unix_ms(at)).into())
        .col_expr(follow_up::Column::RecordedBy, Some(by.as_uuid()).into())
        .filter(follow_up::Column::Id.eq(id.as_uuid()))
        .filter(follow_up::Column::RecordedAt.is_null())
        .exec(txn)
        .await
        .store()?;
    Ok(r.rows_affected == 1)
}
