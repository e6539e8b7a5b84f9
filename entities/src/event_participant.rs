//! Someone's answer to an event: going, waiting for a place, waiting for approval, invited.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// Where a participant stands.
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
pub enum ParticipantStatus {
    /// Has a place.
    #[sea_orm(string_value = "going")]
    Going,
    /// The event was full: waits for a place, in arrival order.
    #[sea_orm(string_value = "waiting")]
    Waiting,
    /// Asked to join; a coordinator decides (or, for a remote event, its server has not answered).
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Invited by a coordinator; becomes going when they join.
    #[sea_orm(string_value = "invited")]
    Invited,
    /// Refused.
    #[sea_orm(string_value = "rejected")]
    Rejected,
}

/// One person's participation in one event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_participant")]
pub struct Model {
    /// Row id; also the order of the waiting list.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The event's post.
    pub event_id: i64,
    /// Who.
    pub person_id: i64,
    /// Where they stand.
    pub status: ParticipantStatus,
    /// Their `Join` activity, which our `Accept` or `Reject` names; none for an answer given
    /// by replying or through the API.
    pub join_ap_id: Option<DbUrl>,
    /// What they wrote when asking (Mobilizon's `participationMessage`).
    pub message: Option<String>,
    /// When they answered.
    pub created_at: DateTimeUtc,
    /// When the reminder went out.
    pub reminded_at: Option<DateTimeUtc>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
