//! What is gone is gone from every route. Activities are stored as they were sent (the delivery
//! queue signs and sends that text), but what is served is the present: an activity about a
//! post embeds the post as it is now, or its `Tombstone` once it is deleted or removed, and the
//! outbox leaves out activities about posts and events that are gone. Lemmy reads the outbox
//! when it first subscribes; microblog.pub fetches announced activities by id.

use crate::error::ApiError;
use copse_entities::{activity, community, event, person, post, DbUrl};
use copse_federation::{
    actions::events,
    objects::{event::event_of, note_of, tombstone_of},
    queue::about::embed_current,
    Data,
};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::Value;
use std::collections::HashMap;

/// The outbox condition: an activity about no post, or about one still shown.
pub fn not_about_gone_posts() -> sea_orm::sea_query::SimpleExpr {
    Expr::cust(
        "(activity.post_id IS NULL OR NOT EXISTS (SELECT 1 FROM post \
         WHERE post.id = activity.post_id AND (post.deleted OR post.removed)))",
    )
}

/// A post as it is now on the wire: its `Note` or `Event`, or its `Tombstone` once gone.
pub async fn current_object(
    db: &impl ConnectionTrait,
    p: &post::Model,
    c: &community::Model,
    author: Option<&person::Model>,
) -> Result<Value, ApiError> {
    let event = copse_federation::store::events::event_of_post(db, p.id).await?;
    if !p.visible() {
        return Ok(match event {
            Some(_) => copse_federation::objects::event::event_tombstone(p),
            None => tombstone_of(p),
        });
    }
    if let Some(e) = event {
        let object = events::event_object(db, p, &e).await?;
        return serde_json::to_value(object).map_err(ApiError::internal);
    }
    let author = match author {
        Some(a) => a.clone(),
        None => person::Entity::find_by_id(p.author_id)
            .one(db)
            .await?
            .ok_or_else(|| ApiError::not_found("author"))?,
    };
    let parent = copse_federation::store::posts::parent_ap_id(db, p).await?;
    serde_json::to_value(note_of(p, c, &author, parent.as_ref())).map_err(ApiError::internal)
}

/// The posts `ps` of `c` as they are now on the wire, by id, in a fixed number of statements
/// whatever their number: their events, authors and parents are each read in one.
pub async fn current_objects(
    db: &impl ConnectionTrait,
    c: &community::Model,
    ps: &[&post::Model],
) -> Result<HashMap<i64, Value>, ApiError> {
    if ps.is_empty() {
        return Ok(HashMap::new());
    }
    let events: HashMap<i64, event::Model> = event::Entity::find()
        .filter(event::Column::PostId.is_in(ps.iter().map(|p| p.id)))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.post_id, e))
        .collect();
    let shown = || ps.iter().filter(|p| p.visible());
    let authors = crate::accounts::people_by_id(db, shown().map(|p| p.author_id)).await?;
    let parent_ids: Vec<i64> = shown()
        .filter(|p| !events.contains_key(&p.id))
        .filter_map(|p| p.parent_id)
        .collect();
    let parents: HashMap<i64, DbUrl> = if parent_ids.is_empty() {
        HashMap::new()
    } else {
        post::Entity::find()
            .select_only()
            .column(post::Column::Id)
            .column(post::Column::ApId)
            .filter(post::Column::Id.is_in(parent_ids))
            .into_tuple::<(i64, DbUrl)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let mut out = HashMap::new();
    for p in ps {
        let event = events.get(&p.id);
        let object = if !p.visible() {
            match event {
                Some(_) => copse_federation::objects::event::event_tombstone(p),
                None => tombstone_of(p),
            }
        } else {
            let author = authors
                .get(&p.author_id)
                .ok_or_else(|| ApiError::not_found("author"))?;
            match event {
                Some(e) => serde_json::to_value(event_of(
                    p,
                    e,
                    c,
                    author,
                    &copse_federation::rules::participation::answer_hint(c),
                ))
                .map_err(ApiError::internal)?,
                None => {
                    let parent = p.parent_id.and_then(|id| parents.get(&id)).map(|u| &u.0);
                    serde_json::to_value(note_of(p, c, author, parent))
                        .map_err(ApiError::internal)?
                }
            }
        };
        out.insert(p.id, object);
    }
    Ok(out)
}

/// The stored activity with the post it is about embedded as it is now.
pub async fn current_activity(data: &Data, row: &activity::Model) -> Result<Value, ApiError> {
    let mut value: Value = serde_json::from_str(&row.data).map_err(ApiError::internal)?;
    let Some(post_id) = row.post_id else {
        return Ok(value);
    };
    let Some(p) = post::Entity::find_by_id(post_id).one(&data.db).await? else {
        return Ok(value);
    };
    let c = community::Entity::find_by_id(p.community_id)
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("community"))?;
    let current = current_object(&data.db, &p, &c, None).await?;
    embed_current(&mut value, p.ap_id.as_str(), &current);
    Ok(value)
}

/// The JSON text of outbox rows of `c`, each about a post embedding it as it is now; the others
/// as stored, without being parsed and written again.
pub async fn outbox_items(
    data: &Data,
    c: &community::Model,
    rows: &[activity::Model],
) -> Result<Vec<String>, ApiError> {
    let post_ids: Vec<i64> = rows.iter().filter_map(|r| r.post_id).collect();
    if post_ids.is_empty() {
        return Ok(rows.iter().map(|r| r.data.clone()).collect());
    }
    let posts: HashMap<i64, post::Model> = post::Entity::find()
        .filter(post::Column::Id.is_in(post_ids))
        .all(&data.db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    // Activities in a community's outbox are about its own posts.
    let own: Vec<&post::Model> = posts.values().filter(|p| p.community_id == c.id).collect();
    let current = current_objects(&data.db, c, &own).await?;
    rows.iter()
        .map(|r| {
            let Some((p, object)) = r
                .post_id
                .and_then(|id| posts.get(&id).zip(current.get(&id)))
            else {
                return Ok(r.data.clone());
            };
            let mut value: Value = serde_json::from_str(&r.data).map_err(ApiError::internal)?;
            embed_current(&mut value, p.ap_id.as_str(), object);
            serde_json::to_string(&value).map_err(ApiError::internal)
        })
        .collect()
}
