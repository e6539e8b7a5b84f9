//! What members choose and what happens to people: a member's choice to be listed in the
//! directory (remote people follow their actor's `discoverable`), their agreement to a
//! community's code of conduct (with the version of the rules they agreed to), and people whose
//! accounts were deleted.
//!
//! Until now every member was listed, though nobody had been asked; they are all unlisted here,
//! and each chooses again. Going down cannot tell who had chosen, so it leaves them unlisted.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the columns and unlists everyone who never chose.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [
            boolean("discoverable").default(false).take(),
            timestamp_with_time_zone_null("deleted_at"),
        ] {
            m.alter_table(Table::alter().table("person").add_column(col).take())
                .await?;
        }
        m.alter_table(
            Table::alter()
                .table("community")
                .add_column(boolean("require_rules_agreement").default(false).take())
                .take(),
        )
        .await?;
        for col in [
            timestamp_with_time_zone_null("rules_agreed_at"),
            string_len_null("rules_version", 64),
        ] {
            m.alter_table(
                Table::alter()
                    .table("community_follower")
                    .add_column(col)
                    .take(),
            )
            .await?;
        }
        m.get_connection()
            .execute_unprepared("UPDATE community_follower SET listed = false")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ["rules_agreed_at", "rules_version"] {
            m.alter_table(
                Table::alter()
                    .table("community_follower")
                    .drop_column(col)
                    .take(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table("community")
                .drop_column("require_rules_agreement")
                .take(),
        )
        .await?;
        for col in ["discoverable", "deleted_at"] {
            m.alter_table(Table::alter().table("person").drop_column(col).take())
                .await?;
        }
        Ok(())
    }
}
