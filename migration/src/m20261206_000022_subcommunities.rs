//! Sub-communities: a community may sit under a parent (national → regional, topic → working
//! group), named by the parent's ActivityPub id so that the relation reads the same for local
//! communities and remote ones, and may admit only members of its parent.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `community.parent_ap_id`, `community.parent_members_only` and the index that lists a
/// parent's sub-communities.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [
            text_null("parent_ap_id"),
            boolean("parent_members_only").default(false).take(),
        ] {
            m.alter_table(Table::alter().table("community").add_column(col).take())
                .await?;
        }
        m.create_index(
            Index::create()
                .name("idx_community_parent")
                .table("community")
                .col("parent_ap_id")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_community_parent")
                .table("community")
                .to_owned(),
        )
        .await?;
        for col in ["parent_ap_id", "parent_members_only"] {
            m.alter_table(Table::alter().table("community").drop_column(col).take())
                .await?;
        }
        Ok(())
    }
}
