//! The objects: posts (`Note`, `Page`, `Event`, or a `Tombstone` once gone), a thread's
//! `context` collection and the activities we sent. Browsers asking for a post get its page.

use super::{
    collections::page_of,
    negotiation::{activity_json, wants_activity_json},
};
use crate::{
    api::{extract::ApiPath, views},
    error::ApiError,
    AppState,
};
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use copse_entities::{activity, community, post, DbUrl};
use copse_federation::{
    objects::{event::event_of, note_of, replies_of, thread_context, tombstone_of},
    protocol::{ThreadCollection, WithContext},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// `/post/{id}`: the post as ActivityPub, or its thread's page.
pub async fn http_get_post(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let view = views::load(&data.db, id)
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
        let first = page_of(post, None, view.replies);
        note.replies =
            Some(serde_json::to_value(replies_of(post, Some(first))).map_err(ApiError::internal)?);
        return Ok(activity_json(WithContext::new(note)));
    }
    // People read a community on another server from its page here (`/c/name@domain`), as
    // Lemmy shows what it has of remote communities, so its topics have pages here too.
    let viewer = crate::web::session::load(&data.db, &headers).await?;
    Ok(
        crate::web::topic::page(&data, viewer.as_ref(), post, &view.community)
            .await
            .into_response(),
    )
}

/// A thread's collection (FEP-7888 `context`), so other servers can backfill it (FEP-f228).
pub async fn http_get_post_context(
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
    let items: Vec<url::Url> = std::iter::once(topic.ap_id.clone())
        .filter(|_| topic.visible())
        .chain(replies)
        .map(|u| u.0)
        .collect();
    Ok(activity_json(WithContext::new(ThreadCollection {
        id: thread_context(&community, topic.id),
        kind: "OrderedCollection".into(),
        attributed_to: community.ap_id.0.clone(),
        audience: community.ap_id.0.clone(),
        total_items: items.len() as u64,
        ordered_items: items,
    })))
}

/// `/activities/{kind}/{id}`: a public activity we sent, about the post as it is now.
pub async fn http_get_activity(
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
