//! Images people upload (avatars), kept in the database so that every server process of an
//! instance serves the same ones without a shared disk; and the markdown of a local person's
//! bio, so that they can edit it again.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the `media` table and `person.summary_source`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("person")
                .add_column(text_null("summary_source"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("media")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("key", 64))
                .col(big_integer("person_id"))
                .col(string_len("content_type", 32))
                .col(blob("bytes"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("media", "person_id")
                        .to("person", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("media_person_id")
                .table("media")
                .col("person_id")
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("media").take()).await?;
        m.alter_table(
            Table::alter()
                .table("person")
                .drop_column("summary_source")
                .take(),
        )
        .await
    }
}
