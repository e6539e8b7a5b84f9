//! The collections: a community's outbox, followers, featured topics, moderators, members and
//! sub-communities; the empty collections an actor must name; a post's `replies`. GoToSocial
//! takes an actor without both `followers` and `following` for an instance actor and never
//! refreshes it, so every actor names both and both are served. Mastodon and GoToSocial fill a thread only from
//! `replies`, so a post's direct replies are served oldest first, in pages.

use super::negotiation::activity_json;
use crate::{
    accounts,
    api::{
        extract::{ApiPath, ApiQuery, Number},
        lookup::local_community,
        views::REPLIES_PAGE as PAGE,
    },
    error::ApiError,
    AppState,
};
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use copse_entities::{activity, community_follower, community_follower::Role, person, post, DbUrl};
use copse_federation::{
    objects::{note_of, replies_of, replies_page},
    protocol::{
        CollectionPage, CountedCollection, OrderedCollection, OutboxCollection, OutboxPage,
        WithContext,
    },
    Data,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{value::RawValue, Value};
use url::Url;

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

/// `/c/{name}/outbox`: the community's public Announces, newest first, in pages.
pub async fn http_get_community_outbox(
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
    let community = local_community(&data, &name).await?;
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
    // The stored activities go out as they are, unparsed.
    let items = crate::current::outbox_items(&data, &community, &rows)
        .await?
        .into_iter()
        .map(RawValue::from_string)
        .collect::<Result<Vec<Box<RawValue>>, _>>()
        .map_err(ApiError::internal)?;
    let page = |query: String| {
        let mut u = outbox.clone();
        u.set_query(Some(&query));
        u
    };
    let next = (rows.len() as u64 == OUTBOX_PAGE)
        .then(|| rows.last().map(|a| a.id))
        .flatten()
        .map(|id| page(format!("page=true&before={id}")));
    if q.page.unwrap_or(false) || before.is_some() {
        let id = page(format!(
            "page=true{}",
            before.map(|b| format!("&before={b}")).unwrap_or_default()
        ));
        return Ok(activity_json(WithContext::new(OutboxPage {
            id,
            kind: "OrderedCollectionPage".into(),
            part_of: outbox,
            next,
            ordered_items: items,
        })));
    }
    {
        let total = activity::Entity::find()
            .filter(activity::Column::CommunityId.eq(community.id))
            .filter(activity::Column::Public.eq(true))
            .filter(activity::Column::Kind.eq("Announce"))
            .filter(crate::current::not_about_gone_posts())
            .count(&data.db)
            .await?;
        // Like Lemmy, the latest activities are in the collection itself; `first` pages on.
        Ok(activity_json(WithContext::new(OutboxCollection {
            first: page("page=true".into()),
            id: outbox,
            kind: "OrderedCollection".into(),
            total_items: total,
            ordered_items: items,
        })))
    }
}

/// `/c/{name}/followers`: only the count.
pub async fn http_get_community_followers(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let community = local_community(&data, &name).await?;
    let total = accounts::follower_count(&data.db, community.id).await?;
    // Only the count is public, in the shape Lemmy reads (see `CountedCollection`).
    Ok(activity_json(WithContext::new(CountedCollection {
        id: data.urls.community_part(&name, "followers"),
        kind: "Collection".into(),
        total_items: total,
        items: Vec::new(),
    })))
}

/// Pinned topics, as the objects themselves (Mastodon shows them on the profile).
pub async fn http_get_community_featured(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let community = local_community(&data, &name).await?;
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

/// `/c/{name}/moderators`: facilitators and coordinators.
pub async fn http_get_community_moderators(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let community = local_community(&data, &name).await?;
    let (total, items) = member_ids(&data, community.id, true).await?;
    Ok(activity_json(WithContext::new(OrderedCollection {
        id: data.urls.community_part(&name, "moderators"),
        kind: "OrderedCollection".into(),
        total_items: total,
        ordered_items: Some(items),
    })))
}

/// `/c/{name}/members`: the total, and the members who chose to be listed; browsers get the
/// member directory page (`?page=` pages it).
pub async fn http_get_community_members(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<crate::web::person::PersonQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let community = local_community(&data, &name).await?;
    if !super::negotiation::wants_activity_json(&headers) {
        let viewer = crate::web::session::load(&data.db, &headers).await?;
        let page = q.page.unwrap_or(1);
        return Ok(
            crate::web::directory::page(&data, viewer.as_ref(), &community, page)
                .await
                .into_response(),
        );
    }
    let (total, items) = member_ids(&data, community.id, false).await?;
    Ok(activity_json(WithContext::new(OrderedCollection {
        id: data.urls.community_part(&name, "members"),
        kind: "OrderedCollection".into(),
        total_items: total,
        ordered_items: Some(items),
    })))
}

/// `/u/{name}/outbox`: Copse publishes nothing from people.
pub async fn http_get_person_outbox(
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

fn empty(id: Url) -> Response {
    activity_json(WithContext::new(OrderedCollection::<Value> {
        id,
        kind: "OrderedCollection".into(),
        total_items: 0,
        ordered_items: Some(Vec::new()),
    }))
}

/// `/c/{name}/following`: the partner communities it follows.
pub async fn http_get_community_following(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let followed = copse_federation::store::partners::followed_by(&data.db, &c).await?;
    Ok(ids_collection(
        data.urls.community_part(&name, "following"),
        &followed,
    ))
}

/// `/c/{name}/partners`: its partner communities, either way; browsers get the partners page.
pub async fn http_get_community_partners(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    if !super::negotiation::wants_activity_json(&headers) {
        let viewer = crate::web::session::load(&data.db, &headers).await?;
        return Ok(crate::web::partners::page(&data, viewer.as_ref(), &c)
            .await
            .into_response());
    }
    let partners = copse_federation::store::partners::partners_of(&data.db, &c).await?;
    Ok(ids_collection(
        data.urls.community_part(&name, "partners"),
        &partners,
    ))
}

fn ids_collection(id: Url, communities: &[copse_entities::community::Model]) -> Response {
    let items: Vec<Value> = communities
        .iter()
        .map(|c| Value::String(c.ap_id.to_string()))
        .collect();
    activity_json(WithContext::new(OrderedCollection {
        id,
        kind: "OrderedCollection".into(),
        total_items: items.len() as u64,
        ordered_items: Some(items),
    }))
}

/// `/u/{name}/followers` and `/u/{name}/following`: people are not followed here, and the
/// communities they follow are their memberships, which each community lists only for members
/// who agreed to be listed.
pub async fn http_get_person_collection(
    State(state): State<AppState>,
    Path((name, collection)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if collection != "followers" && collection != "following" {
        return Err(ApiError::not_found("collection"));
    }
    let data = state.to_request_data();
    accounts::local_person(&data.db, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    Ok(empty(data.urls.person_part(&name, &collection)))
}

/// `/actor/followers` and `/actor/following`: the instance actor only signs fetches.
pub async fn http_get_instance_collection(
    State(state): State<AppState>,
    Path(collection): Path<String>,
) -> Result<Response, ApiError> {
    if collection != "followers" && collection != "following" {
        return Err(ApiError::not_found("collection"));
    }
    Ok(empty(state.urls.instance_actor_part(&collection)))
}

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

/// `/c/{name}/subcommunities`: the communities placed under this one, as an
/// `OrderedCollection` of their ids; browsers get the list as a page.
pub async fn http_get_community_subcommunities(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let community = local_community(&data, &name).await?;
    let children = copse_federation::store::tree::children_of(&data.db, &community).await?;
    if !super::negotiation::wants_activity_json(&headers) {
        let viewer = crate::web::session::load(&data.db, &headers).await?;
        return Ok(crate::web::network::subcommunities_page(
            &data,
            viewer.as_ref(),
            &community,
            children,
        )
        .await
        .into_response());
    }
    Ok(ids_collection(
        data.urls.community_part(&name, "subcommunities"),
        &children,
    ))
}
