//! Posts: publishing a local post to the community's followers, and receiving posts that a
//! followed remote community announces.

use crate::{
    fetch::{cached_actor, fetch_json, resolve_actor, ActorRef},
    objects::{note_of, public},
    protocol::{domain_of, same_origin, Announce, CreateNote, Note, WithContext},
    queue::{enqueue, enqueue_in_order, inbox::mark_done, Form},
    Data, Error,
};
use chrono::Utc;
use copse_entities::{community, community_follower, person, post, received_activity};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, Set, Statement,
};
use serde_json::Value;
use std::collections::BTreeSet;
use url::Url;

/// The inboxes of a community's remote followers, one per server where it has a shared inbox.
pub async fn follower_inboxes(
    db: &impl ConnectionTrait,
    community_id: i64,
) -> Result<BTreeSet<Url>, Error> {
    // One statement that the database cannot plan wrong as the tables grow: the follower ids
    // come from the covering member index and the people by primary key. On PostgreSQL the ids
    // are an array (`= ANY(ARRAY(...))`), since its generic plan for a join or `IN` chose a full
    // scan of `person`; SQLite looks up each id of an `IN` list by rowid. Inboxes are compared
    // as text and parsed once each: with shared inboxes, ten followers of a server share one.
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "SELECT DISTINCT COALESCE(shared_inbox, inbox) FROM person WHERE id = ANY(ARRAY(\
               SELECT person_id FROM community_follower WHERE community_id = $1 AND NOT pending))"
        }
        _ => {
            "SELECT DISTINCT COALESCE(shared_inbox, inbox) FROM person WHERE id IN (\
               SELECT person_id FROM community_follower WHERE community_id = ?1 AND NOT pending)"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [community_id.into()],
        ))
        .await?;
    let inboxes: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index(0))
        .collect::<Result<_, _>>()?;
    inboxes
        .into_iter()
        .map(|inbox| Ok(Url::parse(&inbox)?))
        .collect()
}

/// Announces an activity to every follower of a local community (FEP-1b12), and to `also`.
/// With `bare`, the object itself is announced too, for microblog readers.
///
/// Lemmy reads only `Announce{Create{Note}}`; Mastodon and GoToSocial show only a bare
/// `Announce{Note}` as a boost. So new topics go out in both forms, as Lemmy itself does, and
/// everything else (replies, edits, reactions, moderation) only in the first, so that
/// Mastodon timelines are not flooded (lemmy#2224, mastodon#18069).
pub async fn announce(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    activity: &Value,
    bare: Option<Value>,
    also: impl IntoIterator<Item = Url>,
) -> Result<(), Error> {
    let mut inboxes = follower_inboxes(txn, community.id).await?;
    inboxes.extend(also);
    announce_to(txn, data, community, activity, bare, inboxes).await
}

/// Like [`announce`], to these inboxes only.
pub async fn announce_to(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    activity: &Value,
    bare: Option<Value>,
    inboxes: BTreeSet<Url>,
) -> Result<(), Error> {
    let followers = data.urls.community_part(&community.name, "followers");
    let now = Utc::now();
    let wrap = |object: Value| -> Result<Value, Error> {
        Ok(serde_json::to_value(WithContext::new(Announce {
            id: data.urls.new_activity("Announce"),
            kind: "Announce".into(),
            actor: community.ap_id.0.clone(),
            object,
            to: vec![public()],
            cc: vec![followers.clone()],
            published: Some(now),
        }))?)
    };
    let mut inner = activity.clone();
    if let Some(o) = inner.as_object_mut() {
        o.remove("@context");
    }
    // The server an activity came from already has it: microblog.pub refuses to fetch its own
    // actor back ("local actor should not be fetched"), and would show its own Like or Delete
    // as a boost. The bare form of a topic still goes there, for that server's other followers.
    let origin = inner
        .get("actor")
        .and_then(Value::as_str)
        .and_then(|a| Url::parse(a).ok())
        .filter(|a| !data.urls.is_local(a))
        .map(|a| domain_of(&a));
    let reads = crate::nodeinfo::reads_of(txn, &inboxes).await?;
    let wrapped = wrap(inner)?;
    let mut forms = vec![Form {
        json: &wrapped,
        community_id: Some(community.id),
        public: true,
        inboxes: inboxes
            .iter()
            .filter(|i| origin.as_ref() != Some(&domain_of(i)))
            .filter(|i| reads.get(*i).is_none_or(|r| r.wrapped_announces()))
            .cloned()
            .collect(),
    }];
    let bare = bare.map(wrap).transpose()?;
    if let Some(bare) = &bare {
        // The bare form follows the FEP-1b12 one to each inbox, in the same batch over the same
        // connection, so that a server reading both (microblog.pub) meets the topic in its
        // thread first.
        forms.push(Form {
            json: bare,
            community_id: None,
            public: true,
            inboxes,
        });
    }
    enqueue_in_order(txn, &data.urls, forms).await?;
    Ok(())
}

/// A local post was published: `Create{Note}` by the author. In a local community it is
/// announced to every follower (a topic in both forms, a reply in the FEP-1b12 form only) and
/// sent to the author of the post it answers; in a remote one it goes to that community, which
/// announces it. Call inside the transaction that stored the post; wake the outbox after commit.
pub async fn post_published(
    txn: &impl ConnectionTrait,
    data: &Data,
    post: &post::Model,
    community: &community::Model,
    author: &person::Model,
    parent: Option<(&post::Model, &person::Model)>,
) -> Result<(), Error> {
    let note = note_of(post, community, author, parent.map(|(p, _)| &p.ap_id.0));
    let create = CreateNote {
        id: data.urls.new_activity("Create"),
        kind: "Create".into(),
        actor: author.ap_id.0.clone(),
        object: note.clone(),
        to: note.to.clone(),
        cc: note.cc.clone(),
        audience: Some(community.ap_id.0.clone()),
        published: Some(Utc::now()),
    };
    let create_json = serde_json::to_value(WithContext::new(create))?;
    // Mastodon shows a reply to its user only when the Create itself reaches them.
    let mut direct: Vec<Url> = parent
        .filter(|(_, a)| !a.local)
        .map(|(_, a)| a.shared_inbox.clone().unwrap_or_else(|| a.inbox.clone()).0)
        .into_iter()
        .collect();
    if !community.local {
        direct.push(community.inbox.0.clone());
    }
    enqueue(txn, &data.urls, &create_json, None, true, direct).await?;
    if community.local {
        let bare = match parent {
            None => Some(serde_json::to_value(&note)?),
            Some(_) => None,
        };
        announce(txn, data, community, &create_json, bare, []).await?;
    }
    Ok(())
}

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
pub async fn receive_announce(
    data: &Data,
    row: &received_activity::Model,
    announce: Announce,
) -> Result<(), Error> {
    if announce.actor != row.actor.0 {
        return Err(Error::InvalidActivity(
            "Announce actor is not the signer".into(),
        ));
    }
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
        .is_some();
    if !followed {
        return Err(Error::Forbidden(
            "nobody here follows this community".into(),
        ));
    }
    if announced_id(&announce.object).is_some_and(|id| data.urls.is_local(&id)) {
        // A community elsewhere relays what our own people posted there: we have it already.
        let txn = crate::context::begin(&data.db).await?;
        crate::queue::inbox::mark_ignored(&txn, row.id, "our own post, announced back").await?;
        txn.commit().await?;
        return Ok(());
    }
    if announce.object.get("type").and_then(Value::as_str) == Some("Delete") {
        let delete = serde_json::from_value(announce.object.clone())
            .map_err(|e| Error::InvalidActivity(format!("announced Delete: {e}")))?;
        return crate::activities::posts::receive_announced_delete(data, row, &community, delete)
            .await;
    }
    if super::remote_moderation::receive_announced(data, row, &community, &announce.object).await? {
        return Ok(());
    }
    let object = announced_object(data, &announce.actor, &announce.object).await?;
    let Some(object) = object.filter(|o| {
        matches!(
            o.get("type").and_then(Value::as_str),
            Some("Note" | "Page" | "Article" | "Event")
        )
    }) else {
        let txn = crate::context::begin(&data.db).await?;
        crate::queue::inbox::mark_ignored(&txn, row.id, "announced object is not a post").await?;
        txn.commit().await?;
        return Ok(());
    };
    if object.get("type").and_then(Value::as_str) == Some("Event") {
        let event = serde_json::from_value(object)
            .map_err(|e| Error::InvalidActivity(format!("announced Event: {e}")))?;
        return super::events::store_remote(data, row, &community, event).await;
    }
    let note: Note = serde_json::from_value(object)
        .map_err(|e| Error::InvalidActivity(format!("announced object: {e}")))?;
    if !same_origin(&note.id, &note.attributed_to) {
        return Err(Error::InvalidActivity(
            "post and author are on different origins".into(),
        ));
    }
    let parent = match &note.in_reply_to {
        Some(id) => match crate::store::posts::post_by_ap_id(&data.db, id).await? {
            Some(p) if p.community_id == community.id => Some(p),
            _ => {
                let txn = crate::context::begin(&data.db).await?;
                crate::queue::inbox::mark_ignored(
                    &txn,
                    row.id,
                    "a reply to a post not stored here",
                )
                .await?;
                txn.commit().await?;
                return Ok(());
            }
        },
        None => None,
    };
    let ActorRef::Person(author) = resolve_actor(data, &note.attributed_to).await? else {
        return Err(Error::InvalidActivity("posts are written by people".into()));
    };
    let txn = crate::context::begin(&data.db).await?;
    match crate::store::posts::post_by_ap_id(&txn, &note.id).await? {
        // Deliveries can arrive out of order: an older version never overwrites a newer one.
        Some(existing)
            if existing.author_id == author.id
                && note.updated.or(note.published)
                    < existing.updated.or(Some(existing.published)) => {}
        Some(existing) if existing.author_id == author.id => {
            let (title, content) =
                crate::objects::text::stored_text(&note, existing.topic_id.is_some());
            post::Entity::update(post::ActiveModel {
                id: Set(existing.id),
                title: Set(title),
                content: Set(content),
                source: Set(note.source.as_ref().map(|s| s.content.clone())),
                url: Set(note.link().map(copse_entities::DbUrl)),
                updated: Set(note.updated),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
        }
        Some(_) => {
            return Err(Error::Forbidden("that post has another author".into()));
        }
        None => {
            crate::store::posts::store_post(
                &txn,
                community.id,
                author.id,
                &note,
                parent.as_ref(),
                false,
            )
            .await?;
        }
    }
    mark_done(&txn, row.id).await?;
    txn.commit().await?;
    Ok(())
}
