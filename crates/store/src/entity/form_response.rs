use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "form_responses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub episode_id: Option<Uuid>,
    pub placement_id: Option<Uuid>,
    pub form_url: String,
    pub form_version: String,
    pub instrument: Option<String>,
    pub answers: String,
    pub complete: bool,
    pub total: Option<i64>,
    pub band: Option<String>,
    pub band_label: Option<String>,
    pub subscores: String,
    pub flags: String,
    pub mode: String,
    pub recorded_by: Uuid,
    pub authored_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
