//! Measurement-based care: imported questionnaires, responses, safety alerts, readiness
//! reviews and client-mode hand-offs. Responses and reviews are written once and never
//! updated; an alert row changes exactly once, when it is acknowledged.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000007_measurement"
    }
}

fn fk(name: &str, from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from, col).to(to, "id").on_delete(ForeignKeyAction::Restrict).to_owned()
}

fn index(name: &str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(*c);
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("questionnaires")
                .col(pk_uuid("id"))
                .col(string("url"))
                .col(string("version"))
                .col(string("title"))
                .col(string_null("instrument"))
                .col(string("status"))
                .col(text("definition"))
                .col(text("form"))
                .col(uuid("imported_by"))
                .col(big_integer("imported_at"))
                .foreign_key(&mut fk("fk_questionnaires_user", "questionnaires", "imported_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ux_questionnaires_url_version", "questionnaires", &["url", "version"]).unique().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("form_responses")
                .col(pk_uuid("id"))
                .col(uuid("client_id"))
                .col(uuid_null("episode_id"))
                .col(uuid_null("placement_id"))
                .col(string("form_url"))
                .col(string("form_version"))
                .col(string_null("instrument"))
                .col(text("answers"))
                .col(boolean("complete"))
                .col(big_integer_null("total"))
                .col(string_null("band"))
                .col(string_null("band_label"))
                .col(text("subscores"))
                .col(text("flags"))
                .col(string("mode"))
                .col(uuid("recorded_by"))
                .col(big_integer("authored_at"))
                .foreign_key(&mut fk("fk_responses_client", "form_responses", "client_id", "clients"))
                .foreign_key(&mut fk("fk_responses_user", "form_responses", "recorded_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_responses_client_time", "form_responses", &["client_id", "authored_at"])).await?;
        m.create_index(index("ix_responses_placement", "form_responses", &["placement_id"])).await?;
        m.create_table(
            Table::create()
                .table("safety_alerts")
                .col(pk_uuid("id"))
                .col(uuid("client_id"))
                .col(uuid_null("response_id"))
                .col(string("kind"))
                .col(string("detail"))
                .col(big_integer("raised_at"))
                .col(big_integer_null("acknowledged_at"))
                .col(uuid_null("acknowledged_by"))
                .col(string_null("action_kind"))
                .col(text_null("action_text"))
                .foreign_key(&mut fk("fk_alerts_client", "safety_alerts", "client_id", "clients"))
                .foreign_key(&mut fk("fk_alerts_response", "safety_alerts", "response_id", "form_responses"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_alerts_open", "safety_alerts", &["acknowledged_at", "client_id"])).await?;
        m.create_index(index("ix_alerts_client", "safety_alerts", &["client_id", "raised_at"])).await?;
        m.create_table(
            Table::create()
                .table("readiness_reviews")
                .col(pk_uuid("id"))
                .col(uuid("client_id"))
                .col(uuid("episode_id"))
                .col(uuid("placement_id"))
                .col(string("level"))
                .col(string("reviewed_on"))
                .col(big_integer("reviewed_at"))
                .col(uuid("reviewed_by"))
                .col(text("ratings"))
                .col(text("evidence"))
                .col(string("recommended_level"))
                .col(text("reasons"))
                .col(string("rule_set_version"))
                .col(string("decision"))
                .col(string_null("decision_level"))
                .col(boolean("agrees"))
                .col(text_null("disagreement_reason"))
                .col(text("note"))
                .foreign_key(&mut fk("fk_reviews_client", "readiness_reviews", "client_id", "clients"))
                .foreign_key(&mut fk("fk_reviews_episode", "readiness_reviews", "episode_id", "episodes"))
                .foreign_key(&mut fk("fk_reviews_user", "readiness_reviews", "reviewed_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_reviews_placement", "readiness_reviews", &["placement_id", "reviewed_on"])).await?;
        m.create_index(index("ix_reviews_client", "readiness_reviews", &["client_id", "reviewed_at"])).await?;
        m.create_index(index("ix_reviews_time", "readiness_reviews", &["reviewed_at"])).await?;
        m.create_table(
            Table::create()
                .table("client_mode_handoffs")
                .col(pk_uuid("id"))
                .col(string("token_hash"))
                .col(string("csrf_token"))
                .col(uuid("client_id"))
                .col(string("form_url"))
                .col(string("form_version"))
                .col(uuid("created_by"))
                .col(big_integer("created_at"))
                .col(big_integer("expires_at"))
                .col(big_integer_null("used_at"))
                .foreign_key(&mut fk("fk_handoffs_client", "client_mode_handoffs", "client_id", "clients"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_handoffs_token", "client_mode_handoffs", &["token_hash"]).unique().to_owned()).await?;
        Ok(())
    }
}
