//! The JSON of posts and their authors as the API shows them, with reply and reaction counts.

use crate::error::ApiError;
use copse_entities::{community, person, post, reaction};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

pub fn author_json(a: &person::Model) -> Value {
    json!({
        "id": a.ap_id,
        "local_id": a.id,
        "name": a.name,
        "display_name": a.display_name,
        "avatar": a.avatar,
        "local": a.local,
        "deleted": a.deleted_at.is_some(),
    })
}

/// Reply counts of topics and reaction counts of posts.
pub struct Counts {
    replies: HashMap<i64, i64>,
    reactions: HashMap<i64, BTreeMap<String, i64>>,
}

pub async fn counts(db: &impl ConnectionTrait, posts: &[post::Model]) -> Result<Counts, ApiError> {
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let replies: Vec<(Option<i64>, i64)> = post::Entity::find()
        .select_only()
        .column(post::Column::TopicId)
        .column_as(Expr::col(post::Column::Id).count(), "n")
        .filter(post::Column::TopicId.is_in(ids.clone()))
        .filter(post::Column::Deleted.eq(false))
        .filter(post::Column::Removed.eq(false))
        .group_by(post::Column::TopicId)
        .into_tuple()
        .all(db)
        .await?;
    let rows: Vec<(i64, String, i64)> = reaction::Entity::find()
        .select_only()
        .column(reaction::Column::PostId)
        .column(reaction::Column::Emoji)
        .column_as(Expr::col(reaction::Column::Id).count(), "n")
        .filter(reaction::Column::PostId.is_in(ids))
        .group_by(reaction::Column::PostId)
        .group_by(reaction::Column::Emoji)
        .into_tuple()
        .all(db)
        .await?;
    let mut reactions: HashMap<i64, BTreeMap<String, i64>> = HashMap::new();
    for (post_id, emoji, n) in rows {
        reactions.entry(post_id).or_default().insert(emoji, n);
    }
    Ok(Counts {
        replies: replies
            .into_iter()
            .filter_map(|(t, n)| t.map(|t| (t, n)))
            .collect(),
        reactions,
    })
}

pub fn post_json(
    p: &post::Model,
    c: &community::Model,
    author: Option<&person::Model>,
    counts: &Counts,
) -> Value {
    let visible = p.visible();
    let mut reactions = counts.reactions.get(&p.id).cloned().unwrap_or_default();
    // A dislike is a vote (Lemmy's), not a reaction.
    let dislikes = reactions.remove(reaction::DISLIKE).unwrap_or(0);
    let mut v = json!({
        "id": p.ap_id,
        "local_id": p.id,
        "community": c.ap_id,
        "author": author.map(author_json),
        "title": p.title,
        "url": if visible { p.url.as_ref().map(|u| u.0.as_str()) } else { None },
        "content": if visible { p.content.as_str() } else { "" },
        "source": if visible { p.source.as_deref() } else { None },
        "published": p.published,
        "updated": p.updated,
        "parent": p.parent_id,
        "topic": p.topic_id,
        "deleted": p.deleted,
        "removed": p.removed,
        "tags": p.tags.as_deref().and_then(|t| serde_json::from_str::<Value>(t).ok()).unwrap_or(json!([])),
        "reaction_count": reactions.values().sum::<i64>(),
        "reactions": reactions,
        "dislike_count": dislikes,
    });
    if p.topic_id.is_none() {
        if let Some(o) = v.as_object_mut() {
            o.insert("locked".into(), p.locked.into());
            o.insert("pinned".into(), p.pinned.into());
            o.insert("last_activity".into(), json!(p.last_activity));
            o.insert(
                "reply_count".into(),
                counts.replies.get(&p.id).copied().unwrap_or(0).into(),
            );
        }
    }
    v
}
