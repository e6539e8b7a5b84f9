//! Something a local person is told about: a reply, a mention, a decision, an event change.

use sea_orm::entity::prelude::*;

/// A notification.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The local person told.
    pub person_id: i64,
    /// What happened.
    pub kind: NotificationKind,
    /// The community it happened in.
    pub community_id: Option<i64>,
    /// The post or event it is about.
    pub post_id: Option<i64>,
    /// Who did it.
    pub actor_id: Option<i64>,
    /// One line saying what happened, as plain text.
    pub text: String,
    /// Where to read more (a path on this instance or an absolute URL).
    pub link: String,
    /// When it happened.
    pub created_at: DateTimeUtc,
    /// When the person read it.
    pub read_at: Option<DateTimeUtc>,
    /// When it was sent by email (alone or in a digest), or passed over because the person
    /// wanted no mail when it happened.
    pub mailed_at: Option<DateTimeUtc>,
    /// What makes it the same notification when its cause arrives again (a replayed activity):
    /// unique per person.
    pub dedupe_key: String,
}

/// What a notification is about.
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A reply to one of my posts.
    #[sea_orm(string_value = "reply")]
    Reply,
    /// A post that mentions me.
    #[sea_orm(string_value = "mention")]
    Mention,
    /// My request to join was decided.
    #[sea_orm(string_value = "join_decided")]
    JoinDecided,
    /// I was welcomed into a community.
    #[sea_orm(string_value = "welcome")]
    Welcome,
    /// An event I take part in changed.
    #[sea_orm(string_value = "event_changed")]
    EventChanged,
    /// An event I take part in was cancelled.
    #[sea_orm(string_value = "event_cancelled")]
    EventCancelled,
    /// An event I take part in starts soon.
    #[sea_orm(string_value = "event_reminder")]
    EventReminder,
    /// A report I made was resolved.
    #[sea_orm(string_value = "report_resolved")]
    ReportResolved,
    /// Someone asks to join a community I coordinate.
    #[sea_orm(string_value = "join_request")]
    JoinRequest,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
