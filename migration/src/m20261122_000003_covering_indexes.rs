//! Indexes that cover the member and outbox queries, so their cost does not grow with the
//! tables (measured by the growth benchmark: counting members read every row's `pending`).

use sea_orm_migration::prelude::*;

/// Adds covering indexes.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_community_follower_members")
                .table("community_follower")
                .col("community_id")
                .col("pending")
                .col("role")
                .col("person_id")
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_activity_community_public")
                .table("activity")
                .col("community_id")
                .col("public")
                .col("id")
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_activity_community_public")
                .table("activity")
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("idx_community_follower_members")
                .table("community_follower")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
