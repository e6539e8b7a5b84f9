//! Both forms of a topic (FEP-1b12 `Announce{Create{Note}}`, then the bare `Announce{Note}`) go
//! to an inbox from one batch, over one connection, in that order. A batch names the activities
//! each of its targets gets after its own (`then_activities`); a retry of a later form names the
//! activity it follows (`after_activity_id`) and waits while that one is still pending for the
//! same inbox, looked up by (activity_id, inbox).

use sea_orm_migration::prelude::*;

/// Adds `delivery_batch.then_activities`, `delivery.after_activity_id` and
/// `idx_delivery_activity_inbox`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("delivery_batch")
                .add_column(ColumnDef::new("then_activities").text().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("delivery")
                .add_column(ColumnDef::new("after_activity_id").big_integer().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_delivery_activity_inbox")
                .table("delivery")
                .col("activity_id")
                .col("inbox")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_delivery_activity_inbox")
                .table("delivery")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("delivery")
                .drop_column("after_activity_id")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("delivery_batch")
                .drop_column("then_activities")
                .to_owned(),
        )
        .await
    }
}
