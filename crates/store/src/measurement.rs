//! Storage for questionnaires, responses, alerts, readiness reviews and client-mode hand-offs.
//! Structured parts (answers, ratings, evidence) are JSON text: they are read and written
//! whole, never queried inside.

use std::collections::BTreeMap;

use app::ports::{FormStatus, Handoff, StoredForm};
use app::{StoreError, from_unix_ms, unix_ms};
use domain::access::ClientScope;
use domain::forms::{FormAnswers, FormDefinition};
use domain::ids::{AlertId, ClientId, EpisodeId, FormId, PlacementId, ResponseId, ReviewId, UserId};
use domain::instruments::{Instrument, SafetyFlag};
use domain::level::LevelCode;
use domain::measurement::{Acknowledgement, Alert, AlertAction, AlertKind, FormResponse, ResponseMode};
use domain::review::{Decision, DimensionRating, Evidence, ReadinessReview};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::continuum::{fmt_date, parse_date};
use crate::entity::{client_mode_handoff, form_response, questionnaire, readiness_review, safety_alert};
use crate::error::OrStore;

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|_| StoreError::Corrupt("value does not serialize"))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str, what: &'static str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|_| StoreError::Corrupt(what))
}

fn instrument(code: Option<&str>) -> Result<Option<Instrument>, StoreError> {
    code.map(|c| Instrument::parse(c).ok_or(StoreError::Corrupt("instrument"))).transpose()
}

pub(crate) async fn forms(txn: &DatabaseTransaction) -> Result<Vec<StoredForm>, StoreError> {
    let rows = questionnaire::Entity::find().order_by_asc(questionnaire::Column::ImportedAt).all(txn).await.store()?;
    rows.into_iter()
        .map(|m| {
            Ok(StoredForm {
                id: FormId::from_uuid(m.id),
                form: from_json::<FormDefinition>(&m.form, "questionnaire form")?,
                status: FormStatus::parse(&m.status).ok_or(StoreError::Corrupt("questionnaire status"))?,
                definition: m.definition,
                imported_by: UserId::from_uuid(m.imported_by),
                imported_at: from_unix_ms(m.imported_at),
            })
        })
        .collect()
}

pub(crate) async fn insert_form(txn: &DatabaseTransaction, f: &StoredForm) -> Result<(), StoreError> {
    let row = questionnaire::ActiveModel {
        id: Set(f.id.as_uuid()),
        url: Set(f.form.url.clone()),
        version: Set(f.form.version.clone()),
        title: Set(f.form.title.clone()),
        instrument: Set(f.form.instrument.map(|i| i.code().to_owned())),
        status: Set(f.status.code().to_owned()),
        definition: Set(f.definition.clone()),
        form: Set(json(&f.form)?),
        imported_by: Set(f.imported_by.as_uuid()),
        imported_at: Set(unix_ms(f.imported_at)),
    };
    questionnaire::Entity::insert(row).exec(txn).await.store().map(|_| ())
}

pub(crate) async fn retire_forms(txn: &DatabaseTransaction, url: &str, keep: Option<&str>) -> Result<u64, StoreError> {
    let mut q = questionnaire::Entity::update_many()
        .col_expr(questionnaire::Column::Status, FormStatus::Retired.code().into())
        .filter(questionnaire::Column::Url.eq(url))
        .filter(questionnaire::Column::Status.eq(FormStatus::Active.code()));
    if let Some(v) = keep {
        q = q.filter(questionnaire::Column::Version.ne(v));
    }
    Ok(q.exec(txn).await.store()?.rows_affected)
}

pub(crate) async fn retire_form(txn: &DatabaseTransaction, id: FormId) -> Result<bool, StoreError> {
    let r = questionnaire::Entity::update_many()
        .col_expr(questionnaire::Column::Status, FormStatus::Retired.code().into())
        .filter(questionnaire::Column::Id.eq(id.as_uuid()))
        .filter(questionnaire::Column::Status.eq(FormStatus::Active.code()))
        .exec(txn)
        .await
        .store()?;
    Ok(r.rows_affected == 1)
}

pub(crate) async fn insert_response(txn: &DatabaseTransaction, r: &FormResponse) -> Result<(), StoreError> {
    let flags: Vec<&str> = r.flags.iter().map(|f| f.code()).collect();
    let row = form_response::ActiveModel {
        id: Set(r.id.as_uuid()),
        client_id: Set(r.client.as_uuid()),
        episode_id: Set(r.episode.map(|e| e.as_uuid())),
        placement_id: Set(r.placement.map(|p| p.as_uuid())),
        form_url: Set(r.form_url.clone()),
        form_version: Set(r.form_version.clone()),
        instrument: Set(r.instrument.map(|i| i.code().to_owned())),
        answers: Set(json(&r.answers)?),
        complete: Set(r.complete),
        total: Set(r.total),
        band: Set(r.band.clone()),
        band_label: Set(r.band_label.clone()),
        subscores: Set(json(&r.subscores)?),
        flags: Set(json(&flags)?),
        mode: Set(r.mode.code().to_owned()),
        recorded_by: Set(r.recorded_by.as_uuid()),
        authored_at: Set(unix_ms(r.authored_at)),
    };
    form_response::Entity::insert(row).exec(txn).await.store().map(|_| ())
}

fn to_response(m: form_response::Model) -> Result<FormResponse, StoreError> {
    let flags: Vec<String> = from_json(&m.flags, "response flags")?;
    Ok(FormResponse {
        id: ResponseId::from_uuid(m.id),
        client: ClientId::from_uuid(m.client_id),
        episode: m.episode_id.map(EpisodeId::from_uuid),
        placement: m.placement_id.map(PlacementId::from_uuid),
        form_url: m.form_url,
        form_version: m.form_version,
        instrument: instrument(m.instrument.as_deref())?,
        answers: from_json::<FormAnswers>(&m.answers, "response answers")?,
        complete: m.complete,
        total: m.total,
        band: m.band,
        band_label: m.band_label,
        subscores: from_json(&m.subscores, "response subscores")?,
        flags: flags
            .iter()
            .map(|f| SafetyFlag::parse(f).ok_or(StoreError::Corrupt("response flag")))
            .collect::<Result<_, _>>()?,
        mode: ResponseMode::parse(&m.mode).ok_or(StoreError::Corrupt("response mode"))?,
        recorded_by: UserId::from_uuid(m.recorded_by),
        authored_at: from_unix_ms(m.authored_at),
    })
}

pub(crate) async fn response(txn: &DatabaseTransaction, id: ResponseId) -> Result<Option<FormResponse>, StoreError> {
    form_response::Entity::find_by_id(id.as_uuid()).one(txn).await.store()?.map(to_response).transpose()
}

pub(crate) async fn responses_of(txn: &DatabaseTransaction, client: ClientId) -> Result<Vec<FormResponse>, StoreError> {
    let rows = form_response::Entity::find()
        .filter(form_response::Column::ClientId.eq(client.as_uuid()))
        .order_by_asc(form_response::Column::AuthoredAt)
        .order_by_asc(form_response::Column::Id)
        .all(txn)
        .await
        .store()?;
    rows.into_iter().map(to_response).collect()
}

pub(crate) async fn responses_of_clients(
    txn: &DatabaseTransaction,
    clients: &[ClientId],
    since: OffsetDateTime,
) -> Result<Vec<FormResponse>, StoreError> {
    let mut out = Vec::new();
    // Chunked so the parameter count stays under SQLite's limit.
    for chunk in clients.chunks(500) {
        let rows = form_response::Entity::find()
            .filter(form_response::Column::ClientId.is_in(chunk.iter().map(|c| c.as_uuid())))
            .filter(form_response::Column::AuthoredAt.gte(unix_ms(since)))
            .all(txn)
            .await
            .store()?;
        for r in rows {
            out.push(to_response(r)?);
        }
    }
    out.sort_by_key(|r| (r.authored_at, r.id.as_uuid()));
    Ok(out)
}

pub(crate) async fn insert_alert(txn: &DatabaseTransaction, a: &Alert) -> Result<(), StoreError> {
    let row = safety_alert::ActiveModel {
        id: Set(a.id.as_uuid()),
        client_id: Set(a.client.as_uuid()),
        response_id: Set(a.response.map(|r| r.as_uuid())),
        kind: Set(a.kind.code()),
        detail: Set(a.detail.clone()),
        raised_at: Set(unix_ms(a.raised_at)),
        acknowledged_at: Set(a.acknowledgement.as_ref().map(|k| unix_ms(k.at))),
        acknowledged_by: Set(a.acknowledgement.as_ref().map(|k| k.by.as_uuid())),
        action_kind: Set(a.acknowledgement.as_ref().map(|k| k.action.code().to_owned())),
        action_text: Set(a.acknowledgement.as_ref().map(|k| k.text.clone())),
    };
    safety_alert::Entity::insert(row).exec(txn).await.store().map(|_| ())
}

fn to_alert(m: safety_alert::Model) -> Result<Alert, StoreError> {
    let acknowledgement = match (m.acknowledged_at, m.acknowledged_by, m.action_kind, m.action_text) {
        (Some(at), Some(by), Some(kind), Some(text)) => Some(Acknowledgement {
            by: UserId::from_uuid(by),
            at: from_unix_ms(at),
            action: AlertAction::parse(&kind).ok_or(StoreError::Corrupt("alert action"))?,
            text,
        }),
        (None, _, _, _) => None,
        _ => return Err(StoreError::Corrupt("alert acknowledgement")),
    };
    Ok(Alert {
        id: AlertId::from_uuid(m.id),
        client: ClientId::from_uuid(m.client_id),
        response: m.response_id.map(ResponseId::from_uuid),
        kind: AlertKind::parse(&m.kind).ok_or(StoreError::Corrupt("alert kind"))?,
        detail: m.detail,
        raised_at: from_unix_ms(m.raised_at),
        acknowledgement,
    })
}

pub(crate) async fn alert(txn: &DatabaseTransaction, id: AlertId) -> Result<Option<Alert>, StoreError> {
    safety_alert::Entity::find_by_id(id.as_uuid()).one(txn).await.store()?.map(to_alert).transpose()
}

pub(crate) async fn alerts(
    txn: &DatabaseTransaction,
    scope: &ClientScope,
    client: Option<ClientId>,
    open_only: bool,
) -> Result<Vec<Alert>, StoreError> {
    let mut cond = Condition::all();
    if let ClientScope::Only(ids) = scope {
        cond = cond.add(safety_alert::Column::ClientId.is_in(ids.iter().map(|c| c.as_uuid())));
    }
    if let Some(c) = client {
        cond = cond.add(safety_alert::Column::ClientId.eq(c.as_uuid()));
    }
    if open_only {
        cond = cond.add(safety_alert::Column::AcknowledgedAt.is_null());
    }
    let rows = safety_alert::Entity::find()
        .filter(cond)
        .order_by_desc(safety_alert::Column::RaisedAt)
        .all(txn)
        .await
        .store()?;
    rows.into_iter().map(to_alert).collect()
}

pub(crate) async fn acknowledge(
    txn: &DatabaseTransaction,
    id: AlertId,
    ack: &Acknowledgement,
) -> Result<bool, StoreError> {
    let r = safety_alert::Entity::update_many()
        .col_expr(safety_alert::Column::AcknowledgedAt, Some(unix_ms(ack.at)).into())
        .col_expr(safety_alert::Column::AcknowledgedBy, Some(ack.by.as_uuid()).into())
        .col_expr(safety_alert::Column::ActionKind, Some(ack.action.code().to_owned()).into())
        .col_expr(safety_alert::Column::ActionText, Some(ack.text.clone()).into())
        .filter(safety_alert::Column::Id.eq(id.as_uuid()))
        .filter(safety_alert::Column::AcknowledgedAt.is_null())
        .exec(txn)
        .await
        .store()?;
    Ok(r.rows_affected == 1)
}

pub(crate) async fn insert_review(txn: &DatabaseTransaction, r: &ReadinessReview) -> Result<(), StoreError> {
    let row = readiness_review::ActiveModel {
        id: Set(r.id.as_uuid()),
        client_id: Set(r.client.as_uuid()),
        episode_id: Set(r.episode.as_uuid()),
        placement_id: Set(r.placement.as_uuid()),
        level: Set(r.level.as_str().to_owned()),
        reviewed_on: Set(fmt_date(r.reviewed_on)),
        reviewed_at: Set(unix_ms(r.reviewed_at)),
        reviewed_by: Set(r.reviewed_by.as_uuid()),
        ratings: Set(json(&r.ratings)?),
        evidence: Set(json(&r.evidence)?),
        recommended_level: Set(r.recommended_level.as_str().to_owned()),
        reasons: Set(json(&r.reasons)?),
        rule_set_version: Set(r.rule_set_version.clone()),
        decision: Set(r.decision.code().to_owned()),
        decision_level: Set(r.decision_level.as_ref().map(|l| l.as_str().to_owned())),
        agrees: Set(r.agrees),
        disagreement_reason: Set(r.disagreement_reason.clone()),
        note: Set(r.note.clone()),
    };
    readiness_review::Entity::insert(row).exec(txn).await.store().map(|_| ())
}

fn to_review(m: readiness_review::Model) -> Result<ReadinessReview, StoreError> {
    Ok(ReadinessReview {
        id: ReviewId::from_uuid(m.id),
        client: ClientId::from_uuid(m.client_id),
        episode: EpisodeId::from_uuid(m.episode_id),
        placement: PlacementId::from_uuid(m.placement_id),
        level: LevelCode::from_stored(m.level),
        reviewed_on: parse_date(&m.reviewed_on)?,
        reviewed_at: from_unix_ms(m.reviewed_at),
        reviewed_by: UserId::from_uuid(m.reviewed_by),
        ratings: from_json::<Vec<DimensionRating>>(&m.ratings, "review ratings")?,
        evidence: from_json::<Evidence>(&m.evidence, "review evidence")?,
        recommended_level: LevelCode::from_stored(m.recommended_level),
        reasons: from_json(&m.reasons, "review reasons")?,
        rule_set_version: m.rule_set_version,
        decision: Decision::parse(&m.decision).ok_or(StoreError::Corrupt("review decision"))?,
        decision_level: m.decision_level.map(LevelCode::from_stored),
        agrees: m.agrees,
        disagreement_reason: m.disagreement_reason,
        note: m.note,
    })
}

pub(crate) async fn reviews_of(
    txn: &DatabaseTransaction,
    client: ClientId,
) -> Result<Vec<ReadinessReview>, StoreError> {
    let rows = readiness_review::Entity::find()
        .filter(readiness_review::Column::ClientId.eq(client.as_uuid()))
        .order_by_desc(readiness_review::Column::ReviewedAt)
        .all(txn)
        .await
        .store()?;
    rows.into_iter().map(to_review).collect()
}

pub(crate) async fn last_reviews(
    txn: &DatabaseTransaction,
    placements: &[PlacementId],
) -> Result<BTreeMap<PlacementId, Date>, StoreError> {
    let mut out = BTreeMap::new();
    for chunk in placements.chunks(500) {
        let rows: Vec<(Uuid, String)> = readiness_review::Entity::find()
            .select_only()
            .column(readiness_review::Column::PlacementId)
            .column(readiness_review::Column::ReviewedOn)
            .filter(readiness_review::Column::PlacementId.is_in(chunk.iter().map(|p| p.as_uuid())))
            .into_tuple()
            .all(txn)
            .await
            .store()?;
        for (p, on) in rows {
            let on = parse_date(&on)?;
            let e = out.entry(PlacementId::from_uuid(p)).or_insert(on);
            if on > *e {
                *e = on;
            }
        }
    }
    Ok(out)
}

pub(crate) async fn reviews_between(
    txn: &DatabaseTransaction,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<ReadinessReview>, StoreError> {
    let rows = readiness_review::Entity::find()
        .filter(readiness_review::Column::ReviewedAt.gte(unix_ms(from)))
        .filter(readiness_review::Column::ReviewedAt.lt(unix_ms(to)))
        .order_by_asc(readiness_review::Column::ReviewedAt)
        .all(txn)
        .await
        .store()?;
    rows.into_iter().map(to_review).collect()
}

pub(crate) async fn insert_handoff(txn: &DatabaseTransaction, h: &Handoff) -> Result<(), StoreError> {
    let row = client_mode_handoff::ActiveModel {
        id: Set(h.id),
        token_hash: Set(h.token_hash.clone()),
        csrf_token: Set(h.csrf_token.clone()),
        client_id: Set(h.client.as_uuid()),
        form_url: Set(h.form_url.clone()),
        form_version: Set(h.form_version.clone()),
        created_by: Set(h.created_by.as_uuid()),
        created_at: Set(unix_ms(h.created_at)),
        expires_at: Set(unix_ms(h.expires_at)),
        used_at: Set(h.used_at.map(unix_ms)),
    };
    client_mode_handoff::Entity::insert(row).exec(txn).await.store().map(|_| ())
}

pub(crate) async fn handoff_by_token(txn: &DatabaseTransaction, hash: &str) -> Result<Option<Handoff>, StoreError> {
    let row = client_mode_handoff::Entity::find()
        .filter(client_mode_handoff::Column::TokenHash.eq(hash))
        .one(txn)
        .await
        .store()?;
    Ok(row.map(|m| Handoff {
        id: m.id,
        token_hash: m.token_hash,
        csrf_token: m.csrf_token,
        client: ClientId::from_uuid(m.client_id),
        form_url: m.form_url,
        form_version: m.form_version,
        created_by: UserId::from_uuid(m.created_by),
        created_at: from_unix_ms(m.created_at),
        expires_at: from_unix_ms(m.expires_at),
        used_at: m.used_at.map(from_unix_ms),
    }))
}

pub(crate) async fn use_handoff(txn: &DatabaseTransaction, id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError> {
    let r = client_mode_handoff::Entity::update_many()
        .col_expr(client_mode_handoff::Column::UsedAt, Some(unix_ms(at)).into())
        .filter(client_mode_handoff::Column::Id.eq(id))
        .filter(client_mode_handoff::Column::UsedAt.is_null())
        .exec(txn)
        .await
        .store()?;
    Ok(r.rows_affected == 1)
}
