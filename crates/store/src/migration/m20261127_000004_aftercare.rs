//! Aftercare plans and the follow-up contacts scheduled at discharge.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000004_aftercare"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("aftercare_plans")
                .col(uuid("episode_id").primary_key())
                .col(text_null("referrals"))
                .col(text_null("sober_living"))
                .col(text_null("meetings"))
                .col(text_null("medication"))
                .col(text_null("appointments"))
                .col(big_integer("updated_at"))
                .col(uuid("updated_by"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_aftercare_episode")
                        .from("aftercare_plans", "episode_id")
                        .to("episodes", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("follow_ups")
                .col(pk_uuid("id"))
                .col(uuid("episode_id"))
                .col(uuid("client_id"))
                .col(integer("day"))
                .col(string("due_on"))
                .col(boolean_null("reached"))
                .col(string_null("substance_use"))
                .col(boolean_null("working_or_in_school"))
                .col(boolean_null("readmitted_elsewhere"))
                .col(text_null("notes"))
                .col(big_integer_null("recorded_at"))
                .col(uuid_null("recorded_by"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_follow_ups_episode")
                        .from("follow_ups", "episode_id")
                        .to("episodes", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_follow_ups_episode_day")
                .table("follow_ups")
                .col("episode_id")
                .col("day")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_follow_ups_due").table("follow_ups").col("recorded_at").col("due_on").to_owned(),
        )
        .await?;
        Ok(())
    }
}
