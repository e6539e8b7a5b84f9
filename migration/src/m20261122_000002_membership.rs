//! Membership: community settings, member roles and reasons, invitations, bans, and the log of
//! membership and moderation decisions.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds membership tables and columns.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [
            text_null("purpose"),
            text_null("rules"),
            text_null("decision_making"),
            string_null("languages"),
            string_len("membership_policy", 16).default("open").take(),
            text_null("welcome_template"),
            string_len("welcome_mode", 16).default("public").take(),
        ] {
            m.alter_table(Table::alter().table("community").add_column(col).take())
                .await?;
        }
        for col in [
            string_len("role", 16).default("member").take(),
            text_null("reason"),
            boolean("listed").default(true).take(),
        ] {
            m.alter_table(
                Table::alter()
                    .table("community_follower")
                    .add_column(col)
                    .take(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table("person")
                .add_column(text_null("avatar"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("community_invite")
                .col(big_pk_auto("id"))
                .col(big_integer("community_id"))
                .col(text("invitee"))
                .col(big_integer("invited_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("community_invite", "community_id")
                        .to("community", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_community_invite")
                .table("community_invite")
                .col("community_id")
                .col("invitee")
                .unique()
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("community_ban")
                .col(big_pk_auto("id"))
                .col(big_integer("community_id"))
                .col(big_integer("person_id"))
                .col(text_null("reason"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(big_integer("banned_by"))
                .col(text("block_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("community_ban", "community_id")
                        .to("community", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("community_ban", "person_id")
                        .to("person", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_community_ban")
                .table("community_ban")
                .col("community_id")
                .col("person_id")
                .unique()
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("moderation_log")
                .col(big_pk_auto("id"))
                .col(big_integer("community_id"))
                .col(text("moderator"))
                .col(string("action"))
                .col(text("target"))
                .col(text_null("reason"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("moderation_log", "community_id")
                        .to("community", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_moderation_log_community")
                .table("moderation_log")
                .col("community_id")
                .col("id")
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["moderation_log", "community_ban", "community_invite"] {
            m.drop_table(Table::drop().table(table).take()).await?;
        }
        m.alter_table(Table::alter().table("person").drop_column("avatar").take())
            .await?;
        for col in ["role", "reason", "listed"] {
            m.alter_table(
                Table::alter()
                    .table("community_follower")
                    .drop_column(col)
                    .take(),
            )
            .await?;
        }
        for col in [
            "purpose",
            "rules",
            "decision_making",
            "languages",
            "membership_policy",
            "welcome_template",
            "welcome_mode",
        ] {
            m.alter_table(Table::alter().table("community").drop_column(col).take())
                .await?;
        }
        Ok(())
    }
}
