//! The OpenAPI 3.1 document of the REST API, served at `/api/v1/openapi.json`. It is derived
//! from the handlers' `#[utoipa::path]` attributes and the types of their bodies and answers,
//! and built once when the router is.

use super::{
    communities, events, listing, membership, notifications, partners,
    path_params::CommunityName,
    posts, profile, reports,
    responses::{NoCommunity, OutOfRange},
    tokens,
};
use crate::error::ErrorBody;
use axum::{
    body::Bytes,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use serde_json::{json, Value};
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Copse REST API",
        description = "JSON in and out. Signed-in requests carry `Authorization: Bearer TOKEN`. \
            Every refusal answers `{\"error\": \"...\", \"field\": ...}`, naming the field or \
            parameter at fault where there is one.",
    ),
    paths(
        communities::http_get_me,
        profile::http_put_me,
        tokens::http_get_tokens,
        tokens::http_post_token,
        tokens::http_delete_token,
        notifications::http_get_notifications,
        notifications::http_post_read,
        notifications::http_get_notification_settings,
        notifications::http_put_notification_settings,
        communities::http_post_community,
        communities::http_get_community,
        communities::http_get_subcommunities,
        communities::http_post_follow,
        communities::http_delete_follow,
        listing::http_get_topics,
        http_get_topics_as_posts,
        posts::http_post_topic,
        listing::http_get_person_posts,
        posts::http_get_thread,
        posts::http_patch_post,
        posts::http_delete_post,
        posts::http_post_reply,
        posts::http_post_remove,
        posts::http_put_lock,
        posts::http_put_pin,
        posts::http_post_reaction,
        posts::http_delete_reaction,
        reports::http_post_report,
        reports::http_get_reports,
        reports::http_post_resolve,
        events::http_post_event,
        events::http_get_events,
        events::http_get_event,
        events::http_patch_event,
        events::http_delete_event,
        events::http_post_cancel,
        events::http_post_rsvp,
        events::participants::http_get_participants,
        events::participants::http_post_decision,
        events::participants::http_post_invite,
        membership::http_put_settings,
        membership::http_get_requests,
        membership::http_post_approve,
        membership::http_post_decline,
        membership::http_post_invite,
        membership::http_get_invites,
        membership::http_delete_invite,
        membership::http_get_members,
        membership::http_patch_membership,
        membership::http_delete_member,
        membership::http_put_role,
        membership::bans::http_post_ban,
        membership::bans::http_get_bans,
        membership::bans::http_delete_ban,
        membership::bans::http_get_log,
        partners::http_get_partners,
        partners::http_get_partner_requests,
        partners::http_post_partner,
        partners::http_delete_partner,
        partners::http_post_partner_decision,
        partners::http_put_share_mode,
        partners::http_get_from_partners,
        partners::http_post_share,
        partners::http_get_shares,
        http_get_openapi,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerToken),
    tags(
        (name = "account", description = "The signed-in account"),
        (name = "notifications", description = "Notifications and the choice of notification mail"),
        (name = "communities", description = "Communities and following them"),
        (name = "topics", description = "Topics, replies and reactions"),
        (name = "moderation", description = "Removals, locks, pins and reports"),
        (name = "events", description = "Events and who takes part"),
        (name = "membership", description = "Settings, members, roles, bans and the log"),
        (name = "partners", description = "Partner communities and what is shared of theirs"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// The `bearer` security scheme the signed-in operations name.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (`copse token` or the account page): \
                         `Authorization: Bearer TOKEN`",
                    ))
                    .build(),
            ),
        );
    }
}

/// A community's topics: the same list as `GET /api/v1/communities/{name}/topics`, at the path
/// that also starts a topic.
#[utoipa::path(get, path = "/api/v1/communities/{name}/posts", tag = "topics",
    params(
        CommunityName,
        super::listing::TopicQuery,
        super::extract::PageQuery,
    ),
    responses(
        (status = 200, description = "A page of topics", body = super::community_views::TopicList),
        NoCommunity, OutOfRange,
    ))]
#[allow(dead_code)]
fn http_get_topics_as_posts() {}

/// The document as served: built once, shared by every request.
#[derive(Clone)]
pub struct OpenApiJson(Bytes);

impl OpenApiJson {
    /// Builds the document.
    pub fn build() -> Self {
        Self(Bytes::from(document().to_string()))
    }
}

/// This document: the REST API in OpenAPI 3.1.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document, as JSON")))]
pub async fn http_get_openapi(State(doc): State<OpenApiJson>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], doc.0).into_response()
}

/// The refusals any operation may answer, beside those it names: a malformed request, a
/// database that is not there, and for signed-in ones a missing or bad token; for those that
/// read a body, one too large or not JSON.
const COMMON_ERRORS: [(&str, &str); 2] = [
    (
        "400",
        "Malformed request: the field or parameter at fault is named",
    ),
    ("503", "The database is unavailable; retry later"),
];

/// The document as JSON, with the common refusals added to every operation.
pub fn document() -> Value {
    // Serialising the derived document cannot fail (it holds only strings, maps and numbers);
    // an empty object would fail the tests that read it.
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for op in item.values_mut() {
                add_common_errors(op);
            }
        }
    }
    doc
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {
            "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } }
        }
    })
}

fn add_common_errors(op: &mut Value) {
    let signed_in = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|reqs| {
            reqs.iter()
                .any(|r| r.as_object().is_some_and(|o| !o.is_empty()))
        });
    let has_body = op.get("requestBody").is_some();
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| error_response(description));
    };
    for (status, description) in COMMON_ERRORS {
        add(status, description);
    }
    if signed_in {
        add("401", "A valid bearer token is required");
    }
    if has_body {
        add("413", "The body is too large");
        add("415", "The body is not `Content-Type: application/json`");
    }
}
