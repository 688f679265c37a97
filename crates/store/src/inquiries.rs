//! Storage for inquiries and their tasks.

use app::{StoreError, from_unix_ms, unix_ms};
use domain::ids::{ClientId, InquiryId, TaskId, UserId};
use domain::inquiry::{Inquiry, PreScreen, Stage, Task, Urgency};
use domain::search::phone_digits;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use time::{Date, OffsetDateTime};

use crate::continuum::{fmt_date, parse_date};
use crate::entity::{inquiry, inquiry_task};
use crate::error::OrStore;

fn to_inquiry(m: inquiry::Model) -> Result<Inquiry, StoreError> {
    Ok(Inquiry {
        id: InquiryId::from_uuid(m.id),
        received_at: from_unix_ms(m.received_at),
        caller_name: m.caller_name,
        caller_relationship: m.caller_relationship,
        given_name: m.given_name,
        family_name: m.family_name,
        date_of_birth: m.date_of_birth.as_deref().map(parse_date).transpose()?,
        phone: m.phone,
        substances: m.substances,
        urgency: Urgency::parse(&m.urgency).ok_or(StoreError::Corrupt("urgency"))?,
        insurance: m.insurance,
        screen: PreScreen {
            withdrawal_risk: m.withdrawal_risk,
            self_harm_thoughts: m.self_harm_thoughts,
            medical_conditions: m.medical_conditions,
            prior_treatment: m.prior_treatment,
        },
        heard_about: m.heard_about,
        stage: Stage::parse(&m.stage).ok_or(StoreError::Corrupt("inquiry stage"))?,
        notes: m.notes,
        client: m.client_id.map(ClientId::from_uuid),
        taken_by: UserId::from_uuid(m.taken_by),
    })
}

fn row(i: &Inquiry) -> inquiry::ActiveModel {
    inquiry::ActiveModel {
        id: Set(i.id.as_uuid()),
        received_at: Set(unix_ms(i.received_at)),
        caller_name: Set(i.caller_name.clone()),
        caller_relationship: Set(i.caller_relationship.clone()),
        given_name: Set(i.given_name.clone()),
        family_name: Set(i.family_name.clone()),
        date_of_birth: Set(i.date_of_birth.map(fmt_date)),
        phone: Set(i.phone.clone()),
        phone_digits: Set(i.phone.as_deref().map(phone_digits).filter(|d| !d.is_empty())),
        substances: Set(i.substances.clone()),
        urgency: Set(i.urgency.code().to_owned()),
        insurance: Set(i.insurance.clone()),
        withdrawal_risk: Set(i.screen.withdrawal_risk),
        self_harm_thoughts: Set(i.screen.self_harm_thoughts),
        medical_conditions: Set(i.screen.medical_conditions),
        prior_treatment: Set(i.screen.prior_treatment),
        heard_about: Set(i.heard_about.clone()),
        stage: Set(i.stage.code().to_owned()),
        notes: Set(i.notes.clone()),
        client_id: Set(i.client.map(|c| c.as_uuid())),
        taken_by: Set(i.taken_by.as_uuid()),
        is_demo: Set(false),
    }
}

pub(crate) async fn insert(txn: &DatabaseTransaction, i: &Inquiry, is_demo: bool) -> Result<(), StoreError> {
    let mut r = row(i);
    r.is_demo = Set(is_demo);
    inquiry::Entity::insert(r).exec(txn).await.store().map(|_| ())
}

pub(crate) async fn update(txn: &DatabaseTransaction, i: &Inquiry) -> Result<(), StoreError> {
    let mut r = row(i);
    r.is_demo = sea_orm::ActiveValue::NotSet;
    inquiry::Entity::update(r).exec(txn).await.store().map(|_| ())
}

pub(crate) async fn one(txn: &DatabaseTransaction, id: InquiryId) -> Result<Option<Inquiry>, StoreError> {
    inquiry::Entity::find_by_id(id.as_uuid()).one(txn).await.store()?.map(to_inquiry).transpose()
}

pub(crate) async fn list(
    txn: &DatabaseTransaction,
    since: OffsetDateTime,
    limit: u64,
) -> Result<Vec<Inquiry>, StoreError> {
    let rows = inquiry::Entity::find()
        .filter(
            Condition::any()
                .add(inquiry::Column::Stage.is_in(Stage::ALL.iter().filter(|s| s.is_open()).map(|s| s.code())))
                .add(inquiry::Column::ReceivedAt.gte(unix_ms(since))),
        )
        .order_by_desc(inquiry::Column::ReceivedAt)
        .limit(limit)
        .all(txn)
        .await
        .store()?;
    rows.into_iter().map(to_inquiry).collect()
}

/// Open inquiries that look like the same person: same date of birth or same phone.
pub(crate) async fn similar(
    txn: &DatabaseTransaction,
    dob: Option<Date>,
    phone: Option<&str>,
    except: InquiryId,
) -> Result<Vec<Inquiry>, StoreError> {
    let mut any = Condition::any();
    let mut used = false;
    if let Some(d) = dob {
        any = any.add(inquiry::Column::DateOfBirth.eq(fmt_date(d)));
        used = true;
    }
    if let Some(p) = phone.map(phone_digits).filter(|p| p.len() >= 7) {
        any = any.add(inquiry::Column::PhoneDigits.eq(p));
        used = true;
    }
    if !used {
        return Ok(Vec::new());
    }
    let rows = inquiry::Entity::find()
        .filter(any)
        .filter(inquiry::Column::Id.ne(except.as_uuid()))
        .limit(50)
        .all(txn)
        .await
        .store()?;
    rows.into_iter().map(to_inquiry).collect()
}

fn to_task(m: inquiry_task::Model) -> Result<Task, StoreError> {
    Ok(Task {
        id: TaskId::from_uuid(m.id),
        inquiry: InquiryId::from_uuid(m.inquiry_id),
        title: m.title,
        due_on: parse_date(&m.due_on)?,
        done_at: m.done_at.map(from_unix_ms),
    })
}

pub(crate) async fn tasks(
    txn: &DatabaseTransaction,
    inquiry_id: Option<InquiryId>,
    open_only: bool,
) -> Result<Vec<Task>, StoreError> {
    let mut q = inquiry_task::Entity::find();
    if let Some(i) = inquiry_id {
        q = q.filter(inquiry_task::Column::InquiryId.eq(i.as_uuid()));
    }
    if open_only {
        q = q.filter(inquiry_task::Column::DoneAt.is_null());
    }
    let rows = q.order_by_asc(inquiry_task::Column::DueOn).limit(500).all(txn).await.store()?;
    rows.into_iter().map(to_task).collect()
}

pub(crate) async fn insert_task(txn: &DatabaseTransaction, t: &Task) -> Result<(), StoreError> {
    let r = inquiry_task::ActiveModel {
        id: Set(t.id.as_uuid()),
        inquiry_id: Set(t.inquiry.as_uuid()),
        title: Set(t.title.clone()),
        due_on: Set(fmt_date(t.due_on)),
        done_at: Set(t.done_at.map(unix_ms)),
    };
    inquiry_task::Entity::insert(r).exec(txn).await.store().map(|_| ())
}

pub(crate) async fn complete_task(
    txn: &DatabaseTransaction,
    id: TaskId,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let r = inquiry_task::Entity::update_many()
        .col_expr(inquiry_task::Column::DoneAt, Some(unix_ms(at)).into())
        .filter(inquiry_task::Column::Id.eq(id.as_uuid()))
        .filter(inquiry_task::Column::DoneAt.is_null())
        .exec(txn)
        .await
        .store()?;
    Ok(r.rows_affected == 1)
}
