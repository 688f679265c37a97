//! The client record: MRN and demographics, name trigrams for typo-tolerant search, contacts,
//! payer coverage, and center settings (the MRN sequence).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000003_client_record"
    }
}

fn index(name: &str, table: &str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table.to_owned());
    for c in cols {
        stmt.col(*c);
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE takes one change at a time.
        for col in [
            string_null("mrn"),
            string_null("preferred_name"),
            string_null("pronouns"),
            string_null("sex"),
            string_null("phone"),
            string_null("phone_digits"),
            string_null("email"),
            string_null("address"),
            boolean("is_demo").default(false).to_owned(),
        ] {
            m.alter_table(Table::alter().table("clients").add_column(col).to_owned()).await?;
        }
        m.create_index(index("ux_clients_mrn", "clients", &["mrn"]).unique().to_owned()).await?;
        m.create_index(index("ix_clients_dob", "clients", &["date_of_birth"])).await?;
        m.create_index(index("ix_clients_phone", "clients", &["phone_digits"])).await?;

        m.create_table(
            Table::create()
                .table("client_trigrams")
                .col(uuid("client_id"))
                .col(string("trigram"))
                .primary_key(Index::create().col("trigram").col("client_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_client_trigrams_client", "client_trigrams", &["client_id"])).await?;

        m.create_table(
            Table::create()
                .table("client_contacts")
                .col(pk_uuid("id"))
                .col(uuid("client_id"))
                .col(string("name"))
                .col(string("relationship"))
                .col(string_null("phone"))
                .col(string_null("email"))
                .col(boolean("emergency"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_client_contacts_client")
                        .from("client_contacts", "client_id")
                        .to("clients", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_client_contacts_client", "client_contacts", &["client_id"])).await?;

        m.create_table(
            Table::create()
                .table("client_coverages")
                .col(pk_uuid("id"))
                .col(uuid("client_id"))
                .col(string("payer"))
                .col(string("member_id"))
                .col(string_null("group_number"))
                .col(string("priority"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_client_coverages_client")
                        .from("client_coverages", "client_id")
                        .to("clients", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_client_coverages_client", "client_coverages", &["client_id"])).await?;

        m.create_table(
            Table::create().table("settings").col(string("key").primary_key()).col(text("value")).to_owned(),
        )
        .await?;
        Ok(())
    }
}
