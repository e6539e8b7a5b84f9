//! The path parameters many operations share, as `IntoParams` types for `#[utoipa::path]` to
//! name: `params(CommunityName)` documents `{name}` as the tuple form did, once.

use utoipa::IntoParams;

/// The `{name}` of a local community's paths.
#[derive(IntoParams)]
#[into_params(names("name"), parameter_in = Path)]
pub struct CommunityName(
    /// Community name
    pub String,
);

/// The `{id}` of a post's paths.
#[derive(IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
pub struct PostId(
    /// Post row id
    pub i64,
);

/// The `{id}` of an event's paths.
#[derive(IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
pub struct EventId(
    /// Row id of the event's post
    pub i64,
);
