//! Link posts: Lemmy sends a post's link as an `attachment` of type `Link` (`href`). The new
//! nullable `post.url` keeps it, so that it is shown, served in the API and sent out again.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `post.url`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("post")
                .add_column(text_null("url"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("post").drop_column("url").take())
            .await
    }
}
