use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "iop_templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub track_id: Uuid,
    pub weekday: i32,
    pub start: String,
    pub minutes: i32,
    pub modality: String,
    pub title: String,
    pub facilitator_id: Uuid,
    pub room_id: Option<Uuid>,
    pub retired: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
