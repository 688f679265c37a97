use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inquiries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub received_at: i64,
    pub caller_name: String,
    pub caller_relationship: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Option<String>,
    pub phone: Option<String>,
    pub phone_digits: Option<String>,
    pub substances: Option<String>,
    pub urgency: String,
    pub insurance: Option<String>,
    pub withdrawal_risk: bool,
    pub self_harm_thoughts: bool,
    pub medical_conditions: bool,
    pub prior_treatment: bool,
    pub heard_about: Option<String>,
    pub stage: String,
    pub notes: Option<String>,
    pub client_id: Option<Uuid>,
    pub taken_by: Uuid,
    pub is_demo: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
