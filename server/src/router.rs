//! The whole application router: ActivityPub, the REST API, pages and `.well-known`, with
//! their layers (response cache, remote ids, inbox slots, body deadline, security headers).
//! Federation routes are merged flat (no `nest`), so signed paths stay as signed.

use crate::{
    ap::{actors, collections, inbox, objects},
    api::{
        communities, events, listing, membership, notifications, posts, profile, reports, tokens,
    },
    error::ApiError,
    feeds, limits,
    settings::HttpSettings,
    wellknown, AppState,
};
use axum::{
    http::{header, HeaderValue, StatusCode},
    middleware,
    response::Response,
    routing::{get, post},
    Router,
};

/// Builds the whole application router. Public GETs go through a short-lived response cache
/// (`http.cache_ms`, zero to turn it off); every request body has `http.body_read_timeout_seconds`
/// to arrive; inbox requests in progress are capped per client address.
pub fn router(state: AppState, http: &HttpSettings) -> Router {
    let cache = crate::cache::ResponseCache::new(
        std::time::Duration::from_millis(http.cache_ms),
        http.cache_max_bytes,
    );
    let cached = Router::new()
        .route("/", get(crate::web::home::http_get_home))
        .route("/.well-known/webfinger", get(wellknown::http_get_webfinger))
        .route(
            "/.well-known/nodeinfo",
            get(wellknown::http_get_nodeinfo_links),
        )
        .route("/nodeinfo/2.1", get(wellknown::http_get_nodeinfo))
        .route("/actor", get(actors::http_get_instance_actor))
        .route("/c/{name}", get(actors::http_get_community))
        .route(
            "/c/{name}/outbox",
            get(collections::http_get_community_outbox),
        )
        .route(
            "/c/{name}/followers",
            get(collections::http_get_community_followers),
        )
        .route(
            "/c/{name}/following",
            get(collections::http_get_community_following),
        )
        .route(
            "/c/{name}/featured",
            get(collections::http_get_community_featured),
        )
        .route(
            "/c/{name}/moderators",
            get(collections::http_get_community_moderators),
        )
        .route(
            "/c/{name}/members",
            get(collections::http_get_community_members),
        )
        .route(
            "/c/{name}/partners",
            get(collections::http_get_community_partners),
        )
        .route(
            "/c/{name}/subcommunities",
            get(collections::http_get_community_subcommunities),
        )
        .route("/c/{name}/rules", get(actors::http_get_community_rules))
        .route("/u/{name}", get(actors::http_get_person))
        .route("/u/{name}/outbox", get(collections::http_get_person_outbox))
        .route(
            "/u/{name}/{collection}",
            get(collections::http_get_person_collection),
        )
        .route(
            "/actor/{collection}",
            get(collections::http_get_instance_collection),
        )
        .route("/post/{id}", get(objects::http_get_post))
        .route("/post/{id}/context", get(objects::http_get_post_context))
        .route(
            "/post/{id}/replies",
            get(collections::http_get_post_replies),
        )
        .route("/post/{id}/event.ics", get(events::http_get_event_calendar))
        .route(
            "/c/{name}/events.ics",
            get(events::http_get_community_calendar),
        )
        .route("/c/{name}/feed.atom", get(feeds::http_get_community_feed))
        .route(
            "/c/{name}/events.atom",
            get(feeds::http_get_community_events_feed),
        )
        .route("/post/{id}/feed.atom", get(feeds::http_get_topic_feed))
        // Remote ids are restored before a document is cached, so that a cached one is served
        // as it is kept, not parsed and looked up again on every request.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::remote_ids::layer,
        ))
        .route_layer(middleware::from_fn_with_state(cache, crate::cache::layer));
    let activities = Router::new()
        .route("/activities/{kind}/{id}", get(objects::http_get_activity))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::remote_ids::layer,
        ));
    let inboxes = Router::new()
        .route("/inbox", post(inbox::http_post_inbox))
        .route("/actor/inbox", post(inbox::http_post_inbox))
        .route("/c/{name}/inbox", post(inbox::http_post_inbox))
        .route("/u/{name}/inbox", post(inbox::http_post_inbox))
        .route_layer(middleware::from_fn_with_state(
            limits::InboxSlots::new(http),
            limits::inbox_slots,
        ));
    let body_deadline = std::time::Duration::from_secs(http.body_read_timeout_seconds);
    Router::new()
        .merge(cached)
        .merge(inboxes)
        .merge(activities)
        .merge(communities::router())
        .merge(membership::router())
        .merge(posts::router())
        .route(
            "/api/v1/communities/{name}/posts",
            post(posts::http_post_topic).get(listing::http_get_topics),
        )
        .merge(listing::router())
        .merge(reports::router())
        .merge(events::router())
        .merge(profile::router())
        .merge(tokens::router())
        .merge(notifications::router())
        .merge(crate::api::partners::router())
        .route(
            "/api/v1/openapi.json",
            get(crate::api::openapi::http_get_openapi)
                .with_state(crate::api::openapi::OpenApiJson::build()),
        )
        .merge(crate::web::router())
        .fallback(http_not_found)
        .method_not_allowed_fallback(http_method_not_allowed)
        .layer(middleware::from_fn_with_state(
            limits::InboxSlots::new(http),
            limits::client_address,
        ))
        .layer(middleware::from_fn_with_state(
            body_deadline,
            limits::body_deadline,
        ))
        .layer(middleware::from_fn(crate::error_page::layer))
        .layer(middleware::map_response(security_headers))
        .with_state(state)
}

/// Unknown paths: the API's error shape, like every other refusal (a page for browsers).
async fn http_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such page or endpoint")
}

/// Known paths asked with a method they do not take.
async fn http_method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this path does not take that method",
    )
}

async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        // The one script (`/static/copse.js`) and its preview requests are this origin's; no
        // inline script runs, so text that slipped through sanitising still cannot.
        HeaderValue::from_static("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; frame-ancestors 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}
