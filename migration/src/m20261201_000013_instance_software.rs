//! What software each remote server runs, read from its NodeInfo, so that Copse sends each
//! server the forms it reads: Mastodon and GoToSocial answer an `Announce` of an activity with
//! 400 and fetch its inner id for nothing, and Lemmy reads an event only when a person holds it.

use sea_orm_migration::prelude::*;

/// Adds `instance.software` and `instance.software_checked_at`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("instance")
                .add_column(ColumnDef::new("software").string_len(64).null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("instance")
                .add_column(
                    ColumnDef::new("software_checked_at")
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["software_checked_at", "software"] {
            m.alter_table(
                Table::alter()
                    .table("instance")
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
