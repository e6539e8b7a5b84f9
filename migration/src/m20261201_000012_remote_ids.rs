//! Remote ids byte for byte: Copse keeps ids as parsed URLs, and parsing changes some of them
//! (`http://mbp.test:18490` becomes `http://mbp.test:18490/`). A server that compares ids as
//! strings then takes its own actor for someone else. `remote_id` keeps the id as its server
//! wrote it, by the parsed form, so that it goes back out as it came in.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `remote_id`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("remote_id")
                .col(text("parsed").primary_key())
                .col(text("raw"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("remote_id").take()).await
    }
}
