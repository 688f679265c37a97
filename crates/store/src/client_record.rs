//! Client records: demographics, MRN sequence, and the trigram index behind name search.

use std::collections::HashMap;

use app::ports::ClientQuery;
use app::{StoreError, unix_ms};
use domain::access::ClientScope;
use domain::client::{ClientRecord, Contact, Coverage, CoveragePriority, Demographics, Mrn, Sex};
use domain::ids::{ClientId, ContactId, CoverageId};
use domain::search::{phone_digits, trigrams};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::continuum::fmt_date;
use crate::entity::{client, client_contact, client_coverage, client_trigram, setting};
use crate::error::OrStore;

fn full_name(r: &ClientRecord) -> String {
    let mut name = format!("{} {}", r.client.given_name, r.client.family_name);
    if let Some(p) = &r.demographics.preferred_name {
        name.push(' ');
        name.push_str(p);
    }
    name
}

pub(crate) fn to_record(m: client::Model) -> Result<ClientRecord, StoreError> {
    let mrn = m.mrn.as_deref().map(Mrn::parse).transpose().map_err(|_| StoreError::Corrupt("mrn"))?;
    let demographics = Demographics {
        preferred_name: m.preferred_name.clone(),
        pronouns: m.pronouns.clone(),
        sex: m.sex.as_deref().and_then(Sex::parse),
        phone: m.phone.clone(),
        email: m.email.clone(),
        address: m.address.clone(),
    };
    let client = crate::tx::to_client(m)?;
    // Records from before MRNs existed show their id's first block instead of failing.
    let mrn = match mrn {
        Some(m) => m,
        None => Mrn::parse(&client.id.to_string()[..8]).map_err(|_| StoreError::Corrupt("mrn"))?,
    };
    Ok(ClientRecord { client, mrn, demographics })
}

async fn index_names(txn: &DatabaseTransaction, r: &ClientRecord) -> Result<(), StoreError> {
    client_trigram::Entity::delete_many()
        .filter(client_trigram::Column::ClientId.eq(r.client.id.as_uuid()))
        .exec(txn)
        .await
        .store()?;
    let rows: Vec<client_trigram::ActiveModel> = trigrams(&full_name(r))
        .into_iter()
        .map(|t| client_trigram::ActiveModel { trigram: Set(t), client_id: Set(r.client.id.as_uuid()) })
        .collect();
    if !rows.is_empty() {
        client_trigram::Entity::insert_many(rows).exec(txn).await.store()?;
    }
    Ok(())
}

fn columns(r: &ClientRecord) -> client::ActiveModel {
    let d = &r.demographics;
    client::ActiveModel {
        id: Set(r.client.id.as_uuid()),
        given_name: Set(r.client.given_name.as_str().to_owned()),
        family_name: Set(r.client.family_name.as_str().to_owned()),
        date_of_birth: Set(fmt_date(r.client.date_of_birth)),
        mrn: Set(Some(r.mrn.as_str().to_owned())),
        preferred_name: Set(d.preferred_name.clone()),
        pronouns: Set(d.pronouns.clone()),
        sex: Set(d.sex.map(|s| s.code().to_owned())),
        phone: Set(d.phone.clone()),
        phone_digits: Set(d.phone.as_deref().map(phone_digits).filter(|p| !p.is_empty())),
        email: Set(d.email.clone()),
        address: Set(d.address.clone()),
        ..Default::default()
    }
}

pub(crate) async fn insert(
    txn: &DatabaseTransaction,
    r: &ClientRecord,
    is_demo: bool,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut row = columns(r);
    row.created_at = Set(unix_ms(at));
    row.is_demo = Set(is_demo);
    client::Entity::insert(row).exec(txn).await.map(|_| ()).map_err(|e| match crate::error::map(e) {
        StoreError::Duplicate(_) => StoreError::Duplicate("mrn"),
        other => other,
    })?;
    index_names(txn, r).await
}

pub(crate) async fn update(txn: &DatabaseTransaction, r: &ClientRecord) -> Result<(), StoreError> {
    client::Entity::update(columns(r)).exec(txn).await.map(|_| ()).map_err(|e| match crate::error::map(e) {
        StoreError::Duplicate(_) => StoreError::Duplicate("mrn"),
        other => other,
    })?;
    index_names(txn, r).await
}

fn scoped(scope: &ClientScope, column: impl ColumnTrait) -> Condition {
    match scope {
        ClientScope::All => Condition::all(),
        ClientScope::Only(ids) => Condition::all().add(column.is_in(ids.iter().map(|c| c.as_uuid()))),
    }
}

pub(crate) async fn record(
    txn: &DatabaseTransaction,
    scope: &ClientScope,
    id: ClientId,
) -> Result<Option<ClientRecord>, StoreError> {
    let row = client::Entity::find()
        .filter(client::Column::Id.eq(id.as_uuid()))
        .filter(scoped(scope, client::Column::Id))
        .one(txn)
        .await
        .store()?;
    row.map(to_record).transpose()
}

pub(crate) async fn mrn_taken(txn: &DatabaseTransaction, mrn: &Mrn) -> Result<bool, StoreError> {
    Ok(client::Entity::find().filter(client::Column::Mrn.eq(mrn.as_str())).count(txn).await.store()? > 0)
}

pub(crate) async fn next_mrn_seq(txn: &DatabaseTransaction) -> Result<u64, StoreError> {
    const KEY: &str = "mrn_sequence";
    let current = setting::Entity::find_by_id(KEY.to_owned()).one(txn).await.store()?;
    let next = match current {
        Some(s) => s.value.parse::<u64>().map_err(|_| StoreError::Corrupt("mrn sequence"))? + 1,
        None => 1,
    };
    setting::Entity::insert(setting::ActiveModel { key: Set(KEY.to_owned()), value: Set(next.to_string()) })
        .on_conflict(OnConflict::column(setting::Column::Key).update_column(setting::Column::Value).to_owned())
        .exec(txn)
        .await
        .store()?;
    Ok(next)
}

pub(crate) async fn search(
    txn: &DatabaseTransaction,
    scope: &ClientScope,
    q: &ClientQuery,
    limit: u64,
) -> Result<Vec<ClientRecord>, StoreError> {
    let mut ids: Vec<Uuid> = Vec::new();
    // Exact identifiers first: they are what a person at the front desk reads off a card.
    let mut exact = Condition::any();
    let mut any_exact = false;
    if let Some(mrn) = &q.mrn {
        exact = exact.add(client::Column::Mrn.eq(mrn.as_str()));
        any_exact = true;
    }
    if let Some(dob) = q.date_of_birth {
        exact = exact.add(client::Column::DateOfBirth.eq(fmt_date(dob)));
        any_exact = true;
    }
    if let Some(p) = &q.phone_digits {
        exact = exact.add(client::Column::PhoneDigits.eq(p.as_str()));
        any_exact = true;
    }
    if any_exact {
        let found: Vec<Uuid> = client::Entity::find()
            .select_only()
            .column(client::Column::Id)
            .filter(exact)
            .filter(scoped(scope, client::Column::Id))
            .limit(limit)
            .into_tuple()
            .all(txn)
            .await
            .store()?;
        ids.extend(found);
    }
    if !q.trigrams.is_empty() {
        let hits: Vec<(Uuid, i64)> = client_trigram::Entity::find()
            .select_only()
            .column(client_trigram::Column::ClientId)
            .column_as(Expr::col(client_trigram::Column::Trigram).count(), "hits")
            .filter(client_trigram::Column::Trigram.is_in(q.trigrams.iter().cloned()))
            .filter(scoped(scope, client_trigram::Column::ClientId))
            .group_by(client_trigram::Column::ClientId)
            .order_by(Expr::col("hits"), Order::Desc)
            .limit(limit)
            .into_tuple()
            .all(txn)
            .await
            .store()?;
        ids.extend(hits.into_iter().map(|(id, _)| id));
    }
    let mut order: HashMap<Uuid, usize> = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        order.entry(*id).or_insert(i);
    }
    let rows = client::Entity::find().filter(client::Column::Id.is_in(order.keys().copied())).all(txn).await.store()?;
    let mut records: Vec<ClientRecord> = rows.into_iter().map(to_record).collect::<Result<_, _>>()?;
    records.sort_by_key(|r| order.get(&r.client.id.as_uuid()).copied().unwrap_or(usize::MAX));
    Ok(records)
}

pub(crate) async fn contacts(txn: &DatabaseTransaction, client_id: ClientId) -> Result<Vec<Contact>, StoreError> {
    let rows = client_contact::Entity::find()
        .filter(client_contact::Column::ClientId.eq(client_id.as_uuid()))
        .order_by_desc(client_contact::Column::Emergency)
        .order_by_asc(client_contact::Column::Name)
        .all(txn)
        .await
        .store()?;
    Ok(rows
        .into_iter()
        .map(|r| Contact {
            id: ContactId::from_uuid(r.id),
            name: r.name,
            relationship: r.relationship,
            phone: r.phone,
            email: r.email,
            emergency: r.emergency,
        })
        .collect())
}

pub(crate) async fn insert_contact(
    txn: &DatabaseTransaction,
    client_id: ClientId,
    c: &Contact,
) -> Result<(), StoreError> {
    if c.emergency {
        // One emergency contact at a time: the newest replaces the flag on the others.
        client_contact::Entity::update_many()
            .col_expr(client_contact::Column::Emergency, Expr::value(false))
            .filter(client_contact::Column::ClientId.eq(client_id.as_uuid()))
            .exec(txn)
            .await
            .store()?;
    }
    let row = client_contact::ActiveModel {
        id: Set(c.id.as_uuid()),
        client_id: Set(client_id.as_uuid()),
        name: Set(c.name.clone()),
        relationship: Set(c.relationship.clone()),
        phone: Set(c.phone.clone()),
        email: Set(c.email.clone()),
        emergency: Set(c.emergency),
    };
    client_contact::Entity::insert(row).exec(txn).await.store().map(|_| ())
}

pub(crate) async fn delete_contact(
    txn: &DatabaseTransaction,
    client_id: ClientId,
    id: ContactId,
) -> Result<bool, StoreError> {
    let r = client_contact::Entity::delete_many()
        .filter(client_contact::Column::Id.eq(id.as_uuid()))
        .filter(client_contact::Column::ClientId.eq(client_id.as_uuid()))
        .exec(txn)
        .await
        .store()?;
    Ok(r.rows_affected > 0)
}

/// Whose contact `id` is, if it exists: tells a probe with another client's id from a typo.
pub(crate) async fn contact_owner(txn: &DatabaseTransaction, id: ContactId) -> Result<Option<ClientId>, StoreError> {
    let row = client_contact::Entity::find_by_id(id.as_uuid()).one(txn).await.store()?;
    Ok(row.map(|r| ClientId::from_uuid(r.client_id)))
}

/// Whose coverage `id` is, if it exists.
pub(crate) async fn coverage_owner(txn: &DatabaseTransaction, id: CoverageId) -> Result<Option<ClientId>, StoreError> {
    let row = client_coverage::Entity::find_by_id(id.as_uuid()).one(txn).await.store()?;
    Ok(row.map(|r| ClientId::from_uuid(r.client_id)))
}

pub(crate) async fn coverages(txn: &DatabaseTransaction, client_id: ClientId) -> Result<Vec<Coverage>, StoreError> {
    let rows = client_coverage::Entity::find()
        .filter(client_coverage::Column::ClientId.eq(client_id.as_uuid()))
        .all(txn)
        .await
        .store()?;
    let mut out: Vec<Coverage> = rows
        .into_iter()
        .map(|r| {
            Ok(Coverage {
                id: CoverageId::from_uuid(r.id),
                payer: r.payer,
                member_id: r.member_id,
                group_number: r.group_number,
                priority: CoveragePriority::parse(&r.priority).ok_or(StoreError::Corrupt("coverage priority"))?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    out.sort_by_key(|c| c.priority);
    Ok(out)
}

pub(crate) async fn insert_coverage(
    txn: &DatabaseTransaction,
    client_id: ClientId,
    c: &Coverage,
) -> Result<(), StoreError> {
    let row = client_coverage::ActiveModel {
        id: Set(c.id.as_uuid()),
        client_id: Set(client_id.as_uuid()),
        payer: Set(c.payer.clone()),
        member_id: Set(c.member_id.clone()),
        group_number: Set(c.group_number.clone()),
        priority: Set(c.priority.code().to_owned()),
    };
    client_coverage::Entity::insert(row).exec(txn).await.store().map(|_| ())
}

pub(crate) async fn delete_coverage(
    txn: &DatabaseTransaction,
    client_id: ClientId,
    id: CoverageId,
) -> Result<bool, StoreError> {
    let r = client_coverage::Entity::delete_many()
        .filter(client_coverage::Column::Id.eq(id.as_uuid()))
        .filter(client_coverage::Column::ClientId.eq(client_id.as_uuid()))
        .exec(txn)
        .await
        .store()?;
    Ok(r.rows_affected > 0)
}

pub(crate) async fn count_real_records(txn: &DatabaseTransaction) -> Result<app::ports::RealRecords, StoreError> {
    use crate::entity::{inquiry, site, user};
    Ok(app::ports::RealRecords {
        users: user::Entity::find().count(txn).await.store()?,
        clients: client::Entity::find().filter(client::Column::IsDemo.eq(false)).count(txn).await.store()?,
        inquiries: inquiry::Entity::find().filter(inquiry::Column::IsDemo.eq(false)).count(txn).await.store()?,
        sites: site::Entity::find().count(txn).await.store()?,
    })
}

pub(crate) async fn setting_value(txn: &DatabaseTransaction, key: &str) -> Result<Option<String>, StoreError> {
    Ok(setting::Entity::find_by_id(key.to_owned()).one(txn).await.store()?.map(|s| s.value))
}

pub(crate) async fn set_setting(txn: &DatabaseTransaction, key: &str, value: &str) -> Result<(), StoreError> {
    setting::Entity::insert(setting::ActiveModel { key: Set(key.to_owned()), value: Set(value.to_owned()) })
        .on_conflict(OnConflict::column(setting::Column::Key).update_column(setting::Column::Value).to_owned())
        .exec(txn)
        .await
        .store()
        .map(|_| ())
}
