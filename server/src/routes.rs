//! The router, and the ActivityPub endpoints: actors, collections, objects, activities and
//! inboxes. Federation routes are merged flat (no `nest`), so signed paths stay as signed.

use crate::{
    accounts, api,
    error::ApiError,
    extract::{ApiPath, ApiQuery, Number},
    html, limits,
    settings::HttpSettings,
    wellknown, AppState,
};
use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri},
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use copse_entities::{
    activity, community, community_follower, community_follower::Role, person, post, DbUrl,
};
use copse_federation::{
    inbox::{ingest, IncomingRequest, Ingested},
    objects::{
        event::event_of, group_of, instance_actor, note_of, person_of, replies_of, thread_context,
        tombstone_of,
    },
    protocol::{CountedCollection, OrderedCollection, WithContext},
    Data,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::{json, Value};

/// Builds the whole application router. Public GETs go through a short-lived response cache
/// (`http.cache_ms`, zero to turn it off); every request body has `http.body_read_timeout_seconds`
/// to arrive; inbox requests in progress are capped per client address.
pub fn router(state: AppState, http: &HttpSettings) -> Router {
    let cache = crate::cache::ResponseCache::new(
        std::time::Duration::from_millis(http.cache_ms),
        http.cache_max_bytes,
    );
    let cached = Router::new()
        .route("/", get(html::http_get_home))
        .route("/.well-known/webfinger", get(wellknown::http_get_webfinger))
        .route(
            "/.well-known/nodeinfo",
            get(wellknown::http_get_nodeinfo_links),
        )
        .route("/nodeinfo/2.1", get(wellknown::http_get_nodeinfo))
        .route("/actor", get(http_get_instance_actor))
        .route("/c/{name}", get(http_get_community))
        .route("/c/{name}/outbox", get(http_get_community_outbox))
        .route("/c/{name}/followers", get(http_get_community_followers))
        .route(
            "/c/{name}/following",
            get(crate::collections::http_get_community_following),
        )
        .route("/c/{name}/featured", get(http_get_community_featured))
        .route("/c/{name}/moderators", get(http_get_community_moderators))
        .route("/c/{name}/members", get(http_get_community_members))
        .route("/c/{name}/rules", get(http_get_community_rules))
        .route("/u/{name}", get(http_get_person))
        .route("/u/{name}/outbox", get(http_get_person_outbox))
        .route(
            "/u/{name}/{collection}",
            get(crate::collections::http_get_person_collection),
        )
        .route(
            "/actor/{collection}",
            get(crate::collections::http_get_instance_collection),
        )
        .route("/post/{id}", get(http_get_post))
        .route("/post/{id}/context", get(http_get_post_context))
        .route(
            "/post/{id}/replies",
            get(crate::replies::http_get_post_replies),
        )
        .route(
            "/post/{id}/event.ics",
            get(crate::event_api::http_get_event_calendar),
        )
        .route(
            "/c/{name}/events.ics",
            get(crate::event_api::http_get_community_calendar),
        )
        // Remote ids are restored before a document is cached, so that a cached one is served
        // as it is kept, not parsed and looked up again on every request.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::remote_ids::layer,
        ))
        .route_layer(middleware::from_fn_with_state(cache, crate::cache::layer));
    let activities = Router::new()
        .route("/activities/{kind}/{id}", get(http_get_activity))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::remote_ids::layer,
        ));
    let inboxes = Router::new()
        .route("/inbox", post(http_post_inbox))
        .route("/actor/inbox", post(http_post_inbox))
        .route("/c/{name}/inbox", post(http_post_inbox))
        .route("/u/{name}/inbox", post(http_post_inbox))
        .route_layer(middleware::from_fn_with_state(
            limits::InboxSlots::new(http),
            limits::inbox_slots,
        ));
    let body_deadline = std::time::Duration::from_secs(http.body_read_timeout_seconds);
    Router::new()
        .merge(cached)
        .merge(inboxes)
        .merge(activities)
        .merge(api::router())
        .merge(crate::membership_api::router())
        .merge(crate::discussion_api::router())
        .merge(crate::reports_api::router())
        .merge(crate::event_api::router())
        .merge(crate::profile_api::router())
        .fallback(http_not_found)
        .method_not_allowed_fallback(http_method_not_allowed)
        .layer(middleware::from_fn_with_state(
            body_deadline,
            limits::body_deadline,
        ))
        .layer(middleware::map_response(security_headers))
        .with_state(state)
}

/// Unknown paths: the API's error shape, like every other refusal.
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
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// True when the client asks for ActivityPub JSON rather than a page.
pub fn wants_activity_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/activity+json") || v.contains("application/ld+json"))
}

/// An ActivityPub JSON response.
pub fn activity_json(value: impl Serialize) -> Response {
    match serde_json::to_vec(&value) {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/activity+json; charset=utf-8"),
            )],
            body,
        )
            .into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

async fn http_post_inbox(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let data = state.to_request_data();
    let limit = data.settings.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return inbox_error(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
    }
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return inbox_error(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
    };
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let req = IncomingRequest {
        method: method.as_str(),
        path_and_query: path,
        headers: &headers,
        body: &bytes,
    };
    match ingest(&data, req).await {
        Ok(Ingested::Stored | Ingested::Duplicate | Ingested::Ignored) => {
            StatusCode::ACCEPTED.into_response()
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            tracing::debug!("inbox refused ({status}): {e}");
            let message = if status.is_server_error() {
                "try again later".to_string()
            } else {
                e.to_string()
            };
            inbox_error(status, &message)
        }
    }
}

fn inbox_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": message, "field": null })),
    )
        .into_response()
}

async fn http_get_instance_actor(State(state): State<AppState>) -> Result<Response, ApiError> {
    let site = crate::db::site(&state.db).await?;
    Ok(activity_json(WithContext::new(instance_actor(
        &state.urls,
        &site.public_key_pem,
        site.created_at,
    ))))
}

async fn find_community(data: &Data, name: &str) -> Result<community::Model, ApiError> {
    accounts::local_community(&data.db, name)
        .await?
        .ok_or_else(|| ApiError::not_found("community"))
}

/// Query of a community's page: `tag` shows only the topics with that hashtag (the links of
/// hashtags in posts lead here).
#[derive(Debug, Default, serde::Deserialize)]
pub struct CommunityQuery {
    /// A hashtag, with or without `#`.
    #[serde(default)]
    pub tag: Option<String>,
}

async fn http_get_community(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<CommunityQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let community = find_community(&data, &name).await?;
    if wants_activity_json(&headers) {
        return Ok(activity_json(WithContext::new(group_of(
            &data.urls, &community,
        ))));
    }
    let tag = crate::listing_api::tag_param(q.tag.as_deref())?;
    html::community_page(&data, &community, tag.as_deref()).await
}

/// Query of the outbox: `page=true` for a page, `before` an activity row id to page back from.
#[derive(Debug, Default, serde::Deserialize)]
pub struct OutboxQuery {
    /// Ask for a page rather than the collection.
    #[serde(default)]
    pub page: Option<bool>,
    /// Only activities older than this row id (1 or more).
    #[serde(default)]
    pub before: Option<Number>,
}

/// Activities per outbox page (Lemmy reads the first 20).
const OUTBOX_PAGE: u64 = 20;

async fn http_get_community_outbox(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let before = q
        .before
        .as_ref()
        .map(|b| b.within("before", 1, i64::MAX))
        .transpose()?;
    let community = find_community(&data, &name).await?;
    let outbox = data.urls.community_part(&name, "outbox");
    // Only Announces: Lemmy reads the outbox as a list of them, and one item of another type
    // makes it drop the whole collection.
    let mut query = activity::Entity::find()
        .filter(activity::Column::CommunityId.eq(community.id))
        .filter(activity::Column::Public.eq(true))
        .filter(activity::Column::Kind.eq("Announce"))
        .filter(crate::current::not_about_gone_posts());
    if let Some(before) = before {
        query = query.filter(activity::Column::Id.lt(before));
    }
    // Each keeps its own @context; those about a post embed it as it is now.
    let rows = query
        .order_by_desc(activity::Column::Id)
        .limit(OUTBOX_PAGE)
        .all(&data.db)
        .await?;
    let items = crate::current::outbox_items(&data, &community, &rows).await?;
    let next = (rows.len() as u64 == OUTBOX_PAGE)
        .then(|| rows.last().map(|a| a.id))
        .flatten()
        .map(|id| format!("{outbox}?page=true&before={id}"));
    let head = if q.page.unwrap_or(false) || before.is_some() {
        let mut id = outbox.clone();
        id.set_query(Some(&format!(
            "page=true{}",
            before.map(|b| format!("&before={b}")).unwrap_or_default()
        )));
        json!({
            "@context": copse_federation::protocol::context(),
            "id": id,
            "type": "OrderedCollectionPage",
            "partOf": outbox,
            "next": next,
        })
    } else {
        let total = activity::Entity::find()
            .filter(activity::Column::CommunityId.eq(community.id))
            .filter(activity::Column::Public.eq(true))
            .filter(activity::Column::Kind.eq("Announce"))
            .filter(crate::current::not_about_gone_posts())
            .count(&data.db)
            .await?;
        // Like Lemmy, the latest activities are in the collection itself; `first` pages on.
        json!({
            "@context": copse_federation::protocol::context(),
            "id": outbox,
            "type": "OrderedCollection",
            "totalItems": total,
            "first": format!("{outbox}?page=true"),
        })
    };
    let head = serde_json::to_string(&head).map_err(ApiError::internal)?;
    // `head` is a JSON object; splice the stored items in before its closing brace.
    let body = format!(
        "{},\"orderedItems\":[{}]}}",
        head.strip_suffix('}').unwrap_or(&head),
        items.join(",")
    );
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/activity+json; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}

async fn http_get_community_followers(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let community = find_community(&data, &name).await?;
    let total = crate::accounts::follower_count(&data.db, community.id).await?;
    // Only the count is public, in the shape Lemmy reads (see `CountedCollection`).
    Ok(activity_json(WithContext::new(CountedCollection {
        id: data.urls.community_part(&name, "followers"),
        kind: "Collection".into(),
        total_items: total,
        items: Vec::new(),
    })))
}

/// Pinned topics, as the objects themselves (Mastodon shows them on the profile).
async fn http_get_community_featured(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let community = find_community(&data, &name).await?;
    let pinned = post::Entity::find()
        .filter(post::Column::CommunityId.eq(community.id))
        .filter(post::Column::TopicId.is_null())
        .filter(post::Column::Pinned.eq(true))
        .filter(post::Column::Deleted.eq(false))
        .filter(post::Column::Removed.eq(false))
        .order_by_desc(post::Column::Id)
        .limit(50)
        .all(&data.db)
        .await?;
    let authors = accounts::people_by_id(&data.db, pinned.iter().map(|p| p.author_id)).await?;
    let items: Vec<Value> = pinned
        .iter()
        // Every item embedded, remote topics rebuilt from their rows: one bare id makes Lemmy
        // ignore the whole collection.
        .filter_map(|p| {
            let author = authors.get(&p.author_id)?;
            serde_json::to_value(note_of(p, &community, author, None)).ok()
        })
        .collect();
    Ok(activity_json(WithContext::new(OrderedCollection {
        id: data.urls.community_part(&name, "featured"),
        kind: "OrderedCollection".into(),
        total_items: items.len() as u64,
        ordered_items: Some(items),
    })))
}

/// Accepted members: only moderators (facilitators and coordinators), or all members of whom
/// only those who chose to be listed are named. Returns the total and the first 1000 ids.
async fn member_ids(
    data: &Data,
    community_id: i64,
    moderators: bool,
) -> Result<(u64, Vec<Value>), ApiError> {
    let mut q = community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(community_id))
        .filter(community_follower::Column::Pending.eq(false));
    if moderators {
        q = q.filter(community_follower::Column::Role.ne(Role::Member));
    }
    let total = q.clone().count(&data.db).await?;
    if !moderators {
        q = q.filter(community_follower::Column::Listed.eq(true));
    }
    let person_ids: Vec<i64> = q
        .select_only()
        .column(community_follower::Column::PersonId)
        .order_by_asc(community_follower::Column::Id)
        .limit(1000)
        .into_tuple()
        .all(&data.db)
        .await?;
    let ids = person::Entity::find()
        .filter(person::Column::Id.is_in(person_ids))
        .all(&data.db)
        .await?
        .into_iter()
        .map(|p| Value::String(p.ap_id.to_string()))
        .collect();
    Ok((total, ids))
}

async fn http_get_community_moderators(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let community = find_community(&data, &name).await?;
    let (total, items) = member_ids(&data, community.id, true).await?;
    Ok(activity_json(WithContext::new(OrderedCollection {
        id: data.urls.community_part(&name, "moderators"),
        kind: "OrderedCollection".into(),
        total_items: total,
        ordered_items: Some(items),
    })))
}

async fn http_get_community_members(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let community = find_community(&data, &name).await?;
    let (total, items) = member_ids(&data, community.id, false).await?;
    Ok(activity_json(WithContext::new(OrderedCollection {
        id: data.urls.community_part(&name, "members"),
        kind: "OrderedCollection".into(),
        total_items: total,
        ordered_items: Some(items),
    })))
}

async fn http_get_community_rules(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let community = find_community(&data, &name).await?;
    Ok(html::rules_page(&community))
}

async fn http_get_person(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let person = accounts::local_person(&data.db, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    if wants_activity_json(&headers) {
        return Ok(activity_json(WithContext::new(person_of(
            &data.urls, &person,
        ))));
    }
    Ok(html::person_page(&person))
}

async fn http_get_person_outbox(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    accounts::local_person(&data.db, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    Ok(activity_json(WithContext::new(
        OrderedCollection::<Value> {
            id: data.urls.person_part(&name, "outbox"),
            kind: "OrderedCollection".into(),
            total_items: 0,
            ordered_items: Some(Vec::new()),
        },
    )))
}

async fn http_get_post(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let view = crate::post_view::load(&data.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("post"))?;
    let post = &view.post;
    if wants_activity_json(&headers) {
        // Other servers' posts are theirs to serve.
        if !post.local {
            return Err(ApiError::not_found("post"));
        }
        if !post.visible() {
            let tombstone = match view.event {
                Some(_) => copse_federation::objects::event::event_tombstone(post),
                None => tombstone_of(post),
            };
            let mut res = activity_json(WithContext::new(tombstone));
            *res.status_mut() = StatusCode::GONE;
            return Ok(res);
        }
        if let Some(e) = &view.event {
            let hint = copse_federation::rules::participation::answer_hint(&view.community);
            let object = event_of(post, e, &view.community, &view.author, &hint);
            return Ok(activity_json(WithContext::new(object)));
        }
        let parent = view.parent_ap_id.map(|u| u.0);
        let mut note = note_of(post, &view.community, &view.author, parent.as_ref());
        let first = crate::replies::page_of(post, None, view.replies);
        note.replies =
            Some(serde_json::to_value(replies_of(post, Some(first))).map_err(ApiError::internal)?);
        return Ok(activity_json(WithContext::new(note)));
    }
    if !view.community.local && !post.local {
        return Err(ApiError::not_found("post"));
    }
    html::thread_page(&data, post, &view.community).await
}

/// A thread's collection (FEP-7888 `context`), so other servers can backfill it (FEP-f228).
async fn http_get_post_context(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let topic = post::Entity::find_by_id(id)
        .filter(post::Column::TopicId.is_null())
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("thread"))?;
    let community = community::Entity::find_by_id(topic.community_id)
        .filter(community::Column::Local.eq(true))
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("thread"))?;
    let replies: Vec<DbUrl> = post::Entity::find()
        .select_only()
        .column(post::Column::ApId)
        .filter(post::Column::TopicId.eq(topic.id))
        .filter(post::Column::Deleted.eq(false))
        .filter(post::Column::Removed.eq(false))
        .order_by_asc(post::Column::Id)
        .limit(5000)
        .into_tuple()
        .all(&data.db)
        .await?;
    let items: Vec<Value> = std::iter::once(topic.ap_id.clone())
        .filter(|_| topic.visible())
        .chain(replies)
        .map(|u| Value::String(u.to_string()))
        .collect();
    Ok(activity_json(json!({
        "@context": copse_federation::protocol::context(),
        "id": thread_context(&community, topic.id),
        "type": "OrderedCollection",
        "attributedTo": community.ap_id,
        "audience": community.ap_id,
        "totalItems": items.len(),
        "orderedItems": items,
    })))
}

async fn http_get_activity(
    State(state): State<AppState>,
    ApiPath((kind, id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let mut url = data.urls.base().clone();
    url.set_path(&format!("/activities/{kind}/{id}"));
    let row = activity::Entity::find()
        .filter(activity::Column::ApId.eq(DbUrl(url)))
        .filter(activity::Column::Public.eq(true))
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("activity"))?;
    Ok(activity_json(
        crate::current::current_activity(&data, &row).await?,
    ))
}
