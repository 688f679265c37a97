//! Storage for calendar feeds: private iCalendar URLs of a staff member or a client, looked
//! up by the SHA-256 of their token.

use app::ports::{CalendarFeed, FeedOwner};
use app::{StoreError, from_unix_ms, unix_ms};
use domain::ids::{ClientId, UserId};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::entity::calendar_feed;
use crate::error::OrStore;

const STAFF: &str = "staff";
const CLIENT: &str = "client";

fn owner_parts(owner: FeedOwner) -> (&'static str, Uuid) {
    match owner {
        FeedOwner::Staff(u) => (STAFF, u.as_uuid()),
        FeedOwner::Client(c) => (CLIENT, c.as_uuid()),
    }
}

fn to_feed(m: calendar_feed::Model) -> Result<CalendarFeed, StoreError> {
    let owner = match m.owner_kind.as_str() {
        STAFF => FeedOwner::Staff(UserId::from_uuid(m.owner_id)),
        CLIENT => FeedOwner::Client(ClientId::from_uuid(m.owner_id)),
        _ => return Err(StoreError::Corrupt("calendar feed owner")),
    };
    Ok(CalendarFeed {
        id: m.id,
        token_hash: m.token_hash,
        owner,
        created_by: UserId::from_uuid(m.created_by),
        created_at: from_unix_ms(m.created_at),
        revoked_at: m.revoked_at.map(from_unix_ms),
    })
}

pub(crate) async fn insert(txn: &DatabaseTransaction, f: &CalendarFeed) -> Result<(), StoreError> {
    let (kind, owner) = owner_parts(f.owner);
    let row = calendar_feed::ActiveModel {
        id: Set(f.id),
        token_hash: Set(f.token_hash.clone()),
        owner_kind: Set(kind.to_owned()),
        owner_id: Set(owner),
        created_by: Set(f.created_by.as_uuid()),
        created_at: Set(unix_ms(f.created_at)),
        revoked_at: Set(f.revoked_at.map(unix_ms)),
    };
    calendar_feed::Entity::insert(row).exec_without_returning(txn).await.store().map(|_| ())
}

pub(crate) async fn by_id(txn: &DatabaseTransaction, id: Uuid) -> Result<Option<CalendarFeed>, StoreError> {
    calendar_feed::Entity::find_by_id(id).one(txn).await.store()?.map(to_feed).transpose()
}

pub(crate) async fn by_token(txn: &DatabaseTransaction, hash: &str) -> Result<Option<CalendarFeed>, StoreError> {
    calendar_feed::Entity::find()
        .filter(calendar_feed::Column::TokenHash.eq(hash))
        .one(txn)
        .await
        .store()?
        .map(to_feed)
        .transpose()
}

pub(crate) async fn of(txn: &DatabaseTransaction, owner: FeedOwner) -> Result<Vec<CalendarFeed>, StoreError> {
    let (kind, id) = owner_parts(owner);
    let rows = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::OwnerKind.eq(kind))
        .filter(calendar_feed::Column::OwnerId.eq(id))
        .order_by_asc(calendar_feed::Column::CreatedAt)
        .order_by_asc(calendar_feed::Column::Id)
        .all(txn)
        .await
        .store()?;
    rows.into_iter().map(to_feed).collect()
}

pub(crate) async fn revoke(txn: &DatabaseTransaction, id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError> {
    let r = calendar_feed::Entity::update_many()
        .col_expr(calendar_feed::Column::RevokedAt, Expr::value(Some(unix_ms(at))))
        .filter(calendar_feed::Column::Id.eq(id))
        .filter(calendar_feed::Column::RevokedAt.is_null())
        .exec(txn)
        .await
        .store()?;
    Ok(r.rows_affected == 1)
}
