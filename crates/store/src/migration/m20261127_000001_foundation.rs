//! Accounts, sessions, sign-in throttling, clients and care teams, and the audit chain.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000001_foundation"
    }
}

fn index(name: &str, table: &str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table.to_owned());
    for c in cols {
        stmt.col(*c);
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("users")
                .col(pk_uuid("id"))
                .col(string_uniq("username"))
                .col(string("display_name"))
                .col(string("role"))
                .col(boolean("active"))
                .col(boolean("mfa_enabled"))
                .col(boolean("must_change_password"))
                .col(string("password_hash"))
                .col(blob_null("totp_secret"))
                .col(blob_null("totp_pending_secret"))
                .col(big_integer_null("totp_last_step"))
                .col(big_integer("created_at"))
                .col(big_integer("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sessions")
                .col(pk_uuid("id"))
                .col(string_uniq("token_hash"))
                .col(uuid("user_id"))
                .col(string("stage"))
                .col(string("csrf_token"))
                .col(big_integer("created_at"))
                .col(big_integer("last_seen_at"))
                .col(string_null("source"))
                .col(string_null("user_agent"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_sessions_user")
                        .from("sessions", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_sessions_user", "sessions", &["user_id"])).await?;
        m.create_index(index("ix_sessions_last_seen", "sessions", &["last_seen_at"])).await?;

        m.create_table(
            Table::create()
                .table("login_failures")
                .col(big_pk_auto("id"))
                .col(string("key_kind"))
                .col(string("key_hash"))
                .col(big_integer("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_login_failures_key", "login_failures", &["key_hash", "at"])).await?;

        m.create_table(
            Table::create()
                .table("clients")
                .col(pk_uuid("id"))
                .col(string("given_name"))
                .col(string("family_name"))
                .col(string("date_of_birth"))
                .col(big_integer("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_clients_family_name", "clients", &["family_name", "given_name"])).await?;

        m.create_table(
            Table::create()
                .table("care_team_members")
                .col(uuid("client_id"))
                .col(uuid("user_id"))
                .col(string("team_role"))
                .col(big_integer("since"))
                .primary_key(Index::create().col("client_id").col("user_id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_care_team_client")
                        .from("care_team_members", "client_id")
                        .to("clients", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_care_team_user")
                        .from("care_team_members", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_care_team_user", "care_team_members", &["user_id"])).await?;

        m.create_table(
            Table::create()
                .table("audit_events")
                .col(big_integer("seq").primary_key())
                .col(uuid_uniq("id"))
                .col(big_integer("occurred_at"))
                .col(uuid_null("actor_id"))
                .col(string_null("actor_role"))
                .col(string("action"))
                .col(string("outcome"))
                .col(uuid_null("client_id"))
                .col(string_null("subject"))
                .col(string_null("purpose"))
                .col(string_null("source"))
                .col(string_null("detail"))
                .col(blob("prev_hash"))
                .col(blob("hash"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_audit_occurred", "audit_events", &["occurred_at"])).await?;
        m.create_index(index("ix_audit_actor", "audit_events", &["actor_id", "seq"])).await?;
        m.create_index(index("ix_audit_client", "audit_events", &["client_id", "seq"])).await?;
        m.create_index(index("ix_audit_action", "audit_events", &["action", "seq"])).await?;

        m.create_table(
            Table::create()
                .table("audit_head")
                .col(integer("id").primary_key())
                .col(big_integer("seq"))
                .col(blob("hash"))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table("audit_head")
                .columns(["id", "seq", "hash"])
                .values_panic([1.into(), 0i64.into(), vec![0u8; 32].into()])
                .to_owned(),
        )
        .await?;

        // The log is append-only in the database itself, not just by convention in our code.
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                for (name, op) in [("audit_events_no_update", "UPDATE"), ("audit_events_no_delete", "DELETE")] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} BEFORE {op} ON audit_events \
                         BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
                    ))
                    .await?;
                }
            }
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE \
                     ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
                )
                .await?;
            }
            _ => return Err(DbErr::Custom("unsupported database backend".into())),
        }
        Ok(())
    }
}
