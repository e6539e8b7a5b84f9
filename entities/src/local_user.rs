//! An account on this instance: its person actor, its password and its command-line token.

use sea_orm::entity::prelude::*;

/// A local account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "local_user")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Its `person` row.
    #[sea_orm(unique)]
    pub person_id: i64,
    /// Instance administrator.
    pub admin: bool,
    /// SHA-256 (hex) of the bearer token; the token itself is never stored.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// When the account was created.
    pub created_at: DateTimeUtc,
    /// Argon2id hash (PHC string) of the password; `None` for accounts made without one.
    pub password_hash: Option<String>,
    /// Whether the account may sign in.
    pub status: AccountStatus,
    /// The answer to the instance's sign-up question, for the admin deciding.
    pub sign_up_answer: Option<String>,
    /// Where notifications are mailed, if the person gave an address.
    pub email: Option<String>,
    /// Which notifications are mailed to `email`.
    pub email_notifications: EmailChoice,
}

/// Which notifications a person is sent by email.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum EmailChoice {
    /// One mail for each notification.
    #[sea_orm(string_value = "each")]
    Each,
    /// One mail a day with the day's notifications.
    #[sea_orm(string_value = "digest")]
    Digest,
    /// No mail.
    #[default]
    #[sea_orm(string_value = "none")]
    None,
}

/// Whether an account may sign in.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    /// In use.
    #[sea_orm(string_value = "active")]
    Active,
    /// Signed up on an instance that approves sign-ups; waiting for an admin.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Stopped by an admin: cannot sign in, tokens refused.
    #[sea_orm(string_value = "suspended")]
    Suspended,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
