//! A "going" or "not going" reply to one of our events, from Mastodon, which cannot send
//! `Join`.

use super::participation::{admit, tell, withdraw};

use crate::activities::commit_and_wake;
use crate::rules::participation::rsvp_intent;
use crate::store::events::{event_of_post, locked_event};

use crate::store::lookup::community_by_row_id;
use crate::{protocol::Note, queue::inbox::mark_done, Data, Error};
use copse_entities::{person, post, received_activity};

/// A reply to one of our events that says "going" or "not going" (Mastodon cannot send
/// `Join`): an answer, confirmed by a direct note in reply. False when the reply is not an
/// answer (it is then a comment in the event's thread).
pub async fn receive_reply_answer(
    data: &Data,
    row: &received_activity::Model,
    note: &Note,
    who: &person::Model,
    parent: &post::Model,
) -> Result<bool, Error> {
    if parent.topic_id.is_some() {
        return Ok(false);
    }
    if event_of_post(&data.db, parent.id).await?.is_none() {
        return Ok(false);
    }
    let c = community_by_row_id(&data.db, parent.community_id).await?;
    if !c.local {
        return Ok(false);
    }
    let Some(going) = rsvp_intent(note.content.as_deref().unwrap_or_default(), &c) else {
        return Ok(false);
    };
    let txn = crate::context::begin(&data.db).await?;
    let mut e = locked_event(&txn, parent.id).await?;
    let outcome = if going {
        admit(&txn, data, &c, &mut e, who, None, None, false).await?
    } else {
        withdraw(&txn, data, &c, parent, &mut e, who).await?
    };
    tell(
        &txn,
        data,
        &c,
        parent,
        &e,
        who,
        None,
        &outcome,
        Some(&note.id),
    )
    .await?;
    mark_done(&txn, row.id).await?;
    commit_and_wake(data, txn).await?;
    Ok(true)
}
