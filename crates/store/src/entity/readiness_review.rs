use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "readiness_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub episode_id: Uuid,
    pub placement_id: Uuid,
    pub level: String,
    pub reviewed_on: String,
    pub reviewed_at: i64,
    pub reviewed_by: Uuid,
    pub ratings: String,
    pub evidence: String,
    pub recommended_level: String,
    pub reasons: String,
    pub rule_set_version: String,
    pub decision: String,
    pub decision_level: Option<String>,
    pub agrees: bool,
    pub disagreement_reason: Option<String>,
    pub note: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
