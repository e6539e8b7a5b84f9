//! Who may post where: bans, locked and removed threads, and each community's topic and reply
//! policies.

use crate::Error;
use copse_entities::{
    community::{self, PostingPolicy},
    community_follower::Role,
    person, post,
};
use sea_orm::ConnectionTrait;

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
    let role = crate::store::tree::acting_role(db, c, person.id).await?;
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
    Ok(crate::store::tree::acting_role(db, c, person.id)
        .await?
        .is_some_and(|r| r >= Role::Facilitator))
}

/// Why a local person may not reply in a topic of a remote community, as its origin would
/// refuse the reply: `None` when they may.
pub fn remote_thread_refusal(topic: Option<&post::Model>) -> Option<String> {
    let t = topic?;
    if !t.visible() {
        return Some("This thread has been removed.".into());
    }
    t.locked
        .then(|| "This thread is locked: it takes no new replies.".to_string())
}
