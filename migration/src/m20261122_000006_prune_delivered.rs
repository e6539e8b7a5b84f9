//! Delivered deliveries are no longer kept: the worker deletes a `delivery` row once the
//! receiver accepts it (the `activity` row stays). This removes the rows earlier versions left
//! behind, so the queue table holds only what is pending or given up.

use sea_orm_migration::prelude::*;

/// Deletes delivered rows.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DELETE FROM delivery WHERE status = 'delivered'")
            .await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // Nothing to restore: the rows only said that a delivery had been made.
        Ok(())
    }
}
