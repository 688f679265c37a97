use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_failures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `account` or `address`.
    pub key_kind: String,
    /// A keyed digest of what was typed or where it came from, never the value itself.
    pub key_hash: String,
    pub at: i64,
    /// On an `address` row: the digest of the account name tried from there.
    pub account_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
