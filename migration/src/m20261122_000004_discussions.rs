//! Discussions: threads (replies, locks, pins, deletion), reactions, reports, and who may post.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds discussion columns and tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [
            big_integer_null("parent_id"),
            big_integer_null("topic_id"),
            timestamp_with_time_zone_null("last_activity"),
            boolean("locked").default(false).take(),
            boolean("pinned").default(false).take(),
            boolean("deleted").default(false).take(),
            boolean("removed").default(false).take(),
            text_null("tags"),
        ] {
            m.alter_table(Table::alter().table("post").add_column(col).take())
                .await?;
        }
        m.get_connection()
            .execute_unprepared("UPDATE post SET last_activity = published")
            .await?;
        for col in [
            string_len("topic_policy", 16).default("members").take(),
            string_len("reply_policy", 16).default("members").take(),
        ] {
            m.alter_table(Table::alter().table("community").add_column(col).take())
                .await?;
        }
        m.create_index(
            Index::create()
                .name("idx_post_topics")
                .table("post")
                .col("community_id")
                .col("topic_id")
                .col("last_activity")
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_post_thread")
                .table("post")
                .col("topic_id")
                .col("id")
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_post_author")
                .table("post")
                .col("author_id")
                .col("published")
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("reaction")
                .col(big_pk_auto("id"))
                .col(text("ap_id").unique_key())
                .col(big_integer("post_id"))
                .col(big_integer("person_id"))
                .col(string_len("emoji", 64))
                .col(timestamp_with_time_zone("published"))
                .foreign_key(
                    ForeignKey::create()
                        .from("reaction", "post_id")
                        .to("post", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("reaction", "person_id")
                        .to("person", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_reaction_once")
                .table("reaction")
                .col("post_id")
                .col("person_id")
                .col("emoji")
                .unique()
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("report")
                .col(big_pk_auto("id"))
                .col(text("ap_id"))
                .col(big_integer("community_id"))
                .col(text("reporter"))
                .col(big_integer_null("post_id"))
                .col(big_integer_null("person_id"))
                .col(text_null("reason"))
                .col(string_len("status", 16).default("open").take())
                .col(text_null("resolver"))
                .col(text_null("resolution"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("resolved_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("report", "community_id")
                        .to("community", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("report", "post_id")
                        .to("post", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_report_once")
                .table("report")
                .col("ap_id")
                .col("community_id")
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_report_queue")
                .table("report")
                .col("community_id")
                .col("status")
                .col("id")
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("report").to_owned())
            .await?;
        m.drop_table(Table::drop().table("reaction").to_owned())
            .await?;
        for idx in ["idx_post_topics", "idx_post_thread", "idx_post_author"] {
            m.drop_index(Index::drop().name(idx).table("post").to_owned())
                .await?;
        }
        for col in ["topic_policy", "reply_policy"] {
            m.alter_table(Table::alter().table("community").drop_column(col).take())
                .await?;
        }
        for col in [
            "parent_id",
            "topic_id",
            "last_activity",
            "locked",
            "pinned",
            "deleted",
            "removed",
            "tags",
        ] {
            m.alter_table(Table::alter().table("post").drop_column(col).take())
                .await?;
        }
        Ok(())
    }
}
