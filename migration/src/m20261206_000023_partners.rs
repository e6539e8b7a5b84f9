//! Partner communities: a community follows another (`Follow` from the Group itself, FEP-d36d),
//! answered by the other side's policy; and what a community shares from its partners, one at a
//! time, automatically, or through a queue its coordinators approve.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `partnership` and `partner_share`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("partnership")
                .col(big_pk_auto("id"))
                .col(big_integer("follower_id"))
                .col(big_integer("followed_id"))
                .col(text_uniq("follow_id"))
                .col(boolean("pending"))
                .col(string_len("share", 16).default("off"))
                .col(big_integer_null("requested_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("accepted_at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_partnership_pair")
                .table("partnership")
                .col("follower_id")
                .col("followed_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_partnership_followed")
                .table("partnership")
                .col("followed_id")
                .col("pending")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("partner_share")
                .col(big_pk_auto("id"))
                .col(big_integer("community_id"))
                .col(big_integer("post_id"))
                .col(string_len("status", 16))
                .col(big_integer_null("decided_by"))
                .col(text_null("announce_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("shared_at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_partner_share_post")
                .table("partner_share")
                .col("community_id")
                .col("post_id")
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["partner_share", "partnership"] {
            m.drop_table(Table::drop().table(t).take()).await?;
        }
        Ok(())
    }
}
