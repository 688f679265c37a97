//! The IOP program: tracks and their weekly templates, closures, sessions with their roster,
//! attendance (and its amendments once the session note is signed), enrolments, availability,
//! plan requirements, outreach tasks and calendar feeds.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000008_iop"
    }
}

fn fk(name: &str, from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from, col).to(to, "id").on_delete(ForeignKeyAction::Restrict).to_owned()
}

fn index(name: &str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(*c);
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("iop_tracks")
                .col(pk_uuid("id"))
                .col(uuid("site_id"))
                .col(string("name"))
                .col(integer("group_limit"))
                .col(string("active_from"))
                .col(string_null("active_until"))
                .col(big_integer("created_at"))
                .foreign_key(&mut fk("fk_tracks_site", "iop_tracks", "site_id", "sites"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("iop_templates")
                .col(pk_uuid("id"))
                .col(uuid("track_id"))
                .col(integer("weekday"))
                .col(string("start"))
                .col(integer("minutes"))
                .col(string("modality"))
                .col(string("title"))
                .col(uuid("facilitator_id"))
                .col(uuid_null("room_id"))
                .col(boolean("retired"))
                .foreign_key(&mut fk("fk_templates_track", "iop_templates", "track_id", "iop_tracks"))
                .foreign_key(&mut fk("fk_templates_user", "iop_templates", "facilitator_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("iop_closures")
                .col(pk_uuid("id"))
                .col(uuid("site_id"))
                .col(string("on_date"))
                .col(string("reason"))
                .foreign_key(&mut fk("fk_closures_site", "iop_closures", "site_id", "sites"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_closures_site_date", "iop_closures", &["site_id", "on_date"]).unique().to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table("iop_sessions")
                .col(pk_uuid("id"))
                .col(uuid("site_id"))
                .col(uuid_null("track_id"))
                .col(uuid_null("template_id"))
                .col(string("modality"))
                .col(string("title"))
                .col(string("on_date"))
                .col(string("start"))
                .col(integer("minutes"))
                .col(uuid("facilitator_id"))
                .col(uuid_null("substitute_id"))
                .col(uuid_null("room_id"))
                .col(integer("capacity"))
                .col(string("status"))
                .col(string_null("status_reason"))
                .col(text_null("note"))
                .col(big_integer_null("note_signed_at"))
                .col(uuid_null("note_signed_by"))
                .col(big_integer("created_at"))
                .foreign_key(&mut fk("fk_sessions_site", "iop_sessions", "site_id", "sites"))
                .foreign_key(&mut fk("fk_sessions_user", "iop_sessions", "facilitator_id", "users"))
                .to_owned(),
        )
        .await?;
        // Generating a week twice must not double its sessions.
        m.create_index(
            index("ux_sessions_template_date", "iop_sessions", &["template_id", "on_date"]).unique().to_owned(),
        )
        .await?;
        m.create_index(index("ix_sessions_date", "iop_sessions", &["on_date", "start"])).await?;
        m.create_table(
            Table::create()
                .table("iop_roster")
                .col(uuid("session_id"))
                .col(uuid("client_id"))
                .col(big_integer("added_at"))
                .col(uuid("added_by"))
                .primary_key(Index::create().col("session_id").col("client_id"))
                .foreign_key(&mut fk("fk_roster_session", "iop_roster", "session_id", "iop_sessions"))
                .foreign_key(&mut fk("fk_roster_client", "iop_roster", "client_id", "clients"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_roster_client", "iop_roster", &["client_id"])).await?;
        m.create_table(
            Table::create()
                .table("iop_attendance")
                .col(uuid("session_id"))
                .col(uuid("client_id"))
                .col(string("status"))
                .col(integer("minutes"))
                .col(uuid("recorded_by"))
                .col(big_integer("recorded_at"))
                .primary_key(Index::create().col("session_id").col("client_id"))
                .foreign_key(&mut fk("fk_attendance_session", "iop_attendance", "session_id", "iop_sessions"))
                .foreign_key(&mut fk("fk_attendance_client", "iop_attendance", "client_id", "clients"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_attendance_client", "iop_attendance", &["client_id"])).await?;
        m.create_table(
            Table::create()
                .table("iop_attendance_amendments")
                .col(pk_uuid("id"))
                .col(uuid("session_id"))
                .col(uuid("client_id"))
                .col(string("old_status"))
                .col(integer("old_minutes"))
                .col(string("new_status"))
                .col(integer("new_minutes"))
                .col(text("reason"))
                .col(uuid("amended_by"))
                .col(big_integer("amended_at"))
                .foreign_key(&mut fk("fk_amend_session", "iop_attendance_amendments", "session_id", "iop_sessions"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("iop_enrolments")
                .col(pk_uuid("id"))
                .col(uuid("client_id"))
                .col(uuid("episode_id"))
                .col(uuid("track_id"))
                .col(string("from_date"))
                .col(string_null("until_date"))
                .col(uuid("created_by"))
                .col(big_integer("created_at"))
                .foreign_key(&mut fk("fk_enrol_client", "iop_enrolments", "client_id", "clients"))
                .foreign_key(&mut fk("fk_enrol_episode", "iop_enrolments", "episode_id", "episodes"))
                .foreign_key(&mut fk("fk_enrol_track", "iop_enrolments", "track_id", "iop_tracks"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_enrol_client", "iop_enrolments", &["client_id", "from_date"])).await?;
        m.create_index(index("ix_enrol_track", "iop_enrolments", &["track_id"])).await?;
        m.create_table(
            Table::create()
                .table("iop_availability")
                .col(pk_uuid("id"))
                .col(uuid("client_id"))
                .col(integer("weekday"))
                .col(string("from_time"))
                .col(string("to_time"))
                .foreign_key(&mut fk("fk_avail_client", "iop_availability", "client_id", "clients"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_avail_client", "iop_availability", &["client_id"])).await?;
        m.create_table(
            Table::create()
                .table("iop_requirements")
                .col(uuid("client_id"))
                .col(string("modality"))
                .col(integer("sessions_per_week"))
                .primary_key(Index::create().col("client_id").col("modality"))
                .foreign_key(&mut fk("fk_req_client", "iop_requirements", "client_id", "clients"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("outreach_tasks")
                .col(pk_uuid("id"))
                .col(uuid("client_id"))
                .col(uuid_null("session_id"))
                .col(uuid_null("assigned_to"))
                .col(string("reason"))
                .col(string("due_on"))
                .col(big_integer("created_at"))
                .col(big_integer_null("done_at"))
                .col(uuid_null("done_by"))
                .col(text_null("outcome"))
                .foreign_key(&mut fk("fk_outreach_client", "outreach_tasks", "client_id", "clients"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_outreach_open", "outreach_tasks", &["done_at", "assigned_to"])).await?;
        m.create_index(
            index("ux_outreach_session_client", "outreach_tasks", &["session_id", "client_id"]).unique().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("calendar_feeds")
                .col(pk_uuid("id"))
                .col(string("token_hash"))
                .col(string("owner_kind"))
                .col(uuid("owner_id"))
                .col(uuid("created_by"))
                .col(big_integer("created_at"))
                .col(big_integer_null("revoked_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_feeds_token", "calendar_feeds", &["token_hash"]).unique().to_owned()).await?;
        Ok(())
    }
}
