use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "iop_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub site_id: Uuid,
    pub track_id: Option<Uuid>,
    pub template_id: Option<Uuid>,
    pub modality: String,
    pub title: String,
    pub on_date: String,
    pub start: String,
    pub minutes: i32,
    pub facilitator_id: Uuid,
    pub substitute_id: Option<Uuid>,
    pub room_id: Option<Uuid>,
    pub capacity: i32,
    pub status: String,
    pub status_reason: Option<String>,
    pub note: Option<String>,
    pub note_signed_at: Option<i64>,
    pub note_signed_by: Option<Uuid>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
