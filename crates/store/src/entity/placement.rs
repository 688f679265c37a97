use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "placements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub episode_id: Uuid,
    pub client_id: Uuid,
    pub position: i32,
    pub level_code: String,
    pub site_id: Uuid,
    pub bed_id: Option<Uuid>,
    pub start_on: String,
    pub planned_end_on: Option<String>,
    pub end_on: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
