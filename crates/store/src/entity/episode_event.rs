use sea_orm::entity::prelude::*;

/// A decision about an episode: who, when, why, from which level to which.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "episode_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub episode_id: Uuid,
    pub kind: String,
    pub on_date: String,
    pub decided_at: i64,
    pub decided_by: Uuid,
    pub reason: String,
    pub from_level: Option<String>,
    pub to_level: Option<String>,
    pub planned_end_on: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
