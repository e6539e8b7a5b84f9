//! `Announce` received from a community we follow: the posts and activities it relays.

use crate::activities::receive::{ignore, require_signer, Applied, Receive, Verified};
use crate::{
    fetch::{cached_actor, fetch_json, resolve_actor, ActorRef},
    protocol::{same_origin, Announce, Note},
    Data, Error,
};
use async_trait::async_trait;
use copse_entities::{community, community_follower, person, post, received_activity};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use url::Url;

/// The object inside an announced activity (a post or an event): trusted as embedded only
/// when it comes from the announcing community's own server; anything else is fetched from its
/// origin by id. `None` for anything else.
async fn announced_object(
    data: &Data,
    announcer: &Url,
    object: &Value,
) -> Result<Option<Value>, Error> {
    let object = match object {
        Value::String(id) => fetch_json(data, &Url::parse(id)?).await?,
        other => other.clone(),
    };
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let inner = match kind {
        "Create" | "Update" => object.get("object").cloned().unwrap_or(Value::Null),
        "Note" | "Page" | "Article" | "Event" => object,
        _ => return Ok(None),
    };
    Ok(Some(match inner {
        Value::String(id) => fetch_json(data, &Url::parse(&id)?).await?,
        v => {
            let id = v
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::InvalidActivity("announced object has no id".into()))?;
            let id = Url::parse(id)?;
            if same_origin(&id, announcer) {
                v
            } else {
                fetch_json(data, &id).await?
            }
        }
    }))
}

/// The id of what an announce finally carries: the object of an announced activity, or the
/// announced object itself.
fn announced_id(object: &Value) -> Option<Url> {
    let id_of = |v: &Value| match v {
        Value::String(s) => Url::parse(s).ok(),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok()),
        _ => None,
    };
    match object.get("type").and_then(Value::as_str) {
        Some("Create" | "Update") => object.get("object").and_then(id_of),
        _ => id_of(object),
    }
}

/// A community we follow announced something: store the post it carries.
pub async fn verify_announce(
    data: &Data,
    row: &received_activity::Model,
    announce: Announce,
) -> Result<Verified, Error> {
    require_signer(row, &announce.actor, "Announce")?;
    let Some(ActorRef::Community(community)) = cached_actor(&data.db, &announce.actor).await?
    else {
        return Err(Error::Forbidden(
            "only communities we follow announce to us".into(),
        ));
    };
    let followed = community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(community.id))
        .one(&data.db)
        .await?
        .is_some()
        || crate::store::partners::followed_here(&data.db, &community).await?;
    if !followed {
        return Err(Error::Forbidden(
            "nobody here follows this community".into(),
        ));
    }
    if announced_id(&announce.object).is_some_and(|id| data.urls.is_local(&id)) {
        // A community elsewhere relays what our own people posted there: we have it already.
        return ignore("our own post, announced back");
    }
    if announce.object.get("type").and_then(Value::as_str) == Some("Delete") {
        let delete = serde_json::from_value(announce.object.clone())
            .map_err(|e| Error::InvalidActivity(format!("announced Delete: {e}")))?;
        return crate::activities::posts::verify_announced_delete(data, &community, delete).await;
    }
    let moderation = super::remote_moderation::verify_announced(data, &community, &announce.object);
    if let Some(verified) = moderation.await? {
        return Ok(verified);
    }
    let object = announced_object(data, &announce.actor, &announce.object).await?;
    let Some(object) = object.filter(|o| {
        matches!(
            o.get("type").and_then(Value::as_str),
            Some("Note" | "Page" | "Article" | "Event")
        )
    }) else {
        return ignore("announced object is not a post");
    };
    if object.get("type").and_then(Value::as_str) == Some("Event") {
        let event = serde_json::from_value(object)
            .map_err(|e| Error::InvalidActivity(format!("announced Event: {e}")))?;
        return super::events::verify_remote(data, &community, event).await;
    }
    let note: Note = serde_json::from_value(object)
        .map_err(|e| Error::InvalidActivity(format!("announced object: {e}")))?;
    if !same_origin(&note.id, &note.attributed_to) {
        return Err(Error::InvalidActivity(
            "post and author are on different origins".into(),
        ));
    }
    // A community shares a partner's post (Copse's shares, a Group's boost): the post stays in
    // the community its `audience` names.
    let community = match note.audience.group.clone() {
        Some(home) if home != community.ap_id.0 => match resolve_actor(data, &home).await {
            Ok(ActorRef::Community(c)) => c,
            _ => return ignore("a shared post of a community that cannot be found"),
        },
        _ => community,
    };
    let parent = match &note.in_reply_to {
        Some(id) => match crate::store::posts::post_by_ap_id(&data.db, id).await? {
            Some(p) if p.community_id == community.id => Some(p),
            _ => return ignore("a reply to a post not stored here"),
        },
        None => None,
    };
    let ActorRef::Person(author) = resolve_actor(data, &note.attributed_to).await? else {
        return Err(Error::InvalidActivity("posts are written by people".into()));
    };
    Verified::apply(Relayed {
        community,
        author,
        note,
        parent,
    })
}

/// A checked post relayed by the community that holds it.
struct Relayed {
    community: community::Model,
    author: person::Model,
    note: Note,
    parent: Option<post::Model>,
}

#[async_trait]
impl Receive for Relayed {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        _row: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        let (note, author) = (&self.note, &self.author);
        match crate::store::posts::post_by_ap_id(txn, &note.id).await? {
            // Deliveries can arrive out of order: an older version never overwrites a newer
            // one.
            Some(existing)
                if existing.author_id == author.id
                    && note.updated.or(note.published)
                        < existing.updated.or(Some(existing.published)) => {}
            Some(existing) if existing.author_id == author.id => {
                let (title, content) =
                    crate::objects::text::stored_text(note, existing.topic_id.is_some());
                post::Entity::update(post::ActiveModel {
                    id: Set(existing.id),
                    title: Set(title),
                    content: Set(content),
                    source: Set(note.source.as_ref().map(|s| s.content.clone())),
                    url: Set(note.link().map(copse_entities::DbUrl)),
                    updated: Set(note.updated),
                    ..Default::default()
                })
                .exec(txn)
                .await?;
            }
            Some(_) => {
                return Err(Error::Forbidden("that post has another author".into()));
            }
            None => {
                let stored = crate::store::posts::store_post(
                    txn,
                    self.community.id,
                    author.id,
                    note,
                    self.parent.as_ref(),
                    false,
                )
                .await?;
                crate::outbox::partners::offer(txn, data, &self.community, &stored).await?;
            }
        }
        Ok(Applied::Done)
    }
}
