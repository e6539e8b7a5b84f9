//! The instance itself: its application actor's keys and its registration policy (one row).

use sea_orm::entity::prelude::*;

/// The instance actor.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "site")]
pub struct Model {
    /// Always 1.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// PEM public key.
    pub public_key_pem: String,
    /// PEM private key.
    pub private_key_pem: String,
    /// When the instance was first started.
    pub created_at: DateTimeUtc,
    /// Who may create an account.
    pub registration: Registration,
    /// The question people answer when signing up by approval.
    pub registration_question: Option<String>,
    /// SHA-256 (hex) of the one-time link that creates the first admin; cleared once used.
    pub setup_token_hash: Option<String>,
}

/// Who may create an account on this instance.
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
pub enum Registration {
    /// Anyone; the account works at once.
    #[sea_orm(string_value = "open")]
    Open,
    /// Anyone may ask, answering the question; an admin approves.
    #[sea_orm(string_value = "approval")]
    Approval,
    /// Only with an invitation link from an admin.
    #[sea_orm(string_value = "invite")]
    Invite,
    /// Nobody; admins create accounts from the command line.
    #[sea_orm(string_value = "closed")]
    Closed,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
