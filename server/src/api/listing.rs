//! Reading lists: a community's topics (by activity or date, optionally only those with a
//! hashtag) and a person's posts. The HTML community page lists topics the same way.

use super::{
    community_views::{PersonPosts, TopicList},
    extract::{ApiPath, ApiQuery, AuthUser, PageQuery},
    fields::tag_param,
    lookup::{known_person, resolve_handle, topics, Sort},
    path_params::CommunityName,
    responses::{NoCommunity, OutOfRange},
    views::{author_view, counts, post_view, PostItem},
};
use crate::{
    accounts,
    error::{ApiError, ErrorBody},
    AppState,
};
use axum::{extract::State, routing::get, Json, Router};
use copse_entities::{community, post};
use copse_federation::{fetch::ActorRef, Data};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::IntoParams;

/// The reading routes. `GET /api/v1/communities/{name}/posts` (the same list as `topics`)
/// shares its path with starting a topic, so the router adds it.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/communities/{name}/topics", get(http_get_topics))
        .route("/api/v1/people/{handle}/posts", get(http_get_person_posts))
}

/// Query of the topic list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopicQuery {
    /// `active` (last activity, the default) or `new`.
    #[serde(default)]
    pub sort: Option<String>,
    /// Only topics with this hashtag (with or without `#`, any case).
    #[serde(default)]
    pub tag: Option<String>,
    /// `page` and `limit`.
    #[serde(flatten)]
    #[param(ignore)]
    pub paging: PageQuery,
}

/// A community's topics, pinned ones first (also at `GET /api/v1/communities/{name}/posts`).
#[utoipa::path(get, path = "/api/v1/communities/{name}/topics", tag = "topics",
    params(CommunityName, TopicQuery, PageQuery),
    responses(
        (status = 200, description = "A page of topics", body = TopicList),
        NoCommunity, OutOfRange,
    ))]
pub async fn http_get_topics(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<TopicQuery>,
) -> Result<Json<TopicList>, ApiError> {
    let data = state.to_request_data();
    let (page, limit) = q.paging.checked()?;
    let sort = Sort::parse(q.sort.as_deref())?;
    let tag = tag_param(q.tag.as_deref())?;
    let c = accounts::local_community(&data.db, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("community"))?;
    let offset = PageQuery::offset(page, limit);
    let rows = topics(&data.db, &c, sort, tag.as_deref(), offset, limit).await?;
    let authors = accounts::people_by_id(&data.db, rows.iter().map(|p| p.author_id)).await?;
    let counts = counts(&data.db, &rows).await?;
    let items: Vec<PostItem> = rows
        .iter()
        .map(|p| post_view(p, &c, authors.get(&p.author_id), &counts))
        .collect();
    Ok(Json(TopicList {
        page,
        sort: sort.name().to_string(),
        tag,
        items,
    }))
}

/// A person to read: anyone may name one known here, but only signed-in readers may have an
/// unknown remote one looked up, so that no anonymous request makes this server fetch.
async fn person_to_read(
    data: &Data,
    handle: &str,
    reader: Option<&AuthUser>,
) -> Result<copse_entities::person::Model, ApiError> {
    if let Some(p) = known_person(data, handle.trim_start_matches('@')).await? {
        return Ok(p);
    }
    if reader.is_none() {
        return Err(ApiError::not_found("person").with_field("handle"));
    }
    match resolve_handle(data, handle, "handle").await? {
        ActorRef::Person(p) => Ok(p),
        ActorRef::Community(_) => Err(ApiError::invalid("handle", "that handle is a community")),
    }
}

/// A person's topics and replies, newest first. Only signed-in readers may name a remote
/// person this server does not know yet.
#[utoipa::path(get, path = "/api/v1/people/{handle}/posts", tag = "topics",
    security((), ("bearer" = [])),
    params(("handle" = String, Path, description = "`name` or `name@domain`"), PageQuery),
    responses(
        (status = 200, description = "A page of posts", body = PersonPosts),
        (status = 404, description = "No such person", body = ErrorBody),
        OutOfRange,
    ))]
pub async fn http_get_person_posts(
    State(state): State<AppState>,
    reader: Option<AuthUser>,
    ApiPath(handle): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<PersonPosts>, ApiError> {
    let data = state.to_request_data();
    let (page, limit) = q.checked()?;
    let person = person_to_read(&data, &handle, reader.as_ref()).await?;
    let rows = post::Entity::find()
        .filter(post::Column::AuthorId.eq(person.id))
        .filter(post::Column::Deleted.eq(false))
        .filter(post::Column::Removed.eq(false))
        .order_by_desc(post::Column::Published)
        .order_by_desc(post::Column::Id)
        .offset(PageQuery::offset(page, limit))
        .limit(limit)
        .all(&data.db)
        .await?;
    let communities: HashMap<i64, community::Model> = community::Entity::find()
        .filter(community::Column::Id.is_in(rows.iter().map(|p| p.community_id)))
        .all(&data.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let counts = counts(&data.db, &rows).await?;
    let items: Vec<PostItem> = rows
        .iter()
        .filter_map(|p| {
            communities
                .get(&p.community_id)
                .map(|c| post_view(p, c, Some(&person), &counts))
        })
        .collect();
    Ok(Json(PersonPosts {
        person: author_view(&person),
        page,
        items,
    }))
}
