//! First attempts of a fan-out are queued as batches: one `delivery_batch` row holds up to 256
//! target inboxes of one activity, instead of one `delivery` row each. A post to 20,000
//! followers wrote, claimed and deleted 20,000 rows; on PostgreSQL that row traffic took a
//! third of the cores the signing needed. What a batch fails to deliver becomes ordinary
//! `delivery` rows, which keep their own retries.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the `delivery_batch` table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("delivery_batch")
                .col(big_pk_auto("id"))
                .col(big_integer("activity_id"))
                .col(text("targets"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("locked_until"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("delivery_batch", "activity_id")
                        .to("activity", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // The claim query: oldest first.
        m.create_index(
            Index::create()
                .name("idx_delivery_batch_due")
                .table("delivery_batch")
                .col("next_attempt_at")
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_delivery_batch_activity")
                .table("delivery_batch")
                .col("activity_id")
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("delivery_batch").take())
            .await
    }
}
