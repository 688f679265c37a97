//! Helpline inquiries and their follow-up tasks.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000005_inquiries"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("inquiries")
                .col(pk_uuid("id"))
                .col(big_integer("received_at"))
                .col(string("caller_name"))
                .col(string("caller_relationship"))
                .col(string("given_name"))
                .col(string("family_name"))
                .col(string_null("date_of_birth"))
                .col(string_null("phone"))
                .col(string_null("phone_digits"))
                .col(text_null("substances"))
                .col(string("urgency"))
                .col(string_null("insurance"))
                .col(boolean("withdrawal_risk"))
                .col(boolean("self_harm_thoughts"))
                .col(boolean("medical_conditions"))
                .col(boolean("prior_treatment"))
                .col(string_null("heard_about"))
                .col(string("stage"))
                .col(text_null("notes"))
                .col(uuid_null("client_id"))
                .col(uuid("taken_by"))
                .col(boolean("is_demo").default(false))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_inquiries_stage").table("inquiries").col("stage").col("received_at").to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("inquiry_tasks")
                .col(pk_uuid("id"))
                .col(uuid("inquiry_id"))
                .col(string("title"))
                .col(string("due_on"))
                .col(big_integer_null("done_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_inquiry_tasks_inquiry")
                        .from("inquiry_tasks", "inquiry_id")
                        .to("inquiries", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_inquiry_tasks_due").table("inquiry_tasks").col("done_at").col("due_on").to_owned(),
        )
        .await?;
        Ok(())
    }
}
