//! The first schema: actors, follows, posts, and the durable inbox and outbox queues.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates the initial tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

fn index(name: &'static str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(*c);
    }
    idx.take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("site")
                .col(integer("id").primary_key())
                .col(text("public_key_pem"))
                .col(text("private_key_pem"))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("instance")
                .col(big_pk_auto("id"))
                .col(string_uniq("domain"))
                .col(boolean("blocked").default(false))
                .col(integer("failure_count").default(0))
                .col(timestamp_with_time_zone_null("failing_since"))
                .col(timestamp_with_time_zone_null("paused_until"))
                .col(timestamp_with_time_zone_null("last_success_at"))
                .take(),
        )
        .await?;
        for table in ["person", "community"] {
            let mut t = Table::create();
            t.table(table)
                .col(big_pk_auto("id"))
                .col(text_uniq("ap_id"))
                .col(string("name"));
            if table == "person" {
                t.col(string_null("display_name"));
            } else {
                t.col(string("title"));
            }
            t.col(text_null("summary"))
                .col(text("inbox"))
                .col(text_null("shared_inbox"))
                .col(text("key_id"))
                .col(text("public_key_pem"))
                .col(text_null("private_key_pem"))
                .col(boolean("local"));
            if table == "community" {
                t.col(boolean("manually_approves_followers"))
                    .col(boolean("discoverable"))
                    .col(big_integer_null("creator_id"));
            }
            t.col(timestamp_with_time_zone("published"))
                .col(timestamp_with_time_zone("fetched_at"));
            m.create_table(t.take()).await?;
        }
        // Local handles are looked up by name (WebFinger, API); remote ones by ap_id.
        m.create_index(index("idx_person_local_name", "person", &["local", "name"]))
            .await?;
        m.create_index(index(
            "idx_community_local_name",
            "community",
            &["local", "name"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("local_user")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("person_id"))
                .col(boolean("admin"))
                .col(string_uniq("token_hash"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("local_user", "person_id")
                        .to("person", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("community_follower")
                .col(big_pk_auto("id"))
                .col(big_integer("community_id"))
                .col(big_integer("person_id"))
                .col(text("follow_id"))
                .col(boolean("pending"))
                .col(timestamp_with_time_zone("published"))
                .foreign_key(
                    ForeignKey::create()
                        .from("community_follower", "community_id")
                        .to("community", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("community_follower", "person_id")
                        .to("person", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            index(
                "uq_community_follower",
                "community_follower",
                &["community_id", "person_id"],
            )
            .unique()
            .take(),
        )
        .await?;
        m.create_index(index(
            "idx_community_follower_person",
            "community_follower",
            &["person_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("post")
                .col(big_pk_auto("id"))
                .col(text_uniq("ap_id"))
                .col(big_integer("community_id"))
                .col(big_integer("author_id"))
                .col(text("title"))
                .col(text("content"))
                .col(text_null("source"))
                .col(boolean("local"))
                .col(timestamp_with_time_zone("published"))
                .col(timestamp_with_time_zone_null("updated"))
                .foreign_key(
                    ForeignKey::create()
                        .from("post", "community_id")
                        .to("community", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("post", "author_id")
                        .to("person", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(index(
            "idx_post_community_published",
            "post",
            &["community_id", "published"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("activity")
                .col(big_pk_auto("id"))
                .col(text_uniq("ap_id"))
                .col(string("kind"))
                .col(text("actor"))
                .col(big_integer_null("community_id"))
                .col(text("data"))
                .col(boolean("public"))
                .col(timestamp_with_time_zone("published"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "idx_activity_community",
            "activity",
            &["community_id", "id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("delivery")
                .col(big_pk_auto("id"))
                .col(big_integer("activity_id"))
                .col(text("inbox"))
                .col(string("domain"))
                .col(string_len("status", 16))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("locked_until"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("delivery", "activity_id")
                        .to("activity", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // The claim query: due pending rows, oldest first.
        m.create_index(index(
            "idx_delivery_due",
            "delivery",
            &["status", "next_attempt_at"],
        ))
        .await?;
        m.create_index(index("idx_delivery_activity", "delivery", &["activity_id"]))
            .await?;
        m.create_table(
            Table::create()
                .table("received_activity")
                .col(big_pk_auto("id"))
                .col(text_uniq("ap_id"))
                .col(text("actor"))
                .col(string("kind"))
                .col(text("data"))
                .col(string_len("status", 16))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("locked_until"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone("received_at"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "idx_received_activity_due",
            "received_activity",
            &["status", "next_attempt_at"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "received_activity",
            "delivery",
            "activity",
            "post",
            "community_follower",
            "local_user",
            "community",
            "person",
            "instance",
            "site",
        ] {
            m.drop_table(Table::drop().table(table).take()).await?;
        }
        Ok(())
    }
}
