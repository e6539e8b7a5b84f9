//! A post's `replies` collection, so that Mastodon and GoToSocial, which fill a thread only from
//! `replies`, can backfill it: the direct replies of the post, oldest first, in pages.

use crate::{error::ApiError, post_view::REPLIES_PAGE as PAGE, routes::activity_json, AppState};
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use copse_entities::{post, DbUrl};
use copse_federation::{
    objects::{replies_of, replies_page},
    protocol::{CollectionPage, WithContext},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// Query of `/post/{id}/replies`: `page=true` for a page, `after` the row id it starts after.
#[derive(Debug, Default, serde::Deserialize)]
pub struct RepliesQuery {
    /// Ask for a page rather than the collection.
    #[serde(default)]
    pub page: Option<bool>,
    /// Only replies after this row id.
    #[serde(default)]
    pub after: Option<i64>,
}

/// The page of `p`'s direct replies after the row id `after`, leaving out deleted and removed
/// ones.
pub async fn replies_after(
    db: &impl ConnectionTrait,
    p: &post::Model,
    after: Option<i64>,
) -> Result<CollectionPage, ApiError> {
    let mut q = post::Entity::find()
        .select_only()
        .column(post::Column::Id)
        .column(post::Column::ApId)
        .filter(post::Column::ParentId.eq(p.id))
        .filter(post::Column::Deleted.eq(false))
        .filter(post::Column::Removed.eq(false));
    if let Some(a) = after {
        q = q.filter(post::Column::Id.gt(a));
    }
    let rows: Vec<(i64, DbUrl)> = q
        .order_by_asc(post::Column::Id)
        .limit(PAGE + 1)
        .into_tuple()
        .all(db)
        .await?;
    Ok(page_of(p, after, rows))
}

/// The page of `p`'s replies after `after` from up to `PAGE + 1` rows (row id and id) in
/// order: one more than a page means there is a next one.
pub fn page_of(p: &post::Model, after: Option<i64>, mut rows: Vec<(i64, DbUrl)>) -> CollectionPage {
    let more = rows.len() as u64 > PAGE;
    rows.truncate(PAGE as usize);
    let next = more.then(|| rows.last().map(|r| r.0)).flatten();
    let items = rows.into_iter().map(|(_, u)| u.0).collect();
    replies_page(p, after, items, next)
}

/// `/post/{id}/replies`: the collection with its first page embedded, or one page.
pub async fn http_get_post_replies(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<RepliesQuery>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    // Other servers' posts are theirs to serve.
    let p = post::Entity::find_by_id(id)
        .filter(post::Column::Local.eq(true))
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("post"))?;
    let page = replies_after(&data.db, &p, q.after).await?;
    if q.page.unwrap_or(false) || q.after.is_some() {
        return Ok(activity_json(WithContext::new(page)));
    }
    Ok(activity_json(WithContext::new(replies_of(&p, Some(page)))))
}
