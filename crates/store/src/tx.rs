//! One unit of work over a SeaORM transaction: the port the use cases write through.

use std::collections::{BTreeMap, BTreeSet};

use app::ports::{AuditFilter, Credentials, SessionRecord, SessionStage, TeamMember, ThrottleKey};
use app::{StoreError, Tx, from_unix_ms, unix_ms};
use async_trait::async_trait;
use domain::access::ClientScope;
use domain::audit::{AuditEvent, ChainedEvent};
use domain::client::{Client, TeamRole};
use domain::ids::{AlertId, ClientId, PlacementId, ResponseId, SessionId, UserId};
use domain::measurement::{Acknowledgement, Alert, FormResponse};
use domain::review::ReadinessReview;
use domain::text::PersonName;
use domain::user::{User, Username};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionOptions, TransactionTrait,
};
use time::{Date, OffsetDateTime};

use crate::audit::AuditWriter;
use crate::entity::{audit_event, care_team_member, client, login_failure, session, user};
use crate::error::OrStore;
use crate::writer::WriterGuard;

pub(crate) struct SeaTx {
    /// Always present, except for the moment a refusal swaps it for a fresh one.
    txn: Option<DatabaseTransaction>,
    /// Held until commit or drop: SQLite's single writer slot in this process.
    guard: Option<WriterGuard>,
    /// Audit events wait here and join the chain just before commit, so the chain's head
    /// lock is always the last lock a transaction takes and is held for the shortest time.
    pending_audit: Vec<AuditEvent>,
    /// Where a refusal goes: a fresh transaction of the same kind, or the audit writer.
    opener: TxOpener,
}

/// What a unit of work needs to start over after a refusal.
#[derive(Clone)]
pub(crate) struct TxOpener {
    pub(crate) db: DatabaseConnection,
    pub(crate) options: TransactionOptions,
    pub(crate) audit: AuditWriter,
}

impl SeaTx {
    pub(crate) fn new(txn: DatabaseTransaction, guard: Option<WriterGuard>, opener: TxOpener) -> Self {
        Self { txn: Some(txn), guard, pending_audit: Vec::new(), opener }
    }

    fn txn(&self) -> Result<&DatabaseTransaction, StoreError> {
        self.txn.as_ref().ok_or(StoreError::Database("transaction already ended".into()))
    }
}

fn corrupt<T>(what: &'static str) -> impl FnOnce(T) -> StoreError {
    move |_| StoreError::Corrupt(what)
}

fn to_user(m: &user::Model) -> Result<User, StoreError> {
    Ok(User {
        id: UserId::from_uuid(m.id),
        username: Username::parse(&m.username).map_err(corrupt("username"))?,
        display_name: PersonName::parse(&m.display_name).map_err(corrupt("display name"))?,
        role: m.role.parse().map_err(corrupt("role"))?,
        active: m.active,
        mfa_enabled: m.mfa_enabled,
        must_change_password: m.must_change_password,
    })
}

fn to_credentials(m: user::Model) -> Result<Credentials, StoreError> {
    Ok(Credentials {
        user: to_user(&m)?,
        password_hash: m.password_hash,
        totp_secret: m.totp_secret,
        totp_last_step: m.totp_last_step,
        totp_pending_secret: m.totp_pending_secret,
    })
}

fn to_session(m: session::Model) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id: SessionId::from_uuid(m.id),
        token_hash: m.token_hash,
        user_id: UserId::from_uuid(m.user_id),
        stage: SessionStage::parse(&m.stage).ok_or(StoreError::Corrupt("session stage"))?,
        csrf_token: m.csrf_token,
        created_at: from_unix_ms(m.created_at),
        last_seen_at: from_unix_ms(m.last_seen_at),
        source: m.source,
        user_agent: m.user_agent,
    })
}

const DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

pub(crate) fn to_client(m: client::Model) -> Result<Client, StoreError> {
    Ok(Client {
        id: ClientId::from_uuid(m.id),
        given_name: PersonName::parse(&m.given_name).map_err(corrupt("given name"))?,
        family_name: PersonName::parse(&m.family_name).map_err(corrupt("family name"))?,
        date_of_birth: Date::parse(&m.date_of_birth, DATE).map_err(corrupt("date of birth"))?,
    })
}

fn throttle_parts<'a>(key: ThrottleKey<'a>) -> (&'static str, &'a str) {
    match key {
        ThrottleKey::Account(k) => ("account", k),
        ThrottleKey::Address(k) => ("address", k),
    }
}

/// The `WHERE` clause that keeps a client query inside the actor's reach.
fn scoped(scope: &ClientScope, column: client::Column) -> Condition {
    match scope {
        ClientScope::All => Condition::all(),
        ClientScope::Only(ids) => Condition::all().add(column.is_in(ids.iter().map(|c| c.as_uuid()))),
    }
}

#[async_trait]
impl Tx for SeaTx {
    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        let events = std::mem::take(&mut self.pending_audit);
        crate::audit::append(self.txn()?, events).await?;
        let txn = self.txn.take().ok_or(StoreError::Database("transaction already ended".into()))?;
        let result = txn.commit().await.store();
        drop(self.guard.take());
        result
    }

    async fn refuse(&mut self, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        self.pending_audit.clear();
        if let Some(txn) = self.txn.take() {
            txn.rollback().await.store()?;
        }
        match self.guard {
            // Holding SQLite's writer slot: the refusal is committed under it, in a
            // transaction of its own (the group-commit writer would wait for the slot).
            Some(_) => {
                let refusal = self.opener.db.begin_with_options(self.opener.options).await.store()?;
                crate::audit::append(&refusal, events).await?;
                refusal.commit().await.store()?;
            }
            // No slot held: the group-commit writer takes it like any other event.
            None => self.opener.audit.append(events).await?,
        }
        self.txn = Some(self.opener.db.begin_with_options(self.opener.options).await.store()?);
        Ok(())
    }

    async fn count_users(&mut self) -> Result<u64, StoreError> {
        user::Entity::find().count(self.txn()?).await.store()
    }

    async fn insert_user(&mut self, u: &User, password_hash: &str) -> Result<(), StoreError> {
        let now = unix_ms(OffsetDateTime::now_utc());
        let row = user::ActiveModel {
            id: Set(u.id.as_uuid()),
            username: Set(u.username.as_str().to_owned()),
            display_name: Set(u.display_name.as_str().to_owned()),
            role: Set(u.role.code().to_owned()),
            active: Set(u.active),
            mfa_enabled: Set(u.mfa_enabled),
            must_change_password: Set(u.must_change_password),
            password_hash: Set(password_hash.to_owned()),
            totp_secret: Set(None),
            totp_pending_secret: Set(None),
            totp_last_step: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        user::Entity::insert(row).exec(self.txn()?).await.map(|_| ()).map_err(|e| match crate::error::map(e) {
            StoreError::Duplicate(_) => StoreError::Duplicate("username"),
            other => other,
        })
    }

    async fn update_user(&mut self, u: &User) -> Result<(), StoreError> {
        let row = user::ActiveModel {
            id: Set(u.id.as_uuid()),
            display_name: Set(u.display_name.as_str().to_owned()),
            role: Set(u.role.code().to_owned()),
            active: Set(u.active),
            mfa_enabled: Set(u.mfa_enabled),
            must_change_password: Set(u.must_change_password),
            updated_at: Set(unix_ms(OffsetDateTime::now_utc())),
            ..Default::default()
        };
        user::Entity::update(row).exec(self.txn()?).await.store().map(|_| ())
    }

    async fn credentials_by_username(&mut self, name: &Username) -> Result<Option<Credentials>, StoreError> {
        let row =
            user::Entity::find().filter(user::Column::Username.eq(name.as_str())).one(self.txn()?).await.store()?;
        row.map(to_credentials).transpose()
    }

    async fn credentials_by_id(&mut self, id: UserId) -> Result<Option<Credentials>, StoreError> {
        let row = user::Entity::find_by_id(id.as_uuid()).one(self.txn()?).await.store()?;
        row.map(to_credentials).transpose()
    }

    async fn user_by_id(&mut self, id: UserId) -> Result<Option<User>, StoreError> {
        let row = user::Entity::find_by_id(id.as_uuid()).one(self.txn()?).await.store()?;
        row.as_ref().map(to_user).transpose()
    }

    async fn list_users(&mut self) -> Result<Vec<User>, StoreError> {
        let rows = user::Entity::find().order_by_asc(user::Column::Username).all(self.txn()?).await.store()?;
        rows.iter().map(to_user).collect()
    }

    async fn set_password(&mut self, id: UserId, hash: &str, must_change: bool) -> Result<(), StoreError> {
        let row = user::ActiveModel {
            id: Set(id.as_uuid()),
            password_hash: Set(hash.to_owned()),
            must_change_password: Set(must_change),
            updated_at: Set(unix_ms(OffsetDateTime::now_utc())),
            ..Default::default()
        };
        user::Entity::update(row).exec(self.txn()?).await.store().map(|_| ())
    }

    async fn set_totp(
        &mut self,
        id: UserId,
        secret: Option<&[u8]>,
        pending: Option<&[u8]>,
        last_step: Option<i64>,
    ) -> Result<(), StoreError> {
        let row = user::ActiveModel {
            id: Set(id.as_uuid()),
            totp_secret: Set(secret.map(<[u8]>::to_vec)),
            totp_pending_secret: Set(pending.map(<[u8]>::to_vec)),
            totp_last_step: Set(last_step),
            ..Default::default()
        };
        user::Entity::update(row).exec(self.txn()?).await.store().map(|_| ())
    }

    async fn advance_totp_step(&mut self, id: UserId, step: i64) -> Result<bool, StoreError> {
        // One conditional UPDATE: two requests racing with the same code cannot both win.
        let result = user::Entity::update_many()
            .col_expr(user::Column::TotpLastStep, Expr::value(step))
            .filter(user::Column::Id.eq(id.as_uuid()))
            .filter(Condition::any().add(user::Column::TotpLastStep.is_null()).add(user::Column::TotpLastStep.lt(step)))
            .exec(self.txn()?)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn insert_session(&mut self, s: &SessionRecord) -> Result<(), StoreError> {
        let row = session::ActiveModel {
            id: Set(s.id.as_uuid()),
            token_hash: Set(s.token_hash.clone()),
            user_id: Set(s.user_id.as_uuid()),
            stage: Set(s.stage.code().to_owned()),
            csrf_token: Set(s.csrf_token.clone()),
            created_at: Set(unix_ms(s.created_at)),
            last_seen_at: Set(unix_ms(s.last_seen_at)),
            source: Set(s.source.clone()),
            user_agent: Set(s.user_agent.clone()),
        };
        session::Entity::insert(row).exec(self.txn()?).await.store().map(|_| ())
    }

    async fn session_by_token_hash(&mut self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row =
            session::Entity::find().filter(session::Column::TokenHash.eq(token_hash)).one(self.txn()?).await.store()?;
        row.map(to_session).transpose()
    }

    async fn touch_session(&mut self, id: SessionId, at: OffsetDateTime) -> Result<(), StoreError> {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(unix_ms(at)))
            .filter(session::Column::Id.eq(id.as_uuid()))
            .exec(self.txn()?)
            .await
            .store()
            .map(|_| ())
    }

    async fn delete_session(&mut self, id: SessionId) -> Result<bool, StoreError> {
        let r = session::Entity::delete_by_id(id.as_uuid()).exec(self.txn()?).await.store()?;
        Ok(r.rows_affected > 0)
    }

    async fn delete_user_sessions(&mut self, user: UserId, keep: Option<SessionId>) -> Result<u64, StoreError> {
        let mut q = session::Entity::delete_many().filter(session::Column::UserId.eq(user.as_uuid()));
        if let Some(keep) = keep {
            q = q.filter(session::Column::Id.ne(keep.as_uuid()));
        }
        Ok(q.exec(self.txn()?).await.store()?.rows_affected)
    }

    async fn sessions_of(&mut self, user: UserId) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = session::Entity::find()
            .filter(session::Column::UserId.eq(user.as_uuid()))
            .all(self.txn()?)
            .await
            .store()?;
        rows.into_iter().map(to_session).collect()
    }

    async fn delete_sessions_idle_since(
        &mut self,
        before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let r = session::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(session::Column::LastSeenAt.lt(unix_ms(before)))
                    .add(session::Column::CreatedAt.lt(unix_ms(created_before))),
            )
            .exec(self.txn()?)
            .await
            .store()?;
        Ok(r.rows_affected)
    }

    async fn record_login_failure(
        &mut self,
        account: &str,
        address: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let row = |kind: &str, hash: &str, account_hash: Option<&str>| login_failure::ActiveModel {
            id: NotSet,
            key_kind: Set(kind.to_owned()),
            key_hash: Set(hash.to_owned()),
            at: Set(unix_ms(at)),
            account_hash: Set(account_hash.map(str::to_owned)),
        };
        login_failure::Entity::insert_many([row("account", account, None), row("address", address, Some(account))])
            .exec(self.txn()?)
            .await
            .store()
            .map(|_| ())
    }

    async fn address_failures_since(
        &mut self,
        address: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<(OffsetDateTime, String)>, StoreError> {
        let rows: Vec<(i64, Option<String>)> = login_failure::Entity::find()
            .select_only()
            .column(login_failure::Column::At)
            .column(login_failure::Column::AccountHash)
            .filter(login_failure::Column::KeyHash.eq(address))
            .filter(login_failure::Column::KeyKind.eq("address"))
            .filter(login_failure::Column::At.gte(unix_ms(since)))
            .into_tuple()
            .all(self.txn()?)
            .await
            .store()?;
        // Rows from before the account was kept each count as an account of their own.
        Ok(rows
            .into_iter()
            .enumerate()
            .map(|(i, (at, account))| (from_unix_ms(at), account.unwrap_or_else(|| format!("unknown-{i}"))))
            .collect())
    }

    async fn login_failures_since(
        &mut self,
        key: ThrottleKey<'_>,
        since: OffsetDateTime,
    ) -> Result<Vec<OffsetDateTime>, StoreError> {
        let (kind, hash) = throttle_parts(key);
        let rows: Vec<i64> = login_failure::Entity::find()
            .select_only()
            .column(login_failure::Column::At)
            .filter(login_failure::Column::KeyHash.eq(hash))
            .filter(login_failure::Column::KeyKind.eq(kind))
            .filter(login_failure::Column::At.gte(unix_ms(since)))
            .into_tuple()
            .all(self.txn()?)
            .await
            .store()?;
        Ok(rows.into_iter().map(from_unix_ms).collect())
    }

    async fn clear_login_failures(&mut self, key: ThrottleKey<'_>) -> Result<(), StoreError> {
        let (kind, hash) = throttle_parts(key);
        login_failure::Entity::delete_many()
            .filter(login_failure::Column::KeyHash.eq(hash))
            .filter(login_failure::Column::KeyKind.eq(kind))
            .exec(self.txn()?)
            .await
            .store()
            .map(|_| ())
    }

    async fn insert_client(
        &mut self,
        record: &domain::client::ClientRecord,
        is_demo: bool,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        crate::client_record::insert(self.txn()?, record, is_demo, at).await
    }

    async fn update_client(&mut self, record: &domain::client::ClientRecord) -> Result<(), StoreError> {
        crate::client_record::update(self.txn()?, record).await
    }

    async fn client_record(
        &mut self,
        scope: &ClientScope,
        id: ClientId,
    ) -> Result<Option<domain::client::ClientRecord>, StoreError> {
        crate::client_record::record(self.txn()?, scope, id).await
    }

    async fn mrn_taken(&mut self, mrn: &domain::client::Mrn) -> Result<bool, StoreError> {
        crate::client_record::mrn_taken(self.txn()?, mrn).await
    }

    async fn contacts(&mut self, client: ClientId) -> Result<Vec<domain::client::Contact>, StoreError> {
        crate::client_record::contacts(self.txn()?, client).await
    }

    async fn insert_contact(&mut self, client: ClientId, contact: &domain::client::Contact) -> Result<(), StoreError> {
        crate::client_record::insert_contact(self.txn()?, client, contact).await
    }

    async fn contact_owner(&mut self, id: domain::ids::ContactId) -> Result<Option<ClientId>, StoreError> {
        crate::client_record::contact_owner(self.txn()?, id).await
    }

    async fn coverage_owner(&mut self, id: domain::ids::CoverageId) -> Result<Option<ClientId>, StoreError> {
        crate::client_record::coverage_owner(self.txn()?, id).await
    }

    async fn delete_contact(&mut self, client: ClientId, id: domain::ids::ContactId) -> Result<bool, StoreError> {
        crate::client_record::delete_contact(self.txn()?, client, id).await
    }

    async fn coverages(&mut self, client: ClientId) -> Result<Vec<domain::client::Coverage>, StoreError> {
        crate::client_record::coverages(self.txn()?, client).await
    }

    async fn insert_coverage(
        &mut self,
        client: ClientId,
        coverage: &domain::client::Coverage,
    ) -> Result<(), StoreError> {
        crate::client_record::insert_coverage(self.txn()?, client, coverage).await
    }

    async fn delete_coverage(&mut self, client: ClientId, id: domain::ids::CoverageId) -> Result<bool, StoreError> {
        crate::client_record::delete_coverage(self.txn()?, client, id).await
    }

    async fn count_real_records(&mut self) -> Result<app::ports::RealRecords, StoreError> {
        crate::client_record::count_real_records(self.txn()?).await
    }

    async fn setting(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        crate::client_record::setting_value(self.txn()?, key).await
    }

    async fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        crate::client_record::set_setting(self.txn()?, key, value).await
    }

    async fn next_mrn_seq(&mut self) -> Result<u64, StoreError> {
        crate::client_record::next_mrn_seq(self.txn()?).await
    }

    async fn search_clients(
        &mut self,
        scope: &ClientScope,
        query: &app::ports::ClientQuery,
        limit: u64,
    ) -> Result<Vec<domain::client::ClientRecord>, StoreError> {
        crate::client_record::search(self.txn()?, scope, query, limit).await
    }

    async fn client(&mut self, scope: &ClientScope, id: ClientId) -> Result<Option<Client>, StoreError> {
        let row = client::Entity::find()
            .filter(client::Column::Id.eq(id.as_uuid()))
            .filter(scoped(scope, client::Column::Id))
            .one(self.txn()?)
            .await
            .store()?;
        row.map(to_client).transpose()
    }

    async fn clients(&mut self, scope: &ClientScope, limit: u64) -> Result<Vec<Client>, StoreError> {
        let rows = client::Entity::find()
            .filter(scoped(scope, client::Column::Id))
            .order_by_asc(client::Column::FamilyName)
            .order_by_asc(client::Column::GivenName)
            .limit(limit)
            .all(self.txn()?)
            .await
            .store()?;
        rows.into_iter().map(to_client).collect()
    }

    async fn care_team_clients(&mut self, user: UserId) -> Result<BTreeSet<ClientId>, StoreError> {
        let ids: Vec<uuid::Uuid> = care_team_member::Entity::find()
            .select_only()
            .column(care_team_member::Column::ClientId)
            .filter(care_team_member::Column::UserId.eq(user.as_uuid()))
            .into_tuple()
            .all(self.txn()?)
            .await
            .store()?;
        Ok(ids.into_iter().map(ClientId::from_uuid).collect())
    }

    async fn care_team(&mut self, client: ClientId) -> Result<Vec<TeamMember>, StoreError> {
        let members = care_team_member::Entity::find()
            .filter(care_team_member::Column::ClientId.eq(client.as_uuid()))
            .all(self.txn()?)
            .await
            .store()?;
        let ids: Vec<uuid::Uuid> = members.iter().map(|m| m.user_id).collect();
        let users = user::Entity::find().filter(user::Column::Id.is_in(ids)).all(self.txn()?).await.store()?;
        let mut team = Vec::with_capacity(members.len());
        for m in members {
            let name = users.iter().find(|u| u.id == m.user_id).map(|u| u.display_name.clone()).unwrap_or_default();
            team.push(TeamMember {
                user_id: UserId::from_uuid(m.user_id),
                display_name: name,
                team_role: TeamRole::parse(&m.team_role).ok_or(StoreError::Corrupt("team role"))?,
            });
        }
        team.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        Ok(team)
    }

    async fn add_team_member(
        &mut self,
        client: ClientId,
        user: UserId,
        role: TeamRole,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // Re-adding someone updates their team role rather than failing.
        care_team_member::Entity::delete_many()
            .filter(care_team_member::Column::ClientId.eq(client.as_uuid()))
            .filter(care_team_member::Column::UserId.eq(user.as_uuid()))
            .exec(self.txn()?)
            .await
            .store()?;
        let row = care_team_member::ActiveModel {
            client_id: Set(client.as_uuid()),
            user_id: Set(user.as_uuid()),
            team_role: Set(role.code().to_owned()),
            since: Set(unix_ms(at)),
        };
        care_team_member::Entity::insert(row).exec(self.txn()?).await.store().map(|_| ())
    }

    async fn remove_team_member(&mut self, client: ClientId, user: UserId) -> Result<bool, StoreError> {
        let r = care_team_member::Entity::delete_many()
            .filter(care_team_member::Column::ClientId.eq(client.as_uuid()))
            .filter(care_team_member::Column::UserId.eq(user.as_uuid()))
            .exec(self.txn()?)
            .await
            .store()?;
        Ok(r.rows_affected > 0)
    }

    async fn insert_site(&mut self, site: &domain::site::Site) -> Result<(), StoreError> {
        crate::continuum::insert_site(self.txn()?, site).await
    }

    async fn sites(&mut self) -> Result<Vec<app::ports::SiteView>, StoreError> {
        crate::continuum::sites(self.txn()?).await
    }

    async fn insert_room(
        &mut self,
        id: uuid::Uuid,
        site: domain::ids::SiteId,
        name: &str,
        capacity: u16,
    ) -> Result<(), StoreError> {
        crate::continuum::insert_room(self.txn()?, id, site, name, capacity).await
    }

    async fn room(&mut self, id: uuid::Uuid) -> Result<Option<(domain::ids::SiteId, u16, u64)>, StoreError> {
        crate::continuum::room(self.txn()?, id).await
    }

    async fn insert_bed(
        &mut self,
        id: domain::ids::BedId,
        room: uuid::Uuid,
        site: domain::ids::SiteId,
        label: &str,
    ) -> Result<(), StoreError> {
        crate::continuum::insert_bed(self.txn()?, id, room, site, label).await
    }

    async fn bed_taken(
        &mut self,
        bed: domain::ids::BedId,
        from: time::Date,
        except: domain::ids::EpisodeId,
    ) -> Result<bool, StoreError> {
        crate::continuum::bed_taken(self.txn()?, bed, from, except).await
    }

    async fn save_episode(
        &mut self,
        episode: &domain::episode::Episode,
        catalogue: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        crate::continuum::save_episode(self.txn()?, episode, catalogue, at).await
    }

    async fn episode(
        &mut self,
        scope: &ClientScope,
        id: domain::ids::EpisodeId,
    ) -> Result<Option<domain::episode::Episode>, StoreError> {
        crate::continuum::episode(self.txn()?, scope, id).await
    }

    async fn episodes_of(&mut self, client: ClientId) -> Result<Vec<domain::episode::Episode>, StoreError> {
        crate::continuum::episodes_of(self.txn()?, client).await
    }

    async fn episodes_of_clients(
        &mut self,
        clients: &[ClientId],
    ) -> Result<std::collections::BTreeMap<ClientId, Vec<domain::episode::Episode>>, StoreError> {
        crate::continuum::episodes_of_clients(self.txn()?, clients).await
    }

    async fn insert_episode_event(&mut self, event: &app::ports::EpisodeEvent) -> Result<(), StoreError> {
        crate::continuum::insert_episode_event(self.txn()?, event).await
    }

    async fn episode_events(
        &mut self,
        episode: domain::ids::EpisodeId,
    ) -> Result<Vec<app::ports::EpisodeEvent>, StoreError> {
        crate::continuum::episode_events(self.txn()?, episode).await
    }

    async fn census(&mut self, scope: &ClientScope) -> Result<Vec<app::ports::CensusRow>, StoreError> {
        crate::continuum::census(self.txn()?, scope).await
    }

    async fn aftercare_plan(
        &mut self,
        episode: domain::ids::EpisodeId,
    ) -> Result<Option<domain::aftercare::AftercarePlan>, StoreError> {
        crate::aftercare::plan(self.txn()?, episode).await
    }

    async fn save_aftercare_plan(
        &mut self,
        episode: domain::ids::EpisodeId,
        plan: &domain::aftercare::AftercarePlan,
        by: UserId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        crate::aftercare::save_plan(self.txn()?, episode, plan, by, at).await
    }

    async fn schedule_follow_ups(&mut self, items: &[app::ports::FollowUp]) -> Result<(), StoreError> {
        crate::aftercare::schedule(self.txn()?, items).await
    }

    async fn follow_ups_of(
        &mut self,
        episode: domain::ids::EpisodeId,
    ) -> Result<Vec<app::ports::FollowUp>, StoreError> {
        crate::aftercare::of_episode(self.txn()?, episode).await
    }

    async fn follow_up(
        &mut self,
        scope: &ClientScope,
        id: domain::ids::FollowUpId,
    ) -> Result<Option<app::ports::FollowUp>, StoreError> {
        crate::aftercare::one(self.txn()?, scope, id).await
    }

    async fn follow_ups_due(
        &mut self,
        scope: &ClientScope,
        until: time::Date,
        limit: u64,
    ) -> Result<Vec<app::ports::FollowUp>, StoreError> {
        crate::aftercare::due(self.txn()?, scope, until, limit).await
    }

    async fn record_follow_up(
        &mut self,
        id: domain::ids::FollowUpId,
        outcome: &domain::aftercare::FollowUpOutcome,
        by: UserId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        crate::aftercare::record(self.txn()?, id, outcome, by, at).await
    }

    async fn insert_inquiry(&mut self, inquiry: &domain::inquiry::Inquiry, is_demo: bool) -> Result<(), StoreError> {
        crate::inquiries::insert(self.txn()?, inquiry, is_demo).await
    }

    async fn update_inquiry(&mut self, inquiry: &domain::inquiry::Inquiry) -> Result<(), StoreError> {
        crate::inquiries::update(self.txn()?, inquiry).await
    }

    async fn inquiry(&mut self, id: domain::ids::InquiryId) -> Result<Option<domain::inquiry::Inquiry>, StoreError> {
        crate::inquiries::one(self.txn()?, id).await
    }

    async fn inquiries(
        &mut self,
        since: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<domain::inquiry::Inquiry>, StoreError> {
        crate::inquiries::list(self.txn()?, since, limit).await
    }

    async fn similar_inquiries(
        &mut self,
        dob: Option<time::Date>,
        phone: Option<&str>,
        except: domain::ids::InquiryId,
    ) -> Result<Vec<domain::inquiry::Inquiry>, StoreError> {
        crate::inquiries::similar(self.txn()?, dob, phone, except).await
    }

    async fn inquiry_tasks(
        &mut self,
        inquiry: Option<domain::ids::InquiryId>,
        open_only: bool,
    ) -> Result<Vec<domain::inquiry::Task>, StoreError> {
        crate::inquiries::tasks(self.txn()?, inquiry, open_only).await
    }

    async fn insert_inquiry_task(&mut self, task: &domain::inquiry::Task) -> Result<(), StoreError> {
        crate::inquiries::insert_task(self.txn()?, task).await
    }

    async fn complete_inquiry_task(&mut self, id: domain::ids::TaskId, at: OffsetDateTime) -> Result<bool, StoreError> {
        crate::inquiries::complete_task(self.txn()?, id, at).await
    }

    async fn episode_team(&mut self, episode: domain::ids::EpisodeId) -> Result<Vec<TeamMember>, StoreError> {
        crate::continuum::episode_team(self.txn()?, episode).await
    }

    async fn add_episode_team_member(
        &mut self,
        episode: domain::ids::EpisodeId,
        client: ClientId,
        user: UserId,
        role: TeamRole,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        crate::continuum::add_episode_team_member(self.txn()?, episode, client, user, role, at).await
    }

    async fn remove_episode_team_member(
        &mut self,
        episode: domain::ids::EpisodeId,
        user: UserId,
    ) -> Result<bool, StoreError> {
        crate::continuum::remove_episode_team_member(self.txn()?, episode, user).await
    }

    async fn on_any_episode_team(&mut self, client: ClientId, user: UserId) -> Result<bool, StoreError> {
        crate::continuum::on_any_episode_team(self.txn()?, client, user).await
    }

    async fn imported_forms(&mut self) -> Result<Vec<app::ports::StoredForm>, StoreError> {
        crate::measurement::forms(self.txn()?).await
    }

    async fn insert_form(&mut self, form: &app::ports::StoredForm) -> Result<(), StoreError> {
        crate::measurement::insert_form(self.txn()?, form).await
    }

    async fn retire_forms(&mut self, url: &str, keep: Option<&str>) -> Result<u64, StoreError> {
        crate::measurement::retire_forms(self.txn()?, url, keep).await
    }

    async fn retire_form(&mut self, id: domain::ids::FormId) -> Result<bool, StoreError> {
        crate::measurement::retire_form(self.txn()?, id).await
    }

    async fn insert_response(&mut self, response: &FormResponse) -> Result<(), StoreError> {
        crate::measurement::insert_response(self.txn()?, response).await
    }

    async fn response(&mut self, id: ResponseId) -> Result<Option<FormResponse>, StoreError> {
        crate::measurement::response(self.txn()?, id).await
    }

    async fn responses_of(&mut self, client: ClientId) -> Result<Vec<FormResponse>, StoreError> {
        crate::measurement::responses_of(self.txn()?, client).await
    }

    async fn responses_of_clients(
        &mut self,
        clients: &[ClientId],
        since: OffsetDateTime,
    ) -> Result<Vec<FormResponse>, StoreError> {
        crate::measurement::responses_of_clients(self.txn()?, clients, since).await
    }

    async fn insert_alert(&mut self, alert: &Alert) -> Result<(), StoreError> {
        crate::measurement::insert_alert(self.txn()?, alert).await
    }

    async fn alert(&mut self, id: AlertId) -> Result<Option<Alert>, StoreError> {
        crate::measurement::alert(self.txn()?, id).await
    }

    async fn alerts(
        &mut self,
        scope: &ClientScope,
        client: Option<ClientId>,
        open_only: bool,
    ) -> Result<Vec<Alert>, StoreError> {
        crate::measurement::alerts(self.txn()?, scope, client, open_only).await
    }

    async fn acknowledge_alert(&mut self, id: AlertId, ack: &Acknowledgement) -> Result<bool, StoreError> {
        crate::measurement::acknowledge(self.txn()?, id, ack).await
    }

    async fn insert_review(&mut self, review: &ReadinessReview) -> Result<(), StoreError> {
        crate::measurement::insert_review(self.txn()?, review).await
    }

    async fn reviews_of(&mut self, client: ClientId) -> Result<Vec<ReadinessReview>, StoreError> {
        crate::measurement::reviews_of(self.txn()?, client).await
    }

    async fn last_reviews(&mut self, placements: &[PlacementId]) -> Result<BTreeMap<PlacementId, Date>, StoreError> {
        crate::measurement::last_reviews(self.txn()?, placements).await
    }

    async fn reviews_between(
        &mut self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<ReadinessReview>, StoreError> {
        crate::measurement::reviews_between(self.txn()?, from, to).await
    }

    async fn insert_handoff(&mut self, handoff: &app::ports::Handoff) -> Result<(), StoreError> {
        crate::measurement::insert_handoff(self.txn()?, handoff).await
    }

    async fn handoff_by_token(&mut self, token_hash: &str) -> Result<Option<app::ports::Handoff>, StoreError> {
        crate::measurement::handoff_by_token(self.txn()?, token_hash).await
    }

    async fn use_handoff(&mut self, id: uuid::Uuid, at: OffsetDateTime) -> Result<bool, StoreError> {
        crate::measurement::use_handoff(self.txn()?, id, at).await
    }

    // IOP: program calendar (tracks, templates, closures, sessions, roster, enrolments)
    async fn lock_program_calendar(&mut self) -> Result<(), StoreError> {
        crate::iop_calendar::lock(self.txn()?).await
    }

    async fn tracks(&mut self) -> Result<Vec<app::ports::Track>, StoreError> {
        crate::iop_calendar::tracks(self.txn()?).await
    }

    async fn save_track(&mut self, track: &app::ports::Track, at: OffsetDateTime) -> Result<(), StoreError> {
        crate::iop_calendar::save_track(self.txn()?, track, at).await
    }

    async fn templates(
        &mut self,
        track: Option<domain::ids::TrackId>,
    ) -> Result<Vec<app::ports::TrackTemplate>, StoreError> {
        crate::iop_calendar::templates(self.txn()?, track).await
    }

    async fn save_template(&mut self, template: &app::ports::TrackTemplate) -> Result<(), StoreError> {
        crate::iop_calendar::save_template(self.txn()?, template).await
    }

    async fn closures(
        &mut self,
        site: Option<domain::ids::SiteId>,
        from: Date,
        to: Date,
    ) -> Result<Vec<app::ports::SiteClosure>, StoreError> {
        crate::iop_calendar::closures(self.txn()?, site, from, to).await
    }

    async fn insert_closure(&mut self, closure: &app::ports::SiteClosure) -> Result<(), StoreError> {
        crate::iop_calendar::insert_closure(self.txn()?, closure).await
    }

    async fn delete_closure(&mut self, id: uuid::Uuid) -> Result<bool, StoreError> {
        crate::iop_calendar::delete_closure(self.txn()?, id).await
    }

    async fn insert_program_session(&mut self, session: &app::ports::ProgramSession) -> Result<bool, StoreError> {
        crate::iop_calendar::insert_session(self.txn()?, session).await
    }

    async fn update_program_session(&mut self, session: &app::ports::ProgramSession) -> Result<(), StoreError> {
        crate::iop_calendar::update_session(self.txn()?, session).await
    }

    async fn program_session(
        &mut self,
        id: domain::ids::IopSessionId,
    ) -> Result<Option<app::ports::ProgramSession>, StoreError> {
        crate::iop_calendar::session(self.txn()?, id).await
    }

    async fn program_sessions(
        &mut self,
        filter: &app::ports::SessionFilter,
    ) -> Result<Vec<app::ports::ProgramSession>, StoreError> {
        crate::iop_calendar::sessions(self.txn()?, filter).await
    }

    async fn roster(
        &mut self,
        sessions: &[domain::ids::IopSessionId],
    ) -> Result<Vec<app::ports::RosterEntry>, StoreError> {
        crate::iop_calendar::roster(self.txn()?, sessions).await
    }

    async fn add_to_roster(&mut self, entry: &app::ports::RosterEntry) -> Result<bool, StoreError> {
        crate::iop_calendar::add_to_roster(self.txn()?, entry).await
    }

    async fn remove_from_roster(
        &mut self,
        session: domain::ids::IopSessionId,
        client: ClientId,
    ) -> Result<bool, StoreError> {
        crate::iop_calendar::remove_from_roster(self.txn()?, session, client).await
    }

    async fn clients_among(&mut self, scope: &ClientScope, ids: &[ClientId]) -> Result<Vec<Client>, StoreError> {
        crate::iop_calendar::clients_among(self.txn()?, scope, ids).await
    }

    async fn enrolments_of(&mut self, client: ClientId) -> Result<Vec<app::ports::TrackEnrolment>, StoreError> {
        crate::iop_calendar::enrolments(self.txn()?, Some(client), None).await
    }

    async fn track_enrolments(
        &mut self,
        track: domain::ids::TrackId,
    ) -> Result<Vec<app::ports::TrackEnrolment>, StoreError> {
        crate::iop_calendar::enrolments(self.txn()?, None, Some(track)).await
    }

    async fn insert_enrolment(&mut self, enrolment: &app::ports::TrackEnrolment) -> Result<(), StoreError> {
        crate::iop_calendar::insert_enrolment(self.txn()?, enrolment).await
    }

    async fn set_enrolment_until(
        &mut self,
        id: domain::ids::EnrolmentId,
        until: Option<Date>,
    ) -> Result<(), StoreError> {
        crate::iop_calendar::set_enrolment_until(self.txn()?, id, until).await
    }

    // IOP: attendance, outreach, availability, requirements, calendar feeds
    async fn attendance_session(
        &mut self,
        id: domain::ids::IopSessionId,
    ) -> Result<Option<app::ports::AttendanceSession>, StoreError> {
        crate::iop_attendance::session(self.txn()?, id).await
    }

    async fn attendance_roster(&mut self, session: domain::ids::IopSessionId) -> Result<Vec<ClientId>, StoreError> {
        crate::iop_attendance::roster(self.txn()?, session).await
    }

    async fn attendance_of(
        &mut self,
        session: domain::ids::IopSessionId,
    ) -> Result<Vec<app::ports::AttendanceRecord>, StoreError> {
        crate::iop_attendance::attendance_of(self.txn()?, session).await
    }

    async fn put_attendance(&mut self, record: &app::ports::AttendanceRecord) -> Result<(), StoreError> {
        crate::iop_attendance::put_attendance(self.txn()?, record).await
    }

    async fn insert_attendance_amendment(
        &mut self,
        amendment: &app::ports::AttendanceAmendment,
    ) -> Result<(), StoreError> {
        crate::iop_attendance::insert_amendment(self.txn()?, amendment).await
    }

    async fn attendance_amendments(
        &mut self,
        session: domain::ids::IopSessionId,
    ) -> Result<Vec<app::ports::AttendanceAmendment>, StoreError> {
        crate::iop_attendance::amendments(self.txn()?, session).await
    }

    async fn sign_session_note(
        &mut self,
        session: domain::ids::IopSessionId,
        note: &str,
        by: UserId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        crate::iop_attendance::sign_note(self.txn()?, session, note, by, at).await
    }

    async fn insert_outreach(&mut self, task: &app::ports::OutreachTask) -> Result<bool, StoreError> {
        crate::iop_attendance::insert_outreach(self.txn()?, task).await
    }

    async fn open_outreach(
        &mut self,
        scope: &ClientScope,
        assigned_to: Option<UserId>,
    ) -> Result<Vec<app::ports::OutreachTask>, StoreError> {
        crate::iop_attendance::open_outreach(self.txn()?, scope, assigned_to).await
    }

    async fn outreach(&mut self, id: uuid::Uuid) -> Result<Option<app::ports::OutreachTask>, StoreError> {
        crate::iop_attendance::outreach(self.txn()?, id).await
    }

    async fn complete_outreach(
        &mut self,
        id: uuid::Uuid,
        by: UserId,
        at: OffsetDateTime,
        outcome: &str,
    ) -> Result<bool, StoreError> {
        crate::iop_attendance::complete_outreach(self.txn()?, id, by, at, outcome).await
    }

    async fn program_days(
        &mut self,
        clients: &[ClientId],
        from: Date,
        to: Date,
    ) -> Result<Vec<app::ports::ProgramEntry>, StoreError> {
        crate::iop_attendance::program_days(self.txn()?, clients, from, to).await
    }

    async fn enrolment_windows(
        &mut self,
        clients: &[ClientId],
    ) -> Result<Vec<(ClientId, Date, Option<Date>)>, StoreError> {
        crate::iop_attendance::enrolment_windows(self.txn()?, clients).await
    }

    async fn enrolled_between(
        &mut self,
        scope: &ClientScope,
        from: Date,
        to: Date,
    ) -> Result<Vec<ClientId>, StoreError> {
        crate::iop_attendance::enrolled_between(self.txn()?, scope, from, to).await
    }

    async fn availability(&mut self, client: ClientId) -> Result<Vec<domain::iop::program::Window>, StoreError> {
        crate::iop_attendance::availability(self.txn()?, client).await
    }

    async fn availability_of(
        &mut self,
        clients: &[ClientId],
    ) -> Result<std::collections::BTreeMap<ClientId, Vec<domain::iop::program::Window>>, StoreError> {
        crate::iop_attendance::availability_of(self.txn()?, clients).await
    }

    async fn set_availability(
        &mut self,
        client: ClientId,
        windows: &[domain::iop::program::Window],
    ) -> Result<(), StoreError> {
        crate::iop_attendance::set_availability(self.txn()?, client, windows).await
    }

    async fn requirements(&mut self, client: ClientId) -> Result<Vec<(domain::iop::Modality, u16)>, StoreError> {
        crate::iop_attendance::requirements(self.txn()?, client).await
    }

    async fn requirements_of(
        &mut self,
        clients: &[ClientId],
    ) -> Result<std::collections::BTreeMap<ClientId, Vec<(domain::iop::Modality, u16)>>, StoreError> {
        crate::iop_attendance::requirements_of(self.txn()?, clients).await
    }

    async fn set_requirements(
        &mut self,
        client: ClientId,
        requirements: &[(domain::iop::Modality, u16)],
    ) -> Result<(), StoreError> {
        crate::iop_attendance::set_requirements(self.txn()?, client, requirements).await
    }

    async fn facilitator_loads(&mut self) -> Result<Vec<(UserId, u32)>, StoreError> {
        crate::iop_attendance::facilitator_loads(self.txn()?).await
    }

    async fn set_facilitator_load(
        &mut self,
        user: UserId,
        max_load: Option<u32>,
        at: OffsetDateTime,
        by: UserId,
    ) -> Result<(), StoreError> {
        crate::iop_attendance::set_facilitator_load(self.txn()?, user, max_load, at, by).await
    }

    async fn insert_calendar_feed(&mut self, feed: &app::ports::CalendarFeed) -> Result<(), StoreError> {
        crate::iop_feeds::insert(self.txn()?, feed).await
    }

    async fn calendar_feed(&mut self, id: uuid::Uuid) -> Result<Option<app::ports::CalendarFeed>, StoreError> {
        crate::iop_feeds::by_id(self.txn()?, id).await
    }

    async fn calendar_feed_by_token(
        &mut self,
        token_hash: &str,
    ) -> Result<Option<app::ports::CalendarFeed>, StoreError> {
        crate::iop_feeds::by_token(self.txn()?, token_hash).await
    }

    async fn calendar_feeds_of(
        &mut self,
        owner: app::ports::FeedOwner,
    ) -> Result<Vec<app::ports::CalendarFeed>, StoreError> {
        crate::iop_feeds::of(self.txn()?, owner).await
    }

    async fn revoke_calendar_feed(&mut self, id: uuid::Uuid, at: OffsetDateTime) -> Result<bool, StoreError> {
        crate::iop_feeds::revoke(self.txn()?, id, at).await
    }

    async fn append_audit(&mut self, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        self.pending_audit.extend(events);
        Ok(())
    }

    async fn audit_events(&mut self, f: &AuditFilter) -> Result<Vec<ChainedEvent>, StoreError> {
        let mut q = audit_event::Entity::find();
        if let Some(a) = f.actor {
            q = q.filter(audit_event::Column::ActorId.eq(a.as_uuid()));
        }
        if let Some(c) = f.client {
            q = q.filter(audit_event::Column::ClientId.eq(c.as_uuid()));
        }
        if let Some(action) = &f.action {
            q = q.filter(audit_event::Column::Action.eq(action.as_str()));
        }
        if let Some(from) = f.from_ms {
            q = q.filter(audit_event::Column::OccurredAt.gte(from));
        }
        if let Some(to) = f.to_ms {
            q = q.filter(audit_event::Column::OccurredAt.lt(to));
        }
        if let Some(before) = f.before_seq {
            q = q.filter(audit_event::Column::Seq.lt(before));
        }
        let rows = q.order_by_desc(audit_event::Column::Seq).limit(f.limit).all(self.txn()?).await.store()?;
        rows.into_iter().map(|r| crate::audit::from_row(r).ok_or(StoreError::Corrupt("audit row"))).collect()
    }
}
