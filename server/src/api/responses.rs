//! The refusals many operations share, each one status with the description the OpenAPI
//! document gives it, for `#[utoipa::path]` to name next to what is an operation's own:
//! `responses((status = 200, ...), NotCoordinator, NoCommunity)`. The refusals every operation
//! may answer (400, 401, 413, 415, 503) are added to all of them by `openapi`.

use crate::error::ErrorBody;
use utoipa::IntoResponses;

/// 403 for an operation only a community's coordinators may do.
#[derive(IntoResponses)]
#[response(status = 403, description = "Not a coordinator")]
pub struct NotCoordinator(pub ErrorBody);

/// 403 for an operation only a community's facilitators and coordinators may do.
#[derive(IntoResponses)]
#[response(status = 403, description = "Not a facilitator or coordinator")]
pub struct NotModerator(pub ErrorBody);

/// 404 for a community named in the path that is not here.
#[derive(IntoResponses)]
#[response(status = 404, description = "No such community")]
pub struct NoCommunity(pub ErrorBody);

/// 404 for a post named in the path that is not here.
#[derive(IntoResponses)]
#[response(status = 404, description = "No such post")]
pub struct NoPost(pub ErrorBody);

/// 404 for an event named in the path that is not here.
#[derive(IntoResponses)]
#[response(status = 404, description = "No such event")]
pub struct NoEvent(pub ErrorBody);

/// 422 for a body with a field whose value is not acceptable (the error names it).
#[derive(IntoResponses)]
#[response(status = 422, description = "A field is not acceptable")]
pub struct BadField(pub ErrorBody);

/// 422 for a query parameter out of its range, such as `limit=1000` (the error names it).
#[derive(IntoResponses)]
#[response(status = 422, description = "A parameter is out of range")]
pub struct OutOfRange(pub ErrorBody);

/// 422 for a `ReasonForm` whose reason is over its limit.
#[derive(IntoResponses)]
#[response(status = 422, description = "The reason is too long")]
pub struct ReasonTooLong(pub ErrorBody);
