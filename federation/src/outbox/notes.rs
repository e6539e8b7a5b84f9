//! Notes a community sends a person (welcomes, answers, refusals, reminders), direct or public
//! with the person mentioned, and the `Add`/`Remove` of its collections, announced to followers.

use super::announce::{announce, follower_inboxes};
use crate::{
    objects::{in_community, public},
    protocol::{AddRemove, Audience, CreateNote, Note, WithContext},
    queue::{audience::unless_shared, enqueue, Outgoing},
    Data, Error,
};
use chrono::Utc;
use copse_entities::{community, person};
use sea_orm::ConnectionTrait;
use serde_json::Value;
use url::Url;

/// Sends a note from the community: direct to `person` when `direct`, else public with the
/// person mentioned and cc'd (Mastodon notifies mentioned people).
pub async fn send_note(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    person: &person::Model,
    html_body: &str,
    direct: bool,
) -> Result<(), Error> {
    send_note_replying(txn, data, community, person, html_body, direct, None).await
}

/// [`send_note`], as a reply to one of the person's posts.
pub async fn send_note_replying(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    person: &person::Model,
    html_body: &str,
    direct: bool,
    in_reply_to: Option<&Url>,
) -> Result<(), Error> {
    let reply = in_reply_to.map(|id| InReplyTo { id, thread: None });
    send_note_in_thread(txn, data, community, person, html_body, direct, reply).await
}

/// The post a community's note answers, and the conversation they both belong to.
#[derive(Debug, Clone, Copy)]
pub struct InReplyTo<'a> {
    /// The post answered.
    pub id: &'a Url,
    /// Its `context` or `conversation`, when it named one; else the post itself names the
    /// conversation.
    pub thread: Option<&'a Value>,
}

/// [`send_note`], in reply to a post and in its conversation (`context`, and Mastodon's
/// `conversation`), so that the author's server shows the note under their post rather than as
/// a conversation of its own.
#[allow(clippy::too_many_arguments)]
pub async fn send_note_in_thread(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    person: &person::Model,
    html_body: &str,
    direct: bool,
    reply: Option<InReplyTo<'_>>,
) -> Result<(), Error> {
    let in_reply_to = reply.map(|r| r.id);
    // A direct note that answers nothing still belongs to one conversation between the
    // community and the person, so that Mastodon (which groups by `conversation`, else
    // `context`) shows the notes of one application or invitation together.
    let thread = match reply {
        Some(r) => Some(
            r.thread
                .cloned()
                .unwrap_or_else(|| Value::String(r.id.to_string())),
        ),
        None if direct => Some(Value::String(format!(
            "tag:{},2026:objectId={}-{}:objectType=Conversation",
            data.urls.base().host_str().unwrap_or_default(),
            community.id,
            person.id
        ))),
        None => None,
    };
    let (mention_html, tag) = crate::objects::mention(person);
    let followers = data.urls.community_part(&community.name, "followers");
    let id = data.urls.new_activity("note");
    let (to, cc) = if direct {
        (vec![person.ap_id.0.clone()], Vec::new())
    } else {
        (
            vec![public()],
            vec![followers.clone(), person.ap_id.0.clone()],
        )
    };
    let note = Note {
        id: id.clone(),
        kind: "Note".into(),
        attributed_to: community.ap_id.0.clone(),
        audience: Audience::new(to, cc),
        name: None,
        content: Some(format!("<p>{mention_html}</p>{html_body}")),
        media_type: Some("text/html".into()),
        source: None,
        in_reply_to: in_reply_to.cloned(),
        context: thread.clone(),
        conversation: thread,
        url: None,
        tag: vec![tag],
        replies: None,
        attachment: Vec::new(),
        sensitive: Some(false),
        published: Some(Utc::now()),
        updated: None,
    };
    // Stored under its own id too, so that replies (Mastodon fetches `inReplyTo`) resolve.
    let stored = WithContext::new(note.clone());
    enqueue(txn, &data.urls, &stored, None, !direct, []).await?;
    let create = CreateNote {
        id: data.urls.new_activity("Create"),
        kind: "Create".into(),
        actor: community.ap_id.0.clone(),
        audience: note.audience.clone(),
        object: note,
        published: Some(Utc::now()),
    };
    let create = WithContext::new(create);
    let inboxes = if direct {
        vec![person.inbox.0.clone()]
    } else {
        let followers = follower_inboxes(txn, community.id).await?;
        let mut inboxes: Vec<Url> = unless_shared(person, &followers).into_iter().collect();
        inboxes.extend(followers);
        inboxes
    };
    enqueue(txn, &data.urls, &create, None, !direct, inboxes).await?;
    Ok(())
}

/// Sends an activity by the community to all its followers, wrapped in `Announce` when the
/// activity's actor is someone else (FEP-1b12).
pub async fn to_followers(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    activity: &dyn Outgoing,
    also: Option<&person::Model>,
) -> Result<(), Error> {
    let followers = follower_inboxes(txn, community.id).await?;
    let also = also
        .filter(|p| !p.local)
        .and_then(|p| unless_shared(p, &followers));
    let json = activity.to_json()?;
    let by_community = json.get("actor").and_then(Value::as_str) == Some(community.ap_id.as_str());
    if by_community {
        let mut inboxes: Vec<Url> = followers.into_iter().collect();
        inboxes.extend(also);
        enqueue(txn, &data.urls, activity, Some(community.id), true, inboxes).await?;
        return Ok(());
    }
    // Stored so that its id dereferences.
    enqueue(txn, &data.urls, activity, None, true, []).await?;
    announce(txn, data, community, &json, None, also).await
}

pub fn add_remove(
    data: &Data,
    kind: &str,
    actor: &Url,
    object: &Url,
    community: &community::Model,
    collection: &str,
) -> AddRemove {
    AddRemove {
        id: data.urls.new_activity(kind),
        kind: kind.into(),
        actor: actor.clone(),
        object: object.clone(),
        target: data.urls.community_part(&community.name, collection),
        audience: in_community(&community.ap_id.0),
    }
}
