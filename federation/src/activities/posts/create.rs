//! `Create{Note}`.

use super::{addressed_community, is_public, known_ancestor, verify_authorship};
use crate::activities::receive::{
    ignore, received_json, signer_person, Applied, Receive, Verified,
};
use crate::outbox::announce::announce;
use crate::rules::posting::refusal;
use crate::store::lookup::community_by_row_id;
use crate::store::posts::{post_by_ap_id, store_post, topic_of};
use crate::{
    protocol::{CreateNote, Note},
    Data, Error,
};
use async_trait::async_trait;
use copse_entities::{community, person, post, received_activity};
use sea_orm::DatabaseTransaction;
use serde_json::Value;

/// `Create{Note}` addressed to a local community: a new topic, a reply in a thread, or (sent
/// directly by a pending applicant) a reason for joining.
pub async fn verify_create(
    data: &Data,
    row: &received_activity::Model,
    create: CreateNote,
) -> Result<Verified, Error> {
    verify_authorship(row, &create.actor, &create.object)?;
    // A Copse community's own notes (a welcome, a refusal, a notice about an event) reach the
    // servers of the people they are for; they are not posts here.
    if let Some(crate::fetch::ActorRef::Community(_)) =
        crate::fetch::cached_actor(&data.db, &create.actor).await?
    {
        return ignore("a community's own note: a welcome or a notice");
    }
    let author = signer_person(data, &create.actor).await?;
    let public = is_public(&[&create.object.audience, &create.audience]);
    let note = create.object;
    if !public {
        return Verified::apply(Direct { note, author });
    }
    let (community, parent) = match &note.in_reply_to {
        Some(reply_to) => {
            let Some(parent) = known_ancestor(data, reply_to).await? else {
                return ignore("a reply to nothing in our communities");
            };
            let c = community_by_row_id(&data.db, parent.community_id).await?;
            if !c.local {
                return ignore("that community lives elsewhere and announces its own replies");
            }
            (c, Some(parent))
        }
        None => match addressed_community(&data.db, &note, create.audience.group.as_ref()).await? {
            Some(c) => (c, None),
            None => return ignore("not addressed to a community here"),
        },
    };
    if let Some(p) = &parent {
        // Mastodon cannot send `Join`: a short "going" in reply to an event is the answer.
        let answer = crate::activities::events::verify_reply_answer(data, &note, &author, p);
        if let Some(verified) = answer.await? {
            return Ok(verified);
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
    Verified::apply(Post {
        note,
        author,
        community,
        parent,
        topic,
    })
}

/// A note addressed to no public: a pending applicant's answer, or nothing.
struct Direct {
    note: Note,
    author: person::Model,
}

#[async_trait]
impl Receive for Direct {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        _row: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        let taken =
            crate::rules::membership::agreement::take_reply(txn, data, &self.note, &self.author);
        Ok(if taken.await? {
            // An applicant who agreed may have been admitted: the worker wakes the outbox.
            Applied::Done
        } else {
            Applied::Ignored("only public notes become posts".into())
        })
    }
}

/// A checked public note for a local community: stored and announced, or refused.
struct Post {
    note: Note,
    author: person::Model,
    community: community::Model,
    parent: Option<post::Model>,
    topic: Option<post::Model>,
}

#[async_trait]
impl Receive for Post {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        row: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        let (note, author, community) = (&self.note, &self.author, &self.community);
        if post_by_ap_id(txn, &note.id).await?.is_some() {
            return Ok(Applied::Ignored("post already stored".into()));
        }
        if let Some(why) = refusal(txn, community, author, self.topic.as_ref()).await? {
            super::refusals::refuse(txn, data, community, author, note, &why).await?;
            return Ok(Applied::Done);
        }
        store_post(
            txn,
            community.id,
            author.id,
            note,
            self.parent.as_ref(),
            false,
        )
        .await?;
        let bare = self
            .parent
            .is_none()
            .then(|| Value::String(note.id.to_string()));
        announce(txn, data, community, &received_json(row)?, bare, []).await?;
        Ok(Applied::Done)
    }
}
