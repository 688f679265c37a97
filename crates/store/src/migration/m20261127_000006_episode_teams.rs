//! Care teams per episode. `care_team_members` stays the per-client projection that access
//! control reads; `episode_team_members` says who was on the team of which stay.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000006_episode_teams"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("episode_team_members")
                .col(uuid("episode_id"))
                .col(uuid("client_id"))
                .col(uuid("user_id"))
                .col(string("team_role"))
                .col(big_integer("since"))
                .primary_key(Index::create().col("episode_id").col("user_id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_episode_team_episode")
                        .from("episode_team_members", "episode_id")
                        .to("episodes", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_episode_team_user")
                        .from("episode_team_members", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_episode_team_client_user")
                .table("episode_team_members")
                .col("client_id")
                .col("user_id")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
