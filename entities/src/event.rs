//! An event: the meeting details of a post (its title and description live in `post`).

use sea_orm::entity::prelude::*;

/// How people take part (Mobilizon's `joinMode`).
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
pub enum JoinMode {
    /// Anyone may join while places remain; then the waiting list.
    #[sea_orm(string_value = "free")]
    Free,
    /// A coordinator or facilitator accepts each request (Mobilizon calls it `restricted`).
    #[sea_orm(string_value = "approval")]
    #[serde(alias = "restricted")]
    Approval,
    /// Only people the coordinators invited.
    #[sea_orm(string_value = "invite")]
    Invite,
    /// Registration happens elsewhere, at `external_url`.
    #[sea_orm(string_value = "external")]
    External,
}

impl JoinMode {
    /// The wire value (`restricted` is Mobilizon's name for approval).
    pub fn wire(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Approval => "restricted",
            Self::Invite => "invite",
            Self::External => "external",
        }
    }

    /// Reads a wire value; unknown modes are treated as free.
    pub fn from_wire(s: &str) -> Self {
        match s {
            "restricted" | "approval" => Self::Approval,
            "invite" => Self::Invite,
            "external" => Self::External,
            _ => Self::Free,
        }
    }
}

/// Whether it is happening (iCalendar `STATUS`).
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
pub enum EventStatus {
    /// Planned, not yet certain.
    #[sea_orm(string_value = "tentative")]
    Tentative,
    /// Happening.
    #[sea_orm(string_value = "confirmed")]
    Confirmed,
    /// Called off.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl EventStatus {
    /// The iCalendar value (also `ical:status` on the wire).
    pub fn ical(self) -> &'static str {
        match self {
            Self::Tentative => "TENTATIVE",
            Self::Confirmed => "CONFIRMED",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Reads an iCalendar value; anything unknown counts as confirmed.
    pub fn from_ical(s: &str) -> Self {
        match s.to_ascii_uppercase().as_str() {
            "TENTATIVE" => Self::Tentative,
            "CANCELLED" => Self::Cancelled,
            _ => Self::Confirmed,
        }
    }
}

/// The details of one event.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "event")]
pub struct Model {
    /// The post carrying title, description, author and community.
    #[sea_orm(primary_key, auto_increment = false)]
    pub post_id: i64,
    /// The community (copied from the post for the upcoming-events index).
    pub community_id: i64,
    /// Start, in UTC.
    pub starts_at: DateTimeUtc,
    /// End, in UTC.
    pub ends_at: DateTimeUtc,
    /// IANA time zone the times are given in.
    pub timezone: String,
    /// Name of the place.
    pub place_name: Option<String>,
    /// Street address.
    pub street_address: Option<String>,
    /// Town or city.
    pub locality: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// Region or county.
    pub region: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Latitude of the place.
    pub latitude: Option<f64>,
    /// Longitude of the place.
    pub longitude: Option<f64>,
    /// Link to join online.
    pub online_url: Option<String>,
    /// Places available; none for no limit.
    pub capacity: Option<i32>,
    /// How people take part.
    pub join_mode: JoinMode,
    /// Where to register when `join_mode` is external.
    pub external_url: Option<String>,
    /// Tentative, confirmed or cancelled.
    pub status: EventStatus,
    /// Category (Mobilizon's, e.g. `MEETING`, `WORKSHOP`).
    pub category: Option<String>,
    /// Language tag of the description.
    pub language: Option<String>,
    /// Bumped on every change (iCalendar `SEQUENCE`).
    pub sequence: i32,
    /// People going (for a remote event, as its server last said).
    pub participant_count: i32,
    /// For a remote event: places left, as its server last said.
    pub remaining_capacity: Option<i32>,
}

impl Model {
    /// Places left; none when there is no limit.
    pub fn remaining(&self) -> Option<i32> {
        self.capacity
            .map(|c| (c - self.participant_count).max(0))
            .or(self.remaining_capacity)
    }

    /// True when the event takes place online.
    pub fn is_online(&self) -> bool {
        self.online_url.is_some()
    }

    /// True when the event has a physical place.
    pub fn has_place(&self) -> bool {
        self.place_name.is_some()
            || self.street_address.is_some()
            || self.locality.is_some()
            || self.postcode.is_some()
            || self.region.is_some()
            || self.country.is_some()
            || self.latitude.is_some()
    }
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
