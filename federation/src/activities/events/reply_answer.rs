//! A "going" or "not going" reply to one of our events, from Mastodon, which cannot send
//! `Join`.

use crate::rules::places::{admit, tell, withdraw};

use crate::activities::receive::{Applied, Receive, Verified};
use crate::rules::participation::rsvp_intent;
use crate::store::events::{event_of_post, locked_event};

use crate::store::lookup::community_by_row_id;
use crate::{protocol::Note, Data, Error};
use async_trait::async_trait;
use copse_entities::{community, person, post, received_activity};
use sea_orm::DatabaseTransaction;

/// A reply to one of our events that says "going" or "not going" (Mastodon cannot send
/// `Join`): an answer, confirmed by a direct note in reply. `None` when the reply is not an
/// answer (it is then a comment in the event's thread).
pub async fn verify_reply_answer(
    data: &Data,
    note: &Note,
    who: &person::Model,
    parent: &post::Model,
) -> Result<Option<Verified>, Error> {
    if parent.topic_id.is_some() {
        return Ok(None);
    }
    if event_of_post(&data.db, parent.id).await?.is_none() {
        return Ok(None);
    }
    let c = community_by_row_id(&data.db, parent.community_id).await?;
    if !c.local {
        return Ok(None);
    }
    let Some(going) = rsvp_intent(note.content.as_deref().unwrap_or_default(), &c) else {
        return Ok(None);
    };
    Verified::apply(ReplyAnswer {
        note: note.id.clone(),
        who: who.clone(),
        parent: parent.clone(),
        community: c,
        going,
    })
    .map(Some)
}

/// A checked "going" or "not going" reply.
struct ReplyAnswer {
    note: url::Url,
    who: person::Model,
    parent: post::Model,
    community: community::Model,
    going: bool,
}

#[async_trait]
impl Receive for ReplyAnswer {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        _row: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        let (c, who, parent) = (&self.community, &self.who, &self.parent);
        let mut e = locked_event(txn, parent.id).await?;
        let outcome = if self.going {
            admit(txn, data, c, &mut e, who, None, None, false).await?
        } else {
            withdraw(txn, data, c, parent, &mut e, who).await?
        };
        tell(
            txn,
            data,
            c,
            parent,
            &e,
            who,
            None,
            &outcome,
            Some(&self.note),
        )
        .await?;
        Ok(Applied::Done)
    }
}
