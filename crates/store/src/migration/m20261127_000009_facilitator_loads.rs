//! The weekly load a facilitator may carry in the IOP program (client-assignments: each is a
//! progress note to write), set per staff member; staff without a row carry the default.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000009_facilitator_loads"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("iop_facilitator_loads")
                .col(pk_uuid("user_id"))
                .col(integer("max_load"))
                .col(big_integer("set_at"))
                .col(uuid("set_by"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_facilitator_load_user")
                        .from("iop_facilitator_loads", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await
    }
}
