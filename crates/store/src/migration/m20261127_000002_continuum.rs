//! Sites, rooms and beds; episodes of care, their placements and the decisions that moved them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000002_continuum"
    }
}

fn fk(name: &str, from: (&str, &str), to: (&str, &str)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0.to_owned(), from.1.to_owned())
        .to(to.0.to_owned(), to.1.to_owned())
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
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
                .table("sites")
                .col(pk_uuid("id"))
                .col(string_uniq("name"))
                .col(string("time_zone"))
                .col(boolean("active"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("rooms")
                .col(pk_uuid("id"))
                .col(uuid("site_id"))
                .col(string("name"))
                .col(integer("capacity"))
                .foreign_key(&mut fk("fk_rooms_site", ("rooms", "site_id"), ("sites", "id")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_rooms_site_name", "rooms", &["site_id", "name"]).unique().to_owned()).await?;
        m.create_table(
            Table::create()
                .table("beds")
                .col(pk_uuid("id"))
                .col(uuid("room_id"))
                .col(uuid("site_id"))
                .col(string("label"))
                .col(boolean("active"))
                .foreign_key(&mut fk("fk_beds_room", ("beds", "room_id"), ("rooms", "id")))
                .foreign_key(&mut fk("fk_beds_site", ("beds", "site_id"), ("sites", "id")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_beds_room_label", "beds", &["room_id", "label"]).unique().to_owned()).await?;

        m.create_table(
            Table::create()
                .table("episodes")
                .col(pk_uuid("id"))
                .col(uuid("client_id"))
                .col(string("admitted_on"))
                .col(string_null("discharged_on"))
                .col(string_null("discharge_reason"))
                .col(uuid_null("previous_episode_id"))
                .col(string("catalogue"))
                .col(big_integer("created_at"))
                .foreign_key(&mut fk("fk_episodes_client", ("episodes", "client_id"), ("clients", "id")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_episodes_client", "episodes", &["client_id", "admitted_on"])).await?;
        m.create_index(index("ix_episodes_open", "episodes", &["discharged_on"])).await?;

        m.create_table(
            Table::create()
                .table("placements")
                .col(pk_uuid("id"))
                .col(uuid("episode_id"))
                .col(uuid("client_id"))
                .col(integer("position"))
                .col(string("level_code"))
                .col(uuid("site_id"))
                .col(uuid_null("bed_id"))
                .col(string("start_on"))
                .col(string_null("planned_end_on"))
                .col(string_null("end_on"))
                .foreign_key(&mut fk("fk_placements_episode", ("placements", "episode_id"), ("episodes", "id")))
                .foreign_key(&mut fk("fk_placements_site", ("placements", "site_id"), ("sites", "id")))
                .foreign_key(&mut fk("fk_placements_bed", ("placements", "bed_id"), ("beds", "id")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ux_placements_episode_position", "placements", &["episode_id", "position"]).unique().to_owned(),
        )
        .await?;
        m.create_index(index("ix_placements_open", "placements", &["end_on", "site_id"])).await?;
        m.create_index(index("ix_placements_bed", "placements", &["bed_id", "end_on"])).await?;

        m.create_table(
            Table::create()
                .table("episode_events")
                .col(pk_uuid("id"))
                .col(uuid("episode_id"))
                .col(string("kind"))
                .col(string("on_date"))
                .col(big_integer("decided_at"))
                .col(uuid("decided_by"))
                .col(text("reason"))
                .col(string_null("from_level"))
                .col(string_null("to_level"))
                .col(string_null("planned_end_on"))
                .foreign_key(&mut fk("fk_episode_events_episode", ("episode_events", "episode_id"), ("episodes", "id")))
                .foreign_key(&mut fk("fk_episode_events_user", ("episode_events", "decided_by"), ("users", "id")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_episode_events_episode", "episode_events", &["episode_id", "decided_at"])).await?;
        Ok(())
    }
}
