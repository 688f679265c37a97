use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    /// ISO 8601 calendar date.
    pub date_of_birth: String,
    pub created_at: i64,
    pub mrn: Option<String>,
    pub preferred_name: Option<String>,
    pub pronouns: Option<String>,
    pub sex: Option<String>,
    pub phone: Option<String>,
    pub phone_digits: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub is_demo: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
