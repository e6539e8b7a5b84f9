//! Invitation links an admin makes from the admin pages: an optional expiry, an optional number
//! of uses, and revocation. The table from migration 17 is made again in this shape rather than
//! altered, since SQLite cannot make a column nullable in place and nothing wrote invitations
//! before the admin pages existed.

use sea_orm_migration::{prelude::*, schema::*};

/// Makes `registration_invite` again with `expires_at` optional, `max_uses`, `uses` and
/// `revoked_at`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("registration_invite").take())
            .await?;
        m.create_table(
            Table::create()
                .table("registration_invite")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("token_hash", 64))
                .col(big_integer("created_by"))
                .col(string_len_null("note", 200))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(integer_null("max_uses"))
                .col(integer("uses").default(0))
                .col(timestamp_with_time_zone_null("used_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("registration_invite").take())
            .await?;
        m.create_table(
            Table::create()
                .table("registration_invite")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("token_hash", 64))
                .col(big_integer("created_by"))
                .col(string_len_null("note", 200))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .take(),
        )
        .await
    }
}
