//! Events: meet-ups and workshops attached to a post, and who is going.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the `event` and `event_participant` tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

fn cascade(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("event")
                .col(big_integer("post_id").primary_key())
                .col(big_integer("community_id"))
                .col(timestamp_with_time_zone("starts_at"))
                .col(timestamp_with_time_zone("ends_at"))
                .col(string_len("timezone", 64))
                .col(text_null("place_name"))
                .col(text_null("street_address"))
                .col(text_null("locality"))
                .col(text_null("postcode"))
                .col(text_null("region"))
                .col(text_null("country"))
                .col(double_null("latitude"))
                .col(double_null("longitude"))
                .col(text_null("online_url"))
                .col(integer_null("capacity"))
                .col(string_len("join_mode", 16))
                .col(text_null("external_url"))
                .col(string_len("status", 16))
                .col(text_null("category"))
                .col(string_len_null("language", 16))
                .col(integer("sequence").default(0).take())
                .col(integer("participant_count").default(0).take())
                .col(integer_null("remaining_capacity"))
                .foreign_key(&mut cascade("event", "post_id", "post"))
                .foreign_key(&mut cascade("event", "community_id", "community"))
                .take(),
        )
        .await?;
        // Upcoming events of a community, and the reminder sweep across all of them.
        m.create_index(
            Index::create()
                .name("idx_event_community_start")
                .table("event")
                .col("community_id")
                .col("starts_at")
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_event_start")
                .table("event")
                .col("starts_at")
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("event_participant")
                .col(big_pk_auto("id"))
                .col(big_integer("event_id"))
                .col(big_integer("person_id"))
                .col(string_len("status", 16))
                .col(text_null("join_ap_id"))
                .col(text_null("message"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("reminded_at"))
                .foreign_key(&mut cascade("event_participant", "event_id", "post"))
                .foreign_key(&mut cascade("event_participant", "person_id", "person"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_event_participant")
                .table("event_participant")
                .col("event_id")
                .col("person_id")
                .unique()
                .take(),
        )
        .await?;
        // The waiting list in arrival order, and counts by status.
        m.create_index(
            Index::create()
                .name("idx_event_participant_status")
                .table("event_participant")
                .col("event_id")
                .col("status")
                .col("id")
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("event_participant").take())
            .await?;
        m.drop_table(Table::drop().table("event").take()).await
    }
}
