//! The API's lookups: communities and people by name or handle (local, known here, or fetched
//! by WebFinger), a post (or an event) and its community, the check that the caller moderates
//! it, and the people a post mentions, a community's topics and events. Each answers a 404
//! naming what was not found.

use super::extract::AuthUser;
use crate::{accounts, error::ApiError, ical, markdown};
use axum::http::StatusCode;
use copse_entities::{community, event, person, post};
use copse_federation::{fetch, Data};
use sea_orm::{
    sea_query::{Expr, ExprTrait, Func, LikeExpr},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// A post by row id.
pub async fn find_post(data: &Data, id: i64) -> Result<post::Model, ApiError> {
    post::Entity::find_by_id(id)
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("post"))
}

/// The event of post `id`, or a 404 naming `post` or `event`.
pub async fn find_event(data: &Data, id: i64) -> Result<(post::Model, event::Model), ApiError> {
    let p = find_post(data, id).await?;
    let e = copse_federation::store::events::event_of_post(&data.db, p.id)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    Ok((p, e))
}

/// The community a post is in.
pub async fn community_of(data: &Data, p: &post::Model) -> Result<community::Model, ApiError> {
    community::Entity::find_by_id(p.community_id)
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("community"))
}

/// Requires a facilitator or coordinator of the post's community (instance admins pass).
pub async fn require_moderator(
    data: &Data,
    c: &community::Model,
    auth: &AuthUser,
) -> Result<(), ApiError> {
    if auth.user.admin
        || copse_federation::rules::posting::moderates(&data.db, c, &auth.person).await?
    {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "only facilitators and coordinators may do this",
    ))
}

/// A community of this server by name, or a 404 naming `community`.
pub async fn local_community(data: &Data, name: &str) -> Result<community::Model, ApiError> {
    accounts::local_community(&data.db, name)
        .await?
        .ok_or_else(|| ApiError::not_found("community"))
}

/// Resolves `name`, `name@domain` or `@name@domain` to a community, fetching remote ones.
pub async fn resolve_community(data: &Data, handle: &str) -> Result<community::Model, ApiError> {
    match resolve_handle(data, handle, "community").await? {
        fetch::ActorRef::Community(c) => {
            fetch::resolve_parents(data, &c, copse_federation::store::tree::MAX_DEPTH).await;
            Ok(c)
        }
        fetch::ActorRef::Person(_) => Err(ApiError::invalid(
            "community",
            "that handle is a person, not a community",
        )),
    }
}

/// Resolves `name`, `name@domain` or `@name@domain` to a local or remote actor (remote ones by
/// WebFinger); errors name `field`.
pub async fn resolve_handle(
    data: &Data,
    handle: &str,
    field: &str,
) -> Result<fetch::ActorRef, ApiError> {
    let handle = handle.trim().trim_start_matches('@');
    let local_suffix = format!("@{}", data.settings.domain);
    if let Some(name) = handle
        .strip_suffix(&local_suffix)
        .or((!handle.contains('@')).then_some(handle))
    {
        // People and communities share one name space, so at most one of these exists.
        if let Some(c) = accounts::local_community(&data.db, name).await? {
            return Ok(fetch::ActorRef::Community(c));
        }
        return match accounts::local_person(&data.db, name).await? {
            Some(p) => Ok(fetch::ActorRef::Person(p)),
            None => Err(ApiError::not_found(field).with_field(field)),
        };
    }
    if let Some(p) = known_person(data, handle).await? {
        return Ok(fetch::ActorRef::Person(p));
    }
    fetch::webfinger(data, handle).await.map_err(|e| match e {
        copse_federation::Error::NotFound => ApiError::not_found(field).with_field(field),
        copse_federation::Error::Url(m) => ApiError::invalid(field, m),
        e => ApiError::from(e).with_field(field),
    })
}

/// A person by `name` (local) or `name@domain` (already known here), without fetching.
pub async fn known_person(data: &Data, handle: &str) -> Result<Option<person::Model>, ApiError> {
    let handle = handle.trim().trim_start_matches('@');
    let (name, domain) = match handle.split_once('@') {
        Some((n, d)) => (n, d),
        None => (handle, data.settings.domain.as_str()),
    };
    if domain == data.settings.domain {
        return Ok(accounts::local_person(&data.db, name).await?);
    }
    if domain.contains(['%', '_', '/']) {
        return Ok(None);
    }
    Ok(person::Entity::find()
        .filter(person::Column::Name.eq(name))
        .filter(person::Column::Local.eq(false))
        .filter(person::Column::ApId.like(format!("%://{domain}/%")))
        .one(&data.db)
        .await?)
}

/// A post's markdown rendered in community `c`, with the people it mentions looked up here
/// (never fetched), one by one in the order they are mentioned: see `markdown::post_html`.
pub async fn render_post(
    data: &Data,
    c: &community::Model,
    text: &str,
) -> Result<(String, Vec<Value>), ApiError> {
    let mut people = BTreeMap::new();
    for handle in markdown::mentioned_handles(text) {
        if let Some(p) = known_person(data, &handle).await? {
            people.insert(handle.to_lowercase(), p);
        }
    }
    Ok(markdown::post_html(c, text, people))
}

/// A community by `name` (local) or `name@domain` (already known here), without fetching.
pub async fn known_community(
    data: &Data,
    handle: &str,
) -> Result<Option<community::Model>, ApiError> {
    let handle = handle.trim().trim_start_matches('@');
    let (name, domain) = match handle.split_once('@') {
        Some((n, d)) => (n, d),
        None => (handle, data.settings.domain.as_str()),
    };
    if domain == data.settings.domain {
        return Ok(accounts::local_community(&data.db, name).await?);
    }
    if domain.contains(['%', '_', '/', '\\']) {
        return Ok(None);
    }
    Ok(community::Entity::find()
        .filter(community::Column::Name.eq(name))
        .filter(community::Column::Local.eq(false))
        .filter(community::Column::ApId.like(format!("%://{domain}/%")))
        .one(&data.db)
        .await?)
}

/// A community for a read: signed-in readers may have an unknown remote one looked up (by
/// WebFinger); anonymous ones only see communities already known here, so that no anonymous
/// request makes this server fetch from another.
pub async fn community_to_read(
    data: &Data,
    handle: &str,
    reader: Option<&AuthUser>,
) -> Result<community::Model, ApiError> {
    if let Some(c) = known_community(data, handle).await? {
        return Ok(c);
    }
    match reader {
        Some(_) => resolve_community(data, handle).await,
        None => Err(ApiError::not_found("community").with_field("community")),
    }
}

/// The order of a topic list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Latest reply first.
    Active,
    /// Newest topic first.
    New,
}

impl Sort {
    /// `active` (the default) or `new`; anything else is a 422 naming `sort`.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        match raw.unwrap_or("active") {
            "active" => Ok(Self::Active),
            "new" => Ok(Self::New),
            _ => Err(ApiError::invalid("sort", "sort is active or new")),
        }
    }

    /// The API name of the order.
    pub fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::New => "new",
        }
    }
}

/// True when the post carries the hashtag `tag` (lower case, without `#`).
fn has_tag(p: &post::Model, tag: &str) -> bool {
    let Some(tags) = p
        .tags
        .as_deref()
        .and_then(|t| serde_json::from_str::<Vec<Value>>(t).ok())
    else {
        return false;
    };
    tags.iter().any(|t| {
        t.get("type").and_then(Value::as_str) == Some("Hashtag")
            && t.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.trim_start_matches('#').to_lowercase() == tag)
    })
}

/// A `LIKE` pattern that finds `"name":"#tag"` in the stored tags, in any case. Letters outside
/// ASCII match any one character, since SQLite's `lower` folds only ASCII; `has_tag` then
/// checks each row found exactly.
fn tag_pattern(tag: &str) -> String {
    let mut pattern = String::from("%\"name\":\"#");
    for c in tag.chars() {
        match c {
            '_' => pattern.push_str("\\_"),
            c if c.is_ascii() => pattern.push(c),
            _ => pattern.push('_'),
        }
    }
    pattern.push_str("\"%");
    pattern
}

/// Visible topics of a community, pinned first, in `sort` order, with `tag` when given.
pub async fn topics(
    db: &impl ConnectionTrait,
    c: &community::Model,
    sort: Sort,
    tag: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<Vec<post::Model>, ApiError> {
    let mut query = post::Entity::find()
        .filter(post::Column::CommunityId.eq(c.id))
        .filter(post::Column::TopicId.is_null())
        .filter(post::Column::Deleted.eq(false))
        .filter(post::Column::Removed.eq(false));
    if let Some(tag) = tag {
        query = query.filter(
            Expr::expr(Func::lower(Expr::col(post::Column::Tags)))
                .like(LikeExpr::new(tag_pattern(tag)).escape('\\')),
        );
    }
    let query = query.order_by_desc(post::Column::Pinned);
    let query = match sort {
        Sort::Active => query.order_by_desc(post::Column::LastActivity),
        Sort::New => query.order_by_desc(post::Column::Published),
    };
    let rows = query
        .order_by_desc(post::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok(match tag {
        Some(tag) => rows.into_iter().filter(|p| has_tag(p, tag)).collect(),
        None => rows,
    })
}

/// A community's events that end after `now` (or, `past`, before it), soonest first (or most
/// recent first), with their posts; deleted ones left out.
pub async fn community_events(
    data: &Data,
    c: &community::Model,
    past: bool,
    offset: u64,
    limit: u64,
) -> Result<Vec<ical::Entry>, ApiError> {
    let now = data.clock.now();
    let q = event::Entity::find().filter(event::Column::CommunityId.eq(c.id));
    let q = if past {
        q.filter(event::Column::EndsAt.lt(now))
            .order_by_desc(event::Column::StartsAt)
    } else {
        q.filter(event::Column::EndsAt.gte(now))
            .order_by_asc(event::Column::StartsAt)
    };
    let list = q.offset(offset).limit(limit).all(&data.db).await?;
    let posts: std::collections::HashMap<i64, post::Model> = post::Entity::find()
        .filter(post::Column::Id.is_in(list.iter().map(|e| e.post_id)))
        .all(&data.db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(list
        .into_iter()
        .filter_map(|e| posts.get(&e.post_id).cloned().map(|p| (p, e)))
        .filter(|(p, _)| p.visible())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_escapes_wildcards_and_widens_only_non_ascii() {
        assert_eq!(tag_pattern("my_tag"), "%\"name\":\"#my\\_tag\"%");
        assert_eq!(tag_pattern("über"), "%\"name\":\"#_ber\"%");
    }
}
