//! Which account each failed sign-in from an address was for (as a keyed digest), so that an
//! address is throttled for trying many accounts, not for one person mistyping their own.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000010_throttle_accounts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("login_failures")
                .add_column(ColumnDef::new("account_hash").string().null())
                .to_owned(),
        )
        .await
    }
}
