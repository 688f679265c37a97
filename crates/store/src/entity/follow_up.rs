use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "follow_ups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub episode_id: Uuid,
    pub client_id: Uuid,
    pub day: i32,
    pub due_on: String,
    pub reached: Option<bool>,
    pub substance_use: Option<String>,
    pub working_or_in_school: Option<bool>,
    pub readmitted_elsewhere: Option<bool>,
    pub notes: Option<String>,
    pub recorded_at: Option<i64>,
    pub recorded_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
