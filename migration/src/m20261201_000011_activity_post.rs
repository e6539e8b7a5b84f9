//! What is gone is gone from every route: `activity.post_id` names the post (or event) an
//! activity we sent is about, so that the outbox leaves out activities about deleted and removed
//! posts and an activity served at its id embeds the post as it is now. Existing rows are filled
//! from the ids along their `object` chain (innermost first, as the server does for new rows).

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

/// Adds and fills `activity.post_id`.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Paths of the `object` chain, innermost first.
const PATHS: [&[&str]; 5] = [
    &["object", "object", "object"],
    &["object", "object", "id"],
    &["object", "object"],
    &["object", "id"],
    &["object"],
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("activity")
                .add_column(big_integer_null("post_id"))
                .take(),
        )
        .await?;
        let backend = m.get_database_backend();
        let extract = |path: &[&str]| match backend {
            DatabaseBackend::Postgres => {
                format!("(activity.data::jsonb #>> '{{{}}}')", path.join(","))
            }
            _ => format!("json_extract(activity.data, '$.{}')", path.join(".")),
        };
        // The first path, innermost first, whose value is a stored post's id.
        let lookups: Vec<String> = PATHS
            .iter()
            .map(|p| format!("(SELECT id FROM post WHERE post.ap_id = {})", extract(p)))
            .collect();
        let sql = format!(
            "UPDATE activity SET post_id = COALESCE({}) WHERE activity.data LIKE '%\"object\"%'",
            lookups.join(", ")
        );
        m.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("activity")
                .drop_column("post_id")
                .take(),
        )
        .await
    }
}
