//! Schemas the OpenAPI document needs for types it cannot derive: the closed sets stored as
//! strings (roles, policies, statuses, kinds), listed with the words the API sends for them.

use copse_entities::{
    community::{MembershipPolicy, PostingPolicy, WelcomeMode},
    community_follower::Role,
    event::{EventStatus, JoinMode},
    event_participant::ParticipantStatus,
    local_user::EmailChoice,
    notification::NotificationKind,
    report::ReportStatus,
};
use sea_orm::Iterable;
use serde::Serialize;
use utoipa::openapi::{schema::Type, Object, ObjectBuilder};

/// A string schema listing every value of `E` as serde writes it.
fn closed<E: Iterable + Serialize>(description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(E::iter().filter_map(|v| serde_json::to_value(v).ok())))
        .build()
}

/// A member's role.
pub fn role() -> Object {
    closed::<Role>("A member's role in a community")
}

/// How people join a community.
pub fn membership_policy() -> Object {
    closed::<MembershipPolicy>("How people join a community")
}

/// Who may start topics or reply.
pub fn posting_policy() -> Object {
    closed::<PostingPolicy>("Who may post")
}

/// How new members are welcomed.
pub fn welcome_mode() -> Object {
    closed::<WelcomeMode>("How new members are welcomed")
}

/// How people take part in an event.
pub fn join_mode() -> Object {
    closed::<JoinMode>("How people take part in an event")
}

/// Whether an event takes place.
pub fn event_status() -> Object {
    closed::<EventStatus>("Whether an event takes place")
}

/// A participant's place in an event.
pub fn participant_status() -> Object {
    closed::<ParticipantStatus>("A participant's place in an event")
}

/// Where a report stands.
pub fn report_status() -> Object {
    closed::<ReportStatus>("Where a report stands")
}

/// What a notification is about.
pub fn notification_kind() -> Object {
    closed::<NotificationKind>("What a notification is about")
}

/// Which notifications are sent by mail.
pub fn email_choice() -> Object {
    closed::<EmailChoice>("Which notifications are sent by mail: each, a daily digest, or none")
}
