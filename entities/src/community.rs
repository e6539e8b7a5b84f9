//! A community of practice: a `Group` actor, local or a cached remote one.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// How people join a community.
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
pub enum MembershipPolicy {
    /// Every follow is accepted at once.
    #[sea_orm(string_value = "open")]
    Open,
    /// A coordinator approves each request, seeing the applicant's stated reason.
    #[sea_orm(string_value = "approval")]
    Approval,
    /// Only invited people are accepted.
    #[sea_orm(string_value = "invite")]
    Invite,
}

/// How newcomers are welcomed.
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
pub enum WelcomeMode {
    /// A public note mentioning the newcomer, seen by all followers.
    #[sea_orm(string_value = "public")]
    Public,
    /// A direct note to the newcomer only.
    #[sea_orm(string_value = "direct")]
    Direct,
    /// No welcome note.
    #[sea_orm(string_value = "off")]
    Off,
}

/// A community (`Group`).
/// Who may start topics, or reply, in a community.
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
pub enum PostingPolicy {
    /// Anyone who is not banned.
    #[sea_orm(string_value = "anyone")]
    Anyone,
    /// Accepted members.
    #[sea_orm(string_value = "members")]
    Members,
    /// Coordinators and facilitators (the `moderators` collection; `postingRestrictedToMods`).
    #[sea_orm(string_value = "coordinators")]
    Coordinators,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "community")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// ActivityPub id.
    #[sea_orm(unique)]
    pub ap_id: DbUrl,
    /// `preferredUsername`, the handle.
    pub name: String,
    /// Display title.
    pub title: String,
    /// Sanitised HTML summary.
    pub summary: Option<String>,
    /// The group's inbox.
    pub inbox: DbUrl,
    /// The shared inbox of its server.
    pub shared_inbox: Option<DbUrl>,
    /// The key id of its public key.
    pub key_id: DbUrl,
    /// PEM public key.
    pub public_key_pem: String,
    /// PEM private key, local communities only.
    pub private_key_pem: Option<String>,
    /// True for communities of this instance.
    pub local: bool,
    /// Follows wait for a coordinator.
    pub manually_approves_followers: bool,
    /// Listed in directories.
    pub discoverable: bool,
    /// The local person who created it.
    pub creator_id: Option<i64>,
    /// What the community sets out to achieve (HTML).
    pub purpose: Option<String>,
    /// Code of conduct and rules (HTML).
    pub rules: Option<String>,
    /// How decisions are made (HTML).
    pub decision_making: Option<String>,
    /// Languages, comma-separated BCP 47 tags.
    pub languages: Option<String>,
    /// How people join.
    pub membership_policy: MembershipPolicy,
    /// Welcome template, plain text; `{name}`, `{title}` and `{rules}` are filled in.
    pub welcome_template: Option<String>,
    /// How newcomers are welcomed.
    pub welcome_mode: WelcomeMode,
    /// Who may start topics.
    pub topic_policy: PostingPolicy,
    /// Who may reply.
    pub reply_policy: PostingPolicy,
    /// Joining needs agreement to the code of conduct.
    pub require_rules_agreement: bool,
    /// When the community was created.
    pub published: DateTimeUtc,
    /// When a remote community was last fetched.
    pub fetched_at: DateTimeUtc,
    /// The ActivityPub id of the community this one sits under, if any.
    pub parent_ap_id: Option<DbUrl>,
    /// Only accepted members of the parent may join.
    pub parent_members_only: bool,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
