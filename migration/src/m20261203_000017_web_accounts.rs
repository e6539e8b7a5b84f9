//! Accounts people use in the browser: a password and a status on each local account, sessions,
//! named API tokens, failed sign-ins (for rate limits that hold across server processes),
//! invitation links, notifications for local people, and the instance's registration policy
//! with its one-time setup link.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the account columns and the session, token, failure and invitation tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [
            text_null("password_hash"),
            string_len("status", 16).default("active").take(),
            text_null("sign_up_answer"),
            string_len_null("email", 320),
        ] {
            m.alter_table(Table::alter().table("local_user").add_column(col).take())
                .await?;
        }
        for col in [
            string_len("registration", 16).default("approval").take(),
            text_null("registration_question"),
            string_len_null("setup_token_hash", 64),
        ] {
            m.alter_table(Table::alter().table("site").add_column(col).take())
                .await?;
        }
        m.create_table(
            Table::create()
                .table("web_session")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("token_hash", 64))
                .col(big_integer("local_user_id"))
                .col(string_len("csrf_token", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("web_session", "local_user_id")
                        .to("local_user", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("api_token")
                .col(big_pk_auto("id"))
                .col(big_integer("local_user_id"))
                .col(string_len("name", 100))
                .col(string_len_uniq("token_hash", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("api_token", "local_user_id")
                        .to("local_user", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("sign_in_failure")
                .col(big_pk_auto("id"))
                .col(string_len("key", 200))
                .col(timestamp_with_time_zone("at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("sign_in_failure_key_at")
                .table("sign_in_failure")
                .col("key")
                .col("at")
                .take(),
        )
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
        .await?;
        m.create_table(
            Table::create()
                .table("notification")
                .col(big_pk_auto("id"))
                .col(big_integer("person_id"))
                .col(string_len("kind", 32))
                .col(big_integer_null("community_id"))
                .col(big_integer_null("post_id"))
                .col(big_integer_null("actor_id"))
                .col(text("text"))
                .col(text("link"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("read_at"))
                .col(timestamp_with_time_zone_null("mailed_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("notification", "person_id")
                        .to("person", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("notification_person_id")
                .table("notification")
                .col("person_id")
                .col("id")
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "notification",
            "registration_invite",
            "sign_in_failure",
            "api_token",
            "web_session",
        ] {
            m.drop_table(Table::drop().table(table).take()).await?;
        }
        for col in ["registration", "registration_question", "setup_token_hash"] {
            m.alter_table(Table::alter().table("site").drop_column(col).take())
                .await?;
        }
        for col in ["password_hash", "status", "sign_up_answer", "email"] {
            m.alter_table(Table::alter().table("local_user").drop_column(col).take())
                .await?;
        }
        Ok(())
    }
}
