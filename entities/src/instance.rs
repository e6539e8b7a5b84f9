//! A remote (or our own) server, by origin `host[:port]`: delivery health and domain blocks.

use sea_orm::entity::prelude::*;
use sea_orm::ActiveValue::{NotSet, Set};

/// One row per remote origin we talk to.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instance")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Lower-case `host` or `host:port`.
    #[sea_orm(unique)]
    pub domain: String,
    /// Blocked by the operator: nothing is accepted from or sent to it.
    pub blocked: bool,
    /// Delivery failures since the last success.
    pub failure_count: i32,
    /// When the current run of failures began.
    pub failing_since: Option<DateTimeUtc>,
    /// Deliveries wait until then: set while the instance counts as dead.
    pub paused_until: Option<DateTimeUtc>,
    /// The last successful delivery.
    pub last_success_at: Option<DateTimeUtc>,
    /// `software.name` from its NodeInfo, lower-case (`mastodon`, `lemmy`), when known.
    pub software: Option<String>,
    /// When its NodeInfo was last looked at, found or not.
    pub software_checked_at: Option<DateTimeUtc>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl ActiveModel {
    /// A new row for `domain`: not blocked, no failures, nothing known of it yet.
    pub fn for_domain(domain: &str) -> Self {
        Self {
            id: NotSet,
            domain: Set(domain.to_string()),
            blocked: Set(false),
            failure_count: Set(0),
            failing_since: Set(None),
            paused_until: Set(None),
            last_success_at: Set(None),
            ..Default::default()
        }
    }
}
