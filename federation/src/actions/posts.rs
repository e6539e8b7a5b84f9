//! The local commands on posts: publishing topics and replies, edits and deletions by their
//! authors, moderation (removal, locks, pins), reactions and reports, each stored and sent.
//! What other servers send about posts is received in `activities`.

use crate::outbox::announce::announce;
use crate::outbox::posts::post_published;
use crate::outbox::reply_mentions;
use crate::queue::commit_and_wake;
use crate::rules::posting::refusal;
use crate::store::lookup::{community_by_row_id, person_by_row_id};
use crate::store::modlog::log;
use crate::store::posts::{insert_local_post, LocalPost};
use crate::store::posts::{
    parent_ap_id, store_reaction, store_report, tombstone, topic_of, touch_topic,
};
use crate::{
    objects::{in_community, public},
    protocol::{ActivityRef, AddRemove, Audience, CreateNote, ObjectActivity, Undo, WithContext},
    queue::{enqueue, Outgoing},
    Data, Error,
};
use chrono::Utc;
use copse_entities::{
    community::{self},
    person, post, reaction, report,
    report::ReportStatus,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use url::Url;

/// A new post by a local person: a topic (`title`) or a reply to `parent`. `html` is rendered
/// and sanitised; `source` is its markdown.
#[derive(Debug, Clone)]
pub struct NewPost {
    /// The title of a topic; ignored for a reply.
    pub title: String,
    /// Sanitised HTML body.
    pub html: String,
    /// Markdown source.
    pub source: String,
    /// Mentions and hashtags.
    pub tags: Vec<Value>,
    /// The link of a link topic; ignored for a reply.
    pub url: Option<Url>,
}

/// Publishes a local person's topic (no `parent`) or reply, checking who may post.
pub async fn publish(
    data: &Data,
    c: &community::Model,
    author: &person::Model,
    parent: Option<&post::Model>,
    new: NewPost,
) -> Result<post::Model, Error> {
    let topic = match parent {
        Some(p) => Some(topic_of(&data.db, p).await?),
        None => None,
    };
    let parent_author = match parent {
        Some(p) => Some(person_by_row_id(&data.db, p.author_id).await?),
        None => None,
    };
    let txn = crate::context::begin(&data.db).await?;
    let why = match c.local {
        true => refusal(&txn, c, author, topic.as_ref()).await?,
        false => crate::rules::posting::remote_thread_refusal(topic.as_ref()),
    };
    if let Some(why) = why {
        return Err(Error::Forbidden(why));
    }
    let mut new = new;
    if let Some(pa) = parent_author.as_ref() {
        reply_mentions::mention_parent_author(&mut new.html, &mut new.tags, author, pa);
    }
    let title = if parent.is_none() {
        new.title
    } else {
        String::new()
    };
    let tags = (!new.tags.is_empty()).then(|| Value::Array(new.tags).to_string());
    let draft = LocalPost {
        community_id: c.id,
        author_id: author.id,
        title,
        html: new.html,
        source: new.source,
        tags,
        url: new.url.filter(|_| parent.is_none()),
    };
    let row = insert_local_post(&txn, &data.urls, draft, parent, Utc::now()).await?;
    if let Some(p) = parent {
        touch_topic(&txn, p.thread_id()).await?;
    }
    let parent_pair = parent.zip(parent_author.as_ref());
    post_published(&txn, data, &row, c, author, parent_pair).await?;
    commit_and_wake(data, txn).await?;
    Ok(row)
}

/// An activity by a local person about a post in a local community, announced to followers;
/// for a topic also sent as it is to them, so Mastodon (which cannot read an `Announce` of an
/// activity) applies edits and deletions of the topic it boosted.
async fn send_about(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    p: &post::Model,
    activity: &dyn Outgoing,
) -> Result<(), Error> {
    let mut direct: Vec<Url> = if p.topic_id.is_none() && c.local {
        crate::outbox::announce::follower_inboxes(txn, c.id)
            .await?
            .into_iter()
            .collect()
    } else if !c.local {
        vec![c.inbox.0.clone()]
    } else {
        Vec::new()
    };
    // The author a reply answers got its Create directly; its edit and deletion go there too.
    if let Some(parent) = p.parent_id {
        if let Some(parent) = post::Entity::find_by_id(parent).one(txn).await? {
            let pa = person_by_row_id(txn, parent.author_id).await?;
            if !pa.local {
                direct.push(pa.shared_inbox.unwrap_or(pa.inbox).0);
            }
        }
    }
    enqueue(txn, &data.urls, activity, None, true, direct).await?;
    if c.local {
        announce(txn, data, c, &activity.to_json()?, None, []).await?;
    }
    Ok(())
}

/// The author edits their post: a new title (topics), and a new body as its HTML, its markdown
/// and its mentions and hashtags.
pub async fn edit(
    data: &Data,
    p: &post::Model,
    author: &person::Model,
    title: Option<String>,
    body: Option<(String, String, Vec<Value>)>,
) -> Result<post::Model, Error> {
    if p.author_id != author.id || !p.local {
        return Err(Error::Forbidden("only its author edits a post".into()));
    }
    if !p.visible() {
        return Err(Error::Conflict("the post was deleted or removed".into()));
    }
    not_an_event(data, p).await?;
    let c = community_by_row_id(&data.db, p.community_id).await?;
    let mut row = p.clone();
    if let (Some(t), None) = (title, p.topic_id) {
        row.title = t;
    }
    if let Some((html, source, tags)) = body {
        row.content = reply_mentions::keep_parent_mention(&data.db, p, author, html).await?;
        row.source = Some(source);
        row.tags = (!tags.is_empty()).then(|| Value::Array(tags).to_string());
    }
    row.updated = Some(Utc::now());
    let txn = crate::context::begin(&data.db).await?;
    post::Entity::update(post::ActiveModel {
        id: Set(row.id),
        title: Set(row.title.clone()),
        content: Set(row.content.clone()),
        source: Set(row.source.clone()),
        tags: Set(row.tags.clone()),
        updated: Set(row.updated),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let parent = parent_ap_id(&txn, &row).await?;
    let note = crate::objects::note_of(&row, &c, author, parent.as_ref());
    let update = CreateNote {
        id: data.urls.new_activity("Update"),
        kind: "Update".into(),
        actor: author.ap_id.0.clone(),
        audience: note.audience.clone(),
        object: note,
        published: row.updated,
    };
    send_about(&txn, data, &c, &row, &WithContext::new(update)).await?;
    commit_and_wake(data, txn).await?;
    Ok(row)
}

/// Events change through their own API, which keeps their details and the Group's `Update`.
async fn not_an_event(data: &Data, p: &post::Model) -> Result<(), Error> {
    if crate::store::events::event_of_post(&data.db, p.id)
        .await?
        .is_some()
    {
        return Err(Error::Conflict(
            "this post is an event: change or delete it through /api/v1/events".into(),
        ));
    }
    Ok(())
}

fn object_activity(
    data: &Data,
    kind: &str,
    actor: &Url,
    object: &Url,
    c: &community::Model,
    summary: Option<String>,
    content: Option<String>,
) -> ObjectActivity {
    ObjectActivity {
        id: data.urls.new_activity(kind),
        kind: kind.into(),
        actor: actor.clone(),
        object: vec![object.clone()],
        content,
        summary,
        tag: Vec::new(),
        audience: in_community(&c.ap_id.0),
        published: Some(Utc::now()),
    }
}

/// The author deletes their post: it becomes a tombstone everywhere.
pub async fn delete(data: &Data, p: &post::Model, author: &person::Model) -> Result<(), Error> {
    if p.author_id != author.id || !p.local {
        return Err(Error::Forbidden("only its author deletes a post".into()));
    }
    if p.deleted {
        return Ok(());
    }
    not_an_event(data, p).await?;
    let c = community_by_row_id(&data.db, p.community_id).await?;
    let txn = crate::context::begin(&data.db).await?;
    tombstone(&txn, p.id).await?;
    let delete = object_activity(data, "Delete", &author.ap_id.0, &p.ap_id.0, &c, None, None);
    send_about(&txn, data, &c, p, &WithContext::new(delete)).await?;
    commit_and_wake(data, txn).await
}

/// A facilitator removes a post from a local community (Lemmy's shape: `Delete` by the
/// moderator with the reason in `summary`, announced).
pub async fn remove(
    data: &Data,
    p: &post::Model,
    by: &person::Model,
    reason: Option<String>,
) -> Result<(), Error> {
    let c = community_by_row_id(&data.db, p.community_id).await?;
    if !c.local {
        return Err(Error::Forbidden(
            "posts are removed where their community lives".into(),
        ));
    }
    if p.removed {
        return Ok(());
    }
    let txn = crate::context::begin(&data.db).await?;
    post::Entity::update(post::ActiveModel {
        id: Set(p.id),
        removed: Set(true),
        pinned: Set(false),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    // Lemmy reads a `Delete` without `summary` as the author's own deletion (it refuses one of
    // a comment by someone else, and logs no removal), so a removal always carries one.
    let summary = Some(reason.clone().unwrap_or_default());
    let delete = WithContext::new(object_activity(
        data,
        "Delete",
        &by.ap_id.0,
        &p.ap_id.0,
        &c,
        summary,
        None,
    ));
    moderation_sent(
        &txn,
        data,
        &c,
        by,
        &p.ap_id.0,
        &delete,
        "remove_post",
        reason,
    )
    .await?;
    commit_and_wake(data, txn).await
}

/// Stores a facilitator's activity (so its id dereferences), announces it to the community's
/// followers and records the decision in the moderation log.
#[allow(clippy::too_many_arguments)]
async fn moderation_sent(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    by: &person::Model,
    target: &Url,
    activity: &dyn Outgoing,
    action: &str,
    reason: Option<String>,
) -> Result<(), Error> {
    enqueue(txn, &data.urls, activity, None, true, []).await?;
    announce(txn, data, c, &activity.to_json()?, None, []).await?;
    log(txn, c, &by.ap_id.0, action, target, reason).await
}

/// A facilitator locks or unlocks a topic (`Lock` / `Undo{Lock}`, announced).
pub async fn set_locked(
    data: &Data,
    topic: &post::Model,
    by: &person::Model,
    locked: bool,
) -> Result<(), Error> {
    let c = local_topic_community(data, topic).await?;
    if topic.locked == locked {
        return Ok(());
    }
    let txn = crate::context::begin(&data.db).await?;
    post::Entity::update(post::ActiveModel {
        id: Set(topic.id),
        locked: Set(locked),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let lock = object_activity(data, "Lock", &by.ap_id.0, &topic.ap_id.0, &c, None, None);
    let activity: Box<dyn Outgoing> = if locked {
        Box::new(WithContext::new(lock))
    } else {
        Box::new(WithContext::new(undo_of(data, &by.ap_id.0, &c, lock)?))
    };
    let action = if locked { "lock" } else { "unlock" };
    moderation_sent(&txn, data, &c, by, &topic.ap_id.0, &*activity, action, None).await?;
    commit_and_wake(data, txn).await
}

fn undo_of(
    data: &Data,
    actor: &Url,
    c: &community::Model,
    inner: ObjectActivity,
) -> Result<Undo, Error> {
    // The undone activity is embedded as it was sent, less its context; `remove` moves the
    // last field (`published`) into the context's place, and that order is what we have
    // always sent.
    let mut inner = serde_json::to_value(WithContext::new(inner))?;
    if let Some(o) = inner.as_object_mut() {
        o.remove("@context");
    }
    Ok(Undo {
        id: data.urls.new_activity("Undo"),
        kind: "Undo".into(),
        actor: actor.clone(),
        object: inner,
        audience: Audience::new(vec![public()], vec![c.ap_id.0.clone()]),
    })
}

async fn local_topic_community(
    data: &Data,
    topic: &post::Model,
) -> Result<community::Model, Error> {
    if topic.topic_id.is_some() {
        return Err(Error::Conflict(
            "only topics can be locked or pinned".into(),
        ));
    }
    let c = community_by_row_id(&data.db, topic.community_id).await?;
    if !c.local {
        return Err(Error::Forbidden(
            "topics are moderated where their community lives".into(),
        ));
    }
    if !topic.visible() {
        return Err(Error::Conflict("the topic was deleted or removed".into()));
    }
    Ok(c)
}

/// A facilitator pins or unpins a topic: `Add`/`Remove` to the `featured` collection.
pub async fn set_pinned(
    data: &Data,
    topic: &post::Model,
    by: &person::Model,
    pinned: bool,
) -> Result<(), Error> {
    let c = local_topic_community(data, topic).await?;
    if topic.pinned == pinned {
        return Ok(());
    }
    let txn = crate::context::begin(&data.db).await?;
    post::Entity::update(post::ActiveModel {
        id: Set(topic.id),
        pinned: Set(pinned),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let kind = if pinned { "Add" } else { "Remove" };
    let add_remove = WithContext::new(AddRemove {
        id: data.urls.new_activity(kind),
        kind: kind.into(),
        actor: by.ap_id.0.clone(),
        object: topic.ap_id.0.clone(),
        target: data.urls.community_part(&c.name, "featured"),
        audience: in_community(&c.ap_id.0),
    });
    let action = if pinned { "pin" } else { "unpin" };
    moderation_sent(
        &txn,
        data,
        &c,
        by,
        &topic.ap_id.0,
        &add_remove,
        action,
        None,
    )
    .await?;
    commit_and_wake(data, txn).await
}

/// A local person reacts to a post: `Like` for [`reaction::LIKE`], else `EmojiReact`.
pub async fn react(
    data: &Data,
    p: &post::Model,
    person: &person::Model,
    emoji: &str,
) -> Result<(), Error> {
    let c = community_by_row_id(&data.db, p.community_id).await?;
    if crate::store::members::active_ban(&data.db, c.id, person.id)
        .await?
        .is_some()
    {
        return Err(Error::Forbidden(format!("you are banned from {}", c.title)));
    }
    if !p.visible() {
        return Err(Error::Conflict("the post was deleted or removed".into()));
    }
    let (kind, content) = if emoji == reaction::LIKE {
        ("Like", None)
    } else {
        ("EmojiReact", Some(emoji.to_string()))
    };
    let like = object_activity(data, kind, &person.ap_id.0, &p.ap_id.0, &c, None, content);
    let txn = crate::context::begin(&data.db).await?;
    if !store_reaction(&txn, &like.id, p.id, person.id, emoji).await? {
        return Ok(());
    }
    send_reaction(&txn, data, &c, &WithContext::new(like)).await?;
    commit_and_wake(data, txn).await
}

async fn send_reaction(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    activity: &dyn Outgoing,
) -> Result<(), Error> {
    let direct: Vec<Url> = if c.local {
        Vec::new()
    } else {
        vec![c.inbox.0.clone()]
    };
    enqueue(txn, &data.urls, activity, None, true, direct).await?;
    if c.local {
        announce(txn, data, c, &activity.to_json()?, None, []).await?;
    }
    Ok(())
}

/// A local person takes their reaction back (`Undo`).
pub async fn unreact(
    data: &Data,
    p: &post::Model,
    person: &person::Model,
    emoji: &str,
) -> Result<bool, Error> {
    let Some(r) = reaction::Entity::find()
        .filter(reaction::Column::PostId.eq(p.id))
        .filter(reaction::Column::PersonId.eq(person.id))
        .filter(reaction::Column::Emoji.eq(emoji))
        .one(&data.db)
        .await?
    else {
        return Ok(false);
    };
    let c = community_by_row_id(&data.db, p.community_id).await?;
    let kind = if emoji == reaction::LIKE {
        "Like"
    } else {
        "EmojiReact"
    };
    let inner = ActivityRef {
        id: r.ap_id.0.clone(),
        kind: kind.into(),
        actor: person.ap_id.0.clone(),
        object: p.ap_id.0.clone(),
    };
    let undo = WithContext::new(Undo {
        id: data.urls.new_activity("Undo"),
        kind: "Undo".into(),
        actor: person.ap_id.0.clone(),
        object: inner,
        audience: Audience::new(vec![public()], vec![c.ap_id.0.clone()]),
    });
    let txn = crate::context::begin(&data.db).await?;
    reaction::Entity::delete_by_id(r.id).exec(&txn).await?;
    send_reaction(&txn, data, &c, &undo).await?;
    commit_and_wake(data, txn).await?;
    Ok(true)
}

/// A local member reports a post to its community's facilitators.
pub async fn report_post(
    data: &Data,
    p: &post::Model,
    reporter: &person::Model,
    reason: Option<String>,
) -> Result<(), Error> {
    let c = community_by_row_id(&data.db, p.community_id).await?;
    if !c.local {
        return Err(Error::Forbidden(
            "posts are reported where their community lives".into(),
        ));
    }
    let id = data.urls.new_activity("Flag");
    store_report(
        &data.db,
        &id,
        c.id,
        &reporter.ap_id.0,
        Some(p.id),
        Some(p.author_id),
        reason,
    )
    .await
}

/// A facilitator resolves or dismisses a report; the decision goes to the moderation log.
pub async fn resolve_report(
    data: &Data,
    r: &report::Model,
    by: &person::Model,
    status: ReportStatus,
    note: Option<String>,
) -> Result<(), Error> {
    if status == ReportStatus::Open {
        return Err(Error::InvalidActivity(
            "a report is resolved or dismissed".into(),
        ));
    }
    let c = community_by_row_id(&data.db, r.community_id).await?;
    let target = match r.post_id {
        Some(id) => post::Entity::find_by_id(id)
            .one(&data.db)
            .await?
            .map(|p| p.ap_id.0),
        None => None,
    };
    let target = match (target, r.person_id) {
        (Some(t), _) => t,
        (None, Some(pid)) => person_by_row_id(&data.db, pid).await?.ap_id.0,
        (None, None) => c.ap_id.0.clone(),
    };
    let txn = crate::context::begin(&data.db).await?;
    report::Entity::update(report::ActiveModel {
        id: Set(r.id),
        status: Set(status),
        resolver: Set(Some(by.ap_id.clone())),
        resolution: Set(note.clone()),
        resolved_at: Set(Some(Utc::now())),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let action = match status {
        ReportStatus::Dismissed => "dismiss_report",
        _ => "resolve_report",
    };
    log(&txn, &c, &by.ap_id.0, action, &target, note).await?;
    let dismissed = status == ReportStatus::Dismissed;
    crate::store::notifications::report_resolved(&txn, r, &c, by.id, dismissed).await?;
    txn.commit().await?;
    Ok(())
}
