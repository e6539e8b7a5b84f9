//! What the API answers about the account, communities, follows, topic lists and reports:
//! typed views, so that the OpenAPI document describes exactly what is sent.

use super::views::{AuthorView, PostItem};
use chrono::{DateTime, Utc};
use copse_entities::{
    community::{MembershipPolicy, PostingPolicy},
    report::ReportStatus,
    DbUrl,
};
use serde::Serialize;
use utoipa::ToSchema;

/// `GET /api/v1/me`: the signed-in account.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    /// Handle without the domain.
    pub name: String,
    /// ActivityPub id.
    #[schema(value_type = String)]
    pub id: DbUrl,
    /// An instance admin.
    pub admin: bool,
}

/// `PUT /api/v1/me`: the profile as it now stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    /// Handle without the domain.
    pub name: String,
    /// ActivityPub id.
    #[schema(value_type = String)]
    pub id: DbUrl,
    /// Name shown instead of the handle.
    pub display_name: Option<String>,
    /// Bio, sanitised HTML.
    pub summary: Option<String>,
    /// Address of the avatar image, if one is set.
    pub avatar: Option<String>,
    /// Listed in the member directories of the communities they belong to.
    pub discoverable: bool,
    /// An instance admin.
    pub admin: bool,
}

/// A community of this server.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommunityView {
    /// ActivityPub id.
    #[schema(value_type = String)]
    pub id: DbUrl,
    /// Name (the `{name}` of its paths).
    pub name: String,
    /// `name@domain`.
    pub handle: String,
    /// Title.
    pub title: String,
    /// Summary, sanitised HTML.
    pub summary: Option<String>,
    /// Members (accepted followers).
    pub followers: u64,
    /// Topics.
    pub topics: u64,
    /// How people join.
    #[schema(schema_with = super::schema::membership_policy)]
    pub membership_policy: MembershipPolicy,
    /// Who may start topics.
    #[schema(schema_with = super::schema::posting_policy)]
    pub topic_policy: PostingPolicy,
    /// Who may reply.
    #[schema(schema_with = super::schema::posting_policy)]
    pub reply_policy: PostingPolicy,
    /// Follows wait for a coordinator.
    pub manually_approves_followers: bool,
    /// Joining needs agreement to the code of conduct.
    pub require_rules_agreement: bool,
    /// Digest of the code of conduct as it stands.
    pub rules_version: String,
    /// When it was created.
    pub published: DateTime<Utc>,
    /// The community this one sits under.
    pub parent: Option<CommunityLink>,
    /// Only members of the parent may join.
    pub parent_members_only: bool,
    /// How many communities sit under this one (listed at `/api/v1/communities/{name}/subcommunities`).
    pub subcommunities: u64,
}

/// Another community, named from this one (its parent, or one under it).
#[derive(Debug, Serialize, ToSchema)]
pub struct CommunityLink {
    /// ActivityPub id.
    #[schema(value_type = String)]
    pub id: DbUrl,
    /// `name@domain`.
    pub handle: String,
    /// Title.
    pub title: String,
    /// On this server.
    pub local: bool,
}

/// The communities under one.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubcommunityList {
    /// The parent.
    pub parent: CommunityLink,
    /// The communities under it, by title.
    pub items: Vec<CommunityLink>,
}

/// `POST /api/v1/follows`: where the follow stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowView {
    /// The community's ActivityPub id.
    #[schema(value_type = String)]
    pub community: DbUrl,
    /// Waiting for a coordinator (or the remote server).
    pub pending: bool,
    /// `joined` or `pending`.
    pub status: String,
}

/// A page of a community's topics.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopicList {
    /// The page.
    pub page: u64,
    /// `active` or `new`.
    pub sort: String,
    /// The hashtag filtered by, lower-cased without `#`.
    pub tag: Option<String>,
    /// The topics.
    pub items: Vec<PostItem>,
}

/// A page of a person's posts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonPosts {
    /// Whose.
    pub person: AuthorView,
    /// The page.
    pub page: u64,
    /// Topics and replies, newest first.
    pub items: Vec<PostItem>,
}

/// The post a report is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportedPost {
    /// ActivityPub id.
    #[schema(value_type = String)]
    pub id: DbUrl,
    /// Row id on this server.
    pub local_id: i64,
    /// Title.
    pub title: String,
    /// Sanitised HTML.
    pub content: String,
}

/// A report in a community's queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    /// Row id (the `{id}` of `/api/v1/reports/{id}/resolve`).
    pub id: i64,
    /// Who reported, by ActivityPub id.
    #[schema(value_type = String)]
    pub reporter: DbUrl,
    /// Why.
    pub reason: Option<String>,
    /// Where it stands.
    #[schema(schema_with = super::schema::report_status)]
    pub status: ReportStatus,
    /// The post reported, if it is a post and still known.
    pub post: Option<ReportedPost>,
    /// The person reported, if it is a person and still known.
    pub person: Option<AuthorView>,
    /// Who resolved it.
    #[schema(value_type = Option<String>)]
    pub resolver: Option<DbUrl>,
    /// What was decided.
    pub resolution: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was resolved or dismissed.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// A community's reports, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportList {
    /// The reports.
    pub items: Vec<ReportView>,
}
