//! Notifications written once and mailed as each person chooses: a key per notification that
//! makes a replayed activity notify nobody twice, each account's choice of mail (each
//! notification, a daily digest, or none), and an index for the mailer's queue (notifications
//! not yet mailed).
//!
//! Rows written before this migration get their own id as key, so none of them collide.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the key, the choice and the indexes.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("notification")
                .add_column(string_len("dedupe_key", 200).default("").take())
                .take(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "UPDATE notification SET dedupe_key = 'row:' || CAST(id AS TEXT), \
                 mailed_at = COALESCE(mailed_at, created_at)",
            )
            .await?;
        m.create_index(
            Index::create()
                .name("notification_person_dedupe_key")
                .table("notification")
                .col("person_id")
                .col("dedupe_key")
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("notification_mailed_at")
                .table("notification")
                .col("mailed_at")
                .col("id")
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("local_user")
                .add_column(string_len("email_notifications", 16).default("none").take())
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("local_user")
                .drop_column("email_notifications")
                .take(),
        )
        .await?;
        for name in ["notification_mailed_at", "notification_person_dedupe_key"] {
            m.drop_index(Index::drop().name(name).table("notification").to_owned())
                .await?;
        }
        m.alter_table(
            Table::alter()
                .table("notification")
                .drop_column("dedupe_key")
                .take(),
        )
        .await?;
        Ok(())
    }
}
