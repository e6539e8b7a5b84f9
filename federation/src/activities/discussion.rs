//! Discussions in communities: topics and replies from anywhere (a Mastodon mention, a reply,
//! or an FEP-1b12 `Create` with `audience`), edits and deletions by their authors, moderation
//! (removal, locks, pins), reactions and reports.
//!
//! Content accepted into a local community is announced to its followers; refused content is
//! not, and its author gets one direct note saying why.

use super::{
    commit_and_wake,
    post::{announce, post_published},
    reply_mentions,
};
use crate::store::lookup::{community_by_row_id, person_by_row_id};
use crate::store::modlog::log;
use crate::{
    fetch::{cached_actor, fetch_json, ActorRef},
    html::{sanitize_html, unescape_html},
    objects::public,
    protocol::{
        same_origin, AddRemove, CreateNote, Note, ObjectActivity, Undo, WithContext, PUBLIC,
    },
    queue::{
        enqueue,
        inbox::{mark_done, mark_ignored},
    },
    Data, Error,
};
use chrono::Utc;
use copse_entities::{
    community::{self, PostingPolicy},
    community_follower::Role,
    person, post, reaction, received_activity, report,
    report::ReportStatus,
    DbUrl,
};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::NotSet,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use url::Url;

/// How far up a reply chain unknown parents are fetched before the reply is given up on.
pub const MAX_PARENT_DEPTH: usize = 8;

/// Longest title kept, in characters.
const TITLE_MAX: usize = 200;

/// A post by its ActivityPub id.
pub async fn post_by_ap_id(
    db: &impl ConnectionTrait,
    id: &Url,
) -> Result<Option<post::Model>, Error> {
    Ok(post::Entity::find()
        .filter(post::Column::ApId.eq(DbUrl(id.clone())))
        .one(db)
        .await?)
}

/// The topic a post belongs to (itself for a topic).
pub async fn topic_of(db: &impl ConnectionTrait, p: &post::Model) -> Result<post::Model, Error> {
    match p.topic_id {
        None => Ok(p.clone()),
        Some(id) => post::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(Error::NotFound),
    }
}

/// Why `person` may not post here (a topic when `topic` is `None`, else a reply in it), or
/// `None` when they may.
pub async fn refusal(
    db: &impl ConnectionTrait,
    c: &community::Model,
    person: &person::Model,
    topic: Option<&post::Model>,
) -> Result<Option<String>, Error> {
    if crate::store::members::active_ban(db, c.id, person.id)
        .await?
        .is_some()
    {
        return Ok(Some(format!("You are banned from {}.", c.title)));
    }
    if let Some(t) = topic {
        if !t.visible() {
            return Ok(Some("This thread has been removed.".into()));
        }
        if t.locked {
            return Ok(Some(
                "This thread is locked: it takes no new replies.".into(),
            ));
        }
    }
    let (policy, what) = match topic {
        None => (c.topic_policy, "start topics"),
        Some(_) => (c.reply_policy, "reply"),
    };
    let role = crate::store::members::role_of(db, c.id, person.id).await?;
    Ok(match policy {
        PostingPolicy::Anyone => None,
        PostingPolicy::Members if role.is_some() => None,
        PostingPolicy::Members => Some(format!(
            "Only members of {} may {what}. Follow the community to ask to join.",
            c.title
        )),
        PostingPolicy::Coordinators if role.is_some_and(|r| r >= Role::Facilitator) => None,
        PostingPolicy::Coordinators => Some(format!(
            "Only the coordinators and facilitators of {} may {what}.",
            c.title
        )),
    })
}

/// True when `person` facilitates or coordinates the community.
pub async fn moderates(
    db: &impl ConnectionTrait,
    c: &community::Model,
    person: &person::Model,
) -> Result<bool, Error> {
    Ok(crate::store::members::role_of(db, c.id, person.id)
        .await?
        .is_some_and(|r| r >= Role::Facilitator))
}

fn is_public(urls: &[&Vec<Url>]) -> bool {
    urls.iter().any(|v| v.iter().any(|u| u.as_str() == PUBLIC))
}

/// The text of an HTML fragment, tags dropped and entities decoded.
pub(crate) fn text_of(html: &str) -> String {
    unescape_html(&ammonia::Builder::empty().clean(html).to_string())
}

/// Drops the leading `@mentions` Mastodon puts before the text.
pub(crate) fn strip_mentions(text: &str) -> &str {
    let mut text = text.trim();
    while text.starts_with('@') {
        text = text
            .split_once(char::is_whitespace)
            .map(|(_, r)| r.trim_start())
            .unwrap_or("");
    }
    text
}

fn clip_title(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= TITLE_MAX {
        return text.to_string();
    }
    let mut t: String = text.chars().take(TITLE_MAX - 1).collect();
    t.push('…');
    t
}

/// Title and body of a topic posted by mentioning the community, as Lemmy reads it: the first
/// line, mentions stripped, is the title; the rest is the body. `html` is already sanitised.
pub fn split_title(html: &str) -> (String, String) {
    let mut rest = html.trim().to_string();
    for _ in 0..8 {
        let cut = ["<br>", "<br/>", "<br />", "</p>"]
            .iter()
            .filter_map(|m| rest.find(m).map(|i| (i, m.len())))
            .min();
        let (first, after) = match cut {
            Some((i, len)) => (
                rest[..i].to_string(),
                rest[i + len..].trim_start().to_string(),
            ),
            None => (rest.clone(), String::new()),
        };
        let title = strip_mentions(&text_of(&first)).to_string();
        if !title.is_empty() {
            // Whatever followed the cut, reopened as a paragraph and re-balanced.
            let reopened = if after.starts_with("<p") {
                after
            } else {
                format!("<p>{after}")
            };
            let body = sanitize_html(&reopened).replace("<p></p>", "");
            let body = if text_of(&body).trim().is_empty() {
                String::new()
            } else {
                body
            };
            return (clip_title(&title), body);
        }
        if after.is_empty() {
            break;
        }
        rest = after;
    }
    ("Untitled".into(), String::new())
}

/// Title and HTML body of a received topic: `name` when it has one (Lemmy, Mbin, PieFed),
/// else the first line (Mastodon).
pub fn title_and_body(note: &Note) -> (String, String) {
    let html = crate::limits::sanitize_html_within(
        note.content.as_deref().unwrap_or_default(),
        crate::limits::MAX_CONTENT,
    );
    if let Some(name) = note.name.as_ref().filter(|n| !n.trim().is_empty()) {
        let name = clip_title(&text_of(name));
        // Our own posts open with the title for Mastodon; do not show it twice.
        let body = crate::objects::strip_title_heading(&html, &name);
        return (name, body);
    }
    split_title(&html)
}

/// The mentions and hashtags of a note, kept as `tag` objects (other tags are dropped).
pub fn tags_of(tags: &[Value]) -> Option<String> {
    let kept: Vec<Value> = tags
        .iter()
        .filter_map(|t| {
            let kind = t.get("type")?.as_str()?;
            if kind != "Mention" && kind != "Hashtag" {
                return None;
            }
            let href = Url::parse(t.get("href")?.as_str()?).ok()?;
            if href.scheme() != "https" && href.scheme() != "http" {
                return None;
            }
            let name: String = t.get("name")?.as_str()?.chars().take(200).collect();
            Some(json!({ "type": kind, "href": href, "name": name }))
        })
        .collect();
    (!kept.is_empty()).then(|| Value::Array(kept).to_string())
}

/// The local community an incoming note is addressed to: `audience`, `to`, `cc` or a mention.
async fn addressed_community(
    db: &impl ConnectionTrait,
    note: &Note,
    activity_audience: Option<&Url>,
) -> Result<Option<community::Model>, Error> {
    let mentions: Vec<Url> = note
        .tag
        .iter()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("Mention"))
        .filter_map(|t| t.get("href").and_then(Value::as_str))
        .filter_map(|h| Url::parse(h).ok())
        .collect();
    let candidates = activity_audience
        .into_iter()
        .chain(note.audience.iter())
        .chain(note.to.iter())
        .chain(note.cc.iter())
        .chain(mentions.iter());
    for u in candidates {
        if u.as_str() == PUBLIC {
            continue;
        }
        if let Some(ActorRef::Community(c)) = cached_actor(db, u).await? {
            if c.local {
                return Ok(Some(c));
            }
        }
    }
    Ok(None)
}

/// The nearest stored post up a reply chain, fetching unknown parents from their origin up to
/// [`MAX_PARENT_DEPTH`] levels.
async fn known_ancestor(data: &Data, first: &Url) -> Result<Option<post::Model>, Error> {
    let mut next = first.clone();
    for _ in 0..MAX_PARENT_DEPTH {
        if let Some(p) = post_by_ap_id(&data.db, &next).await? {
            return Ok(Some(p));
        }
        if data.urls.is_local(&next) {
            return Ok(None);
        }
        let doc = match fetch_json(data, &next).await {
            Ok(doc) => doc,
            Err(Error::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        match doc
            .get("inReplyTo")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok())
        {
            Some(parent) => next = parent,
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// Checks that the signer wrote the note, and that note and author share an origin.
fn verify_authorship(
    row: &received_activity::Model,
    actor: &Url,
    note: &Note,
) -> Result<(), Error> {
    if actor != &row.actor.0 || &note.attributed_to != actor {
        return Err(Error::InvalidActivity(
            "note author is not the signer".into(),
        ));
    }
    if !same_origin(&note.id, actor) {
        return Err(Error::InvalidActivity(
            "note and author are on different origins".into(),
        ));
    }
    Ok(())
}

/// The stored activity, as received.
pub(super) fn received_json(row: &received_activity::Model) -> Result<Value, Error> {
    Ok(serde_json::from_str(&row.data)?)
}

pub(super) async fn ignore(
    data: &Data,
    row: &received_activity::Model,
    why: &str,
) -> Result<(), Error> {
    let txn = crate::context::begin(&data.db).await?;
    mark_ignored(&txn, row.id, why).await?;
    txn.commit().await?;
    Ok(())
}

pub(super) async fn signer_person(data: &Data, actor: &Url) -> Result<person::Model, Error> {
    match cached_actor(&data.db, actor).await? {
        Some(ActorRef::Person(p)) => Ok(p),
        _ => Err(Error::InvalidActivity(
            "only people post, edit and react".into(),
        )),
    }
}

/// Stores a post; a reply also moves its topic to the top of the "active" order.
pub async fn store_post(
    txn: &impl ConnectionTrait,
    community_id: i64,
    author_id: i64,
    note: &Note,
    parent: Option<&post::Model>,
    local: bool,
) -> Result<post::Model, Error> {
    let now = Utc::now();
    let (title, content) = match parent {
        None => title_and_body(note),
        Some(_) => (
            String::new(),
            crate::limits::sanitize_html_within(
                note.content.as_deref().unwrap_or_default(),
                crate::limits::MAX_CONTENT,
            ),
        ),
    };
    let row = post::Entity::insert(post::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(note.id.clone())),
        community_id: Set(community_id),
        author_id: Set(author_id),
        title: Set(title),
        content: Set(content),
        source: Set(note.source.as_ref().map(|s| s.content.clone())),
        local: Set(local),
        published: Set(note.published.unwrap_or(now)),
        updated: Set(note.updated),
        parent_id: Set(parent.map(|p| p.id)),
        topic_id: Set(parent.map(post::Model::thread_id)),
        last_activity: Set(Some(now)),
        locked: Set(false),
        pinned: Set(false),
        deleted: Set(false),
        removed: Set(false),
        tags: Set(tags_of(&note.tag)),
        url: Set(note.link().map(DbUrl)),
    })
    .exec_with_returning(txn)
    .await?;
    if let Some(p) = parent {
        touch_topic(txn, p.thread_id()).await?;
    }
    Ok(row)
}

async fn touch_topic(db: &impl ConnectionTrait, topic_id: i64) -> Result<(), Error> {
    post::Entity::update_many()
        .col_expr(post::Column::LastActivity, Expr::value(Some(Utc::now())))
        .filter(post::Column::Id.eq(topic_id))
        .exec(db)
        .await?;
    Ok(())
}

/// `Create{Note}` addressed to a local community: a new topic, a reply in a thread, or (sent
/// directly by a pending applicant) a reason for joining.
pub async fn receive_create(
    data: &Data,
    row: &received_activity::Model,
    create: CreateNote,
) -> Result<(), Error> {
    verify_authorship(row, &create.actor, &create.object)?;
    let author = signer_person(data, &create.actor).await?;
    let note = &create.object;
    let public = is_public(&[&note.to, &note.cc, &create.to, &create.cc]);
    if !public {
        let txn = crate::context::begin(&data.db).await?;
        if super::member_choices::take_reply(&txn, data, note, &author).await? {
            mark_done(&txn, row.id).await?;
        } else {
            mark_ignored(&txn, row.id, "only public notes become posts").await?;
        }
        // An applicant who agreed may have been admitted: wake the outbox.
        return commit_and_wake(data, txn).await;
    }
    let (community, parent) = match &note.in_reply_to {
        Some(reply_to) => {
            let Some(parent) = known_ancestor(data, reply_to).await? else {
                return ignore(data, row, "a reply to nothing in our communities").await;
            };
            let c = community_by_row_id(&data.db, parent.community_id).await?;
            if !c.local {
                return ignore(
                    data,
                    row,
                    "that community lives elsewhere and announces its own replies",
                )
                .await;
            }
            (c, Some(parent))
        }
        None => match addressed_community(&data.db, note, create.audience.as_ref()).await? {
            Some(c) => (c, None),
            None => return ignore(data, row, "not addressed to a community here").await,
        },
    };
    if let Some(p) = &parent {
        // Mastodon cannot send `Join`: a short "going" in reply to an event is the answer.
        if super::events::receive_reply_answer(data, row, note, &author, p).await? {
            return Ok(());
        }
    }
    let topic = match &parent {
        Some(p) => Some(topic_of(&data.db, p).await?),
        None => None,
    };
    if refusal(&data.db, &community, &author, topic.as_ref())
        .await?
        .is_some()
    {
        // What the author's server reads decides how they are told.
        crate::nodeinfo::learn(data, &author.ap_id.0).await;
    }
    let txn = crate::context::begin(&data.db).await?;
    if post_by_ap_id(&txn, &note.id).await?.is_some() {
        mark_ignored(&txn, row.id, "post already stored").await?;
        txn.commit().await?;
        return Ok(());
    }
    if let Some(why) = refusal(&txn, &community, &author, topic.as_ref()).await? {
        super::refusals::refuse(&txn, data, &community, &author, note, &why).await?;
        mark_done(&txn, row.id).await?;
        return commit_and_wake(data, txn).await;
    }
    store_post(&txn, community.id, author.id, note, parent.as_ref(), false).await?;
    let bare = parent.is_none().then(|| Value::String(note.id.to_string()));
    announce(&txn, data, &community, &received_json(row)?, bare, []).await?;
    mark_done(&txn, row.id).await?;
    commit_and_wake(data, txn).await
}

/// `Update{Note}`: the author edited a post we store.
pub async fn receive_update(
    data: &Data,
    row: &received_activity::Model,
    update: CreateNote,
) -> Result<(), Error> {
    verify_authorship(row, &update.actor, &update.object)?;
    let author = signer_person(data, &update.actor).await?;
    let note = &update.object;
    let Some(existing) = post_by_ap_id(&data.db, &note.id).await? else {
        return ignore(data, row, "an edit of a post not stored here").await;
    };
    if existing.author_id != author.id {
        return Err(Error::Forbidden("only its author edits a post".into()));
    }
    if existing.deleted {
        return ignore(data, row, "the post was deleted").await;
    }
    let community = community_by_row_id(&data.db, existing.community_id).await?;
    if crate::store::members::active_ban(&data.db, community.id, author.id)
        .await?
        .is_some()
    {
        return Err(Error::Forbidden("banned from the community".into()));
    }
    let txn = crate::context::begin(&data.db).await?;
    let (title, content) = match existing.topic_id {
        None => title_and_body(note),
        Some(_) => (
            String::new(),
            crate::limits::sanitize_html_within(
                note.content.as_deref().unwrap_or_default(),
                crate::limits::MAX_CONTENT,
            ),
        ),
    };
    post::Entity::update(post::ActiveModel {
        id: Set(existing.id),
        title: Set(title),
        content: Set(content),
        source: Set(note.source.as_ref().map(|s| s.content.clone())),
        tags: Set(tags_of(&note.tag)),
        url: Set(note.link().map(DbUrl)),
        updated: Set(Some(note.updated.unwrap_or_else(Utc::now))),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    if community.local {
        announce(&txn, data, &community, &received_json(row)?, None, []).await?;
    }
    mark_done(&txn, row.id).await?;
    commit_and_wake(data, txn).await
}

/// `Delete` of a post by its author: kept as a tombstone. Anyone else's `Delete` changes
/// nothing (facilitators remove posts here, through the API).
pub async fn receive_delete(
    data: &Data,
    row: &received_activity::Model,
    delete: ObjectActivity,
) -> Result<(), Error> {
    if delete.actor != row.actor.0 {
        return Err(Error::InvalidActivity(
            "Delete actor is not the signer".into(),
        ));
    }
    let Some(target) = delete.object.first() else {
        return Err(Error::InvalidActivity("Delete of nothing".into()));
    };
    if target == &delete.actor {
        return super::account_deletion::receive_account_deletion(data, row, delete).await;
    }
    let Some(existing) = post_by_ap_id(&data.db, target).await? else {
        return ignore(data, row, "a deletion of a post not stored here").await;
    };
    let community = community_by_row_id(&data.db, existing.community_id).await?;
    if !community.local && community.ap_id.0 == delete.actor {
        // A remote community is the authority for its own content; it deletes the events it
        // holds itself (Mobilizon, Copse).
        let txn = crate::context::begin(&data.db).await?;
        tombstone(&txn, existing.id).await?;
        mark_done(&txn, row.id).await?;
        txn.commit().await?;
        return Ok(());
    }
    let author = signer_person(data, &delete.actor).await?;
    // Lemmy's moderators remove with a `Delete` carrying a reason, their own posts too.
    let removal = existing.author_id != author.id
        || (delete.summary.is_some() && moderates(&data.db, &community, &author).await?);
    if removal && community.local {
        return super::remote_moderation::receive_removal(data, row, &delete, target).await;
    }
    if existing.author_id != author.id {
        return Err(Error::Forbidden("only its author deletes a post".into()));
    }
    let txn = crate::context::begin(&data.db).await?;
    tombstone(&txn, existing.id).await?;
    if community.local {
        announce(&txn, data, &community, &received_json(row)?, None, []).await?;
    }
    mark_done(&txn, row.id).await?;
    commit_and_wake(data, txn).await
}

/// A community we follow announced a `Delete` of one of its posts: its author's deletion, or a
/// removal by one of its moderators. The community is the authority for its own content.
pub async fn receive_announced_delete(
    data: &Data,
    row: &received_activity::Model,
    community: &community::Model,
    delete: ObjectActivity,
) -> Result<(), Error> {
    let Some(target) = delete.object.first() else {
        return Err(Error::InvalidActivity("Delete of nothing".into()));
    };
    let Some(p) = post_by_ap_id(&data.db, target).await? else {
        return ignore(data, row, "a deletion of a post not stored here").await;
    };
    if p.community_id != community.id {
        return Err(Error::Forbidden(
            "a community deletes only its own posts".into(),
        ));
    }
    let author = person_by_row_id(&data.db, p.author_id).await?;
    let txn = crate::context::begin(&data.db).await?;
    // The group deletes the events it holds; for anything else its Delete is a removal.
    let group_event = delete.actor == community.ap_id.0
        && super::events::event_of_post(&txn, p.id).await?.is_some();
    if author.ap_id.0 == delete.actor || group_event {
        tombstone(&txn, p.id).await?;
    } else {
        post::Entity::update(post::ActiveModel {
            id: Set(p.id),
            removed: Set(true),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
    }
    mark_done(&txn, row.id).await?;
    txn.commit().await?;
    Ok(())
}

async fn tombstone(db: &impl ConnectionTrait, id: i64) -> Result<(), Error> {
    post::Entity::update(post::ActiveModel {
        id: Set(id),
        deleted: Set(true),
        content: Set(String::new()),
        source: Set(None),
        tags: Set(None),
        updated: Set(Some(Utc::now())),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The emoji a reaction activity carries: `Like` counts as [`reaction::LIKE`].
fn emoji_of(act: &ObjectActivity) -> Result<String, Error> {
    if act.kind == "Like" {
        return Ok(reaction::LIKE.into());
    }
    let e = act.content.as_deref().map(str::trim).unwrap_or_default();
    if e.is_empty() || e.chars().count() > 32 || e.contains(['<', '>', '&']) {
        return Err(Error::InvalidActivity(
            "EmojiReact without a usable emoji".into(),
        ));
    }
    Ok(e.to_string())
}

/// `Like` or FEP-c0e0 `EmojiReact` of a post we store.
pub async fn receive_reaction(
    data: &Data,
    row: &received_activity::Model,
    act: ObjectActivity,
) -> Result<(), Error> {
    if act.actor != row.actor.0 {
        return Err(Error::InvalidActivity(
            "reaction actor is not the signer".into(),
        ));
    }
    let emoji = emoji_of(&act)?;
    let person = signer_person(data, &act.actor).await?;
    let Some(target) = act.object.first() else {
        return Err(Error::InvalidActivity("reaction to nothing".into()));
    };
    let Some(p) = post_by_ap_id(&data.db, target).await? else {
        return ignore(data, row, "a reaction to a post not stored here").await;
    };
    let community = community_by_row_id(&data.db, p.community_id).await?;
    if crate::store::members::active_ban(&data.db, community.id, person.id)
        .await?
        .is_some()
    {
        return Err(Error::Forbidden("banned from the community".into()));
    }
    let txn = crate::context::begin(&data.db).await?;
    // A Like is also a vote (Lemmy): it replaces the person's Dislike.
    let replaced = act.kind == "Like"
        && super::votes::clear_opposite(&txn, p.id, person.id, reaction::LIKE).await?;
    let stored = store_reaction(&txn, &act.id, p.id, person.id, &emoji).await?;
    if (stored || replaced) && community.local {
        announce(&txn, data, &community, &received_json(row)?, None, []).await?;
    }
    mark_done(&txn, row.id).await?;
    commit_and_wake(data, txn).await
}

pub(super) async fn store_reaction(
    db: &impl ConnectionTrait,
    ap_id: &Url,
    post_id: i64,
    person_id: i64,
    emoji: &str,
) -> Result<bool, Error> {
    let n = reaction::Entity::insert(reaction::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(ap_id.clone())),
        post_id: Set(post_id),
        person_id: Set(person_id),
        emoji: Set(emoji.to_string()),
        published: Set(Utc::now()),
    })
    .on_conflict(OnConflict::new().do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(n > 0)
}

/// The id of the activity an `Undo` takes back.
pub fn undone_id(undo: &Undo) -> Option<Url> {
    match &undo.object {
        Value::String(s) => Url::parse(s).ok(),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok()),
        _ => None,
    }
}

/// True when `id` names a stored reaction (so an `Undo` of it takes the reaction back).
pub async fn is_reaction(db: &impl ConnectionTrait, id: &Url) -> Result<bool, Error> {
    Ok(reaction::Entity::find()
        .filter(reaction::Column::ApId.eq(DbUrl(id.clone())))
        .one(db)
        .await?
        .is_some())
}

/// `Undo{Like}` or `Undo{EmojiReact}`: only the person who reacted takes it back.
pub async fn receive_undo_reaction(
    data: &Data,
    row: &received_activity::Model,
    undo: Undo,
) -> Result<(), Error> {
    if undo.actor != row.actor.0 {
        return Err(Error::InvalidActivity(
            "Undo actor is not the signer".into(),
        ));
    }
    let Some(id) = undone_id(&undo) else {
        return Err(Error::InvalidActivity("Undo of nothing".into()));
    };
    let person = signer_person(data, &undo.actor).await?;
    let mut found = reaction::Entity::find()
        .filter(reaction::Column::ApId.eq(DbUrl(id)))
        .one(&data.db)
        .await?;
    if found.is_none() {
        // Lemmy undoes a vote under another id than the vote's, and as a `Like` whichever way
        // the vote went: match person and post, and the vote or the emoji.
        if let Ok(inner) = serde_json::from_value::<ObjectActivity>(undo.object.clone()) {
            if let Some(p) = match inner.object.first() {
                Some(target) => post_by_ap_id(&data.db, target).await?,
                None => None,
            } {
                found = if super::votes::stored_as(&inner.kind).is_some() {
                    super::votes::vote_of(&data.db, p.id, person.id).await?
                } else if let Ok(emoji) = emoji_of(&inner) {
                    reaction::Entity::find()
                        .filter(reaction::Column::PostId.eq(p.id))
                        .filter(reaction::Column::PersonId.eq(person.id))
                        .filter(reaction::Column::Emoji.eq(emoji))
                        .one(&data.db)
                        .await?
                } else {
                    None
                };
            }
        }
    }
    let Some(r) = found else {
        return ignore(data, row, "no such reaction").await;
    };
    if r.person_id != person.id {
        return Err(Error::Forbidden(
            "only the person who reacted undoes it".into(),
        ));
    }
    let p = post::Entity::find_by_id(r.post_id)
        .one(&data.db)
        .await?
        .ok_or(Error::NotFound)?;
    let community = community_by_row_id(&data.db, p.community_id).await?;
    let txn = crate::context::begin(&data.db).await?;
    reaction::Entity::delete_by_id(r.id).exec(&txn).await?;
    if community.local {
        announce(&txn, data, &community, &received_json(row)?, None, []).await?;
    }
    mark_done(&txn, row.id).await?;
    commit_and_wake(data, txn).await
}

/// `Flag` from any server (Mastodon sends them from its instance actor): a report in the queue
/// of each local community whose post, member or self it names.
pub async fn receive_flag(
    data: &Data,
    row: &received_activity::Model,
    flag: ObjectActivity,
) -> Result<(), Error> {
    if flag.actor != row.actor.0 {
        return Err(Error::InvalidActivity(
            "Flag actor is not the signer".into(),
        ));
    }
    // community id -> (post, person)
    let mut found: BTreeMap<i64, (Option<i64>, Option<i64>)> = BTreeMap::new();
    let mut people = Vec::new();
    for id in flag.object.iter().take(50) {
        if let Some(p) = post_by_ap_id(&data.db, id).await? {
            let e = found.entry(p.community_id).or_default();
            e.0.get_or_insert(p.id);
            e.1.get_or_insert(p.author_id);
            continue;
        }
        match cached_actor(&data.db, id).await? {
            Some(ActorRef::Community(c)) => {
                found.entry(c.id).or_default();
            }
            Some(ActorRef::Person(p)) => people.push(p),
            None => {}
        }
    }
    // A report that names posts goes only to their communities: the reporter's text is about
    // them, and facilitators of unrelated communities the person belongs to have no business
    // reading it (Mastodon names the account beside its statuses).
    // Without posts, it goes to the communities the person is an accepted member of.
    let names_posts = found.values().any(|(post, _)| post.is_some());
    for p in people.iter().filter(|_| !names_posts) {
        use copse_entities::community_follower as member;
        let ids: Vec<i64> = member::Entity::find()
            .select_only()
            .column(member::Column::CommunityId)
            .filter(member::Column::PersonId.eq(p.id))
            .filter(member::Column::Pending.eq(false))
            .limit(20)
            .into_tuple()
            .all(&data.db)
            .await?;
        for cid in ids {
            found.entry(cid).or_default().1.get_or_insert(p.id);
        }
    }
    let local: Vec<i64> = community::Entity::find()
        .select_only()
        .column(community::Column::Id)
        .filter(community::Column::Id.is_in(found.keys().copied()))
        .filter(community::Column::Local.eq(true))
        .into_tuple()
        .all(&data.db)
        .await?;
    if local.is_empty() {
        return ignore(data, row, "nothing reported belongs to a community here").await;
    }
    let reason = flag
        .content
        .or(flag.summary)
        .map(|t| text_of(&sanitize_html(&t)).chars().take(5000).collect());
    let txn = crate::context::begin(&data.db).await?;
    for cid in local {
        let (post_id, person_id) = found.get(&cid).copied().unwrap_or_default();
        store_report(
            &txn,
            &flag.id,
            cid,
            &flag.actor,
            post_id,
            person_id,
            reason.clone(),
        )
        .await?;
    }
    mark_done(&txn, row.id).await?;
    txn.commit().await?;
    Ok(())
}

async fn store_report(
    db: &impl ConnectionTrait,
    ap_id: &Url,
    community_id: i64,
    reporter: &Url,
    post_id: Option<i64>,
    person_id: Option<i64>,
    reason: Option<String>,
) -> Result<(), Error> {
    report::Entity::insert(report::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(ap_id.clone())),
        community_id: Set(community_id),
        reporter: Set(DbUrl(reporter.clone())),
        post_id: Set(post_id),
        person_id: Set(person_id),
        reason: Set(reason),
        status: Set(ReportStatus::Open),
        resolver: Set(None),
        resolution: Set(None),
        created_at: Set(Utc::now()),
        resolved_at: Set(None),
    })
    .on_conflict(OnConflict::new().do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(())
}

// ---- Local actions -------------------------------------------------------------------------

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

/// What a local post is made of.
pub(crate) struct LocalPost {
    pub community_id: i64,
    pub author_id: i64,
    pub title: String,
    pub html: String,
    pub source: String,
    pub tags: Option<String>,
    pub url: Option<Url>,
}

/// Inserts a post written here (a topic, a reply or an event) and gives it its URL, which is
/// known only after the insert.
pub(crate) async fn insert_local_post(
    txn: &impl ConnectionTrait,
    data: &Data,
    draft: LocalPost,
    parent: Option<&post::Model>,
    now: chrono::DateTime<Utc>,
) -> Result<post::Model, Error> {
    // A placeholder keeps the unique column unique until the id is known.
    let placeholder = data.urls.new_activity("pending-post");
    let mut row = post::Entity::insert(post::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(placeholder)),
        community_id: Set(draft.community_id),
        author_id: Set(draft.author_id),
        title: Set(draft.title),
        content: Set(draft.html),
        source: Set(Some(draft.source)),
        local: Set(true),
        published: Set(now),
        updated: Set(None),
        parent_id: Set(parent.map(|p| p.id)),
        topic_id: Set(parent.map(post::Model::thread_id)),
        last_activity: Set(Some(now)),
        locked: Set(false),
        pinned: Set(false),
        deleted: Set(false),
        removed: Set(false),
        tags: Set(draft.tags),
        url: Set(draft.url.map(DbUrl)),
    })
    .exec_with_returning(txn)
    .await?;
    row.ap_id = DbUrl(data.urls.post(row.id));
    post::Entity::update(post::ActiveModel {
        id: Set(row.id),
        ap_id: Set(row.ap_id.clone()),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    Ok(row)
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
        false => super::remote_moderation::remote_thread_refusal(topic.as_ref()),
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
    let row = insert_local_post(&txn, data, draft, parent, Utc::now()).await?;
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
    activity: Value,
) -> Result<(), Error> {
    let mut direct: Vec<Url> = if p.topic_id.is_none() && c.local {
        super::post::follower_inboxes(txn, c.id)
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
    enqueue(txn, &data.urls, &activity, None, true, direct).await?;
    if c.local {
        announce(txn, data, c, &activity, None, []).await?;
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
        to: note.to.clone(),
        cc: note.cc.clone(),
        object: note,
        audience: Some(c.ap_id.0.clone()),
        published: row.updated,
    };
    let json = serde_json::to_value(WithContext::new(update))?;
    send_about(&txn, data, &c, &row, json).await?;
    commit_and_wake(data, txn).await?;
    Ok(row)
}

/// Events change through their own API, which keeps their details and the Group's `Update`.
async fn not_an_event(data: &Data, p: &post::Model) -> Result<(), Error> {
    if super::events::event_of_post(&data.db, p.id)
        .await?
        .is_some()
    {
        return Err(Error::Conflict(
            "this post is an event: change or delete it through /api/v1/events".into(),
        ));
    }
    Ok(())
}

/// The id of the post a reply answers.
pub async fn parent_ap_id(
    db: &impl ConnectionTrait,
    p: &post::Model,
) -> Result<Option<Url>, Error> {
    let Some(parent) = p.parent_id else {
        return Ok(None);
    };
    Ok(post::Entity::find_by_id(parent)
        .one(db)
        .await?
        .map(|x| x.ap_id.0))
}

fn object_activity(
    data: &Data,
    kind: &str,
    actor: &Url,
    object: &Url,
    c: &community::Model,
    summary: Option<String>,
    content: Option<String>,
) -> Result<Value, Error> {
    Ok(serde_json::to_value(WithContext::new(ObjectActivity {
        id: data.urls.new_activity(kind),
        kind: kind.into(),
        actor: actor.clone(),
        object: vec![object.clone()],
        content,
        summary,
        tag: Vec::new(),
        to: vec![public()],
        cc: vec![c.ap_id.0.clone()],
        audience: Some(c.ap_id.0.clone()),
        published: Some(Utc::now()),
    }))?)
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
    let json = object_activity(data, "Delete", &author.ap_id.0, &p.ap_id.0, &c, None, None)?;
    send_about(&txn, data, &c, p, json).await?;
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
    let json = object_activity(data, "Delete", &by.ap_id.0, &p.ap_id.0, &c, summary, None)?;
    moderation_sent(&txn, data, &c, by, &p.ap_id.0, &json, "remove_post", reason).await?;
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
    activity: &Value,
    action: &str,
    reason: Option<String>,
) -> Result<(), Error> {
    enqueue(txn, &data.urls, activity, None, true, []).await?;
    announce(txn, data, c, activity, None, []).await?;
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
    let lock = object_activity(data, "Lock", &by.ap_id.0, &topic.ap_id.0, &c, None, None)?;
    let json = if locked {
        lock
    } else {
        undo_of(data, &by.ap_id.0, &c, lock)?
    };
    let action = if locked { "lock" } else { "unlock" };
    moderation_sent(&txn, data, &c, by, &topic.ap_id.0, &json, action, None).await?;
    commit_and_wake(data, txn).await
}

fn undo_of(
    data: &Data,
    actor: &Url,
    c: &community::Model,
    mut inner: Value,
) -> Result<Value, Error> {
    if let Some(o) = inner.as_object_mut() {
        o.remove("@context");
    }
    Ok(serde_json::to_value(WithContext::new(Undo {
        id: data.urls.new_activity("Undo"),
        kind: "Undo".into(),
        actor: actor.clone(),
        object: inner,
        to: vec![public()],
        cc: vec![c.ap_id.0.clone()],
    }))?)
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
    let json = serde_json::to_value(WithContext::new(AddRemove {
        id: data.urls.new_activity(kind),
        kind: kind.into(),
        actor: by.ap_id.0.clone(),
        object: topic.ap_id.0.clone(),
        target: data.urls.community_part(&c.name, "featured"),
        to: vec![public()],
        cc: vec![c.ap_id.0.clone()],
        audience: Some(c.ap_id.0.clone()),
    }))?;
    let action = if pinned { "pin" } else { "unpin" };
    moderation_sent(&txn, data, &c, by, &topic.ap_id.0, &json, action, None).await?;
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
    let json = object_activity(data, kind, &person.ap_id.0, &p.ap_id.0, &c, None, content)?;
    let id: Url = Url::parse(json["id"].as_str().unwrap_or_default())?;
    let txn = crate::context::begin(&data.db).await?;
    if !store_reaction(&txn, &id, p.id, person.id, emoji).await? {
        return Ok(());
    }
    send_reaction(&txn, data, &c, json).await?;
    commit_and_wake(data, txn).await
}

async fn send_reaction(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    json: Value,
) -> Result<(), Error> {
    let direct: Vec<Url> = if c.local {
        Vec::new()
    } else {
        vec![c.inbox.0.clone()]
    };
    enqueue(txn, &data.urls, &json, None, true, direct).await?;
    if c.local {
        announce(txn, data, c, &json, None, []).await?;
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
    let inner = json!({
        "id": r.ap_id,
        "type": kind,
        "actor": person.ap_id,
        "object": p.ap_id,
    });
    let json = undo_of(data, &person.ap_id.0, &c, inner)?;
    let txn = crate::context::begin(&data.db).await?;
    reaction::Entity::delete_by_id(r.id).exec(&txn).await?;
    send_reaction(&txn, data, &c, json).await?;
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
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn mastodon_mention_becomes_a_titled_topic() {
        let html = r#"<p><span class="h-card"><a href="https://copse.example/c/london" class="u-url mention">@<span>london</span></a></span> Sharing budgets openly<br>We tried it in Hackney.</p><p>Second paragraph.</p>"#;
        let (title, body) = split_title(&sanitize_html(html));
        assert_eq!(title, "Sharing budgets openly");
        assert!(body.starts_with("<p>We tried it in Hackney.</p>"), "{body}");
        assert!(body.contains("Second paragraph."), "{body}");
    }

    #[test]
    fn a_mention_on_its_own_line_is_skipped() {
        let html = "<p>@london</p><p>Title here</p><p>Body</p>";
        let (title, body) = split_title(html);
        assert_eq!(title, "Title here");
        assert_eq!(body, "<p>Body</p>");
    }

    #[test]
    fn long_titles_are_clipped() {
        let html = format!("<p>{}</p>", "a".repeat(500));
        let (title, body) = split_title(&html);
        assert_eq!(title.chars().count(), TITLE_MAX);
        assert!(body.is_empty());
    }

    #[test]
    fn only_mentions_and_hashtags_are_kept() {
        let tags = vec![
            json!({"type": "Mention", "href": "https://a.example/u/x", "name": "@x@a.example"}),
            json!({"type": "Hashtag", "href": "https://a.example/tags/cop", "name": "#cop"}),
            json!({"type": "Emoji", "name": ":x:"}),
            json!({"type": "Mention", "href": "javascript:alert(1)", "name": "@y"}),
        ];
        let kept: Vec<Value> = serde_json::from_str(&tags_of(&tags).unwrap()).unwrap();
        assert_eq!(kept.len(), 2);
    }
}
