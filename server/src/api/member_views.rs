//! What the membership API answers: settings, join requests, the member directory, a member's
//! own membership, bans and the decision log. Typed, so that the OpenAPI document describes
//! exactly what is sent.

use chrono::{DateTime, Utc};
use copse_entities::{
    community::{MembershipPolicy, PostingPolicy, WelcomeMode},
    community_follower::Role,
    person, DbUrl,
};
use serde::Serialize;
use utoipa::ToSchema;

/// A person as the membership API shows them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Person)]
pub struct PersonView {
    /// Row id on this server (the `{person}` of the membership paths).
    pub local_id: i64,
    /// ActivityPub id.
    #[schema(value_type = String)]
    pub id: DbUrl,
    /// Handle without the domain.
    pub name: String,
    /// Name shown instead of the handle.
    pub display_name: Option<String>,
    /// Bio, sanitised HTML.
    pub summary: Option<String>,
    /// Avatar address.
    pub avatar: Option<String>,
    /// An account of this server.
    pub local: bool,
    /// The account was deleted.
    pub deleted: bool,
}

impl From<&person::Model> for PersonView {
    fn from(p: &person::Model) -> Self {
        Self {
            local_id: p.id,
            id: p.ap_id.clone(),
            name: p.name.clone(),
            display_name: p.display_name.clone(),
            summary: p.summary.clone(),
            avatar: p.avatar.clone(),
            local: p.local,
            deleted: p.deleted_at.is_some(),
        }
    }
}

/// Body of `PUT /api/v1/communities/{name}/settings`: each field left out keeps its value.
/// (The OpenAPI document's picture of `accounts::CommunitySettings`, which the server reads.)
#[derive(Debug, ToSchema)]
#[schema(as = CommunitySettings)]
pub struct SettingsForm {
    /// Title, 1 to 100 characters.
    pub title: Option<String>,
    /// Summary (markdown).
    pub summary: Option<String>,
    /// What the community sets out to achieve (markdown).
    pub purpose: Option<String>,
    /// Code of conduct and rules (markdown).
    pub rules: Option<String>,
    /// How decisions are made (markdown).
    pub decision_making: Option<String>,
    /// Languages, comma-separated tags like `en, cy`.
    pub languages: Option<String>,
    /// `open`, `approval` or `invite`.
    #[schema(schema_with = super::schema::membership_policy)]
    pub membership_policy: Option<MembershipPolicy>,
    /// Welcome template (`{name}`, `{title}` and `{rules}` are filled in).
    pub welcome_template: Option<String>,
    /// `public`, `direct` or `off`.
    #[schema(schema_with = super::schema::welcome_mode)]
    pub welcome_mode: Option<WelcomeMode>,
    /// Who may start topics.
    #[schema(schema_with = super::schema::posting_policy)]
    pub topic_policy: Option<PostingPolicy>,
    /// Who may reply.
    #[schema(schema_with = super::schema::posting_policy)]
    pub reply_policy: Option<PostingPolicy>,
    /// Joining needs agreement to the code of conduct.
    pub require_rules_agreement: Option<bool>,
    /// The name of the local community this one sits under; empty to take it from under its
    /// parent. Whoever sets it must coordinate that community too.
    pub parent: Option<String>,
    /// Only members of the parent may join.
    pub parent_members_only: Option<bool>,
}

/// A community's settings as they now stand.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsView {
    /// ActivityPub id.
    #[schema(value_type = String)]
    pub id: DbUrl,
    /// Title.
    pub title: String,
    /// Summary, sanitised HTML.
    pub summary: Option<String>,
    /// Purpose, sanitised HTML.
    pub purpose: Option<String>,
    /// Code of conduct, sanitised HTML.
    pub rules: Option<String>,
    /// How decisions are made, sanitised HTML.
    pub decision_making: Option<String>,
    /// Language tags.
    pub languages: Option<String>,
    /// How people join.
    #[schema(schema_with = super::schema::membership_policy)]
    pub membership_policy: MembershipPolicy,
    /// Welcome template.
    pub welcome_template: Option<String>,
    /// How the welcome is sent.
    #[schema(schema_with = super::schema::welcome_mode)]
    pub welcome_mode: WelcomeMode,
    /// Who may start topics.
    #[schema(schema_with = super::schema::posting_policy)]
    pub topic_policy: PostingPolicy,
    /// Who may reply.
    #[schema(schema_with = super::schema::posting_policy)]
    pub reply_policy: PostingPolicy,
    /// Joining needs agreement to the code of conduct.
    pub require_rules_agreement: bool,
    /// Digest of the code of conduct as it stands.
    pub rules_version: String,
    /// The ActivityPub id of the community this one sits under.
    #[schema(value_type = Option<String>)]
    pub parent: Option<DbUrl>,
    /// Only members of the parent may join.
    pub parent_members_only: bool,
}

/// A request to join, waiting for a coordinator.
#[derive(Debug, Serialize, ToSchema)]
pub struct JoinRequestView {
    /// Who asks.
    pub person: PersonView,
    /// Why they want to join.
    pub reason: Option<String>,
    /// When they asked.
    pub requested: DateTime<Utc>,
    /// They agreed to the code of conduct as it now stands.
    pub agreed_to_rules: bool,
    /// When they agreed to a code of conduct.
    pub rules_agreed_at: Option<DateTime<Utc>>,
    /// Digest of the code of conduct they agreed to.
    pub rules_version: Option<String>,
}

/// The requests waiting for a coordinator, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct JoinRequestList {
    /// The requests.
    pub items: Vec<JoinRequestView>,
}

/// `POST /api/v1/communities/{name}/invites`: who was invited.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitedView {
    /// Their ActivityPub id.
    #[schema(value_type = String)]
    pub invitee: DbUrl,
}

/// An invitation not yet taken up.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteView {
    /// Row id (the `{id}` of `DELETE .../invites/{id}`).
    pub id: i64,
    /// The invitee's ActivityPub id.
    #[schema(value_type = String)]
    pub invitee: DbUrl,
    /// When the invitation was sent.
    pub invited: DateTime<Utc>,
}

/// `GET /api/v1/communities/{name}/invites`.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteList {
    /// Newest first.
    pub items: Vec<InviteView>,
}

/// A listed member.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// Who.
    pub person: PersonView,
    /// Their role.
    #[schema(schema_with = super::schema::role)]
    pub role: Role,
    /// When they joined.
    pub joined: DateTime<Utc>,
}

/// The member directory.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    /// Members, listed or not.
    pub total: u64,
    /// Members who chose to be listed.
    pub listed: usize,
    /// The listed members.
    pub items: Vec<MemberView>,
}

/// A member's own membership.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    /// The community's ActivityPub id.
    #[schema(value_type = String)]
    pub community: DbUrl,
    /// Still waiting for a coordinator.
    pub pending: bool,
    /// Their role.
    #[schema(schema_with = super::schema::role)]
    pub role: Role,
    /// Listed in the member directory.
    pub listed: bool,
    /// When they agreed to a code of conduct.
    pub rules_agreed_at: Option<DateTime<Utc>>,
    /// Digest of the code of conduct they agreed to.
    pub rules_version: Option<String>,
}

/// `POST /api/v1/communities/{name}/bans`: who was banned.
#[derive(Debug, Serialize, ToSchema)]
pub struct BannedView {
    /// Their ActivityPub id.
    #[schema(value_type = String)]
    pub banned: DbUrl,
    /// Their row id (the `{person}` of `DELETE .../bans/{person}`).
    pub local_id: i64,
}

/// A ban.
#[derive(Debug, Serialize, ToSchema)]
pub struct BanView {
    /// Who.
    pub person: PersonView,
    /// Why.
    pub reason: Option<String>,
    /// When it ends; never when `null`.
    pub expires_at: Option<DateTime<Utc>>,
    /// Since when.
    pub since: DateTime<Utc>,
}

/// A community's bans.
#[derive(Debug, Serialize, ToSchema)]
pub struct BanList {
    /// The bans.
    pub items: Vec<BanView>,
}

/// A decision in the community's log.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogEntry {
    /// Who decided, by ActivityPub id.
    #[schema(value_type = String)]
    pub who: DbUrl,
    /// What was done, e.g. `ban` or `remove_post`.
    pub action: String,
    /// To what or whom, by ActivityPub id.
    #[schema(value_type = String)]
    pub target: DbUrl,
    /// Why.
    pub reason: Option<String>,
    /// When.
    pub when: DateTime<Utc>,
}

/// The decision log, newest first (at most 500).
#[derive(Debug, Serialize, ToSchema)]
pub struct LogList {
    /// The decisions.
    pub items: Vec<LogEntry>,
}
